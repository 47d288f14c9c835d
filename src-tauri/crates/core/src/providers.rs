//! Provider construction: the one place a tier becomes something that answers. A cloud tier gets its key from
//! the app's secret store; a local tier gets its model from the app's loaded models (loaded on first use, kept
//! loaded). Built providers are cached per tier configuration, so the HTTP connection pool and the local model
//! are reused across requests; a key change or a rejected key drops the cache.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use complexitynet_engine::local_models as models;
use complexitynet_engine::store::Store;
use complexitynet_engine::tiers::{self as table, LocalRuntimeSettings, ProviderKind, ProviderRow, TierRow};
use complexitynet_engine::ErrorCode;
use complexitynet_llm_local::{LocalModel, LocalProvider, LocalSettings};
use complexitynet_providers::anthropic::Anthropic;
use complexitynet_providers::http::CloudConfig;
use complexitynet_providers::openai::OpenAiCompatible;
use complexitynet_providers::{Completion, Price, Provider, ProviderError};

use crate::{lock, App, AppError, Result};

/// The local runtime's settings: stored values over the defaults; `COMPLEXITYNET_LOCAL_THREADS` over both.
pub fn runtime_settings(stored: LocalRuntimeSettings) -> LocalSettings {
    let mut s = LocalSettings::default();
    if let (Some(t), None) = (stored.threads, std::env::var_os("COMPLEXITYNET_LOCAL_THREADS")) {
        s.threads = t as i32;
    }
    if let Some(g) = stored.gpu_layers {
        s.gpu_layers = g;
    }
    if let Some(c) = stored.n_ctx {
        s.n_ctx = c;
    }
    s
}

fn not_installed(model: &str) -> AppError {
    AppError::new(
        ErrorCode::UnknownModel,
        format!(
            "the local tier's model {model:?} is not installed: run `complexitynet models download {model}` (if it is \
             in the catalog), or `complexitynet models add FILE.gguf --name NAME` and `complexitynet tiers set local \
             --model NAME`"
        ),
    )
}

/// Loads a registered local model on its own worker thread (blocking: seconds for a large model).
fn load_model(store: &Store, model: &str) -> Result<LocalModel> {
    let row = models::get(store, model).map_err(|_| not_installed(model))?;
    let info = models::gguf::read(Path::new(&row.path)).map_err(models::ModelError::from)?;
    let settings = runtime_settings(table::local_settings(store)?);
    tracing::info!(model, memory_estimate = info.memory_estimate(settings.n_ctx as u64), "loading the local model");
    Ok(LocalModel::load(Path::new(&row.path), &row.name, settings)?)
}

/// The fingerprint of a tier's configuration: a cached provider is reused only while it is unchanged.
fn cache_key(tier: &TierRow, prov: &ProviderRow) -> String {
    format!("{}|{}|{}|{}|{}|{}", tier.name, tier.model, prov.name, prov.base_url, prov.concurrency, prov.timeout_s)
}

impl App {
    /// A registered local model, loaded once and kept loaded.
    pub fn local_model(&self, name: &str) -> Result<Arc<LocalModel>> {
        if let Some(m) = lock(&self.models).get(name) {
            return Ok(m.clone());
        }
        let model = Arc::new(self.with_store(|s| load_model(s, name))?);
        Ok(lock(&self.models).entry(name.to_owned()).or_insert(model).clone())
    }

    /// Loads a local model ahead of its first request (the Models tab's Load button).
    pub fn load_model(&self, name: &str) -> Result<()> {
        self.local_model(name).map(drop)
    }

    /// Unloads a model: the worker stops once the last request holding it ends. True when it was loaded.
    pub fn unload_model(&self, name: &str) -> bool {
        lock(&self.providers).clear();
        lock(&self.models).remove(name).is_some()
    }

    pub fn loaded_models(&self) -> Vec<String> {
        lock(&self.models).keys().cloned().collect()
    }

    /// The provider that answers for a tier (cached per configuration).
    pub fn provider(&self, tier: &TierRow, prov: &ProviderRow) -> Result<Arc<dyn Provider>> {
        let key = cache_key(tier, prov);
        if let Some(p) = lock(&self.providers).get(&key) {
            return Ok(p.clone());
        }
        let p: Arc<dyn Provider> = match prov.kind {
            ProviderKind::Local => Arc::new(LocalProvider::new(self.local_model(&tier.model)?)),
            kind => {
                let mut cfg = CloudConfig::new(&prov.name, &prov.base_url, None);
                cfg.concurrency = prov.concurrency as usize;
                cfg.request_timeout = Duration::from_secs(prov.timeout_s as u64);
                // Local servers (Ollama, llama-server) need no key; a missing key is only an error for the ones
                // that answer 401, and then the provider's own message says so.
                cfg.api_key = self.secrets().get(&prov.name)?;
                match kind {
                    ProviderKind::Anthropic => Arc::new(Anthropic::new(cfg)),
                    _ => Arc::new(OpenAiCompatible::new(cfg)),
                }
            }
        };
        lock(&self.providers).insert(key, p.clone());
        Ok(p)
    }

    /// Drops cached providers, so the next request reads the keys again.
    pub(crate) fn forget_providers(&self) {
        lock(&self.providers).clear();
    }
}

/// A tier's price per token, as its provider bills it.
pub trait Priced {
    fn price(&self) -> Price;
}

impl Priced for TierRow {
    fn price(&self) -> Price {
        Price { input_per_1k: self.input_per_1k, output_per_1k: self.output_per_1k }
    }
}

/// Records one generation, answered or failed, with the one policy every caller shares: an answer with its
/// tokens, cost and finish reason; a failure with its error kind (a cancelled call too) and no cost. Returns
/// the ledger row's id.
pub(crate) fn record_result(
    store: &Store,
    tier: &str,
    provider: &str,
    model: &str,
    result: &Result<Completion, ProviderError>,
    entry: complexitynet_engine::ledger::Entry,
) -> Result<i64, complexitynet_engine::store::StoreError> {
    let r = match result {
        Ok(c) => complexitynet_engine::ledger::CallRecord {
            tier,
            provider,
            model: &c.model,
            prompt_tokens: c.usage.prompt_tokens,
            completion_tokens: c.usage.completion_tokens,
            cost_usd: c.cost_usd,
            latency_ms: c.latency_ms,
            finish_reason: c.finish_reason.as_str(),
            error_kind: None,
            usage_estimated: c.usage_estimated,
            cached_tokens: c.usage.cached_tokens,
            entry,
        },
        Err(e) => complexitynet_engine::ledger::CallRecord {
            tier,
            provider,
            model,
            prompt_tokens: 0,
            completion_tokens: 0,
            cost_usd: 0.0,
            latency_ms: 0.0,
            finish_reason: "error",
            error_kind: Some(e.kind.as_str()),
            usage_estimated: false,
            cached_tokens: 0,
            entry: complexitynet_engine::ledger::Entry { units: 0.0, top: None, ..entry },
        },
    };
    complexitynet_engine::ledger::record_call(store, &r)
}
