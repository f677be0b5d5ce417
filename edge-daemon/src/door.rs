//! The door: one task that owns the lock relay, watches the contact and the battery, and
//! records every change it makes as an event in the same transaction as the new state.
//!
//! Safety rules kept here: the relay is driven locked at start, and to the configured
//! failure state ([`FailMode`]) at shutdown and, through [`crate::relay_guard`], on a panic;
//! every unlock is capped and relocks on a timer, or as soon as the door has opened and
//! closed again; opening while locked is a forced-open alarm, standing open too long a
//! held-open alarm; a critical battery triggers the configured action and a status event.
//! A relay that fails a command is a fault: reported once (a `relay_fault` status event, a
//! warning, [`DoorSnapshot::relay_fault`]), no unlock is attempted while it lasts, and the
//! relay is driven to its failure state every [`RELAY_RETRY`] until it answers again
//! (`relay_recovered`), so a relock that failed is never forgotten.

use std::{sync::Arc, time::Duration};

use hal::{Battery, DoorSensor, Relay};
use protocol::{AccessMethod, BatteryLevel, DoorMode, Event};
use serde::{Deserialize, Serialize};
use tokio::{
    sync::{mpsc, oneshot, watch},
    time::Instant,
};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::{
    relay_guard::{self, FailMode, RelayGuard},
    store::{Outbox, StoreError},
};

/// How often a failing relay is driven to its failure state again.
pub const RELAY_RETRY: Duration = Duration::from_secs(1);

/// The `[door]` section: how the lock, the contact and the battery are handled.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DoorSettings {
    /// Unlock pulse for a granted person.
    pub unlock_ms: u32,
    /// No unlock lasts longer than this, whoever asks.
    pub max_unlock_ms: u32,
    /// A door open longer than this raises a held-open alarm.
    pub held_open_alarm_secs: u32,
    /// The contact must read the same for this long before a change counts.
    pub debounce_ms: u64,
    /// How often to read the battery.
    pub battery_poll_secs: u64,
    pub mode: DoorMode,
    /// Where the relay goes when the daemon stops or panics.
    #[serde(default)]
    pub fail_mode: FailMode,
    /// What the door does when the battery turns critical.
    #[serde(default)]
    pub on_battery_critical: BatteryCriticalAction,
}

impl Default for DoorSettings {
    fn default() -> Self {
        Self {
            unlock_ms: 5_000,
            max_unlock_ms: 30_000,
            held_open_alarm_secs: 60,
            debounce_ms: 100,
            battery_poll_secs: 60,
            mode: DoorMode::Normal,
            fail_mode: FailMode::FailSecure,
            on_battery_critical: BatteryCriticalAction::StayLocked,
        }
    }
}

/// What the door does when the battery turns critical (it is about to lose power).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatteryCriticalAction {
    /// Engage the lock now and keep deciding as usual.
    #[default]
    StayLocked,
    /// Release the lock and hold it released until the battery recovers (fail-safe sites:
    /// better open now than people trapped when the power dies).
    UnlockAndHold,
}

