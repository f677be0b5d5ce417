//! The camera loop and the decisions at the door or kiosk.
//!
//! One blocking thread owns the camera: capture → [`presence`] trigger → (only when someone
//! is there) the face pipeline → N-of-M frame voting ([`models::FrameVoter`]) → a
//! [`Sighting`], at most one per person per cool-down. The async decider then applies the
//! door policy ([`crate::policy`]) or the attendance rules, drives the door actor, records
//! events (a denial at once, naming the evidence snapshot it queues in
//! [`crate::evidence`]) and tells the kiosk screen.
//!
//! Inference never runs on the async runtime: the camera thread is a blocking-pool thread.

pub mod health;
pub mod presence;

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use hal::{Camera, Clock, Frame, HalError};
use models::{Decision, EngineConfig, FaceEngine, FrameVote, FrameVoter, VoterConfig};
use protocol::{AccessMethod, AccessResult, DenyReason, Event, PersonRef};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{
    door::DoorHandle,
    evidence::EvidenceQueue,
    gallery::{GallerySync, SharedGallery},
    kiosk::{KioskFeed, KioskMessage},
    metrics::Metrics,
    policy::{self, AttendanceBook, AttendanceOutcome, KioskDirection},
    snapshot,
    store::{Outbox, StoreError},
};

use presence::{Presence, PresenceSettings};

/// Where the attendance book lives in the device store.
const ATTENDANCE_KEY: &str = "attendance";
/// Longest a decision waits for the gallery to be confirmed after a reconnection or once
/// it is stale.
const CONFIRM_WAIT: Duration = Duration::from_secs(3);

/// What the camera is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Faces open the door.
    #[default]
    Door,
    /// Faces check in and out (seed 001); the door opens only if `attendance_unlocks`.
    Attendance,
}

/// The `[vision]` section of the configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct VisionSettings {
    /// Run the camera loop at all.
    pub enabled: bool,
    pub purpose: Purpose,
    /// Folder with the models' `manifest.toml`; the models crate's own folder when unset.
    pub models_dir: Option<PathBuf>,
    /// Threads ONNX Runtime may use per model run.
    pub threads: usize,
    /// Run the antispoof and liveness models.
    pub liveness: bool,
    /// Frames that must agree on one person …
    pub frames_needed: usize,
    /// … among the last this many …
    pub frames_window: usize,
    /// … seen within this long.
    pub window_ms: u64,
    /// Mean single-frame liveness the agreeing frames need.
    pub min_liveness: f32,
    /// Non-planar landmark motion, in inter-ocular distances, the agreeing frames must show
    /// (0 disables): how far the best affine map between two frames misses, which is
    /// detector noise for a flat print or screen however it is moved and more for a head
    /// that turns. See [`models::liveness::ParallaxCue`].
    pub min_parallax: f32,
    /// After a decision about a person, ignore that person this long.
    pub cooldown_secs: u64,
    /// After denying a stranger or a spoof, deny again only after this long.
    pub stranger_cooldown_secs: u64,
    pub presence: PresenceSettings,
    /// Deny faces once the gallery has not been confirmed with the cloud for this long, in
    /// seconds (0: never): someone erased meanwhile might still be in it.
    pub gallery_max_age_secs: u64,
    /// How often a connected door confirms its gallery with the cloud, in seconds (0: only
    /// on notices and reconnections).
    pub gallery_check_secs: u64,
    /// Seconds without a usable frame before the camera is reported faulty (see
    /// [`health`]).
    pub camera_fault_after_secs: u64,
    /// Keep a snapshot of every denial for the cloud.
    pub snapshots: bool,
    pub snapshot_quality: u8,
    /// Denial snapshots kept on the device while the cloud is away; past this the oldest
    /// is dropped (and counted).
    pub evidence_max_queued: usize,
    /// How often the kiosk preview JPEG is refreshed (0: never).
    pub preview_every_ms: u64,
    pub kiosk_direction: KioskDirection,
    /// In `auto` direction, a second visit this many minutes after checking in checks out.
    pub min_checkout_after_mins: i64,
    /// In attendance mode, also open the door for a recorded person.
    pub attendance_unlocks: bool,
    /// Longest live stream a `stream` command gets, in seconds.
    pub max_stream_secs: u32,
    /// Highest frame rate of a live stream.
    pub max_stream_fps: u8,
    /// `sim` hardware: play the images of this folder instead of an empty scene.
    pub sim_folder: Option<PathBuf>,
}

