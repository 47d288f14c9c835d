//! Routing: which tier answers a prompt, given what the classifier says of it — the probability of each level
//! and each tier's probability of passing.
//!
//! Three policies. **The cost dial** (the default) picks the tier with the best trade between its pass
//! probability and its cost, `p_k − λ·c_k` (costs relative to the top tier); λ is set so that, over the label
//! run's held-out prompts (and, as they accumulate, the user's own), routing spends the share of always-top's
//! cost the user chose. **The paper's map** sends the predicted level to a fixed tier (levels 1–2 → L1, 3–4 → L2,
//! 5 → L3 for its five levels; editable), for reproducing the paper. **The threshold** picks the cheapest tier
//! whose pass probability reaches τ; when none does, the prompt goes to the cheapest tier, flagged — sending a
//! prompt no tier is likely to solve to the top tier only pays the most for the same likely failure.
//! Availability is separate: a chosen tier that cannot answer (no key, unreachable, rate-limited, offline) falls
//! through to the next capable one.

use serde::{Deserialize, Serialize};

use crate::budget::{controlled_up, Spend};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "policy", rename_all = "snake_case")]
pub enum Policy {
    /// `map[i]` is the tier (0-based) for the classifier's i-th level.
    Paper {
        map: Vec<usize>,
    },
    Threshold {
        tau: f64,
    },
    /// The tier maximising `p_k − lambda · costs[k]` (costs relative to the top tier, which costs 1): the learned
    /// router, used only where it beat the fixed tiers' hull on the user's own tiers.
    Dial {
        lambda: f64,
        costs: Vec<f64>,
    },
    /// The hull of the fixed tiers at the budget: the two neighbouring hull tiers the budget `share` buys, the
    /// upper one taken whenever the spend so far leaves room for it ([`controlled_up`]).
    Hull {
        share: f64,
        lower: usize,
        upper: usize,
        costs: Vec<f64>,
    },
}

/// The paper's map for a rule's levels over `tiers` tiers: five levels → 1–2 to L1, 3–4 to L2, 5 to L3;
/// single3's classes 0/1/2 → L1/L2/L3; threshold levels 1..K → L1..LK and K+1 → LK.
pub fn default_map(rule: &str, levels: &[u32], tiers: usize) -> Vec<usize> {
    let top = tiers.saturating_sub(1);
    levels
        .iter()
        .map(|&l| {
            let t = match rule {
                "paper5" => match l {
                    1 | 2 => 0,
                    3 | 4 => 1,
                    _ => 2,
                },
                "single3" => l as usize,
                _ => (l as usize).saturating_sub(1),
            };
            t.min(top)
        })
        .collect()
}

/// Parses an edited map such as `1-2:1,3-4:2,5:3` (levels → 1-based tier) against the classifier's levels.
pub fn parse_map(spec: &str, levels: &[u32], tiers: usize) -> Result<Vec<usize>, String> {
    let mut map: Vec<Option<usize>> = vec![None; levels.len()];
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lv, tier) = part.split_once(':').ok_or_else(|| format!("{part:?}: expected LEVELS:TIER"))?;
        let tier: usize = tier.trim().parse().map_err(|_| format!("{part:?}: the tier is a number 1..{tiers}"))?;
        if tier == 0 || tier > tiers {
            return Err(format!("{part:?}: tier {tier} is not in 1..{tiers}"));
        }
        let (a, b) = match lv.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (lv.trim(), lv.trim()),
        };
        let (a, b): (u32, u32) = (
            a.parse().map_err(|_| format!("{part:?}: bad level"))?,
            b.parse().map_err(|_| format!("{part:?}: bad level"))?,
        );
        for l in a..=b {
            let i = levels.iter().position(|&x| x == l).ok_or_else(|| format!("level {l} is not one of {levels:?}"))?;
            map[i] = Some(tier - 1);
        }
    }
    map.into_iter().zip(levels).map(|(t, l)| t.ok_or_else(|| format!("the map does not place level {l}"))).collect()
}

