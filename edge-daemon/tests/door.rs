//! The door task on simulated hardware under paused tokio time: unlock and relock, relock
//! after passage, forced-open and held-open alarms, battery events, safe state.

use std::{sync::Arc, time::Duration};

use edge_daemon::{
    config::EdgeConfig,
    door::{self, BatteryCriticalAction, DoorHandle, DoorHardware},
    relay_guard::FailMode,
    store::{Boot, Durability, Outbox, Signer, Store, StoreOptions},
};
use hal::sim::{SimBattery, SimBatteryConfig, SimDoor, SimRelay};
use protocol::{open, AccessMethod, DeviceId, Envelope, Event, EventKind, Keypair};
use tokio_util::sync::CancellationToken;

struct Rig {
    relay: SimRelay,
    contact: SimDoor,
    battery: SimBattery,
    outbox: Outbox,
    door: DoorHandle,
    key: Keypair,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    rig_with(|_| {}).await
}

/// A rig whose door settings `tweak` adjusts.
async fn rig_with(tweak: impl FnOnce(&mut edge_daemon::door::DoorSettings)) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let key = Keypair::generate();
    let store = Store::open(
        &dir.path().join("edge.db"),
        Signer {
            device: DeviceId::parse("door-1").unwrap(),
            key: key.clone(),
        },
        Boot::now(),
        Arc::new(hal::SystemClock {
            assume_synced: true,
        }),
        StoreOptions {
            max_unsynced: 10_000,
            durability: Durability::Normal,
        },
    )
    .unwrap();
    let outbox = Outbox::new(store);
    let relay = SimRelay::new(false);
    let contact = SimDoor::new(false);
    let battery = SimBattery::new(SimBatteryConfig {
        on_mains: false,
        initial_percent: 21.0,
        ..Default::default()
    });
    let mut settings = EdgeConfig::default().door;
    settings.held_open_alarm_secs = 30;
    settings.debounce_ms = 40;
    tweak(&mut settings);
    let shutdown = CancellationToken::new();
    let hardware = DoorHardware {
        relay: Arc::new(relay.clone()),
        contact: Arc::new(contact.clone()),
        battery: Arc::new(battery.clone()),
    };
    let (door, task) = door::start(hardware, outbox.clone(), settings, shutdown.clone())
        .await
        .unwrap();
    Rig {
        relay,
        contact,
        battery,
        outbox,
        door,
        key,
        shutdown,
        task,
        _dir: dir,
    }
}

impl Rig {
    fn events(&self) -> Vec<Event> {
        let store = self.outbox.lock();
        store
            .pending_after(0, 10_000)
            .unwrap()
            .iter()
            .map(|f| {
                open::<Envelope>(&f.frame, &self.key.public())
                    .unwrap()
                    .event
            })
            .collect()
    }

    fn kinds(&self) -> Vec<EventKind> {
        self.events().iter().map(Event::kind).collect()
    }

    async fn settle(&self, duration: Duration) {
        // Let the door task poll through `duration` of paused time in small steps.
        let step = Duration::from_millis(10);
        let mut waited = Duration::ZERO;
        while waited < duration {
            tokio::time::sleep(step).await;
            waited += step;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn starts_locked_even_if_the_relay_was_open() {
    let rig = rig().await;
    assert!(rig.relay.history().last().unwrap().locked);
    assert!(rig.door.snapshot().borrow().locked);
    assert_eq!(rig.kinds()[0], EventKind::Relay);
}

#[tokio::test(start_paused = true)]
async fn unlock_relocks_on_the_timer_and_caps_the_duration() {
    let rig = rig().await;
    rig.door
        .unlock(Duration::from_secs(3600), AccessMethod::Remote, None)
        .await
        .unwrap();
    assert!(!rig.door.snapshot().borrow().locked);
    // max_unlock_ms defaults to 30 s: an hour is capped.
    rig.settle(Duration::from_secs(29)).await;
    assert!(!rig.door.snapshot().borrow().locked);
    rig.settle(Duration::from_secs(2)).await;
    assert!(
        rig.door.snapshot().borrow().locked,
        "the relay must relock when the cap runs out"
    );
    let switchings: Vec<bool> = rig.relay.history().iter().map(|s| s.locked).collect();
    assert_eq!(switchings, vec![true, false, true]);
}

#[tokio::test(start_paused = true)]
async fn relocks_as_soon_as_the_door_closes_after_passage() {
    let rig = rig().await;
    rig.door
        .unlock(Duration::from_secs(10), AccessMethod::ExitButton, None)
        .await
        .unwrap();
    rig.contact.set_open(true);
    rig.settle(Duration::from_millis(200)).await;
    rig.contact.set_open(false);
    rig.settle(Duration::from_millis(200)).await;
    assert!(rig.door.snapshot().borrow().locked);
    // Battery readings run on their own timer and may land anywhere in between.
    let kinds: Vec<EventKind> = rig
        .kinds()
        .into_iter()
        .filter(|k| *k != EventKind::Battery)
        .collect();
    assert!(
        kinds.ends_with(&[
            EventKind::Relay,
            EventKind::DoorOpened,
            EventKind::DoorClosed,
            EventKind::Relay
        ]),
        "{kinds:?}"
    );
    assert!(!kinds.contains(&EventKind::ForcedOpen));
}

#[tokio::test(start_paused = true)]
async fn opening_while_locked_is_forced_open_and_long_opening_is_held_open() {
    let rig = rig().await;
    rig.contact.set_open_bouncing(true, 3);
    rig.settle(Duration::from_millis(300)).await;
    let kinds = rig.kinds();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == EventKind::DoorOpened)
            .count(),
        1,
        "bounces must be debounced: {kinds:?}"
    );
    assert!(kinds.contains(&EventKind::ForcedOpen));
    rig.settle(Duration::from_secs(31)).await;
    assert!(rig
        .events()
        .iter()
        .any(|e| matches!(e, Event::HeldOpen { open_secs } if *open_secs >= 30)));
}

#[tokio::test(start_paused = true)]
async fn battery_readings_become_events_with_levels() {
    let rig = rig().await;
    rig.settle(Duration::from_millis(50)).await;
    rig.battery.set_percent(8.0);
    rig.settle(Duration::from_secs(61)).await;
    let levels: Vec<_> = rig
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Battery { level, .. } => Some(level),
            _ => None,
        })
        .collect();
    assert_eq!(levels.first(), Some(&protocol::BatteryLevel::Normal));
    assert_eq!(levels.last(), Some(&protocol::BatteryLevel::Critical));
}

