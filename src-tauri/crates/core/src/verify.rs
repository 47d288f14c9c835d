//! `verify`: one check, a dataset's reference solutions, or a file of recorded answers, run in the sandbox. A
//! completed verification is a result whatever the verdicts; an unavailable sandbox is an error, so nobody can
//! mistake "not checked" for "failed".

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use complexitynet_engine::dataset;
use complexitynet_engine::ErrorCode;
use complexitynet_verify::checks::Checks;
use complexitynet_verify::extract::Extraction;
use complexitynet_verify::judge::{self, Judged};
use complexitynet_verify::{Check, Limits, Outcome, Verdict};
use serde::Serialize;

use crate::{App, AppError, Result};

/// One verdict with the task it is for.
#[derive(Debug, Clone, Serialize)]
pub struct TaskVerdict {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Every reference solution of a dataset checked.
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceReport {
    pub dataset: String,
    pub passed: usize,
    pub total: usize,
    /// The tasks whose reference fails (or that have none).
    pub failing: Vec<TaskVerdict>,
    pub seconds: f64,
    pub checks_per_second: f64,
}

/// A recorded answer's verdict, with what of the answer was run.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerVerdict {
    pub task_id: String,
    pub model: String,
    pub trial: u32,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub extraction: Extraction,
    /// The code that ran.
    pub code: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ModelStats {
    pub model: String,
    pub passed: usize,
    pub total: usize,
    /// Answers that had checks to run against (all of them with the dataset's tests; with `--tests prompt`,
    /// those whose prompt shows examples).
    pub checked: usize,
    pub pass_rate: f64,
    pub verdicts: BTreeMap<&'static str, usize>,
}

/// A file of recorded answers checked against a dataset.
#[derive(Debug, Clone, Serialize)]
pub struct AnswersReport {
    pub dataset: String,
    pub file: std::path::PathBuf,
    pub models: Vec<ModelStats>,
    pub answers: Vec<AnswerVerdict>,
    /// Answers naming tasks the dataset does not have.
    pub unknown_tasks: Vec<String>,
    pub seconds: f64,
}

/// What recorded answers are judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestsFrom {
    /// The dataset's own tests (asserts and setup).
    Dataset,
    /// The checks each task's prompt shows ([`Checks::from_prompt`]): what verification sees in the chat.
    Prompt,
}

/// What a check needs besides the code: its asserts and setup.
pub enum Against<'a> {
    /// Assert lines (a tests file) and setup code.
    Tests { asserts: Vec<String>, setup: String },
    /// A dataset task's asserts and setup (`setup` replaces the task's when given).
    Task { dataset: &'a str, task: &'a str, setup: Option<String> },
}

fn unavailable(v: &Verdict) -> Result<()> {
    if let Outcome::SandboxUnavailable { reason, fix } = &v.outcome {
        return Err(AppError::new(ErrorCode::SandboxUnavailable, format!("{reason}. Fix: {fix}")));
    }
    Ok(())
}

impl App {
    /// Checks one piece of code.
    pub fn verify_code(&self, code: String, against: Against, limits: Limits) -> Result<TaskVerdict> {
        let (asserts, setup, task_id) = match against {
            Against::Tests { asserts, setup } => (asserts, setup, None),
            Against::Task { dataset, task, setup } => {
                let t = self.with_store(|s| Ok(dataset::get_task(s, dataset, task)?))?;
                (t.asserts, setup.unwrap_or(t.setup), Some(t.task_id))
            }
        };
        let v = self.verifier().verify(&Check { code, setup, asserts, limits });
        unavailable(&v)?;
        Ok(TaskVerdict { task_id, verdict: v })
    }

