//! The three front ends over one application core: the same prompt through `complexitynet ask`, the local
//! server (`serve`, model `auto`) and the chat (the use case the Chat tab's command forwards to), with the
//! routed tier rate-limited. Each is answered by the next tier, and the calls log holds the same rows for
//! each. Also: the server's OpenAI-style 400s for out-of-range fields, and a closed stdout ending a command
//! quietly.

use super::{cn, mbpp, ok_json, stderr};
use complexitynet_core::App;
use complexitynet_engine::keys::Keychain;
use complexitynet_engine::paths::DataDir;
use complexitynet_engine::testing::{
    error_reply, openai_json, openai_sse, test_models, with_header, ChatServer, Reply,
};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

const PROMPT: &str = "Write a function to find the minimum cost path in a cost matrix using dynamic programming.";

const ANSWER: &str = "def min_cost(cost, m, n):\n    return 0";

/// A data dir whose routed tier (every level → top) is rate-limited for an hour, with mid below it answering
/// and the local tier without a model. `streamed[i]`: whether round i's request streams.
fn rate_limited_top(dir: &Path, streamed: &[bool]) -> ChatServer {
    let encoder = test_models().join("all-MiniLM-L6-v2");
    ok_json(&cn(dir, &["classifier", "fetch-encoder", "--from", encoder.to_str().unwrap(), "--json"]));
    let mut replies: Vec<Reply> = Vec::new();
    for &stream in streamed {
        replies.push(with_header(error_reply(429, "rate_limit_exceeded", "Rate limit reached"), "retry-after", "3600"));
        replies.push(if stream {
            Reply::Sse { body: openai_sse(&[ANSWER], Some((40, 12)), true), chunk: 64, stall_after: None }
        } else {
            openai_json(ANSWER, 40, 12)
        });
    }
    let server = ChatServer::start(replies);
    let base = format!("{}/v1", server.url());
    ok_json(&cn(dir, &["providers", "set", "limited", "--kind", "openai", "--base-url", &base, "--json"]));
    ok_json(&cn(dir, &["tiers", "set", "mid", "--provider", "limited", "--model", "mid-model", "--json"]));
    ok_json(&cn(dir, &["tiers", "set", "top", "--provider", "limited", "--model", "top-model", "--json"]));
    ok_json(&cn(dir, &["route-policy", "--map", "0-2:3", "--json"]));
    server
}

/// `complexitynet serve --port 0`, and the URL it listens on.
fn serve(dir: &Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_complexitynet"))
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--port", "0"])
        .args(extra)
        .env_remove("COMPLEXITYNET_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    (child, line.split_whitespace().nth(2).unwrap().to_owned())
}

fn post(url: &str, body: &Value) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let r = reqwest::Client::new().post(format!("{url}/chat/completions")).json(body).send().await.unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    })
}

/// The calls log as (tier, finish reason, error kind) rows.
fn calls(app: &App) -> Vec<(String, String, Option<String>)> {
    app.calls().unwrap().into_iter().map(|c| (c.tier, c.finish_reason, c.error_kind)).collect()
}

#[test]
fn ask_serve_and_the_chat_share_one_fall_through_and_one_calls_log() {
    let dir = tempfile::tempdir().unwrap();
    // The CLI and the chat stream; the server's client here does not.
    let upstream = rate_limited_top(dir.path(), &[true, false, true]);
    let app = App::open(DataDir::at(dir.path()), Arc::new(Keychain::open()));
    let one_round = vec![
        ("top".to_owned(), "error".to_owned(), Some("rate_limited".to_owned())),
        ("mid".to_owned(), "stop".to_owned(), None),
    ];

    // 1. The CLI.
    let out = ok_json(&cn(dir.path(), &["ask", PROMPT, "--json"]));
    assert_eq!((out["tier"].as_str(), out["route"]["chosen"].as_str()), (Some("mid"), Some("top")), "{out}");
    assert_eq!(out["route"]["flagged"], true, "answered below the predicted tier: {out}");
    assert_eq!(out["calls"][0]["tier"], "top");
    assert!(out["calls"][0]["error"].as_str().unwrap().contains("Rate limit"), "{out}");
    assert_eq!(calls(&app), one_round, "the CLI's calls");

    // 2. The server, model `auto`.
    let (mut server, url) = serve(dir.path(), &[]);
    let (status, body) = post(&url, &json!({"model": "auto", "messages": [{"role": "user", "content": PROMPT}]}));
    let _ = server.kill();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["complexitynet"]["tier"], "mid", "{body}");
    assert_eq!(body["complexitynet"]["attempts"][0]["tier"], "top", "{body}");
    assert!(body["choices"][0]["message"]["content"].as_str().unwrap().contains("def min_cost"));
    assert_eq!(calls(&app), [one_round.clone(), one_round.clone()].concat(), "the server's calls");

    // 3. The chat.
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let on_event =
        move |e: complexitynet_core::ask::AskEvent| seen.lock().unwrap().push(serde_json::to_value(e).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let answer = rt.block_on(app.chat_send(None, PROMPT, None, &on_event)).unwrap();
    assert_eq!(answer.tier.as_deref(), Some("mid"));
    let kinds: Vec<String> = events.lock().unwrap().iter().map(|e| e["event"].as_str().unwrap().to_owned()).collect();
    let first_routed = kinds.iter().position(|k| k == "routed").unwrap();
    let fell = kinds.iter().position(|k| k == "fell_through").unwrap();
    assert!(first_routed < fell && kinds[fell + 1..].contains(&"routed".to_owned()), "{kinds:?}");
    assert_eq!(calls(&app), [one_round.clone(), one_round.clone(), one_round].concat(), "the chat's calls");
    assert_eq!(upstream.requests().len(), 6, "one refused call to top and one answer from mid, three times");
}