impl Default for VisionSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            purpose: Purpose::Door,
            models_dir: None,
            threads: 1,
            liveness: true,
            frames_needed: 3,
            frames_window: 5,
            window_ms: 2_000,
            min_liveness: 0.5,
            min_parallax: models::liveness::DEFAULT_MIN_PARALLAX,
            cooldown_secs: 10,
            stranger_cooldown_secs: 5,
            presence: PresenceSettings::default(),
            gallery_max_age_secs: 24 * 3600,
            gallery_check_secs: 300,
            camera_fault_after_secs: 10,
            snapshots: true,
            snapshot_quality: 80,
            evidence_max_queued: 200,
            preview_every_ms: 500,
            kiosk_direction: KioskDirection::Auto,
            min_checkout_after_mins: 60,
            attendance_unlocks: false,
            max_stream_secs: 60,
            max_stream_fps: 5,
            sim_folder: None,
        }
    }
}

impl VisionSettings {
    /// `gallery_max_age_secs` as a duration; `None` when galleries never go stale.
    pub fn gallery_max_age(&self) -> Option<Duration> {
        (self.gallery_max_age_secs > 0).then(|| Duration::from_secs(self.gallery_max_age_secs))
    }

    /// `gallery_check_secs` as a duration; `None` when there is no periodic check.
    pub fn gallery_check_every(&self) -> Option<Duration> {
        (self.gallery_check_secs > 0).then(|| Duration::from_secs(self.gallery_check_secs))
    }

    fn voter(&self) -> VoterConfig {
        VoterConfig {
            needed: self.frames_needed.max(1),
            window: self.frames_window.max(self.frames_needed.max(1)),
            max_age: Duration::from_millis(self.window_ms),
            min_liveness: self.min_liveness,
            min_parallax: self.min_parallax,
        }
    }

    pub fn engine_config(&self) -> EngineConfig {
        let mut config = EngineConfig {
            threads: self.threads.max(1),
            liveness: self.liveness,
            ..EngineConfig::default()
        };
        if let Some(dir) = &self.models_dir {
            config.models_dir = dir.clone();
        }
        config
    }
}

/// Loads the face engine for `settings`, once per models folder and process: several doors
/// in one process (the demo, tests) share it.
pub fn shared_engine(settings: &VisionSettings) -> Result<Arc<FaceEngine>, models::ModelError> {
    static ENGINES: OnceLock<Mutex<HashMap<(PathBuf, bool), Arc<FaceEngine>>>> = OnceLock::new();
    let config = settings.engine_config();
    let key = (config.models_dir.clone(), config.liveness);
    let engines = ENGINES.get_or_init(Default::default);
    let mut engines = engines.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(engine) = engines.get(&key) {
        return Ok(engine.clone());
    }
    let engine = Arc::new(FaceEngine::load(&config)?);
    engines.insert(key, engine.clone());
    Ok(engine)
}

/// What the camera thread saw, decided by frame voting.
#[derive(Debug, Clone)]
pub enum Seen {
    /// An enrolled person, live.
    Known { person: String, score: f32 },
    /// Frames agree on nobody enrolled.
    Stranger { score: Option<f32> },
    /// Frames agree on a person but the liveness evidence is missing.
    Spoof { person: String, score: f32 },
}

/// One voted sighting with the frame that settled it.
#[derive(Debug, Clone)]
pub struct Sighting {
    pub seen: Seen,
    pub liveness: f32,
    pub frame: Arc<Frame>,
    /// When the deciding frame was captured (monotonic), for latency measurements.
    pub captured: Instant,
}

/// A decision the decider has acted on, for measurements and tests.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// When the frame that settled it was captured (monotonic).
    pub captured: Instant,
    pub result: AccessResult,
    pub reason: Option<DenyReason>,
    pub person: Option<String>,
}

