//! Presentation-attack checks: single-frame antispoof and liveness models, and a
//! multi-frame parallax cue that a flat photo or screen cannot fake.

use image::RgbImage;

use crate::align::aligned_pixels;
use crate::imgproc::to_tensor;
use crate::manifest::{AlignmentTemplate, ModelSpec};
use crate::quality::pose;
use crate::runtime::Model;
use crate::ModelError;

pub(crate) struct LivenessModels {
    pub(crate) antispoof: Option<(Model, ModelSpec)>,
    pub(crate) liveness: Option<(Model, ModelSpec)>,
}

impl LivenessModels {
    /// Score in 0..=1 (1 = live): the mean of the models present, 1 when none is configured.
    pub(crate) fn score(
        &self,
        image: &RgbImage,
        landmarks: &[[f32; 2]; 5],
        template: &AlignmentTemplate,
    ) -> Result<f32, ModelError> {
        let mut scores = Vec::with_capacity(2);
        for (model, spec) in [&self.antispoof, &self.liveness].into_iter().flatten() {
            let Some(px) = aligned_pixels(
                image,
                landmarks,
                template,
                spec.input_size,
                spec.template_scale,
            ) else {
                return Ok(0.0);
            };
            let (shape, data) = to_tensor(&px, spec);
            let out = model.run(&spec.input, shape, data, &spec.outputs)?;
            // Both models put the "real" probability first.
            let v = out[0].data.first().copied().unwrap_or(0.0);
            scores.push(if v.is_finite() {
                v.clamp(0.0, 1.0)
            } else {
                0.0
            });
        }
        if scores.is_empty() {
            return Ok(1.0);
        }
        Ok(scores.iter().sum::<f32>() / scores.len() as f32)
    }
}

/// Multi-frame cue: a real head that turns even slightly moves its nose relative to its
/// eyes, while the yaw ratio of a flat picture (print or screen) stays constant however
/// the picture is moved or tilted (ratios along a line survive affine maps).
#[derive(Debug, Clone, Default)]
pub struct ParallaxCue {
    yaws: Vec<f32>,
}

impl ParallaxCue {
    /// Records the landmarks of one frame.
    pub fn push(&mut self, landmarks: &[[f32; 2]; 5]) {
        let y = pose(landmarks).yaw;
        if y.is_finite() {
            self.yaws.push(y);
        }
    }

    pub fn clear(&mut self) {
        self.yaws.clear();
    }

    /// Range of the yaw ratio over the recorded frames.
    pub fn range(&self) -> f32 {
        let min = self.yaws.iter().copied().fold(f32::INFINITY, f32::min);
        let max = self.yaws.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        if self.yaws.len() < 2 {
            0.0
        } else {
            max - min
        }
    }

    /// Whether the frames show 3-D motion of at least `min_range` (0.04 is a small turn).
    pub fn is_three_dimensional(&self, min_range: f32) -> bool {
        self.range() >= min_range
    }
}
