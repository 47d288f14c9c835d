//! The worker thread that owns one loaded model and runs its queued generations one at a time.

use complexitynet_providers::{CancellationToken, FinishReason, GenParams, Message, ToolChoice, ToolDef};
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
    /// The request's tools (empty for a plain chat) and whether a call is required.
    pub tools: Vec<ToolDef>,
    pub tool_choice: ToolChoice,
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
            let chat_template = model.chat_template(None).ok().and_then(|t| t.to_string().ok());
            let template = if chat_template.is_some() { TemplateKind::Gguf } else { TemplateKind::LlamaInst };
            let calls_tools = chat_template.as_deref().is_some_and(crate::tools::declares_tools);
            let info = LoadedInfo {
                name: name.clone(),
                path: path.clone(),
                n_ctx,
                n_ctx_train,
                n_params: model.n_params(),
                bytes: model.size(),
                template,
                calls_tools,
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

/// The name a top-level `def NAME(` / `class NAME(` or `class NAME:` line defines, once the line shows it.
fn defined_name(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("def ")
        .or_else(|| line.strip_prefix("async def "))
        .or_else(|| line.strip_prefix("class "))?;
    let end = rest.find(['(', ':'])?;
    let name = rest[..end].trim();
    (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')).then_some(name)
}

fn fence_indent(line: &str) -> Option<usize> {
    let t = line.trim_start();
    let indent = line.len() - t.len();
    (t.starts_with("```") && indent <= 3).then_some(indent)
}

/// Where a local answer ends early, as a byte offset to cut the text at:
/// - any answer, before a top-level definition it already wrote (a small model repeating itself until the
///   token limit: the first copy is the answer, the rest is noise that a truncated last copy turns into a
///   syntax error);
/// - a code answer (`code_answer`), right after the fence that closes its code block — the block it opened, or,
///   when it started with code, the one the prompt opened.
fn early_end(text: &str, code_answer: bool) -> Option<usize> {
    let mut names: Vec<&str> = Vec::new();
    let (mut open, mut seen_code, mut pos) = (false, false, 0);
    for line in text.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let l = line.trim_end_matches(['\n', '\r']);
        if let Some(indent) = fence_indent(l) {
            if code_answer {
                let tag = l.trim_start()[3..].trim();
                if open || (tag.is_empty() && seen_code && line.ends_with('\n')) {
                    return Some(start + indent + 3);
                }
                open = open || line.ends_with('\n') || !tag.is_empty();
            }
            continue;
        }
        if let Some(name) = defined_name(l) {
            if names.contains(&name) {
                return Some(start);
            }
            names.push(name);
        }
        seen_code |= l.starts_with([' ', '\t'])
            || ["def ", "class ", "import ", "from ", "async def "].iter().any(|p| l.starts_with(p));
    }
    None
}

/// How much of the text's end is not yet decided by [`early_end`]: a last line that may still become a fence or
/// the repeat of a definition is held back, so nothing is shown that the cut would take back.
fn undecided_tail(text: &str) -> usize {
    let last = &text[text.rfind('\n').map(|i| i + 1).unwrap_or(0)..];
    let t = last.trim_start();
    let maybe = ["```", "def ", "class ", "async def "].iter().any(|p| p.starts_with(t) || t.starts_with("```"))
        || ((t.starts_with("def ") || t.starts_with("class ") || t.starts_with("async def "))
            && !t.contains(['(', ':']));
    if maybe {
        last.len()
    } else {
        0
    }
}

fn generate(
    model: &LlamaModel,
    ctx: &mut LlamaContext,
    settings: &LocalSettings,
    n_ctx: u32,
    job: Job,
) -> Result<(), LocalError> {
    let rt = |e: &dyn std::fmt::Display| LocalError::Runtime(e.to_string());
    // With tools, the conversation in the Hermes tool format first (crate::tools), then the model's chat format.
    let with_tools = !job.tools.is_empty() && job.tool_choice != ToolChoice::None;
    let rendered;
    let messages: &[Message] = if with_tools {
        rendered = crate::tools::render(&job.messages, &job.tools);
        &rendered
    } else {
        &job.messages
    };
    let (prompt, _) = template::format(model, messages).map_err(|e| rt(&e))?;
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
    let pick = if p.temperature <= 0.0 {
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
    // A required call: the grammar admits only a well-formed call of an offered tool, before the pick.
    let mut sampler = match crate::tools::grammar(&job.tools, &job.tool_choice).filter(|_| with_tools) {
        Some(g) => {
            let g = LlamaSampler::grammar(model, &g, "root").map_err(|e| rt(&format!("the tool-call grammar: {e}")))?;
            LlamaSampler::chain_simple([g, pick])
        }
        None => pick,
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
        // `llama_sampler_sample` accepts the token itself: accepting it again would advance a stateful sampler
        // (the tool-call grammar) twice.
        let tok = sampler.sample(ctx, batch.n_tokens() - 1);
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
        if let Some(at) = early_end(&text, p.code_answer).filter(|&at| at >= emitted) {
            if at > emitted {
                let _ = job.events.send(Event::Piece(text[emitted..at].to_owned()));
            }
            text.truncate(at);
            emitted = at;
            break FinishReason::Stop;
        }
        let hold = held_back(&text[emitted..], &p.stop).max(undecided_tail(&text[emitted..]));
        let safe = text.len() - hold;
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
    use super::{early_end, held_back, undecided_tail};

    #[test]
    fn a_code_answer_ends_when_its_block_closes_or_a_definition_repeats() {
        let add = "def add(a, b):\n    return a + b\n";
        // The block the answer opened closes: cut right after the closing fence.
        let t = format!("Sure!\n```python\n{add}```\nThis adds two numbers.");
        assert_eq!(early_end(&t, true), Some(t.find("```\nThis").unwrap() + 3));
        assert_eq!(early_end(&t, false), None, "prose after code is fine in a chat answer");
        // Code first, then the fence the prompt had opened.
        let t = format!("{add}```\n\nExplanation");
        assert_eq!(early_end(&t, true), Some(add.len() + 3));
        // An opening fence still being written is not a close.
        assert_eq!(early_end("```py", true), None);
        assert_eq!(early_end(&format!("```python\n{add}"), true), None);
        // The same definition again: cut before it, in any answer.
        let t = format!("```python\n{add}\n{add}\n{}", &add[..10]);
        assert_eq!(early_end(&t, false), Some(format!("```python\n{add}\n").len()));
        assert_eq!(early_end(&format!("{add}def sub(a, b):\n    return a - b\n"), false), None, "a new definition");
    }

    #[test]
    fn a_line_that_may_become_a_fence_or_a_repeat_is_held_back() {
        assert_eq!(undecided_tail("x = 1\n`"), 1);
        assert_eq!(undecided_tail("x = 1\nde"), 2);
        assert_eq!(undecided_tail("x = 1\ndef ad"), 6);
        assert_eq!(undecided_tail("x = 1\ndef add("), 0, "the name is known");
        assert_eq!(undecided_tail("x = 1\n    return"), 0);
        assert_eq!(undecided_tail("x = 1\n"), 0);
    }

    #[test]
    fn a_possible_stop_string_start_is_held_back() {
        let stops = vec!["```".to_owned(), "\nEND".to_owned()];
        assert_eq!(held_back("x = 1\n`", &stops), 1);
        assert_eq!(held_back("x = 1\n``", &stops), 2);
        assert_eq!(held_back("x = 1\n", &stops), 1);
        assert_eq!(held_back("x = 1", &stops), 0);
    }
}
