//! Routing: the saved policy (typed, through the store), per-call overrides, the decision for a prompt (the
//! classifier's prediction → the policy's tier → the first tier that can answer), and the evaluation of a
//! policy on a label run's held-out predictions.

use std::collections::HashMap;
use std::path::PathBuf;

use complexitynet_classifier::artifact::{self, Classifier};
use complexitynet_classifier::eval::{self, EvalOptions, EvalReport};
use complexitynet_classifier::LabeledSet;
use complexitynet_engine::route::{self, Decision, Policy, PolicyKind, RouteSettings};
use complexitynet_engine::tiers::table;
use complexitynet_engine::tiers::CancellationToken;
use complexitynet_engine::ErrorCode;
use serde::{Deserialize, Serialize};

use crate::{App, AppError, Result};

/// Per-call changes to the saved policy (`--policy`, `--tau`, `--map`, `--classifier`).
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
    /// Route with this classifier instead of the active one.
    #[ts(optional = nullable)]
    pub classifier: Option<String>,
}

impl RouteOverrides {
    pub fn apply(&self, mut s: RouteSettings) -> RouteSettings {
        if let Some(p) = self.policy {
            s.policy = p;
        }
        if let Some(t) = self.tau {
            s.tau = t;
        }
        if let Some(m) = &self.map {
            s.map = Some(m.clone()).filter(|m| !m.trim().is_empty());
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

impl App {
    /// The routing policy saved in Settings.
    pub fn route_settings(&self) -> Result<RouteSettings> {
        self.with_store(|s| Ok(route::load_settings(s)?))
    }

    /// Saves the policy for the chat, `ask`, `route` and the server; returns what is now saved.
    pub fn set_route_settings(&self, settings: &RouteSettings) -> Result<RouteSettings> {
        self.with_store(|s| {
            route::save_settings(s, settings)?;
            Ok(route::load_settings(s)?)
        })
    }

    /// The classifier and the policy a prompt is routed with: the saved policy with the overrides applied.
    pub fn routing(&self, overrides: &RouteOverrides) -> Result<(std::sync::Arc<Classifier>, Policy)> {
        let settings = overrides.apply(self.route_settings()?);
        let c = self.classifier(overrides.classifier.as_deref())?;
        let tiers = self.with_store(|s| Ok(table::tiers(s)?.len()))?;
        let policy = settings
            .policy(c.meta.rule.name(), &c.meta.levels, &c.meta.report.tier_success, tiers)
            .map_err(|e| AppError::new(e.code(), format!("classifier {}: {e}", c.meta.id)))?;
        Ok((c, policy))
    }

    /// Where a prompt goes and why, skipping the tiers in `failed` (they failed on this request). Made even
    /// when no tier can answer: then `available` is false and each tier says what it lacks.
    pub async fn decide(&self, prompt: &str, overrides: &RouteOverrides, failed: &[String]) -> Result<Decision> {
        let (c, policy) = self.routing(overrides)?;
        let p = c.classify(prompt, &CancellationToken::new()).await?;
        self.decide_from(&c, &policy, &p, failed)
    }

    /// The decision for a prediction already made.
    pub fn decide_from(
        &self,
        c: &Classifier,
        policy: &Policy,
        p: &artifact::Prediction,
        failed: &[String],
    ) -> Result<Decision> {
        let input = route::Prediction {
            levels: &p.levels,
            probabilities: &p.probabilities,
            success: &c.meta.report.tier_success,
            classifier: &p.classifier,
        };
        self.with_store(|s| Ok(route::decide(s, self.secrets(), policy, &input, failed)?))
    }

    /// Scores a policy on a label run's held-out predictions (the classifier must have been cross-validated on
    /// exactly these labels). Shared by `eval` and the Evaluate tab.
    pub fn evaluate(&self, labels: &str, overrides: &RouteOverrides, costs: Option<Vec<f64>>) -> Result<EvalReport> {
        let settings = overrides.apply(self.route_settings()?);
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
                     --method head)",
                    meta.id
                ),
            ));
        }
        let predictions: HashMap<String, Vec<f32>> =
            meta.report.cv_predictions.iter().map(|h| (h.task_id.clone(), h.probabilities.clone())).collect();
        let k = set.tiers.len();
        let cost_unit = if costs.is_some() { "given costs" } else { "the paper's compute units: 1, 10, 100" };
        let costs = costs.unwrap_or_else(|| (0..k).map(|i| 10f64.powi(i as i32)).collect());
        // The threshold policy's per-level pass rates come from the other folds inside the evaluation, so the
        // policy is built with the set's (non-empty) rates only to validate τ.
        let policy = settings.policy(set.rule.name(), &set.levels, &set.tier_success(), k)?;
        let opts = EvalOptions {
            classifier: meta.id.clone(),
            policy,
            costs,
            cost_unit: cost_unit.into(),
            folds: meta.report.folds,
            seed: meta.report.seed,
        };
        Ok(eval::evaluate_routing(&set, &predictions, &opts)?)
    }

    /// [`App::evaluate`] with the plot and Markdown, for the Evaluate tab.
    pub fn evaluation(&self, labels: &str, overrides: &RouteOverrides) -> Result<Evaluation> {
        let report = self.evaluate(labels, overrides, None)?;
        Ok(Evaluation { svg: eval::plot_svg(&report), markdown: eval::markdown(&report), report })
    }

    /// `eval --out DIR`: report.json, report.md and plot.svg.
    pub fn write_evaluation(&self, report: &EvalReport, out: &PathBuf) -> Result<()> {
        let io = |e: std::io::Error| AppError::internal(format!("writing the report to {}: {e}", out.display()));
        std::fs::create_dir_all(out).map_err(io)?;
        let json = serde_json::to_string_pretty(report).map_err(|e| AppError::internal(e.to_string()))?;
        std::fs::write(out.join("report.json"), json).map_err(io)?;
        std::fs::write(out.join("report.md"), eval::markdown(report)).map_err(io)?;
        std::fs::write(out.join("plot.svg"), eval::plot_svg(report)).map_err(io)?;
        Ok(())
    }
}
