//! The systemd watchdog: tells systemd the daemon is ready, pings it only while the door
//! task and the sync are alive, and says when the daemon is stopping.
//!
//! The door task polls its contact every few milliseconds, so [`HeartbeatContact`] wraps the
//! contact and counts those reads: a door loop that is stuck (a hung relay driver, a wedged
//! store) stops beating, the pings stop, and systemd restarts the daemon after
//! `WatchdogSec`. A task that has ended for good triggers the watchdog at once. Without
//! `NOTIFY_SOCKET` (not under systemd, tests, the all-in-one binary) every notification is
//! a no-op.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use hal::{DoorSensor, HalError};
use sd_notify::NotifyState;
use tokio::{task::AbortHandle, time::Instant};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info};

/// A counter the door task bumps on every pass of its loop (through its contact reads).
#[derive(Debug, Clone, Default)]
pub struct Heartbeat(Arc<AtomicU64>);

impl Heartbeat {
    pub fn beat(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The door contact, beating the heart on every read.
#[derive(Debug)]
pub struct HeartbeatContact {
    inner: Arc<dyn DoorSensor>,
    heartbeat: Heartbeat,
}

impl HeartbeatContact {
    pub fn new(inner: Arc<dyn DoorSensor>, heartbeat: Heartbeat) -> Self {
        Self { inner, heartbeat }
    }
}

impl DoorSensor for HeartbeatContact {
    fn is_open(&self) -> Result<bool, HalError> {
        self.heartbeat.beat();
        self.inner.is_open()
    }
}

/// What must be alive for the daemon to count as healthy.
#[derive(Debug)]
pub struct Liveness {
    /// Beaten by the door loop.
    pub door: Heartbeat,
    /// No beat for this long means the door loop is stuck.
    pub door_stall: Duration,
    /// Tasks that must never end before shutdown: the door task and the sync tasks.
    pub tasks: Vec<(&'static str, AbortHandle)>,
}

/// Why the daemon is not healthy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unhealthy {
    #[error("the {0} task has ended")]
    TaskEnded(&'static str),
    #[error("the door loop has not run for {0:?}")]
    DoorStalled(Duration),
}

impl Unhealthy {
    /// An ended task never comes back; a stall might.
    fn is_final(&self) -> bool {
        matches!(self, Unhealthy::TaskEnded(_))
    }
}

/// Tracks the heartbeat between checks.
#[derive(Debug)]
struct Checker {
    liveness: Liveness,
    last_count: u64,
    last_change: Instant,
}

impl Checker {
    fn new(liveness: Liveness) -> Self {
        Self {
            last_count: liveness.door.count(),
            liveness,
            last_change: Instant::now(),
        }
    }

    fn check(&mut self) -> Result<(), Unhealthy> {
        if let Some((name, _)) = self
            .liveness
            .tasks
            .iter()
            .find(|(_, task)| task.is_finished())
        {
            return Err(Unhealthy::TaskEnded(name));
        }
        let count = self.liveness.door.count();
        let now = Instant::now();
        if count != self.last_count {
            self.last_count = count;
            self.last_change = now;
        }
        let silent = now - self.last_change;
        if silent > self.liveness.door_stall {
            return Err(Unhealthy::DoorStalled(silent));
        }
        Ok(())
    }
}

/// The watchdog interval systemd asked for (`WatchdogSec=`), if any.
pub fn interval_from_env() -> Option<Duration> {
    sd_notify::watchdog_enabled()
}

fn notify(states: &[NotifyState]) {
    // Failing to reach systemd must never stop the door; it will notice the silence.
    if let Err(e) = sd_notify::notify(states) {
        debug!(error = %e, "Could not notify systemd.");
    }
}

/// Sends READY=1, then WATCHDOG=1 every half `interval` while `liveness` holds, and
/// STOPPING=1 once `shutdown` is cancelled.
pub async fn run(liveness: Liveness, interval: Option<Duration>, shutdown: CancellationToken) {
    notify(&[NotifyState::Ready, NotifyState::Status("running")]);
    let Some(interval) = interval.filter(|i| !i.is_zero()) else {
        shutdown.cancelled().await;
        notify(&[NotifyState::Stopping]);
        return;
    };
    info!(?interval, "Systemd watchdog enabled.");
    let mut checker = Checker::new(liveness);
    let mut tick = tokio::time::interval(interval / 2);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing: Option<Unhealthy> = None;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        // Tasks end on purpose during shutdown; that is no failure.
        if shutdown.is_cancelled() {
            break;
        }
        match checker.check() {
            Ok(()) => {
                if let Some(was) = failing.take() {
                    info!(reason = %was, "Healthy again; watchdog pings resume.");
                    notify(&[NotifyState::Status("running")]);
                }
                notify(&[NotifyState::Watchdog]);
            }
            Err(reason) => {
                if failing.as_ref() != Some(&reason) {
                    error!(%reason, "Unhealthy; withholding watchdog pings.");
                    let status = format!("unhealthy: {reason}");
                    if reason.is_final() {
                        notify(&[NotifyState::Status(&status), NotifyState::WatchdogTrigger]);
                    } else {
                        notify(&[NotifyState::Status(&status)]);
                    }
                }
                failing = Some(reason);
            }
        }
    }
    notify(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checker(tasks: Vec<(&'static str, AbortHandle)>) -> (Heartbeat, Checker) {
        let door = Heartbeat::default();
        let checker = Checker::new(Liveness {
            door: door.clone(),
            door_stall: Duration::from_secs(5),
            tasks,
        });
        (door, checker)
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_door_loop_is_a_stall_until_it_beats_again() {
        let (door, mut checker) = checker(Vec::new());
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(checker.check(), Ok(()));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(matches!(checker.check(), Err(Unhealthy::DoorStalled(_))));
        door.beat();
        assert_eq!(checker.check(), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn an_ended_task_is_final() {
        let alive = tokio::spawn(std::future::pending::<()>());
        let ended = tokio::spawn(async {});
        let (_door, mut checker) = checker(vec![
            ("door", alive.abort_handle()),
            ("mqtt", ended.abort_handle()),
        ]);
        while !ended.is_finished() {
            tokio::task::yield_now().await;
        }
        let reason = checker.check().unwrap_err();
        assert_eq!(reason, Unhealthy::TaskEnded("mqtt"));
        assert!(reason.is_final());
        alive.abort();
    }
}
