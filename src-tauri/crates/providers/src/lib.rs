//! Providers: the models that generate answers, behind one interface, every wire format they speak, and the
//! price of every call.
//!
//! A [`Provider`] takes chat messages and [`GenParams`], streams text pieces to a callback as they arrive, and
//! ends with a [`Completion`]: usage, latency, finish reason and cost. Errors carry a [`ErrorKind`] so callers
//! (retries, the router's fall-through) can act on them without parsing messages. Cloud providers speak their
//! real wire formats ([`openai`], [`anthropic`]); retries with backoff are in [`retry`], the SSE reader in
//! [`sse`]. API keys come from the OS keychain ([`keys`]); model and dataset files arrive through [`download`].
//!
//! It must not depend on SQL: which tier uses which provider, prices and the ledger are the store's; this crate
//! only talks to the outside world.

pub mod anthropic;
pub mod download;
pub mod formats;
pub mod http;
pub mod keys;
pub mod openai;
pub mod retry;
pub mod sse;
/// Test support shared with the other crates' tests: loopback servers that speak the cloud wire formats and
/// serve files (misbehaving on purpose). Not linked into the app unless a test uses it.
#[doc(hidden)]
pub mod testing;

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

pub use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    /// The result of a tool call, sent back by an agent (OpenAI's `tool` role; Anthropic's `tool_result` blocks
    /// in a user message).
    Tool,
}

/// One message of a conversation: its text, and whatever else it carries (images, tool calls, tool results,
/// the model's thinking) in order. Every front door reads its wire format into this and every tier writes it
/// out in its own, so any front door reaches any tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    /// The text parts, joined.
    pub content: String,
    /// The parts that are not text, in the order they came.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message { role, content: content.into(), parts: Vec::new() }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Message::new(Role::User, content)
    }
    pub fn system(content: impl Into<String>) -> Self {
        Message::new(Role::System, content)
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Message::new(Role::Assistant, content)
    }

    /// The tool calls this (assistant) message made.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        self.parts.iter().filter_map(|p| match p {
            Part::ToolCall(c) => Some(c),
            _ => None,
        })
    }

    /// The tool results this message carries: (call id, content, is_error).
    pub fn tool_results(&self) -> impl Iterator<Item = (&str, &str, bool)> {
        self.parts.iter().filter_map(|p| match p {
            Part::ToolResult { call_id, content, is_error } => Some((call_id.as_str(), content.as_str(), *is_error)),
            _ => None,
        })
    }

    pub fn has_images(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Image { .. }))
    }

    /// A message written by a person (not only tool results): what starts a new turn of an agent.
    pub fn is_human(&self) -> bool {
        self.role == Role::User
            && (!self.content.trim().is_empty() || self.has_images())
            && self.tool_results().next().is_none()
    }
}

/// What a message carries besides text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    /// An image: base64 `data` of `media_type`, or a URL.
    Image { media_type: String, data: Option<String>, url: Option<String> },
    /// A call the model made to one of the request's tools.
    ToolCall(ToolCall),
    /// A tool's result, for the call `call_id`.
    ToolResult { call_id: String, content: String, is_error: bool },
    /// The model's visible reasoning (Anthropic's `thinking` block): kept for the tier that wrote it, not sent
    /// to another model (its signature only verifies with its own provider).
    Thinking { text: String, signature: Option<String> },
}

