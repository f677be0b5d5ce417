//! Whether the camera delivers. A camera that gives no usable frame for
//! `camera_fault_after_secs` — stuck, failing, or sending only damaged frames — is a fault,
//! reported once: a warning, a `camera_fault: …` status event for the cloud, and
//! `gerbang_edge_camera_faults_total`. Its first good frame afterwards ends the fault
//! (`camera_recovered`). The door is never driven for it: the relay stays as the door task
//! keeps it (locked), and people get in by the other means until the camera is back.
//!
//! It watches the camera loop's counters from the async runtime, so it notices a capture
//! that never returns as well as one that fails.

use std::{sync::Arc, time::Duration};

use protocol::Event;
use tokio::{sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{door::DoorSnapshot, metrics::Metrics, store::Outbox};

/// What the camera loop's counters said at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    good: u64,
    corrupt: u64,
    errors: u64,
}

impl Counts {
    fn of(metrics: &Metrics) -> Self {
        Self {
            good: metrics.frames_captured(),
            corrupt: metrics.frames_corrupt(),
            errors: metrics.camera_errors(),
        }
    }

    /// Why no good frame came since `earlier`.
    fn reason(&self, earlier: &Counts) -> &'static str {
        if self.corrupt > earlier.corrupt {
            "damaged frames only"
        } else if self.errors > earlier.errors {
            "captures failing"
        } else {
            "no frames"
        }
    }
}

/// Watches the camera until `shutdown`; `fault_after` without a good frame is a fault.
pub async fn watch_camera(
    metrics: Arc<Metrics>,
    outbox: Outbox,
    door: watch::Receiver<DoorSnapshot>,
    fault_after: Duration,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(
        (fault_after / 4).clamp(Duration::from_millis(100), Duration::from_secs(1)),
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last = Counts::of(&metrics);
    let mut since = Instant::now();
    let mut faulty = false;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = Counts::of(&metrics);
        if now.good != last.good {
            last = now;
            since = Instant::now();
            if std::mem::take(&mut faulty) {
                info!("The camera delivers frames again.");
                report(&outbox, &door, "camera_recovered".into()).await;
            }
            continue;
        }
        if faulty || since.elapsed() < fault_after {
            continue;
        }
        faulty = true;
        let reason = now.reason(&last);
        let faults = metrics.camera_fault();
        warn!(
            reason,
            secs = fault_after.as_secs(),
            faults,
            "The camera gives no usable frame; faces are not decided until it does."
        );
        report(&outbox, &door, format!("camera_fault: {reason}")).await;
    }
}

async fn report(outbox: &Outbox, door: &watch::Receiver<DoorSnapshot>, status: String) {
    let mode = door.borrow().mode;
    let event = Event::DeviceStatus {
        status,
        firmware: crate::FIRMWARE.into(),
        mode,
    };
    if let Err(error) = outbox.emit(event).await {
        warn!(%error, "Could not record the camera's state.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_is_what_the_camera_did_instead() {
        let before = Counts {
            good: 5,
            corrupt: 1,
            errors: 1,
        };
        let garbage = Counts {
            corrupt: 40,
            errors: 3,
            ..before
        };
        assert_eq!(garbage.reason(&before), "damaged frames only");
        let failing = Counts {
            errors: 3,
            ..before
        };
        assert_eq!(failing.reason(&before), "captures failing");
        assert_eq!(before.reason(&before), "no frames");
    }
}
