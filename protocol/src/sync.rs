//! HTTPS bodies between a device and the cloud: event batches and enrolment.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::{DeviceId, PublicKey, SiteId};

/// Device → cloud batch upload (device token as `Authorization: Bearer`).
pub const EVENTS_PATH: &str = "/api/device/events";
/// Device → cloud: exchange a one-time enrolment code for credentials.
pub const ENROLL_PATH: &str = "/api/device/enroll";

/// The largest batch the cloud accepts in one request.
pub const MAX_BATCH_FRAMES: usize = 1000;

/// A batch of sealed event frames, oldest first.
#[derive(Debug, Serialize, Deserialize)]
pub struct EventBatch {
    pub frames: Vec<Box<RawValue>>,
}

/// The cloud's answer to a batch. Frames are judged one by one: a bad frame is reported
/// and the good ones are still stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResult {
    /// Newly stored events.
    pub accepted: u64,
    /// Events the cloud already had.
    pub duplicates: u64,
    pub rejected: Vec<RejectedFrame>,
    /// Every event with `seq <= upto_seq` is stored: the device may delete them.
    pub upto_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedFrame {
    /// Position of the frame in the batch.
    pub index: usize,
    pub error: String,
}

/// Device → cloud: the code an admin got from the dashboard, and the device's public key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub code: String,
    pub public_key: PublicKey,
    pub firmware: String,
}

/// Cloud → device: who the device is and how it talks to the cloud from now on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub device: DeviceId,
    pub site: SiteId,
    /// Bearer token for HTTPS and password for MQTT. A secret: store it 0600, never log it.
    pub token: String,
    /// Verifies commands sealed by the cloud.
    pub cloud_public_key: PublicKey,
    /// Broker URL (`mqtt://host:port` or `mqtts://host:port`) as the cloud sees it; the
    /// device may override it in its configuration.
    pub mqtt_url: String,
}
