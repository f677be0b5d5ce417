//! Camera HTTP routes: device uploads, capture, recordings, live relay.

use std::time::Duration;

use axum::{
    body::{Body, Bytes},
    extract::{rejection::BytesRejection, DefaultBodyLimit, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use object_store::PutPayload;
use platform::http::extract::{PathParams, QueryParams};
use protocol::{
    sync::{SnapshotStored, MAX_SNAPSHOT_BYTES, SNAPSHOTS_PATH},
    Command, DeviceId,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use tokio::sync::broadcast::error::RecvError;
use utoipa::ToSchema;
use uuid::Uuid;

use super::hub::{object_key, Stored};
use crate::{entities::camera_record, CameraHub};
use platform::{
    audit,
    commands::send_command,
    db::entities::{command, device},
    devices::device_from_headers,
    error::{DbContext, ServiceError},
    http::error::ApiError,
    i18n::Msg,
    identity::AdminUser,
    security::ClientIp,
    state::{AppState, Platform},
};

/// Seconds of live video asked of the device per stream command (renewed while watched).
const STREAM_SECS: u32 = 20;
/// Frames a second asked of the device.
const STREAM_FPS: u8 = 5;
/// How long before a stream command runs out the next one is sent.
const STREAM_RENEW_BEFORE: Duration = Duration::from_secs(5);

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            SNAPSHOTS_PATH,
            post(upload).layer(DefaultBodyLimit::max(MAX_SNAPSHOT_BYTES)),
        )
        .route("/api/camera/capture", post(capture))
        .route("/api/camera/recordings", get(list_recordings))
        .route(
            "/api/camera/recordings/{id}",
            axum::routing::delete(delete_recording),
        )
        .route("/api/camera/recordings/{id}/image", get(recording_image))
        .route("/api/camera/stream", get(stream))
}

fn device_not_found() -> ServiceError {
    ServiceError::NotFound(Msg::new("Perangkat tidak ditemukan", "Device not found"))
}

fn recording_not_found() -> ServiceError {
    ServiceError::NotFound(Msg::new("Rekaman tidak ditemukan", "Recording not found"))
}

/// The enrolled device `raw` names, or the only enrolled device when `raw` is `None`.
pub async fn resolve_device(
    platform: &Platform,
    raw: Option<&str>,
) -> Result<DeviceId, ServiceError> {
    if let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) {
        let id = DeviceId::parse(raw).map_err(|_| device_not_found())?;
        return match platform.devices.get(&platform.db, &id).await? {
            Some(_) => Ok(id),
            None => Err(device_not_found()),
        };
    }
    let enrolled = device::Entity::find()
        .filter(device::Column::TokenHash.is_not_null())
        .limit(2)
        .all(&platform.db)
        .await
        .db("listing devices")?;
    match enrolled.as_slice() {
        [only] => DeviceId::parse(&only.id).map_err(|_| device_not_found()),
        [] => Err(device_not_found()),
        _ => Err(ServiceError::Invalid(Msg::new(
            "device_id harus diisi karena ada beberapa perangkat",
            "device_id is required: there are several devices",
        ))),
    }
}

/// A stored snapshot as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordingView {
    pub id: Uuid,
    pub device_id: String,
    pub filename: String,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// `capture` or `snapshot`.
    pub event_type: String,
    pub file_size: i64,
    /// Where the JPEG is served (admins).
    pub url: String,
}

