//! The model manifest (`models/manifest.toml`): which ONNX files to load and how to feed them.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::ModelError;

/// Memory order of an image tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Layout {
    /// Batch, height, width, channels (TensorFlow).
    NHWC,
    /// Batch, channels, height, width (PyTorch, MXNet, InsightFace).
    NCHW,
}

/// Channel order of an image tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Colour {
    RGB,
    BGR,
}

/// Where the model package came from.
#[derive(Debug, Clone, Deserialize)]
pub struct Source {
    pub registry: String,
    pub package: String,
    pub version: String,
    pub licence: String,
    #[serde(default)]
    pub converter: String,
}

/// The alignment template: five points in a square crop of `size` pixels.
#[derive(Debug, Clone, Deserialize)]
pub struct AlignmentTemplate {
    pub size: f32,
    pub points: [[f32; 2]; 5],
}

impl AlignmentTemplate {
    fn validate(&self) -> Result<(), String> {
        if !(self.size > 0.0 && self.size.is_finite()) {
            return Err("size must be positive".into());
        }
        if self.points.iter().flatten().any(|v| !v.is_finite()) {
            return Err("points must be finite".into());
        }
        Ok(())
    }

    /// Distance between the two eye points, in template pixels.
    pub fn eye_distance(&self) -> f32 {
        let [l, r] = [self.points[0], self.points[1]];
        ((r[0] - l[0]).powi(2) + (r[1] - l[1]).powi(2)).sqrt()
    }
}

/// One ONNX model and how to feed it an image.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelSpec {
    /// Path relative to the manifest.
    pub file: PathBuf,
    pub sha256: String,
    #[serde(default)]
    pub origin: String,
    /// Name of the image input.
    pub input: String,
    /// Width and height of the image input.
    pub input_size: [u32; 2],
    pub layout: Layout,
    pub colour: Colour,
    /// The model sees `(pixel - mean) / std` with pixels in 0..=255.
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// Names of the outputs used, in the order the stage expects.
    pub outputs: Vec<String>,
    /// Scale of the alignment template about its centre (below 1 shows more context).
    #[serde(default = "one")]
    pub template_scale: f32,
    /// Detector only: minimum score of a detection.
    #[serde(default)]
    pub score_threshold: Option<f32>,
    /// Detector only: IoU above which overlapping detections are merged.
    #[serde(default)]
    pub iou_threshold: Option<f32>,
    /// Embedder only: cosine similarity at which a probe matches.
    #[serde(default)]
    pub match_threshold: Option<f32>,
    /// Embedder only: also embed the mirror image of the crop and use the mean of the two
    /// (costs a second run; measured in models/README.md).
    #[serde(default)]
    pub mirror: bool,
    /// Licence of this model file, when it is not the one of `[source]`.
    #[serde(default)]
    pub licence: Option<String>,
    /// This model's own alignment template, for a model trained on crops of another
    /// geometry than `[alignment]` (dlib's ResNet: its 150-pixel chips). `template_scale`
    /// still applies to it.
    #[serde(default)]
    pub alignment: Option<AlignmentTemplate>,
}

impl ModelSpec {
    /// The template this model's crops are aligned to: its own, else the manifest's.
    pub fn template<'a>(&'a self, default: &'a AlignmentTemplate) -> &'a AlignmentTemplate {
        self.alignment.as_ref().unwrap_or(default)
    }
}

fn one() -> f32 {
    1.0
}

/// The four models of the pipeline.
#[derive(Debug, Clone, Deserialize)]
pub struct Models {
    pub detector: ModelSpec,
    pub embedder: ModelSpec,
    pub antispoof: Option<ModelSpec>,
    pub liveness: Option<ModelSpec>,
}

/// The parsed `manifest.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub source: Source,
    pub alignment: AlignmentTemplate,
    pub models: Models,
    /// Folder holding the manifest; model paths are relative to it.
    #[serde(skip)]
    pub dir: PathBuf,
}

impl Manifest {
    /// Reads and checks `dir/manifest.toml`.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        let path = dir.join("manifest.toml");
        let text = std::fs::read_to_string(&path).map_err(|source| ModelError::Io {
            path: path.clone(),
            source,
        })?;
        let mut manifest: Manifest = toml::from_str(&text).map_err(|e| ModelError::Manifest {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        manifest.dir = dir.to_path_buf();
        manifest.validate(&path)?;
        Ok(manifest)
    }

    fn validate(&self, path: &Path) -> Result<(), ModelError> {
        let bad = |reason: String| ModelError::Manifest {
            path: path.to_path_buf(),
            reason,
        };
        let m = &self.models;
        let specs = [
            Some(&m.detector),
            Some(&m.embedder),
            m.antispoof.as_ref(),
            m.liveness.as_ref(),
        ];
        for spec in specs.into_iter().flatten() {
            let [w, h] = spec.input_size;
            if !(8..=2048).contains(&w) || !(8..=2048).contains(&h) {
                return Err(bad(format!(
                    "{}: input_size {w}x{h} out of range",
                    spec.file.display()
                )));
            }
            if spec.std.iter().any(|s| *s == 0.0 || !s.is_finite())
                || spec.mean.iter().any(|m| !m.is_finite())
            {
                return Err(bad(format!(
                    "{}: std must be non-zero and finite",
                    spec.file.display()
                )));
            }
            if spec.outputs.is_empty() {
                return Err(bad(format!("{}: no outputs named", spec.file.display())));
            }
            if !(spec.template_scale > 0.1 && spec.template_scale <= 4.0) {
                return Err(bad(format!(
                    "{}: template_scale out of range",
                    spec.file.display()
                )));
            }
            if let Some(t) = &spec.alignment {
                t.validate().map_err(|reason| {
                    bad(format!("{}: alignment: {reason}", spec.file.display()))
                })?;
            }
        }
        if m.detector.outputs.len() != 4 {
            return Err(bad(
                "detector needs four outputs (scores and boxes of both grids)".into(),
            ));
        }
        if m.embedder.match_threshold.is_none() {
            return Err(bad("embedder needs match_threshold".into()));
        }
        self.alignment
            .validate()
            .map_err(|reason| bad(format!("alignment: {reason}")))?;
        Ok(())
    }

    /// Absolute path of a model file.
    pub fn path_of(&self, spec: &ModelSpec) -> PathBuf {
        self.dir.join(&spec.file)
    }

    /// Reads a model file and checks its sha256 against the manifest.
    pub fn read_model(&self, spec: &ModelSpec) -> Result<Vec<u8>, ModelError> {
        let path = self.path_of(spec);
        let bytes = std::fs::read(&path).map_err(|source| ModelError::Io {
            path: path.clone(),
            source,
        })?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if !actual.eq_ignore_ascii_case(spec.sha256.trim()) {
            return Err(ModelError::Checksum {
                path,
                expected: spec.sha256.clone(),
                actual,
            });
        }
        Ok(bytes)
    }
}
