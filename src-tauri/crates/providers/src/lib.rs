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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn user(content: impl Into<String>) -> Self {
        Message { role: Role::User, content: content.into() }
    }
    pub fn system(content: impl Into<String>) -> Self {
        Message { role: Role::System, content: content.into() }
    }
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its answer (or hit a stop sequence).
    Stop,
    /// `max_tokens` was reached.
    Length,
    Cancelled,
    Other(String),
}

impl FinishReason {
    /// As OpenAI's `finish_reason` and the calls log spell it.
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
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
#[derive(Debug, Clone)]
pub struct Request {
    pub model: String,
    pub messages: Vec<Message>,
    pub params: GenParams,
    pub stream: bool,
    pub price: Price,
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

/// Builds a completion and prices it (estimating usage when the provider sent none).
pub fn complete(
    req: &Request,
    text: String,
    usage: Option<Usage>,
    finish_reason: FinishReason,
    model: String,
    start: Instant,
    attempts: u32,
) -> Completion {
    let usage_estimated = usage.is_none();
    let usage = usage.unwrap_or_else(|| Usage {
        prompt_tokens: req.messages.iter().map(|m| http::estimate_tokens(&m.content) + 4).sum(),
        completion_tokens: http::estimate_tokens(&text),
    });
    Completion {
        cost_usd: req.price.cost(usage),
        text,
        model,
        usage,
        finish_reason,
        latency_ms: http::elapsed_ms(start),
        attempts,
        usage_estimated,
    }
}