/// What the rest of the daemon can use of the camera.
#[derive(Debug, Clone)]
pub struct CameraHandle {
    latest: watch::Receiver<Option<Arc<Frame>>>,
    verdicts: broadcast::Sender<Verdict>,
}

impl CameraHandle {
    /// The newest frame, `None` before the first capture.
    pub fn latest(&self) -> Option<Arc<Frame>> {
        self.latest.borrow().clone()
    }

    /// Every decision from now on (the door has been driven when it arrives).
    pub fn verdicts(&self) -> broadcast::Receiver<Verdict> {
        self.verdicts.subscribe()
    }
}

/// Everything the camera loop and the decider need.
#[derive(Debug, Clone)]
pub struct VisionParts {
    pub settings: VisionSettings,
    pub engine: Arc<FaceEngine>,
    pub gallery: SharedGallery,
    /// The syncer of `gallery`, when the door has a cloud: a face is trusted only on a
    /// gallery confirmed recently enough (see [`crate::gallery::Freshness`]).
    pub gallery_sync: Option<GallerySync>,
    pub camera: Arc<dyn Camera>,
    pub clock: Arc<dyn Clock>,
    pub door: DoorHandle,
    pub outbox: Outbox,
    pub kiosk: KioskFeed,
    /// Where denials' snapshots wait for the cloud; `None`: denials go without one.
    pub evidence: Option<EvidenceQueue>,
    /// Where the camera loop counts frames (captured, corrupt).
    pub metrics: Arc<Metrics>,
}

/// Starts the camera thread and the decider. Sightings are also copied to `observer`
/// (benchmarks and tests) when given.
pub fn start(
    parts: VisionParts,
    shutdown: CancellationToken,
) -> (CameraHandle, Vec<tokio::task::JoinHandle<()>>) {
    let (latest_tx, latest_rx) = watch::channel(None);
    let (sightings_tx, sightings_rx) = mpsc::channel(16);
    let camera_loop = CameraLoop {
        settings: parts.settings.clone(),
        engine: parts.engine.clone(),
        gallery: parts.gallery.clone(),
        camera: parts.camera.clone(),
        door: parts.door.snapshot(),
        kiosk: parts.kiosk.clone(),
        metrics: parts.metrics.clone(),
        latest: latest_tx,
        sightings: sightings_tx,
    };
    let cancel = shutdown.clone();
    let camera_task = tokio::task::spawn_blocking(move || camera_loop.run(&cancel));
    let health_task = tokio::spawn(health::watch_camera(
        parts.metrics.clone(),
        parts.outbox.clone(),
        parts.door.snapshot(),
        Duration::from_secs(parts.settings.camera_fault_after_secs.max(1)),
        shutdown.clone(),
    ));
    let (verdicts, _) = broadcast::channel(64);
    let decider = Decider {
        parts,
        verdicts: verdicts.clone(),
    };
    let decider_task = tokio::spawn(decider.run(sightings_rx, shutdown));
    (
        CameraHandle {
            latest: latest_rx,
            verdicts,
        },
        vec![camera_task, decider_task, health_task],
    )
}

struct CameraLoop {
    settings: VisionSettings,
    engine: Arc<FaceEngine>,
    gallery: SharedGallery,
    camera: Arc<dyn Camera>,
    door: watch::Receiver<crate::door::DoorSnapshot>,
    kiosk: KioskFeed,
    metrics: Arc<Metrics>,
    latest: watch::Sender<Option<Arc<Frame>>>,
    sightings: mpsc::Sender<Sighting>,
}

