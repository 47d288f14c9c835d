//! The local server (`complexitynet serve`, and the Settings switch): three front doors translated to and from
//! the core's `ask` — OpenAI Chat Completions (`/v1/chat/completions`, tools included), Anthropic Messages
//! (`/v1/messages` and `/count_tokens`: Claude Code) and OpenAI Responses (`/v1/responses`: Codex). The wire
//! formats are the providers' (`complexitynet_core::types::formats`, shared with the tiers); this module is the
//! transport. Model `auto`, an unknown name or a client's own model name is routed (an agent's request per human
//! turn, climbing when its tool results show failure); a tier or a tier's model pins that tier. The chosen tier,
//! level and reason come back in `x-complexitynet-*` headers and a `complexitynet` field. A Chat Completions
//! request may carry a `complexitynet` object: `tests` (the verified cascade answers), `max_tier`, `verify`.
//! Errors are in each door's own shape with the matching status; a bad field is a 400 naming it. A client that
//! disconnects mid-stream cancels the generation, and what was spent is recorded.
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

use complexitynet_core::agent::AgentAsk;
use complexitynet_core::ask::{AskEvent, AskOutcome, AskRequest};
use complexitynet_core::routing::RouteOverrides;
use complexitynet_core::serving::{Gate, Refusal, ServerSettings};
use complexitynet_core::types::formats::{
    self as formats, anthropic_messages, new_id, openai_chat, responses, SseOut, StreamWriter, WireError,
};
use complexitynet_core::types::is_valid_python;
use complexitynet_core::types::CancellationToken;
use complexitynet_core::types::Decision;
use complexitynet_core::types::ErrorCode;
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
        .route("/v1/messages", post(messages_door))
        .route("/v1/messages/count_tokens", post(count_tokens))
        .route("/v1/responses", post(responses_door))
        .fallback(|req: Request| async move {
            Door::of_path(req.uri().path()).error(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "not_found",
                "no such endpoint",
                None,
            )
        })
        .layer(middleware::from_fn_with_state(served.clone(), guard))
        .with_state(served)
}

fn refusal(door: Door, r: &Refusal) -> Response {
    let (status, code) = match r {
        Refusal::Host(_) => (StatusCode::MISDIRECTED_REQUEST, "host_not_allowed"),
        Refusal::Origin(_) => (StatusCode::FORBIDDEN, "origin_not_allowed"),
        Refusal::MediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        Refusal::Key => (StatusCode::UNAUTHORIZED, "invalid_api_key"),
    };
    door.error(status, "invalid_request_error", code, &r.message(), None)
}

