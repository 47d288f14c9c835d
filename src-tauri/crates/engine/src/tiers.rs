//! Providers, tiers and prices as stored in SQLite (seeded from `resources/tiers.json`), presets, the cost mode,
//! the local runtime's settings and the pass rates known of models. A tier is a provider + a model + a price;
//! tiers are ordered (L1 < L2 < …). Every call's record is the ledger's (`crate::ledger`).

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};

const DEFAULTS: &str = include_str!("../../../../resources/tiers.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI-compatible Chat Completions.
    Openai,
    /// Anthropic Messages.
    Anthropic,
    /// The bundled llama.cpp runtime.
    Local,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Local => "local",
        }
    }
}

impl std::str::FromStr for ProviderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "openai" => Ok(ProviderKind::Openai),
            "anthropic" => Ok(ProviderKind::Anthropic),
            "local" => Ok(ProviderKind::Local),
            other => Err(format!("unknown provider kind {other:?} (openai, anthropic or local)")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ProviderRow {
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: String,
    pub concurrency: u32,
    pub timeout_s: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct TierRow {
    pub name: String,
    pub position: u32,
    pub provider: String,
    pub model: String,
    pub input_per_1k: f64,
    pub output_per_1k: f64,
    pub paper_units: f64,
    /// The model's context window in tokens (prompt and answer together); None: not known, not checked.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub context_window: Option<u32>,
    /// The longest answer the model writes, in tokens; a request asking for more is asked for this much.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub max_output: Option<u32>,
    /// The model reads images.
    #[serde(default)]
    pub vision: bool,
}

/// How costs are counted: dollars from token prices, or the paper's unit cost per call (1 / 10 / 100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum CostMode {
    Usd,
    PaperUnits,
}

#[derive(Debug, thiserror::Error)]
pub enum TierError {
    #[error("no tier or provider named {0:?} (see `complexitynet tiers list` and `providers list`)")]
    Unknown(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for TierError {
    fn from(e: rusqlite::Error) -> Self {
        TierError::Store(StoreError::Sql(e))
    }
}

impl TierError {
    pub fn code(&self) -> crate::ErrorCode {
        match self {
            TierError::Unknown(_) => crate::ErrorCode::UnknownTier,
            TierError::Invalid(_) => crate::ErrorCode::InvalidArguments,
            TierError::Store(e) => e.code(),
        }
    }
}

#[derive(Deserialize)]
struct Defaults {
    providers: std::collections::BTreeMap<String, DefaultProvider>,
    default_preset: String,
    presets: Vec<Preset>,
}

#[derive(Deserialize)]
struct DefaultProvider {
    kind: ProviderKind,
    base_url: String,
    #[serde(default)]
    concurrency: Option<u32>,
}

/// A named set of tiers with prices (and, where one is published, each model's MBPP pass rate), from
/// `resources/tiers.json`: current models by default, the paper's three for reproducing it.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct Preset {
    pub name: String,
    pub title: String,
    /// Where the prices and figures come from, and when they were read.
    pub source: String,
    pub tiers: Vec<PresetTier>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct PresetTier {
    pub name: String,
    pub provider: String,
    pub model: String,
    pub input_per_1k: f64,
    pub output_per_1k: f64,
    pub paper_units: f64,
    /// The model's MBPP pass@1 as EvalPlus reports it, when there is one.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub published_mbpp: Option<f64>,
    /// The model's context window and longest answer in tokens, and whether it reads images, as its provider
    /// documents them.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub context_window: Option<u32>,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub max_output: Option<u32>,
    #[serde(default)]
    pub vision: bool,
}

fn defaults() -> Defaults {
    serde_json::from_str(DEFAULTS).expect("resources/tiers.json is valid (unit-tested)")
}

/// The presets, the default first.
pub fn presets() -> Vec<Preset> {
    let d = defaults();
    let mut p = d.presets;
    p.sort_by_key(|p| p.name != d.default_preset);
    p
}

/// A preset's published rate for a model, when one lists it (what routing knows of the model before anything
/// else says more).
pub fn preset_rate(model: &str, same: impl Fn(&str, &str) -> bool) -> Option<(f64, String)> {
    presets().into_iter().find_map(|p| {
        p.tiers.iter().find(|t| same(&t.model, model)).and_then(|t| t.published_mbpp).map(|r| {
            let source = p.source.rsplit("MBPP: ").next().unwrap_or(&p.source).to_owned();
            (r, format!("published: MBPP {:.1}% ({source})", 100.0 * r))
        })
    })
}

/// Sets each of a preset's cloud tiers (provider, model, prices, units). The local tier keeps the model the user
/// installed (a preset names cloud models and prices; the local model is the user's download), and tiers the
/// preset does not name are left as they are.
pub fn apply_preset(store: &Store, name: &str) -> Result<Preset, TierError> {
    let all = presets();
    let preset = all.iter().find(|p| p.name == name).cloned().ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        TierError::Invalid(format!("no preset {name:?} (presets: {})", names.join(", ")))
    })?;
    store.conn().execute_batch("BEGIN IMMEDIATE")?;
    let r = preset.tiers.iter().filter(|t| t.provider != "local").try_for_each(|t| {
        set_tier(
            store,
            &t.name,
            TierUpdate {
                provider: Some(&t.provider),
                model: Some(&t.model),
                input_per_1k: Some(t.input_per_1k),
                output_per_1k: Some(t.output_per_1k),
                paper_units: Some(t.paper_units),
                context_window: Some(t.context_window),
                max_output: Some(t.max_output),
                vision: Some(t.vision),
            },
        )
        .map(|_| ())
    });
    store.conn().execute_batch(if r.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    r.map(|()| preset)
}

/// Seeds the default providers and tiers into a new database, once: run after the store opens (every open goes
/// through [`crate::open`]). A database seeded before (by this or by the migration that used to do it) is left
/// as the user made it, even with every tier removed.
pub fn seed(store: &Store) -> Result<(), StoreError> {
    let seeded: Option<String> =
        store.conn().query_row("SELECT value FROM meta WHERE key = 'tiers_seeded'", [], |r| r.get(0)).optional()?;
    if seeded.is_some() {
        return Ok(());
    }
    let tx = store.conn().unchecked_transaction()?;
    let empty: bool = tx.query_row("SELECT count(*) = 0 FROM tiers", [], |r| r.get(0))?;
    if empty {
        insert_defaults(&tx)?;
    }
    tx.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('tiers_seeded', '1')", [])?;
    tx.commit()?;
    Ok(())
}

fn insert_defaults(tx: &Transaction) -> rusqlite::Result<()> {
    let d = defaults();
    for (name, p) in &d.providers {
        tx.execute(
            "INSERT OR IGNORE INTO providers(name, kind, base_url, concurrency) VALUES (?1, ?2, ?3, ?4)",
            params![name, p.kind.as_str(), p.base_url, p.concurrency.unwrap_or(4)],
        )?;
    }
    let preset =
        d.presets.iter().find(|p| p.name == d.default_preset).expect("the default preset exists (unit-tested)");
    for (i, t) in preset.tiers.iter().enumerate() {
        tx.execute(
            "INSERT OR IGNORE INTO tiers(name, position, provider, model, input_per_1k, output_per_1k, paper_units,
                                         context_window, max_output, vision)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                t.name,
                i as i64 + 1,
                t.provider,
                t.model,
                t.input_per_1k,
                t.output_per_1k,
                t.paper_units,
                t.context_window,
                t.max_output,
                t.vision
            ],
        )?;
    }
    Ok(())
}

