//! A label run's pipeline: every task of a dataset on each tier M times, every answer verified in the sandbox,
//! each trial stored the moment it completes (the storage and its crash safety are the store's:
//! `complexitynet_engine::runs`).
//!
//! Generation and verification overlap: answers are verified on a pool of sandbox workers while further
//! generations are in flight, and one writer thread commits finished trials as they come.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use complexitynet_engine::runs::{self as run, now_ms, LabelError, RunConfig, TrialRecord};
use complexitynet_providers::{CancellationToken, GenParams, Message, Price, Provider, Request};
use complexitynet_verify::checks::Checks;
use complexitynet_verify::judge::{self, Prepared};
use complexitynet_verify::{Answer, Limits, Task, Verifier};

const CLOUD_SYSTEM: &str = include_str!("../../../../../resources/prompts/cloud-system.txt");
const CLOUD_USER: &str = include_str!("../../../../../resources/prompts/cloud-user.txt");
const LOCAL_USER: &str = include_str!("../../../../../resources/prompts/local-user.txt");

/// Which prompt template a tier gets: the paper found Code Llama needs the short form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptStyle {
    /// A system prompt asking for code only with the asserts' signature, then the task.
    Cloud,
    /// The task description plus the signature, nothing else.
    Local,
}

/// The prompt messages for a task.
pub fn messages(task: &Task, style: PromptStyle) -> Vec<Message> {
    let fill = |t: &str| {
        t.trim_end().replace("{prompt}", task.prompt.trim()).replace("{signature}", &task.entry_point.signature)
    };
    match style {
        PromptStyle::Cloud => vec![Message::system(fill(CLOUD_SYSTEM)), Message::user(fill(CLOUD_USER))],
        PromptStyle::Local => vec![Message::user(fill(LOCAL_USER))],
    }
}

/// How a tier answers.
pub enum Backend {
    Live {
        provider: Arc<dyn Provider>,
        price: Price,
        concurrency: usize,
    },
    /// Recorded answers by (task id, trial); trial k replays recorded trial k mod (the recorded trials of the task).
    Replay {
        answers: HashMap<String, Vec<String>>,
    },
}

pub struct Tier {
    /// As given on the command line (`mid`, `openai:gpt-4o`, `replay:gpt-4-1106-preview`).
    pub spec: String,
    pub model: String,
    pub style: PromptStyle,
    pub backend: Backend,
}

impl Tier {
    /// A replay tier over the recorded answers of `model`.
    pub fn replay(model: &str, recorded: &[Answer]) -> Result<Tier, LabelError> {
        let mut answers: HashMap<String, Vec<(u32, String)>> = HashMap::new();
        for a in recorded.iter().filter(|a| a.model == model) {
            answers.entry(a.task_id.clone()).or_default().push((a.trial, a.output.clone()));
        }
        if answers.is_empty() {
            let models: HashSet<&str> = recorded.iter().map(|a| a.model.as_str()).collect();
            return Err(LabelError::Invalid(format!(
                "the recorded answers have no model {model:?} (they have: {models:?})"
            )));
        }
        let answers = answers
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_by_key(|(t, _)| *t);
                (k, v.into_iter().map(|(_, o)| o).collect())
            })
            .collect();
        Ok(Tier {
            spec: format!("replay:{model}"),
            model: model.to_owned(),
            style: PromptStyle::Cloud,
            backend: Backend::Replay { answers },
        })
    }
}

/// Progress as the run goes: one per stored trial.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub tier_index: u32,
    pub passed: bool,
    pub cost_usd: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub planned: usize,
    pub stored: usize,
    pub skipped_done: usize,
    /// Generations that failed after their retries; they are not stored, so running again retries them.
    pub failed_generations: usize,
    pub budget_stopped: bool,
    pub spent_usd: f64,
    pub seconds: f64,
}

/// Runs the planned trials. `on_trial` is called from the storing thread for each stored trial.
#[allow(clippy::too_many_arguments)] // the run's parts, each needed once
pub async fn execute(
    db_path: std::path::PathBuf,
    run_id: i64,
    tasks: Vec<Task>,
    tiers: Vec<Tier>,
    cfg: RunConfig,
    budget_usd: Option<f64>,
    verifier: Arc<Verifier>,
    verify_parallel: usize,
    on_trial: Arc<dyn Fn(&Progress) + Send + Sync>,
) -> Result<Outcome, LabelError> {
    execute_cancellable(
        db_path,
        run_id,
        tasks,
        tiers,
        cfg,
        budget_usd,
        verifier,
        verify_parallel,
        on_trial,
        CancellationToken::new(),
    )
    .await
}

