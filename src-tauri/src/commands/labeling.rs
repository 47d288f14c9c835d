//! Labeling: estimate, start (or resume), pause a label run with live progress; runs with their pass rates,
//! histograms and labels; a task's trials.

use complexitynet_engine::label::run::{self, RunConfig, RunSummary, TrialView};
use complexitynet_engine::label::Rule;
use complexitynet_engine::tiers::CancellationToken;
use complexitynet_engine::verify::sandbox::default_parallelism;
use complexitynet_engine::verify::Verifier;
use complexitynet_engine::{EngineError, ErrorCode};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::State;

use crate::cli_label::{build_tiers, select_tasks};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelArgs {
    pub name: String,
    pub dataset: String,
    pub tiers: Vec<String>,
    pub trials: u32,
    pub rule: String,
    pub replay: Option<String>,
    pub limit: Option<usize>,
    pub budget: Option<f64>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
}

fn err(e: impl Into<EngineError>) -> AppError {
    AppError::from(e.into())
}

#[derive(Debug, Serialize)]
pub struct EstimateRow {
    pub tier: String,
    pub calls: u64,
    pub tokens: u64,
    pub cost_usd: f64,
}

#[tauri::command]
pub async fn label_estimate(state: State<'_, AppState>, args: LabelArgs) -> Result<Vec<EstimateRow>, AppError> {
    state
        .with_store(move |s| {
            let tasks = select_tasks(s, &args.dataset, args.limit, None, 0)?;
            let (tiers, prices) = build_tiers(s, &args.tiers, args.replay.as_deref().map(std::path::Path::new), true)?;
            Ok(tiers
                .iter()
                .zip(prices)
                .map(|(t, p)| {
                    let (calls, pin, pout, cost) =
                        run::estimate(&tasks, t.style, p, args.trials, args.max_tokens.unwrap_or(512));
                    EstimateRow { tier: t.spec.clone(), calls, tokens: pin + pout, cost_usd: cost }
                })
                .collect())
        })
        .await
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LabelEvent {
    Trial { tier_index: u32, passed: bool, cost_usd: f64 },
}

/// Starts (or resumes) a run and streams a progress event per stored trial; resolves with the run's summary
/// when it ends — completed, paused (`job_cancel` with the run's name), or stopped by its budget.
#[tauri::command]
pub async fn label_start(
    state: State<'_, AppState>,
    args: LabelArgs,
    on_event: Channel<LabelEvent>,
) -> Result<RunSummary, AppError> {
    let rule = Rule::parse(&args.rule, args.trials, None)
        .map_err(|e| AppError { code: ErrorCode::InvalidArguments, message: e.to_string() })?;
    let a = args.clone();
    let (tasks, tiers, run_id, cfg) = state
        .with_store(move |s| {
            let tasks = select_tasks(s, &a.dataset, a.limit, None, 0)?;
            let (tiers, _) = build_tiers(s, &a.tiers, a.replay.as_deref().map(std::path::Path::new), false)?;
            let cfg = RunConfig {
                tiers: a.tiers.clone(),
                trials: a.trials,
                temperature: a.temperature.unwrap_or(1.0),
                max_tokens: a.max_tokens.unwrap_or(512),
                seed: 0,
                task_ids: tasks.iter().map(|t| t.task_id.clone()).collect(),
                timeout_ms: 10_000,
            };
            let (run_id, _) = run::open_run(s, &a.name, &a.dataset, &cfg, &rule).map_err(err)?;
            Ok((tasks, tiers, run_id, cfg))
        })
        .await?;
    let cancel = CancellationToken::new();
    let job = format!("label:{}", args.name);
    state.jobs.lock().unwrap_or_else(|e| e.into_inner()).insert(job.clone(), cancel.clone());
    let on_trial = Arc::new(move |p: &run::Progress| {
        let _ = on_event.send(LabelEvent::Trial { tier_index: p.tier_index, passed: p.passed, cost_usd: p.cost_usd });
    });
    let outcome = run::execute_cancellable(
        state.data_dir.database(),
        run_id,
        tasks,
        tiers,
        cfg,
        args.budget,
        Arc::new(Verifier::new()),
        default_parallelism(),
        on_trial,
        cancel.clone(),
    )
    .await;
    state.jobs.lock().unwrap_or_else(|e| e.into_inner()).remove(&job);
    let outcome = outcome.map_err(err)?;
    let name = args.name.clone();
    let paused = cancel.is_cancelled();
    state
        .with_store(move |s| {
            let summary = run::summary(s, &name).map_err(err)?;
            let status = if summary.trials_stored == summary.trials_total {
                "complete"
            } else if paused {
                "paused"
            } else if outcome.budget_stopped {
                "stopped_budget"
            } else {
                "incomplete"
            };
            run::set_status(s, &name, status).map_err(err)?;
            run::summary(s, &name).map_err(err)
        })
        .await
}

#[tauri::command]
pub async fn label_runs(state: State<'_, AppState>) -> Result<Vec<RunSummary>, AppError> {
    state.with_store(|s| run::runs(s).map_err(err)?.iter().map(|n| run::summary(s, n).map_err(err)).collect()).await
}

#[tauri::command]
pub async fn label_trials(
    state: State<'_, AppState>,
    name: String,
    task_id: String,
) -> Result<Vec<TrialView>, AppError> {
    state.with_store(move |s| run::trials_of(s, &name, &task_id).map_err(err)).await
}
