//! Routing: the saved policy (typed, through the store), per-call overrides, the decision for a prompt (the
//! classifier's prediction → the policy's tier → the first tier that can answer), the cost dial's calibration,
//! and the evaluation of the policies on a label run's held-out predictions.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use complexitynet_classifier::artifact::{self, Classifier, Meta};
use complexitynet_classifier::eval::{self, EvalOptions, EvalReport};
use complexitynet_engine::runs::TrialKey;
use complexitynet_engine::tiers::{self as table, CostMode, TierRow};
use complexitynet_engine::ErrorCode;
use complexitynet_providers::CancellationToken;
use complexitynet_router::{self as route, Decision, Policy, PolicyKind, RouteSettings, RouterUsed};
use complexitynet_verify::checks::Checks;
use complexitynet_verify::judge;
use complexitynet_verify::{Limits, Outcome};
use serde::{Deserialize, Serialize};

use crate::{lock, App, AppError, Result};

/// Per-call changes to the saved policy (`--policy`, `--tau`, `--map`, `--cost-share`, `--classifier`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct RouteOverrides {
    #[ts(optional = nullable)]
    pub policy: Option<PolicyKind>,
    #[ts(optional = nullable)]
    pub tau: Option<f64>,
    /// An edited paper map; an empty one restores the paper's.
    #[ts(optional = nullable)]
    pub map: Option<String>,
    /// The dial's share of always-top's cost.
    #[ts(optional = nullable)]
    pub cost_share: Option<f64>,
    /// The dial's least expected pass rate (instead of a cost share).
    #[ts(optional = nullable)]
    pub min_pass: Option<f64>,
    /// Route with this classifier instead of the active one.
    #[ts(optional = nullable)]
    pub classifier: Option<String>,
    /// The highest tier this request may use (a chat's "never the top tier"); None: any.
    #[ts(optional = nullable)]
    pub max_tier: Option<String>,
    /// The verified cascade's bar: the least trust a pass must earn to end it (router::trust); None: the
    /// measured default.
    #[ts(optional = nullable)]
    pub trust_bar: Option<f64>,
}

impl RouteOverrides {
    /// The saved settings with these changes. A policy's own setting without a policy selects that policy
    /// (`--map` the paper map, `--tau` the threshold, `--cost-share`/`--min-pass` the dial).
    pub fn apply(&self, mut s: RouteSettings) -> RouteSettings {
        let implied = if self.map.as_deref().is_some_and(|m| !m.trim().is_empty()) {
            Some(PolicyKind::Paper)
        } else if self.tau.is_some() {
            Some(PolicyKind::Threshold)
        } else if self.cost_share.is_some() || self.min_pass.is_some() {
            Some(PolicyKind::Dial)
        } else {
            None
        };
        if let Some(p) = self.policy.or(implied) {
            s.policy = p;
        }
        if let Some(t) = self.tau {
            s.tau = t;
        }
        if let Some(m) = &self.map {
            s.map = Some(m.clone()).filter(|m| !m.trim().is_empty());
        }
        if let Some(c) = self.cost_share {
            s.cost_share = c;
            s.min_pass = None;
        }
        if let Some(m) = self.min_pass {
            s.min_pass = Some(m);
        }
        s
    }

    pub fn is_empty(&self) -> bool {
        self == &RouteOverrides::default()
    }
}

/// The Evaluate tab's report: the numbers, the plot and the Markdown.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Evaluation {
    pub report: EvalReport,
    pub svg: String,
    pub markdown: String,
}

/// The dial's curve for Settings: what each cost share is expected to pass (the classifier's own estimate on the
/// prompts λ is calibrated on), and where the saved setting sits.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DialCurve {
    /// (cost share, expected pass rate), cheapest first.
    pub points: Vec<[f64; 2]>,
    pub operating: [f64; 2],
    pub lambda: f64,
    /// Held-out prompts of the label run, and the user's own routed prompts, in the calibration.
    pub held_out: usize,
    pub user: usize,
}

/// Which router the dial uses, and why: recorded by `eval` when it scores the learned router on labels of the
/// tiers' own models; read by every routed prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RouterVerdict {
    /// The learned router beat the hull at this budget (the lower end of Δ's interval above 0).
    pub learned: bool,
    pub share: f64,
    /// The models the labels are of, tier by tier.
    pub models: Vec<String>,
    pub labels: String,
    pub classifier: String,
    /// The learned router against the hull at `share`, in pass rate, with its 95% interval.
    pub delta: f64,
    pub ci: [f64; 2],
}

const VERDICT_KEY: &str = "router_verdict";
/// How the hull's explanation starts (the budget status puts the mix after it).
const HULL_WHY: &str = "the hull of the fixed tiers; ";