pub fn providers(store: &Store) -> Result<Vec<ProviderRow>, TierError> {
    let mut stmt =
        store.conn().prepare("SELECT name, kind, base_url, concurrency, timeout_s FROM providers ORDER BY name")?;
    let rows = stmt.query_map([], |r| {
        Ok(ProviderRow {
            name: r.get(0)?,
            kind: r.get::<_, String>(1)?.parse().unwrap_or(ProviderKind::Openai),
            base_url: r.get(2)?,
            concurrency: r.get(3)?,
            timeout_s: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn provider(store: &Store, name: &str) -> Result<ProviderRow, TierError> {
    providers(store)?.into_iter().find(|p| p.name == name).ok_or_else(|| TierError::Unknown(name.to_owned()))
}

/// Adds or changes a provider. `None` fields keep their current value (or the default for a new provider).
pub fn set_provider(
    store: &Store,
    name: &str,
    kind: Option<ProviderKind>,
    base_url: Option<&str>,
    concurrency: Option<u32>,
    timeout_s: Option<u32>,
) -> Result<ProviderRow, TierError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err(TierError::Invalid(format!("invalid provider name {name:?}")));
    }
    let current = provider(store, name).ok();
    let kind = kind.or(current.as_ref().map(|p| p.kind)).ok_or_else(|| {
        TierError::Invalid(format!("a new provider needs --kind openai|anthropic|local ({name:?} does not exist yet)"))
    })?;
    let base_url = base_url.map(str::to_owned).or(current.as_ref().map(|p| p.base_url.clone())).unwrap_or_default();
    if kind != ProviderKind::Local && !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(TierError::Invalid(format!("--base-url must be an http(s) URL, got {base_url:?}")));
    }
    let concurrency = concurrency.or(current.as_ref().map(|p| p.concurrency)).unwrap_or(4).max(1);
    let timeout_s = timeout_s.or(current.as_ref().map(|p| p.timeout_s)).unwrap_or(120).max(1);
    store.conn().execute(
        "INSERT INTO providers(name, kind, base_url, concurrency, timeout_s) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, base_url = excluded.base_url,
             concurrency = excluded.concurrency, timeout_s = excluded.timeout_s",
        params![name, kind.as_str(), base_url.trim_end_matches('/'), concurrency, timeout_s],
    )?;
    provider(store, name)
}

pub fn tiers(store: &Store) -> Result<Vec<TierRow>, TierError> {
    let mut stmt = store.conn().prepare(
        "SELECT name, position, provider, model, input_per_1k, output_per_1k, paper_units, context_window, max_output,
                vision
         FROM tiers ORDER BY position",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(TierRow {
            name: r.get(0)?,
            position: r.get(1)?,
            provider: r.get(2)?,
            model: r.get(3)?,
            input_per_1k: r.get(4)?,
            output_per_1k: r.get(5)?,
            paper_units: r.get(6)?,
            context_window: r.get(7)?,
            max_output: r.get(8)?,
            vision: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The fields of `tiers set`; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct TierUpdate<'a> {
    pub provider: Option<&'a str>,
    pub model: Option<&'a str>,
    pub input_per_1k: Option<f64>,
    pub output_per_1k: Option<f64>,
    pub paper_units: Option<f64>,
    /// Some(None) clears a figure (back to "not known").
    pub context_window: Option<Option<u32>>,
    pub max_output: Option<Option<u32>>,
    pub vision: Option<bool>,
}

pub fn set_tier(store: &Store, name: &str, u: TierUpdate) -> Result<TierRow, TierError> {
    let current = tiers(store)?.into_iter().find(|t| t.name == name);
    let provider_name = u.provider.map(str::to_owned).or(current.as_ref().map(|t| t.provider.clone()));
    let provider_name = provider_name
        .ok_or_else(|| TierError::Invalid(format!("a new tier needs --provider ({name:?} does not exist yet)")))?;
    provider(store, &provider_name)?;
    let model = u.model.map(str::to_owned).or(current.as_ref().map(|t| t.model.clone()));
    let model =
        model.filter(|m| !m.trim().is_empty()).ok_or_else(|| TierError::Invalid("a tier needs --model".into()))?;
    let pick = |new: Option<f64>, old: Option<f64>| new.or(old).unwrap_or(0.0);
    let input = pick(u.input_per_1k, current.as_ref().map(|t| t.input_per_1k));
    let output = pick(u.output_per_1k, current.as_ref().map(|t| t.output_per_1k));
    let units = pick(u.paper_units, current.as_ref().map(|t| t.paper_units));
    if [input, output, units].iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(TierError::Invalid("prices and units must be zero or positive numbers".into()));
    }
    let context_window = u.context_window.unwrap_or(current.as_ref().and_then(|t| t.context_window));
    let max_output = u.max_output.unwrap_or(current.as_ref().and_then(|t| t.max_output));
    let vision = u.vision.or(current.as_ref().map(|t| t.vision)).unwrap_or(false);
    let position: i64 = match &current {
        Some(t) => t.position as i64,
        None => store.conn().query_row("SELECT coalesce(max(position), 0) + 1 FROM tiers", [], |r| r.get(0))?,
    };
    store.conn().execute(
        "INSERT INTO tiers(name, position, provider, model, input_per_1k, output_per_1k, paper_units, context_window,
                           max_output, vision)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(name) DO UPDATE SET provider = excluded.provider, model = excluded.model,
             input_per_1k = excluded.input_per_1k, output_per_1k = excluded.output_per_1k,
             paper_units = excluded.paper_units, context_window = excluded.context_window,
             max_output = excluded.max_output, vision = excluded.vision",
        params![name, position, provider_name, model, input, output, units, context_window, max_output, vision],
    )?;
    tiers(store)?.into_iter().find(|t| t.name == name).ok_or_else(|| TierError::Unknown(name.to_owned()))
}

pub fn cost_mode(store: &Store) -> Result<CostMode, TierError> {
    let v = store.setting("cost_mode")?;
    Ok(if v.as_deref() == Some("paper_units") { CostMode::PaperUnits } else { CostMode::Usd })
}

pub fn set_cost_mode(store: &Store, mode: CostMode) -> Result<(), TierError> {
    let v = match mode {
        CostMode::Usd => "usd",
        CostMode::PaperUnits => "paper_units",
    };
    store.set_setting("cost_mode", Some(v))?;
    Ok(())
}

/// A tier spec as the CLI takes it: a tier name (`local`, `mid`, `top`, …) or `PROVIDER:MODEL` (priced at 0
/// unless a tier with that provider and model exists).
pub fn resolve(store: &Store, spec: &str) -> Result<(TierRow, ProviderRow), TierError> {
    let all = tiers(store)?;
    if let Some(t) = all.iter().find(|t| t.name == spec) {
        return Ok((t.clone(), provider(store, &t.provider)?));
    }
    let Some((p, model)) = spec.split_once(':') else { return Err(TierError::Unknown(spec.to_owned())) };
    let prov = provider(store, p)?;
    let tier = all.into_iter().find(|t| t.provider == p && t.model == model).unwrap_or(TierRow {
        name: spec.to_owned(),
        position: 0,
        provider: p.to_owned(),
        model: model.to_owned(),
        input_per_1k: 0.0,
        output_per_1k: 0.0,
        paper_units: 0.0,
        context_window: None,
        max_output: None,
        vision: false,
    });
    Ok((tier, prov))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_default_presets_tiers_and_a_preset_switches_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::open(&dir.path().join("db")).unwrap();
        let t = tiers(&store).unwrap();
        let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["local", "mid", "top"]);
        let all = presets();
        assert_eq!(all[0].name, "openai", "the default first");
        assert_eq!((t[1].model.as_str(), t[2].model.as_str()), ("gpt-4o-mini", "gpt-4o"));
        assert_eq!((t[0].input_per_1k, t[1].input_per_1k, t[2].input_per_1k), (0.0002, 0.00015, 0.0025));
        assert_eq!((t[0].paper_units, t[1].paper_units, t[2].paper_units), (1.0, 10.0, 100.0));
        for p in &all {
            assert!(!p.source.is_empty() && p.tiers.len() == 3, "{p:?}");
            assert!(p.tiers.iter().all(|t| t.input_per_1k > 0.0 && t.output_per_1k > 0.0), "priced: {p:?}");
            for t in &p.tiers {
                provider(&store, &t.provider).unwrap();
            }
        }
        set_tier(&store, "local", TierUpdate { model: Some("my-model"), ..Default::default() }).unwrap();
        let paper = apply_preset(&store, "paper-2023").unwrap();
        let t = tiers(&store).unwrap();
        assert_eq!(t[0].model, "my-model", "the local tier keeps the user's model");
        assert_eq!((t[1].model.as_str(), t[1].input_per_1k, t[2].input_per_1k), ("gpt-3.5-turbo", 0.002, 0.03));
        assert!(paper.source.contains("EvalPlus"));
        let (rate, detail) = preset_rate("gpt-4-turbo", |a, b| a == b).unwrap();
        assert_eq!(rate, 0.857);
        assert!(detail.starts_with("published: MBPP 85.7% (EvalPlus"), "{detail}");
        assert!(preset_rate("gpt-4o", |a, b| a == b).is_none(), "no published figure is made up");
        let err = apply_preset(&store, "nope").unwrap_err().to_string();
        assert!(err.contains("paper-2023"), "{err}");
        assert_eq!(tiers(&store).unwrap()[1].model, "gpt-3.5-turbo", "a bad name changes nothing");
        assert_eq!(provider(&store, "anthropic").unwrap().kind, ProviderKind::Anthropic);
        assert_eq!(cost_mode(&store).unwrap(), CostMode::Usd);
    }

    #[test]
    fn tiers_and_providers_can_be_changed_and_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::open(&dir.path().join("db")).unwrap();
        set_provider(&store, "mock", Some(ProviderKind::Openai), Some("http://127.0.0.1:9/v1/"), Some(2), None)
            .unwrap();
        let t = set_tier(
            &store,
            "mid",
            TierUpdate { provider: Some("mock"), model: Some("m"), input_per_1k: Some(0.5), ..Default::default() },
        )
        .unwrap();
        assert_eq!(
            (t.provider.as_str(), t.model.as_str(), t.input_per_1k, t.output_per_1k),
            ("mock", "m", 0.5, 0.0006)
        );
        let (tier, prov) = resolve(&store, "mid").unwrap();
        assert_eq!((tier.name.as_str(), prov.base_url.as_str()), ("mid", "http://127.0.0.1:9/v1"));
        let (adhoc, _) = resolve(&store, "mock:other").unwrap();
        assert_eq!(adhoc.input_per_1k, 0.0);
        assert!(matches!(resolve(&store, "nope"), Err(TierError::Unknown(_))));
        assert!(set_provider(&store, "bad", Some(ProviderKind::Openai), Some("ftp://x"), None, None).is_err());
        assert!(set_tier(
            &store,
            "x",
            TierUpdate { provider: Some("mock"), model: Some("m"), input_per_1k: Some(-1.0), ..Default::default() }
        )
        .is_err());
    }
}

