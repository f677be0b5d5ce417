//! The seed's arithmetic as pure functions: an achievement's percentage against its target
//! by the indicator's polarity, and an evaluation's overall score and grade.

use rust_decimal::{Decimal, RoundingStrategy};

/// How an indicator is read (`polarity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    HigherBetter,
    LowerBetter,
    TargetBased,
}

impl Polarity {
    pub const NAMES: &'static [&'static str] = &["higher_better", "lower_better", "target_based"];

    pub fn parse(raw: &str) -> Option<Polarity> {
        match raw {
            "higher_better" => Some(Polarity::HigherBetter),
            "lower_better" => Some(Polarity::LowerBetter),
            "target_based" => Some(Polarity::TargetBased),
            _ => None,
        }
    }
}

/// Why an achievement has no percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoPercentage {
    NoTarget,
    ZeroTarget,
}

impl NoPercentage {
    /// The wire reason (`percentage_note`).
    pub fn as_str(self) -> &'static str {
        match self {
            NoPercentage::NoTarget => "no_target",
            NoPercentage::ZeroTarget => "zero_target",
        }
    }
}

/// The achievement `real` against `target`: `higher_better` R/T×100, `lower_better`
/// (2T−R)/T×100, `target_based` 100−|R−T|/T×100; floored at 0, rounded half away from zero
/// to exactly 2 decimals.
pub fn percentage(
    polarity: Polarity,
    target: Option<Decimal>,
    real: Decimal,
) -> Result<Decimal, NoPercentage> {
    let target = target.ok_or(NoPercentage::NoTarget)?;
    if target.is_zero() {
        return Err(NoPercentage::ZeroTarget);
    }
    let hundred = Decimal::ONE_HUNDRED;
    let raw = match polarity {
        Polarity::HigherBetter => real.checked_div(target),
        Polarity::LowerBetter => (target + target - real).checked_div(target),
        Polarity::TargetBased => (real - target)
            .abs()
            .checked_div(target.abs())
            .map(|d| Decimal::ONE - d),
    };
    let value = raw
        .and_then(|r| r.checked_mul(hundred))
        .unwrap_or(Decimal::MAX);
    Ok(two_places(value.max(Decimal::ZERO)))
}

/// `value` rounded half away from zero to exactly 2 decimals (`50.00`, never `50` or
/// `50.0`): every percentage and amount on the wire has this one shape.
pub fn two_places(value: Decimal) -> Decimal {
    let mut out = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    out.rescale(2);
    out
}

/// The four SAKIP components and their weights (sum 100).
pub const COMPONENTS: [(&str, u32); 4] = [
    ("perencanaan_kinerja", 30),
    ("pengukuran_kinerja", 30),
    ("pelaporan_kinerja", 15),
    ("evaluasi_akuntabilitas_kinerja_internal", 25),
];

/// Σ weight × score / 100 over the components, rounded to 2 decimals.
pub fn overall_score(scores: &[Decimal; 4]) -> Decimal {
    COMPONENTS
        .iter()
        .zip(scores)
        .map(|((_, w), s)| Decimal::from(*w) * s)
        .sum::<Decimal>()
        .checked_div(Decimal::ONE_HUNDRED)
        .map(two_places)
        .unwrap_or_default()
}

