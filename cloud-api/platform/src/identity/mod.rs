//! Identity for every domain: one user table with optional login identifiers (email,
//! phone, NIK, username, employee number, Google subject) and a role per domain; Argon2id passwords; short HS256
//! access tokens (Bearer header or the seed-001 `token` cookie) and rotating refresh tokens
//! with reuse detection (the httpOnly `refreshToken` cookie); Google sign-in; role guards.
//!
//! # Layout
//! - `ids`: [`Email`], [`Phone`], [`Nik`] newtypes (parse, don't validate).
//! - `password`: Argon2id. `token`: access tokens. `sessions`: refresh token families.
//! - `google`: ID token verification against a JWKS. `roles`: domains, roles, guards.
//! - `epochs`: a disabled user's (or changed password's) tokens stop working at once.
//! - `mfa`: TOTP enrolment, recovery codes and the second sign-in step.
//! - `service`: users and password checks. `sign_in`: the one login path every domain uses.
//!   `routes`: `/api/auth/...`.

pub mod epochs;
mod extract;
pub mod google;
pub mod ids;
pub mod mfa;
pub mod password;
pub mod roles;
mod routes;
mod service;
pub mod sessions;
mod sign_in;
mod token;

pub use epochs::SessionEpochs;
pub use extract::{authenticate, bearer_or_cookie, cookie, AdminUser, AuthUser};
pub use ids::{Email, EmployeeNo, LoginId, Nik, Phone, Username};
pub use password::{M_COST_KIB, P_COST, T_COST};
pub use roles::{AccessAdmin, Guarded, Policy};
pub use routes::{cookie_header, router, ACCESS_COOKIE, REFRESH_COOKIE};
pub use service::{
    check_password, create_user, ensure_first_admin, find_by_id, find_by_login, parse_roles,
    NewUser, Roles, UserView,
};
pub use sign_in::{sign_in, throttle_address, SignInRefusal};

/// Hashes a new password (at least 8 characters) with Argon2id.
pub async fn hash_new_password(password: &str) -> Result<String, crate::error::ServiceError> {
    if password.chars().count() < password::MIN_PASSWORD_LEN {
        return Err(crate::error::ServiceError::Invalid(crate::i18n::Msg::new(
            "Password minimal 8 karakter",
            "The password must have at least 8 characters",
        )));
    }
    password::hash(password.to_owned()).await
}
pub use token::{Claims, JwtKeys, ACCESS_TOKEN_TTL};

/// Every `/api/auth` handler, for the OpenAPI document.
pub(crate) mod api {
    pub use super::routes::{
        __path_google, __path_login, __path_logout, __path_me, __path_mfa_confirm,
        __path_mfa_enrol, __path_mfa_verify, __path_refresh,
    };
}