/// The dial's budget as Settings and the chat header show it: the target, what routed prompts realized, and
/// which router decides and why.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct BudgetStatus {
    pub target: f64,
    /// What the dial's routed prompts cost over the last 30 days, as a share of always-top's cost for them.
    pub realized: Option<f64>,
    pub prompts: u64,
    /// `hull` (the mix of the fixed tiers the budget buys) or `learned` (the classifier's router).
    pub router: String,
    /// Why, in words, with the figures.
    pub why: String,
    /// What is known of each tier's model.
    pub tiers: Vec<crate::abilities::TierAbility>,
}

/// Prompts' per-tier pass probabilities, each with its weight in the dial's calibration.
type WeightedPool = Vec<(Vec<f64>, f64)>;

/// The dial's calibration, cached: the pool is read from the classifier and the user's recent prompts.
pub(crate) struct DialCache {
    key: String,
    at: Instant,
    lambda: f64,
}

/// A prediction's tier probabilities fitted to the app's tier table (a classifier trained on K tiers serves a
/// table of K tiers; with more, the extra tiers take the top known tier's figure; with fewer, the rest go).
fn align(pass: &[f32], tiers: usize) -> Vec<f64> {
    (0..tiers).map(|t| pass.get(t).or(pass.last()).copied().unwrap_or(0.0) as f64).collect()
}

/// Each tier's cost relative to the top tier's, in the cost mode in use (the paper's units, or the sum of the
/// per-1K prices, which keeps the ratio of a typical call).
pub(crate) fn relative_costs(tiers: &[TierRow], mode: CostMode) -> Vec<f64> {
    let raw: Vec<f64> = tiers
        .iter()
        .map(|t| match mode {
            CostMode::PaperUnits => t.paper_units,
            CostMode::Usd => t.input_per_1k + t.output_per_1k,
        })
        .collect();
    let top = raw.last().copied().unwrap_or(1.0);
    if top <= 0.0 {
        // Unpriced tiers: fall back to their order (the paper's 1, 10, 100).
        return (0..tiers.len()).map(|i| 10f64.powi(i as i32 - tiers.len() as i32 + 1)).collect();
    }
    raw.into_iter().map(|c| c / top).collect()
}

/// The held-out tier pass probabilities a classifier was evaluated with (derived from its level probabilities
/// and the run's pass rates per level for the level-only methods).
fn held_out_pool(meta: &Meta, tiers: usize) -> Vec<Vec<f64>> {
    let k = meta.report.tier_success.first().map(Vec::len).unwrap_or(0);
    meta.report
        .cv_predictions
        .iter()
        .map(|h| {
            if h.tier_pass.is_empty() {
                let e: Vec<f32> = route::expected_success(&h.probabilities, &meta.report.tier_success, k)
                    .into_iter()
                    .map(|x| x as f32)
                    .collect();
                align(&e, tiers)
            } else {
                align(&h.tier_pass, tiers)
            }
        })
        .collect()
}

impl App {
    /// The routing policy saved in Settings.
    pub fn route_settings(&self) -> Result<RouteSettings> {
        self.with_store(|s| Ok(complexitynet_engine::settings::route_settings(s)?))
    }

    /// Saves the policy for the chat, `ask`, `route` and the server; returns what is now saved.
    pub fn set_route_settings(&self, settings: &RouteSettings) -> Result<RouteSettings> {
        settings.validate()?;
        // An edited map is checked against the active classifier's levels and the tiers now: saved unchecked, it
        // was refused only by the next route (a server that would not start).
        if settings.policy == PolicyKind::Paper && settings.map.is_some() {
            if let Ok(c) = self.classifier(None) {
                let tiers = self.with_store(|s| Ok(table::tiers(s)?))?;
                settings
                    .fixed_policy(c.meta.rule.name(), &c.meta.levels, tiers.len())
                    .map_err(|e| AppError::new(e.code(), format!("classifier {}: {e}", c.meta.id)))?;
            }
        }
        let saved = self.with_store(|s| {
            complexitynet_engine::settings::save_route_settings(s, settings)?;
            Ok(complexitynet_engine::settings::route_settings(s)?)
        })?;
        *lock(&self.dial) = None;
        Ok(saved)
    }

