//! RTSP/HTTP network cameras and video files through OpenCV's `VideoCapture` (feature
//! `opencv`, needs the system's OpenCV: Debian `libopencv-dev`, `clang`, `libclang-dev`).
//!
//! A stream that drops is reopened on the next capture; a file can loop (for demos and
//! tests) or end with an error.

use std::sync::{Mutex, PoisonError};

use ::opencv::core::{Mat, MatTraitConst, MatTraitConstManual};
use ::opencv::imgproc;
use ::opencv::videoio::{self, VideoCapture, VideoCaptureTrait, VideoCaptureTraitConst};
use time::OffsetDateTime;

use crate::{Camera, Frame, HalError, RgbImage};

const DEVICE: &str = "camera";

/// What to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamCameraConfig {
    /// An `rtsp://…`/`http://…` URL or a path to a video file.
    pub source: String,
    /// At the end of a file, start again from the first frame.
    pub loop_file: bool,
}

/// A camera read through OpenCV. `capture` blocks until the next frame.
#[derive(Debug)]
pub struct StreamCamera {
    config: StreamCameraConfig,
    capture: Mutex<VideoCapture>,
}

fn is_url(source: &str) -> bool {
    source.contains("://")
}

fn open(config: &StreamCameraConfig) -> Result<VideoCapture, HalError> {
    let unavailable = |reason: String| HalError::Unavailable {
        device: DEVICE,
        reason,
    };
    if !is_url(&config.source) && !std::path::Path::new(&config.source).is_file() {
        return Err(unavailable(format!(
            "video file {} does not exist",
            config.source
        )));
    }
    let capture = VideoCapture::from_file(&config.source, videoio::CAP_ANY)
        .map_err(|e| unavailable(format!("cannot open {}: {e}", redact(&config.source))))?;
    let opened = capture
        .is_opened()
        .map_err(|e| unavailable(format!("cannot open {}: {e}", redact(&config.source))))?;
    if !opened {
        return Err(unavailable(format!(
            "OpenCV cannot open {} (unreachable stream, wrong credentials, or no decoder for it)",
            redact(&config.source)
        )));
    }
    Ok(capture)
}

/// A stream URL without its password, for messages (`rtsp://user:secret@host` is common).
fn redact(source: &str) -> String {
    let Some((scheme, rest)) = source.split_once("://") else {
        return source.to_owned();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}/{path}")
        }
        None => source.to_owned(),
    }
}

impl StreamCamera {
    pub fn open(config: StreamCameraConfig) -> Result<Self, HalError> {
        let capture = open(&config)?;
        Ok(Self {
            config,
            capture: Mutex::new(capture),
        })
    }

    pub fn config(&self) -> &StreamCameraConfig {
        &self.config
    }

    fn read(capture: &mut VideoCapture) -> Result<Option<Mat>, HalError> {
        let mut frame = Mat::default();
        let got = capture
            .read(&mut frame)
            .map_err(|e| HalError::Camera(format!("read: {e}")))?;
        Ok((got && !frame.empty()).then_some(frame))
    }
}

impl Camera for StreamCamera {
    fn capture(&self) -> Result<Frame, HalError> {
        let mut capture = self.capture.lock().unwrap_or_else(PoisonError::into_inner);
        let frame = match Self::read(&mut capture)? {
            Some(frame) => frame,
            None if is_url(&self.config.source) => {
                // The stream dropped: reconnect once, then give up for this capture.
                *capture = open(&self.config)?;
                Self::read(&mut capture)?
                    .ok_or_else(|| HalError::Camera("the stream sends no frames".into()))?
            }
            None if self.config.loop_file => {
                capture
                    .set(videoio::CAP_PROP_POS_FRAMES, 0.0)
                    .map_err(|e| HalError::Camera(format!("rewind: {e}")))?;
                Self::read(&mut capture)?
                    .ok_or_else(|| HalError::Camera("the video file has no frames".into()))?
            }
            None => return Err(HalError::Camera("end of the video file".into())),
        };
        drop(capture);
        Ok(Frame {
            image: to_rgb(&frame)?,
            captured_at: OffsetDateTime::now_utc(),
        })
    }
}

