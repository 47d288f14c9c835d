//! `complexitynet verify`: one check, a dataset's reference solutions, or a file of recorded answers. A
//! completed verification exits 0 whatever the verdicts; an unavailable sandbox is an error (exit 1), so a
//! script can never mistake "not checked" for "failed".

use clap::Args;
use complexitynet_core::types::default_parallelism;
use complexitynet_core::types::ErrorCode;
use complexitynet_core::types::{read_tests, Limits};
use complexitynet_core::verify::{Against, TestsFrom};
use complexitynet_core::AppError;
use std::path::{Path, PathBuf};

use super::Ctx;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A Python file to check (used as is; model answers given with --answers are extracted first)
    #[arg(long, value_name = "FILE")]
    pub code: Option<PathBuf>,
    /// With --code: a file with one `assert` statement per line. With --answers: `dataset` (each task's own
    /// tests, the default) or `prompt` (the checks each task's prompt shows; `unchecked` where it shows none)
    #[arg(long, value_name = "FILE|prompt|dataset", conflicts_with = "task")]
    pub tests: Option<String>,
    /// Take the asserts (and setup) from this dataset's task, or check the whole dataset
    #[arg(long)]
    pub dataset: Option<String>,
    /// The task of --dataset whose asserts --code is checked against
    #[arg(long, requires = "dataset")]
    pub task: Option<String>,
    /// Setup code run before the asserts (overrides the task's)
    #[arg(long, value_name = "FILE")]
    pub setup: Option<PathBuf>,
    /// Check every task's reference solution of --dataset
    #[arg(long, requires = "dataset", conflicts_with_all = ["code", "answers"])]
    pub reference: bool,
    /// A JSONL file of recorded answers (task_id, model, trial, output) to check against --dataset
    #[arg(long, value_name = "FILE.jsonl", requires = "dataset", conflicts_with = "code")]
    pub answers: Option<PathBuf>,
    /// Time limit per check, in CPU time (a check that only waits is stopped at 3× on the wall clock)
    #[arg(long, default_value_t = 5000)]
    pub timeout_ms: u64,
    /// Checks run in parallel [default: one per core]
    #[arg(long)]
    pub jobs: Option<usize>,
}

fn read(file: &Path) -> Result<String, AppError> {
    std::fs::read_to_string(file)
        .map_err(|e| AppError::new(ErrorCode::DatasetUnreadable, format!("cannot read {}: {e}", file.display())))
}

pub fn run(args: VerifyArgs, ctx: &Ctx) -> Result<(), AppError> {
    let app = &ctx.app;
    let limits = Limits { timeout_ms: args.timeout_ms, ..Limits::default() };
    let jobs = args.jobs.unwrap_or_else(default_parallelism);
    if let Some(code_file) = &args.code {
        let code = read(code_file)?;
        let setup = args.setup.as_deref().map(read).transpose()?;
        let against = match (&args.tests, &args.dataset, &args.task) {
            (Some(tests), _, _) => {
                Against::Tests { asserts: read_tests(Path::new(tests))?, setup: setup.unwrap_or_default() }
            }
            (None, Some(dataset), Some(task)) => Against::Task { dataset, task, setup },
            _ => return Err(AppError::invalid("--code needs --tests FILE, or --dataset NAME --task ID")),
        };
        let v = app.verify_code(code, against, limits)?;
        ctx.emit(&v, || format!("{}\n", v.verdict.summary()));
        return Ok(());
    }
    let Some(ds) = &args.dataset else {
        return Err(AppError::invalid(
            "nothing to verify: pass --code FILE, or --dataset NAME with --reference or --answers FILE",
        ));
    };
    let bar = super::bar("{msg} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})", None);
    let tick = |total: usize| {
        bar.set_length(total as u64);
        bar.inc(1);
    };
    if args.reference {
        bar.set_message("verifying references");
        let r = app.verify_references(ds, limits, jobs, &tick);
        bar.finish_and_clear();
        let r = r?;
        ctx.emit(&r, || {
            let mut s = format!("{}/{} reference solutions of {ds} pass ({:.1} s)\n", r.passed, r.total, r.seconds);
            for f in &r.failing {
                s.push_str(&format!("  task {}: {}\n", f.task_id.as_deref().unwrap_or("?"), f.verdict.summary()));
            }
            s
        });
        return Ok(());
    }
    if let Some(file) = &args.answers {
        let from = match args.tests.as_deref() {
            None | Some("dataset") => TestsFrom::Dataset,
            Some("prompt") => TestsFrom::Prompt,
            Some(other) => {
                return Err(AppError::invalid(format!(
                    "with --answers, --tests is `dataset` or `prompt`, not {other:?}"
                )))
            }
        };
        bar.set_message("verifying answers");
        let r = app.verify_answers(ds, file, from, limits, jobs, &tick);
        bar.finish_and_clear();
        let r = r?;
        ctx.emit(&r, || {
            let mut s = format!("{:<28} {:>7} {:>7} {:>7} {:>8}\n", "MODEL", "PASSED", "CHECKED", "TOTAL", "RATE");
            for m in &r.models {
                s.push_str(&format!(
                    "{:<28} {:>7} {:>7} {:>7} {:>7.1}%\n",
                    m.model,
                    m.passed,
                    m.checked,
                    m.total,
                    m.pass_rate * 100.0
                ));
            }
            s.push_str(&format!("\n{:>8} {:<28} {:>5}  VERDICT\n", "TASK", "MODEL", "TRIAL"));
            for a in &r.answers {
                s.push_str(&format!("{:>8} {:<28} {:>5}  {}\n", a.task_id, a.model, a.trial, a.verdict.summary()));
            }
            if !r.unknown_tasks.is_empty() {
                s.push_str(&format!("\n{} answers name tasks that {ds} does not have\n", r.unknown_tasks.len()));
            }
            s
        });
        return Ok(());
    }
    Err(AppError::invalid("--dataset needs --reference, --answers FILE, or --code FILE --task ID"))
}
