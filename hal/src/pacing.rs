//! Frame pacing shared by camera backends: the simulator holds `capture` to a frame rate
//! with it, and a real backend can use it when a device delivers faster than wanted.

use std::time::{Duration, Instant};

/// Holds frames to a fixed cadence, as a sensor does: a frame is ready one interval after the
/// previous one, and a caller who comes late gets one at once (frames are not queued up).
///
/// Pure bookkeeping over instants the caller passes in, so it is tested without sleeping.
#[derive(Debug, Clone)]
pub struct FramePacer {
    interval: Duration,
    next: Option<Instant>,
}

impl FramePacer {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            next: None,
        }
    }

    /// Reserves the next frame slot for a caller arriving at `now`: returns how long it must
    /// wait for that slot. Callers arriving together get successive slots.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        let slot = match self.next {
            Some(next) if next > now => next,
            _ => now,
        };
        self.next = slot.checked_add(self.interval);
        slot.saturating_duration_since(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_holds_a_fixed_cadence() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let mut pacer = FramePacer::new(ms(100));
        assert_eq!(pacer.reserve(t0), Duration::ZERO, "first frame at once");
        assert_eq!(
            pacer.reserve(t0 + ms(30)),
            ms(70),
            "early caller waits for the slot"
        );
        // That caller's slot was t0+100; a second caller at the same moment gets t0+200.
        assert_eq!(pacer.reserve(t0 + ms(30)), ms(170));
        // A late caller gets a frame at once; the cadence restarts from there.
        assert_eq!(pacer.reserve(t0 + ms(500)), Duration::ZERO);
        assert_eq!(pacer.reserve(t0 + ms(520)), ms(80));
    }

    #[test]
    fn unpaced_pacer_never_waits() {
        let t0 = Instant::now();
        let mut pacer = FramePacer::new(Duration::ZERO);
        assert!((0..5).all(|_| pacer.reserve(t0).is_zero()));
    }
}