/// The expected pass rate of each tier: Σ over levels of p(level) · (tier's pass rate on that level).
pub fn expected_success(probabilities: &[f32], success: &[Vec<f64>], tiers: usize) -> Vec<f64> {
    (0..tiers)
        .map(|t| probabilities.iter().zip(success).map(|(&p, row)| p as f64 * row.get(t).copied().unwrap_or(0.0)).sum())
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    /// 0-based tier.
    pub tier: usize,
    /// The predicted level (argmax).
    pub level: u32,
    /// Each tier's probability of passing (empty when the classifier gives none).
    pub expected: Vec<f64>,
    pub reason: String,
    /// No tier is likely to solve the prompt (the threshold policy found none reaching τ): it goes to the
    /// cheapest tier, and the user is told.
    pub hopeless: bool,
}

/// The dial's choice for one prompt: the tier with the best `p_k − λ·c_k` (ties: the cheaper tier).
pub fn dial_choice(pass: &[f64], lambda: f64, costs: &[f64]) -> usize {
    let mut best = 0;
    let mut best_score = f64::NEG_INFINITY;
    for (k, (&p, &c)) in pass.iter().zip(costs).enumerate() {
        let score = p - lambda * c;
        if score > best_score + 1e-12 {
            best = k;
            best_score = score;
        }
    }
    best
}

/// Applies a policy. `pass` is each tier's probability of passing (may be empty for the paper map). The hull
/// policy decides as on a fresh budget; [`choose_within`] gives it the spend so far.
pub fn choose(policy: &Policy, levels: &[u32], probabilities: &[f32], pass: &[f64], tiers: usize) -> Choice {
    choose_within(policy, levels, probabilities, pass, tiers, &Budget::default())
}

/// The spend so far and this prompt's cost on the top tier, in the spend's unit (dollars for live traffic; 1 for
/// a file of prompts routed in relative costs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub spend: Spend,
    pub top: f64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { spend: Spend::default(), top: 1.0 }
    }
}

/// [`choose`] with the spend so far.
pub fn choose_within(
    policy: &Policy,
    levels: &[u32],
    probabilities: &[f32],
    pass: &[f64],
    tiers: usize,
    budget: &Budget,
) -> Choice {
    let best = probabilities.iter().enumerate().fold(0, |b, (i, &p)| if p > probabilities[b] { i } else { b });
    let level = levels.get(best).copied().unwrap_or(0);
    let expected = pass.to_vec();
    let top = tiers.saturating_sub(1);
    let choice = |tier: usize, reason: String, hopeless: bool| Choice {
        tier: tier.min(top),
        level,
        expected: expected.clone(),
        reason,
        hopeless,
    };
    match policy {
        Policy::Paper { map } => {
            let tier = map.get(best).copied().unwrap_or(top).min(top);
            choice(tier, format!("level {level} → L{} (paper map)", tier + 1), false)
        }
        Policy::Threshold { tau } => match expected.iter().position(|&e| e >= *tau) {
            Some(tier) => choice(
                tier,
                format!("L{} is the cheapest tier with pass probability {:.2} ≥ τ {tau:.2}", tier + 1, expected[tier]),
                false,
            ),
            None => {
                let best = expected.iter().cloned().fold(0.0, f64::max);
                choice(
                    0,
                    format!(
                        "no tier reaches τ {tau:.2} (the best has {best:.2}): unlikely to be solved, so the cheapest \
                         tier answers"
                    ),
                    true,
                )
            }
        },
        Policy::Hull { share, lower, upper, costs } => {
            let (lo, hi) = ((*lower).min(top), (*upper).min(top));
            let cost = |k: usize| costs.get(k).copied().unwrap_or(1.0) * budget.top;
            let up = controlled_up(&budget.spend, *share, cost(lo), cost(hi), budget.top);
            let tier = if up { hi } else { lo };
            let spent = budget
                .spend
                .share()
                .map(|r| format!("{:.1}% spent so far", 100.0 * r))
                .unwrap_or_else(|| "nothing spent yet".into());
            let reason = if lo == hi {
                format!("your budget ({:.0}% of always-top) is spent on L{} for every prompt", 100.0 * share, tier + 1)
            } else {
                format!(
                    "your budget ({:.0}% of always-top) buys a mix of L{} and L{} ({spent}), so this prompt goes to L{}",
                    100.0 * share,
                    lo + 1,
                    hi + 1,
                    tier + 1
                )
            };
            choice(tier, reason, false)
        }
        Policy::Dial { lambda, costs } => {
            if expected.is_empty() {
                return choice(top, "no pass probabilities: the top tier answers".into(), false);
            }
            let tier = dial_choice(&expected, *lambda, costs);
            choice(
                tier,
                format!(
                    "L{}: pass probability {:.2} at {:.0}% of the top tier's cost is the best trade (λ {:.3})",
                    tier + 1,
                    expected[tier],
                    100.0 * costs.get(tier).copied().unwrap_or(1.0),
                    lambda
                ),
                false,
            )
        }
    }
}

