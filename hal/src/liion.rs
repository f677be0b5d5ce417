//! The Li-ion discharge curve: state of charge from a pack's terminal voltage and back.
//!
//! Backends that only measure a voltage (the INA219, the simulator) report a percentage
//! through [`percent_from_millivolts`]. The curve is piecewise linear over typical resting
//! voltages of one 3.6/3.7 V cell; a pack of `cells` cells in series is scaled per cell.
//! It is an estimate (load sag and temperature move it), good enough for a "battery low"
//! alert, which is all the daemon asks of it.

/// Resting voltage of one cell (mV) against state of charge (%), ascending in both.
/// The flat middle is why a few tens of millivolts matter there.
const CURVE: [(u32, u8); 14] = [
    (3300, 0),
    (3500, 4),
    (3600, 8),
    (3680, 13),
    (3730, 20),
    (3770, 30),
    (3800, 40),
    (3840, 50),
    (3880, 60),
    (3940, 70),
    (4000, 80),
    (4070, 90),
    (4120, 95),
    (4200, 100),
];

/// State of charge (0–100) of a pack of `cells` Li-ion cells in series at `millivolts`.
///
/// Piecewise linear between the points of a typical curve, rounded to the nearest percent,
/// clamped to 0 below the empty voltage and to 100 above the full one. Never decreases as
/// the voltage rises. `cells = 0` is treated as one cell, since a pack has at least one and a
/// bad configuration value must not turn into a division by zero.
pub fn percent_from_millivolts(millivolts: u32, cells: u8) -> u8 {
    let cells = u64::from(cells.max(1));
    let mv = u64::from(millivolts);
    let (first_mv, first_pct) = CURVE[0];
    if mv <= u64::from(first_mv) * cells {
        return first_pct;
    }
    for pair in CURVE.windows(2) {
        let [(v0, p0), (v1, p1)] = [pair[0], pair[1]];
        let (lo, hi) = (u64::from(v0) * cells, u64::from(v1) * cells);
        if mv <= hi {
            // Integer interpolation with rounding to nearest: p0 + (mv-lo)·(p1-p0)/(hi-lo).
            let span = hi - lo;
            let rise = u64::from(p1 - p0);
            let step = ((mv - lo) * rise * 2 + span) / (span * 2);
            // `step` is at most `rise`, so the sum stays within 0..=100.
            return p0 + u8::try_from(step).unwrap_or(p1 - p0);
        }
    }
    CURVE[CURVE.len() - 1].1
}

/// Resting voltage (mV) of a pack of `cells` cells at `percent` state of charge: the inverse
/// of [`percent_from_millivolts`], used by the simulated battery. `percent` is clamped to
/// 0–100 (NaN counts as 0); `cells = 0` is treated as one cell.
pub fn millivolts_from_percent(percent: f64, cells: u8) -> u32 {
    let cells = f64::from(cells.max(1));
    let pct = if percent.is_nan() {
        0.0
    } else {
        percent.clamp(0.0, 100.0)
    };
    let mut per_cell = f64::from(CURVE[CURVE.len() - 1].0);
    for pair in CURVE.windows(2) {
        let [(v0, p0), (v1, p1)] = [pair[0], pair[1]];
        if pct <= f64::from(p1) {
            let t = (pct - f64::from(p0)) / f64::from(p1 - p0);
            per_cell = f64::from(v0) + t * f64::from(v1 - v0);
            break;
        }
    }
    // At most 4200 mV × 255 cells, far inside u32; the cast cannot truncate.
    (per_cell * cells).round() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn curve_is_ascending() {
        for pair in CURVE.windows(2) {
            assert!(pair[0].0 < pair[1].0 && pair[0].1 < pair[1].1, "{pair:?}");
        }
    }

    #[test]
    fn known_points_of_one_cell() {
        assert_eq!(percent_from_millivolts(0, 1), 0);
        assert_eq!(percent_from_millivolts(3300, 1), 0);
        assert_eq!(percent_from_millivolts(3840, 1), 50);
        assert_eq!(percent_from_millivolts(4200, 1), 100);
        assert_eq!(percent_from_millivolts(5000, 1), 100);
        // Half-way between 4000 (80 %) and 4070 (90 %).
        assert_eq!(percent_from_millivolts(4035, 1), 85);
    }

    #[test]
    fn packs_scale_per_cell() {
        assert_eq!(percent_from_millivolts(7680, 2), 50);
        assert_eq!(percent_from_millivolts(12_600, 3), 100);
        assert_eq!(percent_from_millivolts(9900, 3), 0);
        assert_eq!(millivolts_from_percent(50.0, 2), 7680);
    }

    #[test]
    fn zero_cells_means_one() {
        assert_eq!(percent_from_millivolts(3840, 0), 50);
        assert_eq!(millivolts_from_percent(100.0, 0), 4200);
    }

    #[test]
    fn inverse_clamps_and_ignores_nan() {
        assert_eq!(millivolts_from_percent(-5.0, 1), 3300);
        assert_eq!(millivolts_from_percent(f64::NAN, 1), 3300);
        assert_eq!(millivolts_from_percent(250.0, 1), 4200);
    }

    proptest! {
        #[test]
        fn monotonic_in_voltage(a in any::<u32>(), b in any::<u32>(), cells in any::<u8>()) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(percent_from_millivolts(lo, cells) <= percent_from_millivolts(hi, cells));
        }

        #[test]
        fn clamped_to_percent(mv in any::<u32>(), cells in any::<u8>()) {
            prop_assert!(percent_from_millivolts(mv, cells) <= 100);
        }

        #[test]
        fn full_and_empty_at_the_ends(cells in 1u8..=12) {
            let c = u32::from(cells);
            prop_assert_eq!(percent_from_millivolts(3300 * c, cells), 0);
            prop_assert_eq!(percent_from_millivolts(4200 * c, cells), 100);
        }

        #[test]
        fn inverse_round_trips(pct in 0u8..=100, cells in 1u8..=8) {
            let mv = millivolts_from_percent(f64::from(pct), cells);
            let back = percent_from_millivolts(mv, cells);
            prop_assert!(back.abs_diff(pct) <= 1, "{pct} % → {mv} mV → {back} %");
        }

        #[test]
        fn inverse_is_monotonic(a in -10.0f64..110.0, b in -10.0f64..110.0, cells in 1u8..=8) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(millivolts_from_percent(lo, cells) <= millivolts_from_percent(hi, cells));
        }
    }
}
