//! Jittered exponential back-off for reconnecting: 1 s doubling to 60 s, each wait drawn
//! from the upper half of the current step so a fleet of doors does not reconnect in step.
//! A wait ends early when the wall clock jumps ([`wait`]): a door that booted at 1970 fails
//! every TLS handshake until NTP sets its clock, and should try again then, not at the end
//! of a back-off that has grown to a minute.

use std::time::{Duration, SystemTime};

use rand::Rng;

#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    step: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            step: min,
        }
    }

    /// The wait before the next attempt; each call doubles the step up to the maximum.
    pub fn next_delay(&mut self) -> Duration {
        let step = self.step;
        self.step = (self.step * 2).min(self.max);
        let half = step / 2;
        half + rand::thread_rng().gen_range(Duration::ZERO..=half)
    }

    /// A successful connection starts the next outage from the minimum again.
    pub fn reset(&mut self) {
        self.step = self.min;
    }
}

/// A change of the wall clock against the monotonic clock that counts as the clock being set.
const CLOCK_JUMP: Duration = Duration::from_secs(5);

/// Sleeps `delay`, or until the wall clock jumps; true when it jumped (the caller retries at
/// once and resets its back-off).
pub async fn wait(delay: Duration) -> bool {
    wait_watching(delay, SystemTime::now).await
}

async fn wait_watching(delay: Duration, wall: impl Fn() -> SystemTime) -> bool {
    let (wall_start, start) = (wall(), tokio::time::Instant::now());
    let deadline = start + delay;
    loop {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return false;
        }
        tokio::time::sleep((deadline - now).min(Duration::from_secs(1))).await;
        let elapsed = start.elapsed();
        let drift = match wall().duration_since(wall_start) {
            Ok(wall_elapsed) => wall_elapsed.abs_diff(elapsed),
            // Set backwards.
            Err(back) => back.duration() + elapsed,
        };
        if drift > CLOCK_JUMP {
            return true;
        }
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap_with_jitter_and_resets() {
        let mut backoff = Backoff::default();
        let first = backoff.next_delay();
        assert!(first >= Duration::from_millis(500) && first <= Duration::from_secs(1));
        let delays: Vec<_> = (0..10).map(|_| backoff.next_delay()).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(60)));
        assert!(delays.last().unwrap() >= &Duration::from_secs(30));
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_ends_when_the_wall_clock_jumps_and_not_otherwise() {
        let boot = SystemTime::UNIX_EPOCH;
        let started = tokio::time::Instant::now();
        // The clock keeps time with the monotonic one: the whole delay is waited.
        let steady = move || boot + started.elapsed();
        assert!(!wait_watching(Duration::from_secs(60), steady).await);
        assert!(started.elapsed() >= Duration::from_secs(60));
        // NTP sets the clock 3 s into a minute's wait: the wait ends within a second of it.
        let started = tokio::time::Instant::now();
        let set_by_ntp = move || {
            let elapsed = started.elapsed();
            if elapsed >= Duration::from_secs(3) {
                SystemTime::now()
            } else {
                boot + elapsed
            }
        };
        assert!(wait_watching(Duration::from_secs(60), set_by_ntp).await);
        assert!(started.elapsed() <= Duration::from_secs(4));
    }
}
