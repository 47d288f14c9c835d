//! The budget: the hull of the fixed tiers (the one hull function, and its inverse), the mix of two neighbouring
//! tiers a budget buys, and a controller on realized spend that keeps the mix on budget prompt by prompt.

use serde::{Deserialize, Serialize};

use crate::policy::Policy;

/// A tier as the budget sees it: its cost relative to the top tier's, and its expected pass rate on a typical
/// prompt when that is known (from its model's ability), else None.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TierProfile {
    pub cost: f64,
    pub rate: Option<f64>,
}

/// The upper hull of points `[cost, pass rate]`: the indices of its vertices, cheapest first. A point that costs
/// more and passes no more than a cheaper one, or lies on or under the line between its neighbours, is not on it
/// — what mixing the points at random cannot beat. The one hull of the workspace: routing's budget mix, the
/// evaluation's baseline and the calibration report all use it.
pub fn upper_hull(points: &[[f64; 2]]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        points[a][0].total_cmp(&points[b][0]).then(points[b][1].total_cmp(&points[a][1])).then(a.cmp(&b))
    });
    let mut h: Vec<usize> = Vec::new();
    for i in order {
        let p = points[i];
        if h.last().is_some_and(|&l| p[1] <= points[l][1]) {
            continue; // costs more, passes no more
        }
        while h.len() >= 2 {
            let (a, b) = (points[h[h.len() - 2]], points[h[h.len() - 1]]);
            // Drop b when it lies on or under the segment a–p.
            if (b[1] - a[1]) * (p[0] - a[0]) <= (p[1] - a[1]) * (b[0] - a[0]) {
                h.pop();
            } else {
                break;
            }
        }
        h.push(i);
    }
    h
}

/// The hull of the fixed tiers as a curve of pass rate over cost share: what mixing "always L1", "always L2", …
/// at random achieves for the money.
#[derive(Debug, Clone, PartialEq)]
pub struct Hull {
    /// The vertices `[cost share, pass rate]`, cheapest first.
    pub vertices: Vec<[f64; 2]>,
}

impl Hull {
    pub fn new(points: &[[f64; 2]]) -> Hull {
        Hull { vertices: upper_hull(points).into_iter().map(|i| points[i]).collect() }
    }

    /// The pass rate at cost share `x`: below the cheapest vertex, mixing it with answering nothing; above the
    /// costliest, its pass rate.
    pub fn at(&self, x: f64) -> f64 {
        let h = &self.vertices;
        let Some(first) = h.first() else { return 0.0 };
        if x <= first[0] {
            return first[1] * x / first[0].max(1e-12);
        }
        for w in h.windows(2) {
            if x <= w[1][0] {
                return w[0][1] + (w[1][1] - w[0][1]) * (x - w[0][0]) / (w[1][0] - w[0][0]).max(1e-12);
            }
        }
        h.last().map(|l| l[1]).unwrap_or(0.0)
    }

    /// The inverse: the least cost share whose mix reaches pass rate `rate`; None when no vertex reaches it.
    pub fn cost_for(&self, rate: f64) -> Option<f64> {
        let h = &self.vertices;
        let i = h.iter().position(|v| v[1] >= rate)?;
        if i == 0 {
            return Some(h[0][0]);
        }
        let (a, b) = (h[i - 1], h[i]);
        let f = (rate - a[1]) / (b[1] - a[1]).max(1e-12);
        Some(a[0] + f * (b[0] - a[0]))
    }
}

/// The tiers a budget mixes, cheapest first: the hull's vertices when every tier's rate is known; when one is
/// not, every tier is taken to be as good as its price says (each one a vertex, in cost order).
pub fn mixable(tiers: &[TierProfile]) -> Vec<usize> {
    if tiers.iter().any(|t| t.rate.is_none()) {
        let mut order: Vec<usize> = (0..tiers.len()).collect();
        order.sort_by(|&a, &b| tiers[a].cost.total_cmp(&tiers[b].cost).then(a.cmp(&b)));
        return order;
    }
    let points: Vec<[f64; 2]> = tiers.iter().map(|t| [t.cost, t.rate.unwrap_or(0.0)]).collect();
    upper_hull(&points)
}

/// The mix of two neighbouring tiers that a budget buys: `(lower, upper, fraction of prompts to upper)`.
/// Below the cheapest tier every prompt goes to it; above the costliest, to it.
pub fn mix(tiers: &[TierProfile], share: f64) -> (usize, usize, f64) {
    let h = mixable(tiers);
    let Some(&first) = h.first() else { return (0, 0, 0.0) };
    if share <= tiers[first].cost {
        return (first, first, 0.0);
    }
    for w in h.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        if share <= tiers[hi].cost {
            let f = (share - tiers[lo].cost) / (tiers[hi].cost - tiers[lo].cost).max(1e-12);
            return (lo, hi, f.clamp(0.0, 1.0));
        }
    }
    let last = *h.last().expect("non-empty");
    (last, last, 0.0)
}

