//! Operating systems without a sandbox backend: verification fails closed.

use std::process::Child;

use crate::{unavailable, Limits, Protocol, SandboxError};

#[derive(Debug, Clone)]
pub(crate) struct Runtime;

pub(crate) struct Guard;

impl Guard {
    pub(crate) fn apply_limits(&self, _limits: &Limits) -> std::io::Result<()> {
        Ok(())
    }

    pub(crate) fn cpu_time_exceeded(&self, _limits: &Limits) -> bool {
        false
    }
}

pub(crate) fn detect(_protocol: Protocol) -> Result<Runtime, SandboxError> {
    Err(unavailable(
        format!("answer verification has no sandbox on {}", std::env::consts::OS),
        "verify on Linux (bubblewrap), macOS (sandbox-exec) or Windows (a Job Object); see SECURITY.md",
    ))
}

impl Runtime {
    pub(crate) fn mode(&self) -> &'static str {
        "unavailable"
    }

    pub(crate) fn protocol(&self) -> Protocol {
        Protocol::Zygote
    }

    pub(crate) fn describe(&self) -> String {
        String::new()
    }

    pub(crate) fn start_failure_fix(&self) -> &'static str {
        ""
    }

    pub(crate) fn launch(&self) -> Result<(Child, Guard), SandboxError> {
        Err(detect(Protocol::Zygote).unwrap_err())
    }
}