/// What the rest of the daemon sees of the door.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorSnapshot {
    pub locked: bool,
    pub door_open: bool,
    pub mode: DoorMode,
    pub battery_percent: Option<u8>,
    pub camera_active: bool,
    /// The relay failed its last command and has not answered since.
    #[serde(default)]
    pub relay_fault: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DoorError {
    #[error("relay: {0}")]
    Relay(#[from] hal::HalError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("the door task has stopped")]
    Stopped,
    #[error("the lock relay is failing; no unlock until it answers again")]
    RelayFault,
}

/// A request to the door task.
#[derive(Debug)]
enum Request {
    Unlock {
        /// `None`: the configured unlock pulse.
        duration: Option<Duration>,
        method: AccessMethod,
        decision: Option<Event>,
        reply: oneshot::Sender<Result<(), DoorError>>,
    },
    Lock {
        cause: String,
        reply: oneshot::Sender<Result<(), DoorError>>,
    },
    Settings {
        settings: protocol::DoorSettings,
        reply: oneshot::Sender<Result<(), DoorError>>,
    },
}

/// Talks to the door task.
#[derive(Debug, Clone)]
pub struct DoorHandle {
    requests: mpsc::Sender<Request>,
    snapshot: watch::Receiver<DoorSnapshot>,
}

impl DoorHandle {
    /// Releases the lock for `duration` (capped), recording `decision` with it if given.
    pub async fn unlock(
        &self,
        duration: Duration,
        method: AccessMethod,
        decision: Option<Event>,
    ) -> Result<(), DoorError> {
        self.ask(|reply| Request::Unlock {
            duration: Some(duration),
            method,
            decision,
            reply,
        })
        .await
    }

    /// Releases the lock for the configured unlock pulse (a granted face).
    pub async fn grant(
        &self,
        method: AccessMethod,
        decision: Option<Event>,
    ) -> Result<(), DoorError> {
        self.ask(|reply| Request::Unlock {
            duration: None,
            method,
            decision,
            reply,
        })
        .await
    }

    pub async fn lock(&self, cause: &str) -> Result<(), DoorError> {
        let cause = cause.to_owned();
        self.ask(|reply| Request::Lock { cause, reply }).await
    }

    pub async fn apply_settings(&self, settings: protocol::DoorSettings) -> Result<(), DoorError> {
        self.ask(|reply| Request::Settings { settings, reply })
            .await
    }

    pub fn snapshot(&self) -> watch::Receiver<DoorSnapshot> {
        self.snapshot.clone()
    }

    async fn ask(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<(), DoorError>>) -> Request,
    ) -> Result<(), DoorError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(make(reply))
            .await
            .map_err(|_| DoorError::Stopped)?;
        answer.await.map_err(|_| DoorError::Stopped)?
    }
}

/// The hardware the door task drives.
#[derive(Debug, Clone)]
pub struct DoorHardware {
    pub relay: Arc<dyn Relay>,
    pub contact: Arc<dyn DoorSensor>,
    pub battery: Arc<dyn Battery>,
}

const STATE_KEY: &str = "door";

/// Starts the door task. The relay is locked before this returns.
pub async fn start(
    hardware: DoorHardware,
    outbox: Outbox,
    mut settings: DoorSettings,
    shutdown: CancellationToken,
) -> Result<(DoorHandle, tokio::task::JoinHandle<()>), DoorError> {
    hardware.relay.set_locked(true)?;
    let guard = relay_guard::protect(
        hardware.relay.clone(),
        settings.fail_mode.locked_on_failure(),
    );
    let stored: Option<DoorSnapshot> = outbox.with(|s| s.get(STATE_KEY)).await?;
    if let Some(stored) = &stored {
        settings.mode = stored.mode;
    }
    let door_open = hardware.contact.is_open().unwrap_or(false);
    let snapshot = DoorSnapshot {
        locked: true,
        door_open,
        mode: settings.mode,
        battery_percent: stored.as_ref().and_then(|s| s.battery_percent),
        camera_active: stored.as_ref().is_none_or(|s| s.camera_active),
        relay_fault: false,
    };
    let was_unlocked = stored.as_ref().is_some_and(|s| !s.locked);
    let (snapshot_tx, snapshot_rx) = watch::channel(snapshot.clone());
    let (requests_tx, requests_rx) = mpsc::channel(32);
    let mut task = DoorTask {
        hardware,
        outbox,
        settings,
        state: snapshot,
        published: snapshot_tx,
        relock_at: None,
        opened_while_unlocked: false,
        contact: Debounced::new(door_open),
        open_since: door_open.then(Instant::now),
        held_open_reported: false,
        battery_level: None,
        battery_hold: false,
        _guard: guard,
    };
    // Whatever the daemon was doing when it last stopped, the door starts locked; if the
    // store still says unlocked the last run died mid-unlock, and that is worth an event.
    let cause = if was_unlocked {
        "restart after an unclean stop"
    } else {
        "start"
    };
    task.record(Event::Relay {
        locked: true,
        cause: cause.into(),
    })
    .await?;
    if task.state.mode == DoorMode::HeldOpen {
        task.set_relay(false, "mode held_open").await?;
    }
    let join = tokio::spawn(task.run(requests_rx, shutdown));
    Ok((
        DoorHandle {
            requests: requests_tx,
            snapshot: snapshot_rx,
        },
        join,
    ))
}

