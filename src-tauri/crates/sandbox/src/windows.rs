//! Windows: a Job Object per check. Python has no fork on Windows, so there is no zygote: each check gets a
//! fresh `python` process (`Protocol::PerCheck`, the harness's "single" mode) in its own Job Object with:
//! - kill-on-close: when the worker is dropped (check over, time-out, app exit) the job and every process in it
//!   die;
//! - an active-process limit of 1: the check cannot start any other process;
//! - a job memory limit (allocation fails, Python raises MemoryError, the verdict is `memory_exceeded`) and a
//!   job CPU-time limit; the host adds the wall clock and the output cap by closing the job;
//! - UI restrictions: no desktop switching, clipboard, global atoms, other processes' USER handles, display or
//!   system settings, no logoff or shutdown; crash dialogs are suppressed (die on unhandled exception);
//! - a cleared environment (`SYSTEMROOT`, a `PATH` of Python's directory and System32, a private work dir as
//!   `TEMP`/`TMP`/`HOME`/`USERPROFILE`) and a private work directory removed with the worker.
//!
//! A Job Object does not confine the network or the file system: the check runs as the user and could read the
//! user's files or open a socket. Because that is weaker than the Linux and macOS sandboxes, Windows verification
//! is opt-in (`COMPLEXITYNET_SANDBOX=job-object`); without it every verdict is `sandbox_unavailable` with that
//! fix. SECURITY.md states this.
#![allow(unsafe_code)] // Win32 calls; every block is one documented API call on handles this module owns.

use std::os::windows::io::AsRawHandle;
use std::os::windows::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JobObjectBasicAccountingInformation, JobObjectBasicUIRestrictions,
    JobObjectExtendedLimitInformation, QueryInformationJobObject, SetInformationJobObject,
    JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, JOBOBJECT_BASIC_UI_RESTRICTIONS, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JOB_OBJECT_LIMIT_ACTIVE_PROCESS, JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION, JOB_OBJECT_LIMIT_JOB_MEMORY,
    JOB_OBJECT_LIMIT_JOB_TIME, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, JOB_OBJECT_UILIMIT_DESKTOP,
    JOB_OBJECT_UILIMIT_DISPLAYSETTINGS, JOB_OBJECT_UILIMIT_EXITWINDOWS, JOB_OBJECT_UILIMIT_GLOBALATOMS,
    JOB_OBJECT_UILIMIT_HANDLES, JOB_OBJECT_UILIMIT_READCLIPBOARD, JOB_OBJECT_UILIMIT_SYSTEMPARAMETERS,
    JOB_OBJECT_UILIMIT_WRITECLIPBOARD,
};

use crate::{find_in_path, private_dir, probe_python, unavailable, Limits, Protocol, Python, SandboxError, HARNESS};

const CREATE_NO_WINDOW: u32 = 0x0800_0000;
/// Job times are in 100 ns units.
const TICKS_PER_SECOND: i64 = 10_000_000;

#[derive(Debug, Clone)]
pub(crate) struct Runtime {
    python: Python,
    system_root: String,
}

/// The check's Job Object and work dir. Dropping it closes the job, which kills every process in it.
pub(crate) struct Guard {
    job: HANDLE,
    root: PathBuf,
}

// SAFETY-relevant: the handle is owned by this value alone and only used through `&self` Win32 calls, which
// are thread-safe for job handles.
unsafe impl Send for Guard {}

impl Guard {
    fn new(root: PathBuf) -> std::io::Result<Guard> {
        // SAFETY: null attributes and name create an anonymous job; the returned handle is checked.
        let job = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
        if job.is_null() {
            return Err(std::io::Error::last_os_error());
        }
        let guard = Guard { job, root };
        let ui = JOBOBJECT_BASIC_UI_RESTRICTIONS {
            UIRestrictionsClass: JOB_OBJECT_UILIMIT_DESKTOP
                | JOB_OBJECT_UILIMIT_DISPLAYSETTINGS
                | JOB_OBJECT_UILIMIT_EXITWINDOWS
                | JOB_OBJECT_UILIMIT_GLOBALATOMS
                | JOB_OBJECT_UILIMIT_HANDLES
                | JOB_OBJECT_UILIMIT_READCLIPBOARD
                | JOB_OBJECT_UILIMIT_SYSTEMPARAMETERS
                | JOB_OBJECT_UILIMIT_WRITECLIPBOARD,
        };
        guard.set(JobObjectBasicUIRestrictions, &ui)?;
        // Until the check's own limits arrive: one process, killed with the job.
        guard.apply_limits(&Limits::default())?;
        Ok(guard)
    }

