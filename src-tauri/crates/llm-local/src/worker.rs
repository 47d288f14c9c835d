//! The worker thread that owns one loaded model and runs its queued generations one at a time.

use complexitynet_engine::tiers::{CancellationToken, FinishReason, GenParams, Message};
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::mpsc;
use tokio::sync::mpsc::UnboundedSender;

use crate::template::{self, TemplateKind};
use crate::{LoadedInfo, LocalError, LocalSettings};

pub(crate) struct Job {
    pub messages: Vec<Message>,
    pub params: GenParams,
    pub events: UnboundedSender<Event>,
    pub cancel: CancellationToken,
}

/// What a generation reports, in order: pieces of text, then exactly one `Done` or `Failed`.
#[derive(Debug, Clone)]
pub enum Event {
    Piece(String),
    Done { prompt_tokens: u32, completion_tokens: u32, finish: FinishReason },
    Failed(LocalError),
}

pub(crate) fn spawn(
    path: PathBuf,
    name: String,
    settings: LocalSettings,
) -> Result<(mpsc::Sender<Job>, LoadedInfo), LocalError> {
    if !path.is_file() {
        return Err(LocalError::Load { path: path.display().to_string(), why: "no such file".into() });
    }
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
    let (ready_tx, ready_rx) = mpsc::channel::<Result<LoadedInfo, LocalError>>();
    std::thread::Builder::new()
        .name(format!("llama-{name}"))
        .spawn(move || {
            let backend = crate::backend();
            let params = LlamaModelParams::default().with_n_gpu_layers(settings.gpu_layers);
            let _span = tracing::info_span!("local_model", name = %name).entered();
            let model = match LlamaModel::load_from_file(backend, &path, &params) {
                Ok(m) => m,
                Err(e) => {
                    let _ =
                        ready_tx.send(Err(LocalError::Load { path: path.display().to_string(), why: e.to_string() }));
                    return;
                }
            };
            let n_ctx_train = model.n_ctx_train();
            let n_ctx = if n_ctx_train > 0 { settings.n_ctx.min(n_ctx_train) } else { settings.n_ctx };
            let template = if model.chat_template(None).is_ok() { TemplateKind::Gguf } else { TemplateKind::LlamaInst };
            let info = LoadedInfo {
                name: name.clone(),
                path: path.clone(),
                n_ctx,
                n_ctx_train,
                n_params: model.n_params(),
                bytes: model.size(),
                template,
            };
            // One context for the worker's life; every request starts from an emptied KV cache. Re-creating
            // the context per request gives the same isolation but costs tens of milliseconds (its buffers
            // and compute graph are allocated again), a fifth of a short prompt's processing time.
            let ctx_params = LlamaContextParams::default()
                .with_n_ctx(NonZeroU32::new(n_ctx))
                .with_n_batch(settings.n_batch)
                .with_n_threads(settings.threads)
                .with_n_threads_batch(settings.threads);
            let mut ctx = match model.new_context(backend, ctx_params) {
                Ok(c) => c,
                Err(e) => {
                    let _ =
                        ready_tx.send(Err(LocalError::Load { path: path.display().to_string(), why: e.to_string() }));
                    return;
                }
            };
            tracing::info!(?template, n_ctx, params = info.n_params, "model loaded");
            if ready_tx.send(Ok(info)).is_err() {
                return;
            }
            // Requests queue here and run one after another; the thread ends when the model is dropped.
            for job in jobs_rx {
                let events = job.events.clone();
                let _span = tracing::info_span!("generate").entered();
                ctx.clear_kv_cache();
                if let Err(e) = generate(&model, &mut ctx, &settings, n_ctx, job) {
                    tracing::warn!(error = %e, "local generation failed");
                    let _ = events.send(Event::Failed(e));
                }
            }
        })
        .map_err(|e| LocalError::Runtime(format!("cannot start the model's thread: {e}")))?;
    let info = ready_rx.recv().map_err(|_| LocalError::WorkerGone)??;
    Ok((jobs_tx, info))
}

/// The longest suffix of `text` that is a proper prefix of some stop string: held back until it is clear
/// whether a stop string follows, so a stop string is never half-shown.
fn held_back(text: &str, stops: &[String]) -> usize {
    let mut keep = 0;
    for s in stops {
        for (i, _) in s.char_indices().skip(1) {
            let prefix = &s[..i];
            if text.ends_with(prefix) {
                keep = keep.max(prefix.len());
            }
        }
    }
    keep
}

