//! `POST /api/devices`, `GET /api/devices` (admins) and `POST /api/device/enroll` (devices).

use axum::{extract::State, http::StatusCode, routing::post, Json, Router};
use protocol::{
    sync::{EnrollRequest, EnrollResponse, ENROLL_PATH},
    DeviceId, SiteId,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::service::{self, EnrollmentCode};
use crate::{
    audit,
    http::{error::ApiError, json::JsonBody},
    i18n::Msg,
    identity::AdminUser,
    security::ClientIp,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/devices", post(create).get(list))
        .route(ENROLL_PATH, post(enroll))
}

/// `POST /api/devices`: a door to register under `site`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct CreateDevice {
    /// A site id: `a-z`, `0-9`, `-`, `_`, starting with a letter or digit.
    #[schema(min_length = 1, max_length = 64, pattern = "^[a-z0-9][a-z0-9_-]*$")]
    site: String,
    /// A device id, as the site's.
    #[schema(min_length = 1, max_length = 64, pattern = "^[a-z0-9][a-z0-9_-]*$")]
    device_id: String,
    /// What the dashboard calls the door (trimmed, 1–200 characters).
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    name: String,
}

#[utoipa::path(post, path = "/api/devices", tag = "devices", request_body = CreateDevice, responses((status = 201, description = "`{code, device_id, site, expires_at, command}`: a one-time enrolment code"), (status = 400), (status = 401), (status = 403), (status = 409)), security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ip: ClientIp,
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
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("device_create", ip)
            .by(admin.sub, admin.email.clone())
            .target(format!("device:{device}"))
            .detail(json!({ "site": site.as_str() })),
    )
    .await;
    Ok((StatusCode::CREATED, Json(code)))
}

#[utoipa::path(get, path = "/api/devices", tag = "devices", responses((status = 200, description = "`{total, devices: [...]}` with sync progress and gaps"), (status = 401), (status = 403)), security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<Value>, ApiError> {
    let devices = service::list_devices(&state).await?;
    Ok(Json(json!({ "total": devices.len(), "devices": devices })))
}

#[utoipa::path(post, path = "/api/device/enroll", tag = "devices", request_body = EnrollRequest, responses((status = 200, description = "Device credentials, broker URL and the cloud public key"), (status = 400), (status = 401)))]
pub(crate) async fn enroll(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ApiError> {
    Ok(Json(service::enroll(&state, &body).await?))
}
