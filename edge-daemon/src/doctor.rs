//! `edge-daemon doctor`: checks everything a door needs before it can work — disk,
//! credentials, clock, the cloud, the broker, the face models (when the camera loop is on)
//! and (on a Pi) the hardware devices — and says what to fix for each thing that fails.
//!
//! Every check is independent and bounded in time, so one dead link never hides the rest.

use std::{
    fs::{self, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event as MqttEvent, MqttOptions, Packet,
    TlsConfiguration, Transport,
};
use serde::Serialize;

use models::{manifest::Manifest, BackendKind, FaceEngine, ModelError};

use crate::{
    config::EdgeConfig, hardware::HalBackend, identity::Identity, transport, vision::VisionSettings,
};

/// How long a network check may take.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(10);
/// Free space below this fails the disk check: the outbox needs room to keep working offline.
pub const MIN_FREE_BYTES: u64 = 200 * 1024 * 1024;

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// What to do about it, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn pass(name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            name,
            ok: true,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name,
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Every check, in the order they ran.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl Report {
    fn new(checks: Vec<Check>) -> Self {
        Self {
            ok: checks.iter().all(|c| c.ok),
            checks,
        }
    }

    /// One line per check, `✓`/`✗`, with the fix under each failure.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for check in &self.checks {
            let mark = if check.ok { '✓' } else { '✗' };
            out.push_str(&format!("{mark} {:<12} {}\n", check.name, check.detail));
            if let Some(fix) = &check.fix {
                out.push_str(&format!("  {:<12} fix: {fix}\n", ""));
            }
        }
        let failed = self.checks.iter().filter(|c| !c.ok).count();
        if failed == 0 {
            out.push_str("All checks passed.\n");
        } else {
            out.push_str(&format!("{failed} check(s) failed.\n"));
        }
        out
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }
}

/// Runs every check for `config`.
pub async fn run(config: &EdgeConfig) -> Report {
    let mut checks = vec![
        check_data_dir(&config.data_dir),
        check_disk(&config.data_dir),
    ];
    let identity = check_credentials(&config.data_dir, &mut checks);
    checks.push(check_clock());
    match &identity {
        Some(identity) => {
            let c = &identity.credentials;
            let cloud_url = config.cloud.url.as_deref().unwrap_or(&c.cloud_url);
            let mqtt_url = config.cloud.mqtt_url.as_deref().unwrap_or(&c.mqtt_url);
            checks.push(check_cloud(cloud_url, config.cloud.ca_file.as_deref()).await);
            checks.push(check_broker(identity, mqtt_url, config.cloud.ca_file.as_deref()).await);
        }
        None => {
            let fix = "enrol first (see the credentials check)";
            checks.push(Check::fail("cloud", "skipped: not enrolled", fix));
            checks.push(Check::fail("broker", "skipped: not enrolled", fix));
        }
    }
    if config.vision.enabled {
        let settings = config.vision.clone();
        match tokio::task::spawn_blocking(move || check_face_models(&settings)).await {
            Ok(found) => checks.extend(found),
            Err(e) => checks.push(Check::fail(
                "models",
                format!("the model check stopped: {e}"),
                "report this as a bug",
            )),
        }
    } else {
        checks.push(Check::pass(
            "models",
            "camera loop off (vision.enabled = false); nothing to check",
        ));
    }
    if config.hal.backend == HalBackend::Rpi {
        checks.push(check_gpio(Path::new("/dev")));
        checks.push(check_device_class(Path::new("/dev"), "i2c", "i2c-", "i2c"));
        checks.push(check_device_class(
            Path::new("/dev"),
            "camera",
            "video",
            "video",
        ));
    } else {
        checks.push(Check::pass(
            "hardware",
            "simulated (hal.backend = \"sim\"); nothing to check",
        ));
    }
    Report::new(checks)
}

