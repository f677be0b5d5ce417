//! `GET/PUT /api/door/settings`: a door's settings, persisted in `system_settings`
//! (`door_settings:{device}`) and pushed to the device as `Command::UpdateSettings`; the PUT
//! answers after the device's ack, or 504.

use axum::{extract::State, routing::get, Json, Router};
use platform::http::extract::QueryParams;
use protocol::{command::MAX_UNLOCK_MS, Command, DeviceId, DoorMode, DoorSettings};
use sea_orm::{sea_query::OnConflict, EntityTrait, Set};
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::routes::resolve_device;
use crate::entities::system_setting;
use platform::{
    audit,
    commands::{send_command, CommandOutcome},
    error::{DbContext, ServiceError},
    http::{error::ApiError, json::JsonBody},
    i18n::Msg,
    identity::AdminUser,
    security::ClientIp,
    state::{AppState, Platform},
};

/// The longest held-open alarm delay accepted, in seconds.
const MAX_HELD_OPEN_SECS: u32 = 3600;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/door/settings", get(get_settings).put(put_settings))
}

fn key(device: &DeviceId) -> String {
    format!("door_settings:{device}")
}

/// The stored settings of `device` (empty when never set).
pub async fn door_settings(
    platform: &Platform,
    device: &DeviceId,
) -> Result<DoorSettings, ServiceError> {
    let row = system_setting::Entity::find_by_id(key(device))
        .one(&platform.db)
        .await
        .db("loading door settings")?;
    Ok(row
        .and_then(|r| serde_json::from_str(&r.value).ok())
        .unwrap_or_default())
}

fn validate(patch: &DoorSettings) -> Result<(), ServiceError> {
    if let Some(ms) = patch.unlock_ms {
        if ms == 0 || ms > MAX_UNLOCK_MS {
            return Err(ServiceError::Invalid(Msg::owned(
                format!("unlock_ms harus 1–{MAX_UNLOCK_MS}"),
                format!("unlock_ms must be 1–{MAX_UNLOCK_MS}"),
            )));
        }
    }
    if let Some(secs) = patch.held_open_alarm_secs {
        if secs == 0 || secs > MAX_HELD_OPEN_SECS {
            return Err(ServiceError::Invalid(Msg::owned(
                format!("held_open_alarm_secs harus 1–{MAX_HELD_OPEN_SECS}"),
                format!("held_open_alarm_secs must be 1–{MAX_HELD_OPEN_SECS}"),
            )));
        }
    }
    Ok(())
}

/// Merges `patch` into `device`'s stored settings, stores them, pushes them and waits for the
/// ack. The settings stay stored when the device does not answer (it gets them next time).
pub async fn update_door_settings(
    platform: &Platform,
    device: &DeviceId,
    patch: DoorSettings,
    by: Option<Uuid>,
) -> Result<(DoorSettings, CommandOutcome), ServiceError> {
    validate(&patch)?;
    let mut settings = door_settings(platform, device).await?;
    settings.mode = patch.mode.or(settings.mode);
    settings.unlock_ms = patch.unlock_ms.or(settings.unlock_ms);
    settings.held_open_alarm_secs = patch.held_open_alarm_secs.or(settings.held_open_alarm_secs);
    settings.camera_active = patch.camera_active.or(settings.camera_active);
    let row = system_setting::ActiveModel {
        key: Set(key(device)),
        value: Set(serde_json::to_string(&settings).unwrap_or_default()),
        updated_at: Set(OffsetDateTime::now_utc()),
        updated_by: Set(by),
    };
    system_setting::Entity::insert(row)
        .on_conflict(
            OnConflict::column(system_setting::Column::Key)
                .update_columns([
                    system_setting::Column::Value,
                    system_setting::Column::UpdatedAt,
                    system_setting::Column::UpdatedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(&platform.db)
        .await
        .db("storing door settings")?;
    let outcome = send_command(
        platform,
        device,
        Command::UpdateSettings {
            settings: settings.clone(),
        },
    )
    .await?;
    Ok((settings, outcome))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SettingsQuery {
    device_id: Option<String>,
}

/// `GET /api/door/settings` (access admins).
#[utoipa::path(get, path = "/api/door/settings", tag = "access",
    params(("device_id" = Option<String>, Query, description = "Optional when there is only one device")),
    responses((status = 200, description = "`{device_id, settings: {mode?, unlock_ms?, held_open_alarm_secs?, camera_active?}}`"), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn get_settings(
    State(state): State<AppState>,
    _admin: AdminUser,
    QueryParams(query): QueryParams<SettingsQuery>,
) -> Result<Json<Value>, ApiError> {
    let device = resolve_device(&state, query.device_id.as_deref()).await?;
    let settings = door_settings(&state, &device).await?;
    Ok(Json(json!({ "device_id": device, "settings": settings })))
}

/// The body of `PUT /api/door/settings`: absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettingsRequest {
    /// Optional when there is only one device.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64, pattern = "^[a-z0-9][a-z0-9_-]*$")]
    device_id: Option<String>,
    /// `normal`, `locked_down` or `held_open`.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^(normal|locked_down|held_open)$")]
    mode: Option<DoorMode>,
    /// Unlock pulse for a granted face, 1–60000 ms.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 60000)]
    unlock_ms: Option<u32>,
    /// Seconds the door may stand open before the held-open alarm, 1–3600.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3600)]
    held_open_alarm_secs: Option<u32>,
    #[serde(default)]
    camera_active: Option<bool>,
}

/// `PUT /api/door/settings` (access admins).
#[utoipa::path(put, path = "/api/door/settings", tag = "access", request_body = SettingsRequest,
    responses((status = 200, description = "`{message, device_id, settings, status, command_id, ack}` after the device's ack"),
        (status = 400), (status = 401), (status = 403), (status = 404), (status = 422), (status = 503), (status = 504, description = "Stored, but the device did not ack in time")),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn put_settings(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ip: ClientIp,
    JsonBody(body): JsonBody<SettingsRequest>,
) -> Result<Json<Value>, ApiError> {
    let device = resolve_device(&state, body.device_id.as_deref()).await?;
    let patch = DoorSettings {
        mode: body.mode,
        unlock_ms: body.unlock_ms,
        held_open_alarm_secs: body.held_open_alarm_secs,
        camera_active: body.camera_active,
    };
    let result = update_door_settings(&state, &device, patch.clone(), Some(admin.sub)).await;
    let entry = audit::Entry::new("door_settings", ip)
        .by(admin.sub, admin.email.clone())
        .target(format!("device:{device}"));
    let entry = match &result {
        Ok((_, outcome)) => {
            entry.detail(json!({ "patch": patch, "command_id": outcome.id, "ok": outcome.ack.ok }))
        }
        Err(err) => entry
            .detail(json!({ "patch": patch, "error": err.to_string() }))
            .failed(),
    };
    audit::record(&state.db, state.clock.now(), entry).await;
    let (settings, outcome) = result?;
    let message = if outcome.ack.ok {
        Msg::new("Pengaturan pintu berhasil disimpan", "Door settings saved")
    } else {
        Msg::new(
            "Pengaturan disimpan, tetapi perangkat menolak perintah",
            "Settings saved, but the device refused the command",
        )
    };
    Ok(Json(json!({
        "message": message.localized(),
        "device_id": device,
        "settings": settings,
        "status": outcome.status,
        "command_id": outcome.id,
        "ack": outcome.ack,
    })))
}