    fn set<T>(&self, class: i32, info: &T) -> std::io::Result<()> {
        // SAFETY: `info` points to a live value of the struct that `class` names, with its exact size.
        let ok = unsafe {
            SetInformationJobObject(self.job, class, (info as *const T).cast(), std::mem::size_of::<T>() as u32)
        };
        if ok == 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    fn assign(&self, child: &Child) -> std::io::Result<()> {
        // SAFETY: both handles are valid: the job is ours, the process handle is owned by `child`.
        let ok = unsafe { AssignProcessToJobObject(self.job, child.as_raw_handle() as HANDLE) };
        if ok == 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Sets the check's limits before its request is sent (the process is already in the job, idle on stdin).
    pub(crate) fn apply_limits(&self, limits: &Limits) -> std::io::Result<()> {
        let mut info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
        let basic = &mut info.BasicLimitInformation;
        basic.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
            | JOB_OBJECT_LIMIT_ACTIVE_PROCESS
            | JOB_OBJECT_LIMIT_JOB_MEMORY
            | JOB_OBJECT_LIMIT_JOB_TIME
            | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;
        basic.ActiveProcessLimit = 1;
        basic.PerJobUserTimeLimit = limits.cpu_seconds() as i64 * TICKS_PER_SECOND;
        info.JobMemoryLimit = usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX);
        self.set(JobObjectExtendedLimitInformation, &info)
    }

    /// Whether the job used up its CPU time (the system then terminated it): read as a time-out.
    pub(crate) fn cpu_time_exceeded(&self, limits: &Limits) -> bool {
        let mut acct = JOBOBJECT_BASIC_ACCOUNTING_INFORMATION::default();
        // SAFETY: `acct` is a live, writable struct of the size passed; the return length may be null.
        let ok = unsafe {
            QueryInformationJobObject(
                self.job,
                JobObjectBasicAccountingInformation,
                (&mut acct as *mut JOBOBJECT_BASIC_ACCOUNTING_INFORMATION).cast(),
                std::mem::size_of::<JOBOBJECT_BASIC_ACCOUNTING_INFORMATION>() as u32,
                std::ptr::null_mut(),
            )
        };
        ok != 0 && acct.TotalUserTime >= limits.cpu_seconds() as i64 * TICKS_PER_SECOND
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // SAFETY: the handle is ours and closed exactly once; kill-on-close ends whatever is still running.
        unsafe { CloseHandle(self.job) };
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

pub(crate) fn detect(_protocol: Protocol) -> Result<Runtime, SandboxError> {
    match std::env::var("COMPLEXITYNET_SANDBOX").as_deref() {
        Ok("job-object") => {}
        _ => {
            return Err(unavailable(
                "on Windows, checks run in a Job Object, which limits processes, memory and CPU time but does not \
                 block the network or reading your files, so it is off unless you accept that",
                "set the environment variable COMPLEXITYNET_SANDBOX=job-object before starting ComplexityNet to \
                 verify with that isolation, or verify on Linux (bubblewrap) or macOS (sandbox-exec); see SECURITY.md",
            ))
        }
    }
    let python = std::env::var_os("COMPLEXITYNET_PYTHON")
        .map(PathBuf::from)
        .or_else(|| find_in_path("python.exe"))
        .or_else(|| find_in_path("python3.exe"));
    let python = python.ok_or_else(|| {
        unavailable("Python is not installed", "install Python 3.8 or newer from python.org (add it to PATH)")
    })?;
    let system_root = std::env::var("SYSTEMROOT").unwrap_or_else(|_| r"C:\Windows".into());
    Ok(Runtime { python: probe_python(&python)?, system_root })
}

impl Runtime {
    pub(crate) fn mode(&self) -> &'static str {
        "job-object"
    }

    pub(crate) fn protocol(&self) -> Protocol {
        Protocol::PerCheck
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "Job Object with Python {} ({}): one process, memory and CPU limits, UI restrictions, cleared \
             environment; the network and file reads are NOT confined (opted in with COMPLEXITYNET_SANDBOX)",
            self.python.version,
            self.python.exe.display()
        )
    }

    pub(crate) fn start_failure_fix(&self) -> &'static str {
        "check that the Python above starts: python -c \"print(1)\""
    }

    pub(crate) fn launch(&self) -> Result<(Child, Guard), SandboxError> {
        let fail = |what: &str, e: std::io::Error| unavailable(format!("{what}: {e}"), self.start_failure_fix());
        let root = private_dir().map_err(|e| fail("cannot create the check's work dir", e))?;
        let guard = Guard::new(root).map_err(|e| fail("cannot create a Job Object", e))?;
        let python_dir = self.python.exe.parent().unwrap_or(Path::new("."));
        let mut cmd = Command::new(&self.python.exe);
        cmd.args(["-s", "-S", "-B", "-c", HARNESS, "single"]).arg(&guard.root);
        cmd.env_clear();
        cmd.env("SYSTEMROOT", &self.system_root);
        cmd.env("PATH", format!("{};{}\\System32", python_dir.display(), self.system_root));
        for var in ["TEMP", "TMP", "HOME", "USERPROFILE"] {
            cmd.env(var, &guard.root);
        }
        cmd.env("PYTHONUTF8", "1").env("PYTHONHASHSEED", "0");
        cmd.current_dir(&guard.root).creation_flags(CREATE_NO_WINDOW);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| fail(&format!("cannot start {}", self.python.exe.display()), e))?;
        // The process is in the job before it is sent any check: until then it runs only the harness.
        if let Err(e) = guard.assign(&child) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail("cannot put the check's process in its Job Object", e));
        }
        Ok((child, guard))
    }
}
