//! The verification sandbox: runs a model's answer against a task's asserts in isolation and says what
//! happened. One harness (`resources/sandbox/harness.py`), one way of judging its report, and one isolation
//! backend per OS:
//! - Linux (`linux.rs`): bubblewrap — own user/PID/network/IPC namespaces, read-only minimal filesystem, a warm
//!   zygote forking one child per check;
//! - macOS (`macos.rs`): sandbox-exec with a generated Seatbelt profile — no network, reads confined to the
//!   system and Python, writes to a private dir, no forks inside a check; the same zygote;
//! - Windows (`windows.rs`): a Job Object per check, one fresh process per check; opt-in, because it confines
//!   processes, memory and CPU but not the network or file reads.
//!
//! A worker that could not clean up is discarded, and so is one whose harness died. Where no isolation is
//! possible the verdict is `sandbox_unavailable` with a fix — never an unconfined run. See SECURITY.md.

use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

mod seatbelt;
mod types;

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod platform;
#[cfg(target_os = "macos")]
#[path = "macos.rs"]
mod platform;
#[cfg(windows)]
#[path = "windows.rs"]
mod platform;
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
#[path = "other.rs"]
mod platform;

pub use types::{Check, Limits, Outcome, Phase, Verdict, WALL_FACTOR};

pub(crate) const HARNESS: &str = include_str!("../../../../resources/sandbox/harness.py");

/// Time a worker gets to start and report ready.
const SPAWN_TIMEOUT: Duration = Duration::from_secs(20);
/// Slack on top of a check's own wall limit before the host kills the whole sandbox (zygote protocol: the
/// zygote enforces the limit itself, this only catches a zygote that stopped answering).
const HOST_GRACE: Duration = Duration::from_secs(5);
/// Per-check protocol: the host is the one enforcing the wall backstop; this covers compiling the request.
const PER_CHECK_GRACE: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, thiserror::Error)]
pub enum SandboxError {
    #[error("{reason}")]
    Unavailable { reason: String, fix: String },
}

/// How the host talks to the harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// A warm zygote that forks a child per check and reports one line per check (Linux, macOS).
    Zygote,
    /// A fresh process per check that runs it itself and exits; the host enforces the wall clock and the
    /// output cap (Windows, which has no fork; on Linux it runs in bubblewrap so the protocol is tested).
    PerCheck,
}

/// What `doctor` reports about isolation.
#[derive(Debug, Clone, Serialize)]
pub struct SandboxStatus {
    /// `bubblewrap`, `seatbelt`, `job-object` or `unavailable`.
    pub mode: &'static str,
    pub detail: String,
    pub fix: Option<String>,
}

/// The Python the sandbox runs: the real interpreter behind any shim, its install prefix and version.
#[derive(Debug, Clone)]
pub(crate) struct Python {
    pub(crate) exe: PathBuf,
    pub(crate) prefix: PathBuf,
    pub(crate) version: String,
}

pub(crate) fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

pub(crate) fn unavailable(reason: impl Into<String>, fix: impl Into<String>) -> SandboxError {
    SandboxError::Unavailable { reason: reason.into(), fix: fix.into() }
}

