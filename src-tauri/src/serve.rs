//! `complexitynet serve`: an OpenAI-compatible endpoint on 127.0.0.1 that any editor or the official `openai`
//! client can use. Model `auto` is routed by the active classifier (the chosen tier and level come back in a
//! `complexitynet` field and in `x-complexitynet-*` headers); a tier name calls that tier directly. Errors are
//! OpenAI-style JSON with the matching 4xx/5xx status. A client that disconnects mid-stream cancels the
//! generation (the stream's drop cancels its token).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use complexitynet_classifier::artifact::Classifier;
use complexitynet_engine::keys::Keychain;
use complexitynet_engine::paths::DataDir;
use complexitynet_engine::route::Policy;
use complexitynet_engine::store::Store;
use complexitynet_engine::tiers::table::{self, CallRecord, TierRow};
use complexitynet_engine::tiers::{CancellationToken, ErrorKind, GenParams, Message, Provider, Request, Role};

use crate::cli_route::Decision;
use crate::error::AppError;

/// Requests larger than this are refused with 413 (a chat request is kilobytes).
pub const MAX_BODY: usize = 1 << 20;

pub struct ServeState {
    data_dir: DataDir,
    api_key: Option<String>,
    classifier: Arc<Classifier>,
    policy: Policy,
    store: Mutex<Store>,
    keychain: Keychain,
    /// Providers built on first use and kept (the local model stays loaded between requests).
    providers: Mutex<HashMap<String, Arc<dyn Provider>>>,
}

fn error(status: StatusCode, kind: &str, code: &str, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

fn app_error(e: &AppError) -> Response {
    use complexitynet_engine::ErrorCode as C;
    let (status, kind) = match e.code {
        C::ProviderAuth => (StatusCode::BAD_GATEWAY, "upstream_auth_error"),
        C::ProviderRateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded"),
        C::ProviderBadRequest | C::ContextLength | C::InvalidArguments => {
            (StatusCode::BAD_REQUEST, "invalid_request_error")
        }
        C::ProviderTimeout => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
        C::ProviderNetwork | C::ProviderServer | C::ProviderQuota => (StatusCode::BAD_GATEWAY, "upstream_error"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
    };
    let code = serde_json::to_value(e.code).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    error(status, kind, &code, &e.message)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub fn router(state: Arc<ServeState>) -> Router {
    Router::new()
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "invalid_request_error", "not_found", "no such endpoint") })
        .with_state(state)
}

fn authorized(state: &ServeState, headers: &HeaderMap) -> bool {
    match &state.api_key {
        None => true,
        Some(k) => headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|v| v == k),
    }
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.")
}

fn tiers(state: &ServeState) -> Result<Vec<TierRow>, AppError> {
    let store = state.store.lock().unwrap_or_else(|p| p.into_inner());
    table::tiers(&store).map_err(crate::cli_tiers::tier_err)
}

async fn models(State(state): State<Arc<ServeState>>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    let tiers = match tiers(&state) {
        Ok(t) => t,
        Err(e) => return app_error(&e),
    };
    let mut data = vec![json!({"id": "auto", "object": "model", "created": 0, "owned_by": "complexitynet"})];
    data.extend(tiers.iter().map(|t| json!({"id": t.name, "object": "model", "created": 0, "owned_by": t.provider})));
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

/// Cancels its token when dropped: held by a response stream, so a client that goes away stops the model.
struct CancelOnDrop(CancellationToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

fn provider_for(state: &ServeState, tier: &TierRow) -> Result<Arc<dyn Provider>, AppError> {
    if let Some(p) = state.providers.lock().unwrap_or_else(|p| p.into_inner()).get(&tier.name) {
        return Ok(p.clone());
    }
    let store = state.store.lock().unwrap_or_else(|p| p.into_inner());
    let prov = table::provider(&store, &tier.provider).map_err(crate::cli_tiers::tier_err)?;
    let p: Arc<dyn Provider> = Arc::from(crate::cli_tiers::build_provider(&store, tier, &prov, &state.keychain, None)?);
    state.providers.lock().unwrap_or_else(|p| p.into_inner()).insert(tier.name.clone(), p.clone());
    Ok(p)
}

fn parse_messages(v: &Value) -> Result<Vec<Message>, String> {
    let list = v["messages"].as_array().ok_or("messages is required")?;
    if list.is_empty() {
        return Err("messages must not be empty".into());
    }
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            let role = match m["role"].as_str() {
                Some("system") | Some("developer") => Role::System,
                Some("user") => Role::User,
                Some("assistant") => Role::Assistant,
                other => return Err(format!("messages[{i}].role {other:?} is not system, user or assistant")),
            };
            // Content as a string or as OpenAI's list of text parts.
            let content = match &m["content"] {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(""),
                _ => return Err(format!("messages[{i}].content must be a string")),
            };
            Ok(Message { role, content })
        })
        .collect()
}

