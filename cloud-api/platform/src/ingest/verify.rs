//! Judging one frame: signature with the device's key, version, shape, and the envelope's
//! device against the device the frame came from.

use std::sync::Arc;

use protocol::{Envelope, ProtocolError};

use crate::devices::KnownDevice;

/// A frame that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedEvent {
    pub device: Arc<KnownDevice>,
    pub envelope: Envelope,
}

/// Why a frame was refused. `reason()` is the metric label; `Display` is for logs and the
/// HTTP answer (it never contains the payload).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("topic refused: {0}")]
    BadTopic(String),
    #[error("unknown or not enrolled device {0}")]
    UnknownDevice(String),
    #[error("device {device} belongs to site {expected}, not {got}")]
    WrongSite {
        device: String,
        expected: String,
        got: String,
    },
    #[error("envelope is from device {claimed}, but the frame came from {actual}")]
    WrongDevice { claimed: String, actual: String },
    #[error("{0}")]
    Protocol(ProtocolError),
}

impl Rejection {
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::BadTopic(_) => "bad_topic",
            Rejection::UnknownDevice(_) => "unknown_device",
            Rejection::WrongSite { .. } => "wrong_site",
            Rejection::WrongDevice { .. } => "wrong_device",
            Rejection::Protocol(err) => match err {
                ProtocolError::TooLarge { .. } => "too_large",
                ProtocolError::UnsupportedVersion { .. } => "unsupported_version",
                ProtocolError::BadSignature => "bad_signature",
                _ => "malformed",
            },
        }
    }
}

/// Verifies and parses one sealed event frame from `device`.
pub fn verify_frame(frame: &[u8], device: &Arc<KnownDevice>) -> Result<VerifiedEvent, Rejection> {
    let envelope: Envelope =
        protocol::open(frame, &device.public_key).map_err(Rejection::Protocol)?;
    if envelope.device != device.id {
        return Err(Rejection::WrongDevice {
            claimed: envelope.device.to_string(),
            actual: device.id.to_string(),
        });
    }
    Ok(VerifiedEvent {
        device: device.clone(),
        envelope,
    })
}
