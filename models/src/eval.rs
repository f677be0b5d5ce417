//! Verification metrics from genuine and impostor scores: ROC AUC, EER, TAR at fixed FAR,
//! and a suggested threshold.

use serde::Serialize;

/// A verification report over one set of pairs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VerificationReport {
    pub genuine_pairs: usize,
    pub impostor_pairs: usize,
    pub roc_auc: f64,
    pub eer: f64,
    /// True accept rate at a false accept rate of 1e-2 and 1e-3.
    pub tar_at_far_1e2: f64,
    pub tar_at_far_1e3: f64,
    pub min_genuine: f32,
    pub max_impostor: f32,
    /// Lowest threshold whose FAR on these pairs is at most 1e-3 (above every impostor
    /// when there are fewer than 1000).
    pub suggested_threshold: f32,
}

/// Threshold at which at most `far` of the impostor scores are accepted (`score >= t`).
fn threshold_at_far(impostor_desc: &[f32], far: f64) -> f32 {
    let allowed = (far * impostor_desc.len() as f64).floor() as usize;
    match impostor_desc.get(allowed) {
        // Just above the first impostor that must be refused.
        Some(s) => next_up(*s),
        None => f32::NEG_INFINITY,
    }
}

fn next_up(x: f32) -> f32 {
    if x.is_nan() || x == f32::INFINITY {
        return x;
    }
    let bits = x.to_bits();
    let next = if x == 0.0 {
        1
    } else if x > 0.0 {
        bits + 1
    } else {
        bits - 1
    };
    f32::from_bits(next)
}

fn rate_at_or_above(sorted_asc: &[f32], t: f32) -> f64 {
    if sorted_asc.is_empty() {
        return 0.0;
    }
    let below = sorted_asc.partition_point(|s| *s < t);
    (sorted_asc.len() - below) as f64 / sorted_asc.len() as f64
}

/// Computes the report. Non-finite scores are dropped.
pub fn verification_report(genuine: &[f32], impostor: &[f32]) -> VerificationReport {
    let mut g: Vec<f32> = genuine.iter().copied().filter(|s| s.is_finite()).collect();
    let mut i: Vec<f32> = impostor.iter().copied().filter(|s| s.is_finite()).collect();
    g.sort_by(f32::total_cmp);
    i.sort_by(f32::total_cmp);
    // AUC = P(genuine > impostor) + ½ P(equal), by a merge over the sorted lists.
    let mut auc = 0.0;
    if !g.is_empty() && !i.is_empty() {
        let mut wins = 0.0;
        for s in &g {
            let lt = i.partition_point(|x| x < s) as f64;
            let le = i.partition_point(|x| x <= s) as f64;
            wins += lt + 0.5 * (le - lt);
        }
        auc = wins / (g.len() as f64 * i.len() as f64);
    }
    // EER: sweep every score as a threshold, take where FAR and FRR cross.
    let mut eer = 1.0f64;
    let mut best_gap = f64::INFINITY;
    for &t in g.iter().chain(i.iter()) {
        let far = rate_at_or_above(&i, t);
        let frr = 1.0 - rate_at_or_above(&g, t);
        if (far - frr).abs() < best_gap {
            best_gap = (far - frr).abs();
            eer = (far + frr) / 2.0;
        }
    }
    let i_desc: Vec<f32> = i.iter().rev().copied().collect();
    let t2 = threshold_at_far(&i_desc, 1e-2);
    let t3 = threshold_at_far(&i_desc, 1e-3);
    VerificationReport {
        genuine_pairs: g.len(),
        impostor_pairs: i.len(),
        roc_auc: auc,
        eer,
        tar_at_far_1e2: rate_at_or_above(&g, t2),
        tar_at_far_1e3: rate_at_or_above(&g, t3),
        min_genuine: g.first().copied().unwrap_or(f32::NAN),
        max_impostor: i.last().copied().unwrap_or(f32::NAN),
        suggested_threshold: t3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separated_scores_are_perfect() {
        let r = verification_report(&[0.8, 0.9, 0.7], &[0.1, 0.2, 0.3, 0.4]);
        assert_eq!(r.roc_auc, 1.0);
        assert_eq!(r.eer, 0.0);
        assert_eq!(r.tar_at_far_1e3, 1.0);
        assert!(r.suggested_threshold > 0.4 && r.suggested_threshold < 0.41);
    }

    #[test]
    fn identical_scores_are_chance() {
        let r = verification_report(&[0.5, 0.5], &[0.5, 0.5]);
        assert!((r.roc_auc - 0.5).abs() < 1e-9);
    }
}