async fn chat(State(state): State<Arc<ServeState>>, headers: HeaderMap, body: Body) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                "request_too_large",
                &format!("the request body is over {MAX_BODY} bytes"),
            )
        }
    };
    let v: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "invalid_json",
                &format!("invalid JSON body: {e}"),
            )
        }
    };
    let messages = match parse_messages(&v) {
        Ok(m) => m,
        Err(m) => return error(StatusCode::BAD_REQUEST, "invalid_request_error", "invalid_messages", &m),
    };
    let model = v["model"].as_str().unwrap_or("auto").to_owned();
    let stream = v["stream"].as_bool().unwrap_or(false);
    let all = match tiers(&state) {
        Ok(t) => t,
        Err(e) => return app_error(&e),
    };
    // The tier: routed for `auto`, else the named one.
    let (tier, decision): (TierRow, Option<Decision>) = if model == "auto" {
        let prompt =
            messages.iter().rev().find(|m| m.role == Role::User).map(|m| m.content.clone()).unwrap_or_default();
        let p = match state.classifier.classify(&prompt, &CancellationToken::new()).await {
            Ok(p) => p,
            Err(e) => return app_error(&crate::cli_classify::cls_err(e)),
        };
        let d = {
            let store = state.store.lock().unwrap_or_else(|p| p.into_inner());
            crate::cli_route::decide_from(&store, &state.classifier.meta, &state.policy, p, &state.keychain)
        };
        match d {
            Ok(d) => (all.iter().find(|t| t.name == d.tier).cloned().expect("decided among the tiers"), Some(d)),
            Err(e) => return app_error(&e),
        }
    } else {
        match all.iter().find(|t| t.name == model) {
            Some(t) => (t.clone(), None),
            None => {
                return error(
                    StatusCode::NOT_FOUND,
                    "invalid_request_error",
                    "model_not_found",
                    &format!("The model `{model}` does not exist (use auto or a tier: see /v1/models)"),
                )
            }
        }
    };
    let provider = match provider_for(&state, &tier) {
        Ok(p) => p,
        Err(e) => return app_error(&e),
    };
    let params = GenParams {
        temperature: v["temperature"].as_f64().unwrap_or(0.2) as f32,
        max_tokens: v["max_tokens"].as_u64().or(v["max_completion_tokens"].as_u64()).unwrap_or(512) as u32,
        ..GenParams::default()
    };
    let request = Request { model: tier.model.clone(), messages, params, stream, price: tier.price() };
    let top = all.last().cloned();
    let id = format!("chatcmpl-cn{}", now());
    let mut h = HeaderMap::new();
    h.insert("x-complexitynet-tier", HeaderValue::from_str(&tier.name).unwrap_or(HeaderValue::from_static("?")));
    if let Some(d) = &decision {
        h.insert("x-complexitynet-level", HeaderValue::from(d.level));
    }
    let info = |usage: Option<&complexitynet_engine::tiers::Completion>| {
        let saved = usage.and_then(|c| top.as_ref().map(|t| t.price().cost(c.usage) - c.cost_usd));
        json!({"tier": tier.name, "model": tier.model, "level": decision.as_ref().map(|d| d.level),
            "probabilities": decision.as_ref().map(|d| d.probabilities.clone()),
            "reason": decision.as_ref().map(|d| d.reason.clone()),
            "cost_usd": usage.map(|c| c.cost_usd), "saved_usd": saved})
    };
    if !stream {
        let cancel = CancellationToken::new();
        let result = provider.generate(&request, &|_| {}, &cancel).await;
        record(&state, &tier, &result);
        return match result {
            Ok(c) => {
                let body = json!({"id": id, "object": "chat.completion", "created": now(), "model": c.model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": c.text},
                        "finish_reason": finish(&c.finish_reason)}],
                    "usage": {"prompt_tokens": c.usage.prompt_tokens, "completion_tokens": c.usage.completion_tokens,
                        "total_tokens": c.usage.prompt_tokens + c.usage.completion_tokens},
                    "complexitynet": info(Some(&c))});
                (h, axum::Json(body)).into_response()
            }
            Err(e) => app_error(&AppError::from(complexitynet_engine::EngineError::from(e))),
        };
    }
    // Streaming: the generation runs in a task; pieces arrive through a channel; the stream owns the cancel
    // guard, so a dropped connection cancels the generation.
    let cancel = CancellationToken::new();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<String, String>>();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Value>();
    {
        let (state, tier, cancel, tx, top) = (state.clone(), tier.clone(), cancel.clone(), tx.clone(), top.clone());
        let info_final = info(None);
        tokio::spawn(async move {
            let on_text = |t: &str| {
                let _ = tx.send(Ok(t.to_owned()));
            };
            let result = provider.generate(&request, &on_text, &cancel).await;
            record(&state, &tier, &result);
            match result {
                Ok(c) => {
                    let mut extra = info_final;
                    extra["cost_usd"] = json!(c.cost_usd);
                    if let Some(t) = top {
                        extra["saved_usd"] = json!(t.price().cost(c.usage) - c.cost_usd);
                    }
                    let _ = done_tx.send(json!({"finish_reason": finish(&c.finish_reason), "model": c.model,
                        "usage": {"prompt_tokens": c.usage.prompt_tokens, "completion_tokens": c.usage.completion_tokens,
                            "total_tokens": c.usage.prompt_tokens + c.usage.completion_tokens},
                        "complexitynet": extra}));
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                }
            }
        });
    }
    drop(tx);
    let created = now();
    let first = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": tier.model,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}],
        "complexitynet": info(None)});
    let guard = CancelOnDrop(cancel);
    let chunk = move |delta: Value, finish: Value, extra: Option<Value>| {
        let mut v = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": tier.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        if let Some(x) = extra {
            for (k, val) in x.as_object().cloned().unwrap_or_default() {
                if k != "finish_reason" {
                    v[k] = val;
                }
            }
        }
        v.to_string()
    };
    let head = stream::once(async move { Ok::<Event, Infallible>(Event::default().data(first.to_string())) });
    let body = stream::unfold((rx, Some(done_rx), guard, chunk), |(mut rx, done, guard, chunk)| async move {
        match rx.recv().await {
            Some(Ok(text)) => {
                let e = Event::default().data(chunk(json!({"content": text}), Value::Null, None));
                Some((vec![e], (rx, done, guard, chunk)))
            }
            Some(Err(message)) => {
                // A failure mid-stream: OpenAI sends an error object as a data event.
                let e =
                    Event::default().data(json!({"error": {"message": message, "type": "upstream_error"}}).to_string());
                Some((vec![e, Event::default().data("[DONE]")], (rx, None, guard, chunk)))
            }
            None => {
                let done = done?.await.ok()?;
                let finish = done["finish_reason"].clone();
                let last = Event::default().data(chunk(json!({}), finish, Some(done)));
                Some((vec![last, Event::default().data("[DONE]")], (rx, None, guard, chunk)))
            }
        }
    })
    .flat_map(|events| stream::iter(events.into_iter().map(Ok::<Event, Infallible>)));
    (h, Sse::new(head.chain(body)).keep_alive(KeepAlive::default())).into_response()
}

