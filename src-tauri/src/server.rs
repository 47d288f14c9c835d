//! The local OpenAI-compatible server (`complexitynet serve`, and the Settings switch): the OpenAI wire format
//! translated to and from the core's `ask`. Model `auto` is routed (and falls through to the next tier like the
//! chat); a tier name calls that tier. The chosen tier and level come back in a `complexitynet` field and in
//! `x-complexitynet-*` headers. A request may carry a `complexitynet` object: `tests` (a list of `assert`
//! statements the answer must pass: the verified cascade answers, as it does for a prompt with its own asserts),
//! `max_tier` (the highest tier to use) and `verify` (false: ignore the prompt's own tests). Errors are
//! OpenAI-style JSON with the matching status; a bad field is a 400 naming it. A client that disconnects
//! mid-stream cancels the generation.
//!
//! Before any handler, every request passes the core's gate (`complexitynet_core::serving`): a `Host` that is
//! not loopback's on this port is 421 (DNS rebinding), an `Origin` not on the allow-list 403 (web pages), a body
//! that is not JSON 415 (cross-site "simple" requests), a wrong or missing key 401; allowed origins get CORS
//! headers and their preflights an answer. Over the daily spend cap, a request that needs a paid tier is 429.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use complexitynet_core::ask::{AskEvent, AskOutcome, AskRequest};
use complexitynet_core::routing::RouteOverrides;
use complexitynet_core::serving::{Gate, Refusal, ServerSettings};
use complexitynet_core::types::is_valid_python;
use complexitynet_core::types::Decision;
use complexitynet_core::types::ErrorCode;
use complexitynet_core::types::{CancellationToken, GenParams, Message, Role};
use complexitynet_core::types::{CheckKind, Checks};
use complexitynet_core::{App, AppError};

/// Requests larger than this are refused with 413 (a chat request is kilobytes).
pub const MAX_BODY: usize = 1 << 20;

/// How the server runs: who may call it and how `auto` routes.
#[derive(Clone, Default)]
pub struct ServerConfig {
    /// Require `Authorization: Bearer KEY`.
    pub api_key: Option<String>,
    /// Changes to the saved routing policy for this server.
    pub route: RouteOverrides,
    /// Allowed origins and hosts, the daily spend cap.
    pub settings: ServerSettings,
}

struct Served {
    app: Arc<App>,
    config: ServerConfig,
    gate: Gate,
}

fn error(status: StatusCode, kind: &str, code: &str, message: &str, param: Option<&str>) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": param, "code": code}});
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

/// A field of the request that cannot be used: its name and why.
struct BadField {
    param: &'static str,
    message: String,
}

fn bad_field(param: &'static str, message: String) -> BadField {
    BadField { param, message }
}

impl IntoResponse for BadField {
    fn into_response(self) -> Response {
        let code = if self.param == "body" { "invalid_json" } else { "invalid_value" };
        let param = (self.param != "body").then_some(self.param);
        error(StatusCode::BAD_REQUEST, "invalid_request_error", code, &self.message, param)
    }
}

fn app_error(e: &AppError) -> Response {
    use ErrorCode as C;
    let (status, kind) = match e.code {
        C::ProviderAuth => (StatusCode::BAD_GATEWAY, "upstream_auth_error"),
        C::ProviderRateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded"),
        C::ProviderBadRequest | C::ContextLength | C::InvalidArguments => {
            (StatusCode::BAD_REQUEST, "invalid_request_error")
        }
        C::ProviderTimeout => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
        C::ProviderNetwork | C::ProviderServer | C::ProviderQuota => (StatusCode::BAD_GATEWAY, "upstream_error"),
        C::NoTierAvailable => (StatusCode::SERVICE_UNAVAILABLE, "no_tier_available"),
        C::SpendCapReached => (StatusCode::TOO_MANY_REQUESTS, "insufficient_quota"),
        C::UnknownTier => (StatusCode::NOT_FOUND, "invalid_request_error"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
    };
    let code = serde_json::to_value(e.code).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    error(status, kind, &code, &e.message, None)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The server's routes behind its gate; `port` is the one it listens on (the `Host` check needs it).
pub fn router(app: Arc<App>, config: ServerConfig, port: u16) -> Router {
    let gate = Gate::new(port, &config.settings, config.api_key.as_deref());
    let served = Arc::new(Served { app, config, gate });
    Router::new()
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat))
        .fallback(|| async {
            error(StatusCode::NOT_FOUND, "invalid_request_error", "not_found", "no such endpoint", None)
        })
        .layer(middleware::from_fn_with_state(served.clone(), guard))
        .with_state(served)
}

