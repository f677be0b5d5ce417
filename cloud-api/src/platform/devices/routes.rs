//! `POST /api/devices`, `GET /api/devices` (admins) and `POST /api/device/enroll` (devices).

use axum::{extract::State, http::StatusCode, routing::post, Json, Router};
use protocol::{
    sync::{EnrollRequest, EnrollResponse, ENROLL_PATH},
    DeviceId, SiteId,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::service::{self, EnrollmentCode};
use crate::platform::{
    http::{error::ApiError, json::JsonBody},
    i18n::Msg,
    identity::AdminUser,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/devices", post(create).get(list))
        .route(ENROLL_PATH, post(enroll))
}

#[derive(Deserialize)]
struct CreateDevice {
    site: String,
    device_id: String,
    name: String,
}

async fn create(
    State(state): State<AppState>,
    _admin: AdminUser,
    JsonBody(body): JsonBody<CreateDevice>,
) -> Result<(StatusCode, Json<EnrollmentCode>), ApiError> {
    let site = SiteId::parse(&body.site).map_err(|e| {
        ApiError::bad_request(Msg::owned(
            format!("Site tidak valid: {e}"),
            format!("Invalid site: {e}"),
        ))
    })?;
    let device = DeviceId::parse(&body.device_id).map_err(|e| {
        ApiError::bad_request(Msg::owned(
            format!("device_id tidak valid: {e}"),
            format!("Invalid device_id: {e}"),
        ))
    })?;
    let code = service::create_device(&state, &site, &device, &body.name).await?;
    Ok((StatusCode::CREATED, Json(code)))
}

async fn list(State(state): State<AppState>, _admin: AdminUser) -> Result<Json<Value>, ApiError> {
    let devices = service::list_devices(&state).await?;
    Ok(Json(json!({ "total": devices.len(), "devices": devices })))
}

async fn enroll(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ApiError> {
    Ok(Json(service::enroll(&state, &body).await?))
}
