//! The `[hal]` configuration and the [`Hardware`] built from it: simulated, or a Raspberry Pi's
//! GPIO relay and door contact, a battery (INA219 on I2C, the kernel's power-supply class,
//! simulated or none) and a camera (simulated, USB/V4L2 through nokhwa, RTSP or a video file
//! through OpenCV, or none).
//!
//! Every setting parses on every build; asking for a backend this build was compiled without
//! (`rpi`, `nokhwa`, `opencv` features) is a clear [`HardwareError::NotBuilt`], not a
//! silent fallback to simulation.

use std::{path::PathBuf, sync::Arc};

use hal::{
    sim::{SimBattery, SimCamera, SimDoor, SimRelay},
    Battery, BatteryReading, Camera, Clock, DoorSensor, HalError, Relay,
};
use serde::{Deserialize, Serialize};

use crate::relay_guard::FailMode;

/// The hardware a daemon drives.
#[derive(Debug, Clone)]
pub struct Hardware {
    pub relay: Arc<dyn Relay>,
    pub contact: Arc<dyn DoorSensor>,
    pub battery: Arc<dyn Battery>,
    pub clock: Arc<dyn Clock>,
    /// The face camera, if the door has one (`[vision]` decides whether it is used).
    pub camera: Option<Arc<dyn Camera>>,
}

/// Handles on the simulated hardware, for what drives it: the simulated world of
/// [`crate::sim`], tests and the demo.
#[derive(Debug, Clone)]
pub struct SimWorld {
    pub relay: SimRelay,
    pub door: SimDoor,
    pub battery: SimBattery,
    /// The camera in front of the door: push photos with `show`.
    pub camera: SimCamera,
}

/// Builds a simulated door's hardware and the handles that drive it.
pub fn simulated() -> (Hardware, SimWorld) {
    let relay = SimRelay::new(true);
    let door = SimDoor::new(false);
    let battery = SimBattery::new(hal::sim::SimBatteryConfig {
        on_mains: false,
        ..Default::default()
    });
    let camera = SimCamera::default();
    let hardware = Hardware {
        relay: Arc::new(relay.clone()),
        contact: Arc::new(door.clone()),
        battery: Arc::new(battery.clone()),
        clock: Arc::new(hal::SystemClock {
            assume_synced: true,
        }),
        camera: Some(Arc::new(camera.clone())),
    };
    (
        hardware,
        SimWorld {
            relay,
            door,
            battery,
            camera,
        },
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HalBackend {
    /// Simulated hardware (tests, the demo, a laptop).
    Sim,
    /// Raspberry Pi GPIO and I2C.
    Rpi,
}

/// The `[hal]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HalSettings {
    /// Relay and door contact: simulated, or GPIO pins.
    pub backend: HalBackend,
    /// GPIO wiring of the lock relay (backend `rpi`).
    pub relay: RelaySettings,
    /// GPIO wiring of the door contact (backend `rpi`).
    pub contact: ContactSettings,
    pub battery: BatterySource,
    pub camera: CameraSource,
}

impl Default for HalSettings {
    fn default() -> Self {
        Self {
            backend: HalBackend::Sim,
            relay: RelaySettings::default(),
            contact: ContactSettings::default(),
            battery: BatterySource::Auto,
            camera: CameraSource::Auto,
        }
    }
}

/// A logic level in the configuration: `"high"` or `"low"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    High,
    Low,
}

/// An input pin's built-in resistor: `"up"`, `"down"` or `"off"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PullSetting {
    Up,
    Down,
    Off,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RelaySettings {
    /// BCM pin number of the relay module's input.
    pub pin: u8,
    /// The level that energises the relay: many opto-isolated modules are active-low.
    pub active: Level,
    /// `true` when the energised relay engages the lock (a maglock on the normally-open
    /// contact); `false` when it releases it (an electric strike).
    pub energised_locks: bool,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            pin: 17,
            active: Level::High,
            energised_locks: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactSettings {
    /// BCM pin number the door contact is read on.
    pub pin: u8,
    pub pull: PullSetting,
    /// The level read while the door is open: `high` for a reed switch to ground with the
    /// pull-up (closed, hence low, while the magnet is near).
    pub open_level: Level,
}

impl Default for ContactSettings {
    fn default() -> Self {
        Self {
            pin: 27,
            pull: PullSetting::Up,
            open_level: Level::High,
        }
    }
}

/// Where the battery reading comes from (`[hal.battery]`, chosen by `source`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum BatterySource {
    /// Simulated for the `sim` backend, none for `rpi`.
    Auto,
    /// Mains only: no battery readings, no battery events.
    None,
    Sim,
    /// An INA219 current/voltage monitor (most Pi UPS HATs).
    Ina219 {
        #[serde(default = "default_i2c_bus")]
        bus: u8,
        #[serde(default = "default_ina219_address")]
        address: u16,
        #[serde(default = "default_shunt_milliohms")]
        shunt_milliohms: u32,
        #[serde(default = "default_cells")]
        cells: u8,
    },
    /// `/sys/class/power_supply/<name>`.
    Sysfs {
        name: String,
    },
}

