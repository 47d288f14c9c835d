//! `complexitynet ask`: the core's `ask` rendered — the decision and each hand-over on stderr, the answer
//! streamed to stdout — and `ask --cascade`, the verified cascade, each step on stderr.

use clap::Args;
use complexitynet_core::ask::{AskEvent, AskRequest};
use complexitynet_core::cascade::Tests;
use complexitynet_core::money::usd;
use complexitynet_core::AppError;
use complexitynet_engine::tiers::table::CostMode;
use complexitynet_engine::tiers::{CancellationToken, GenParams, Message};
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
    if args.cascade {
        return cascade(&args, messages, params, ctx, &rt, &cancel);
    }
    let req = AskRequest {
        messages,
        tier: args.tier.clone(),
        classify_named: false,
        fall_through: args.tier.is_none(),
        params,
        stream: true,
        route: Default::default(),
    };
    let json = ctx.json;
    let on_event = move |e: AskEvent| match e {
        AskEvent::Routed { decision: d } if !json => {
            eprintln!("[level {} → {} · {} · {}]", d.level, d.tier, d.model, d.reason)
        }
        AskEvent::FellThrough { from, to, error } => {
            eprintln!("{from} failed ({error}); falling through to {to}")
        }
        AskEvent::Piece { text } if !json => super::out(&text),
        _ => {}
    };
    let o = rt.block_on(app.ask(&req, &on_event, &cancel))?;
    let c = &o.completion;
    let cost = match o.cost_mode {
        CostMode::Usd => usd(c.cost_usd),
        CostMode::PaperUnits => format!("{} units", o.cost),
    };
    if ctx.json {
        let doc = json!({
            "tier": o.tier.name, "provider": o.provider, "model": c.model, "text": c.text, "usage": c.usage,
            "usage_estimated": c.usage_estimated, "finish_reason": c.finish_reason, "latency_ms": c.latency_ms,
            "cost_usd": c.cost_usd, "cost": o.cost, "cost_mode": o.cost_mode, "attempts": c.attempts,
            "calls": o.attempts, "route": o.route, "saved_usd": o.saved_usd,
        });
        ctx.emit(&doc, String::new);
    } else {
        super::out("\n");
        eprintln!(
            "[{} · {} · {} + {} tokens{} · {cost} · {:.0} ms]",
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

/// `ask --cascade`: from the named tier, or the one the router picks, upwards while the answer fails.
fn cascade(
    args: &AskArgs,
    messages: Vec<Message>,
    params: GenParams,
    ctx: &Ctx,
    rt: &tokio::runtime::Runtime,
    cancel: &CancellationToken,
) -> Result<(), AppError> {
    let app = &ctx.app;
    let tests = match (&args.dataset, &args.task) {
        (Some(ds), Some(task)) => app.task_tests(ds, task)?,
        _ => Tests::from_prompt(&args.prompt).ok_or_else(|| {
            AppError::invalid("--cascade needs tests: assert lines in the prompt, or --dataset and --task")
        })?,
    };
    let start = match &args.tier {
        Some(t) => t.clone(),
        None => {
            let d = rt.block_on(app.decide(&args.prompt, &Default::default(), &[]))?;
            ctx.note(&format!("[level {} → {} · {}]", d.level, d.tier, d.reason));
            d.tier
        }
    };
    let json = ctx.json;
    let on_event = move |e: AskEvent| {
        if let (AskEvent::Step { tier, model, verdict, .. }, false) = (e, json) {
            if model.is_empty() {
                eprintln!("[cascade] {tier}: {verdict} → next tier");
            } else {
                eprintln!("[cascade] {tier} ({model}): {verdict}");
            }
        }
    };
    let outcome = rt.block_on(app.cascade(&start, &messages, &tests, params, &on_event, cancel))?;
    ctx.emit(&outcome, || format!("{}\n", outcome.answer.trim_end()));
    match &outcome.passed_on {
        Some(t) => ctx.note(&format!("[cascade] passed on {t} · {} in all", usd(outcome.cost_usd))),
        None => ctx.note(&format!("[cascade] no tier's answer passed the tests · {} in all", usd(outcome.cost_usd))),
    }
    Ok(())
}
