//! Anthropic Messages (`POST {base}/v1/messages`, `x-api-key`, `anthropic-version: 2023-06-01`). Streaming
//! uses named SSE events: `message_start` (input tokens), `content_block_delta` (text), `message_delta` (stop
//! reason, output tokens), `message_stop`, `ping`, and `error` (e.g. `overloaded_error` mid-stream).

use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};

use super::http::{generate_with_retries, Attempt, Cloud, CloudConfig, Flow, StreamEnd};
use super::{BoxFuture, CancellationToken, Completion, FinishReason, Provider, ProviderError, Request, Role, Usage};

pub const API_VERSION: &str = "2023-06-01";

pub struct Anthropic {
    cloud: Cloud,
}

impl Anthropic {
    pub fn new(config: CloudConfig) -> Self {
        Anthropic { cloud: Cloud::new(config) }
    }

    fn body(req: &Request) -> Value {
        let p = &req.params;
        // System messages go in the top-level `system` field; the rest alternate user/assistant.
        let system: Vec<&str> =
            req.messages.iter().filter(|m| m.role == Role::System).map(|m| m.content.as_str()).collect();
        let messages: Vec<Value> = req
            .messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| json!({ "role": m.role, "content": m.content }))
            .collect();
        let mut body = json!({
            "model": req.model,
            "max_tokens": p.max_tokens,
            "messages": messages,
            "temperature": p.temperature,
            "stream": req.stream,
        });
        if !system.is_empty() {
            body["system"] = json!(system.join("\n\n"));
        }
        if let Some(top_p) = p.top_p {
            body["top_p"] = json!(top_p);
        }
        if !p.stop.is_empty() {
            body["stop_sequences"] = json!(p.stop);
        }
        body
    }

    fn finish(reason: Option<&str>) -> FinishReason {
        match reason {
            Some("end_turn") | Some("stop_sequence") | None => FinishReason::Stop,
            Some("max_tokens") => FinishReason::Length,
            Some(other) => FinishReason::Other(other.to_owned()),
        }
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
    ) -> Result<Attempt, ProviderError> {
        let c = &self.cloud;
        let mut headers = vec![("anthropic-version", API_VERSION.to_owned())];
        if let Some(key) = &c.config.api_key {
            headers.push(("x-api-key", key.expose().to_owned()));
        }
        let url = format!("{}/v1/messages", c.config.base_url);
        let resp = c.post(&url, &headers, &Self::body(req), cancel).await?;
        if !req.stream {
            let v = c.json(resp, cancel).await?;
            if v["type"] == "error" {
                return Err(self.stream_error(&v.to_string()));
            }
            let text: String =
                v["content"].as_array().into_iter().flatten().filter_map(|b| b["text"].as_str()).collect();
            if !text.is_empty() {
                delivered.store(true, Ordering::SeqCst);
                on_text(&text);
            }
            let usage = v["usage"].is_object().then(|| Usage {
                prompt_tokens: v["usage"]["input_tokens"].as_u64().unwrap_or(0) as u32,
                completion_tokens: v["usage"]["output_tokens"].as_u64().unwrap_or(0) as u32,
            });
            let model = v["model"].as_str().unwrap_or(&req.model).to_owned();
            return Ok((text, usage, Self::finish(v["stop_reason"].as_str()), model));
        }
        let (mut text, mut input, mut output, mut stop, mut model) =
            (String::new(), None, None, None::<String>, req.model.clone());
        let end = c
            .stream(resp, cancel, |ev| {
                let v: Value = serde_json::from_str(&ev.data).unwrap_or(Value::Null);
                match ev.event.as_str() {
                    "message_start" => {
                        input = v["message"]["usage"]["input_tokens"].as_u64();
                        if let Some(m) = v["message"]["model"].as_str() {
                            model = m.to_owned();
                        }
                    }
                    "content_block_delta" => {
                        if let Some(piece) = v["delta"]["text"].as_str().filter(|p| !p.is_empty()) {
                            delivered.store(true, Ordering::SeqCst);
                            on_text(piece);
                            text.push_str(piece);
                        }
                    }
                    "message_delta" => {
                        if let Some(s) = v["delta"]["stop_reason"].as_str() {
                            stop = Some(s.to_owned());
                        }
                        if let Some(o) = v["usage"]["output_tokens"].as_u64() {
                            output = Some(o);
                        }
                    }
                    "message_stop" => return Ok(Flow::Done),
                    "error" => return Err(self.stream_error(&ev.data)),
                    _ => {} // ping, content_block_start/stop
                }
                Ok(Flow::Continue)
            })
            .await?;
        let usage = match (input, output) {
            (None, None) => None,
            (i, o) => Some(Usage { prompt_tokens: i.unwrap_or(0) as u32, completion_tokens: o.unwrap_or(0) as u32 }),
        };
        let finish = match end {
            StreamEnd::Cancelled => FinishReason::Cancelled,
            StreamEnd::Done => Self::finish(stop.as_deref()),
        };
        Ok((text, usage, finish, model))
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
