//! Faulty parts (issue #20): a relay whose GPIO fails, a camera that is stuck, fails or
//! sends only damaged frames. Each is reported once (a status event for the cloud, a
//! counter), the door stays locked, and the daemon recovers by itself when the part comes
//! back. The simulated hardware injects the faults; the door, the camera loop and its
//! health watch are the real ones.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use edge_daemon::{door::DoorError, vision::VisionSettings};
use hal::Relay;
use protocol::{AccessMethod, Event};
use support::*;

/// The status events recorded so far, oldest first.
fn statuses(rig: &Rig) -> Vec<String> {
    rig.events()
        .into_iter()
        .filter_map(|e| match e {
            Event::DeviceStatus { status, .. } => Some(status),
            _ => None,
        })
        .collect()
}

fn count(statuses: &[String], prefix: &str) -> usize {
    statuses.iter().filter(|s| s.starts_with(prefix)).count()
}

/// Waits (at most `secs`) until `check` holds; fails with `what` and the statuses.
async fn until(rig: &Rig, secs: u64, what: &str, check: impl Fn(&Rig) -> bool) {
    for _ in 0..secs * 20 {
        if check(rig) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} within {secs} s; statuses {:?}", statuses(rig));
}

fn relay_fault(rig: &Rig) -> bool {
    rig.door.snapshot().borrow().relay_fault
}

/// A door whose camera is declared faulty after 2 s without a usable frame.
async fn door() -> Rig {
    let settings = VisionSettings {
        camera_fault_after_secs: 2,
        ..settings()
    };
    rig(settings, gallery_of(vec![]), system_clock()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_relay_is_reported_once_kept_locked_and_recovers_by_itself() {
    let rig = door().await;
    rig.relay.set_fault(Some("GPIO write: EIO".into()));
    let refused = rig
        .door
        .unlock(Duration::from_secs(1), AccessMethod::Remote, None)
        .await
        .unwrap_err();
    assert!(matches!(refused, DoorError::Relay(_)), "{refused}");
    assert!(relay_fault(&rig));
    // While it lasts no unlock is tried, and the fault is reported once however long.
    let refused = rig
        .door
        .unlock(Duration::from_secs(1), AccessMethod::Remote, None)
        .await
        .unwrap_err();
    assert!(matches!(refused, DoorError::RelayFault), "{refused}");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(count(&statuses(&rig), "relay_fault"), 1);
    assert!(
        rig.metrics.relay_errors() >= 2,
        "the first failure and the retries: {}",
        rig.metrics.relay_errors()
    );
    assert!(!rig.unlocked(), "never released");
    // The GPIO comes back: within a retry or two the door is itself again.
    rig.relay.set_fault(None);
    let healed = std::time::Instant::now();
    until(&rig, 3, "relay_recovered", |rig| !relay_fault(rig)).await;
    println!(
        "relay: {} failed commands counted, one relay_fault event; recovered {:.1} s after the GPIO came back",
        rig.metrics.relay_errors(),
        healed.elapsed().as_secs_f64()
    );
    assert_eq!(count(&statuses(&rig), "relay_recovered"), 1);
    assert!(rig.relay.is_locked());
    rig.door
        .unlock(Duration::from_millis(300), AccessMethod::Remote, None)
        .await
        .unwrap();
    assert!(rig.unlocked());
    until(&rig, 3, "relocked after the pulse", |rig| {
        rig.relay.is_locked()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relock_that_fails_is_retried_until_the_relay_answers() {
    let rig = door().await;
    rig.door
        .unlock(Duration::from_millis(500), AccessMethod::Remote, None)
        .await
        .unwrap();
    assert!(!rig.relay.is_locked());
    // The relay fails while released: the relock timer's command does not take.
    rig.relay.set_fault(Some("GPIO write: EIO".into()));
    until(&rig, 3, "relay_fault", relay_fault).await;
    assert!(
        !rig.relay.is_locked(),
        "the simulated coil is stuck released"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(count(&statuses(&rig), "relay_fault"), 1);
    rig.relay.set_fault(None);
    until(&rig, 3, "locked again", |rig| {
        rig.relay.is_locked() && !relay_fault(rig)
    })
    .await;
    assert!(rig.door.snapshot().borrow().locked);
    let relocked = rig
        .events()
        .into_iter()
        .any(|e| matches!(e, Event::Relay { locked: true, cause } if cause == "relay recovered"));
    assert!(relocked, "the relock is recorded");
}

/// Injects a camera fault with `break_it`, checks it is reported once with `reason` while
/// the door stays locked, then heals it with `heal` and checks the recovery.
async fn camera_fault_and_recovery(
    break_it: impl FnOnce(&hal::sim::SimCamera),
    heal: impl FnOnce(&hal::sim::SimCamera),
    reasons: &[&str],
) {
    let rig = door().await;
    until(&rig, 10, "frames", |rig| rig.metrics.frames_captured() > 5).await;
    break_it(&rig.camera);
    let broken = std::time::Instant::now();
    until(&rig, 8, "camera_fault", |rig| {
        count(&statuses(rig), "camera_fault") == 1
    })
    .await;
    let reported = broken.elapsed();
    let status = statuses(&rig)
        .into_iter()
        .find(|s| s.starts_with("camera_fault"))
        .unwrap();
    assert!(
        reasons
            .iter()
            .any(|r| status == format!("camera_fault: {r}")),
        "{status}"
    );
    assert_eq!(rig.metrics.camera_faults(), 1);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(count(&statuses(&rig), "camera_fault"), 1, "reported once");
    assert!(
        !rig.unlocked() && rig.relay.is_locked(),
        "the door stays locked"
    );
    heal(&rig.camera);
    let healed = std::time::Instant::now();
    until(&rig, 6, "camera_recovered", |rig| {
        count(&statuses(rig), "camera_recovered") == 1
    })
    .await;
    println!(
        "{status}: reported {:.1} s after the fault (threshold 2 s), once; recovered {:.1} s after the camera came back",
        reported.as_secs_f64(),
        healed.elapsed().as_secs_f64()
    );
    assert_eq!(rig.metrics.camera_faults(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_camera_is_reported_and_recovers() {
    // The simulated capture waits 2 s then times out, like a driver: either reason fits.
    camera_fault_and_recovery(
        |camera| camera.set_stalled(true),
        |camera| camera.set_stalled(false),
        &["no frames", "captures failing"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camera_sending_garbage_is_reported_and_recovers() {
    camera_fault_and_recovery(
        |camera| camera.corrupt_next(u64::MAX),
        |camera| camera.corrupt_next(0),
        &["damaged frames only"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_camera_is_reported_and_recovers() {
    camera_fault_and_recovery(
        |camera| camera.set_fault(Some("unplugged".into())),
        |camera| camera.set_fault(None),
        &["captures failing"],
    )
    .await;
}