/// The tiers as the mix should see them while the evidence is thin: a tier whose rate is not above a cheaper
/// tier's by more than one standard error of the difference (`sd`: each rate's uncertainty, 0 where only a
/// figure is known) is taken as no better than it, so it leaves the hull and the mix leans to the cheaper one
/// until the user's outcomes separate them.
pub fn lean_to_cheaper(tiers: &[TierProfile], sd: &[f64]) -> Vec<TierProfile> {
    let sd_of = |k: usize| sd.get(k).copied().filter(|s| s.is_finite() && *s > 0.0).unwrap_or(0.0);
    let mut out = tiers.to_vec();
    for (j, tj) in tiers.iter().enumerate() {
        let Some(rj) = tj.rate else { continue };
        for (i, ti) in tiers.iter().enumerate() {
            let Some(ri) = ti.rate.filter(|_| i != j && ti.cost < tj.cost) else { continue };
            let se = (sd_of(i).powi(2) + sd_of(j).powi(2)).sqrt();
            if se > 0.0 && rj - ri <= se {
                out[j].rate = out[j].rate.map(|r| r.min(ri));
            }
        }
    }
    out
}

/// The default router: the mix of the fixed tiers the budget buys (`share` of always-top's cost), or, with a
/// least expected pass rate as the target instead, the cheapest mix that reaches it (every tier's rate known;
/// when none reaches it, the whole budget). `costs` are relative to the top tier, the last.
pub fn mix_policy(tiers: &[TierProfile], share: f64, min_pass: Option<f64>) -> Policy {
    let costs: Vec<f64> = tiers.iter().map(|t| t.cost).collect();
    let share = match min_pass {
        Some(m) if tiers.iter().all(|t| t.rate.is_some()) => {
            let points: Vec<[f64; 2]> = tiers.iter().map(|t| [t.cost, t.rate.unwrap_or(0.0)]).collect();
            Hull::new(&points).cost_for(m).unwrap_or_else(|| costs.last().copied().unwrap_or(1.0))
        }
        _ => share,
    };
    let (lower, upper, _) = mix(tiers, share);
    Policy::Hull { share, lower, upper, costs }
}

/// What routed prompts have cost so far and what always using the top tier would have cost for them (in any
/// one unit: dollars, or shares of the top tier's price).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Spend {
    pub spent: f64,
    pub top: f64,
    /// How many prompts.
    pub prompts: u64,
}

impl Spend {
    /// The realized share of always-top's cost, once anything was routed.
    pub fn share(&self) -> Option<f64> {
        (self.top > 0.0).then(|| self.spent / self.top)
    }

    pub fn add(&mut self, cost: f64, top: f64) {
        self.spent += cost;
        self.top += top;
        self.prompts += 1;
    }
}

