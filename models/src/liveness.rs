//! Presentation-attack checks: single-frame antispoof and liveness models, and a
//! multi-frame parallax cue that a flat photo or screen cannot fake.

use image::RgbImage;

use crate::align::{affine, aligned_pixels};
use crate::imgproc::{box_shrink, to_tensor};
use crate::manifest::{AlignmentTemplate, ModelSpec};
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
        let mut models: Vec<&(Model, ModelSpec)> = [&self.antispoof, &self.liveness]
            .into_iter()
            .flatten()
            .collect();
        if models.is_empty() {
            return Ok(1.0);
        }
        // Largest input first: a smaller crop with the same framing is then a box average
        // of the larger one (as human-models' 128² antispoof and 32² liveness crops are; the
        // same crop to within half a pixel of the smaller one), not a second pass over the
        // photo.
        models.sort_by_key(|(_, spec)| std::cmp::Reverse(spec.input_size[0] * spec.input_size[1]));
        let mut larger: Option<(Vec<[f32; 3]>, &ModelSpec)> = None;
        let mut sum = 0.0;
        for (model, spec) in &models {
            let derived = larger.as_ref().and_then(|(pixels, big)| {
                let k = shrink_factor(big, spec)?;
                let [w, h] = big.input_size;
                Some(box_shrink(pixels, w as usize, h as usize, k))
            });
            let px = match derived {
                Some(px) => px,
                None => match aligned_pixels(
                    image,
                    landmarks,
                    template,
                    spec.input_size,
                    spec.template_scale,
                ) {
                    Some(px) => px,
                    None => return Ok(0.0),
                },
            };
            let (shape, data) = to_tensor(&px, spec);
            let out = model.run(&spec.input, shape, data, &spec.outputs)?;
            // Both models put the "real" probability first.
            let v = out[0].data.first().copied().unwrap_or(0.0);
            sum += if v.is_finite() {
                v.clamp(0.0, 1.0)
            } else {
                0.0
            };
            larger = Some((px, spec));
        }
        Ok(sum / models.len() as f32)
    }
}

/// `k` when `small`'s crop is `big`'s (same framing) shrunk `k` times on both axes.
fn shrink_factor(big: &ModelSpec, small: &ModelSpec) -> Option<usize> {
    let ([bw, bh], [sw, sh]) = (big.input_size, small.input_size);
    let k = if sw > 0 { bw / sw } else { 0 };
    let same_framing = big.template_scale == small.template_scale;
    (same_framing && k > 1 && bw == k * sw && bh == k * sh).then_some(k as usize)
}

/// The door's default `min_parallax`, in inter-ocular distances: between what prints of
/// the test portraits show (detector noise) and what the live test sequence shows
/// (measured by `edge-daemon/tests/vision.rs`; figures in `models/README.md`).
pub const DEFAULT_MIN_PARALLAX: f32 = 0.045;

/// Frames the parallax cue needs before it can call motion three-dimensional.
pub const PARALLAX_MIN_FRAMES: usize = 3;

/// Multi-frame cue against flat pictures. Every image of a flat print or screen, however it
/// is moved, tilted or held (from further than its own size), is an affine image of every
/// other one, so the five landmarks of one frame map onto another's through one affine map
/// up to detector noise. A head that turns does not: the nose stands out of the plane of
/// the eyes and mouth and moves across it. The cue fits that map between every pair of
/// frames and measures how far it misses, in inter-ocular distances (so it does not depend
/// on how close the face is). Similarity-invariant ratios such as the yaw ratio are not
/// enough: they drift with detector noise on a print and change under a tilt.
#[derive(Debug, Clone, Default)]
pub struct ParallaxCue {
    frames: Vec<[[f32; 2]; 5]>,
}

impl ParallaxCue {
    /// Records the landmarks of one frame (ignored if not finite or if the eyes coincide).
    pub fn push(&mut self, landmarks: &[[f32; 2]; 5]) {
        if landmarks.iter().flatten().all(|v| v.is_finite()) && eye_distance(landmarks) >= 1.0 {
            self.frames.push(*landmarks);
        }
    }

    pub fn clear(&mut self) {
        self.frames.clear();
    }

    /// Frames recorded.
    pub fn frames(&self) -> usize {
        self.frames.len()
    }

    /// Non-planar motion over the recorded frames: for each pair, the RMS distance by which
    /// the best affine map of one frame's landmarks onto the other's misses them, over the
    /// pair's mean inter-ocular distance; the largest over the pairs (0 with under 2 frames).
    pub fn residual(&self) -> f32 {
        let mut worst = 0f32;
        for (i, a) in self.frames.iter().enumerate() {
            for b in &self.frames[i + 1..] {
                if let Some(r) = planar_residual(a, b) {
                    worst = worst.max(r);
                }
            }
        }
        worst
    }

