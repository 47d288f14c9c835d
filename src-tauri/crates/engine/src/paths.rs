//! Where ComplexityNet keeps its files: `--data-dir`, else `COMPLEXITYNET_DATA_DIR`, else the OS app-data dir
//! (`~/.local/share/complexitynet` on Linux, `~/Library/Application Support/complexitynet` on macOS,
//! `%APPDATA%\complexitynet` on Windows).

use std::path::{Path, PathBuf};

pub const DATA_DIR_ENV: &str = "COMPLEXITYNET_DATA_DIR";

/// Where the data dir came from, so `doctor` can say why it is where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataDirSource {
    Flag,
    Env,
    OsDefault,
}

#[derive(Debug, Clone)]
pub struct DataDir {
    pub root: PathBuf,
    pub source: DataDirSource,
}

impl DataDir {
    pub fn resolve(flag: Option<PathBuf>) -> DataDir {
        if let Some(root) = flag {
            return DataDir { root, source: DataDirSource::Flag };
        }
        if let Some(env) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
            return DataDir { root: PathBuf::from(env), source: DataDirSource::Env };
        }
        // No OS data dir (a stripped container without $HOME) falls back to the working directory rather than
        // failing: the user still gets a working CLI and `doctor` shows where it went.
        let root = dirs::data_dir().map(|d| d.join("complexitynet")).unwrap_or_else(|| PathBuf::from(".complexitynet"));
        DataDir { root, source: DataDirSource::OsDefault }
    }

    pub fn at(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into(), source: DataDirSource::Flag }
    }

    pub fn database(&self) -> PathBuf {
        self.root.join("complexitynet.sqlite3")
    }

    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }

    pub fn downloads(&self) -> PathBuf {
        self.root.join("downloads")
    }

    pub fn path(&self) -> &Path {
        &self.root
    }
}
