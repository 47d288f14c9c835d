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
use complexitynet_engine::tiers::{CancellationToken, ErrorKind, GenParams, Message, Provider, Request};
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

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Register a local GGUF file (its header is validated; the file stays where it is)
    Add {
        path: std::path::PathBuf,
        #[arg(long)]
        name: Option<String>,
    },
    /// Registered local models with their architecture, size, quantisation and memory estimate
    List,
    /// Download a catalog model (see `models catalog`) or a URL; resumes an interrupted download
    Download {
        /// A catalog name or an https URL
        spec: String,
        /// Expected SHA-256 (catalog models have theirs)
        #[arg(long)]
        sha256: Option<String>,
    },
    /// The downloadable models
    Catalog,
    /// Forget a registered model (the file is not deleted)
    Remove { name: String },
    /// Show or change the local runtime's settings (COMPLEXITYNET_LOCAL_THREADS overrides the threads)
    Settings {
        #[arg(long)]
        threads: Option<u32>,
        /// Layers offloaded to the GPU (Metal/CUDA builds)
        #[arg(long)]
        gpu_layers: Option<u32>,
        /// Context size in tokens
        #[arg(long)]
        ctx: Option<u32>,
    },
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// A tier (local, mid, top, …) or PROVIDER:MODEL [default: routed by the active classifier]
    #[arg(long)]
    pub tier: Option<String>,
    pub prompt: String,
    #[arg(long, default_value_t = 0.2)]
    pub temperature: f32,
    #[arg(long, default_value_t = 512)]
    pub max_tokens: u32,
    /// A system message
    #[arg(long)]
    pub system: Option<String>,
    /// Verify the answer against tests (assert lines in the prompt, or --dataset/--task) in the sandbox and
    /// escalate to the next tier while it fails
    #[arg(long)]
    pub cascade: bool,
    /// With --cascade: take the tests from this dataset's task
    #[arg(long, requires = "task")]
    pub dataset: Option<String>,
    #[arg(long, requires = "dataset")]
    pub task: Option<String>,
}

pub(crate) fn keychain_err(e: complexitynet_engine::keys::KeyError) -> AppError {
    AppError::from(EngineError::from(e))
}

pub(crate) fn tier_err(e: complexitynet_engine::tiers::table::TierError) -> AppError {
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

pub(crate) fn model_err(e: complexitynet_engine::models::ModelError) -> AppError {
    AppError::from(EngineError::from(e))
}

pub fn models(cmd: ModelsCommand, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    use complexitynet_engine::models;
    let store = open(data_dir)?;
    match cmd {
        ModelsCommand::Add { path, name } => {
            let row = models::add(&store, &path, name.as_deref(), "file").map_err(model_err)?;
            emit(json, &row, || {
                format!(
                    "Added {} ({}, {:.0}M parameters, {}, {} MiB)\n",
                    row.name,
                    row.architecture,
                    row.parameters as f64 / 1e6,
                    row.quantization,
                    row.bytes >> 20
                )
            });
        }
        ModelsCommand::List => {
            let rows = models::list(&store).map_err(model_err)?;
            let with_mem: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    let mem = models::gguf::read(std::path::Path::new(&r.path)).ok().map(|i| i.memory_estimate(4096));
                    json!({"model": r, "memory_estimate_bytes": mem, "file_present": std::path::Path::new(&r.path).is_file()})
                })
                .collect();
            emit(json, &with_mem, || {
                let mut s = String::new();
                for (r, m) in rows.iter().zip(&with_mem) {
                    let mem = m["memory_estimate_bytes"]
                        .as_u64()
                        .map(|b| format!("~{} MiB to run", b >> 20))
                        .unwrap_or_else(|| "file missing".into());
                    s.push_str(&format!(
                        "{:<36} {:<8} {:>6.0}M {:<8} ctx {:<6} {}\n",
                        r.name,
                        r.architecture,
                        r.parameters as f64 / 1e6,
                        r.quantization,
                        r.context_length.unwrap_or(0),
                        mem
                    ));
                }
                if rows.is_empty() {
                    s.push_str("No local models. `complexitynet models download codellama-7b-instruct.Q4_K_M` or `models add FILE.gguf`.\n");
                }
                s
            });
        }
        ModelsCommand::Catalog => {
            let c = models::catalog();
            emit(json, &c, || {
                c.iter().map(|(k, m)| format!("{k:<40} {:>6} MiB  {}\n", m.size >> 20, m.title)).collect()
            });
        }
        ModelsCommand::Settings { threads, gpu_layers, ctx } => {
            let stored =
                table::set_local_settings(&store, table::LocalRuntimeSettings { threads, gpu_layers, n_ctx: ctx })
                    .map_err(tier_err)?;
            let effective = runtime_settings(stored);
            emit(
                json,
                &json!({"stored": stored, "effective": {"threads": effective.threads, "gpu_layers": effective.gpu_layers, "n_ctx": effective.n_ctx}}),
                || {
                    format!(
                        "threads {}, GPU layers {}, context {} tokens\n",
                        effective.threads, effective.gpu_layers, effective.n_ctx
                    )
                },
            );
        }
        ModelsCommand::Remove { name } => {
            let removed = models::remove(&store, &name).map_err(model_err)?;
            emit(json, &json!({"removed": removed, "name": name}), || {
                format!("{}\n", if removed { "Removed" } else { "No such model" })
            });
        }
        ModelsCommand::Download { spec, sha256 } => {
            let (name, req) = models::resolve_download(&spec, sha256.as_deref()).map_err(model_err)?;
            let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_message(format!("downloading {name}"));
            let progress = {
                let bar = bar.clone();
                move |p: complexitynet_engine::download::DownloadProgress| {
                    if let Some(t) = p.total {
                        bar.set_length(t);
                    }
                    bar.set_position(p.received);
                }
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| AppError::internal(format!("cannot start the async runtime: {e}")))?;
            let out = rt.block_on(models::download(data_dir, &name, req, &progress));
            bar.finish_and_clear();
            let out = out.map_err(model_err)?;
            let row = models::add(&store, &out.path, Some(&name), &spec).map_err(model_err)?;
            emit(json, &json!({"model": row, "bytes": out.bytes, "sha256": out.sha256}), || {
                format!("Downloaded and verified {} ({} MiB, sha256 {})\n", row.name, out.bytes >> 20, out.sha256)
            });
        }
    }
    Ok(())
}

