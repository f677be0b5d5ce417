//! The cheap presence trigger: every frame shrunk to a tiny grey thumbnail (a few hundred
//! pixels, sampled sparsely) and compared with the previous one. Only when enough of the
//! picture changes, or a face was seen a moment ago, does the expensive face pipeline run,
//! so an empty corridor costs almost nothing.

use std::time::{Duration, Instant};

use image::RgbImage;
use serde::{Deserialize, Serialize};

/// Settings of the trigger.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresenceSettings {
    /// Thumbnail width in cells (the height follows the aspect ratio).
    pub cells: u32,
    /// Mean absolute change of a cell's grey level (0–255) that counts as movement.
    pub threshold: f32,
    /// Keep analysing this long after the last movement or face.
    pub hold_ms: u64,
}

impl Default for PresenceSettings {
    fn default() -> Self {
        Self {
            cells: 32,
            threshold: 3.0,
            hold_ms: 2_500,
        }
    }
}

/// Movement and face memory over the last frames.
#[derive(Debug)]
pub struct Presence {
    settings: PresenceSettings,
    previous: Vec<f32>,
    active_until: Option<Instant>,
}

impl Presence {
    pub fn new(settings: PresenceSettings) -> Self {
        Self {
            settings,
            previous: Vec::new(),
            active_until: None,
        }
    }

    /// Feeds a frame seen at `now`; true when the face pipeline should look at it.
    pub fn update(&mut self, image: &RgbImage, now: Instant) -> bool {
        let thumb = thumbnail(image, self.settings.cells.max(4));
        let moved = if self.previous.len() == thumb.len() {
            let change: f32 = thumb
                .iter()
                .zip(&self.previous)
                .map(|(a, b)| (a - b).abs())
                .sum::<f32>()
                / thumb.len().max(1) as f32;
            change >= self.settings.threshold
        } else {
            // The first frame (or a new size): look once.
            true
        };
        self.previous = thumb;
        if moved {
            self.keep_alive(now);
        }
        self.active_until.is_some_and(|until| now <= until)
    }

    /// A face was seen: keep looking even if the person stands still.
    pub fn keep_alive(&mut self, now: Instant) {
        self.active_until = Some(now + Duration::from_millis(self.settings.hold_ms));
    }
}

/// Mean grey level of each cell of a `cells`-wide grid, from a sparse sample of its pixels
/// (at most 4×4 a cell): a 640×480 frame costs about 800 pixel reads.
fn thumbnail(image: &RgbImage, cells: u32) -> Vec<f32> {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let cols = cells.min(w);
    let rows = (cols * h / w).clamp(1, h);
    let mut out = Vec::with_capacity((cols * rows) as usize);
    for r in 0..rows {
        let (y0, y1) = (r * h / rows, ((r + 1) * h / rows).max(r * h / rows + 1));
        for c in 0..cols {
            let (x0, x1) = (c * w / cols, ((c + 1) * w / cols).max(c * w / cols + 1));
            let (sx, sy) = (((x1 - x0) / 4).max(1), ((y1 - y0) / 4).max(1));
            let (mut sum, mut n) = (0u32, 0u32);
            let mut y = y0 + sy / 2;
            while y < y1 {
                let mut x = x0 + sx / 2;
                while x < x1 {
                    let p = image.get_pixel(x, y).0;
                    // Integer luma (BT.601 weights ×256).
                    sum +=
                        (77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2])) >> 8;
                    n += 1;
                    x += sx;
                }
                y += sy;
            }
            out.push(sum as f32 / n.max(1) as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn a_still_scene_goes_quiet_and_a_change_wakes_it() {
        let mut presence = Presence::new(PresenceSettings::default());
        let empty = RgbImage::from_pixel(640, 480, Rgb([120, 120, 120]));
        let t0 = Instant::now();
        assert!(presence.update(&empty, t0), "the first frame is looked at");
        let later = t0 + Duration::from_secs(5);
        assert!(!presence.update(&empty, later), "nothing moved for 5 s");
        // A person-sized dark block enters the frame.
        let mut someone = empty.clone();
        for y in 100..400 {
            for x in 200..420 {
                someone.put_pixel(x, y, Rgb([30, 25, 20]));
            }
        }
        assert!(presence.update(&someone, later + Duration::from_millis(66)));
        // Standing still: active for the hold time, kept alive by faces after that.
        let still = later + Duration::from_millis(1_000);
        assert!(presence.update(&someone, still));
        presence.keep_alive(still);
        assert!(presence.update(&someone, still + Duration::from_millis(2_000)));
        assert!(!presence.update(&someone, still + Duration::from_millis(10_000)));
    }

    #[test]
    fn sensor_noise_does_not_trigger() {
        let mut presence = Presence::new(PresenceSettings::default());
        let a = RgbImage::from_fn(320, 240, |x, y| {
            let v = 100 + ((x * 7 + y * 13) % 5) as u8;
            Rgb([v, v, v])
        });
        let b = RgbImage::from_fn(320, 240, |x, y| {
            let v = 100 + ((x * 11 + y * 3) % 5) as u8;
            Rgb([v, v, v])
        });
        let t0 = Instant::now();
        presence.update(&a, t0);
        assert!(!presence.update(&b, t0 + Duration::from_secs(10)));
    }
}