fn finish(f: &complexitynet_engine::tiers::FinishReason) -> &'static str {
    use complexitynet_engine::tiers::FinishReason as F;
    match f {
        F::Length => "length",
        _ => "stop",
    }
}

fn record(
    state: &ServeState,
    tier: &TierRow,
    result: &Result<complexitynet_engine::tiers::Completion, complexitynet_engine::tiers::ProviderError>,
) {
    let store = state.store.lock().unwrap_or_else(|p| p.into_inner());
    let kind = result.as_ref().err().map(|e| e.kind).filter(|k| *k != ErrorKind::Cancelled);
    let kind = kind.and_then(|k| serde_json::to_value(k).ok()).and_then(|v| v.as_str().map(str::to_owned));
    let (model, pt, ct, cost, lat, fin) = match result {
        Ok(c) => (
            c.model.clone(),
            c.usage.prompt_tokens,
            c.usage.completion_tokens,
            c.cost_usd,
            c.latency_ms,
            finish(&c.finish_reason),
        ),
        Err(_) => (tier.model.clone(), 0, 0, 0.0, 0.0, "error"),
    };
    let r = table::record_call(
        &store,
        &CallRecord {
            tier: &tier.name,
            provider: &tier.provider,
            model: &model,
            prompt_tokens: pt,
            completion_tokens: ct,
            cost_usd: cost,
            latency_ms: lat,
            finish_reason: fin,
            error_kind: kind.as_deref(),
            usage_estimated: result.as_ref().is_ok_and(|c| c.usage_estimated),
        },
    );
    if let Err(e) = r {
        tracing::warn!(error = %e, "could not record a served call");
    }
}

