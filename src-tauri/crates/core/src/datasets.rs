//! Datasets of coding tasks: import (all or nothing), download a known one (size and SHA-256 checked, then
//! imported), list, page through, show one task, delete.

use std::path::Path;

use complexitynet_engine::catalog;
use complexitynet_engine::dataset::{self, DatasetSummary, Format, ImportOutcome, TaskPage};
use complexitynet_providers::download::DownloadProgress;
use complexitynet_verify::TaskView;
use serde::Serialize;

use crate::jobs::{throttled, DownloadEvent};
use crate::{App, Result};

/// A downloadable dataset.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CatalogEntry {
    pub name: String,
    pub title: String,
    pub url: String,
    #[ts(type = "number")]
    pub size: u64,
    pub license: String,
}

/// A download and its import.
#[derive(Debug, Clone, Serialize)]
pub struct Downloaded {
    #[serde(flatten)]
    pub import: ImportOutcome,
    pub download: DownloadInfo,
}

#[derive(Debug, Clone, Serialize)]
pub struct DownloadInfo {
    pub url: String,
    pub bytes: u64,
    pub sha256: String,
    pub attempts: u32,
    pub path: std::path::PathBuf,
}

impl App {
    pub fn datasets(&self) -> Result<Vec<DatasetSummary>> {
        self.with_store(|s| Ok(dataset::list(s)?))
    }

    pub fn dataset_catalog(&self) -> Vec<CatalogEntry> {
        catalog::datasets()
            .into_iter()
            .map(|(name, d)| CatalogEntry { name, title: d.title, url: d.url, size: d.size, license: d.license })
            .collect()
    }

    /// Parses a file and imports it in one transaction: a bad line names the file and line and imports nothing.
    pub fn import_dataset(
        &self,
        file: &Path,
        format: Option<Format>,
        name: Option<&str>,
        replace: bool,
    ) -> Result<ImportOutcome> {
        let name = name.filter(|n| !n.trim().is_empty());
        self.with_store(|s| Ok(dataset::import_file(s, file, format, name, replace)?))
    }

    /// Downloads a catalog dataset (or its mirror at `url`), checks its size and SHA-256, and imports it.
    pub async fn download_dataset(
        &self,
        name: &str,
        url: Option<&str>,
        progress: &(dyn Fn(DownloadProgress) + Send + Sync),
    ) -> Result<Downloaded> {
        // Open (and migrate) the store first: a newer database is refused before any bytes are fetched.
        self.with_store(|_| Ok(()))?;
        let url = url.filter(|u| !u.trim().is_empty());
        let (entry, fetched) = fetch_dataset(self.data_dir(), name, url, progress).await?;
        let source = url.map(str::to_owned).unwrap_or(entry.url);
        let (format, tasks) = dataset::parse_file(&fetched.path, Some(entry.format))?;
        let import = self.with_store(|s| Ok(dataset::import_tasks(s, name, format, &source, &tasks, false)?))?;
        Ok(Downloaded {
            import,
            download: DownloadInfo {
                url: source,
                bytes: fetched.bytes,
                sha256: fetched.sha256,
                attempts: fetched.attempts,
                path: fetched.path,
            },
        })
    }

    /// [`App::download_dataset`] for a window: throttled progress events, then `importing`.
    pub async fn download_dataset_with_events(
        &self,
        name: &str,
        url: Option<&str>,
        on_event: &(dyn Fn(DownloadEvent) + Send + Sync),
    ) -> Result<ImportOutcome> {
        let progress = throttled(32 * 1024, on_event);
        let done = |p: DownloadProgress| {
            progress(p);
            if Some(p.received) == p.total {
                on_event(DownloadEvent::Importing);
            }
        };
        Ok(self.download_dataset(name, url, &done).await?.import)
    }

    pub fn dataset_summary(&self, name: &str) -> Result<DatasetSummary> {
        self.with_store(|s| Ok(dataset::summary(s, name)?))
    }

    /// A page of a dataset's tasks, optionally filtered (id, prompt or entry point contains `query`).
    pub fn tasks(&self, name: &str, query: Option<&str>, offset: usize, limit: usize) -> Result<TaskPage> {
        self.with_store(|s| Ok(dataset::list_tasks(s, name, query.filter(|q| !q.is_empty()), offset, limit)?))
    }

    pub fn task(&self, name: &str, task_id: &str) -> Result<TaskView> {
        self.with_store(|s| Ok(dataset::get_task(s, name, task_id)?.view(name)))
    }

    /// Deletes a dataset and its tasks; returns how many tasks went.
    pub fn delete_dataset(&self, name: &str) -> Result<usize> {
        self.with_store(|s| Ok(dataset::delete(s, name)?))
    }
}

/// Downloads a catalog dataset (from its canonical URL, or `url` to use a mirror) into the data dir's downloads
/// folder and checks its size and SHA-256. Importing it is the caller's next step, so the caller decides the
/// dataset name and whether to replace.
async fn fetch_dataset(
    data_dir: &complexitynet_engine::paths::DataDir,
    name: &str,
    url: Option<&str>,
    progress: &(dyn Fn(complexitynet_providers::download::DownloadProgress) + Send + Sync),
) -> Result<(catalog::CatalogDataset, complexitynet_providers::download::FetchOutcome)> {
    let entry =
        catalog::dataset(name).ok_or_else(|| complexitynet_providers::download::DownloadError::UnknownDataset {
            name: name.to_owned(),
            known: catalog::datasets().keys().cloned().collect::<Vec<_>>().join(", "),
        })?;
    let mut req = complexitynet_providers::download::FetchRequest::new(
        url.unwrap_or(&entry.url),
        data_dir.downloads().join(format!("{name}.{}", if entry.format == Format::Csv { "csv" } else { "jsonl" })),
    );
    req.expected_size = Some(entry.size);
    req.expected_sha256 = Some(entry.sha256.clone());
    let outcome = complexitynet_providers::download::fetch(&req, progress).await?;
    Ok((entry, outcome))
}
