//! The kiosk's HTTP server: the page for the screen at the door (static, embedded), its live
//! feeds (SSE for messages and status, MJPEG for the camera preview), and the local admin API
//! ([`super::api`]) on the same listener.
//!
//! Routes:
//! - `GET /` the page; `GET /kiosk.css`, `GET /kiosk.js` its assets;
//! - `GET /events` Server-Sent Events: `status` (the [`DeviceStatus`], at once and on every
//!   change) and `message` (each [`KioskMessage`] with its Indonesian texts);
//! - `GET /preview.mjpg` the camera preview as `multipart/x-mixed-replace`;
//!   `GET /preview.jpg` the latest preview frame (404 before the first);
//! - `/api/local/*` the installer's API, behind the admin token.

use std::{convert::Infallible, net::SocketAddr, path::Path, time::Duration};

use axum::{
    body::Body,
    extract::State,
    http::{header, StatusCode},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
    routing::get,
    Router,
};
use bytes::Bytes;
use futures::{stream, Stream};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{
    api::{self, LocalApi},
    token::{AdminToken, ConfiguredToken, TokenError, TokenSource},
    DeviceStatus, KioskFeed, KioskMessage, Tone,
};

/// The `[kiosk]` section of the configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct KioskSettings {
    /// Serve the page and the local API at all.
    pub enabled: bool,
    /// Where to listen. Loopback by default: the screen's browser runs on the device. Listen
    /// wider only on a trusted network: the page and the preview need no token.
    pub listen: SocketAddr,
    /// The installer's token for `/api/local`; generated into the data directory when unset.
    pub admin_token: Option<ConfiguredToken>,
    /// The relay test pulse when the request names none, in milliseconds.
    pub relay_test_ms: u32,
    /// No relay test lasts longer than this, whatever the request says.
    pub relay_test_max_ms: u32,
    /// What one client of the page and local API may hold (`[kiosk.http_limits]`).
    pub http_limits: http_serve::Limits,
}

