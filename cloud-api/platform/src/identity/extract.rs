//! Request extractors: who is calling (`Authorization: Bearer` or the seed-001 `token`
//! cookie), its token checked against the user's session epoch, and a guard that only lets
//! access admins through (see `roles` for the others).

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};

use super::token::Claims;
use crate::{
    error::ServiceError,
    http::error::ApiError,
    i18n::Msg,
    state::{AppState, Platform},
};

/// The claims of `token` when it is valid now: signed, not expired, and of its user's
/// current session epoch while they are enabled (`identity::epochs`).
pub async fn authenticate(
    platform: &Platform,
    token: &str,
) -> Result<Option<Claims>, ServiceError> {
    let Some(claims) = platform.jwt.verify(&platform.clock, token) else {
        return Ok(None);
    };
    Ok(platform.sessions.admits(&claims).await?.then_some(claims))
}

/// A caller with a valid access token.
#[derive(Debug, Clone)]
pub struct AuthUser(pub Claims);

/// A caller whose access-domain role is `admin`.
#[derive(Debug, Clone)]
pub struct AdminUser(pub Claims);

/// The access token of a request: `Authorization: Bearer …`, else the `token` cookie.
pub fn bearer_or_cookie(parts: &Parts) -> Option<&str> {
    if let Some(value) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(token) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        {
            return Some(token.trim());
        }
    }
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("token="))
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(parts: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    parts
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v.trim())
        })
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let not_logged_in =
            || ServiceError::Unauthorized(Msg::new("Anda belum login", "You are not logged in"));
        let token = bearer_or_cookie(parts).ok_or_else(not_logged_in)?;
        let claims = authenticate(state, token)
            .await?
            .ok_or_else(not_logged_in)?;
        Ok(AuthUser(claims))
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(claims) = AuthUser::from_request_parts(parts, state).await?;
        if super::roles::has_role(&claims, "access", &["admin"]) {
            Ok(AdminUser(claims))
        } else {
            Err(super::roles::forbidden())
        }
    }
}
