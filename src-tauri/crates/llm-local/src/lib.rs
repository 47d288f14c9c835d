//! ComplexityNet's local tier: a llama.cpp runtime (through `llama-cpp-2`) implementing the providers' [`Provider`]
//! interface. It must not depend on SQL.
//!
//! - One `LlamaBackend` per process ([`backend`]), its logs sent to `tracing`.
//! - One worker thread owns each loaded [`LocalModel`] and its context; requests queue on a channel and run one
//!   at a time, each starting from an emptied KV cache, so nothing of one prompt leaks into the next.
//! - Text streams back token by token; a cancel token is checked before every token, so a cancel stops decoding
//!   within one token.
//! - A prompt that does not fit the context is a [`LocalError::ContextLength`], not a crash.
//! - The chat template comes from the GGUF metadata; a model without one (a base model, some Code Llama
//!   conversions) gets the built-in Llama 2 / Code Llama Instruct `[INST]` template.
//! - Temperature 0 is greedy and deterministic; otherwise top-p, temperature and a seeded sampler.
//! - Tool calls ([`tools`]) for a model whose chat template declares tools, in the Hermes `<tool_call>` format;
//!   such an answer is read whole, then returned as its text and its calls.

mod template;
pub mod tools;
mod worker;

use complexitynet_providers::complete as price_completion;
use complexitynet_providers::{
    Answer, BoxFuture, CancellationToken, Completion, ErrorKind, FinishReason, Provider, ProviderError, Request,
    ToolChoice, Usage,
};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, OnceLock};
use std::time::Instant;

pub use template::TemplateKind;
pub use worker::Event;

/// Runtime settings of the local tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalSettings {
    /// CPU threads for decoding. On a small machine that also runs the UI (or tests in parallel), fewer
    /// threads is faster: oversubscribed cores make llama.cpp's threads wait on each other.
    pub threads: i32,
    /// Layers offloaded to the GPU (Metal/CUDA builds); 0 on CPU.
    pub gpu_layers: u32,
    /// Context size in tokens (capped at the model's training context).
    pub n_ctx: u32,
    pub n_batch: u32,
}

impl Default for LocalSettings {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let threads = std::env::var("COMPLEXITYNET_LOCAL_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| (cores.saturating_sub(1)).clamp(1, 8) as i32);
        LocalSettings { threads, gpu_layers: 0, n_ctx: 4096, n_batch: 512 }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum LocalError {
    #[error("cannot load the model {path}: {why}")]
    Load { path: String, why: String },
    #[error("the prompt is {prompt} tokens; the context holds {n_ctx} (leave room for the answer, or raise the context size)")]
    ContextLength { prompt: usize, n_ctx: u32 },
    #[error("llama.cpp failed: {0}")]
    Runtime(String),
    #[error("the model's worker has stopped")]
    WorkerGone,
}

impl LocalError {
    fn into_provider(self, name: &str) -> ProviderError {
        let kind = match &self {
            LocalError::ContextLength { .. } => ErrorKind::ContextLength,
            LocalError::Load { .. } => ErrorKind::BadRequest,
            LocalError::Runtime(_) | LocalError::WorkerGone => ErrorKind::Server,
        };
        ProviderError::new(kind, name, self.to_string())
    }
}

/// The process's llama.cpp backend (initialised once; llama.cpp refuses a second init).
pub fn backend() -> &'static llama_cpp_2::llama_backend::LlamaBackend {
    static BACKEND: OnceLock<llama_cpp_2::llama_backend::LlamaBackend> = OnceLock::new();
    BACKEND.get_or_init(|| {
        llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
        llama_cpp_2::llama_backend::LlamaBackend::init().expect("llama.cpp initialises once per process")
    })
}

/// What a loaded model reports about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedInfo {
    pub name: String,
    pub path: PathBuf,
    pub n_ctx: u32,
    pub n_ctx_train: u32,
    pub n_params: u64,
    pub bytes: u64,
    pub template: TemplateKind,
    /// The GGUF's chat template declares tools: the model was trained to call them (see [`tools`]).
    pub calls_tools: bool,
}

