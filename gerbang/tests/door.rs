//! Relay safety across a real process kill: an `edge-daemon` killed with SIGKILL while its
//! door is unlocked starts locked again and records that it did, before anything else.

mod support;

use std::{path::Path, time::Duration};

use cloud_api::testkit::{unique_site, Backend, BrokerKind};
use support::*;

/// The door state the daemon keeps in its store (`state` table, key `door`).
fn door_state(data_dir: &Path) -> Option<serde_json::Value> {
    let conn = rusqlite::Connection::open_with_flags(
        data_dir.join("edge.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .ok()?;
    conn.busy_timeout(Duration::from_secs(5)).ok()?;
    let text: String = conn
        .query_row("SELECT value FROM state WHERE key = 'door'", [], |r| {
            r.get(0)
        })
        .ok()?;
    serde_json::from_str(&text).ok()
}

/// The bodies of the relay events still in the device's outbox, oldest first.
fn unsynced_relay_events(data_dir: &Path) -> Vec<serde_json::Value> {
    let conn = rusqlite::Connection::open_with_flags(
        data_dir.join("edge.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    let mut statement = conn
        .prepare("SELECT frame FROM outbox WHERE kind = 'relay' ORDER BY seq")
        .unwrap();
    let frames: Vec<Vec<u8>> = statement
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    frames
        .iter()
        .map(|f| serde_json::from_slice::<serde_json::Value>(f).unwrap()["body"]["body"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_killed_mid_unlock_starts_locked_and_records_why() {
    let mut site = Site::new(Backend::Sqlite, BrokerKind::Embedded).await;
    let dir = tempfile::tempdir().unwrap();
    let code = site.code_for(&unique_site("kill-unlock"), "door-1").await;
    enroll_process(dir.path(), &site.url(""), &code);
    // People leave through the door every 200 ms; each exit unlocks it for seconds.
    let mut daemon = spawn_edge(
        dir.path(),
        &[
            ("GERBANG_CLOUD__MQTT_URL", site.mqtt_url()),
            ("GERBANG_SIM__VISIT_EVERY_SECS", "0.2".into()),
        ],
    );
    eventually(Duration::from_secs(60), "the door unlocked", || async {
        door_state(dir.path())
            .filter(|s| s["locked"] == false)
            .map(|_| ())
    })
    .await;
    kill9(&mut daemon);
    assert_eq!(
        door_state(dir.path()).unwrap()["locked"],
        false,
        "killed while unlocked"
    );
    // Restart with the cloud away, so what the door did stays in its outbox to be read.
    site.stop().await;
    let mut daemon = spawn_edge(
        dir.path(),
        &[
            ("GERBANG_CLOUD__MQTT_URL", site.mqtt_url()),
            ("GERBANG_SIM__TRAFFIC", "false".into()),
        ],
    );
    let restart = eventually(
        Duration::from_secs(60),
        "the restart relay event",
        || async {
            unsynced_relay_events(dir.path())
                .into_iter()
                .find(|e| e["cause"] == "restart after an unclean stop")
        },
    )
    .await;
    assert_eq!(restart["locked"], true);
    assert_eq!(door_state(dir.path()).unwrap()["locked"], true);
    terminate(&mut daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_offline_then_back_delivers_every_event_in_order() {
    use std::sync::Arc;

    use edge_daemon::{config::EdgeConfig, daemon};
    use protocol::{AccessMethod, AccessResult, Event};
    use time::macros::datetime;
    use tokio_util::sync::CancellationToken;

    let mut site = Site::new(Backend::Sqlite, BrokerKind::Embedded).await;
    let admin = Admin::login(&site).await;
    let dir = tempfile::tempdir().unwrap();
    let code = site.code_for(&unique_site("day-offline"), "door-1").await;
    edge_daemon::enroll::enroll(&site.url(""), &code, dir.path(), None, false)
        .await
        .unwrap();
    site.stop().await;

    let morning = datetime!(2026-11-23 00:00 UTC);
    let clock = hal::sim::SimClock::running(morning, true);
    let (mut hardware, world) = edge_daemon::sim::hardware();
    hardware.clock = Arc::new(clock.clone());
    let mut config = EdgeConfig::default();
    config.data_dir = dir.path().to_owned();
    config.cloud.mqtt_url = Some(site.mqtt_url());
    config.cloud.url = Some(site.url(""));
    config.sim.traffic = false;
    config.kiosk.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let shutdown = CancellationToken::new();
    let running = daemon::start(&config, hardware, Some(world), shutdown.clone())
        .await
        .unwrap();
    // A day at the door with no network, an hour at a time: someone leaves on each hour.
    // The clock only moves forward: it shows midnight at start, and the start's events
    // (relay, battery) are stamped just after it, so the first visit is at 01:00. (Setting
    // it back to 00:00 would be a clock jumping back, which the device dates as it must:
    // `ts` from the wall clock, order from `seq` and `mono_ms`.)
    for hour in 1..=24 {
        clock.set(morning + time::Duration::hours(hour));
        let decision = Event::AccessDecision {
            result: AccessResult::Granted,
            method: AccessMethod::ExitButton,
            person: None,
            reason: None,
            score: None,
            liveness: None,
            snapshot: None,
        };
        running
            .door
            .unlock(
                Duration::from_millis(30),
                AccessMethod::ExitButton,
                Some(decision),
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(80)).await;
    }
    let (written, unsynced) = device_outbox(dir.path());
    assert!(
        written >= 72 && unsynced == written,
        "{written} written, {unsynced} unsynced"
    );

    site.start().await;
    let last = assert_fully_synced(
        &site,
        &admin,
        "door-1",
        dir.path(),
        Duration::from_secs(120),
    )
    .await;
    // In seq order, the cloud's copies are also in time order and span the whole day.
    use sea_orm::{ConnectionTrait, Statement};
    let db = site.cloud().database();
    let rows = db
        .query_all(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT seq, kind, ts FROM events WHERE device_id = ? ORDER BY seq",
            ["door-1".into()],
        ))
        .await
        .unwrap();
    let events: Vec<(i64, String, time::OffsetDateTime)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "seq").unwrap(),
                r.try_get("", "kind").unwrap(),
                r.try_get("", "ts").unwrap(),
            )
        })
        .collect();
    assert_eq!(events.len() as u64, last);
    if let Some(w) = events.windows(2).find(|w| w[0].2 > w[1].2) {
        panic!(
            "time order follows seq order, but {:?} comes before {:?}",
            w[0], w[1]
        );
    }
    assert!(events[events.len() - 1].2 - events[0].2 >= time::Duration::hours(23));
    shutdown.cancel();
    running.stopped().await;
}
