//! A label run's storage: the run and its configuration, every trial stored the moment it completes, the counts,
//! labels and summaries read back. The run itself (generate → verify → store) is the application core's.
//!
//! Crash safety: a trial's primary key is (run, task, tier, trial), trials are committed as they complete, and a
//! run started again under the same name plans only the trials not yet stored. A SIGKILL at any moment loses at
//! most the trials in flight (never stored, so redone) and never duplicates one.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::ledger::{self, CallRecord, Entry};
use crate::store::{Store, StoreError};
use complexitynet_router::label::{Label, Rule};
use complexitynet_verify::extract::Extraction;
use complexitynet_verify::Task;

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("a label run named {name:?} exists with another configuration ({why}); choose another --name")]
    Mismatch { name: String, why: String },
    #[error("no label run named {0:?} (see `complexitynet label status`)")]
    Unknown(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Rule(#[from] complexitynet_router::label::RuleError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for LabelError {
    fn from(e: rusqlite::Error) -> Self {
        LabelError::Store(StoreError::Sql(e))
    }
}

impl LabelError {
    pub fn code(&self) -> crate::ErrorCode {
        match self {
            LabelError::Mismatch { .. } | LabelError::Invalid(_) | LabelError::Rule(_) => {
                crate::ErrorCode::InvalidArguments
            }
            LabelError::Unknown(_) => crate::ErrorCode::UnknownRun,
            LabelError::Store(e) => e.code(),
        }
    }
}

/// The run's configuration, stored with it: a resumed run must match it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RunConfig {
    pub tiers: Vec<String>,
    pub trials: u32,
    pub temperature: f32,
    pub max_tokens: u32,
    pub seed: u64,
    pub task_ids: Vec<String>,
    /// Time limit per check, in CPU time (the sandbox stops a check that only waits at 3× on the wall clock).
    /// Generous by default (10 s, as the reference re-execution of the recorded answers used): some correct
    /// answers compute for seconds (GPT-4's answer to MBPP task 123 takes 9.8 s), and counting CPU rather than
    /// wall time keeps a verdict from flipping with the machine's load.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    10_000
}

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Creates the run, or finds it to resume (then its configuration must match).
pub fn open_run(
    store: &Store,
    name: &str,
    dataset: &str,
    cfg: &RunConfig,
    rule: &Rule,
) -> Result<(i64, bool), LabelError> {
    let existing: Option<(i64, String, String)> = store
        .conn()
        .query_row("SELECT id, dataset, config FROM label_runs WHERE name = ?1", [name], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    if let Some((id, ds, config)) = existing {
        let stored: RunConfig = serde_json::from_str(&config).map_err(|e| LabelError::Invalid(e.to_string()))?;
        let why = if ds != dataset {
            Some(format!("dataset {ds}"))
        } else if stored.tiers != cfg.tiers {
            Some(format!("tiers {}", stored.tiers.join(",")))
        } else if stored.trials != cfg.trials {
            Some(format!("{} trials", stored.trials))
        } else if stored.task_ids != cfg.task_ids {
            Some("another task selection".to_owned())
        } else {
            None
        };
        if let Some(why) = why {
            return Err(LabelError::Mismatch { name: name.to_owned(), why });
        }
        store.conn().execute(
            "UPDATE label_runs SET status = 'running', rule = ?2 WHERE id = ?1",
            params![id, serde_json::to_string(rule).unwrap()],
        )?;
        return Ok((id, true));
    }
    store.conn().execute(
        "INSERT INTO label_runs(name, dataset, config, rule, status) VALUES (?1, ?2, ?3, ?4, 'running')",
        params![name, dataset, serde_json::to_string(cfg).unwrap(), serde_json::to_string(rule).unwrap()],
    )?;
    Ok((store.conn().last_insert_rowid(), false))
}

/// The trials already stored, by (task id, tier index, trial).
pub fn done(store: &Store, run_id: i64) -> Result<HashSet<(String, u32, u32)>, LabelError> {
    let mut stmt = store.conn().prepare("SELECT task_id, tier_index, trial FROM trials WHERE run_id = ?1")?;
    let rows = stmt.query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One finished trial, as stored.
#[derive(Debug, Clone, Serialize)]
pub struct TrialRecord {
    pub task_id: String,
    pub tier_index: u32,
    pub trial: u32,
    pub tier: String,
    pub model: String,
    pub prompt: String,
    pub answer: String,
    pub code: String,
    /// Which reading of the answer was run, and what was kept and dropped.
    pub extraction: Extraction,
    pub verdict: String,
    pub verdict_json: String,
    pub passed: bool,
    pub asserts_passed: u32,
    pub asserts_total: u32,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub latency_ms: f64,
    pub cost_usd: f64,
    pub started_ms: i64,
    pub finished_ms: i64,
}

pub fn store_trial(store: &Store, run_id: i64, t: &TrialRecord) -> Result<(), LabelError> {
    insert_trial(store.conn(), run_id, t)
}

/// Stores finished trials in one transaction (the run's writer batches the trials that finished while the last
/// commit ran, so nothing waits to be stored).
pub fn store_trials(store: &mut Store, run_id: i64, batch: &[TrialRecord]) -> Result<(), LabelError> {
    let tx = store.conn_mut().transaction()?;
    for t in batch {
        insert_trial(&tx, run_id, t)?;
    }
    tx.commit()?;
    Ok(())
}

fn insert_trial(conn: &rusqlite::Connection, run_id: i64, t: &TrialRecord) -> Result<(), LabelError> {
    // OR IGNORE: a trial is stored once, whatever happens (the plan never schedules a stored one).
    conn.execute(
        "INSERT OR IGNORE INTO trials(run_id, task_id, tier_index, trial, tier, model, prompt, answer, code, verdict,
             verdict_json, passed, asserts_passed, asserts_total, prompt_tokens, completion_tokens, latency_ms,
             cost_usd, started_ms, finished_ms, extraction)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
        params![
            run_id,
            t.task_id,
            t.tier_index,
            t.trial,
            t.tier,
            t.model,
            t.prompt,
            t.answer,
            t.code,
            t.verdict,
            t.verdict_json,
            t.passed,
            t.asserts_passed,
            t.asserts_total,
            t.prompt_tokens,
            t.completion_tokens,
            t.latency_ms,
            t.cost_usd,
            t.started_ms,
            t.finished_ms,
            serde_json::to_string(&t.extraction).unwrap_or_default()
        ],
    )?;
    // The ledger: a generated answer is a paid call like any other (a replayed one cost nothing and is not one).
    // `changes()` is 0 when the trial was stored already, so a resumed run never counts a call twice.
    if conn.changes() > 0 && !t.tier.starts_with("replay:") {
        let call = CallRecord {
            tier: &t.tier,
            provider: "",
            model: &t.model,
            prompt_tokens: t.prompt_tokens,
            completion_tokens: t.completion_tokens,
            cost_usd: t.cost_usd,
            latency_ms: t.latency_ms,
            finish_reason: "stop",
            error_kind: None,
            usage_estimated: false,
            cached_tokens: 0,
            entry: Entry::of("label"),
        };
        ledger::record_on(conn, &call)?;
    }
    Ok(())
}

/// A task's counts and label in a run.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct LabelRow {
    pub task_id: String,
    /// Passes per tier, L1..LK.
    pub counts: Vec<u32>,
    /// Trials stored per tier (a label needs all of them).
    pub trials: Vec<u32>,
    pub level: Option<u32>,
    pub dropped: bool,
}

