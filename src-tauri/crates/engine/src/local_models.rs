//! Local models: GGUF files registered by path (validated and described from their header) and a catalog of
//! downloadable models (`resources/models.json`). Downloading one is the application core's (it fetches through
//! the providers' downloader and registers the file here).

pub mod gguf;

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

use crate::store::{Store, StoreError};
pub use gguf::GgufInfo;

const CATALOG: &str = include_str!("../../../../resources/models.json");

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CatalogModel {
    pub title: String,
    pub url: String,
    /// As published for the pinned revision; None where no figure is published here (the first complete
    /// download pins it).
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub license: String,
    /// The model's published pass@1 figures, each with its source.
    #[serde(default)]
    pub scores: Vec<PublishedScore>,
}

/// A benchmark figure a model's authors published.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, ts_rs::TS)]
pub struct PublishedScore {
    pub benchmark: String,
    pub pass_at_1: f64,
    pub source: String,
}

/// The size and SHA-256 of a catalog model whose figures are not published, as its first complete download
/// measured them; later downloads of that name must match.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Pin {
    pub size: u64,
    pub sha256: String,
}

fn pin_key(name: &str) -> String {
    format!("model-pin:{name}")
}

pub fn pin(store: &Store, name: &str) -> Result<Option<Pin>, ModelError> {
    Ok(store.setting(&pin_key(name))?.and_then(|v| serde_json::from_str(&v).ok()))
}

pub fn set_pin(store: &Store, name: &str, p: &Pin) -> Result<(), ModelError> {
    let json = serde_json::to_string(p).expect("a pin serialises");
    Ok(store.set_setting(&pin_key(name), Some(&json))?)
}

pub fn catalog() -> BTreeMap<String, CatalogModel> {
    let raw: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(CATALOG).expect("resources/models.json is valid");
    raw.into_iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| (k, serde_json::from_value(v).expect("a valid catalog entry")))
        .collect()
}

#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
pub struct ModelRow {
    pub name: String,
    pub path: String,
    pub bytes: u64,
    pub architecture: String,
    pub parameters: u64,
    pub quantization: String,
    pub context_length: Option<u64>,
    pub has_chat_template: bool,
    pub source: String,
    pub added_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Gguf(#[from] gguf::GgufError),
    #[error("no local model named {0:?} (see `complexitynet models list`)")]
    Unknown(String),
    #[error("{0}")]
    Invalid(String),
    #[error("not enough disk space in {dir}: {needed} bytes needed, {available} available")]
    Disk { dir: String, needed: u64, available: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ModelError {
    fn from(e: rusqlite::Error) -> Self {
        ModelError::Store(StoreError::Sql(e))
    }
}

impl ModelError {
    pub fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode as C;
        match self {
            ModelError::Gguf(_) => C::ModelInvalid,
            ModelError::Unknown(_) => C::UnknownModel,
            ModelError::Invalid(_) => C::InvalidArguments,
            ModelError::Disk { .. } => C::DiskFull,
            ModelError::Store(e) => e.code(),
        }
    }
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<ModelRow> {
    Ok(ModelRow {
        name: r.get(0)?,
        path: r.get(1)?,
        bytes: r.get::<_, i64>(2)? as u64,
        architecture: r.get(3)?,
        parameters: r.get::<_, i64>(4)? as u64,
        quantization: r.get(5)?,
        context_length: r.get::<_, Option<i64>>(6)?.map(|v| v as u64),
        has_chat_template: r.get(7)?,
        source: r.get(8)?,
        added_at: r.get(9)?,
    })
}

const COLUMNS: &str =
    "name, path, bytes, architecture, parameters, quantization, context_length, has_chat_template, source, added_at";

/// Registers a GGUF file after validating its header. The name defaults to the file name without `.gguf`.
pub fn add(store: &Store, path: &Path, name: Option<&str>, source: &str) -> Result<ModelRow, ModelError> {
    let path = std::fs::canonicalize(path).map_err(|e| ModelError::Invalid(format!("{}: {e}", path.display())))?;
    let info = gguf::read(&path)?;
    let name = name.map(str::to_owned).unwrap_or_else(|| {
        path.file_name().and_then(|n| n.to_str()).unwrap_or("model").trim_end_matches(".gguf").to_owned()
    });
    if name.is_empty() || name.contains(['/', '\\']) {
        return Err(ModelError::Invalid(format!("invalid model name {name:?}")));
    }
    store.conn().execute(
        "INSERT INTO models(name, path, bytes, architecture, parameters, quantization, context_length,
                            has_chat_template, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(name) DO UPDATE SET path = excluded.path, bytes = excluded.bytes,
             architecture = excluded.architecture, parameters = excluded.parameters,
             quantization = excluded.quantization, context_length = excluded.context_length,
             has_chat_template = excluded.has_chat_template, source = excluded.source",
        params![
            name,
            path.display().to_string(),
            info.file_bytes as i64,
            info.architecture,
            info.parameters as i64,
            info.quantization,
            info.context_length.map(|c| c as i64),
            info.has_chat_template,
            source
        ],
    )?;
    tracing::info!(name, path = %path.display(), arch = %info.architecture, "model registered");
    get(store, &name)
}

pub fn list(store: &Store) -> Result<Vec<ModelRow>, ModelError> {
    let mut stmt = store.conn().prepare(&format!("SELECT {COLUMNS} FROM models ORDER BY name"))?;
    let rows = stmt.query_map([], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(store: &Store, name: &str) -> Result<ModelRow, ModelError> {
    store
        .conn()
        .query_row(&format!("SELECT {COLUMNS} FROM models WHERE name = ?1"), [name], row)
        .optional()?
        .ok_or_else(|| ModelError::Unknown(name.to_owned()))
}

pub fn remove(store: &Store, name: &str) -> Result<bool, ModelError> {
    Ok(store.conn().execute("DELETE FROM models WHERE name = ?1", [name])? > 0)
}
