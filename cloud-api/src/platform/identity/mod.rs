//! Identity for every domain: one user table with optional login identifiers (email,
//! phone, NIK, Google subject) and a role per domain; Argon2id passwords; short HS256
//! access tokens (Bearer header or the seed-001 `token` cookie) and rotating refresh tokens
//! with reuse detection (the httpOnly `refreshToken` cookie); Google sign-in; role guards.
//!
//! # Layout
//! - `ids`: [`Email`], [`Phone`], [`Nik`] newtypes (parse, don't validate).
//! - `password`: Argon2id. `token`: access tokens. `sessions`: refresh token families.
//! - `google`: ID token verification against a JWKS. `roles`: domains, roles, guards.
//! - `service`: users and password checks. `routes`: `/api/auth/...`.

mod extract;
pub mod google;
pub mod ids;
mod password;
pub mod roles;
mod routes;
mod service;
pub mod sessions;
mod token;

pub use extract::{bearer_or_cookie, cookie, AdminUser, AuthUser};
pub use ids::{Email, LoginId, Nik, Phone};
pub use password::{M_COST_KIB, P_COST, T_COST};
pub use roles::{AccessAdmin, Guarded, Policy};
pub use routes::{router, ACCESS_COOKIE, REFRESH_COOKIE};
pub use service::{create_user, ensure_first_admin, find_by_id, NewUser, Roles, UserView};
pub use token::{Claims, JwtKeys, ACCESS_TOKEN_TTL};

/// Every `/api/auth` handler, for the OpenAPI document.
pub(crate) mod api {
    pub use super::routes::{
        __path_google, __path_login, __path_logout, __path_me, __path_refresh,
    };
}