/// Resolves shims (pyenv, asdf, Homebrew's bin links) to the real interpreter and its install prefix, which
/// the sandbox lets it read. Runs trusted code only (`-I`: no user site, no environment; `-S`: no `site` module,
/// which these three values do not depend on and which cost a pyenv install 50 ms of each start).
pub(crate) fn probe_python(python: &Path) -> Result<Python, SandboxError> {
    let out = Command::new(python)
        .args(["-I", "-S", "-c", "import os,sys;print(os.path.realpath(sys.executable));print(sys.base_prefix);print(sys.version.split()[0])"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| unavailable(format!("cannot run {}: {e}", python.display()), "install Python 3.8 or newer"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    match (out.status.success(), lines.next(), lines.next(), lines.next()) {
        (true, Some(exe), Some(prefix), Some(version)) => Ok(Python {
            exe: PathBuf::from(exe.trim()),
            prefix: PathBuf::from(prefix.trim()),
            version: version.trim().to_owned(),
        }),
        _ => Err(unavailable(
            format!("{} did not report its install: {}", python.display(), String::from_utf8_lossy(&out.stderr).trim()),
            "install Python 3.8 or newer",
        )),
    }
}

/// A fresh directory only this user can enter, for one worker's checks (macOS, Windows; Linux uses a tmpfs).
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub(crate) fn private_dir() -> std::io::Result<PathBuf> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
    let dir = std::env::temp_dir().join(format!("complexitynet-check-{}", hex::encode(b)));
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir)?; // fails if it exists: never share a directory someone else made
    Ok(dir)
}

/// What the readers of a worker's pipes report.
enum Event {
    /// One line on the harness's stdout (its reports).
    Line(String),
    StdoutClosed,
    /// Per-check protocol: the answer wrote more than its output cap.
    OutputCapped,
}

/// One sandbox process: a warm zygote (zygote protocol) or one check's process (per-check protocol).
struct Worker {
    child: Child,
    /// Dropped after the process is killed (the field order matters): the Job Object, the work dir.
    guard: platform::Guard,
    stdin: ChildStdin,
    events: mpsc::Receiver<Event>,
    /// The start of what the harness wrote on stderr (why it failed to start).
    stderr: Arc<Mutex<String>>,
    /// Per-check protocol: stderr carries the answer's output; past this many bytes the check is stopped.
    output_cap: Arc<AtomicU64>,
}

enum ExchangeError {
    /// The zygote did not answer in time; it was killed.
    Timeout,
    /// The zygote died (the code may have killed it).
    Died(String),
}

impl Worker {
    fn spawn(rt: &platform::Runtime) -> Result<Worker, SandboxError> {
        let (mut child, guard) = rt.launch()?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let (tx, events) = mpsc::channel();
        let out_tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if out_tx.send(Event::Line(line)).is_err() {
                    return;
                }
            }
            let _ = out_tx.send(Event::StdoutClosed);
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let output_cap = Arc::new(AtomicU64::new(u64::MAX));
        let (sink, cap) = (stderr.clone(), output_cap.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            let mut seen = 0u64;
            while let Ok(n) = stderr_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen += n as u64;
                if seen > cap.load(Ordering::Relaxed) {
                    let _ = tx.send(Event::OutputCapped);
                    break; // the host kills the process; nothing more to read
                }
                let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                if s.len() < 8192 {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        let mut worker = Worker { child, guard, stdin, events, stderr, output_cap };
        let started = Instant::now();
        let first = loop {
            match worker.events.recv_timeout(SPAWN_TIMEOUT.saturating_sub(started.elapsed())) {
                Ok(Event::OutputCapped) => continue,
                other => break other,
            }
        };
        match first {
            Ok(Event::Line(line)) if line.contains("\"ready\"") => Ok(worker),
            other => {
                let _ = worker.child.kill();
                let _ = worker.child.wait();
                std::thread::sleep(Duration::from_millis(20)); // let the stderr reader finish
                let err = worker.stderr.lock().unwrap_or_else(|e| e.into_inner()).trim().to_owned();
                let why = match other {
                    Ok(Event::Line(line)) => format!("unexpected first line {line:?}"),
                    Err(mpsc::RecvTimeoutError::Timeout) => "it did not start in time".into(),
                    _ => "it exited at once".into(),
                };
                Err(unavailable(
                    format!("the {} sandbox could not start: {why}: {err}", rt.mode()),
                    rt.start_failure_fix(),
                ))
            }
        }
    }

    fn send(&mut self, request: &str) -> std::io::Result<()> {
        self.stdin.write_all(request.as_bytes())?;
        self.stdin.write_all(b"\n")?;
        self.stdin.flush()
    }

    /// Zygote protocol: one request line, one report line.
    fn exchange(&mut self, request: &str, timeout: Duration) -> Result<String, ExchangeError> {
        if let Err(e) = self.send(request) {
            return Err(ExchangeError::Died(format!("cannot send the check: {e}")));
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Event::Line(line)) => return Ok(line),
                Ok(Event::OutputCapped) => continue, // the zygote's own stderr has no cap
                Err(mpsc::RecvTimeoutError::Timeout) => return Err(ExchangeError::Timeout),
                Ok(Event::StdoutClosed) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                    return Err(ExchangeError::Died(status));
                }
            }
        }
    }

    /// Per-check protocol: the process runs this one check and writes its records as they happen; the host
    /// enforces the wall clock and the output cap by killing it. The worker is used up afterwards.
    fn run_once(&mut self, request: &str, limits: &Limits) -> HarnessResult {
        let mut res = HarnessResult::default();
        if let Err(e) = self.guard.apply_limits(limits) {
            res.harness_error = Some(format!("cannot set the check's limits: {e}"));
            return res;
        }
        self.output_cap.store(limits.output_bytes, Ordering::Relaxed);
        if let Err(e) = self.send(request) {
            res.harness_error = Some(format!("cannot send the check: {e}"));
            return res;
        }
        let deadline = Instant::now() + Duration::from_millis(limits.wall_ms()) + PER_CHECK_GRACE;
        let mut report_bytes = 0usize;
        loop {
            match self.events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Event::Line(line)) => {
                    report_bytes += line.len();
                    if report_bytes > MAX_REPORT_BYTES {
                        res.result_flood = true;
                        break;
                    }
                    res.records.push(serde_json::from_str(&line).unwrap_or(Record::Garbage));
                }
                Ok(Event::OutputCapped) => {
                    res.output_limit = true;
                    break;
                }
                Ok(Event::StdoutClosed) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    res.timed_out = true;
                    break;
                }
            }
        }
        // The process closed its report pipe: give it a moment to exit with its status, then make sure.
        let exit_by = Instant::now() + Duration::from_millis(500);
        let mut status = None;
        while !(res.timed_out || res.output_limit || res.result_flood) && Instant::now() < exit_by {
            match self.child.try_wait() {
                Ok(Some(s)) => {
                    status = Some(s);
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                Err(_) => break,
            }
        }
        if status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(status) = status {
            res.signal = exit_signal(&status);
            res.exit_code = status.code();
        }
        if self.guard.cpu_time_exceeded(limits) {
            res.timed_out = true;
        }
        res
    }
}

