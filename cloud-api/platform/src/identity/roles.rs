//! The guards handlers ask for: a handler that takes `Guarded<AccessAdmin>` only runs for
//! callers whose access-domain role is `admin`. Which roles exist is data the domains
//! register ([`crate::domain::RoleCatalog`]); a domain declares its own policies with
//! [`crate::policy!`].

use std::marker::PhantomData;

use axum::{extract::FromRequestParts, http::request::Parts};

use super::{extract::AuthUser, token::Claims};
use crate::{error::ServiceError, http::error::ApiError, i18n::Msg, state::AppState};

/// A set of roles in one domain that a route admits.
pub trait Policy: Send + Sync + 'static {
    const DOMAIN: &'static str;
    const ROLES: &'static [&'static str];
}

/// Declares policies, e.g. `platform::policy! { MealsAdmin => "meals" ["administrator"]; }`.
#[macro_export]
macro_rules! policy {
    ($($(#[$doc:meta])* $name:ident => $domain:literal [$($role:literal),+];)+) => {$(
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;
        impl $crate::identity::Policy for $name {
            const DOMAIN: &'static str = $domain;
            const ROLES: &'static [&'static str] = &[$($role),+];
        }
    )+};
}

crate::policy! {
    /// The platform's administrators (devices, audit, notifications): the access domain's
    /// admins, who run the doors.
    AccessAdmin => "access" ["admin"];
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
