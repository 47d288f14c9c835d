//! Anthropic Messages (`POST {base}/v1/messages`, `x-api-key`, `anthropic-version: 2023-06-01`). Streaming
//! uses named SSE events: `message_start` (input tokens), `content_block_delta` (text), `message_delta` (stop
//! reason, output tokens), `message_stop`, `ping`, and `error` (e.g. `overloaded_error` mid-stream).

use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};

use super::formats::anthropic_messages::{self as wire, StreamReader};
use super::http::{generate_with_retries, Cloud, CloudConfig, Flow, StreamEnd};
use super::{Answer, BoxFuture, CancellationToken, Completion, Provider, ProviderError, Request};

pub use super::formats::anthropic_messages::API_VERSION;

pub struct Anthropic {
    cloud: Cloud,
}

impl Anthropic {
    pub fn new(config: CloudConfig) -> Self {
        Anthropic { cloud: Cloud::new(config) }
    }

    fn stream_error(&self, data: &str) -> ProviderError {
        // An error event mid-stream: overloaded → server (transient), others by their type.
        let v: Value = serde_json::from_str(data).unwrap_or(Value::Null);
        let t = v["error"]["type"].as_str().unwrap_or("");
        let status = match t {
            "overloaded_error" => 529,
            "rate_limit_error" => 429,
            "authentication_error" => 401,
            "permission_error" => 403,
            "invalid_request_error" => 400,
            _ => 500,
        };
        self.cloud.http_error(status, &Default::default(), data)
    }

    async fn attempt(
        &self,
        req: &Request,
        on_text: &(dyn Fn(&str) + Send + Sync),
        cancel: &CancellationToken,
        delivered: &AtomicBool,
    ) -> Result<Answer, ProviderError> {
        let c = &self.cloud;
        let mut headers = vec![("anthropic-version", API_VERSION.to_owned())];
        if let Some(key) = &c.config.api_key {
            headers.push(("x-api-key", key.expose().to_owned()));
        }
        let url = format!("{}/v1/messages", c.config.base_url);
        let resp = c.post(&url, &headers, &wire::request_body(req), cancel).await?;
        if !req.stream {
            let v = c.json(resp, cancel).await?;
            if v["type"] == "error" {
                return Err(self.stream_error(&v.to_string()));
            }
            let answer = wire::read_response(&v, &req.model);
            if !answer.text.is_empty() {
                delivered.store(true, Ordering::SeqCst);
                on_text(&answer.text);
            }
            return Ok(answer);
        }
        let mut reader = StreamReader::default();
        let end = c
            .stream(resp, cancel, |ev| {
                let v: Value = serde_json::from_str(&ev.data).unwrap_or(Value::Null);
                match ev.event.as_str() {
                    "message_stop" => return Ok(Flow::Done),
                    "error" => return Err(self.stream_error(&ev.data)),
                    event => {
                        if let Some(piece) = reader.event(event, &v) {
                            delivered.store(true, Ordering::SeqCst);
                            on_text(&piece);
                        }
                    }
                }
                Ok(Flow::Continue)
            })
            .await?;
        Ok(reader.answer(&req.model, end == StreamEnd::Cancelled))
    }
}

impl Provider for Anthropic {
    fn name(&self) -> &str {
        &self.cloud.config.name
    }

    fn generate<'a>(
        &'a self,
        req: &'a Request,
        on_text: &'a (dyn Fn(&str) + Send + Sync),
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            let delivered = AtomicBool::new(false);
            generate_with_retries(&self.cloud, req, cancel, &delivered, || {
                self.attempt(req, on_text, cancel, &delivered)
            })
            .await
        })
    }
}

/// Counts a Messages request's input tokens with the provider's own endpoint (`POST /v1/messages/count_tokens`).
pub async fn count_tokens(config: CloudConfig, body: &Value, cancel: &CancellationToken) -> Result<u32, ProviderError> {
    let cloud = Cloud::new(config);
    let mut headers = vec![("anthropic-version", API_VERSION.to_owned())];
    if let Some(key) = &cloud.config.api_key {
        headers.push(("x-api-key", key.expose().to_owned()));
    }
    let url = format!("{}/v1/messages/count_tokens", cloud.config.base_url);
    let resp = cloud.post(&url, &headers, body, cancel).await?;
    let v = cloud.json(resp, cancel).await?;
    v["input_tokens"]
        .as_u64()
        .map(|n| n as u32)
        .ok_or_else(|| cloud.err(super::ErrorKind::Server, format!("no input_tokens in the count: {v}")))
}
