//! `complexitynet label`: the paper's label rules, label runs (live or replayed tiers), their status and exports.

use clap::{Args, Subcommand};
use complexitynet_engine::dataset;
use complexitynet_engine::keys::Keychain;
use complexitynet_engine::label::run::{self, Backend, PromptStyle, RunConfig, Tier};
use complexitynet_engine::label::{Label, Rule};
use complexitynet_engine::paths::DataDir;
use complexitynet_engine::tiers::table::{self, ProviderKind};
use complexitynet_engine::verify::sandbox::default_parallelism;
use complexitynet_engine::verify::{read_answers, Verifier};
use complexitynet_engine::{EngineError, ErrorCode};
use serde_json::json;
use std::sync::Arc;

use crate::cli::{emit, open};
use crate::cli_tiers::{build_provider, tier_err};
use crate::error::AppError;

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
    /// Wall-clock limit per check
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
}

fn err(e: impl Into<EngineError>) -> AppError {
    AppError::from(e.into())
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError { code: ErrorCode::InvalidArguments, message: message.into() }
}

pub fn run(cmd: LabelCommand, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    match cmd {
        LabelCommand::Rule { rule, trials, fraction, counts } => {
            let r = Rule::parse(&rule, trials, fraction).map_err(|e| invalid(e.to_string()))?;
            let label = r.label(&counts).map_err(|e| invalid(e.to_string()))?;
            let doc = match label {
                Label::Level(l) => json!({"level": l}),
                Label::Dropped => json!({"dropped": true}),
            };
            emit(json, &doc, || match label {
                Label::Level(l) => format!("level {l}\n"),
                Label::Dropped => "dropped (every tier failed every trial)\n".into(),
            });
            Ok(())
        }
        LabelCommand::Run(args) => label_run(args, data_dir, json),
        LabelCommand::Status { run: Some(name) } => {
            let s = run::summary(&open(data_dir)?, &name).map_err(err)?;
            emit(json, &s, || status_text(&s));
            Ok(())
        }
        LabelCommand::Status { run: None } => {
            let store = open(data_dir)?;
            let mut all = Vec::new();
            for name in run::runs(&store).map_err(err)? {
                all.push(run::summary(&store, &name).map_err(err)?);
            }
            emit(json, &all, || all.iter().map(status_text).collect::<Vec<_>>().join("\n"));
            Ok(())
        }
        LabelCommand::Export { run: name, format, out } => export(data_dir, &name, &format, out.as_deref()),
        LabelCommand::ImportCounts { file, dataset: ds, models, name, rule } => {
            let rows = run::read_counts(&file).map_err(err)?;
            let trials = rows.first().map(|r| r.trials).unwrap_or(1);
            let rule = Rule::parse(&rule, trials, None).map_err(|e| invalid(e.to_string()))?;
            let mut store = open(data_dir)?;
            let tasks = dataset::all_tasks(&store, &ds)?;
            let (imported, skipped) =
                run::import_counts(&mut store, &name, &ds, &tasks, &models, &rows, &rule).map_err(err)?;
            let s = run::summary(&store, &name).map_err(err)?;
            emit(
                json,
                &json!({"run": name, "imported_rows": imported, "skipped_rows": skipped, "tiers": s.tiers, "histogram": s.histogram}),
                || format!("imported {imported} rows ({skipped} for tasks {ds} does not have)\n{}", status_text(&s)),
            );
            Ok(())
        }
    }
}

pub(crate) fn status_text(s: &run::RunSummary) -> String {
    let mut t = format!(
        "{} ({}): {} — {}/{} trials, rule {}, ${:.4} spent\n",
        s.name,
        s.dataset,
        s.status,
        s.trials_stored,
        s.trials_total,
        s.rule.name(),
        s.spent_usd
    );
    for tier in &s.tiers {
        t.push_str(&format!(
            "  {:<32} {:>5}/{:<5} passed ({:.1}%)\n",
            tier["tier"].as_str().unwrap_or(""),
            tier["passes"],
            tier["trials"],
            tier["pass_rate"].as_f64().unwrap_or(0.0) * 100.0
        ));
    }
    t.push_str(&format!(
        "  levels: {}\n",
        s.histogram.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
    ));
    t
}