impl From<camera_record::Model> for RecordingView {
    fn from(row: camera_record::Model) -> Self {
        Self {
            url: format!("/api/camera/recordings/{}/image", row.id),
            id: row.id,
            device_id: row.device_id,
            filename: row.filename,
            timestamp: row.timestamp,
            event_type: row.event_type,
            file_size: row.file_size,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct UploadQuery {
    command: Option<String>,
    stream: Option<String>,
    evidence: Option<String>,
}

fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.len() > 4 && bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// `POST /api/device/snapshots`: a device's JPEG (a capture's answer with `?command=`, a live
/// frame with `?stream=`, a denial's evidence under the id the device chose with
/// `?evidence=`, or a snapshot of its own).
#[utoipa::path(post, path = "/api/device/snapshots", tag = "devices",
    params(("command" = Option<String>, Query, description = "The capture command this answers"),
        ("stream" = Option<String>, Query, description = "The stream command this frame belongs to (relayed, not stored)"),
        ("evidence" = Option<String>, Query, description = "The snapshot id (UUID) the device put in its access decision; uploading it again is harmless")),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "At most 4 MiB"),
    responses((status = 200, description = "`{key}`: the recording id (live frames: `stream`; evidence: the id the device chose)"),
        (status = 400), (status = 401), (status = 404, description = "Unknown command"), (status = 409, description = "Nobody watches the stream, or the evidence id is another device's"),
        (status = 413), (status = 415)),
    security(("device_token" = [])))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    QueryParams(query): QueryParams<UploadQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SnapshotStored>, ApiError> {
    let device = device_from_headers(&state, &headers).await?;
    let body = body?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.eq_ignore_ascii_case("image/jpeg") {
        return Err(ApiError::Client {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            msg: Msg::new(
                "Content-Type harus image/jpeg",
                "Content-Type must be image/jpeg",
            ),
        });
    }
    if !is_jpeg(&body) {
        return Err(ApiError::bad_request(Msg::new(
            "Isi bukan gambar JPEG",
            "The body is not a JPEG image",
        )));
    }
    let parse_id = |raw: &str| {
        Uuid::parse_str(raw).map_err(|_| {
            ApiError::bad_request(Msg::new("ID perintah tidak valid", "Invalid command id"))
        })
    };
    if let Some(stream) = query.stream.as_deref() {
        parse_id(stream)?;
        if !state.domain::<CameraHub>().relay(&device.id, body) {
            return Err(ServiceError::Conflict(Msg::new(
                "Tidak ada yang menonton siaran ini",
                "Nobody is watching this stream",
            ))
            .into());
        }
        return Ok(Json(SnapshotStored {
            key: "stream".into(),
        }));
    }
    if let Some(raw) = query.evidence.as_deref() {
        if query.command.is_some() {
            return Err(ApiError::bad_request(Msg::new(
                "evidence dan command tidak boleh bersamaan",
                "evidence and command cannot be combined",
            )));
        }
        let id = Uuid::parse_str(raw).map_err(|_| {
            ApiError::bad_request(Msg::new("ID snapshot tidak valid", "Invalid snapshot id"))
        })?;
        return Ok(Json(store_evidence(&state, &device.id, id, body).await?));
    }
    let command_id = match query.command.as_deref() {
        Some(raw) => {
            let id = parse_id(raw)?;
            // Only this device's own commands: no device can answer another's capture.
            let known = command::Entity::find_by_id(id)
                .filter(command::Column::DeviceId.eq(device.id.as_str()))
                .one(&state.db)
                .await
                .db("checking a capture command")?;
            if known.is_none() {
                return Err(ServiceError::NotFound(Msg::new(
                    "Perintah tidak ditemukan",
                    "Command not found",
                ))
                .into());
            }
            Some(id)
        }
        None => None,
    };
    let id = Uuid::now_v7();
    let key = object_key(device.id.as_str(), id);
    let size = body.len() as i64;
    state
        .domain::<CameraHub>()
        .store
        .put(&key, PutPayload::from_bytes(body))
        .await
        .map_err(|e| ServiceError::internal("storing a snapshot", e))?;
    let now = OffsetDateTime::now_utc();
    let row = camera_record::ActiveModel {
        id: Set(id),
        device_id: Set(device.id.to_string()),
        object_key: Set(key.to_string()),
        filename: Set(format!("{}-{}.jpg", device.id, now.unix_timestamp())),
        timestamp: Set(now),
        event_type: Set(if command_id.is_some() {
            "capture"
        } else {
            "snapshot"
        }
        .into()),
        file_size: Set(size),
        command_id: Set(command_id),
        person_id: Set(None),
    };
    if let Err(err) = row.insert(&state.db).await {
        let _ = state.domain::<CameraHub>().store.delete(&key).await;
        return Err(ServiceError::Database {
            context: "recording a snapshot",
            source: err,
        }
        .into());
    }
    state.domain::<CameraHub>().announce_stored(Stored {
        command_id,
        record_id: id,
    });
    Ok(Json(SnapshotStored {
        key: id.to_string(),
    }))
}

/// Stores a denial's evidence under the id the device chose, tied to the person its
/// decision names if that decision is already here (otherwise the projector ties it when
/// it comes). Idempotent: a retry of a stored one is answered the same. The image of
/// someone erased since is acknowledged and dropped, so the device stops sending it.
async fn store_evidence(
    platform: &Platform,
    device: &DeviceId,
    id: Uuid,
    body: Bytes,
) -> Result<SnapshotStored, ServiceError> {
    let answer = SnapshotStored {
        key: id.to_string(),
    };
    let now = OffsetDateTime::now_utc();
    let txn = platform::db::begin_write(&platform.db)
        .await
        .db("starting an evidence upload")?;
    let claim = crate::evidence::open_for_upload(&txn, device.as_str(), id, now)
        .await
        .db("claiming an evidence snapshot")?;
    let person = match claim {
        crate::evidence::Claim::Foreign => return Err(evidence_taken()),
        crate::evidence::Claim::Erased => {
            txn.commit().await.db("acknowledging erased evidence")?;
            tracing::info!(%device, snapshot = %id, "Evidence of an erased person dropped.");
            return Ok(answer);
        }
        crate::evidence::Claim::Store { person } => person,
    };
    if let Some(existing) = camera_record::Entity::find_by_id(id)
        .one(&txn)
        .await
        .db("looking for an evidence snapshot")?
    {
        if existing.device_id != device.as_str() {
            return Err(evidence_taken());
        }
        txn.commit().await.db("acknowledging a repeated upload")?;
        return Ok(answer);
    }
    let key = object_key(device.as_str(), id);
    let size = body.len() as i64;
    let store = &platform.domain::<CameraHub>().store;
    // Inside the transaction, so that an erasure of the person waits for it (and then
    // deletes it) rather than missing an image stored a moment after.
    store
        .put(&key, PutPayload::from_bytes(body))
        .await
        .map_err(|e| ServiceError::internal("storing a snapshot", e))?;
    let row = camera_record::ActiveModel {
        id: Set(id),
        device_id: Set(device.to_string()),
        object_key: Set(key.to_string()),
        filename: Set(format!("{device}-{}.jpg", now.unix_timestamp())),
        timestamp: Set(now),
        event_type: Set("snapshot".into()),
        file_size: Set(size),
        command_id: Set(None),
        person_id: Set(person),
    };
    let stored = match row.insert(&txn).await {
        Ok(_) => txn.commit().await,
        Err(err) => Err(err),
    };
    if let Err(err) = stored {
        let _ = store.delete(&key).await;
        return Err(ServiceError::Database {
            context: "recording an evidence snapshot",
            source: err,
        });
    }
    Ok(answer)
}

fn evidence_taken() -> ServiceError {
    ServiceError::Conflict(Msg::new(
        "ID snapshot milik perangkat lain",
        "The snapshot id belongs to another device",
    ))
}

async fn find_capture(
    platform: &Platform,
    command_id: Uuid,
) -> Result<Option<camera_record::Model>, ServiceError> {
    camera_record::Entity::find()
        .filter(camera_record::Column::CommandId.eq(command_id))
        .one(&platform.db)
        .await
        .db("looking for a capture")
}

/// Asks `device` for a snapshot and waits until it is uploaded (or the command timeout).
pub async fn capture_snapshot(
    platform: &Platform,
    device: &DeviceId,
) -> Result<RecordingView, ServiceError> {
    let mut stored = platform.domain::<CameraHub>().subscribe_stored();
    let outcome = send_command(platform, device, Command::Capture).await?;
    if !outcome.ack.ok {
        return Err(ServiceError::Conflict(Msg::owned(
            format!(
                "Perangkat menolak perintah: {}",
                outcome.ack.error.clone().unwrap_or_default()
            ),
            format!(
                "The device refused the command: {}",
                outcome.ack.error.clone().unwrap_or_default()
            ),
        )));
    }
    let timeout = platform.config.command_timeout();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        // The upload may have come before the ack, or to another replica.
        if let Some(row) = find_capture(platform, outcome.id).await? {
            return Ok(row.into());
        }
        let wait = tokio::time::timeout_at(
            deadline.min(tokio::time::Instant::now() + Duration::from_millis(500)),
            stored.recv(),
        )
        .await;
        match wait {
            Ok(Ok(_)) | Ok(Err(RecvError::Lagged(_))) | Err(_) => {}
            Ok(Err(RecvError::Closed)) => {
                return Err(ServiceError::internal(
                    "waiting for a capture",
                    "hub closed",
                ))
            }
        }
        if tokio::time::Instant::now() >= deadline {
            if let Some(row) = find_capture(platform, outcome.id).await? {
                return Ok(row.into());
            }
            return Err(ServiceError::DeviceTimeout {
                secs: timeout.as_secs(),
            });
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub(crate) struct CaptureRequest {
    /// The device; optional when there is only one.
    #[serde(default)]
    device_id: Option<String>,
}

/// `POST /api/camera/capture` (access admins): body `{device_id?}` (may be empty).
#[utoipa::path(post, path = "/api/camera/capture", tag = "camera", request_body = CaptureRequest,
    responses((status = 201, description = "`{message, recording}`: the stored snapshot"),
        (status = 400), (status = 401), (status = 403), (status = 404), (status = 409, description = "The device refused"), (status = 504, description = "No ack or no upload in time")),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn capture(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ip: ClientIp,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CaptureRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CaptureRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(Msg::owned(
                format!("Body permintaan bukan JSON yang valid: {e}"),
                format!("The request body is not valid JSON: {e}"),
            ))
        })?
    };
    let device = resolve_device(&state, request.device_id.as_deref()).await?;
    let result = capture_snapshot(&state, &device).await;
    let entry = audit::Entry::new("camera_capture", ip)
        .by(admin.sub, admin.email.clone())
        .target(format!("device:{device}"));
    let entry = match &result {
        Ok(rec) => entry.detail(json!({ "recording": rec.id })),
        Err(err) => entry.detail(json!({ "error": err.to_string() })).failed(),
    };
    audit::record(&state.db, state.clock.now(), entry).await;
    let recording = result?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "message": Msg::new("Foto berhasil diambil", "Snapshot taken").localized(),
            "recording": recording,
        })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    page: Option<u64>,
    limit: Option<u64>,
    device_id: Option<String>,
}

