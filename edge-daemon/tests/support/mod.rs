//! Shared by the camera-loop tests and the door benchmark: the face engine loaded once,
//! galleries enrolled from the real photos, and a door with a simulated camera in front.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
    time::Duration,
};

use edge_daemon::{
    config::EdgeConfig,
    door::{self, DoorHandle, DoorHardware},
    gallery::{encode_template, GallerySync, GalleryVault, ModelInfo},
    kiosk::KioskFeed,
    metrics::{CountedRelay, Metrics},
    store::{Boot, Durability, Outbox, Signer, Store, StoreOptions},
    vision::{self, presence::PresenceSettings, CameraHandle, VisionParts, VisionSettings},
};
use hal::{
    sim::{SimBattery, SimBatteryConfig, SimCamera, SimCameraConfig, SimDoor, SimRelay},
    Clock, RgbImage,
};
use models::FaceEngine;
use protocol::{
    open,
    sync::{AccessWindow, GalleryPerson, GallerySnapshot},
    DeviceId, Envelope, Event, Keypair,
};
use tokio_util::sync::CancellationToken;

pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models/testdata")
        .join(rel)
}

pub fn photo(rel: &str) -> RgbImage {
    image::open(testdata(rel)).unwrap().to_rgb8()
}

pub fn settings() -> VisionSettings {
    VisionSettings {
        enabled: true,
        snapshots: false,
        preview_every_ms: 0,
        // A debug build on a shared machine analyses a frame in about a second (BlazeFace's
        // Rust-side resampling dominates), so the default 2 s window could expire frames
        // before three agree; these tests are about decisions, not speed (see the bench).
        // Likewise a still photo keeps the presence trigger awake only while frames come
        // faster than its hold time.
        window_ms: 15_000,
        presence: PresenceSettings {
            hold_ms: 15_000,
            ..PresenceSettings::default()
        },
        ..VisionSettings::default()
    }
}

pub fn engine() -> Arc<FaceEngine> {
    static ENGINE: OnceLock<Arc<FaceEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| vision::shared_engine(&settings()).expect("the face models load"))
        .clone()
}

/// A gallery person enrolled from `photos` with the device's own engine.
pub fn enrolled(
    id: &str,
    name: &str,
    photos: &[&str],
    enabled: bool,
    windows: Vec<AccessWindow>,
) -> GalleryPerson {
    let engine = engine();
    let templates = photos
        .iter()
        .map(|p| {
            let embedding = engine
                .enrol_embedding(&photo(p))
                .unwrap()
                .unwrap_or_else(|| panic!("a usable face in {p}"));
            encode_template(&embedding)
        })
        .collect();
    GalleryPerson {
        id: id.into(),
        name: name.into(),
        enabled,
        windows,
        templates,
    }
}

pub fn gallery_of(people: Vec<GalleryPerson>) -> GallerySnapshot {
    let model = ModelInfo::of(&engine());
    GallerySnapshot {
        version: 1,
        embedder_sha256: model.embedder_sha256,
        dim: model.dim as u32,
        time_zone: "Asia/Jakarta".into(),
        work_starts_at: Some("08:00".into()),
        people,
    }
}

pub fn obama() -> GalleryPerson {
    enrolled(
        "u-obama",
        "Barack Obama",
        &["people/obama/obama.jpg"],
        true,
        vec![],
    )
}

