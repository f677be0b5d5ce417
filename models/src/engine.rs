//! `FaceEngine`: the whole pipeline behind one call, loaded once and shared across threads.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use image::RgbImage;

use crate::detect::{Detection, Detector};
use crate::embed::{Embedder, Embedding};
use crate::gallery::Gallery;
use crate::liveness::LivenessModels;
use crate::manifest::Manifest;
use crate::quality::{check_geometry, sharpness, QualityConfig, QualityIssue};
use crate::runtime::{ensure, Backend, BackendKind, Model};
use crate::ModelError;

/// How to load the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Folder holding `manifest.toml` (default: this crate's folder, which ships the models).
    pub models_dir: PathBuf,
    pub backend: Backend,
    pub quality: QualityConfig,
    /// Threads ONNX Runtime may use per model run.
    pub threads: usize,
    /// Faces analysed per image at most (the largest ones).
    pub max_faces: usize,
    /// Run the antispoof and liveness models.
    pub liveness: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            models_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            backend: Backend::Auto,
            quality: QualityConfig::default(),
            threads: 1,
            max_faces: 10,
            liveness: true,
        }
    }
}

/// Everything known about one face in an image.
#[derive(Debug, Clone)]
pub struct FaceAnalysis {
    /// `[x, y, width, height]` in image pixels.
    pub bbox: [f32; 4],
    /// Left eye, right eye, nose, left and right mouth corners (image left/right).
    pub landmarks: [[f32; 2]; 5],
    pub detection_score: f32,
    /// `Err` says why the face was not embedded.
    pub quality: Result<(), QualityIssue>,
    /// 0..=1, 1 = live (single frame; see `FrameVoter` for the multi-frame cue).
    pub liveness: f32,
    /// `None` when the quality gate refused the face.
    pub embedding: Option<Embedding>,
}

/// Time spent in each stage of one `analyze` call.
#[derive(Debug, Clone, Default)]
pub struct StageTimings {
    pub detect: Duration,
    pub quality_align: Duration,
    pub liveness: Duration,
    pub embed: Duration,
    pub faces: usize,
}

/// The loaded face pipeline. `Send + Sync`; model runs are serialised per model.
pub struct FaceEngine {
    backend: BackendKind,
    manifest: Manifest,
    detector: Detector,
    embedder: Embedder,
    liveness: LivenessModels,
    quality: QualityConfig,
    max_faces: usize,
    dim: usize,
}

impl std::fmt::Debug for FaceEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceEngine")
            .field("backend", &self.backend.name())
            .field("embedder", &self.manifest.models.embedder.file)
            .field("dim", &self.dim)
            .finish()
    }
}

