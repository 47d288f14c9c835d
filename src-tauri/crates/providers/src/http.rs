//! What the cloud providers share: configuration, the concurrency limit, error classification from HTTP status
//! and error bodies, and the streaming loop with its stall timeout and cancellation.

use futures_util::StreamExt;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

use super::retry::RetryPolicy;
use super::sse::{SseEvent, SseParser};
use super::{CancellationToken, ErrorKind, ProviderError};
use crate::keys::Secret;

/// A cloud provider's settings (from the providers table; the key from the keychain).
#[derive(Debug, Clone)]
pub struct CloudConfig {
    /// The provider's name as the user configured it (`openai`, `groq`, `anthropic`, …).
    pub name: String,
    /// e.g. `https://api.openai.com/v1` or `https://api.anthropic.com`.
    pub base_url: String,
    pub api_key: Option<Secret>,
    /// Requests in flight at once to this provider.
    pub concurrency: usize,
    /// Time to the response headers (and, without streaming, to the whole body).
    pub request_timeout: Duration,
    /// Longest silence allowed between two chunks of a stream.
    pub stall_timeout: Duration,
    pub retry: RetryPolicy,
}

impl CloudConfig {
    pub fn new(name: &str, base_url: &str, api_key: Option<Secret>) -> Self {
        CloudConfig {
            name: name.to_owned(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            concurrency: 4,
            request_timeout: Duration::from_secs(120),
            stall_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }
}

/// A cloud provider's HTTP plumbing; also used by clients of other endpoints of the same provider (the
/// classifier's fine-tuning jobs), so that they share its error classification, timeouts and cancellation.
pub struct Cloud {
    pub config: CloudConfig,
    pub client: reqwest::Client,
    pub permits: Arc<Semaphore>,
}

impl Cloud {
    pub fn new(config: CloudConfig) -> Self {
        let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
        Cloud { config, client: super::http_client(), permits }
    }

    pub fn err(&self, kind: ErrorKind, message: impl Into<String>) -> ProviderError {
        ProviderError::new(kind, &self.config.name, message)
    }

    /// Classifies a transport failure.
    pub fn transport(&self, e: &reqwest::Error) -> ProviderError {
        let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Network };
        self.err(kind, format!("request failed: {}", chain(e)))
    }

    /// Classifies an HTTP error response from its status, headers and body (OpenAI's `{"error": {...}}` and
    /// Anthropic's `{"type": "error", "error": {...}}` alike). The body's message is kept: it is the provider's
    /// explanation, and it never contains our key.
    pub fn http_error(&self, status: u16, headers: &reqwest::header::HeaderMap, body: &str) -> ProviderError {
        let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let e = &json["error"];
        let message = e["message"].as_str().map(str::to_owned).unwrap_or_else(|| body.chars().take(300).collect());
        let code = format!("{} {}", e["code"].as_str().unwrap_or(""), e["type"].as_str().unwrap_or("")).to_lowercase();
        let lower = message.to_lowercase();
        let context = code.contains("context_length")
            || lower.contains("maximum context length")
            || lower.contains("prompt is too long")
            || lower.contains("context window");
        let kind = match status {
            401 | 403 => ErrorKind::Auth,
            402 => ErrorKind::Quota,
            429 if code.contains("insufficient_quota") || lower.contains("exceeded your current quota") => {
                ErrorKind::Quota
            }
            429 => ErrorKind::RateLimited,
            408 => ErrorKind::Timeout,
            400 | 404 | 413 | 422 if context => ErrorKind::ContextLength,
            400..=499 => ErrorKind::BadRequest,
            _ => ErrorKind::Server,
        };
        let mut err = self.err(kind, format!("HTTP {status}: {message}"));
        err.status = Some(status);
        err.retry_after = super::retry_after(headers);
        err
    }

    /// Sends any request (GET, multipart upload, …), bounded by the request timeout and the cancel token; an
    /// error status becomes a classified [`ProviderError`].
    pub async fn send(
        &self,
        req: reqwest::RequestBuilder,
        cancel: &CancellationToken,
    ) -> Result<reqwest::Response, ProviderError> {
        let resp = tokio::select! {
            r = tokio::time::timeout(self.config.request_timeout, req.send()) => r,
            _ = cancel.cancelled() => return Err(self.err(ErrorKind::Cancelled, "cancelled before the answer started")),
        };
        let resp = match resp {
            Err(_) => {
                return Err(self.err(ErrorKind::Timeout, format!("no response in {:?}", self.config.request_timeout)))
            }
            Ok(Err(e)) => return Err(self.transport(&e)),
            Ok(Ok(r)) => r,
        };
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = tokio::time::timeout(Duration::from_secs(10), resp.text())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        Err(self.http_error(status, &headers, &body))
    }

    /// Sends a POST with the concurrency permit held, bounded by the request timeout and the cancel token.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &Value,
        cancel: &CancellationToken,
    ) -> Result<reqwest::Response, ProviderError> {
        let mut req = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(body).expect("a JSON value serialises"));
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        self.send(req, cancel).await
    }

    /// Reads a non-streaming JSON body within the request timeout.
    pub async fn json(&self, resp: reqwest::Response, cancel: &CancellationToken) -> Result<Value, ProviderError> {
        let body = tokio::select! {
            r = tokio::time::timeout(self.config.request_timeout, resp.bytes()) => r,
            _ = cancel.cancelled() => return Err(self.err(ErrorKind::Cancelled, "cancelled")),
        };
        let bytes = match body {
            Err(_) => return Err(self.err(ErrorKind::Timeout, "the response body did not arrive in time")),
            Ok(Err(e)) => return Err(self.transport(&e)),
            Ok(Ok(b)) => b,
        };
        serde_json::from_slice(&bytes)
            .map_err(|e| self.err(ErrorKind::Server, format!("invalid JSON in the response: {e}")))
    }

    /// Feeds a streaming response's SSE events to `on_event` until it returns `Done`, the stream ends, stalls,
    /// or `cancel` fires (then `Ok(Cancelled)`).
    pub async fn stream(
        &self,
        resp: reqwest::Response,
        cancel: &CancellationToken,
        mut on_event: impl FnMut(SseEvent) -> Result<Flow, ProviderError>,
    ) -> Result<StreamEnd, ProviderError> {
        let mut body = resp.bytes_stream();
        let mut parser = SseParser::new();
        loop {
            let next = tokio::select! {
                n = tokio::time::timeout(self.config.stall_timeout, body.next()) => n,
                _ = cancel.cancelled() => return Ok(StreamEnd::Cancelled),
            };
            match next {
                Err(_) => {
                    return Err(
                        self.err(ErrorKind::Timeout, format!("the stream stalled for {:?}", self.config.stall_timeout))
                    )
                }
                Ok(None) => {
                    // A well-formed stream ends with its terminating event; this one was cut.
                    return Err(self.err(ErrorKind::Network, "the stream ended before its final event"));
                }
                Ok(Some(Err(e))) => return Err(self.transport(&e)),
                Ok(Some(Ok(bytes))) => {
                    for ev in parser.push(&bytes) {
                        if on_event(ev)? == Flow::Done {
                            return Ok(StreamEnd::Done);
                        }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    Done,
    Cancelled,
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !msg.contains(&t) {
            msg.push_str(": ");
            msg.push_str(&t);
        }
        src = s.source();
    }
    msg
}

/// When a provider reports no usage (some OpenAI-compatible servers omit it in streams), estimate ~4 characters
/// per token so that every call still carries a cost; the completion says it was estimated.
pub fn estimate_tokens(text: &str) -> u32 {
    (text.chars().count() as f64 / 4.0).ceil() as u32
}

pub fn elapsed_ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// Runs `attempt` under the provider's retry policy and prices the result. Each attempt holds one of the
/// provider's concurrency permits while it runs (not while it waits to retry). An attempt that already showed
/// text is not retried (it would show it twice): the attempt sets `delivered` when it shows some.
pub(crate) async fn generate_with_retries<F, Fut>(
    cloud: &Cloud,
    req: &super::Request,
    cancel: &CancellationToken,
    delivered: &std::sync::atomic::AtomicBool,
    attempt: F,
) -> Result<super::Completion, ProviderError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<super::Answer, ProviderError>>,
{
    let start = Instant::now();
    let (answer, attempts) = cloud
        .config
        .retry
        .run(cancel, |_| {
            let fut = attempt();
            async move {
                let _permit = tokio::select! {
                    p = cloud.permits.acquire() => p.map_err(|_| (cloud.err(ErrorKind::Cancelled, "the provider was shut down"), false))?,
                    _ = cancel.cancelled() => return Err((cloud.err(ErrorKind::Cancelled, "cancelled while queued"), false)),
                };
                fut.await.map_err(|e| (e, delivered.load(std::sync::atomic::Ordering::SeqCst)))
            }
        })
        .await?;
    Ok(super::complete(req, answer, start, attempts))
}
