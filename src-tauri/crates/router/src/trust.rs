//! What a pass is worth: the chance that an answer which passed a prompt's checks is right, from how many checks
//! it passed and how strong the tier's model is. The verified cascade says it with every verified answer, and
//! takes a pass as proof only at or above a bar ([`DEFAULT_TRUST`]); below it, it climbs and keeps the passing
//! answer in case nothing above does better.
//!
//! Measured (`scripts/bench-trust.py`, BENCHMARKS.md) on MBPP+ with models and tasks held out: a pass on one
//! check is worth 0.76 from the weaker half of models and 0.80 from the stronger, on three 0.83 and 0.84. Every
//! one of those beats what climbing buys (the top tier's answer is right 62% of the time before it is checked),
//! so the bar chosen on the training folds takes every pass; it is there for tiers and checks where the figures
//! say otherwise.
//!
//! The model is a logistic fit, `logit P(right) = B0 + B1 * logit(rate) + C[k]`, with `rate` the tier's pass rate
//! (what is known of its model: the user's own outcomes, a calibration or the published figure) and `k` the
//! number of checks the answer passed (three or more share the last term). Checks of every kind count alike: the
//! data it is learned from has asserts only.

use serde::Serialize;

/// Intercept, slope on the tier's rate (logits) and the terms for one and for two checks; three or more: 0.
/// Fitted by `scripts/bench-trust.py` on all 49 models' MBPP+ outcomes and the paper's per-assert results (the
/// mean over its 25 held-out folds agrees to the third decimal).
const B0: f64 = 1.4900;
const B1: f64 = 0.1978;
const C1: f64 = -0.3292;
const C2: f64 = -0.1146;

/// The trust a pass needs to end the cascade, chosen on the benchmark's training folds (the cheapest bar within a
/// point of always-top): 0.5, a pass is taken when its answer is more likely right than not — which every pass
/// is. Measured with models and tasks held out, a higher bar costs more and buys nothing: climbing past a pass
/// trusted at 0.76 reaches a top tier whose *unverified* answer is right 62% of the time, and whose verified pass
/// is worth 0.84 (bar 0.80: 64.6% at 57% of always-top's cost, against 65.1% at 31% with every pass taken).
pub const DEFAULT_TRUST: f64 = 0.5;

/// P(right | passed `checks` checks) for a tier whose model passes `rate` of tasks.
pub fn pass_trust(checks: usize, rate: f64) -> f64 {
    let r = rate.clamp(1e-4, 1.0 - 1e-4);
    let c = match checks {
        0 => return 0.0, // nothing was checked
        1 => C1,
        2 => C2,
        _ => 0.0,
    };
    let z = B0 + B1 * (r / (1.0 - r)).ln() + c;
    1.0 / (1.0 + (-z).exp())
}

/// Where the cascade starts and what it will accept, for tiers in order (cheapest first), each with the pass
/// rate known of its model (None: nothing is known, and its pass is taken as is).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrustPlan {
    /// The index of the first tier worth asking: a tier below it could not be trusted even if it passed.
    pub start: usize,
    /// Per tier: the trust a pass from it would earn (None: unknown model), and whether that is enough.
    pub trust: Vec<Option<f64>>,
    pub accepts: Vec<bool>,
    /// In words, for the decision's reason: "verified on 2 examples, weak for local (0.61 < 0.80): started at mid".
    pub why: Option<String>,
}

/// Plans the cascade over `tiers` (name, known rate) for a prompt with `checks` checks. The last tier always
/// accepts: nothing above it could do better.
pub fn plan(tiers: &[(&str, Option<f64>)], checks: usize, threshold: f64) -> TrustPlan {
    let trust: Vec<Option<f64>> = tiers.iter().map(|(_, rate)| rate.map(|r| pass_trust(checks, r))).collect();
    let last = tiers.len().saturating_sub(1);
    let accepts: Vec<bool> =
        trust.iter().enumerate().map(|(i, t)| i == last || t.is_none_or(|t| t >= threshold)).collect();
    let start = accepts.iter().position(|a| *a).unwrap_or(0);
    let examples = if checks == 1 { "1 example".to_string() } else { format!("{checks} examples") };
    let why = (start > 0).then(|| {
        let weak: Vec<String> =
            (0..start).map(|i| format!("{} ({:.2} < {threshold:.2})", tiers[i].0, trust[i].unwrap_or(0.0))).collect();
        format!("verified on {examples}, weak for {}: started at {}", weak.join(", "), tiers[start].0)
    });
    TrustPlan { start, trust, accepts, why }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_checks_and_a_stronger_model_earn_more_trust() {
        for rate in [0.3, 0.5, 0.7, 0.9] {
            assert!(pass_trust(1, rate) <= pass_trust(2, rate) && pass_trust(2, rate) <= pass_trust(3, rate));
            assert_eq!(pass_trust(3, rate), pass_trust(7, rate));
            assert_eq!(pass_trust(0, rate), 0.0);
        }
        for k in 1..=3 {
            assert!(pass_trust(k, 0.3) <= pass_trust(k, 0.8), "k = {k}");
        }
    }

    #[test]
    fn the_shipped_model_gives_the_held_out_precision_of_a_pass() {
        // BENCHMARKS.md, "What a pass is worth": weaker half of models (MBPP rates about 0.40-0.62) 0.760 on one
        // check; stronger half (about 0.62-0.86) 0.840 on three.
        assert!((pass_trust(1, 0.5) - 0.760).abs() < 0.01, "{}", pass_trust(1, 0.5));
        assert!((pass_trust(3, 0.75) - 0.840).abs() < 0.01, "{}", pass_trust(3, 0.75));
        // Every pass clears the shipped bar, which the benchmark chose.
        assert!(pass_trust(1, 0.05) > DEFAULT_TRUST);
    }

    #[test]
    fn a_weak_tier_on_one_example_is_skipped_and_the_plan_says_why() {
        let tiers = [("local", Some(0.3)), ("mid", Some(0.6)), ("top", Some(0.8))];
        let threshold = pass_trust(1, 0.6) - 1e-9;
        let p = plan(&tiers, 1, threshold);
        assert_eq!(p.start, 1);
        assert_eq!(p.accepts, vec![false, true, true]);
        let why = p.why.unwrap();
        assert!(why.starts_with("verified on 1 example, weak for local (0."), "{why}");
        assert!(why.ends_with("started at mid"), "{why}");
        // An unknown model's pass is taken as is; the last tier always accepts.
        let p = plan(&[("local", None), ("top", Some(0.01))], 1, 0.99);
        assert_eq!((p.start, p.accepts, p.why), (0, vec![true, true], None));
        // Nothing weak: start at the cheapest.
        assert_eq!(plan(&tiers, 3, 0.0).start, 0);
    }
}
