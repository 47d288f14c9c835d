//! Verification: run a model's answer against a task's asserts, in a sandbox, and say what happened.
//!
//! The trust core of the app: a false "pass" corrupts every label and every savings figure. A pass is proven
//! positively — the harness writes a per-check random nonce only after the last assert ran, and nothing else
//! (an exit status of 0 included) counts. Isolation is in [`sandbox`]; turning a raw model answer into code is
//! in [`extract`].

pub mod extract;
pub mod sandbox;

use serde::{Deserialize, Serialize};

pub use sandbox::{SandboxError, SandboxStatus, Verifier};

/// Resource limits for one check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Wall-clock limit; the whole process group is killed when it passes.
    pub timeout_ms: u64,
    /// Address-space limit (RLIMIT_AS).
    pub memory_bytes: u64,
    /// Largest file the code may write (RLIMIT_FSIZE).
    pub file_bytes: u64,
    /// stdout + stderr together; the child is killed as soon as it writes more.
    pub output_bytes: u64,
    pub open_files: u64,
    pub processes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout_ms: 5_000,
            memory_bytes: 1 << 30,
            file_bytes: 16 << 20,
            output_bytes: 1 << 20,
            open_files: 64,
            processes: 32,
        }
    }
}

impl Limits {
    /// CPU seconds (RLIMIT_CPU): the wall limit rounded up, so a busy C-level loop that ignores Python's
    /// signal handling still dies by SIGXCPU even if the wall-clock kill were late.
    pub fn cpu_seconds(&self) -> u64 {
        self.timeout_ms.div_ceil(1000).max(1)
    }
}

/// One check: the answer's code, the task's setup code and its asserts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub code: String,
    pub setup: String,
    pub asserts: Vec<String>,
    pub limits: Limits,
}

/// Where an error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Compiling or running the answer's own top-level code.
    Code,
    Setup,
    Assert,
    /// The sandbox or its harness, not the answer.
    Harness,
}

/// What a check concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    /// An assert evaluated to false.
    Failed {
        assert_index: usize,
        message: String,
    },
    /// An exception (or an early exit) before the asserts finished. `line` is in the answer's code when known.
    Error {
        exception: String,
        message: String,
        line: Option<u32>,
        phase: Phase,
        assert_index: Option<usize>,
    },
    TimedOut,
    MemoryExceeded,
    OutputLimit,
    /// No isolation is available here: the check was not run at all (never unconfined).
    SandboxUnavailable {
        reason: String,
        fix: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    #[serde(flatten)]
    pub outcome: Outcome,
    pub asserts_passed: usize,
    pub asserts_total: usize,
    pub duration_ms: f64,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Passed)
    }

    /// The snake_case name of the outcome (`passed`, `failed`, …).
    pub fn name(&self) -> &'static str {
        match self.outcome {
            Outcome::Passed => "passed",
            Outcome::Failed { .. } => "failed",
            Outcome::Error { .. } => "error",
            Outcome::TimedOut => "timed_out",
            Outcome::MemoryExceeded => "memory_exceeded",
            Outcome::OutputLimit => "output_limit",
            Outcome::SandboxUnavailable { .. } => "sandbox_unavailable",
        }
    }

    /// A one-line human summary.
    pub fn summary(&self) -> String {
        let n = format!("{}/{} asserts passed", self.asserts_passed, self.asserts_total);
        match &self.outcome {
            Outcome::Passed => format!("passed ({n})"),
            Outcome::Failed { assert_index, message } if message.is_empty() => {
                format!("failed at assert {assert_index} ({n})")
            }
            Outcome::Failed { assert_index, message } => format!("failed at assert {assert_index}: {message} ({n})"),
            Outcome::Error { exception, message, line, phase, .. } => {
                let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
                format!("error in {phase:?}{at}: {exception}: {message} ({n})")
                    .replace("error in Code", "error in code")
            }
            Outcome::TimedOut => format!("timed out ({n})"),
            Outcome::MemoryExceeded => format!("memory limit exceeded ({n})"),
            Outcome::OutputLimit => format!("output limit exceeded ({n})"),
            Outcome::SandboxUnavailable { reason, fix } => format!("sandbox unavailable: {reason}. Fix: {fix}"),
        }
    }
}

/// A recorded model answer (`task_id, model, trial, output`), as in `../shared/data/recorded/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub task_id: String,
    pub model: String,
    pub trial: u32,
    /// The raw answer text; `null` in the file (a model that returned nothing) reads as empty.
    pub output: String,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{}:{line}: {problem}", file.display())]
    AnswersMalformed { file: std::path::PathBuf, line: usize, problem: String },
    #[error("cannot read {}: {source}", file.display())]
    Unreadable {
        file: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: no assert statements (one `assert …` per line expected)", file.display())]
    NoTests { file: std::path::PathBuf },
}

impl VerifyError {
    pub fn code(&self) -> crate::ErrorCode {
        match self {
            VerifyError::AnswersMalformed { .. } | VerifyError::NoTests { .. } => crate::ErrorCode::DatasetMalformed,
            VerifyError::Unreadable { .. } => crate::ErrorCode::DatasetUnreadable,
        }
    }
}

/// Reads a JSONL file of recorded answers. All or nothing: a bad line is an error naming file and line.
pub fn read_answers(file: &std::path::Path) -> Result<Vec<Answer>, VerifyError> {
    let text = std::fs::read_to_string(file).map_err(|source| VerifyError::Unreadable { file: file.into(), source })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |problem: String| VerifyError::AnswersMalformed { file: file.into(), line: i + 1, problem };
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(format!("invalid JSON: {e}")))?;
        let task_id = match &v["task_id"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(bad("missing or invalid field \"task_id\"".into())),
        };
        let model = v["model"].as_str().ok_or_else(|| bad("missing field \"model\"".into()))?.to_owned();
        let trial = v["trial"].as_u64().unwrap_or(0) as u32;
        let output = match &v["output"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            _ => return Err(bad("field \"output\" must be a string or null".into())),
        };
        out.push(Answer { task_id, model, trial, output });
    }
    Ok(out)
}

/// Reads a tests file: one `assert` statement per line (blank lines and `#` comments skipped).
pub fn read_tests(file: &std::path::Path) -> Result<Vec<String>, VerifyError> {
    let text = std::fs::read_to_string(file).map_err(|source| VerifyError::Unreadable { file: file.into(), source })?;
    let mut tests = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if !t.starts_with("assert") {
            return Err(VerifyError::AnswersMalformed {
                file: file.into(),
                line: i + 1,
                problem: format!("not an assert statement: {t:?}"),
            });
        }
        tests.push(t.to_owned());
    }
    if tests.is_empty() {
        return Err(VerifyError::NoTests { file: file.into() });
    }
    Ok(tests)
}
