//! The three front ends over one application core: the same prompt through `complexitynet ask`, the local
//! server (`serve`, model `auto`) and the chat (the use case the Chat tab's command forwards to), with the
//! routed tier rate-limited. Each is answered by the next tier, and the calls log holds the same rows for
//! each. Also: the server's OpenAI-style 400s for out-of-range fields, and a closed stdout ending a command
//! quietly.

use super::{cn, mbpp, ok_json, stderr};
use complexitynet_core::App;
use complexitynet_engine::paths::DataDir;
use complexitynet_providers::keys::Keychain;
use complexitynet_providers::testing::{error_reply, openai_json, openai_sse, with_header, ChatServer, Reply};
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
        // A chat client that names itself, as aider does (the ledger groups by it).
        let r = reqwest::Client::new()
            .post(format!("{url}/chat/completions"))
            .header("user-agent", "aider/0.86.1")
            .json(body)
            .send()
            .await
            .unwrap();
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
    let answer = rt.block_on(app.chat_send(None, PROMPT, None, None, None, &on_event)).unwrap();
    assert_eq!(answer.tier.as_deref(), Some("mid"));
    let kinds: Vec<String> = events.lock().unwrap().iter().map(|e| e["event"].as_str().unwrap().to_owned()).collect();
    let first_routed = kinds.iter().position(|k| k == "routed").unwrap();
    let fell = kinds.iter().position(|k| k == "fell_through").unwrap();
    assert!(first_routed < fell && kinds[fell + 1..].contains(&"routed".to_owned()), "{kinds:?}");
    assert_eq!(calls(&app), [one_round.clone(), one_round.clone(), one_round].concat(), "the chat's calls");
    assert_eq!(upstream.requests().len(), 6, "one refused call to top and one answer from mid, three times");
}

/// A data dir whose three tiers are served, in request order, by a loopback server.
fn loopback_tiers(dir: &Path, replies: Vec<Reply>) -> ChatServer {
    let server = ChatServer::start(replies);
    let base = format!("{}/v1", server.url());
    ok_json(&cn(dir, &["providers", "set", "loop", "--kind", "openai", "--base-url", &base, "--json"]));
    for (t, m) in [("local", "local-model"), ("mid", "mid-model"), ("top", "top-model")] {
        ok_json(&cn(dir, &["tiers", "set", t, "--provider", "loop", "--model", m, "--json"]));
    }
    server
}

const WRONG: &str = "```python\ndef add(a, b):\n    return a - b\n```";
const RIGHT: &str = "```python\ndef add(a, b):\n    return a + b\n```";

