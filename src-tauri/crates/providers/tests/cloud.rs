//! Cloud tiers against an in-test HTTP server on 127.0.0.1 that speaks each wire format exactly: JSON and SSE
//! (events split across packets), error bodies, 429 with Retry-After, a stream that stalls, a connection reset.

use complexitynet_providers::anthropic::Anthropic;
use complexitynet_providers::http::CloudConfig;
use complexitynet_providers::keys::Secret;
use complexitynet_providers::openai::OpenAiCompatible;
use complexitynet_providers::retry::RetryPolicy;
use complexitynet_providers::testing::{
    anthropic_json, anthropic_sse, error_reply, openai_json, openai_sse, with_header, ChatServer, Reply,
};
use complexitynet_providers::{
    CancellationToken, Completion, ErrorKind, FinishReason, GenParams, Message, Price, Provider, ProviderError, Request,
};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const KEY: &str = "sk-test-0123456789abcdefWXYZ";

fn config(server: &ChatServer, base_path: &str) -> CloudConfig {
    let mut c = CloudConfig::new("mock", &format!("{}{base_path}", server.url()), Some(Secret::new(KEY)));
    c.stall_timeout = Duration::from_millis(400);
    c.request_timeout = Duration::from_secs(5);
    c.retry = RetryPolicy { attempts: 3, base: Duration::from_millis(20), ..RetryPolicy::default() };
    c
}

fn request(stream: bool) -> Request {
    Request {
        model: "test-model".into(),
        messages: vec![Message::system("Write code only."), Message::user("add two numbers")],
        params: GenParams { temperature: 0.5, max_tokens: 64, seed: Some(7), ..GenParams::default() },
        stream,
        price: Price { input_per_1k: 2.0, output_per_1k: 4.0 },
        ..Default::default()
    }
}

fn run(p: &dyn Provider, req: &Request) -> (Result<Completion, ProviderError>, Vec<String>) {
    let pieces = Mutex::new(Vec::new());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let cancel = CancellationToken::new();
    let out = rt.block_on(p.generate(req, &|t| pieces.lock().unwrap().push(t.to_owned()), &cancel));
    (out, pieces.into_inner().unwrap())
}

fn sse(body: String, chunk: usize) -> Reply {
    Reply::Sse { body, chunk, stall_after: None }
}

#[test]
fn openai_without_streaming_returns_text_usage_and_cost_and_sends_the_key_only_in_the_header() {
    let server = ChatServer::start(vec![openai_json("def add(a, b):\n    return a + b", 20, 10)]);
    let p = OpenAiCompatible::new(config(&server, "/v1"));
    let (out, pieces) = run(&p, &request(false));
    let c = out.unwrap();
    assert_eq!(c.text, "def add(a, b):\n    return a + b");
    assert_eq!((c.usage.prompt_tokens, c.usage.completion_tokens), (20, 10));
    assert!((c.cost_usd - (20.0 * 2.0 + 10.0 * 4.0) / 1000.0).abs() < 1e-12);
    assert_eq!((c.finish_reason, c.attempts, c.usage_estimated), (FinishReason::Stop, 1, false));
    assert_eq!(pieces, vec![c.text.clone()]);
    let r = &server.requests()[0];
    assert!(r.head.starts_with("POST /v1/chat/completions "), "{}", r.head);
    assert_eq!(r.header("authorization").as_deref(), Some(format!("Bearer {KEY}").as_str()));
    let body = r.json();
    assert_eq!(
        (body["model"].as_str(), body["max_tokens"].as_u64(), body["seed"].as_u64()),
        (Some("test-model"), Some(64), Some(7))
    );
    assert_eq!(body["messages"][0]["role"], "system");
    assert!(!r.body.contains(KEY), "the key must not travel in the body");
}

#[test]
fn openai_streaming_reassembles_events_split_across_packets() {
    // 5-byte TCP writes split every event, and the multi-byte characters, across packets.
    let server = ChatServer::start(vec![sse(openai_sse(&["def ", "añadir", "(a, b):", " ✓"], Some((12, 5)), true), 5)]);
    let p = OpenAiCompatible::new(config(&server, "/v1"));
    let (out, pieces) = run(&p, &request(true));
    let c = out.unwrap();
    assert_eq!(pieces, vec!["def ", "añadir", "(a, b):", " ✓"]);
    assert_eq!(c.text, "def añadir(a, b): ✓");
    assert_eq!((c.usage.prompt_tokens, c.usage.completion_tokens), (12, 5));
    assert_eq!(server.requests()[0].json()["stream_options"]["include_usage"], true);
}

