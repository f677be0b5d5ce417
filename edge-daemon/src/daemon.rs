//! Assembles the daemon: store, door, sync, commands and (for `sim`) the simulated world,
//! and runs them until shutdown.

use std::sync::Arc;

use hal::{Camera, Clock};
use protocol::{DeviceState, VERSION};
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::{
    commands,
    config::EdgeConfig,
    door::{self, DoorError, DoorHardware, DoorSnapshot},
    evidence::EvidenceQueue,
    gallery::{GalleryClient, GallerySync, GalleryVault, ModelInfo},
    hardware::{Hardware, SimWorld},
    identity::{Identity, IdentityError},
    kiosk::KioskFeed,
    metrics::{CountedRelay, Metrics},
    sim,
    snapshot::SnapshotClient,
    store::{Boot, Outbox, Signer, Store, StoreError, StoreOptions},
    sync::{self, Link, SyncHandle, SyncStatus},
    transport::TransportError,
    watchdog::{self, Heartbeat, HeartbeatContact, Liveness},
    FIRMWARE,
};

/// The door loop runs every few milliseconds; this long without a pass means it is stuck.
const DOOR_STALL: std::time::Duration = std::time::Duration::from_secs(10);

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

/// A running daemon, for the all-in-one binary and tests. Dropping it stops the daemon (a
/// caller that fails or panics leaves no camera loop spinning on a blocking thread, which
/// would hold its runtime's shutdown open); cancelling the token given to [`start`] does too.
#[derive(Debug)]
pub struct Running {
    pub outbox: Outbox,
    pub door: door::DoorHandle,
    pub sync: SyncHandle,
    /// What the screen at the door shows.
    pub kiosk: KioskFeed,
    /// Where the kiosk page and the local API listen, when they started.
    pub kiosk_addr: Option<std::net::SocketAddr>,
    /// The camera loop and the local gallery, when `[vision]` is enabled.
    pub vision: Option<commands::Vision>,
    /// The counters the local API shows.
    pub metrics: Arc<Metrics>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _stop_on_drop: tokio_util::sync::DropGuard,
}