impl CameraLoop {
    fn run(self, shutdown: &CancellationToken) {
        let mut presence = Presence::new(self.settings.presence.clone());
        let mut voter = FrameVoter::new(self.settings.voter());
        let mut quiet_until: HashMap<String, Instant> = HashMap::new();
        let mut next_preview = Instant::now();
        let mut camera_errors = 0u32;
        let mut looking = false;
        info!(purpose = ?self.settings.purpose, "Camera loop started.");
        while !shutdown.is_cancelled() {
            let frame = match self.camera.capture() {
                Ok(frame) => {
                    camera_errors = 0;
                    self.metrics.frame_captured();
                    Arc::new(frame)
                }
                // A damaged frame (a truncated MJPEG frame, say) is dropped before presence
                // or the voter see it; the camera itself is working, so no back-off.
                Err(HalError::CorruptFrame(reason)) => {
                    let frames_corrupt = self.metrics.frame_corrupt();
                    if frames_corrupt == 1 || frames_corrupt % 100 == 0 {
                        warn!(%reason, frames_corrupt, "Corrupt camera frame dropped.");
                    }
                    continue;
                }
                Err(error) => {
                    camera_errors += 1;
                    self.metrics.camera_error();
                    if camera_errors == 1 || camera_errors % 100 == 0 {
                        warn!(%error, camera_errors, "Camera capture failed.");
                    }
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
            };
            let now = Instant::now();
            self.latest.send_replace(Some(frame.clone()));
            self.preview(&frame, now, &mut next_preview);
            if !self.door.borrow().camera_active || !presence.update(&frame.image, now) {
                if looking {
                    looking = false;
                    voter.reset();
                    self.kiosk.publish(KioskMessage::Idle);
                }
                continue;
            }
            let faces = match self.engine.analyze(&frame.image) {
                Ok(faces) => faces,
                Err(error) => {
                    warn!(%error, "Face analysis failed.");
                    continue;
                }
            };
            let Some(face) = faces.into_iter().next() else {
                continue;
            };
            presence.keep_alive(now);
            if !looking {
                looking = true;
                self.kiosk.publish(KioskMessage::Checking);
            }
            let (Ok(()), Some(embedding)) = (&face.quality, &face.embedding) else {
                debug!(issue = ?face.quality, "Face not usable in this frame.");
                continue;
            };
            let gallery = self.gallery.current();
            let found = gallery.recognise(embedding);
            let best = found
                .as_ref()
                .map(|f| f.score)
                .or_else(|| gallery.best_score(embedding));
            let vote = FrameVote {
                identity: found.map(|f| f.person.id.clone()),
                score: best.unwrap_or(0.0),
                liveness: face.liveness,
                landmarks: Some(face.landmarks),
            };
            let seen = match voter.push(now, vote) {
                Decision::Pending => continue,
                Decision::Accept {
                    identity, score, ..
                } => Seen::Known {
                    person: identity,
                    score,
                },
                Decision::Reject { .. } => Seen::Stranger { score: best },
                Decision::Spoof { identity } => Seen::Spoof {
                    person: identity,
                    score: best.unwrap_or(0.0),
                },
            };
            voter.reset();
            let (key, quiet) = match &seen {
                Seen::Known { person, .. } => (person.clone(), self.settings.cooldown_secs),
                Seen::Stranger { .. } => (
                    "\0stranger".to_owned(),
                    self.settings.stranger_cooldown_secs,
                ),
                // An attack on someone's face is recorded even right after a stranger's
                // denial; repeats of the same attack are quieted like strangers.
                Seen::Spoof { person, .. } => (
                    format!("\0spoof {person}"),
                    self.settings.stranger_cooldown_secs,
                ),
            };
            if quiet_until.get(&key).is_some_and(|until| now < *until) {
                continue;
            }
            quiet_until.retain(|_, until| now < *until);
            quiet_until.insert(key, now + Duration::from_secs(quiet));
            let sighting = Sighting {
                seen,
                liveness: face.liveness,
                frame,
                captured: now,
            };
            if self.sightings.try_send(sighting).is_err() {
                warn!("The decider is behind; a sighting was dropped.");
            }
        }
        info!("Camera loop stopped.");
    }

    fn preview(&self, frame: &Frame, now: Instant, next: &mut Instant) {
        if self.settings.preview_every_ms == 0 || now < *next {
            return;
        }
        *next = now + Duration::from_millis(self.settings.preview_every_ms);
        match snapshot::encode_jpeg(&frame.image, 70) {
            Ok(jpeg) => self.kiosk.set_preview(jpeg.into()),
            Err(error) => debug!(%error, "No preview for this frame."),
        }
    }
}

/// Applies the rules to sightings, one at a time.
struct Decider {
    parts: VisionParts,
    verdicts: broadcast::Sender<Verdict>,
}

#[derive(Debug, thiserror::Error)]
enum DecideError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("door: {0}")]
    Door(#[from] crate::door::DoorError),
}

