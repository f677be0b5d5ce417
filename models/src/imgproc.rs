//! Pixel sampling shared by the stages: affine resampling with bilinear taps that never
//! aliases when shrinking (an exact separable area average when the map only scales, as for
//! the detector's whole-frame input; block averaging then a warp when it also turns, as for
//! the aligned crops), and packing pixels into a model's input tensor.

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
/// (pixel centres at +0.5). Outside the source reads black. Shrinking never aliases: a map
/// that only scales takes the exact area average ([`shrink_axis_aligned`]); a rotating map
/// that shrinks by 2 or more first averages the covered part of the source in blocks of
/// that whole factor ([`Reduced`]) and then warps the reduced pixels, so each source pixel
/// is read once whatever the factor; what is left (under 2) is super-sampled.
pub fn resample(src: &RgbImage, dst_to_src: &Affine, out_w: u32, out_h: u32) -> Vec<[f32; 3]> {
    if let Some(pixels) = shrink_axis_aligned(src, dst_to_src, out_w, out_h) {
        return pixels;
    }
    let factor = dst_to_src.scale().floor();
    if factor >= 2.0 && factor.is_finite() {
        if let Some(reduced) = Reduced::covering(src, dst_to_src, out_w, out_h, factor as u32) {
            let map = reduced.map(dst_to_src);
            return supersampled(&map, out_w, out_h, |x, y| reduced.pixel(x, y));
        }
    }
    let (w, h) = src.dimensions();
    let raw = src.as_raw();
    supersampled(dst_to_src, out_w, out_h, |x, y| {
        if x < 0 || y < 0 || x >= i64::from(w) || y >= i64::from(h) {
            return None;
        }
        let i = (y as usize * w as usize + x as usize) * 3;
        Some([
            f32::from(raw[i]),
            f32::from(raw[i + 1]),
            f32::from(raw[i + 2]),
        ])
    })
}

