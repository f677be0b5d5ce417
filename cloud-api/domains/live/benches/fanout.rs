//! One ChatMe live room with many viewers: real `socket.io-client` sockets (a Node process,
//! `benches/fanout.cjs`) join the host's room on `/chatme`; a viewer sends gifts over HTTP
//! with the room's `live_session_id`, one at a time, and for each the bench measures the
//! delay from the HTTP answer to every socket hearing `live:gift-received` (failing if a
//! socket misses one).
//!
//! `GERBANG_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres cargo bench
//! --workspace --bench fanout` measures 2,000 sockets and 100 gifts (`GERBANG_BENCH_SOCKETS`,
//! `GERBANG_BENCH_GIFTS` change them); under `cargo test` it is a smoke run. Needs
//! `npm ci --prefix cloud-api/tests/socketio`.

#![allow(clippy::unwrap_used)]

mod common;

use std::{
    collections::HashSet,
    io::{BufRead, BufReader, Write},
    path::PathBuf,
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use cloud_api::testkit::{latency::Latencies, Backend, BrokerKind, TestCloud};
use common::user;
use serde_json::{json, Value};

/// Distinct viewer accounts; the sockets use their tokens in turn.
const VIEWERS: usize = 50;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

#[tokio::main]
async fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let sockets = env_usize("GERBANG_BENCH_SOCKETS", if measuring { 2_000 } else { 20 });
    let gifts = env_usize("GERBANG_BENCH_GIFTS", if measuring { 100 } else { 3 });
    let modules =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/socketio/node_modules");
    if !modules.join("socket.io-client").is_dir() {
        println!("fanout bench skipped: socket.io-client is not installed (npm ci --prefix cloud-api/tests/socketio)");
        return;
    }
    let backend = Backend::postgres().unwrap_or(Backend::Sqlite);
    println!(
        "ChatMe fan-out on {}: {sockets} sockets in one live room, {gifts} gifts",
        backend.name()
    );
    // The host acts over HTTP only (no socket): a grace longer than the bench keeps the
    // sweeper from ending the session mid-run.
    let tc = TestCloud::start_with(backend, BrokerKind::Embedded, |config| {
        config
            .set_section("live", &json!({"host_grace_ms": 3_600_000}))
            .unwrap();
    })
    .await;
    let db = &tc.cloud().platform().db;
    let now = tc.cloud().platform().clock.unix();
    let (host, host_token) = user(&tc, 0, "host").await;
    let (sender, sender_token) = user(&tc, 1, "user").await;
    live::wallet::admin_credit(db, sender, 1_000_000, "bench", now)
        .await
        .unwrap();
    let gift = live::wallet::add_catalog_gift(
        db,
        &live::wallet::NewGift {
            name: "Rose",
            coin_value: 1,
            category: "basic",
            icon: None,
        },
        now,
    )
    .await
    .unwrap();
    let mut tokens = Vec::with_capacity(VIEWERS);
    for n in 0..VIEWERS {
        tokens.push(user(&tc, 100 + n, "user").await.1);
    }
    let client = reqwest::Client::new();
    let started: Value = client
        .post(tc.url("/chatme/api/live-session/start"))
        .bearer_auth(&host_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let room = started["room_id"].as_str().unwrap().to_owned();
    let session = started["session"]["id"].as_str().unwrap().to_owned();

    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(serde_json::to_string(&tokens).unwrap().as_bytes())
        .unwrap();
    let mut node = Command::new("node")
        .env("NODE_PATH", &modules)
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/fanout.cjs"))
        .arg(tc.url(""))
        .arg(&room)
        .arg(file.path())
        .arg(sockets.to_string())
        .stdout(Stdio::piped())
        // Not inherited: Node makes a shared stdio descriptor non-blocking, and this
        // process's own printing then fails with EAGAIN. Its errors arrive as JSON lines.
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = node.stdout.take().unwrap();
    let (tx, heard) = mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(value) = serde_json::from_str(&line) {
                if tx.send(value).is_err() {
                    break;
                }
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let line = heard
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the sockets did not all join within 180 s");
        if let Some(error) = line.get("error") {
            panic!("socket.io-client: {error}");
        }
        if line.get("ready").is_some() {
            break;
        }
    }

    let mut each = Latencies::new();
    let mut last = Latencies::new();
    let mut from_request = Latencies::new();
    for _ in 0..gifts {
        let requested = epoch_ms();
        let receipt: Value = client
            .post(tc.url("/chatme/api/gifts/send"))
            .bearer_auth(&sender_token)
            .json(&json!({"receiver_id": host, "gift_id": gift, "quantity": 1, "live_session_id": session}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let answered = epoch_ms();
        let id = receipt["gift"]["id"].clone();
        assert!(!id.is_null(), "{receipt}");
        let mut got = HashSet::new();
        let mut slowest = 0.0_f64;
        let deadline = Instant::now() + Duration::from_secs(20);
        while got.len() < sockets {
            let line = heard
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| {
                    panic!(
                        "gift {id}: {} of {sockets} viewers heard it within 20 s",
                        got.len()
                    )
                });
            assert_eq!(line["g"], id, "an event for another gift: {line}");
            if got.insert(line["c"].as_u64().unwrap()) {
                let t = line["t"].as_f64().unwrap();
                each.record_ms(t - answered);
                from_request.record_ms(t - requested);
                slowest = slowest.max(t - answered);
            }
        }
        last.record_ms(slowest);
    }
    println!("{}", each.line("answer → each viewer", None));
    println!("{}", last.line("answer → the last viewer", None));
    println!("{}", from_request.line("request sent → each viewer", None));
    let _ = node.kill();
    let _ = node.wait();
    tc.stop().await;
}
