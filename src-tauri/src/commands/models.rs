//! Models & Keys: tiers and prices, providers, API keys (written to the keychain, never read back), local
//! models (add, download with progress and resume, load, unload), and "ask this tier" with streaming.

use complexitynet_engine::keys::{KeyListing, Secret, SecretStore};
use complexitynet_engine::models::{self, ModelRow};
use complexitynet_engine::tiers::table::{self, CostMode, ProviderKind, ProviderRow, TierRow, TierUpdate};
use complexitynet_engine::tiers::{CancellationToken, Completion, GenParams, Message, Request};
use complexitynet_engine::ErrorCode;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::cli_tiers::{build_provider, keychain_err, load_local, model_err, tier_err};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct TierTable {
    pub cost_mode: CostMode,
    pub tiers: Vec<TierRow>,
    pub providers: Vec<ProviderRow>,
}

#[tauri::command]
pub async fn tiers_list(state: State<'_, AppState>) -> Result<TierTable, AppError> {
    state
        .with_store(|s| {
            Ok(TierTable {
                cost_mode: table::cost_mode(s).map_err(tier_err)?,
                tiers: table::tiers(s).map_err(tier_err)?,
                providers: table::providers(s).map_err(tier_err)?,
            })
        })
        .await
}

#[allow(clippy::too_many_arguments)] // one argument per editable field of the tier row
#[tauri::command]
pub async fn tier_set(
    state: State<'_, AppState>,
    name: String,
    provider: Option<String>,
    model: Option<String>,
    price_in: Option<f64>,
    price_out: Option<f64>,
    units: Option<f64>,
) -> Result<TierRow, AppError> {
    state
        .with_store(move |s| {
            let u = TierUpdate {
                provider: provider.as_deref(),
                model: model.as_deref(),
                input_per_1k: price_in,
                output_per_1k: price_out,
                paper_units: units,
            };
            table::set_tier(s, &name, u).map_err(tier_err)
        })
        .await
}

#[tauri::command]
pub async fn cost_mode_set(state: State<'_, AppState>, mode: CostMode) -> Result<(), AppError> {
    state.with_store(move |s| table::set_cost_mode(s, mode).map_err(tier_err)).await
}

#[tauri::command]
pub async fn provider_set(
    state: State<'_, AppState>,
    name: String,
    kind: Option<ProviderKind>,
    base_url: Option<String>,
    concurrency: Option<u32>,
) -> Result<ProviderRow, AppError> {
    state
        .with_store(move |s| {
            table::set_provider(s, &name, kind, base_url.as_deref(), concurrency, None).map_err(tier_err)
        })
        .await
}

#[derive(Debug, Serialize)]
pub struct KeyTable {
    pub keychain: &'static str,
    pub providers: Vec<KeyListing>,
}

#[tauri::command]
pub async fn keys_list(state: State<'_, AppState>) -> Result<KeyTable, AppError> {
    let keychain = state.keychain.clone();
    state
        .with_store(move |s| {
            let mut providers = Vec::new();
            for p in table::providers(s).map_err(tier_err)? {
                if p.kind != ProviderKind::Local {
                    let key = keychain.get(&p.name).map_err(keychain_err)?.map(|k| k.masked());
                    providers.push(KeyListing { provider: p.name, key });
                }
            }
            Ok(KeyTable { keychain: keychain.backend(), providers })
        })
        .await
}

/// Stores a key in the keychain and returns only its mask: the page never gets a key back.
#[tauri::command]
pub async fn key_set(state: State<'_, AppState>, provider: String, key: String) -> Result<String, AppError> {
    let keychain = state.keychain.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let secret = Secret::new(key.trim());
        keychain.set(&provider, &secret).map_err(keychain_err)?;
        tracing::info!(provider, "API key stored in the keychain");
        Ok(secret.masked())
    })
    .await
    .map_err(|e| AppError::internal(e.to_string()))?
}

