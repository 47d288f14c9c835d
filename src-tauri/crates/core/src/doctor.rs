//! `doctor`: what this installation has, what it lacks, and where its files are — the store, Python and the
//! sandbox, the keychain, the local tier and the classifier.

use serde::Serialize;
use std::process::Command;

use complexitynet_engine::paths::{DataDir, DataDirSource};
use complexitynet_engine::store;
use complexitynet_providers::keys::SecretStore;

use crate::App;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    Missing,
    Error,
    /// A capability this version does not have yet.
    NotBuilt,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: CheckStatus,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: &'static str,
    pub os: &'static str,
    pub arch: &'static str,
    pub data_dir: String,
    pub data_dir_source: DataDirSource,
    pub database: String,
    pub logs: String,
    pub sqlite: &'static str,
    pub schema_version: Option<i64>,
    pub datasets: Option<usize>,
    /// How answers are isolated when they are run: `bubblewrap` or `unavailable`.
    pub sandbox_mode: &'static str,
    /// Where API keys are kept: `secret-service`, `keyutils`, `macos-keychain`, `windows-credential-manager`.
    pub keychain: &'static str,
    pub checks: Vec<Check>,
}

fn tool_version(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    let text = if out.stdout.is_empty() { out.stderr } else { out.stdout };
    out.status.success().then(|| String::from_utf8_lossy(&text).lines().next().unwrap_or_default().trim().to_owned())
}

/// The report, with the app's secret store (the one it uses for keys) asked which keychain answers.
fn report(data_dir: &DataDir, keychain: &dyn SecretStore) -> Report {
    let mut checks = Vec::new();
    let db_path = data_dir.database();
    let (schema_version, datasets) = match complexitynet_engine::open(&db_path) {
        Ok(store) => {
            let v = store.schema_version().ok();
            let n = complexitynet_engine::dataset::list(&store).ok().map(|l| l.len());
            checks.push(Check {
                name: "database",
                status: CheckStatus::Ok,
                detail: format!("schema v{}, {} mode", v.unwrap_or(0), store.journal_mode().unwrap_or_default()),
            });
            (v, n)
        }
        Err(e) => {
            checks.push(Check { name: "database", status: CheckStatus::Error, detail: e.to_string() });
            (None, None)
        }
    };
    checks.push(match tool_version("python3", &["--version"]) {
        Some(v) => Check { name: "python3", status: CheckStatus::Ok, detail: v },
        None => Check {
            name: "python3",
            status: CheckStatus::Missing,
            detail: "needed to run answers against their asserts; install Python 3.8+".into(),
        },
    });
    let sandbox = complexitynet_verify::Verifier::new().status();
    checks.push(Check {
        name: "sandbox",
        status: if sandbox.mode == "unavailable" { CheckStatus::Missing } else { CheckStatus::Ok },
        detail: match &sandbox.fix {
            Some(fix) => format!("{} (fix: {fix})", sandbox.detail),
            None => sandbox.detail.clone(),
        },
    });
    // A real round trip: doctor says ok only where `keys set` will work.
    checks.push(match keychain.check() {
        Ok("keyutils") => Check {
            name: "keychain",
            status: CheckStatus::Ok,
            detail: "kernel keyutils (no Secret Service answered; keys last until reboot — start gnome-keyring or \
                     KeePassXC to keep them)"
                .to_owned(),
        },
        Ok(backend) => Check { name: "keychain", status: CheckStatus::Ok, detail: backend.to_owned() },
        Err(e) => Check { name: "keychain", status: CheckStatus::Missing, detail: e.to_string() },
    });

    Report {
        version: complexitynet_engine::VERSION,
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
        data_dir: data_dir.root.display().to_string(),
        data_dir_source: data_dir.source,
        database: db_path.display().to_string(),
        logs: data_dir.logs().display().to_string(),
        sqlite: store::sqlite_version(),
        schema_version,
        datasets,
        sandbox_mode: sandbox.mode,
        keychain: keychain.backend(),
        checks,
    }
}

impl App {
    pub fn doctor(&self) -> Report {
        let mut report = report(self.data_dir(), self.secrets());
        report.checks.push(self.local_runtime_check());
        report.checks.push(self.classifier_check());
        report
    }
}