#[test]
fn a_stream_without_usage_is_priced_from_an_estimate() {
    let server = ChatServer::start(vec![sse(openai_sse(&["x = 1"], None, true), 64)]);
    let (out, _) = run(&OpenAiCompatible::new(config(&server, "/v1")), &request(true));
    let c = out.unwrap();
    assert!(c.usage_estimated);
    assert!(c.usage.prompt_tokens > 0 && c.usage.completion_tokens > 0 && c.cost_usd > 0.0, "{c:?}");
}

#[test]
fn anthropic_without_and_with_streaming() {
    let server = ChatServer::start(vec![
        anthropic_json("def f(): pass", 30, 6),
        sse(anthropic_sse(&["def ", "f(): ", "pass"], 31, 7), 9),
    ]);
    let p = Anthropic::new(config(&server, ""));
    let (out, _) = run(&p, &request(false));
    let c = out.unwrap();
    assert_eq!((c.text.as_str(), c.usage.prompt_tokens, c.usage.completion_tokens), ("def f(): pass", 30, 6));
    let (out, pieces) = run(&p, &request(true));
    let c = out.unwrap();
    assert_eq!(pieces, vec!["def ", "f(): ", "pass"]);
    assert_eq!((c.usage.prompt_tokens, c.usage.completion_tokens, c.finish_reason), (31, 7, FinishReason::Stop));
    let r = &server.requests()[0];
    assert!(r.head.starts_with("POST /v1/messages "), "{}", r.head);
    assert_eq!(r.header("x-api-key").as_deref(), Some(KEY));
    assert_eq!(r.header("anthropic-version").as_deref(), Some("2023-06-01"));
    let body = r.json();
    assert_eq!(body["system"], "Write code only.", "system messages go in the top-level field");
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);
}

#[test]
fn a_429_with_retry_after_is_waited_for_then_retried() {
    let limited = with_header(error_reply(429, "rate_limit_exceeded", "Rate limit reached"), "Retry-After", "1");
    let server = ChatServer::start(vec![limited, openai_json("ok", 1, 1)]);
    let started = Instant::now();
    let (out, _) = run(&OpenAiCompatible::new(config(&server, "/v1")), &request(false));
    let c = out.unwrap();
    assert_eq!(c.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 must be honoured, took {:?}",
        started.elapsed()
    );
}

#[test]
fn server_errors_are_retried_with_backoff_and_then_reported() {
    let server = ChatServer::start(vec![
        error_reply(500, "server_error", "boom"),
        error_reply(503, "overloaded", "busy"),
        openai_json("ok", 1, 1),
    ]);
    let (out, _) = run(&OpenAiCompatible::new(config(&server, "/v1")), &request(false));
    assert_eq!(out.unwrap().attempts, 3);
    let server = ChatServer::start(vec![error_reply(500, "server_error", "boom"); 3]);
    let (out, _) = run(&OpenAiCompatible::new(config(&server, "/v1")), &request(false));
    let e = out.unwrap_err();
    assert_eq!((e.kind, e.attempts, e.status), (ErrorKind::Server, 3, Some(500)));
    assert!(e.message.contains("boom"), "{e}");
}

#[test]
fn auth_quota_and_context_errors_are_classified_and_not_retried() {
    for (reply, kind) in [
        (error_reply(401, "invalid_api_key", "Incorrect API key provided"), ErrorKind::Auth),
        (error_reply(429, "insufficient_quota", "You exceeded your current quota"), ErrorKind::Quota),
        (
            error_reply(400, "context_length_exceeded", "This model's maximum context length is 8192 tokens"),
            ErrorKind::ContextLength,
        ),
        (error_reply(404, "model_not_found", "The model does not exist"), ErrorKind::BadRequest),
    ] {
        let server = ChatServer::start(vec![reply]);
        let (out, _) = run(&OpenAiCompatible::new(config(&server, "/v1")), &request(false));
        let e = out.unwrap_err();
        assert_eq!((e.kind, e.attempts), (kind, 1), "{e}");
        assert_eq!(server.requests().len(), 1, "{kind:?} must not be retried");
        assert!(!e.to_string().contains(KEY), "errors must not carry the key: {e}");
    }
}

