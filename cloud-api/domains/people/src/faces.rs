//! The face pipeline in the cloud: one `models::FaceEngine` per process, loaded on first use
//! (on a blocking thread) and shared by every request; a photo gives exactly one usable face
//! or a specific, localized refusal (not an image, no face, several faces, poor quality with
//! the pipeline's reason).

use std::{
    path::PathBuf,
    sync::{Arc, OnceLock},
};

use models::{
    decode_image, manifest::Manifest, Embedding, EngineConfig, FaceEngine, ImageLimits, ModelError,
    QualityIssue,
};

use platform::{error::ServiceError, i18n::Msg};

/// The largest photo, in pixels, decoded for enrolment or attendance.
const MAX_PIXELS: u64 = 24_000_000;

static ENGINE: OnceLock<Result<Arc<FaceEngine>, String>> = OnceLock::new();

/// Where the models are: `people.models_dir`, else the `models` crate's own folder.
pub fn models_dir(configured: Option<&PathBuf>) -> PathBuf {
    configured
        .cloned()
        .unwrap_or_else(|| EngineConfig::default().models_dir)
}

/// The embedder's sha256 from the manifest (cheap: reads `manifest.toml` only).
pub fn embedder_sha256(models_dir: &std::path::Path) -> Result<String, ModelError> {
    Ok(Manifest::load(models_dir)?
        .models
        .embedder
        .sha256
        .trim()
        .to_ascii_lowercase())
}

/// The process's engine, loading it on first call. A failed load is remembered (and logged
/// once); the pipeline then answers 500 until the process restarts with working models.
pub async fn engine(models_dir: PathBuf) -> Result<Arc<FaceEngine>, ServiceError> {
    let loaded = tokio::task::spawn_blocking(move || {
        ENGINE
            .get_or_init(|| {
                let config = EngineConfig {
                    models_dir,
                    ..EngineConfig::default()
                };
                FaceEngine::load(&config).map(Arc::new).map_err(|e| {
                    tracing::error!(error = %e, "The face engine could not be loaded.");
                    e.to_string()
                })
            })
            .clone()
    })
    .await
    .map_err(|e| ServiceError::internal("loading the face engine", e))?;
    loaded.map_err(|e| ServiceError::internal("loading the face engine", e))
}

/// The one usable face of a photo.
#[derive(Debug, Clone)]
pub struct Probe {
    pub embedding: Embedding,
    pub detection_score: f32,
    pub liveness: f32,
}

fn refuse(id: String, en: String) -> ServiceError {
    ServiceError::Invalid(Msg::owned(id, en))
}

/// Why a photo cannot be used, in the caller's language.
fn model_refusal(err: ModelError) -> ServiceError {
    match err {
        ModelError::BadImage(_) => ServiceError::Invalid(Msg::new(
            "File bukan gambar yang valid (JPEG atau PNG)",
            "The file is not a valid image (JPEG or PNG)",
        )),
        ModelError::TooLarge { width, height, .. } => refuse(
            format!("Gambar terlalu besar ({width}x{height} piksel)"),
            format!("The image is too large ({width}x{height} pixels)"),
        ),
        ModelError::TooSmall { width, height } => refuse(
            format!("Gambar terlalu kecil ({width}x{height} piksel) untuk memuat wajah"),
            format!("The image is too small ({width}x{height} pixels) to hold a face"),
        ),
        other => ServiceError::internal("running the face pipeline", other),
    }
}

/// The quality gate's reason, in the caller's language.
pub fn quality_refusal(issue: &QualityIssue) -> ServiceError {
    match issue {
        QualityIssue::TooSmall { eye_distance, min } => refuse(
            format!("Wajah terlalu kecil: jarak mata {eye_distance:.0} piksel, minimal {min:.0}. Dekatkan wajah ke kamera"),
            format!("The face is too small: eyes {eye_distance:.0} pixels apart, at least {min:.0} needed. Move closer to the camera"),
        ),
        QualityIssue::Pose { axis, value, limit } => refuse(
            format!("Wajah tidak menghadap lurus ke kamera ({axis} {value:.2}, batas {limit:.2})"),
            format!("The face is not frontal enough ({axis} {value:.2}, limit {limit:.2})"),
        ),
        QualityIssue::Blurry { sharpness, min } => refuse(
            format!("Foto wajah terlalu buram (ketajaman {sharpness:.1}, minimal {min:.1})"),
            format!("The face is too blurred (sharpness {sharpness:.1}, at least {min:.1})"),
        ),
        QualityIssue::Partial => refuse(
            "Wajah terpotong di tepi foto".into(),
            "The face is partly outside the photo".into(),
        ),
    }
}

/// Decodes `bytes` and returns its single usable face.
pub async fn single_face(models_dir: PathBuf, bytes: Vec<u8>) -> Result<Probe, ServiceError> {
    let engine = engine(models_dir).await?;
    let analysed = tokio::task::spawn_blocking(move || {
        let image = decode_image(
            &bytes,
            &ImageLimits {
                max_pixels: MAX_PIXELS,
                min_side: 32,
            },
        )?;
        engine.analyze(&image)
    })
    .await
    .map_err(|e| ServiceError::internal("running the face pipeline", e))?;
    let faces = analysed.map_err(model_refusal)?;
    match faces.len() {
        0 => Err(ServiceError::Invalid(Msg::new(
            "Tidak ada wajah yang terdeteksi pada foto",
            "No face was detected in the photo",
        ))),
        1 => {
            let face = faces.into_iter().next().ok_or_else(|| {
                ServiceError::internal("running the face pipeline", "face vanished")
            })?;
            if let Err(issue) = &face.quality {
                return Err(quality_refusal(issue));
            }
            let embedding = face.embedding.ok_or_else(|| {
                ServiceError::internal("running the face pipeline", "no embedding")
            })?;
            Ok(Probe {
                embedding,
                detection_score: face.detection_score,
                liveness: face.liveness,
            })
        }
        n => Err(refuse(
            format!("Terdeteksi {n} wajah pada foto; foto harus berisi satu wajah saja"),
            format!("{n} faces were detected; the photo must show exactly one face"),
        )),
    }
}