/// The grade of a score: AA > 90, A > 80, BB > 70, B > 60, CC > 50, C > 30, D otherwise (a
/// score on a boundary takes the lower grade).
pub fn grade(score: Decimal) -> &'static str {
    const BANDS: [(i64, &str); 6] = [
        (90, "AA"),
        (80, "A"),
        (70, "BB"),
        (60, "B"),
        (50, "CC"),
        (30, "C"),
    ];
    BANDS
        .iter()
        .find(|(floor, _)| score > Decimal::from(*floor))
        .map_or("D", |(_, g)| g)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn dec(cents: i64) -> Decimal {
        Decimal::new(cents, 2)
    }

    #[test]
    fn examples() {
        let p = |pol, t, r| percentage(pol, Some(dec(t)), dec(r));
        assert_eq!(p(Polarity::HigherBetter, 8000, 9000), Ok(dec(11250)));
        assert_eq!(p(Polarity::LowerBetter, 1000, 800), Ok(dec(12000)));
        assert_eq!(p(Polarity::LowerBetter, 1000, 2500), Ok(Decimal::ZERO));
        assert_eq!(p(Polarity::TargetBased, 10000, 9000), Ok(dec(9000)));
        assert_eq!(p(Polarity::TargetBased, 10000, 11000), Ok(dec(9000)));
        assert_eq!(p(Polarity::HigherBetter, 300, 100), Ok(dec(3333)));
        assert_eq!(p(Polarity::HigherBetter, 300, 200), Ok(dec(6667)));
        assert_eq!(
            percentage(Polarity::HigherBetter, None, dec(1)),
            Err(NoPercentage::NoTarget)
        );
        assert_eq!(
            p(Polarity::TargetBased, 0, 5),
            Err(NoPercentage::ZeroTarget)
        );
        assert_eq!(grade(dec(9000)), "A");
        assert_eq!(grade(dec(9001)), "AA");
        assert_eq!(grade(dec(3000)), "D");
        assert_eq!(grade(dec(3001)), "C");
        assert_eq!(overall_score(&[dec(10000); 4]), dec(10000));
    }

    proptest! {
        #[test]
        fn percentage_is_floored_rounded_and_exact(t in 1i64..10_000_000, r in 0i64..10_000_000, pol in 0usize..3) {
            let polarity = [Polarity::HigherBetter, Polarity::LowerBetter, Polarity::TargetBased][pol];
            let (t, r) = (dec(t), dec(r));
            let p = percentage(polarity, Some(t), r).unwrap();
            prop_assert!(p >= Decimal::ZERO);
            prop_assert_eq!(p.scale(), 2);
            let exact = match polarity {
                Polarity::HigherBetter => r / t * Decimal::ONE_HUNDRED,
                Polarity::LowerBetter => (t + t - r) / t * Decimal::ONE_HUNDRED,
                Polarity::TargetBased => Decimal::ONE_HUNDRED - (r - t).abs() / t * Decimal::ONE_HUNDRED,
            };
            let expected = exact.max(Decimal::ZERO);
            prop_assert!((p - expected).abs() <= dec(1) / Decimal::TWO + Decimal::new(1, 20));
            if polarity == Polarity::HigherBetter && r >= t { prop_assert!(p >= Decimal::ONE_HUNDRED); }
            if polarity == Polarity::TargetBased { prop_assert!(p <= Decimal::ONE_HUNDRED); }
            if r == t { prop_assert_eq!(p, Decimal::ONE_HUNDRED); }
        }

        #[test]
        fn higher_better_grows_with_achievement(t in 1i64..1_000_000, r in 0i64..1_000_000, d in 0i64..1_000_000) {
            let a = percentage(Polarity::HigherBetter, Some(dec(t)), dec(r)).unwrap();
            let b = percentage(Polarity::HigherBetter, Some(dec(t)), dec(r + d)).unwrap();
            let lower = percentage(Polarity::LowerBetter, Some(dec(t)), dec(r + d)).unwrap();
            let lower0 = percentage(Polarity::LowerBetter, Some(dec(t)), dec(r)).unwrap();
            prop_assert!(b >= a);
            prop_assert!(lower <= lower0);
        }

        #[test]
        fn grade_bands(cents in 0i64..=10_000) {
            let score = dec(cents);
            let g = grade(score);
            let expected = if cents > 9000 { "AA" } else if cents > 8000 { "A" } else if cents > 7000 { "BB" }
                else if cents > 6000 { "B" } else if cents > 5000 { "CC" } else if cents > 3000 { "C" } else { "D" };
            prop_assert_eq!(g, expected);
        }

        #[test]
        fn overall_is_weighted_mean(s in proptest::array::uniform4(0i64..=10_000)) {
            let scores = s.map(dec);
            let o = overall_score(&scores);
            prop_assert!(o >= Decimal::ZERO && o <= Decimal::ONE_HUNDRED);
            let min = scores.iter().min().copied().unwrap();
            let max = scores.iter().max().copied().unwrap();
            prop_assert!(o >= min && o <= max);
        }
    }
}
