//! Retained device state, the cloud's sync receipts and gallery notices.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{command::DoorMode, DeviceId};

/// A device's current state, published retained; its last will publishes `online: false`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceState {
    pub v: u16,
    pub device: DeviceId,
    pub online: bool,
    pub boot_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub ts: OffsetDateTime,
    pub locked: bool,
    pub door_open: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery_percent: Option<u8>,
    pub camera_active: bool,
    pub mode: DoorMode,
    /// The newest seq the device has written to its outbox.
    pub last_seq: u64,
    pub firmware: String,
}

/// Cloud → device: every event of this device with `seq <= upto_seq` is stored (or was
/// reported dropped), so the outbox may delete them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub v: u16,
    pub upto_seq: u64,
}

/// Cloud → device: a new face gallery version can be pulled over HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GalleryNotice {
    pub v: u16,
    pub version: u64,
}
