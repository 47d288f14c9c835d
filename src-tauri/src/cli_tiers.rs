//! `complexitynet keys|providers|tiers|ask`: API keys in the OS keychain, providers and tiers with their
//! prices, and asking one tier a question with the answer streamed.

use clap::{Args, Subcommand};
use complexitynet_engine::keys::{KeyListing, Keychain, Secret, SecretStore};
use complexitynet_engine::paths::DataDir;
use complexitynet_engine::store::Store;
use complexitynet_engine::tiers::anthropic::Anthropic;
use complexitynet_engine::tiers::http::CloudConfig;
use complexitynet_engine::tiers::openai::OpenAiCompatible;
use complexitynet_engine::tiers::table::{self, CallRecord, CostMode, ProviderKind, ProviderRow, TierRow, TierUpdate};
use complexitynet_engine::tiers::{CancellationToken, GenParams, Message, Provider, Request};
use complexitynet_engine::{EngineError, ErrorCode};
use serde_json::json;
use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

use crate::cli::{emit, open};
use crate::error::AppError;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Store a provider's API key in the OS keychain (read from stdin, or a prompt that does not echo)
    Set { provider: String },
    /// Providers and their stored keys, masked to the last 4 characters
    List,
    /// Remove a provider's key from the keychain
    Delete { provider: String },
}

#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    List,
    /// Add or change a provider (OpenAI-compatible or Anthropic endpoint)
    Set {
        name: String,
        /// openai (any OpenAI-compatible server), anthropic, or local
        #[arg(long)]
        kind: Option<ProviderKind>,
        #[arg(long)]
        base_url: Option<String>,
        /// Requests in flight at once
        #[arg(long)]
        concurrency: Option<u32>,
        #[arg(long)]
        timeout_s: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TiersCommand {
    /// The ordered tiers with their provider, model and prices
    List,
    /// Add or change a tier
    Set {
        name: String,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        model: Option<String>,
        /// US dollars per 1K input tokens
        #[arg(long)]
        price_in: Option<f64>,
        /// US dollars per 1K output tokens
        #[arg(long)]
        price_out: Option<f64>,
        /// The paper's unit cost of one call (1 / 10 / 100 by default)
        #[arg(long)]
        units: Option<f64>,
    },
    /// Count costs in dollars (usd) or in the paper's unit costs (paper-units)
    CostMode { mode: String },
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// A tier (local, mid, top, …) or PROVIDER:MODEL
    #[arg(long)]
    pub tier: String,
    pub prompt: String,
    #[arg(long, default_value_t = 0.2)]
    pub temperature: f32,
    #[arg(long, default_value_t = 512)]
    pub max_tokens: u32,
    /// A system message
    #[arg(long)]
    pub system: Option<String>,
}

fn keychain_err(e: complexitynet_engine::keys::KeyError) -> AppError {
    AppError::from(EngineError::from(e))
}

fn tier_err(e: complexitynet_engine::tiers::table::TierError) -> AppError {
    AppError::from(EngineError::from(e))
}

pub fn keys(cmd: KeysCommand, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    let store = open(data_dir)?;
    let keychain = Keychain::open();
    match cmd {
        KeysCommand::Set { provider } => {
            table::provider(&store, &provider).map_err(tier_err)?;
            let key = if std::io::stdin().is_terminal() {
                rpassword::prompt_password(format!("API key for {provider}: "))
                    .map_err(|e| AppError::internal(format!("cannot read the key: {e}")))?
            } else {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|e| AppError::internal(format!("cannot read stdin: {e}")))?;
                s
            };
            let secret = Secret::new(key.trim());
            keychain.set(&provider, &secret).map_err(keychain_err)?;
            tracing::info!(provider, backend = keychain.backend(), "API key stored");
            emit(json, &json!({"provider": provider, "key": secret.masked(), "keychain": keychain.backend()}), || {
                format!("Stored the {provider} key ({}) in the {} keychain\n", secret.masked(), keychain.backend())
            });
        }
        KeysCommand::List => {
            let mut rows = Vec::new();
            for p in table::providers(&store).map_err(tier_err)? {
                if p.kind == ProviderKind::Local {
                    continue;
                }
                let key = keychain.get(&p.name).map_err(keychain_err)?.map(|k| k.masked());
                rows.push(KeyListing { provider: p.name, key });
            }
            emit(json, &json!({"keychain": keychain.backend(), "providers": rows}), || {
                let mut s = format!("keychain: {}\n", keychain.backend());
                for r in &rows {
                    s.push_str(&format!("{:<16} {}\n", r.provider, r.key.as_deref().unwrap_or("(no key)")));
                }
                s
            });
        }
        KeysCommand::Delete { provider } => {
            let existed = keychain.delete(&provider).map_err(keychain_err)?;
            emit(json, &json!({"provider": provider, "deleted": existed}), || {
                if existed {
                    format!("Deleted the {provider} key\n")
                } else {
                    format!("No {provider} key was stored\n")
                }
            });
        }
    }
    Ok(())
}