/// OpenCV's BGR (or grey, or BGRA) frame as an RGB image.
fn to_rgb(frame: &Mat) -> Result<RgbImage, HalError> {
    let code = match frame.channels() {
        1 => imgproc::COLOR_GRAY2RGB,
        3 => imgproc::COLOR_BGR2RGB,
        4 => imgproc::COLOR_BGRA2RGB,
        n => return Err(HalError::Camera(format!("frames with {n} channels"))),
    };
    let mut rgb = Mat::default();
    imgproc::cvt_color_def(frame, &mut rgb, code)
        .map_err(|e| HalError::Camera(format!("colour conversion: {e}")))?;
    let (width, height) = (rgb.cols(), rgb.rows());
    let data = rgb
        .data_bytes()
        .map_err(|e| HalError::Camera(format!("frame data: {e}")))?
        .to_vec();
    let (width, height) = (
        u32::try_from(width).map_err(|_| HalError::Camera("negative width".into()))?,
        u32::try_from(height).map_err(|_| HalError::Camera("negative height".into()))?,
    );
    RgbImage::from_raw(width, height, data)
        .ok_or_else(|| HalError::Camera("frame size does not match its data".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_kept_out_of_messages() {
        assert_eq!(
            redact("rtsp://admin:hunter2@10.0.0.5:554/stream1"),
            "rtsp://admin:***@10.0.0.5:554/stream1"
        );
        assert_eq!(redact("rtsp://10.0.0.5/s"), "rtsp://10.0.0.5/s");
        assert_eq!(
            redact("/var/lib/gerbang/demo.avi"),
            "/var/lib/gerbang/demo.avi"
        );
    }

    #[test]
    fn a_missing_file_is_unavailable() {
        let err = StreamCamera::open(StreamCameraConfig {
            source: "/nonexistent/door.avi".into(),
            loop_file: true,
        })
        .unwrap_err();
        assert!(
            matches!(&err, HalError::Unavailable { reason, .. } if reason.contains("does not exist")),
            "{err:?}"
        );
    }

    #[test]
    fn an_unreachable_stream_is_unavailable_without_its_password() {
        // Port 9 on loopback: nothing listens, the connection is refused at once.
        let err = StreamCamera::open(StreamCameraConfig {
            source: "rtsp://admin:hunter2@127.0.0.1:9/stream".into(),
            loop_file: false,
        })
        .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, HalError::Unavailable { .. }), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    /// A real face photo written into an MJPEG AVI by OpenCV, read back through the camera:
    /// the same picture comes out (within JPEG loss), and the file loops.
    #[test]
    fn a_video_file_plays_and_loops() {
        use ::opencv::core::Size;
        use ::opencv::prelude::*;
        use ::opencv::videoio::VideoWriter;

        let photo_path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../models/testdata/people/obama/obama.jpg"
        );
        let photo =
            ::opencv::imgcodecs::imread(photo_path, ::opencv::imgcodecs::IMREAD_COLOR).unwrap();
        assert!(!photo.empty(), "cannot read {photo_path}");
        let size = Size::new(photo.cols(), photo.rows());
        let dir = tempfile::tempdir().unwrap();
        let video = dir.path().join("door.avi");
        let fourcc = VideoWriter::fourcc('M', 'J', 'P', 'G').unwrap();
        let mut writer =
            VideoWriter::new(video.to_str().unwrap(), fourcc, 5.0, size, true).unwrap();
        assert!(writer.is_opened().unwrap());
        for _ in 0..3 {
            writer.write(&photo).unwrap();
        }
        writer.release().unwrap();

        let camera = StreamCamera::open(StreamCameraConfig {
            source: video.to_str().unwrap().to_owned(),
            loop_file: true,
        })
        .unwrap();
        let expected = image::open(photo_path).unwrap().to_rgb8();
        // Three frames in the file; five captures must loop back to the start.
        for _ in 0..5 {
            let frame = camera.capture().unwrap();
            assert_eq!(frame.image.dimensions(), expected.dimensions());
            let diff: u64 = frame
                .image
                .as_raw()
                .iter()
                .zip(expected.as_raw())
                .map(|(a, b)| u64::from(a.abs_diff(*b)))
                .sum();
            let mean = diff as f64 / expected.as_raw().len() as f64;
            // Channel order matters here: BGR delivered as RGB would differ by far more.
            assert!(mean < 10.0, "mean difference {mean}");
        }

        let once = StreamCamera::open(StreamCameraConfig {
            source: video.to_str().unwrap().to_owned(),
            loop_file: false,
        })
        .unwrap();
        for _ in 0..3 {
            once.capture().unwrap();
        }
        assert!(matches!(once.capture(), Err(HalError::Camera(_))));
    }
}
