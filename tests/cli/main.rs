//! The `complexitynet` binary's headless commands, run as a user would: real process, real SQLite file in a
//! temporary data dir, JSON parsed from stdout.

use complexitynet_engine::testing::{Behavior, FileServer};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shared_data() -> PathBuf {
    let dir = std::env::var_os("COMPLEXITYNET_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    assert!(
        dir.join("mbpp.jsonl").is_file(),
        "MBPP is not at {}: these tests need the shared data folder (set COMPLEXITYNET_SHARED_DATA to it)",
        dir.display()
    );
    dir
}

fn mbpp() -> PathBuf {
    shared_data().join("mbpp.jsonl")
}

fn cn(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_complexitynet"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("COMPLEXITYNET_DATA_DIR")
        .env_remove("RUST_LOG")
        .output()
        .expect("run complexitynet")
}

fn ok_json(out: &Output) -> Value {
    assert!(out.status.success(), "command failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn importing_mbpp_reports_974_tasks_and_task_2_shows_its_asserts_and_entry_point() {
    let dir = tempfile::tempdir().unwrap();
    let mbpp = mbpp();
    let out = ok_json(&cn(dir.path(), &["dataset", "import", mbpp.to_str().unwrap(), "--name", "mbpp", "--json"]));
    assert_eq!(out["tasks"], 974);
    assert_eq!(out["status"], "created");
    let task = ok_json(&cn(dir.path(), &["dataset", "show", "mbpp", "2", "--json"]));
    assert_eq!(task["asserts"].as_array().unwrap().len(), 3);
    assert!(task["asserts"].as_array().unwrap().iter().all(Value::is_string));
    assert_eq!(task["entry_point"], "similar_elements");
    assert_eq!(task["signature"], "similar_elements(test_tup1, test_tup2)");
    let list = ok_json(&cn(dir.path(), &["dataset", "list", "--json"]));
    assert_eq!(list[0]["name"], "mbpp");
    assert_eq!(list[0]["tasks"], 974);
    assert!(dir.path().join("complexitynet.sqlite3").is_file(), "the database lives in the data dir");
}

#[test]
fn a_second_identical_import_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let mbpp = mbpp();
    ok_json(&cn(dir.path(), &["dataset", "import", mbpp.to_str().unwrap(), "--json"]));
    let again = ok_json(&cn(dir.path(), &["dataset", "import", mbpp.to_str().unwrap(), "--json"]));
    assert_eq!(again["status"], "unchanged");
    assert_eq!(again["name"], "mbpp", "the default name is the file stem");
}

#[test]
fn a_malformed_file_exits_non_zero_names_file_and_line_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("tasks.jsonl");
    std::fs::write(
        &bad,
        "{\"id\": \"a\", \"prompt\": \"Add\", \"tests\": [\"assert add(1, 2) == 3\"]}\n{\"id\": \"b\", \"prompt\": \"x\", \"tests\": []}\n",
    )
    .unwrap();
    let out = cn(dir.path(), &["dataset", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:2: tests is empty", bad.display())), "stderr: {err}");
    assert!(out.stdout.is_empty(), "nothing on stdout without --json");
    let list = ok_json(&cn(dir.path(), &["dataset", "list", "--json"]));
    assert_eq!(list, serde_json::json!([]), "a failed import leaves no dataset");

    let out = cn(dir.path(), &["dataset", "import", bad.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).expect("--json errors are one JSON document too");
    assert_eq!(doc["error"]["code"], "dataset_malformed");
}

#[test]
fn show_of_a_missing_dataset_or_task_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = cn(dir.path(), &["dataset", "show", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no dataset named \"nope\""), "{}", stderr(&out));
}

#[test]
fn download_from_a_server_that_drops_fails_cleanly_and_a_retry_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let body = std::fs::read(mbpp()).unwrap();
    let dropping = FileServer::start(body.clone(), Behavior::DropAfter(100_000));
    let out = cn(dir.path(), &["dataset", "download", "mbpp", "--url", &dropping.url("mbpp.jsonl")]);
    assert!(!out.status.success(), "a download that never completes must fail");
    let err = stderr(&out);
    assert!(err.contains("interrupted after") && err.contains("563537"), "stderr: {err}");
    assert_eq!(ok_json(&cn(dir.path(), &["dataset", "list", "--json"])), serde_json::json!([]));

    let good = FileServer::start(body, Behavior::Serve);
    let out = ok_json(&cn(dir.path(), &["dataset", "download", "mbpp", "--url", &good.url("mbpp.jsonl"), "--json"]));
    assert_eq!(out["tasks"], 974);
    assert_eq!(out["download"]["bytes"], 563_537);
    assert_eq!(out["download"]["sha256"], "0b7004a79cd62d9ec7ecdd5a6e5f0ef1210ff00b286df3c5d5b57bf38c58e19a");
    let task = ok_json(&cn(dir.path(), &["dataset", "show", "mbpp", "2", "--json"]));
    assert_eq!(task["entry_point"], "similar_elements");
}

#[test]
fn download_rejects_a_file_whose_checksum_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = std::fs::read(mbpp()).unwrap();
    body[10] = b'X';
    let server = FileServer::start(body, Behavior::Serve);
    let out = cn(dir.path(), &["dataset", "download", "mbpp", "--url", &server.url("mbpp.jsonl"), "--json"]);
    assert!(!out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["code"], "download_corrupt");
    assert!(stderr(&out).contains("SHA-256"), "{}", stderr(&out));
    assert_eq!(ok_json(&cn(dir.path(), &["dataset", "list", "--json"])), serde_json::json!([]));
}

#[test]
fn delete_removes_a_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let mbpp = mbpp();
    ok_json(&cn(dir.path(), &["dataset", "import", mbpp.to_str().unwrap(), "--json"]));
    let out = ok_json(&cn(dir.path(), &["dataset", "delete", "mbpp", "--json"]));
    assert_eq!(out["tasks"], 974);
    assert_eq!(ok_json(&cn(dir.path(), &["dataset", "list", "--json"])), serde_json::json!([]));
}

#[test]
fn the_data_dir_comes_from_the_environment_when_no_flag_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_complexitynet"))
        .args(["doctor", "--json"])
        .env("COMPLEXITYNET_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let report = ok_json(&out);
    assert_eq!(report["data_dir"], dir.path().display().to_string());
    assert_eq!(report["data_dir_source"], "env");
    assert_eq!(report["schema_version"], 1);
    let db = report["checks"].as_array().unwrap().iter().find(|c| c["name"] == "database").unwrap().clone();
    assert_eq!(db["status"], "ok");
}

#[test]
fn a_database_from_a_newer_version_is_refused_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("complexitynet.sqlite3");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", 42).unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let out = cn(dir.path(), &["dataset", "list"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("newer ComplexityNet"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&db).unwrap(), before);
}
