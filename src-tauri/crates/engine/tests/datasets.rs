//! Engine integration tests on a real SQLite file: atomic import, idempotence, migrations, newer-DB refusal.

use complexitynet_engine::dataset::{self, DatasetError, Format, ImportStatus};
use complexitynet_engine::store::{Store, StoreError, SCHEMA_VERSION};
use complexitynet_engine::ErrorCode;
use complexitynet_verify::testing::shared_data;
use std::path::PathBuf;

fn mbpp() -> PathBuf {
    shared_data().join("mbpp.jsonl")
}

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("complexitynet.sqlite3")).unwrap();
    (dir, store)
}

fn task_count(store: &Store) -> i64 {
    store.conn().query_row("SELECT count(*) FROM tasks", [], |r| r.get(0)).unwrap()
}

#[test]
fn mbpp_imports_all_974_tasks_and_task_2_has_three_asserts() {
    let (_dir, mut store) = temp_store();
    let out = dataset::import_file(&mut store, &mbpp(), None, Some("mbpp"), false).unwrap();
    assert_eq!((out.tasks, out.format, out.status), (974, Format::Mbpp, ImportStatus::Created));
    let t = dataset::get_task(&store, "mbpp", "2").unwrap();
    assert_eq!(t.asserts.len(), 3);
    assert_eq!(t.entry_point.name, "similar_elements");
    assert_eq!(t.entry_point.signature, "similar_elements(test_tup1, test_tup2)");
    assert!(t.reference.unwrap().contains("def similar_elements"));
    // Every MBPP task must yield an entry point the asserts actually call.
    for t in dataset::all_tasks(&store, "mbpp").unwrap() {
        assert!(
            t.asserts.iter().any(|a| a.contains(&format!("{}(", t.entry_point.name))),
            "task {}: entry point {} is not called by its asserts",
            t.task_id,
            t.entry_point.name
        );
    }
}

#[test]
fn reimporting_the_same_content_is_a_no_op() {
    let (_dir, mut store) = temp_store();
    dataset::import_file(&mut store, &mbpp(), None, Some("mbpp"), false).unwrap();
    let before: String = store.conn().query_row("SELECT imported_at || id FROM datasets", [], |r| r.get(0)).unwrap();
    let again = dataset::import_file(&mut store, &mbpp(), None, Some("mbpp"), false).unwrap();
    assert_eq!(again.status, ImportStatus::Unchanged);
    let after: String = store.conn().query_row("SELECT imported_at || id FROM datasets", [], |r| r.get(0)).unwrap();
    assert_eq!(before, after, "an unchanged re-import must not rewrite the dataset");
    assert_eq!(task_count(&store), 974);
}

#[test]
fn a_malformed_line_imports_nothing_and_names_file_and_line() {
    let (dir, mut store) = temp_store();
    // The real MBPP with one line broken near the end: everything before it must not land either.
    let text = std::fs::read_to_string(mbpp()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[899] = r#"{"text": "broken", "code": "def f(): pass", "task_id": 9999, "test_list": "#;
    let bad = dir.path().join("broken.jsonl");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let err = dataset::import_file(&mut store, &bad, None, None, false).unwrap_err();
    assert_eq!(err.code(), ErrorCode::DatasetMalformed);
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("{}:900: invalid JSON", bad.display())), "{msg}");
    assert_eq!(task_count(&store), 0, "a failed import must leave zero rows");
    assert!(dataset::list(&store).unwrap().is_empty());
}

#[test]
fn a_duplicate_id_or_empty_tests_import_nothing() {
    let (dir, mut store) = temp_store();
    let ok = r#"{"id": "a", "prompt": "Add", "tests": ["assert add(1, 2) == 3"]}"#;
    for (body, want) in [
        (format!("{ok}\n{ok}\n"), ":2: duplicate task id \"a\""),
        (format!("{ok}\n{{\"id\": \"b\", \"prompt\": \"x\", \"tests\": []}}\n"), ":2: tests is empty"),
        (format!("{ok}\n{{\"id\": \"b\", \"tests\": [\"assert f(1)\"]}}\n"), ":2: missing field \"prompt\""),
    ] {
        let file = dir.path().join("mine.jsonl");
        std::fs::write(&file, body).unwrap();
        let err = dataset::import_file(&mut store, &file, Some(Format::Jsonl), None, false).unwrap_err();
        assert!(err.to_string().contains(want), "{err} should contain {want}");
        assert_eq!(task_count(&store), 0);
    }
}