/// CORS for an allowed page: its origin echoed (never `*`), and on a preflight what it may send.
fn with_cors(mut resp: Response, origin: Option<&str>, preflight: bool) -> Response {
    let Some(o) = origin.and_then(|o| HeaderValue::from_str(o).ok()) else { return resp };
    let h = resp.headers_mut();
    h.insert("access-control-allow-origin", o);
    h.append("vary", HeaderValue::from_static("origin"));
    h.insert(
        "access-control-expose-headers",
        HeaderValue::from_static("x-complexitynet-tier, x-complexitynet-level, x-complexitynet-reason"),
    );
    if preflight {
        h.insert("access-control-allow-methods", HeaderValue::from_static("GET, POST, OPTIONS"));
        h.insert(
            "access-control-allow-headers",
            HeaderValue::from_static("authorization, content-type, x-api-key, anthropic-version, anthropic-beta"),
        );
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
    let door = Door::of_path(req.uri().path());
    let host = header("host").or_else(|| req.uri().authority().map(|a| a.to_string()));
    if let Err(r) = s.gate.host(host.as_deref()) {
        tracing::warn!(host = ?host, "refused: host");
        return refusal(door, &r);
    }
    let origin = match s.gate.origin(header("origin").as_deref()) {
        Ok(o) => o,
        Err(r) => {
            tracing::warn!(origin = ?header("origin"), "refused: origin");
            return refusal(door, &r);
        }
    };
    if req.method() == Method::OPTIONS && origin.is_some() {
        return with_cors(StatusCode::NO_CONTENT.into_response(), origin.as_deref(), true);
    }
    if req.method() == Method::POST {
        if let Err(r) = s.gate.content_type(header("content-type").as_deref()) {
            return with_cors(refusal(door, &r), origin.as_deref(), false);
        }
    }
    // The key as OpenAI's clients send it (`Authorization: Bearer`) or as Anthropic's do (`x-api-key`).
    let key = header("authorization").or_else(|| header("x-api-key").map(|k| format!("Bearer {k}")));
    if let Err(r) = s.gate.key(key.as_deref()) {
        return with_cors(refusal(door, &r), origin.as_deref(), false);
    }
    with_cors(next.run(req).await, origin.as_deref(), false)
}

/// `GET /v1/models`: `auto` and each tier, in the shape the client expects (Anthropic's clients send
/// `anthropic-version`).
async fn models(State(s): State<Arc<Served>>, hd: HeaderMap) -> Response {
    let door = if hd.contains_key("anthropic-version") { Door::Anthropic } else { Door::OpenAi };
    let tiers = match s.app.blocking(|a| a.tier_table()).await {
        Ok(t) => t.tiers,
        Err(e) => return app_error(door, &e),
    };
    let ids: Vec<(String, String)> = std::iter::once(("auto".to_owned(), "complexitynet".to_owned()))
        .chain(tiers.iter().map(|t| (t.name.clone(), t.provider.clone())))
        .collect();
    if door == Door::Anthropic {
        let data: Vec<Value> = ids
            .iter()
            .map(|(id, _)| json!({"type": "model", "id": id, "display_name": id, "created_at": "2025-01-01T00:00:00Z"}))
            .collect();
        let (first, last) = (ids.first().map(|i| i.0.clone()), ids.last().map(|i| i.0.clone()));
        return axum::Json(json!({"data": data, "has_more": false, "first_id": first, "last_id": last}))
            .into_response();
    }
    let data: Vec<Value> =
        ids.iter().map(|(id, owner)| json!({"id": id, "object": "model", "created": 0, "owned_by": owner})).collect();
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

/// Cancels its token when dropped: held by a response stream, so a client that goes away stops the model.
struct CancelOnDrop(CancellationToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// The front door a request came in by: each reads and writes its own wire format and error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Door {
    /// OpenAI Chat Completions (`/v1/chat/completions`).
    OpenAi,
    /// Anthropic Messages (`/v1/messages`): Claude Code.
    Anthropic,
    /// OpenAI Responses (`/v1/responses`): Codex.
    Responses,
}

impl Door {
    fn name(self) -> &'static str {
        match self {
            Door::OpenAi => "openai",
            Door::Anthropic => "anthropic",
            Door::Responses => "responses",
        }
    }

    fn of_path(path: &str) -> Door {
        if path.starts_with("/v1/messages") {
            Door::Anthropic
        } else if path.starts_with("/v1/responses") {
            Door::Responses
        } else {
            Door::OpenAi
        }
    }

    /// An error in this door's shape.
    fn error(self, status: StatusCode, kind: &str, code: &str, message: &str, param: Option<&str>) -> Response {
        let body = match self {
            Door::Anthropic => {
                // Anthropic's error types by status, as its API names them.
                let t = match status.as_u16() {
                    400 | 413 | 415 => "invalid_request_error",
                    401 => "authentication_error",
                    403 | 421 => "permission_error",
                    404 => "not_found_error",
                    429 => "rate_limit_error",
                    503 | 529 => "overloaded_error",
                    _ => "api_error",
                };
                let mut b = anthropic_messages::error_body(t, message);
                b["error"]["code"] = json!(code);
                if let Some(p) = param {
                    b["error"]["param"] = json!(p);
                }
                b
            }
            Door::OpenAi | Door::Responses => openai_chat::error_body(kind, code, message, param),
        };
        (status, [("content-type", "application/json")], body.to_string()).into_response()
    }
}

/// The client as it names itself: the first word of its user agent (`claude-cli`, `codex_exec`, `OpenAI`).
fn client_name(h: &HeaderMap) -> String {
    let ua = h.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("");
    let first = ua.split(['/', ' ']).next().unwrap_or("").trim();
    if first.is_empty() {
        "unknown".into()
    } else {
        first.chars().take(40).collect()
    }
}

/// The client's session id, where it sends one (Claude Code and Codex do, in a header).
fn session_of(h: &HeaderMap, v: &Value) -> Option<String> {
    ["x-claude-code-session-id", "session-id", "session_id", "x-session-id"]
        .iter()
        .find_map(|k| h.get(*k).and_then(|v| v.to_str().ok()).map(str::to_owned))
        .or_else(|| v["client_metadata"]["session_id"].as_str().map(str::to_owned))
}

/// A header-safe copy of a reason (ASCII, one line, bounded).
fn header_text(s: &str) -> HeaderValue {
    let t: String = s.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '?' }).take(300).collect();
    HeaderValue::from_str(&t).unwrap_or(HeaderValue::from_static("?"))
}