pub fn providers(cmd: ProvidersCommand, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    let store = open(data_dir)?;
    let rows = match cmd {
        ProvidersCommand::List => table::providers(&store).map_err(tier_err)?,
        ProvidersCommand::Set { name, kind, base_url, concurrency, timeout_s } => {
            vec![table::set_provider(&store, &name, kind, base_url.as_deref(), concurrency, timeout_s)
                .map_err(tier_err)?]
        }
    };
    emit(json, &rows, || {
        rows.iter()
            .map(|p| {
                format!("{:<14} {:<10} {:<40} concurrency {}\n", p.name, p.kind.as_str(), p.base_url, p.concurrency)
            })
            .collect()
    });
    Ok(())
}

pub fn tiers(cmd: TiersCommand, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    let store = open(data_dir)?;
    match cmd {
        TiersCommand::CostMode { mode } => {
            let m = match mode.as_str() {
                "usd" => CostMode::Usd,
                "paper-units" | "paper_units" => CostMode::PaperUnits,
                other => {
                    return Err(AppError {
                        code: ErrorCode::InvalidArguments,
                        message: format!("unknown cost mode {other:?} (usd or paper-units)"),
                    })
                }
            };
            table::set_cost_mode(&store, m).map_err(tier_err)?;
            emit(json, &json!({"cost_mode": m}), || format!("Cost mode: {mode}\n"));
            return Ok(());
        }
        TiersCommand::Set { name, provider, model, price_in, price_out, units } => {
            let u = TierUpdate {
                provider: provider.as_deref(),
                model: model.as_deref(),
                input_per_1k: price_in,
                output_per_1k: price_out,
                paper_units: units,
            };
            table::set_tier(&store, &name, u).map_err(tier_err)?;
        }
        TiersCommand::List => {}
    }
    let rows = table::tiers(&store).map_err(tier_err)?;
    let mode = table::cost_mode(&store).map_err(tier_err)?;
    emit(json, &json!({"cost_mode": mode, "tiers": rows}), || {
        let mut s = format!(
            "{:<4} {:<8} {:<12} {:<32} {:>10} {:>10} {:>6}\n",
            "L", "TIER", "PROVIDER", "MODEL", "$/1K IN", "$/1K OUT", "UNITS"
        );
        for t in &rows {
            s.push_str(&format!(
                "L{:<3} {:<8} {:<12} {:<32} {:>10} {:>10} {:>6}\n",
                t.position, t.name, t.provider, t.model, t.input_per_1k, t.output_per_1k, t.paper_units
            ));
        }
        s.push_str(&format!("cost mode: {mode:?}\n"));
        s
    });
    Ok(())
}

/// Builds the provider for a tier, with its key from the keychain.
pub fn build_provider(prov: &ProviderRow, keychain: &dyn SecretStore) -> Result<Box<dyn Provider>, AppError> {
    let mut cfg = CloudConfig::new(&prov.name, &prov.base_url, None);
    cfg.concurrency = prov.concurrency as usize;
    cfg.request_timeout = Duration::from_secs(prov.timeout_s as u64);
    match prov.kind {
        ProviderKind::Local => Err(AppError {
            code: ErrorCode::LocalRuntimeUnavailable,
            message: "the local llama.cpp tier is not built into this version yet; use a cloud tier or an \
                      OpenAI-compatible local server (providers: ollama, llama-server)"
                .into(),
        }),
        kind => {
            // Local servers (Ollama, llama-server) need no key; a missing key is only an error for the ones
            // that answer 401, and then the provider's own message says so.
            cfg.api_key = keychain.get(&prov.name).map_err(keychain_err)?;
            Ok(match kind {
                ProviderKind::Anthropic => Box::new(Anthropic::new(cfg)),
                _ => Box::new(OpenAiCompatible::new(cfg)),
            })
        }
    }
}

