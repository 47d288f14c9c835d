//! `route`, `route-policy` and `eval`: where a prompt would go and why, the saved policy, and the savings
//! measured on held-out labels.

use clap::Args;
use complexitynet_core::routing::RouteOverrides;
use complexitynet_core::AppError;
use complexitynet_engine::route::{PolicyKind, RouteSettings};
use std::path::PathBuf;

use super::Ctx;

/// The saved policy's fields as flags: `route-policy` saves them, other commands override with them.
#[derive(Debug, Args, Clone, Default)]
pub struct PolicyFields {
    /// paper (a level → tier map) or threshold (the cheapest tier expected to pass with probability ≥ τ)
    /// [default: the policy saved in Settings, else paper]
    #[arg(long)]
    pub policy: Option<PolicyKind>,
    /// The threshold policy's τ [default: saved, else 0.5]
    #[arg(long)]
    pub tau: Option<f64>,
    /// An edited paper map, levels → 1-based tier, e.g. `1-2:1,3-4:2,5:3` [default: the paper's for the rule]
    #[arg(long)]
    pub map: Option<String>,
}

/// Per-command overrides of the saved policy.
#[derive(Debug, Args, Clone, Default)]
pub struct PolicyFlags {
    #[command(flatten)]
    pub fields: PolicyFields,
    /// Route with this classifier instead of the active one
    #[arg(long)]
    pub classifier: Option<String>,
}

impl From<&PolicyFlags> for RouteOverrides {
    fn from(f: &PolicyFlags) -> Self {
        RouteOverrides {
            policy: f.fields.policy,
            tau: f.fields.tau,
            map: f.fields.map.clone(),
            classifier: f.classifier.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct RouteArgs {
    pub prompt: String,
    #[command(flatten)]
    pub policy: PolicyFlags,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The label run to evaluate on (the classifier must have been trained on exactly these labels: its
    /// held-out fold predictions are what is scored)
    #[arg(long, value_name = "RUN")]
    pub labels: String,
    #[command(flatten)]
    pub policy: PolicyFlags,
    /// Cost of one task per tier, L1..LK [default: the paper's units 1,10,100]
    #[arg(long, value_delimiter = ',')]
    pub costs: Option<Vec<f64>>,
    /// Where report.md, report.json and plot.svg go
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `route`: the decision, even when the chosen tier cannot answer now (then flagged with the fix; exit 0).
pub fn route(args: RouteArgs, ctx: &Ctx) -> Result<(), AppError> {
    let rt = complexitynet_core::runtime()?;
    let d = rt.block_on(ctx.app.decide(&args.prompt, &RouteOverrides::from(&args.policy), &[]))?;
    ctx.emit(&d, || {
        let probs: Vec<String> = d.levels.iter().zip(&d.probabilities).map(|(l, p)| format!("{l}: {p:.2}")).collect();
        let mut s = format!(
            "level {} → {} ({})\n  {}\n  probabilities {}\n",
            d.level,
            d.tier,
            d.model,
            d.reason,
            probs.join(", ")
        );
        for t in &d.tiers {
            let expected = t.expected.map(|e| format!("expected pass {:.0}%  ", 100.0 * e)).unwrap_or_default();
            let mark = if t.tier == d.tier { "→" } else { " " };
            s.push_str(&format!("  {mark} {:<8} {:<28} {expected}{}\n", t.tier, t.model, t.note));
        }
        if !d.available {
            s.push_str("  no tier can answer now: `ask` would fail until one of the fixes above is applied\n");
        }
        s
    });
    Ok(())
}

/// `route-policy`: shows or saves the policy the chat, `ask`, `route` and the server use (with no flag it
/// shows it; `--map ""` restores the paper's map).
pub fn policy(args: PolicyFields, ctx: &Ctx) -> Result<(), AppError> {
    let mut p = ctx.app.route_settings()?;
    if args.policy.is_some() || args.tau.is_some() || args.map.is_some() {
        let o = RouteOverrides { policy: args.policy, tau: args.tau, map: args.map, classifier: None };
        p = ctx.app.set_route_settings(&o.apply(p))?;
    }
    ctx.emit(&p, || describe_policy(&p));
    Ok(())
}

fn describe_policy(p: &RouteSettings) -> String {
    match p.policy {
        PolicyKind::Threshold => format!("threshold τ = {:.2}\n", p.tau),
        PolicyKind::Paper => format!("paper map{}\n", p.map.as_ref().map(|m| format!(" ({m})")).unwrap_or_default()),
    }
}

pub fn eval(args: EvalArgs, ctx: &Ctx) -> Result<(), AppError> {
    let report = ctx.app.evaluate(&args.labels, &RouteOverrides::from(&args.policy), args.costs.clone())?;
    ctx.app.write_evaluation(&report, &args.out)?;
    ctx.emit(&report, || {
        let mut s = String::new();
        for st in report.strategies.iter().chain(std::iter::once(&report.routed)) {
            s.push_str(&format!(
                "{:<32} pass {:>5.1}%  cost {:>6.1}% of top  saves {:>5.1}%\n",
                st.name,
                100.0 * st.pass_rate,
                100.0 * st.relative_cost,
                100.0 * st.savings_vs_top
            ));
        }
        s.push_str(&format!("report: {}\n", args.out.join("report.md").display()));
        s
    });
    Ok(())
}
