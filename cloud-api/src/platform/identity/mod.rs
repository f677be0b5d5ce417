//! Minimal identity: users with a role per domain, Argon2id passwords, short-lived HS256
//! access tokens, the request extractors that check them, and `POST /api/auth/login`.
//! (A later issue adds refresh tokens, registration and the other login identifiers.)

mod extract;
mod password;
mod routes;
mod service;
mod token;

pub use extract::{AdminUser, AuthUser};
pub use routes::router;
pub use service::{ensure_first_admin, login, Roles, UserView};
pub use token::{Claims, JwtKeys, ACCESS_TOKEN_TTL};