#[test]
fn the_server_answers_out_of_range_fields_with_a_400_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let _upstream = rate_limited_top(dir.path(), &[]);
    let (mut server, url) = serve(dir.path(), &[]);
    let msg = json!([{"role": "user", "content": "hi"}]);
    let cases = [
        (json!({"model": "mid", "messages": msg, "max_tokens": -5}), "max_tokens"),
        (json!({"model": "mid", "messages": msg, "max_tokens": 0}), "max_tokens"),
        (json!({"model": "mid", "messages": msg, "max_completion_tokens": 1.5}), "max_completion_tokens"),
        (json!({"model": "mid", "messages": msg, "temperature": 2.5}), "temperature"),
        (json!({"model": "mid", "messages": msg, "temperature": -0.1}), "temperature"),
        (json!({"model": "mid", "messages": msg, "top_p": 0}), "top_p"),
        (json!({"model": "mid", "messages": msg, "n": 2}), "n"),
        (json!({"model": "mid", "messages": msg, "stream": "yes"}), "stream"),
        (json!({"model": 7, "messages": msg}), "model"),
        (json!({"model": "mid", "messages": [{"role": "robot", "content": "x"}]}), "messages"),
    ];
    for (body, field) in cases {
        let (status, err) = post(&url, &body);
        assert_eq!(status, 400, "{body} → {err}");
        assert_eq!(err["error"]["param"], field, "{err}");
        assert_eq!(err["error"]["type"], "invalid_request_error", "{err}");
        assert!(err["error"]["message"].as_str().unwrap().contains(field), "{err}");
    }
    let _ = server.kill();
}

#[test]
fn a_closed_stdout_ends_a_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    ok_json(&cn(dir.path(), &["dataset", "import", mbpp().to_str().unwrap(), "--name", "mbpp", "--json"]));
    let recorded = complexitynet_engine::testing::shared_data().join("recorded/complexitynet-mbpp-outputs.jsonl");
    let tiers = "replay:codellama-7b-python,replay:gpt-3.5-turbo-1106,replay:gpt-4-1106-preview";
    let run =
        ["label", "run", "--dataset", "mbpp", "--name", "few", "--trials", "1", "--rule", "single3", "--limit", "5"];
    ok_json(&cn(
        dir.path(),
        &[&run[..], &["--tiers", tiers, "--replay", recorded.to_str().unwrap(), "--json"]].concat(),
    ));
    let quiet = |args: &[&str], read_first_line: bool| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_complexitynet"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        if read_first_line {
            let mut first = String::new();
            out.read_line(&mut first).unwrap();
        }
        drop(out); // the reader goes away, as `| head` does
        let done = child.wait_with_output().unwrap();
        let err = stderr(&done);
        assert!(done.status.success(), "{args:?}: {:?} {err}", done.status);
        assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{args:?} must end quietly: {err}");
    };
    // The reader is gone before the command writes anything.
    quiet(&["label", "status", "few", "--json"], false);
    quiet(&["label", "status", "few"], false);
    // Far more than a pipe holds: the command is mid-write when the reader leaves after one line.
    quiet(&["dataset", "show", "mbpp", "--limit", "1000", "--json"], true);
    quiet(&["dataset", "show", "mbpp", "--limit", "1000"], true);
}