/// Bound on one check's report in the per-check protocol: a flood there is not a report.
const MAX_REPORT_BYTES: usize = 1 << 20;

/// The signal that ended a check's process, by name. Under bubblewrap the process we wait for is bwrap, which
/// exits with 128 + the signal of the sandboxed process.
fn exit_signal(status: &std::process::ExitStatus) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        let sig = status.signal().or_else(|| status.code().filter(|c| *c > 128 && *c < 160).map(|c| c - 128))?;
        // The numbers that matter here are the same on Linux and macOS.
        let name = match sig {
            6 => "SIGABRT",
            9 => "SIGKILL",
            11 => "SIGSEGV",
            15 => "SIGTERM",
            24 => "SIGXCPU",
            25 => "SIGXFSZ",
            n => return Some(format!("signal {n}")),
        };
        Some(name.into())
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Killing bwrap kills the namespace's init, and with it every process in the sandbox; on macOS the
        // zygote's checks cannot fork; on Windows dropping the guard closes the Job Object, killing its process.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
enum Record {
    Ok { index: usize },
    Fail { index: usize, message: String },
    Error { phase: String, r#type: String, message: String, line: Option<u32>, index: Option<usize> },
    Memory,
    Processes,
    Done { nonce: String },
    Garbage,
}

#[derive(Debug, Deserialize)]
struct HarnessResult {
    #[serde(default)]
    records: Vec<Record>,
    #[serde(default)]
    timed_out: bool,
    #[serde(default)]
    output_limit: bool,
    #[serde(default)]
    result_flood: bool,
    /// macOS: the zygote saw the check's footprint pass the memory limit and killed it.
    #[serde(default)]
    memory_exceeded: bool,
    /// Linux, where the sandbox's user is root outside it (the kernel does not apply RLIMIT_NPROC to root): the
    /// zygote counted more processes than the limit and killed the check.
    #[serde(default)]
    processes_exceeded: bool,
    signal: Option<String>,
    exit_code: Option<i32>,
    #[serde(default = "yes")]
    clean: bool,
    harness_error: Option<String>,
}

impl Default for HarnessResult {
    fn default() -> Self {
        HarnessResult {
            records: Vec::new(),
            timed_out: false,
            output_limit: false,
            result_flood: false,
            memory_exceeded: false,
            processes_exceeded: false,
            signal: None,
            exit_code: None,
            clean: true,
            harness_error: None,
        }
    }
}

fn yes() -> bool {
    true
}

fn random_nonce() -> String {
    let mut buf = [0u8; 16];
    getrandom::fill(&mut buf).expect("the OS random source works");
    hex::encode(buf)
}

/// Reads the harness's report. A pass needs every assert's `ok` and the completion record with this check's
/// nonce; anything less is not a pass.
fn judge(res: &HarnessResult, nonce: &str, total: usize) -> (Outcome, usize) {
    let mut passed = 0;
    for r in &res.records {
        if let Record::Ok { index } = r {
            if *index == passed {
                passed += 1;
            }
        }
    }
    let error = |exception: &str, message: String| Outcome::Error {
        exception: exception.into(),
        message,
        line: None,
        phase: Phase::Harness,
        assert_index: None,
    };
    if let Some(e) = &res.harness_error {
        return (error("HarnessError", e.clone()), passed);
    }
    if res.output_limit {
        return (Outcome::OutputLimit, passed);
    }
    if res.memory_exceeded {
        return (Outcome::MemoryExceeded, passed);
    }
    let process_limit =
        || error("ProcessLimit", "the program started more processes than a check may (its process limit)".into());
    if res.processes_exceeded {
        return (process_limit(), passed);
    }
    if res.result_flood {
        return (error("ProtocolViolation", "the code flooded the harness's result channel".into()), passed);
    }
    if res.timed_out || res.signal.as_deref() == Some("SIGXCPU") {
        return (Outcome::TimedOut, passed);
    }
    for r in &res.records {
        match r {
            Record::Memory => return (Outcome::MemoryExceeded, passed),
            // MODE "single" where the kernel does not apply RLIMIT_NPROC (root): the harness ended the check.
            Record::Processes => return (process_limit(), passed),
            Record::Error { phase, r#type, message, line, index } => {
                let phase = match phase.as_str() {
                    "code" => Phase::Code,
                    "setup" => Phase::Setup,
                    _ => Phase::Assert,
                };
                let outcome = Outcome::Error {
                    exception: r#type.clone(),
                    message: message.clone(),
                    line: *line,
                    phase,
                    assert_index: *index,
                };
                return (outcome, passed);
            }
            Record::Fail { index, message } => {
                return (Outcome::Failed { assert_index: *index, message: message.clone() }, passed)
            }
            _ => {}
        }
    }
    if let Some(sig) = &res.signal {
        return (error("Killed", format!("the program was terminated by {sig}")), passed);
    }
    let done = res.records.iter().any(|r| matches!(r, Record::Done { nonce: n } if n == nonce));
    if done && passed == total {
        return (Outcome::Passed, passed);
    }
    if res.records.iter().any(|r| matches!(r, Record::Done { .. } | Record::Garbage)) {
        return (error("UnprovenPass", "a completion record arrived without this check's nonce".into()), passed);
    }
    let status = res.exit_code.map(|c| format!("status {c}")).unwrap_or_else(|| "unknown status".into());
    (
        Outcome::Error {
            exception: "EarlyExit".into(),
            message: format!("the program exited ({status}) before the asserts finished"),
            line: None,
            phase: if passed > 0 { Phase::Assert } else { Phase::Code },
            assert_index: None,
        },
        passed,
    )
}

/// Runs checks in sandboxes, keeping warm workers between checks. Cheap to share (`&self` everywhere).
pub struct Verifier {
    runtime: Result<platform::Runtime, SandboxError>,
    idle: Mutex<Vec<Worker>>,
    max_idle: AtomicUsize,
    next_id: AtomicU64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::new()
    }
}