/// Builds the server's state: the active classifier (loaded once) and the routing policy.
pub fn state(
    data_dir: &DataDir,
    api_key: Option<String>,
    policy: &crate::cli_route::PolicyArgs,
) -> Result<Arc<ServeState>, AppError> {
    let store = crate::cli::open(data_dir)?;
    let (classifier, policy) = crate::cli_route::load_for_routing(&store, data_dir, policy)?;
    Ok(Arc::new(ServeState {
        data_dir: data_dir.clone(),
        api_key,
        classifier: Arc::new(classifier),
        policy,
        store: Mutex::new(store),
        keychain: Keychain::open(),
        providers: Mutex::new(HashMap::new()),
    }))
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[arg(long, default_value_t = 8731)]
    pub port: u16,
    /// Require `Authorization: Bearer KEY` (also $COMPLEXITYNET_SERVE_KEY)
    #[arg(long, env = "COMPLEXITYNET_SERVE_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    #[command(flatten)]
    pub policy: crate::cli_route::PolicyFlags,
}

pub fn serve(args: ServeArgs, data_dir: &DataDir) -> Result<(), AppError> {
    let policy = args.policy.resolve(&crate::cli::open(data_dir)?);
    let state = state(data_dir, args.api_key.clone(), &policy)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::internal(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async move {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], args.port));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| AppError::internal(format!("cannot listen on {addr}: {e}")))?;
        let bound = listener.local_addr().map_err(|e| AppError::internal(e.to_string()))?;
        // The first line on stdout says where it listens (port 0 picks a free one); tests and scripts read it.
        println!("listening on http://{bound}/v1 (classifier {}, model auto routes)", state.classifier.meta.id);
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let _ = &state.data_dir;
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| AppError::internal(format!("the server stopped: {e}")))
    })
}
