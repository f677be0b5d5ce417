//! The admin dashboard in real headless Chromium: starts the all-in-one `gerbang` binary
//! (cloud, embedded broker, one simulated door) on free ports in a temporary data directory
//! and runs `tests/browser/dashboard.mjs` (playwright-core driving Debian's Chromium) against
//! it. Screenshots land in `<target>/browser-artifacts/`.
//!
//! Needs `/usr/bin/chromium` (or `GERBANG_CHROMIUM`) and `npm ci` in `tests/browser`
//! (`scripts/ci/browser.sh` does both). Without them the test says so and passes, unless
//! `GERBANG_TEST_REQUIRE_SERVICES=1`, where it fails.

mod support;

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use support::*;

/// The whole browser run, at most (the scenarios take well under a minute).
const BROWSER_LIMIT: Duration = Duration::from_secs(150);

fn chromium() -> PathBuf {
    std::env::var_os("GERBANG_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Why the browser suite cannot run here, if it cannot.
fn missing(script_dir: &Path) -> Option<String> {
    if !chromium().exists() {
        return Some(format!(
            "{} not found (apt-get install -y chromium)",
            chromium().display()
        ));
    }
    if !script_dir.join("node_modules/playwright-core").exists() {
        return Some(format!(
            "playwright-core not installed (npm ci --prefix {})",
            script_dir.display()
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node not found".into());
    }
    None
}

/// The `gerbang` process, stopped (SIGTERM) however the test ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        terminate(&mut self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_real_chromium() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script_dir = manifest.join("tests/browser");
    if let Some(reason) = missing(&script_dir) {
        let required = std::env::var("GERBANG_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
        assert!(!required, "browser suite required but cannot run: {reason}");
        eprintln!(
            "SKIPPED dashboard_in_real_chromium: {reason} (scripts/ci/browser.sh installs it)"
        );
        return;
    }
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|target| target.join("browser-artifacts"))
        .unwrap_or_else(|| PathBuf::from("browser-artifacts"));
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts).unwrap();

    let data = tempfile::tempdir().unwrap();
    let (http, mqtt) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{http}");
    let log = std::fs::File::create(artifacts.join("gerbang.log")).unwrap();
    let gerbang = Command::new(env!("CARGO_BIN_EXE_gerbang"))
        .env("GERBANG_DATA_DIR", data.path())
        .env("GERBANG_HTTP_ADDR", format!("127.0.0.1:{http}"))
        .env("GERBANG_KIOSK__LISTEN", "127.0.0.1:0")
        .env("GERBANG_MQTT_ADDR", format!("127.0.0.1:{mqtt}"))
        .env("GERBANG_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("GERBANG_ADMIN_PASSWORD", ADMIN_PASSWORD)
        // No exit-button traffic: its unlocks every few seconds would hold door-1 released
        // through the door-control scenario. The demo's face visitors (one every ~12 s) give
        // the overview its live visits.
        .env("GERBANG_SIM__TRAFFIC", "false")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let gerbang = Running(gerbang);
    let admin = eventually(Duration::from_secs(60), "gerbang accepts logins", || {
        Admin::login_at(&base)
    })
    .await;
    eventually(
        Duration::from_secs(60),
        "the demo door is online",
        || async {
            let devices = admin.devices().await?;
            devices.iter().any(|d| d["online"] == true).then_some(())
        },
    )
    .await;

    let started = Instant::now();
    let mut node = Command::new("node")
        .arg(script_dir.join("dashboard.mjs"))
        .current_dir(&script_dir)
        .env("GERBANG_URL", &base)
        .env("GERBANG_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("GERBANG_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ARTIFACTS", &artifacts)
        .env("CHROMIUM", chromium())
        .env("FIXTURES", manifest.join("../models/testdata"))
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = node.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > BROWSER_LIMIT {
            kill9(&mut node);
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    drop(gerbang);
    let Some(status) = status else {
        panic!(
            "the browser scenarios took longer than {BROWSER_LIMIT:?}; screenshots in {}",
            artifacts.display()
        );
    };
    eprintln!(
        "browser scenarios: {:.1} s, screenshots in {}",
        started.elapsed().as_secs_f64(),
        artifacts.display()
    );
    assert!(
        status.success(),
        "the browser scenarios failed ({status}); screenshots and gerbang.log in {}",
        artifacts.display()
    );
}