impl FaceEngine {
    /// Reads the manifest, checks every model's sha256, starts the backend and loads the
    /// models. The first engine in a process fixes the backend for the process.
    pub fn load(cfg: &EngineConfig) -> Result<Self, ModelError> {
        let manifest = Manifest::load(&cfg.models_dir)?;
        let (backend, env) = ensure(&cfg.backend)?;
        let load =
            |name: &'static str, spec: &crate::manifest::ModelSpec| -> Result<Model, ModelError> {
                let bytes = manifest.read_model(spec)?;
                Model::load(name, &env, backend, &bytes, cfg.threads)
            };
        let m = &manifest.models;
        let detector = Detector::new(load("detector", &m.detector)?, m.detector.clone());
        let embedder = Embedder::new(load("embedder", &m.embedder)?, m.embedder.clone());
        let mut liveness = LivenessModels {
            antispoof: None,
            liveness: None,
        };
        if cfg.liveness {
            if let Some(spec) = &m.antispoof {
                liveness.antispoof = Some((load("antispoof", spec)?, spec.clone()));
            }
            if let Some(spec) = &m.liveness {
                liveness.liveness = Some((load("liveness", spec)?, spec.clone()));
            }
        }
        // One run on a grey crop learns the embedding size and warms the runtime up.
        let [w, h] = embedder.spec().input_size;
        let grey = vec![[128f32; 3]; (w * h) as usize];
        let dim = embedder.embed_pixels(&grey)?.dim();
        tracing::info!(backend = backend.name(), dim, "Face engine loaded.");
        Ok(FaceEngine {
            backend,
            manifest,
            detector,
            embedder,
            liveness,
            quality: cfg.quality,
            max_faces: cfg.max_faces.max(1),
            dim,
        })
    }

    /// `"onnxruntime"` or `"tract"`.
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Dimension of the embeddings this engine produces.
    pub fn embedding_dim(&self) -> usize {
        self.dim
    }

    /// The calibrated match threshold of the embedder (cosine).
    pub fn match_threshold(&self) -> f32 {
        self.manifest.models.embedder.match_threshold.unwrap_or(1.0)
    }

    /// An empty gallery sized and calibrated for this engine's embedder.
    pub fn new_gallery(&self) -> Gallery {
        Gallery::new(self.dim, self.match_threshold())
    }

    /// Detects every face (largest first, at most `max_faces`) and analyses each.
    pub fn analyze(&self, image: &RgbImage) -> Result<Vec<FaceAnalysis>, ModelError> {
        self.analyze_timed(image).map(|(faces, _)| faces)
    }

    /// `analyze`, also returning the time of each stage.
    pub fn analyze_timed(
        &self,
        image: &RgbImage,
    ) -> Result<(Vec<FaceAnalysis>, StageTimings), ModelError> {
        let mut t = StageTimings::default();
        let start = Instant::now();
        let mut dets = self.detector.detect(image)?;
        t.detect = start.elapsed();
        dets.sort_by(|a, b| (b.bbox[2] * b.bbox[3]).total_cmp(&(a.bbox[2] * a.bbox[3])));
        dets.truncate(self.max_faces);
        let mut out = Vec::with_capacity(dets.len());
        for det in dets {
            out.push(self.analyze_face(image, det, &mut t)?);
        }
        t.faces = out.len();
        Ok((out, t))
    }

    fn analyze_face(
        &self,
        image: &RgbImage,
        det: Detection,
        t: &mut StageTimings,
    ) -> Result<FaceAnalysis, ModelError> {
        let template = &self.manifest.alignment;
        let mut face = FaceAnalysis {
            bbox: det.bbox,
            landmarks: det.landmarks,
            detection_score: det.score,
            quality: Ok(()),
            liveness: 0.0,
            embedding: None,
        };
        let start = Instant::now();
        let (w, h) = image.dimensions();
        if let Err(issue) = check_geometry(&det, w, h, &self.quality) {
            face.quality = Err(issue);
            t.quality_align += start.elapsed();
            return Ok(face);
        }
        let spec = self.embedder.spec();
        let crop_template = spec.template(template);
        let Some(crop) = self.embedder.crop(image, &det.landmarks, crop_template) else {
            face.quality = Err(QualityIssue::Partial);
            return Ok(face);
        };
        let [cw, ch] = spec.input_size;
        // Sharpness is measured at the scale of the face in `[alignment]` (112 pixels),
        // whatever the embedder's crop size and template.
        let k = cw as f32 / crop_template.size * crop_template.eye_distance()
            / template.eye_distance().max(1e-3);
        let s = sharpness(&crop, cw as usize, ch as usize) * k.powi(2);
        t.quality_align += start.elapsed();
        if !(s >= self.quality.min_sharpness) {
            face.quality = Err(QualityIssue::Blurry {
                sharpness: s,
                min: self.quality.min_sharpness,
            });
            return Ok(face);
        }
        let start = Instant::now();
        face.liveness = self.liveness.score(image, &det.landmarks, template)?;
        t.liveness += start.elapsed();
        let start = Instant::now();
        face.embedding = Some(self.embedder.embed_pixels(&crop)?);
        t.embed += start.elapsed();
        Ok(face)
    }

    /// The embedding of a face crop that is already aligned the way the embedder expects
    /// and is exactly its input size (e.g. dlib's own chips, to check a conversion): one
    /// run of the model, without the manifest's mirror averaging.
    pub fn embed_aligned(&self, crop: &RgbImage) -> Result<Embedding, ModelError> {
        let [w, h] = self.embedder.spec().input_size;
        if crop.dimensions() != (w, h) {
            return Err(ModelError::BadImage(format!(
                "aligned crop is {}x{}, the embedder takes {w}x{h}",
                crop.width(),
                crop.height()
            )));
        }
        let pixels: Vec<[f32; 3]> = crop.pixels().map(|p| p.0.map(f32::from)).collect();
        self.embedder.embed_once(&pixels)
    }

    /// The embedding of the largest usable face, for enrolment.
    pub fn enrol_embedding(&self, image: &RgbImage) -> Result<Option<Embedding>, ModelError> {
        Ok(self.analyze(image)?.into_iter().find_map(|f| f.embedding))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<FaceEngine>();
        assert_send_sync::<Gallery>();
    }

    #[test]
    fn missing_models_dir_is_an_error_not_a_panic() {
        let cfg = EngineConfig {
            models_dir: PathBuf::from("/nonexistent/models"),
            backend: Backend::Tract,
            ..EngineConfig::default()
        };
        assert!(matches!(FaceEngine::load(&cfg), Err(ModelError::Io { .. })));
    }
}