/// The tasks of a run: all, the first `limit`, or a seeded sample of `sample`.
pub(crate) fn select_tasks(
    store: &complexitynet_engine::store::Store,
    ds: &str,
    limit: Option<usize>,
    sample: Option<usize>,
    seed: u64,
) -> Result<Vec<dataset::Task>, AppError> {
    let mut tasks = dataset::all_tasks(store, ds)?;
    if let Some(n) = limit {
        tasks.truncate(n);
    }
    if let Some(n) = sample {
        // A seeded shuffle (xorshift): the same seed picks the same tasks on every machine.
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for i in (1..tasks.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            tasks.swap(i, (x % (i as u64 + 1)) as usize);
        }
        tasks.truncate(n);
    }
    Ok(tasks)
}

/// Builds the run's tiers from their specs (tier names, PROVIDER:MODEL, replay:MODEL) and their prices. For a
/// dry run nothing is loaded or contacted.
pub(crate) fn build_tiers(
    store: &complexitynet_engine::store::Store,
    specs: &[String],
    replay: Option<&std::path::Path>,
    dry_run: bool,
) -> Result<(Vec<Tier>, Vec<complexitynet_engine::tiers::Price>), AppError> {
    if specs.is_empty() {
        return Err(invalid("--tiers needs at least one tier"));
    }
    let recorded = match replay {
        Some(f) => Some(read_answers(f).map_err(err)?),
        None => None,
    };
    let keychain = Keychain::open();
    let mut tiers = Vec::new();
    let mut prices = Vec::new();
    for spec in specs {
        if let Some(model) = spec.strip_prefix("replay:") {
            let rec = recorded.as_ref().ok_or_else(|| invalid("replay:MODEL tiers need --replay FILE.jsonl"))?;
            tiers.push(Tier::replay(model, rec).map_err(err)?);
            prices.push(complexitynet_engine::tiers::Price::default());
            continue;
        }
        let (tier, prov) = table::resolve(store, spec).map_err(tier_err)?;
        let style = if prov.kind == ProviderKind::Local { PromptStyle::Local } else { PromptStyle::Cloud };
        prices.push(tier.price());
        if dry_run {
            tiers.push(Tier {
                spec: spec.clone(),
                model: tier.model.clone(),
                style,
                backend: Backend::Replay { answers: Default::default() },
            });
            continue;
        }
        let provider = build_provider(store, &tier, &prov, &keychain, None)?;
        // Local generation is serial: one model, one worker thread.
        let concurrency = if prov.kind == ProviderKind::Local { 1 } else { prov.concurrency as usize };
        tiers.push(Tier {
            spec: spec.clone(),
            model: tier.model.clone(),
            style,
            backend: Backend::Live { provider: Arc::from(provider), price: tier.price(), concurrency },
        });
    }
    Ok((tiers, prices))
}

