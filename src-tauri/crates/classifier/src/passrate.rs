//! The per-tier pass probability model (`--method pass`): for each tier of a label run, the probability that its
//! answer to a prompt passes the tests. What the cost dial routes on, and what the data supports: from MBPP's
//! prompts, whether the local tier passes is predictable (held-out AUC ≈ 0.7), whether the top tier passes where
//! the mid one failed is barely so — so a model of each tier's success, not of a single "level", is what lets the
//! router spend the top tier only where it is expected to pay.
//!
//! Each tier's probability is the mean of two logistic regressions (an ensemble is steadier on small sets): one on
//! every feature of the prompt (description, asserts, entry point name, counts; see [`crate::features`]), one on
//! the description alone (what a prompt without tests has). Then Platt scaling, fitted on held-out predictions,
//! puts the tiers on one scale. Targets are pass fractions (trials passed / trials), so M > 1 trials are soft
//! targets. No class weighting: the router needs probabilities, not balanced guesses.
//!
//! The level is still derived, by the paper's rule applied to the distribution of pass counts the probabilities
//! imply (each tier's count binomial over the run's trials), so the paper's view of a prompt stays available.

use serde::{Deserialize, Serialize};

use complexitynet_router::label::{Label, Rule};

use crate::features::{Blocks, Featurizer, PromptParts};
use crate::logistic::{Logistic, Platt, Sparse};

/// The two members of each tier's ensemble: (features, regularisation C).
const MEMBERS: [(Blocks, f32); 2] = [(Blocks::All, 0.3), (Blocks::Description, 1.0)];
const ITERATIONS: usize = 400;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PassModel {
    pub featurizers: Vec<Featurizer>,
    /// [member][tier]
    pub models: Vec<Vec<Logistic>>,
    /// Per tier: the held-out calibration of the ensemble's logit.
    pub calibration: Vec<Platt>,
    /// The label run's trials per tier and task, for the derived level.
    pub trials: u32,
}

fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

/// One training example: the prompt as the router would see it, and each tier's pass fraction (NaN where the
/// tier never tried it).
pub struct Sample<'a> {
    pub prompt: &'a str,
    pub pass: Vec<f32>,
}

impl PassModel {
    /// Fits the per-tier models (uncalibrated; see [`PassModel::calibrate`]).
    pub fn fit(samples: &[Sample], tiers: usize, trials: u32) -> PassModel {
        let parts: Vec<PromptParts> = samples.iter().map(|s| PromptParts::of(s.prompt)).collect();
        let mut featurizers = Vec::new();
        let mut models = Vec::new();
        for (blocks, c) in MEMBERS {
            let f = Featurizer::fit(&parts, blocks);
            let xs: Vec<Sparse> = parts.iter().map(|p| f.vector(p)).collect();
            let per_tier = (0..tiers)
                .map(|k| {
                    // NaN: the tier never tried the task (a chat answered on another tier); it is left out.
                    let (xk, yk): (Vec<Sparse>, Vec<f32>) = xs
                        .iter()
                        .zip(samples)
                        .filter(|(_, s)| !s.pass[k].is_nan())
                        .map(|(x, s)| (x.clone(), s.pass[k]))
                        .unzip();
                    Logistic::fit(&xk, &yk, f.dim(), c, ITERATIONS)
                })
                .collect();
            featurizers.push(f);
            models.push(per_tier);
        }
        PassModel { featurizers, models, calibration: vec![Platt::default(); tiers], trials: trials.max(1) }
    }

    /// The ensemble's logit per tier, before calibration.
    pub fn raw_logits(&self, prompt: &str) -> Vec<f32> {
        let p = PromptParts::of(prompt);
        let tiers = self.calibration.len();
        let mut mean = vec![0.0f32; tiers];
        for (f, models) in self.featurizers.iter().zip(&self.models) {
            let x = f.vector(&p);
            for (k, m) in models.iter().enumerate() {
                mean[k] += m.predict(&x) / self.models.len() as f32;
            }
        }
        mean.into_iter().map(logit).collect()
    }

    /// Each tier's calibrated probability of passing.
    pub fn predict(&self, prompt: &str) -> Vec<f32> {
        self.raw_logits(prompt).iter().zip(&self.calibration).map(|(&z, c)| c.apply(z)).collect()
    }