    /// The prompts the dial is calibrated on, with weights: the label run's held-out prompts, and the user's own
    /// routed chat prompts, which count more as they accumulate (as much as the held-out set from 200 on), so
    /// the share spent is the share of the user's traffic.
    fn dial_pool(&self, meta: &Meta, tiers: usize) -> Result<(WeightedPool, usize, usize)> {
        let held = held_out_pool(meta, tiers);
        let user: Vec<Vec<f64>> = self
            .with_store(|s| Ok(complexitynet_engine::conversations::recent_routes(s, 500)?))?
            .into_iter()
            .filter(|d| d.classifier == meta.id && d.tiers.len() == tiers)
            .filter_map(|d| d.tiers.iter().map(|t| t.expected).collect::<Option<Vec<f64>>>())
            .collect();
        let (nh, nu) = (held.len(), user.len());
        let w = if nu == 0 { 0.0 } else { nh.max(1) as f64 / nu as f64 * (nu as f64 / 200.0).min(1.0) };
        let mut pool: Vec<(Vec<f64>, f64)> = held.into_iter().map(|p| (p, 1.0)).collect();
        pool.extend(user.into_iter().map(|p| (p, w)));
        Ok((pool, nh, nu))
    }

    /// The dial's λ for the settings (cached for a minute, and until the settings or the classifier change).
    fn dial_lambda(&self, c: &Classifier, settings: &RouteSettings, costs: &[f64]) -> Result<f64> {
        let key = format!("{}|{:?}|{:?}|{:?}", c.meta.id, settings.cost_share, settings.min_pass, costs);
        if let Some(d) = lock(&self.dial).as_ref() {
            if d.key == key && d.at.elapsed() < Duration::from_secs(60) {
                return Ok(d.lambda);
            }
        }
        let (pool, _, _) = self.dial_pool(&c.meta, costs.len())?;
        let lambda = if pool.is_empty() {
            0.0
        } else {
            match settings.min_pass {
                Some(m) => route::calibrate_for_pass(&pool, costs, m),
                None => route::calibrate_for_cost(&pool, costs, settings.cost_share),
            }
        };
        *lock(&self.dial) = Some(DialCache { key, at: Instant::now(), lambda });
        Ok(lambda)
    }

    /// The classifier and the policy a prompt is routed with: the saved policy with the overrides applied (the
    /// dial with its calibrated λ).
    pub fn routing(&self, overrides: &RouteOverrides) -> Result<(Arc<Classifier>, Policy)> {
        let settings = overrides.apply(self.route_settings()?);
        settings.validate()?;
        let c = self.classifier(overrides.classifier.as_deref())?;
        let (tiers, mode) = self.with_store(|s| Ok((table::tiers(s)?, table::cost_mode(s)?)))?;
        let policy = match settings.policy {
            PolicyKind::Dial => {
                let costs = relative_costs(&tiers, mode);
                match self.learned_router(&settings, &tiers)? {
                    true => {
                        let lambda = self.dial_lambda(&c, &settings, &costs)?;
                        Policy::Dial { lambda, costs }
                    }
                    false => self.budget_policy(&settings, costs)?,
                }
            }
            _ => settings
                .fixed_policy(c.meta.rule.name(), &c.meta.levels, tiers.len())
                .map_err(|e| AppError::new(e.code(), format!("classifier {}: {e}", c.meta.id)))?,
        };
        Ok((c, policy))
    }

    /// The default dial: the hull of the fixed tiers at the budget, its neighbouring tiers known by their models'
    /// abilities (a tier weaker than a cheaper one is never on it); with an expected pass rate as the target
    /// instead, the cheapest point of the hull that reaches it.
    pub(crate) fn budget_policy(&self, settings: &RouteSettings, costs: Vec<f64>) -> Result<Policy> {
        let abilities = self.tier_abilities()?;
        let profiles: Vec<route::TierProfile> = costs
            .iter()
            .zip(abilities.iter().map(|a| a.rate).chain(std::iter::repeat(None)))
            .map(|(&cost, rate)| route::TierProfile { cost, rate })
            .collect();
        let sd: Vec<f64> = abilities.iter().map(|a| a.rate_sd.unwrap_or(0.0)).collect();
        let profiles = route::lean_to_cheaper(&profiles, &sd);
        Ok(route::mix_policy(&profiles, settings.cost_share, settings.min_pass))
    }

