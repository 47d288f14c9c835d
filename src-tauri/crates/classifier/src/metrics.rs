//! Evaluation metrics: accuracy, macro-F1, within-one-level accuracy, the confusion matrix, and 95% bootstrap
//! intervals (percentile method, seeded) so that two methods' figures can be compared with their uncertainty.

use serde::{Deserialize, Serialize};

use crate::split::Rng;

/// Bootstrap resamples for the intervals: 1000 keeps the interval ends stable to about ±0.5 points.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct PerLevel {
    pub level: u32,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct Metrics {
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub within_one: f64,
    /// 95% bootstrap intervals [low, high].
    pub accuracy_ci: [f64; 2],
    pub macro_f1_ci: [f64; 2],
    pub within_one_ci: [f64; 2],
    /// The levels, in the order of the matrix rows (true) and columns (predicted).
    pub levels: Vec<u32>,
    pub confusion: Vec<Vec<usize>>,
    pub per_level: Vec<PerLevel>,
}

/// Point figures for true and predicted class indices (indices into `levels`).
fn point(truth: &[usize], pred: &[usize], k: usize) -> (f64, f64, f64, Vec<Vec<usize>>) {
    let mut confusion = vec![vec![0usize; k]; k];
    for (&t, &p) in truth.iter().zip(pred) {
        confusion[t][p] += 1;
    }
    let n = truth.len().max(1) as f64;
    let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
    let within: usize = truth.iter().zip(pred).filter(|(&t, &p)| t.abs_diff(p) <= 1).count();
    (correct as f64 / n, macro_f1(&confusion), within as f64 / n, confusion)
}

/// Macro-F1 over the levels that occur in the truth or the predictions (scikit-learn's default set), so a level
/// absent from a small test set neither helps nor hurts.
fn macro_f1(confusion: &[Vec<usize>]) -> f64 {
    let mut sum = 0.0;
    let mut used = 0;
    for (i, row) in confusion.iter().enumerate() {
        let tp = row[i] as f64;
        let support: usize = row.iter().sum();
        let predicted: usize = confusion.iter().map(|r| r[i]).sum();
        if support == 0 && predicted == 0 {
            continue;
        }
        used += 1;
        let denom = (support + predicted) as f64;
        sum += if denom > 0.0 { 2.0 * tp / denom } else { 0.0 };
    }
    if used == 0 {
        0.0
    } else {
        sum / used as f64
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// All metrics for class indices `truth` and `pred` over `levels`.
pub fn evaluate(levels: &[u32], truth: &[usize], pred: &[usize], seed: u64) -> Metrics {
    let k = levels.len();
    let (accuracy, macro_f1, within_one, confusion) = point(truth, pred, k);
    let mut rng = Rng::new(seed ^ 0xB007);
    let n = truth.len();
    let (mut accs, mut f1s, mut w1s) = (Vec::new(), Vec::new(), Vec::new());
    if n > 0 {
        let (mut t, mut p) = (vec![0; n], vec![0; n]);
        for _ in 0..BOOTSTRAP_RESAMPLES {
            for j in 0..n {
                let i = rng.below(n);
                t[j] = truth[i];
                p[j] = pred[i];
            }
            let (a, f, w, _) = point(&t, &p, k);
            accs.push(a);
            f1s.push(f);
            w1s.push(w);
        }
    }
    let ci = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        [percentile(v, 0.025), percentile(v, 0.975)]
    };
    let per_level = (0..k)
        .map(|i| {
            let tp = confusion[i][i] as f64;
            let support: usize = confusion[i].iter().sum();
            let predicted: usize = (0..k).map(|r| confusion[r][i]).sum();
            let precision = if predicted > 0 { tp / predicted as f64 } else { 0.0 };
            let recall = if support > 0 { tp / support as f64 } else { 0.0 };
            let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
            PerLevel { level: levels[i], precision, recall, f1, support }
        })
        .collect();
    Metrics {
        n,
        accuracy,
        macro_f1,
        within_one,
        accuracy_ci: ci(&mut accs),
        macro_f1_ci: ci(&mut f1s),
        within_one_ci: ci(&mut w1s),
        levels: levels.to_vec(),
        confusion,
        per_level,
    }
}

/// How well a tier's pass probability is predicted, on held-out folds.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct TierMetrics {
    pub tier: String,
    /// The share of tasks (trials) the tier passed.
    pub base_rate: f64,
    /// Area under the ROC curve of "the tier passes" (a pass fraction ≥ ½ counts as a pass).
    pub auc: f64,
    /// Mean squared error of the probability against the pass fraction.
    pub brier: f64,
    /// Expected calibration error over 10 bins of predicted probability.
    pub ece: f64,
}

