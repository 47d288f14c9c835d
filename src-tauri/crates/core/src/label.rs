//! Label runs, the paper's way: every task on each tier M times, every answer verified in the sandbox, the pass
//! counts mapped to a level by a rule. Start (or resume: the same name again), pause (cancel its job), status,
//! exports, outside count tables; the dry-run estimate. Shared by `complexitynet label` and the Labeling tab.

pub mod pipeline;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use complexitynet_engine::dataset;
use complexitynet_engine::runs::{self as run, RunConfig, RunSummary, TrialView};
use complexitynet_engine::store::Store;
use complexitynet_engine::tiers::{self as table, ProviderKind};
use complexitynet_providers::Price;
use complexitynet_router::label::{Label, Rule};
use complexitynet_verify::read_answers;
use complexitynet_verify::sandbox::default_parallelism;
use complexitynet_verify::Task;
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::jobs::JobKind;
use crate::providers::Priced;
use crate::{App, AppError, Result};
pub use pipeline::{Backend, Progress, PromptStyle, Tier};

/// A label run as the CLI's flags and the Labeling tab's form give it.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct LabelRequest {
    /// The run's name; starting the same name again resumes it [default: DATASET-K].
    pub name: Option<String>,
    pub dataset: String,
    /// Ordered tiers L1,L2,…: tier names, PROVIDER:MODEL, or replay:MODEL (with `replay`).
    pub tiers: Vec<String>,
    pub trials: u32,
    pub temperature: f32,
    pub max_tokens: u32,
    #[ts(type = "number")]
    pub seed: u64,
    /// Stop issuing requests before the spend would pass this many dollars.
    #[ts(optional = nullable)]
    pub budget: Option<f64>,
    /// Only the first N tasks.
    #[ts(optional = nullable)]
    pub limit: Option<usize>,
    /// A seeded random sample of N tasks.
    #[ts(optional = nullable)]
    pub sample: Option<usize>,
    pub rule: String,
    /// The threshold rule's share of trials a tier must pass.
    #[ts(optional = nullable)]
    pub fraction: Option<f64>,
    /// Recorded answers (task_id, model, trial, output) for replay:MODEL tiers.
    #[ts(optional = nullable, as = "Option<String>")]
    pub replay: Option<PathBuf>,
    /// Sandbox checks in parallel [default: one per core].
    #[ts(optional = nullable)]
    pub jobs: Option<usize>,
    /// Time limit per check, in CPU time (a check that only waits is stopped at 3× on the wall clock).
    #[ts(type = "number")]
    pub timeout_ms: u64,
    /// Exactly these tasks, in this order (a calibration run's stratified sample).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub task_ids: Option<Vec<String>>,
}

impl Default for LabelRequest {
    fn default() -> Self {
        LabelRequest {
            name: None,
            dataset: String::new(),
            tiers: Vec::new(),
            trials: 5,
            temperature: 1.0,
            max_tokens: 512,
            seed: 0,
            budget: None,
            limit: None,
            sample: None,
            rule: "paper5".into(),
            fraction: None,
            replay: None,
            jobs: None,
            timeout_ms: 10_000,
            task_ids: None,
        }
    }
}

impl LabelRequest {
    pub fn run_name(&self) -> String {
        self.name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("{}-{}", self.dataset, self.tiers.len()))
    }

    fn rule(&self) -> Result<Rule> {
        Ok(Rule::parse(&self.rule, self.trials, self.fraction)?)
    }
}

/// One tier's dry-run estimate.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct EstimateRow {
    pub tier: String,
    #[ts(type = "number")]
    pub calls: u64,
    #[ts(type = "number")]
    pub prompt_tokens: u64,
    #[ts(type = "number")]
    pub completion_tokens: u64,
    pub cost_usd: f64,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Estimate {
    pub tasks: usize,
    pub trials: u32,
    pub tiers: Vec<EstimateRow>,
    pub cost_usd: f64,
    pub budget_usd: Option<f64>,
}

/// A stored trial, as a label run reports it while it goes.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LabelEvent {
    /// The run starts: the trials stored before (a resumed run) per tier, and its size.
    Started {
        name: String,
        per_tier: u64,
        stored: Vec<u64>,
        passes: Vec<u64>,
        spent_usd: f64,
    },
    Trial {
        tier_index: u32,
        passed: bool,
        cost_usd: f64,
    },
}

/// How a run ended.
#[derive(Debug, Clone, Serialize)]
pub struct LabelOutcome {
    pub summary: RunSummary,
    pub outcome: pipeline::Outcome,
}

