//! The one error type at the crate boundary.

use std::path::PathBuf;

/// Everything that can go wrong in the face pipeline.
///
/// Inputs from outside (image bytes, manifests, gallery bytes) always come back as one of
/// these; nothing in the crate panics on them.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The bytes are not an image in a supported format, or they are truncated.
    #[error("not a readable image: {0}")]
    BadImage(String),
    /// The image is larger than the configured pixel budget (checked from the header).
    #[error("image is {width}x{height} = {pixels} pixels, over the budget of {budget}")]
    TooLarge {
        width: u32,
        height: u32,
        pixels: u64,
        budget: u64,
    },
    /// The image is too small to hold a face.
    #[error("image is {width}x{height}, too small to hold a face")]
    TooSmall { width: u32, height: u32 },
    /// The manifest is missing, unreadable or inconsistent.
    #[error("model manifest {path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
    /// A model file does not match the sha256 in the manifest.
    #[error("model file {path} has sha256 {actual}, manifest says {expected}")]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    /// The inference runtime could not be set up or a model could not be run.
    #[error("inference runtime: {0}")]
    Runtime(String),
    /// A model returned a tensor of an unexpected shape.
    #[error("model {model} output {output}: {reason}")]
    Output {
        model: &'static str,
        output: String,
        reason: String,
    },
    /// Serialized gallery bytes are malformed or of another embedder.
    #[error("gallery data: {0}")]
    Gallery(String),
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<ort::Error> for ModelError {
    fn from(e: ort::Error) -> Self {
        ModelError::Runtime(e.to_string())
    }
}