fn refusal(r: &Refusal) -> Response {
    let (status, code) = match r {
        Refusal::Host(_) => (StatusCode::MISDIRECTED_REQUEST, "host_not_allowed"),
        Refusal::Origin(_) => (StatusCode::FORBIDDEN, "origin_not_allowed"),
        Refusal::MediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        Refusal::Key => (StatusCode::UNAUTHORIZED, "invalid_api_key"),
    };
    error(status, "invalid_request_error", code, &r.message(), None)
}

/// CORS for an allowed page: its origin echoed (never `*`), and on a preflight what it may send.
fn with_cors(mut resp: Response, origin: Option<&str>, preflight: bool) -> Response {
    let Some(o) = origin.and_then(|o| HeaderValue::from_str(o).ok()) else { return resp };
    let h = resp.headers_mut();
    h.insert("access-control-allow-origin", o);
    h.append("vary", HeaderValue::from_static("origin"));
    h.insert("access-control-expose-headers", HeaderValue::from_static("x-complexitynet-tier, x-complexitynet-level"));
    if preflight {
        h.insert("access-control-allow-methods", HeaderValue::from_static("GET, POST, OPTIONS"));
        h.insert("access-control-allow-headers", HeaderValue::from_static("authorization, content-type"));
        h.insert("access-control-max-age", HeaderValue::from_static("600"));
    }
    resp
}

/// The gate, in order: the host the request was addressed to, the page it came from, then (past a preflight)
/// a JSON body and the key.
async fn guard(State(s): State<Arc<Served>>, req: Request, next: Next) -> Response {
    // Owned copies: the request (its body is not Sync) must not be borrowed across the await below.
    let h = req.headers().clone();
    let header = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let host = header("host").or_else(|| req.uri().authority().map(|a| a.to_string()));
    if let Err(r) = s.gate.host(host.as_deref()) {
        tracing::warn!(host = ?host, "refused: host");
        return refusal(&r);
    }
    let origin = match s.gate.origin(header("origin").as_deref()) {
        Ok(o) => o,
        Err(r) => {
            tracing::warn!(origin = ?header("origin"), "refused: origin");
            return refusal(&r);
        }
    };
    if req.method() == Method::OPTIONS && origin.is_some() {
        return with_cors(StatusCode::NO_CONTENT.into_response(), origin.as_deref(), true);
    }
    if req.method() == Method::POST {
        if let Err(r) = s.gate.content_type(header("content-type").as_deref()) {
            return with_cors(refusal(&r), origin.as_deref(), false);
        }
    }
    if let Err(r) = s.gate.key(header("authorization").as_deref()) {
        return with_cors(refusal(&r), origin.as_deref(), false);
    }
    with_cors(next.run(req).await, origin.as_deref(), false)
}

