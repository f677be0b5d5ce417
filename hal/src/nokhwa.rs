//! USB and V4L2 cameras through nokhwa (feature `nokhwa`).
//!
//! nokhwa's camera handle is not `Send`, so one thread owns it for its whole life: it opens
//! the device, then answers capture requests one at a time. [`UsbCamera`] is the `Send + Sync`
//! handle that sends those requests. Dropping the handle ends the thread and frees the device.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use ::nokhwa::pixel_format::RgbFormat;
use ::nokhwa::utils::{
    CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution,
};
use time::OffsetDateTime;

use crate::{Camera, Frame, HalError, RgbImage};

const DEVICE: &str = "camera";

/// Which camera and how to drive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbCameraConfig {
    /// The V4L2 device index: `/dev/video<index>`.
    pub index: u32,
    /// Ask for this resolution and rate (the closest the camera offers); `None` takes the
    /// highest frame rate it offers.
    pub format: Option<UsbFormat>,
    /// A capture that takes longer than this fails (a camera unplugged mid-stream).
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbFormat {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl Default for UsbCameraConfig {
    fn default() -> Self {
        Self {
            index: 0,
            format: Some(UsbFormat {
                width: 640,
                height: 480,
                fps: 15,
            }),
            timeout: Duration::from_secs(5),
        }
    }
}

impl UsbCameraConfig {
    /// The device node this configuration opens.
    pub fn device_path(&self) -> PathBuf {
        PathBuf::from(format!("/dev/video{}", self.index))
    }
}

type Reply = mpsc::SyncSender<Result<Frame, HalError>>;

/// A USB/V4L2 camera. `capture` blocks until the next frame (call it from a blocking thread).
#[derive(Debug)]
pub struct UsbCamera {
    config: UsbCameraConfig,
    requests: Mutex<mpsc::Sender<Reply>>,
}

impl UsbCamera {
    /// Opens the camera and starts its stream. Fails with [`HalError::Unavailable`] when the
    /// device node is missing or the camera refuses to stream.
    pub fn open(config: UsbCameraConfig) -> Result<Self, HalError> {
        Self::open_in(Path::new("/dev"), config)
    }

    /// As [`UsbCamera::open`], looking for the device node under `dev` (tests use an empty
    /// directory to see the missing-device error without touching real devices).
    pub fn open_in(dev: &Path, config: UsbCameraConfig) -> Result<Self, HalError> {
        let node = dev.join(format!("video{}", config.index));
        if !node.exists() {
            return Err(HalError::Unavailable {
                device: DEVICE,
                reason: format!(
                    "{} does not exist; is the camera plugged in? (`ls /dev/video*` lists the \
                     cameras, `v4l2-ctl --list-devices` names them)",
                    node.display()
                ),
            });
        }
        let (requests, inbox) = mpsc::channel::<Reply>();
        let (opened, open_result) = mpsc::sync_channel(1);
        let thread_config = config.clone();
        std::thread::Builder::new()
            .name(format!("camera-video{}", config.index))
            .spawn(move || run(thread_config, opened, inbox))
            .map_err(|e| HalError::Unavailable {
                device: DEVICE,
                reason: format!("cannot start the capture thread: {e}"),
            })?;
        match open_result.recv_timeout(config.timeout.max(Duration::from_secs(1)) * 2) {
            Ok(Ok(())) => Ok(Self {
                config,
                requests: Mutex::new(requests),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(HalError::Unavailable {
                device: DEVICE,
                reason: format!("{} did not open in time", node.display()),
            }),
        }
    }

    pub fn config(&self) -> &UsbCameraConfig {
        &self.config
    }
}

impl Camera for UsbCamera {
    fn capture(&self) -> Result<Frame, HalError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(reply)
            .map_err(|_| HalError::Camera("the capture thread has stopped".into()))?;
        answer
            .recv_timeout(self.config.timeout)
            .map_err(|_| HalError::Camera("no frame in time".into()))?
    }
}

fn requested(config: &UsbCameraConfig) -> RequestedFormat<'static> {
    match config.format {
        Some(format) => {
            RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(CameraFormat::new(
                Resolution::new(format.width, format.height),
                FrameFormat::MJPEG,
                format.fps,
            )))
        }
        None => RequestedFormat::new::<RgbFormat>(RequestedFormatType::AbsoluteHighestFrameRate),
    }
}

/// The capture thread: opens the camera, reports how that went, then serves requests until
/// the handle is dropped.
fn run(
    config: UsbCameraConfig,
    opened: mpsc::SyncSender<Result<(), HalError>>,
    inbox: mpsc::Receiver<Reply>,
) {
    let unavailable = |what: String| HalError::Unavailable {
        device: DEVICE,
        reason: what,
    };
    let camera = ::nokhwa::Camera::new(CameraIndex::Index(config.index), requested(&config))
        .map_err(|e| {
            unavailable(format!(
                "cannot open {}: {e}",
                config.device_path().display()
            ))
        });
    let mut camera = match camera {
        Ok(camera) => camera,
        Err(e) => {
            let _ = opened.send(Err(e));
            return;
        }
    };
    if let Err(e) = camera.open_stream() {
        let _ = opened.send(Err(unavailable(format!(
            "{} will not stream: {e}",
            config.device_path().display()
        ))));
        return;
    }
    if opened.send(Ok(())).is_err() {
        return;
    }
    while let Ok(reply) = inbox.recv() {
        let frame = camera
            .frame()
            .map_err(|e| HalError::Camera(format!("capture: {e}")))
            .and_then(|buffer| {
                let decoded = buffer
                    .decode_image::<RgbFormat>()
                    .map_err(|e| HalError::CorruptFrame(format!("decode: {e}")))?;
                let (width, height) = (decoded.width(), decoded.height());
                RgbImage::from_raw(width, height, decoded.into_raw()).ok_or_else(|| {
                    HalError::CorruptFrame("frame size does not match its data".into())
                })
            })
            .map(|image| Frame {
                image,
                captured_at: OffsetDateTime::now_utc(),
            });
        let _ = reply.send(frame);
    }
    let _ = camera.stop_stream();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_device_node_is_unavailable_with_advice() {
        let dev = tempfile::tempdir().unwrap();
        let config = UsbCameraConfig {
            index: 7,
            ..Default::default()
        };
        let err = UsbCamera::open_in(dev.path(), config).unwrap_err();
        match err {
            HalError::Unavailable { device, reason } => {
                assert_eq!(device, "camera");
                assert!(reason.contains("video7 does not exist"), "{reason}");
                assert!(reason.contains("ls /dev/video*"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_device_node_that_is_not_a_camera_fails_to_open_cleanly() {
        // A regular file where the device node should be: nokhwa must refuse it with an
        // error, not a panic or a hang.
        let dev = tempfile::tempdir().unwrap();
        std::fs::write(dev.path().join("video0"), b"not a camera").unwrap();
        let config = UsbCameraConfig {
            timeout: Duration::from_secs(2),
            ..Default::default()
        };
        // The node check passes; opening index 0 then goes to the real /dev/video0, which
        // this machine (and CI) does not have.
        if Path::new("/dev/video0").exists() {
            return;
        }
        let err = UsbCamera::open_in(dev.path(), config).unwrap_err();
        assert!(matches!(err, HalError::Unavailable { .. }), "{err:?}");
    }
}