#[tokio::test(start_paused = true)]
async fn shutdown_returns_the_relay_to_the_safe_state() {
    let mut rig = rig().await;
    rig.door
        .unlock(Duration::from_secs(20), AccessMethod::Remote, None)
        .await
        .unwrap();
    assert!(!rig.relay.history().last().unwrap().locked);
    rig.shutdown.cancel();
    let Rig { task, relay, .. } = &mut rig;
    task.await.unwrap();
    assert!(relay.history().last().unwrap().locked);
    assert!(rig
        .events()
        .iter()
        .any(|e| matches!(e, Event::Relay { locked: true, cause } if cause == "shutdown")));
}

#[tokio::test(start_paused = true)]
async fn a_fail_safe_door_is_released_at_shutdown() {
    let mut rig = rig_with(|s| s.fail_mode = FailMode::FailSafe).await;
    // At start every door is locked, whatever its failure state.
    assert!(rig.relay.history().last().unwrap().locked);
    rig.shutdown.cancel();
    let Rig { task, relay, .. } = &mut rig;
    task.await.unwrap();
    assert!(!relay.history().last().unwrap().locked);
    assert!(rig
        .events()
        .iter()
        .any(|e| matches!(e, Event::Relay { locked: false, cause } if cause == "shutdown")));
}

#[tokio::test(start_paused = true)]
async fn critical_battery_unlocks_and_holds_until_it_recovers_when_configured() {
    let rig = rig_with(|s| {
        s.on_battery_critical = BatteryCriticalAction::UnlockAndHold;
        s.battery_poll_secs = 1;
    })
    .await;
    rig.settle(Duration::from_millis(50)).await;
    rig.battery.set_percent(5.0);
    rig.settle(Duration::from_secs(2)).await;
    assert!(!rig.door.snapshot().borrow().locked, "released on critical");
    assert!(rig
        .events()
        .iter()
        .any(|e| matches!(e, Event::DeviceStatus { status, .. } if status == "battery_critical")));
    // Held: a passage does not relock it.
    rig.contact.set_open(true);
    rig.settle(Duration::from_millis(200)).await;
    rig.contact.set_open(false);
    rig.settle(Duration::from_secs(40)).await;
    assert!(!rig.door.snapshot().borrow().locked, "held while critical");
    rig.battery.set_percent(60.0);
    rig.settle(Duration::from_secs(2)).await;
    assert!(
        rig.door.snapshot().borrow().locked,
        "relocked once recovered"
    );
}

#[tokio::test(start_paused = true)]
async fn critical_battery_locks_a_stay_locked_door() {
    let rig = rig_with(|s| s.battery_poll_secs = 1).await;
    rig.door
        .unlock(Duration::from_secs(25), AccessMethod::Remote, None)
        .await
        .unwrap();
    rig.battery.set_percent(5.0);
    rig.settle(Duration::from_secs(2)).await;
    assert!(rig.door.snapshot().borrow().locked);
    assert!(rig
        .events()
        .iter()
        .any(|e| matches!(e, Event::Relay { locked: true, cause } if cause == "battery critical")));
}

#[tokio::test(start_paused = true)]
async fn a_grant_in_held_open_mode_does_not_start_a_relock_timer() {
    let rig = rig().await;
    rig.door
        .apply_settings(protocol::DoorSettings {
            mode: Some(protocol::DoorMode::HeldOpen),
            ..Default::default()
        })
        .await
        .unwrap();
    rig.door.grant(AccessMethod::Face, None).await.unwrap();
    rig.settle(Duration::from_secs(40)).await;
    assert!(!rig.door.snapshot().borrow().locked, "held open stays open");
}
