//! The one error type for everything that can be wrong with bytes from the wire.

/// Why a message from the wire was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    #[error("frame of {size} bytes exceeds the {max}-byte limit")]
    TooLarge { size: usize, max: usize },
    #[error("unsupported protocol version {found} (this build speaks {supported})")]
    UnsupportedVersion { found: u64, supported: u16 },
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("signature does not verify")]
    BadSignature,
    #[error("invalid {what}: {reason}")]
    InvalidId { what: &'static str, reason: String },
    #[error("invalid topic {topic:?}: {reason}")]
    InvalidTopic { topic: String, reason: &'static str },
    #[error("invalid key: {0}")]
    InvalidKey(String),
}

impl ProtocolError {
    pub(crate) fn malformed(err: impl std::fmt::Display) -> Self {
        Self::Malformed(err.to_string())
    }
}
