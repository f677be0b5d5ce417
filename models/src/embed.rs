//! The embedder: aligned crop in, L2-normalised face embedding out.

use std::fmt;

use image::RgbImage;

use crate::align::aligned_pixels;
use crate::imgproc::to_tensor;
use crate::manifest::{AlignmentTemplate, ModelSpec};
use crate::runtime::Model;
use crate::ModelError;

/// An L2-normalised face embedding.
///
/// Embeddings are biometric data: `Debug` shows only the dimension, never the values, so
/// they cannot leak into logs by accident.
#[derive(Clone, PartialEq)]
pub struct Embedding(Vec<f32>);

impl fmt::Debug for Embedding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Embedding(dim={})", self.0.len())
    }
}

impl Embedding {
    /// Normalises `values`; `None` if they are empty, not finite or all zero.
    pub fn new(mut values: Vec<f32>) -> Option<Self> {
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        if !(norm > 1e-12) {
            return None;
        }
        values.iter_mut().for_each(|v| *v /= norm);
        Some(Embedding(values))
    }

    pub fn dim(&self) -> usize {
        self.0.len()
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    /// Cosine similarity (both sides are unit length). Different dimensions give -1.
    pub fn cosine(&self, other: &Embedding) -> f32 {
        if self.0.len() != other.0.len() {
            return -1.0;
        }
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum()
    }

    /// The mean of several embeddings of one person, normalised (an enrolment template).
    pub fn mean(items: &[Embedding]) -> Option<Embedding> {
        let dim = items.first()?.dim();
        if items.iter().any(|e| e.dim() != dim) {
            return None;
        }
        let mut acc = vec![0f32; dim];
        for e in items {
            acc.iter_mut().zip(&e.0).for_each(|(a, v)| *a += v);
        }
        Embedding::new(acc)
    }
}

pub(crate) struct Embedder {
    model: Model,
    spec: ModelSpec,
}

impl Embedder {
    pub(crate) fn new(model: Model, spec: ModelSpec) -> Self {
        Embedder { model, spec }
    }

    pub(crate) fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// The aligned crop the embedder sees, as pixels.
    pub(crate) fn crop(
        &self,
        image: &RgbImage,
        landmarks: &[[f32; 2]; 5],
        template: &AlignmentTemplate,
    ) -> Option<Vec<[f32; 3]>> {
        aligned_pixels(
            image,
            landmarks,
            template,
            self.spec.input_size,
            self.spec.template_scale,
        )
    }

    pub(crate) fn embed_pixels(&self, pixels: &[[f32; 3]]) -> Result<Embedding, ModelError> {
        let e = self.embed_once(pixels)?;
        if !self.spec.mirror {
            return Ok(e);
        }
        let w = self.spec.input_size[0] as usize;
        let mut mirrored = pixels.to_vec();
        mirrored.chunks_exact_mut(w.max(1)).for_each(<[_]>::reverse);
        let m = self.embed_once(&mirrored)?;
        Embedding::mean(&[e, m]).ok_or_else(|| ModelError::Output {
            model: "embedder",
            output: self.spec.outputs[0].clone(),
            reason: "a crop and its mirror image gave opposite embeddings".into(),
        })
    }

    /// One run of the model on one crop, normalised.
    pub(crate) fn embed_once(&self, pixels: &[[f32; 3]]) -> Result<Embedding, ModelError> {
        let (shape, data) = to_tensor(pixels, &self.spec);
        let mut out = self
            .model
            .run(&self.spec.input, shape, data, &self.spec.outputs)?;
        let values = out.swap_remove(0).data;
        Embedding::new(values).ok_or_else(|| ModelError::Output {
            model: "embedder",
            output: self.spec.outputs[0].clone(),
            reason: "empty, zero or non-finite embedding".into(),
        })
    }
}