fn label_run(a: RunArgs, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    if a.tiers.is_empty() {
        return Err(invalid("--tiers needs at least one tier"));
    }
    let rule = Rule::parse(&a.rule, a.trials, a.fraction).map_err(|e| invalid(e.to_string()))?;
    let store = open(data_dir)?;
    let tasks = select_tasks(&store, &a.dataset, a.limit, a.sample, a.seed)?;
    let (tiers, prices) = build_tiers(&store, &a.tiers, a.replay.as_deref(), a.dry_run)?;

    if a.dry_run {
        let est = |t: &dataset::Task, style: PromptStyle| {
            let prompt: u32 = run::messages(t, style)
                .iter()
                .map(|m| complexitynet_engine::tiers::http::estimate_tokens(&m.content) + 4)
                .sum();
            let answer = t
                .reference
                .as_deref()
                .map(complexitynet_engine::tiers::http::estimate_tokens)
                .unwrap_or(a.max_tokens / 2);
            (prompt, answer.min(a.max_tokens))
        };
        let mut rows = Vec::new();
        let mut total = 0.0;
        for (tier, price) in tiers.iter().zip(&prices) {
            let (mut pin, mut pout) = (0u64, 0u64);
            for t in &tasks {
                let (i, o) = est(t, tier.style);
                pin += i as u64 * a.trials as u64;
                pout += o as u64 * a.trials as u64;
            }
            let cost = (pin as f64 * price.input_per_1k + pout as f64 * price.output_per_1k) / 1000.0;
            total += cost;
            rows.push(json!({"tier": tier.spec, "calls": tasks.len() as u64 * a.trials as u64, "prompt_tokens": pin, "completion_tokens": pout, "cost_usd": cost}));
        }
        let doc = json!({"dry_run": true, "tasks": tasks.len(), "trials": a.trials, "tiers": rows, "cost_usd": total, "budget_usd": a.budget});
        emit(json, &doc, || {
            let mut s = format!("{} tasks × {} trials; estimated:\n", tasks.len(), a.trials);
            for r in &rows {
                s.push_str(&format!(
                    "  {:<32} {:>7} calls  ~{:>9} tokens  ${:.4}\n",
                    r["tier"].as_str().unwrap(),
                    r["calls"],
                    r["prompt_tokens"].as_u64().unwrap() + r["completion_tokens"].as_u64().unwrap(),
                    r["cost_usd"].as_f64().unwrap()
                ));
            }
            s.push_str(&format!("  total ${total:.4}\n"));
            s
        });
        return Ok(());
    }

    let name = a.name.clone().unwrap_or_else(|| format!("{}-{}", a.dataset, a.tiers.len()));
    let cfg = RunConfig {
        tiers: a.tiers.clone(),
        trials: a.trials,
        temperature: a.temperature,
        max_tokens: a.max_tokens,
        seed: a.seed,
        task_ids: tasks.iter().map(|t| t.task_id.clone()).collect(),
        timeout_ms: a.timeout_ms,
    };
    let (run_id, resumed) = run::open_run(&store, &name, &a.dataset, &cfg, &rule).map_err(err)?;
    let _span = tracing::info_span!("label_run", name = %name, resumed).entered();
    let total_per_tier = (tasks.len() as u64) * a.trials as u64;
    let multi = indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr());
    let bars: Vec<indicatif::ProgressBar> = tiers
        .iter()
        .map(|t| {
            let b = multi.add(indicatif::ProgressBar::new(total_per_tier));
            b.set_style(
                indicatif::ProgressStyle::with_template("{prefix:<28} [{bar:25}] {pos}/{len} {msg} eta {eta}")
                    .expect("template")
                    .progress_chars("=> "),
            );
            b.set_prefix(t.spec.clone());
            b
        })
        .collect();
    // Trials already stored count as done on the bars.
    let already = run::summary(&store, &name).map_err(err)?;
    for (i, t) in already.tiers.iter().enumerate() {
        bars[i].set_position(t["trials"].as_u64().unwrap_or(0));
    }
    drop(store);
    // Pass counts start from what earlier sessions of this run stored, like the bars' positions.
    let passes: Arc<Vec<std::sync::atomic::AtomicU64>> = Arc::new(
        (0..tiers.len())
            .map(|i| {
                std::sync::atomic::AtomicU64::new(already.tiers.get(i).and_then(|t| t["passes"].as_u64()).unwrap_or(0))
            })
            .collect(),
    );
    let spent = Arc::new(std::sync::Mutex::new(already.spent_usd));
    let (bars2, passes2, spent2) = (bars.clone(), passes.clone(), spent.clone());
    let on_trial = Arc::new(move |p: &run::Progress| {
        let i = p.tier_index as usize;
        if p.passed {
            passes2[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let mut s = spent2.lock().unwrap_or_else(|e| e.into_inner());
        *s += p.cost_usd;
        bars2[i].inc(1);
        let done = bars2[i].position().max(1);
        bars2[i].set_message(format!(
            "{:.0}% pass, ${:.4}",
            100.0 * passes2[i].load(std::sync::atomic::Ordering::Relaxed) as f64 / done as f64,
            *s
        ));
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| AppError::internal(format!("cannot start the async runtime: {e}")))?;
    let jobs = a.jobs.unwrap_or_else(default_parallelism);
    let outcome = rt
        .block_on(run::execute(
            data_dir.database(),
            run_id,
            tasks,
            tiers,
            cfg,
            a.budget,
            Arc::new(Verifier::new()),
            jobs,
            on_trial,
        ))
        .map_err(err)?;
    for b in &bars {
        b.finish_and_clear();
    }
    let store = open(data_dir)?;
    let summary = run::summary(&store, &name).map_err(err)?;
    let status = if summary.trials_stored == summary.trials_total {
        "complete"
    } else if outcome.budget_stopped {
        "stopped_budget"
    } else {
        "incomplete"
    };
    run::set_status(&store, &name, status).map_err(err)?;
    if outcome.budget_stopped {
        eprintln!("stopped: the budget of ${:.2} would be exceeded by the next request; raise --budget and run again to resume", a.budget.unwrap_or(0.0));
    }
    let summary = run::summary(&store, &name).map_err(err)?;
    emit(
        json,
        &json!({"run": summary.name, "status": summary.status, "outcome": outcome, "tiers": summary.tiers, "histogram": summary.histogram, "trials_stored": summary.trials_stored, "trials_total": summary.trials_total}),
        || status_text(&summary),
    );
    Ok(())
}

fn export(data_dir: &DataDir, name: &str, format: &str, out: Option<&std::path::Path>) -> Result<(), AppError> {
    let store = open(data_dir)?;
    let s = run::summary(&store, name).map_err(err)?;
    let tasks: std::collections::HashMap<String, dataset::Task> =
        dataset::all_tasks(&store, &s.dataset)?.into_iter().map(|t| (t.task_id.clone(), t)).collect();
    let mut text = String::new();
    match format {
        "jsonl" => {
            for l in &s.labels {
                text.push_str(&json!({"task_id": l.task_id, "counts": l.counts, "trials": l.trials, "level": l.level, "dropped": l.dropped, "rule": s.rule}).to_string());
                text.push('\n');
            }
        }
        "csv" => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let mut header = vec!["task_id".to_owned()];
            header.extend(s.config.tiers.iter().map(|t| format!("passes:{t}")));
            header.extend(["level".into(), "dropped".into(), "rule".into()]);
            w.write_record(&header).map_err(|e| AppError::internal(e.to_string()))?;
            for l in &s.labels {
                let mut row = vec![l.task_id.clone()];
                row.extend(l.counts.iter().map(|c| c.to_string()));
                row.extend([
                    l.level.map(|v| v.to_string()).unwrap_or_default(),
                    l.dropped.to_string(),
                    s.rule.name().to_owned(),
                ]);
                w.write_record(&row).map_err(|e| AppError::internal(e.to_string()))?;
            }
            text =
                String::from_utf8(w.into_inner().map_err(|e| AppError::internal(e.to_string()))?).unwrap_or_default();
        }
        "openai" => {
            // OpenAI's fine-tuning chat format: the prompt in, the level out (one token).
            for l in s.labels.iter().filter(|l| l.level.is_some()) {
                let Some(t) = tasks.get(&l.task_id) else { continue };
                let doc = json!({"messages": [
                    {"role": "system", "content": "Rate the complexity of this coding task: reply with one digit, the level."},
                    {"role": "user", "content": t.prompt},
                    {"role": "assistant", "content": l.level.unwrap().to_string()},
                ]});
                text.push_str(&doc.to_string());
                text.push('\n');
            }
        }
        "routerbench" => {
            // RouterBench's shape: one row per prompt; per model its correctness (pass rate) and its cost.
            let mut cost: std::collections::HashMap<(String, u32), f64> = Default::default();
            let mut stmt = store
                .conn()
                .prepare("SELECT t.task_id, t.tier_index, sum(t.cost_usd) FROM trials t JOIN label_runs r ON r.id = t.run_id WHERE r.name = ?1 GROUP BY 1, 2")
                .map_err(|e| AppError::internal(e.to_string()))?;
            let rows = stmt
                .query_map([name], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?, r.get::<_, f64>(2)?)))
                .map_err(|e| AppError::internal(e.to_string()))?;
            for r in rows.flatten() {
                cost.insert((r.0, r.1), r.2);
            }
            let mut w = csv::Writer::from_writer(Vec::new());
            let mut header = vec!["sample_id".to_owned(), "prompt".to_owned()];
            for t in &s.config.tiers {
                header.push(t.clone());
                header.push(format!("{t}|total_cost"));
            }
            w.write_record(&header).map_err(|e| AppError::internal(e.to_string()))?;
            for l in &s.labels {
                let mut row =
                    vec![l.task_id.clone(), tasks.get(&l.task_id).map(|t| t.prompt.clone()).unwrap_or_default()];
                for (i, (&c, &n)) in l.counts.iter().zip(&l.trials).enumerate() {
                    row.push(if n > 0 { format!("{}", c as f64 / n as f64) } else { String::new() });
                    row.push(format!("{}", cost.get(&(l.task_id.clone(), i as u32)).copied().unwrap_or(0.0)));
                }
                w.write_record(&row).map_err(|e| AppError::internal(e.to_string()))?;
            }
            text =
                String::from_utf8(w.into_inner().map_err(|e| AppError::internal(e.to_string()))?).unwrap_or_default();
        }
        other => return Err(invalid(format!("unknown export format {other:?} (jsonl, csv, openai, routerbench)"))),
    }
    match out {
        Some(p) => {
            std::fs::write(p, text).map_err(|e| AppError::internal(format!("cannot write {}: {e}", p.display())))?
        }
        None => print!("{text}"),
    }
    Ok(())
}
