//! Pixel sampling shared by the stages: affine resampling with bilinear taps and
//! super-sampling when shrinking, and packing pixels into a model's input tensor.

use image::RgbImage;

use crate::manifest::{Colour, Layout, ModelSpec};

/// A 2×3 affine map `[x', y'] = [a b; c d] [x, y] + [tx, ty]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    pub m: [[f32; 3]; 2],
}

impl Affine {
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        let m = &self.m;
        [
            m[0][0] * p[0] + m[0][1] * p[1] + m[0][2],
            m[1][0] * p[0] + m[1][1] * p[1] + m[1][2],
        ]
    }

    /// The inverse map, or `None` when the map is degenerate.
    pub fn inverse(&self) -> Option<Affine> {
        let [[a, b, tx], [c, d, ty]] = self.m;
        let det = a * d - b * c;
        if det.abs() < 1e-12 || !det.is_finite() {
            return None;
        }
        let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
        Some(Affine {
            m: [
                [ia, ib, -(ia * tx + ib * ty)],
                [ic, id, -(ic * tx + id * ty)],
            ],
        })
    }

    /// Scale factor of a similarity (the square root of the determinant).
    pub fn scale(&self) -> f32 {
        let [[a, b, _], [c, d, _]] = self.m;
        (a * d - b * c).abs().sqrt()
    }
}

/// Samples `out_w × out_h` RGB pixels; `dst_to_src` maps output to source coordinates
/// (pixel centres at +0.5). Outside the source reads black. When the map shrinks by more
/// than 1.5, each output pixel averages a k×k grid of bilinear taps to avoid aliasing.
pub fn resample(src: &RgbImage, dst_to_src: &Affine, out_w: u32, out_h: u32) -> Vec<[f32; 3]> {
    let (w, h) = src.dimensions();
    let raw = src.as_raw();
    let k = (dst_to_src.scale() / 1.5).ceil().clamp(1.0, 4.0) as u32;
    let kf = k as f32;
    let mut out = vec![[0f32; 3]; (out_w as usize) * (out_h as usize)];
    let tap = |x: f32, y: f32| -> [f32; 3] {
        // Bilinear at continuous coordinates where pixel centres sit at integer + 0.5.
        let fx = x - 0.5;
        let fy = y - 0.5;
        let x0 = fx.floor();
        let y0 = fy.floor();
        let ax = fx - x0;
        let ay = fy - y0;
        let mut acc = [0f32; 3];
        for (dy, wy) in [(0i64, 1.0 - ay), (1, ay)] {
            for (dx, wx) in [(0i64, 1.0 - ax), (1, ax)] {
                let px = x0 as i64 + dx;
                let py = y0 as i64 + dy;
                if px < 0 || py < 0 || px >= w as i64 || py >= h as i64 {
                    continue;
                }
                let i = (py as usize * w as usize + px as usize) * 3;
                let wgt = wx * wy;
                acc[0] += wgt * f32::from(raw[i]);
                acc[1] += wgt * f32::from(raw[i + 1]);
                acc[2] += wgt * f32::from(raw[i + 2]);
            }
        }
        acc
    };
    for oy in 0..out_h {
        for ox in 0..out_w {
            let mut acc = [0f32; 3];
            for sy in 0..k {
                for sx in 0..k {
                    let p = [
                        ox as f32 + (sx as f32 + 0.5) / kf,
                        oy as f32 + (sy as f32 + 0.5) / kf,
                    ];
                    let s = dst_to_src.apply(p);
                    let v = tap(s[0], s[1]);
                    acc[0] += v[0];
                    acc[1] += v[1];
                    acc[2] += v[2];
                }
            }
            let n = kf * kf;
            out[(oy * out_w + ox) as usize] = [acc[0] / n, acc[1] / n, acc[2] / n];
        }
    }
    out
}

/// Packs RGB pixels (0..=255) into the tensor layout, colour order and normalisation of `spec`.
pub fn to_tensor(pixels: &[[f32; 3]], spec: &ModelSpec) -> ([usize; 4], Vec<f32>) {
    let [w, h] = spec.input_size;
    let (w, h) = (w as usize, h as usize);
    let order: [usize; 3] = match spec.colour {
        Colour::RGB => [0, 1, 2],
        Colour::BGR => [2, 1, 0],
    };
    let norm = |p: &[f32; 3], c: usize| (p[order[c]] - spec.mean[c]) / spec.std[c];
    let mut data = vec![0f32; w * h * 3];
    match spec.layout {
        Layout::NHWC => {
            for (i, p) in pixels.iter().enumerate().take(w * h) {
                for c in 0..3 {
                    data[i * 3 + c] = norm(p, c);
                }
            }
            ([1, h, w, 3], data)
        }
        Layout::NCHW => {
            for (i, p) in pixels.iter().enumerate().take(w * h) {
                for c in 0..3 {
                    data[c * w * h + i] = norm(p, c);
                }
            }
            ([1, 3, h, w], data)
        }
    }
}