fn default_i2c_bus() -> u8 {
    1
}
fn default_ina219_address() -> u16 {
    0x40
}
fn default_shunt_milliohms() -> u32 {
    100
}
fn default_cells() -> u8 {
    1
}

/// Where frames come from (`[hal.camera]`, chosen by `source`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum CameraSource {
    /// Simulated for the `sim` backend, none for `rpi`.
    Auto,
    None,
    /// The simulated camera; plays the images of `folder` when given.
    Sim {
        #[serde(default)]
        folder: Option<PathBuf>,
    },
    /// A USB/V4L2 camera, `/dev/video<index>` (feature `nokhwa`).
    V4l2 {
        #[serde(default)]
        index: u32,
        #[serde(default = "default_width")]
        width: u32,
        #[serde(default = "default_height")]
        height: u32,
        #[serde(default = "default_fps")]
        fps: u32,
    },
    /// An `rtsp://` URL or a video file (feature `opencv`).
    Stream {
        url: String,
        /// Loop a video file at its end.
        #[serde(default = "default_true")]
        loop_file: bool,
    },
}

fn default_width() -> u32 {
    640
}
fn default_height() -> u32 {
    480
}
fn default_fps() -> u32 {
    15
}
fn default_true() -> bool {
    true
}

#[derive(Debug, thiserror::Error)]
pub enum HardwareError {
    #[error(
        "hal: {what} is configured but this build of edge-daemon has no `{feature}` support; \
         install a package built with it, or build with `--features {feature}`"
    )]
    NotBuilt {
        what: &'static str,
        feature: &'static str,
    },
    #[error("hal: {0}")]
    Device(#[from] HalError),
}

/// What [`build`] returns: the door's hardware (camera included, if any), and for the `sim`
/// backend the handles of the simulated world.
#[derive(Debug)]
pub struct Built {
    pub hardware: Hardware,
    pub world: Option<SimWorld>,
}

/// A site on mains power only: every reading says "on external power", without a level.
#[derive(Debug, Clone, Copy, Default)]
pub struct MainsOnly;

impl Battery for MainsOnly {
    fn read(&self) -> Result<BatteryReading, HalError> {
        Ok(BatteryReading {
            millivolts: None,
            percent: None,
            charging: true,
        })
    }
}

/// Builds the hardware `settings` describe. Opens every device, so a wrong pin or a missing
/// camera fails here, at start, with a message saying what to fix. `fail_mode` is the lock
/// state a GPIO relay is left in when the daemon lets go of it.
pub fn build(settings: &HalSettings, fail_mode: FailMode) -> Result<Built, HardwareError> {
    let (mut hardware, world) = match settings.backend {
        HalBackend::Sim => {
            let (hardware, world) = simulated();
            (hardware, Some(world))
        }
        HalBackend::Rpi => (rpi_hardware(settings, fail_mode)?, None),
    };
    match (&settings.battery, settings.backend) {
        (BatterySource::Auto, HalBackend::Sim) | (BatterySource::Sim, HalBackend::Sim) => {}
        (BatterySource::Auto, HalBackend::Rpi) | (BatterySource::None, _) => {
            hardware.battery = Arc::new(MainsOnly);
        }
        (BatterySource::Sim, HalBackend::Rpi) => {
            hardware.battery = Arc::new(SimBattery::new(Default::default()));
        }
        (BatterySource::Sysfs { name }, _) => {
            hardware.battery = Arc::new(hal::sysfs::SysfsBattery::new(name)?);
        }
        (
            BatterySource::Ina219 {
                bus,
                address,
                shunt_milliohms,
                cells,
            },
            _,
        ) => {
            hardware.battery = ina219(*bus, *address, *shunt_milliohms, *cells)?;
        }
    }
    match (&settings.camera, &world) {
        // `auto` on the sim backend keeps the world's own camera, so the demo can show faces.
        (CameraSource::Auto, Some(_)) => {}
        (source, _) => hardware.camera = camera(source, settings.backend)?,
    }
    Ok(Built { hardware, world })
}

