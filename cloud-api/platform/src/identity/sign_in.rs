//! The one sign-in path every domain's login uses: per-account throttling, the password
//! check, and the audit trail (`login` on success; `login_failed` for a wrong password or a
//! disabled account, never for a database failure), and the TOTP challenge of an enrolled
//! user (`mfa`). Each domain then issues its own kind
//! of session (refresh-token cookie, 7-day cookie, a bearer token in the body).

use axum::response::{IntoResponse, Response};

use super::{ids::LoginId, service};
use crate::{
    audit, db::entities::user, error::ServiceError, http::error::ApiError, security::ClientIp,
    state::Platform,
};

/// Why a sign-in did not succeed.
#[derive(Debug)]
pub enum SignInRefusal {
    /// Too many attempts for the address or the account: a 429 with `Retry-After`.
    Throttled(Response),
    /// Wrong credentials (401), a disabled account (403), or a failure of ours.
    Refused(ApiError),
    /// The password was right and the user has TOTP: no session yet, but this challenge
    /// token for `mfa::complete` (401 with `mfa_required` unless the domain answers it).
    MfaRequired(String),
}

impl IntoResponse for SignInRefusal {
    fn into_response(self) -> Response {
        match self {
            SignInRefusal::Throttled(response) => response,
            SignInRefusal::Refused(error) => error.into_response(),
            SignInRefusal::MfaRequired(token) => (
                axum::http::StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({
                    "error": crate::i18n::Msg::new(
                        "Masukkan kode autentikasi dua faktor",
                        "Enter your two-factor authentication code",
                    )
                    .localized(),
                    "mfa_required": true,
                    "challenge_token": token,
                })),
            )
                .into_response(),
        }
    }
}

impl From<ServiceError> for SignInRefusal {
    fn from(error: ServiceError) -> Self {
        SignInRefusal::Refused(error.into())
    }
}

/// Checks the address's rate limit before the request body is even judged.
pub async fn throttle_address(platform: &Platform, ip: &ClientIp) -> Result<(), SignInRefusal> {
    platform
        .limits
        .auth_attempt(ip.0)
        .await
        .map_err(|limited| SignInRefusal::Throttled(limited.into_response()))
}

/// Signs `id` in with `password`: the account's rate limit, the password check, the audit
/// trail. Returns the user, for the caller to start its session.
pub async fn sign_in(
    platform: &Platform,
    ip: ClientIp,
    id: &LoginId,
    password: &str,
) -> Result<user::Model, SignInRefusal> {
    if let Err(limited) = platform.limits.account_attempt(&id.key()).await {
        tracing::warn!(ip = ?ip.0, "Login throttled for an account.");
        return Err(SignInRefusal::Throttled(limited.into_response()));
    }
    let now = platform.clock.now();
    match service::check_password(&platform.db, id, password).await {
        Ok(user) => {
            if super::mfa::enrolled(&platform.db, user.id).await? {
                audit::record(
                    &platform.db,
                    now,
                    audit::Entry::new("login_mfa_challenge", ip).by(user.id, id.key()),
                )
                .await;
                return Err(SignInRefusal::MfaRequired(
                    super::mfa::challenge(platform, user.id).await?,
                ));
            }
            audit::record(
                &platform.db,
                now,
                audit::Entry::new("login", ip).by(user.id, id.key()),
            )
            .await;
            Ok(user)
        }
        Err(err) => {
            // A database failure is ours, not a failed login attempt.
            if matches!(
                err,
                ServiceError::Unauthorized(_) | ServiceError::Forbidden(_)
            ) {
                audit::record(
                    &platform.db,
                    now,
                    audit::Entry::new("login_failed", ip)
                        .actor(id.key())
                        .failed(),
                )
                .await;
            }
            Err(err.into())
        }
    }
}
