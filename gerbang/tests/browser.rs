//! The admin dashboard in real headless Chromium: each test starts the all-in-one `gerbang`
//! binary (cloud, embedded broker, one simulated door) on free ports in a temporary data
//! directory and runs one script (playwright-core driving Debian's Chromium) against it:
//! `tests/browser/dashboard.mjs` (doors, devices, users, history, attendance; screenshots in
//! `<target>/browser-artifacts/`) and `tests/browser/domains.mjs` (the meals, SAKIP and
//! ChatMe pages of every role; `<target>/browser-artifacts-domains/`). The two run one after
//! the other: each is a whole cloud and a Chromium on a small machine.
//!
//! Needs `/usr/bin/chromium` (or `GERBANG_CHROMIUM`) and `npm ci` in `tests/browser`
//! (`scripts/ci/browser.sh` does both). Without them the test says so and passes, unless
//! `GERBANG_TEST_REQUIRE_SERVICES=1`, where it fails.

mod support;

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use support::*;

/// One suite at a time (see the module's comment).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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

/// One browser suite: its script in `tests/browser/`, where its screenshots go (a folder
/// beside the test binaries' target folder), how long its scenarios may take at most, and
/// what else the script is told.
struct Suite {
    script: &'static str,
    artifacts: &'static str,
    limit: Duration,
    env: Vec<(&'static str, OsString)>,
}

/// Starts `gerbang` with its demo, waits for it to take logins and for its door to be
/// online, runs the suite's script against it, and fails with the script.
async fn run_suite(suite: Suite) {
    let _one = ONE_AT_A_TIME.lock().await;
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script_dir = manifest.join("tests/browser");
    if let Some(reason) = missing(&script_dir) {
        let required = std::env::var("GERBANG_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
        assert!(!required, "browser suite required but cannot run: {reason}");
        eprintln!(
            "SKIPPED {}: {reason} (scripts/ci/browser.sh installs it)",
            suite.script
        );
        return;
    }
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|target| target.join(suite.artifacts))
        .unwrap_or_else(|| PathBuf::from(suite.artifacts));
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts).unwrap();

    let data = tempfile::tempdir().unwrap();
    let log = std::fs::File::create(artifacts.join("gerbang.log")).unwrap();
    // No exit-button traffic (spawn_demo's default): its unlocks every few seconds would hold
    // door-1 released through the door-control scenario; the face visitors (one every ~12 s)
    // give the overview its live visits. No attendance kiosk: the attendance scenario
    // expects nobody checked in today (the kiosk has its own test, demo_kiosk.rs).
    let (gerbang, base) = spawn_demo(data.path(), log, &[("GERBANG_DEMO_KIOSK", "0")]);
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
        .arg(script_dir.join(suite.script))
        .current_dir(&script_dir)
        .env("GERBANG_URL", &base)
        .env("GERBANG_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("GERBANG_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ARTIFACTS", &artifacts)
        .env("CHROMIUM", chromium())
        .envs(suite.env)
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = node.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > suite.limit {
            kill9(&mut node);
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    drop(gerbang);
    let Some(status) = status else {
        panic!(
            "{} took longer than {:?}; screenshots in {}",
            suite.script,
            suite.limit,
            artifacts.display()
        );
    };
    eprintln!(
        "{}: {:.1} s, screenshots in {}",
        suite.script,
        started.elapsed().as_secs_f64(),
        artifacts.display()
    );
    assert!(
        status.success(),
        "{} failed ({status}); screenshots and gerbang.log in {}",
        suite.script,
        artifacts.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_real_chromium() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    run_suite(Suite {
        script: "dashboard.mjs",
        artifacts: "browser-artifacts",
        // The scenarios take well under a minute.
        limit: Duration::from_secs(150),
        env: vec![("FIXTURES", manifest.join("../models/testdata").into())],
    })
    .await;
}

/// The meals, SAKIP and ChatMe pages: every role of each signs in and walks its pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_pages_in_real_chromium() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let socketio = manifest.join("../cloud-api/tests/socketio/node_modules");
    let mut env = Vec::new();
    // The Socket.IO client the script joins a live room with, when installed.
    if socketio.join("socket.io-client").exists() {
        env.push(("SOCKETIO_MODULES", socketio.into()));
    }
    run_suite(Suite {
        script: "domains.mjs",
        artifacts: "browser-artifacts-domains",
        limit: Duration::from_secs(300),
        env,
    })
    .await;
}
