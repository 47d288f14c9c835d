//! The SQLite store: one file in the data dir, WAL, foreign keys on, versioned migrations applied at open.
//!
//! The schema version lives in `PRAGMA user_version`. A database whose version is newer than this build knows is
//! refused *before* anything is written to it (not even the WAL switch), so an older app can never corrupt data a
//! newer one wrote.

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ErrorCode;

/// Migrations in order; migration `i` takes the schema from version `i` to `i + 1`. Never edit a released one:
/// append a new one.
const MIGRATIONS: &[&str] = &[
    // v1: datasets and their tasks.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE datasets (
        id             INTEGER PRIMARY KEY,
        name           TEXT NOT NULL UNIQUE,
        format         TEXT NOT NULL,
        source         TEXT NOT NULL,
        content_sha256 TEXT NOT NULL,
        imported_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE TABLE tasks (
        dataset_id        INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        ord               INTEGER NOT NULL,
        task_id           TEXT NOT NULL,
        prompt            TEXT NOT NULL,
        reference         TEXT,
        setup             TEXT NOT NULL DEFAULT '',
        asserts           TEXT NOT NULL,
        challenge_asserts TEXT NOT NULL DEFAULT '[]',
        entry_name        TEXT NOT NULL,
        entry_signature   TEXT NOT NULL,
        entry_arity       INTEGER NOT NULL,
        PRIMARY KEY (dataset_id, task_id)
    ) WITHOUT ROWID;
    CREATE INDEX tasks_by_ord ON tasks(dataset_id, ord);
    "#,
    // v2: providers, tiers and prices (seeded from resources/tiers.json), settings, and every model call.
    // No API key column anywhere: keys live in the OS keychain only.
    r#"
    CREATE TABLE providers (
        name        TEXT PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('openai', 'anthropic', 'local')),
        base_url    TEXT NOT NULL DEFAULT '',
        concurrency INTEGER NOT NULL DEFAULT 4,
        timeout_s   INTEGER NOT NULL DEFAULT 120
    );
    CREATE TABLE tiers (
        name          TEXT PRIMARY KEY,
        position      INTEGER NOT NULL,
        provider      TEXT NOT NULL REFERENCES providers(name) ON UPDATE CASCADE,
        model         TEXT NOT NULL,
        input_per_1k  REAL NOT NULL,
        output_per_1k REAL NOT NULL,
        paper_units   REAL NOT NULL DEFAULT 1
    );
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE calls (
        id                INTEGER PRIMARY KEY,
        at                TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        tier              TEXT NOT NULL,
        provider          TEXT NOT NULL,
        model             TEXT NOT NULL,
        prompt_tokens     INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cost_usd          REAL NOT NULL,
        latency_ms        REAL NOT NULL,
        finish_reason     TEXT NOT NULL,
        error_kind        TEXT,
        usage_estimated   INTEGER NOT NULL DEFAULT 0
    );
    "#,
    // v3: local models (GGUF files registered by path; the weights stay where they are).
    r#"
    CREATE TABLE models (
        name              TEXT PRIMARY KEY,
        path              TEXT NOT NULL,
        bytes             INTEGER NOT NULL,
        architecture      TEXT NOT NULL,
        parameters        INTEGER NOT NULL,
        quantization      TEXT NOT NULL,
        context_length    INTEGER,
        has_chat_template INTEGER NOT NULL,
        source            TEXT NOT NULL,
        added_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    "#,
    // v4: label runs and their trials. A trial's primary key is its place in the run, so a resumed run can
    // never store one twice.
    r#"
    CREATE TABLE label_runs (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        dataset     TEXT NOT NULL,
        config      TEXT NOT NULL,
        rule        TEXT NOT NULL,
        status      TEXT NOT NULL,
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        finished_at TEXT
    );
    CREATE TABLE trials (
        run_id            INTEGER NOT NULL REFERENCES label_runs(id) ON DELETE CASCADE,
        task_id           TEXT NOT NULL,
        tier_index        INTEGER NOT NULL,
        trial             INTEGER NOT NULL,
        tier              TEXT NOT NULL,
        model             TEXT NOT NULL,
        prompt            TEXT NOT NULL,
        answer            TEXT NOT NULL,
        code              TEXT NOT NULL,
        verdict           TEXT NOT NULL,
        verdict_json      TEXT NOT NULL,
        passed            INTEGER NOT NULL,
        asserts_passed    INTEGER NOT NULL,
        asserts_total     INTEGER NOT NULL,
        prompt_tokens     INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        latency_ms        REAL NOT NULL,
        cost_usd          REAL NOT NULL,
        started_ms        INTEGER NOT NULL,
        finished_ms       INTEGER NOT NULL,
        PRIMARY KEY (run_id, task_id, tier_index, trial)
    ) WITHOUT ROWID;
    "#,
    // v5: trained complexity classifiers. The weights live in files under the data dir (`dir`); this row holds
    // the metadata (method, labels, metrics) as JSON. The active one is the `active_classifier` setting.
    r#"
    CREATE TABLE classifiers (
        id         TEXT PRIMARY KEY,
        method     TEXT NOT NULL,
        labels     TEXT NOT NULL,
        dir        TEXT NOT NULL,
        meta       TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    "#,
    // v6: chat conversations and their messages; an answer carries how it was routed and what it cost.
    r#"
    CREATE TABLE conversations (
        id         INTEGER PRIMARY KEY,
        title      TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE TABLE messages (
        id                INTEGER PRIMARY KEY,
        conversation_id   INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role              TEXT NOT NULL,
        content           TEXT NOT NULL,
        tier              TEXT,
        model             TEXT,
        level             INTEGER,
        route             TEXT,
        prompt_tokens     INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd          REAL NOT NULL DEFAULT 0,
        saved_usd         REAL NOT NULL DEFAULT 0,
        feedback          TEXT,
        created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
    "#,
    // v7: which reading of an answer each trial ran, and what of it was kept and dropped (JSON; NULL for
    // trials stored before answers were read this way).
    r#"
    ALTER TABLE trials ADD COLUMN extraction TEXT;
    "#,
    // v8: whether a chat answer passed the tests its prompt carried (1), failed them (0), or had none (NULL): the
    // ledger claims no savings for a failing answer.
    r#"
    ALTER TABLE messages ADD COLUMN verified INTEGER;
    "#,
    // v9: what requests through the local server spent per day (UTC), in the cost mode of each request, for its
    // daily spend cap.
    r#"
    CREATE TABLE server_spend (
        day   TEXT PRIMARY KEY,
        cost  REAL NOT NULL DEFAULT 0
    );
    "#,
    // v10: a chat answer's route is typed: `{"decision": …, "verification": {passed, tests, checks, steps}}`
    // instead of the decision with its cascade steps spliced in under "cascade".
    r#"
    UPDATE messages SET route = json_object(
        'decision', json_remove(json(route), '$.cascade'),
        'verification', CASE WHEN json_type(route, '$.cascade') = 'array'
            THEN json_object('passed', json(CASE verified WHEN 1 THEN 'true' ELSE 'false' END),
                             'tests', 0, 'checks', json('[]'), 'steps', json_extract(route, '$.cascade'))
            ELSE NULL END)
    WHERE route IS NOT NULL AND json_valid(route) AND json_type(route, '$.decision') IS NULL;
    "#,
    // v11: each trial's answer judged again by the checks its task's prompt shows (1 accepted, 0 rejected, -1 the
    // prompt shows none; NULL: not judged yet), for the honest cascade of `eval`.
    r#"
    ALTER TABLE trials ADD COLUMN shown_verdict INTEGER;
    "#,
    // v12: what is known of each model's ability, as its pass rate on a reference benchmark: a published rate
    // (entered with `tiers set … --published`), or one measured by a calibration run (`label calibrate`).
    r#"
    CREATE TABLE model_rates (
        model      TEXT NOT NULL,
        source     TEXT NOT NULL,
        benchmark  TEXT NOT NULL,
        rate       REAL NOT NULL,
        trials     INTEGER NOT NULL DEFAULT 0,
        detail     TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
        PRIMARY KEY (model, source)
    );
    "#,
    // v13: one spend ledger. Every call — the chat, `ask`, the server, label runs, checks proposed — is a row of
    // `calls` with where it came from (`source`), whether the dial routed it (`routed`), its cost in the paper's
    // units too, and, on the call that answered a prompt, what the top tier would have charged for it (`top_*`):
    // totals, exports, the server's daily cap and the dial's budget all read this table. The server's own daily
    // tally (`server_spend`) duplicated it and goes.
    r#"
    ALTER TABLE calls ADD COLUMN source TEXT NOT NULL DEFAULT 'ask';
    ALTER TABLE calls ADD COLUMN routed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE calls ADD COLUMN cost_units REAL NOT NULL DEFAULT 0;
    ALTER TABLE calls ADD COLUMN top_usd REAL NOT NULL DEFAULT 0;
    ALTER TABLE calls ADD COLUMN top_units REAL NOT NULL DEFAULT 0;
    CREATE INDEX calls_by_time ON calls(at);
    DROP TABLE server_spend;
    "#,
    // v14: agents. What a tier can take (its context window and longest answer in tokens, whether it reads
    // images; NULL: not known, so not checked), and for each call of an agent, where it came from: the server's
    // front door (`openai`, `anthropic`, `responses`), the client, the conversation and its turn, and the prompt
    // tokens read from the provider's cache.
    r#"
    ALTER TABLE tiers ADD COLUMN context_window INTEGER;
    ALTER TABLE tiers ADD COLUMN max_output INTEGER;
    ALTER TABLE tiers ADD COLUMN vision INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE calls ADD COLUMN front_door TEXT;
    ALTER TABLE calls ADD COLUMN client TEXT;
    ALTER TABLE calls ADD COLUMN conversation TEXT;
    ALTER TABLE calls ADD COLUMN turn INTEGER;
    ALTER TABLE calls ADD COLUMN cached_tokens INTEGER NOT NULL DEFAULT 0;
    "#,
];

/// The SQL that migrates a database to `version` (1-based), for tests of one migration's data conversion.
#[doc(hidden)]
pub fn migration_sql(version: usize) -> &'static str {
    MIGRATIONS[version - 1]
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database {path} was written by a newer ComplexityNet (schema v{found}; this build understands up to \
         v{supported}). It was left untouched: upgrade ComplexityNet, or use another --data-dir."
    )]
    TooNew { path: PathBuf, found: i64, supported: i64 },
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot create the data dir {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("migration to schema v{version} failed on {path}: {source}")]
    Migration {
        path: PathBuf,
        version: i64,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
}

impl StoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::TooNew { .. } => ErrorCode::StoreTooNew,
            StoreError::Open { .. } | StoreError::Migration { .. } => ErrorCode::StoreUnavailable,
            StoreError::DataDir { .. } | StoreError::Sql(_) => ErrorCode::Internal,
        }
    }
}