    pub fn calibrate(&mut self, calibration: Vec<Platt>) {
        self.calibration = calibration;
    }
}

/// The probability of each level (in `levels` order) that per-tier pass probabilities imply under `rule`:
/// each tier's pass count over `trials` is binomial and independent of the others; the counts that the rule
/// drops (no tier passed) are left out and the rest renormalised. With one trial this is exact enumeration of
/// 2^K outcomes; with five, 6^K — small for the K ≤ 4 tiers of a label run.
pub fn level_distribution(rule: &Rule, levels: &[u32], pass: &[f32], trials: u32) -> Vec<f32> {
    let k = pass.len();
    let m = trials.max(1) as usize;
    let binom = |n: usize, r: usize| -> f64 { (0..r).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64) };
    // Per tier, the probability of each count 0..=m.
    let per: Vec<Vec<f64>> = pass
        .iter()
        .map(|&p| {
            let p = p.clamp(0.0, 1.0) as f64;
            (0..=m).map(|c| binom(m, c) * p.powi(c as i32) * (1.0 - p).powi((m - c) as i32)).collect()
        })
        .collect();
    let mut out = vec![0.0f64; levels.len()];
    let mut counts = vec![0u32; k];
    let total = (m + 1).pow(k as u32);
    for code in 0..total {
        let mut c = code;
        let mut prob = 1.0;
        for (t, per_t) in per.iter().enumerate() {
            counts[t] = (c % (m + 1)) as u32;
            prob *= per_t[c % (m + 1)];
            c /= m + 1;
        }
        if prob == 0.0 {
            continue;
        }
        if let Ok(Label::Level(l)) = rule.label(&counts) {
            if let Some(i) = levels.iter().position(|&x| x == l) {
                out[i] += prob;
            }
        }
    }
    let s: f64 = out.iter().sum();
    if s <= 0.0 {
        // Every outcome is "dropped" (no tier can pass): the hardest level.
        let mut v = vec![0.0; levels.len()];
        if let Some(last) = v.last_mut() {
            *last = 1.0;
        }
        return v;
    }
    out.into_iter().map(|x| (x / s) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_follows_from_the_tiers_pass_probabilities() {
        // single3: level 0 when the local tier passes, 1 when it fails and mid or top passes, 2 when only top.
        let d = level_distribution(&Rule::Single3, &[0, 1, 2], &[0.9, 0.9, 0.9], 1);
        assert!(d[0] > 0.89 && (d.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{d:?}");
        let d = level_distribution(&Rule::Single3, &[0, 1, 2], &[0.0, 0.0, 1.0], 1);
        assert_eq!(d, vec![0.0, 0.0, 1.0]);
        let d = level_distribution(&Rule::Single3, &[0, 1, 2], &[0.0, 0.0, 0.0], 1);
        assert_eq!(d, vec![0.0, 0.0, 1.0], "hopeless: the hardest level");
        // paper5 with five trials: a sure local pass is level 1.
        let d = level_distribution(&Rule::Paper5 { trials: 5 }, &[1, 2, 3, 4, 5], &[1.0, 1.0, 1.0], 5);
        assert!(d[0] > 0.999, "{d:?}");
    }

    #[test]
    fn the_model_learns_which_prompts_a_tier_passes() {
        let mut samples = Vec::new();
        let easy = ["add two numbers", "reverse a string", "sum a list", "find the max of a list"];
        let hard = [
            "longest common subsequence with dynamic programming",
            "edit distance with dynamic programming",
            "minimum cost path with dynamic programming",
            "count partitions with dynamic programming",
        ];
        for round in 0..5 {
            for e in easy {
                samples.push((format!("Write a function to {e} ({round})."), vec![1.0, 1.0, 1.0]));
            }
            for h in hard {
                samples.push((format!("Write a function to {h} ({round})."), vec![0.0, 0.6, 1.0]));
            }
        }
        let s: Vec<Sample> = samples.iter().map(|(p, y)| Sample { prompt: p, pass: y.clone() }).collect();
        let m = PassModel::fit(&s, 3, 5);
        let easy_p = m.predict("Write a function to add three numbers.");
        let hard_p = m.predict("Solve knapsack with dynamic programming.");
        assert!(easy_p[0] > hard_p[0] + 0.2, "{easy_p:?} vs {hard_p:?}");
        assert!(hard_p[2] > hard_p[0], "{hard_p:?}");
    }
}