/// The camera `source` describes (`backend` decides what `auto` means).
pub fn camera(
    source: &CameraSource,
    backend: HalBackend,
) -> Result<Option<Arc<dyn Camera>>, HardwareError> {
    Ok(match source {
        CameraSource::None | CameraSource::Auto if backend == HalBackend::Rpi => None,
        CameraSource::None => None,
        CameraSource::Auto | CameraSource::Sim { folder: None } => {
            Some(Arc::new(SimCamera::default()) as Arc<dyn Camera>)
        }
        CameraSource::Sim {
            folder: Some(folder),
        } => Some(Arc::new(SimCamera::from_folder(folder, Default::default())?) as Arc<dyn Camera>),
        CameraSource::V4l2 {
            index,
            width,
            height,
            fps,
        } => Some(usb_camera(*index, *width, *height, *fps)?),
        CameraSource::Stream { url, loop_file } => Some(stream_camera(url, *loop_file)?),
    })
}

#[cfg(feature = "nokhwa")]
fn usb_camera(
    index: u32,
    width: u32,
    height: u32,
    fps: u32,
) -> Result<Arc<dyn Camera>, HardwareError> {
    let config = hal::nokhwa::UsbCameraConfig {
        index,
        format: Some(hal::nokhwa::UsbFormat { width, height, fps }),
        timeout: std::time::Duration::from_secs(5),
    };
    Ok(Arc::new(hal::nokhwa::UsbCamera::open(config)?))
}

#[cfg(not(feature = "nokhwa"))]
fn usb_camera(_: u32, _: u32, _: u32, _: u32) -> Result<Arc<dyn Camera>, HardwareError> {
    Err(HardwareError::NotBuilt {
        what: "camera source \"v4l2\"",
        feature: "nokhwa",
    })
}

#[cfg(feature = "opencv")]
fn stream_camera(url: &str, loop_file: bool) -> Result<Arc<dyn Camera>, HardwareError> {
    Ok(Arc::new(hal::opencv::StreamCamera::open(
        hal::opencv::StreamCameraConfig {
            source: url.to_owned(),
            loop_file,
        },
    )?))
}

#[cfg(not(feature = "opencv"))]
fn stream_camera(_: &str, _: bool) -> Result<Arc<dyn Camera>, HardwareError> {
    Err(HardwareError::NotBuilt {
        what: "camera source \"stream\"",
        feature: "opencv",
    })
}

#[cfg(feature = "rpi")]
fn rpi_level(level: Level) -> hal::rpi::PinLevel {
    match level {
        Level::High => hal::rpi::PinLevel::High,
        Level::Low => hal::rpi::PinLevel::Low,
    }
}

#[cfg(feature = "rpi")]
fn rpi_hardware(settings: &HalSettings, fail_mode: FailMode) -> Result<Hardware, HardwareError> {
    use hal::rpi::{GpioDoorConfig, GpioDoorSensor, GpioRelay, GpioRelayConfig, Pull};
    let relay = GpioRelay::new(GpioRelayConfig {
        pin: settings.relay.pin,
        active_level: rpi_level(settings.relay.active),
        energised_locks: settings.relay.energised_locks,
        safe_locked: fail_mode.locked_on_failure(),
    })?;
    let contact = GpioDoorSensor::new(GpioDoorConfig {
        pin: settings.contact.pin,
        pull: match settings.contact.pull {
            PullSetting::Up => Pull::Up,
            PullSetting::Down => Pull::Down,
            PullSetting::Off => Pull::Off,
        },
        open_level: rpi_level(settings.contact.open_level),
    })?;
    Ok(Hardware {
        relay: Arc::new(relay),
        contact: Arc::new(contact),
        battery: Arc::new(MainsOnly),
        clock: Arc::new(hal::SystemClock::default()),
        camera: None,
    })
}

#[cfg(not(feature = "rpi"))]
fn rpi_hardware(_: &HalSettings, _: FailMode) -> Result<Hardware, HardwareError> {
    Err(HardwareError::NotBuilt {
        what: "hal.backend = \"rpi\"",
        feature: "rpi",
    })
}

#[cfg(feature = "rpi")]
fn ina219(
    bus: u8,
    address: u16,
    shunt_milliohms: u32,
    cells: u8,
) -> Result<Arc<dyn Battery>, HardwareError> {
    let config = hal::rpi::Ina219Config {
        bus,
        address,
        shunt_milliohms,
        cells,
        ..Default::default()
    };
    Ok(Arc::new(hal::rpi::Ina219Battery::new(config)?))
}

#[cfg(not(feature = "rpi"))]
fn ina219(_: u8, _: u16, _: u32, _: u8) -> Result<Arc<dyn Battery>, HardwareError> {
    Err(HardwareError::NotBuilt {
        what: "battery source \"ina219\"",
        feature: "rpi",
    })
}
