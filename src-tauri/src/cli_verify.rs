//! `complexitynet verify`: one check, a dataset's reference solutions, or a file of recorded answers.
//! A completed verification exits 0 whatever the verdicts; an unavailable sandbox is an error (exit 1), so a
//! script can never mistake "not checked" for "failed".

use complexitynet_engine::dataset::{self, Task};
use complexitynet_engine::paths::DataDir;
use complexitynet_engine::verify::extract::extract_code;
use complexitynet_engine::verify::sandbox::default_parallelism;
use complexitynet_engine::verify::{self, Check, Limits, Outcome, Verdict, Verifier};
use complexitynet_engine::{EngineError, ErrorCode};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use crate::cli::{emit, open, VerifyArgs};
use crate::error::AppError;

fn read(file: &Path) -> Result<String, AppError> {
    std::fs::read_to_string(file).map_err(|e| AppError {
        code: ErrorCode::DatasetUnreadable,
        message: format!("cannot read {}: {e}", file.display()),
    })
}

fn unavailable(v: &Verdict) -> Result<(), AppError> {
    if let Outcome::SandboxUnavailable { reason, fix } = &v.outcome {
        return Err(AppError { code: ErrorCode::SandboxUnavailable, message: format!("{reason}. Fix: {fix}") });
    }
    Ok(())
}