impl Running {
    /// Waits for every task to finish (after the shutdown token was cancelled).
    pub async fn stopped(self) {
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// For tests: the config of a made-up door `door-1` whose cloud is nowhere, its identity
/// saved in `data_dir`; simulated hardware without traffic, the kiosk on a free loopback port.
#[doc(hidden)]
pub fn offline_door_for_tests(data_dir: &std::path::Path) -> Result<EdgeConfig, IdentityError> {
    let mut config = EdgeConfig::default();
    config.data_dir = data_dir.to_owned();
    config.sim.traffic = false;
    config.kiosk.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    Identity::for_tests("http://127.0.0.1:1", "mqtt://127.0.0.1:1").save(data_dir)?;
    Ok(config)
}

/// Starts the daemon with `hardware`; `world` adds simulated traffic when the config asks.
pub async fn start(
    config: &EdgeConfig,
    hardware: Hardware,
    world: Option<SimWorld>,
    shutdown: CancellationToken,
) -> Result<Running, DaemonError> {
    // This daemon's own token: dropping `Running` (or failing below) stops what started.
    let shutdown = shutdown.child_token();
    let stop_on_drop = shutdown.clone().drop_guard();
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
    let metrics = Arc::new(Metrics::default());
    let door_hw = DoorHardware {
        relay: Arc::new(CountedRelay::new(hardware.relay.clone(), metrics.clone())),
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
    let kiosk = KioskFeed::new();
    let http = cloud_client(&link);
    let (sync, inbound, mut tasks) = sync::start(
        outbox.clone(),
        link.clone(),
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
    let vision = match (&hardware.camera, config.vision.enabled) {
        (Some(camera), true) => {
            start_vision(
                config,
                camera.clone(),
                &hardware,
                &identity,
                &link,
                http,
                VisionDeps {
                    door: door.clone(),
                    outbox: outbox.clone(),
                    kiosk: kiosk.clone(),
                    notices: inbound.gallery.clone(),
                    link: sync.status(),
                    metrics: metrics.clone(),
                },
                &mut tasks,
                shutdown.clone(),
            )
            .await
        }
        (None, true) => {
            tracing::error!("[vision] is enabled but this hardware has no camera.");
            None
        }
        _ => None,
    };
    tasks.push(tokio::spawn(commands::serve(
        inbound.commands,
        device.clone(),
        door.clone(),
        outbox.clone(),
        hardware.clock.clone(),
        sync.clone(),
        vision.clone(),
    )));
    tasks.push(tokio::spawn(sync::run_retention(
        outbox.clone(),
        hardware.clock.clone(),
        config.sync.clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(report_failed_writes(
        door.clone(),
        outbox.clone(),
        shutdown.clone(),
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
        tasks.push(tokio::spawn(sim::run_visits(
            world.door,
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
    tasks.push(tokio::spawn(crate::kiosk::server::mirror_status(
        kiosk.clone(),
        door.snapshot(),
        sync.status(),
        shutdown.clone(),
    )));
    let kiosk_addr = start_kiosk(
        config,
        &kiosk,
        &door,
        &hardware,
        metrics.clone(),
        &mut tasks,
        shutdown.clone(),
    )
    .await;
    info!(%device, firmware = FIRMWARE, data_dir = %config.data_dir.display(), "Edge daemon started.");
    Ok(Running {
        outbox,
        door,
        sync,
        kiosk,
        kiosk_addr,
        vision,
        metrics,
        tasks,
        _stop_on_drop: stop_on_drop,
    })
}

/// Starts the kiosk page and the installer's local API when `[kiosk]` enables them. The door
/// works without its screen, so a port in use or an unreadable token is logged, not fatal.
async fn start_kiosk(
    config: &EdgeConfig,
    feed: &KioskFeed,
    door: &door::DoorHandle,
    hardware: &Hardware,
    metrics: Arc<Metrics>,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
    shutdown: CancellationToken,
) -> Option<std::net::SocketAddr> {
    if !config.kiosk.enabled {
        return None;
    }
    let local = crate::kiosk::api::LocalApi {
        door: door.clone(),
        battery: hardware.battery.clone(),
        camera: hardware.camera.clone(),
        feed: feed.clone(),
        metrics,
    };
    match crate::kiosk::server::start(
        &config.kiosk,
        &config.data_dir,
        feed.clone(),
        local,
        shutdown,
    )
    .await
    {
        Ok(server) => {
            tasks.push(server.task);
            Some(server.addr)
        }
        Err(error) => {
            tracing::error!(%error, "Kiosk page and local API not started; the door works without them.");
            None
        }
    }
}

/// An HTTPS client with the link's TLS settings (site CA included).
fn cloud_client(link: &Link) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls((*link.tls).clone())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("a rustls client with preconfigured TLS always builds")
}

/// What the camera loop shares with the rest of the daemon.
struct VisionDeps {
    door: door::DoorHandle,
    outbox: Outbox,
    kiosk: KioskFeed,
    notices: tokio::sync::watch::Receiver<Option<protocol::GalleryNotice>>,
    /// The link's status: a new connection makes the gallery check before a decision.
    link: crate::gallery::LinkStatus,
    metrics: Arc<Metrics>,
}

/// Loads the face engine and the stored gallery, then starts the gallery syncer and the
/// camera loop. A door whose models cannot load keeps working for everything else (remote
/// unlock, sensors, sync), so this logs the error and returns `None` rather than failing.
#[allow(clippy::too_many_arguments)]
async fn start_vision(
    config: &EdgeConfig,
    camera: Arc<dyn Camera>,
    hardware: &Hardware,
    identity: &Identity,
    link: &Link,
    http: reqwest::Client,
    deps: VisionDeps,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
    shutdown: CancellationToken,
) -> Option<commands::Vision> {
    let settings = config.vision.clone();
    let engine = match tokio::task::spawn_blocking({
        let settings = settings.clone();
        move || crate::vision::shared_engine(&settings)
    })
    .await
    {
        Ok(Ok(engine)) => engine,
        Ok(Err(error)) => {
            tracing::error!(%error, "Face models did not load; the camera loop is off.");
            return None;
        }
        Err(error) => {
            tracing::error!(%error, "Face model loading panicked; the camera loop is off.");
            return None;
        }
    };
    let vault = match GalleryVault::open(&config.data_dir) {
        Ok(vault) => vault,
        Err(error) => {
            tracing::error!(%error, "The gallery vault cannot be opened; the camera loop is off.");
            return None;
        }
    };
    let token = identity.credentials.token.clone();
    let client = GalleryClient::new(http.clone(), &link.events_url, token.clone())
        .map_err(|error| tracing::warn!(%error, "No gallery URL."))
        .ok();
    let snapshots = match SnapshotClient::new(http, &link.events_url, token) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "No snapshot URL; the camera loop is off.");
            return None;
        }
    };
    // Denials are recorded without their snapshot when the queue cannot be opened: the door
    // keeps deciding.
    let evidence = match EvidenceQueue::open(
        &config.data_dir,
        settings.evidence_max_queued,
        deps.metrics.clone(),
    ) {
        Ok(queue) => {
            tasks.push(tokio::spawn(crate::evidence::run_uploader(
                queue.clone(),
                snapshots.clone(),
                Some(deps.link.clone()),
                shutdown.clone(),
            )));
            Some(queue)
        }
        Err(error) => {
            tracing::error!(%error, "The evidence queue cannot be opened; denials go without a snapshot.");
            None
        }
    };
    let model = ModelInfo::of(&engine);
    let gallery = {
        let model = model.clone();
        tokio::task::spawn_blocking(move || GallerySync::open(vault, model, client))
            .await
            .ok()?
            .with_max_age(settings.gallery_max_age())
            .with_link(deps.link)
    };
    tasks.push(tokio::spawn(gallery.clone().run(
        deps.notices,
        settings.gallery_check_every(),
        shutdown.clone(),
    )));
    let (camera_handle, vision_tasks) = crate::vision::start(
        crate::vision::VisionParts {
            settings: settings.clone(),
            engine,
            gallery: gallery.shared.clone(),
            gallery_sync: Some(gallery.clone()),
            camera,
            clock: hardware.clock.clone(),
            door: deps.door,
            outbox: deps.outbox,
            kiosk: deps.kiosk,
            evidence,
            metrics: deps.metrics,
        },
        shutdown.clone(),
    );
    tasks.extend(vision_tasks);
    Some(commands::Vision {
        camera: camera_handle,
        gallery,
        snapshots,
        max_stream_secs: settings.max_stream_secs,
        max_stream_fps: settings.max_stream_fps,
        quality: settings.snapshot_quality,
        streaming: Default::default(),
        shutdown,
    })
}

/// How often writes the store refused are reported, once it writes again.
const FAILED_WRITES_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Reports writes the store refused (a full SD card) with a `store_writes_failed: N` status
/// event as soon as it writes again.
async fn report_failed_writes(door: door::DoorHandle, outbox: Outbox, shutdown: CancellationToken) {
    let snapshot = door.snapshot();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(FAILED_WRITES_EVERY) => {}
        }
        let mode = snapshot.borrow().mode;
        let reported = outbox
            .report_failed_writes(move |failed| protocol::Event::DeviceStatus {
                status: format!("store_writes_failed: {failed}"),
                firmware: FIRMWARE.into(),
                mode,
            })
            .await;
        if let Ok(failed @ 1..) = reported {
            info!(
                failed,
                "The store writes again; the writes it refused are reported."
            );
        }
    }
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// Dropping the handle stops the daemon (its kiosk server lets go of its port), and
    /// leaves the caller's token alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_running_stops_the_daemon() {
        let dir = tempfile::tempdir().unwrap();
        let config = offline_door_for_tests(&dir.path().join("edge")).unwrap();
        let shutdown = CancellationToken::new();
        let (hardware, world) = crate::sim::hardware();
        let running = start(&config, hardware, Some(world), shutdown.clone())
            .await
            .unwrap();
        let kiosk = running.kiosk_addr.expect("the kiosk listens");
        tokio::net::TcpStream::connect(kiosk)
            .await
            .expect("the kiosk answers while the daemon runs");

        drop(running);
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(kiosk).await.is_ok() {
            assert!(
                Instant::now() < deadline,
                "the kiosk still listens 10 s after its daemon's handle was dropped"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            !shutdown.is_cancelled(),
            "the caller's token is the caller's"
        );
    }
}