/// Where a chosen tier cannot answer: the next available tier above it, else the highest available below it
/// (then `flagged`: the answer comes from a tier under the predicted need). None when no tier is available.
pub fn fall_through(chosen: usize, available: &[bool]) -> Option<(usize, bool)> {
    if let Some(t) = (chosen..available.len()).find(|&t| available[t]) {
        return Some((t, false));
    }
    (0..chosen.min(available.len())).rev().find(|&t| available[t]).map(|t| (t, true))
}

/// The routing policy as the user saves it in Settings (`route-policy`), used by the chat, `ask`, `route` and the
/// server. The store keeps it in its settings table (`complexitynet_engine::settings`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RouteSettings {
    pub policy: PolicyKind,
    /// The threshold policy's τ.
    pub tau: f64,
    /// An edited paper map (`1-2:1,3-4:2,5:3`); None: the paper's map for the classifier's rule.
    pub map: Option<String>,
    /// The dial's target: the share of always-top's cost to spend (0.10 = a tenth).
    #[serde(default = "default_cost_share")]
    pub cost_share: f64,
    /// The dial's other target: the least expected pass rate (the cheapest routing that reaches it); when set,
    /// it is used instead of the cost share.
    #[serde(default)]
    pub min_pass: Option<f64>,
}

/// The dial's default target: a tenth of always-top's cost (where always-mid sits with the paper's costs).
pub const DEFAULT_COST_SHARE: f64 = 0.10;

fn default_cost_share() -> f64 {
    DEFAULT_COST_SHARE
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    Dial,
    Paper,
    Threshold,
}

impl std::str::FromStr for PolicyKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "dial" => Ok(PolicyKind::Dial),
            "paper" => Ok(PolicyKind::Paper),
            "threshold" => Ok(PolicyKind::Threshold),
            other => Err(format!("unknown policy {other:?} (dial, paper or threshold)")),
        }
    }
}

impl PolicyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Dial => "dial",
            PolicyKind::Paper => "paper",
            PolicyKind::Threshold => "threshold",
        }
    }
}

impl Default for RouteSettings {
    fn default() -> Self {
        RouteSettings {
            policy: PolicyKind::Dial,
            tau: 0.5,
            map: None,
            cost_share: default_cost_share(),
            min_pass: None,
        }
    }
}

impl RouteSettings {
    pub fn validate(&self) -> Result<(), RouteError> {
        if !(0.0..=1.0).contains(&self.tau) || !self.tau.is_finite() {
            return Err(RouteError::Invalid("τ must be in [0, 1]".into()));
        }
        if !(self.cost_share > 0.0 && self.cost_share <= 1.0) {
            return Err(RouteError::Invalid("the cost share must be in (0, 1] (a share of always-top's cost)".into()));
        }
        if self.min_pass.is_some_and(|m| !(0.0..=1.0).contains(&m)) {
            return Err(RouteError::Invalid("the least expected pass rate must be in [0, 1]".into()));
        }
        Ok(())
    }

