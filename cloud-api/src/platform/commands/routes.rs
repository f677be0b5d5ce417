//! `POST /api/devices/{id}/commands` (admins): any `protocol::Command`.

use axum::{
    extract::{Path, State},
    routing::post,
    Json, Router,
};
use protocol::{Command, DeviceId};
use serde_json::{json, Value};

use super::service::send_command;
use crate::platform::{
    error::ServiceError,
    http::{error::ApiError, json::JsonBody},
    i18n::Msg,
    identity::AdminUser,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/devices/{id}/commands", post(send))
}

async fn send(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<String>,
    JsonBody(command): JsonBody<Command>,
) -> Result<Json<Value>, ApiError> {
    let device = DeviceId::parse(id).map_err(|_| {
        ServiceError::NotFound(Msg::new("Perangkat tidak ditemukan", "Device not found"))
    })?;
    let outcome = send_command(&state, &device, command).await?;
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
