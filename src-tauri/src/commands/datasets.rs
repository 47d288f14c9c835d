use complexitynet_engine::catalog;
use complexitynet_engine::dataset::{self, DatasetSummary, Format, ImportOutcome, TaskPage, TaskView};
use complexitynet_engine::download::DownloadProgress;
use serde::Serialize;
use std::path::PathBuf;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::AppError;
use crate::state::AppState;

#[tauri::command]
pub async fn dataset_list(state: State<'_, AppState>) -> Result<Vec<DatasetSummary>, AppError> {
    state.with_store(|s| Ok(dataset::list(s)?)).await
}

#[tauri::command]
pub async fn dataset_import(
    state: State<'_, AppState>,
    path: String,
    format: Option<String>,
    name: Option<String>,
    replace: Option<bool>,
) -> Result<ImportOutcome, AppError> {
    let format = match format.filter(|f| !f.is_empty() && f != "auto") {
        Some(f) => Some(
            f.parse::<Format>()
                .map_err(|m| AppError { code: complexitynet_engine::ErrorCode::DatasetMalformed, message: m })?,
        ),
        None => None,
    };
    let name = name.filter(|n| !n.trim().is_empty());
    state
        .with_store(move |s| {
            Ok(dataset::import_file(s, &PathBuf::from(path), format, name.as_deref(), replace.unwrap_or(false))?)
        })
        .await
}

#[derive(Debug, Serialize)]
pub struct CatalogEntry {
    pub name: String,
    pub title: String,
    pub url: String,
    pub size: u64,
    pub license: String,
}

#[tauri::command]
pub async fn dataset_catalog() -> Result<Vec<CatalogEntry>, AppError> {
    Ok(catalog::datasets()
        .into_iter()
        .map(|(name, d)| CatalogEntry { name, title: d.title, url: d.url, size: d.size, license: d.license })
        .collect())
}

/// Events of a dataset download, streamed to the page over a channel.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DownloadEvent {
    Progress { received: u64, total: Option<u64> },
    Importing,
}

#[tauri::command]
pub async fn dataset_download(
    state: State<'_, AppState>,
    name: String,
    url: Option<String>,
    on_event: Channel<DownloadEvent>,
) -> Result<ImportOutcome, AppError> {
    let url = url.filter(|u| !u.trim().is_empty());
    let events = on_event.clone();
    // Throttle: the page needs a smooth bar, not an IPC message per 16 KiB chunk.
    let last = std::sync::Mutex::new(0u64);
    let progress = move |p: DownloadProgress| {
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        if p.received == 0 || p.received - *last >= 32 * 1024 || Some(p.received) == p.total {
            *last = p.received;
            let _ = events.send(DownloadEvent::Progress { received: p.received, total: p.total });
        }
    };
    let (entry, fetched) = catalog::fetch_dataset(&state.data_dir, &name, url.as_deref(), &progress).await?;
    let _ = on_event.send(DownloadEvent::Importing);
    let source = url.unwrap_or(entry.url);
    state
        .with_store(move |s| {
            let (format, tasks) = dataset::parse_file(&fetched.path, Some(entry.format))?;
            Ok(dataset::import_tasks(s, &name, format, &source, &tasks, false)?)
        })
        .await
}

#[tauri::command]
pub async fn dataset_tasks(
    state: State<'_, AppState>,
    name: String,
    query: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
) -> Result<TaskPage, AppError> {
    state
        .with_store(move |s| {
            Ok(dataset::list_tasks(s, &name, query.as_deref(), offset.unwrap_or(0), limit.unwrap_or(100).min(500))?)
        })
        .await
}

#[tauri::command]
pub async fn dataset_task(state: State<'_, AppState>, name: String, task_id: String) -> Result<TaskView, AppError> {
    state.with_store(move |s| Ok(dataset::get_task(s, &name, &task_id)?.view(&name))).await
}

#[tauri::command]
pub async fn dataset_delete(state: State<'_, AppState>, name: String) -> Result<usize, AppError> {
    state.with_store(move |s| Ok(dataset::delete(s, &name)?)).await
}