/// The local runtime's settings, stored in `settings` (`None`: the runtime's default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalRuntimeSettings {
    pub threads: Option<u32>,
    pub gpu_layers: Option<u32>,
    pub n_ctx: Option<u32>,
}

fn setting_u32(store: &Store, key: &str) -> Result<Option<u32>, TierError> {
    Ok(store.setting(key)?.and_then(|v| v.parse().ok()))
}

pub fn local_settings(store: &Store) -> Result<LocalRuntimeSettings, TierError> {
    Ok(LocalRuntimeSettings {
        threads: setting_u32(store, "local.threads")?,
        gpu_layers: setting_u32(store, "local.gpu_layers")?,
        n_ctx: setting_u32(store, "local.n_ctx")?,
    })
}

/// Changes the given settings; the others keep their values.
pub fn set_local_settings(store: &Store, s: LocalRuntimeSettings) -> Result<LocalRuntimeSettings, TierError> {
    if s.threads == Some(0) || s.n_ctx.is_some_and(|c| c < 256) {
        return Err(TierError::Invalid("threads must be at least 1 and the context at least 256 tokens".into()));
    }
    for (key, v) in [("local.threads", s.threads), ("local.gpu_layers", s.gpu_layers), ("local.n_ctx", s.n_ctx)] {
        if let Some(v) = v {
            store.set_setting(key, Some(&v.to_string()))?;
        }
    }
    local_settings(store)
}

