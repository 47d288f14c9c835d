//! Isolation for checks. Linux: bubblewrap. Every check runs in a forked child of a warm harness process (the
//! "zygote", `resources/sandbox/harness.py`) inside a bubblewrap sandbox with:
//! - its own user, PID, network (no interfaces but a down loopback), IPC, UTS and cgroup namespaces, no
//!   capabilities, no nested user namespaces;
//! - a filesystem of read-only system directories (`/usr`, `/lib*`, `/bin`, the Python install) — no home, no
//!   `/etc` beyond the dynamic loader's files — plus a size-capped tmpfs `/tmp` holding the check's work dir;
//! - an empty environment but for `PATH`, `HOME`, `LANG`;
//! - rlimits per check on CPU seconds, address space, file size, open files, processes; a wall-clock limit that
//!   kills the check's process group, and an output cap that kills it as soon as it is exceeded.
//!
//! Between checks the zygote kills every other process in the namespace and wipes `/tmp` and `/dev/shm`; a
//! worker that could not clean up is discarded, and so is one whose zygote died. Where no isolation is possible
//! the verdict is `sandbox_unavailable` with a fix — never an unconfined run. See SECURITY.md.

use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Check, Outcome, Phase, Verdict};

const HARNESS: &str = include_str!("../../../../../resources/sandbox/harness.py");

/// Time a worker gets to start and report ready.
const SPAWN_TIMEOUT: Duration = Duration::from_secs(20);
/// Slack on top of a check's own wall limit before the host kills the whole sandbox.
const HOST_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, thiserror::Error)]
pub enum SandboxError {
    #[error("{reason}")]
    Unavailable { reason: String, fix: String },
}

/// What `doctor` reports about isolation.
#[derive(Debug, Clone, Serialize)]
pub struct SandboxStatus {
    /// `bubblewrap` or `unavailable`.
    pub mode: &'static str,
    pub detail: String,
    pub fix: Option<String>,
}

