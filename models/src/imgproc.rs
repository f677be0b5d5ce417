//! Pixel sampling shared by the stages: affine resampling with bilinear taps and
//! super-sampling when shrinking (an exact separable area average when the map only
//! scales, as for the detector's whole-frame input), and packing pixels into a model's
//! input tensor.

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
    if let Some(pixels) = shrink_axis_aligned(src, dst_to_src, out_w, out_h) {
        return pixels;
    }
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

/// The source pixels an output pixel's span `[start, start + scale)` covers along one axis:
/// the first index and each covered pixel's share of the span (summing to 1 inside the
/// image; pixels outside it read black, as in [`resample`]).
fn coverage(start: f32, scale: f32, len: u32) -> (usize, Vec<f32>) {
    let end = start + scale;
    let first = start.floor().max(0.0);
    let last = end.ceil().min(len as f32);
    let mut weights = Vec::with_capacity((last - first).max(0.0) as usize);
    let mut i = first;
    while i < last {
        let covered = end.min(i + 1.0) - start.max(i);
        weights.push(covered.max(0.0) / scale);
        i += 1.0;
    }
    (first as usize, weights)
}

/// Shrinking without rotation (the detector's letterbox of a whole frame): the exact area
/// average of the source under each output pixel, in two separable passes — one read per
/// source pixel instead of k² bilinear taps. `None` for maps that rotate, shear or enlarge.
fn shrink_axis_aligned(
    src: &RgbImage,
    dst_to_src: &Affine,
    out_w: u32,
    out_h: u32,
) -> Option<Vec<[f32; 3]>> {
    let [[sx, b, tx], [c, sy, ty]] = dst_to_src.m;
    let axis_aligned = b == 0.0 && c == 0.0;
    if !axis_aligned || !(sx >= 1.0 && sy >= 1.0) || !tx.is_finite() || !ty.is_finite() {
        return None;
    }
    let (w, h) = src.dimensions();
    let raw = src.as_raw();
    let columns: Vec<(usize, Vec<f32>)> = (0..out_w)
        .map(|ox| coverage(tx + ox as f32 * sx, sx, w))
        .collect();
    // Horizontal pass: every source row shrunk to `out_w` pixels.
    let row_len = w as usize * 3;
    let mut rows = vec![[0f32; 3]; out_w as usize * h as usize];
    for (y, row) in raw.chunks_exact(row_len).enumerate() {
        let out = &mut rows[y * out_w as usize..(y + 1) * out_w as usize];
        for (pixel, (first, weights)) in out.iter_mut().zip(&columns) {
            let mut acc = [0f32; 3];
            for (k, wgt) in weights.iter().enumerate() {
                let i = (first + k) * 3;
                acc[0] += wgt * f32::from(row[i]);
                acc[1] += wgt * f32::from(row[i + 1]);
                acc[2] += wgt * f32::from(row[i + 2]);
            }
            *pixel = acc;
        }
    }
    // Vertical pass over the shrunk rows.
    let mut out = vec![[0f32; 3]; out_w as usize * out_h as usize];
    for oy in 0..out_h as usize {
        let (first, weights) = coverage(ty + oy as f32 * sy, sy, h);
        let line = &mut out[oy * out_w as usize..(oy + 1) * out_w as usize];
        for (k, wgt) in weights.iter().enumerate() {
            let row = &rows[(first + k) * out_w as usize..(first + k + 1) * out_w as usize];
            for (acc, v) in line.iter_mut().zip(row) {
                acc[0] += wgt * v[0];
                acc[1] += wgt * v[1];
                acc[2] += wgt * v[2];
            }
        }
    }
    Some(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([
                (x * 7 % 256) as u8,
                (y * 5 % 256) as u8,
                ((x + y) % 256) as u8,
            ])
        })
    }

    fn scale(k: f32) -> Affine {
        Affine {
            m: [[k, 0.0, 0.0], [0.0, k, 0.0]],
        }
    }

    #[test]
    fn halving_averages_each_two_by_two_block() {
        let src = gradient(8, 6);
        let out = resample(&src, &scale(2.0), 4, 3);
        for (i, got) in out.iter().enumerate() {
            let (ox, oy) = ((i % 4) as u32, (i / 4) as u32);
            for ch in 0..3 {
                let sum: f32 = [(0, 0), (1, 0), (0, 1), (1, 1)]
                    .iter()
                    .map(|(dx, dy)| f32::from(src.get_pixel(2 * ox + dx, 2 * oy + dy)[ch]))
                    .sum();
                assert!((got[ch] - sum / 4.0).abs() < 1e-3, "pixel {i} channel {ch}");
            }
        }
    }

    #[test]
    fn the_letterbox_outside_the_image_reads_black_and_a_flat_image_stays_flat() {
        let src = RgbImage::from_pixel(30, 20, image::Rgb([200, 100, 50]));
        // A 30×30 letterbox of a 30×20 image shrunk to 10×10 (×3).
        let out = resample(&src, &scale(3.0), 10, 10);
        for (i, p) in out.iter().enumerate() {
            let want = if i / 10 < 6 {
                [200.0, 100.0, 50.0]
            } else if i / 10 == 6 {
                [133.33, 66.67, 33.33]
            } else {
                [0.0; 3]
            };
            for ch in 0..3 {
                assert!(
                    (p[ch] - want[ch]).abs() < 0.01,
                    "pixel {i}: {p:?} vs {want:?}"
                );
            }
        }
    }

    #[test]
    fn the_area_average_stays_close_to_supersampled_bilinear() {
        // The fast path against the general one (forced by a negligible rotation).
        let src = RgbImage::from_fn(640, 480, |x, y| {
            let v = |f: f32, g: f32| {
                (128.0 + 100.0 * (x as f32 / f).sin() * (y as f32 / g).cos()) as u8
            };
            image::Rgb([v(13.0, 17.0), v(29.0, 7.0), v(5.0, 41.0)])
        });
        let k = 640.0 / 256.0;
        let fast = resample(&src, &scale(k), 256, 192);
        let general = resample(
            &src,
            &Affine {
                m: [[k, 1e-9, 0.0], [0.0, k, 0.0]],
            },
            256,
            192,
        );
        let mean = fast
            .iter()
            .zip(&general)
            .map(|(a, b)| (0..3).map(|c| (a[c] - b[c]).abs()).sum::<f32>() / 3.0)
            .sum::<f32>()
            / fast.len() as f32;
        assert!(mean < 2.0, "mean difference {mean}");
    }
}