    /// The paper map or the threshold for a classifier's levels and rule over `tiers` tiers (the dial is
    /// calibrated on held-out predictions instead: see [`calibrate_for_cost`]).
    pub fn fixed_policy(&self, rule: &str, levels: &[u32], tiers: usize) -> Result<Policy, RouteError> {
        self.validate()?;
        match self.policy {
            PolicyKind::Paper => {
                let map = match &self.map {
                    Some(spec) => parse_map(spec, levels, tiers).map_err(RouteError::Invalid)?,
                    None => default_map(rule, levels, tiers),
                };
                Ok(Policy::Paper { map })
            }
            PolicyKind::Threshold => Ok(Policy::Threshold { tau: self.tau }),
            PolicyKind::Dial => Err(RouteError::Invalid("the dial is calibrated, not fixed".into())),
        }
    }
}

/// The λ that makes the dial spend `share` of always-top's cost over a pool of prompts (each a vector of tier
/// pass probabilities, with a weight): the smallest λ whose routing stays within the share — as RouteLLM sets
/// its threshold from a quantile of held-out scores. `costs` are relative to the top tier.
pub fn calibrate_for_cost(pool: &[(Vec<f64>, f64)], costs: &[f64], share: f64) -> f64 {
    let spend = |lambda: f64| {
        let w: f64 = pool.iter().map(|(_, w)| w).sum::<f64>().max(1e-12);
        pool.iter().map(|(p, wt)| wt * costs[dial_choice(p, lambda, costs)]).sum::<f64>() / w
    };
    bisect(|l| spend(l) <= share + 1e-9)
}

/// The λ for the cheapest routing whose expected pass rate (the mean pass probability of the chosen tiers) is
/// still at least `min_pass`.
pub fn calibrate_for_pass(pool: &[(Vec<f64>, f64)], costs: &[f64], min_pass: f64) -> f64 {
    let pass = |lambda: f64| {
        let w: f64 = pool.iter().map(|(_, w)| w).sum::<f64>().max(1e-12);
        pool.iter().map(|(p, wt)| wt * p[dial_choice(p, lambda, costs)]).sum::<f64>() / w
    };
    // The largest λ that keeps the pass rate: the first λ that is too cheap, less a step.
    let too_cheap = bisect(|l| pass(l) < min_pass);
    (too_cheap - 1e-6).max(0.0)
}

/// The smallest λ in [0, 100] where `ok(λ)` holds, for a predicate that turns true as λ grows (spending and
/// pass rates only fall as λ grows).
fn bisect(ok: impl Fn(f64) -> bool) -> f64 {
    if ok(0.0) {
        return 0.0;
    }
    let (mut lo, mut hi) = (0.0f64, 100.0f64);
    if !ok(hi) {
        return hi;
    }
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("{0}")]
    Invalid(String),
    #[error("no tiers are configured (complexitynet tiers list)")]
    NoTiers,
    /// Every tier is unavailable (no model, no key); the message names each one's reason and fix.
    #[error("no tier can answer: {0}")]
    NoTierAvailable(String),
}

impl RouteError {
    pub fn code(&self) -> complexitynet_errors::ErrorCode {
        match self {
            RouteError::Invalid(_) | RouteError::NoTiers => complexitynet_errors::ErrorCode::InvalidArguments,
            RouteError::NoTierAvailable(_) => complexitynet_errors::ErrorCode::NoTierAvailable,
        }
    }
}

/// Whether a tier can answer now, without a network probe, and why not (with the fix).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    pub available: bool,
    /// `local model installed`, `ready`, or what is missing and how to fix it.
    pub note: String,
}

/// One tier as a decision shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct TierStatus {
    pub tier: String,
    pub model: String,
    /// The probability that this tier's model passes the prompt, when something is known of that model.
    pub expected: Option<f64>,
    pub available: bool,
    pub note: String,
    /// The model the classifier's figure for this tier was learned for (None: the classifier has none).
    #[serde(default)]
    pub learned_for: Option<String>,
    /// Whether `expected` is a figure for this tier's own model (learned for it, calibrated on it, or from its
    /// published pass rate); false: nothing is known of it, and `expected` is empty.
    #[serde(default)]
    pub calibrated: bool,
    /// Where `expected` comes from, in words.
    #[serde(default)]
    pub source: String,
}

