//! Device requests (`Authorization: Bearer <device token>`): the enrolled device holding the
//! token, or a 401 that says nothing more.

use std::sync::Arc;

use axum::http::{header, HeaderMap};

use super::KnownDevice;
use crate::{error::ServiceError, http::error::ApiError, i18n::Msg, state::Platform};

/// The device a request's bearer token belongs to.
pub async fn device_from_headers(
    platform: &Platform,
    headers: &HeaderMap,
) -> Result<Arc<KnownDevice>, ApiError> {
    let unauthorized = || {
        ServiceError::Unauthorized(Msg::new(
            "Token perangkat tidak valid",
            "Invalid device token",
        ))
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(unauthorized)?;
    Ok(platform
        .devices
        .by_token(&platform.db, token)
        .await?
        .ok_or_else(unauthorized)?)
}