/// [`execute`] that stops starting new trials once `cancel` fires (pause: the same run started again resumes).
#[allow(clippy::too_many_arguments)] // the run's parts, each needed once
pub async fn execute_cancellable(
    db_path: std::path::PathBuf,
    run_id: i64,
    tasks: Vec<Task>,
    tiers: Vec<Tier>,
    cfg: RunConfig,
    budget_usd: Option<f64>,
    verifier: Arc<Verifier>,
    verify_parallel: usize,
    on_trial: Arc<dyn Fn(&Progress) + Send + Sync>,
    cancel: CancellationToken,
) -> Result<Outcome, LabelError> {
    let started = Instant::now();
    let already = {
        let store = complexitynet_engine::open(&db_path)?;
        run::done(&store, run_id)?
    };
    // The writer: one thread, one connection, one commit per trial.
    let (tx, rx) = std::sync::mpsc::channel::<TrialRecord>();
    let writer_db = db_path.clone();
    let on_trial2 = on_trial.clone();
    let writer = std::thread::spawn(move || -> Result<usize, LabelError> {
        let mut store = complexitynet_engine::open(&writer_db)?;
        let mut n = 0;
        // Each trial is written as soon as the writer has it; trials that finished while the last commit ran
        // share the next one (one commit, not many, when verification bursts), so nothing waits to be stored.
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while batch.len() < 256 {
                match rx.try_recv() {
                    Ok(t) => batch.push(t),
                    Err(_) => break,
                }
            }
            run::store_trials(&mut store, run_id, &batch)?;
            for t in &batch {
                n += 1;
                on_trial2(&Progress { tier_index: t.tier_index, passed: t.passed, cost_usd: t.cost_usd });
            }
        }
        Ok(n)
    });

    let tiers: Arc<Vec<Tier>> = Arc::new(tiers);
    let limits = Limits { timeout_ms: cfg.timeout_ms, ..Limits::default() };
    let failed = Arc::new(AtomicU64::new(0));
    let failed_v = failed.clone();
    // Verification runs on plain threads pulling from one queue, like `Verifier::verify_all`: a hand-off through
    // the async runtime per check (semaphore + spawn_blocking) left the sandbox workers idle for a scheduling
    // round-trip after every check, which on 2 busy cores added ~5% to a run.
    let (vtx, vrx) = std::sync::mpsc::channel::<(TrialRecord, Prepared)>();
    let vrx = Arc::new(std::sync::Mutex::new(vrx));
    let verify_threads: Vec<_> = (0..verify_parallel.max(1))
        .map(|_| {
            let (vrx, tx, verifier, cancel, failed) =
                (vrx.clone(), tx.clone(), verifier.clone(), cancel.clone(), failed_v.clone());
            std::thread::spawn(move || loop {
                let job = vrx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                let Ok((mut record, prepared)) = job else { break };
                if cancel.is_cancelled() {
                    continue; // paused: this answer is generated again on resume (replayed ones cost nothing)
                }
                let verdict = match prepared {
                    Prepared::Run { check, .. } => verifier.verify(&check),
                    // An answer that could not be read: its error verdict, and the run goes on.
                    Prepared::Known(j) => j.verdict,
                };
                if matches!(verdict.outcome, complexitynet_verify::Outcome::SandboxUnavailable { .. }) {
                    failed.fetch_add(1, Ordering::Relaxed);
                    continue; // not a verdict on the answer: never stored as one
                }
                record.verdict = verdict.name().to_owned();
                record.verdict_json = serde_json::to_string(&verdict).unwrap_or_default();
                record.passed = verdict.passed();
                record.asserts_passed = verdict.asserts_passed as u32;
                record.asserts_total = verdict.asserts_total as u32;
                record.finished_ms = now_ms();
                let _ = tx.send(record);
            })
        })
        .collect();
    let tier_slots: Vec<Arc<tokio::sync::Semaphore>> = tiers
        .iter()
        .map(|t| {
            Arc::new(tokio::sync::Semaphore::new(match &t.backend {
                Backend::Live { concurrency, .. } => (*concurrency).max(1),
                Backend::Replay { .. } => tokio::sync::Semaphore::MAX_PERMITS,
            }))
        })
        .collect();
    let spent_micro = Arc::new(AtomicU64::new(0));
    let budget_hit = Arc::new(AtomicBool::new(false));

    let mut planned = 0;
    let mut skipped = 0;
    let mut handles = Vec::new();
    // Interleave tiers and trials so each tier's concurrency is used from the start.
    for trial in 0..cfg.trials {
        for task in &tasks {
            for (ti, _) in tiers.iter().enumerate() {
                if already.contains(&(task.task_id.clone(), ti as u32, trial)) {
                    skipped += 1;
                    continue;
                }
                planned += 1;
                let (tiers, task, vtx, tslot) = (tiers.clone(), task.clone(), vtx.clone(), tier_slots[ti].clone());
                let (spent, budget_hit, failed, cancel, cfg2) =
                    (spent_micro.clone(), budget_hit.clone(), failed.clone(), cancel.clone(), cfg.clone());
                handles.push(tokio::spawn(async move {
                    if cancel.is_cancelled() {
                        return;
                    }
                    let tier = &tiers[ti];
                    let msgs = messages(&task, tier.style);
                    let prompt_text = msgs.iter().map(|m| m.content.as_str()).collect::<Vec<_>>().join("\n\n");
                    let started_ms = now_ms();
                    let (answer, usage, latency, cost) = match &tier.backend {
                        Backend::Replay { answers } => {
                            let Some(recorded) = answers.get(&task.task_id).filter(|v| !v.is_empty()) else {
                                failed.fetch_add(1, Ordering::Relaxed);
                                return;
                            };
                            (recorded[trial as usize % recorded.len()].clone(), (0, 0), 0.0, 0.0)
                        }
                        Backend::Live { provider, price, .. } => {
                            let _permit = tslot.acquire().await.expect("open semaphore");
                            if cancel.is_cancelled() {
                                return;
                            }
                            if let Some(budget) = budget_usd {
                                // The worst case of this call must fit: the budget is a cap, not a target.
                                let worst = price.cost(complexitynet_providers::Usage {
                                    prompt_tokens: complexitynet_providers::http::estimate_tokens(&prompt_text) + 16,
                                    completion_tokens: cfg2.max_tokens,
                                    cached_tokens: 0,
                                });
                                if spent.load(Ordering::SeqCst) as f64 / 1e6 + worst > budget {
                                    budget_hit.store(true, Ordering::SeqCst);
                                    return;
                                }
                            }
                            let req = Request {
                                model: tier.model.clone(),
                                messages: msgs,
                                params: GenParams {
                                    temperature: cfg2.temperature,
                                    max_tokens: cfg2.max_tokens,
                                    seed: Some(cfg2.seed.wrapping_add(trial as u64)),
                                    code_answer: true,
                                    ..GenParams::default()
                                },
                                stream: false,
                                price: *price,
                                ..Default::default()
                            };
                            match provider.generate(&req, &|_| {}, &cancel).await {
                                Ok(c) => {
                                    spent.fetch_add((c.cost_usd * 1e6).round() as u64, Ordering::SeqCst);
                                    (c.text, (c.usage.prompt_tokens, c.usage.completion_tokens), c.latency_ms, c.cost_usd)
                                }
                                Err(e) => {
                                    tracing::warn!(tier = %tier.spec, task = %task.task_id, trial, error = %e, "generation failed");
                                    failed.fetch_add(1, Ordering::Relaxed);
                                    return;
                                }
                            }
                        }
                    };
                    let prepared = judge::prepare(&answer, &Checks::from_task(&task), limits);
                    let (code, extraction) = match &prepared {
                        Prepared::Run { code, extraction, .. } => (code.clone(), extraction.clone()),
                        Prepared::Known(j) => (j.code.clone(), j.extraction.clone()),
                    };
                    let record = TrialRecord {
                        task_id: task.task_id.clone(),
                        tier_index: ti as u32,
                        trial,
                        tier: tier.spec.clone(),
                        model: tier.model.clone(),
                        prompt: prompt_text,
                        answer,
                        code,
                        extraction,
                        verdict: String::new(),
                        verdict_json: String::new(),
                        passed: false,
                        asserts_passed: 0,
                        asserts_total: 0,
                        prompt_tokens: usage.0,
                        completion_tokens: usage.1,
                        latency_ms: latency,
                        cost_usd: cost,
                        started_ms,
                        finished_ms: 0,
                    };
                    let _ = vtx.send((record, prepared));
                }));
            }
        }
    }
    drop(vtx);
    for h in handles {
        let _ = h.await;
    }
    for t in verify_threads {
        let _ = t.join();
    }
    drop(tx);
    let stored = writer.join().map_err(|_| LabelError::Invalid("the trial writer panicked".into()))??;
    Ok(Outcome {
        planned,
        stored,
        skipped_done: skipped,
        failed_generations: failed.load(Ordering::Relaxed) as usize,
        budget_stopped: budget_hit.load(Ordering::SeqCst),
        spent_usd: spent_micro.load(Ordering::SeqCst) as f64 / 1e6,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The dry-run estimate of one tier: calls, tokens (prompt from the templates, answer from the reference solution
/// or half of max_tokens) and dollars.
pub fn estimate(
    tasks: &[Task],
    style: PromptStyle,
    price: Price,
    trials: u32,
    max_tokens: u32,
) -> (u64, u64, u64, f64) {
    let (mut pin, mut pout) = (0u64, 0u64);
    for t in tasks {
        let p: u32 =
            messages(t, style).iter().map(|m| complexitynet_providers::http::estimate_tokens(&m.content) + 4).sum();
        let a = t
            .reference
            .as_deref()
            .map(complexitynet_providers::http::estimate_tokens)
            .unwrap_or(max_tokens / 2)
            .min(max_tokens);
        pin += p as u64 * trials as u64;
        pout += a as u64 * trials as u64;
    }
    let cost = (pin as f64 * price.input_per_1k + pout as f64 * price.output_per_1k) / 1000.0;
    (tasks.len() as u64 * trials as u64, pin, pout, cost)
}