impl Decider {
    async fn run(self, mut sightings: mpsc::Receiver<Sighting>, shutdown: CancellationToken) {
        loop {
            let sighting = tokio::select! {
                _ = shutdown.cancelled() => return,
                next = sightings.recv() => match next {
                    Some(sighting) => sighting,
                    None => return,
                },
            };
            let captured = sighting.captured;
            match self.decide(sighting).await {
                Ok((result, reason, person)) => {
                    let _ = self.verdicts.send(Verdict {
                        captured,
                        result,
                        reason,
                        person,
                    });
                }
                Err(error) => warn!(%error, "Could not act on a sighting."),
            }
        }
    }

    /// Acts on one sighting; returns what was decided, for whom.
    async fn decide(
        &self,
        sighting: Sighting,
    ) -> Result<(AccessResult, Option<DenyReason>, Option<String>), DecideError> {
        // After a reconnection, or once it is stale, the gallery is pulled first; a stale
        // gallery that cannot be confirmed is not trusted with a face: whoever it knows may
        // have been erased since.
        if let (Seen::Known { person, score }, Some(sync)) =
            (&sighting.seen, &self.parts.gallery_sync)
        {
            if !sync.ensure_current(CONFIRM_WAIT).await {
                warn!(
                    age_secs = sync.freshness.age_secs(),
                    "The face gallery is stale; a face is denied."
                );
                let (person, score) = (person.clone(), *score);
                self.deny(
                    None,
                    DenyReason::GalleryStale,
                    Some(score),
                    Some(sighting.liveness),
                    &sighting,
                )
                .await;
                return Ok(denied(DenyReason::GalleryStale, Some(person)));
            }
        }
        let gallery = self.parts.gallery.current();
        let now = self.parts.clock.now();
        let local = gallery.site.local(now);
        let liveness = Some(sighting.liveness);
        let (person_id, score) = match &sighting.seen {
            Seen::Known { person, score } => (person.clone(), *score),
            Seen::Stranger { score } => {
                self.deny(None, DenyReason::UnknownFace, *score, liveness, &sighting)
                    .await;
                return Ok(denied(DenyReason::UnknownFace, None));
            }
            Seen::Spoof { person, score } => {
                let who = gallery.person(person).map(person_ref);
                self.deny(
                    who,
                    DenyReason::LivenessFailed,
                    Some(*score),
                    liveness,
                    &sighting,
                )
                .await;
                return Ok(denied(DenyReason::LivenessFailed, Some(person.clone())));
            }
        };
        // The gallery may have changed since the frame: decide on the current one.
        let Some(person) = gallery.person(&person_id) else {
            self.deny(
                None,
                DenyReason::UnknownFace,
                Some(score),
                liveness,
                &sighting,
            )
            .await;
            return Ok(denied(DenyReason::UnknownFace, None));
        };
        let mode = self.parts.door.snapshot().borrow().mode;
        if let Err(reason) = policy::may_pass(&person.rules, mode, &local) {
            self.deny(
                Some(person_ref(person)),
                reason,
                Some(score),
                liveness,
                &sighting,
            )
            .await;
            return Ok(denied(reason, Some(person_id)));
        }
        let granted = Event::AccessDecision {
            result: AccessResult::Granted,
            method: AccessMethod::Face,
            person: Some(person_ref(person)),
            reason: None,
            score: Some(score),
            liveness,
            snapshot: None,
        };
        match self.parts.settings.purpose {
            Purpose::Door => {
                self.parts
                    .door
                    .grant(AccessMethod::Face, Some(granted))
                    .await?;
                info!(person = %person.id, score, "Access granted.");
                self.parts.kiosk.publish(KioskMessage::Granted {
                    name: person.name.clone(),
                });
            }
            Purpose::Attendance => {
                let outcome = self.attendance(person, now, &local, &gallery.site).await?;
                if let AttendanceOutcome::Recorded { .. } = outcome {
                    if self.parts.settings.attendance_unlocks {
                        self.parts
                            .door
                            .grant(AccessMethod::Face, Some(granted))
                            .await?;
                    }
                }
            }
        }
        Ok((AccessResult::Granted, None, Some(person_id)))
    }

