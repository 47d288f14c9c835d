//! The core's `ask` with the in-memory secret store and cloud tiers on a loopback server speaking the OpenAI
//! wire format: routing, the fall-through, what is recorded, and what is not retried elsewhere.

use std::sync::{Arc, Mutex};

use complexitynet_core::ask::{AskEvent, AskRequest};
use complexitynet_core::keys::{ProviderUpdate, TierFields};
use complexitynet_core::routing::RouteOverrides;
use complexitynet_core::App;
use complexitynet_engine::paths::DataDir;
use complexitynet_engine::tiers::ProviderKind;
use complexitynet_engine::ErrorCode;
use complexitynet_providers::keys::MemoryStore;
use complexitynet_providers::testing::{error_reply, openai_sse, with_header, ChatServer, Reply};
use complexitynet_providers::{CancellationToken, GenParams};
use complexitynet_router::{PolicyKind, RouteSettings};

const PROMPT: &str = "Write a function to find the longest common subsequence of two strings.";

fn sse(text: &str) -> Reply {
    Reply::Sse { body: openai_sse(&[text], Some((30, 8)), true), chunk: 32, stall_after: None }
}

fn rate_limited() -> Reply {
    with_header(error_reply(429, "rate_limit_exceeded", "Rate limit reached"), "retry-after", "3600")
}

/// An app whose mid and top tiers are served by `replies`; the local tier has no model; every level is sent to
/// the top tier (so a fall-through has somewhere to go: down to mid, flagged).
fn app(replies: Vec<Reply>) -> (tempfile::TempDir, App, ChatServer) {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(DataDir::at(dir.path()), Arc::new(MemoryStore::default()));
    let server = ChatServer::start(replies);
    let base = format!("{}/v1", server.url());
    let kind = Some(ProviderKind::Openai);
    app.set_provider("loop", &ProviderUpdate { kind, base_url: Some(base), ..Default::default() }).unwrap();
    for (t, m) in [("mid", "mid-model"), ("top", "top-model")] {
        let f = TierFields { provider: Some("loop".into()), model: Some(m.into()), ..Default::default() };
        app.set_tier(t, &f).unwrap();
    }
    let paper = RouteSettings { policy: PolicyKind::Paper, map: Some("0-2:3".into()), ..RouteSettings::default() };
    app.set_route_settings(&paper).unwrap();
    (dir, app, server)
}

fn events() -> (Arc<Mutex<Vec<AskEvent>>>, impl Fn(AskEvent) + Send + Sync) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    (seen, move |e| s.lock().unwrap().push(e))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn params() -> GenParams {
    GenParams { max_tokens: 64, ..GenParams::default() }
}

#[test]
fn a_routed_prompt_falls_through_a_rate_limited_tier_and_every_call_is_recorded() {
    let (_d, app, server) = app(vec![rate_limited(), sse("def lcs(a, b):\n    return 0")]);
    let (seen, on_event) = events();
    let out =
        rt().block_on(app.ask(&AskRequest::routed(PROMPT, params()), &on_event, &CancellationToken::new())).unwrap();
    assert_eq!(out.tier.name, "mid");
    let d = out.route.as_ref().unwrap();
    assert_eq!((d.chosen.as_str(), d.tier.as_str(), d.flagged), ("top", "mid", true), "{d:?}");
    assert!(d.reason.contains("top failed, so mid answers"), "{}", d.reason);
    assert_eq!(out.attempts.len(), 2);
    assert!(out.attempts[0].error.as_deref().unwrap().contains("Rate limit"), "{:?}", out.attempts);
    assert!(out.saved_usd > 0.0, "mid is cheaper than top for the same tokens");
    // The events: the decision before anything, the hand-over, the new decision, then the text.
    let kinds: Vec<&'static str> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|e| match e {
            AskEvent::Routed { .. } => "routed",
            AskEvent::Started { .. } => "started",
            AskEvent::Piece { .. } => "piece",
            AskEvent::FellThrough { .. } => "fell_through",
            AskEvent::Step { .. } => "step",
            AskEvent::Checks { .. } => "checks",
        })
        .collect();
    assert_eq!(&kinds[..5], ["routed", "started", "fell_through", "routed", "started"], "{kinds:?}");
    assert!(kinds[5..].iter().all(|k| *k == "piece") && kinds.len() > 5, "{kinds:?}");
    let calls = app.calls().unwrap();
    let rows: Vec<(&str, &str, Option<&str>)> =
        calls.iter().map(|c| (c.tier.as_str(), c.finish_reason.as_str(), c.error_kind.as_deref())).collect();
    assert_eq!(rows, [("top", "error", Some("rate_limited")), ("mid", "stop", None)]);
    assert_eq!((calls[1].prompt_tokens, calls[1].completion_tokens), (30, 8));
    assert_eq!(server.requests().len(), 2, "no hour-long wait and no retry of the rate-limited tier");
}

