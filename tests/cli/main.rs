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

// ---------------------------------------------------------------------------------------------------------
// verify

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn verify_reports_passed_for_correct_code_against_a_tests_file() {
    let dir = tempfile::tempdir().unwrap();
    let code = write(dir.path(), "a.py", "def add(a, b):\n    return a + b\n");
    let tests = write(dir.path(), "t.txt", "assert add(1, 2) == 3\n\nassert add(0, 0) == 0\n");
    let out = ok_json(&cn(
        dir.path(),
        &["verify", "--code", code.to_str().unwrap(), "--tests", tests.to_str().unwrap(), "--json"],
    ));
    assert_eq!(out["verdict"], "passed");
    assert_eq!(out["asserts_passed"], 2);
}

#[test]
fn verify_reports_a_failure_with_its_message_and_an_error_with_its_type() {
    let dir = tempfile::tempdir().unwrap();
    let tests = write(dir.path(), "t.txt", "assert add(1, 2) == 3, 'one plus two'\n");
    let wrong = write(dir.path(), "w.py", "def add(a, b):\n    return a - b\n");
    let out = ok_json(&cn(
        dir.path(),
        &["verify", "--code", wrong.to_str().unwrap(), "--tests", tests.to_str().unwrap(), "--json"],
    ));
    assert_eq!(out["verdict"], "failed");
    assert_eq!(out["message"], "one plus two");
    let broken = write(dir.path(), "b.py", "def add(a, b):\n    return a + c\n");
    let out = ok_json(&cn(
        dir.path(),
        &["verify", "--code", broken.to_str().unwrap(), "--tests", tests.to_str().unwrap(), "--json"],
    ));
    assert_eq!(out["verdict"], "error");
    assert_eq!(out["exception"], "NameError");
    assert_eq!(out["line"], 2);
}

#[test]
fn verify_takes_asserts_from_a_dataset_task() {
    let dir = tempfile::tempdir().unwrap();
    let mbpp = mbpp();
    ok_json(&cn(dir.path(), &["dataset", "import", mbpp.to_str().unwrap(), "--json"]));
    let code = write(dir.path(), "s.py", "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b)))\n");
    let out = ok_json(&cn(
        dir.path(),
        &["verify", "--code", code.to_str().unwrap(), "--dataset", "mbpp", "--task", "2", "--json"],
    ));
    assert_eq!(out["verdict"], "passed");
    assert_eq!(out["task_id"], "2");
}

#[test]
fn verify_of_a_dataset_reference_lists_the_failing_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "mine.jsonl",
        concat!(
            r#"{"id": "ok", "prompt": "add", "solution": "def add(a, b):\n    return a + b\n", "tests": ["assert add(1, 2) == 3"]}"#,
            "\n",
            r#"{"id": "bad", "prompt": "sub", "solution": "def sub(a, b):\n    return a + b\n", "tests": ["assert sub(3, 1) == 2"]}"#,
            "\n"
        ),
    );
    ok_json(&cn(dir.path(), &["dataset", "import", file.to_str().unwrap(), "--json"]));
    let out = ok_json(&cn(dir.path(), &["verify", "--dataset", "mine", "--reference", "--json"]));
    assert_eq!((out["passed"].as_u64(), out["total"].as_u64()), (Some(1), Some(2)));
    assert_eq!(out["failing"][0]["task_id"], "bad");
    assert_eq!(out["failing"][0]["verdict"], "failed");
}

#[test]
fn verify_of_recorded_answers_counts_passes_per_model() {
    let dir = tempfile::tempdir().unwrap();
    let mbpp = mbpp();
    ok_json(&cn(dir.path(), &["dataset", "import", mbpp.to_str().unwrap(), "--json"]));
    let answers = write(
        dir.path(),
        "answers.jsonl",
        concat!(
            r#"{"task_id": 2, "model": "m1", "trial": 0, "output": "```python\ndef similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b)))\n```\nThis works."}"#,
            "\n",
            r#"{"task_id": 2, "model": "m2", "trial": 0, "output": "def similar_elements(a, b):\n    return ()\n"}"#,
            "\n",
            r#"{"task_id": 3, "model": "m2", "trial": 0, "output": null}"#,
            "\n"
        ),
    );
    let out =
        ok_json(&cn(dir.path(), &["verify", "--answers", answers.to_str().unwrap(), "--dataset", "mbpp", "--json"]));
    let models = out["models"].as_array().unwrap();
    assert_eq!(models[0]["model"], "m1");
    assert_eq!((models[0]["passed"].as_u64(), models[0]["total"].as_u64()), (Some(1), Some(1)));
    assert_eq!((models[1]["passed"].as_u64(), models[1]["total"].as_u64()), (Some(0), Some(2)));
    assert_eq!(out["answers"].as_array().unwrap().len(), 3);
}

#[test]
fn without_bubblewrap_verify_fails_closed_with_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let code = write(dir.path(), "a.py", "def add(a, b):\n    return a + b\n");
    let tests = write(dir.path(), "t.txt", "assert add(1, 2) == 3\n");
    let out = Command::new(env!("CARGO_BIN_EXE_complexitynet"))
        .args(["--data-dir", dir.path().to_str().unwrap(), "verify", "--code", code.to_str().unwrap()])
        .args(["--tests", tests.to_str().unwrap(), "--json"])
        .env("COMPLEXITYNET_BWRAP", dir.path().join("no-such-bwrap"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "an unconfined run must never happen");
    assert!(stderr(&out).contains("install bubblewrap"), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["code"], "sandbox_unavailable");
    let doctor = Command::new(env!("CARGO_BIN_EXE_complexitynet"))
        .args(["--data-dir", dir.path().to_str().unwrap(), "doctor", "--json"])
        .env("COMPLEXITYNET_BWRAP", dir.path().join("no-such-bwrap"))
        .output()
        .unwrap();
    assert_eq!(ok_json(&doctor)["sandbox_mode"], "unavailable");
}

#[test]
fn doctor_reports_the_bubblewrap_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let report = ok_json(&cn(dir.path(), &["doctor", "--json"]));
    assert_eq!(report["sandbox_mode"], "bubblewrap", "{report}");
}
