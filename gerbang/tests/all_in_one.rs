//! The all-in-one `gerbang` process (cloud and door together) killed with SIGKILL at
//! random moments and restarted on the same data directory: afterwards every device has
//! every event, exactly once.

mod support;

use std::{process::Stdio, time::Duration};

use support::*;

fn spawn_gerbang(
    data: &std::path::Path,
    http: u16,
    mqtt: u16,
    flowing: bool,
) -> std::process::Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.join("gerbang.log"))
        .unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_gerbang"));
    command
        .env("GERBANG_DATA_DIR", data)
        .env("GERBANG_HTTP_ADDR", format!("127.0.0.1:{http}"))
        .env("GERBANG_MQTT_ADDR", format!("127.0.0.1:{mqtt}"))
        .env("GERBANG_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("GERBANG_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("GERBANG_DOOR__DEBOUNCE_MS", "5")
        .env("GERBANG_KIOSK__LISTEN", "127.0.0.1:0")
        .env("GERBANG_DEMO_VISITORS", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log);
    if flowing {
        command
            .env("GERBANG_SIM__STRANGERS", "1000000")
            .env("GERBANG_SIM__STRANGERS_PER_SEC", "300")
            .env("GERBANG_SIM__VISIT_EVERY_SECS", "0.5")
            .env("GERBANG_SIM__SPEED", "20");
    } else {
        command.env("GERBANG_SIM__TRAFFIC", "false");
    }
    command.spawn().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_in_one_killed_twenty_times_shows_no_missing_seqs() {
    let data = tempfile::tempdir().unwrap();
    let (http, mqtt) = (free_port(), free_port());
    let door_dir = data.path().join("edge").join("door-1");
    let (written, unsynced) =
        kill_twenty_times(&door_dir, || spawn_gerbang(data.path(), http, mqtt, true)).await;
    eprintln!("after 20 kills: {written} events written, {unsynced} unconfirmed");

    let mut process = spawn_gerbang(data.path(), http, mqtt, false);
    let base = format!("http://127.0.0.1:{http}");
    let admin = eventually(Duration::from_secs(30), "admin can log in", || {
        Admin::login_at(&base)
    })
    .await;
    let devices = eventually(
        Duration::from_secs(120),
        "every device complete",
        || async {
            let (last_seq, pending) = device_outbox(&door_dir);
            let devices = admin.devices().await?;
            let complete = !devices.is_empty()
                && pending == 0
                && devices
                    .iter()
                    .all(|d| d["missing_seqs"] == 0 && d["events_stored"] == d["last_seq"])
                && devices.iter().any(|d| d["last_seq"] == last_seq);
            complete.then_some(devices)
        },
    )
    .await;
    for device in &devices {
        assert_eq!(device["missing_seqs"], 0, "{device}");
    }
    terminate(&mut process);
}
