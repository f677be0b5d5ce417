//! Face detection with landmarks: MediaPipe BlazeFace (anchor decoding and NMS here).

use image::RgbImage;

use crate::imgproc::{resample, to_tensor, Affine};
use crate::manifest::ModelSpec;
use crate::runtime::Model;
use crate::ModelError;

/// One detected face in image coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// `[x, y, width, height]`.
    pub bbox: [f32; 4],
    /// Left eye, right eye, nose tip, left and right mouth corners (image left/right),
    /// the order of the ArcFace template.
    pub landmarks: [[f32; 2]; 5],
    pub score: f32,
}

impl Detection {
    /// Distance between the eyes in pixels.
    pub fn eye_distance(&self) -> f32 {
        let [l, r] = [self.landmarks[0], self.landmarks[1]];
        ((r[0] - l[0]).powi(2) + (r[1] - l[1]).powi(2)).sqrt()
    }
}

/// Mouth half-width over eye distance in the ArcFace template: BlazeFace gives only the
/// mouth centre, so the corners are placed on a line parallel to the eyes.
const MOUTH_HALF_WIDTH: f32 = 0.414;

pub(crate) struct Detector {
    model: Model,
    spec: ModelSpec,
    anchors: Vec<[f32; 2]>,
    score_threshold: f32,
    iou_threshold: f32,
}

fn anchors(size: u32) -> Vec<[f32; 2]> {
    let mut out = Vec::new();
    for (stride, per_cell) in [(size / 16, 2), (size / 8, 6)] {
        let cells = size.div_ceil(stride.max(1));
        for gy in 0..cells {
            for gx in 0..cells {
                for _ in 0..per_cell {
                    out.push([
                        stride as f32 * (gx as f32 + 0.5),
                        stride as f32 * (gy as f32 + 0.5),
                    ]);
                }
            }
        }
    }
    out
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-80.0, 80.0)).exp())
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let ix = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let iy = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    if ix <= 0.0 || iy <= 0.0 {
        return 0.0;
    }
    let inter = ix * iy;
    inter / (a[2] * a[3] + b[2] * b[3] - inter).max(1e-6)
}

impl Detector {
    pub(crate) fn new(model: Model, spec: ModelSpec) -> Self {
        let size = spec.input_size[0];
        Detector {
            model,
            anchors: anchors(size),
            score_threshold: spec.score_threshold.unwrap_or(0.6),
            iou_threshold: spec.iou_threshold.unwrap_or(0.3),
            spec,
        }
    }

    /// All faces above the score threshold, most confident first.
    pub(crate) fn detect(&self, image: &RgbImage) -> Result<Vec<Detection>, ModelError> {
        let (w, h) = image.dimensions();
        if w < 2 || h < 2 {
            return Ok(Vec::new());
        }
        let [iw, ih] = self.spec.input_size;
        // Letterbox: the image sits top-left in a square of its longer side, then scaled.
        let side = w.max(h) as f32;
        let k = side / iw as f32;
        let ky = side / ih as f32;
        let to_src = Affine {
            m: [[k, 0.0, 0.0], [0.0, ky, 0.0]],
        };
        let pixels = resample(image, &to_src, iw, ih);
        let (shape, data) = to_tensor(&pixels, &self.spec);
        let out = self
            .model
            .run(&self.spec.input, shape, data, &self.spec.outputs)?;
        let (s16, b16, s32, b32) = (&out[0].data, &out[1].data, &out[2].data, &out[3].data);
        let n = self.anchors.len();
        let n16 = s16.len();
        if n16 + s32.len() != n || b16.len() != n16 * 16 || b32.len() != s32.len() * 16 {
            return Err(ModelError::Output {
                model: "detector",
                output: self.spec.outputs.join(","),
                reason: format!("expected {n} anchors with 16 regressors each"),
            });
        }
        let mut candidates: Vec<(f32, usize)> = s16
            .iter()
            .chain(s32.iter())
            .enumerate()
            .map(|(i, s)| (sigmoid(*s), i))
            .filter(|(s, _)| *s >= self.score_threshold)
            .collect();
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut faces: Vec<Detection> = Vec::new();
        for (score, i) in candidates {
            let reg = if i < n16 {
                &b16[i * 16..i * 16 + 16]
            } else {
                &b32[(i - n16) * 16..(i - n16) * 16 + 16]
            };
            let [ax, ay] = self.anchors[i];
            let (cx, cy, bw, bh) = (reg[0] + ax, reg[1] + ay, reg[2], reg[3]);
            if !(bw > 0.0 && bh > 0.0 && cx.is_finite() && cy.is_finite()) {
                continue;
            }
            let bbox = [(cx - bw / 2.0) * k, (cy - bh / 2.0) * ky, bw * k, bh * ky];
            if faces
                .iter()
                .any(|f| iou(&f.bbox, &bbox) > self.iou_threshold)
            {
                continue;
            }
            let kp = |j: usize| [(reg[4 + 2 * j] + ax) * k, (reg[5 + 2 * j] + ay) * ky];
            let (eye_l, eye_r, nose, mouth) = (kp(0), kp(1), kp(2), kp(3));
            let d = [
                (eye_r[0] - eye_l[0]) * MOUTH_HALF_WIDTH,
                (eye_r[1] - eye_l[1]) * MOUTH_HALF_WIDTH,
            ];
            let landmarks = [
                eye_l,
                eye_r,
                nose,
                [mouth[0] - d[0], mouth[1] - d[1]],
                [mouth[0] + d[0], mouth[1] + d[1]],
            ];
            faces.push(Detection {
                bbox,
                landmarks,
                score,
            });
        }
        Ok(faces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blazeface_has_896_anchors() {
        assert_eq!(anchors(256).len(), 896);
    }

    #[test]
    fn iou_of_disjoint_and_same_boxes() {
        let a = [0.0, 0.0, 10.0, 10.0];
        assert_eq!(iou(&a, &[20.0, 20.0, 5.0, 5.0]), 0.0);
        assert!((iou(&a, &a) - 1.0).abs() < 1e-6);
    }
}
