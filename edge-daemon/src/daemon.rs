//! Assembles the daemon: store, door, sync, commands and (for `sim`) the simulated world,
//! and runs them until shutdown.

use std::sync::Arc;

use hal::{Battery, Clock, DoorSensor, Relay};
use protocol::{DeviceState, VERSION};
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::{
    commands,
    config::EdgeConfig,
    door::{self, DoorError, DoorHardware, DoorSnapshot},
    identity::{Identity, IdentityError},
    sim::{self, SimWorld},
    store::{Boot, Outbox, Signer, Store, StoreError, StoreOptions},
    sync::{self, Link, SyncHandle, SyncStatus},
    transport::TransportError,
    watchdog::{self, Heartbeat, HeartbeatContact, Liveness},
    FIRMWARE,
};

/// The door loop runs every few milliseconds; this long without a pass means it is stuck.
const DOOR_STALL: std::time::Duration = std::time::Duration::from_secs(10);

/// The hardware a daemon drives.
#[derive(Debug, Clone)]
pub struct Hardware {
    pub relay: Arc<dyn Relay>,
    pub contact: Arc<dyn DoorSensor>,
    pub battery: Arc<dyn Battery>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Door(#[from] DoorError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// A running daemon, for the all-in-one binary and tests.
#[derive(Debug)]
pub struct Running {
    pub outbox: Outbox,
    pub door: door::DoorHandle,
    pub sync: SyncHandle,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Waits for every task to finish (after the shutdown token was cancelled).
    pub async fn stopped(self) {
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Starts the daemon with `hardware`; `world` adds simulated traffic when the config asks.
pub async fn start(
    config: &EdgeConfig,
    hardware: Hardware,
    world: Option<SimWorld>,
    shutdown: CancellationToken,
) -> Result<Running, DaemonError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| DaemonError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let identity = Identity::load(&config.data_dir)?;
    let device = identity.credentials.device.clone();
    let boot = Boot::now();
    let store = Store::open(
        &config.store_path(),
        Signer {
            device: device.clone(),
            key: identity.key.clone(),
        },
        boot,
        hardware.clock.clone(),
        StoreOptions {
            max_unsynced: config.sync.max_unsynced,
            durability: config.sync.durability,
        },
    )?;
    let outbox = Outbox::new(store);
    let link = Link::new(
        &identity,
        config.cloud.mqtt_url.as_deref(),
        config.cloud.url.as_deref(),
        config.cloud.ca_file.as_deref(),
    )?;

    // The door loop reads its contact on every pass; those reads are its heartbeat.
    let heartbeat = Heartbeat::default();
    let door_hw = DoorHardware {
        relay: hardware.relay.clone(),
        contact: Arc::new(HeartbeatContact::new(
            hardware.contact.clone(),
            heartbeat.clone(),
        )),
        battery: hardware.battery.clone(),
    };
    let (door, door_task) = door::start(
        door_hw,
        outbox.clone(),
        config.door.clone(),
        shutdown.clone(),
    )
    .await?;

    let offline = device_state(
        &device,
        boot.id,
        &door.snapshot().borrow(),
        false,
        0,
        hardware.clock.as_ref(),
    );
    let (sync, inbound, mut tasks) = sync::start(
        outbox.clone(),
        link,
        config.sync.clone(),
        offline,
        shutdown.clone(),
    );
    let mut watched: Vec<_> = ["mqtt driver", "publisher", "https uploader"]
        .into_iter()
        .zip(tasks.iter().map(|task| task.abort_handle()))
        .collect();
    watched.push(("door", door_task.abort_handle()));
    tasks.push(door_task);
    tasks.push(tokio::spawn(commands::serve(
        inbound.commands,
        device.clone(),
        door.clone(),
        outbox.clone(),
        hardware.clock.clone(),
        sync.clone(),
    )));
    tasks.push(tokio::spawn(publish_state(
        device.clone(),
        boot.id,
        door.clone(),
        outbox.clone(),
        sync.clone(),
        hardware.clock.clone(),
        shutdown.clone(),
    )));
    if let Some(world) = world.filter(|_| config.sim.traffic) {
        tasks.push(tokio::spawn(world.run_visits(
            door.clone(),
            config.sim.clone(),
            shutdown.clone(),
        )));
    }
    if config.sim.strangers > 0 {
        tasks.push(tokio::spawn(sim::run_strangers(
            outbox.clone(),
            config.sim.strangers,
            config.sim.strangers_per_sec,
            shutdown.clone(),
        )));
    }
    tasks.push(tokio::spawn(watchdog::run(
        Liveness {
            door: heartbeat,
            door_stall: DOOR_STALL,
            tasks: watched,
        },
        watchdog::interval_from_env(),
        shutdown.clone(),
    )));
    info!(%device, firmware = FIRMWARE, data_dir = %config.data_dir.display(), "Edge daemon started.");
    Ok(Running {
        outbox,
        door,
        sync,
        tasks,
    })
}

/// Keeps the retained state on the broker current: on every (re)connection and door change,
/// and `online: false` on a planned stop.
async fn publish_state(
    device: protocol::DeviceId,
    boot_id: uuid::Uuid,
    door: door::DoorHandle,
    outbox: Outbox,
    sync: SyncHandle,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) {
    let mut snapshot = door.snapshot();
    let mut status = sync.status();
    loop {
        let connected = status.borrow_and_update().mqtt_connected;
        if connected {
            let last_seq = outbox.lock().last_seq().unwrap_or(0);
            let state = device_state(
                &device,
                boot_id,
                &snapshot.borrow_and_update(),
                true,
                last_seq,
                clock.as_ref(),
            );
            sync.publish_state(&state);
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            changed = snapshot.changed() => if changed.is_err() { break },
            changed = status.changed() => if changed.is_err() { break },
        }
    }
    let last_seq = outbox.lock().last_seq().unwrap_or(0);
    let state = device_state(
        &device,
        boot_id,
        &snapshot.borrow(),
        false,
        last_seq,
        clock.as_ref(),
    );
    sync.publish_state(&state);
}

fn device_state(
    device: &protocol::DeviceId,
    boot_id: uuid::Uuid,
    snapshot: &DoorSnapshot,
    online: bool,
    last_seq: u64,
    clock: &dyn Clock,
) -> DeviceState {
    DeviceState {
        v: VERSION,
        device: device.clone(),
        online,
        boot_id,
        ts: clock.now(),
        locked: snapshot.locked,
        door_open: snapshot.door_open,
        battery_percent: snapshot.battery_percent,
        camera_active: snapshot.camera_active,
        mode: snapshot.mode,
        last_seq,
        firmware: FIRMWARE.into(),
    }
}

/// Whether the link is up, for health reports.
pub fn is_connected(status: &SyncStatus) -> bool {
    status.mqtt_connected
}
