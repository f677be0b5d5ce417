//! Quality gate: refuses faces too small, too blurred, too far from frontal, or cut off by
//! the frame, and says why.

use crate::detect::Detection;

/// Why a face was not used for recognition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QualityIssue {
    #[error("face too small: eyes {eye_distance:.0} px apart, at least {min:.0} needed")]
    TooSmall { eye_distance: f32, min: f32 },
    #[error("face not frontal enough: {axis} {value:.2} is beyond {limit:.2}")]
    Pose {
        axis: &'static str,
        value: f32,
        limit: f32,
    },
    #[error("face too blurred: sharpness {sharpness:.1} below {min:.1}")]
    Blurry { sharpness: f32, min: f32 },
    #[error("face partly outside the image")]
    Partial,
}

/// Thresholds of the quality gate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityConfig {
    /// Minimum distance between the eyes, in image pixels.
    pub min_eye_distance: f32,
    /// Largest |yaw ratio|: the nose's offset along the eye line from the eyes' midpoint,
    /// over the eye distance (0 when frontal, about 0.5 in profile).
    pub max_yaw: f32,
    /// Allowed range of the pitch ratio: the nose's depth below the eye line over the
    /// mouth's (0.49 in the template).
    pub pitch_range: (f32, f32),
    /// Largest in-plane rotation in degrees (alignment undoes it, but large roll hints at
    /// a bad detection).
    pub max_roll_degrees: f32,
    /// Minimum variance of the Laplacian of the aligned grey crop (0..255 scale).
    pub min_sharpness: f32,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            min_eye_distance: 18.0,
            max_yaw: 0.3,
            pitch_range: (0.25, 0.75),
            max_roll_degrees: 35.0,
            min_sharpness: 12.0,
        }
    }
}

/// Pose ratios estimated from the five landmarks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    pub yaw: f32,
    pub pitch: f32,
    pub roll_degrees: f32,
}

/// Estimates yaw and pitch ratios and roll from landmarks (left eye, right eye, nose,
/// mouth corners).
pub fn pose(landmarks: &[[f32; 2]; 5]) -> Pose {
    let [l, r, nose, ml, mr] = *landmarks;
    let ex = r[0] - l[0];
    let ey = r[1] - l[1];
    let d = (ex * ex + ey * ey).sqrt().max(1e-6);
    let (ux, uy) = (ex / d, ey / d);
    let mid = [(l[0] + r[0]) / 2.0, (l[1] + r[1]) / 2.0];
    let mouth = [(ml[0] + mr[0]) / 2.0, (ml[1] + mr[1]) / 2.0];
    let along = |p: [f32; 2]| (p[0] - mid[0]) * ux + (p[1] - mid[1]) * uy;
    let across = |p: [f32; 2]| -(p[0] - mid[0]) * uy + (p[1] - mid[1]) * ux;
    let mouth_depth = across(mouth);
    Pose {
        yaw: along(nose) / d,
        pitch: if mouth_depth.abs() > 1e-6 {
            across(nose) / mouth_depth
        } else {
            f32::NAN
        },
        roll_degrees: ey.atan2(ex).to_degrees(),
    }
}

/// Checks size, frame and pose from the detection alone (before any crop is made).
pub fn check_geometry(
    det: &Detection,
    width: u32,
    height: u32,
    cfg: &QualityConfig,
) -> Result<(), QualityIssue> {
    let eye_distance = det.eye_distance();
    if !(eye_distance >= cfg.min_eye_distance) {
        return Err(QualityIssue::TooSmall {
            eye_distance,
            min: cfg.min_eye_distance,
        });
    }
    let margin = eye_distance * 0.1;
    let inside = det.landmarks.iter().all(|p| {
        p[0] >= -margin
            && p[1] >= -margin
            && p[0] <= width as f32 + margin
            && p[1] <= height as f32 + margin
    });
    if !inside {
        return Err(QualityIssue::Partial);
    }
    let p = pose(&det.landmarks);
    if !(p.yaw.abs() <= cfg.max_yaw) {
        return Err(QualityIssue::Pose {
            axis: "yaw",
            value: p.yaw,
            limit: cfg.max_yaw,
        });
    }
    if !(p.pitch >= cfg.pitch_range.0 && p.pitch <= cfg.pitch_range.1) {
        let limit = if p.pitch < cfg.pitch_range.0 {
            cfg.pitch_range.0
        } else {
            cfg.pitch_range.1
        };
        return Err(QualityIssue::Pose {
            axis: "pitch",
            value: p.pitch,
            limit,
        });
    }
    if !(p.roll_degrees.abs() <= cfg.max_roll_degrees) {
        return Err(QualityIssue::Pose {
            axis: "roll",
            value: p.roll_degrees,
            limit: cfg.max_roll_degrees,
        });
    }
    Ok(())
}

/// Variance of the 4-neighbour Laplacian of the grey image (row-major, `w × h`).
pub fn sharpness(pixels: &[[f32; 3]], w: usize, h: usize) -> f32 {
    if w < 3 || h < 3 || pixels.len() < w * h {
        return 0.0;
    }
    let grey: Vec<f32> = pixels
        .iter()
        .map(|p| 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2])
        .collect();
    let (mut sum, mut sum2, mut n) = (0f64, 0f64, 0f64);
    // The centre half of the crop: the face, not the background or the black border.
    for y in (h / 4).max(1)..(3 * h / 4).min(h - 1) {
        for x in (w / 4).max(1)..(3 * w / 4).min(w - 1) {
            let i = y * w + x;
            let lap =
                f64::from(grey[i - 1] + grey[i + 1] + grey[i - w] + grey[i + w] - 4.0 * grey[i]);
            sum += lap;
            sum2 += lap * lap;
            n += 1.0;
        }
    }
    if n == 0.0 {
        return 0.0;
    }
    let mean = sum / n;
    (sum2 / n - mean * mean) as f32
}
