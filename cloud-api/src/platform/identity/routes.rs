//! `POST /api/auth/login`.

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde::Deserialize;
use serde_json::json;

use super::{service, token::ACCESS_TOKEN_TTL};
use crate::platform::{http::error::ApiError, http::json::JsonBody, i18n::Msg, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/auth/login", post(login))
}

#[derive(Deserialize)]
struct LoginRequest {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Result<Response, ApiError> {
    if body.email.trim().is_empty() || body.password.is_empty() {
        return Err(ApiError::bad_request(Msg::new(
            "Email dan password harus diisi",
            "Email and password are required",
        )));
    }
    let (token, user) = service::login(&state.db, &state.jwt, &body.email, &body.password).await?;
    let cookie = format!(
        "token={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}",
        ACCESS_TOKEN_TTL.as_secs()
    );
    let mut response = Json(json!({ "accessToken": token, "user": user })).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}