async fn models(State(s): State<Arc<Served>>) -> Response {
    let tiers = match s.app.blocking(|a| a.tier_table()).await {
        Ok(t) => t.tiers,
        Err(e) => return app_error(&e),
    };
    let mut data = vec![json!({"id": "auto", "object": "model", "created": 0, "owned_by": "complexitynet"})];
    data.extend(tiers.iter().map(|t| json!({"id": t.name, "object": "model", "created": 0, "owned_by": t.provider})));
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

/// The request's fields, checked; a bad one is a 400 that names it.
struct Parsed {
    model: String,
    messages: Vec<Message>,
    params: GenParams,
    stream: bool,
    /// From the `complexitynet` object.
    tests: Option<Checks>,
    max_tier: Option<String>,
    verify: bool,
}

/// The `complexitynet` object: tests, the highest tier, whether to verify the prompt's own tests.
fn parse_extension(v: &Value) -> Result<(Option<Checks>, Option<String>, bool), BadField> {
    let ext = match v.get("complexitynet") {
        None | Some(Value::Null) => return Ok((None, None, true)),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(bad_field("complexitynet", "complexitynet must be an object".into())),
    };
    if let Some(k) = ext.keys().find(|k| !["tests", "max_tier", "verify"].contains(&k.as_str())) {
        return Err(bad_field("complexitynet", format!("complexitynet.{k} is not a field (tests, max_tier, verify)")));
    }
    let tests = match ext.get("tests") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => {
            let mut asserts = Vec::new();
            for (i, t) in list.iter().enumerate() {
                match t.as_str().map(str::trim) {
                    Some(a) if a.starts_with("assert ") && is_valid_python(a) => asserts.push(a.to_owned()),
                    _ => {
                        return Err(bad_field(
                            "complexitynet.tests",
                            format!("complexitynet.tests[{i}] must be one Python assert statement, got {t}"),
                        ))
                    }
                }
            }
            if asserts.is_empty() {
                return Err(bad_field("complexitynet.tests", "complexitynet.tests must not be empty".into()));
            }
            Some(Checks::from_asserts(&asserts, CheckKind::User))
        }
        Some(x) => {
            return Err(bad_field(
                "complexitynet.tests",
                format!("complexitynet.tests must be a list of strings, got {x}"),
            ))
        }
    };
    let max_tier = match ext.get("max_tier") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => Some(t.clone()),
        Some(x) => return Err(bad_field("complexitynet.max_tier", format!("max_tier must be a tier name, got {x}"))),
    };
    let verify = match ext.get("verify") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(x) => return Err(bad_field("complexitynet.verify", format!("verify must be true or false, got {x}"))),
    };
    Ok((tests, max_tier, verify))
}

fn parse_messages(v: &Value) -> Result<Vec<Message>, BadField> {
    let bad = |m: String| bad_field("messages", m);
    let list =
        v.get("messages").and_then(Value::as_array).ok_or_else(|| bad("messages is required (a list)".into()))?;
    if list.is_empty() {
        return Err(bad("messages must not be empty".into()));
    }
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            let role = match m["role"].as_str() {
                Some("system") | Some("developer") => Role::System,
                Some("user") => Role::User,
                Some("assistant") => Role::Assistant,
                other => return Err(bad(format!("messages[{i}].role {other:?} is not system, user or assistant"))),
            };
            // Content as a string or as OpenAI's list of text parts.
            let content = match &m["content"] {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(""),
                _ => return Err(bad(format!("messages[{i}].content must be a string or a list of text parts"))),
            };
            Ok(Message { role, content })
        })
        .collect()
}

fn parse(v: &Value) -> Result<Parsed, BadField> {
    if !v.is_object() {
        return Err(bad_field("body", "the body must be a JSON object".into()));
    }
    let model = match v.get("model") {
        None | Some(Value::Null) => "auto".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(bad_field("model", "model must be a string".into())),
    };
    let messages = parse_messages(v)?;
    let stream = match v.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad_field("stream", "stream must be true or false".into())),
    };
    let mut params = GenParams { temperature: 0.2, max_tokens: 512, ..GenParams::default() };
    for field in ["max_tokens", "max_completion_tokens"] {
        match v.get(field) {
            None | Some(Value::Null) => {}
            Some(x) => match x.as_i64() {
                Some(n) if (1..=1_000_000).contains(&n) => params.max_tokens = n as u32,
                _ => return Err(bad_field(field, format!("{field} must be a positive integer, got {x}"))),
            },
        }
    }
    match v.get("temperature") {
        None | Some(Value::Null) => {}
        Some(x) => match x.as_f64() {
            Some(t) if (0.0..=2.0).contains(&t) => params.temperature = t as f32,
            _ => return Err(bad_field("temperature", format!("temperature must be a number from 0 to 2, got {x}"))),
        },
    }
    match v.get("top_p") {
        None | Some(Value::Null) => {}
        Some(x) => match x.as_f64() {
            Some(p) if p > 0.0 && p <= 1.0 => params.top_p = Some(p as f32),
            _ => return Err(bad_field("top_p", format!("top_p must be a number above 0 and at most 1, got {x}"))),
        },
    }
    match v.get("n") {
        None | Some(Value::Null) => {}
        Some(x) if x.as_i64() == Some(1) => {}
        Some(x) => return Err(bad_field("n", format!("only n = 1 is supported, got {x}"))),
    }
    match v.get("seed") {
        None | Some(Value::Null) => {}
        Some(x) => match x.as_u64() {
            Some(s) => params.seed = Some(s),
            None => return Err(bad_field("seed", format!("seed must be a non-negative integer, got {x}"))),
        },
    }
    match v.get("stop") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => params.stop = vec![s.clone()],
        Some(Value::Array(a)) if a.len() <= 4 && a.iter().all(Value::is_string) => {
            params.stop = a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()
        }
        Some(x) => return Err(bad_field("stop", format!("stop must be a string or up to 4 strings, got {x}"))),
    }
    let (tests, max_tier, verify) = parse_extension(v)?;
    Ok(Parsed { model, messages, params, stream, tests, max_tier, verify })
}

