//! The local server's gate over loopback, with raw HTTP requests (so each header is exactly what a browser, a
//! rebinding page or a stray program would send): a web page's cross-site "simple" request, a rebinding `Host`,
//! a body that is not JSON, a wrong or missing key, the daily spend cap — each refused with its status and an
//! OpenAI-style body — while a program with the key, an allowed origin (CORS and its preflight) and the free
//! local tier over the cap still get answers. The key never reaches the data dir.

use super::{cn, files_under, ok_json};
use complexitynet_providers::testing::{openai_json, ChatServer};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const KEY: &str = "cn-gate-test-key-0123456789abcdef";

/// `complexitynet serve --port 0 EXTRA…`: the process, its port, and what it wrote on stderr before listening.
fn serve(dir: &Path, extra: &[&str]) -> (Child, u16, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_complexitynet"))
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--port", "0"])
        .args(extra)
        .env_remove("COMPLEXITYNET_DATA_DIR")
        .env_remove("COMPLEXITYNET_SERVE_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    if !line.starts_with("listening on http://127.0.0.1:") {
        let mut err = String::new();
        let _ = child.stderr.take().unwrap().read_to_string(&mut err);
        panic!("serve did not start: {line}{err}");
    }
    let port = line.split(':').nth(2).unwrap().split('/').next().unwrap().parse().unwrap();
    // The warning, if any, was written before the listening line; read what stderr holds without blocking on it.
    let mut err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let n = err.read(&mut buf).unwrap_or(0);
        let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
    });
    let warning = rx.recv_timeout(std::time::Duration::from_millis(500)).unwrap_or_default();
    (child, port, warning)
}

/// One raw HTTP/1.1 request; the status, the headers (lower-cased names) and the body as JSON (Null if none).
fn raw(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, Value) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, serde_json::from_str(body.trim()).unwrap_or(Value::Null))
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn chat_body(model: &str) -> String {
    json!({"model": model, "messages": [{"role": "user", "content": "Write a function that reverses a string."}]})
        .to_string()
}

/// A data dir whose three tiers are a loopback OpenAI-wire server: the local tier free (priced at nothing), mid
/// and top paid.
fn tiers(dir: &Path, replies: usize) -> ChatServer {
    let server = ChatServer::start((0..replies).map(|_| openai_json("def rev(s): return s[::-1]", 400, 100)).collect());
    let base = format!("{}/v1", server.url());
    ok_json(&cn(dir, &["providers", "set", "loop", "--kind", "openai", "--base-url", &base, "--json"]));
    for (t, m) in [("local", "free-model"), ("mid", "mid-model"), ("top", "top-model")] {
        ok_json(&cn(dir, &["tiers", "set", t, "--provider", "loop", "--model", m, "--json"]));
    }
    ok_json(&cn(dir, &["tiers", "set", "local", "--price-in", "0", "--price-out", "0", "--units", "0", "--json"]));
    ok_json(&cn(dir, &["tiers", "set", "mid", "--price-in", "0.002", "--price-out", "0.002", "--json"]));
    server
}

fn refused(r: &(u16, Vec<(String, String)>, Value), status: u16, code: &str) {
    assert_eq!(r.0, status, "{:?}", r.2);
    assert_eq!(r.2["error"]["code"], code, "{:?}", r.2);
    assert_eq!(r.2["error"]["type"], "invalid_request_error", "{:?}", r.2);
    assert!(r.2["error"]["message"].as_str().is_some_and(|m| m.len() > 20), "{:?}", r.2);
}