#[tauri::command]
pub async fn key_delete(state: State<'_, AppState>, provider: String) -> Result<bool, AppError> {
    let keychain = state.keychain.clone();
    tauri::async_runtime::spawn_blocking(move || keychain.delete(&provider).map_err(keychain_err))
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
}

#[derive(Debug, Serialize)]
pub struct ModelView {
    #[serde(flatten)]
    pub row: ModelRow,
    pub file_present: bool,
    pub memory_estimate_bytes: Option<u64>,
    pub loaded: bool,
}

#[tauri::command]
pub async fn models_list(state: State<'_, AppState>) -> Result<Vec<ModelView>, AppError> {
    let loaded: Vec<String> = state.loaded.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
    state
        .with_store(move |s| {
            Ok(models::list(s)
                .map_err(model_err)?
                .into_iter()
                .map(|row| {
                    let path = std::path::Path::new(&row.path);
                    let mem = models::gguf::read(path).ok().map(|i| i.memory_estimate(4096));
                    ModelView {
                        file_present: path.is_file(),
                        memory_estimate_bytes: mem,
                        loaded: loaded.contains(&row.name),
                        row,
                    }
                })
                .collect())
        })
        .await
}

#[tauri::command]
pub async fn models_catalog() -> Result<Vec<serde_json::Value>, AppError> {
    Ok(models::catalog()
        .into_iter()
        .map(|(name, m)| serde_json::json!({"name": name, "title": m.title, "size": m.size, "license": m.license}))
        .collect())
}

#[tauri::command]
pub async fn model_add(state: State<'_, AppState>, path: String, name: Option<String>) -> Result<ModelRow, AppError> {
    let name = name.filter(|n| !n.trim().is_empty());
    state
        .with_store(move |s| models::add(s, std::path::Path::new(&path), name.as_deref(), "file").map_err(model_err))
        .await
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ModelDownloadEvent {
    Progress { received: u64, total: Option<u64> },
}

/// Downloads a catalog model or URL with progress. `job` names it for `job_cancel`: a cancelled download keeps
/// its partial file, and starting it again resumes it (pause / resume).
#[tauri::command]
pub async fn model_download(
    state: State<'_, AppState>,
    spec: String,
    job: String,
    on_event: Channel<ModelDownloadEvent>,
) -> Result<ModelRow, AppError> {
    let (name, req) = models::resolve_download(&spec, None).map_err(model_err)?;
    let cancel = CancellationToken::new();
    state.jobs.lock().unwrap_or_else(|e| e.into_inner()).insert(job.clone(), cancel.clone());
    let last = std::sync::Mutex::new(0u64);
    let progress = move |p: complexitynet_engine::download::DownloadProgress| {
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        if p.received.saturating_sub(*last) >= 1 << 20 || Some(p.received) == p.total {
            *last = p.received;
            let _ = on_event.send(ModelDownloadEvent::Progress { received: p.received, total: p.total });
        }
    };
    let result = tokio::select! {
        r = models::download(&state.data_dir, &name, req, &progress) => r.map_err(model_err),
        _ = cancel.cancelled() => Err(AppError { code: ErrorCode::Cancelled, message: format!("paused: the partial download of {name} is kept and resumes when you start it again") }),
    };
    state.jobs.lock().unwrap_or_else(|e| e.into_inner()).remove(&job);
    let out = result?;
    state.with_store(move |s| models::add(s, &out.path, Some(&name), &spec).map_err(model_err)).await
}

#[tauri::command]
pub async fn job_cancel(state: State<'_, AppState>, job: String) -> Result<bool, AppError> {
    Ok(state.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(&job).map(|c| c.cancel()).is_some())
}

#[tauri::command]
pub async fn model_load(state: State<'_, AppState>, name: String) -> Result<(), AppError> {
    if state.loaded.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&name) {
        return Ok(());
    }
    let n = name.clone();
    let model = state.with_store(move |s| load_local(s, &n)).await?;
    state.loaded.lock().unwrap_or_else(|e| e.into_inner()).insert(name, model);
    Ok(())
}