/// A tier's results in a run.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct TierStats {
    pub tier: String,
    pub passes: u64,
    pub trials: u64,
    pub pass_rate: f64,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RunSummary {
    pub name: String,
    pub dataset: String,
    pub status: String,
    pub rule: Rule,
    pub config: RunConfig,
    pub trials_stored: usize,
    pub trials_total: usize,
    /// Per tier: passes, trials stored, pass rate.
    pub tiers: Vec<TierStats>,
    pub histogram: BTreeMap<String, usize>,
    pub spent_usd: f64,
    pub labels: Vec<LabelRow>,
}

/// Counts, labels and statistics of a run, from its stored trials.
pub fn summary(store: &Store, name: &str) -> Result<RunSummary, LabelError> {
    let (id, dataset, config, rule, status): (i64, String, String, String, String) = store
        .conn()
        .query_row("SELECT id, dataset, config, rule, status FROM label_runs WHERE name = ?1", [name], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?
        .ok_or_else(|| LabelError::Unknown(name.to_owned()))?;
    let config: RunConfig = serde_json::from_str(&config).map_err(|e| LabelError::Invalid(e.to_string()))?;
    let rule: Rule = serde_json::from_str(&rule).map_err(|e| LabelError::Invalid(e.to_string()))?;
    let k = config.tiers.len();
    let mut per_task: BTreeMap<String, (Vec<u32>, Vec<u32>)> =
        config.task_ids.iter().map(|t| (t.clone(), (vec![0; k], vec![0; k]))).collect();
    let mut stmt =
        store.conn().prepare("SELECT task_id, tier_index, passed, cost_usd FROM trials WHERE run_id = ?1")?;
    let mut spent = 0.0;
    let mut stored = 0;
    let rows = stmt.query_map([id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?, r.get::<_, bool>(2)?, r.get::<_, f64>(3)?))
    })?;
    for row in rows {
        let (task, ti, passed, cost) = row?;
        stored += 1;
        spent += cost;
        if let Some((counts, trials)) = per_task.get_mut(&task) {
            if (ti as usize) < k {
                counts[ti as usize] += u32::from(passed);
                trials[ti as usize] += 1;
            }
        }
    }
    let mut labels = Vec::new();
    let mut histogram: BTreeMap<String, usize> = BTreeMap::new();
    let (mut tier_pass, mut tier_n) = (vec![0usize; k], vec![0usize; k]);
    for (task_id, (counts, trials)) in per_task {
        for i in 0..k {
            tier_pass[i] += counts[i] as usize;
            tier_n[i] += trials[i] as usize;
        }
        let complete = trials.iter().all(|&t| t == config.trials);
        let label = if complete { Some(rule.label(&counts)?) } else { None };
        let (level, dropped) = match label {
            Some(Label::Level(l)) => (Some(l), false),
            Some(Label::Dropped) => (None, true),
            None => (None, false),
        };
        let key = match label {
            Some(Label::Level(l)) => format!("level {l}"),
            Some(Label::Dropped) => "dropped".into(),
            None => "pending".into(),
        };
        *histogram.entry(key).or_default() += 1;
        labels.push(LabelRow { task_id, counts, trials, level, dropped });
    }
    let tiers = config
        .tiers
        .iter()
        .enumerate()
        .map(|(i, t)| TierStats {
            tier: t.clone(),
            passes: tier_pass[i] as u64,
            trials: tier_n[i] as u64,
            pass_rate: if tier_n[i] > 0 { tier_pass[i] as f64 / tier_n[i] as f64 } else { 0.0 },
        })
        .collect();
    Ok(RunSummary {
        name: name.to_owned(),
        dataset,
        status,
        trials_total: config.task_ids.len() * k * config.trials as usize,
        rule,
        config,
        trials_stored: stored,
        tiers,
        histogram,
        spent_usd: spent,
        labels,
    })
}