#[test]
fn web_pages_rebinding_hosts_non_json_bodies_and_wrong_keys_are_refused_before_any_tier_is_called() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = tiers(dir.path(), 8);
    let (mut server, port, warning) = serve(dir.path(), &[]);
    assert!(warning.contains("warning: no --api-key") && warning.contains("any program"), "{warning:?}");
    let json_ct = ("content-type", "application/json");

    // A page on another site, sending what a browser sends without a preflight: refused, no CORS header.
    let evil = raw(
        port,
        "POST",
        "/v1/chat/completions",
        &[("origin", "http://evil.example"), ("content-type", "text/plain")],
        &chat_body("mid"),
    );
    refused(&evil, 403, "origin_not_allowed");
    assert!(header(&evil.1, "access-control-allow-origin").is_none());
    // Its preflight, too.
    let pre = raw(
        port,
        "OPTIONS",
        "/v1/chat/completions",
        &[("origin", "http://evil.example"), ("access-control-request-method", "POST")],
        "",
    );
    refused(&pre, 403, "origin_not_allowed");
    // The same body from no page at all, as text/plain: not JSON, so no handler sees it.
    refused(
        &raw(port, "POST", "/v1/chat/completions", &[("content-type", "text/plain")], &chat_body("mid")),
        415,
        "unsupported_media_type",
    );
    refused(
        &raw(
            port,
            "POST",
            "/v1/chat/completions",
            &[("content-type", "application/x-www-form-urlencoded")],
            &chat_body("mid"),
        ),
        415,
        "unsupported_media_type",
    );
    // A rebinding page: its own name resolves to 127.0.0.1, so it says that name.
    refused(&raw(port, "GET", "/v1/models", &[("host", &format!("evil.example:{port}"))], ""), 421, "host_not_allowed");
    refused(
        &raw(
            port,
            "POST",
            "/v1/chat/completions",
            &[("host", &format!("evil.example:{port}")), json_ct],
            &chat_body("mid"),
        ),
        421,
        "host_not_allowed",
    );
    refused(&raw(port, "GET", "/v1/models", &[("host", "127.0.0.1:1")], ""), 421, "host_not_allowed");
    assert!(upstream.requests().is_empty(), "no tier was called for any refused request");
    // A program on this machine (curl with JSON) still gets its answer, by each loopback name.
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")] {
        let ok = raw(port, "POST", "/v1/chat/completions", &[("host", &host), json_ct], &chat_body("mid"));
        assert_eq!(ok.0, 200, "{host}: {:?}", ok.2);
        assert_eq!(ok.2["complexitynet"]["tier"], "mid");
    }
    let _ = server.kill();

    // With a key: missing or wrong is 401; a page from an allowed origin gets CORS and its preflight an answer.
    let (mut server, port, warning) = serve(dir.path(), &["--api-key", KEY, "--allow-origin", "https://app.example"]);
    assert!(!warning.contains("warning"), "{warning}");
    let bearer = format!("Bearer {KEY}");
    refused(&raw(port, "GET", "/v1/models", &[], ""), 401, "invalid_api_key");
    refused(
        &raw(port, "GET", "/v1/models", &[("authorization", "Bearer cn-gate-test-key-0123456789abcdeX")], ""),
        401,
        "invalid_api_key",
    );
    refused(
        &raw(port, "POST", "/v1/chat/completions", &[("authorization", "Bearer nope"), json_ct], &chat_body("mid")),
        401,
        "invalid_api_key",
    );
    let ok = raw(port, "GET", "/v1/models", &[("authorization", &bearer)], "");
    assert_eq!(ok.0, 200);
    assert!(header(&ok.1, "access-control-allow-origin").is_none(), "no CORS for a request from no page");
    let pre = raw(
        port,
        "OPTIONS",
        "/v1/chat/completions",
        &[
            ("origin", "https://app.example"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "authorization, content-type"),
        ],
        "",
    );
    assert_eq!(pre.0, 204, "{:?}", pre);
    assert_eq!(header(&pre.1, "access-control-allow-origin"), Some("https://app.example"));
    assert!(header(&pre.1, "access-control-allow-headers").unwrap().contains("authorization"));
    let page = raw(
        port,
        "POST",
        "/v1/chat/completions",
        &[("origin", "https://app.example"), ("authorization", &bearer), json_ct],
        &chat_body("auto"),
    );
    assert_eq!(page.0, 200, "{:?}", page.2);
    assert_eq!(header(&page.1, "access-control-allow-origin"), Some("https://app.example"));
    assert!(header(&page.1, "access-control-expose-headers").unwrap().contains("x-complexitynet-tier"));
    let other = raw(
        port,
        "GET",
        "/v1/models",
        &[("origin", "https://app.example.evil.example"), ("authorization", &bearer)],
        "",
    );
    refused(&other, 403, "origin_not_allowed");
    let _ = server.kill();

    // The key reached no file of the data dir: not the database, not the logs.
    for f in files_under(dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(KEY), "the key is in {}", f.display());
    }
}

