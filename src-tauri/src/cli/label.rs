//! `complexitynet label`: the paper's label rules, label runs (live or replayed tiers) with a progress bar per
//! tier, their status and exports.

use clap::{Args, Subcommand};
use complexitynet_core::calibrate::{CalibrateRequest, Calibration};
use complexitynet_core::label::{ExportFormat, LabelEvent, LabelRequest, RuleResult};
use complexitynet_core::types::usd;
use complexitynet_core::types::RunSummary;
use complexitynet_core::AppError;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::Ctx;

#[derive(Debug, Subcommand)]
pub enum LabelCommand {
    /// Apply a label rule to pass counts: `label rule --rule paper5 --trials 5 5 2 0`
    Rule {
        #[arg(long, default_value = "paper5")]
        rule: String,
        #[arg(long, default_value_t = 5)]
        trials: u32,
        /// For --rule threshold: the share of trials a tier must pass
        #[arg(long)]
        fraction: Option<f64>,
        /// Passes of L1, L2, …
        counts: Vec<u32>,
    },
    /// Run every task on each tier M times, verify every answer, store every trial (resumable)
    Run(RunArgs),
    /// Import outside pass counts (JSONL: task_id, model, passes, trials) as a label source
    ImportCounts {
        file: std::path::PathBuf,
        #[arg(long)]
        dataset: String,
        /// The models of the count table, in tier order L1,L2,…
        #[arg(long, value_delimiter = ',')]
        models: Vec<String>,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "paper5")]
        rule: String,
    },
    /// Calibrate my tiers: a sample of MBPP tasks spread over the difficulty scale learned from 49 models,
    /// answered once by each tier and verified; each tier's model's pass rate is fitted to its results and
    /// routing uses it from then on (`--dry-run` prints the cost first)
    Calibrate {
        /// The imported MBPP dataset
        #[arg(long, default_value = "mbpp")]
        dataset: String,
        /// Tasks per tier
        #[arg(long, default_value_t = 100)]
        n: usize,
        /// The tiers to calibrate [default: every tier]
        #[arg(long, value_delimiter = ',')]
        tiers: Vec<String>,
        /// Stop issuing requests before the spend would pass this many dollars
        #[arg(long)]
        budget: Option<f64>,
        #[arg(long)]
        dry_run: bool,
    },
    /// A run's progress, per-tier pass rates, level histogram and spend (all runs without a name)
    Status { run: Option<String> },
    /// Export a run's labels
    Export {
        run: String,
        /// jsonl, csv, openai (fine-tuning chat JSONL: prompt → level) or routerbench
        #[arg(long, default_value = "jsonl")]
        format: String,
        /// Write here instead of stdout
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[arg(long)]
    dataset: String,
    /// Ordered tiers L1,L2,…: tier names, PROVIDER:MODEL, or replay:MODEL (with --replay)
    #[arg(long, value_delimiter = ',')]
    tiers: Vec<String>,
    #[arg(long, default_value_t = 5)]
    trials: u32,
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    #[arg(long, default_value_t = 512)]
    max_tokens: u32,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stop issuing requests before the spend would pass this many dollars
    #[arg(long)]
    budget: Option<f64>,
    /// Only the first N tasks
    #[arg(long)]
    limit: Option<usize>,
    /// A seeded random sample of N tasks (with --seed)
    #[arg(long, conflicts_with = "limit")]
    sample: Option<usize>,
    #[arg(long, default_value = "paper5")]
    rule: String,
    #[arg(long)]
    fraction: Option<f64>,
    /// Recorded answers (task_id, model, trial, output) for replay:MODEL tiers
    #[arg(long)]
    replay: Option<std::path::PathBuf>,
    /// Print the cost estimate and stop
    #[arg(long)]
    dry_run: bool,
    /// The run's name; running the same name again resumes it
    #[arg(long)]
    name: Option<String>,
    /// Sandbox checks in parallel [default: one per core]
    #[arg(long)]
    jobs: Option<usize>,
    /// Time limit per check, in CPU time (a check that only waits is stopped at 3× on the wall clock)
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
}