impl Verifier {
    /// Detects this OS's isolation and Python; starts no process yet.
    pub fn new() -> Verifier {
        Verifier::with_protocol(Protocol::Zygote)
    }

    /// Linux only honours the choice (tests run the per-check protocol there, in bubblewrap); macOS always uses
    /// the zygote and Windows always the per-check protocol.
    pub fn with_protocol(protocol: Protocol) -> Verifier {
        let runtime = platform::detect(protocol);
        if let Err(e) = &runtime {
            tracing::warn!(error = %e, "answer verification is unavailable");
        }
        Verifier { runtime, idle: Mutex::new(Vec::new()), max_idle: AtomicUsize::new(4), next_id: AtomicU64::new(1) }
    }

    /// Starts a sandbox and runs a trivial check in it: what `doctor` reports.
    pub fn status(&self) -> SandboxStatus {
        let rt = match &self.runtime {
            Ok(rt) => rt,
            Err(SandboxError::Unavailable { reason, fix }) => {
                return SandboxStatus { mode: "unavailable", detail: reason.clone(), fix: Some(fix.clone()) }
            }
        };
        let probe = Check {
            code: "def f():\n    return 1\n".into(),
            setup: String::new(),
            asserts: vec!["assert f() == 1".into()],
            limits: Limits::default(),
        };
        let v = self.verify(&probe);
        match v.outcome {
            Outcome::Passed => SandboxStatus { mode: rt.mode(), detail: rt.describe(), fix: None },
            Outcome::SandboxUnavailable { reason, fix } => {
                SandboxStatus { mode: "unavailable", detail: reason, fix: Some(fix) }
            }
            other => SandboxStatus {
                mode: "unavailable",
                detail: format!("the sandbox started but a trivial check did not pass: {other:?}"),
                fix: Some("run `complexitynet doctor` with RUST_LOG=debug and report the output".into()),
            },
        }
    }