/// The index of the largest probability (the first on ties).
/// A tier's held-out figures: `p` its predicted pass probabilities, `y` the observed pass fractions.
pub fn tier_metrics(tier: &str, p: &[f64], y: &[f64]) -> TierMetrics {
    let n = p.len().max(1) as f64;
    let brier = p.iter().zip(y).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / n;
    // 10 equal-width bins of predicted probability.
    let mut bins = vec![(0.0f64, 0.0f64, 0usize); 10];
    for (&a, &b) in p.iter().zip(y) {
        let i = ((a * 10.0) as usize).min(9);
        bins[i].0 += a;
        bins[i].1 += b;
        bins[i].2 += 1;
    }
    let ece = bins.iter().filter(|b| b.2 > 0).map(|b| (b.0 - b.1).abs() / n).sum();
    TierMetrics {
        tier: tier.to_owned(),
        base_rate: y.iter().sum::<f64>() / n,
        auc: auc(p, &y.iter().map(|&v| v >= 0.5).collect::<Vec<_>>()),
        brier,
        ece,
    }
}

/// Area under the ROC curve (the probability that a random positive outranks a random negative; ties half).
pub fn auc(score: &[f64], positive: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..score.len()).collect();
    idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    // Average ranks over ties.
    let mut rank = vec![0.0f64; score.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && score[idx[j + 1]] == score[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            rank[k] = r;
        }
        i = j + 1;
    }
    let pos = positive.iter().filter(|&&p| p).count() as f64;
    let neg = positive.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 0.5;
    }
    let sum: f64 = rank.iter().zip(positive).filter(|(_, &p)| p).map(|(r, _)| r).sum();
    (sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

pub fn argmax(p: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in p.iter().enumerate() {
        if v > p[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_brier_and_ece_of_a_tier() {
        assert_eq!(auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]), 0.75);
        assert_eq!(auc(&[0.5, 0.5], &[false, true]), 0.5);
        let m = tier_metrics("local", &[0.9, 0.1], &[1.0, 0.0]);
        assert!((m.brier - 0.01).abs() < 1e-12 && (m.ece - 0.1).abs() < 1e-12 && m.auc == 1.0, "{m:?}");
    }

    #[test]
    fn figures_match_a_hand_computed_example() {
        // truth 0 0 0 1 1 2, pred 0 0 1 1 2 0
        let m = evaluate(&[1, 2, 3], &[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 0], 0);
        assert_eq!(m.confusion, vec![vec![2, 1, 0], vec![0, 1, 1], vec![1, 0, 0]]);
        assert!((m.accuracy - 3.0 / 6.0).abs() < 1e-12);
        // within one: misses only the (2 -> 0) pair.
        assert!((m.within_one - 5.0 / 6.0).abs() < 1e-12);
        // F1: class0 2*2/(3+3)=0.667, class1 2*1/(2+2)=0.5, class2 0 -> mean 0.3889
        assert!((m.macro_f1 - (4.0 / 6.0 + 0.5) / 3.0).abs() < 1e-12, "{}", m.macro_f1);
        assert!(m.accuracy_ci[0] <= m.accuracy && m.accuracy <= m.accuracy_ci[1]);
        assert!(m.accuracy_ci[0] < m.accuracy_ci[1], "six examples leave real uncertainty");
    }

    #[test]
    fn a_perfect_prediction_has_a_degenerate_interval() {
        let m = evaluate(&[0, 1], &[0, 1, 1, 0], &[0, 1, 1, 0], 3);
        assert_eq!((m.accuracy, m.macro_f1, m.accuracy_ci), (1.0, 1.0, [1.0, 1.0]));
    }
}