#[test]
fn over_the_daily_spend_cap_paid_tiers_get_a_429_and_the_free_local_tier_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = tiers(dir.path(), 6);
    // Each mid answer costs 500 tokens × $0.002/1K = $0.001; the cap is half of that.
    let (mut server, port, _) = serve(dir.path(), &["--daily-cap", "0.0005"]);
    let json_ct = ("content-type", "application/json");
    let first = raw(port, "POST", "/v1/chat/completions", &[json_ct], &chat_body("mid"));
    assert_eq!(first.0, 200, "under the cap: {:?}", first.2);
    let over = raw(port, "POST", "/v1/chat/completions", &[json_ct], &chat_body("mid"));
    assert_eq!(over.0, 429, "{:?}", over.2);
    assert_eq!(over.2["error"]["code"], "spend_cap_reached");
    assert_eq!(over.2["error"]["type"], "insufficient_quota");
    let why = over.2["error"]["message"].as_str().unwrap();
    assert!(
        why.contains("daily spend cap ($0.0005)") && why.contains("mid is a paid tier") && why.contains("midnight UTC"),
        "{why}"
    );
    // Routed: kept to the free local tier, answered.
    let routed = raw(port, "POST", "/v1/chat/completions", &[json_ct], &chat_body("auto"));
    assert_eq!(routed.0, 200, "{:?}", routed.2);
    assert_eq!(routed.2["complexitynet"]["tier"], "local");
    let local = raw(port, "POST", "/v1/chat/completions", &[json_ct], &chat_body("local"));
    assert_eq!((local.0, local.2["complexitynet"]["tier"].as_str()), (200, Some("local")));
    let _ = server.kill();
    assert_eq!(upstream.requests().len(), 3, "the refused request never reached a tier");
    // The spend survives a restart: the next server start is over the cap too.
    let (mut server, port, _) = serve(dir.path(), &["--daily-cap", "0.0005"]);
    assert_eq!(raw(port, "POST", "/v1/chat/completions", &[json_ct], &chat_body("top")).0, 429);
    let _ = server.kill();
    let bad = cn(dir.path(), &["serve", "--port", "0", "--daily-cap=-1", "--json"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stdout).contains("positive"), "{}", String::from_utf8_lossy(&bad.stdout));
}

