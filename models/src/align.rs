//! Alignment: a 5-point similarity transform from detected landmarks to the template the
//! embedder expects, then resampling of the aligned crop.

use image::RgbImage;

use crate::imgproc::{resample, Affine};
use crate::manifest::AlignmentTemplate;

/// Least-squares similarity (rotation, uniform scale, translation; no reflection) that maps
/// `src` onto `dst`. Returns `None` for degenerate point sets.
pub fn similarity(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Option<Affine> {
    let n = src.len().min(dst.len());
    if n < 2 {
        return None;
    }
    let mean = |p: &[[f32; 2]]| {
        let (sx, sy) = p[..n]
            .iter()
            .fold((0.0, 0.0), |a, q| (a.0 + q[0], a.1 + q[1]));
        [sx / n as f32, sy / n as f32]
    };
    let (ms, md) = (mean(src), mean(dst));
    // As complex numbers: dst - md = z (src - ms), with z = a + ib solved in closed form.
    let (mut num_re, mut num_im, mut den) = (0f32, 0f32, 0f32);
    for i in 0..n {
        let (sx, sy) = (src[i][0] - ms[0], src[i][1] - ms[1]);
        let (dx, dy) = (dst[i][0] - md[0], dst[i][1] - md[1]);
        num_re += sx * dx + sy * dy;
        num_im += sx * dy - sy * dx;
        den += sx * sx + sy * sy;
    }
    if den < 1e-9 || !den.is_finite() {
        return None;
    }
    let (a, b) = (num_re / den, num_im / den);
    let tx = md[0] - (a * ms[0] - b * ms[1]);
    let ty = md[1] - (b * ms[0] + a * ms[1]);
    let t = Affine {
        m: [[a, -b, tx], [b, a, ty]],
    };
    t.m.iter().flatten().all(|v| v.is_finite()).then_some(t)
}

/// Least-squares affine map (six parameters: any linear part plus translation) that maps
/// `src` onto `dst`: the image motion of a flat picture seen from afar (weak perspective).
/// Returns `None` for fewer than three points or a degenerate (collinear) `src`.
pub fn affine(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Option<Affine> {
    let n = src.len().min(dst.len());
    if n < 3 {
        return None;
    }
    let mean = |p: &[[f32; 2]]| {
        let (sx, sy) = p[..n].iter().fold((0f64, 0f64), |a, q| {
            (a.0 + f64::from(q[0]), a.1 + f64::from(q[1]))
        });
        [sx / n as f64, sy / n as f64]
    };
    let (ms, md) = (mean(src), mean(dst));
    // Normal equations on centred points: M = (Σ d sᵀ)(Σ s sᵀ)⁻¹, in f64.
    let (mut sxx, mut sxy, mut syy) = (0f64, 0f64, 0f64);
    let (mut dxsx, mut dxsy, mut dysx, mut dysy) = (0f64, 0f64, 0f64, 0f64);
    for i in 0..n {
        let (sx, sy) = (f64::from(src[i][0]) - ms[0], f64::from(src[i][1]) - ms[1]);
        let (dx, dy) = (f64::from(dst[i][0]) - md[0], f64::from(dst[i][1]) - md[1]);
        sxx += sx * sx;
        sxy += sx * sy;
        syy += sy * sy;
        dxsx += dx * sx;
        dxsy += dx * sy;
        dysx += dy * sx;
        dysy += dy * sy;
    }
    let det = sxx * syy - sxy * sxy;
    if !(det > 1e-9 * (sxx + syy).powi(2)) {
        return None;
    }
    let (ia, ib, id) = (syy / det, -sxy / det, sxx / det);
    let (a, b) = (dxsx * ia + dxsy * ib, dxsx * ib + dxsy * id);
    let (c, d) = (dysx * ia + dysy * ib, dysx * ib + dysy * id);
    let tx = md[0] - (a * ms[0] + b * ms[1]);
    let ty = md[1] - (c * ms[0] + d * ms[1]);
    let t = Affine {
        m: [
            [a as f32, b as f32, tx as f32],
            [c as f32, d as f32, ty as f32],
        ],
    };
    t.m.iter().flatten().all(|v| v.is_finite()).then_some(t)
}

/// The template points placed in a `size`-pixel crop, scaled by `scale` about its centre.
pub fn template_points(template: &AlignmentTemplate, size: [u32; 2], scale: f32) -> [[f32; 2]; 5] {
    let c = template.size / 2.0;
    let (kx, ky) = (
        size[0] as f32 / template.size,
        size[1] as f32 / template.size,
    );
    template
        .points
        .map(|p| [((p[0] - c) * scale + c) * kx, ((p[1] - c) * scale + c) * ky])
}

/// Image → crop transform for these landmarks, or `None` if they are degenerate.
pub fn crop_transform(
    landmarks: &[[f32; 2]; 5],
    template: &AlignmentTemplate,
    size: [u32; 2],
    scale: f32,
) -> Option<Affine> {
    similarity(landmarks, &template_points(template, size, scale))
}

/// The aligned crop as RGB pixels (0..=255), row-major, `size[0] × size[1]`.
pub fn aligned_pixels(
    image: &RgbImage,
    landmarks: &[[f32; 2]; 5],
    template: &AlignmentTemplate,
    size: [u32; 2],
    scale: f32,
) -> Option<Vec<[f32; 3]>> {
    let to_crop = crop_transform(landmarks, template, size, scale)?;
    let to_src = to_crop.inverse()?;
    // Landmarks use continuous coordinates (pixel i spans [i, i + 1)); the template uses
    // pixel indices, as OpenCV's warpAffine does. Output centre ox + 0.5 is index ox.
    let shifted = Affine {
        m: [
            [
                to_src.m[0][0],
                to_src.m[0][1],
                to_src.m[0][2] - 0.5 * (to_src.m[0][0] + to_src.m[0][1]),
            ],
            [
                to_src.m[1][0],
                to_src.m[1][1],
                to_src.m[1][2] - 0.5 * (to_src.m[1][0] + to_src.m[1][1]),
            ],
        ],
    };
    Some(resample(image, &shifted, size[0], size[1]))
}

/// The aligned crop as an image, for inspection and enrolment photos.
pub fn aligned_image(
    image: &RgbImage,
    landmarks: &[[f32; 2]; 5],
    template: &AlignmentTemplate,
    size: u32,
) -> Option<RgbImage> {
    let px = aligned_pixels(image, landmarks, template, [size, size], 1.0)?;
    let raw = px
        .iter()
        .flat_map(|p| p.map(|v| v.round().clamp(0.0, 255.0) as u8))
        .collect();
    RgbImage::from_raw(size, size, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five landmark-like points in general position.
    const FIVE_POINTS: [[f32; 2]; 5] = [
        [10.0, 10.0],
        [30.0, 12.0],
        [20.0, 25.0],
        [12.0, 35.0],
        [28.0, 36.0],
    ];

    #[test]
    fn similarity_recovers_a_known_transform() {
        let src = FIVE_POINTS;
        let (a, b, tx, ty) = (0.8f32, 0.3f32, 5.0f32, -7.0f32);
        let dst = src.map(|p| [a * p[0] - b * p[1] + tx, b * p[0] + a * p[1] + ty]);
        let t = similarity(&src, &dst).expect("non-degenerate");
        for (s, d) in src.iter().zip(dst.iter()) {
            let q = t.apply(*s);
            assert!((q[0] - d[0]).abs() < 1e-3 && (q[1] - d[1]).abs() < 1e-3);
        }
    }

    #[test]
    fn affine_recovers_a_shear_and_leaves_a_non_planar_point_as_residual() {
        let src = FIVE_POINTS;
        let m = [[1.1f32, 0.25, 4.0], [-0.15, 0.9, -3.0]];
        let warp = |p: [f32; 2]| {
            [
                m[0][0] * p[0] + m[0][1] * p[1] + m[0][2],
                m[1][0] * p[0] + m[1][1] * p[1] + m[1][2],
            ]
        };
        let dst = src.map(warp);
        let t = affine(&src, &dst).expect("non-degenerate");
        for (s, d) in src.iter().zip(dst.iter()) {
            let q = t.apply(*s);
            assert!((q[0] - d[0]).abs() < 1e-3 && (q[1] - d[1]).abs() < 1e-3);
        }
        // Move one point off the plane's motion: no affine map explains it any more.
        let mut bent = dst;
        bent[2][0] += 3.0;
        let t = affine(&src, &bent).unwrap();
        let worst = src
            .iter()
            .zip(bent.iter())
            .map(|(s, d)| {
                let q = t.apply(*s);
                ((q[0] - d[0]).powi(2) + (q[1] - d[1]).powi(2)).sqrt()
            })
            .fold(0f32, f32::max);
        assert!(worst > 1.0, "{worst}");
    }

    #[test]
    fn degenerate_points_give_none() {
        let p = [[5.0, 5.0]; 5];
        assert!(similarity(&p, &p).is_none());
        assert!(affine(&p, &p).is_none());
        let line = [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]];
        assert!(affine(&line, &line).is_none());
        assert!(affine(&line[..2], &line[..2]).is_none());
    }
}