fn progress(total: usize, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(Some(total as u64), indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

pub fn run(args: VerifyArgs, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    let limits = Limits { timeout_ms: args.timeout_ms, ..Limits::default() };
    let jobs = args.jobs.unwrap_or_else(default_parallelism);
    let verifier = Verifier::new();
    if let Some(code_file) = &args.code {
        let code = read(code_file)?;
        let (asserts, mut setup, task_id) = match (&args.tests, &args.dataset, &args.task) {
            (Some(tests), _, _) => (verify::read_tests(tests).map_err(EngineError::from)?, String::new(), None),
            (None, Some(ds), Some(task)) => {
                let t = dataset::get_task(&open(data_dir)?, ds, task)?;
                (t.asserts, t.setup, Some(t.task_id))
            }
            _ => {
                return Err(AppError {
                    code: ErrorCode::InvalidArguments,
                    message: "--code needs --tests FILE, or --dataset NAME --task ID".into(),
                })
            }
        };
        if let Some(f) = &args.setup {
            setup = read(f)?;
        }
        let v = verifier.verify(&Check { code, setup, asserts, limits });
        unavailable(&v)?;
        #[derive(Serialize)]
        struct One<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            task_id: Option<String>,
            #[serde(flatten)]
            verdict: &'a Verdict,
        }
        emit(json, &One { task_id, verdict: &v }, || format!("{}\n", v.summary()));
        return Ok(());
    }
    let Some(ds) = &args.dataset else {
        return Err(AppError {
            code: ErrorCode::InvalidArguments,
            message: "nothing to verify: pass --code FILE, or --dataset NAME with --reference or --answers FILE".into(),
        });
    };
    let tasks = dataset::all_tasks(&open(data_dir)?, ds)?;
    if args.reference {
        return references(&verifier, ds, &tasks, limits, jobs, json);
    }
    if let Some(file) = &args.answers {
        return answers(&verifier, ds, &tasks, file, limits, jobs, json);
    }
    Err(AppError {
        code: ErrorCode::InvalidArguments,
        message: "--dataset needs --reference, --answers FILE, or --code FILE --task ID".into(),
    })
}

#[derive(Serialize)]
struct Failing {
    task_id: String,
    #[serde(flatten)]
    verdict: Verdict,
}

fn references(
    verifier: &Verifier,
    ds: &str,
    tasks: &[Task],
    limits: Limits,
    jobs: usize,
    json: bool,
) -> Result<(), AppError> {
    let checks: Vec<Check> = tasks
        .iter()
        .map(|t| Check {
            code: t.reference.clone().unwrap_or_default(),
            setup: t.setup.clone(),
            asserts: t.asserts.clone(),
            limits,
        })
        .collect();
    let bar = progress(checks.len(), "verifying references");
    let started = Instant::now();
    let verdicts = verifier.verify_all(&checks, jobs, &|_, _| bar.inc(1));
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if let Some(v) = verdicts.first() {
        unavailable(v)?;
    }
    let failing: Vec<Failing> = tasks
        .iter()
        .zip(&verdicts)
        .filter(|(t, v)| !v.passed() || t.reference.is_none())
        .map(|(t, v)| Failing { task_id: t.task_id.clone(), verdict: v.clone() })
        .collect();
    let passed = verdicts.len() - failing.len();
    let doc = serde_json::json!({
        "dataset": ds, "passed": passed, "total": verdicts.len(), "failing": failing,
        "seconds": seconds, "checks_per_second": verdicts.len() as f64 / seconds.max(1e-9),
    });
    emit(json, &doc, || {
        let mut s = format!("{passed}/{} reference solutions of {ds} pass ({seconds:.1} s)\n", verdicts.len());
        for f in &failing {
            s.push_str(&format!("  task {}: {}\n", f.task_id, f.verdict.summary()));
        }
        s
    });
    Ok(())
}

#[derive(Serialize)]
struct AnswerVerdict {
    task_id: String,
    model: String,
    trial: u32,
    #[serde(flatten)]
    verdict: Verdict,
}

#[derive(Serialize, Default)]
struct ModelStats {
    model: String,
    passed: usize,
    total: usize,
    pass_rate: f64,
    verdicts: BTreeMap<&'static str, usize>,
}

fn answers(
    verifier: &Verifier,
    ds: &str,
    tasks: &[Task],
    file: &Path,
    limits: Limits,
    jobs: usize,
    json: bool,
) -> Result<(), AppError> {
    let answers = verify::read_answers(file).map_err(EngineError::from)?;
    let by_id: HashMap<&str, &Task> = tasks.iter().map(|t| (t.task_id.as_str(), t)).collect();
    let (known, unknown): (Vec<_>, Vec<_>) = answers.into_iter().partition(|a| by_id.contains_key(a.task_id.as_str()));
    let checks: Vec<Check> = known
        .iter()
        .map(|a| {
            let t = by_id[a.task_id.as_str()];
            Check {
                code: extract_code(&a.output, Some(&t.entry_point.name)).code,
                setup: t.setup.clone(),
                asserts: t.asserts.clone(),
                limits,
            }
        })
        .collect();
    let bar = progress(checks.len(), "verifying answers");
    let started = Instant::now();
    let verdicts = verifier.verify_all(&checks, jobs, &|_, _| bar.inc(1));
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if let Some(v) = verdicts.first() {
        unavailable(v)?;
    }
    let mut models: BTreeMap<String, ModelStats> = BTreeMap::new();
    let rows: Vec<AnswerVerdict> = known
        .into_iter()
        .zip(verdicts)
        .map(|(a, v)| {
            let m = models
                .entry(a.model.clone())
                .or_insert_with(|| ModelStats { model: a.model.clone(), ..Default::default() });
            m.total += 1;
            m.passed += usize::from(v.passed());
            *m.verdicts.entry(v.name()).or_default() += 1;
            AnswerVerdict { task_id: a.task_id, model: a.model, trial: a.trial, verdict: v }
        })
        .collect();
    let models: Vec<ModelStats> = models
        .into_values()
        .map(|mut m| {
            m.pass_rate = m.passed as f64 / m.total.max(1) as f64;
            m
        })
        .collect();
    let unknown: Vec<String> = unknown.into_iter().map(|a| a.task_id).collect();
    let doc = serde_json::json!({
        "dataset": ds, "file": file, "models": models, "answers": rows, "unknown_tasks": unknown,
        "seconds": seconds,
    });
    emit(json, &doc, || {
        let mut s = format!("{:<28} {:>7} {:>7} {:>8}\n", "MODEL", "PASSED", "TOTAL", "RATE");
        for m in &models {
            s.push_str(&format!("{:<28} {:>7} {:>7} {:>7.1}%\n", m.model, m.passed, m.total, m.pass_rate * 100.0));
        }
        s.push_str(&format!("\n{:>8} {:<28} {:>5}  VERDICT\n", "TASK", "MODEL", "TRIAL"));
        for r in &rows {
            s.push_str(&format!("{:>8} {:<28} {:>5}  {}\n", r.task_id, r.model, r.trial, r.verdict.summary()));
        }
        if !unknown.is_empty() {
            s.push_str(&format!("\n{} answers name tasks that {ds} does not have\n", unknown.len()));
        }
        s
    });
    Ok(())
}
