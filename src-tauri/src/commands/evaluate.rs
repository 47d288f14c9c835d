//! Evaluate tab: the savings report of `complexitynet eval`, recomputed as the user moves the policy or τ
//! (scoring stored held-out predictions takes milliseconds).

use complexitynet_classifier::eval::{self, EvalReport};
use serde::Serialize;
use tauri::State;

use crate::cli_route::{evaluate, PolicyArgs};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct Evaluation {
    pub report: EvalReport,
    pub svg: String,
    pub markdown: String,
}

#[tauri::command]
pub async fn eval_run(
    state: State<'_, AppState>,
    labels: String,
    classifier: Option<String>,
    policy: String,
    tau: f64,
    map: Option<String>,
) -> Result<Evaluation, AppError> {
    state
        .with_store(move |s| {
            let args = PolicyArgs { policy, tau, map: map.filter(|m| !m.trim().is_empty()), classifier };
            let report = evaluate(s, &labels, &args, None)?;
            Ok(Evaluation { svg: eval::plot_svg(&report), markdown: eval::markdown(&report), report })
        })
        .await
}
