//! Labeling tab: estimate, start (or resume), pause (`job_cancel("label:NAME")`) a label run with live
//! progress; runs with their pass rates, histograms and labels; a task's trials.

use complexitynet_core::calibrate::{CalibrateRequest, Calibration};
use complexitynet_core::label::{Estimate, LabelEvent, LabelRequest};
use complexitynet_core::types::{RunSummary, TrialView};
use std::sync::Arc;
use tauri::ipc::Channel;

use super::{forward, AppError, AppState};

#[tauri::command(rename_all = "snake_case")]
pub async fn label_estimate(app: AppState<'_>, request: LabelRequest) -> Result<Estimate, AppError> {
    app.blocking(move |a| a.estimate_label_run(&request)).await
}

/// Starts (or resumes) a run, streaming an event per stored trial; resolves with the run's summary when it
/// ends — completed, paused, or stopped by its budget.
#[tauri::command(rename_all = "snake_case")]
pub async fn label_start(
    app: AppState<'_>,
    request: LabelRequest,
    on_event: Channel<LabelEvent>,
) -> Result<RunSummary, AppError> {
    Ok(app.label_run(&request, Arc::new(forward(on_event))).await?.summary)
}

/// The Evaluate tab's one click when there are no labels yet: MBPP labeled from the paper's recorded answers.
#[tauri::command(rename_all = "snake_case")]
pub async fn label_paper_replay(
    app: AppState<'_>,
    recorded: String,
    on_event: Channel<LabelEvent>,
) -> Result<RunSummary, AppError> {
    Ok(app.label_paper_replay(std::path::Path::new(&recorded), None, Arc::new(forward(on_event))).await?.summary)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn label_runs(app: AppState<'_>) -> Result<Vec<RunSummary>, AppError> {
    app.blocking(|a| a.label_runs()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn label_trials(app: AppState<'_>, name: String, task_id: String) -> Result<Vec<TrialView>, AppError> {
    app.blocking(move |a| a.label_trials(&name, &task_id)).await
}

/// Calibrates the tiers on a stratified MBPP sample (`dry_run`: only the estimate), streaming its trials.
#[tauri::command(rename_all = "snake_case")]
pub async fn calibrate_tiers(
    app: AppState<'_>,
    request: CalibrateRequest,
    on_event: Channel<LabelEvent>,
) -> Result<Calibration, AppError> {
    app.calibrate(&request, Arc::new(forward(on_event))).await
}