/// The dial's budget as a decision reports it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct BudgetState {
    /// The share of always-top's cost to spend.
    pub target: f64,
    /// The share spent so far (before this prompt), once anything was routed.
    pub realized: Option<f64>,
    /// Routed prompts so far.
    pub prompts: u64,
}

/// Which router decided a dial prompt, and why: the hull of the fixed tiers unless held-out evaluation on the
/// user's own tiers' answers put the learned router above it (a shipped or replayed verdict never does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RouterUsed {
    /// `hull` or `learned`.
    pub name: String,
    /// Why, in words, with the figures.
    pub why: String,
}

/// Where a prompt goes and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Decision {
    pub level: u32,
    /// The tier that answers: the policy's choice, or the next one that can answer.
    pub tier: String,
    pub model: String,
    pub probabilities: Vec<f32>,
    pub levels: Vec<u32>,
    pub reason: String,
    pub classifier: String,
    /// Expected pass rate per tier (threshold policy data), when the classifier carries it.
    pub expected: Vec<f64>,
    /// The tier the policy chose before availability was considered.
    pub chosen: String,
    /// The answer comes from a tier below the predicted need (offline or no key above it).
    pub flagged: bool,
    /// False when no tier can answer now (`route` still shows the decision; `ask` fails).
    pub available: bool,
    /// Every tier with its expected pass rate and whether it can answer (and the fix when it cannot).
    pub tiers: Vec<TierStatus>,
    /// The dial's budget: the target and what has been spent (the hull policy only).
    #[serde(default)]
    pub budget: Option<BudgetState>,
    /// The dial's router and why (filled by the application core, which knows the verdict; None for the
    /// paper map and the threshold).
    #[serde(default)]
    pub router: Option<Box<RouterUsed>>,
}

/// What the classifier said about a prompt.
#[derive(Debug, Clone)]
pub struct Prediction<'a> {
    pub levels: &'a [u32],
    pub probabilities: &'a [f32],
    /// Each tier's probability of passing.
    pub pass: &'a [f64],
    pub classifier: &'a str,
    /// The spend so far, for the hull policy.
    pub budget: Budget,
}

/// The tiers a decision may not use: those that failed on this request already (the fall-through skips them as
/// if they had no key) and those above the highest tier the user allows (a chat's "never the top tier").
#[derive(Debug, Clone, Default)]
pub struct Skip {
    pub failed: Vec<String>,
    /// The highest tier allowed, by name; None: every tier.
    pub cap: Option<String>,
    /// Tiers that cannot take this request (it has tools, images, or does not fit their context window), each
    /// with why.
    pub cannot: Vec<(String, String)>,
}

impl Skip {
    pub fn failed(failed: &[String]) -> Skip {
        Skip { failed: failed.to_vec(), ..Skip::default() }
    }
}

/// A tier as a decision names it: the tier and the model behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct TierName {
    pub name: String,
    pub model: String,
}

