//! macOS: `sandbox-exec` (Seatbelt). The same warm harness as on Linux (a zygote forking one child per check),
//! started under a generated Seatbelt profile that:
//! - denies everything by default, so no network at all (no sockets out or in, no DNS: the resolver's Mach
//!   service is not reachable), no Mach services, no IPC;
//! - lets the process read only the system's libraries (`/usr/lib`, `/System`, the dyld cache), `/usr/share`,
//!   the Python install the app found (and Homebrew's library trees it links to), a few device nodes — not the
//!   user's home, not `/etc`;
//! - lets it write only inside its own private work root (a fresh directory under the app's temp dir, removed
//!   with the worker, wiped after every check), and `/dev/null`;
//! - allows fork (the zygote needs it), exec of that one Python binary only, and signals only within the sandbox.
//!
//! macOS has no PID namespace, so instead of sweeping leftovers the harness forbids them: each check runs with
//! RLIMIT_NPROC = 1, so every fork() inside a check fails (the harness refuses to run as root, which the limit
//! would not bind), and the check's process group is killed and confirmed empty after it. macOS does not enforce
//! RLIMIT_AS, so the zygote polls the check's physical footprint (libproc) and kills it over the memory limit.
//! The environment is cleared to an allowlist. See SECURITY.md for what this does not cover.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::seatbelt::profile;
use crate::{find_in_path, private_dir, probe_python, unavailable, Limits, Protocol, Python, SandboxError, HARNESS};

const SANDBOX_EXEC: &str = "/usr/bin/sandbox-exec";

#[derive(Debug, Clone)]
pub(crate) struct Runtime {
    python: Python,
}

/// A worker's private work root: removed when the worker goes.
pub(crate) struct Guard {
    root: PathBuf,
}

impl Guard {
    pub(crate) fn apply_limits(&self, _limits: &Limits) -> std::io::Result<()> {
        Ok(()) // set inside the sandbox, per check, by the harness
    }

    pub(crate) fn cpu_time_exceeded(&self, _limits: &Limits) -> bool {
        false // RLIMIT_CPU ends the check with SIGXCPU, which the verdict reads as a time-out
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

pub(crate) fn detect(_protocol: Protocol) -> Result<Runtime, SandboxError> {
    if !Path::new(SANDBOX_EXEC).is_file() {
        return Err(unavailable(
            format!("{SANDBOX_EXEC} is missing, so answers cannot be run in isolation"),
            "verification needs macOS's built-in sandbox-exec; restore it (it ships with every macOS release)",
        ));
    }
    let python = std::env::var_os("COMPLEXITYNET_PYTHON").map(PathBuf::from).or_else(|| find_in_path("python3"));
    let python = python.ok_or_else(|| {
        unavailable(
            "python3 is not installed",
            "install Python 3.8 or newer (python.org installer, or Homebrew: brew install python)",
        )
    })?;
    Ok(Runtime { python: probe_python(&python)? })
}

impl Runtime {
    pub(crate) fn mode(&self) -> &'static str {
        "seatbelt"
    }

    pub(crate) fn protocol(&self) -> Protocol {
        Protocol::Zygote
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "sandbox-exec (Seatbelt) with Python {} ({}): no network, reads confined to system libraries and \
             Python, writes to a private work dir, no forks in a check, rlimits",
            self.python.version,
            self.python.exe.display()
        )
    }

    pub(crate) fn start_failure_fix(&self) -> &'static str {
        "run the app as a normal (not root) user; if sandbox-exec itself fails, report the message above"
    }

    pub(crate) fn launch(&self) -> Result<(Child, Guard), SandboxError> {
        let root = private_dir()
            .and_then(|d| d.canonicalize()) // Seatbelt matches resolved paths: /var/folders is /private/var/…
            .map_err(|e| unavailable(format!("cannot create the sandbox's work dir: {e}"), "free space in $TMPDIR"))?;
        let guard = Guard { root };
        let mut cmd = Command::new(SANDBOX_EXEC);
        cmd.arg("-p").arg(profile(&self.python, &guard.root));
        cmd.arg(&self.python.exe).args(["-s", "-S", "-B", "-c", HARNESS, "seatbelt"]).arg(&guard.root);
        cmd.env_clear();
        cmd.env("PATH", "/usr/bin:/bin").env("HOME", &guard.root).env("TMPDIR", &guard.root);
        cmd.env("LC_CTYPE", "UTF-8").env("PYTHONUTF8", "1").env("PYTHONHASHSEED", "0");
        cmd.current_dir(&guard.root);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = cmd.spawn().map_err(|e| {
            unavailable(
                format!("cannot start {SANDBOX_EXEC}: {e}"),
                "check that sandbox-exec runs: sandbox-exec -n no-network true",
            )
        })?;
        Ok((child, guard))
    }
}