/// Cancels its token when dropped: held by a response stream, so a client that goes away stops the model.
struct CancelOnDrop(CancellationToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

fn finish(o: &AskOutcome) -> &'static str {
    match o.completion.finish_reason {
        complexitynet_core::types::FinishReason::Length => "length",
        _ => "stop",
    }
}

/// The `complexitynet` field: where the prompt went and what it cost.
fn info(tier: &str, model: &str, route: Option<&Decision>, outcome: Option<&AskOutcome>) -> Value {
    json!({"tier": tier, "model": model, "level": route.map(|d| d.level),
        "probabilities": route.map(|d| d.probabilities.clone()), "reason": route.map(|d| d.reason.clone()),
        "cost_usd": outcome.map(|o| o.cost_usd), "saved_usd": outcome.map(|o| o.saved_usd),
        "attempts": outcome.map(|o| o.attempts.clone()), "verification": outcome.map(|o| o.verification.clone())})
}

fn usage(o: &AskOutcome) -> Value {
    let u = o.completion.usage;
    json!({"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
        "total_tokens": u.prompt_tokens + u.completion_tokens})
}

fn headers(tier: &str, route: Option<&Decision>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-complexitynet-tier", HeaderValue::from_str(tier).unwrap_or(HeaderValue::from_static("?")));
    if let Some(d) = route {
        h.insert("x-complexitynet-level", HeaderValue::from(d.level));
    }
    h
}

/// What the generation task reports to the response.
#[allow(clippy::large_enum_variant)] // one message at a time through a channel; matched by value below
enum Msg {
    Event(AskEvent),
    Done(Result<Box<AskOutcome>, AppError>),
}

