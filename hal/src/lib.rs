//! Hardware abstraction: small capability traits for the door hardware, and their backends.
//!
//! The daemon holds `Arc<dyn Relay>`, `Arc<dyn DoorSensor>`, … and never knows which backend
//! is behind them. Only this crate knows rppal, nokhwa or opencv.
//!
//! # Layout
//! - the traits and shared types (this file);
//! - [`liion`]: the Li-ion discharge curve (millivolts ↔ state of charge), shared by backends
//!   that only measure a voltage;
//! - [`pacing`]: holds camera frames to a frame rate, for any camera backend;
//! - [`sim`]: simulated hardware for tests and the demo (always compiled);
//! - [`sysfs`]: a battery read from the kernel's power-supply class (always compiled);
//! - `rpi`: Raspberry Pi GPIO relay and door contact, INA219 battery monitor over I2C, through
//!   rppal (feature `rpi`);
//! - one module per camera backend behind a feature of the same name: `nokhwa` (V4L2/USB
//!   cameras) and `opencv` (RTSP cameras and video files). Each only implements [`Camera`];
//!   nothing outside its module names the backend crate.

// In tests an unwrap is the assertion: a failure there should panic with the value.
#![cfg_attr(test, allow(clippy::unwrap_used))]

use std::fmt;

pub mod liion;
#[cfg(feature = "nokhwa")]
pub mod nokhwa;
#[cfg(feature = "opencv")]
pub mod opencv;
pub mod pacing;
#[cfg(feature = "rpi")]
pub mod rpi;
pub mod sim;
pub mod sysfs;

pub use liion::{millivolts_from_percent, percent_from_millivolts};

pub use image::RgbImage;
use time::OffsetDateTime;

/// Why a hardware operation failed.
#[derive(Debug, thiserror::Error)]
pub enum HalError {
    /// The device is not there or cannot be opened (wrong pin, no permission, not a Pi).
    #[error("{device} unavailable: {reason}")]
    Unavailable {
        device: &'static str,
        reason: String,
    },
    /// The device answered, but the operation failed.
    #[error("{device} failed: {reason}")]
    Io {
        device: &'static str,
        reason: String,
    },
    /// A camera produced no frame in time, or cannot capture.
    #[error("camera: {0}")]
    Camera(String),
    /// A camera delivered a frame whose data is damaged (a truncated or garbled image): that
    /// frame is lost, the next one may be fine.
    #[error("camera frame corrupt: {0}")]
    CorruptFrame(String),
}

/// The lock relay. `locked = true` engages the lock.
pub trait Relay: Send + Sync + fmt::Debug {
    fn set_locked(&self, locked: bool) -> Result<(), HalError>;
    /// The state last commanded (relays have no read-back).
    fn is_locked(&self) -> bool;
}

/// The door contact (reed switch). Raw, not debounced: the daemon debounces.
pub trait DoorSensor: Send + Sync + fmt::Debug {
    fn is_open(&self) -> Result<bool, HalError>;
}

/// One reading of the power supply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatteryReading {
    /// Terminal voltage, when the backend measures it.
    pub millivolts: Option<u32>,
    /// State of charge, when the backend knows it directly (power-supply class).
    pub percent: Option<u8>,
    /// External power is feeding the system (charging, or full and held on the charger);
    /// `false` means the door is running from its battery.
    pub charging: bool,
}

pub trait Battery: Send + Sync + fmt::Debug {
    fn read(&self) -> Result<BatteryReading, HalError>;
}

/// One camera frame, RGB8.
#[derive(Debug, Clone)]
pub struct Frame {
    pub image: RgbImage,
    pub captured_at: OffsetDateTime,
}

/// A camera. `capture` blocks until the next frame; call it from a blocking thread.
pub trait Camera: Send + Sync + fmt::Debug {
    fn capture(&self) -> Result<Frame, HalError>;
}

/// Wall clock and whether it has been synchronised (NTP) since boot.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> OffsetDateTime;
    fn is_synced(&self) -> bool;
}

/// No synchronised clock shows a time before this (2025-01-01T00:00:00Z, before this code
/// was written): a Pi without a real-time clock boots at the epoch, and whatever else says
/// the clock is set, a time before this is not.
pub const PLAUSIBLE_SINCE_UNIX: i64 = 1_735_689_600;

/// The system clock; considers itself synchronised when systemd-timesyncd says so or when
/// told to (`assume_synced`), and never while it shows a time before
/// [`PLAUSIBLE_SINCE_UNIX`].
#[derive(Debug, Default)]
pub struct SystemClock {
    pub assume_synced: bool,
}

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn is_synced(&self) -> bool {
        self.now().unix_timestamp() >= PLAUSIBLE_SINCE_UNIX
            && (self.assume_synced
                || std::path::Path::new("/run/systemd/timesync/synchronized").exists())
    }
}