fn headers(tier: &str, route: Option<&Decision>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-complexitynet-tier", header_text(tier));
    if let Some(d) = route {
        h.insert("x-complexitynet-level", HeaderValue::from(d.level));
        h.insert("x-complexitynet-reason", header_text(&d.reason));
    }
    h
}

/// The `complexitynet` field: where the prompt went and what it cost.
fn info(tier: &str, model: &str, route: Option<&Decision>, outcome: Option<&AskOutcome>) -> Value {
    json!({"tier": tier, "model": model, "level": route.map(|d| d.level),
        "probabilities": route.map(|d| d.probabilities.clone()), "reason": route.map(|d| d.reason.clone()),
        "cost_usd": outcome.map(|o| o.cost_usd), "saved_usd": outcome.map(|o| o.saved_usd),
        "attempts": outcome.map(|o| o.attempts.clone()), "verification": outcome.map(|o| o.verification.clone())})
}

/// What the generation task reports to the response.
#[allow(clippy::large_enum_variant)] // one message at a time through a channel; matched by value below
enum Msg {
    Event(AskEvent),
    Done(Result<Box<AskOutcome>, AppError>),
}

/// The `complexitynet` object of a Chat Completions request: tests, the highest tier, whether to verify the
/// prompt's own tests.
fn parse_extension(v: &Value) -> Result<(Option<Checks>, Option<String>, bool), WireError> {
    let bad = |param: &str, message: String| WireError { param: param.to_owned(), message };
    let ext = match v.get("complexitynet") {
        None | Some(Value::Null) => return Ok((None, None, true)),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(bad("complexitynet", "complexitynet must be an object".into())),
    };
    if let Some(k) = ext.keys().find(|k| !["tests", "max_tier", "verify"].contains(&k.as_str())) {
        return Err(bad("complexitynet", format!("complexitynet.{k} is not a field (tests, max_tier, verify)")));
    }
    let tests = match ext.get("tests") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => {
            let mut asserts = Vec::new();
            for (i, t) in list.iter().enumerate() {
                match t.as_str().map(str::trim) {
                    Some(a) if a.starts_with("assert ") && is_valid_python(a) => asserts.push(a.to_owned()),
                    _ => {
                        return Err(bad(
                            "complexitynet.tests",
                            format!("complexitynet.tests[{i}] must be one Python assert statement, got {t}"),
                        ))
                    }
                }
            }
            if asserts.is_empty() {
                return Err(bad("complexitynet.tests", "complexitynet.tests must not be empty".into()));
            }
            Some(Checks::from_asserts(&asserts, CheckKind::User))
        }
        Some(x) => {
            return Err(bad("complexitynet.tests", format!("complexitynet.tests must be a list of strings, got {x}")))
        }
    };
    let max_tier = match ext.get("max_tier") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => Some(t.clone()),
        Some(x) => return Err(bad("complexitynet.max_tier", format!("max_tier must be a tier name, got {x}"))),
    };
    let verify = match ext.get("verify") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(x) => return Err(bad("complexitynet.verify", format!("verify must be true or false, got {x}"))),
    };
    Ok((tests, max_tier, verify))
}

async fn chat(State(s): State<Arc<Served>>, h: HeaderMap, body: Body) -> Response {
    front(s, Door::OpenAi, h, body).await
}

async fn messages_door(State(s): State<Arc<Served>>, h: HeaderMap, body: Body) -> Response {
    front(s, Door::Anthropic, h, body).await
}

async fn responses_door(State(s): State<Arc<Served>>, h: HeaderMap, body: Body) -> Response {
    front(s, Door::Responses, h, body).await
}