/// `GET /api/camera/recordings` (access admins), newest first.
#[utoipa::path(get, path = "/api/camera/recordings", tag = "camera",
    params(("page" = Option<u64>, Query, description = "From 1"), ("limit" = Option<u64>, Query, description = "1–100, default 20"), ("device_id" = Option<String>, Query)),
    responses((status = 200, description = "`{recordings: [...], total, page, limit}`"), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn list_recordings(
    State(state): State<AppState>,
    _admin: AdminUser,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let page = query.page.unwrap_or(1);
    let limit = query.limit.unwrap_or(20);
    if page == 0 || !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request(Msg::new(
            "page minimal 1 dan limit 1–100",
            "page must be at least 1 and limit 1–100",
        )));
    }
    let mut select = camera_record::Entity::find();
    if let Some(device) = query.device_id.as_deref().filter(|d| !d.is_empty()) {
        select = select.filter(camera_record::Column::DeviceId.eq(device));
    }
    let total = select
        .clone()
        .count(&state.db)
        .await
        .db("counting recordings")?;
    let rows = select
        .order_by_desc(camera_record::Column::Timestamp)
        .order_by_desc(camera_record::Column::Id)
        // Databases take a signed 64-bit offset; a page past that is past the end anyway.
        .offset(
            (page - 1)
                .saturating_mul(limit)
                .min(i64::MAX.unsigned_abs()),
        )
        .limit(limit)
        .all(&state.db)
        .await
        .db("listing recordings")?;
    let recordings: Vec<RecordingView> = rows.into_iter().map(Into::into).collect();
    Ok(Json(json!({
        "recordings": recordings,
        "total": total,
        "page": page,
        "limit": limit,
    })))
}