#[test]
fn a_connection_reset_is_retried() {
    let server = ChatServer::start(vec![Reply::Reset, openai_json("ok", 1, 1)]);
    let (out, _) = run(&OpenAiCompatible::new(config(&server, "/v1")), &request(false));
    assert_eq!(out.unwrap().attempts, 2);
}

#[test]
fn a_stream_that_stalls_times_out_and_is_retried_only_if_nothing_was_shown() {
    // Stalls before any text: retried, and the second attempt succeeds.
    let body = openai_sse(&["hello"], Some((1, 1)), true);
    let server = ChatServer::start(vec![
        Reply::Sse { body: body.clone(), chunk: 8, stall_after: Some(10) },
        sse(body.clone(), 16),
    ]);
    let (out, pieces) = run(&OpenAiCompatible::new(config(&server, "/v1")), &request(true));
    let c = out.unwrap();
    assert_eq!((c.attempts, pieces), (2, vec!["hello".to_owned()]));
    // Stalls after text was shown: a timeout error, no retry (it would repeat the text).
    let at = body.find("hello").unwrap();
    let shown = at + body[at..].find("\n\n").unwrap() + 2; // the whole event that carries "hello"
    let server =
        ChatServer::start(vec![Reply::Sse { body, chunk: 8, stall_after: Some(shown) }, openai_json("never", 1, 1)]);
    let (out, pieces) = run(&OpenAiCompatible::new(config(&server, "/v1")), &request(true));
    let e = out.unwrap_err();
    assert_eq!((e.kind, e.attempts), (ErrorKind::Timeout, 1), "{e}");
    assert_eq!(pieces, vec!["hello"]);
}

#[test]
fn a_stream_cut_before_its_final_event_is_an_error() {
    let server = ChatServer::start(vec![sse(openai_sse(&["partial"], None, false), 32)]);
    let (out, _) = run(&OpenAiCompatible::new(config(&server, "/v1")), &request(true));
    assert_eq!(out.unwrap_err().kind, ErrorKind::Network);
}

#[test]
fn an_anthropic_error_event_mid_stream_is_a_server_error() {
    let mut body = anthropic_sse(&["def "], 3, 1);
    let cut = body.find("event: content_block_stop").unwrap();
    body.truncate(cut);
    body.push_str("event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n");
    let server = ChatServer::start(vec![sse(body, 11)]);
    let (out, pieces) = run(&Anthropic::new(config(&server, "")), &request(true));
    let e = out.unwrap_err();
    assert_eq!((e.kind, e.attempts), (ErrorKind::Server, 1), "{e}");
    assert!(e.message.contains("Overloaded"));
    assert_eq!(pieces, vec!["def "]);
}

#[test]
fn cancelling_mid_stream_stops_and_keeps_the_partial_answer() {
    let body = openai_sse(&["one ", "two ", "three"], Some((1, 3)), true);
    let cut = body.find("two").unwrap();
    let server = ChatServer::start(vec![Reply::Sse { body, chunk: 4, stall_after: Some(cut) }]);
    let p = OpenAiCompatible::new(config(&server, "/v1"));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let cancel = CancellationToken::new();
    let req = request(true);
    let started = Instant::now();
    let c = rt
        .block_on(p.generate(
            &req,
            &|t| {
                if t == "one " {
                    cancel.cancel();
                }
            },
            &cancel,
        ))
        .unwrap();
    assert_eq!((c.finish_reason, c.text.as_str()), (FinishReason::Cancelled, "one "));
    assert!(started.elapsed() < Duration::from_millis(300), "cancel must not wait for the stall timeout");
}

#[test]
fn the_concurrency_limit_holds_under_parallel_requests() {
    let replies: Vec<Reply> =
        (0..6).map(|_| Reply::Delayed(Duration::from_millis(150), Box::new(openai_json("ok", 1, 1)))).collect();
    let server = ChatServer::start(replies);
    let mut cfg = config(&server, "/v1");
    cfg.concurrency = 2;
    let p = OpenAiCompatible::new(cfg);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let req = request(false);
    let cancel = CancellationToken::new();
    let results = rt.block_on(async {
        let futs = (0..6).map(|_| p.generate(&req, &|_| {}, &cancel));
        futures_util::future::join_all(futs).await
    });
    assert!(results.iter().all(|r| r.is_ok()));
    assert_eq!(server.max_in_flight(), 2, "at most 2 requests may be in flight to one provider");
}