    /// Records a check-in or check-out in the same transaction as the book that keeps it
    /// to one a day, and tells the kiosk.
    async fn attendance(
        &self,
        person: &crate::gallery::Person,
        now: time::OffsetDateTime,
        local: &policy::LocalMoment,
        site: &policy::SiteTime,
    ) -> Result<AttendanceOutcome, DecideError> {
        let settings = &self.parts.settings;
        let (direction, gap) = (
            settings.kiosk_direction,
            time::Duration::minutes(settings.min_checkout_after_mins),
        );
        let (id, who, local, site) = (person.id.clone(), person_ref(person), *local, site.clone());
        let (outcome, _) = self
            .parts
            .outbox
            .write(move |w| {
                let mut book: AttendanceBook = w.get(ATTENDANCE_KEY)?.unwrap_or_default();
                let outcome = book.record(&id, now, &local, &site, direction, gap);
                if let AttendanceOutcome::Recorded {
                    direction,
                    late,
                    local_date,
                } = &outcome
                {
                    w.set(ATTENDANCE_KEY, &book)?;
                    w.emit(Event::Attendance {
                        person: who,
                        direction: *direction,
                        local_date: local_date.clone(),
                        late: *late,
                    })?;
                }
                Ok(outcome)
            })
            .await?;
        let name = person.name.clone();
        let message = match &outcome {
            AttendanceOutcome::Recorded {
                direction, late, ..
            } => {
                info!(person = %person.id, ?direction, late, "Attendance recorded.");
                KioskMessage::Attendance {
                    name,
                    direction: *direction,
                    at: now,
                }
            }
            AttendanceOutcome::Already { direction, at } => {
                info!(person = %person.id, ?direction, "{}", policy::ALREADY_RECORDED);
                KioskMessage::AlreadyRecorded {
                    name,
                    direction: *direction,
                    at: time::OffsetDateTime::from_unix_timestamp(*at).unwrap_or(now),
                }
            }
        };
        self.parts.kiosk.publish(message);
        Ok(outcome)
    }

    /// Tells the kiosk and records the denial at once, with the time of the decision; its
    /// evidence snapshot is named in the event by an id chosen here and queued on the device
    /// (encoded off the async workers), to reach the cloud whenever it can.
    async fn deny(
        &self,
        person: Option<PersonRef>,
        reason: DenyReason,
        score: Option<f32>,
        liveness: Option<f32>,
        sighting: &Sighting,
    ) {
        info!(
            ?reason,
            person = person.as_ref().map(|p| p.id.as_str()),
            "Access denied."
        );
        self.parts.kiosk.publish(KioskMessage::Denied { reason });
        let evidence = self
            .parts
            .evidence
            .clone()
            .filter(|_| self.parts.settings.snapshots)
            .map(|queue| (queue, uuid::Uuid::now_v7()));
        let event = Event::AccessDecision {
            result: AccessResult::Denied,
            method: AccessMethod::Face,
            person,
            reason: Some(reason),
            score,
            liveness,
            snapshot: evidence.as_ref().map(|(_, id)| id.to_string()),
        };
        if let Err(error) = self.parts.outbox.emit(event).await {
            warn!(%error, "Could not record a denial.");
        }
        if let Some((queue, id)) = evidence {
            let (frame, quality) = (sighting.frame.clone(), self.parts.settings.snapshot_quality);
            tokio::task::spawn_blocking(move || {
                let kept = snapshot::encode_jpeg(&frame.image, quality)
                    .map_err(|error| error.to_string())
                    .and_then(|jpeg| queue.push(id, &jpeg).map_err(|error| error.to_string()));
                if let Err(error) = kept {
                    warn!(%error, snapshot = %id, "A denial's snapshot could not be kept.");
                }
            });
        }
    }
}

fn denied(
    reason: DenyReason,
    person: Option<String>,
) -> (AccessResult, Option<DenyReason>, Option<String>) {
    (AccessResult::Denied, Some(reason), person)
}

fn person_ref(person: &crate::gallery::Person) -> PersonRef {
    PersonRef {
        id: person.id.clone(),
        name: person.name.clone(),
    }
}
