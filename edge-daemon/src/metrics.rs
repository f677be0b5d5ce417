//! Counters of what the daemon has seen, shown to the installer by the local API
//! (`GET /api/local/metrics`) in the Prometheus text format, like the cloud's `/metrics`.

use std::{
    fmt::Write,
    sync::atomic::{AtomicU64, Ordering},
};

/// The daemon's counters; one instance is shared (`Arc`) by the parts that count and the API
/// that shows them.
#[derive(Debug, Default)]
pub struct Metrics {
    frames_captured: AtomicU64,
    frames_corrupt: AtomicU64,
}

impl Metrics {
    /// The camera delivered a frame.
    pub fn frame_captured(&self) {
        self.frames_captured.fetch_add(1, Ordering::Relaxed);
    }

    /// The camera delivered a damaged frame, which was dropped; returns how many so far.
    pub fn frame_corrupt(&self) -> u64 {
        self.frames_corrupt.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn frames_captured(&self) -> u64 {
        self.frames_captured.load(Ordering::Relaxed)
    }

    pub fn frames_corrupt(&self) -> u64 {
        self.frames_corrupt.load(Ordering::Relaxed)
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

#[cfg(test)]
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
            text.ends_with("\ngerbang_edge_frames_corrupt_total 1\n"),
            "{text}"
        );
    }
}