/// The data directory exists (or can be made) and this user can write into it.
pub fn check_data_dir(dir: &Path) -> Check {
    const NAME: &str = "data-dir";
    let fix = format!(
        "create it and give it to the daemon's user: `sudo install -d -o gerbang -g gerbang -m 0700 {}`",
        dir.display()
    );
    if let Err(e) = fs::create_dir_all(dir) {
        return Check::fail(NAME, format!("cannot create {}: {e}", dir.display()), fix);
    }
    let probe = dir.join(".doctor-probe");
    let written = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe)
        .and_then(|mut f| {
            f.write_all(b"probe")?;
            f.sync_all()
        });
    let _ = fs::remove_file(&probe);
    match written {
        Ok(()) => Check::pass(NAME, format!("{} is writable", dir.display())),
        Err(e) => Check::fail(NAME, format!("cannot write in {}: {e}", dir.display()), fix),
    }
}

/// Enough free space on the data directory's file system.
pub fn check_disk(dir: &Path) -> Check {
    const NAME: &str = "disk";
    let existing = dir
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    match rustix::fs::statvfs(existing) {
        Ok(stat) => {
            let free = stat.f_bavail.saturating_mul(stat.f_frsize);
            let total = stat.f_blocks.saturating_mul(stat.f_frsize);
            let detail = format!(
                "{} MiB free of {} MiB on {}",
                free / (1024 * 1024),
                total / (1024 * 1024),
                existing.display()
            );
            if free >= MIN_FREE_BYTES {
                Check::pass(NAME, detail)
            } else {
                Check::fail(
                    NAME,
                    detail,
                    format!(
                        "free at least {} MiB (old logs, a bigger SD card); the outbox needs room to work offline",
                        MIN_FREE_BYTES / (1024 * 1024)
                    ),
                )
            }
        }
        Err(e) => Check::fail(
            NAME,
            format!("cannot stat {}: {e}", existing.display()),
            "check that the data directory's file system is mounted",
        ),
    }
}

/// The enrolment files exist, parse, and are readable by their owner only.
pub fn check_credentials(dir: &Path, checks: &mut Vec<Check>) -> Option<Identity> {
    const NAME: &str = "credentials";
    let identity = match Identity::load(dir) {
        Ok(identity) => identity,
        Err(e) => {
            checks.push(Check::fail(
                NAME,
                e.to_string(),
                "get a one-time code from the dashboard, then `sudo -u gerbang edge-daemon --config /etc/gerbang/edge.toml enroll --cloud URL --code CODE`",
            ));
            return None;
        }
    };
    let loose: Vec<PathBuf> = ["credentials.json", "device.key"]
        .iter()
        .map(|f| dir.join(f))
        .filter(|path| !owner_only(path))
        .collect();
    if loose.is_empty() {
        checks.push(Check::pass(
            NAME,
            format!(
                "enrolled as {} of site {}; files are 0600",
                identity.credentials.device, identity.credentials.site
            ),
        ));
    } else {
        let list = loose
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" ");
        checks.push(Check::fail(
            NAME,
            format!(
                "enrolled as {}, but others may read {list}",
                identity.credentials.device
            ),
            format!("`chmod 600 {list}` (and consider re-enrolling: the secrets were exposed)"),
        ));
    }
    Some(identity)
}

fn owner_only(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
}