#[tauri::command]
pub async fn model_unload(state: State<'_, AppState>, name: String) -> Result<bool, AppError> {
    // Dropping the last reference stops the worker thread and frees the model.
    Ok(state.loaded.lock().unwrap_or_else(|e| e.into_inner()).remove(&name).is_some())
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AskEvent {
    Started { tier: String, provider: String, model: String },
    Piece { text: String },
}

#[derive(Debug, Serialize)]
pub struct AskResult {
    pub tier: String,
    pub completion: Completion,
}

/// Asks one tier and streams its answer over the channel; `job` names it for `job_cancel` (stop).
/// The provider for a tier; a local tier's model is loaded once and kept loaded between requests.
pub(crate) async fn provider_for_tier(
    state: &AppState,
    tier_row: &complexitynet_engine::tiers::table::TierRow,
    prov: &complexitynet_engine::tiers::table::ProviderRow,
) -> Result<Box<dyn complexitynet_engine::tiers::Provider>, AppError> {
    let loaded = if prov.kind == ProviderKind::Local {
        let existing = state.loaded.lock().unwrap_or_else(|e| e.into_inner()).get(&tier_row.model).cloned();
        match existing {
            Some(m) => Some(m),
            None => {
                let m = tier_row.model.clone();
                let model = state.with_store(move |s| load_local(s, &m)).await?;
                state.loaded.lock().unwrap_or_else(|e| e.into_inner()).insert(tier_row.model.clone(), model.clone());
                Some(model)
            }
        }
    } else {
        None
    };
    let keychain = state.keychain.clone();
    let (t, p) = (tier_row.clone(), prov.clone());
    state.with_store(move |s| build_provider(s, &t, &p, keychain.as_ref(), loaded)).await
}

#[tauri::command]
pub async fn ask_tier(
    state: State<'_, AppState>,
    tier: String,
    prompt: String,
    job: String,
    on_event: Channel<AskEvent>,
) -> Result<AskResult, AppError> {
    let spec = tier.clone();
    let (tier_row, prov) = state.with_store(move |s| table::resolve(s, &spec).map_err(tier_err)).await?;
    let provider = provider_for_tier(&state, &tier_row, &prov).await?;
    let _ = on_event.send(AskEvent::Started {
        tier: tier_row.name.clone(),
        provider: prov.name.clone(),
        model: tier_row.model.clone(),
    });
    let request = Request {
        model: tier_row.model.clone(),
        messages: vec![Message::user(prompt)],
        params: GenParams { temperature: 0.2, max_tokens: 512, ..GenParams::default() },
        stream: true,
        price: tier_row.price(),
    };
    let cancel = CancellationToken::new();
    state.jobs.lock().unwrap_or_else(|e| e.into_inner()).insert(job.clone(), cancel.clone());
    let events = on_event.clone();
    let on_text = move |t: &str| {
        let _ = events.send(AskEvent::Piece { text: t.to_owned() });
    };
    let result = provider.generate(&request, &on_text, &cancel).await;
    state.jobs.lock().unwrap_or_else(|e| e.into_inner()).remove(&job);
    let completion = result.map_err(|e| AppError::from(complexitynet_engine::EngineError::from(e)))?;
    let (tn, pn, c2) = (tier_row.name.clone(), prov.name.clone(), completion.clone());
    state
        .with_store(move |s| {
            let finish = serde_json::to_value(&c2.finish_reason)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            table::record_call(
                s,
                &table::CallRecord {
                    tier: &tn,
                    provider: &pn,
                    model: &c2.model,
                    prompt_tokens: c2.usage.prompt_tokens,
                    completion_tokens: c2.usage.completion_tokens,
                    cost_usd: c2.cost_usd,
                    latency_ms: c2.latency_ms,
                    finish_reason: &finish,
                    error_kind: None,
                    usage_estimated: c2.usage_estimated,
                },
            )
            .map_err(tier_err)
        })
        .await?;
    Ok(AskResult { tier: tier_row.name, completion })
}
