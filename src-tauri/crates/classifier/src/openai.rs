//! The paper's cloud method: fine-tune an OpenAI model to answer a task's level with one token. Uploads the
//! training set as JSONL (chat format, or prompt/completion for the legacy base models such as davinci-002 that
//! the paper used), creates a job on the base model the user picks, follows its status and events, can cancel
//! it, and classifies with the resulting model using a one-token answer and its logprobs.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

use complexitynet_providers::http::{Cloud, CloudConfig};
use complexitynet_providers::keys::Secret;
use complexitynet_providers::{CancellationToken, ErrorKind, ProviderError};
use complexitynet_router::label::Rule;

use crate::data::Example;
use crate::error::{ClassifierError, Result};

const SYSTEM: &str = "Rate the difficulty level of the Python programming task. Answer with the level number only.";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct Job {
    pub id: String,
    pub status: String,
    pub model: String,
    #[serde(default)]
    pub fine_tuned_model: Option<String>,
    #[serde(default)]
    pub error: Option<Value>,
    #[serde(default)]
    pub trained_tokens: Option<u64>,
}

impl Job {
    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "succeeded" | "failed" | "cancelled")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct JobEvent {
    pub id: String,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub level: String,
    pub message: String,
}

/// What the follower reports while a job runs.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobUpdate {
    Status { job: String, status: String },
    Event { job: String, event: JobEvent },
}

/// Legacy completion models (davinci-002, babbage-002 and fine-tunes of them) take prompt/completion pairs.
pub fn is_legacy(model: &str) -> bool {
    let base = model.strip_prefix("ft:").unwrap_or(model);
    base.starts_with("davinci") || base.starts_with("babbage")
}

fn legacy_prompt(task: &str) -> String {
    format!("{}\n\nLevel:", task.trim())
}

/// The training file: one example per line in the format the base model takes.
pub fn training_jsonl(examples: &[&Example], base_model: &str) -> String {
    let mut out = String::new();
    for e in examples {
        let line = if is_legacy(base_model) {
            json!({"prompt": legacy_prompt(&e.prompt), "completion": format!(" {}", e.level)})
        } else {
            json!({"messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": e.prompt.trim()},
                {"role": "assistant", "content": e.level.to_string()},
            ]})
        };
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

pub struct FineTuneClient {
    cloud: Cloud,
    pub poll: Duration,
}

