//! A replaced SD card keeps its unsynced events (issue #20): a door records events while
//! its cloud is down; `edge-daemon backup` copies its data directory while it runs; the
//! door is gone; `restore` puts the backup on a fresh data directory, a door starts on it
//! and, once the cloud is back, every event of the backup reaches the cloud exactly once
//! with `missing_seqs = 0`.

mod support;

use std::time::{Duration, Instant};

use cloud_api::testkit::{unique_site, Backend, BrokerKind};
use edge_daemon::backup;
use support::*;

/// A door on simulated hardware with no camera loop; `strangers` denied decisions
/// written as fast as the store takes them.
fn door_config(
    site: &Site,
    dir: &std::path::Path,
    strangers: u64,
) -> edge_daemon::config::EdgeConfig {
    let mut config = vision_door_config(
        dir,
        site.url("").trim_start_matches("http://"),
        site.mqtt_url().trim_start_matches("mqtt://"),
    );
    config.vision.enabled = false;
    config.sim.strangers = strangers;
    config.sim.strangers_per_sec = 200.0;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsynced_events_survive_a_backup_and_restore_onto_a_new_card() {
    let mut site = Site::new(Backend::Sqlite, BrokerKind::Embedded).await;
    let old_card = tempfile::tempdir().unwrap();
    let code = site.code_for(&unique_site("backup"), "door-1").await;
    edge_daemon::enroll::enroll(&site.url(""), &code, old_card.path(), None, false)
        .await
        .unwrap();
    site.stop().await;

    let (running, _camera, shutdown) =
        start_sim_door(&door_config(&site, old_card.path(), 2_000)).await;
    eventually(
        Duration::from_secs(60),
        "events written offline",
        || async { (running.outbox.lock().last_seq().ok()? >= 300).then_some(()) },
    )
    .await;
    // While the door writes.
    let backups = tempfile::tempdir().unwrap();
    let to = backups.path().join("door-1");
    let (from, into) = (old_card.path().to_owned(), to.clone());
    let started = Instant::now();
    let manifest = tokio::task::spawn_blocking(move || backup::backup(&from, &into))
        .await
        .unwrap()
        .unwrap();
    println!(
        "backup of {} unsynced events (last seq {}) took {} ms",
        manifest.unsynced,
        manifest.last_seq,
        started.elapsed().as_millis()
    );
    assert!(manifest.last_seq >= 300, "{manifest:?}");
    assert_eq!(manifest.unsynced, manifest.last_seq, "the cloud had none");
    assert_eq!(manifest.device.as_deref(), Some("door-1"));
    shutdown.cancel();
    running.stopped().await;
    // The old card is lost, with whatever it wrote after the backup.
    drop(old_card);

    let new_card = tempfile::tempdir().unwrap();
    let data = new_card.path().join("data");
    let restored = backup::restore(&data, &to).unwrap();
    assert_eq!(restored, manifest);
    site.start().await;
    let back = Instant::now();
    let (running, _camera, shutdown) = start_sim_door(&door_config(&site, &data, 0)).await;
    let admin = Admin::login(&site).await;
    let last = assert_fully_synced(&site, &admin, "door-1", &data, Duration::from_secs(120)).await;
    println!(
        "restored door synced seqs 1..={last} ({} from the backup) in {:.1} s, missing_seqs = 0",
        manifest.last_seq,
        back.elapsed().as_secs_f64()
    );
    assert!(last >= manifest.last_seq);
    shutdown.cancel();
    running.stopped().await;
}