/// A call the model made: the tool's name and its arguments as JSON text (as the wire formats carry them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// A tool the client offers the model: a function with a JSON Schema for its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDef {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    #[default]
    Auto,
    None,
    /// Some tool must be called.
    Required,
    /// This tool must be called.
    Tool(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenParams {
    pub temperature: f32,
    pub top_p: Option<f32>,
    pub max_tokens: u32,
    pub stop: Vec<String>,
    pub seed: Option<u64>,
    /// The answer is code (label runs, the verified cascade): the local tier stops once the code block it
    /// opened closes, instead of spending the token limit on prose. Cloud tiers end their answers themselves.
    #[serde(default)]
    pub code_answer: bool,
}

impl Default for GenParams {
    fn default() -> Self {
        GenParams { temperature: 0.0, top_p: None, max_tokens: 512, stop: Vec::new(), seed: None, code_answer: false }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// Of the prompt tokens, those read from the provider's prompt cache (billed at its cache rate).
    #[serde(default)]
    pub cached_tokens: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its answer (or hit a stop sequence).
    #[default]
    Stop,
    /// `max_tokens` was reached.
    Length,
    /// The model called tools and waits for their results.
    ToolCalls,
    Cancelled,
    Other(String),
}

impl FinishReason {
    /// As OpenAI's `finish_reason` and the calls log spell it.
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::Cancelled => "cancelled",
            FinishReason::Other(s) => s,
        }
    }
}

/// Prices of a tier, per 1K tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub input_per_1k: f64,
    pub output_per_1k: f64,
}

impl Price {
    pub fn cost(&self, usage: Usage) -> f64 {
        (usage.prompt_tokens as f64 * self.input_per_1k + usage.completion_tokens as f64 * self.output_per_1k) / 1000.0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Completion {
    pub text: String,
    /// The tools the model called (empty for a plain answer).
    #[serde(default)]
    #[ts(skip)]
    pub tool_calls: Vec<ToolCall>,
    pub model: String,
    pub usage: Usage,
    pub finish_reason: FinishReason,
    pub latency_ms: f64,
    /// Usage × the tier's price, in US dollars.
    pub cost_usd: f64,
    /// How many HTTP attempts it took (1 = no retry).
    pub attempts: u32,
    /// The provider reported no token counts; they were estimated from the text (~4 characters a token).
    pub usage_estimated: bool,
}

/// What went wrong, in the terms a caller acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Missing or rejected API key.
    Auth,
    /// Too many requests now; `retry_after` says when to come back.
    RateLimited,
    /// The account is out of credit or over its quota: retrying will not help.
    Quota,
    /// The prompt (plus max_tokens) does not fit the model's context.
    ContextLength,
    /// The provider failed (5xx, overloaded).
    Server,
    /// Connection refused, reset, DNS.
    Network,
    /// No answer (or no next chunk of a stream) in time.
    Timeout,
    Cancelled,
    /// The request itself is wrong (unknown model, bad parameter).
    BadRequest,
}

impl ErrorKind {
    /// Worth retrying after a pause.
    pub fn is_transient(self) -> bool {
        matches!(self, ErrorKind::RateLimited | ErrorKind::Server | ErrorKind::Network | ErrorKind::Timeout)
    }

    /// A failure another tier would not share (its own rate limit, outage, network path, key or quota): the
    /// router hands the prompt to the next tier. A bad request or a too-long prompt would fail anywhere.
    pub fn may_succeed_elsewhere(self) -> bool {
        self.is_transient() || matches!(self, ErrorKind::Auth | ErrorKind::Quota)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Quota => "quota",
            ErrorKind::ContextLength => "context_length",
            ErrorKind::Server => "server",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::BadRequest => "bad_request",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{provider}: {message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub provider: String,
    pub message: String,
    pub status: Option<u16>,
    pub retry_after: Option<Duration>,
    /// Attempts made before giving up.
    pub attempts: u32,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, provider: &str, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            provider: provider.to_owned(),
            message: message.into(),
            status: None,
            retry_after: None,
            attempts: 1,
        }
    }

    pub fn code(&self) -> complexitynet_errors::ErrorCode {
        use complexitynet_errors::ErrorCode as C;
        match self.kind {
            ErrorKind::Auth => C::ProviderAuth,
            ErrorKind::RateLimited => C::ProviderRateLimited,
            ErrorKind::Quota => C::ProviderQuota,
            ErrorKind::ContextLength => C::ContextLength,
            ErrorKind::Server => C::ProviderServer,
            ErrorKind::Network => C::ProviderNetwork,
            ErrorKind::Timeout => C::ProviderTimeout,
            ErrorKind::Cancelled => C::Cancelled,
            ErrorKind::BadRequest => C::ProviderBadRequest,
        }
    }
}

/// A request to a provider.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub model: String,
    pub messages: Vec<Message>,
    pub params: GenParams,
    pub stream: bool,
    pub price: Price,
    /// Tools the model may call (an agent's request); empty for a plain chat.
    pub tools: Vec<ToolDef>,
    pub tool_choice: ToolChoice,
    pub parallel_tool_calls: Option<bool>,
}