pub struct Rig {
    pub relay: SimRelay,
    pub camera: SimCamera,
    pub outbox: Outbox,
    pub key: Keypair,
    pub door: DoorHandle,
    pub handle: CameraHandle,
    pub kiosk: KioskFeed,
    pub metrics: Arc<Metrics>,
    pub shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

pub async fn rig(
    settings: VisionSettings,
    snapshot: GallerySnapshot,
    clock: Arc<dyn Clock>,
) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let key = Keypair::generate();
    let store = Store::open(
        &dir.path().join("edge.db"),
        Signer {
            device: DeviceId::parse("door-1").unwrap(),
            key: key.clone(),
        },
        Boot::now(),
        clock.clone(),
        StoreOptions {
            max_unsynced: 10_000,
            durability: Durability::Normal,
        },
    )
    .unwrap();
    let outbox = Outbox::new(store);
    let relay = SimRelay::new(true);
    let shutdown = CancellationToken::new();
    let metrics = Arc::new(Metrics::default());
    let (door, _task) = door::start(
        DoorHardware {
            relay: Arc::new(CountedRelay::new(Arc::new(relay.clone()), metrics.clone())),
            contact: Arc::new(SimDoor::new(false)),
            battery: Arc::new(SimBattery::new(SimBatteryConfig::default())),
        },
        outbox.clone(),
        EdgeConfig::default().door,
        shutdown.clone(),
    )
    .await
    .unwrap();
    let engine = engine();
    let gallery = GallerySync::open(
        GalleryVault::open(dir.path()).unwrap(),
        ModelInfo::of(&engine),
        None,
    );
    gallery.install(&snapshot).unwrap();
    let camera = SimCamera::new(SimCameraConfig {
        fps: 15.0,
        ..SimCameraConfig::default()
    });
    let kiosk = KioskFeed::new();
    let (handle, _tasks) = vision::start(
        VisionParts {
            settings,
            engine,
            gallery: gallery.shared.clone(),
            gallery_sync: None,
            camera: Arc::new(camera.clone()),
            clock,
            door: door.clone(),
            outbox: outbox.clone(),
            kiosk: kiosk.clone(),
            evidence: None,
            metrics: metrics.clone(),
        },
        shutdown.clone(),
    );
    Rig {
        relay,
        camera,
        outbox,
        key,
        door,
        handle,
        kiosk,
        metrics,
        shutdown,
        _dir: dir,
    }
}

pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(hal::SystemClock {
        assume_synced: true,
    })
}

impl Rig {
    pub fn events(&self) -> Vec<Event> {
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

    /// Waits for the next decision (at most 20 s).
    pub async fn verdict(
        &self,
        verdicts: &mut tokio::sync::broadcast::Receiver<vision::Verdict>,
    ) -> vision::Verdict {
        tokio::time::timeout(Duration::from_secs(20), verdicts.recv())
            .await
            .expect("a decision within 20 s")
            .expect("the decider is running")
    }

    /// Waits until an access decision event is in the outbox (denials are written after
    /// the snapshot step).
    pub async fn decision_event(&self) -> Event {
        for _ in 0..100 {
            if let Some(e) = self
                .events()
                .into_iter()
                .find(|e| matches!(e, Event::AccessDecision { .. }))
            {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no access decision event");
    }

    pub fn unlocked(&self) -> bool {
        self.relay.history().iter().any(|s| !s.locked)
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Shows `photos` in turn, a new one every 120 ms, like a person moving in front of the
/// camera, until the returned token is cancelled.
pub fn walk(camera: &SimCamera, photos: Vec<RgbImage>) -> CancellationToken {
    let stop = CancellationToken::new();
    let (camera, token) = (camera.clone(), stop.clone());
    tokio::spawn(async move {
        for image in photos.iter().cycle() {
            camera.show(image.clone());
            tokio::select! {
                _ = token.cancelled() => break,
                _ = tokio::time::sleep(Duration::from_millis(120)) => {}
            }
        }
        camera.clear();
    });
    stop
}

/// Obama at three head angles: shown in turn, a live person turning their head.
pub const LIVE: [&str; 3] = [
    "people/obama/obama2.jpg",
    "people/obama/obama3.jpg",
    "people/obama/obama.jpg",
];

pub fn live_sequence() -> Vec<RgbImage> {
    LIVE.iter().map(|p| photo(p)).collect()
}

/// `frames` frames of a printed photo of `source` held up to the camera.
pub fn printed_photo_frames(source: &RgbImage, frames: usize) -> Vec<RgbImage> {
    (0..frames)
        .map(|i| edge_daemon::sim::printed_photo(source, i))
        .collect()
}
