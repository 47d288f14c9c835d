//! `complexitynet ask`: the core's `ask` rendered — the decision, each hand-over and each verified step on
//! stderr, the answer streamed to stdout. A prompt with tests takes the verified cascade unless --no-verify.

use clap::Args;
use complexitynet_core::ask::{AskEvent, AskRequest};
use complexitynet_core::routing::RouteOverrides;
use complexitynet_core::types::usd;
use complexitynet_core::types::CostMode;
use complexitynet_core::types::{CancellationToken, GenParams, Message};
use complexitynet_core::AppError;
use serde_json::json;

use super::Ctx;

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
    /// Ask one tier as if the prompt showed no examples (by default, a prompt with checks — `assert` lines,
    /// doctests, calls with their results, Input/Output examples — is answered by the verified cascade: each
    /// answer run against them, climbing while it fails)
    #[arg(long)]
    pub no_verify: bool,
    /// The highest tier to use (routing and the cascade stay at or below it), e.g. mid for "never the top tier"
    #[arg(long)]
    pub max_tier: Option<String>,
    /// The verified cascade's bar: a pass ends it only if an answer like it is right at least this often
    /// (0–1; from the checks' number and the tier's known ability) [default: 0.5, measured]
    #[arg(long)]
    pub trust_bar: Option<f64>,
    /// Verify against this dataset task's tests instead of the prompt's own
    #[arg(long, requires = "task", conflicts_with = "no_verify")]
    pub dataset: Option<String>,
    #[arg(long, requires = "dataset")]
    pub task: Option<String>,
}

/// A token that Ctrl-C cancels (what streamed is kept; the call is recorded as cancelled).
fn ctrl_c_token(rt: &tokio::runtime::Runtime) -> CancellationToken {
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            c.cancel();
        }
    });
    cancel
}

pub fn run(args: AskArgs, ctx: &Ctx) -> Result<(), AppError> {
    let app = &ctx.app;
    let rt = complexitynet_core::runtime()?;
    let cancel = ctrl_c_token(&rt);
    let params = GenParams { temperature: args.temperature, max_tokens: args.max_tokens, ..GenParams::default() };
    let mut messages = Vec::new();
    if let Some(s) = &args.system {
        messages.push(Message::system(s));
    }
    messages.push(Message::user(&args.prompt));
    let checks = match (&args.dataset, &args.task) {
        (Some(ds), Some(task)) => Some(app.task_checks(ds, task)?),
        _ => None,
    };
    let req = AskRequest {
        messages,
        tier: args.tier.clone(),
        classify_named: false,
        fall_through: args.tier.is_none(),
        params,
        stream: true,
        route: RouteOverrides { max_tier: args.max_tier.clone(), trust_bar: args.trust_bar, ..Default::default() },
        checks,
        verify: !args.no_verify,
        source: "ask",
        agent: None,
        client: None,
    };
    let json = ctx.json;
    let on_event = move |e: AskEvent| match e {
        AskEvent::Routed { decision: d } if !json => {
            eprintln!("[level {} → {} · {} · {}]", d.level, d.tier, d.model, d.reason)
        }
        AskEvent::Checks { summary, checks } if !json => {
            eprintln!("[checks] {summary}");
            for c in checks {
                eprintln!("  {}", c.code.replace('\n', "\n  "));
            }
        }
        AskEvent::FellThrough { from, to, error } => {
            eprintln!("{from} failed ({error}); falling through to {to}")
        }
        AskEvent::Step { tier, model, verdict, .. } if !json => {
            if model.is_empty() {
                eprintln!("[cascade] {tier}: {verdict} → next tier");
            } else {
                eprintln!("[cascade] {tier} ({model}): {verdict}");
            }
        }
        AskEvent::Piece { text } if !json => super::out(&text),
        _ => {}
    };
    let o = rt.block_on(app.ask(&req, &on_event, &cancel))?;
    let c = &o.completion;
    let cost = match o.cost_mode {
        CostMode::Usd => usd(o.cost_usd),
        CostMode::PaperUnits => format!("{} units", o.cost),
    };
    if ctx.json {
        let doc = json!({
            "tier": o.tier.name, "provider": o.provider, "model": c.model, "text": c.text, "usage": c.usage,
            "usage_estimated": c.usage_estimated, "finish_reason": c.finish_reason, "latency_ms": c.latency_ms,
            "cost_usd": o.cost_usd, "cost": o.cost, "cost_mode": o.cost_mode, "attempts": c.attempts,
            "calls": o.attempts, "route": o.route, "saved_usd": o.saved_usd, "verification": o.verification,
        });
        ctx.emit(&doc, String::new);
    } else {
        super::out("\n");
        let verified = match &o.verification {
            Some(v) if v.passed => format!(" · passed its {} check(s)", v.tests),
            Some(v) => format!(" · FAILED its {} check(s) on every tier tried: no savings claimed", v.tests),
            None => String::new(),
        };
        eprintln!(
            "[{} · {} · {} + {} tokens{} · {cost}{verified} · {:.0} ms]",
            o.tier.name,
            c.model,
            c.usage.prompt_tokens,
            c.usage.completion_tokens,
            if c.usage_estimated { " (estimated)" } else { "" },
            c.latency_ms
        );
    }
    Ok(())
}
