//! Commands from the cloud to a device, and the device's acks.
//!
//! Every command carries an expiry and a unique id (its nonce); the device refuses expired
//! and replayed commands, and every command is sealed with the cloud's key (see [`crate::seal`]).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::DeviceId;

/// The longest unlock a command may ask for; the device enforces its own cap too.
pub const MAX_UNLOCK_MS: u32 = 60_000;

/// A command addressed to one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandEnvelope {
    pub v: u16,
    /// Unique per command; doubles as the replay nonce and the ack's correlation id.
    pub id: Uuid,
    pub device: DeviceId,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub command: Command,
}

/// What the device is asked to do. Serialised as `{"type": "...", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Command {
    /// Release the lock for `duration_ms` (capped by the device), then relock.
    Unlock {
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 60_000))]
        duration_ms: u32,
    },
    /// Engage the lock now.
    Lock,
    /// Take a camera snapshot and upload it to [`crate::sync::SNAPSHOTS_PATH`] with
    /// `?command=<this command's id>`.
    Capture,
    /// Send live frames for `seconds` (capped by the device): JPEG snapshots to
    /// [`crate::sync::SNAPSHOTS_PATH`] with `?stream=<this command's id>` at about `fps`
    /// frames a second; the cloud relays them to viewers as MJPEG.
    Stream { seconds: u32, fps: u8 },
    /// Change door settings; absent fields keep their value.
    UpdateSettings { settings: DoorSettings },
    /// Fetch the face gallery at (at least) this version.
    ReloadGallery { version: u64 },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Unlock { .. } => "unlock",
            Command::Lock => "lock",
            Command::Capture => "capture",
            Command::Stream { .. } => "stream",
            Command::UpdateSettings { .. } => "update_settings",
            Command::ReloadGallery { .. } => "reload_gallery",
        }
    }
}

/// How the door behaves regardless of who stands in front of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DoorMode {
    /// Faces decide.
    #[default]
    Normal,
    /// Nobody is let in by face; only an explicit remote unlock opens.
    LockedDown,
    /// The lock stays released (events, deliveries).
    HeldOpen,
}

/// A partial update of a door's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoorSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<DoorMode>,
    /// Unlock pulse for a granted face, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlock_ms: Option<u32>,
    /// Seconds the door may stand open before a held-open alarm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_open_alarm_secs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera_active: Option<bool>,
}

/// The device's answer to a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandAck {
    pub v: u16,
    pub command_id: Uuid,
    pub device: DeviceId,
    pub ok: bool,
    /// Why the command was refused or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub ts: OffsetDateTime,
    /// The lock state right after the command ran.
    pub locked: bool,
}