    /// The dial's budget and router, for Settings and the chat header.
    pub fn budget_status(&self) -> Result<BudgetStatus> {
        let settings = self.route_settings()?;
        let (tiers, mode) = self.with_store(|s| Ok((table::tiers(s)?, table::cost_mode(s)?)))?;
        let spend = self.with_store(|s| Ok(complexitynet_engine::ledger::routed_spend(s, 30, mode)?))?;
        let abilities = self.tier_abilities()?;
        let used = self.router_used(&settings, &tiers)?;
        let learned = used.name == "learned";
        let why = if learned {
            used.why
        } else {
            let costs = relative_costs(&tiers, mode);
            let mix = match self.budget_policy(&settings, costs)? {
                Policy::Hull { lower, upper, .. } if lower != upper => {
                    format!("a mix of {} and {}", tiers[lower].name, tiers[upper].name)
                }
                Policy::Hull { lower, .. } => format!("{} for every prompt", tiers[lower].name),
                _ => String::new(),
            };
            let unknown: Vec<&str> =
                abilities.iter().filter(|a| a.ability.is_none()).map(|a| a.tier.as_str()).collect();
            let verdict = used.why.trim_start_matches(HULL_WHY);
            let mut why = format!("{HULL_WHY}your budget buys {mix}, kept by the spend so far; {verdict}");
            if !unknown.is_empty() {
                why.push_str(&format!(
                    "; nothing is known of {}'s model, so the tiers are taken to be as good as their prices",
                    unknown.join(", ")
                ));
            }
            why
        };
        Ok(BudgetStatus {
            target: settings.cost_share,
            realized: spend.share(),
            prompts: spend.prompts,
            router: if learned { "learned" } else { "hull" }.into(),
            why,
            tiers: abilities,
        })
    }

    /// Which router the dial uses at these settings and why: the learned router only where `eval` on the
    /// user's own tiers' answers put its interval above the hull at this very budget; else the hull, saying
    /// what would change that.
    pub(crate) fn router_used(&self, settings: &RouteSettings, tiers: &[TierRow]) -> Result<RouterUsed> {
        let verdict = self.router_verdict()?;
        let pct = |x: f64| format!("{:+.1}", 100.0 * x);
        if self.learned_router(settings, tiers)? {
            let v = verdict.as_ref().expect("a learned router has a verdict");
            return Ok(RouterUsed {
                name: "learned".into(),
                why: format!(
                    "the learned router beat the hull of your tiers at {:.0}% by {} points [{}, {}] on {}'s \
                     held-out labels",
                    100.0 * v.share,
                    pct(v.delta),
                    pct(v.ci[0]),
                    pct(v.ci[1]),
                    v.labels
                ),
            });
        }
        let why = match &verdict {
            Some(v) if !v.learned => format!(
                "the learned router did not beat it on {}'s labels of your tiers ({} points [{}, {}])",
                v.labels,
                pct(v.delta),
                pct(v.ci[0]),
                pct(v.ci[1])
            ),
            Some(v) => format!(
                "the learned router beat it on {}'s labels only at {:.0}% of always-top's cost for {} (it decides \
                 only at that budget and with those tiers; eval again to score it here)",
                v.labels,
                100.0 * v.share,
                v.models.join(", ")
            ),
            None => "no labels of your own tiers' answers have scored the learned router yet (label calibrate, then \
                     eval): the shipped classifier's and replayed answers' results never switch it on"
                .to_owned(),
        };
        Ok(RouterUsed { name: "hull".into(), why: format!("{HULL_WHY}{why}") })
    }

    /// [`App::router_used`] for a decision under the saved policy with these overrides (dial only).
    fn router_for(&self, overrides: &RouteOverrides) -> Result<Option<Box<RouterUsed>>> {
        let settings = overrides.apply(self.route_settings()?);
        if settings.policy != PolicyKind::Dial {
            return Ok(None);
        }
        let tiers = self.with_store(|s| Ok(table::tiers(s)?))?;
        self.router_used(&settings, &tiers).map(|r| Some(Box::new(r)))
    }

    /// The recorded verdict on the learned router, if `eval` made one.
    pub fn router_verdict(&self) -> Result<Option<RouterVerdict>> {
        self.with_store(|s| Ok(s.setting(VERDICT_KEY)?.and_then(|v| serde_json::from_str(&v).ok())))
    }

    /// The models behind a classifier's per-tier figures: its label run's, where the run is here; else its tiers'
    /// names (a replayed run's are the models).
    pub(crate) fn learned_models(&self, meta: &Meta) -> Vec<String> {
        let from_run =
            self.with_store(|s| Ok(complexitynet_engine::runs::run_models(s, &meta.labels)?)).unwrap_or_default();
        if !from_run.is_empty() {
            return from_run;
        }
        meta.report.tier_metrics.iter().map(|t| t.tier.trim_start_matches("replay:").to_owned()).collect()
    }

    /// Whether the learned router (the classifier's pass probabilities, `p_k − λ·c_k`) replaces the hull: only
    /// where held-out evaluation on labels of these very tiers' models put it above the hull at this budget (the
    /// lower end of the interval above 0), as `eval` records it.
    fn learned_router(&self, settings: &RouteSettings, tiers: &[TierRow]) -> Result<bool> {
        let Some(v) = self.router_verdict()? else { return Ok(false) };
        let same_tiers = v.models.len() == tiers.len()
            && v.models.iter().zip(tiers).all(|(m, t)| crate::abilities::same_model(m, &t.model));
        Ok(v.learned && same_tiers && (v.share - settings.cost_share).abs() < 1e-9 && settings.min_pass.is_none())
    }