#[test]
fn the_agents_front_doors_answer_in_their_own_shapes_count_tokens_honestly_and_fail_over_bad_tool_calls() {
    use complexitynet_providers::testing::{anthropic_json, Reply};
    let bad_call = json!({"id": "x", "object": "chat.completion", "model": "m-mid",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "Write", "arguments": "{not json"}}]}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5}});
    let anth_call = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-top",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "Write", "input": {"file_path": "/tmp/a"}}],
        "stop_reason": "tool_use", "usage": {"input_tokens": 10, "output_tokens": 5}});
    let json_reply = |v: &Value| Reply::Json { status: 200, headers: Vec::new(), body: v.to_string() };
    let upstream = ChatServer::start(vec![
        openai_json("Hello from mid.", 10, 3), // 2. a plain Messages request, mid pinned
        json_reply(&json!({"input_tokens": 321})), // 3. count_tokens, by the Anthropic tier
        json_reply(&bad_call),                 // 4. mid's call has broken arguments …
        json_reply(&anth_call),                //    … so top answers
        anthropic_json("unused", 1, 1),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = upstream.url();
    ok_json(&cn(d, &["providers", "set", "oa", "--kind", "openai", "--base-url", &format!("{base}/v1"), "--json"]));
    ok_json(&cn(d, &["providers", "set", "anth", "--kind", "anthropic", "--base-url", &base, "--json"]));
    ok_json(&cn(d, &["tiers", "set", "mid", "--provider", "oa", "--model", "m-mid", "--vision", "false", "--json"]));
    ok_json(&cn(
        d,
        &["tiers", "set", "top", "--provider", "anth", "--model", "claude-top", "--vision", "false", "--json"],
    ));
    let (mut server, port, _) = serve(d, &["--api-key", KEY]);
    let anth_key = [("content-type", "application/json"), ("x-api-key", KEY), ("anthropic-version", "2023-06-01")];

    // 1. A bad block is a 400 naming it, in Anthropic's error shape; the key works as x-api-key.
    let body =
        json!({"model": "mid", "max_tokens": 50, "messages": [{"role": "user", "content": [{"type": "video"}]}]});
    let (status, _, err) = raw(port, "POST", "/v1/messages", &anth_key, &body.to_string());
    assert_eq!(status, 400, "{err}");
    assert_eq!((err["type"].as_str(), err["error"]["type"].as_str()), (Some("error"), Some("invalid_request_error")));
    assert_eq!(err["error"]["param"], "messages[0].content[0].type", "{err}");
    let wrong = [("content-type", "application/json"), ("x-api-key", "nope")];
    let (status, _, err) = raw(port, "POST", "/v1/messages", &wrong, &body.to_string());
    assert_eq!((status, err["error"]["type"].as_str()), (401, Some("authentication_error")), "{err}");

    // 2. A plain request answered by the OpenAI-compatible tier, in Anthropic's shape, the reason in a header.
    let body = json!({"model": "mid", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]});
    let (status, h, msg) = raw(port, "POST", "/v1/messages", &anth_key, &body.to_string());
    assert_eq!(status, 200, "{msg}");
    assert_eq!((msg["type"].as_str(), msg["content"][0]["text"].as_str()), (Some("message"), Some("Hello from mid.")));
    assert_eq!(header(&h, "x-complexitynet-tier"), Some("mid"));
    assert!(header(&h, "x-complexitynet-reason").is_some_and(|r| r.contains("named by the client")), "{h:?}");

    // 3. count_tokens: the Anthropic tier's own count, never a made-up number.
    let (status, _, count) = raw(port, "POST", "/v1/messages/count_tokens", &anth_key, &body.to_string());
    assert_eq!((status, count["input_tokens"].as_u64()), (200, Some(321)), "{count}");
    let asked = upstream.requests();
    assert!(asked[1].head.contains("/v1/messages/count_tokens") && asked[1].json()["model"] == "claude-top");

    // 4. A tier whose tool call is not JSON fails over to the next tier (routed: auto).
    let tools = json!([{"name": "Write", "input_schema": {"type": "object"}}]);
    let body = json!({"model": "auto", "max_tokens": 50, "tools": tools,
        "messages": [{"role": "user", "content": "write /tmp/a"}]});
    let (status, h, msg) = raw(port, "POST", "/v1/messages", &anth_key, &body.to_string());
    assert_eq!(status, 200, "{msg}");
    assert_eq!(msg["content"][0]["name"], "Write", "{msg}");
    assert_eq!(header(&h, "x-complexitynet-tier"), Some("top"));
    let info = &msg["complexitynet"];
    assert!(info["attempts"][0]["error"].as_str().unwrap().contains("not a JSON object"), "{info}");

    // 5. Images go only to tiers that read them: none here, and the error says why per tier.
    let body = json!({"model": "auto", "max_tokens": 50, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]}]});
    let (status, _, err) = raw(port, "POST", "/v1/messages", &anth_key, &body.to_string());
    assert_eq!(status, 503, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("does not read images"), "{err}");

    // 6. Models in Anthropic's shape for Anthropic's clients, OpenAI's for the rest.
    let (_, _, list) = raw(port, "GET", "/v1/models", &anth_key, "");
    assert_eq!((list["data"][0]["type"].as_str(), list["has_more"].as_bool()), (Some("model"), Some(false)), "{list}");
    let bearer = format!("Bearer {KEY}");
    let (_, _, list) = raw(port, "GET", "/v1/models", &[("authorization", bearer.as_str())], "");
    assert_eq!(list["object"], "list", "{list}");

    // 7. Responses keeps nothing: a follow-up by id is a 400 that says to send the whole input.
    let oa = [("content-type", "application/json"), ("authorization", bearer.as_str())];
    let body = json!({"model": "auto", "input": "x", "previous_response_id": "resp_1"});
    let (status, _, err) = raw(port, "POST", "/v1/responses", &oa, &body.to_string());
    assert_eq!((status, err["error"]["param"].as_str()), (400, Some("previous_response_id")), "{err}");
    let _ = server.kill();

    // Without an Anthropic tier there is no honest count: an error that says so.
    ok_json(&cn(d, &["tiers", "set", "top", "--provider", "oa", "--model", "m-top", "--json"]));
    let (mut server, port, _) = serve(d, &["--api-key", KEY]);
    let body = json!({"model": "auto", "messages": [{"role": "user", "content": "hi"}]});
    let (status, _, err) = raw(port, "POST", "/v1/messages/count_tokens", &anth_key, &body.to_string());
    assert_eq!(status, 400, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("needs an Anthropic tier"), "{err}");
    let _ = server.kill();
}