#[test]
fn a_named_tier_is_not_handed_on_and_a_bad_request_is_never_handed_on() {
    let (_d, app, _s) = app(vec![rate_limited(), error_reply(400, "invalid_request_error", "bad parameter")]);
    let named = AskRequest::to_tier("top", vec![complexitynet_providers::Message::user(PROMPT)], params());
    let e = rt().block_on(app.ask(&named, &|_| {}, &CancellationToken::new())).unwrap_err();
    assert_eq!(e.code, ErrorCode::ProviderRateLimited, "{e:?}");
    // Routed, but the failure is the request's own: another tier would refuse it too.
    let e =
        rt().block_on(app.ask(&AskRequest::routed(PROMPT, params()), &|_| {}, &CancellationToken::new())).unwrap_err();
    assert_eq!(e.code, ErrorCode::ProviderBadRequest, "{e:?}");
    let kinds: Vec<Option<String>> = app.calls().unwrap().into_iter().map(|c| c.error_kind).collect();
    assert_eq!(kinds, [Some("rate_limited".into()), Some("bad_request".into())]);
}

#[test]
fn a_failure_after_text_has_streamed_is_reported_not_handed_on() {
    // The stream sends a piece, then the connection drops before the end: the user has seen part of an answer,
    // so another tier answering now would mix two answers.
    let cut = Reply::Sse { body: openai_sse(&["def lcs(a, b):"], None, false), chunk: 16, stall_after: None };
    let (_d, app, server) = app(vec![cut.clone(), cut.clone(), cut.clone(), cut, sse("unused")]);
    let (seen, on_event) = events();
    let r = rt().block_on(app.ask(&AskRequest::routed(PROMPT, params()), &on_event, &CancellationToken::new()));
    assert!(r.is_err(), "{r:?}");
    assert!(!seen.lock().unwrap().iter().any(|e| matches!(e, AskEvent::FellThrough { .. })), "no hand-over");
    assert!(server.requests().iter().all(|r| r.json()["model"] == "top-model"), "mid was never asked");
}

#[test]
fn when_no_tier_can_answer_ask_says_so_with_each_fix() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(DataDir::at(dir.path()), Arc::new(MemoryStore::default()));
    let e =
        rt().block_on(app.ask(&AskRequest::routed(PROMPT, params()), &|_| {}, &CancellationToken::new())).unwrap_err();
    assert_eq!(e.code, ErrorCode::NoTierAvailable);
    assert!(e.message.contains("complexitynet keys set openai") && e.message.contains("models download"), "{e}");
    // The decision itself is still made (what `route` shows).
    let d = rt().block_on(app.decide(PROMPT, &RouteOverrides::default(), &[])).unwrap();
    assert!(!d.available && d.tiers.iter().all(|t| !t.available), "{d:?}");
    assert!(app.calls().unwrap().is_empty(), "nothing was called");
}

/// An app whose three tiers are all served, in order of the requests, by `replies` (the local tier too, so each
/// step of the cascade is a loopback answer).
fn three_tier_app(replies: Vec<Reply>) -> (tempfile::TempDir, App, ChatServer) {
    let (dir, app, server) = app(replies);
    let f = TierFields { provider: Some("loop".into()), model: Some("local-model".into()), ..Default::default() };
    app.set_tier("local", &f).unwrap();
    (dir, app, server)
}

