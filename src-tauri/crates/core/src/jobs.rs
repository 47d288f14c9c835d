//! Jobs in flight: a generation, a download, a label run, a training. Each has an id (the one the window gave
//! it, so its Stop button can name it), a kind and a cancel token. Starting one returns a [`JobGuard`]; the
//! job is listed until the guard drops, on every exit path — success, error, cancel or panic.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use complexitynet_engine::ErrorCode;
use complexitynet_providers::CancellationToken;
use serde::Serialize;

use crate::{lock, AppError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Chat,
    Ask,
    DatasetDownload,
    ModelDownload,
    LabelRun,
    Training,
}

/// A running job as listed.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct JobInfo {
    pub id: String,
    pub kind: JobKind,
    pub seconds: f64,
    pub cancelled: bool,
}

struct Entry {
    kind: JobKind,
    cancel: CancellationToken,
    started: Instant,
}

#[derive(Default, Clone)]
pub struct Jobs {
    running: Arc<Mutex<HashMap<String, Entry>>>,
}

/// Holds a job's place: dropping it removes the job. Its token is the one `cancel` fires.
pub struct JobGuard {
    running: Arc<Mutex<HashMap<String, Entry>>>,
    id: String,
    cancel: CancellationToken,
}

impl JobGuard {
    pub fn token(&self) -> &CancellationToken {
        &self.cancel
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        lock(&self.running).remove(&self.id);
    }
}

impl Jobs {
    /// Registers a job. A second job with the id of a running one is refused: two label runs of one name
    /// would write the same trials, and two answers in one chat would interleave.
    pub fn start(&self, kind: JobKind, id: impl Into<String>) -> Result<JobGuard> {
        let id = id.into();
        let mut running = lock(&self.running);
        if running.contains_key(&id) {
            return Err(AppError::new(ErrorCode::JobRunning, format!("{id:?} is already running")));
        }
        let cancel = CancellationToken::new();
        running.insert(id.clone(), Entry { kind, cancel: cancel.clone(), started: Instant::now() });
        Ok(JobGuard { running: self.running.clone(), id, cancel })
    }

    /// Cancels a running job; false when none has that id.
    pub fn cancel(&self, id: &str) -> bool {
        lock(&self.running).get(id).map(|e| e.cancel.cancel()).is_some()
    }

    pub fn list(&self) -> Vec<JobInfo> {
        let mut v: Vec<JobInfo> = lock(&self.running)
            .iter()
            .map(|(id, e)| JobInfo {
                id: id.clone(),
                kind: e.kind,
                seconds: e.started.elapsed().as_secs_f64(),
                cancelled: e.cancel.is_cancelled(),
            })
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }
}

/// What a download reports to a window: throttled progress (a smooth bar, not a message per 16 KiB chunk),
/// then, for a dataset, the import.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DownloadEvent {
    Progress {
        #[ts(type = "number")]
        received: u64,
        #[ts(type = "number | null")]
        total: Option<u64>,
    },
    Importing,
}

/// Turns raw download progress into [`DownloadEvent::Progress`] at most every `step` bytes (and at the end).
pub fn throttled(
    step: u64,
    on_event: &(dyn Fn(DownloadEvent) + Send + Sync),
) -> impl Fn(complexitynet_providers::download::DownloadProgress) + Send + Sync + '_ {
    let last = Mutex::new(None::<u64>);
    move |p| {
        let mut last = lock(&last);
        let due = match *last {
            None => true,
            Some(l) => p.received.saturating_sub(l) >= step || Some(p.received) == p.total,
        };
        if due {
            *last = Some(p.received);
            on_event(DownloadEvent::Progress { received: p.received, total: p.total });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_listed_until_its_guard_drops_on_any_exit_path() {
        let jobs = Jobs::default();
        let fails = |jobs: &Jobs| -> Result<()> {
            let _guard = jobs.start(JobKind::Chat, "chat")?;
            assert_eq!(jobs.list().len(), 1);
            Err(AppError::internal("an early return"))
        };
        assert!(fails(&jobs).is_err());
        assert!(jobs.list().is_empty(), "the early return removed the job");
        let g = jobs.start(JobKind::LabelRun, "label:x").unwrap();
        let again = jobs.start(JobKind::LabelRun, "label:x").err().unwrap();
        assert_eq!(again.code, ErrorCode::JobRunning);
        assert!(jobs.cancel("label:x"));
        assert!(g.token().is_cancelled() && jobs.list()[0].cancelled);
        assert!(!jobs.cancel("nope"));
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _g = jobs.start(JobKind::Training, "train").unwrap();
            panic!("a panic mid-job");
        }));
        assert!(r.is_err());
        assert_eq!(jobs.list().len(), 1, "the panicking job is gone, the label run remains");
        drop(g);
        assert!(jobs.list().is_empty());
    }
}