#[test]
fn ask_serve_and_the_chat_take_the_verified_cascade_when_tests_are_present() {
    let dir = tempfile::tempdir().unwrap();
    // In request order: the CLI, the server twice, the capped request (local only), the chat.
    let (w, r) = (|| openai_json(WRONG, 20, 10), || openai_json(RIGHT, 20, 10));
    let replies = vec![w(), r(), w(), r(), w(), r(), w(), w(), r()];
    let upstream = loopback_tiers(dir.path(), replies);
    let app = App::open(DataDir::at(dir.path()), Arc::new(Keychain::open()));
    let steps = |v: &Value| -> Vec<(String, bool)> {
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["tier"].as_str().unwrap().into(), s["passed"] == true))
            .collect()
    };
    let climbed = vec![("local".to_owned(), false), ("mid".to_owned(), true)];

    // 1. The CLI: the prompt's own assert.
    let out = ok_json(&cn(dir.path(), &["ask", "Write add(a, b).\nassert add(1, 2) == 3", "--json"]));
    assert_eq!(steps(&out["verification"]), climbed, "{out}");
    assert_eq!(out["tier"], "mid");

    // 2. The server: tests in the request's `complexitynet` object, streamed and not; the headers and the
    // first chunk name the tier whose answer passed.
    let (mut server, url) = serve(dir.path(), &[]);
    let body = json!({"model": "auto", "messages": [{"role": "user", "content": "Write add(a, b)."}],
        "complexitynet": {"tests": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]}});
    let (status, r) = post(&url, &body);
    assert_eq!(status, 200, "{r}");
    let info = &r["complexitynet"];
    assert_eq!((info["tier"].as_str(), info["verification"]["passed"].as_bool()), (Some("mid"), Some(true)), "{r}");
    assert_eq!(steps(&info["verification"]), climbed);
    assert_eq!(info["verification"]["tests"], 2);
    assert!(r["choices"][0]["message"]["content"].as_str().unwrap().contains("a + b"));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (tier_header, text) = rt.block_on(async {
        let mut b = body.clone();
        b["stream"] = json!(true);
        let resp = reqwest::Client::new().post(format!("{url}/chat/completions")).json(&b).send().await.unwrap();
        let h = resp.headers()["x-complexitynet-tier"].to_str().unwrap().to_owned();
        (h, resp.text().await.unwrap())
    });
    assert_eq!(tier_header, "mid");
    assert!(
        text.contains("a + b") && text.contains("\"verification\"") && text.ends_with("data: [DONE]\n\n"),
        "{text}"
    );
    // Capped at the local tier: the failing answer comes back marked, claiming no savings.
    let capped = json!({"model": "auto", "messages": [{"role": "user", "content": "Write add(a, b).\nassert add(1, 2) == 3"}],
        "complexitynet": {"max_tier": "local"}});
    let (status, r) = post(&url, &capped);
    let _ = server.kill();
    assert_eq!(status, 200, "{r}");
    let info = &r["complexitynet"];
    assert_eq!((info["tier"].as_str(), info["verification"]["passed"].as_bool()), (Some("local"), Some(false)), "{r}");
    assert_eq!(info["saved_usd"], 0.0);

    // 3. The chat: the steps are stored with the answer, and whether it passed.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let answer =
        rt.block_on(app.chat_send(None, "Write add(a, b).\nassert add(1, 2) == 3", None, None, None, &|_| {})).unwrap();
    assert_eq!((answer.tier.as_deref(), answer.verified), (Some("mid"), Some(true)));
    assert_eq!(answer.route.as_ref().unwrap().verification.as_ref().unwrap().steps.len(), 2);
    // Every step of every front end is in the one calls log; the skipped replies were never asked for.
    assert_eq!(app.calls().unwrap().len(), 2 + 2 + 2 + 1 + 2);
    assert_eq!(upstream.requests().len(), 9);
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
        (json!({"model": "mid", "messages": [{"role": "robot", "content": "x"}]}), "messages[0].role"),
        (json!({"model": "mid", "messages": msg, "complexitynet": []}), "complexitynet"),
        (json!({"model": "mid", "messages": msg, "complexitynet": {"test": ["assert f() == 1"]}}), "complexitynet"),
        (
            json!({"model": "mid", "messages": msg, "complexitynet": {"tests": "assert f() == 1"}}),
            "complexitynet.tests",
        ),
        (json!({"model": "mid", "messages": msg, "complexitynet": {"tests": []}}), "complexitynet.tests"),
        (json!({"model": "mid", "messages": msg, "complexitynet": {"tests": ["print(1)"]}}), "complexitynet.tests"),
        (json!({"model": "mid", "messages": msg, "complexitynet": {"tests": ["assert f(("]}}), "complexitynet.tests"),
        (json!({"model": "mid", "messages": msg, "complexitynet": {"max_tier": 2}}), "complexitynet.max_tier"),
        (json!({"model": "mid", "messages": msg, "complexitynet": {"verify": "no"}}), "complexitynet.verify"),
    ];
    for (body, field) in cases {
        let (status, err) = post(&url, &body);
        assert_eq!(status, 400, "{body} → {err}");
        assert_eq!(err["error"]["param"], field, "{err}");
        assert_eq!(err["error"]["type"], "invalid_request_error", "{err}");
        let last = field.rsplit('.').next().unwrap();
        assert!(err["error"]["message"].as_str().unwrap().contains(last), "{err}");
    }
    let _ = server.kill();
}

#[test]
fn a_closed_stdout_ends_a_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    ok_json(&cn(dir.path(), &["dataset", "import", mbpp().to_str().unwrap(), "--name", "mbpp", "--json"]));
    let recorded = complexitynet_verify::testing::shared_data().join("recorded/complexitynet-mbpp-outputs.jsonl");
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

