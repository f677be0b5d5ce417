//! A simulated camera: a looping folder of images, or frames pushed by a test or the demo.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use image::{ImageReader, Limits, Rgb, RgbImage};
use time::OffsetDateTime;

use super::lock;
use crate::pacing::FramePacer;
use crate::{Camera, Clock, Frame, HalError};

/// The simulated camera's parameters.
#[derive(Debug, Clone)]
pub struct SimCameraConfig {
    /// Size of the empty background frame shown when nothing else is.
    pub width: u32,
    pub height: u32,
    /// Colour of the background frame.
    pub background: Rgb<u8>,
    /// Frames per second `capture` is held to, like a real sensor; 0 (or anything not a
    /// positive finite number) delivers frames without waiting.
    pub fps: f64,
    /// Stamps frames; the system clock when `None`.
    pub clock: Option<Arc<dyn Clock>>,
}

impl Default for SimCameraConfig {
    /// A 640×480 grey scene at 15 frames per second.
    fn default() -> Self {
        Self {
            width: 640,
            height: 480,
            background: Rgb([128, 128, 128]),
            fps: 15.0,
            clock: None,
        }
    }
}

impl SimCameraConfig {
    /// The time between frames, or zero for no pacing.
    fn frame_interval(&self) -> Duration {
        if self.fps.is_finite() && self.fps > 0.0 {
            Duration::try_from_secs_f64(1.0 / self.fps).unwrap_or(Duration::ZERO)
        } else {
            Duration::ZERO
        }
    }
}

#[derive(Debug)]
struct State {
    /// Decoded images of the folder, in name order; empty for a push-only camera.
    playlist: Arc<[RgbImage]>,
    position: usize,
    shown: Option<RgbImage>,
    background: RgbImage,
    pacer: FramePacer,
    fault: Option<String>,
    /// Stuck: captures wait for a frame that does not come.
    stalled: bool,
    /// Captures still to deliver as corrupt frames.
    corrupt: u64,
    captured: u64,
}

/// A camera in memory.
///
/// What `capture` returns, in order of precedence: the frame last given to
/// [`SimCamera::show`] until [`SimCamera::clear`]; else the next image of the folder (for
/// [`SimCamera::from_folder`]), looping; else the empty background frame.
#[derive(Debug, Clone)]
pub struct SimCamera {
    state: Arc<Mutex<State>>,
    clock: Option<Arc<dyn Clock>>,
}

impl SimCamera {
    /// A camera showing the empty background until a frame is pushed.
    pub fn new(config: SimCameraConfig) -> Self {
        Self::with_playlist(config, Vec::new())
    }

    /// A camera that plays the `.jpg`, `.jpeg` and `.png` files of `dir`, sorted by file
    /// name, looping. Files that cannot be decoded are skipped with a warning; other files
    /// are ignored. Fails when the folder cannot be read or holds no usable image.
    pub fn from_folder(dir: impl AsRef<Path>, config: SimCameraConfig) -> Result<Self, HalError> {
        let dir = dir.as_ref();
        let playlist = load_folder(dir)?;
        if playlist.is_empty() {
            return Err(HalError::Unavailable {
                device: "camera",
                reason: format!("no decodable .jpg or .png image in {}", dir.display()),
            });
        }
        Ok(Self::with_playlist(config, playlist))
    }

    fn with_playlist(config: SimCameraConfig, playlist: Vec<RgbImage>) -> Self {
        let background = RgbImage::from_pixel(config.width, config.height, config.background);
        let pacer = FramePacer::new(config.frame_interval());
        Self {
            state: Arc::new(Mutex::new(State {
                playlist: playlist.into(),
                position: 0,
                shown: None,
                background,
                pacer,
                fault: None,
                stalled: false,
                corrupt: 0,
                captured: 0,
            })),
            clock: config.clock,
        }
    }

    /// Puts `image` in view: every capture returns it until [`SimCamera::clear`].
    pub fn show(&self, image: RgbImage) {
        lock(&self.state).shown = Some(image);
    }

    /// Takes the pushed frame away: the folder plays on, or the empty background shows.
    pub fn clear(&self) {
        lock(&self.state).shown = None;
    }

    /// How many images the folder gave (0 for a push-only camera).
    pub fn playlist_len(&self) -> usize {
        lock(&self.state).playlist.len()
    }

    /// How many frames have been captured.
    pub fn frames_captured(&self) -> u64 {
        lock(&self.state).captured
    }

    /// Makes captures fail with [`HalError::Camera`] carrying `reason`, or (`None`) work again.
    pub fn set_fault(&self, reason: Option<String>) {
        lock(&self.state).fault = reason;
    }

    /// Makes the camera stuck (`true`): a capture waits for a frame that does not come and,
    /// like a driver's select timeout, fails after [`STALL_TIMEOUT`]; or (`false`) delivers
    /// again, releasing a capture that waits.
    pub fn set_stalled(&self, stalled: bool) {
        lock(&self.state).stalled = stalled;
    }

