//! `complexitynet usage`: spend and savings from the one ledger, grouped.

use complexitynet_core::types::{usd, UsageBy};
use complexitynet_core::AppError;

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct UsageArgs {
    /// Group by day, tier, source (chat, ask, serve, label, checks), client (claude-cli, codex_exec, …) or
    /// conversation (an agent's session)
    #[arg(long, default_value = "day")]
    pub by: String,
    /// How many days back
    #[arg(long, default_value_t = 30)]
    pub days: u32,
}

pub(crate) fn run(args: UsageArgs, ctx: &Ctx) -> Result<(), AppError> {
    let by: UsageBy = args.by.parse().map_err(AppError::invalid)?;
    let rows = ctx.app.usage(by, args.days)?;
    ctx.emit(&serde_json::json!({"by": by, "days": args.days, "rows": rows}), || {
        let mut s = format!(
            "{:<24} {:>6} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10}\n",
            args.by.to_uppercase(),
            "CALLS",
            "FAILED",
            "IN TOK",
            "OUT TOK",
            "CACHED",
            "SPENT",
            "SAVED"
        );
        for r in &rows {
            s.push_str(&format!(
                "{:<24} {:>6} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10}\n",
                r.key.chars().take(24).collect::<String>(),
                r.calls,
                r.failed,
                r.prompt_tokens,
                r.completion_tokens,
                r.cached_tokens,
                usd(r.cost_usd),
                usd(r.top_usd - r.cost_usd)
            ));
        }
        if rows.is_empty() {
            s.push_str(&format!("(no calls in the last {} days)\n", args.days));
        }
        s
    });
    Ok(())
}
