//! The kiosk page and the local admin API over real HTTP on port 0, on a real door task with
//! simulated hardware and a real SQLite outbox: the token guards the API, the relay test moves
//! the relay and the door locks again, snapshots are real JPEGs, SSE and MJPEG deliver what is
//! published into the feed.

use std::{path::PathBuf, sync::Arc, time::Duration};

use edge_daemon::{
    config::EdgeConfig,
    door::{self, DoorHardware},
    kiosk::{
        api::{BatteryView, Health, LocalApi, RelayTest},
        server, KioskFeed, KioskMessage, KioskSettings,
    },
    metrics::Metrics,
    store::{Boot, Durability, Outbox, Signer, Store, StoreOptions},
};
use hal::sim::{SimBattery, SimBatteryConfig, SimCamera, SimCameraConfig, SimDoor, SimRelay};
use protocol::{DenyReason, DeviceId, Keypair};
use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "installer-test-token-0123456789";

struct Rig {
    base: String,
    relay: SimRelay,
    camera: SimCamera,
    feed: KioskFeed,
    metrics: Arc<Metrics>,
    http: reqwest::Client,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn rig(with_camera: bool) -> Rig {
    rig_with(with_camera, http_serve::Limits::default()).await
}

async fn rig_with(with_camera: bool, http_limits: http_serve::Limits) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &dir.path().join("edge.db"),
        Signer {
            device: DeviceId::parse("door-1").unwrap(),
            key: Keypair::generate(),
        },
        Boot::now(),
        Arc::new(hal::SystemClock {
            assume_synced: true,
        }),
        StoreOptions {
            max_unsynced: 10_000,
            durability: Durability::Normal,
        },
    )
    .unwrap();
    let outbox = Outbox::new(store);
    let relay = SimRelay::new(true);
    let battery = SimBattery::new(SimBatteryConfig {
        on_mains: false,
        initial_percent: 64.0,
        ..Default::default()
    });
    let shutdown = CancellationToken::new();
    let (door, _task) = door::start(
        DoorHardware {
            relay: Arc::new(relay.clone()),
            contact: Arc::new(SimDoor::new(false)),
            battery: Arc::new(battery.clone()),
        },
        outbox,
        EdgeConfig::default().door,
        shutdown.clone(),
    )
    .await
    .unwrap();
    let camera = SimCamera::new(SimCameraConfig {
        fps: 0.0,
        ..Default::default()
    });
    let feed = KioskFeed::new();
    let settings = KioskSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_token: Some(edge_daemon::kiosk::token::ConfiguredToken(TOKEN.into())),
        relay_test_ms: 100,
        relay_test_max_ms: 300,
        http_limits,
        ..Default::default()
    };
    let metrics = Arc::new(Metrics::default());
    let local = LocalApi {
        door,
        battery: Arc::new(battery),
        camera: with_camera.then(|| Arc::new(camera.clone()) as Arc<dyn hal::Camera>),
        feed: feed.clone(),
        metrics: metrics.clone(),
    };
    let server = server::start(&settings, dir.path(), feed.clone(), local, shutdown.clone())
        .await
        .unwrap();
    Rig {
        base: format!("http://{}", server.addr),
        relay,
        camera,
        feed,
        metrics,
        http: reqwest::Client::new(),
        shutdown,
        _dir: dir,
    }
}

impl Rig {
    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base))
    }

    fn admin_get(&self, path: &str) -> reqwest::RequestBuilder {
        self.get(path).bearer_auth(TOKEN)
    }
}

