//! Roles per domain (DESIGN.md "Identity") and the guards handlers ask for: a handler that
//! takes `Guarded<AccessAdmin>` only runs for callers whose access-domain role is `admin`.

use std::marker::PhantomData;

use axum::{extract::FromRequestParts, http::request::Parts};

use super::{extract::AuthUser, token::Claims};
use crate::platform::{error::ServiceError, http::error::ApiError, i18n::Msg, state::AppState};

/// Every domain and the roles it knows. A user has at most one role per domain.
pub const DOMAINS: &[(&str, &[&str])] = &[
    ("access", &["admin", "member"]),
    ("attendance", &["admin", "mahasiswa"]),
    (
        "sakip",
        &["super_admin", "admin_opd", "evaluator", "viewer"],
    ),
    ("meals", &["administrator", "employee", "dapur", "delivery"]),
    ("live", &["user", "host", "agency"]),
];

/// True when `role` is one of `domain`'s roles.
pub fn is_valid(domain: &str, role: &str) -> bool {
    DOMAINS
        .iter()
        .any(|(d, roles)| *d == domain && roles.contains(&role))
}

/// A set of roles in one domain that a route admits.
pub trait Policy: Send + Sync + 'static {
    const DOMAIN: &'static str;
    const ROLES: &'static [&'static str];
}

macro_rules! policy {
    ($($(#[$doc:meta])* $name:ident => $domain:literal [$($role:literal),+];)+) => {$(
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;
        impl Policy for $name {
            const DOMAIN: &'static str = $domain;
            const ROLES: &'static [&'static str] = &[$($role),+];
        }
    )+};
}

policy! {
    /// Door admins (seed 000).
    AccessAdmin => "access" ["admin"];
    /// Attendance admins (seed 001).
    AttendanceAdmin => "attendance" ["admin"];
    /// SAKIP administrators (seed 002).
    SakipAdmin => "sakip" ["super_admin", "admin_opd"];
    /// Meals administrators (seed 003).
    MealsAdmin => "meals" ["administrator"];
    /// The meals kitchen and delivery staff (seed 003).
    MealsStaff => "meals" ["administrator", "dapur", "delivery"];
    /// Live-streaming agencies (seed 004).
    LiveAgency => "live" ["agency"];
}

/// A caller admitted by policy `P`.
#[derive(Debug, Clone)]
pub struct Guarded<P: Policy> {
    pub claims: Claims,
    _policy: PhantomData<fn() -> P>,
}

/// Whether `claims` carry one of `roles` in `domain`.
pub fn has_role(claims: &Claims, domain: &str, roles: &[&str]) -> bool {
    claims
        .roles
        .get(domain)
        .is_some_and(|r| roles.contains(&r.as_str()))
}

pub fn forbidden() -> ApiError {
    ServiceError::Forbidden(Msg::new(
        "Anda tidak memiliki akses",
        "You do not have access",
    ))
    .into()
}

impl<P: Policy> FromRequestParts<AppState> for Guarded<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(claims) = AuthUser::from_request_parts(parts, state).await?;
        if has_role(&claims, P::DOMAIN, P::ROLES) {
            Ok(Guarded {
                claims,
                _policy: PhantomData,
            })
        } else {
            Err(forbidden())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_per_domain() {
        assert!(is_valid("access", "admin"));
        assert!(is_valid("meals", "dapur"));
        assert!(!is_valid("access", "dapur"));
        assert!(!is_valid("nope", "admin"));
    }
}
