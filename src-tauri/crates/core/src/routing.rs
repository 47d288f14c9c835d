//! Routing: the saved policy (typed, through the store), per-call overrides, the decision for a prompt (the
//! classifier's prediction → the policy's tier → the first tier that can answer), the cost dial's calibration,
//! and the evaluation of the policies on a label run's held-out predictions.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use complexitynet_classifier::artifact::{self, Classifier, Meta};
use complexitynet_classifier::eval::{self, EvalOptions, EvalReport};
use complexitynet_classifier::LabeledSet;
use complexitynet_engine::label::run::TrialKey;
use complexitynet_engine::route::{self, Decision, Policy, PolicyKind, RouteSettings};
use complexitynet_engine::tiers::table::{self, CostMode, TierRow};
use complexitynet_engine::tiers::CancellationToken;
use complexitynet_engine::verify::checks::Checks;
use complexitynet_engine::verify::judge;
use complexitynet_engine::verify::{Limits, Outcome};
use complexitynet_engine::ErrorCode;
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
fn relative_costs(tiers: &[TierRow], mode: CostMode) -> Vec<f64> {
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
        self.with_store(|s| Ok(route::load_settings(s)?))
    }

    /// Saves the policy for the chat, `ask`, `route` and the server; returns what is now saved.
    pub fn set_route_settings(&self, settings: &RouteSettings) -> Result<RouteSettings> {
        let saved = self.with_store(|s| {
            route::save_settings(s, settings)?;
            Ok(route::load_settings(s)?)
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
            .with_store(|s| Ok(complexitynet_engine::chat::recent_routes(s, 500)?))?
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
                let lambda = self.dial_lambda(&c, &settings, &costs)?;
                Policy::Dial { lambda, costs }
            }
            _ => settings
                .fixed_policy(c.meta.rule.name(), &c.meta.levels, tiers.len())
                .map_err(|e| AppError::new(e.code(), format!("classifier {}: {e}", c.meta.id)))?,
        };
        Ok((c, policy))
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
        let (c, policy) = self.routing(overrides)?;
        let p = c.classify(prompt, &CancellationToken::new()).await?;
        let skip = route::Skip { failed: failed.to_vec(), cap: overrides.max_tier.clone() };
        self.decide_from(&policy, &p, &skip)
    }

    /// The decision for a prediction already made.
    pub fn decide_from(&self, policy: &Policy, p: &artifact::Prediction, skip: &route::Skip) -> Result<Decision> {
        self.with_store(|s| {
            let pass = align(&p.tier_pass, table::tiers(s)?.len());
            let input = route::Prediction {
                levels: &p.levels,
                probabilities: &p.probabilities,
                pass: &pass,
                classifier: &p.classifier,
            };
            Ok(route::decide(s, self.secrets(), policy, &input, skip)?)
        })
    }

    /// Scores the policies on a label run's held-out predictions (the classifier must have been cross-validated
    /// on exactly these labels). Shared by `eval` and the Evaluate tab.
    pub fn evaluate(&self, labels: &str, overrides: &RouteOverrides, costs: Option<Vec<f64>>) -> Result<EvalReport> {
        let settings = overrides.apply(self.route_settings()?);
        settings.validate()?;
        let (set, meta) = self.with_store(|s| {
            let set = LabeledSet::from_run(s, labels)?;
            let id = match &overrides.classifier {
                Some(i) => i.clone(),
                None => artifact::active_id(s)?,
            };
            Ok((set, artifact::get(s, &id)?.0))
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
        let (policy, policy_name) = match settings.policy {
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
        };
        Ok(eval::evaluate_routing(&set, &predictions, &opts)?)
    }

    /// Each task's answers in a label run judged by the checks its prompt shows ([`Checks::shown`]), tier by tier,
    /// for the honest cascade. Answers are judged once, in the sandbox, and the verdicts kept with the trials, so
    /// later evaluations are immediate.
    pub fn shown_judgements(&self, run: &str) -> Result<HashMap<String, eval::Shown>> {
        let (trials, tasks, k) = self.with_store(|s| {
            let summary = complexitynet_engine::label::run::summary(s, run)?;
            let tasks = complexitynet_engine::dataset::all_tasks(s, &summary.dataset)?;
            Ok((complexitynet_engine::label::run::trial_answers(s, run)?, tasks, summary.config.tiers.len()))
        })?;
        let checks: HashMap<&str, Checks> = tasks.iter().map(|t| (t.task_id.as_str(), Checks::shown(t))).collect();
        let todo: Vec<&complexitynet_engine::label::run::TrialAnswer> =
            trials.iter().filter(|t| t.shown.is_none() && checks.contains_key(t.key.task_id.as_str())).collect();
        let mut shown: HashMap<TrialKey, i64> =
            trials.iter().filter_map(|t| t.shown.map(|v| (t.key.clone(), v))).collect();
        if !todo.is_empty() {
            let _span = tracing::info_span!("judge_shown", run, answers = todo.len()).entered();
            let pairs: Vec<(&str, &Checks)> =
                todo.iter().map(|t| (t.answer.as_str(), &checks[t.key.task_id.as_str()])).collect();
            let jobs = complexitynet_engine::verify::sandbox::default_parallelism();
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
            self.with_store(|s| Ok(complexitynet_engine::label::run::set_shown_verdicts(s, &verdicts)?))?;
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
        let report = self.evaluate(labels, overrides, None)?;
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