impl Default for KioskSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            admin_token: None,
            relay_test_ms: 500,
            relay_test_max_ms: 2_000,
            // A screen's browser and an installer's laptop, not the internet.
            http_limits: http_serve::Limits {
                max_connections: 256,
                ..http_serve::Limits::default()
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    #[error("kiosk: cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("kiosk: {0}")]
    Token(#[from] TokenError),
}

/// The running kiosk server.
#[derive(Debug)]
pub struct KioskServer {
    /// The address actually bound (differs from the setting for port 0).
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

#[derive(Debug, Clone)]
struct PageState {
    feed: KioskFeed,
}

const INDEX_HTML: &str = include_str!("assets/index.html");
const KIOSK_CSS: &str = include_str!("assets/kiosk.css");
const KIOSK_JS: &str = include_str!("assets/kiosk.js");

/// The MJPEG part boundary.
const BOUNDARY: &str = "gerbang-frame";
/// SSE keep-alive comments, so proxies and the browser notice a dead device.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Binds `settings.listen`, loads (or makes) the admin token and serves until `shutdown`.
pub async fn start(
    settings: &KioskSettings,
    data_dir: &Path,
    feed: KioskFeed,
    local: LocalApi,
    shutdown: CancellationToken,
) -> Result<KioskServer, KioskError> {
    let (token, source) = AdminToken::load(settings.admin_token.as_ref(), data_dir)?;
    match &source {
        TokenSource::Configured => info!("Local admin token taken from the configuration."),
        TokenSource::File { path, created } => {
            info!(path = %path.display(), created, "Local admin token is in this file.")
        }
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| KioskError::Bind {
            addr: settings.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| KioskError::Bind {
        addr: settings.listen,
        source,
    })?;
    let app = router(feed, local, token, settings);
    let limits = settings.http_limits;
    let task = tokio::spawn(async move {
        let served = http_serve::serve(listener, app, limits, shutdown.cancelled_owned()).await;
        if let Err(e) = served {
            warn!(error = %e, "Kiosk server stopped with an error.");
        }
    });
    info!(%addr, "Kiosk page and local API listening.");
    Ok(KioskServer { addr, task })
}

/// The whole kiosk app: page, feeds and local API.
pub fn router(
    feed: KioskFeed,
    local: LocalApi,
    token: AdminToken,
    settings: &KioskSettings,
) -> Router {
    let page = Router::new()
        .route("/", get(index))
        .route("/kiosk.css", get(css))
        .route("/kiosk.js", get(js))
        .route("/events", get(events))
        .route("/preview.mjpg", get(preview_stream))
        .route("/preview.jpg", get(preview_frame))
        .with_state(PageState { feed });
    page.nest(
        "/api/local",
        api::router(
            local,
            token,
            settings.relay_test_ms,
            settings.relay_test_max_ms,
        ),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", KIOSK_CSS)
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", KIOSK_JS)
}

/// A message as the page receives it: the message itself plus the texts to show.
#[derive(Debug, Serialize)]
struct MessageView<'a> {
    #[serde(flatten)]
    message: &'a KioskMessage,
    title: String,
    detail: &'static str,
    tone: Tone,
}

fn message_event(message: &KioskMessage) -> Option<Event> {
    let view = MessageView {
        message,
        title: message.title(),
        detail: message.detail(),
        tone: message.tone(),
    };
    Event::default().event("message").json_data(view).ok()
}

fn status_event(status: &DeviceStatus) -> Option<Event> {
    Event::default().event("status").json_data(status).ok()
}

/// What one screen's SSE stream waits on.
struct Subscription {
    messages: tokio::sync::broadcast::Receiver<KioskMessage>,
    status: tokio::sync::watch::Receiver<DeviceStatus>,
    /// The status is sent first, once, before anything else.
    first: bool,
}

async fn events(
    State(state): State<PageState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let subscription = Subscription {
        messages: state.feed.subscribe(),
        status: state.feed.status(),
        first: true,
    };
    let stream = stream::unfold(subscription, |mut sub| async move {
        loop {
            if sub.first {
                sub.first = false;
                let status = sub.status.borrow_and_update().clone();
                if let Some(event) = status_event(&status) {
                    return Some((Ok(event), sub));
                }
            }
            tokio::select! {
                message = sub.messages.recv() => match message {
                    Ok(message) => {
                        if let Some(event) = message_event(&message) {
                            return Some((Ok(event), sub));
                        }
                    }
                    // A screen that fell behind skips to the newest; nothing to show for the gap.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                },
                changed = sub.status.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                    let status = sub.status.borrow_and_update().clone();
                    if let Some(event) = status_event(&status) {
                        return Some((Ok(event), sub));
                    }
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

fn jpeg_part(jpeg: &Bytes) -> Bytes {
    let head = format!(
        "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        jpeg.len()
    );
    let mut part = Vec::with_capacity(head.len() + jpeg.len() + 2);
    part.extend_from_slice(head.as_bytes());
    part.extend_from_slice(jpeg);
    part.extend_from_slice(b"\r\n");
    Bytes::from(part)
}

/// The preview as MJPEG: the latest frame at once (if any), then every new one. A slow
/// screen gets the newest frame, never a queue of old ones.
async fn preview_stream(State(state): State<PageState>) -> Response {
    let mut preview = state.feed.preview();
    preview.mark_changed();
    let frames = stream::unfold(preview, |mut preview| async move {
        loop {
            preview.changed().await.ok()?;
            let frame = preview.borrow_and_update().clone();
            if let Some(jpeg) = frame {
                return Some((Ok::<_, Infallible>(jpeg_part(&jpeg)), preview));
            }
        }
    });
    (
        [
            (
                header::CONTENT_TYPE,
                format!("multipart/x-mixed-replace; boundary={BOUNDARY}"),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(frames),
    )
        .into_response()
}

async fn preview_frame(State(state): State<PageState>) -> Response {
    let frame = state.feed.preview().borrow().clone();
    match frame {
        Some(jpeg) => (
            [
                (header::CONTENT_TYPE, "image/jpeg"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            jpeg,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "Belum ada gambar dari kamera").into_response(),
    }
}

/// Keeps the kiosk's status bar in step with the door and the cloud link until `shutdown`.
pub async fn mirror_status(
    feed: KioskFeed,
    mut door: tokio::sync::watch::Receiver<crate::door::DoorSnapshot>,
    mut link: tokio::sync::watch::Receiver<crate::sync::SyncStatus>,
    shutdown: CancellationToken,
) {
    loop {
        let snapshot = door.borrow_and_update().clone();
        let online = link.borrow_and_update().mqtt_connected;
        feed.update_status(|status| {
            status.cloud_online = online;
            status.door_locked = snapshot.locked;
            status.door_open = snapshot.door_open;
            status.battery_percent = snapshot.battery_percent;
            status.camera_active = snapshot.camera_active;
        });
        tokio::select! {
            _ = shutdown.cancelled() => return,
            changed = door.changed() => if changed.is_err() { return },
            changed = link.changed() => if changed.is_err() { return },
        }
    }
}