    /// Checks every reference solution of a dataset; `on_done(total)` is called as each check ends.
    pub fn verify_references(
        &self,
        ds: &str,
        limits: Limits,
        jobs: usize,
        on_done: &(dyn Fn(usize) + Sync),
    ) -> Result<ReferenceReport> {
        let tasks = self.with_store(|s| Ok(dataset::all_tasks(s, ds)?))?;
        let checks: Vec<Check> = tasks
            .iter()
            .map(|t| Check {
                code: t.reference.clone().unwrap_or_default(),
                setup: t.setup.clone(),
                asserts: t.asserts.clone(),
                limits,
            })
            .collect();
        let started = Instant::now();
        let total = checks.len();
        let verdicts = self.verifier().verify_all(&checks, jobs, &|_, _| on_done(total));
        let seconds = started.elapsed().as_secs_f64();
        if let Some(v) = verdicts.first() {
            unavailable(v)?;
        }
        let failing: Vec<TaskVerdict> = tasks
            .iter()
            .zip(&verdicts)
            .filter(|(t, v)| !v.passed() || t.reference.is_none())
            .map(|(t, v)| TaskVerdict { task_id: Some(t.task_id.clone()), verdict: v.clone() })
            .collect();
        Ok(ReferenceReport {
            dataset: ds.to_owned(),
            passed: verdicts.len() - failing.len(),
            total: verdicts.len(),
            failing,
            seconds,
            checks_per_second: verdicts.len() as f64 / seconds.max(1e-9),
        })
    }

    /// Checks a file of recorded answers (task_id, model, trial, output) against a dataset's tasks, each answer
    /// judged like a label run's ([`judge`]): against the task's own tests, or (`TestsFrom::Prompt`) against the
    /// checks its prompt shows (`unchecked` where it shows none). One answer that trips a defect is that answer's
    /// `error` verdict; the run goes on.
    pub fn verify_answers(
        &self,
        ds: &str,
        file: &Path,
        from: TestsFrom,
        limits: Limits,
        jobs: usize,
        on_done: &(dyn Fn(usize) + Sync),
    ) -> Result<AnswersReport> {
        let tasks = self.with_store(|s| Ok(dataset::all_tasks(s, ds)?))?;
        let answers = complexitynet_verify::read_answers(file)?;
        let checks: HashMap<&str, Checks> = tasks
            .iter()
            .map(|t| {
                let c = match from {
                    TestsFrom::Dataset => Checks::from_task(t),
                    TestsFrom::Prompt => Checks::from_prompt(&t.prompt),
                };
                (t.task_id.as_str(), c)
            })
            .collect();
        let (known, unknown): (Vec<_>, Vec<_>) =
            answers.into_iter().partition(|a| checks.contains_key(a.task_id.as_str()));
        let pairs: Vec<(&str, &Checks)> =
            known.iter().map(|a| (a.output.as_str(), &checks[a.task_id.as_str()])).collect();
        let started = Instant::now();
        let total = pairs.len();
        let judged = judge::judge_all(&self.verifier(), &pairs, limits, jobs, &|_| on_done(total));
        let seconds = started.elapsed().as_secs_f64();
        if let Some(j) = judged.iter().find(|j| matches!(j.verdict.outcome, Outcome::SandboxUnavailable { .. })) {
            unavailable(&j.verdict)?;
        }
        let mut models: BTreeMap<String, ModelStats> = BTreeMap::new();
        let rows: Vec<AnswerVerdict> = known
            .into_iter()
            .zip(judged)
            .map(|(a, Judged { verdict: v, code, extraction })| {
                let m = models
                    .entry(a.model.clone())
                    .or_insert_with(|| ModelStats { model: a.model.clone(), ..Default::default() });
                m.total += 1;
                m.passed += usize::from(v.passed());
                m.checked += usize::from(!matches!(v.outcome, Outcome::Unchecked { .. }));
                *m.verdicts.entry(v.name()).or_default() += 1;
                AnswerVerdict { task_id: a.task_id, model: a.model, trial: a.trial, verdict: v, extraction, code }
            })
            .collect();
        let models = models
            .into_values()
            .map(|mut m| {
                m.pass_rate = m.passed as f64 / m.total.max(1) as f64;
                m
            })
            .collect();
        Ok(AnswersReport {
            dataset: ds.to_owned(),
            file: file.to_owned(),
            models,
            answers: rows,
            unknown_tasks: unknown.into_iter().map(|a| a.task_id).collect(),
            seconds,
        })
    }
}
