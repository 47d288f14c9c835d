//! "Calibrate my tiers": a stratified sample of tasks (spread evenly over the difficulty scale learned from many
//! models) answered once by each tier, every answer verified; each tier's model's ability fitted to its results,
//! recorded as that model's calibrated pass rate; then what the budget buys on the hull of those tiers. The cost
//! is estimated first (`dry_run`), and a budget cap stops the run before it would pass it.

use std::sync::Arc;

use complexitynet_classifier::ability;
use complexitynet_engine::tiers::{self as table, ModelRate};
use serde::{Deserialize, Serialize};

use crate::label::{Estimate, LabelEvent, LabelRequest};
use crate::{App, AppError, Result};

/// What to calibrate, and how much to spend on it.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct CalibrateRequest {
    /// The tiers to calibrate, by name (default: every tier).
    #[serde(default)]
    pub tiers: Vec<String>,
    /// Tasks per tier.
    pub n: usize,
    /// The imported MBPP dataset's name.
    pub dataset: String,
    #[ts(optional = nullable)]
    pub budget: Option<f64>,
    pub dry_run: bool,
}

/// One tier's calibration.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CalibratedTier {
    pub tier: String,
    pub model: String,
    pub passed: u32,
    pub tasks: u32,
    /// The MBPP pass rate the fitted ability means (what routing now knows of this model).
    pub rate: f64,
    /// Whether the tier is on the hull of the fixed tiers (a tier that passes less than a cheaper one is not).
    pub on_hull: bool,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Calibration {
    pub run: String,
    pub estimate: Estimate,
    /// Empty for a dry run.
    pub tiers: Vec<CalibratedTier>,
    /// What the saved budget buys now, in words.
    pub budget: String,
    /// On the sampled tasks, each calibrated tier's share of always-top's cost and its pass rate.
    pub fixed: Vec<SamplePoint>,
    /// On the sampled tasks, what the hull of those fixed tiers passes at the saved budget (None for a dry run).
    #[ts(optional = nullable)]
    pub hull_at_budget: Option<f64>,
}

/// A fixed tier on the calibration sample.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SamplePoint {
    pub tier: String,
    pub cost_share: f64,
    pub pass_rate: f64,
}

impl App {
    /// Calibrates the tiers (see the module docs).
    pub async fn calibrate(
        &self,
        req: &CalibrateRequest,
        on_event: Arc<dyn Fn(LabelEvent) + Send + Sync>,
    ) -> Result<Calibration> {
        if req.n == 0 {
            return Err(AppError::invalid("calibrate at least one task per tier (--n)"));
        }
        let all = self.with_store(|s| Ok(table::tiers(s)?))?;
        let names: Vec<String> =
            if req.tiers.is_empty() { all.iter().map(|t| t.name.clone()).collect() } else { req.tiers.clone() };
        let dm = ability::builtin();
        let sample = dm.stratified_sample(req.n);
        let label = LabelRequest {
            name: Some(format!("calibrate-{}-{}", names.join("-"), sample.len())),
            dataset: req.dataset.clone(),
            tiers: names.clone(),
            trials: 1,
            temperature: 0.2,
            // Any number of tiers (single3 wants exactly three): a task's level is the first tier that passed it.
            // Calibration reads the verdicts per tier; the level is only the run's summary.
            rule: "threshold".into(),
            budget: req.budget,
            task_ids: Some(sample.iter().map(|(t, _)| t.clone()).collect()),
            ..LabelRequest::default()
        };
        let estimate = self.estimate_label_run(&label)?;
        let run = label.run_name();
        if req.dry_run {
            return Ok(Calibration {
                run,
                estimate,
                tiers: Vec::new(),
                budget: String::new(),
                fixed: Vec::new(),
                hull_at_budget: None,
            });
        }
        let outcome = self.label_run(&label, on_event).await?;
        // Each tier's model: its ability from its verdicts on tasks of known difficulty.
        let trials = self.with_store(|s| Ok(complexitynet_engine::runs::trial_answers(s, &run)?))?;
        let models = self.with_store(|s| Ok(complexitynet_engine::runs::run_models(s, &run)?))?;
        let mut tiers = Vec::new();
        for (k, name) in names.iter().enumerate() {
            let observed: Vec<(f64, bool)> = trials
                .iter()
                .filter(|t| t.key.tier_index as usize == k)
                .filter_map(|t| dm.reference_difficulty(&t.key.task_id).map(|b| (b, t.passed)))
                .collect();
            if observed.is_empty() {
                continue; // paused, or stopped by the budget, before this tier answered
            }
            let model = models.get(k).cloned().unwrap_or_default();
            let passed = observed.iter().filter(|o| o.1).count() as u32;
            let a = ability::ability_from_outcomes(&observed, 0.0);
            let rate = dm.rate_for_ability(a);
            let detail = format!("calibrated: passed {passed} of {} MBPP tasks (run {run})", observed.len());
            self.with_store(|s| {
                Ok(table::set_model_rate(
                    s,
                    &ModelRate {
                        model: model.clone(),
                        source: "calibrated".into(),
                        benchmark: "mbpp".into(),
                        rate,
                        trials: observed.len() as u32,
                        detail,
                    },
                )?)
            })?;
            tiers.push(CalibratedTier {
                tier: name.clone(),
                model,
                passed,
                tasks: observed.len() as u32,
                rate,
                on_hull: false,
            });
        }
        *crate::lock(&self.dial) = None;
        let status = self.budget_status()?;
        let abilities = self.tier_abilities()?;
        let (rows, mode) = self.with_store(|s| Ok((table::tiers(s)?, table::cost_mode(s)?)))?;
        let costs = crate::routing::relative_costs(&rows, mode);
        let profiles: Vec<complexitynet_router::TierProfile> = costs
            .iter()
            .zip(&abilities)
            .map(|(&cost, a)| complexitynet_router::TierProfile { cost, rate: a.rate })
            .collect();
        let hull = complexitynet_router::mixable(&profiles);
        for t in &mut tiers {
            t.on_hull = rows.iter().position(|r| r.name == t.tier).is_some_and(|i| hull.contains(&i));
        }
        // The sample as a small eval: each tier fixed, and the hull of them at the saved budget.
        let fixed: Vec<SamplePoint> = tiers
            .iter()
            .filter_map(|t| {
                let i = rows.iter().position(|r| r.name == t.tier)?;
                Some(SamplePoint {
                    tier: t.tier.clone(),
                    cost_share: costs[i],
                    pass_rate: f64::from(t.passed) / f64::from(t.tasks.max(1)),
                })
            })
            .collect();
        let hull =
            complexitynet_router::Hull::new(&fixed.iter().map(|p| [p.cost_share, p.pass_rate]).collect::<Vec<_>>());
        let hull_at_budget = (!hull.vertices.is_empty()).then(|| hull.at(status.target));
        tracing::info!(run = %run, stored = outcome.outcome.stored, "calibrated");
        Ok(Calibration { run, estimate, tiers, budget: status.why, fixed, hull_at_budget })
    }
}
