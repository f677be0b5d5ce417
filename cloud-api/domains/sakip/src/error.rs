//! The SAKIP boundary's error and input extractors: every answer is `{"success": true,
//! "data": …}` or `{"success": false, "error": {"message": …}}` (seed 002), messages
//! localized through `platform::i18n::Msg`.

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use platform::{
    error::ServiceError,
    http::{error::ApiError, extract, json::JsonBody},
    i18n::Msg,
};
use sea_orm::{DbErr, SqlErr};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::json;

/// An error answered by a SAKIP route, in the seed's envelope.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SakipError(#[from] pub ApiError);

impl SakipError {
    pub fn status(status: StatusCode, msg: Msg) -> Self {
        Self(ApiError::Client { status, msg })
    }

    pub fn bad(msg: Msg) -> Self {
        Self::status(StatusCode::BAD_REQUEST, msg)
    }

    pub fn not_found(what: &'static str, en: &'static str) -> Self {
        Self::status(StatusCode::NOT_FOUND, Msg::new(what, en))
    }

    pub fn conflict(msg: Msg) -> Self {
        Self::status(StatusCode::CONFLICT, msg)
    }

    pub fn forbidden() -> Self {
        Self::status(
            StatusCode::FORBIDDEN,
            Msg::new(
                "Akses ditolak. Hak akses tidak mencukupi.",
                "Access denied. Insufficient permissions.",
            ),
        )
    }

    /// A database error: a unique violation is the caller's duplicate (409), anything else
    /// a logged 500.
    pub fn db(context: &'static str, err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
            return Self::conflict(Msg::new("Data sudah ada (duplikat)", "Duplicate record"));
        }
        Self(ApiError::Service(ServiceError::Database {
            context,
            source: err,
        }))
    }

    fn message(&self) -> String {
        let msg = match &self.0 {
            ApiError::Client { msg, .. } => msg.clone(),
            ApiError::Service(
                ServiceError::Invalid(m)
                | ServiceError::Unauthorized(m)
                | ServiceError::Forbidden(m)
                | ServiceError::NotFound(m)
                | ServiceError::Conflict(m),
            ) => m.clone(),
            ApiError::Service(_) => {
                Msg::new("Terjadi kesalahan pada server", "Internal server error")
            }
        };
        msg.localized().to_owned()
    }
}

impl From<ServiceError> for SakipError {
    fn from(err: ServiceError) -> Self {
        Self(ApiError::Service(err))
    }
}

impl From<DbErr> for SakipError {
    fn from(err: DbErr) -> Self {
        Self::db("sakip", err)
    }
}

impl IntoResponse for SakipError {
    fn into_response(self) -> Response {
        let status = self.0.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self.0, "SAKIP request failed.");
        }
        let body = json!({ "success": false, "error": { "message": self.message() } });
        (status, Json(body)).into_response()
    }
}

/// What a SAKIP handler returns.
pub type Answer = Result<Response, SakipError>;

/// `200 {"success": true, "data": data}`.
pub fn ok<T: Serialize>(data: T) -> Answer {
    Ok(Json(json!({ "success": true, "data": data })).into_response())
}

/// `201 {"success": true, "data": data}`.
pub fn created<T: Serialize>(data: T) -> Answer {
    Ok((
        StatusCode::CREATED,
        Json(json!({ "success": true, "data": data })),
    )
        .into_response())
}

/// A JSON body; its rejections answer in the envelope. JSON of the wrong shape (a
/// non-numeric amount, a missing field) is a 400 like every other bad value of SAKIP (a
/// negative amount, an unknown enum value), not the platform's 422.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = SakipError;

    async fn from_request(req: Request, state: &S) -> Result<Self, SakipError> {
        match JsonBody::<T>::from_request(req, state).await {
            Ok(JsonBody(body)) => Ok(Body(body)),
            Err(ApiError::Client {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                msg,
            }) => Err(SakipError::bad(msg)),
            Err(err) => Err(err.into()),
        }
    }
}

/// A query string; its rejections answer in the envelope.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = SakipError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, SakipError> {
        Ok(Query(
            extract::QueryParams::<T>::from_request_parts(parts, state)
                .await?
                .0,
        ))
    }
}

/// Path parameters; their rejections answer in the envelope.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = SakipError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, SakipError> {
        Ok(Path(
            extract::PathParams::<T>::from_request_parts(parts, state)
                .await?
                .0,
        ))
    }
}