async fn chat(State(s): State<Arc<Served>>, body: Body) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        let m = format!("the request body is over {MAX_BODY} bytes");
        return error(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request_error", "request_too_large", &m, None);
    };
    let v: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            let m = format!("invalid JSON body: {e}");
            return error(StatusCode::BAD_REQUEST, "invalid_request_error", "invalid_json", &m, None);
        }
    };
    let p = match parse(&v) {
        Ok(p) => p,
        Err(bad) => return bad.into_response(),
    };
    let routed = p.model == "auto";
    if !routed {
        let known = s.app.blocking(|a| a.tier_table()).await.map(|t| t.tiers);
        match known {
            Ok(t) if t.iter().any(|t| t.name == p.model) => {}
            Ok(_) => {
                let m = format!("The model `{}` does not exist (use auto or a tier: see /v1/models)", p.model);
                return error(StatusCode::NOT_FOUND, "invalid_request_error", "model_not_found", &m, Some("model"));
            }
            Err(e) => return app_error(&e),
        }
    }
    let req = AskRequest {
        messages: p.messages,
        tier: (!routed).then(|| p.model.clone()),
        classify_named: false,
        fall_through: routed,
        params: p.params,
        stream: p.stream,
        route: RouteOverrides { max_tier: p.max_tier.clone(), ..s.config.route.clone() },
        checks: p.tests,
        verify: p.verify,
        source: "serve",
    };
    // The daily spend cap: over it, the request keeps to the free tiers or is a 429 that says why.
    let cap = s.config.settings.daily_cap;
    let req = match s
        .app
        .blocking(move |a| {
            let mut req = req;
            a.apply_server_cap(cap, &mut req)?;
            Ok(req)
        })
        .await
    {
        Ok(r) => r,
        Err(e) => return app_error(&e),
    };
    // The generation runs in its own task; its events come through a channel. The response waits for the
    // first piece of text (or the end), so the headers name the tier that actually answers, after any
    // fall-through, and a failure before any text is a proper error status.
    let cancel = CancellationToken::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    {
        let (app, cancel, tx) = (s.app.clone(), cancel.clone(), tx.clone());
        tokio::spawn(async move {
            let ev = tx.clone();
            let on_event = move |e: AskEvent| {
                let _ = ev.send(Msg::Event(e));
            };
            // Its calls land in the one ledger (source `serve`), which the daily cap reads.
            let r = app.ask(&req, &on_event, &cancel).await;
            let _ = tx.send(Msg::Done(r.map(Box::new)));
        });
    }
    drop(tx);
    let guard = CancelOnDrop(cancel);
    let mut route: Option<Decision> = None;
    let mut tier = p.model.clone();
    let mut model = p.model.clone();
    let first_text;
    loop {
        match rx.recv().await {
            Some(Msg::Event(AskEvent::Routed { decision })) => {
                // After a verified cascade the decision names the tier whose answer is returned.
                (tier, model) = (decision.tier.clone(), decision.model.clone());
                route = Some(decision)
            }
            Some(Msg::Event(AskEvent::Started { tier: t, model: m, .. })) => (tier, model) = (t, m),
            Some(Msg::Event(AskEvent::Piece { text })) if p.stream => {
                first_text = text;
                break;
            }
            Some(Msg::Event(_)) => {}
            Some(Msg::Done(Ok(o))) if !p.stream => {
                let body = json!({"id": format!("chatcmpl-cn{}", now()), "object": "chat.completion", "created": now(),
                    "model": o.completion.model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": o.completion.text},
                        "finish_reason": finish(&o)}],
                    "usage": usage(&o),
                    "complexitynet": info(&o.tier.name, &o.tier.model, o.route.as_ref(), Some(&o))});
                return (headers(&o.tier.name, o.route.as_ref()), axum::Json(body)).into_response();
            }
            Some(Msg::Done(Ok(o))) => {
                // A stream that ended before any text: the whole answer is the end chunk.
                let (h, tier, model) =
                    (headers(&o.tier.name, o.route.as_ref()), o.tier.name.clone(), o.tier.model.clone());
                return sse(h, &tier, &model, route, None, Some(*o), rx, guard);
            }
            Some(Msg::Done(Err(e))) => return app_error(&e),
            None => return app_error(&AppError::internal("the generation stopped without an answer")),
        }
    }
    sse(headers(&tier, route.as_ref()), &tier, &model, route, Some(first_text), None, rx, guard)
}

