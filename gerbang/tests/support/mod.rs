//! Shared harness for the end-to-end tests: a cloud that can be stopped and started again
//! on the same database and broker port, real `edge-daemon` processes, and readers for
//! both ends' view of what arrived.

#![allow(dead_code)]

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use cloud_api::{
    testkit::{Backend, BrokerKind, TestDb},
    Cloud, CloudConfig,
};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub const ADMIN_EMAIL: &str = "admin@gerbang.test";
pub const ADMIN_PASSWORD: &str = "rahasia-admin-123";

/// A free loopback port (the listener is closed before the port is used).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The pairs the sync suites run on: SQLite with the embedded broker always, PostgreSQL
/// with Mosquitto where the machine has them.
pub fn matrix() -> Vec<(Backend, BrokerKind)> {
    let mut pairs = vec![(Backend::Sqlite, BrokerKind::Embedded)];
    if let (Some(pg), Some(mosquitto)) = (Backend::postgres(), BrokerKind::mosquitto()) {
        pairs.push((pg, mosquitto));
    }
    pairs
}

/// A cloud whose database, data directory and broker address survive restarts.
pub struct Site {
    pub db: TestDb,
    pub data: tempfile::TempDir,
    pub backend: Backend,
    pub broker: BrokerKind,
    pub mqtt_port: u16,
    pub http_port: u16,
    running: Option<(Cloud, CancellationToken)>,
}

impl Site {
    pub async fn new(backend: Backend, broker: BrokerKind) -> Site {
        cloud_api::testkit::init_tracing();
        let db = TestDb::create(&backend).await;
        let mut site = Site {
            db,
            data: tempfile::tempdir().unwrap(),
            backend,
            broker,
            mqtt_port: free_port(),
            http_port: free_port(),
            running: None,
        };
        site.start().await;
        site
    }

    pub fn config(&self) -> CloudConfig {
        let mut config = CloudConfig {
            data_dir: self.data.path().join("cloud"),
            http_addr: format!("127.0.0.1:{}", self.http_port).parse().unwrap(),
            database_url: Some(self.db.url.clone()),
            admin_email: Some(ADMIN_EMAIL.into()),
            admin_password: Some(ADMIN_PASSWORD.into()),
            command_timeout_secs: 5,
            ..CloudConfig::default()
        };
        config.mqtt.addr = format!("127.0.0.1:{}", self.mqtt_port).parse().unwrap();
        if let BrokerKind::Mosquitto { addr } = &self.broker {
            config.mqtt.url = Some(format!("mqtt://{addr}"));
            config.mqtt.share_group = format!("gerbang-t-{}", uuid::Uuid::new_v4().simple());
        }
        config
    }

