//! API keys (in the secret store only: a key is written, masked for display, never returned), providers, tiers
//! and their prices, and the cost mode.

use complexitynet_engine::ledger::CallRow;
use complexitynet_engine::tiers::{self as table, CostMode, ProviderKind, ProviderRow, TierRow, TierUpdate};
use complexitynet_providers::keys::{KeyListing, Secret};
use serde::Serialize;

use crate::{App, Result};

/// The providers with their keys, masked to the last 4 characters.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct KeyTable {
    pub keychain: String,
    /// Why no key can be saved here (the keychain failed a write-read-delete round trip) and what to start; the
    /// window shows it beside the key fields. None when keys save.
    pub problem: Option<String>,
    pub providers: Vec<KeyListing>,
}

/// The tiers, the providers and the cost mode.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct TierTable {
    pub cost_mode: CostMode,
    pub tiers: Vec<TierRow>,
    pub providers: Vec<ProviderRow>,
    /// What is known of each tier's model, in tier order.
    pub abilities: Vec<crate::abilities::TierAbility>,
}

/// A provider's fields; None keeps the current value.
#[derive(Debug, Clone, Default, serde::Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct ProviderUpdate {
    #[ts(optional = nullable)]
    pub kind: Option<ProviderKind>,
    #[ts(optional = nullable)]
    pub base_url: Option<String>,
    #[ts(optional = nullable)]
    pub concurrency: Option<u32>,
    #[ts(optional = nullable)]
    pub timeout_s: Option<u32>,
}

/// A tier's fields; None keeps the current value.
#[derive(Debug, Clone, Default, serde::Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct TierFields {
    #[ts(optional = nullable)]
    pub provider: Option<String>,
    #[ts(optional = nullable)]
    pub model: Option<String>,
    /// US dollars per 1K input tokens.
    #[ts(optional = nullable)]
    pub price_in: Option<f64>,
    /// US dollars per 1K output tokens.
    #[ts(optional = nullable)]
    pub price_out: Option<f64>,
    /// The paper's unit cost of one call.
    #[ts(optional = nullable)]
    pub units: Option<f64>,
    /// The tier's model's published pass rate, `mbpp:0.66`: what the router knows of it until your own outcomes
    /// or a calibration say more.
    #[ts(optional = nullable)]
    pub published: Option<String>,
    /// The model's context window in tokens (0 clears it: not known).
    #[ts(optional = nullable)]
    pub context_window: Option<u32>,
    /// The longest answer the model writes, in tokens (0 clears it).
    #[ts(optional = nullable)]
    pub max_output: Option<u32>,
    /// The model reads images.
    #[ts(optional = nullable)]
    pub vision: Option<bool>,
}

impl App {
    /// Stores a provider's key in the secret store; returns its mask (`…abcd`). The provider must exist, so a
    /// typo does not leave a key nobody uses.
    pub fn set_key(&self, provider: &str, key: &str) -> Result<String> {
        self.with_store(|s| Ok(table::provider(s, provider)?))?;
        let secret = Secret::new(key.trim());
        self.secrets().set(provider, &secret)?;
        self.forget_providers();
        tracing::info!(provider, backend = self.secrets().backend(), "API key stored");
        Ok(secret.masked())
    }

    /// Removes a provider's key; true when one was stored.
    pub fn delete_key(&self, provider: &str) -> Result<bool> {
        let existed = self.secrets().delete(provider)?;
        self.forget_providers();
        Ok(existed)
    }

    pub fn keys(&self) -> Result<KeyTable> {
        let providers = self.with_store(|s| Ok(table::providers(s)?))?;
        // A store that cannot keep a key holds none to list: say why instead of failing the whole table.
        let problem = self.secrets().check().err().map(|e| e.to_string());
        let mut rows = Vec::new();
        for p in providers.into_iter().filter(|p| p.kind != ProviderKind::Local) {
            let key = match problem {
                Some(_) => None,
                None => self.secrets().get(&p.name)?.map(|k| k.masked()),
            };
            rows.push(KeyListing { provider: p.name, key });
        }
        Ok(KeyTable { keychain: self.secrets().backend().into(), problem, providers: rows })
    }

    pub fn providers(&self) -> Result<Vec<ProviderRow>> {
        self.with_store(|s| Ok(table::providers(s)?))
    }

    /// Adds or changes a provider (a new one needs its kind).
    pub fn set_provider(&self, name: &str, u: &ProviderUpdate) -> Result<ProviderRow> {
        let row = self.with_store(|s| {
            Ok(table::set_provider(s, name, u.kind, u.base_url.as_deref(), u.concurrency, u.timeout_s)?)
        })?;
        self.forget_providers();
        Ok(row)
    }

    pub fn tier_table(&self) -> Result<TierTable> {
        let abilities = self.tier_abilities()?;
        self.with_store(|s| {
            Ok(TierTable {
                cost_mode: table::cost_mode(s)?,
                tiers: table::tiers(s)?,
                providers: table::providers(s)?,
                abilities,
            })
        })
    }

    /// Adds or changes a tier.
    pub fn set_tier(&self, name: &str, f: &TierFields) -> Result<TierRow> {
        let u = TierUpdate {
            provider: f.provider.as_deref(),
            model: f.model.as_deref(),
            input_per_1k: f.price_in,
            output_per_1k: f.price_out,
            paper_units: f.units,
            context_window: f.context_window.map(|n| (n > 0).then_some(n)),
            max_output: f.max_output.map(|n| (n > 0).then_some(n)),
            vision: f.vision,
        };
        if let Some(p) = &f.published {
            table::parse_published(p)?; // checked before anything changes
        }
        let row = self.with_store(|s| Ok(table::set_tier(s, name, u)?))?;
        if let Some(p) = &f.published {
            self.set_published(name, p)?;
        }
        *crate::lock(&self.dial) = None;
        Ok(row)
    }

    /// The tier presets (current models first, the paper's three for reproducing it).
    pub fn presets(&self) -> Vec<table::Preset> {
        table::presets()
    }

    /// Sets the tiers of a preset (their providers, models, prices and units); the table after.
    pub fn apply_preset(&self, name: &str) -> Result<TierTable> {
        self.with_store(|s| Ok(table::apply_preset(s, name)?))?;
        self.forget_providers();
        *crate::lock(&self.dial) = None;
        self.tier_table()
    }

    pub fn set_cost_mode(&self, mode: CostMode) -> Result<()> {
        self.with_store(|s| Ok(table::set_cost_mode(s, mode)?))
    }

    /// The calls log, oldest first.
    pub fn calls(&self) -> Result<Vec<CallRow>> {
        self.with_store(|s| Ok(complexitynet_engine::ledger::calls(s)?))
    }
}