/// Picks the tier for a prediction: the policy's choice among the tiers up to the cap, then the first tier that
/// can answer (`available` says, per tier, whether it can now and the fix when it cannot; it is asked only for
/// the tiers the request may use).
pub fn decide(
    tiers: &[TierName],
    available: &dyn Fn(usize) -> Availability,
    policy: &Policy,
    p: &Prediction,
    skip: &Skip,
) -> Result<Decision, RouteError> {
    if tiers.is_empty() {
        return Err(RouteError::NoTiers);
    }
    let allowed = match &skip.cap {
        None => tiers.len(),
        Some(cap) => {
            1 + tiers.iter().position(|t| &t.name == cap).ok_or_else(|| {
                let names: Vec<&str> = tiers.iter().map(|t| t.name.as_str()).collect();
                RouteError::Invalid(format!("no tier {cap:?} to cap at (the tiers are {})", names.join(", ")))
            })?
        }
    };
    // The policy sees only the allowed tiers, so a cap is a choice among them, not a flagged fall below.
    let mut c =
        choose_within(policy, p.levels, p.probabilities, &p.pass[..p.pass.len().min(allowed)], allowed, &p.budget);
    c.expected = p.pass.to_vec();
    let avail: Vec<Availability> = tiers
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i >= allowed {
                let cap = skip.cap.as_deref().unwrap_or_default();
                Availability { available: false, note: format!("above {cap}, the highest tier allowed here") }
            } else if skip.failed.contains(&t.name) {
                Availability { available: false, note: "failed on this request".into() }
            } else if let Some((_, why)) = skip.cannot.iter().find(|(n, _)| *n == t.name) {
                Availability { available: false, note: why.clone() }
            } else {
                available(i)
            }
        })
        .collect();
    let ok: Vec<bool> = avail.iter().map(|a| a.available).collect();
    let statuses: Vec<TierStatus> = tiers
        .iter()
        .zip(&avail)
        .enumerate()
        .map(|(i, (t, a))| TierStatus {
            tier: t.name.clone(),
            model: t.model.clone(),
            expected: c.expected.get(i).copied().filter(|e| e.is_finite()),
            available: a.available,
            note: a.note.clone(),
            learned_for: None,
            calibrated: false,
            source: String::new(),
        })
        .collect();
    let (t, flagged, usable) = match fall_through(c.tier, &ok) {
        Some((t, flagged)) => (t, flagged, true),
        None => (c.tier, false, false),
    };
    let mut reason = c.reason.clone();
    if matches!(policy, Policy::Hull { .. }) {
        // In plain words: the tiers by name.
        for (i, t) in tiers.iter().enumerate().rev() {
            reason = reason.replace(&format!("L{}", i + 1), &t.name);
        }
    }
    if !usable {
        reason.push_str(&format!("; {} cannot answer: {}", tiers[c.tier].name, avail[c.tier].note));
    } else if t != c.tier {
        reason.push_str(&format!(
            "; {} cannot answer ({}), so {} does{}",
            tiers[c.tier].name,
            avail[c.tier].note,
            tiers[t].name,
            if flagged { " — a cheaper tier than the one chosen" } else { "" }
        ));
    }
    Ok(Decision {
        level: c.level,
        tier: tiers[t].name.clone(),
        model: tiers[t].model.clone(),
        probabilities: p.probabilities.to_vec(),
        levels: p.levels.to_vec(),
        reason,
        classifier: p.classifier.to_owned(),
        expected: c.expected,
        chosen: tiers[c.tier].name.clone(),
        flagged: flagged || c.hopeless,
        available: usable,
        tiers: statuses,
        budget: match policy {
            Policy::Hull { share, .. } => {
                Some(BudgetState { target: *share, realized: p.budget.spend.share(), prompts: p.budget.spend.prompts })
            }
            _ => None,
        },
        router: None,
    })
}