/// What is known of a model's ability: its pass rate on a reference benchmark, and where that figure comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ModelRate {
    pub model: String,
    /// `published` (entered by the user, or a catalog's figure), `calibrated` (measured here by a calibration run).
    pub source: String,
    /// The benchmark the rate was measured on (`mbpp`: MBPP's tasks with their own tests, as EvalPlus reports).
    pub benchmark: String,
    pub rate: f64,
    /// How many tasks a calibrated rate rests on (0 for a published one).
    pub trials: u32,
    /// Where the figure comes from, in words.
    pub detail: String,
}

/// Parses `mbpp:0.66` (or `mbpp:66%`) into a benchmark and a rate.
pub fn parse_published(spec: &str) -> Result<(String, f64), TierError> {
    let bad = || TierError::Invalid(format!("{spec:?}: expected BENCHMARK:RATE, e.g. mbpp:0.66"));
    let (bench, rate) = spec.split_once(':').ok_or_else(bad)?;
    let bench = bench.trim().to_ascii_lowercase();
    let rate = rate.trim();
    let rate: f64 = match rate.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => rate.parse().map_err(|_| bad())?,
    };
    if bench != "mbpp" {
        return Err(TierError::Invalid(format!(
            "{spec:?}: only an MBPP pass rate is understood (the benchmark prompt difficulty was learned on)"
        )));
    }
    if !(rate > 0.0 && rate < 1.0) {
        return Err(TierError::Invalid(format!("{spec:?}: a pass rate is between 0 and 1 (or 0% and 100%)")));
    }
    Ok((bench, rate))
}

/// Records a model's rate from one source (replacing that source's earlier figure).
pub fn set_model_rate(store: &Store, r: &ModelRate) -> Result<(), TierError> {
    store.conn().execute(
        "INSERT INTO model_rates(model, source, benchmark, rate, trials, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(model, source) DO UPDATE SET benchmark = excluded.benchmark, rate = excluded.rate,
           trials = excluded.trials, detail = excluded.detail, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
        params![r.model, r.source, r.benchmark, r.rate, r.trials, r.detail],
    )?;
    Ok(())
}

/// Every recorded rate.
pub fn model_rates(store: &Store) -> Result<Vec<ModelRate>, TierError> {
    let mut stmt = store
        .conn()
        .prepare("SELECT model, source, benchmark, rate, trials, detail FROM model_rates ORDER BY model, source")?;
    let rows = stmt.query_map([], |r| {
        Ok(ModelRate {
            model: r.get(0)?,
            source: r.get(1)?,
            benchmark: r.get(2)?,
            rate: r.get(3)?,
            trials: r.get(4)?,
            detail: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