fn cost_of(tier: &TierRow, mode: CostMode, usd: f64) -> f64 {
    match mode {
        CostMode::Usd => usd,
        CostMode::PaperUnits => tier.paper_units,
    }
}

pub fn ask(args: AskArgs, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    let store: Store = open(data_dir)?;
    let (tier, prov) = table::resolve(&store, &args.tier).map_err(tier_err)?;
    let mode = table::cost_mode(&store).map_err(tier_err)?;
    let keychain = Keychain::open();
    let provider = build_provider(&prov, &keychain)?;
    let mut messages = Vec::new();
    if let Some(s) = &args.system {
        messages.push(Message::system(s));
    }
    messages.push(Message::user(&args.prompt));
    let request = Request {
        model: tier.model.clone(),
        messages,
        params: GenParams { temperature: args.temperature, max_tokens: args.max_tokens, ..GenParams::default() },
        stream: true,
        price: tier.price(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::internal(format!("cannot start the async runtime: {e}")))?;
    let cancel = CancellationToken::new();
    let on_text = |t: &str| {
        if !json {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(t.as_bytes());
            let _ = out.flush();
        }
    };
    let result = rt.block_on(async {
        tokio::select! {
            r = provider.generate(&request, &on_text, &cancel) => r,
            _ = tokio::signal::ctrl_c() => {
                cancel.cancel();
                Err(complexitynet_engine::tiers::ProviderError::new(complexitynet_engine::tiers::ErrorKind::Cancelled, &prov.name, "interrupted"))
            }
        }
    });
    match result {
        Ok(c) => {
            let finish = serde_json::to_value(&c.finish_reason)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            table::record_call(
                &store,
                &CallRecord {
                    tier: &tier.name,
                    provider: &prov.name,
                    model: &c.model,
                    prompt_tokens: c.usage.prompt_tokens,
                    completion_tokens: c.usage.completion_tokens,
                    cost_usd: c.cost_usd,
                    latency_ms: c.latency_ms,
                    finish_reason: &finish,
                    error_kind: None,
                    usage_estimated: c.usage_estimated,
                },
            )
            .map_err(tier_err)?;
            let cost = cost_of(&tier, mode, c.cost_usd);
            if json {
                println!("{}", serde_json::to_string_pretty(&json!({
                    "tier": tier.name, "provider": prov.name, "model": c.model, "text": c.text, "usage": c.usage,
                    "usage_estimated": c.usage_estimated, "finish_reason": c.finish_reason, "latency_ms": c.latency_ms,
                    "cost_usd": c.cost_usd, "cost": cost, "cost_mode": mode, "attempts": c.attempts,
                })).expect("serialises"));
            } else {
                println!();
                eprintln!(
                    "[{} · {} · {} + {} tokens{} · {} · {:.0} ms]",
                    tier.name,
                    c.model,
                    c.usage.prompt_tokens,
                    c.usage.completion_tokens,
                    if c.usage_estimated { " (estimated)" } else { "" },
                    match mode {
                        CostMode::Usd => format!("${:.6}", c.cost_usd),
                        CostMode::PaperUnits => format!("{cost} units"),
                    },
                    c.latency_ms
                );
            }
            Ok(())
        }
        Err(e) => {
            let kind = serde_json::to_value(e.kind).ok().and_then(|v| v.as_str().map(str::to_owned));
            table::record_call(
                &store,
                &CallRecord {
                    tier: &tier.name,
                    provider: &prov.name,
                    model: &tier.model,
                    prompt_tokens: 0,
                    completion_tokens: 0,
                    cost_usd: 0.0,
                    latency_ms: 0.0,
                    finish_reason: "error",
                    error_kind: kind.as_deref(),
                    usage_estimated: false,
                },
            )
            .map_err(tier_err)?;
            Err(AppError::from(EngineError::from(e)))
        }
    }
}
