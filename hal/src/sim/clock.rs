//! A simulated wall clock whose time and synchronisation the test decides.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

use super::lock;
use crate::Clock;

#[derive(Debug)]
struct State {
    base: OffsetDateTime,
    /// When `base` was read off, for a running clock; `None` for a frozen one.
    anchor: Option<tokio::time::Instant>,
    synced: bool,
}

/// A wall clock in memory: frozen ([`SimClock::frozen`], moves only when set or advanced) or
/// running ([`SimClock::running`], ticks with `tokio::time::Instant`, so it follows
/// `tokio::time::pause`/`advance` in tests and real time in the demo).
#[derive(Debug, Clone)]
pub struct SimClock {
    state: Arc<Mutex<State>>,
}

impl SimClock {
    /// A clock that shows `at` until it is set or advanced.
    pub fn frozen(at: OffsetDateTime, synced: bool) -> Self {
        Self::with_anchor(at, None, synced)
    }

    /// A clock that shows `at` now and then ticks with tokio's clock.
    pub fn running(at: OffsetDateTime, synced: bool) -> Self {
        Self::with_anchor(at, Some(tokio::time::Instant::now()), synced)
    }

    fn with_anchor(
        base: OffsetDateTime,
        anchor: Option<tokio::time::Instant>,
        synced: bool,
    ) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                base,
                anchor,
                synced,
            })),
        }
    }

    /// Jumps to `at` (as NTP does when it first synchronises); a running clock goes on ticking.
    pub fn set(&self, at: OffsetDateTime) {
        let mut state = lock(&self.state);
        state.base = at;
        if state.anchor.is_some() {
            state.anchor = Some(tokio::time::Instant::now());
        }
    }

    /// Moves the clock forward by `by`. Saturates at the end of `OffsetDateTime`'s range.
    pub fn advance(&self, by: Duration) {
        let mut state = lock(&self.state);
        state.base = add_saturating(state.base, by);
    }

    pub fn set_synced(&self, synced: bool) {
        lock(&self.state).synced = synced;
    }
}

fn add_saturating(at: OffsetDateTime, by: Duration) -> OffsetDateTime {
    time::Duration::try_from(by)
        .ok()
        .and_then(|by| at.checked_add(by))
        .unwrap_or_else(|| time::PrimitiveDateTime::MAX.assume_offset(at.offset()))
}

impl Clock for SimClock {
    fn now(&self) -> OffsetDateTime {
        let state = lock(&self.state);
        match state.anchor {
            Some(anchor) => add_saturating(state.base, anchor.elapsed()),
            None => state.base,
        }
    }

    fn is_synced(&self) -> bool {
        lock(&self.state).synced
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn frozen_clock_moves_only_when_told() {
        let clock = SimClock::frozen(datetime!(2026-01-01 00:00 UTC), false);
        assert_eq!(clock.now(), datetime!(2026-01-01 00:00 UTC));
        assert!(!clock.is_synced());
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), datetime!(2026-01-01 00:01:30 UTC));
        clock.set(datetime!(2026-05-05 12:00 UTC));
        clock.set_synced(true);
        assert_eq!(clock.now(), datetime!(2026-05-05 12:00 UTC));
        assert!(clock.is_synced());
    }

    #[test]
    fn advance_saturates_instead_of_panicking() {
        let clock = SimClock::frozen(datetime!(2026-01-01 00:00 UTC), true);
        clock.advance(Duration::MAX);
        assert!(clock.now() > datetime!(9999-01-01 00:00 UTC));
    }

    #[tokio::test(start_paused = true)]
    async fn running_clock_follows_tokio_time() {
        let clock = SimClock::running(datetime!(2026-01-01 00:00 UTC), true);
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(clock.now(), datetime!(2026-01-01 00:01 UTC));
        clock.set(datetime!(2030-01-01 00:00 UTC));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(clock.now(), datetime!(2030-01-01 00:00:01 UTC));
    }

    #[test]
    fn is_a_shared_trait_object() {
        let clock = SimClock::frozen(datetime!(2026-01-01 00:00 UTC), false);
        let daemon: Arc<dyn Clock> = Arc::new(clock.clone());
        clock.set_synced(true);
        assert!(daemon.is_synced());
    }
}
