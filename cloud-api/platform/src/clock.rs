//! The wall clock sessions are judged by: system time plus an offset that tests move
//! forward, so token expiry and rotation are tested without sleeping.

use std::{
    sync::atomic::{AtomicI64, Ordering},
    time::Duration,
};

use time::OffsetDateTime;

/// System time, shifted by an offset that only ever grows.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
            + time::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Seconds since the Unix epoch.
    pub fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }

    /// Moves this clock forward (tests: expire tokens without waiting).
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances() {
        let clock = Clock::default();
        let before = clock.unix();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.unix() >= before + 3600);
    }
}