async fn find_recording(
    platform: &Platform,
    raw: &str,
) -> Result<camera_record::Model, ServiceError> {
    let id = Uuid::parse_str(raw).map_err(|_| recording_not_found())?;
    camera_record::Entity::find_by_id(id)
        .one(&platform.db)
        .await
        .db("loading a recording")?
        .ok_or_else(recording_not_found)
}

/// `GET /api/camera/recordings/{id}/image` (access admins): the JPEG.
#[utoipa::path(get, path = "/api/camera/recordings/{id}/image", tag = "camera",
    params(("id" = String, Path, description = "Recording id (UUID)")),
    responses((status = 200, content_type = "image/jpeg", description = "The JPEG"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn recording_image(
    State(state): State<AppState>,
    _admin: AdminUser,
    PathParams(id): PathParams<String>,
) -> Result<Response, ApiError> {
    let row = find_recording(&state, &id).await?;
    let key = object_key(&row.device_id, row.id);
    let bytes = match state.domain::<CameraHub>().store.get(&key).await {
        Ok(found) => found
            .bytes()
            .await
            .map_err(|e| ServiceError::internal("reading a snapshot", e))?,
        Err(object_store::Error::NotFound { .. }) => return Err(recording_not_found().into()),
        Err(e) => return Err(ServiceError::internal("reading a snapshot", e).into()),
    };
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response())
}

/// `DELETE /api/camera/recordings/{id}` (access admins).
#[utoipa::path(delete, path = "/api/camera/recordings/{id}", tag = "camera",
    params(("id" = String, Path, description = "Recording id (UUID)")),
    responses((status = 200, description = "`{message}`"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn delete_recording(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ip: ClientIp,
    PathParams(id): PathParams<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let row = find_recording(&state, &id).await?;
    let key = object_key(&row.device_id, row.id);
    match state.domain::<CameraHub>().store.delete(&key).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => return Err(ServiceError::internal("deleting a snapshot", e).into()),
    }
    camera_record::Entity::delete_by_id(row.id)
        .exec(&state.db)
        .await
        .db("deleting a recording")?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("recording_delete", ip)
            .by(admin.sub, admin.email.clone())
            .target(format!("recording:{}", row.id)),
    )
    .await;
    Ok(Json(json!({
        "message": Msg::new("Rekaman berhasil dihapus", "Recording deleted").localized(),
    })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct StreamQuery {
    device: Option<String>,
}

async fn ask_to_stream(platform: &Platform, device: &DeviceId) -> Result<(), ServiceError> {
    let outcome = send_command(
        platform,
        device,
        Command::Stream {
            seconds: STREAM_SECS,
            fps: STREAM_FPS,
        },
    )
    .await?;
    if outcome.ack.ok {
        Ok(())
    } else {
        Err(ServiceError::Conflict(Msg::new(
            "Perangkat menolak perintah",
            "The device refused the command",
        )))
    }
}

/// Keeps the device streaming while anyone watches, then closes the relay.
async fn keep_streaming(platform: AppState, device: DeviceId) {
    let renew_every = Duration::from_secs(STREAM_SECS as u64) - STREAM_RENEW_BEFORE;
    let mut since = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if platform.domain::<CameraHub>().viewers(&device) == 0 || !platform.is_running() {
            break;
        }
        if since.elapsed() >= renew_every {
            since = tokio::time::Instant::now();
            if let Err(err) = ask_to_stream(&platform, &device).await {
                tracing::warn!(%device, error = %err, "Renewing a live stream failed.");
            }
        }
    }
    platform.domain::<CameraHub>().close_stream(&device);
    tracing::info!(%device, "Live stream closed.");
}

const BOUNDARY: &str = "frame";

/// `GET /api/camera/stream?device=` (access admins): MJPEG relayed from the device.
#[utoipa::path(get, path = "/api/camera/stream", tag = "camera",
    params(("device" = Option<String>, Query, description = "The device; optional when there is only one")),
    responses((status = 200, content_type = "multipart/x-mixed-replace", description = "MJPEG (`boundary=frame`) while the viewer stays"),
        (status = 400), (status = 401), (status = 403), (status = 404), (status = 409), (status = 504)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn stream(
    State(state): State<AppState>,
    _admin: AdminUser,
    QueryParams(query): QueryParams<StreamQuery>,
) -> Result<Response, ApiError> {
    let device = resolve_device(&state, query.device.as_deref()).await?;
    let (rx, created) = state.domain::<CameraHub>().join_stream(&device);
    if created {
        if let Err(err) = ask_to_stream(&state, &device).await {
            state.domain::<CameraHub>().close_stream(&device);
            return Err(err.into());
        }
        tokio::spawn(keep_streaming(state.clone(), device.clone()));
    }
    let frames = futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(jpeg) => {
                    let mut part = format!(
                        "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                        jpeg.len()
                    )
                    .into_bytes();
                    part.extend_from_slice(&jpeg);
                    part.extend_from_slice(b"\r\n");
                    return Some((Ok::<_, std::convert::Infallible>(Bytes::from(part)), rx));
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok((
        [
            (
                header::CONTENT_TYPE,
                format!("multipart/x-mixed-replace; boundary={BOUNDARY}"),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(frames),
    )
        .into_response())
}