/// One spend ledger: what `ask`, the server, the chat and a label run spend lands in the same table, with where
/// it came from; the chat's totals and the server's daily cap read it.
#[test]
fn ask_serve_the_chat_and_a_label_run_spend_into_one_ledger_that_totals_and_the_cap_read() {
    let dir = tempfile::tempdir().unwrap();
    // Each mid answer: 40 tokens in at $0.00015/1K + 12 out at $0.0006/1K (the default mid tier's prices). In request order: the CLI and the chat stream,
    // the server's client here and the label run do not.
    let sse = || Reply::Sse { body: openai_sse(&[ANSWER], Some((40, 12)), true), chunk: 64, stall_after: None };
    let replies: Vec<Reply> = vec![sse(), openai_json(ANSWER, 40, 12), sse()]
        .into_iter()
        .chain((0..5).map(|_| openai_json(ANSWER, 40, 12)))
        .collect();
    let _upstream = loopback_tiers(dir.path(), replies);
    ok_json(&cn(dir.path(), &["dataset", "import", mbpp().to_str().unwrap(), "--json"]));
    ok_json(&cn(dir.path(), &["ask", "--tier", "mid", PROMPT, "--json"]));
    let (mut server, url) = serve(dir.path(), &[]);
    let (status, body) = post(&url, &json!({"model": "mid", "messages": [{"role": "user", "content": PROMPT}]}));
    let _ = server.kill();
    assert_eq!(status, 200, "{body}");
    let app = App::open(DataDir::at(dir.path()), Arc::new(Keychain::open()));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(app.chat_send(None, PROMPT, Some("mid".into()), None, None, &|_| {})).unwrap();
    ok_json(&cn(
        dir.path(),
        &[
            "label",
            "run",
            "--dataset",
            "mbpp",
            "--tiers",
            "mid",
            "--trials",
            "1",
            "--limit",
            "2",
            "--name",
            "tiny",
            "--json",
        ],
    ));
    let sources: Vec<String> = app.calls().unwrap().into_iter().map(|c| c.source).collect();
    assert_eq!(sources, ["ask", "serve", "chat", "label", "label"], "every call, with where it came from");
    // By client: the server's caller by the name it gives itself (not only agents), the rest as no client.
    let by_client = ok_json(&cn(dir.path(), &["usage", "--by", "client", "--json"]));
    let rows: Vec<(&str, u64)> = by_client["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap(), r["calls"].as_u64().unwrap()))
        .collect();
    assert_eq!(rows, [("-", 4), ("aider", 1)], "{by_client}");
    let each = (40.0 * 0.00015 + 12.0 * 0.0006) / 1000.0;
    let totals = app.chat_totals().unwrap();
    assert!((totals.today.cost_usd - 5.0 * each).abs() < 1e-12, "the chat's totals are every source's: {totals:?}");
    assert!((app.spent_today().unwrap() - 5.0 * each).abs() < 1e-12);
    // The server's daily cap reads the same ledger: under 5 answers' worth is already reached.
    let (mut server, url) = serve(dir.path(), &["--daily-cap", &format!("{}", 4.0 * each)]);
    let (status, body) = post(&url, &json!({"model": "mid", "messages": [{"role": "user", "content": PROMPT}]}));
    let _ = server.kill();
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("spend_cap_reached")), "{body}");
}

