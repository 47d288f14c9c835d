//! The app itself: where its files are, first paint, and the jobs in flight.

use complexitynet_core::jobs::JobInfo;
use serde::Serialize;

use super::{AppError, AppState};

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub database: String,
    pub logs: String,
}

#[tauri::command(rename_all = "snake_case")]
pub async fn app_info(app: AppState<'_>) -> Result<AppInfo, AppError> {
    let d = app.data_dir();
    Ok(AppInfo {
        version: complexitynet_core::types::VERSION.into(),
        data_dir: d.root.display().to_string(),
        database: d.database().display().to_string(),
        logs: d.logs().display().to_string(),
    })
}

/// When the app started, for the first-paint measurement.
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Called by the page once its first frame is painted. Logs the cold-start time (process start to first paint),
/// which `scripts/measure-startup.sh` reads; only the first call counts.
#[tauri::command(rename_all = "snake_case")]
pub fn app_ready() {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !DONE.swap(true, std::sync::atomic::Ordering::SeqCst) {
        let ms = STARTED.get().map(|t| t.elapsed().as_secs_f64() * 1000.0).unwrap_or(f64::NAN);
        tracing::info!(first_paint_ms = ms.round() as u64, "first paint");
    }
}

#[tauri::command(rename_all = "snake_case")]
pub fn jobs_list(app: AppState<'_>) -> Vec<JobInfo> {
    app.jobs().list()
}

/// Stops a job by the id the page gave it (a generation, a download, a label run, a training).
#[tauri::command(rename_all = "snake_case")]
pub fn job_cancel(app: AppState<'_>, job: String) -> bool {
    app.jobs().cancel(&job)
}