/// An open ComplexityNet database. Not `Sync`: the app keeps it behind a mutex, the CLI owns it.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir { path: dir.to_owned(), source })?;
        }
        let open_err = |source| StoreError::Open { path: path.to_owned(), source };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(open_err)?;

        // Read the version first: a newer database must not see even a journal-mode change from us.
        // This read also fails cleanly on a file that is not SQLite at all.
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(open_err)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { path: path.to_owned(), found, supported: SCHEMA_VERSION });
        }

        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, path = %path.display(), "SQLite refused WAL mode; continuing in this mode");
        }
        // NORMAL is durable in WAL mode across application crashes; only an OS crash can lose the last commits.
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;").map_err(open_err)?;

        let mut store = Store { conn, path: path.to_owned() };
        store.migrate(found)?;
        Ok(store)
    }

    fn migrate(&mut self, from: i64) -> Result<(), StoreError> {
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
            let version = i as i64 + 1;
            let _span = tracing::info_span!("migrate", version).entered();
            let mig_err = |source| StoreError::Migration { path: self.path.clone(), version, source };
            // Each migration and its version bump commit together, so a crash mid-migration leaves the previous
            // version intact and the next open retries it.
            let tx = self.conn.transaction().map_err(mig_err)?;
            tx.execute_batch(sql).map_err(mig_err)?;
            tx.execute(
                "INSERT INTO meta(key, value) VALUES ('written_by', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [crate::VERSION],
            )
            .map_err(mig_err)?;
            tx.pragma_update(None, "user_version", version).map_err(mig_err)?;
            tx.commit().map_err(mig_err)?;
            tracing::info!(version, path = %self.path.display(), "database migrated");
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    pub fn journal_mode(&self) -> Result<String, StoreError> {
        Ok(self.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?)
    }

    /// A value of the `settings` table (None: not set, the caller's default applies).
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension;
        Ok(self.conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// Sets (or, with None, removes) a value of the `settings` table.
    pub fn set_setting(&self, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        match value {
            Some(v) => self.conn.execute(
                "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, v],
            )?,
            None => self.conn.execute("DELETE FROM settings WHERE key = ?1", [key])?,
        };
        Ok(())
    }
}

/// The SQLite library version compiled in (bundled), for `doctor`.
pub fn sqlite_version() -> &'static str {
    rusqlite::version()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_database_is_at_the_current_schema_in_wal_mode_with_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(store.journal_mode().unwrap(), "wal");
        let fk: i64 = store.conn().query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1, "foreign keys must be enforced so deleting a dataset cascades to its tasks");
    }
}