/// "Calibrate my tiers" from the CLI: the cost first, then a stratified MBPP sample answered once per tier and
/// verified; what routing knows of each tier's model changes from its published figure to its own results, and
/// every call lands in the ledger as a label call.
#[test]
fn calibrating_the_tiers_replaces_a_published_rate_with_the_models_own_results() {
    let dir = tempfile::tempdir().unwrap();
    // The top tier's model answers each task with its reference solution (right, but for MBPP's documented broken
    // references), mid's with a wrong function: a calibration that counted no pass, or credited one tier's passes
    // to the other, is seen.
    let references: Vec<(String, String)> = std::fs::read_to_string(mbpp())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|t| (t["text"].as_str().unwrap().to_owned(), t["code"].as_str().unwrap().to_owned()))
        .collect();
    let upstream = ChatServer::answering(move |r| {
        let body = r.json();
        let prompt: Vec<&str> =
            body["messages"].as_array().into_iter().flatten().filter_map(|m| m["content"].as_str()).collect();
        let prompt = prompt.join("\n");
        let reference = references.iter().find(|(text, _)| prompt.contains(text.trim()));
        match (body["model"].as_str(), reference) {
            (Some("top-model"), Some((_, code))) => openai_json(&format!("```python\n{code}\n```"), 40, 12),
            _ => openai_json(WRONG, 40, 12),
        }
    });
    let base = format!("{}/v1", upstream.url());
    ok_json(&cn(dir.path(), &["providers", "set", "loop", "--kind", "openai", "--base-url", &base, "--json"]));
    for (t, m) in [("local", "local-model"), ("mid", "mid-model"), ("top", "top-model")] {
        ok_json(&cn(dir.path(), &["tiers", "set", t, "--provider", "loop", "--model", m, "--json"]));
    }
    ok_json(&cn(dir.path(), &["dataset", "import", mbpp().to_str().unwrap(), "--name", "mbpp", "--json"]));
    ok_json(&cn(dir.path(), &["tiers", "set", "mid", "--published", "mbpp:0.7", "--json"]));
    let known = |tier: &str| -> Value {
        let t = ok_json(&cn(dir.path(), &["tiers", "list", "--json"]));
        t["abilities"].as_array().unwrap().iter().find(|a| a["tier"] == tier).unwrap().clone()
    };
    assert_eq!(known("mid")["source"], "published");
    assert!((known("mid")["rate"].as_f64().unwrap() - 0.7).abs() < 0.02, "{}", known("mid"));
    let args = ["label", "calibrate", "--dataset", "mbpp", "--tiers", "mid,top", "--n", "12", "--json"];
    let dry = ok_json(&cn(dir.path(), &[&args[..], &["--dry-run"]].concat()));
    assert_eq!(dry["estimate"]["tasks"], 12);
    assert!(dry["tiers"].as_array().unwrap().is_empty());
    assert!(upstream.requests().is_empty(), "a dry run asks nothing");
    let c = ok_json(&cn(dir.path(), &args));
    assert_eq!(upstream.requests().len(), 24, "12 tasks, once per tier");
    let tiers = c["tiers"].as_array().unwrap();
    assert_eq!(tiers.len(), 2);
    let by = |name: &str| tiers.iter().find(|t| t["tier"] == name).unwrap().clone();
    let (mid_t, top_t) = (by("mid"), by("top"));
    assert_eq!((mid_t["passed"].as_u64(), mid_t["tasks"].as_u64()), (Some(0), Some(12)), "{mid_t}");
    assert!(mid_t["rate"].as_f64().unwrap() < 0.3, "no passes on tasks of every difficulty: {mid_t}");
    assert_eq!(top_t["tasks"].as_u64(), Some(12), "{top_t}");
    assert!(top_t["passed"].as_u64().unwrap() >= 10, "the references pass, credited to top: {top_t}");
    assert!(top_t["rate"].as_f64().unwrap() > 0.7, "{top_t}");
    // The sample as a small eval: each tier fixed, and the hull of them at the saved budget.
    assert_eq!(c["fixed"].as_array().unwrap().len(), 2, "{c}");
    assert!(c["hull_at_budget"].as_f64().unwrap() > 0.0, "top passes, so the hull does at any budget: {c}");
    let mid = known("mid");
    assert_eq!(mid["source"], "calibrated", "{mid}");
    assert!(mid["detail"].as_str().unwrap().contains("0 of 12"), "{mid}");
    assert!(mid["rate"].as_f64().unwrap() < 0.3);
    let top = known("top");
    assert_eq!(top["source"], "calibrated", "{top}");
    assert!(top["rate"].as_f64().unwrap() > 0.7, "{top}");
    let app = App::open(DataDir::at(dir.path()), Arc::new(Keychain::open()));
    let calls = app.calls().unwrap();
    assert_eq!(calls.len(), 24);
    assert!(calls.iter().all(|c| c.source == "label"));
}
