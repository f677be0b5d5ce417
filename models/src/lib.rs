//! The on-device face pipeline: detect → quality gate → align → liveness → embed → 1:N match.
//!
//! # Layout
//! - [`image_io`]: decoding untrusted bytes into an upright RGB image, within a pixel budget.
//! - [`detect`]: BlazeFace boxes and landmarks. [`quality`]: size, pose and blur gate.
//! - [`align`]: similarity transform to the manifest's template. [`embed`]: embeddings.
//! - [`liveness`]: antispoof/liveness models and the multi-frame parallax cue.
//! - [`gallery`]: exact 1:N search with open-set rejection. [`voter`]: N-of-M frame fusion.
//! - [`engine`]: [`FaceEngine`], the whole pipeline. [`runtime`]: ONNX Runtime or tract.
//! - [`manifest`]: `manifest.toml`, which says how to feed each model.
//! - [`eval`]: verification metrics. [`cli`]: the `face` subcommands.

// Gates are written `!(x >= min)` on purpose: a NaN score fails the gate instead of passing it.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod align;
pub mod cli;
pub mod detect;
pub mod embed;
pub mod engine;
mod error;
pub mod eval;
pub mod gallery;
pub mod image_io;
pub mod imgproc;
pub mod liveness;
pub mod manifest;
pub mod quality;
pub mod runtime;
pub mod voter;

pub use embed::Embedding;
pub use engine::{EngineConfig, FaceAnalysis, FaceEngine, StageTimings};
pub use error::ModelError;
pub use gallery::{Gallery, Match, ScanKernel};
pub use image_io::{decode_image, ImageLimits};
pub use quality::{QualityConfig, QualityIssue};
pub use runtime::{Backend, BackendKind};
pub use voter::{Decision, FrameVote, FrameVoter, VoterConfig};