/// A front door's request body, read up to `MAX_BODY` and parsed as JSON, or the door's own error for it.
async fn json_body(door: Door, body: Body) -> Result<Value, Response> {
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        let m = format!("the request body is over {MAX_BODY} bytes");
        return Err(door.error(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request_error", "request_too_large", &m, None));
    };
    formats::parse_body(&bytes).map_err(|e| {
        let m = format!("invalid JSON body: {e}");
        door.error(StatusCode::BAD_REQUEST, "invalid_request_error", "invalid_json", &m, None)
    })
}

/// `POST /v1/messages/count_tokens`: counted by an Anthropic tier's own endpoint (the count is that model's
/// tokenizer's), or an error that says why there is none — never a made-up number.
async fn count_tokens(State(s): State<Arc<Served>>, body: Body) -> Response {
    let door = Door::Anthropic;
    let v = match json_body(door, body).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    if let Err(e) = anthropic_messages::parse_request(&json!({"max_tokens": 1, "messages": v["messages"].clone(),
        "system": v["system"].clone(), "tools": v["tools"].clone()}))
    {
        return door.error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_value",
            &e.message,
            Some(&e.param),
        );
    }
    match s.app.count_tokens(&v).await {
        Ok(n) => axum::Json(anthropic_messages::count_body(n)).into_response(),
        Err(e) => app_error(door, &e),
    }
}

fn app_error(door: Door, e: &AppError) -> Response {
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
    door.error(status, kind, &code, &e.message, None)
}

