//! `complexitynet keys|providers|tiers`: API keys in the OS keychain, providers, tiers and their prices.

use clap::Subcommand;
use complexitynet_core::keys::{ProviderUpdate, TierFields};
use complexitynet_core::types::{CostMode, ProviderKind};
use complexitynet_core::AppError;
use serde_json::json;
use std::io::{IsTerminal, Read};

use super::Ctx;

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
        /// The model's published pass rate, e.g. mbpp:0.66 (what routing knows of it until your own verified
        /// answers or `label calibrate` say more)
        #[arg(long, value_name = "mbpp:RATE")]
        published: Option<String>,
        /// The model's context window in tokens (0: not known); a request that would not fit skips the tier
        #[arg(long, value_name = "TOKENS")]
        context_window: Option<u32>,
        /// The longest answer the model writes, in tokens (0: not known); longer asks are cut to it
        #[arg(long, value_name = "TOKENS")]
        max_output: Option<u32>,
        /// Whether the model reads images (requests with images go only to tiers that do)
        #[arg(long)]
        vision: Option<bool>,
    },
    /// Count costs in dollars (usd) or in the paper's unit costs (paper-units)
    CostMode { mode: String },
    /// Set every tier from a preset: current models with their published prices (the default), or the paper's
    /// three (paper-2023); without a name, list the presets and their sources
    Preset { name: Option<String> },
}

/// The key from a prompt that does not echo, or from stdin when it is piped.
fn read_key(provider: &str) -> Result<String, AppError> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("API key for {provider}: "))
            .map_err(|e| AppError::internal(format!("cannot read the key: {e}")))
    } else {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| AppError::internal(format!("cannot read stdin: {e}")))?;
        Ok(s)
    }
}

pub fn keys(cmd: KeysCommand, ctx: &Ctx) -> Result<(), AppError> {
    let app = &ctx.app;
    match cmd {
        KeysCommand::Set { provider } => {
            // The provider must exist before the user types a key for it.
            app.providers()?
                .iter()
                .find(|p| p.name == provider)
                .ok_or_else(|| AppError::from(complexitynet_core::types::TierError::Unknown(provider.clone())))?;
            let masked = app.set_key(&provider, &read_key(&provider)?)?;
            let backend = app.secrets().backend();
            ctx.emit(&json!({"provider": provider, "key": masked, "keychain": backend}), || {
                format!("Stored the {provider} key ({masked}) in the {backend} keychain\n")
            });
        }
        KeysCommand::List => {
            let t = app.keys()?;
            ctx.emit(&t, || {
                let mut s = format!("keychain: {}\n", t.keychain);
                if let Some(p) = &t.problem {
                    s.push_str(&format!("keys cannot be saved here: {p}\n"));
                }
                for r in &t.providers {
                    s.push_str(&format!("{:<16} {}\n", r.provider, r.key.as_deref().unwrap_or("(no key)")));
                }
                s
            });
        }
        KeysCommand::Delete { provider } => {
            let existed = app.delete_key(&provider)?;
            ctx.emit(&json!({"provider": provider, "deleted": existed}), || {
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

pub fn providers(cmd: ProvidersCommand, ctx: &Ctx) -> Result<(), AppError> {
    let rows = match cmd {
        ProvidersCommand::List => ctx.app.providers()?,
        ProvidersCommand::Set { name, kind, base_url, concurrency, timeout_s } => {
            vec![ctx.app.set_provider(&name, &ProviderUpdate { kind, base_url, concurrency, timeout_s })?]
        }
    };
    ctx.emit(&rows, || {
        rows.iter()
            .map(|p| {
                format!("{:<14} {:<10} {:<40} concurrency {}\n", p.name, p.kind.as_str(), p.base_url, p.concurrency)
            })
            .collect()
    });
    Ok(())
}

pub fn tiers(cmd: TiersCommand, ctx: &Ctx) -> Result<(), AppError> {
    let app = &ctx.app;
    match cmd {
        TiersCommand::CostMode { mode } => {
            let m = match mode.as_str() {
                "usd" => CostMode::Usd,
                "paper-units" | "paper_units" => CostMode::PaperUnits,
                other => return Err(AppError::invalid(format!("unknown cost mode {other:?} (usd or paper-units)"))),
            };
            app.set_cost_mode(m)?;
            ctx.emit(&json!({"cost_mode": m}), || format!("Cost mode: {mode}\n"));
            return Ok(());
        }
        TiersCommand::Set {
            name,
            provider,
            model,
            price_in,
            price_out,
            units,
            published,
            context_window,
            max_output,
            vision,
        } => {
            let f = TierFields {
                provider,
                model,
                price_in,
                price_out,
                units,
                published,
                context_window,
                max_output,
                vision,
            };
            app.set_tier(&name, &f)?;
        }
        TiersCommand::Preset { name: None } => {
            let presets = app.presets();
            ctx.emit(&presets, || {
                presets
                    .iter()
                    .map(|p| {
                        let models: Vec<&str> = p.tiers.iter().map(|t| t.model.as_str()).collect();
                        format!(
                            "{:<12} {}: {}
             {}
",
                            p.name,
                            p.title,
                            models.join(" / "),
                            p.source
                        )
                    })
                    .collect()
            });
            return Ok(());
        }
        TiersCommand::Preset { name: Some(name) } => {
            app.apply_preset(&name)?;
        }
        TiersCommand::List => {}
    }
    let t = app.tier_table()?;
    ctx.emit(&json!({"cost_mode": t.cost_mode, "tiers": t.tiers, "abilities": t.abilities}), || {
        let mut s = format!(
            "{:<4} {:<8} {:<12} {:<32} {:>10} {:>10} {:>6}\n",
            "L", "TIER", "PROVIDER", "MODEL", "$/1K IN", "$/1K OUT", "UNITS"
        );
        for r in &t.tiers {
            s.push_str(&format!(
                "L{:<3} {:<8} {:<12} {:<32} {:>10} {:>10} {:>6}\n",
                r.position, r.name, r.provider, r.model, r.input_per_1k, r.output_per_1k, r.paper_units
            ));
        }
        s.push_str(&format!("cost mode: {:?}\n", t.cost_mode));
        for a in &t.abilities {
            let rate = a.rate.map(|r| format!("MBPP {:.0}%: ", 100.0 * r)).unwrap_or_default();
            s.push_str(&format!("{:<8} {rate}{}\n", a.tier, a.detail));
        }
        s
    });
    Ok(())
}