/// Bilinear taps through `dst_to_src`, averaged over a k×k grid in each output pixel when
/// the map shrinks by more than 1.5. `pixel(x, y)` is `None` outside the source (black).
fn supersampled(
    dst_to_src: &Affine,
    out_w: u32,
    out_h: u32,
    pixel: impl Fn(i64, i64) -> Option<[f32; 3]>,
) -> Vec<[f32; 3]> {
    let k = (dst_to_src.scale() / 1.5).ceil().clamp(1.0, 4.0) as u32;
    let kf = k as f32;
    let mut out = vec![[0f32; 3]; (out_w as usize) * (out_h as usize)];
    let tap = |x: f32, y: f32| -> [f32; 3] {
        // Bilinear at continuous coordinates where pixel centres sit at integer + 0.5.
        let fx = x - 0.5;
        let fy = y - 0.5;
        let (x0, y0) = (floor(fx), floor(fy));
        let ax = fx - x0 as f32;
        let ay = fy - y0 as f32;
        let mut acc = [0f32; 3];
        for (dy, wy) in [(0i64, 1.0 - ay), (1, ay)] {
            for (dx, wx) in [(0i64, 1.0 - ax), (1, ax)] {
                if let Some(v) = pixel(x0 + dx, y0 + dy) {
                    let wgt = wx * wy;
                    acc[0] += wgt * v[0];
                    acc[1] += wgt * v[1];
                    acc[2] += wgt * v[2];
                }
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

/// `v.floor()` as an integer without a call into libm (baseline x86-64 has no rounding
/// instruction, and this runs four times a tap). Saturates; NaN gives 0.
fn floor(v: f32) -> i64 {
    let t = v as i64;
    if (t as f32) > v {
        t - 1
    } else {
        t
    }
}

/// The part of a source image an output covers, averaged in `factor × factor` blocks
/// (pixels outside the source count as black), for warps that shrink and rotate.
struct Reduced {
    /// Source pixel of the first block's top-left corner.
    origin: [u32; 2],
    factor: u32,
    width: usize,
    height: usize,
    pixels: Vec<[f32; 3]>,
}

impl Reduced {
    /// The blocks under the output's footprint (plus a margin for the bilinear taps), or
    /// `None` when the footprint misses the source or is not finite.
    fn covering(
        src: &RgbImage,
        dst_to_src: &Affine,
        out_w: u32,
        out_h: u32,
        factor: u32,
    ) -> Option<Reduced> {
        let (w, h) = src.dimensions();
        let corners = [(0, 0), (out_w, 0), (0, out_h), (out_w, out_h)]
            .map(|(x, y)| dst_to_src.apply([x as f32, y as f32]));
        let margin = 3.0 * factor as f32;
        let lo = |axis: usize| {
            corners
                .iter()
                .map(|c| c[axis])
                .fold(f32::INFINITY, f32::min)
        };
        let hi = |axis: usize| {
            corners
                .iter()
                .map(|c| c[axis])
                .fold(f32::NEG_INFINITY, f32::max)
        };
        let (x0, x1) = (lo(0) - margin, hi(0) + margin);
        let (y0, y1) = (lo(1) - margin, hi(1) + margin);
        if !(x0.is_finite() && x1.is_finite() && y0.is_finite() && y1.is_finite()) {
            return None;
        }
        let x0 = x0.clamp(0.0, w as f32) as u32;
        let y0 = y0.clamp(0.0, h as f32) as u32;
        let x1 = x1.clamp(0.0, w as f32).ceil() as u32;
        let y1 = y1.clamp(0.0, h as f32).ceil() as u32;
        if x1 <= x0 || y1 <= y0 {
            return None;
        }
        let f = factor as usize;
        let width = ((x1 - x0) as usize).div_ceil(f);
        let height = ((y1 - y0) as usize).div_ceil(f);
        let mut pixels = vec![[0f32; 3]; width * height];
        let raw = src.as_raw();
        let row_len = w as usize * 3;
        for y in y0 as usize..y1 as usize {
            let block_row = &mut pixels[(y - y0 as usize) / f * width..][..width];
            let row = &raw[y * row_len + x0 as usize * 3..y * row_len + x1 as usize * 3];
            for (acc, block) in block_row.iter_mut().zip(row.chunks(3 * f)) {
                // Integer sums within a block's row, one float conversion per block.
                let mut sum = [0u32; 3];
                for px in block.chunks_exact(3) {
                    sum[0] += u32::from(px[0]);
                    sum[1] += u32::from(px[1]);
                    sum[2] += u32::from(px[2]);
                }
                acc[0] += sum[0] as f32;
                acc[1] += sum[1] as f32;
                acc[2] += sum[2] as f32;
            }
        }
        let area = (f * f) as f32;
        pixels
            .iter_mut()
            .for_each(|p| *p = [p[0] / area, p[1] / area, p[2] / area]);
        Some(Reduced {
            origin: [x0, y0],
            factor,
            width,
            height,
            pixels,
        })
    }

    /// `dst_to_src` followed by source → reduced coordinates.
    fn map(&self, dst_to_src: &Affine) -> Affine {
        let f = self.factor as f32;
        let [[a, b, tx], [c, d, ty]] = dst_to_src.m;
        Affine {
            m: [
                [a / f, b / f, (tx - self.origin[0] as f32) / f],
                [c / f, d / f, (ty - self.origin[1] as f32) / f],
            ],
        }
    }

    /// A reduced pixel; black outside the covered part (which the margin keeps clear of
    /// every tap that lands inside the source).
    fn pixel(&self, x: i64, y: i64) -> Option<[f32; 3]> {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return None;
        }
        Some(self.pixels[y as usize * self.width + x as usize])
    }
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
    // Vertical pass first, over whole contiguous source rows (it vectorises), into one
    // line at source width; then the horizontal pass on that line only: `out_h` short
    // passes instead of one per source row.
    let row_len = w as usize * 3;
    let mut line = vec![0f32; row_len];
    let mut out = vec![[0f32; 3]; out_w as usize * out_h as usize];
    for (oy, dst) in out.chunks_exact_mut(out_w.max(1) as usize).enumerate() {
        let (first, weights) = coverage(ty + oy as f32 * sy, sy, h);
        line.fill(0.0);
        for (k, wgt) in weights.iter().enumerate() {
            let row = &raw[(first + k) * row_len..][..row_len];
            for (acc, v) in line.iter_mut().zip(row) {
                *acc += wgt * f32::from(*v);
            }
        }
        for (pixel, (first, weights)) in dst.iter_mut().zip(&columns) {
            let mut acc = [0f32; 3];
            for (k, wgt) in weights.iter().enumerate() {
                let i = (first + k) * 3;
                acc[0] += wgt * line[i];
                acc[1] += wgt * line[i + 1];
                acc[2] += wgt * line[i + 2];
            }
            *pixel = acc;
        }
    }
    Some(out)
}

/// Averages each `k × k` block of a `w × h` grid of pixels (row-major) into one pixel:
/// `(w / k) × (h / k)` pixels, the same area average a direct resample at that size takes.
pub fn box_shrink(pixels: &[[f32; 3]], w: usize, h: usize, k: usize) -> Vec<[f32; 3]> {
    let k = k.max(1);
    let (ow, oh) = (w / k, h / k);
    let mut out = vec![[0f32; 3]; ow * oh];
    for (y, row) in pixels.chunks_exact(w.max(1)).take(oh * k).enumerate() {
        let line = &mut out[y / k * ow..][..ow];
        for (acc, block) in line.iter_mut().zip(row.chunks_exact(k)) {
            for p in block {
                acc[0] += p[0];
                acc[1] += p[1];
                acc[2] += p[2];
            }
        }
    }
    let area = (k * k) as f32;
    out.iter_mut()
        .for_each(|p| *p = [p[0] / area, p[1] / area, p[2] / area]);
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

    /// A smooth test image: each channel a product of a sine across and a cosine down, with
    /// the given periods (in pixels over 2π).
    fn waves(w: u32, h: u32, periods: [[f32; 2]; 3]) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            image::Rgb(
                periods.map(|[f, g]| {
                    (128.0 + 100.0 * (x as f32 / f).sin() * (y as f32 / g).cos()) as u8
                }),
            )
        })
    }

    /// Mean absolute difference per channel between two pixel lists.
    fn mean_difference(a: &[[f32; 3]], b: &[[f32; 3]]) -> f32 {
        let sum: f32 = a
            .iter()
            .zip(b)
            .map(|(p, q)| (0..3).map(|c| (p[c] - q[c]).abs()).sum::<f32>() / 3.0)
            .sum();
        sum / a.len().max(1) as f32
    }

    #[test]
    fn a_box_shrink_of_a_crop_is_the_crop_taken_smaller() {
        let src = waves(600, 500, [[21.0, 17.0], [9.0, 27.0], [33.0, 13.0]]);
        let map = turn_and_shrink(12.0, 1.1, [300.0, 250.0], 128.0);
        let big = resample(&src, &map, 128, 128);
        let small = box_shrink(&big, 128, 128, 4);
        let mut four = map;
        four.m.iter_mut().for_each(|row| {
            row[0] *= 4.0;
            row[1] *= 4.0;
        });
        let direct = resample(&src, &four, 32, 32);
        assert_eq!(small.len(), 32 * 32);
        let mean = mean_difference(&small, &direct);
        assert!(mean < 2.5, "mean difference {mean}");
        // Exact on a grid whose blocks are known.
        let grid: Vec<[f32; 3]> = (0..16).map(|i| [i as f32, 0.0, 1.0]).collect();
        assert_eq!(
            box_shrink(&grid, 4, 4, 2),
            vec![
                [2.5, 0.0, 1.0],
                [4.5, 0.0, 1.0],
                [10.5, 0.0, 1.0],
                [12.5, 0.0, 1.0]
            ]
        );
    }

    #[test]
    fn floor_is_the_float_floor() {
        for v in [-2.5f32, -1.0, -0.2, -0.0, 0.0, 0.7, 3.0, 1_000_000.5] {
            assert_eq!(floor(v), v.floor() as i64, "{v}");
        }
        assert_eq!(floor(f32::NAN), 0);
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
        let src = waves(640, 480, [[13.0, 17.0], [29.0, 7.0], [5.0, 41.0]]);
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
        let mean = mean_difference(&fast, &general);
        assert!(mean < 2.0, "mean difference {mean}");
    }

    /// A similarity that turns by `degrees` and shrinks by `k` about the source centre.
    fn turn_and_shrink(degrees: f32, k: f32, centre: [f32; 2], out: f32) -> Affine {
        let (s, c) = degrees.to_radians().sin_cos();
        let (a, b) = (k * c, -k * s);
        let (cc, d) = (k * s, k * c);
        let half = out / 2.0;
        Affine {
            m: [
                [a, b, centre[0] - a * half - b * half],
                [cc, d, centre[1] - cc * half - d * half],
            ],
        }
    }

    #[test]
    fn a_turning_shrink_reads_each_block_once_and_matches_dense_supersampling() {
        let src = waves(900, 700, [[31.0, 23.0], [47.0, 19.0], [37.0, 53.0]]);
        let raw = src.as_raw();
        let exact = |x: i64, y: i64| {
            (x >= 0 && y >= 0 && x < 900 && y < 700).then(|| {
                let i = (y as usize * 900 + x as usize) * 3;
                [raw[i], raw[i + 1], raw[i + 2]].map(f32::from)
            })
        };
        for (degrees, k, out) in [(17.0, 5.3, 64u32), (-8.0, 2.4, 128), (33.0, 11.0, 32)] {
            let map = turn_and_shrink(degrees, k, [450.0, 350.0], out as f32);
            let fast = resample(&src, &map, out, out);
            // The reference: dense super-sampling of the source itself, ~k² taps a pixel.
            let dense = {
                let n = k.ceil() as u32;
                let fine = Affine {
                    m: [
                        [map.m[0][0] / n as f32, map.m[0][1] / n as f32, map.m[0][2]],
                        [map.m[1][0] / n as f32, map.m[1][1] / n as f32, map.m[1][2]],
                    ],
                };
                let big = supersampled(&fine, out * n, out * n, exact);
                (0..(out * out) as usize)
                    .map(|i| {
                        let (ox, oy) = (i as u32 % out, i as u32 / out);
                        let mut acc = [0f32; 3];
                        for dy in 0..n {
                            for dx in 0..n {
                                let v = big[((oy * n + dy) * out * n + ox * n + dx) as usize];
                                (0..3).for_each(|c| acc[c] += v[c]);
                            }
                        }
                        acc.map(|a| a / (n * n) as f32)
                    })
                    .collect::<Vec<_>>()
            };
            let mean = mean_difference(&fast, &dense);
            assert!(mean < 2.5, "{degrees}° ×{k}: mean difference {mean}");
        }
    }

    #[test]
    fn a_turning_shrink_keeps_a_flat_image_flat_and_reads_black_off_the_image() {
        let src = RgbImage::from_pixel(400, 300, image::Rgb([90, 160, 30]));
        let inside = resample(
            &src,
            &turn_and_shrink(25.0, 3.0, [200.0, 150.0], 40.0),
            40,
            40,
        );
        for p in &inside {
            assert!(
                (p[0] - 90.0).abs() < 0.01 && (p[1] - 160.0).abs() < 0.01,
                "{p:?}"
            );
        }
        let off = resample(
            &src,
            &turn_and_shrink(25.0, 3.0, [5000.0, 150.0], 40.0),
            40,
            40,
        );
        assert!(off.iter().all(|p| *p == [0.0; 3]));
    }
}
