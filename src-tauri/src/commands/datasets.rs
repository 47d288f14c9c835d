//! Datasets tab.

use complexitynet_core::datasets::CatalogEntry;
use complexitynet_core::jobs::DownloadEvent;
use complexitynet_core::types::TaskView;
use complexitynet_core::types::{DatasetSummary, Format, ImportOutcome, TaskPage};
use std::path::PathBuf;
use tauri::ipc::Channel;

use super::{forward, AppError, AppState};

#[tauri::command(rename_all = "snake_case")]
pub async fn dataset_list(app: AppState<'_>) -> Result<Vec<DatasetSummary>, AppError> {
    app.blocking(|a| a.datasets()).await
}

/// Imports a file (all or nothing); `format` None detects it.
#[tauri::command(rename_all = "snake_case")]
pub async fn dataset_import(
    app: AppState<'_>,
    path: PathBuf,
    format: Option<Format>,
    name: Option<String>,
    replace: Option<bool>,
) -> Result<ImportOutcome, AppError> {
    app.blocking(move |a| a.import_dataset(&path, format, name.as_deref(), replace.unwrap_or(false))).await
}

#[tauri::command(rename_all = "snake_case")]
pub fn dataset_catalog(app: AppState<'_>) -> Vec<CatalogEntry> {
    app.dataset_catalog()
}

#[tauri::command(rename_all = "snake_case")]
pub async fn dataset_download(
    app: AppState<'_>,
    name: String,
    url: Option<String>,
    on_event: Channel<DownloadEvent>,
) -> Result<ImportOutcome, AppError> {
    app.download_dataset_with_events(&name, url.as_deref(), &forward(on_event)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn dataset_tasks(
    app: AppState<'_>,
    name: String,
    query: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
) -> Result<TaskPage, AppError> {
    let (offset, limit) = (offset.unwrap_or(0), limit.unwrap_or(100).min(500));
    app.blocking(move |a| a.tasks(&name, query.as_deref(), offset, limit)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn dataset_task(app: AppState<'_>, name: String, task_id: String) -> Result<TaskView, AppError> {
    app.blocking(move |a| a.task(&name, &task_id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn dataset_delete(app: AppState<'_>, name: String) -> Result<usize, AppError> {
    app.blocking(move |a| a.delete_dataset(&name)).await
}