/// A loaded model and the worker thread that owns it. Dropping it stops the worker and frees the model.
pub struct LocalModel {
    jobs: mpsc::Sender<worker::Job>,
    info: LoadedInfo,
}

impl LocalModel {
    /// Loads a GGUF file on a new worker thread and waits until it is ready.
    pub fn load(path: &Path, name: &str, settings: LocalSettings) -> Result<LocalModel, LocalError> {
        let (jobs, info) = worker::spawn(path.to_owned(), name.to_owned(), settings)?;
        Ok(LocalModel { jobs, info })
    }

    pub fn info(&self) -> &LoadedInfo {
        &self.info
    }

    /// Queues a generation; events arrive on the returned channel: pieces of text, then `Done` or `Failed`.
    pub fn submit(
        &self,
        request: &Request,
        cancel: CancellationToken,
    ) -> Result<tokio::sync::mpsc::UnboundedReceiver<Event>, LocalError> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let job = worker::Job {
            messages: request.messages.clone(),
            params: request.params.clone(),
            tools: request.tools.clone(),
            tool_choice: request.tool_choice.clone(),
            events: tx,
            cancel,
        };
        self.jobs.send(job).map_err(|_| LocalError::WorkerGone)?;
        Ok(rx)
    }
}

/// The local tier as a [`Provider`].
pub struct LocalProvider {
    model: std::sync::Arc<LocalModel>,
}

impl LocalProvider {
    pub fn new(model: std::sync::Arc<LocalModel>) -> Self {
        LocalProvider { model }
    }
}

impl Provider for LocalProvider {
    fn name(&self) -> &str {
        "local"
    }

    fn generate<'a>(
        &'a self,
        request: &'a Request,
        on_text: &'a (dyn Fn(&str) + Send + Sync),
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            let start = Instant::now();
            let mut rx = self.model.submit(request, cancel.clone()).map_err(|e| e.into_provider("local"))?;
            // With tools the answer is read whole before any of it goes out: a `<tool_call>` block is a call, not
            // text for the client.
            let with_tools = !request.tools.is_empty() && request.tool_choice != ToolChoice::None;
            let mut text = String::new();
            while let Some(ev) = rx.recv().await {
                match ev {
                    Event::Piece(p) => {
                        if !with_tools {
                            on_text(&p);
                        }
                        text.push_str(&p);
                    }
                    Event::Done { prompt_tokens, completion_tokens, mut finish } => {
                        let usage = Usage { prompt_tokens, completion_tokens, cached_tokens: 0 };
                        // (A cancelled answer is returned as it stands: nobody reads it for calls.)
                        let mut tool_calls = Vec::new();
                        if with_tools && finish != FinishReason::Cancelled {
                            let id_base = format!("{:x}", start_nanos());
                            let (t, calls) = tools::parse(&text, &id_base)
                                .map_err(|e| ProviderError::new(ErrorKind::Server, "local", e.to_string()))?;
                            if !t.is_empty() {
                                on_text(&t);
                            }
                            if !calls.is_empty() && finish == FinishReason::Stop {
                                finish = FinishReason::ToolCalls;
                            }
                            (text, tool_calls) = (t, calls);
                        }
                        let answer = Answer {
                            text,
                            tool_calls,
                            usage: Some(usage),
                            finish,
                            model: self.model.info.name.clone(),
                        };
                        let mut c = price_completion(request, answer, start, 1);
                        if c.finish_reason == FinishReason::Cancelled {
                            c.latency_ms = start.elapsed().as_secs_f64() * 1000.0;
                        }
                        return Ok(c);
                    }
                    Event::Failed(e) => return Err(e.into_provider("local")),
                }
            }
            Err(LocalError::WorkerGone.into_provider("local"))
        })
    }
}

/// Nanoseconds since the epoch: the calls of one answer share it in their ids, so ids differ across answers.
fn start_nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}