impl Decision {
    /// The error `ask` answers when no tier can answer: each tier's reason and fix.
    pub fn unavailable_error(&self) -> RouteError {
        let why: Vec<String> = self.tiers.iter().map(|t| format!("{}: {}", t.tier, t.note)).collect();
        RouteError::NoTierAvailable(why.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_papers_map_and_an_edited_one() {
        assert_eq!(default_map("paper5", &[1, 2, 3, 4, 5], 3), vec![0, 0, 1, 1, 2]);
        assert_eq!(default_map("single3", &[0, 1, 2], 3), vec![0, 1, 2]);
        assert_eq!(default_map("threshold", &[1, 2, 3, 4], 3), vec![0, 1, 2, 2]);
        assert_eq!(parse_map("1-3:1,4:2,5:3", &[1, 2, 3, 4, 5], 3).unwrap(), vec![0, 0, 0, 1, 2]);
        assert!(parse_map("1-2:1", &[1, 2, 3], 3).unwrap_err().contains("level 3"));
        assert!(parse_map("1-3:4", &[1, 2, 3], 3).unwrap_err().contains("not in 1..3"));
        let c =
            choose(&Policy::Paper { map: vec![0, 0, 1, 1, 2] }, &[1, 2, 3, 4, 5], &[0.1, 0.1, 0.2, 0.5, 0.1], &[], 3);
        assert_eq!((c.tier, c.level, c.reason.as_str()), (1, 4, "level 4 → L2 (paper map)"));
    }

    #[test]
    fn the_threshold_policy_takes_the_cheapest_tier_expected_to_pass_and_spares_hopeless_prompts_the_top() {
        // [level][tier] pass rates: easy tasks pass everywhere, hard ones only on L3.
        let s = vec![vec![0.9, 0.95, 0.97], vec![0.2, 0.8, 0.9], vec![0.05, 0.3, 0.7]];
        let p = [0.6, 0.3, 0.1];
        let e = expected_success(&p, &s, 3);
        assert!((e[0] - (0.54 + 0.06 + 0.005)).abs() < 1e-6, "{e:?}");
        assert_eq!(choose(&Policy::Threshold { tau: 0.5 }, &[0, 1, 2], &p, &e, 3).tier, 0);
        assert_eq!(choose(&Policy::Threshold { tau: 0.8 }, &[0, 1, 2], &p, &e, 3).tier, 1);
        // No tier reaches τ: the cheapest answers, flagged (the top would only fail more expensively).
        let c = choose(&Policy::Threshold { tau: 0.99 }, &[0, 1, 2], &p, &e, 3);
        assert_eq!((c.tier, c.hopeless), (0, true));
        assert!(c.reason.contains("no tier reaches") && c.reason.contains("cheapest"), "{}", c.reason);
    }

    #[test]
    fn the_dial_trades_pass_probability_against_cost() {
        let costs = [0.01, 0.1, 1.0];
        // A prompt the local tier likely solves stays local; one it likely fails goes to mid; at λ 0, the best.
        assert_eq!(dial_choice(&[0.8, 0.9, 0.95], 2.0, &costs), 0);
        assert_eq!(dial_choice(&[0.2, 0.9, 0.95], 2.0, &costs), 1);
        assert_eq!(dial_choice(&[0.2, 0.9, 0.95], 0.0, &costs), 2);
        let c = choose(
            &Policy::Dial { lambda: 0.5, costs: costs.to_vec() },
            &[0, 1, 2],
            &[0.2, 0.7, 0.1],
            &[0.2, 0.9, 0.95],
            3,
        );
        assert_eq!((c.tier, c.hopeless), (1, false));
        assert!(c.reason.contains("best trade"), "{}", c.reason);
        // Calibration: λ for a cost share, over a pool of prompts.
        let pool: Vec<(Vec<f64>, f64)> = (0..100).map(|i| (vec![i as f64 / 100.0, 0.9, 0.95], 1.0)).collect();
        let lambda = calibrate_for_cost(&pool, &costs, 0.05);
        let spent: f64 = pool.iter().map(|(p, _)| costs[dial_choice(p, lambda, &costs)]).sum::<f64>() / 100.0;
        assert!(spent <= 0.05 + 1e-9 && spent > 0.04, "spent {spent} at λ {lambda}");
        assert_eq!(calibrate_for_cost(&pool, &costs, 1.0), 0.0, "the whole budget: the best tier for each");
        let lambda = calibrate_for_pass(&pool, &costs, 0.8);
        let pass: f64 = pool.iter().map(|(p, _)| p[dial_choice(p, lambda, &costs)]).sum::<f64>() / 100.0;
        assert!(pass >= 0.8, "{pass}");
    }

    #[test]
    fn an_unavailable_tier_falls_through_up_then_down() {
        assert_eq!(fall_through(0, &[false, true, true]), Some((1, false)));
        assert_eq!(fall_through(1, &[true, false, false]), Some((0, true)), "offline: the local tier, flagged");
        assert_eq!(fall_through(2, &[true, true, true]), Some((2, false)));
        assert_eq!(fall_through(0, &[false, false, false]), None);
    }
}