    /// The dial's expected curve and the saved operating point, for Settings.
    pub fn dial_curve(&self) -> Result<DialCurve> {
        let settings = self.route_settings()?;
        let c = self.active_classifier()?;
        let (tiers, mode) = self.with_store(|s| Ok((table::tiers(s)?, table::cost_mode(s)?)))?;
        let costs = relative_costs(&tiers, mode);
        let (pool, held_out, user) = self.dial_pool(&c.meta, tiers.len())?;
        let at = |lambda: f64| {
            let w: f64 = pool.iter().map(|(_, w)| w).sum::<f64>().max(1e-12);
            let (mut cost, mut pass) = (0.0, 0.0);
            for (p, wt) in &pool {
                let k = route::dial_choice(p, lambda, &costs);
                cost += wt * costs[k];
                pass += wt * p[k];
            }
            [cost / w, pass / w]
        };
        let mut points: Vec<[f64; 2]> = [0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0]
            .iter()
            .map(|&s| at(route::calibrate_for_cost(&pool, &costs, s)))
            .collect();
        points.sort_by(|a, b| a[0].total_cmp(&b[0]));
        points.dedup_by(|a, b| (a[0] - b[0]).abs() < 1e-9);
        let lambda = self.dial_lambda(&c, &settings, &costs)?;
        Ok(DialCurve { points, operating: at(lambda), lambda, held_out, user })
    }

    /// Where a prompt goes and why, skipping the tiers in `failed` (they failed on this request) and those above
    /// the overrides' `max_tier`. Made even when no tier can answer: then `available` is false and each tier
    /// says what it lacks.
    pub async fn decide(&self, prompt: &str, overrides: &RouteOverrides, failed: &[String]) -> Result<Decision> {
        let budget = self.live_budget(prompt)?;
        self.decide_within(prompt, overrides, failed, budget).await
    }

    /// [`App::decide`] for a request some tiers cannot take (tools, images, a context window too small), each
    /// with why: the policy's choice falls through past them.
    pub async fn decide_cannot(
        &self,
        prompt: &str,
        overrides: &RouteOverrides,
        cannot: &[(String, String)],
    ) -> Result<Decision> {
        let budget = self.live_budget(prompt)?;
        let (c, policy) = self.routing(overrides)?;
        let p = c.classify(prompt, &CancellationToken::new()).await?;
        let skip = route::Skip { failed: Vec::new(), cap: overrides.max_tier.clone(), cannot: cannot.to_vec() };
        let mut d = self.decide_from(&policy, &p, &skip, budget)?;
        d.router = self.router_for(overrides)?;
        let learned_for = self.learned_models(&c.meta);
        let pass = align(&p.tier_pass, d.tiers.len());
        let pass: Vec<f64> = if p.tier_pass.is_empty() { Vec::new() } else { pass };
        self.explain_tiers(prompt, &mut d.tiers, &learned_for, &pass)?;
        Ok(d)
    }

    /// [`App::decide`] with a given spend so far (a file of prompts keeps its own).
    pub async fn decide_within(
        &self,
        prompt: &str,
        overrides: &RouteOverrides,
        failed: &[String],
        budget: route::Budget,
    ) -> Result<Decision> {
        let (c, policy) = self.routing(overrides)?;
        let p = c.classify(prompt, &CancellationToken::new()).await?;
        let skip = route::Skip { failed: failed.to_vec(), cap: overrides.max_tier.clone(), ..Default::default() };
        let mut d = self.decide_from(&policy, &p, &skip, budget)?;
        d.router = self.router_for(overrides)?;
        let learned_for = self.learned_models(&c.meta);
        let pass = align(&p.tier_pass, d.tiers.len());
        let pass: Vec<f64> = if p.tier_pass.is_empty() { Vec::new() } else { pass };
        self.explain_tiers(prompt, &mut d.tiers, &learned_for, &pass)?;
        Ok(d)
    }