    /// Makes the next `frames` captures deliver a damaged frame ([`HalError::CorruptFrame`]),
    /// as a USB camera does with a truncated MJPEG frame. They are not counted as captured.
    pub fn corrupt_next(&self, frames: u64) {
        lock(&self.state).corrupt = frames;
    }

    fn next_image(state: &mut State) -> RgbImage {
        if let Some(shown) = &state.shown {
            return shown.clone();
        }
        let playlist = Arc::clone(&state.playlist);
        match playlist.get(state.position % playlist.len().max(1)) {
            Some(image) => {
                state.position = (state.position + 1) % playlist.len();
                image.clone()
            }
            None => state.background.clone(),
        }
    }
}

impl Default for SimCamera {
    fn default() -> Self {
        Self::new(SimCameraConfig::default())
    }
}

/// How long a capture of a stuck simulated camera waits before it fails.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(2);

impl Camera for SimCamera {
    fn capture(&self) -> Result<Frame, HalError> {
        let stuck_since = Instant::now();
        while lock(&self.state).stalled {
            if stuck_since.elapsed() >= STALL_TIMEOUT {
                return Err(HalError::Camera(format!(
                    "no frame within {} s",
                    STALL_TIMEOUT.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let wait = {
            let mut state = lock(&self.state);
            if let Some(reason) = &state.fault {
                return Err(HalError::Camera(reason.clone()));
            }
            state.pacer.reserve(Instant::now())
        };
        // Sleep outside the lock so `show`/`clear` from the world are never held up, and the
        // frame reflects the scene when it is taken, not when it was asked for.
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        let image = {
            let mut state = lock(&self.state);
            if state.corrupt > 0 {
                state.corrupt -= 1;
                return Err(HalError::CorruptFrame("simulated damaged frame".into()));
            }
            state.captured += 1;
            Self::next_image(&mut state)
        };
        let captured_at = match &self.clock {
            Some(clock) => clock.now(),
            None => OffsetDateTime::now_utc(),
        };
        Ok(Frame { image, captured_at })
    }
}

/// Whether a file name is one the folder player takes.
fn is_image_name(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| {
            ["jpg", "jpeg", "png"]
                .iter()
                .any(|e| ext.eq_ignore_ascii_case(e))
        })
}

fn load_folder(dir: &Path) -> Result<Vec<RgbImage>, HalError> {
    let unavailable = |reason: String| HalError::Unavailable {
        device: "camera",
        reason,
    };
    let entries = fs::read_dir(dir)
        .map_err(|e| unavailable(format!("cannot read image folder {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && is_image_name(path))
        .collect();
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));

    let mut images = Vec::with_capacity(paths.len());
    for path in paths {
        match decode(&path) {
            Ok(image) => images.push(image),
            Err(error) => tracing::warn!(
                path = %path.display(),
                %error,
                "Skipping an image the simulated camera cannot decode."
            ),
        }
    }
    Ok(images)
}

fn decode(path: &Path) -> Result<RgbImage, String> {
    let mut reader = ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| e.to_string())?;
    // A camera frame is never this large; the limit keeps a hostile file from asking the
    // decoder for gigabytes.
    let mut limits = Limits::default();
    limits.max_image_width = Some(8192);
    limits.max_image_height = Some(8192);
    reader.limits(limits);
    reader
        .decode()
        .map(|img| img.to_rgb8())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimClock;
    use image::ImageFormat;
    use time::macros::datetime;

    fn unpaced() -> SimCameraConfig {
        SimCameraConfig {
            width: 32,
            height: 24,
            background: Rgb([1, 2, 3]),
            fps: 0.0,
            clock: None,
        }
    }

    fn solid(value: u8) -> RgbImage {
        RgbImage::from_pixel(8, 6, Rgb([value, value, value]))
    }

    #[test]
    fn empty_scene_is_the_configured_background() {
        let camera = SimCamera::new(unpaced());
        let frame = camera.capture().unwrap();
        assert_eq!(frame.image.dimensions(), (32, 24));
        assert!(frame.image.pixels().all(|p| *p == Rgb([1, 2, 3])));
        assert_eq!(camera.playlist_len(), 0);
    }

    #[test]
    fn show_and_clear() {
        let camera = SimCamera::new(unpaced());
        let daemon: Arc<dyn Camera> = Arc::new(camera.clone());
        camera.show(solid(200));
        assert_eq!(daemon.capture().unwrap().image, solid(200));
        assert_eq!(daemon.capture().unwrap().image, solid(200));
        camera.clear();
        assert_eq!(daemon.capture().unwrap().image.dimensions(), (32, 24));
        assert_eq!(camera.frames_captured(), 3);
    }

    #[test]
    fn folder_plays_sorted_and_loops_skipping_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        solid(30)
            .save_with_format(dir.path().join("b.png"), ImageFormat::Png)
            .unwrap();
        solid(10)
            .save_with_format(dir.path().join("a.PNG"), ImageFormat::Png)
            .unwrap();
        // JPEG is lossy; a flat grey survives within a step or two.
        solid(200)
            .save_with_format(dir.path().join("c.jpg"), ImageFormat::Jpeg)
            .unwrap();
        fs::write(dir.path().join("aa.jpg"), b"not a jpeg at all").unwrap();
        fs::write(dir.path().join("ab.png"), b"").unwrap();
        fs::write(dir.path().join("notes.txt"), b"ignored").unwrap();
        fs::create_dir(dir.path().join("0.png")).unwrap();

        let camera = SimCamera::from_folder(dir.path(), unpaced()).unwrap();
        assert_eq!(camera.playlist_len(), 3);
        let grey = |camera: &SimCamera| camera.capture().unwrap().image.get_pixel(0, 0).0[0];
        let seen: Vec<u8> = (0..4).map(|_| grey(&camera)).collect();
        assert_eq!(seen[..2], [10, 30]);
        assert!(seen[2].abs_diff(200) <= 3, "{seen:?}");
        assert_eq!(seen[3], 10, "loops back to the first image");

        // A pushed frame takes precedence; clearing resumes the folder where it was.
        camera.show(solid(99));
        assert_eq!(grey(&camera), 99);
        camera.clear();
        assert_eq!(grey(&camera), 30);
    }

    #[test]
    fn folder_without_usable_images_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("broken.png"), b"\x89PNG garbage").unwrap();
        let err = SimCamera::from_folder(dir.path(), unpaced()).unwrap_err();
        assert!(
            matches!(
                err,
                HalError::Unavailable {
                    device: "camera",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("no decodable"), "{err}");

        let missing = dir.path().join("missing");
        let err = SimCamera::from_folder(&missing, unpaced()).unwrap_err();
        assert!(
            err.to_string().contains("cannot read image folder"),
            "{err}"
        );
    }

    #[test]
    fn fault_fails_captures() {
        let camera = SimCamera::new(unpaced());
        camera.set_fault(Some("unplugged".into()));
        assert_eq!(
            camera.capture().unwrap_err().to_string(),
            "camera: unplugged"
        );
        camera.set_fault(None);
        assert!(camera.capture().is_ok());
    }

    #[test]
    fn a_stuck_camera_times_out_and_delivers_once_released() {
        let camera = SimCamera::new(unpaced());
        camera.set_stalled(true);
        let waited = Instant::now();
        let error = camera.capture().unwrap_err();
        assert!(waited.elapsed() >= STALL_TIMEOUT, "{:?}", waited.elapsed());
        assert_eq!(error.to_string(), "camera: no frame within 2 s");
        let released = camera.clone();
        let waiting = std::thread::spawn(move || camera.capture());
        std::thread::sleep(Duration::from_millis(100));
        released.set_stalled(false);
        assert!(waiting.join().unwrap().is_ok());
        assert_eq!(released.frames_captured(), 1);
    }

    #[test]
    fn corrupt_frames_come_then_good_ones() {
        let camera = SimCamera::new(unpaced());
        camera.corrupt_next(2);
        for _ in 0..2 {
            assert!(matches!(camera.capture(), Err(HalError::CorruptFrame(_))));
        }
        assert!(camera.capture().is_ok());
        assert_eq!(camera.frames_captured(), 1);
    }

    #[test]
    fn frames_are_stamped_by_the_given_clock() {
        let clock = SimClock::frozen(datetime!(2026-03-01 08:00 UTC), false);
        let camera = SimCamera::new(SimCameraConfig {
            clock: Some(Arc::new(clock)),
            ..unpaced()
        });
        assert_eq!(
            camera.capture().unwrap().captured_at,
            datetime!(2026-03-01 08:00 UTC)
        );
    }

    #[test]
    fn frame_interval_from_fps() {
        let interval = |fps| SimCameraConfig { fps, ..unpaced() }.frame_interval();
        assert_eq!(interval(0.0), Duration::ZERO);
        assert_eq!(interval(-3.0), Duration::ZERO);
        assert_eq!(interval(f64::NAN), Duration::ZERO);
        assert_eq!(interval(f64::INFINITY), Duration::ZERO);
        assert_eq!(interval(10.0), Duration::from_millis(100));
        assert_eq!(interval(f64::MIN_POSITIVE), Duration::ZERO);
    }

    #[test]
    fn capture_blocks_to_the_frame_rate() {
        // The one test that really waits: it checks the sleep is wired in. 100 fps keeps it
        // to about 20 ms.
        let camera = SimCamera::new(SimCameraConfig {
            fps: 100.0,
            ..unpaced()
        });
        let start = Instant::now();
        for _ in 0..3 {
            camera.capture().unwrap();
        }
        assert!(
            start.elapsed() >= Duration::from_millis(20),
            "{:?}",
            start.elapsed()
        );
    }
}
