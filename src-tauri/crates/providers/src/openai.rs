//! OpenAI-compatible Chat Completions (`POST {base}/chat/completions`): OpenAI, OpenRouter, Together, Groq,
//! vLLM, llama-server and Ollama all speak it. Streaming uses SSE `data:` chunks with `choices[0].delta.content`,
//! a final usage chunk (`stream_options.include_usage`), and `data: [DONE]`.

use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};

use super::formats::openai_chat::{self as wire, StreamReader};
use super::http::{generate_with_retries, Cloud, CloudConfig, Flow, StreamEnd};
use super::{Answer, BoxFuture, CancellationToken, Completion, ErrorKind, Provider, ProviderError, Request};

pub struct OpenAiCompatible {
    cloud: Cloud,
}

impl OpenAiCompatible {
    pub fn new(config: CloudConfig) -> Self {
        OpenAiCompatible { cloud: Cloud::new(config) }
    }

    async fn attempt(
        &self,
        req: &Request,
        on_text: &(dyn Fn(&str) + Send + Sync),
        cancel: &CancellationToken,
        delivered: &AtomicBool,
    ) -> Result<Answer, ProviderError> {
        let c = &self.cloud;
        let mut headers = Vec::new();
        if let Some(key) = &c.config.api_key {
            headers.push(("authorization", format!("Bearer {}", key.expose())));
        }
        let url = format!("{}/chat/completions", c.config.base_url);
        let resp = c.post(&url, &headers, &wire::request_body(req), cancel).await?;
        if !req.stream {
            let v = c.json(resp, cancel).await?;
            if v.get("error").is_some_and(|e| !e.is_null()) {
                return Err(c.http_error(200, &Default::default(), &v.to_string()));
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
                if ev.data.trim() == "[DONE]" {
                    return Ok(Flow::Done);
                }
                let v: Value = serde_json::from_str(&ev.data)
                    .map_err(|e| c.err(ErrorKind::Server, format!("invalid JSON in the stream: {e}")))?;
                if v.get("error").is_some_and(|e| !e.is_null()) {
                    let status = v["error"]["code"].as_u64().unwrap_or(500) as u16;
                    return Err(c.http_error(status, &Default::default(), &ev.data));
                }
                if let Some(piece) = reader.chunk(&v) {
                    delivered.store(true, Ordering::SeqCst);
                    on_text(&piece);
                }
                Ok(Flow::Continue)
            })
            .await?;
        Ok(reader.answer(&req.model, end == StreamEnd::Cancelled))
    }
}
impl Provider for OpenAiCompatible {
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