    /// Routes a file's prompts in order, as if they arrived one by one: the dial's budget is kept over them (each
    /// prompt's cost taken as its tier's price relative to the top tier's).
    pub async fn decide_all(&self, prompts: &[String], overrides: &RouteOverrides) -> Result<Vec<Decision>> {
        let (tiers, mode) = self.with_store(|s| Ok((table::tiers(s)?, table::cost_mode(s)?)))?;
        let costs = relative_costs(&tiers, mode);
        let mut spend = route::Spend::default();
        let mut out = Vec::with_capacity(prompts.len());
        for p in prompts {
            let d = self.decide_within(p, overrides, &[], route::Budget { spend, top: 1.0 }).await?;
            // The budget counts the dial's choice (`chosen`): whether that tier can answer right now (a key, a
            // model file) is the fall-through's business, not the budget's.
            let k = tiers.iter().position(|t| t.name == d.chosen).unwrap_or(0);
            spend.add(costs.get(k).copied().unwrap_or(1.0), 1.0);
            out.push(d);
        }
        Ok(out)
    }

    /// The decision for a prediction already made.
    pub fn decide_from(
        &self,
        policy: &Policy,
        p: &artifact::Prediction,
        skip: &route::Skip,
        budget: route::Budget,
    ) -> Result<Decision> {
        self.with_store(|s| {
            let pass = align(&p.tier_pass, table::tiers(s)?.len());
            let input = route::Prediction {
                levels: &p.levels,
                probabilities: &p.probabilities,
                pass: &pass,
                classifier: &p.classifier,
                budget,
            };
            crate::decide::decide(s, self.secrets(), policy, &input, skip)
        })
    }

    /// Scores the policies on a label run's held-out predictions (the classifier must have been cross-validated
    /// on exactly these labels). Shared by `eval` and the Evaluate tab.
    pub fn evaluate(
        &self,
        labels: &str,
        overrides: &RouteOverrides,
        costs: Option<Vec<f64>>,
        labeled_only: bool,
    ) -> Result<EvalReport> {
        let settings = overrides.apply(self.route_settings()?);
        settings.validate()?;
        let (set, meta) = self.with_store(|s| {
            let set = crate::training::labeled_set(s, labels)?;
            let id = match &overrides.classifier {
                Some(i) => i.clone(),
                None => crate::training::active_id(s)?,
            };
            Ok((set, crate::training::stored(s, &id)?.0))
        })?;
        if meta.training_hash != set.hash() || meta.report.cv_predictions.is_empty() {
            return Err(AppError::new(
                ErrorCode::LabelsUnusable,
                format!(
                    "classifier {} was not cross-validated on the labels of {labels:?}, so it has no held-out \
                     predictions for them; train one on these labels first (complexitynet train --labels {labels} \
                     --method pass)",
                    meta.id
                ),
            ));
        }
        let predictions: HashMap<String, Vec<f32>> =
            meta.report.cv_predictions.iter().map(|h| (h.task_id.clone(), h.probabilities.clone())).collect();
        let tier_pass: HashMap<String, Vec<f32>> = meta
            .report
            .cv_predictions
            .iter()
            .filter(|h| !h.tier_pass.is_empty())
            .map(|h| (h.task_id.clone(), h.tier_pass.clone()))
            .collect();
        let k = set.tiers.len();
        let cost_unit = if costs.is_some() { "given costs" } else { "the paper's compute units: 1, 10, 100" };
        let costs = costs.unwrap_or_else(|| (0..k).map(|i| 10f64.powi(i as i32)).collect());
        // The saved policy, as the app would route with it (the dial calibrated on these held-out predictions).
        let tiers_now = self.with_store(|s| Ok(table::tiers(s)?))?;
        let (policy, policy_name) = match settings.policy {
            // The default dial, as the app routes these tiers: the hull mix (the tiers' pass rates on these tasks
            // placing the hull), under the controller.
            PolicyKind::Dial if settings.min_pass.is_none() && !self.learned_router(&settings, &tiers_now)? => {
                let top = costs.last().copied().unwrap_or(1.0);
                let rel: Vec<f64> = costs.iter().map(|c| c / top).collect();
                let fractions = set.pass_fractions();
                let profiles: Vec<route::TierProfile> = (0..k)
                    .map(|t| {
                        let xs: Vec<f64> =
                            fractions.iter().map(|r| f64::from(r[t])).filter(|x| x.is_finite()).collect();
                        let rate = xs.iter().sum::<f64>() / xs.len().max(1) as f64;
                        route::TierProfile { cost: rel[t], rate: Some(rate) }
                    })
                    .collect();
                let (lower, upper, _) = route::mix(&profiles, settings.cost_share);
                (
                    Policy::Hull { share: settings.cost_share, lower, upper, costs: rel },
                    format!(
                        "dial at {:.1}% of the top tier's cost (the hull mix, the default)",
                        100.0 * settings.cost_share
                    ),
                )
            }
            PolicyKind::Dial => {
                let pool = held_out_pool(&meta, k);
                let top = costs.last().copied().unwrap_or(1.0);
                let rel: Vec<f64> = costs.iter().map(|c| c / top).collect();
                let weighted: Vec<(Vec<f64>, f64)> = pool.into_iter().map(|p| (p, 1.0)).collect();
                let (lambda, name) = match settings.min_pass {
                    Some(m) => (
                        route::calibrate_for_pass(&weighted, &rel, m),
                        format!("dial, expected pass ≥ {:.0}%", 100.0 * m),
                    ),
                    None => (
                        route::calibrate_for_cost(&weighted, &rel, settings.cost_share),
                        format!("dial at {:.1}% of the top tier's cost", 100.0 * settings.cost_share),
                    ),
                };
                (Policy::Dial { lambda, costs: rel }, name)
            }
            PolicyKind::Threshold => {
                (Policy::Threshold { tau: settings.tau }, format!("threshold τ={:.2}", settings.tau))
            }
            PolicyKind::Paper => (settings.fixed_policy(set.rule.name(), &set.levels, k)?, "paper map".to_owned()),
        };
        let opts = EvalOptions {
            classifier: meta.id.clone(),
            policy,
            policy_name,
            costs,
            cost_unit: cost_unit.into(),
            folds: meta.report.folds,
            seed: meta.report.seed,
            tier_pass,
            tier_metrics: meta.report.tier_metrics.clone(),
            shown: Some(self.shown_judgements(labels)?),
            unsolved: if labeled_only { Vec::new() } else { self.unsolved_tasks(labels, &meta)? },
        };
        let report = eval::evaluate_routing(&set, &predictions, &opts)?;
        self.record_verdict(&report, &meta, &settings)?;
        Ok(report)
    }

