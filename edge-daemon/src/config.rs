//! The daemon's configuration: built-in defaults, then a TOML file, then `GERBANG_*` variables.
//!
//! Nested keys use a double underscore in the environment: `GERBANG_SYNC__BATCH_SIZE=200`.

use std::{path::PathBuf, time::Duration};

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use protocol::DoorMode;
use serde::{Deserialize, Serialize};

use crate::store::Durability;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EdgeConfig {
    /// Where the SQLite store, the credentials and the device key live.
    pub data_dir: PathBuf,
    pub cloud: CloudLink,
    pub sync: SyncSettings,
    pub door: DoorSettings,
    pub hal: HalSettings,
    pub sim: SimSettings,
    /// The camera loop, the face gallery and attendance.
    #[serde(default)]
    pub vision: crate::vision::VisionSettings,
    /// The kiosk page and the installer's local API.
    #[serde(default)]
    pub kiosk: crate::kiosk::KioskSettings,
}

/// Overrides for how the device reaches the cloud; enrolment supplies the rest.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CloudLink {
    /// Use this broker instead of the one the cloud named at enrolment.
    pub mqtt_url: Option<String>,
    /// Use this HTTPS base URL instead of the one enrolled against.
    pub url: Option<String>,
    /// A PEM bundle of the site's own certificate authority, trusted besides the public ones.
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncSettings {
    /// Fall back to HTTPS batches after MQTT has been down this long.
    pub http_fallback_after_secs: u64,
    /// Frames per HTTPS batch and per MQTT read of the outbox.
    pub batch_size: usize,
    /// Events published but not yet confirmed by the cloud, at most.
    pub window: u64,
    /// Publish again what the cloud has not confirmed after this long.
    pub resend_after_secs: u64,
    /// Unsynced events kept on disk at most.
    pub max_unsynced: u64,
    pub durability: Durability,
    pub keep_alive_secs: u64,
}

impl SyncSettings {
    pub fn http_fallback_after(&self) -> Duration {
        Duration::from_secs(self.http_fallback_after_secs)
    }

    pub fn resend_after(&self) -> Duration {
        Duration::from_secs(self.resend_after_secs)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DoorSettings {
    /// Unlock pulse for a granted person.
    pub unlock_ms: u32,
    /// No unlock lasts longer than this, whoever asks.
    pub max_unlock_ms: u32,
    /// A door open longer than this raises a held-open alarm.
    pub held_open_alarm_secs: u32,
    /// The contact must read the same for this long before a change counts.
    pub debounce_ms: u64,
    /// How often to read the battery.
    pub battery_poll_secs: u64,
    pub mode: DoorMode,
    /// Where the relay goes when the daemon stops or panics.
    #[serde(default)]
    pub fail_mode: FailMode,
    /// What the door does when the battery turns critical.
    #[serde(default)]
    pub on_battery_critical: BatteryCriticalAction,
}

/// The state the lock takes when the daemon is not in control of it (clean stop, panic).
/// At start the daemon always drives the lock engaged (or released in `held_open` mode).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    /// Locked on failure: strikes and bolts on doors that must stay secure.
    #[default]
    FailSecure,
    /// Released on failure: maglocks on escape routes, where fire codes want free egress.
    FailSafe,
}

impl FailMode {
    /// Whether the lock is engaged in the failure state.
    pub fn locked_on_failure(self) -> bool {
        self == FailMode::FailSecure
    }
}

/// What the door does when the battery turns critical (it is about to lose power).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatteryCriticalAction {
    /// Engage the lock now and keep deciding as usual.
    #[default]
    StayLocked,
    /// Release the lock and hold it released until the battery recovers (fail-safe sites:
    /// better open now than people trapped when the power dies).
    UnlockAndHold,
}

/// `[hal]`: which hardware, wired how (see [`crate::hardware`]).
pub use crate::hardware::{HalBackend, HalSettings};

/// The simulated world in front of a `sim` door: people leaving through it, a battery.
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

impl Default for EdgeConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data/edge"),
            cloud: CloudLink::default(),
            sync: SyncSettings {
                http_fallback_after_secs: 20,
                batch_size: 500,
                window: 2_000,
                resend_after_secs: 15,
                max_unsynced: 500_000,
                durability: Durability::Full,
                keep_alive_secs: 10,
            },
            door: DoorSettings {
                unlock_ms: 5_000,
                max_unlock_ms: 30_000,
                held_open_alarm_secs: 60,
                debounce_ms: 100,
                battery_poll_secs: 60,
                mode: DoorMode::Normal,
                fail_mode: FailMode::FailSecure,
                on_battery_critical: BatteryCriticalAction::StayLocked,
            },
            hal: HalSettings::default(),
            sim: SimSettings {
                traffic: true,
                visit_every_secs: 20.0,
                speed: 1.0,
                max_visits: 0,
                strangers: 0,
                strangers_per_sec: 0.0,
            },
            vision: crate::vision::VisionSettings::default(),
            kiosk: crate::kiosk::KioskSettings::default(),
        }
    }
}

impl EdgeConfig {
    /// Defaults, then `file` (if given and present), then the environment.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, figment::Error> {
        let mut figment = Figment::from(Serialized::defaults(EdgeConfig::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file(file));
        }
        figment
            .merge(Env::prefixed("GERBANG_").split("__"))
            .extract()
    }

    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("edge.db")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_file_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("edge.toml", "[sync]\nbatch_size = 7\nwindow = 9\n")?;
            jail.set_env("GERBANG_SYNC__WINDOW", "11");
            jail.set_env("GERBANG_DATA_DIR", "/tmp/x");
            let config = EdgeConfig::load(Some(std::path::Path::new("edge.toml")))?;
            assert_eq!(config.sync.batch_size, 7);
            assert_eq!(config.sync.window, 11);
            assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
            assert_eq!(config.door.unlock_ms, 5_000);
            Ok(())
        });
    }
}
