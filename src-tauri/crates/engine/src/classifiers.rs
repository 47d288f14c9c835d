//! The classifiers table: one row per trained classifier (its metadata as JSON and the folder its files are in)
//! and which one is active. The files and what the metadata means are the classifier crate's; this module only
//! keeps the rows.

use rusqlite::{params, OptionalExtension};

use crate::store::{Store, StoreError};

/// Stores (or replaces) a classifier's row.
pub fn upsert(store: &Store, id: &str, method: &str, labels: &str, dir: &str, meta: &str) -> Result<(), StoreError> {
    store.conn().execute(
        "INSERT INTO classifiers(id, method, labels, dir, meta) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET method = excluded.method, labels = excluded.labels, dir = excluded.dir,
         meta = excluded.meta",
        params![id, method, labels, dir, meta],
    )?;
    Ok(())
}

/// Every stored classifier's metadata (JSON), newest first.
pub fn metas(store: &Store) -> Result<Vec<String>, StoreError> {
    let mut stmt = store.conn().prepare("SELECT meta FROM classifiers ORDER BY created_at DESC, id")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A classifier's metadata (JSON) and folder.
pub fn get(store: &Store, id: &str) -> Result<Option<(String, String)>, StoreError> {
    Ok(store
        .conn()
        .query_row("SELECT meta, dir FROM classifiers WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The active classifier's id, when one was chosen.
pub fn active(store: &Store) -> Result<Option<String>, StoreError> {
    Ok(store
        .conn()
        .query_row("SELECT value FROM settings WHERE key = 'active_classifier'", [], |r| r.get(0))
        .optional()?)
}

/// Makes `id` the active classifier; None: back to the shipped default.
pub fn set_active(store: &Store, id: Option<&str>) -> Result<(), StoreError> {
    store.set_setting("active_classifier", id)
}

pub fn delete(store: &Store, id: &str) -> Result<(), StoreError> {
    store.conn().execute("DELETE FROM classifiers WHERE id = ?1", [id])?;
    Ok(())
}