#[derive(Debug, Clone)]
struct Runtime {
    bwrap: PathBuf,
    python: PathBuf,
    python_prefix: PathBuf,
    python_version: String,
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

fn unavailable(reason: impl Into<String>, fix: impl Into<String>) -> SandboxError {
    SandboxError::Unavailable { reason: reason.into(), fix: fix.into() }
}

#[cfg(not(target_os = "linux"))]
fn detect() -> Result<Runtime, SandboxError> {
    Err(unavailable(
        format!("answer verification has no sandbox on {} yet", std::env::consts::OS),
        "run verification on Linux with bubblewrap installed (macOS and Windows isolation are planned; see SECURITY.md)",
    ))
}

#[cfg(target_os = "linux")]
fn detect() -> Result<Runtime, SandboxError> {
    // COMPLEXITYNET_BWRAP names a specific bubblewrap binary (a newer build, or a test's missing one).
    let bwrap = match std::env::var_os("COMPLEXITYNET_BWRAP") {
        Some(p) => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        None => find_in_path("bwrap"),
    };
    let bwrap = bwrap.ok_or_else(|| {
        unavailable(
            "bubblewrap (bwrap) is not installed, so answers cannot be run in isolation",
            "install bubblewrap (Debian/Ubuntu: sudo apt install bubblewrap; Fedora: sudo dnf install bubblewrap; \
                 Arch: sudo pacman -S bubblewrap)",
        )
    })?;
    let python = std::env::var_os("COMPLEXITYNET_PYTHON").map(PathBuf::from).or_else(|| find_in_path("python3"));
    let python = python.ok_or_else(|| {
        unavailable("python3 is not installed", "install Python 3.8 or newer (Debian/Ubuntu: sudo apt install python3)")
    })?;
    // Resolve shims (pyenv, asdf) to the real interpreter and its install prefix, which the sandbox binds.
    let out = Command::new(&python)
        .args(["-I", "-c", "import os,sys;print(os.path.realpath(sys.executable));print(sys.base_prefix);print(sys.version.split()[0])"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| unavailable(format!("cannot run {}: {e}", python.display()), "install Python 3.8 or newer"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    match (out.status.success(), lines.next(), lines.next(), lines.next()) {
        (true, Some(exe), Some(prefix), Some(version)) => Ok(Runtime {
            bwrap,
            python: PathBuf::from(exe),
            python_prefix: PathBuf::from(prefix),
            python_version: version.to_owned(),
        }),
        _ => Err(unavailable(
            format!("{} did not report its install: {}", python.display(), String::from_utf8_lossy(&out.stderr).trim()),
            "install Python 3.8 or newer",
        )),
    }
}

impl Runtime {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bwrap);
        cmd.args([
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--uid",
            "65534",
            "--gid",
            "65534",
        ]);
        for dir in ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin"] {
            if Path::new(dir).exists() {
                cmd.args(["--ro-bind", dir, dir]);
            }
        }
        for file in ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/alternatives"]
        {
            cmd.args(["--ro-bind-try", file, file]);
        }
        // A Python outside /usr (pyenv, a venv's base, /opt) is bound alone, read-only: nothing else of the
        // directory it lives in (often the user's home) becomes visible.
        if !self.python_prefix.starts_with("/usr") {
            cmd.arg("--ro-bind").arg(&self.python_prefix).arg(&self.python_prefix);
        }
        cmd.args(["--proc", "/proc", "--dev", "/dev"]);
        cmd.args(["--size", &(256u64 << 20).to_string(), "--tmpfs", "/tmp"]);
        cmd.args(["--size", &(16u64 << 20).to_string(), "--tmpfs", "/dev/shm"]);
        // The sandbox's own root (where bwrap made the mount points) is read-only too: only /tmp and /dev/shm,
        // both size-capped and wiped after every check, can be written.
        cmd.args(["--remount-ro", "/", "--chdir", "/tmp", "--clearenv"]);
        // The environment is exactly this allowlist. PYTHONHASHSEED=0 makes str/bytes hashing, and so set and
        // dict-of-set iteration order, the same in every check: a verdict must not depend on the run. (That is
        // why Python gets `-s -S -B` and not `-I`, which would ignore the variable; nothing else of the host's
        // environment is there to ignore.)
        cmd.args(["--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp", "--setenv", "LANG", "C.UTF-8"]);
        cmd.args(["--setenv", "PYTHONHASHSEED", "0"]);
        cmd.arg("--").arg(&self.python).args(["-s", "-S", "-B", "-c", HARNESS]);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd
    }
}

/// Spawns `cmd` from one thread that lives as long as the process. bubblewrap's `--die-with-parent` is a
/// parent-death signal tied to the *thread* that spawned it: a worker spawned from a short-lived thread (a
/// test thread, a scoped pool thread) would be killed when that thread ends, while we still keep it warm.
fn spawn_from_long_lived_thread(cmd: Command) -> std::io::Result<Child> {
    type Job = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: std::sync::OnceLock<Mutex<mpsc::Sender<Job>>> = std::sync::OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sandbox-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("start the sandbox spawner thread");
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((cmd, reply_tx))
        .map_err(|_| std::io::Error::other("the sandbox spawner thread is gone"))?;
    reply_rx.recv().map_err(|_| std::io::Error::other("the sandbox spawner thread is gone"))?
}

/// One warm sandbox: a bubblewrap process running the harness zygote.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

enum ExchangeError {
    /// The zygote did not answer in time; it was killed.
    Timeout,
    /// The zygote died (the code may have killed it).
    Died(String),
}

impl Worker {
    fn spawn(rt: &Runtime) -> Result<Worker, SandboxError> {
        let mut child = spawn_from_long_lived_thread(rt.command()).map_err(|e| {
            unavailable(format!("cannot start bubblewrap ({}): {e}", rt.bwrap.display()), "reinstall bubblewrap")
        })?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                if s.len() < 8192 {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        let mut worker = Worker { child, stdin, lines, stderr };
        match worker.lines.recv_timeout(SPAWN_TIMEOUT) {
            Ok(line) if line.contains("\"ready\"") => Ok(worker),
            other => {
                let _ = worker.child.kill();
                let _ = worker.child.wait();
                std::thread::sleep(Duration::from_millis(20)); // let the stderr reader finish
                let err = worker.stderr.lock().unwrap_or_else(|e| e.into_inner()).trim().to_owned();
                let why = match other {
                    Ok(line) => format!("unexpected first line {line:?}"),
                    Err(mpsc::RecvTimeoutError::Timeout) => "it did not start in time".into(),
                    Err(mpsc::RecvTimeoutError::Disconnected) => "it exited at once".into(),
                };
                Err(unavailable(
                    format!("bubblewrap could not start a sandbox: {why}: {err}"),
                    "allow unprivileged user namespaces (Ubuntu 24.04+: install the bwrap AppArmor profile or set \
                     kernel.apparmor_restrict_unprivileged_userns=0; in a container, run it with user namespaces \
                     enabled)",
                ))
            }
        }
    }

    fn exchange(&mut self, request: &str, timeout: Duration) -> Result<String, ExchangeError> {
        let sent = self.stdin.write_all(request.as_bytes()).and_then(|_| self.stdin.write_all(b"\n"));
        if let Err(e) = sent.and_then(|_| self.stdin.flush()) {
            return Err(ExchangeError::Died(format!("cannot send the check: {e}")));
        }
        match self.lines.recv_timeout(timeout) {
            Ok(line) => Ok(line),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(ExchangeError::Timeout),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                Err(ExchangeError::Died(status))
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Killing bwrap kills the namespace's init, and with it every process in the sandbox.
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
    signal: Option<String>,
    exit_code: Option<i32>,
    #[serde(default = "yes")]
    clean: bool,
    harness_error: Option<String>,
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
    if res.result_flood {
        return (error("ProtocolViolation", "the code flooded the harness's result channel".into()), passed);
    }
    if res.timed_out || res.signal.as_deref() == Some("SIGXCPU") {
        return (Outcome::TimedOut, passed);
    }
    for r in &res.records {
        match r {
            Record::Memory => return (Outcome::MemoryExceeded, passed),
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
    runtime: Result<Runtime, SandboxError>,
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
    /// Detects bubblewrap and Python; starts no process yet.
    pub fn new() -> Verifier {
        let runtime = detect();
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
            limits: super::Limits::default(),
        };
        let v = self.verify(&probe);
        match v.outcome {
            Outcome::Passed => SandboxStatus {
                mode: "bubblewrap",
                detail: format!(
                    "bubblewrap ({}) with Python {} ({}): no network, read-only system, per-check tmpfs, rlimits",
                    rt.bwrap.display(),
                    rt.python_version,
                    rt.python.display()
                ),
                fix: None,
            },
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

    fn worker(&self, rt: &Runtime) -> Result<Worker, SandboxError> {
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
                "timeout_ms": l.timeout_ms, "cpu_s": l.cpu_seconds(), "memory_bytes": l.memory_bytes,
                "file_bytes": l.file_bytes, "output_bytes": l.output_bytes, "open_files": l.open_files,
                "processes": l.processes,
            },
        })
        .to_string();
        let host_limit = Duration::from_millis(l.timeout_ms) + HOST_GRACE;
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
