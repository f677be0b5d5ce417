//! Sync benchmarks: outbox append rate, drain rate of a buffered outbox into SQLite and
//! PostgreSQL over MQTT and over HTTPS, and edge → cloud latency when idle.
//!
//! `GERBANG_TEST_POSTGRES=… GERBANG_TEST_MOSQUITTO=… cargo bench -p gerbang --bench sync`
//! (without them only SQLite and the embedded broker run). `GERBANG_BENCH_EVENTS` sets the
//! size of the buffered outbox (default 100,000).

#[path = "../tests/support/mod.rs"]
mod support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use cloud_api::testkit::unique_site;
use edge_daemon::{
    config::EdgeConfig,
    identity::Identity,
    store::{Boot, Durability, Outbox, Signer, Store, StoreOptions},
    sync::{self, Link},
};
use protocol::{AccessMethod, AccessResult, DenyReason, DeviceState, DoorMode, Event, VERSION};
use sea_orm::{ConnectionTrait, Statement};
use support::*;
use tokio_util::sync::CancellationToken;

fn stranger() -> Event {
    Event::AccessDecision {
        result: AccessResult::Denied,
        method: AccessMethod::Face,
        person: None,
        reason: Some(DenyReason::UnknownFace),
        score: Some(0.21),
        liveness: Some(0.98),
        snapshot: None,
    }
}

fn open_store(dir: &std::path::Path, identity: &Identity, durability: Durability) -> Store {
    Store::open(
        &dir.join("edge.db"),
        Signer {
            device: identity.credentials.device.clone(),
            key: identity.key.clone(),
        },
        Boot::now(),
        Arc::new(hal::SystemClock {
            assume_synced: true,
        }),
        StoreOptions {
            max_unsynced: 10_000_000,
            durability,
        },
    )
    .unwrap()
}

