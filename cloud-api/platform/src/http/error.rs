//! The HTTP boundary's error: a status and a localized `{"message": "..."}` body (the shape
//! seed 001 documents). Causes of 500s are logged with their context and never sent.

use axum::{
    extract::rejection::BytesRejection,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use crate::{error::ServiceError, i18n::Msg};

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{status}: {msg}")]
    Client { status: StatusCode, msg: Msg },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl ApiError {
    pub fn bad_request(msg: Msg) -> Self {
        Self::Client {
            status: StatusCode::BAD_REQUEST,
            msg,
        }
    }

    pub fn payload_too_large() -> Self {
        Self::Client {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            msg: Msg::new(
                "Ukuran permintaan terlalu besar",
                "Request body is too large",
            ),
        }
    }

    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Client { status, .. } => *status,
            ApiError::Service(err) => match err {
                ServiceError::Invalid(_) => StatusCode::BAD_REQUEST,
                ServiceError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
                ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
                ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
                ServiceError::Conflict(_) => StatusCode::CONFLICT,
                ServiceError::DeviceTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
                ServiceError::Broker { .. } => StatusCode::SERVICE_UNAVAILABLE,
                ServiceError::Database { .. } | ServiceError::Internal { .. } => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            },
        }
    }

    fn message(&self) -> String {
        let server = Msg::new("Terjadi kesalahan pada server", "Internal server error");
        let msg = match self {
            ApiError::Client { msg, .. } => msg.clone(),
            ApiError::Service(err) => match err {
                ServiceError::Invalid(m)
                | ServiceError::Unauthorized(m)
                | ServiceError::Forbidden(m)
                | ServiceError::NotFound(m)
                | ServiceError::Conflict(m) => m.clone(),
                ServiceError::DeviceTimeout { secs } => Msg::owned(
                    format!("Perangkat tidak merespons dalam {secs} detik"),
                    format!("The device did not respond within {secs} seconds"),
                ),
                ServiceError::Broker { .. } => Msg::new(
                    "Broker MQTT tidak tersedia, coba lagi",
                    "The MQTT broker is unavailable, try again",
                ),
                ServiceError::Database { .. } | ServiceError::Internal { .. } => server,
            },
        };
        msg.localized().to_owned()
    }
}

/// A raw body that could not be read: 413 when over the route's limit, else 400.
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large()
        } else {
            ApiError::bad_request(Msg::new(
                "Body permintaan tidak terbaca",
                "Unreadable request body",
            ))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        if status.is_server_error() && status != StatusCode::GATEWAY_TIMEOUT {
            tracing::error!(error = %self, "Request failed.");
        }
        (status, Json(json!({ "message": self.message() }))).into_response()
    }
}
