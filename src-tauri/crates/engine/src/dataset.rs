//! Datasets of coding tasks with executable checks (the paper uses MBPP).
//!
//! A task is a prompt plus the Python `assert` statements that decide whether an answer solves it. Import is
//! all-or-nothing: the whole file is parsed and validated first, then written in one transaction, so a malformed
//! line (named by file and line) leaves the database exactly as it was. Re-importing the same content is a no-op.

mod parse;

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub use parse::{detect_format, parse_file, parse_str};

use complexitynet_verify::{EntryPoint, Task};

use crate::store::{Store, StoreError};
use crate::ErrorCode;

/// The file formats `dataset import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// MBPP JSONL: `text, code, task_id, test_setup_code, test_list, challenge_test_list`.
    Mbpp,
    /// HumanEval JSONL: `task_id, prompt, canonical_solution, test, entry_point`.
    Humaneval,
    /// Plain JSONL of `{id, prompt, tests[], solution?, setup?}` for users' own tasks.
    Jsonl,
    /// CSV with a header `id,prompt,tests[,solution,setup]`; `tests` is a JSON array or one assert per line.
    Csv,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Mbpp => "mbpp",
            Format::Humaneval => "humaneval",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "mbpp" => Ok(Format::Mbpp),
            "humaneval" => Ok(Format::Humaneval),
            "jsonl" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            other => Err(format!("unknown format {other:?} (expected mbpp, humaneval, jsonl or csv)")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file's problem at one line. `line` is 1-based; for CSV it is the line the record starts on.
    #[error("{}:{line}: {problem}", file.display())]
    Malformed { file: PathBuf, line: usize, problem: String },
    #[error("cannot read {}: {source}", file.display())]
    Unreadable {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: the file holds no tasks", file.display())]
    Empty { file: PathBuf },
    #[error("cannot tell the format of {} ({why}); pass --format mbpp|humaneval|jsonl|csv", file.display())]
    UnknownFormat { file: PathBuf, why: String },
    #[error("no dataset named {name:?} (see `complexitynet dataset list`)")]
    NotFound { name: String },
    #[error("dataset {dataset:?} has no task {task_id:?}")]
    TaskNotFound { dataset: String, task_id: String },
    #[error("a dataset named {name:?} already exists with different content; pass --replace to overwrite it")]
    Exists { name: String },
    #[error(
        "invalid dataset name {name:?}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
    )]
    InvalidName { name: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for DatasetError {
    fn from(e: rusqlite::Error) -> Self {
        DatasetError::Store(StoreError::Sql(e))
    }
}

impl DatasetError {
    pub fn code(&self) -> ErrorCode {
        match self {
            DatasetError::Malformed { .. } | DatasetError::Empty { .. } | DatasetError::UnknownFormat { .. } => {
                ErrorCode::DatasetMalformed
            }
            DatasetError::Unreadable { .. } => ErrorCode::DatasetUnreadable,
            DatasetError::NotFound { .. } => ErrorCode::DatasetNotFound,
            DatasetError::TaskNotFound { .. } => ErrorCode::TaskNotFound,
            DatasetError::Exists { .. } => ErrorCode::DatasetExists,
            DatasetError::InvalidName { .. } => ErrorCode::InvalidName,
            DatasetError::Store(e) => e.code(),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    Created,
    /// The same content was already there under this name; nothing was written.
    Unchanged,
    Replaced,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ImportOutcome {
    pub name: String,
    pub format: Format,
    pub tasks: usize,
    pub status: ImportStatus,
    pub content_sha256: String,
}

/// A dataset as `dataset list` shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DatasetSummary {
    pub name: String,
    pub format: String,
    pub source: String,
    pub tasks: usize,
    pub content_sha256: String,
    pub imported_at: String,
}

/// A task as a list row shows it (the full task comes from [`get_task`]).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct TaskRow {
    pub task_id: String,
    pub prompt: String,
    pub entry_point: String,
    pub asserts: usize,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct TaskPage {
    pub dataset: String,
    /// Tasks matching the query, before paging.
    pub total: usize,
    pub offset: usize,
    pub tasks: Vec<TaskRow>,
}

/// Checks a user-supplied dataset name: it becomes part of CLI commands and file names, so keep it plain.
pub fn validate_name(name: &str) -> Result<(), DatasetError> {
    let ok = (1..=64).contains(&name.len())
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(DatasetError::InvalidName { name: name.to_owned() })
    }
}

/// The default dataset name for a file: its stem (`mbpp.jsonl` → `mbpp`), made valid.
pub fn default_name(file: &Path) -> String {
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("dataset");
    let cleaned: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
        .collect::<String>()
        .trim_start_matches(['.', '_', '-'])
        .chars()
        .take(64)
        .collect();
    if cleaned.is_empty() {
        "dataset".to_owned()
    } else {
        cleaned
    }
}

/// A stable digest of parsed tasks: the identity used for idempotent re-imports. It is computed over the parsed
/// content, not the bytes, so the same tasks re-serialised (CRLF, key order) count as the same dataset.
pub fn content_digest(format: Format, tasks: &[Task]) -> String {
    let mut h = Sha256::new();
    h.update(format.as_str().as_bytes());
    for t in tasks {
        h.update(serde_json::to_vec(t).expect("tasks serialise"));
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// Parses `file` and imports it under `name` in one transaction. On any error nothing is written.
pub fn import_file(
    store: &mut Store,
    file: &Path,
    format: Option<Format>,
    name: Option<&str>,
    replace: bool,
) -> Result<ImportOutcome, DatasetError> {
    let name = name.map(str::to_owned).unwrap_or_else(|| default_name(file));
    validate_name(&name)?;
    let (format, tasks) = parse_file(file, format)?;
    let source = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_owned());
    import_tasks(store, &name, format, &source.display().to_string(), &tasks, replace)
}

/// Imports already-parsed tasks under `name` in one transaction.
pub fn import_tasks(
    store: &mut Store,
    name: &str,
    format: Format,
    source: &str,
    tasks: &[Task],
    replace: bool,
) -> Result<ImportOutcome, DatasetError> {
    validate_name(name)?;
    let _span = tracing::info_span!("dataset_import", name, format = format.as_str(), tasks = tasks.len()).entered();
    let digest = content_digest(format, tasks);
    let outcome = |status| ImportOutcome {
        name: name.to_owned(),
        format,
        tasks: tasks.len(),
        status,
        content_sha256: digest.clone(),
    };

    let tx = store.conn_mut().transaction()?;
    let existing: Option<(i64, String)> = tx
        .query_row("SELECT id, content_sha256 FROM datasets WHERE name = ?1", [name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let status = match existing {
        Some((_, ref sha)) if *sha == digest => {
            tracing::info!("same content already imported; nothing to do");
            return Ok(outcome(ImportStatus::Unchanged));
        }
        Some(_) if !replace => return Err(DatasetError::Exists { name: name.to_owned() }),
        Some((id, _)) => {
            tx.execute("DELETE FROM datasets WHERE id = ?1", [id])?;
            ImportStatus::Replaced
        }
        None => ImportStatus::Created,
    };
    tx.execute(
        "INSERT INTO datasets(name, format, source, content_sha256) VALUES (?1, ?2, ?3, ?4)",
        params![name, format.as_str(), source, digest],
    )?;
    let dataset_id = tx.last_insert_rowid();
    {
        let mut ins = tx.prepare(
            "INSERT INTO tasks(dataset_id, ord, task_id, prompt, reference, setup, asserts, challenge_asserts,
                               entry_name, entry_signature, entry_arity)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for (ord, t) in tasks.iter().enumerate() {
            ins.execute(params![
                dataset_id,
                ord as i64,
                t.task_id,
                t.prompt,
                t.reference,
                t.setup,
                serde_json::to_string(&t.asserts).expect("strings serialise"),
                serde_json::to_string(&t.challenge_asserts).expect("strings serialise"),
                t.entry_point.name,
                t.entry_point.signature,
                t.entry_point.arity as i64,
            ])?;
        }
    }
    tx.commit()?;
    tracing::info!(?status, "dataset imported");
    Ok(outcome(status))
}

pub fn list(store: &Store) -> Result<Vec<DatasetSummary>, DatasetError> {
    let mut stmt = store.conn().prepare(
        "SELECT d.name, d.format, d.source, d.content_sha256, d.imported_at,
                (SELECT count(*) FROM tasks t WHERE t.dataset_id = d.id)
         FROM datasets d ORDER BY d.name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(DatasetSummary {
            name: r.get(0)?,
            format: r.get(1)?,
            source: r.get(2)?,
            content_sha256: r.get(3)?,
            imported_at: r.get(4)?,
            tasks: r.get::<_, i64>(5)? as usize,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn dataset_id(store: &Store, name: &str) -> Result<i64, DatasetError> {
    store
        .conn()
        .query_row("SELECT id FROM datasets WHERE name = ?1", [name], |r| r.get(0))
        .optional()?
        .ok_or_else(|| DatasetError::NotFound { name: name.to_owned() })
}

pub fn summary(store: &Store, name: &str) -> Result<DatasetSummary, DatasetError> {
    list(store)?.into_iter().find(|d| d.name == name).ok_or_else(|| DatasetError::NotFound { name: name.to_owned() })
}

/// A page of a dataset's tasks in file order. `query` matches task id, prompt or entry point, case-insensitively.
pub fn list_tasks(
    store: &Store,
    name: &str,
    query: Option<&str>,
    offset: usize,
    limit: usize,
) -> Result<TaskPage, DatasetError> {
    let id = dataset_id(store, name)?;
    // LIKE with an escaped pattern: a user searching for "50%" or "a_b" means those characters literally.
    let pattern = query.filter(|q| !q.trim().is_empty()).map(|q| {
        let esc = q.trim().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        format!("%{esc}%")
    });
    let filter = "dataset_id = ?1 AND (?2 IS NULL OR task_id LIKE ?2 ESCAPE '\\' OR prompt LIKE ?2 ESCAPE '\\'
                  OR entry_name LIKE ?2 ESCAPE '\\')";
    let total: i64 =
        store
            .conn()
            .query_row(&format!("SELECT count(*) FROM tasks WHERE {filter}"), params![id, pattern], |r| r.get(0))?;
    let mut stmt = store.conn().prepare(&format!(
        "SELECT task_id, prompt, entry_name, json_array_length(asserts) FROM tasks WHERE {filter}
         ORDER BY ord LIMIT ?3 OFFSET ?4"
    ))?;
    let tasks = stmt
        .query_map(params![id, pattern, limit as i64, offset as i64], |r| {
            Ok(TaskRow {
                task_id: r.get(0)?,
                prompt: r.get(1)?,
                entry_point: r.get(2)?,
                asserts: r.get::<_, i64>(3)? as usize,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TaskPage { dataset: name.to_owned(), total: total as usize, offset, tasks })
}

pub fn get_task(store: &Store, name: &str, task_id: &str) -> Result<Task, DatasetError> {
    let id = dataset_id(store, name)?;
    let json_list = |s: String| serde_json::from_str::<Vec<String>>(&s).unwrap_or_default();
    store
        .conn()
        .query_row(
            "SELECT task_id, prompt, reference, setup, asserts, challenge_asserts, entry_name, entry_signature,
                    entry_arity
             FROM tasks WHERE dataset_id = ?1 AND task_id = ?2",
            params![id, task_id],
            |r| {
                Ok(Task {
                    task_id: r.get(0)?,
                    prompt: r.get(1)?,
                    reference: r.get(2)?,
                    setup: r.get(3)?,
                    asserts: json_list(r.get(4)?),
                    challenge_asserts: json_list(r.get(5)?),
                    entry_point: EntryPoint {
                        name: r.get(6)?,
                        signature: r.get(7)?,
                        arity: r.get::<_, i64>(8)? as usize,
                    },
                })
            },
        )
        .optional()?
        .ok_or_else(|| DatasetError::TaskNotFound { dataset: name.to_owned(), task_id: task_id.to_owned() })
}

/// Every task of a dataset in file order (for labeling, verification runs).
pub fn all_tasks(store: &Store, name: &str) -> Result<Vec<Task>, DatasetError> {
    let id = dataset_id(store, name)?;
    let ids: Vec<String> = store
        .conn()
        .prepare("SELECT task_id FROM tasks WHERE dataset_id = ?1 ORDER BY ord")?
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    ids.iter().map(|t| get_task(store, name, t)).collect()
}

/// Deletes a dataset and (by cascade) its tasks. Returns how many tasks went with it.
pub fn delete(store: &mut Store, name: &str) -> Result<usize, DatasetError> {
    let tx = store.conn_mut().transaction()?;
    let (id, n): (i64, i64) = tx
        .query_row(
            "SELECT id, (SELECT count(*) FROM tasks WHERE dataset_id = d.id) FROM datasets d WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| DatasetError::NotFound { name: name.to_owned() })?;
    tx.execute("DELETE FROM datasets WHERE id = ?1", [id])?;
    tx.commit()?;
    tracing::info!(name, tasks = n, "dataset deleted");
    Ok(n as usize)
}