fn offline_state(identity: &Identity) -> DeviceState {
    DeviceState {
        v: VERSION,
        device: identity.credentials.device.clone(),
        online: false,
        boot_id: uuid::Uuid::now_v7(),
        ts: time::OffsetDateTime::now_utc(),
        locked: true,
        door_open: false,
        battery_percent: None,
        camera_active: false,
        mode: DoorMode::Normal,
        last_seq: 0,
        firmware: "bench".into(),
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not: then this is a
    // quick smoke run that only proves the benchmark still works.
    let measuring = std::env::args().any(|a| a == "--bench");
    let default_events = if measuring { 100_000 } else { 500 };
    let events: u64 = std::env::var("GERBANG_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_events);
    let latency_samples = if measuring { 300 } else { 10 };
    println!("== outbox appends (one event per transaction, sealed) ==");
    for (durability, n) in [(Durability::Full, 2_000u64), (Durability::Normal, 20_000)] {
        let n = if measuring { n } else { n / 100 };
        let dir = tempfile::tempdir().unwrap();
        let identity = Identity {
            credentials: fake_credentials(),
            key: protocol::Keypair::generate(),
        };
        let mut store = open_store(dir.path(), &identity, durability);
        let started = Instant::now();
        for _ in 0..n {
            store.emit(stranger()).unwrap();
        }
        let rate = n as f64 / started.elapsed().as_secs_f64();
        println!("  {durability:?}: {rate:>8.0} appends/s ({n} events)");
    }

    println!("== drain {events} buffered events ==");
    for (backend, broker) in matrix() {
        for https in [false, true] {
            let site = Site::new(backend.clone(), broker.clone()).await;
            let dir = tempfile::tempdir().unwrap();
            let code = site.code_for(&unique_site("bench"), "door-1").await;
            edge_daemon::enroll::enroll(&site.url(""), &code, dir.path(), None, false)
                .await
                .unwrap();
            let identity = Identity::load(dir.path()).unwrap();
            let mut store = open_store(dir.path(), &identity, Durability::Normal);
            store
                .write(|w| (0..events).try_for_each(|_| w.emit(stranger()).map(|_| ())))
                .unwrap();
            let outbox = Outbox::new(store);
            // Over HTTPS: point MQTT at a closed port and fall back at once.
            let mqtt = if https {
                format!("mqtt://127.0.0.1:{}", free_port())
            } else {
                site.mqtt_url()
            };
            let link = Link::new(&identity, Some(&mqtt), None, None).unwrap();
            let mut settings = EdgeConfig::default().sync;
            settings.http_fallback_after_secs = 0;
            settings.batch_size = 1000;
            settings.window = 5000;
            let shutdown = CancellationToken::new();
            let started = Instant::now();
            let (_handle, _inbound, tasks) = sync::start(
                outbox.clone(),
                link,
                settings,
                offline_state(&identity),
                shutdown.clone(),
            );
            loop {
                if outbox.lock().pending_count() == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                assert!(
                    started.elapsed() < Duration::from_secs(600),
                    "drain stalled"
                );
            }
            let secs = started.elapsed().as_secs_f64();
            let (stored, _, _) = cloud_seq_stats(&site, "door-1").await;
            assert_eq!(stored, events);
            println!(
                "  {:<8} {:<9} over {:<5}: {:>6.1} s, {:>7.0} events/s",
                backend.name(),
                broker_name(&site),
                if https { "HTTPS" } else { "MQTT" },
                secs,
                events as f64 / secs
            );
            shutdown.cancel();
            for task in tasks {
                let _ = task.await;
            }
        }
    }

    println!("== edge → cloud latency, idle, MQTT (event appended → row visible) ==");
    for (backend, broker) in matrix() {
        let site = Site::new(backend.clone(), broker).await;
        let dir = tempfile::tempdir().unwrap();
        let code = site.code_for(&unique_site("lat"), "door-1").await;
        edge_daemon::enroll::enroll(&site.url(""), &code, dir.path(), None, false)
            .await
            .unwrap();
        let identity = Identity::load(dir.path()).unwrap();
        let outbox = Outbox::new(open_store(dir.path(), &identity, Durability::Full));
        let link = Link::new(&identity, Some(&site.mqtt_url()), None, None).unwrap();
        let shutdown = CancellationToken::new();
        let (handle, _inbound, tasks) = sync::start(
            outbox.clone(),
            link,
            EdgeConfig::default().sync,
            offline_state(&identity),
            shutdown.clone(),
        );
        let mut status = handle.status();
        while !status.borrow().mqtt_connected {
            status.changed().await.unwrap();
        }
        let db = site.cloud().database();
        let db_backend = db.get_database_backend();
        let sql = match db_backend {
            sea_orm::DbBackend::Postgres => "SELECT 1 AS one FROM events WHERE id = $1",
            _ => "SELECT 1 AS one FROM events WHERE id = ?",
        };
        let mut samples = Vec::new();
        for _ in 0..latency_samples {
            let started = Instant::now();
            let envelope = outbox.emit(stranger()).await.unwrap();
            // Bound the way ingest binds it, so both backends encode it alike.
            let id = sea_orm::Value::from(envelope.id);
            loop {
                let found = db
                    .query_one(Statement::from_sql_and_values(
                        db_backend,
                        sql,
                        [id.clone()],
                    ))
                    .await
                    .unwrap();
                if found.is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            samples.push(started.elapsed());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        samples.sort();
        let pct =
            |p: f64| samples[((samples.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
        println!(
            "  {:<8} {:<9}: p50 {:>5.1} ms, p99 {:>5.1} ms, max {:>5.1} ms ({} events, durable appends, ±1 ms polling)",
            backend.name(),
            broker_name(&site),
            pct(0.5),
            pct(0.99),
            pct(1.0),
            samples.len()
        );
        shutdown.cancel();
        for task in tasks {
            let _ = task.await;
        }
    }
}

fn broker_name(site: &Site) -> &'static str {
    match site.broker {
        cloud_api::testkit::BrokerKind::Embedded => "embedded",
        cloud_api::testkit::BrokerKind::Mosquitto { .. } => "mosquitto",
    }
}

fn fake_credentials() -> edge_daemon::identity::Credentials {
    edge_daemon::identity::Credentials {
        device: protocol::DeviceId::parse("door-1").unwrap(),
        site: protocol::SiteId::parse("bench").unwrap(),
        token: edge_daemon::identity::Secret::new("unused".into()),
        cloud_public_key: protocol::Keypair::generate().public(),
        cloud_url: "http://127.0.0.1:1".into(),
        mqtt_url: "mqtt://127.0.0.1:1".into(),
    }
}