/// The local tier takes an agent's tool request when its model's chat template declares tools (here SmolLM2's
/// weights under a template that does), through the OpenAI front door: the call comes back as a tool call, not
/// text; a model whose template declares none is skipped, with the reason, for a tier that calls tools.
#[test]
fn the_local_tier_calls_tools_when_its_template_declares_them_and_is_skipped_when_not() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let models = complexitynet_verify::testing::test_models();
    let smol = models.join("SmolLM2-135M-Instruct.Q4_1.gguf");
    let tools_gguf = d.join("smol-tools.gguf");
    complexitynet_verify::testing::gguf_with_chat_template(
        &smol,
        &tools_gguf,
        complexitynet_verify::testing::CHATML_WITH_TOOLS,
    );
    let upstream = tiers(d, 2);
    for (name, file) in [("smol", &smol), ("smol-tools", &tools_gguf)] {
        ok_json(&cn(d, &["models", "add", file.to_str().unwrap(), "--name", name, "--json"]));
    }
    ok_json(&cn(d, &["tiers", "set", "local", "--provider", "local", "--model", "smol-tools", "--json"]));
    let (mut server, port, _) = serve(d, &["--api-key", KEY]);
    let bearer = format!("Bearer {KEY}");
    let oa = [("content-type", "application/json"), ("authorization", bearer.as_str())];
    let tools = json!([{"type": "function", "function": {"name": "write_file", "description": "Write a file",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}}}}}]);
    let body = json!({"model": "local", "max_tokens": 160, "temperature": 0, "tools": tools, "tool_choice": "required",
        "messages": [{"role": "user", "content": "Write a function that adds two numbers to add.py."}]});
    let (status, h, out) = raw(port, "POST", "/v1/chat/completions", &oa, &body.to_string());
    assert_eq!(status, 200, "{out}");
    assert_eq!(header(&h, "x-complexitynet-tier"), Some("local"), "{h:?}");
    let choice = &out["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls", "{out}");
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "write_file", "{out}");
    let args: Value = serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert!(args.is_object(), "{args}");
    assert!(upstream.requests().is_empty(), "the local tier answered");
    let _ = server.kill();
    let _ = server.wait(); // its hold on the data dir ends with it

    // The same request routed, with a local model whose template declares no tools: it goes to a tier that can.
    ok_json(&cn(d, &["tiers", "set", "local", "--model", "smol", "--json"]));
    // (A map naming no tier is refused when it is saved, not first by the server.)
    let out = cn(d, &["route-policy", "--map", "0-2:0", "--json"]);
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success() && said.contains("tier 0 is not in 1..3"), "{said}");
    ok_json(&cn(d, &["route-policy", "--map", "0-2:1", "--json"])); // every level to the local tier
    let (mut server, port, _) = serve(d, &["--api-key", KEY]);
    let body = json!({"model": "auto", "max_tokens": 50, "tools": tools,
        "messages": [{"role": "user", "content": "Write a function that adds two numbers to add.py."}]});
    let (status, h, out) = raw(port, "POST", "/v1/chat/completions", &oa, &body.to_string());
    assert_eq!(status, 200, "{out}");
    assert_ne!(header(&h, "x-complexitynet-tier"), Some("local"), "{h:?}");
    let reason = header(&h, "x-complexitynet-reason").unwrap_or_default();
    assert!(reason.contains("smol's chat template declares no tool calls"), "{reason}");
    let _ = server.kill();
    let _ = server.wait(); // its hold on the data dir ends with it
}
