//! HTTPS bodies between a device and the cloud: event batches and enrolment.

use std::fmt;

use serde::{
    de::{IgnoredAny, SeqAccess, Visitor},
    Deserialize, Deserializer, Serialize,
};
use serde_json::value::RawValue;

use crate::{DeviceId, PublicKey, SiteId};

/// Device → cloud batch upload (device token as `Authorization: Bearer`).
pub const EVENTS_PATH: &str = "/api/device/events";
/// Device → cloud: exchange a one-time enrolment code for credentials.
pub const ENROLL_PATH: &str = "/api/device/enroll";

/// The largest batch the cloud accepts in one request.
pub const MAX_BATCH_FRAMES: usize = 1000;

/// A batch of sealed event frames, oldest first.
///
/// Parsing keeps at most `MAX_BATCH_FRAMES + 1` frames and only counts the rest, so a body
/// of millions of tiny frames (`[0,0,0,…]`) costs no more memory than a full batch; the
/// receiver refuses a batch whose [`EventBatch::frames`] is longer than [`MAX_BATCH_FRAMES`].
#[derive(Debug, Serialize, Deserialize)]
pub struct EventBatch {
    #[serde(deserialize_with = "bounded_frames")]
    pub frames: Vec<Box<RawValue>>,
}

impl EventBatch {
    /// True when the body held more frames than a batch may.
    pub fn too_many_frames(&self) -> bool {
        self.frames.len() > MAX_BATCH_FRAMES
    }
}

/// The frames of a batch, the ones past `MAX_BATCH_FRAMES + 1` read and dropped.
fn bounded_frames<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Box<RawValue>>, D::Error> {
    struct Frames;
    impl<'de> Visitor<'de> for Frames {
        type Value = Vec<Box<RawValue>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of sealed frames")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut frames = Vec::new();
            while frames.len() <= MAX_BATCH_FRAMES {
                match seq.next_element::<Box<RawValue>>()? {
                    Some(frame) => frames.push(frame),
                    None => return Ok(frames),
                }
            }
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(frames)
        }
    }
    deserializer.deserialize_seq(Frames)
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollRequest {
    /// The one-time enrolment code `POST /api/devices` answered.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub code: String,
    /// The device's Ed25519 public key, standard base64 of its 32 bytes.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, pattern = "^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$")
    )]
    pub public_key: PublicKey,
    /// The device's firmware version (kept to its first 100 characters).
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
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

/// Device → cloud: `GET` this device's face gallery (device token as `Authorization:
/// Bearer`). `?since=VERSION` answers `304 Not Modified` when the gallery is not newer.
pub const GALLERY_PATH: &str = "/api/device/gallery";
/// Device → cloud: `POST` a camera snapshot (`Content-Type: image/jpeg`, at most
/// [`MAX_SNAPSHOT_BYTES`]); `?command=UUID` when it answers a `capture` command;
/// `?evidence=UUID` for a denial's evidence under the id the device chose and already put
/// in the event's `snapshot` (so the event need not wait for the upload; repeating an
/// upload is harmless). Answers [`SnapshotStored`]. Without `?evidence=` the cloud picks the
/// key (older devices upload first and put that key in the event).
pub const SNAPSHOTS_PATH: &str = "/api/device/snapshots";
/// The largest snapshot the cloud accepts.
pub const MAX_SNAPSHOT_BYTES: usize = 4 * 1024 * 1024;

/// Cloud → device: everything a device needs to decide at the door with no network: who
/// is enrolled, their face templates, whether they are enabled and when they may pass.
///
/// Templates are biometric data: the device keeps them encrypted at rest and never logs them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GallerySnapshot {
    /// Increases on every enrolment, removal or change of a person's access.
    pub version: u64,
    /// The embedder the templates were made with: the `sha256` of `[models.embedder]` in
    /// the models manifest. A device whose embedder differs must refuse the gallery
    /// (templates of different models are not comparable).
    pub embedder_sha256: String,
    /// Length of every template.
    pub dim: u32,
    /// The site's time zone (IANA name, `Asia/Jakarta` by default) for schedules and the
    /// attendance day boundary.
    pub time_zone: String,
    /// Check-in after this site-local time (`HH:MM`) is flagged late; `None`: never late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_starts_at: Option<String>,
    pub people: Vec<GalleryPerson>,
}

/// One enrolled person as a device sees them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalleryPerson {
    /// The cloud's user id (as in [`crate::PersonRef::id`]).
    pub id: String,
    pub name: String,
    /// A disabled person is recognised but denied (`user_disabled`).
    pub enabled: bool,
    /// When this person may open this door; empty means at any time.
    #[serde(default)]
    pub windows: Vec<AccessWindow>,
    /// L2-normalised embeddings, each `dim` little-endian `f32`, base64 (standard alphabet).
    pub templates: Vec<String>,
}

/// A weekly time window in the site's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessWindow {
    /// ISO weekdays the window applies to: 1 = Monday … 7 = Sunday.
    pub days: Vec<u8>,
    /// Site-local start (`HH:MM`, inclusive).
    pub start: String,
    /// Site-local end (`HH:MM`, exclusive; `24:00` allowed).
    pub end: String,
}

/// The cloud's answer to a snapshot upload: the key events and commands refer to it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotStored {
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_keeps_one_frame_past_the_limit_and_counts_the_rest() {
        let zeros = vec!["0"; 5 * MAX_BATCH_FRAMES].join(",");
        let batch: EventBatch =
            serde_json::from_str(&format!("{{\"frames\":[{zeros}]}}")).expect("parses");
        assert_eq!(batch.frames.len(), MAX_BATCH_FRAMES + 1);
        assert!(batch.too_many_frames());
        let full = vec!["{}"; MAX_BATCH_FRAMES].join(",");
        let batch: EventBatch =
            serde_json::from_str(&format!("{{\"frames\":[{full}]}}")).expect("parses");
        assert_eq!(batch.frames.len(), MAX_BATCH_FRAMES);
        assert!(!batch.too_many_frames());
        assert!(serde_json::from_str::<EventBatch>("{\"frames\":[0,").is_err());
    }
}