struct DoorTask {
    hardware: DoorHardware,
    outbox: Outbox,
    settings: DoorSettings,
    state: DoorSnapshot,
    published: watch::Sender<DoorSnapshot>,
    relock_at: Option<Instant>,
    opened_while_unlocked: bool,
    contact: Debounced,
    open_since: Option<Instant>,
    held_open_reported: bool,
    battery_level: Option<BatteryLevel>,
    /// Released and held because the battery is critical (`unlock_and_hold`).
    battery_hold: bool,
    /// Keeps the relay under the panic hook while this task lives.
    _guard: RelayGuard,
}

impl DoorTask {
    async fn run(mut self, mut requests: mpsc::Receiver<Request>, shutdown: CancellationToken) {
        let poll = Duration::from_millis((self.settings.debounce_ms / 4).clamp(1, 25));
        let mut contact_tick = tokio::time::interval(poll);
        contact_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut battery_tick =
            tokio::time::interval(Duration::from_secs(self.settings.battery_poll_secs.max(1)));
        battery_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut relay_tick = tokio::time::interval(RELAY_RETRY);
        relay_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let held_open_at = match (self.open_since, self.held_open_reported, self.state.mode) {
                (Some(since), false, DoorMode::Normal | DoorMode::LockedDown) => {
                    Some(since + Duration::from_secs(u64::from(self.settings.held_open_alarm_secs)))
                }
                _ => None,
            };
            let result = tokio::select! {
                _ = shutdown.cancelled() => break,
                request = requests.recv() => match request {
                    Some(request) => { self.handle(request).await; Ok(()) }
                    None => break,
                },
                _ = sleep_until_opt(self.relock_at) => {
                    self.relock_at = None;
                    if self.battery_hold {
                        Ok(())
                    } else {
                        self.set_relay(true, "timer").await
                    }
                }
                _ = sleep_until_opt(held_open_at) => self.held_open().await,
                _ = contact_tick.tick() => self.poll_contact().await,
                _ = battery_tick.tick() => self.poll_battery().await,
                _ = relay_tick.tick(), if self.state.relay_fault => self.retry_relay().await,
            };
            if let Err(e) = result {
                error!(error = %e, "Door task error.");
            }
        }
        // Shutdown: to the failure state whatever happens to the store.
        let locked = self.settings.fail_mode.locked_on_failure();
        if let Err(e) = self.hardware.relay.set_locked(locked) {
            error!(error = %e, locked, "Could not drive the relay to its failure state at shutdown.");
        }
        if self.state.locked != locked {
            let _ = self
                .record_state_change(
                    |s| s.locked = locked,
                    Event::Relay {
                        locked,
                        cause: "shutdown".into(),
                    },
                )
                .await;
        }
        match self.settings.fail_mode {
            FailMode::FailSecure => info!("Door task stopped; relay locked (fail-secure)."),
            FailMode::FailSafe => info!("Door task stopped; relay released (fail-safe)."),
        }
    }

    async fn handle(&mut self, request: Request) {
        match request {
            Request::Unlock {
                duration,
                method,
                decision,
                reply,
            } => {
                let _ = reply.send(self.unlock(duration, method, decision).await);
            }
            Request::Lock { cause, reply } => {
                self.relock_at = None;
                // An explicit lock overrides the battery hold.
                self.battery_hold = false;
                let result = if self.state.mode == DoorMode::HeldOpen {
                    Ok(())
                } else {
                    self.set_relay(true, &cause).await
                };
                let _ = reply.send(result);
            }
            Request::Settings { settings, reply } => {
                let _ = reply.send(self.apply(settings).await);
            }
        }
    }

    async fn unlock(
        &mut self,
        duration: Option<Duration>,
        method: AccessMethod,
        decision: Option<Event>,
    ) -> Result<(), DoorError> {
        let cap = Duration::from_millis(u64::from(self.settings.max_unlock_ms));
        let duration = duration
            .unwrap_or(Duration::from_millis(u64::from(self.settings.unlock_ms)))
            .min(cap);
        if self.state.relay_fault {
            return Err(DoorError::RelayFault);
        }
        if let Err(error) = self.hardware.relay.set_locked(false) {
            self.relay_failed(&error).await;
            return Err(error.into());
        }
        let cause = format!("{method:?}").to_lowercase();
        let mut events = Vec::with_capacity(2);
        events.extend(decision);
        if self.state.locked {
            events.push(Event::Relay {
                locked: false,
                cause,
            });
        }
        // The relay is released whether or not the disk takes the event (a full SD card):
        // the relock timer is set either way.
        let recorded = self.commit(|s| s.locked = false, events).await;
        if recorded.is_err() {
            self.note_relay(false);
        }
        // Held open stays open: no relock timer (the mode change relocks).
        if self.state.mode != DoorMode::HeldOpen {
            self.relock_at = Some(Instant::now() + duration);
        }
        self.opened_while_unlocked = false;
        recorded
    }

    /// The relay is `locked` though its event could not be written: the door must still
    /// know (to relock, to refuse what a locked door refuses).
    fn note_relay(&mut self, locked: bool) {
        self.state.locked = locked;
        self.published.send_replace(self.state.clone());
    }

    async fn apply(&mut self, settings: protocol::DoorSettings) -> Result<(), DoorError> {
        if let Some(ms) = settings.unlock_ms {
            self.settings.unlock_ms = ms.min(self.settings.max_unlock_ms);
        }
        if let Some(secs) = settings.held_open_alarm_secs {
            self.settings.held_open_alarm_secs = secs;
        }
        let camera = settings.camera_active.unwrap_or(self.state.camera_active);
        let mode = settings.mode.unwrap_or(self.state.mode);
        if mode != self.state.mode || camera != self.state.camera_active {
            let event = Event::DeviceStatus {
                status: "settings".into(),
                firmware: crate::FIRMWARE.into(),
                mode,
            };
            self.commit(
                |s| {
                    s.mode = mode;
                    s.camera_active = camera;
                },
                vec![event],
            )
            .await?;
            match mode {
                DoorMode::HeldOpen => self.set_relay(false, "mode held_open").await?,
                _ if !self.state.locked && self.relock_at.is_none() && !self.battery_hold => {
                    self.set_relay(true, "mode change").await?
                }
                _ => {}
            }
        }
        Ok(())
    }

    async fn set_relay(&mut self, locked: bool, cause: &str) -> Result<(), DoorError> {
        if let Err(error) = self.hardware.relay.set_locked(locked) {
            self.relay_failed(&error).await;
            return Err(error.into());
        }
        if self.state.locked != locked {
            let recorded = self
                .record_state_change(
                    |s| s.locked = locked,
                    Event::Relay {
                        locked,
                        cause: cause.to_owned(),
                    },
                )
                .await;
            if recorded.is_err() {
                self.note_relay(locked);
            }
            recorded?;
        }
        Ok(())
    }

    async fn poll_contact(&mut self) -> Result<(), DoorError> {
        let raw = match self.hardware.contact.is_open() {
            Ok(raw) => raw,
            Err(e) => {
                warn!(error = %e, "Door contact unreadable.");
                return Ok(());
            }
        };
        let Some(open) = self.contact.update(
            raw,
            Instant::now(),
            Duration::from_millis(self.settings.debounce_ms),
        ) else {
            return Ok(());
        };
        if open {
            self.open_since = Some(Instant::now());
            self.held_open_reported = false;
            let mut events = vec![Event::DoorOpened];
            if self.state.locked {
                warn!("Door forced open.");
                events.push(Event::ForcedOpen);
            } else {
                self.opened_while_unlocked = true;
            }
            self.commit(|s| s.door_open = true, events).await?;
        } else {
            let open_ms = self
                .open_since
                .take()
                .map_or(0, |t| t.elapsed().as_millis() as u64);
            self.commit(|s| s.door_open = false, vec![Event::DoorClosed { open_ms }])
                .await?;
            if self.opened_while_unlocked
                && !self.state.locked
                && self.state.mode != DoorMode::HeldOpen
                && !self.battery_hold
            {
                // Someone went through: relock now rather than waiting for the timer.
                self.relock_at = None;
                self.opened_while_unlocked = false;
                self.set_relay(true, "door closed").await?;
            }
        }
        Ok(())
    }

    async fn held_open(&mut self) -> Result<(), DoorError> {
        self.held_open_reported = true;
        let open_secs = self.open_since.map_or(0, |t| t.elapsed().as_secs());
        warn!(open_secs, "Door held open.");
        self.record(Event::HeldOpen { open_secs }).await
    }

    async fn poll_battery(&mut self) -> Result<(), DoorError> {
        let reading = match self.hardware.battery.read() {
            Ok(reading) => reading,
            Err(e) => {
                warn!(error = %e, "Battery unreadable.");
                return Ok(());
            }
        };
        let Some(percent) = reading
            .percent
            .or_else(|| reading.millivolts.map(battery_percent))
        else {
            return Ok(());
        };
        let level = match percent {
            0..=9 => BatteryLevel::Critical,
            10..=19 => BatteryLevel::Low,
            _ => BatteryLevel::Normal,
        };
        if self.state.battery_percent == Some(percent) && self.battery_level == Some(level) {
            return Ok(());
        }
        if self.battery_level.is_some_and(|old| old != level) && level != BatteryLevel::Normal {
            warn!(percent, ?level, "Battery low.");
        }
        let previous = self.battery_level.replace(level);
        let event = Event::Battery {
            percent,
            millivolts: reading.millivolts,
            charging: reading.charging,
            level,
        };
        self.commit(|s| s.battery_percent = Some(percent), vec![event])
            .await?;
        match (
            previous == Some(BatteryLevel::Critical),
            level == BatteryLevel::Critical,
        ) {
            (false, true) => self.battery_critical().await,
            (true, false) => self.battery_recovered().await,
            _ => Ok(()),
        }
    }

    /// The battery has just turned critical: a status event, then the configured action.
    async fn battery_critical(&mut self) -> Result<(), DoorError> {
        let action = self.settings.on_battery_critical;
        warn!(?action, "Battery critical.");
        self.record(Event::DeviceStatus {
            status: "battery_critical".into(),
            firmware: crate::FIRMWARE.into(),
            mode: self.state.mode,
        })
        .await?;
        match action {
            BatteryCriticalAction::StayLocked => {
                if self.state.mode == DoorMode::HeldOpen {
                    return Ok(());
                }
                self.relock_at = None;
                self.set_relay(true, "battery critical").await
            }
            BatteryCriticalAction::UnlockAndHold => {
                self.battery_hold = true;
                self.relock_at = None;
                self.set_relay(false, "battery critical").await
            }
        }
    }

    async fn battery_recovered(&mut self) -> Result<(), DoorError> {
        self.record(Event::DeviceStatus {
            status: "battery_recovered".into(),
            firmware: crate::FIRMWARE.into(),
            mode: self.state.mode,
        })
        .await?;
        if std::mem::take(&mut self.battery_hold) && self.state.mode != DoorMode::HeldOpen {
            self.set_relay(true, "battery recovered").await?;
        }
        Ok(())
    }

    /// A relay command failed: the first failure is reported (warning, status event, the
    /// snapshot's flag); the retry tick takes it from there.
    async fn relay_failed(&mut self, error: &hal::HalError) {
        if self.state.relay_fault {
            return;
        }
        let locked = self.settings.fail_mode.locked_on_failure();
        warn!(%error, locked, "The lock relay fails; it is driven to its failure state until it answers.");
        self.relock_at = None;
        let event = Event::DeviceStatus {
            status: "relay_fault".into(),
            firmware: crate::FIRMWARE.into(),
            mode: self.state.mode,
        };
        if let Err(error) = self.commit(|s| s.relay_fault = true, vec![event]).await {
            // The door still knows; only the report is missing.
            error!(%error, "Could not record the relay fault.");
            self.state.relay_fault = true;
            self.published.send_replace(self.state.clone());
        }
    }

    /// Drives a failing relay to its failure state again; once it answers, the fault is
    /// over and the door's mode applies again.
    async fn retry_relay(&mut self) -> Result<(), DoorError> {
        let locked = self.settings.fail_mode.locked_on_failure();
        if self.hardware.relay.set_locked(locked).is_err() {
            return Ok(());
        }
        info!(locked, "The lock relay answers again.");
        let mut events = vec![Event::DeviceStatus {
            status: "relay_recovered".into(),
            firmware: crate::FIRMWARE.into(),
            mode: self.state.mode,
        }];
        if self.state.locked != locked {
            events.push(Event::Relay {
                locked,
                cause: "relay recovered".into(),
            });
        }
        let recorded = self
            .commit(
                |s| {
                    s.relay_fault = false;
                    s.locked = locked;
                },
                events,
            )
            .await;
        if recorded.is_err() {
            self.state.relay_fault = false;
            self.note_relay(locked);
        }
        recorded?;
        match self.state.mode {
            DoorMode::HeldOpen => self.set_relay(false, "mode held_open").await,
            _ if !locked && !self.battery_hold => self.set_relay(true, "relay recovered").await,
            _ => Ok(()),
        }
    }

    async fn record(&mut self, event: Event) -> Result<(), DoorError> {
        self.commit(|_| {}, vec![event]).await
    }

    async fn record_state_change(
        &mut self,
        change: impl FnOnce(&mut DoorSnapshot),
        event: Event,
    ) -> Result<(), DoorError> {
        self.commit(change, vec![event]).await
    }

    /// Applies `change` to the door state and writes the new state with `events` in one
    /// transaction; the in-memory state changes only once that has committed.
    async fn commit(
        &mut self,
        change: impl FnOnce(&mut DoorSnapshot),
        events: Vec<Event>,
    ) -> Result<(), DoorError> {
        let mut next = self.state.clone();
        change(&mut next);
        let stored = next.clone();
        self.outbox
            .write(move |w| {
                w.set(STATE_KEY, &stored)?;
                for event in events {
                    w.emit(event)?;
                }
                Ok(())
            })
            .await?;
        self.state = next;
        self.published.send_replace(self.state.clone());
        Ok(())
    }
}

