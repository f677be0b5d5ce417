//! The local API for installers, under `/api/local`, every route behind the admin token
//! (`Authorization: Bearer <token>`, see [`super::token`]).
//!
//! - `GET /health`: firmware, door, cloud link, camera;
//! - `POST /relay-test?ms=N`: a short unlock pulse through the door task (capped), answered
//!   once the door has locked again;
//! - `GET /snapshot`: one camera frame as JPEG;
//! - `GET /battery`: one battery reading;
//! - `GET /metrics`: the daemon's counters ([`crate::metrics`]) in the Prometheus text format.
//!
//! Errors are JSON `{"message": …}` in Indonesian, like the cloud API's.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Query, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use hal::{Battery, Camera};
use protocol::{AccessMethod, DoorMode};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::{token::AdminToken, DeviceStatus, KioskFeed};
use crate::{
    door::{DoorError, DoorHandle, DoorSnapshot},
    metrics::Metrics,
};

/// A camera gets this long to deliver a frame for a snapshot.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(5);
/// After a relay test pulse, the door gets this much longer than the pulse to relock.
const RELOCK_GRACE: Duration = Duration::from_secs(3);
/// JPEG quality of snapshots.
const JPEG_QUALITY: u8 = 85;

/// What the local API reaches into.
#[derive(Debug, Clone)]
pub struct LocalApi {
    pub door: DoorHandle,
    pub battery: Arc<dyn Battery>,
    /// `None` when the device has no camera configured.
    pub camera: Option<Arc<dyn Camera>>,
    pub feed: KioskFeed,
    /// The counters `GET /metrics` shows.
    pub metrics: Arc<Metrics>,
}

#[derive(Debug, Clone)]
struct ApiState {
    api: LocalApi,
    token: Arc<AdminToken>,
    relay_test_ms: u32,
    relay_test_max_ms: u32,
}

/// Everything that can go wrong in the local API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Token admin lokal salah atau tidak ada")]
    Unauthorized,
    #[error("{0}")]
    Conflict(&'static str),
    #[error("{0}")]
    Unavailable(String),
    #[error("door: {0}")]
    Door(#[from] DoorError),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Door(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            // The cause is logged, not sent.
            Self::Door(e) => {
                warn!(error = %e, "Local API: door request failed.");
                "Pintu tidak merespons".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = (status, Json(Message { message })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Message {
    pub message: String,
}

/// The API's routes, to be nested under `/api/local`.
pub fn router(
    api: LocalApi,
    token: AdminToken,
    relay_test_ms: u32,
    relay_test_max_ms: u32,
) -> Router {
    let state = ApiState {
        api,
        token: Arc::new(token),
        relay_test_ms,
        relay_test_max_ms,
    };
    Router::new()
        .route("/health", get(health))
        .route("/relay-test", post(relay_test))
        .route("/snapshot", get(snapshot))
        .route("/battery", get(battery))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token))
        .with_state(state)
}

async fn require_token(
    State(state): State<ApiState>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(token) if state.token.verify(token) => next.run(request).await,
        _ => ApiError::Unauthorized.into_response(),
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub firmware: String,
    pub device: DeviceStatus,
    pub door: DoorSnapshot,
    pub camera_configured: bool,
}

async fn health(State(state): State<ApiState>) -> Json<Health> {
    let door = state.api.door.snapshot().borrow().clone();
    let device = state.api.feed.status().borrow().clone();
    Json(Health {
        status: "ok".into(),
        firmware: crate::FIRMWARE.into(),
        device,
        door,
        camera_configured: state.api.camera.is_some(),
    })
}

async fn metrics(State(state): State<ApiState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        state.api.metrics.render(),
    )
}

#[derive(Debug, Deserialize)]
struct RelayTestQuery {
    ms: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RelayTest {
    /// The pulse actually given, after the cap.
    pub pulse_ms: u32,
    /// Whether the door was locked again before the answer.
    pub relocked: bool,
    pub message: String,
}

async fn relay_test(
    State(state): State<ApiState>,
    Query(query): Query<RelayTestQuery>,
) -> Result<Json<RelayTest>, ApiError> {
    let mut snapshot = state.api.door.snapshot();
    if snapshot.borrow().mode != DoorMode::Normal {
        return Err(ApiError::Conflict(
            "Pintu tidak dalam mode normal; uji relai tidak dijalankan",
        ));
    }
    let pulse_ms = query
        .ms
        .unwrap_or(state.relay_test_ms)
        .clamp(1, state.relay_test_max_ms.max(1));
    let pulse = Duration::from_millis(u64::from(pulse_ms));
    info!(pulse_ms, "Local API: relay test.");
    state
        .api
        .door
        .unlock(pulse, AccessMethod::Local, None)
        .await?;
    let relocked = tokio::time::timeout(pulse + RELOCK_GRACE, snapshot.wait_for(|s| s.locked))
        .await
        .is_ok_and(|seen| seen.is_ok());
    let message = if relocked {
        "Relai dibuka sebentar lalu dikunci kembali"
    } else {
        "Relai dibuka, tetapi pintu belum terkunci kembali"
    };
    Ok(Json(RelayTest {
        pulse_ms,
        relocked,
        message: message.into(),
    }))
}

async fn snapshot(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let camera = state
        .api
        .camera
        .clone()
        .ok_or_else(|| ApiError::Unavailable("Kamera tidak dikonfigurasi".into()))?;
    let capture = tokio::task::spawn_blocking(move || {
        let frame = camera.capture()?;
        encode_jpeg(&frame.image)
    });
    let jpeg = match tokio::time::timeout(SNAPSHOT_TIMEOUT, capture).await {
        Err(_) => return Err(ApiError::Unavailable("Kamera tidak mengirim gambar".into())),
        Ok(Err(join)) => return Err(ApiError::Unavailable(format!("Kamera gagal: {join}"))),
        Ok(Ok(Err(e))) => return Err(ApiError::Unavailable(format!("Kamera gagal: {e}"))),
        Ok(Ok(Ok(jpeg))) => jpeg,
    };
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        jpeg,
    )
        .into_response())
}

/// Encodes an RGB frame as JPEG.
pub fn encode_jpeg(image: &hal::RgbImage) -> Result<Vec<u8>, hal::HalError> {
    let mut out = Vec::with_capacity(64 * 1024);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(image)
        .map_err(|e| hal::HalError::Camera(format!("JPEG encoding: {e}")))?;
    Ok(out)
}

#[derive(Debug, Serialize, Deserialize)]
pub struct BatteryView {
    pub millivolts: Option<u32>,
    pub percent: Option<u8>,
    pub charging: bool,
}

async fn battery(State(state): State<ApiState>) -> Result<Json<BatteryView>, ApiError> {
    let battery = state.api.battery.clone();
    let reading = tokio::task::spawn_blocking(move || battery.read())
        .await
        .map_err(|e| ApiError::Unavailable(format!("Baterai gagal dibaca: {e}")))?
        .map_err(|e| ApiError::Unavailable(format!("Baterai gagal dibaca: {e}")))?;
    Ok(Json(BatteryView {
        millivolts: reading.millivolts,
        percent: reading.percent,
        charging: reading.charging,
    }))
}
