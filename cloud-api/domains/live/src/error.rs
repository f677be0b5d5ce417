//! The live domain's error at the HTTP boundary, mapped to the platform's `ApiError`
//! (localized `{"message"}` bodies).

use axum::http::StatusCode;
use platform::{error::ServiceError, http::error::ApiError, i18n::Msg};
use sea_orm::DbErr;

/// What a live request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{0}")]
    Invalid(Msg),
    #[error("{0}")]
    NotFound(Msg),
    #[error("{0}")]
    Forbidden(Msg),
    #[error("{0}")]
    Conflict(Msg),
    /// Well formed but not acceptable (an idempotency key reused for another request).
    #[error("{0}")]
    Unprocessable(Msg),
    /// The sender's balance does not cover the gift.
    #[error("insufficient balance")]
    InsufficientBalance,
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

impl From<LiveError> for ApiError {
    fn from(err: LiveError) -> Self {
        match err {
            LiveError::Invalid(msg) => ApiError::bad_request(msg),
            LiveError::NotFound(msg) => ServiceError::NotFound(msg).into(),
            LiveError::Forbidden(msg) => ServiceError::Forbidden(msg).into(),
            LiveError::Conflict(msg) => ServiceError::Conflict(msg).into(),
            LiveError::Unprocessable(msg) => ApiError::Client {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                msg,
            },
            LiveError::InsufficientBalance => ApiError::Client {
                status: StatusCode::PAYMENT_REQUIRED,
                msg: Msg::new("Saldo koin tidak cukup", "Your coin balance is not enough"),
            },
            LiveError::Service(err) => err.into(),
            LiveError::Db(source) => ServiceError::Database {
                context: "live",
                source,
            }
            .into(),
        }
    }
}

pub fn forbidden() -> LiveError {
    LiveError::Forbidden(Msg::new(
        "Anda tidak memiliki akses",
        "You do not have access",
    ))
}

pub fn user_not_found() -> LiveError {
    LiveError::NotFound(Msg::new("User tidak ditemukan", "User not found"))
}
