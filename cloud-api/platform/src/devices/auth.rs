//! How a device proves who it is: on HTTPS its bearer token (`Authorization: Bearer <device
//! token>`, else a 401 that says nothing more); on MQTT, whatever the broker, its username
//! (the device id) and password (the same token).

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use protocol::DeviceId;

use super::KnownDevice;
use crate::{
    error::ServiceError,
    http::error::ApiError,
    i18n::Msg,
    secrets::{constant_time_eq, sha256_hex},
    state::Platform,
};

/// The enrolled device whose MQTT credentials these are (username = device id, password =
/// its token), or `None`: unknown, not enrolled, a wrong password, or the database out of
/// reach (refused then, the device retries).
pub async fn device_from_mqtt_credentials(
    platform: &Platform,
    username: &str,
    password: &str,
) -> Option<Arc<KnownDevice>> {
    let id = DeviceId::parse(username).ok()?;
    let device = match platform.devices.get(&platform.db, &id).await {
        Ok(device) => device?,
        Err(err) => {
            tracing::warn!(device = %id, error = %err, "Device lookup for a broker login failed.");
            return None;
        }
    };
    constant_time_eq(&sha256_hex(password.as_bytes()), &device.token_hash).then_some(device)
}

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
