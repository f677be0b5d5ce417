//! Counters of what the daemon has seen, shown to the installer by the local API
//! (`GET /api/local/metrics`) in the Prometheus text format, like the cloud's `/metrics`.

use std::{
    fmt::Write,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use hal::{HalError, Relay};

/// The daemon's counters; one instance is shared (`Arc`) by the parts that count and the API
/// that shows them.
#[derive(Debug, Default)]
pub struct Metrics {
    frames_captured: AtomicU64,
    frames_corrupt: AtomicU64,
    camera_errors: AtomicU64,
    camera_faults: AtomicU64,
    relay_errors: AtomicU64,
    evidence_queued: AtomicU64,
    evidence_uploaded: AtomicU64,
    evidence_dropped: AtomicU64,
}

/// Adds one; returns the new count.
fn bump(counter: &AtomicU64) -> u64 {
    counter.fetch_add(1, Ordering::Relaxed) + 1
}

impl Metrics {
    /// The camera delivered a frame.
    pub fn frame_captured(&self) {
        bump(&self.frames_captured);
    }

    /// The camera delivered a damaged frame, which was dropped; returns how many so far.
    pub fn frame_corrupt(&self) -> u64 {
        bump(&self.frames_corrupt)
    }

    /// A capture failed (not a damaged frame: no frame at all); returns how many so far.
    pub fn camera_error(&self) -> u64 {
        bump(&self.camera_errors)
    }

    /// The camera stopped giving usable frames (one count per episode).
    pub fn camera_fault(&self) -> u64 {
        bump(&self.camera_faults)
    }

    /// A denial's snapshot was queued for the cloud.
    pub fn evidence_queued(&self) {
        bump(&self.evidence_queued);
    }

    /// A queued snapshot reached the cloud.
    pub fn evidence_uploaded(&self) {
        bump(&self.evidence_uploaded);
    }

    /// A queued snapshot was dropped (the queue was full, or it could not be sent); returns
    /// how many so far.
    pub fn evidence_dropped(&self) -> u64 {
        bump(&self.evidence_dropped)
    }

    pub fn frames_captured(&self) -> u64 {
        self.frames_captured.load(Ordering::Relaxed)
    }

    pub fn frames_corrupt(&self) -> u64 {
        self.frames_corrupt.load(Ordering::Relaxed)
    }

    pub fn camera_errors(&self) -> u64 {
        self.camera_errors.load(Ordering::Relaxed)
    }

    pub fn camera_faults(&self) -> u64 {
        self.camera_faults.load(Ordering::Relaxed)
    }

    pub fn relay_errors(&self) -> u64 {
        self.relay_errors.load(Ordering::Relaxed)
    }

    pub fn evidence_queued_total(&self) -> u64 {
        self.evidence_queued.load(Ordering::Relaxed)
    }

    pub fn evidence_uploaded_total(&self) -> u64 {
        self.evidence_uploaded.load(Ordering::Relaxed)
    }

    pub fn evidence_dropped_total(&self) -> u64 {
        self.evidence_dropped.load(Ordering::Relaxed)
    }

    /// Every counter in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let counters = [
            (
                "gerbang_edge_frames_captured_total",
                "Camera frames delivered to the camera loop.",
                self.frames_captured(),
            ),
            (
                "gerbang_edge_frames_corrupt_total",
                "Damaged camera frames dropped by the camera loop.",
                self.frames_corrupt(),
            ),
            (
                "gerbang_edge_camera_errors_total",
                "Camera captures that failed with no frame.",
                self.camera_errors(),
            ),
            (
                "gerbang_edge_camera_faults_total",
                "Times the camera stopped giving usable frames (stuck, failing or sending garbage).",
                self.camera_faults(),
            ),
            (
                "gerbang_edge_relay_errors_total",
                "Lock relay commands that failed.",
                self.relay_errors(),
            ),
            (
                "gerbang_edge_evidence_queued_total",
                "Denial snapshots queued on the device for the cloud.",
                self.evidence_queued_total(),
            ),
            (
                "gerbang_edge_evidence_uploaded_total",
                "Queued denial snapshots the cloud has stored.",
                self.evidence_uploaded_total(),
            ),
            (
                "gerbang_edge_evidence_dropped_total",
                "Queued denial snapshots dropped: the queue was full, or the cloud refused them.",
                self.evidence_dropped_total(),
            ),
        ];
        let mut text = String::new();
        for (name, help, value) in counters {
            // Writing to a String cannot fail.
            let _ = write!(
                text,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            );
        }
        text
    }
}

/// A relay whose failed commands are counted in [`Metrics`] (the door task, which knows
/// nothing of metrics, drives it like any relay).
#[derive(Debug)]
pub struct CountedRelay {
    relay: Arc<dyn Relay>,
    metrics: Arc<Metrics>,
}

impl CountedRelay {
    pub fn new(relay: Arc<dyn Relay>, metrics: Arc<Metrics>) -> Self {
        Self { relay, metrics }
    }
}

impl Relay for CountedRelay {
    fn set_locked(&self, locked: bool) -> Result<(), HalError> {
        self.relay.set_locked(locked).inspect_err(|_| {
            bump(&self.metrics.relay_errors);
        })
    }

    fn is_locked(&self) -> bool {
        self.relay.is_locked()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_as_prometheus_text() {
        let metrics = Metrics::default();
        metrics.frame_captured();
        metrics.frame_captured();
        metrics.frame_corrupt();
        let text = metrics.render();
        assert!(
            text.contains("\ngerbang_edge_frames_captured_total 2\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE gerbang_edge_frames_corrupt_total counter\n"));
        assert!(
            text.contains("\ngerbang_edge_frames_corrupt_total 1\n"),
            "{text}"
        );
    }

    #[test]
    fn a_counted_relay_counts_its_failures_and_passes_everything_on() {
        let metrics = Arc::new(Metrics::default());
        let sim = hal::sim::SimRelay::new(true);
        let relay = CountedRelay::new(Arc::new(sim.clone()), metrics.clone());
        relay.set_locked(false).unwrap();
        assert!(!relay.is_locked());
        sim.set_fault(Some("gpio".into()));
        assert!(relay.set_locked(true).is_err());
        assert!(relay.set_locked(true).is_err());
        assert_eq!(metrics.relay_errors(), 2);
        assert!(metrics
            .render()
            .contains("\ngerbang_edge_relay_errors_total 2\n"));
    }
}