pub fn set_status(store: &Store, name: &str, status: &str) -> Result<(), LabelError> {
    store.conn().execute(
        "UPDATE label_runs SET status = ?2, finished_at = CASE WHEN ?2 = 'complete' THEN strftime('%Y-%m-%dT%H:%M:%SZ', 'now') ELSE finished_at END WHERE name = ?1",
        params![name, status],
    )?;
    Ok(())
}

/// What each task cost on each tier in a run (the sum over its trials), by (task id, tier index).
pub fn costs(store: &Store, name: &str) -> Result<HashMap<(String, u32), f64>, LabelError> {
    let mut stmt = store.conn().prepare(
        "SELECT t.task_id, t.tier_index, sum(t.cost_usd) FROM trials t JOIN label_runs r ON r.id = t.run_id
         WHERE r.name = ?1 GROUP BY 1, 2",
    )?;
    let rows = stmt.query_map([name], |r| Ok(((r.get::<_, String>(0)?, r.get::<_, u32>(1)?), r.get::<_, f64>(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn runs(store: &Store) -> Result<Vec<String>, LabelError> {
    let mut stmt = store.conn().prepare("SELECT name FROM label_runs ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One row of an outside count table: `task_id, model, passes, trials`.
#[derive(Debug, Clone, Deserialize)]
pub struct CountRow {
    #[serde(deserialize_with = "id_string")]
    pub task_id: String,
    pub model: String,
    pub passes: u32,
    pub trials: u32,
}

fn id_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("task_id must be a string or number, got {other}"))),
    }
}

/// Reads a JSONL count table; a bad line is an error naming file and line, and nothing is imported.
pub fn read_counts(file: &std::path::Path) -> Result<Vec<CountRow>, LabelError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| LabelError::Invalid(format!("cannot read {}: {e}", file.display())))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let row: CountRow = serde_json::from_str(line)
            .map_err(|e| LabelError::Invalid(format!("{}:{}: {e}", file.display(), i + 1)))?;
        if row.passes > row.trials || row.trials == 0 {
            return Err(LabelError::Invalid(format!(
                "{}:{}: {} passes of {} trials",
                file.display(),
                i + 1,
                row.passes,
                row.trials
            )));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Imports outside pass counts as a label source: a run whose tiers are `counts:MODEL`, with one stored trial
/// per counted trial (verdict `imported`, passed for the first `passes` of them), so status, labels and exports
/// treat it like any run. Tasks the dataset does not have are skipped and counted.
pub fn import_counts(
    store: &mut Store,
    name: &str,
    dataset: &str,
    tasks: &[Task],
    models: &[String],
    rows: &[CountRow],
    rule: &Rule,
) -> Result<(usize, usize), LabelError> {
    let known: HashSet<&str> = tasks.iter().map(|t| t.task_id.as_str()).collect();
    let trials = rows.iter().map(|r| r.trials).max().unwrap_or(1);
    if rows.iter().any(|r| r.trials != trials) {
        return Err(LabelError::Invalid("every row must count the same number of trials".into()));
    }
    let cfg = RunConfig {
        tiers: models.iter().map(|m| format!("counts:{m}")).collect(),
        trials,
        temperature: 0.0,
        max_tokens: 0,
        seed: 0,
        task_ids: tasks.iter().map(|t| t.task_id.clone()).filter(|t| rows.iter().any(|r| &r.task_id == t)).collect(),
        timeout_ms: 0,
    };
    let (run_id, _) = open_run(store, name, dataset, &cfg, rule)?;
    let tx = store.conn_mut().transaction()?;
    let (mut imported, mut skipped) = (0, 0);
    for r in rows {
        let Some(ti) = models.iter().position(|m| *m == r.model) else { continue };
        if !known.contains(r.task_id.as_str()) {
            skipped += 1;
            continue;
        }
        for k in 0..r.trials {
            tx.execute(
                "INSERT OR IGNORE INTO trials(run_id, task_id, tier_index, trial, tier, model, prompt, answer, code, verdict,
                     verdict_json, passed, asserts_passed, asserts_total, prompt_tokens, completion_tokens, latency_ms,
                     cost_usd, started_ms, finished_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, '', '', '', 'imported', '{}', ?7, 0, 0, 0, 0, 0, 0, ?8, ?8)",
                params![run_id, r.task_id, ti as u32, k, format!("counts:{}", r.model), r.model, k < r.passes, now_ms()],
            )?;
        }
        imported += 1;
    }
    tx.execute("UPDATE label_runs SET status = 'imported' WHERE id = ?1", [run_id])?;
    tx.commit()?;
    Ok((imported, skipped))
}

/// A stored trial's answer with its verdicts: by the task's own tests (`passed`) and by the checks its prompt
/// shows (`shown`: 1 accepted, 0 rejected, -1 no checks; None until judged).
#[derive(Debug, Clone)]
pub struct TrialAnswer {
    pub key: TrialKey,
    pub answer: String,
    pub passed: bool,
    pub shown: Option<i64>,
}

/// A trial's primary key: run, task, tier index, trial.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrialKey {
    pub run_id: i64,
    pub task_id: String,
    pub tier_index: u32,
    pub trial: u32,
}

/// Every stored trial of a run, with its answer and verdicts.
pub fn trial_answers(store: &Store, name: &str) -> Result<Vec<TrialAnswer>, LabelError> {
    let mut stmt = store.conn().prepare(
        "SELECT t.run_id, t.task_id, t.tier_index, t.trial, t.answer, t.passed, t.shown_verdict FROM trials t
         JOIN label_runs r ON r.id = t.run_id WHERE r.name = ?1 ORDER BY t.task_id, t.tier_index, t.trial",
    )?;
    let rows = stmt.query_map([name], |r| {
        Ok(TrialAnswer {
            key: TrialKey { run_id: r.get(0)?, task_id: r.get(1)?, tier_index: r.get(2)?, trial: r.get(3)? },
            answer: r.get(4)?,
            passed: r.get(5)?,
            shown: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The model behind each tier of a run, in tier order (from its stored trials; empty for a run with none).
pub fn run_models(store: &Store, name: &str) -> Result<Vec<String>, LabelError> {
    let mut stmt = store.conn().prepare(
        "SELECT t.tier_index, min(t.model) FROM trials t JOIN label_runs r ON r.id = t.run_id WHERE r.name = ?1
         GROUP BY t.tier_index ORDER BY t.tier_index",
    )?;
    let rows = stmt.query_map([name], |r| r.get::<_, String>(1))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether a label run's answers were replayed from a file (its tiers `replay:MODEL`) rather than generated by
/// the user's tiers: such labels say nothing of the user's own tiers.
pub fn is_replayed(store: &Store, name: &str) -> Result<bool, LabelError> {
    Ok(store.conn().query_row(
        "SELECT EXISTS(SELECT 1 FROM trials t JOIN label_runs r ON r.id = t.run_id
         WHERE r.name = ?1 AND t.tier LIKE 'replay:%')",
        [name],
        |r| r.get::<_, bool>(0),
    )?)
}

/// Stores the verdicts of trials' answers by their prompts' checks, in one transaction.
pub fn set_shown_verdicts(store: &mut Store, verdicts: &[(TrialKey, i64)]) -> Result<(), LabelError> {
    let tx = store.conn_mut().transaction()?;
    {
        let mut stmt = tx.prepare(
            "UPDATE trials SET shown_verdict = ?1 WHERE run_id = ?2 AND task_id = ?3 AND tier_index = ?4 AND trial = ?5",
        )?;
        for (k, v) in verdicts {
            stmt.execute(params![v, k.run_id, k.task_id, k.tier_index, k.trial])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// A stored trial for the drill-down view.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct TrialView {
    pub tier: String,
    pub trial: u32,
    pub verdict: String,
    pub verdict_json: serde_json::Value,
    pub answer: String,
    pub code: String,
    /// Which reading of the answer was run (None for trials stored before it was recorded).
    pub extraction: Option<Extraction>,
    pub cost_usd: f64,
}

pub fn trials_of(store: &Store, name: &str, task_id: &str) -> Result<Vec<TrialView>, LabelError> {
    let mut stmt = store.conn().prepare(
        "SELECT t.tier, t.trial, t.verdict, t.verdict_json, t.answer, t.code, t.cost_usd, t.extraction FROM trials t
         JOIN label_runs r ON r.id = t.run_id WHERE r.name = ?1 AND t.task_id = ?2 ORDER BY t.tier_index, t.trial",
    )?;
    let rows = stmt.query_map(params![name, task_id], |r| {
        Ok(TrialView {
            tier: r.get(0)?,
            trial: r.get(1)?,
            verdict: r.get(2)?,
            verdict_json: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or(serde_json::Value::Null),
            answer: r.get(4)?,
            code: r.get(5)?,
            cost_usd: r.get(6)?,
            extraction: r.get::<_, Option<String>>(7)?.and_then(|e| serde_json::from_str(&e).ok()),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
