//! Evidence offline, end to end (issue #20): a door (the real daemon, real face models on
//! the real photos) denies Obama while its cloud is down. The denial is in the outbox at
//! once, with the time of the decision and the id of its snapshot; the snapshot waits
//! sealed on the device; once the cloud is back it is uploaded, served, and tied to the
//! decision and to Obama, and the device's queue is empty.

mod support;

use std::time::{Duration, Instant};

use cloud_api::testkit::{Backend, BrokerKind};
use edge_daemon::{evidence, identity::Identity};
use protocol::{open, AccessResult, DenyReason, DoorMode, DoorSettings, Envelope, Event};
use sea_orm::{ConnectionTrait, Statement};
use support::*;
use time::OffsetDateTime;

/// The queued evidence files of the door whose data is in `dir`.
fn queued(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir.join(evidence::DIR))
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denial_offline_is_recorded_at_once_and_its_snapshot_follows() {
    let mut site = Site::new(Backend::Sqlite, BrokerKind::Embedded).await;
    let dir = tempfile::tempdir().unwrap();
    let door = face_door(&site, dir.path(), "evidence").await;
    let (running, vision, camera) = (&door.running, &door.vision, &door.camera);
    // Locked down: Obama is recognised and denied, and the denial names him.
    running
        .door
        .apply_settings(DoorSettings {
            mode: Some(DoorMode::LockedDown),
            ..DoorSettings::default()
        })
        .await
        .unwrap();

    site.stop().await;
    let mut verdicts = vision.camera.verdicts();
    let walking = show_in_turn(camera, door.cast.obama.clone());
    let denied = first_verdict(
        &mut verdicts,
        "Obama denied",
        Duration::from_secs(90),
        |v| v.result == AccessResult::Denied,
    )
    .await;
    let verdict_at = OffsetDateTime::now_utc();
    walking.cancel();
    camera.clear();
    assert_eq!(denied.reason, Some(DenyReason::LockedDown), "{denied:?}");
    let obama = denied.person.clone().expect("the denial names Obama");

    // In the outbox already, stamped with the moment of the decision.
    let key = Identity::load(dir.path()).unwrap().key.public();
    let pending = running.outbox.lock().pending_after(0, 10_000).unwrap();
    let (decided_ts, snapshot) = pending
        .iter()
        .map(|f| open::<Envelope>(&f.frame, &key).unwrap())
        .find_map(|e| match e.event {
            Event::AccessDecision {
                result: AccessResult::Denied,
                snapshot,
                ..
            } => Some((e.ts, snapshot)),
            _ => None,
        })
        .expect("the denial is in the outbox when its verdict is out");
    let lag = verdict_at - decided_ts;
    println!("decision recorded {lag} before its verdict was seen (offline)");
    assert!(
        lag >= time::Duration::ZERO && lag < time::Duration::seconds(1),
        "{lag}"
    );
    let snapshot = snapshot.expect("the denial names its snapshot");
    let id = uuid::Uuid::parse_str(&snapshot).expect("a UUID the device chose");
    assert_eq!(id.get_version_num(), 7);
    // The snapshot waits on the device, sealed.
    let file = eventually(Duration::from_secs(10), "the snapshot queued", || async {
        queued(dir.path())
            .into_iter()
            .find(|p| p.to_string_lossy().contains(&snapshot))
    })
    .await;
    let sealed = std::fs::read(&file).unwrap();
    assert!(
        !sealed.starts_with(&[0xFF, 0xD8]),
        "not a JPEG in the clear"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(queued(dir.path()).len(), 1, "still queued while offline");

    // The cloud returns.
    let back = Instant::now();
    site.start().await;
    let admin = Admin::login(&site).await;
    let image = eventually(Duration::from_secs(90), "the snapshot served", || async {
        let response = admin
            .http
            .get(site.url(&format!("/api/camera/recordings/{snapshot}/image")))
            .bearer_auth(&admin.token)
            .send()
            .await
            .ok()?;
        if response.status() != reqwest::StatusCode::OK {
            return None;
        }
        response.bytes().await.ok()
    })
    .await;
    println!(
        "snapshot served {:.1} s after the cloud came back",
        back.elapsed().as_secs_f64()
    );
    assert!(image.starts_with(&[0xFF, 0xD8, 0xFF]));
    assert!(image::load_from_memory(&image).is_ok(), "a whole JPEG");
    eventually(Duration::from_secs(30), "the queue emptied", || async {
        queued(dir.path()).is_empty().then_some(())
    })
    .await;
    assert_eq!(running.metrics.evidence_uploaded_total(), 1);
    assert_eq!(running.metrics.evidence_dropped_total(), 0);

    // Tied to Obama and to the decision, whose time is the decision's, not the upload's.
    // The image (HTTPS) may arrive before the decision (MQTT, reconnecting with back-off):
    // the record takes its person when the decision is ingested.
    let db = site.cloud().database();
    let backend = db.get_database_backend();
    let owners = eventually(
        Duration::from_secs(30),
        "the snapshot tied to someone",
        || async {
            let rows = db
                .query_all(Statement::from_string(
                    backend,
                    "SELECT person_id FROM camera_records WHERE person_id IS NOT NULL",
                ))
                .await
                .ok()?;
            let owners: Vec<String> = rows
                .iter()
                .filter_map(|r| r.try_get("", "person_id").ok())
                .collect();
            (!owners.is_empty()).then_some(owners)
        },
    )
    .await;
    assert_eq!(owners, vec![obama.clone()]);
    let logged = eventually(Duration::from_secs(30), "the denial in history", || async {
        let rows = db
            .query_all(Statement::from_string(
                backend,
                "SELECT person_id, snapshot, ts_ms FROM access_logs WHERE snapshot IS NOT NULL",
            ))
            .await
            .ok()?;
        let row = rows.first()?;
        Some((
            row.try_get::<Option<String>>("", "person_id").ok()?,
            row.try_get::<Option<String>>("", "snapshot").ok()?,
            row.try_get::<i64>("", "ts_ms").ok()?,
        ))
    })
    .await;
    assert_eq!(logged.0.as_deref(), Some(obama.as_str()));
    assert_eq!(logged.1.as_deref(), Some(snapshot.as_str()));
    let decided_ms = (decided_ts.unix_timestamp_nanos() / 1_000_000) as i64;
    assert!(
        (logged.2 - decided_ms).abs() <= 1,
        "the decision's time: {logged:?}"
    );
    door.shutdown.cancel();
    within(
        Duration::from_secs(60),
        "the door stopping",
        door.running.stopped(),
    )
    .await;
}
