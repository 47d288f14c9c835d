use serde::Serialize;
use tauri::State;

use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub version: &'static str,
    pub data_dir: String,
    pub database: String,
    pub logs: String,
}

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo, AppError> {
    Ok(AppInfo {
        version: complexitynet_engine::VERSION,
        data_dir: state.data_dir.root.display().to_string(),
        database: state.data_dir.database().display().to_string(),
        logs: state.data_dir.logs().display().to_string(),
    })
}

/// When the app started, for the first-paint measurement.
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Called by the page once its first frame is painted. Logs the cold-start time (process start to first paint),
/// which `scripts/measure-startup.sh` reads; only the first call counts.
#[tauri::command]
pub fn app_ready() {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !DONE.swap(true, std::sync::atomic::Ordering::SeqCst) {
        let ms = STARTED.get().map(|t| t.elapsed().as_secs_f64() * 1000.0).unwrap_or(f64::NAN);
        tracing::info!(first_paint_ms = ms.round() as u64, "first paint");
    }
}
