//! Models & Keys tab: tiers and prices, providers, API keys (written to the keychain, never read back), local
//! models (add, download with progress and pause/resume, load, unload), and "ask this tier" with streaming.

use complexitynet_core::ask::{AskEvent, AskOutcome, AskRequest};
use complexitynet_core::jobs::DownloadEvent;
use complexitynet_core::keys::{KeyTable, ProviderUpdate, TierFields, TierTable};
use complexitynet_core::models::{CatalogModelView, LocalStatus, ModelView};
use complexitynet_core::types::ModelRow;
use complexitynet_core::types::{CostMode, Preset, ProviderRow, TierRow};
use complexitynet_core::types::{GenParams, Message};
use std::path::PathBuf;
use tauri::ipc::Channel;

use super::{forward, AppError, AppState};

#[tauri::command(rename_all = "snake_case")]
pub async fn tiers_list(app: AppState<'_>) -> Result<TierTable, AppError> {
    app.blocking(|a| a.tier_table()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn tier_set(app: AppState<'_>, name: String, fields: TierFields) -> Result<TierRow, AppError> {
    app.blocking(move |a| a.set_tier(&name, &fields)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn tier_presets(app: AppState<'_>) -> Result<Vec<Preset>, AppError> {
    app.blocking(|a| Ok(a.presets())).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn tier_preset_apply(app: AppState<'_>, name: String) -> Result<TierTable, AppError> {
    app.blocking(move |a| a.apply_preset(&name)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn cost_mode_set(app: AppState<'_>, mode: CostMode) -> Result<(), AppError> {
    app.blocking(move |a| a.set_cost_mode(mode)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn provider_set(app: AppState<'_>, name: String, fields: ProviderUpdate) -> Result<ProviderRow, AppError> {
    app.blocking(move |a| a.set_provider(&name, &fields)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn keys_list(app: AppState<'_>) -> Result<KeyTable, AppError> {
    app.blocking(|a| a.keys()).await
}

/// Stores a key in the keychain and returns only its mask: the page never gets a key back.
#[tauri::command(rename_all = "snake_case")]
pub async fn key_set(app: AppState<'_>, provider: String, key: String) -> Result<String, AppError> {
    app.blocking(move |a| a.set_key(&provider, &key)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn key_delete(app: AppState<'_>, provider: String) -> Result<bool, AppError> {
    app.blocking(move |a| a.delete_key(&provider)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn models_list(app: AppState<'_>) -> Result<Vec<ModelView>, AppError> {
    app.blocking(|a| a.models()).await
}

#[tauri::command(rename_all = "snake_case")]
pub fn models_catalog(app: AppState<'_>) -> Result<Vec<CatalogModelView>, AppError> {
    app.model_catalog()
}

#[tauri::command(rename_all = "snake_case")]
pub async fn model_add(app: AppState<'_>, path: PathBuf, name: Option<String>) -> Result<ModelRow, AppError> {
    app.blocking(move |a| a.add_model(&path, name.as_deref())).await
}

/// Downloads a catalog model or URL with progress; `job_cancel(job)` pauses it (the next start resumes).
#[tauri::command(rename_all = "snake_case")]
pub async fn model_download(
    app: AppState<'_>,
    spec: String,
    job: String,
    on_event: Channel<DownloadEvent>,
) -> Result<ModelRow, AppError> {
    app.download_model_job(&spec, &job, &forward(on_event)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn model_load(app: AppState<'_>, name: String) -> Result<(), AppError> {
    app.blocking(move |a| a.load_model(&name)).await
}

#[tauri::command(rename_all = "snake_case")]
pub fn model_unload(app: AppState<'_>, name: String) -> bool {
    app.unload_model(&name)
}

/// Asks one tier and streams its answer; `job_cancel(job)` stops it.
#[tauri::command(rename_all = "snake_case")]
pub async fn ask_tier(
    app: AppState<'_>,
    tier: String,
    prompt: String,
    job: String,
    on_event: Channel<AskEvent>,
) -> Result<AskOutcome, AppError> {
    let params = GenParams { temperature: 0.2, max_tokens: 512, ..GenParams::default() };
    let req = AskRequest::to_tier(tier, vec![Message::user(prompt)], params);
    app.ask_job(&job, &req, &forward(on_event)).await
}

/// Whether the local tier has its model, and what to download when it has not (the first-launch notice).
#[tauri::command(rename_all = "snake_case")]
pub async fn local_status(app: AppState<'_>) -> Result<LocalStatus, AppError> {
    app.blocking(|a| a.local_status()).await
}
