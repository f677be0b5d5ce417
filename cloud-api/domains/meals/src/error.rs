//! The meals boundary's error, mapped to the platform's `ApiError` (`{"message"}`, localized).

use platform::{
    error::ServiceError,
    http::{error::ApiError, json::JsonBody},
    i18n::Msg,
};

/// Why a meals request failed.
#[derive(Debug, thiserror::Error)]
pub enum MealsError {
    /// Bad input (400).
    #[error("{0}")]
    Invalid(Msg),
    /// Not signed in, or a session that no longer holds (401).
    #[error("{0}")]
    Unauthorized(Msg),
    /// The caller's role may not do this (403).
    #[error("{0}")]
    Forbidden(Msg),
    /// No such record, or not one the caller may see (404).
    #[error("{0}")]
    NotFound(Msg),
    /// The record is not in a state that allows this (409).
    #[error("{0}")]
    Conflict(Msg),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<MealsError> for ApiError {
    fn from(err: MealsError) -> Self {
        ApiError::from(match err {
            MealsError::Invalid(m) => ServiceError::Invalid(m),
            MealsError::Unauthorized(m) => ServiceError::Unauthorized(m),
            MealsError::Forbidden(m) => ServiceError::Forbidden(m),
            MealsError::NotFound(m) => ServiceError::NotFound(m),
            MealsError::Conflict(m) => ServiceError::Conflict(m),
            MealsError::Service(e) => e,
        })
    }
}

impl From<sea_orm::DbErr> for MealsError {
    fn from(source: sea_orm::DbErr) -> Self {
        MealsError::Service(ServiceError::Database {
            context: "meals",
            source,
        })
    }
}

/// `Err(MealsError::Invalid(...))` with an Indonesian and an English message.
pub fn invalid(id: &'static str, en: &'static str) -> MealsError {
    MealsError::Invalid(Msg::new(id, en))
}

/// The 404 for an order the caller may not see or that does not exist.
pub fn order_not_found() -> MealsError {
    MealsError::NotFound(Msg::new("Pesanan tidak ditemukan", "Order not found"))
}

/// The 404 for an unknown user.
pub fn user_not_found() -> MealsError {
    MealsError::NotFound(Msg::new("User tidak ditemukan", "User not found"))
}

/// A JSON body as the seed's validation pipe judges it: every malformed or mis-shaped body
/// (a wrong type, a missing field) is a 400 with a clear message, like the seed's frontends
/// expect — the platform's [`JsonBody`] answers 422 for the mis-shaped kind.
#[derive(Debug)]
pub struct MealsJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for MealsJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match JsonBody::<T>::from_request(req, state).await {
            Ok(JsonBody(value)) => Ok(MealsJson(value)),
            Err(ApiError::Client { status, msg })
                if status == axum::http::StatusCode::UNPROCESSABLE_ENTITY =>
            {
                Err(ApiError::bad_request(msg))
            }
            Err(other) => Err(other),
        }
    }
}
