//! The daemon's configuration: built-in defaults, then a TOML file, then `GERBANG_*` variables.
//!
//! Nested keys use a double underscore in the environment: `GERBANG_SYNC__BATCH_SIZE=200`.

use std::path::PathBuf;

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use serde::{Deserialize, Serialize};

use crate::{
    door::DoorSettings,
    hardware::HalSettings,
    kiosk::KioskSettings,
    sim::SimSettings,
    sync::{CloudLink, SyncSettings},
    vision::VisionSettings,
};

/// Every section of the configuration; each section's type lives with the module it
/// configures.
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
    pub vision: VisionSettings,
    /// The kiosk page and the installer's local API.
    #[serde(default)]
    pub kiosk: KioskSettings,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data/edge"),
            cloud: CloudLink::default(),
            sync: SyncSettings::default(),
            door: DoorSettings::default(),
            hal: HalSettings::default(),
            sim: SimSettings::default(),
            vision: VisionSettings::default(),
            kiosk: KioskSettings::default(),
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

    /// Defaults, then the TOML `text` (no file, no environment): what [`EdgeConfig::load`]
    /// makes of a file with this content, for checks and the fuzzer.
    pub fn from_toml(text: &str) -> Result<Self, figment::Error> {
        Figment::from(Serialized::defaults(EdgeConfig::default()))
            .merge(Toml::string(text))
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