/// What `label rule` gives for a set of counts.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RuleResult {
    Level { level: u32 },
    Dropped { dropped: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Jsonl,
    Csv,
    /// OpenAI's fine-tuning chat format: the prompt in, the level out.
    Openai,
    /// RouterBench's shape: per model its pass rate and cost.
    Routerbench,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "jsonl" => Ok(ExportFormat::Jsonl),
            "csv" => Ok(ExportFormat::Csv),
            "openai" => Ok(ExportFormat::Openai),
            "routerbench" => Ok(ExportFormat::Routerbench),
            other => Err(format!("unknown export format {other:?} (jsonl, csv, openai, routerbench)")),
        }
    }
}

/// The counts an outside table brought in.
#[derive(Debug, Clone, Serialize)]
pub struct CountsImported {
    pub run: String,
    pub imported_rows: usize,
    pub skipped_rows: usize,
    pub summary: RunSummary,
}

/// The tasks of a run: all, the first `limit`, or a seeded sample of `sample`.
fn select_tasks(store: &Store, req: &LabelRequest) -> Result<Vec<Task>> {
    let mut tasks = dataset::all_tasks(store, &req.dataset)?;
    if let Some(ids) = &req.task_ids {
        let by_id: std::collections::HashMap<&str, &Task> = tasks.iter().map(|t| (t.task_id.as_str(), t)).collect();
        let missing: Vec<&str> = ids.iter().filter(|i| !by_id.contains_key(i.as_str())).map(String::as_str).collect();
        if !missing.is_empty() {
            return Err(AppError::invalid(format!(
                "dataset {:?} has no task {} (import MBPP first: complexitynet dataset download mbpp)",
                req.dataset,
                missing.join(", ")
            )));
        }
        return Ok(ids.iter().map(|i| by_id[i.as_str()].clone()).collect());
    }
    if let Some(n) = req.limit {
        tasks.truncate(n);
    }
    if let Some(n) = req.sample {
        // A seeded shuffle (xorshift): the same seed picks the same tasks on every machine.
        let mut x = req.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
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

fn csv_text(rows: Vec<Vec<String>>) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(&r).map_err(|e| AppError::internal(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| AppError::internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| AppError::internal(e.to_string()))
}

impl App {
    /// The paper's rule applied to counts.
    pub fn apply_rule(&self, rule: &str, trials: u32, fraction: Option<f64>, counts: &[u32]) -> Result<RuleResult> {
        let r = Rule::parse(rule, trials, fraction)?;
        Ok(match r.label(counts)? {
            Label::Level(level) => RuleResult::Level { level },
            Label::Dropped => RuleResult::Dropped { dropped: true },
        })
    }

    /// Builds the run's tiers from their specs and their prices. For a dry run nothing is loaded or contacted.
    fn build_tiers(
        &self,
        specs: &[String],
        replay: Option<&std::path::Path>,
        dry_run: bool,
    ) -> Result<(Vec<Tier>, Vec<Price>)> {
        if specs.is_empty() {
            return Err(AppError::invalid("--tiers needs at least one tier"));
        }
        let recorded = match replay {
            Some(f) => Some(read_answers(f)?),
            None => None,
        };
        let mut tiers = Vec::new();
        let mut prices = Vec::new();
        for spec in specs {
            if let Some(model) = spec.strip_prefix("replay:") {
                let rec = recorded
                    .as_ref()
                    .ok_or_else(|| AppError::invalid("replay:MODEL tiers need --replay FILE.jsonl"))?;
                tiers.push(Tier::replay(model, rec)?);
                prices.push(Price::default());
                continue;
            }
            let (tier, prov) = self.with_store(|s| Ok(table::resolve(s, spec)?))?;
            let style = if prov.kind == ProviderKind::Local { PromptStyle::Local } else { PromptStyle::Cloud };
            prices.push(tier.price());
            let backend = if dry_run {
                Backend::Replay { answers: Default::default() }
            } else {
                // Local generation is serial: one model, one worker thread.
                let concurrency = if prov.kind == ProviderKind::Local { 1 } else { prov.concurrency as usize };
                Backend::Live { provider: self.provider(&tier, &prov)?, price: tier.price(), concurrency }
            };
            tiers.push(Tier { spec: spec.clone(), model: tier.model.clone(), style, backend });
        }
        Ok((tiers, prices))
    }

    /// The dry run: calls, tokens and dollars per tier, nothing contacted.
    pub fn estimate_label_run(&self, req: &LabelRequest) -> Result<Estimate> {
        let tasks = self.with_store(|s| select_tasks(s, req))?;
        let (tiers, prices) = self.build_tiers(&req.tiers, req.replay.as_deref(), true)?;
        let rows: Vec<EstimateRow> = tiers
            .iter()
            .zip(prices)
            .map(|(t, p)| {
                let (calls, pin, pout, cost) = pipeline::estimate(&tasks, t.style, p, req.trials, req.max_tokens);
                EstimateRow { tier: t.spec.clone(), calls, prompt_tokens: pin, completion_tokens: pout, cost_usd: cost }
            })
            .collect();
        Ok(Estimate {
            tasks: tasks.len(),
            trials: req.trials,
            cost_usd: rows.iter().map(|r| r.cost_usd).sum(),
            tiers: rows,
            budget_usd: req.budget,
        })
    }

    /// Starts (or resumes) a run and reports each stored trial; ends when it completes, is paused (its job,
    /// `label:NAME`, cancelled) or is stopped by its budget. Every trial is committed as it completes, so a
    /// killed run resumes without loss or duplicates.
    /// The paper's labels in one step (the Evaluate tab's empty state): MBPP (downloaded from its catalog URL
    /// when it is not imported yet), the paper's three models replayed from their recorded answers (`recorded`:
    /// the authors publish them with their code), one trial each, the single3 rule, as `paper-replay`.
    pub async fn label_paper_replay(
        &self,
        recorded: &std::path::Path,
        limit: Option<usize>,
        on_event: Arc<dyn Fn(LabelEvent) + Send + Sync>,
    ) -> Result<LabelOutcome> {
        if !recorded.is_file() {
            return Err(AppError::invalid(format!(
                "{} is not a file: the recorded answers are `complexitynet-mbpp-outputs.jsonl`, published with the \
                 paper's code",
                recorded.display()
            )));
        }
        if !self.datasets()?.iter().any(|d| d.name == "mbpp") {
            self.download_dataset("mbpp", None, &|_| {}).await?;
        }
        let req = LabelRequest {
            name: Some("paper-replay".into()),
            dataset: "mbpp".into(),
            tiers: ["codellama-7b-python", "gpt-3.5-turbo-1106", "gpt-4-1106-preview"]
                .iter()
                .map(|m| format!("replay:{m}"))
                .collect(),
            trials: 1,
            rule: "single3".into(),
            replay: Some(recorded.to_owned()),
            limit,
            ..LabelRequest::default()
        };
        self.label_run(&req, on_event).await
    }

    pub async fn label_run(
        &self,
        req: &LabelRequest,
        on_event: Arc<dyn Fn(LabelEvent) + Send + Sync>,
    ) -> Result<LabelOutcome> {
        let rule = req.rule()?;
        let name = req.run_name();
        let span = tracing::info_span!("label_run", name = %name);
        async {
            let tasks = self.with_store(|s| select_tasks(s, req))?;
            let (tiers, _) = self.build_tiers(&req.tiers, req.replay.as_deref(), false)?;
            let cfg = RunConfig {
                tiers: req.tiers.clone(),
                trials: req.trials,
                temperature: req.temperature,
                max_tokens: req.max_tokens,
                seed: req.seed,
                task_ids: tasks.iter().map(|t| t.task_id.clone()).collect(),
                timeout_ms: req.timeout_ms,
            };
            let (run_id, already) = self.with_store(|s| {
                let (run_id, _) = run::open_run(s, &name, &req.dataset, &cfg, &rule)?;
                Ok((run_id, run::summary(s, &name)?))
            })?;
            let job = self.jobs().start(JobKind::LabelRun, format!("label:{name}"))?;
            on_event(LabelEvent::Started {
                name: name.clone(),
                per_tier: tasks.len() as u64 * req.trials as u64,
                stored: already.tiers.iter().map(|t| t.trials).collect(),
                passes: already.tiers.iter().map(|t| t.passes).collect(),
                spent_usd: already.spent_usd,
            });
            let ev = on_event.clone();
            let on_trial = Arc::new(move |p: &Progress| {
                ev(LabelEvent::Trial { tier_index: p.tier_index, passed: p.passed, cost_usd: p.cost_usd })
            });
            let outcome = pipeline::execute_cancellable(
                self.data_dir().database(),
                run_id,
                tasks,
                tiers,
                cfg,
                req.budget,
                self.verifier(),
                req.jobs.unwrap_or_else(default_parallelism),
                on_trial,
                job.token().clone(),
            )
            .await?;
            let paused = job.token().is_cancelled();
            let summary = self.with_store(|s| {
                let summary = run::summary(s, &name)?;
                let status = if summary.trials_stored == summary.trials_total {
                    "complete"
                } else if paused {
                    "paused"
                } else if outcome.budget_stopped {
                    "stopped_budget"
                } else {
                    "incomplete"
                };
                run::set_status(s, &name, status)?;
                Ok(run::summary(s, &name)?)
            })?;
            Ok(LabelOutcome { summary, outcome })
        }
        .instrument(span)
        .await
    }

    /// Pauses a running label run (it stops starting new trials; the same run started again resumes).
    pub fn pause_label_run(&self, name: &str) -> bool {
        self.jobs().cancel(&format!("label:{name}"))
    }

    pub fn label_summary(&self, name: &str) -> Result<RunSummary> {
        self.with_store(|s| Ok(run::summary(s, name)?))
    }

    pub fn label_runs(&self) -> Result<Vec<RunSummary>> {
        self.with_store(|s| run::runs(s)?.iter().map(|n| Ok(run::summary(s, n)?)).collect())
    }

    pub fn label_trials(&self, name: &str, task_id: &str) -> Result<Vec<TrialView>> {
        self.with_store(|s| Ok(run::trials_of(s, name, task_id)?))
    }

    /// Imports an outside count table (JSONL: task_id, model, passes, trials) as a label source.
    pub fn import_counts(
        &self,
        file: &std::path::Path,
        ds: &str,
        models: &[String],
        name: &str,
        rule: &str,
    ) -> Result<CountsImported> {
        let rows = run::read_counts(file)?;
        let trials = rows.first().map(|r| r.trials).unwrap_or(1);
        let rule = Rule::parse(rule, trials, None)?;
        self.with_store(|s| {
            let tasks = dataset::all_tasks(s, ds)?;
            let (imported, skipped) = run::import_counts(s, name, ds, &tasks, models, &rows, &rule)?;
            Ok(CountsImported {
                run: name.to_owned(),
                imported_rows: imported,
                skipped_rows: skipped,
                summary: run::summary(s, name)?,
            })
        })
    }

    /// A run's labels as text in an export format.
    pub fn export_labels(&self, name: &str, format: ExportFormat) -> Result<String> {
        self.with_store(|store| {
            let s = run::summary(store, name)?;
            let tasks: HashMap<String, Task> =
                dataset::all_tasks(store, &s.dataset)?.into_iter().map(|t| (t.task_id.clone(), t)).collect();
            let mut text = String::new();
            match format {
                ExportFormat::Jsonl => {
                    for l in &s.labels {
                        let row = serde_json::json!({"task_id": l.task_id, "counts": l.counts, "trials": l.trials,
                            "level": l.level, "dropped": l.dropped, "rule": s.rule});
                        text.push_str(&row.to_string());
                        text.push('\n');
                    }
                }
                ExportFormat::Csv => {
                    let mut header = vec!["task_id".to_owned()];
                    header.extend(s.config.tiers.iter().map(|t| format!("passes:{t}")));
                    header.extend(["level".into(), "dropped".into(), "rule".into()]);
                    let mut rows = vec![header];
                    for l in &s.labels {
                        let mut row = vec![l.task_id.clone()];
                        row.extend(l.counts.iter().map(|c| c.to_string()));
                        row.extend([
                            l.level.map(|v| v.to_string()).unwrap_or_default(),
                            l.dropped.to_string(),
                            s.rule.name().to_owned(),
                        ]);
                        rows.push(row);
                    }
                    text = csv_text(rows)?;
                }
                ExportFormat::Openai => {
                    // OpenAI's fine-tuning chat format: the prompt in, the level out (one token).
                    for l in &s.labels {
                        let (Some(level), Some(t)) = (l.level, tasks.get(&l.task_id)) else { continue };
                        let doc = serde_json::json!({"messages": [
                            {"role": "system", "content": "Rate the complexity of this coding task: reply with one digit, the level."},
                            {"role": "user", "content": t.prompt},
                            {"role": "assistant", "content": level.to_string()},
                        ]});
                        text.push_str(&doc.to_string());
                        text.push('\n');
                    }
                }
                ExportFormat::Routerbench => {
                    // RouterBench's shape: one row per prompt; per model its correctness (pass rate) and its cost.
                    let cost = run::costs(store, name)?;
                    let mut header = vec!["sample_id".to_owned(), "prompt".to_owned()];
                    for t in &s.config.tiers {
                        header.push(t.clone());
                        header.push(format!("{t}|total_cost"));
                    }
                    let mut rows = vec![header];
                    for l in &s.labels {
                        let mut row =
                            vec![l.task_id.clone(), tasks.get(&l.task_id).map(|t| t.prompt.clone()).unwrap_or_default()];
                        for (i, (&c, &n)) in l.counts.iter().zip(&l.trials).enumerate() {
                            row.push(if n > 0 { format!("{}", c as f64 / n as f64) } else { String::new() });
                            row.push(format!("{}", cost.get(&(l.task_id.clone(), i as u32)).copied().unwrap_or(0.0)));
                        }
                        rows.push(row);
                    }
                    text = csv_text(rows)?;
                }
            }
            Ok(text)
        })
    }
}