/// The streamed response: the head chunk (role and the routing), the text chunks, the end chunk with the
/// finish reason, usage and costs, then `[DONE]`.
#[allow(clippy::too_many_arguments)] // the response's parts, each used once
fn sse(
    headers: HeaderMap,
    tier: &str,
    model: &str,
    route: Option<Decision>,
    first_text: Option<String>,
    done: Option<AskOutcome>,
    rx: tokio::sync::mpsc::UnboundedReceiver<Msg>,
    guard: CancelOnDrop,
) -> Response {
    let id = format!("chatcmpl-cn{}", now());
    let created = now();
    let chunk = {
        let (id, model) = (id.clone(), model.to_owned());
        move |delta: Value, finish: Value, extra: Option<(Value, Value)>| {
            let mut v = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
            if let Some((usage, info)) = extra {
                v["usage"] = usage;
                v["complexitynet"] = info;
            }
            v.to_string()
        }
    };
    let mut head_chunk: Value =
        serde_json::from_str(&chunk(json!({"role": "assistant", "content": ""}), Value::Null, None))
            .expect("a chunk is JSON");
    head_chunk["complexitynet"] = info(tier, model, route.as_ref(), None);
    let end = |o: &AskOutcome, chunk: &dyn Fn(Value, Value, Option<(Value, Value)>) -> String| {
        let last = chunk(
            json!({}),
            json!(finish(o)),
            Some((usage(o), info(&o.tier.name, &o.tier.model, o.route.as_ref(), Some(o)))),
        );
        vec![Event::default().data(last), Event::default().data("[DONE]")]
    };
    let mut head = vec![Event::default().data(head_chunk.to_string())];
    if let Some(t) = first_text {
        head.push(Event::default().data(chunk(json!({"content": t}), Value::Null, None)));
    }
    let finished = done.is_some();
    if let Some(o) = &done {
        head.extend(end(o, &chunk));
    }
    let head = stream::iter(head.into_iter().map(Ok::<Event, Infallible>));
    let rx = if finished { None } else { Some(rx) };
    let body = stream::unfold((rx, guard, chunk), move |(rx, guard, chunk)| async move {
        let mut rx = rx?;
        loop {
            match rx.recv().await {
                Some(Msg::Event(AskEvent::Piece { text })) => {
                    let e = Event::default().data(chunk(json!({"content": text}), Value::Null, None));
                    return Some((vec![e], (Some(rx), guard, chunk)));
                }
                Some(Msg::Event(_)) => continue,
                Some(Msg::Done(Ok(o))) => {
                    let last = chunk(
                        json!({}),
                        json!(finish(&o)),
                        Some((usage(&o), info(&o.tier.name, &o.tier.model, o.route.as_ref(), Some(&o)))),
                    );
                    return Some((
                        vec![Event::default().data(last), Event::default().data("[DONE]")],
                        (None, guard, chunk),
                    ));
                }
                Some(Msg::Done(Err(e))) => {
                    // A failure mid-stream: OpenAI sends an error object as a data event.
                    let e = Event::default()
                        .data(json!({"error": {"message": e.message, "type": "upstream_error"}}).to_string());
                    return Some((vec![e, Event::default().data("[DONE]")], (None, guard, chunk)));
                }
                None => return None,
            }
        }
    })
    .flat_map(|events| stream::iter(events.into_iter().map(Ok::<Event, Infallible>)));
    (headers, Sse::new(head.chain(body)).keep_alive(KeepAlive::default())).into_response()
}

/// Serves on `listener` until `shutdown` completes. The classifier is loaded first, so a missing encoder fails
/// before the first request, not on it; the caller learns its id to say where it listens.
pub async fn run(
    app: Arc<App>,
    config: ServerConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), AppError> {
    let port = listener.local_addr().map_err(|e| AppError::internal(e.to_string()))?.port();
    axum::serve(listener, router(app, config, port))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| AppError::internal(format!("the server stopped: {e}")))
}

/// A server started from the window: how to stop it, where it listens, and its key for this start (in memory
/// only: shown in Settings to copy, never stored).
pub struct Running {
    pub stop: CancellationToken,
    pub url: String,
    pub key: Option<String>,
}

/// Binds 127.0.0.1:`port` (0: any free port) and serves in the background until `stop` is cancelled.
pub async fn start(app: Arc<App>, port: u16, config: ServerConfig) -> Result<Running, AppError> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| AppError::internal(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    let url = format!("http://{}/v1", listener.local_addr().map_err(|e| AppError::internal(e.to_string()))?);
    let (stop, key) = (CancellationToken::new(), config.api_key.clone());
    let stop_watch = stop.clone();
    tokio::spawn(async move {
        if let Err(e) = run(app, config, listener, async move { stop_watch.cancelled().await }).await {
            tracing::error!(error = %e, "the local server stopped");
        }
    });
    tracing::info!(%url, key = key.is_some(), "local OpenAI-compatible server started from the app");
    Ok(Running { stop, url, key })
}
