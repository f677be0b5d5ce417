//! Latency figures for the bench binaries: an HDR histogram of microseconds and the one line
//! each bench prints per measured thing (p50, p99, max, samples, and a rate when timed).

use std::time::Duration;

use hdrhistogram::Histogram;

/// Latencies of one kind, in microseconds (1 µs to 60 s, 3 significant digits).
#[derive(Debug, Clone)]
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    pub fn new() -> Latencies {
        Latencies(Histogram::new_with_bounds(1, 60_000_000, 3).expect("static bounds"))
    }

    pub fn record(&mut self, latency: Duration) {
        self.record_ms(latency.as_secs_f64() * 1000.0);
    }

    /// Records `ms` milliseconds (negative values count as 0: an event heard before the
    /// answer that caused it was read).
    pub fn record_ms(&mut self, ms: f64) {
        let micros = (ms.max(0.0) * 1000.0) as u64;
        self.0.saturating_record(micros.max(1));
    }

    pub fn add(&mut self, other: &Latencies) {
        let _ = self.0.add(&other.0);
    }

    pub fn len(&self) -> u64 {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The quantile `q` (0–1) in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.0.value_at_quantile(q) as f64 / 1000.0
    }

    /// `name  p50 … ms  p99 … ms  max … ms  (n samples)  rate/s`.
    pub fn line(&self, name: &str, elapsed: Option<Duration>) -> String {
        let rate = elapsed
            .map(|e| format!("  {:>8.0}/s", self.len() as f64 / e.as_secs_f64()))
            .unwrap_or_default();
        format!(
            "  {name:<36} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({} samples){rate}",
            self.ms(0.5),
            self.ms(0.99),
            self.0.max() as f64 / 1000.0,
            self.len()
        )
    }
}