    /// The tasks of a run that no tier solved (every trial failed), each with the classifier's final model's
    /// prediction: it never trained on them (they carry no label), so the prediction is held out by construction.
    /// Empty when the classifier cannot predict without the runtime (a method that calls a model or an encoder).
    fn unsolved_tasks(&self, labels: &str, meta: &Meta) -> Result<Vec<eval::Unsolved>> {
        use futures_util::FutureExt;
        let (summary, tasks) = self.with_store(|s| {
            let summary = complexitynet_engine::runs::summary(s, labels)?;
            let tasks = complexitynet_engine::dataset::all_tasks(s, &summary.dataset)?;
            Ok((summary, tasks))
        })?;
        let prompts: HashMap<&str, &str> = tasks.iter().map(|t| (t.task_id.as_str(), t.prompt.as_str())).collect();
        let c = self.classifier(Some(&meta.id))?;
        let mut out = Vec::new();
        for row in &summary.labels {
            let complete = !row.trials.is_empty() && row.trials.iter().all(|&t| t > 0);
            if row.level.is_some() || !complete || row.counts.iter().any(|&c| c > 0) {
                continue;
            }
            let Some(prompt) = prompts.get(row.task_id.as_str()) else { continue };
            let Some(p) = c.classify(prompt, &CancellationToken::new()).now_or_never() else { return Ok(Vec::new()) };
            let p = p?;
            out.push(eval::Unsolved {
                task_id: row.task_id.clone(),
                probabilities: p.probabilities,
                tier_pass: p.tier_pass,
            });
        }
        Ok(out)
    }

    /// When the evaluated labels are of the tiers' own models, records whether the learned router beat the hull
    /// at the saved budget: that decides which router the dial uses.
    fn record_verdict(&self, report: &EvalReport, meta: &Meta, settings: &RouteSettings) -> Result<()> {
        // Replayed answers (the paper's, say) are not the user's tiers' evidence, even under the same model names:
        // what they say of the learned router never switches it on.
        if self.with_store(|s| Ok(complexitynet_engine::runs::is_replayed(s, &report.labels)?))? {
            tracing::info!(labels = %report.labels, "replayed labels: no verdict on the learned router recorded");
            return Ok(());
        }
        let models = self.learned_models(meta);
        let tiers = self.with_store(|s| Ok(table::tiers(s)?))?;
        let same = models.len() == tiers.len()
            && models.iter().zip(&tiers).all(|(m, t)| crate::abilities::same_model(m, &t.model));
        let at = report
            .comparisons
            .iter()
            .find(|c| c.policy == "dial")
            .and_then(|c| c.at.iter().find(|a| (a.cost_share - settings.cost_share).abs() < 1e-9));
        let (true, Some(at)) = (same, at) else { return Ok(()) };
        let v = RouterVerdict {
            learned: at.ci[0] > 0.0,
            share: settings.cost_share,
            models,
            labels: report.labels.clone(),
            classifier: meta.id.clone(),
            delta: at.delta,
            ci: at.ci,
        };
        let json = serde_json::to_string(&v).map_err(|e| AppError::internal(e.to_string()))?;
        self.with_store(|s| Ok(s.set_setting(VERDICT_KEY, Some(&json))?))?;
        *lock(&self.dial) = None;
        Ok(())
    }