const WITH_TESTS: &str = "Write add(a, b) that returns the sum.\nassert add(1, 2) == 3\nassert add(-1, 1) == 0";
const WRONG: &str = "```python\ndef add(a, b):\n    return a - b\n```";
const RIGHT: &str = "Here you go:\n```python\ndef add(a, b):\n    return a + b\n```";

#[test]
fn a_prompt_with_tests_climbs_the_verified_cascade_and_claims_savings_only_when_it_passes() {
    use complexitynet_providers::testing::openai_json;
    let (_d, app, server) = three_tier_app(vec![openai_json(WRONG, 20, 10), openai_json(RIGHT, 20, 12)]);
    let (seen, on_event) = events();
    let req = AskRequest::routed(WITH_TESTS, params());
    let out = rt().block_on(app.ask(&req, &on_event, &CancellationToken::new())).unwrap();
    // From the cheapest tier, though the router alone would send every level to the top.
    let v = out.verification.as_ref().expect("verified");
    assert!(v.passed && v.tests == 2, "{v:?}");
    let steps: Vec<(&str, bool)> = v.steps.iter().map(|s| (s.tier.as_str(), s.passed)).collect();
    assert_eq!(steps, [("local", false), ("mid", true)]);
    assert!(v.steps[0].verdict.contains("failed at assert"), "{:?}", v.steps[0]);
    assert_eq!(out.tier.name, "mid");
    assert!(out.completion.text.contains("a + b"));
    let d = out.route.as_ref().unwrap();
    assert!(
        d.reason.contains("2 checks (assert) from the prompt's examples: verified cascade local → mid → top"),
        "{}",
        d.reason
    );
    assert_eq!(d.tier, "mid", "the decision names the tier whose answer is returned");
    // Every attempt is paid; the savings are what top would have cost for the kept answer, minus all of it.
    let paid: f64 = v.steps.iter().map(|s| s.cost_usd).sum();
    assert!((out.cost_usd - paid).abs() < 1e-12);
    let top = app.tier_table().unwrap().tiers.last().unwrap().clone();
    let u = out.completion.usage;
    let always_top =
        (u.prompt_tokens as f64 * top.input_per_1k + u.completion_tokens as f64 * top.output_per_1k) / 1000.0;
    assert!(always_top > paid, "the test's prices must leave something saved");
    assert!((out.saved_usd - (always_top - paid)).abs() < 1e-12, "{} vs {}", out.saved_usd, always_top - paid);
    let kinds: Vec<&'static str> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|e| match e {
            AskEvent::Routed { .. } => "routed",
            AskEvent::Started { .. } => "started",
            AskEvent::Piece { .. } => "piece",
            AskEvent::FellThrough { .. } => "fell_through",
            AskEvent::Step { .. } => "step",
            AskEvent::Checks { .. } => "checks",
        })
        .collect();
    assert_eq!(kinds, ["routed", "checks", "started", "step", "started", "step", "routed", "piece"]);
    assert_eq!(server.requests().len(), 2, "the top tier was never asked");
    assert_eq!(app.calls().unwrap().len(), 2, "each step is in the calls log");

    // Capped at the local tier: its failing answer comes back marked, and claims nothing.
    let (_d, app, server) = three_tier_app(vec![openai_json(WRONG, 20, 10)]);
    let capped = AskRequest {
        route: RouteOverrides { max_tier: Some("local".into()), ..Default::default() },
        ..AskRequest::routed(WITH_TESTS, params())
    };
    let out = rt().block_on(app.ask(&capped, &|_| {}, &CancellationToken::new())).unwrap();
    let v = out.verification.unwrap();
    assert!(!v.passed && v.steps.len() == 1, "{v:?}");
    assert_eq!((out.tier.name.as_str(), out.saved_usd), ("local", 0.0));
    assert_eq!(server.requests().len(), 1);

    // Tests given with the request (the server's `complexitynet.tests`) verify a prompt that has none; with
    // verification off, the prompt's own asserts are just text and the router answers.
    let (_d, app, _s) = three_tier_app(vec![openai_json(RIGHT, 20, 10), sse(WRONG)]);
    let given = AskRequest {
        checks: Some(complexitynet_verify::checks::Checks::from_asserts(
            &["assert add(2, 2) == 4".to_owned()],
            complexitynet_verify::checks::CheckKind::User,
        )),
        ..AskRequest::routed("Write add(a, b).", params())
    };
    let out = rt().block_on(app.ask(&given, &|_| {}, &CancellationToken::new())).unwrap();
    assert!(out.verification.unwrap().passed);
    assert_eq!(out.tier.name, "local");
    let plain = AskRequest { verify: false, ..AskRequest::routed(WITH_TESTS, params()) };
    let out = rt().block_on(app.ask(&plain, &|_| {}, &CancellationToken::new())).unwrap();
    assert!(out.verification.is_none());
    assert_eq!(out.tier.name, "top", "the saved policy's choice, unverified");
}