/// One front door: the request read in its format, asked through the core, the answer written in its format.
async fn front(s: Arc<Served>, door: Door, h: HeaderMap, body: Body) -> Response {
    let v = match json_body(door, body).await {
        Ok(v) => v,
        Err(refused) => return refused,
    };
    let parsed = match door {
        Door::OpenAi => openai_chat::parse_request(&v),
        Door::Anthropic => anthropic_messages::parse_request(&v),
        Door::Responses => responses::parse_request(&v),
    };
    let bad = |e: WireError| {
        let code = if e.param == "body" { "invalid_json" } else { "invalid_value" };
        let param = (e.param != "body").then_some(e.param.as_str());
        door.error(StatusCode::BAD_REQUEST, "invalid_request_error", code, &e.message, param)
    };
    let conv = match parsed {
        Ok(c) => c,
        Err(e) => return bad(e),
    };
    let (tests, max_tier, verify) = match door {
        Door::OpenAi => match parse_extension(&v) {
            Ok(x) => x,
            Err(e) => return bad(e),
        },
        _ => (None, None, true),
    };
    // An agent: a client of the agents' formats, or any request that carries tools or tool rounds.
    let tool_rounds =
        conv.messages.iter().any(|m| m.tool_calls().next().is_some() || m.tool_results().next().is_some());
    let agent = door != Door::OpenAi || !conv.tools.is_empty() || tool_rounds;
    // `auto`, an unknown name or a client's own model name routes; a tier or a tier's model pins that tier.
    let pinned = {
        let model = conv.model.clone();
        let pass = s.config.settings.pass_through;
        match s.app.blocking(move |a| a.pinned_tier(&model, pass)).await {
            Ok(p) => p,
            Err(e) => return app_error(door, &e),
        }
    };
    let routed = pinned.is_none();
    let stream = conv.stream;
    let (include_usage, named) = (conv.include_usage, conv.model.clone());
    let agent_ask = agent.then(|| {
        Box::new(AgentAsk {
            tools: conv.tools.clone(),
            tool_choice: conv.tool_choice.clone(),
            parallel_tool_calls: conv.parallel_tool_calls,
            front_door: door.name(),
            client: client_name(&h),
            session: session_of(&h, &v),
            model: conv.model.clone(),
            not_offered: conv.not_offered.clone(),
        })
    });
    let req = AskRequest {
        messages: conv.messages,
        tier: pinned,
        classify_named: false,
        fall_through: routed,
        params: conv.params,
        stream,
        route: RouteOverrides { max_tier, ..s.config.route.clone() },
        checks: tests,
        verify: verify && !agent,
        source: "serve",
        agent: agent_ask,
        client: Some(client_name(&h)),
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
        Err(e) => return app_error(door, &e),
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
    let mut tier = named.clone();
    let mut model = named.clone();
    let id = match door {
        Door::Anthropic => format!("msg_cn{}", new_id("")),
        Door::Responses => format!("resp_cn{}", new_id("")),
        Door::OpenAi => format!("chatcmpl-cn{}", new_id("")),
    };
    let created = now();
    let first_text;
    loop {
        match rx.recv().await {
            Some(Msg::Event(AskEvent::Routed { decision })) => {
                // After a verified cascade the decision names the tier whose answer is returned.
                (tier, model) = (decision.tier.clone(), decision.model.clone());
                route = Some(decision)
            }
            Some(Msg::Event(AskEvent::Started { tier: t, model: m, .. })) => (tier, model) = (t, m),
            Some(Msg::Event(AskEvent::Piece { text })) if stream => {
                first_text = Some(text);
                break;
            }
            Some(Msg::Event(_)) => {}
            Some(Msg::Done(Ok(o))) if !stream => {
                let extra = info(&o.tier.name, &o.tier.model, o.route.as_ref(), Some(&o));
                let body = match door {
                    Door::OpenAi => openai_chat::render(&id, created, &o.completion, Some(&extra)),
                    Door::Anthropic => anthropic_messages::render(&id, &o.completion, Some(&extra)),
                    Door::Responses => responses::render(&id, created, &o.completion, Some(&extra)),
                };
                return (headers(&o.tier.name, o.route.as_ref()), axum::Json(body)).into_response();
            }
            Some(Msg::Done(Ok(o))) => {
                // A stream that ended before any text (an answer that is only tool calls, say).
                let (tier, model) = (o.tier.name.clone(), o.tier.model.clone());
                let h = headers(&tier, o.route.as_ref());
                let w = writer(door, &id, created, &model, include_usage);
                return sse(h, w, info(&tier, &model, o.route.as_ref(), None), None, Some(*o), rx, guard);
            }
            Some(Msg::Done(Err(e))) => return app_error(door, &e),
            None => return app_error(door, &AppError::internal("the generation stopped without an answer")),
        }
    }
    let w = writer(door, &id, created, &model, include_usage);
    let head = info(&tier, &model, route.as_ref(), None);
    sse(headers(&tier, route.as_ref()), w, head, first_text, None, rx, guard)
}

fn writer(door: Door, id: &str, created: u64, model: &str, include_usage: bool) -> Box<dyn StreamWriter> {
    match door {
        Door::OpenAi => Box::new(openai_chat::Writer::new(id, created, model, include_usage)),
        Door::Anthropic => Box::new(anthropic_messages::Writer::new(id, model)),
        Door::Responses => Box::new(responses::Writer::new(id, created, model)),
    }
}

fn event(o: SseOut) -> Event {
    let e = Event::default().data(o.data);
    match o.event {
        Some(name) => e.event(name),
        None => e,
    }
}

/// The streamed response in the door's format: the head (with the routing), the text as it comes, the end
/// (tool calls, finish, usage and costs). The writer holds the door's state; the guard cancels the generation
/// when the client goes away.
fn sse(
    headers: HeaderMap,
    mut w: Box<dyn StreamWriter>,
    head_info: Value,
    first_text: Option<String>,
    done: Option<AskOutcome>,
    rx: tokio::sync::mpsc::UnboundedReceiver<Msg>,
    guard: CancelOnDrop,
) -> Response {
    let mut head = w.start(Some(&head_info));
    if let Some(t) = first_text {
        head.extend(w.text(&t));
    }
    let finished = done.is_some();
    if let Some(o) = &done {
        let extra = info(&o.tier.name, &o.tier.model, o.route.as_ref(), Some(o));
        head.extend(w.finish(&o.completion, Some(&extra)));
    }
    let head = stream::iter(head.into_iter().map(|o| Ok::<Event, Infallible>(event(o))));
    let rx = if finished { None } else { Some(rx) };
    let body = stream::unfold((rx, guard, w), move |(rx, guard, mut w)| async move {
        let mut rx = rx?;
        loop {
            match rx.recv().await {
                Some(Msg::Event(AskEvent::Piece { text })) => {
                    let out = w.text(&text);
                    return Some((out, (Some(rx), guard, w)));
                }
                Some(Msg::Event(_)) => continue,
                Some(Msg::Done(Ok(o))) => {
                    let extra = info(&o.tier.name, &o.tier.model, o.route.as_ref(), Some(&o));
                    let out = w.finish(&o.completion, Some(&extra));
                    return Some((out, (None, guard, w)));
                }
                Some(Msg::Done(Err(e))) => {
                    let out = w.error(&e.message);
                    return Some((out, (None, guard, w)));
                }
                None => return None,
            }
        }
    })
    .flat_map(|events| stream::iter(events.into_iter().map(|o| Ok::<Event, Infallible>(event(o)))));
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