#[test]
fn different_content_under_an_existing_name_needs_replace() {
    let (dir, mut store) = temp_store();
    let file = dir.path().join("mine.jsonl");
    std::fs::write(&file, r#"{"id": 1, "prompt": "Add", "tests": ["assert add(1, 2) == 3"]}"#).unwrap();
    dataset::import_file(&mut store, &file, None, None, false).unwrap();
    std::fs::write(&file, r#"{"id": 1, "prompt": "Add!", "tests": ["assert add(1, 2) == 3"]}"#).unwrap();
    let err = dataset::import_file(&mut store, &file, None, None, false).unwrap_err();
    assert!(matches!(err, DatasetError::Exists { .. }), "{err}");
    assert_eq!(dataset::get_task(&store, "mine", "1").unwrap().prompt, "Add");
    let out = dataset::import_file(&mut store, &file, None, None, true).unwrap();
    assert_eq!(out.status, ImportStatus::Replaced);
    assert_eq!(dataset::get_task(&store, "mine", "1").unwrap().prompt, "Add!");
}

#[test]
fn delete_removes_the_dataset_and_cascades_to_its_tasks() {
    let (_dir, mut store) = temp_store();
    dataset::import_file(&mut store, &mbpp(), None, Some("mbpp"), false).unwrap();
    assert_eq!(dataset::delete(&mut store, "mbpp").unwrap(), 974);
    assert_eq!(task_count(&store), 0);
    assert!(matches!(dataset::delete(&mut store, "mbpp"), Err(DatasetError::NotFound { .. })));
}

#[test]
fn task_search_matches_id_prompt_and_entry_point_and_pages() {
    let (_dir, mut store) = temp_store();
    dataset::import_file(&mut store, &mbpp(), None, Some("mbpp"), false).unwrap();
    let page = dataset::list_tasks(&store, "mbpp", None, 0, 50).unwrap();
    assert_eq!((page.total, page.tasks.len()), (974, 50));
    assert_eq!(page.tasks[0].task_id, "1");
    let hits = dataset::list_tasks(&store, "mbpp", Some("similar_elements"), 0, 50).unwrap();
    assert!(hits.tasks.iter().any(|t| t.task_id == "2"));
    let none = dataset::list_tasks(&store, "mbpp", Some("100%_literal"), 0, 50).unwrap();
    assert_eq!(none.total, 0, "% and _ in a query are literal characters");
}

#[test]
fn a_database_from_a_newer_version_is_refused_and_left_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("complexitynet.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE future(x); INSERT INTO future VALUES (1);").unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 5).unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found, .. } if found == SCHEMA_VERSION + 5));
    assert_eq!(err.code(), ErrorCode::StoreTooNew);
    assert!(err.to_string().contains("newer ComplexityNet"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "the newer database must not be modified");
    assert!(!dir.path().join("complexitynet.sqlite3-wal").exists(), "not even a WAL file may appear");
}

#[test]
fn migrations_run_once_and_data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("complexitynet.sqlite3");
    {
        // A database at version 0 that already has a table of its own (e.g. made by a tool) migrates in place.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes(x); INSERT INTO notes VALUES ('kept');").unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let file = dir.path().join("mine.jsonl");
    std::fs::write(&file, r#"{"id": 1, "prompt": "Add", "tests": ["assert add(1, 2) == 3"]}"#).unwrap();
    dataset::import_file(&mut store, &file, None, None, false).unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(dataset::list(&store).unwrap().len(), 1);
    let kept: String = store.conn().query_row("SELECT x FROM notes", [], |r| r.get(0)).unwrap();
    assert_eq!(kept, "kept");
    let written_by: String =
        store.conn().query_row("SELECT value FROM meta WHERE key = 'written_by'", [], |r| r.get(0)).unwrap();
    assert_eq!(written_by, complexitynet_engine::VERSION);
}

#[test]
fn a_file_that_is_not_sqlite_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("complexitynet.sqlite3");
    std::fs::write(&path, b"this is not a database at all, just some text that is long enough").unwrap();
    let err = Store::open(&path).unwrap_err();
    assert_eq!(err.code(), ErrorCode::StoreUnavailable, "{err}");
    assert!(err.to_string().contains(&path.display().to_string()));
}
