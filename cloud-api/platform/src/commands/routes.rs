//! `POST /api/devices/{id}/commands` (admins): any `protocol::Command`.

use crate::http::extract::PathParams;
use axum::{extract::State, routing::post, Json, Router};
use protocol::{Command, DeviceId};
use serde_json::{json, Value};

use super::service::send_command;
use crate::{
    audit,
    error::ServiceError,
    http::{error::ApiError, json::JsonBody},
    i18n::Msg,
    identity::AdminUser,
    security::ClientIp,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/devices/{id}/commands", post(send))
}

#[utoipa::path(post, path = "/api/devices/{id}/commands", tag = "devices", params(("id" = String, Path, description = "Device id")), request_body = Command, responses((status = 200, description = "`{message, status, command_id, ack}`"), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503), (status = 504)), security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn send(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ip: ClientIp,
    PathParams(id): PathParams<String>,
    JsonBody(command): JsonBody<Command>,
) -> Result<Json<Value>, ApiError> {
    let device = DeviceId::parse(id).map_err(|_| {
        ServiceError::NotFound(Msg::new("Perangkat tidak ditemukan", "Device not found"))
    })?;
    let kind = serde_json::to_value(&command)
        .ok()
        .and_then(|v| v.get("type").or_else(|| v.get("kind")).cloned())
        .unwrap_or_default();
    let result = send_command(&state, &device, command).await;
    let entry = audit::Entry::new("device_command", ip)
        .by(admin.sub, admin.email.clone())
        .target(format!("device:{device}"));
    let entry = match &result {
        Ok(outcome) => {
            entry.detail(json!({ "command": kind, "command_id": outcome.id, "ok": outcome.ack.ok }))
        }
        Err(err) => entry
            .detail(json!({ "command": kind, "error": err.to_string() }))
            .failed(),
    };
    audit::record(&state.db, state.clock.now(), entry).await;
    let outcome = result?;
    let message = if outcome.ack.ok {
        Msg::new("Perintah berhasil dijalankan", "Command executed")
    } else {
        Msg::new(
            "Perangkat menolak perintah",
            "The device refused the command",
        )
    };
    Ok(Json(json!({
        "message": message.localized(),
        "status": outcome.status,
        "command_id": outcome.id,
        "ack": outcome.ack,
    })))
}
