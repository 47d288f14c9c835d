//! What a check is and what it can come to: shared by every platform's sandbox and by the engine.

use serde::{Deserialize, Serialize};

/// Resource limits for one check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Time limit, counted in the check's CPU time (RLIMIT_CPU; the Job Object's CPU limit on Windows), so a
    /// verdict does not depend on what else the machine is doing: a right answer that computes for 9.8 s of a
    /// 10 s limit passes on an idle laptop and on one running the local model on every core alike. A check that
    /// waits instead of computing (sleep, a blocked read, SIGSTOP) is ended by the wall clock at
    /// [`Limits::wall_ms`].
    pub timeout_ms: u64,
    /// Memory: RLIMIT_AS on Linux, the check's footprint watched by the zygote on macOS (which does not
    /// enforce RLIMIT_AS), the Job Object's memory limit on Windows.
    pub memory_bytes: u64,
    /// Largest file the code may write (RLIMIT_FSIZE; not limited on Windows).
    pub file_bytes: u64,
    /// stdout + stderr together; the child is killed as soon as it writes more.
    pub output_bytes: u64,
    /// RLIMIT_NOFILE (Linux, macOS).
    pub open_files: u64,
    /// RLIMIT_NPROC on Linux. On macOS and Windows a check may start no process at all.
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

/// How many times its time limit a check may take on the wall clock. A wall limit equal to the CPU limit made
/// verdicts depend on load: under two parallel label runs a right answer near the limit timed out in one run and
/// passed in the other. Three times lets a check that computes have a third of a core and still be judged on
/// its CPU time, while a check that only waits is still ended.
pub const WALL_FACTOR: u64 = 3;

impl Limits {
    /// CPU seconds (RLIMIT_CPU): the time limit rounded up to the kernel's whole seconds. A busy C-level loop
    /// that ignores Python's signal handling dies by SIGXCPU all the same.
    pub fn cpu_seconds(&self) -> u64 {
        self.timeout_ms.div_ceil(1000).max(1)
    }

    /// The wall-clock backstop for a check that waits rather than computes.
    pub fn wall_ms(&self) -> u64 {
        self.timeout_ms.saturating_mul(WALL_FACTOR)
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
    /// There was nothing to check the answer against (a prompt that shows no examples): not run, neither
    /// passed nor failed.
    Unchecked {
        reason: String,
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
            Outcome::Unchecked { .. } => "unchecked",
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
            Outcome::Unchecked { reason } => format!("unchecked: {reason}"),
        }
    }
}
