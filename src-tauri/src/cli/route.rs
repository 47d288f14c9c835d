//! `route`, `route-policy` and `eval`: where a prompt would go and why (one, or a file of them), the saved
//! policy, and the policies measured against the fixed tiers on held-out labels.

use clap::Args;
use complexitynet_core::routing::RouteOverrides;
use complexitynet_core::types::{Decision, PolicyKind, RouteSettings};
use complexitynet_core::AppError;
use std::path::PathBuf;

use super::Ctx;

/// The saved policy's fields as flags: `route-policy` saves them, other commands override with them.
#[derive(Debug, Args, Clone, Default)]
pub struct PolicyFields {
    /// dial (the best trade of pass probability and cost, at a share of the top tier's cost), paper (a level →
    /// tier map) or threshold (the cheapest tier with pass probability ≥ τ) [default: saved, else dial]
    #[arg(long)]
    pub policy: Option<PolicyKind>,
    /// The dial's target: the share of always-top's cost to spend, e.g. 0.1 [default: saved, else 0.1]
    #[arg(long, value_name = "SHARE")]
    pub cost_share: Option<f64>,
    /// The dial's other target: the least expected pass rate, e.g. 0.8 (instead of a cost share)
    #[arg(long, value_name = "RATE", conflicts_with = "cost_share")]
    pub min_pass: Option<f64>,
    /// The threshold policy's τ [default: saved, else 0.5]
    #[arg(long)]
    pub tau: Option<f64>,
    /// An edited paper map, levels → 1-based tier, e.g. `1-2:1,3-4:2,5:3` [default: the paper's for the rule]
    #[arg(long)]
    pub map: Option<String>,
}

impl PolicyFields {
    fn overrides(&self, classifier: Option<String>) -> RouteOverrides {
        RouteOverrides {
            policy: self.policy,
            tau: self.tau,
            map: self.map.clone(),
            cost_share: self.cost_share,
            min_pass: self.min_pass,
            classifier,
            ..Default::default()
        }
    }

    fn any(&self) -> bool {
        self.overrides(None) != RouteOverrides::default()
    }
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
        f.fields.overrides(f.classifier.clone())
    }
}

#[derive(Debug, Args)]
pub struct RouteArgs {
    /// The prompt (or use --file)
    #[arg(required_unless_present = "file")]
    pub prompt: Option<String>,
    /// A JSONL file of prompts (`{"id": …, "prompt": …}` per line): one decision per line out, in order
    #[arg(long, value_name = "FILE.jsonl", conflicts_with = "prompt")]
    pub file: Option<PathBuf>,
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
    /// The cleaned view: only the tasks some tier solved (by default every task counts, unsolved ones too)
    #[arg(long)]
    pub labeled_only: bool,
}

fn describe(d: &Decision) -> String {
    let mut s = format!("→ {} ({}): {}\n", d.tier, d.model, d.reason);
    if let Some(b) = &d.budget {
        let realized = b.realized.map(|r| format!("{:.1}%", 100.0 * r)).unwrap_or_else(|| "nothing yet".into());
        s.push_str(&format!(
            "  budget: {:.1}% of always-top's cost; spent so far {realized} over {} routed prompts\n",
            100.0 * b.target,
            b.prompts
        ));
    }
    if let Some(r) = &d.router {
        s.push_str(&format!("  router: {} — {}\n", r.name, r.why));
    }
    for t in &d.tiers {
        let known = match t.expected {
            Some(e) if t.calibrated => format!("passes {:>3.0}% ({})", 100.0 * e, t.source),
            _ => t.source.clone(),
        };
        let mark = if t.tier == d.tier { "→" } else { " " };
        s.push_str(&format!("  {mark} {:<8} {:<28} {known}\n", t.tier, t.model));
        if !t.available {
            s.push_str(&format!("    {:<8} cannot answer now: {}\n", "", t.note));
        }
    }
    if !d.available {
        s.push_str("  no tier can answer now: `ask` would fail until one of the fixes above is applied\n");
    }
    s
}

/// `route`: the decision, even when the chosen tier cannot answer now (then flagged with the fix; exit 0). With
/// `--file`, one JSON line per prompt, in order; a bad line is an error naming the file and line, before any
/// prompt is routed.
pub fn route(args: RouteArgs, ctx: &Ctx) -> Result<(), AppError> {
    let rt = complexitynet_core::runtime()?;
    let overrides = RouteOverrides::from(&args.policy);
    let Some(file) = &args.file else {
        let prompt = args.prompt.as_deref().unwrap_or_default();
        let d = rt.block_on(ctx.app.decide(prompt, &overrides, &[]))?;
        ctx.emit(&d, || describe(&d));
        return Ok(());
    };
    let lines = complexitynet_core::checks::read_prompts(file)?;
    // In order, as if they arrived one by one: the dial keeps its budget over the file.
    let prompts: Vec<String> = lines.iter().map(|l| l.prompt.clone()).collect();
    let decisions = rt.block_on(ctx.app.decide_all(&prompts, &overrides))?;
    for (line, d) in lines.into_iter().zip(decisions) {
        if ctx.json {
            let mut doc = serde_json::to_value(&d).map_err(|e| AppError::internal(e.to_string()))?;
            doc["id"] = line.id;
            super::out(&format!("{doc}\n"));
        } else {
            super::out(&format!("[{}] {}", line.id, describe(&d)));
        }
    }
    Ok(())
}