fn generate(
    model: &LlamaModel,
    ctx: &mut LlamaContext,
    settings: &LocalSettings,
    n_ctx: u32,
    job: Job,
) -> Result<(), LocalError> {
    let rt = |e: &dyn std::fmt::Display| LocalError::Runtime(e.to_string());
    let (prompt, _) = template::format(model, &job.messages).map_err(|e| rt(&e))?;
    let vocab = model.vocab();
    let tokens = vocab.tokenize(prompt.as_bytes(), true, true);
    if tokens.is_empty() {
        return Err(LocalError::Runtime("the prompt produced no tokens".into()));
    }
    if tokens.len() as u32 >= n_ctx {
        return Err(LocalError::ContextLength { prompt: tokens.len(), n_ctx });
    }
    let max_new = job.params.max_tokens.min(n_ctx - tokens.len() as u32);

    // The prompt, in batches; logits only for its last token.
    let n_batch = settings.n_batch.max(1) as usize;
    let mut batch = LlamaBatch::new(n_batch, 1);
    for (ci, chunk) in tokens.chunks(n_batch).enumerate() {
        if job.cancel.is_cancelled() {
            let _ = job.events.send(Event::Done {
                prompt_tokens: tokens.len() as u32,
                completion_tokens: 0,
                finish: FinishReason::Cancelled,
            });
            return Ok(());
        }
        batch.clear();
        for (j, t) in chunk.iter().enumerate() {
            let pos = ci * n_batch + j;
            batch.add(*t, pos as i32, &[0], pos == tokens.len() - 1).map_err(|e| rt(&e))?;
        }
        ctx.decode(&mut batch).map_err(|e| rt(&e))?;
    }

    let p = &job.params;
    let mut sampler = if p.temperature <= 0.0 {
        LlamaSampler::greedy()
    } else {
        let seed = p.seed.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
        });
        let mut chain = Vec::new();
        if let Some(top_p) = p.top_p.filter(|&t| t < 1.0) {
            chain.push(LlamaSampler::top_p(top_p, 1));
        }
        chain.push(LlamaSampler::temp(p.temperature));
        chain.push(LlamaSampler::dist(seed as u32));
        LlamaSampler::chain_simple(chain)
    };

    let mut decoder = encoding_rs::UTF_8.new_decoder();
    let (mut text, mut emitted, mut generated) = (String::new(), 0usize, 0u32);
    let mut n_cur = tokens.len();
    let finish = loop {
        if job.cancel.is_cancelled() {
            break FinishReason::Cancelled;
        }
        if generated >= max_new {
            break FinishReason::Length;
        }
        let tok = sampler.sample(ctx, batch.n_tokens() - 1);
        sampler.accept(tok);
        if vocab.is_eog(tok) {
            break FinishReason::Stop;
        }
        generated += 1;
        // A piece can end inside a multi-byte character: the streaming decoder keeps the tail for the next one.
        let bytes = vocab.token_to_piece(tok, false, None);
        let mut piece = String::with_capacity(decoder.max_utf8_buffer_length(bytes.len()).unwrap_or(bytes.len() + 8));
        let _ = decoder.decode_to_string(&bytes, &mut piece, false);
        text.push_str(&piece);
        if let Some(at) = p
            .stop
            .iter()
            .filter(|s| !s.is_empty())
            .filter_map(|s| text[emitted..].find(s.as_str()).map(|i| emitted + i))
            .min()
        {
            if at > emitted {
                let _ = job.events.send(Event::Piece(text[emitted..at].to_owned()));
            }
            text.truncate(at);
            emitted = at;
            break FinishReason::Stop;
        }
        let safe = text.len() - held_back(&text[emitted..], &p.stop);
        if safe > emitted {
            if job.events.send(Event::Piece(text[emitted..safe].to_owned())).is_err() {
                break FinishReason::Cancelled; // the caller went away
            }
            emitted = safe;
        }
        batch.clear();
        batch.add(tok, n_cur as i32, &[0], true).map_err(|e| rt(&e))?;
        n_cur += 1;
        ctx.decode(&mut batch).map_err(|e| rt(&e))?;
    };
    // Text held back for a stop string that never came (or the decoder's tail) still belongs to the answer.
    if emitted < text.len() {
        let _ = job.events.send(Event::Piece(text[emitted..].to_owned()));
    }
    let _ = job.events.send(Event::Done { prompt_tokens: tokens.len() as u32, completion_tokens: generated, finish });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::held_back;

    #[test]
    fn a_possible_stop_string_start_is_held_back() {
        let stops = vec!["```".to_owned(), "\nEND".to_owned()];
        assert_eq!(held_back("x = 1\n`", &stops), 1);
        assert_eq!(held_back("x = 1\n``", &stops), 2);
        assert_eq!(held_back("x = 1\n", &stops), 1);
        assert_eq!(held_back("x = 1", &stops), 0);
    }
}
