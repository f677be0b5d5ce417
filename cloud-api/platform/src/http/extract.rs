//! Query-string and path extractors whose rejections are localized `{"message"}` errors,
//! like every other error of the API (axum's own answer in English plain text).

use axum::{
    extract::{FromRequestParts, Path, Query},
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::i18n::Msg;

/// `Query<T>`: a malformed query string answers a localized 400.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T, S> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| QueryParams(value))
            .map_err(|rejection| {
                let detail = rejection.body_text();
                ApiError::bad_request(Msg::owned(
                    format!("Parameter query tidak valid: {detail}"),
                    format!("Invalid query parameters: {detail}"),
                ))
            })
    }
}

/// `Path<T>`: a path segment of the wrong form (an id that is not a UUID, a number that is
/// not one) answers a localized 400.
#[derive(Debug)]
pub struct PathParams<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| PathParams(value))
            .map_err(|rejection| {
                let detail = rejection.body_text();
                ApiError::bad_request(Msg::owned(
                    format!("Parameter path tidak valid: {detail}"),
                    format!("Invalid path parameter: {detail}"),
                ))
            })
    }
}
