//! Linux: bubblewrap. Every check runs in a forked child of a warm harness process (the zygote) inside a
//! bubblewrap sandbox with:
//! - its own user, PID, network (no interfaces but a down loopback), IPC, UTS and cgroup namespaces, no
//!   capabilities, no nested user namespaces;
//! - a filesystem of read-only system directories (`/usr`, `/lib*`, `/bin`, the Python install) — no home, no
//!   `/etc` beyond the dynamic loader's files — plus a size-capped tmpfs `/tmp` holding the check's work dir;
//! - an empty environment but for `PATH`, `HOME`, `LANG`;
//! - rlimits per check on CPU seconds, address space, file size, open files, processes; a wall-clock limit that
//!   kills the check's process group, and an output cap that kills it as soon as it is exceeded.
//!
//! Between checks the zygote kills every other process in the namespace and wipes `/tmp` and `/dev/shm`.
//! `Protocol::PerCheck` runs the same sandbox with one check per bubblewrap process (the protocol Windows
//! uses), so that protocol is tested on Linux too.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex};

use crate::{find_in_path, probe_python, unavailable, Limits, Protocol, Python, SandboxError, HARNESS};

#[derive(Debug, Clone)]
pub(crate) struct Runtime {
    bwrap: PathBuf,
    python: Python,
    protocol: Protocol,
}

/// What a worker holds besides its process: nothing on Linux (bubblewrap's tmpfs vanishes with it).
pub(crate) struct Guard;

impl Guard {
    pub(crate) fn apply_limits(&self, _limits: &Limits) -> std::io::Result<()> {
        Ok(()) // rlimits are set inside the sandbox, per check, by the harness
    }

    pub(crate) fn cpu_time_exceeded(&self, _limits: &Limits) -> bool {
        false // RLIMIT_CPU ends the check with SIGXCPU, which the verdict reads as a time-out
    }
}

pub(crate) fn detect(protocol: Protocol) -> Result<Runtime, SandboxError> {
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
    Ok(Runtime { bwrap, python: probe_python(&python)?, protocol })
}

impl Runtime {
    pub(crate) fn mode(&self) -> &'static str {
        "bubblewrap"
    }

    pub(crate) fn protocol(&self) -> Protocol {
        self.protocol
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "bubblewrap ({}) with Python {} ({}): no network, read-only system, per-check tmpfs, rlimits",
            self.bwrap.display(),
            self.python.version,
            self.python.exe.display()
        )
    }

    pub(crate) fn launch(&self) -> Result<(Child, Guard), SandboxError> {
        let child = spawn_from_long_lived_thread(self.command()).map_err(|e| {
            unavailable(format!("cannot start bubblewrap ({}): {e}", self.bwrap.display()), "reinstall bubblewrap")
        })?;
        Ok((child, Guard))
    }

    pub(crate) fn start_failure_fix(&self) -> &'static str {
        "allow unprivileged user namespaces (Ubuntu 24.04+: install the bwrap AppArmor profile or set \
         kernel.apparmor_restrict_unprivileged_userns=0; in a container, run it with user namespaces enabled)"
    }

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
        if !self.python.prefix.starts_with("/usr") {
            cmd.arg("--ro-bind").arg(&self.python.prefix).arg(&self.python.prefix);
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
        cmd.arg("--").arg(&self.python.exe).args(["-s", "-S", "-B", "-c", HARNESS]);
        match self.protocol {
            Protocol::Zygote => cmd.arg("ns"),
            Protocol::PerCheck => cmd.args(["single", "/tmp"]),
        };
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