/// A contact reading that counts only once it has been stable for the debounce time.
#[derive(Debug)]
struct Debounced {
    stable: bool,
    candidate: Option<(bool, Instant)>,
}

impl Debounced {
    fn new(initial: bool) -> Self {
        Self {
            stable: initial,
            candidate: None,
        }
    }

    /// Feeds a raw reading; returns the new stable value when it changes.
    fn update(&mut self, raw: bool, now: Instant, debounce: Duration) -> Option<bool> {
        if raw == self.stable {
            self.candidate = None;
            return None;
        }
        match self.candidate {
            Some((value, since)) if value == raw => {
                if now.duration_since(since) >= debounce {
                    self.stable = raw;
                    self.candidate = None;
                    return Some(raw);
                }
            }
            _ => self.candidate = Some((raw, now)),
        }
        None
    }
}

fn battery_percent(millivolts: u32) -> u8 {
    hal::liion::percent_from_millivolts(millivolts, 1)
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debounce_ignores_bounces_shorter_than_the_window() {
        let mut contact = Debounced::new(false);
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(contact.update(true, t0, ms(50)), None);
        assert_eq!(contact.update(false, t0 + ms(10), ms(50)), None);
        assert_eq!(contact.update(true, t0 + ms(20), ms(50)), None);
        assert_eq!(contact.update(true, t0 + ms(60), ms(50)), None);
        assert_eq!(contact.update(true, t0 + ms(71), ms(50)), Some(true));
        assert_eq!(contact.update(true, t0 + ms(200), ms(50)), None);
    }
}
