//! The simulated world in front of a `sim` door: people leaving through it (the exit
//! button, the door opening and closing) and, for load tests, a corridor of strangers.

use std::time::Duration;

use hal::sim::SimDoor;
use protocol::{AccessMethod, AccessResult, DenyReason, Event};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::{
    door::DoorHandle,
    hardware::{Hardware, SimWorld},
    store::Outbox,
};

/// The `[sim]` section: the simulated world in front of a `sim` door: people leaving through
/// it, a corridor of strangers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimSettings {
    /// Generate traffic at all.
    pub traffic: bool,
    /// Mean seconds between two people passing.
    pub visit_every_secs: f64,
    /// Divides every simulated duration (1 = real time).
    pub speed: f64,
    /// Stop generating after this many visits (0 = never).
    pub max_visits: u64,
    /// Load testing: this many strangers walk past the camera (denied decisions).
    pub strangers: u64,
    /// Strangers a second (0 = as fast as the store takes them).
    pub strangers_per_sec: f64,
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            traffic: true,
            visit_every_secs: 20.0,
            speed: 1.0,
            max_visits: 0,
            strangers: 0,
            strangers_per_sec: 0.0,
        }
    }
}

/// Builds a simulated door's hardware and the handles the world drives.
pub fn hardware() -> (Hardware, SimWorld) {
    crate::hardware::simulated()
}

/// People leaving through `door`, whose contact is `contact`: someone presses the exit
/// button, opens the door, walks through and lets it close. Runs until `max_visits` or
/// shutdown.
pub async fn run_visits(
    contact: SimDoor,
    door: DoorHandle,
    settings: SimSettings,
    shutdown: CancellationToken,
) {
    let speed = settings.speed.max(0.001);
    let scaled = |secs: f64| Duration::from_secs_f64((secs / speed).max(0.0));
    let mut visits = 0u64;
    while settings.max_visits == 0 || visits < settings.max_visits {
        let (gap, to_door, through) = {
            let mut rng = rand::thread_rng();
            let gap = -settings.visit_every_secs * (1.0 - rng.gen::<f64>()).ln();
            (gap, rng.gen_range(0.5..1.5), rng.gen_range(2.0..5.0))
        };
        if sleep_or_stop(scaled(gap), &shutdown).await {
            return;
        }
        let decision = Event::AccessDecision {
            result: AccessResult::Granted,
            method: AccessMethod::ExitButton,
            person: None,
            reason: None,
            score: None,
            liveness: None,
            snapshot: None,
        };
        let unlock = Duration::from_millis(5_000)
            .mul_f64(1.0 / speed)
            .max(Duration::from_millis(1));
        if door
            .unlock(
                unlock.max(scaled(to_door + through + 1.0)),
                AccessMethod::ExitButton,
                Some(decision),
            )
            .await
            .is_err()
        {
            return;
        }
        if sleep_or_stop(scaled(to_door), &shutdown).await {
            return;
        }
        contact.set_open(true);
        if sleep_or_stop(scaled(through), &shutdown).await {
            contact.set_open(false);
            return;
        }
        contact.set_open(false);
        visits += 1;
        debug!(visits, "Simulated visit done.");
    }
}

/// A corridor of strangers for load tests: `count` denied decisions, `per_sec` a second
/// (0 = as fast as the store takes them).
pub async fn run_strangers(outbox: Outbox, count: u64, per_sec: f64, shutdown: CancellationToken) {
    let pause = (per_sec > 0.0).then(|| Duration::from_secs_f64(1.0 / per_sec));
    for _ in 0..count {
        if shutdown.is_cancelled() {
            return;
        }
        let event = Event::AccessDecision {
            result: AccessResult::Denied,
            method: AccessMethod::Face,
            person: None,
            reason: Some(DenyReason::UnknownFace),
            score: Some(rand::thread_rng().gen_range(0.1..0.4)),
            liveness: Some(0.99),
            snapshot: None,
        };
        if outbox.emit(event).await.is_err() {
            return;
        }
        if let Some(pause) = pause {
            if sleep_or_stop(pause, &shutdown).await {
                return;
            }
        }
    }
}

/// Sleeps; true if shutdown came first.
async fn sleep_or_stop(duration: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => true,
        _ = tokio::time::sleep(duration) => false,
    }
}

/// Frame `index` of a printed photo of `source` held up to a 640×480 camera: the photo on a
/// sheet with a paper margin, ink contrast (no true black or white) and a slight blur,
/// moved and scaled a little from frame to frame as a hand would. Every change is affine,
/// as a flat sheet's image is, which is what the parallax cue of the camera loop looks for.
pub fn printed_photo(source: &hal::RgbImage, index: usize) -> hal::RgbImage {
    use image::{imageops, Rgb, RgbImage};
    let (sw, sh) = (source.width().max(1) as f32, source.height().max(1) as f32);
    let scale = (380.0 / sh).min(520.0 / sw) * (0.94 + 0.03 * (index % 3) as f32);
    let (w, h) = (((sw * scale) as u32).max(1), ((sh * scale) as u32).max(1));
    let mut print = imageops::resize(source, w, h, imageops::FilterType::Triangle);
    for pixel in print.pixels_mut() {
        for c in pixel.0.iter_mut() {
            *c = (30.0 + f32::from(*c) * 0.75) as u8;
        }
    }
    let print = imageops::blur(&print, 0.8);
    let mut sheet = RgbImage::from_pixel(w + 30, h + 30, Rgb([232, 230, 222]));
    imageops::overlay(&mut sheet, &print, 15, 15);
    let mut frame = RgbImage::from_pixel(640, 480, Rgb([70, 72, 80]));
    let x = (640 - i64::from(sheet.width())) / 2 + 8 * (index as i64 % 4) - 12;
    let y = (480 - i64::from(sheet.height())) / 2 + 5 * (index as i64 % 3) - 5;
    imageops::overlay(&mut frame, &sheet, x, y);
    frame
}