    /// Each task's answers in a label run judged by the checks its prompt shows ([`Checks::shown`]), tier by tier,
    /// for the honest cascade. Answers are judged once, in the sandbox, and the verdicts kept with the trials, so
    /// later evaluations are immediate.
    pub fn shown_judgements(&self, run: &str) -> Result<HashMap<String, eval::Shown>> {
        let (trials, tasks, k) = self.with_store(|s| {
            let summary = complexitynet_engine::runs::summary(s, run)?;
            let tasks = complexitynet_engine::dataset::all_tasks(s, &summary.dataset)?;
            Ok((complexitynet_engine::runs::trial_answers(s, run)?, tasks, summary.config.tiers.len()))
        })?;
        let checks: HashMap<&str, Checks> = tasks.iter().map(|t| (t.task_id.as_str(), Checks::shown(t))).collect();
        let todo: Vec<&complexitynet_engine::runs::TrialAnswer> =
            trials.iter().filter(|t| t.shown.is_none() && checks.contains_key(t.key.task_id.as_str())).collect();
        let mut shown: HashMap<TrialKey, i64> =
            trials.iter().filter_map(|t| t.shown.map(|v| (t.key.clone(), v))).collect();
        if !todo.is_empty() {
            let _span = tracing::info_span!("judge_shown", run, answers = todo.len()).entered();
            let pairs: Vec<(&str, &Checks)> =
                todo.iter().map(|t| (t.answer.as_str(), &checks[t.key.task_id.as_str()])).collect();
            let jobs = complexitynet_verify::sandbox::default_parallelism();
            let judged = judge::judge_all(&self.verifier(), &pairs, Limits::default(), jobs, &|_| {});
            if let Some(j) = judged.iter().find(|j| matches!(j.verdict.outcome, Outcome::SandboxUnavailable { .. })) {
                return Err(AppError::new(ErrorCode::SandboxUnavailable, j.verdict.summary()));
            }
            let verdicts: Vec<(TrialKey, i64)> = todo
                .iter()
                .zip(&judged)
                .map(|(t, j)| {
                    let v = match j.verdict.outcome {
                        Outcome::Passed => 1,
                        Outcome::Unchecked { .. } => -1,
                        _ => 0,
                    };
                    (t.key.clone(), v)
                })
                .collect();
            self.with_store(|s| Ok(complexitynet_engine::runs::set_shown_verdicts(s, &verdicts)?))?;
            shown.extend(verdicts);
        }
        let mut out: HashMap<String, eval::Shown> = HashMap::new();
        for t in &trials {
            let Some(&v) = shown.get(&t.key) else { continue };
            let e = out
                .entry(t.key.task_id.clone())
                .or_insert_with(|| eval::Shown { unchecked: false, tiers: vec![eval::Judged::default(); k] });
            let Some(j) = e.tiers.get_mut(t.key.tier_index as usize) else { continue };
            j.trials += 1;
            if v < 0 {
                e.unchecked = true;
            }
            let accepted = v == 1;
            j.accepted += u32::from(accepted);
            j.accepted_correct += u32::from(accepted && t.passed);
            j.rejected_correct += u32::from(!accepted && t.passed);
        }
        Ok(out)
    }

    /// [`App::evaluate`] with the plot and Markdown, for the Evaluate tab.
    pub fn evaluation(&self, labels: &str, overrides: &RouteOverrides) -> Result<Evaluation> {
        let report = self.evaluate(labels, overrides, None, false)?;
        Ok(Evaluation { svg: eval::plot_svg(&report), markdown: eval::markdown(&report), report })
    }

    /// `eval --out DIR`: report.json, report.md and plot.svg.
    pub fn write_evaluation(&self, report: &EvalReport, out: &Path) -> Result<()> {
        let io = |e: std::io::Error| AppError::internal(format!("writing the report to {}: {e}", out.display()));
        std::fs::create_dir_all(out).map_err(io)?;
        let json = serde_json::to_string_pretty(report).map_err(|e| AppError::internal(e.to_string()))?;
        std::fs::write(out.join("report.json"), json).map_err(io)?;
        std::fs::write(out.join("report.md"), eval::markdown(report)).map_err(io)?;
        std::fs::write(out.join("plot.svg"), eval::plot_svg(report)).map_err(io)?;
        Ok(())
    }
}