impl Request {
    /// A plain request: no tools.
    pub fn new(
        model: impl Into<String>,
        messages: Vec<Message>,
        params: GenParams,
        stream: bool,
        price: Price,
    ) -> Self {
        Request {
            model: model.into(),
            messages,
            params,
            stream,
            price,
            tools: Vec::new(),
            tool_choice: ToolChoice::Auto,
            parallel_tool_calls: None,
        }
    }
}

/// What one generation returned, before it is priced: text, tool calls, usage when reported, why it ended, the
/// model that answered.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub usage: Option<Usage>,
    pub finish: FinishReason,
    pub model: String,
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One generation backend. `on_text` receives each piece of text as it arrives (once, at the end, for a
/// non-streaming request); `cancel` stops the generation within a chunk (a token for the local model).
pub trait Provider: Send + Sync {
    fn name(&self) -> &str;
    fn generate<'a>(
        &'a self,
        request: &'a Request,
        on_text: &'a (dyn Fn(&str) + Send + Sync),
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>>;
}

/// Parses a `Retry-After` header: delay-seconds, or an HTTP date. Also `retry-after-ms` (OpenAI sends it).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(ms) =
        headers.get("retry-after-ms").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok())
    {
        return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return Some(Duration::from_secs_f64(secs.max(0.0)));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// The HTTP client shared by cloud providers: connect timeout; per-request timeouts are set per call.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("ComplexityNet/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a reqwest client builds")
}

/// The prompt's size in tokens, estimated (~4 characters a token): its messages with their parts, and the tool
/// definitions. For a provider that reports no usage, and for the router's context-window check.
pub fn estimate_prompt_tokens(messages: &[Message], tools: &[ToolDef]) -> u32 {
    let parts = |m: &Message| -> u32 {
        m.parts
            .iter()
            .map(|p| match p {
                Part::ToolCall(c) => http::estimate_tokens(&c.name) + http::estimate_tokens(&c.arguments) + 4,
                Part::ToolResult { content, .. } => http::estimate_tokens(content) + 4,
                Part::Thinking { text, .. } => http::estimate_tokens(text),
                // Providers bill an image by its pixels; a typical screenshot is about this many tokens.
                Part::Image { .. } => 1_000,
            })
            .sum()
    };
    let msgs: u32 = messages.iter().map(|m| http::estimate_tokens(&m.content) + 4 + parts(m)).sum();
    let tools: u32 = tools
        .iter()
        .map(|t| {
            http::estimate_tokens(&t.name)
                + http::estimate_tokens(&t.description)
                + http::estimate_tokens(&t.parameters.to_string())
        })
        .sum();
    msgs + tools
}

/// Builds a completion and prices it (estimating usage when the provider sent none).
pub fn complete(req: &Request, answer: Answer, start: Instant, attempts: u32) -> Completion {
    let Answer { text, tool_calls, usage, finish, model } = answer;
    let usage_estimated = usage.is_none();
    let usage = usage.unwrap_or_else(|| Usage {
        prompt_tokens: estimate_prompt_tokens(&req.messages, &req.tools),
        completion_tokens: http::estimate_tokens(&text)
            + tool_calls.iter().map(|c| http::estimate_tokens(&c.arguments) + 4).sum::<u32>(),
        cached_tokens: 0,
    });
    let finish_reason = finish;
    Completion {
        cost_usd: req.price.cost(usage),
        tool_calls,
        text,
        model,
        usage,
        finish_reason,
        latency_ms: http::elapsed_ms(start),
        attempts,
        usage_estimated,
    }
}
