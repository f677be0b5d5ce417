//! The service boundary's error: what can go wrong inside the platform's services,
//! independent of how the caller (HTTP, the library API, the MQTT loop) reports it.

use sea_orm::DbErr;

use super::i18n::Msg;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The caller's input is wrong; the message says how.
    #[error("{0}")]
    Invalid(Msg),
    #[error("{0}")]
    Unauthorized(Msg),
    #[error("{0}")]
    Forbidden(Msg),
    #[error("{0}")]
    NotFound(Msg),
    #[error("{0}")]
    Conflict(Msg),
    /// The device did not answer a command in time.
    #[error("device did not respond within {secs} s")]
    DeviceTimeout { secs: u64 },
    /// The broker could not take a message.
    #[error("{context}: {message}")]
    Broker {
        context: &'static str,
        message: String,
    },
    #[error("{context}: {source}")]
    Database {
        context: &'static str,
        #[source]
        source: DbErr,
    },
    #[error("{context}: {message}")]
    Internal {
        context: &'static str,
        message: String,
    },
}

impl ServiceError {
    pub fn internal(context: &'static str, err: impl std::fmt::Display) -> Self {
        Self::Internal {
            context,
            message: err.to_string(),
        }
    }
}

/// Adds context to database errors: `query.await.db("loading device")?`.
pub trait DbContext<T> {
    fn db(self, context: &'static str) -> Result<T, ServiceError>;
}

impl<T> DbContext<T> for Result<T, DbErr> {
    fn db(self, context: &'static str) -> Result<T, ServiceError> {
        self.map_err(|source| ServiceError::Database { context, source })
    }
}
