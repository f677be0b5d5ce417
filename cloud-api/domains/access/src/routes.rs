//! `GET /api/door/status` and `POST /api/door/control` (seed 000).

use std::sync::Arc;

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use platform::http::extract::QueryParams;
use protocol::{Command, DeviceId};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{board::DoorBoard, status};
use platform::{
    audit, commands,
    error::{DbContext, ServiceError},
    http::{
        error::ApiError,
        json::{JsonBody, SerializedJson},
    },
    i18n::Msg,
    identity::{AdminUser, AuthUser},
    security::ClientIp,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/door/status", get(door_status))
        .route("/api/door/control", post(door_control))
}

#[derive(Deserialize)]
pub(crate) struct StatusQuery {
    device_id: Option<String>,
}

fn not_found() -> ServiceError {
    ServiceError::NotFound(Msg::new("Perangkat tidak ditemukan", "Device not found"))
}

/// One door → that door's status; several → a list.
#[utoipa::path(get, path = "/api/door/status", tag = "access", params(("device_id" = Option<String>, Query, description = "One door")), responses((status = 200, description = "One door's status, or a list when there are several"), (status = 401), (status = 404)), security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn door_status(
    State(state): State<AppState>,
    _user: AuthUser,
    QueryParams(query): QueryParams<StatusQuery>,
) -> Result<Response, ApiError> {
    let answer = state
        .domain::<Arc<DoorBoard>>()
        .answer(&state.db, query.device_id.as_deref())
        .await
        .db("loading door status")?;
    let body = answer.ok_or_else(not_found)?;
    Ok(SerializedJson(body).into_response())
}

/// What `POST /api/door/control` asks of the door.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DoorAction {
    Unlock,
    Lock,
}

/// `POST /api/door/control`.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ControlRequest {
    action: DoorAction,
    /// How long an unlock lasts in milliseconds (default 5 s; 1 to 60,000, the protocol's
    /// `MAX_UNLOCK_MS`); the door may cap it lower.
    #[schema(minimum = 1, maximum = 60000)]
    duration_ms: Option<u32>,
    /// Optional when there is only one door.
    #[schema(min_length = 1, max_length = 64, pattern = "^[a-z0-9][a-z0-9_-]*$")]
    device_id: Option<String>,
}

#[utoipa::path(post, path = "/api/door/control", tag = "access", request_body = ControlRequest, responses((status = 200, description = "`{message, status, command_id, locked, ack}`"), (status = 400), (status = 401), (status = 403), (status = 404), (status = 503), (status = 504)), security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn door_control(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ip: ClientIp,
    JsonBody(body): JsonBody<ControlRequest>,
) -> Result<Response, ApiError> {
    let command = match body.action {
        DoorAction::Unlock => Command::Unlock {
            duration_ms: body.duration_ms.unwrap_or(5_000),
        },
        DoorAction::Lock => Command::Lock,
    };
    let device = match body.device_id {
        Some(raw) => DeviceId::parse(raw).map_err(|_| not_found())?,
        None => {
            let doors = status::list(&state.db, None).await.db("listing doors")?;
            match doors.as_slice() {
                [only] => DeviceId::parse(&only.device_id).map_err(|_| not_found())?,
                [] => return Err(not_found().into()),
                _ => {
                    return Err(ApiError::bad_request(Msg::owned(
                        format!("device_id harus diisi karena ada {} perangkat", doors.len()),
                        format!("device_id is required: there are {} devices", doors.len()),
                    )))
                }
            }
        }
    };
    let unlock = matches!(command, Command::Unlock { .. });
    let result = commands::send_command(&state, &device, command).await;
    let entry = audit::Entry::new(if unlock { "door_unlock" } else { "door_lock" }, ip)
        .by(admin.sub, admin.email.clone())
        .target(format!("device:{device}"));
    let entry = match &result {
        Ok(outcome) => entry.detail(json!({ "command_id": outcome.id, "ok": outcome.ack.ok })),
        Err(err) => entry.detail(json!({ "error": err.to_string() })).failed(),
    };
    audit::record(&state.db, state.clock.now(), entry).await;
    let outcome = result?;
    let message = match (outcome.ack.ok, unlock) {
        (true, true) => Msg::new("Pintu berhasil dibuka", "Door unlocked"),
        (true, false) => Msg::new("Pintu berhasil dikunci", "Door locked"),
        (false, _) => Msg::new(
            "Perangkat menolak perintah",
            "The device refused the command",
        ),
    };
    Ok(Json(json!({
        "message": message.localized(),
        "status": outcome.status,
        "command_id": outcome.id,
        "locked": outcome.ack.locked,
        "ack": outcome.ack,
    }))
    .into_response())
}