/// The local runtime's settings: stored values over the defaults; `COMPLEXITYNET_LOCAL_THREADS` over both.
fn runtime_settings(stored: table::LocalRuntimeSettings) -> complexitynet_llm_local::LocalSettings {
    let mut s = complexitynet_llm_local::LocalSettings::default();
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

/// Loads a registered local model on its worker thread.
pub(crate) fn load_local(
    store: &Store,
    model: &str,
) -> Result<std::sync::Arc<complexitynet_llm_local::LocalModel>, AppError> {
    use complexitynet_engine::models;
    let row = models::get(store, model).map_err(|_| AppError {
        code: ErrorCode::UnknownModel,
        message: format!(
            "the local tier's model {model:?} is not installed: run `complexitynet models download {model}` (if it is \
             in the catalog), or `complexitynet models add FILE.gguf --name NAME` and `complexitynet tiers set local \
             --model NAME`"
        ),
    })?;
    let info = models::gguf::read(std::path::Path::new(&row.path)).map_err(|e| model_err(e.into()))?;
    let settings = runtime_settings(table::local_settings(store).map_err(tier_err)?);
    tracing::info!(model, memory_estimate = info.memory_estimate(settings.n_ctx as u64), "loading the local model");
    let loaded = complexitynet_llm_local::LocalModel::load(std::path::Path::new(&row.path), &row.name, settings)
        .map_err(|e| AppError { code: ErrorCode::ModelInvalid, message: e.to_string() })?;
    Ok(std::sync::Arc::new(loaded))
}

/// Builds the provider for a tier, with its key from the keychain. A local tier uses `loaded` when given (the
/// app keeps models loaded between requests), else loads the tier's model.
pub fn build_provider(
    store: &Store,
    tier: &TierRow,
    prov: &ProviderRow,
    keychain: &dyn SecretStore,
    loaded: Option<std::sync::Arc<complexitynet_llm_local::LocalModel>>,
) -> Result<Box<dyn Provider>, AppError> {
    let mut cfg = CloudConfig::new(&prov.name, &prov.base_url, None);
    cfg.concurrency = prov.concurrency as usize;
    cfg.request_timeout = Duration::from_secs(prov.timeout_s as u64);
    match prov.kind {
        ProviderKind::Local => {
            let model = match loaded {
                Some(m) => m,
                None => load_local(store, &tier.model)?,
            };
            Ok(Box::new(complexitynet_llm_local::LocalProvider::new(model)))
        }
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

/// `ask`: one tier when `--tier` is given; otherwise the prompt is routed (the classifier picks the tier, shown
/// before the answer), and a tier that fails for a reason another tier would not share (no key, rate limit,
/// network, server error) hands the prompt to the next available tier.
pub fn ask(args: AskArgs, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    if args.cascade {
        // The cascade starts at the given tier, or at the one the router picks.
        let start = match args.tier.clone() {
            Some(t) => t,
            None => {
                let store: Store = open(data_dir)?;
                let policy =
                    crate::cli_route::PolicyArgs { policy: "paper".into(), tau: 0.5, map: None, classifier: None };
                let (classifier, policy) = crate::cli_route::load_for_routing(&store, data_dir, &policy)?;
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| AppError::internal(format!("cannot start the async runtime: {e}")))?;
                let d = crate::cli_route::decide(&store, &classifier, &policy, &args.prompt, &Keychain::open(), &rt)?;
                if !json {
                    eprintln!("[level {} → {} · {}]", d.level, d.tier, d.reason);
                }
                d.tier
            }
        };
        return crate::cli_cascade::run(&args, &start, data_dir, json);
    }
    if let Some(spec) = args.tier.clone() {
        return ask_tier(&args, &spec, None, data_dir, json).map_err(|(e, _)| e);
    }
    let store: Store = open(data_dir)?;
    let policy_args = crate::cli_route::stored(&store);
    let (classifier, policy) = crate::cli_route::load_for_routing(&store, data_dir, &policy_args)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::internal(format!("cannot start the async runtime: {e}")))?;
    let keychain = Keychain::open();
    let mut decision = crate::cli_route::decide(&store, &classifier, &policy, &args.prompt, &keychain, &rt)?;
    let tiers = table::tiers(&store).map_err(tier_err)?;
    let mut failed = vec![false; tiers.len()];
    loop {
        if !json {
            eprintln!("[level {} → {} · {} · {}]", decision.level, decision.tier, decision.model, decision.reason);
        }
        match ask_tier(&args, &decision.tier, Some(&decision), data_dir, json) {
            Ok(()) => return Ok(()),
            Err((e, Some(kind))) if kind.is_transient() || matches!(kind, ErrorKind::Auth | ErrorKind::Quota) => {
                let idx = tiers.iter().position(|t| t.name == decision.tier).unwrap_or(0);
                failed[idx] = true;
                let ok: Vec<bool> = tiers
                    .iter()
                    .enumerate()
                    .map(|(i, t)| !failed[i] && crate::cli_route::available(&store, &keychain, t).0)
                    .collect();
                let Some((next, flagged)) = complexitynet_engine::route::fall_through(idx, &ok) else { return Err(e) };
                eprintln!("{} failed ({}); falling through to {}", decision.tier, e.message, tiers[next].name);
                decision.reason = format!("{}; {} failed: {}", decision.reason, decision.tier, e.message);
                decision.tier = tiers[next].name.clone();
                decision.model = tiers[next].model.clone();
                decision.flagged |= flagged;
            }
            Err((e, _)) => return Err(e),
        }
    }
}

fn ask_tier(
    args: &AskArgs,
    spec: &str,
    route: Option<&crate::cli_route::Decision>,
    data_dir: &DataDir,
    json: bool,
) -> Result<(), (AppError, Option<ErrorKind>)> {
    let plain = |e: AppError| (e, None);
    let store: Store = open(data_dir).map_err(plain)?;
    let (tier, prov) = table::resolve(&store, spec).map_err(tier_err).map_err(plain)?;
    let mode = table::cost_mode(&store).map_err(tier_err).map_err(plain)?;
    let keychain = Keychain::open();
    let provider = build_provider(&store, &tier, &prov, &keychain, None).map_err(plain)?;
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
        .map_err(|e| plain(AppError::internal(format!("cannot start the async runtime: {e}"))))?;
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
            .map_err(tier_err)
            .map_err(plain)?;
            let cost = cost_of(&tier, mode, c.cost_usd);
            if json {
                println!("{}", serde_json::to_string_pretty(&json!({
                    "tier": tier.name, "provider": prov.name, "model": c.model, "text": c.text, "usage": c.usage,
                    "usage_estimated": c.usage_estimated, "finish_reason": c.finish_reason, "latency_ms": c.latency_ms,
                    "cost_usd": c.cost_usd, "cost": cost, "cost_mode": mode, "attempts": c.attempts,
                    "route": route,
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
            .map_err(tier_err)
            .map_err(plain)?;
            let kind = e.kind;
            Err((AppError::from(EngineError::from(e)), Some(kind)))
        }
    }
}

/// `doctor`'s line about the local tier: the runtime built in, and whether the local tier's model is installed.
pub fn local_runtime_check(data_dir: &DataDir) -> complexitynet_engine::doctor::Check {
    use complexitynet_engine::doctor::{Check, CheckStatus};
    let backend = if cfg!(feature = "cuda") {
        "CUDA"
    } else if cfg!(feature = "metal") {
        "Metal"
    } else {
        "CPU"
    };
    let runtime = format!("llama.cpp through llama-cpp-2 0.1.160 ({backend} build)");
    let local = open(data_dir).ok().and_then(|s| {
        let tier = table::tiers(&s).ok()?.into_iter().find(|t| t.name == "local")?;
        let installed =
            complexitynet_engine::models::get(&s, &tier.model).is_ok_and(|m| std::path::Path::new(&m.path).is_file());
        Some((tier.model, installed))
    });
    match local {
        Some((model, true)) => {
            Check { name: "local tier", status: CheckStatus::Ok, detail: format!("{runtime}; model {model} installed") }
        }
        Some((model, false)) => Check {
            name: "local tier",
            status: CheckStatus::Missing,
            detail: format!("{runtime}; model {model} not installed (complexitynet models download {model})"),
        },
        None => Check {
            name: "local tier",
            status: CheckStatus::Missing,
            detail: format!("{runtime}; no local tier configured"),
        },
    }
}
