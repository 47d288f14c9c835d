//! OpenAI-compatible Chat Completions (`POST {base}/chat/completions`): OpenAI, OpenRouter, Together, Groq,
//! vLLM, llama-server and Ollama all speak it. Streaming uses SSE `data:` chunks with `choices[0].delta.content`,
//! a final usage chunk (`stream_options.include_usage`), and `data: [DONE]`.

use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};

use super::http::{generate_with_retries, Attempt, Cloud, CloudConfig, Flow, StreamEnd};
use super::{
    BoxFuture, CancellationToken, Completion, ErrorKind, FinishReason, Provider, ProviderError, Request, Usage,
};

pub struct OpenAiCompatible {
    cloud: Cloud,
}

impl OpenAiCompatible {
    pub fn new(config: CloudConfig) -> Self {
        OpenAiCompatible { cloud: Cloud::new(config) }
    }

    fn body(req: &Request) -> Value {
        let p = &req.params;
        let mut body = json!({
            "model": req.model,
            "messages": req.messages,
            "temperature": p.temperature,
            "max_tokens": p.max_tokens,
            "stream": req.stream,
        });
        if let Some(top_p) = p.top_p {
            body["top_p"] = json!(top_p);
        }
        if !p.stop.is_empty() {
            body["stop"] = json!(p.stop);
        }
        if let Some(seed) = p.seed {
            body["seed"] = json!(seed);
        }
        if req.stream {
            body["stream_options"] = json!({ "include_usage": true });
        }
        body
    }

    fn finish(reason: Option<&str>) -> FinishReason {
        match reason {
            Some("stop") | None => FinishReason::Stop,
            Some("length") => FinishReason::Length,
            Some(other) => FinishReason::Other(other.to_owned()),
        }
    }

    fn usage(v: &Value) -> Option<Usage> {
        let u = v.get("usage").filter(|u| u.is_object())?;
        Some(Usage {
            prompt_tokens: u["prompt_tokens"].as_u64().unwrap_or(0) as u32,
            completion_tokens: u["completion_tokens"].as_u64().unwrap_or(0) as u32,
        })
    }

    async fn attempt(
        &self,
        req: &Request,
        on_text: &(dyn Fn(&str) + Send + Sync),
        cancel: &CancellationToken,
        delivered: &AtomicBool,
    ) -> Result<Attempt, ProviderError> {
        let c = &self.cloud;
        let mut headers = Vec::new();
        if let Some(key) = &c.config.api_key {
            headers.push(("authorization", format!("Bearer {}", key.expose())));
        }
        let url = format!("{}/chat/completions", c.config.base_url);
        let resp = c.post(&url, &headers, &Self::body(req), cancel).await?;
        if !req.stream {
            let v = c.json(resp, cancel).await?;
            if v.get("error").is_some_and(|e| !e.is_null()) {
                return Err(c.http_error(200, &Default::default(), &v.to_string()));
            }
            let choice = &v["choices"][0];
            let text = choice["message"]["content"].as_str().unwrap_or_default().to_owned();
            if !text.is_empty() {
                delivered.store(true, Ordering::SeqCst);
                on_text(&text);
            }
            let model = v["model"].as_str().unwrap_or(&req.model).to_owned();
            return Ok((text, Self::usage(&v), Self::finish(choice["finish_reason"].as_str()), model));
        }
        let (mut text, mut usage, mut finish, mut model) = (String::new(), None, None::<String>, req.model.clone());
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
                if let Some(m) = v["model"].as_str() {
                    model = m.to_owned();
                }
                if let Some(u) = Self::usage(&v) {
                    usage = Some(u);
                }
                let choice = &v["choices"][0];
                if let Some(piece) = choice["delta"]["content"].as_str().filter(|p| !p.is_empty()) {
                    delivered.store(true, Ordering::SeqCst);
                    on_text(piece);
                    text.push_str(piece);
                }
                if let Some(f) = choice["finish_reason"].as_str() {
                    finish = Some(f.to_owned());
                }
                Ok(Flow::Continue)
            })
            .await?;
        let finish = match end {
            StreamEnd::Cancelled => FinishReason::Cancelled,
            StreamEnd::Done => Self::finish(finish.as_deref()),
        };
        Ok((text, usage, finish, model))
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