/// `route-policy`: shows or saves the policy the chat, `ask`, `route` and the server use (with no flag it
/// shows it; `--map ""` restores the paper's map).
pub fn policy(args: PolicyFields, ctx: &Ctx) -> Result<(), AppError> {
    let mut p = ctx.app.route_settings()?;
    if args.any() {
        p = ctx.app.set_route_settings(&args.overrides(None).apply(p))?;
    }
    ctx.emit(&p, || describe_policy(&p));
    Ok(())
}

fn describe_policy(p: &RouteSettings) -> String {
    match p.policy {
        PolicyKind::Dial => match p.min_pass {
            Some(m) => format!("cost dial: the cheapest routing expected to pass {:.0}% of prompts\n", 100.0 * m),
            None => format!("cost dial at {:.1}% of always-top's cost\n", 100.0 * p.cost_share),
        },
        PolicyKind::Threshold => format!("threshold τ = {:.2}\n", p.tau),
        PolicyKind::Paper => format!("paper map{}\n", p.map.as_ref().map(|m| format!(" ({m})")).unwrap_or_default()),
    }
}

pub fn eval(args: EvalArgs, ctx: &Ctx) -> Result<(), AppError> {
    let report =
        ctx.app.evaluate(&args.labels, &RouteOverrides::from(&args.policy), args.costs.clone(), args.labeled_only)?;
    ctx.app.write_evaluation(&report, &args.out)?;
    ctx.emit(&report, || {
        let pct = |x: f64| format!("{:>5.1}%", 100.0 * x);
        let mut s = String::from("fixed tiers and references:\n");
        for p in report.fixed.iter().chain([&report.random, &report.oracle]) {
            s.push_str(&format!("  {:<40} pass {}  cost {} of top\n", p.name, pct(p.pass_rate), pct(p.relative_cost)));
        }
        s.push_str("against the hull of the fixed tiers (Δ in points, 95% CI):\n");
        for c in &report.comparisons {
            for d in &c.at {
                s.push_str(&format!(
                    "  {:<10} at {}: pass {} (spends {})  Δ {:+.1} [{:+.1}, {:+.1}]\n",
                    c.policy,
                    pct(d.cost_share),
                    pct(d.pass_rate),
                    pct(d.achieved),
                    100.0 * d.delta,
                    100.0 * d.ci[0],
                    100.0 * d.ci[1]
                ));
            }
            if let (Some(low), Some(all), Some(apgr)) = (c.area_low, c.area_all, c.apgr) {
                s.push_str(&format!(
                    "  {:<10} area vs hull 1–10% {:+.1}, whole range {:+.1}; APGR {apgr:.3} (the hull's own: {:.3})\n",
                    c.policy,
                    100.0 * low,
                    100.0 * all,
                    report.hull_apgr
                ));
            }
        }
        for p in &report.cascades {
            s.push_str(&format!(
                "  {:<40} pass {}  cost {} of top (upper bound)\n",
                p.name,
                pct(p.pass_rate),
                pct(p.relative_cost)
            ));
        }
        if let Some(h) = &report.honest {
            s.push_str(&format!(
                "cascade verified by the prompt's checks, scored by the dataset's tests ({} of tasks show checks):\n",
                pct(h.checked_share).trim()
            ));
            for p in &h.cascades {
                s.push_str(&format!(
                    "  {:<56} pass {}  cost {} of top\n",
                    p.name,
                    pct(p.pass_rate),
                    pct(p.relative_cost)
                ));
            }
            for j in &h.judge {
                s.push_str(&format!(
                    "  the checks as a judge of {:<32} precision {}  recall {}  ({} answers)\n",
                    j.tier,
                    pct(j.precision),
                    pct(j.recall),
                    j.answers
                ));
            }
        }
        s.push_str(&format!(
            "saved policy — {}: pass {} at {} of top\nreport: {}\n",
            report.routed.name,
            pct(report.routed.pass_rate),
            pct(report.routed.relative_cost),
            args.out.join("report.md").display()
        ));
        s
    });
    Ok(())
}
