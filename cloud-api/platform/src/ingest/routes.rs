//! `POST /api/device/events`: an HTTPS batch from a device (its token as bearer), for when
//! MQTT is down. Frames are judged one by one; the answer carries the receipt (`upto_seq`).

use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode},
    routing::post,
    Json, Router,
};
use protocol::sync::{BatchResult, EventBatch, RejectedFrame, EVENTS_PATH, MAX_BATCH_FRAMES};
use sea_orm::EntityTrait;

use super::{store::store_events, verify::verify_frame};
use crate::{
    db::entities::device, devices::device_from_headers, error::DbContext, http::error::ApiError,
    i18n::Msg, state::AppState,
};

/// The largest batch body accepted.
pub const MAX_BATCH_BODY: usize = 8 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(EVENTS_PATH, post(events))
        .layer(DefaultBodyLimit::max(MAX_BATCH_BODY))
}

/// The body of `POST /api/device/events` as the OpenAPI document describes it (the handler
/// reads `protocol::sync::EventBatch`, keeping each frame's exact bytes for its signature).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct EventBatchBody {
    /// The frames, oldest first.
    #[schema(max_items = 1000)]
    frames: Vec<SealedFrameBody>,
}

/// One sealed frame: `body` and the device's signature of its exact bytes.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct SealedFrameBody {
    /// The signed `protocol::Envelope` (version, device, seq, time, event).
    #[schema(value_type = Object)]
    body: serde_json::Value,
    /// The Ed25519 signature of `body`, standard base64 of its 64 bytes.
    sig: String,
}

#[utoipa::path(post, path = "/api/device/events", tag = "devices", request_body(content = EventBatchBody, description = "Sealed event frames (device token as bearer); each frame is judged on its own"), responses((status = 200, description = "`{accepted, duplicates, rejected, upto_seq}`"), (status = 400), (status = 401), (status = 413)), security(("device_token" = [])))]
pub(crate) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BatchResult>, ApiError> {
    let device = device_from_headers(&state, &headers).await?;
    let body = body?;
    let batch: EventBatch = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(Msg::owned(
            format!("Body bukan batch event ({{\"frames\": [...]}}): {e}"),
            format!("The body is not an event batch ({{\"frames\": [...]}}): {e}"),
        ))
    })?;
    if batch.too_many_frames() {
        return Err(ApiError::Client {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            msg: Msg::owned(
                format!("Batch melebihi {MAX_BATCH_FRAMES} frame"),
                format!("A batch may hold at most {MAX_BATCH_FRAMES} frames"),
            ),
        });
    }
    let mut verified = Vec::with_capacity(batch.frames.len());
    let mut rejected = Vec::new();
    for (index, frame) in batch.frames.iter().enumerate() {
        match verify_frame(frame.get().as_bytes(), &device) {
            Ok(event) => verified.push(event),
            Err(rejection) => {
                state.metrics.rejected(rejection.reason());
                tracing::warn!(
                    device = %device.id,
                    index,
                    bytes = frame.get().len(),
                    reason = rejection.reason(),
                    error = %rejection,
                    "HTTP frame rejected."
                );
                rejected.push(RejectedFrame {
                    index,
                    error: rejection.to_string(),
                });
            }
        }
    }
    let outcome = store_events(&state, verified).await?;
    let (accepted, duplicates, upto_seq) = match outcome.devices.get(&device.id) {
        Some(d) => (d.inserted, d.duplicates, d.upto_seq),
        None => {
            let row = device::Entity::find_by_id(device.id.as_str())
                .one(&state.db)
                .await
                .db("loading the device's progress")?;
            (
                0,
                0,
                row.map(|r| r.contiguous_seq.max(0) as u64).unwrap_or(0),
            )
        }
    };
    Ok(Json(BatchResult {
        accepted,
        duplicates,
        rejected,
        upto_seq,
    }))
}