    pub async fn start(&mut self) {
        assert!(self.running.is_none(), "cloud already running");
        let shutdown = CancellationToken::new();
        // The ports were free a moment ago; after a stop they may linger briefly.
        let mut attempt = 0;
        let cloud = loop {
            let starting = cloud_api::start(self.config(), shutdown.clone());
            match within(Duration::from_secs(60), "the cloud starting", starting).await {
                Ok(cloud) => break cloud,
                Err(e) if attempt < 20 => {
                    attempt += 1;
                    eprintln!("cloud start retry {attempt}: {e}");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => panic!("cloud does not start: {e}"),
            }
        };
        self.running = Some((cloud, shutdown));
    }

    pub async fn stop(&mut self) {
        if let Some((cloud, shutdown)) = self.running.take() {
            shutdown.cancel();
            within(
                Duration::from_secs(60),
                "the cloud stopping",
                cloud.stopped(),
            )
            .await;
        }
    }

    pub fn cloud(&self) -> &Cloud {
        &self.running.as_ref().expect("cloud running").0
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    pub fn mqtt_url(&self) -> String {
        match &self.broker {
            BrokerKind::Embedded => format!("mqtt://127.0.0.1:{}", self.mqtt_port),
            BrokerKind::Mosquitto { addr } => format!("mqtt://{addr}"),
        }
    }

    /// A fresh one-time code for `device` in a site unique to this test.
    pub async fn code_for(&self, site: &protocol::SiteId, device: &str) -> String {
        let device = protocol::DeviceId::parse(device).unwrap();
        self.cloud()
            .create_device(site, &device, "Pintu uji")
            .await
            .unwrap()
            .code
    }
}

/// An admin session against a cloud's HTTP API.
pub struct Admin {
    pub http: reqwest::Client,
    pub token: String,
    base: String,
}

impl Admin {
    pub async fn login(site: &Site) -> Admin {
        Admin::login_at(&site.url(""))
            .await
            .expect("the admin can log in")
    }

    /// Logs in at `base` (`http://host:port`); `None` while the cloud is not answering.
    pub async fn login_at(base: &str) -> Option<Admin> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .ok()?;
        let body: Value = http
            .post(format!("{base}/api/auth/login"))
            .json(&serde_json::json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let token = body["accessToken"].as_str()?.to_owned();
        Some(Admin {
            http,
            token,
            base: base.to_owned(),
        })
    }

    /// Every device from `GET /api/devices`.
    pub async fn devices(&self) -> Option<Vec<Value>> {
        let response = self
            .http
            .get(format!("{}/api/devices", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .ok()?;
        let body: Value = response.json().await.ok()?;
        body["devices"].as_array().cloned()
    }

    /// The id of the user with `email`, from `GET /api/users`.
    pub async fn user_id(&self, email: &str) -> Option<String> {
        let body: Value = self
            .http
            .get(format!("{}/api/users", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let users = body["users"].as_array()?;
        let user = users.iter().find(|u| u["email"] == email)?;
        user["id"].as_str().map(str::to_owned)
    }

    /// `DELETE /api/users/{id}`: the person erased; the answer's status.
    pub async fn delete_user(&self, id: &str) -> reqwest::StatusCode {
        self.http
            .delete(format!("{}/api/users/{id}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the cloud answers")
            .status()
    }

    /// The device's row from `GET /api/devices`.
    pub async fn device(&self, _site: &Site, id: &str) -> Option<Value> {
        self.devices().await?.into_iter().find(|d| d["id"] == id)
    }
}

/// The built `edge-daemon` binary next to this test's own executable.
pub fn edge_daemon_bin() -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let bin = dir.join("edge-daemon");
    assert!(
        bin.exists(),
        "{} is missing: build the workspace (cargo xtask test does)",
        bin.display()
    );
    bin
}

/// Runs `edge-daemon enroll` as an installer would.
pub fn enroll_process(data_dir: &Path, cloud_url: &str, code: &str) {
    let out = Command::new(edge_daemon_bin())
        .args(["enroll", "--cloud", cloud_url, "--code", code])
        .env("GERBANG_DATA_DIR", data_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "enroll failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts an `edge-daemon` process with extra `GERBANG_*` settings.
pub fn spawn_edge(data_dir: &Path, env: &[(&str, String)]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join("daemon.log"))
        .unwrap();
    let mut command = Command::new(edge_daemon_bin());
    command
        .arg("run")
        .env("GERBANG_DATA_DIR", data_dir)
        .env("GERBANG_KIOSK__LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn,edge_daemon=info")
        .stdout(Stdio::null())
        .stderr(log);
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().unwrap()
}

pub fn kill9(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A child process killed (SIGKILL) however the test ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        kill9(&mut self.0);
    }
}

/// Starts `spawn`'s process twenty times on the door store in `door_dir`, killing each with
/// SIGKILL after a random 100–1,500 ms, counted for even rounds from the start (so the kill
/// lands during start-up) and for odd rounds from when the door has written events again
/// since that start (so it lands while events flow, however long a loaded machine takes to
/// get there). Returns the door's outbox afterwards: (last seq written, rows unsynced).
pub async fn kill_twenty_times(door_dir: &Path, mut spawn: impl FnMut() -> Child) -> (u64, u64) {
    use rand::Rng;
    let written = || try_device_outbox(door_dir).map_or(0, |(written, _)| written);
    for round in 0..20 {
        let before = written();
        let mut process = Killed(spawn());
        if round % 2 == 1 {
            eventually(Duration::from_secs(60), "the door writes events", || {
                if let Ok(Some(status)) = process.0.try_wait() {
                    panic!("round {round}: the process ended ({status}) before the door wrote");
                }
                std::future::ready((written() > before).then_some(()))
            })
            .await;
        }
        let alive = rand::thread_rng().gen_range(100..1500);
        tokio::time::sleep(Duration::from_millis(alive)).await;
        drop(process);
    }
    device_outbox(door_dir)
}

/// The all-in-one demo, `gerbang` with its face visitors, on free ports with `data` as its
/// data directory and the test admin, logging to `log`, with `settings` (`GERBANG_*`) on
/// top; no exit-button traffic (the tests watch the face visitors). Stopped however the test
/// ends. Returns it and its base URL.
pub fn spawn_demo(data: &Path, log: std::fs::File, settings: &[(&str, &str)]) -> (Running, String) {
    let (http, mqtt) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_gerbang"))
        .env("GERBANG_DATA_DIR", data)
        .env("GERBANG_HTTP_ADDR", format!("127.0.0.1:{http}"))
        .env("GERBANG_KIOSK__LISTEN", "127.0.0.1:0")
        .env("GERBANG_MQTT_ADDR", format!("127.0.0.1:{mqtt}"))
        .env("GERBANG_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("GERBANG_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("GERBANG_SIM__TRAFFIC", "false")
        .env("RUST_LOG", "warn")
        .envs(settings.iter().copied())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start gerbang");
    (Running(child), format!("http://127.0.0.1:{http}"))
}

/// A child process stopped (SIGTERM) however the test ends.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        terminate(&mut self.0);
    }
}

/// Sends SIGTERM and waits for a clean exit.
pub fn terminate(child: &mut Child) {
    #[allow(unsafe_code)]
    // SAFETY: kill(2) with a pid we spawned and own; no memory is touched.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let _ = child.wait();
}

/// What the device's own store says: (last seq written, rows still unsynced).
pub fn device_outbox(data_dir: &Path) -> (u64, u64) {
    read_outbox(data_dir)
        .unwrap_or_else(|e| panic!("the device's store in {}: {e}", data_dir.display()))
}

/// Like [`device_outbox`], `None` while the daemon has not created its store yet (or was
/// killed half-way through creating it).
pub fn try_device_outbox(data_dir: &Path) -> Option<(u64, u64)> {
    read_outbox(data_dir).ok()
}

fn read_outbox(data_dir: &Path) -> rusqlite::Result<(u64, u64)> {
    let conn = rusqlite::Connection::open_with_flags(
        data_dir.join("edge.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let next: i64 = conn.query_row("SELECT value FROM meta WHERE key = 'next_seq'", [], |r| {
        r.get(0)
    })?;
    let pending: i64 = conn.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
    Ok((next as u64 - 1, pending as u64))
}

/// `future`'s output, or a panic naming `what` once `limit` has passed: a step that hangs
/// fails its test, named, instead of holding the suite.
pub async fn within<T>(
    limit: Duration,
    what: &str,
    future: impl std::future::Future<Output = T>,
) -> T {
    match tokio::time::timeout(limit, future).await {
        Ok(value) => value,
        Err(_) => panic!("{what} did not finish within {limit:?}"),
    }
}

/// Polls `check` every 100 ms until it returns `Some`, or panics after `limit` with `what`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the cloud holds every event the device ever wrote, exactly once, and the
/// device's outbox is empty; returns the final seq.
pub async fn assert_fully_synced(
    site: &Site,
    admin: &Admin,
    device: &str,
    data_dir: &Path,
    limit: Duration,
) -> u64 {
    let last = eventually(limit, "device drained and cloud complete", || async {
        let (last_seq, pending) = try_device_outbox(data_dir)?;
        let row = admin.device(site, device).await?;
        let stored = row["events_stored"].as_u64()?;
        let cloud_last = row["last_seq"].as_u64()?;
        (pending == 0 && stored == last_seq && cloud_last == last_seq && row["missing_seqs"] == 0)
            .then_some(last_seq)
    })
    .await;
    let (count, distinct, max) = cloud_seq_stats(site, device).await;
    assert_eq!(
        (count, distinct, max),
        (last, last, last),
        "each seq exactly once in the cloud's events table"
    );
    last
}

/// `(COUNT(*), COUNT(DISTINCT seq), MAX(seq))` of a device's stored events, straight from SQL.
pub async fn cloud_seq_stats(site: &Site, device: &str) -> (u64, u64, u64) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = site.cloud().database();
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => "SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS d, COALESCE(MAX(seq), 0) AS m FROM events WHERE device_id = $1",
        _ => "SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS d, COALESCE(MAX(seq), 0) AS m FROM events WHERE device_id = ?",
    };
    let row = db
        .query_one(Statement::from_sql_and_values(
            backend,
            sql,
            [device.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    let get = |col: &str| -> u64 { row.try_get::<i64>("", col).unwrap() as u64 };
    (get("n"), get("d"), get("m"))
}

/// The first verdict that `wanted` accepts within `limit`; fails naming every verdict seen.
pub async fn first_verdict(
    verdicts: &mut tokio::sync::broadcast::Receiver<edge_daemon::vision::Verdict>,
    what: &str,
    limit: Duration,
    wanted: impl Fn(&edge_daemon::vision::Verdict) -> bool,
) -> edge_daemon::vision::Verdict {
    let deadline = tokio::time::Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, verdicts.recv()).await {
            Ok(Ok(v)) if wanted(&v) => return v,
            Ok(Ok(v)) => seen.push(format!("{:?}/{:?}", v.result, v.reason)),
            Ok(Err(e)) => panic!("verdicts: {e}"),
            Err(_) => panic!("no {what} within {limit:?}; saw {seen:?}"),
        }
    }
}

/// Shows `frames` in turn, one every 150 ms, until the returned token is cancelled.
pub fn show_in_turn(camera: &hal::sim::SimCamera, frames: Vec<hal::RgbImage>) -> CancellationToken {
    let stop = CancellationToken::new();
    let (camera, token) = (camera.clone(), stop.clone());
    tokio::spawn(async move {
        for frame in frames.iter().cycle() {
            camera.show(frame.clone());
            tokio::select! {
                _ = token.cancelled() => break,
                _ = tokio::time::sleep(Duration::from_millis(150)) => {}
            }
        }
    });
    stop
}

/// An in-process door with the camera loop and no simulated traffic, talking to the cloud
/// at `http` and `mqtt` (`host:port`), its data in `dir`.
pub fn vision_door_config(dir: &Path, http: &str, mqtt: &str) -> edge_daemon::config::EdgeConfig {
    let mut config = edge_daemon::config::EdgeConfig::default();
    config.data_dir = dir.to_owned();
    config.cloud.mqtt_url = Some(format!("mqtt://{mqtt}"));
    config.cloud.url = Some(format!("http://{http}"));
    config.sim.traffic = false;
    config.kiosk.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    config.vision.enabled = true;
    // A debug build on a shared 2-core machine analyses about a frame a second, so the
    // production 2 s voting window would expire frames before three agree (as in
    // edge-daemon's vision tests); these tests are about decisions, not speed.
    config.vision.window_ms = 15_000;
    config.vision.presence.hold_ms = 15_000;
    config
}

/// Starts the daemon in this process on simulated hardware; its camera (to show faces to)
/// and the token that stops it.
pub async fn start_sim_door(
    config: &edge_daemon::config::EdgeConfig,
) -> (
    edge_daemon::daemon::Running,
    hal::sim::SimCamera,
    CancellationToken,
) {
    let (hardware, world) = edge_daemon::sim::hardware();
    let camera = world.camera.clone();
    let shutdown = CancellationToken::new();
    let running = edge_daemon::daemon::start(config, hardware, Some(world), shutdown.clone())
        .await
        .expect("the door starts");
    (running, camera, shutdown)
}

/// A door with the camera loop, in this process: enrolled as `door-1` of a site named
/// after `name`, Obama and Biden enrolled through the cloud as the demo does, their gallery
/// pulled. Its data is in `dir`; the cast of photos comes with it.
pub struct FaceDoor {
    pub running: edge_daemon::daemon::Running,
    pub vision: edge_daemon::commands::Vision,
    pub camera: hal::sim::SimCamera,
    pub shutdown: CancellationToken,
    pub cast: gerbang::visitors::Cast,
}

pub async fn face_door(site: &Site, dir: &Path, name: &str) -> FaceDoor {
    let code = site
        .code_for(&cloud_api::testkit::unique_site(name), "door-1")
        .await;
    edge_daemon::enroll::enroll(&site.url(""), &code, dir, None, false)
        .await
        .unwrap();
    let photos = gerbang::visitors::testdata_dir();
    gerbang::visitors::enrol(&site.url(""), ADMIN_EMAIL, ADMIN_PASSWORD, &photos)
        .await
        .unwrap();
    let config = vision_door_config(
        dir,
        site.url("").trim_start_matches("http://"),
        site.mqtt_url().trim_start_matches("mqtt://"),
    );
    let (running, camera, shutdown) = start_sim_door(&config).await;
    let vision = running.vision.clone().expect("the camera loop runs");
    eventually(Duration::from_secs(60), "the gallery pulled", || async {
        (vision.gallery.shared.current().people() == 2).then_some(())
    })
    .await;
    FaceDoor {
        running,
        vision,
        camera,
        shutdown,
        cast: gerbang::visitors::Cast::load(&photos).unwrap(),
    }
}