#[test]
fn the_chat_records_whether_an_answer_passed_and_its_totals_count_only_kept_savings() {
    use complexitynet_providers::testing::openai_json;
    let (_d, app, _s) =
        three_tier_app(vec![openai_json(RIGHT, 20, 10), openai_json(WRONG, 20, 10), openai_json(WRONG, 20, 10)]);
    let (seen, on_event) = events();
    let ok = rt().block_on(app.chat_send(None, WITH_TESTS, None, None, None, &on_event)).unwrap();
    assert_eq!((ok.verified, ok.tier.as_deref()), (Some(true), Some("local")));
    assert!(seen.lock().unwrap().iter().any(|e| matches!(e, AskEvent::Step { passed: true, .. })));
    let route = ok.route.as_ref().unwrap();
    let steps = &route.verification.as_ref().expect("the cascade is stored with the answer").steps;
    assert_eq!(steps[0].tier, "local", "the steps are stored with the answer: {route:?}");
    // "Never the top tier in this chat": mid's wrong answer is the last; it is stored as failing.
    let bad = rt()
        .block_on(app.chat_send(Some(ok.conversation_id), WITH_TESTS, None, Some("mid".into()), None, &|_| {}))
        .unwrap();
    assert_eq!((bad.verified, bad.tier.as_deref(), bad.saved_usd), (Some(false), Some("mid"), 0.0));
    assert!(bad.cost_usd > 0.0, "both attempts are paid");
    let totals = app.chat_totals().unwrap();
    assert_eq!((totals.today.answers, totals.today.failing), (2, 1));
    assert!((totals.today.saved_usd - ok.saved_usd).abs() < 1e-12);
    assert!((totals.today.cost_usd - ok.cost_usd - bad.cost_usd).abs() < 1e-12);
    let md = app.export_conversation(ok.conversation_id, complexitynet_core::chat::ExportFormat::Markdown).unwrap();
    assert!(md.contains("passed its tests") && md.contains("FAILED its tests"), "{md}");
}

/// The router benchmark's key assertion, small (the full run: `cargo bench --bench router`, goal ≤ 3 ms at p50):
/// routing a prompt — the shipped classifier, the policy, the decision over the tiers — takes milliseconds, not
/// the tens a regression (an encoder pass per prompt, a store round trip per tier) would add. The bound is ten
/// times the goal, so a busy CI machine does not fail it; a regression of that size does.
#[test]
fn routing_a_prompt_takes_milliseconds_smoke_of_the_router_bench() {
    let (_dir, app, _server) = app(Vec::new());
    let prompts: Vec<String> = std::fs::read_to_string(complexitynet_verify::testing::shared_data().join("mbpp.jsonl"))
        .unwrap()
        .lines()
        .take(60)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["text"].as_str().unwrap().to_owned())
        .collect();
    let rt = rt();
    let route = RouteOverrides::default();
    rt.block_on(app.decide(&prompts[0], &route, &[])).unwrap(); // the classifier loads once
    let mut ms: Vec<f64> = prompts
        .iter()
        .map(|p| {
            let t = std::time::Instant::now();
            rt.block_on(app.decide(p, &route, &[])).unwrap();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    let p50 = ms[ms.len() / 2];
    assert!(p50 < 30.0, "routing a prompt took {p50:.1} ms at p50 (the bench's goal is 3 ms)");
}