/// The dial's choice between the two hull tiers its budget buys, as a controller on realized spend: the next
/// prompt goes to the upper tier when that brings the spend nearer the budget than the lower tier would (the
/// spend after this prompt, at the midpoint of the two costs, is still within it). No coin: a budget met by rare
/// top-tier calls (5% of always-top with a 1 : 100 price ratio is one call in twenty-five) stays within half a
/// call's cost of the target, where a coin misses it by a quarter often. `lower`/`upper`/`top` are this prompt's
/// expected costs on those tiers.
pub fn controlled_up(spend: &Spend, share: f64, lower: f64, upper: f64, top: f64) -> bool {
    if upper <= lower {
        return false;
    }
    spend.spent + (lower + upper) / 2.0 <= share * (spend.top + top) + 1e-12
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_leans_to_the_cheaper_tier_while_the_evidence_cannot_tell_them_apart() {
        let t = |cost: f64, rate: f64| TierProfile { cost, rate: Some(rate) };
        let tiers = [t(0.01, 0.40), t(0.1, 0.62), t(1.0, 0.70)];
        // Figures only (no uncertainty): every tier is on the hull, 50% buys mid and top.
        assert_eq!(mix(&lean_to_cheaper(&tiers, &[0.0; 3]), 0.5).0, 1);
        assert_eq!(mix(&lean_to_cheaper(&tiers, &[0.0; 3]), 0.5).1, 2);
        // Top's 8 points over mid are within their uncertainty: top leaves the hull, 50% buys mid only.
        let leaned = lean_to_cheaper(&tiers, &[0.05, 0.06, 0.07]);
        assert_eq!(mix(&leaned, 0.5), (1, 1, 0.0));
        assert_eq!(leaned[0], tiers[0], "the cheapest tier is never leaned");
        assert_eq!(leaned[1], tiers[1], "mid is 22 points over local: clearly better");
        // More evidence separates them again.
        assert_eq!(mix(&lean_to_cheaper(&tiers, &[0.02, 0.02, 0.02]), 0.5).1, 2);
    }

    fn p(cost: f64, rate: Option<f64>) -> TierProfile {
        TierProfile { cost, rate }
    }

    #[test]
    fn a_tier_under_the_hull_is_skipped_and_unknown_rates_keep_every_tier() {
        // A mid tier weaker than the local one (DeepSeek-Coder 6.7B local, Claude 3 Haiku mid): never worth it.
        assert_eq!(mixable(&[p(0.01, Some(0.72)), p(0.1, Some(0.69)), p(1.0, Some(0.73))]), vec![0, 2]);
        // Under the line from local to top.
        assert_eq!(mixable(&[p(0.01, Some(0.40)), p(0.5, Some(0.55)), p(1.0, Some(0.80))]), vec![0, 2]);
        assert_eq!(mixable(&[p(0.01, Some(0.40)), p(0.1, Some(0.70)), p(1.0, Some(0.80))]), vec![0, 1, 2]);
        assert_eq!(mixable(&[p(0.01, None), p(0.1, Some(0.1)), p(1.0, None)]), vec![0, 1, 2]);
    }

    #[test]
    fn the_mix_a_budget_buys() {
        let t = [p(0.01, Some(0.4)), p(0.1, Some(0.7)), p(1.0, Some(0.8))];
        assert_eq!(mix(&t, 0.005), (0, 0, 0.0));
        let (lo, hi, f) = mix(&t, 0.055);
        assert_eq!((lo, hi), (0, 1));
        assert!((f - 0.5).abs() < 1e-9);
        let (lo, hi, f) = mix(&t, 0.55);
        assert_eq!((lo, hi), (1, 2));
        assert!((f - 0.5).abs() < 1e-9);
        assert_eq!(mix(&t, 1.0).1, 2);
    }

    #[test]
    fn the_controller_keeps_a_rare_top_tier_budget_after_fifty_prompts() {
        // 5% of always-top with local at 1% and top at 100%: whatever the prompts, the realized share stays
        // within a quarter of the target from the 50th prompt on.
        let mut s = Spend::default();
        for n in 1..=400 {
            let up = controlled_up(&s, 0.05, 0.01, 1.0, 1.0);
            s.add(if up { 1.0 } else { 0.01 }, 1.0);
            if n >= 50 {
                let share = s.share().unwrap();
                assert!((share / 0.05 - 1.0).abs() <= 0.25, "after {n}: {share}");
            }
        }
    }

    #[test]
    fn the_hull_is_the_upper_envelope_mixes_toward_nothing_below_the_cheapest_and_inverts() {
        // L2 dominates L3 here (it passes more for less): the hull stops at L2.
        let h = Hull::new(&[[0.01, 0.5], [0.1, 0.8], [1.0, 0.7]]);
        assert_eq!(h.vertices, vec![[0.01, 0.5], [0.1, 0.8]]);
        assert!((h.at(0.055) - 0.65).abs() < 1e-9);
        assert!((h.at(0.005) - 0.25).abs() < 1e-9);
        assert_eq!(h.at(0.5), 0.8);
        // The inverse: the least cost share that reaches a pass rate, on the same segments.
        assert_eq!(h.cost_for(0.4), Some(0.01));
        assert!((h.cost_for(0.65).unwrap() - 0.055).abs() < 1e-9);
        assert_eq!(h.cost_for(0.9), None);
        // A pass target picks the cheapest mix that reaches it; one no tier reaches spends the whole budget.
        let t = [p(0.01, Some(0.5)), p(0.1, Some(0.8)), p(1.0, Some(0.7))];
        assert!(
            matches!(mix_policy(&t, 0.2, Some(0.65)), Policy::Hull { lower: 0, upper: 1, share, .. } if (share - 0.055).abs() < 1e-9)
        );
        assert!(matches!(mix_policy(&t, 0.2, Some(0.95)), Policy::Hull { share, .. } if share == 1.0));
        assert!(matches!(mix_policy(&t, 0.2, None), Policy::Hull { share, lower: 1, upper: 1, .. } if share == 0.2));
    }
}