impl FineTuneClient {
    pub fn new(base_url: &str, key: Option<Secret>) -> FineTuneClient {
        let mut config = CloudConfig::new("openai", base_url, key);
        config.request_timeout = Duration::from_secs(300); // uploads of large training files
        FineTuneClient { cloud: Cloud::new(config), poll: Duration::from_secs(10) }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.cloud.config.base_url, path.trim_start_matches('/'))
    }

    fn auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cloud.config.api_key {
            Some(k) => req.bearer_auth(k.expose()),
            None => req,
        }
    }

    /// One call under the provider's retry policy (429 with Retry-After, 5xx, network), parsed as JSON.
    async fn call(
        &self,
        cancel: &CancellationToken,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Value, ProviderError> {
        let (v, _) = self
            .cloud
            .config
            .retry
            .run(cancel, |_| {
                let req = self.auth(build());
                async move {
                    let resp = self.cloud.send(req, cancel).await.map_err(|e| (e, false))?;
                    self.cloud.json(resp, cancel).await.map_err(|e| (e, false))
                }
            })
            .await?;
        Ok(v)
    }

    fn parse<T: for<'de> Deserialize<'de>>(&self, v: Value, what: &str) -> Result<T> {
        serde_json::from_value(v).map_err(|e| {
            ClassifierError::Provider(ProviderError::new(
                ErrorKind::Server,
                "openai",
                format!("unexpected {what} response: {e}"),
            ))
        })
    }

    /// Uploads a training file (`purpose=fine-tune`); returns its file id.
    pub async fn upload(&self, jsonl: &str, filename: &str, cancel: &CancellationToken) -> Result<String> {
        let v = self
            .call(cancel, || {
                let part = reqwest::multipart::Part::bytes(jsonl.as_bytes().to_vec())
                    .file_name(filename.to_owned())
                    .mime_str("application/jsonl")
                    .expect("a valid mime type");
                let form = reqwest::multipart::Form::new().text("purpose", "fine-tune").part("file", part);
                self.cloud.client.post(self.url("files")).multipart(form)
            })
            .await?;
        v["id"].as_str().map(str::to_owned).ok_or_else(|| {
            ClassifierError::Provider(ProviderError::new(ErrorKind::Server, "openai", "the upload returned no file id"))
        })
    }

    pub async fn create_job(
        &self,
        file_id: &str,
        base_model: &str,
        suffix: &str,
        seed: u64,
        cancel: &CancellationToken,
    ) -> Result<Job> {
        let body = json!({"training_file": file_id, "model": base_model, "suffix": suffix, "seed": seed});
        let v = self.call(cancel, || self.cloud.client.post(self.url("fine_tuning/jobs")).json(&body)).await?;
        self.parse(v, "job")
    }

    pub async fn job(&self, id: &str, cancel: &CancellationToken) -> Result<Job> {
        let v = self.call(cancel, || self.cloud.client.get(self.url(&format!("fine_tuning/jobs/{id}")))).await?;
        self.parse(v, "job")
    }

    /// The job's events, oldest first.
    pub async fn events(&self, id: &str, cancel: &CancellationToken) -> Result<Vec<JobEvent>> {
        let v = self
            .call(cancel, || self.cloud.client.get(self.url(&format!("fine_tuning/jobs/{id}/events?limit=100"))))
            .await?;
        let mut events: Vec<JobEvent> = self.parse(v["data"].clone(), "events")?;
        events.reverse(); // the API lists newest first
        Ok(events)
    }

    pub async fn cancel_job(&self, id: &str, cancel: &CancellationToken) -> Result<Job> {
        let v =
            self.call(cancel, || self.cloud.client.post(self.url(&format!("fine_tuning/jobs/{id}/cancel")))).await?;
        self.parse(v, "job")
    }

    /// Polls the job until it ends, reporting each status change and new event. When `cancel` fires the job is
    /// cancelled on the provider's side too (a forgotten job keeps billing), then `Cancelled` is returned.
    pub async fn follow(
        &self,
        id: &str,
        cancel: &CancellationToken,
        mut on_update: impl FnMut(JobUpdate),
    ) -> Result<Job> {
        let mut seen = HashSet::new();
        let mut last_status = String::new();
        loop {
            if cancel.is_cancelled() {
                let quiet = CancellationToken::new();
                let _ = self.cancel_job(id, &quiet).await;
                return Err(ClassifierError::Cancelled);
            }
            let job = self.job(id, cancel).await?;
            for e in self.events(id, cancel).await? {
                if seen.insert(e.id.clone()) {
                    on_update(JobUpdate::Event { job: id.to_owned(), event: e });
                }
            }
            if job.status != last_status {
                last_status = job.status.clone();
                on_update(JobUpdate::Status { job: id.to_owned(), status: job.status.clone() });
            }
            if job.finished() {
                if job.status == "succeeded" && job.fine_tuned_model.is_some() {
                    return Ok(job);
                }
                let message = job.error.as_ref().and_then(|e| e["message"].as_str()).unwrap_or("no reason given");
                return Err(ClassifierError::FineTune {
                    job: id.to_owned(),
                    status: job.status.clone(),
                    message: message.to_owned(),
                });
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {}
                _ = cancel.cancelled() => {}
            }
        }
    }

    /// The level probabilities a fine-tuned model gives a task: its one-token answer's top logprobs, summed per
    /// level and renormalised; the answer alone (one-hot) where no logprobs come back.
    pub async fn classify(
        &self,
        model: &str,
        levels: &[u32],
        task: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<f32>> {
        let legacy = is_legacy(model);
        let (path, body) = if legacy {
            (
                "completions",
                json!({"model": model, "prompt": legacy_prompt(task), "max_tokens": 1,
                "temperature": 0, "logprobs": 5}),
            )
        } else {
            (
                "chat/completions",
                json!({"model": model, "max_tokens": 1, "temperature": 0, "logprobs": true,
                "top_logprobs": 5, "messages": [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": task.trim()}]}),
            )
        };
        let v = self.call(cancel, || self.cloud.client.post(self.url(path)).json(&body)).await?;
        let choice = &v["choices"][0];
        let mut pairs: Vec<(String, f64)> = Vec::new();
        if legacy {
            if let Some(m) = choice["logprobs"]["top_logprobs"][0].as_object() {
                pairs.extend(m.iter().filter_map(|(t, lp)| lp.as_f64().map(|lp| (t.clone(), lp))));
            }
        } else if let Some(list) = choice["logprobs"]["content"][0]["top_logprobs"].as_array() {
            pairs.extend(list.iter().filter_map(|x| Some((x["token"].as_str()?.to_owned(), x["logprob"].as_f64()?))));
        }
        let mut probs = vec![0f32; levels.len()];
        for (token, lp) in &pairs {
            if let Some(i) = token.trim().parse::<u32>().ok().and_then(|l| levels.iter().position(|&x| x == l)) {
                probs[i] += lp.exp() as f32;
            }
        }
        let total: f32 = probs.iter().sum();
        if total > 0.0 {
            return Ok(probs.into_iter().map(|p| p / total).collect());
        }
        let text = if legacy { choice["text"].as_str() } else { choice["message"]["content"].as_str() }.unwrap_or("");
        let level = crate::zeroshot::parse_level(text, levels).unwrap_or(levels[levels.len() / 2]);
        Ok(levels.iter().map(|&l| if l == level { 1.0 } else { 0.0 }).collect())
    }
}

/// The suffix a job's model gets: the label source, cut to OpenAI's 18 characters.
pub fn suffix(source: &str, rule: &Rule) -> String {
    let s: String = format!("cnet-{}-{}", rule.name(), source)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
        .collect();
    s.chars().take(18).collect()
}