/// Reads a streaming body until `done` says what was read is enough (or 5 s pass).
async fn read_until(response: &mut reqwest::Response, done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !done(&seen) {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .expect("the stream stalled")
            .unwrap()
            .expect("the stream ended");
        seen.extend_from_slice(&chunk);
    }
    seen
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn the_local_api_wants_the_right_token() {
    let rig = rig(true).await;
    let none = rig.get("/api/local/health").send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = none.json().await.unwrap();
    assert_eq!(body["message"], "Token admin lokal salah atau tidak ada");

    let wrong = rig
        .get("/api/local/health")
        .bearer_auth("installer-test-token-0123456780")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    // Not a bearer token at all.
    let basic = rig
        .get("/api/local/battery")
        .header("authorization", format!("Basic {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    // The relay must not move for a refused request.
    let before = rig.relay.history().len();
    let refused = rig
        .http
        .post(format!("{}/api/local/relay-test", rig.base))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(rig.relay.history().len(), before);

    let ok = rig.admin_get("/api/local/health").send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let health: Health = ok.json().await.unwrap();
    assert_eq!(health.status, "ok");
    assert!(health.door.locked);
    assert!(health.camera_configured);
}

#[tokio::test]
async fn relay_test_pulses_the_relay_and_the_door_locks_again() {
    let rig = rig(true).await;
    rig.relay.clear_history();
    let response = rig
        .http
        .post(format!("{}/api/local/relay-test?ms=150", rig.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let test: RelayTest = response.json().await.unwrap();
    assert_eq!(test.pulse_ms, 150);
    assert!(test.relocked, "{test:?}");
    // The door may re-assert "locked" at any time; what matters is a release followed by
    // a lock again, at least the pulse apart.
    let history = rig.relay.history();
    let states: Vec<bool> = history.iter().map(|s| s.locked).collect();
    let released = states
        .iter()
        .position(|locked| !locked)
        .unwrap_or_else(|| panic!("the lock never released: {states:?}"));
    let relocked = released
        + states[released..]
            .iter()
            .position(|locked| *locked)
            .unwrap_or_else(|| panic!("the lock never engaged again: {states:?}"));
    let held = history[relocked].at - history[released].at;
    assert!(
        held >= Duration::from_millis(150),
        "released for only {held:?}"
    );
    use hal::Relay;
    assert!(rig.relay.is_locked());
}

#[tokio::test]
async fn relay_test_pulses_are_capped() {
    let rig = rig(false).await;
    let test: RelayTest = rig
        .http
        .post(format!("{}/api/local/relay-test?ms=60000", rig.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(test.pulse_ms, 300);
    assert!(test.relocked);
    // Garbage in the query is a client error, and moves nothing.
    let before = rig.relay.history().len();
    let bad = rig
        .http
        .post(format!("{}/api/local/relay-test?ms=lots", rig.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(rig.relay.history().len(), before);
}

fn testdata(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models/testdata")
        .join(relative)
}

#[tokio::test]
async fn snapshot_is_a_real_jpeg_of_what_the_camera_sees() {
    let rig = rig(true).await;
    let photo = image::open(testdata("people/obama/obama.jpg"))
        .unwrap()
        .to_rgb8();
    rig.camera.show(photo.clone());
    let response = rig.admin_get("/api/local/snapshot").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    let bytes = response.bytes().await.unwrap();
    let decoded = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
        .unwrap()
        .to_rgb8();
    assert_eq!(decoded.dimensions(), photo.dimensions());
    // Lossy, but the same picture: mean absolute difference of a few levels at most.
    let diff: u64 = decoded
        .as_raw()
        .iter()
        .zip(photo.as_raw())
        .map(|(a, b)| u64::from(a.abs_diff(*b)))
        .sum();
    let mean = diff as f64 / photo.as_raw().len() as f64;
    assert!(mean < 8.0, "mean difference {mean}");

    rig.camera.set_fault(Some("sensor unplugged".into()));
    let failed = rig.admin_get("/api/local/snapshot").send().await.unwrap();
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn snapshot_without_a_camera_says_so() {
    let rig = rig(false).await;
    let response = rig.admin_get("/api/local/snapshot").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Kamera tidak dikonfigurasi");
}

#[tokio::test]
async fn metrics_are_prometheus_text_behind_the_token() {
    let rig = rig(true).await;
    rig.metrics.frame_corrupt();
    let refused = rig
        .get("/api/local/metrics")
        .send()
        .await
        .expect("an answer");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let ok = rig
        .admin_get("/api/local/metrics")
        .send()
        .await
        .expect("an answer");
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(ok.headers()["content-type"]
        .to_str()
        .expect("a text header")
        .starts_with("text/plain"));
    let text = ok.text().await.expect("a text body");
    assert!(
        text.contains("\ngerbang_edge_frames_corrupt_total 1\n"),
        "{text}"
    );
    assert!(
        text.contains("\ngerbang_edge_frames_captured_total 0\n"),
        "{text}"
    );
}

#[tokio::test]
async fn battery_reading_comes_from_the_battery() {
    let rig = rig(false).await;
    let reading: BatteryView = rig
        .admin_get("/api/local/battery")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!reading.charging);
    let mv = reading
        .millivolts
        .expect("the sim battery reports a voltage");
    let expected = hal::millivolts_from_percent(64.0, 1);
    assert!(
        mv.abs_diff(expected) < 150,
        "{mv} mV, expected about {expected}"
    );
}

#[tokio::test]
async fn sse_delivers_the_status_and_then_published_messages() {
    let rig = rig(false).await;
    let mut events = rig.get("/events").send().await.unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    assert!(events.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let first = read_until(&mut events, |seen| contains(seen, "\n\n")).await;
    assert!(
        contains(&first, "event: status"),
        "{}",
        String::from_utf8_lossy(&first)
    );
    assert!(contains(&first, "\"door_locked\":true"));

    rig.feed.publish(KioskMessage::Denied {
        reason: DenyReason::UnknownFace,
    });
    rig.feed.publish(KioskMessage::Granted {
        name: "Sari Dewi".into(),
    });
    let seen = read_until(&mut events, |seen| contains(seen, "Silakan masuk")).await;
    let text = String::from_utf8_lossy(&seen);
    assert!(text.contains("event: message"), "{text}");
    assert!(text.contains("\"title\":\"Akses ditolak\""), "{text}");
    assert!(
        text.contains("\"detail\":\"Wajah tidak dikenali\""),
        "{text}"
    );
    assert!(text.contains("\"tone\":\"failure\""), "{text}");
    assert!(text.contains("\"title\":\"Sari Dewi\""), "{text}");
    assert!(text.contains("\"kind\":\"granted\""), "{text}");

    rig.feed.update_status(|s| s.cloud_online = true);
    let seen = read_until(&mut events, |seen| contains(seen, "\"cloud_online\":true")).await;
    assert!(contains(&seen, "event: status"));
}

#[tokio::test]
async fn preview_streams_the_latest_jpeg_as_mjpeg() {
    let rig = rig(false).await;
    let missing = rig.get("/preview.jpg").send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let photo = image::open(testdata("people/biden/biden.jpg"))
        .unwrap()
        .to_rgb8();
    let jpeg = edge_daemon::kiosk::api::encode_jpeg(&photo).unwrap();
    rig.feed.set_preview(jpeg.clone().into());
    let mut stream = rig.get("/preview.mjpg").send().await.unwrap();
    assert!(stream.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("multipart/x-mixed-replace; boundary="));
    // The part's headers, a blank line, then the JPEG itself, whole.
    let body_start = |seen: &[u8]| {
        seen.windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|p| p + 4)
    };
    let part = read_until(&mut stream, |seen| {
        body_start(seen).is_some_and(|start| seen.len() >= start + jpeg.len())
    })
    .await;
    assert!(contains(&part, "Content-Type: image/jpeg"));
    assert!(contains(&part, &format!("Content-Length: {}", jpeg.len())));
    let start = body_start(&part).unwrap();
    assert_eq!(&part[start..start + jpeg.len()], jpeg.as_slice());

    // A new frame follows on the same connection.
    rig.feed
        .set_preview(bytes_of(b"\xff\xd8second-frame\xff\xd9"));
    let more = read_until(&mut stream, |seen| contains(seen, "second-frame")).await;
    assert!(contains(&more, "--gerbang-frame"));

    let single = rig.get("/preview.jpg").send().await.unwrap();
    assert_eq!(single.status(), StatusCode::OK);
    assert_eq!(
        &single.bytes().await.unwrap()[..],
        b"\xff\xd8second-frame\xff\xd9"
    );
}

fn bytes_of(data: &'static [u8]) -> bytes::Bytes {
    bytes::Bytes::from_static(data)
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_without_a_token() {
    let rig = rig(false).await;
    let page = rig.get("/").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("<html lang=\"id\">"));
    assert!(html.contains("aria-live=\"assertive\""));
    assert!(html.contains("/preview.mjpg"));
    for (path, kind) in [("/kiosk.js", "text/javascript"), ("/kiosk.css", "text/css")] {
        let asset = rig.get(path).send().await.unwrap();
        assert_eq!(asset.status(), StatusCode::OK, "{path}");
        assert!(asset.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(kind));
    }
}

/// A screen on a shared network must not be held by clients that never finish a request.
#[tokio::test]
async fn stalled_clients_are_closed_while_the_page_is_served() {
    let limits = http_serve::Limits {
        header_timeout_secs: 1,
        ..http_serve::Limits::default()
    };
    let rig = rig_with(false, limits).await;
    let addr = rig.base.trim_start_matches("http://").to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let stalled = tokio::spawn(async move {
        http_serve::probe::held_open(&addr, 200, deadline)
            .await
            .unwrap()
    });
    let page = rig.get("/").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        stalled.await.unwrap(),
        0,
        "stalled connections were held open"
    );
}
