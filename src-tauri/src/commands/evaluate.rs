//! Evaluate tab: the savings report of `complexitynet eval`, recomputed as the user moves the policy or τ
//! (scoring stored held-out predictions takes milliseconds).

use complexitynet_core::routing::{Evaluation, RouteOverrides};

use super::{AppError, AppState};

#[tauri::command(rename_all = "snake_case")]
pub async fn eval_run(app: AppState<'_>, labels: String, overrides: RouteOverrides) -> Result<Evaluation, AppError> {
    app.blocking(move |a| a.evaluation(&labels, &overrides)).await
}