    fn worker(&self, rt: &platform::Runtime) -> Result<Worker, SandboxError> {
        if let Some(w) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(w);
        }
        Worker::spawn(rt)
    }

    fn give_back(&self, w: Worker) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.max_idle.load(Ordering::Relaxed) {
            idle.push(w);
        }
    }

    /// Verifies one check. Never panics on hostile code; every failure is a verdict.
    pub fn verify(&self, check: &Check) -> Verdict {
        let started = Instant::now();
        let total = check.asserts.len();
        let verdict = |outcome, asserts_passed| Verdict {
            outcome,
            asserts_passed,
            asserts_total: total,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        let rt = match &self.runtime {
            Ok(rt) => rt,
            Err(SandboxError::Unavailable { reason, fix }) => {
                return verdict(Outcome::SandboxUnavailable { reason: reason.clone(), fix: fix.clone() }, 0)
            }
        };
        let mut worker = match self.worker(rt) {
            Ok(w) => w,
            Err(SandboxError::Unavailable { reason, fix }) => {
                return verdict(Outcome::SandboxUnavailable { reason, fix }, 0)
            }
        };
        let nonce = random_nonce();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let l = &check.limits;
        let request = json!({
            "id": id,
            "nonce": nonce,
            "code": check.code,
            "setup": check.setup,
            "asserts": check.asserts,
            "limits": {
                "wall_ms": l.wall_ms(), "cpu_s": l.cpu_seconds(), "memory_bytes": l.memory_bytes,
                "file_bytes": l.file_bytes, "output_bytes": l.output_bytes, "open_files": l.open_files,
                "processes": l.processes,
            },
        })
        .to_string();
        if rt.protocol() == Protocol::PerCheck {
            // The worker is used up by its one check and dropped (killed, its job closed) here.
            let res = worker.run_once(&request, l);
            let (outcome, passed) = judge(&res, &nonce, total);
            return verdict(outcome, passed);
        }
        let host_limit = Duration::from_millis(l.wall_ms()) + HOST_GRACE;
        match worker.exchange(&request, host_limit) {
            Ok(line) => match serde_json::from_str::<HarnessResult>(&line) {
                Ok(res) => {
                    let (outcome, passed) = judge(&res, &nonce, total);
                    if res.clean && res.harness_error.is_none() {
                        self.give_back(worker);
                    } else {
                        tracing::warn!("discarding a sandbox worker that could not clean up after a check");
                    }
                    verdict(outcome, passed)
                }
                Err(e) => verdict(
                    Outcome::Error {
                        exception: "HarnessError".into(),
                        message: format!("unreadable harness report: {e}"),
                        line: None,
                        phase: Phase::Harness,
                        assert_index: None,
                    },
                    0,
                ),
            },
            Err(ExchangeError::Timeout) => verdict(Outcome::TimedOut, 0),
            Err(ExchangeError::Died(status)) => verdict(
                Outcome::Error {
                    exception: "SandboxCrashed".into(),
                    message: format!(
                        "the sandbox's harness died during the check ({status}); the code may have killed it"
                    ),
                    line: None,
                    phase: Phase::Harness,
                    assert_index: None,
                },
                0,
            ),
        }
    }

    /// Verifies many checks on `parallel` workers; results come back in input order. `on_done` is called as
    /// each finishes (for progress bars).
    pub fn verify_all(
        &self,
        checks: &[Check],
        parallel: usize,
        on_done: &(dyn Fn(usize, &Verdict) + Sync),
    ) -> Vec<Verdict> {
        let parallel = parallel.clamp(1, 64).min(checks.len().max(1));
        self.max_idle.fetch_max(parallel, Ordering::Relaxed);
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Verdict>>> = Mutex::new(vec![None; checks.len()]);
        std::thread::scope(|s| {
            for _ in 0..parallel {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(check) = checks.get(i) else { break };
                    let v = self.verify(check);
                    on_done(i, &v);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(v);
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .map(|v| v.expect("every check ran"))
            .collect()
    }
}

/// A sensible default for parallel checks: one per core.
pub fn default_parallelism() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