    /// Whether at least [`PARALLAX_MIN_FRAMES`] frames show non-planar motion of at least
    /// `min_residual` (see [`ParallaxCue::residual`]).
    pub fn is_three_dimensional(&self, min_residual: f32) -> bool {
        self.frames.len() >= PARALLAX_MIN_FRAMES && self.residual() >= min_residual
    }
}

/// How far the best affine map from `a` to `b` misses `b`: RMS over the five points, in
/// mean inter-ocular distances. `None` when the points are degenerate.
pub fn planar_residual(a: &[[f32; 2]; 5], b: &[[f32; 2]; 5]) -> Option<f32> {
    let iod = (eye_distance(a) + eye_distance(b)) / 2.0;
    if !(iod > 1.0) {
        return None;
    }
    let map = affine(a, b)?;
    let sum: f32 = a
        .iter()
        .zip(b)
        .map(|(p, q)| {
            let m = map.apply(*p);
            (m[0] - q[0]).powi(2) + (m[1] - q[1]).powi(2)
        })
        .sum();
    let r = (sum / a.len() as f32).sqrt() / iod;
    r.is_finite().then_some(r)
}

fn eye_distance(l: &[[f32; 2]; 5]) -> f32 {
    (l[1][0] - l[0][0]).hypot(l[1][1] - l[0][1])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eyes, nose and mouth corners of a face in 3-D (x right, y down, z towards the camera),
    /// in inter-ocular units: the nose tip stands about 0.6 out of the face plane.
    const HEAD: [[f32; 3]; 5] = [
        [-0.5, 0.0, 0.0],
        [0.5, 0.0, 0.0],
        [0.0, 0.55, 0.6],
        [-0.4, 1.05, 0.05],
        [0.4, 1.05, 0.05],
    ];

    /// Projects `HEAD` turned by `yaw` degrees (orthographic), at `scale` pixels per unit,
    /// moved by `shift`.
    fn view(yaw: f32, scale: f32, shift: [f32; 2]) -> [[f32; 2]; 5] {
        let (s, c) = yaw.to_radians().sin_cos();
        HEAD.map(|[x, y, z]| [(c * x + s * z) * scale + shift[0], y * scale + shift[1]])
    }

    #[test]
    fn a_flat_picture_moved_scaled_and_tilted_shows_no_parallax() {
        // A print of a face turned 10°: whatever is done to the sheet, one affine map.
        let print = view(10.0, 60.0, [300.0, 200.0]);
        let mut cue = ParallaxCue::default();
        for (k, shear) in [(1.0f32, 0.0f32), (0.9, 0.1), (1.2, -0.15), (1.05, 0.05)] {
            cue.push(&print.map(|[x, y]| [k * x + shear * y + 13.0, 0.8 * y + 4.0 * k]));
        }
        assert!(cue.residual() < 1e-3, "{}", cue.residual());
        assert!(!cue.is_three_dimensional(0.01));
    }

    #[test]
    fn a_turning_head_shows_parallax_in_proportion_to_the_turn() {
        let turn = |degrees: f32| {
            let mut cue = ParallaxCue::default();
            for yaw in [0.0, degrees / 2.0, degrees] {
                cue.push(&view(yaw, 60.0, [300.0, 200.0]));
            }
            cue.residual()
        };
        assert!(turn(4.0) > 0.005, "{}", turn(4.0));
        assert!(turn(12.0) > 2.0 * turn(4.0));
        // The same turn far away or close by: the residual is in inter-ocular distances.
        let mut far = ParallaxCue::default();
        for yaw in [0.0, 6.0, 12.0] {
            far.push(&view(yaw, 20.0, [100.0, 90.0]));
        }
        assert!((far.residual() - turn(12.0)).abs() < 1e-3);
    }

    #[test]
    fn too_few_frames_or_garbage_are_not_evidence() {
        let mut cue = ParallaxCue::default();
        cue.push(&view(0.0, 60.0, [300.0, 200.0]));
        cue.push(&view(20.0, 60.0, [300.0, 200.0]));
        assert!(cue.residual() > 0.02);
        assert!(!cue.is_three_dimensional(0.02), "two frames are not enough");
        cue.push(&[[f32::NAN, 0.0]; 5]);
        cue.push(&[[3.0, 3.0]; 5]);
        assert_eq!(cue.frames(), 2, "garbage is not a frame");
        cue.push(&view(10.0, 60.0, [300.0, 200.0]));
        assert!(cue.is_three_dimensional(0.02));
        cue.clear();
        assert_eq!(cue.residual(), 0.0);
    }
}