impl From<RunArgs> for LabelRequest {
    fn from(a: RunArgs) -> Self {
        LabelRequest {
            name: a.name,
            dataset: a.dataset,
            tiers: a.tiers,
            trials: a.trials,
            temperature: a.temperature,
            max_tokens: a.max_tokens,
            seed: a.seed,
            budget: a.budget,
            limit: a.limit,
            sample: a.sample,
            rule: a.rule,
            fraction: a.fraction,
            replay: a.replay,
            jobs: a.jobs,
            timeout_ms: a.timeout_ms,
            task_ids: None,
        }
    }
}

pub(crate) fn status_text(s: &RunSummary) -> String {
    let mut t = format!(
        "{} ({}): {} — {}/{} trials, rule {}, {} spent\n",
        s.name,
        s.dataset,
        s.status,
        s.trials_stored,
        s.trials_total,
        s.rule.name(),
        usd(s.spent_usd)
    );
    for tier in &s.tiers {
        t.push_str(&format!(
            "  {:<32} {:>5}/{:<5} passed ({:.1}%)\n",
            tier.tier,
            tier.passes,
            tier.trials,
            tier.pass_rate * 100.0
        ));
    }
    t.push_str(&format!(
        "  levels: {}\n",
        s.histogram.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
    ));
    t
}

pub fn run(cmd: LabelCommand, ctx: &Ctx) -> Result<(), AppError> {
    let app = &ctx.app;
    match cmd {
        LabelCommand::Rule { rule, trials, fraction, counts } => {
            let r = app.apply_rule(&rule, trials, fraction, &counts)?;
            ctx.emit(&r, || match r {
                RuleResult::Level { level } => format!("level {level}\n"),
                RuleResult::Dropped { .. } => "dropped (every tier failed every trial)\n".into(),
            });
        }
        LabelCommand::Run(args) if args.dry_run => {
            let e = app.estimate_label_run(&LabelRequest::from(args))?;
            let mut doc = serde_json::to_value(&e).map_err(|e| AppError::internal(e.to_string()))?;
            doc["dry_run"] = json!(true);
            ctx.emit(&doc, || {
                let mut s = format!("{} tasks × {} trials; estimated:\n", e.tasks, e.trials);
                for r in &e.tiers {
                    s.push_str(&format!(
                        "  {:<32} {:>7} calls  ~{:>9} tokens  {}\n",
                        r.tier,
                        r.calls,
                        r.prompt_tokens + r.completion_tokens,
                        usd(r.cost_usd)
                    ));
                }
                s.push_str(&format!("  total {}\n", usd(e.cost_usd)));
                s
            });
        }
        LabelCommand::Run(args) => label_run(LabelRequest::from(args), ctx)?,
        LabelCommand::Calibrate { dataset, n, tiers, budget, dry_run } => {
            let tiers =
                if tiers.is_empty() { app.tier_table()?.tiers.into_iter().map(|t| t.name).collect() } else { tiers };
            let req = CalibrateRequest { tiers, n, dataset, budget, dry_run };
            let (on_event, bars) = progress(&req.tiers);
            let c = complexitynet_core::runtime()?.block_on(app.calibrate(&req, on_event));
            bars.iter().for_each(|b| b.finish_and_clear());
            let c = c?;
            ctx.emit(&c, || calibration_text(&c));
        }
        LabelCommand::Status { run: Some(name) } => {
            let s = app.label_summary(&name)?;
            ctx.emit(&s, || status_text(&s));
        }
        LabelCommand::Status { run: None } => {
            let all = app.label_runs()?;
            ctx.emit(&all, || all.iter().map(status_text).collect::<Vec<_>>().join("\n"));
        }
        LabelCommand::Export { run, format, out } => {
            let format: ExportFormat = format.parse().map_err(AppError::invalid)?;
            let text = app.export_labels(&run, format)?;
            match out {
                Some(p) => std::fs::write(&p, text)
                    .map_err(|e| AppError::internal(format!("cannot write {}: {e}", p.display())))?,
                None => super::out(&text),
            }
        }
        LabelCommand::ImportCounts { file, dataset, models, name, rule } => {
            let r = app.import_counts(&file, &dataset, &models, &name, &rule)?;
            let doc = json!({"run": r.run, "imported_rows": r.imported_rows, "skipped_rows": r.skipped_rows,
                "tiers": r.summary.tiers, "histogram": r.summary.histogram});
            ctx.emit(&doc, || {
                format!(
                    "imported {} rows ({} for tasks {dataset} does not have)\n{}",
                    r.imported_rows,
                    r.skipped_rows,
                    status_text(&r.summary)
                )
            });
        }
    }
    Ok(())
}