/// Whether the system clock is synchronised (events stamped before it are marked unsynced).
pub fn check_clock() -> Check {
    const NAME: &str = "clock";
    let fix = "enable time synchronisation (`sudo timedatectl set-ntp true`, systemd-timesyncd or chrony) and allow NTP (UDP 123) out";
    let timedatectl = Command::new("timedatectl")
        .args(["show", "--property=NTPSynchronized", "--value"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "yes");
    let marker = Path::new("/run/systemd/timesync/synchronized").exists();
    match (timedatectl, marker) {
        (Some(true), _) | (_, true) => Check::pass(NAME, "synchronised (NTP)"),
        (Some(false), false) => Check::fail(NAME, "not synchronised (timedatectl)", fix),
        (None, false) => Check::fail(
            NAME,
            "cannot tell: no timedatectl answer and no timesyncd marker",
            fix,
        ),
    }
}

/// `GET {cloud}/health` over the same TLS settings the daemon uses.
pub async fn check_cloud(cloud_url: &str, site_ca: Option<&Path>) -> Check {
    const NAME: &str = "cloud";
    let base = match transport::http_endpoint(cloud_url) {
        Ok(base) => base,
        Err(e) => return Check::fail(NAME, e.to_string(), "fix cloud.url or enrol again"),
    };
    let url = match base.join("health") {
        Ok(url) => url,
        Err(e) => return Check::fail(NAME, e.to_string(), "fix cloud.url or enrol again"),
    };
    let tls = match transport::tls_config(site_ca) {
        Ok(tls) => tls,
        Err(e) => return Check::fail(NAME, e.to_string(), "fix cloud.ca_file"),
    };
    let client = match reqwest::Client::builder()
        .use_preconfigured_tls((*tls).clone())
        .timeout(NETWORK_TIMEOUT)
        .build()
    {
        Ok(client) => client,
        Err(e) => return Check::fail(NAME, e.to_string(), "report this as a bug"),
    };
    match client.get(url.clone()).send().await {
        Ok(response) if response.status().is_success() => {
            Check::pass(NAME, format!("{url} answered {}", response.status()))
        }
        Ok(response) => Check::fail(
            NAME,
            format!("{url} answered {}", response.status()),
            "the cloud is up but unhealthy: check its logs (`journalctl -u cloud-api`)",
        ),
        Err(e) => Check::fail(
            NAME,
            format!("{url}: {}", error_chain(&e)),
            "check DNS, the route and firewall to the cloud (HTTPS out), and for TLS errors the site CA (cloud.ca_file) and the clock",
        ),
    }
}

/// TCP connect to the broker, then an MQTT CONNECT with the device's own credentials.
pub async fn check_broker(identity: &Identity, mqtt_url: &str, site_ca: Option<&Path>) -> Check {
    const NAME: &str = "broker";
    let endpoint = match transport::mqtt_endpoint(mqtt_url) {
        Ok(endpoint) => endpoint,
        Err(e) => return Check::fail(NAME, e.to_string(), "fix cloud.mqtt_url or enrol again"),
    };
    let address = format!("{}:{}", endpoint.host, endpoint.port);
    let tcp_fix =
        "check DNS, the route and the firewall to the broker (MQTT out, usually TCP 8883)";
    match tokio::time::timeout(NETWORK_TIMEOUT, tokio::net::TcpStream::connect(&address)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            return Check::fail(NAME, format!("TCP {address}: {e}"), tcp_fix);
        }
        Err(_) => return Check::fail(NAME, format!("TCP {address}: timed out"), tcp_fix),
    }
    let device = identity.credentials.device.as_str();
    // Its own client id, so the running daemon's session is not taken over.
    let client_id = format!("{device}-doctor-{:08x}", rand::random::<u32>());
    let mut options = MqttOptions::new(client_id, endpoint.host.clone(), endpoint.port);
    options.set_credentials(device, identity.credentials.token.expose());
    options.set_keep_alive(Duration::from_secs(10));
    options.set_clean_session(true);
    if endpoint.tls {
        match transport::tls_config(site_ca) {
            Ok(tls) => {
                options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(tls)));
            }
            Err(e) => return Check::fail(NAME, e.to_string(), "fix cloud.ca_file"),
        }
    }
    let (client, mut eventloop) = AsyncClient::new(options, 10);
    let outcome = tokio::time::timeout(NETWORK_TIMEOUT, async {
        loop {
            match eventloop.poll().await {
                Ok(MqttEvent::Incoming(Packet::ConnAck(ack))) => return Ok(ack.code),
                Ok(_) => {}
                Err(ConnectionError::ConnectionRefused(code)) => return Ok(code),
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await;
    let _ = client.try_disconnect();
    let scheme = if endpoint.tls { "mqtts" } else { "mqtt" };
    match outcome {
        Ok(Ok(ConnectReturnCode::Success)) => Check::pass(
            NAME,
            format!("{scheme}://{address} accepted {device}'s credentials"),
        ),
        Ok(Ok(
            code @ (ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized),
        )) => Check::fail(
            NAME,
            format!("{scheme}://{address} refused the device's credentials ({code:?})"),
            "the device may have been removed or re-enrolled elsewhere: enrol again with a new code (`enroll --force`)",
        ),
        Ok(Ok(code)) => Check::fail(
            NAME,
            format!("{scheme}://{address} refused the connection ({code:?})"),
            "check the broker's logs",
        ),
        Ok(Err(e)) => Check::fail(
            NAME,
            format!("MQTT CONNECT to {scheme}://{address}: {e}"),
            "TCP works but MQTT does not: check TLS (cloud.ca_file, the clock) and that this port is the broker's",
        ),
        Err(_) => Check::fail(
            NAME,
            format!("MQTT CONNECT to {scheme}://{address}: no CONNACK in {NETWORK_TIMEOUT:?}"),
            "check that this port is an MQTT broker (TLS or not as the URL says)",
        ),
    }
}

/// The face models of `[vision]`: the manifest (`models`), every model file against its
/// sha256 (`model-files`), then a real load of the inference runtime and every model
/// (`runtime`). Blocking: loading takes seconds.
pub fn check_face_models(settings: &VisionSettings) -> Vec<Check> {
    let config = settings.engine_config();
    let dir = &config.models_dir;
    let manifest = match Manifest::load(dir) {
        Ok(manifest) => manifest,
        Err(e) => {
            let fix = match e {
                ModelError::Io { .. } => format!(
                    "install the face models (the package's models folder) or point vision.models_dir at the folder holding manifest.toml (now {})",
                    dir.display()
                ),
                _ => "restore manifest.toml from the release (it was edited or is truncated)".to_owned(),
            };
            let skipped = "fix the models check first";
            return vec![
                Check::fail("models", e.to_string(), fix),
                Check::fail("model-files", "skipped: no manifest", skipped),
                Check::fail("runtime", "skipped: no manifest", skipped),
            ];
        }
    };
    let m = &manifest.models;
    let mut specs = vec![("detector", &m.detector), ("embedder", &m.embedder)];
    if config.liveness {
        specs.extend(m.antispoof.as_ref().map(|s| ("antispoof", s)));
        specs.extend(m.liveness.as_ref().map(|s| ("liveness", s)));
    }
    let mut checks = vec![Check::pass(
        "models",
        format!(
            "{}: {} models, embedder {}",
            dir.join("manifest.toml").display(),
            specs.len(),
            m.embedder.file.display()
        ),
    )];
    let bad: Vec<String> = specs
        .iter()
        .filter_map(|(role, spec)| {
            manifest
                .read_model(spec)
                .err()
                .map(|e| format!("{role}: {e}"))
        })
        .collect();
    if !bad.is_empty() {
        checks.push(Check::fail(
            "model-files",
            bad.join("; "),
            "reinstall the models from the release (a missing or damaged file); if you converted them yourself, `scripts/models/convert.py --check` says which differ",
        ));
        checks.push(Check::fail(
            "runtime",
            "skipped: model files are not right",
            "fix the model-files check first",
        ));
        return checks;
    }
    checks.push(Check::pass(
        "model-files",
        format!(
            "{} match their sha256",
            specs
                .iter()
                .map(|(_, spec)| spec.file.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ));
    checks.push(match FaceEngine::load(&config) {
        Ok(engine) if engine.backend() == BackendKind::OnnxRuntime => Check::pass(
            "runtime",
            format!(
                "ONNX Runtime loaded every model ({}-d embeddings)",
                engine.embedding_dim()
            ),
        ),
        // tract works, only slower: worth saying, not a failure.
        Ok(engine) => Check::pass(
            "runtime",
            format!(
                "tract loaded every model ({}-d embeddings); no ONNX Runtime found, which is several times faster: `scripts/models/install-onnxruntime.sh`, then ORT_DYLIB_PATH in the unit's environment",
                engine.embedding_dim()
            ),
        ),
        Err(e) => Check::fail(
            "runtime",
            e.to_string(),
            "point ORT_DYLIB_PATH at a working libonnxruntime.so (`scripts/models/install-onnxruntime.sh`) or unset it to run on tract",
        ),
    });
    checks
}

/// `/dev/gpiomem` (or a gpiochip) can be opened for writing.
pub fn check_gpio(dev: &Path) -> Check {
    const NAME: &str = "gpio";
    let fix = "add the user to the gpio group (`sudo usermod -aG gpio gerbang`); on a Pi OS image /dev/gpiomem belongs to it";
    let gpiomem = dev.join("gpiomem");
    let candidates: Vec<PathBuf> = if gpiomem.exists() {
        vec![gpiomem]
    } else {
        matching(dev, "gpiochip")
    };
    if candidates.is_empty() {
        return Check::fail(
            NAME,
            format!("no {}/gpiomem or gpiochip*", dev.display()),
            "this is not a Raspberry Pi, or its GPIO driver is not loaded; use hal.backend = \"sim\" elsewhere",
        );
    }
    open_all(NAME, &candidates, fix)
}

/// At least one device `dev/{prefix}*` exists and all of them can be opened read-write.
pub fn check_device_class(dev: &Path, name: &'static str, prefix: &str, group: &str) -> Check {
    let found = matching(dev, prefix);
    if found.is_empty() {
        let fix = match name {
            "i2c" => "enable I2C (`sudo raspi-config nonint do_i2c 0`, or `dtparam=i2c_arm=on` in config.txt) and reboot".to_owned(),
            "camera" => "connect the camera; for a CSI camera enable it in config.txt (`camera_auto_detect=1`) and reboot".to_owned(),
            _ => format!("load the {name} driver"),
        };
        return Check::fail(name, format!("no {}/{prefix}* device", dev.display()), fix);
    }
    let fix = format!("add the user to the {group} group (`sudo usermod -aG {group} gerbang`)");
    open_all(name, &found, &fix)
}

fn matching(dev: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dev)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .is_some_and(|name| name.starts_with(prefix))
        })
        .map(|entry| entry.path())
        .collect();
    found.sort();
    found
}

fn open_all(name: &'static str, paths: &[PathBuf], fix: &str) -> Check {
    let denied: Vec<String> = paths
        .iter()
        .filter_map(|path| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .err()
                .map(|e| format!("{}: {e}", path.display()))
        })
        .collect();
    let list = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if denied.is_empty() {
        Check::pass(name, format!("{list} accessible"))
    } else {
        Check::fail(name, denied.join("; "), fix)
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    };

    use super::*;

    fn identity(cloud_url: &str, mqtt_url: &str) -> Identity {
        Identity::for_tests(cloud_url, mqtt_url)
    }

    #[test]
    fn a_writable_data_dir_passes_and_a_read_only_one_fails() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("edge");
        assert!(check_data_dir(&data).ok, "created on demand");
        assert!(
            !data.join(".doctor-probe").exists(),
            "the probe is cleaned up"
        );
        if rustix::process::geteuid().is_root() {
            return; // root writes anywhere; the failing half needs an ordinary user.
        }
        fs::set_permissions(&data, fs::Permissions::from_mode(0o500)).unwrap();
        let check = check_data_dir(&data);
        fs::set_permissions(&data, fs::Permissions::from_mode(0o700)).unwrap();
        assert!(!check.ok);
        assert!(check.fix.unwrap().contains("install -d"));
    }

    #[test]
    fn disk_reports_free_space() {
        let dir = tempfile::tempdir().unwrap();
        let check = check_disk(&dir.path().join("not/yet/made"));
        assert!(check.detail.contains("MiB free"), "{check:?}");
    }

    #[test]
    fn credentials_must_exist_and_be_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut checks = Vec::new();
        assert!(check_credentials(dir.path(), &mut checks).is_none());
        assert!(!checks[0].ok);
        assert!(checks[0].fix.as_ref().unwrap().contains("enroll"));

        identity("https://cloud.example", "mqtts://cloud.example")
            .save(dir.path())
            .unwrap();
        checks.clear();
        assert!(check_credentials(dir.path(), &mut checks).is_some());
        assert!(checks[0].ok, "{checks:?}");

        let key = dir.path().join("device.key");
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        checks.clear();
        assert!(check_credentials(dir.path(), &mut checks).is_some());
        assert!(!checks[0].ok);
        assert!(checks[0].detail.contains("device.key"));
        assert!(checks[0].fix.as_ref().unwrap().contains("chmod 600"));
    }

    /// Answers one HTTP request with `status`.
    async fn http_once(status: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 2048];
            let n = socket.read(&mut buf).await.unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("GET /health "));
            let body = "{\"status\":\"ok\"}";
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
        });
        url
    }

    #[tokio::test]
    async fn cloud_health_is_fetched_from_the_enrolled_url() {
        let url = http_once("200 OK").await;
        let check = check_cloud(&url, None).await;
        assert!(check.ok, "{check:?}");

        let url = http_once("503 Service Unavailable").await;
        let check = check_cloud(&url, None).await;
        assert!(!check.ok);
        assert!(check.detail.contains("503"));

        let check = check_cloud("http://cloud.example", None).await;
        assert!(!check.ok, "plain HTTP off loopback is refused");
    }

    /// A broker that reads one CONNECT and answers with `code`; returns the CONNECT's bytes.
    async fn broker_once(code: u8) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("mqtt://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            // The doctor's bare TCP probe comes first and closes at once.
            let (probe, _) = listener.accept().await.unwrap();
            drop(probe);
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 1024];
            let n = socket.read(&mut buf).await.unwrap();
            buf.truncate(n);
            socket.write_all(&[0x20, 0x02, 0x00, code]).await.unwrap();
            // Hold the connection until the client leaves.
            let _ = socket.read(&mut [0u8; 64]).await;
            buf
        });
        (url, task)
    }

    #[tokio::test]
    async fn broker_accepts_or_refuses_the_device_credentials() {
        let (url, broker) = broker_once(0).await;
        let check = check_broker(&identity("http://127.0.0.1:1", &url), &url, None).await;
        assert!(check.ok, "{check:?}");
        let connect = broker.await.unwrap();
        assert_eq!(connect[0], 0x10, "an MQTT CONNECT");
        let text = String::from_utf8_lossy(&connect);
        assert!(text.contains("door-1-doctor-"), "its own client id: {text}");
        assert!(text.contains("s3cret"), "the device token as password");

        let (url, _broker) = broker_once(4).await;
        let check = check_broker(&identity("http://127.0.0.1:1", &url), &url, None).await;
        assert!(!check.ok);
        assert!(check.fix.unwrap().contains("enrol again"));

        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("mqtt://{}", closed.local_addr().unwrap());
        drop(closed);
        let check = check_broker(&identity("http://127.0.0.1:1", &url), &url, None).await;
        assert!(!check.ok);
        assert!(check.detail.starts_with("TCP "), "{check:?}");
    }

    #[test]
    fn devices_must_exist_and_open() {
        let dev = tempfile::tempdir().unwrap();
        let check = check_device_class(dev.path(), "i2c", "i2c-", "i2c");
        assert!(!check.ok);
        assert!(check.fix.unwrap().contains("raspi-config"));
        assert!(!check_gpio(dev.path()).ok);

        fs::write(dev.path().join("i2c-1"), b"").unwrap();
        fs::write(dev.path().join("gpiomem"), b"").unwrap();
        assert!(check_device_class(dev.path(), "i2c", "i2c-", "i2c").ok);
        assert!(check_gpio(dev.path()).ok);
    }

    /// A models folder: the shipped manifest (edited by `edit`) beside a link to the shipped
    /// ONNX files.
    fn models_dir(edit: impl Fn(String) -> String) -> tempfile::TempDir {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
        let dir = tempfile::tempdir().unwrap();
        let manifest = fs::read_to_string(shipped.join("manifest.toml")).unwrap();
        fs::write(dir.path().join("manifest.toml"), edit(manifest)).unwrap();
        std::os::unix::fs::symlink(shipped.join("onnx"), dir.path().join("onnx")).unwrap();
        dir
    }

    fn vision_at(dir: &Path) -> VisionSettings {
        VisionSettings {
            models_dir: Some(dir.to_owned()),
            ..VisionSettings::default()
        }
    }

    #[test]
    fn face_models_are_checked_file_by_file_and_loaded() {
        let good = models_dir(|m| m);
        let checks = check_face_models(&vision_at(good.path()));
        let names: Vec<_> = checks.iter().map(|c| c.name).collect();
        assert_eq!(names, ["models", "model-files", "runtime"]);
        assert!(checks.iter().all(|c| c.ok), "{checks:?}");
        assert!(checks[1].detail.contains("dlib-resnet.onnx"), "{checks:?}");

        // A damaged file: named with both hashes, and the runtime is not tried.
        let sha = "fd290549aeacf307f461da5332fd32fed1ed449c6268e9fb22973041cdce93c4";
        let damaged = models_dir(|m| m.replace(sha, &"0".repeat(64)));
        let checks = check_face_models(&vision_at(damaged.path()));
        assert!(checks[0].ok);
        assert!(!checks[1].ok);
        assert!(checks[1].detail.contains("detector"), "{checks:?}");
        assert!(checks[1].detail.contains("blazeface-back.onnx"));
        assert!(checks[1].detail.contains(sha), "the actual sha256 is shown");
        assert!(checks[1].fix.as_ref().unwrap().contains("reinstall"));
        assert!(!checks[2].ok && checks[2].detail.starts_with("skipped"));

        // A missing file.
        let missing = models_dir(|m| m.replace("onnx/liveness.onnx", "onnx/gone.onnx"));
        let checks = check_face_models(&vision_at(missing.path()));
        assert!(!checks[1].ok);
        assert!(checks[1].detail.contains("gone.onnx"), "{checks:?}");
    }

    #[test]
    fn no_manifest_says_where_it_looked_and_skips_the_rest() {
        let empty = tempfile::tempdir().unwrap();
        let checks = check_face_models(&vision_at(empty.path()));
        assert_eq!(checks.len(), 3);
        assert!(checks.iter().all(|c| !c.ok));
        assert!(checks[0].detail.contains("manifest.toml"), "{checks:?}");
        assert!(checks[0]
            .fix
            .as_ref()
            .unwrap()
            .contains(&empty.path().display().to_string()));

        let garbled = models_dir(|m| m.replace("[models.embedder]", "[models.embedder"));
        let checks = check_face_models(&vision_at(garbled.path()));
        assert!(!checks[0].ok);
        assert!(checks[0].fix.as_ref().unwrap().contains("restore"));
    }

    #[tokio::test]
    async fn the_report_checks_face_models_only_when_the_camera_loop_is_on() {
        let data = tempfile::tempdir().unwrap();
        let mut config = EdgeConfig::default();
        config.data_dir = data.path().to_owned();
        let report = run(&config).await;
        let models = report.checks.iter().find(|c| c.name == "models").unwrap();
        assert!(models.ok && models.detail.contains("camera loop off"));

        let empty = tempfile::tempdir().unwrap();
        config.vision = VisionSettings {
            enabled: true,
            ..vision_at(empty.path())
        };
        let report = run(&config).await;
        assert!(report.checks.iter().any(|c| c.name == "runtime" && !c.ok));
        assert!(report.to_text().contains("✗ models"));
    }

    #[test]
    fn the_report_prints_one_line_per_check_and_json() {
        let report = Report::new(vec![
            Check::pass("disk", "plenty"),
            Check::fail("clock", "not synchronised", "enable NTP"),
        ]);
        assert!(!report.ok);
        let text = report.to_text();
        assert!(text.contains("✓ disk"));
        assert!(text.contains("✗ clock"));
        assert!(text.contains("fix: enable NTP"));
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["ok"], false);
        assert_eq!(json["checks"][1]["fix"], "enable NTP");
        assert!(json["checks"][0].get("fix").is_none());
    }
}