fn calibration_text(c: &Calibration) -> String {
    let mut t = format!("{} tasks per tier, estimated {}", c.estimate.tasks, usd(c.estimate.cost_usd));
    if c.tiers.is_empty() {
        t.push_str(" (dry run: nothing was asked)\n");
        return t;
    }
    t.push_str(&format!("; run {}\n", c.run));
    for r in &c.tiers {
        t.push_str(&format!(
            "  {:<12} {:<36} passed {:>3}/{:<3} → MBPP pass rate {:.1}%{}\n",
            r.tier,
            r.model,
            r.passed,
            r.tasks,
            100.0 * r.rate,
            if r.on_hull { "" } else { "  (not worth routing to: a cheaper tier does as well)" }
        ));
    }
    for p in &c.fixed {
        t.push_str(&format!(
            "  always {:<12} passes {:>5.1}% of the sample at {:>5.1}% of always-top's cost\n",
            p.tier,
            100.0 * p.pass_rate,
            100.0 * p.cost_share
        ));
    }
    if let Some(h) = c.hull_at_budget {
        t.push_str(&format!("  the hull of these tiers at your budget passes {:.1}% of the sample\n", 100.0 * h));
    }
    t.push_str(&format!("{}\n", c.budget));
    t
}

/// A progress bar per tier: trials stored (a resumed run's earlier ones count), pass rate, spend.
type OnEvent = Arc<dyn Fn(LabelEvent) + Send + Sync>;

fn progress(tiers: &[String]) -> (OnEvent, Vec<indicatif::ProgressBar>) {
    let multi = indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr());
    let bars: Vec<indicatif::ProgressBar> = tiers
        .iter()
        .map(|t| {
            let b = multi.add(super::bar("{prefix:<28} [{bar:25}] {pos}/{len} {msg} eta {eta}", None));
            b.set_prefix(t.clone());
            b
        })
        .collect();
    let passes: Arc<Vec<AtomicU64>> = Arc::new(tiers.iter().map(|_| AtomicU64::new(0)).collect());
    let spent = Arc::new(Mutex::new(0.0f64));
    let (b, p, sp) = (bars.clone(), passes.clone(), spent.clone());
    let on_event: OnEvent = Arc::new(move |e: LabelEvent| match e {
        LabelEvent::Started { per_tier, stored, passes, spent_usd, .. } => {
            for (i, bar) in b.iter().enumerate() {
                bar.set_length(per_tier);
                bar.set_position(stored.get(i).copied().unwrap_or(0));
                p[i].store(passes.get(i).copied().unwrap_or(0), Ordering::Relaxed);
            }
            *sp.lock().unwrap_or_else(|e| e.into_inner()) = spent_usd;
        }
        LabelEvent::Trial { tier_index, passed, cost_usd } => {
            let i = tier_index as usize;
            if passed {
                p[i].fetch_add(1, Ordering::Relaxed);
            }
            let mut s = sp.lock().unwrap_or_else(|e| e.into_inner());
            *s += cost_usd;
            b[i].inc(1);
            let done = b[i].position().max(1);
            b[i].set_message(format!(
                "{:.0}% pass, {}",
                100.0 * p[i].load(Ordering::Relaxed) as f64 / done as f64,
                usd(*s)
            ));
        }
    });
    (on_event, bars)
}

/// A label run with its progress bars.
fn label_run(req: LabelRequest, ctx: &Ctx) -> Result<(), AppError> {
    let (on_event, bars) = progress(&req.tiers);
    let budget = req.budget;
    let r = complexitynet_core::runtime()?.block_on(ctx.app.label_run(&req, on_event));
    for b in &bars {
        b.finish_and_clear();
    }
    let r = r?;
    if r.outcome.budget_stopped {
        eprintln!(
            "stopped: the budget of ${:.2} would be exceeded by the next request; raise --budget and run again to resume",
            budget.unwrap_or(0.0)
        );
    }
    let s = &r.summary;
    ctx.emit(
        &json!({"run": s.name, "status": s.status, "outcome": r.outcome, "tiers": s.tiers, "histogram": s.histogram,
                "trials_stored": s.trials_stored, "trials_total": s.trials_total}),
        || status_text(s),
    );
    Ok(())
}
