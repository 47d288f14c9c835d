//! The wire formats, one module per format, both directions: a tier's provider writes its requests and reads its
//! answers with them, and the local server's front doors read their clients' requests and write the answers with
//! the same code. Everything goes through one internal conversation ([`crate::Message`] with its parts, tools,
//! tool choice), so every front door reaches every tier: a Claude Code request (Anthropic Messages) answered by
//! an OpenAI-compatible tier, a Codex request (Responses) by an Anthropic tier, tool calls translated both ways.
//!
//! - [`openai_chat`]: OpenAI Chat Completions (tiers and front door);
//! - [`anthropic_messages`]: Anthropic Messages (tiers and front door);
//! - [`responses`]: OpenAI Responses (front door: what Codex speaks).
//!
//! Reading a request never panics, whatever the JSON: a field that cannot be used is a [`WireError`] naming it
//! (the front door answers 400 in its own error shape), and a part a tier cannot take is refused, not dropped.

pub mod anthropic_messages;
pub mod openai_chat;
pub mod responses;

use serde_json::Value;

use crate::{Completion, GenParams, Message, ToolChoice, ToolDef};

/// A client's request in internal terms: what a front door read.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// The model the client named (`auto`, a tier, a tier's model, or the client's own default).
    pub model: String,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolDef>,
    pub tool_choice: ToolChoice,
    pub parallel_tool_calls: Option<bool>,
    pub params: GenParams,
    pub stream: bool,
    /// OpenAI's `stream_options.include_usage`: a last chunk with the usage.
    pub include_usage: bool,
    /// Tools the client offered that no tier can run (a provider's hosted tools: web search, a namespace of
    /// another agent's tools), each with why; they are not offered to the tier, and the decision says so.
    pub not_offered: Vec<String>,
}

impl Conversation {
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        Conversation {
            model: model.into(),
            messages,
            tools: Vec::new(),
            tool_choice: ToolChoice::Auto,
            parallel_tool_calls: None,
            params: GenParams::default(),
            stream: false,
            include_usage: false,
            not_offered: Vec::new(),
        }
    }
}

/// A field of a request that cannot be used: its path (`messages[2].content[0].type`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WireError {
    pub param: String,
    pub message: String,
}

pub(crate) fn bad(param: impl Into<String>, message: impl Into<String>) -> WireError {
    WireError { param: param.into(), message: message.into() }
}

/// One server-sent event to write: an optional event name and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseOut {
    pub event: Option<String>,
    pub data: String,
}

impl SseOut {
    pub fn data(data: impl Into<String>) -> Self {
        SseOut { event: None, data: data.into() }
    }
    pub fn named(event: &str, data: &Value) -> Self {
        SseOut { event: Some(event.to_owned()), data: data.to_string() }
    }
}

/// A front door's streamed answer: the events it writes as the answer is made. `extra` is the ComplexityNet
/// information (tier, level, cost) a format that has room for it carries.
pub trait StreamWriter: Send {
    /// Before any text: the head of the answer.
    fn start(&mut self, extra: Option<&Value>) -> Vec<SseOut>;
    /// A piece of text as it arrives.
    fn text(&mut self, piece: &str) -> Vec<SseOut>;
    /// The end: the tool calls the model made, why it stopped, the usage.
    fn finish(&mut self, completion: &Completion, extra: Option<&Value>) -> Vec<SseOut>;
    /// A failure after the stream began.
    fn error(&mut self, message: &str) -> Vec<SseOut>;
}

/// A string field, or None when absent or null; another type is an error naming it.
pub(crate) fn opt_str<'a>(v: &'a Value, key: &str, path: &str) -> Result<Option<&'a str>, WireError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(x) => Err(bad(path, format!("{path} must be a string, got {}", kind(x)))),
    }
}

pub(crate) fn opt_bool(v: &Value, key: &str, path: &str) -> Result<Option<bool>, WireError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(x) => Err(bad(path, format!("{path} must be true or false, got {}", kind(x)))),
    }
}

/// What kind of JSON value this is, for error messages (never the value itself: it may be huge).
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The sampling fields every format shares (under its own names), checked.
pub(crate) fn sampling(
    v: &Value,
    params: &mut GenParams,
    max_fields: &[&str],
    stop_field: &str,
    max_stops: usize,
) -> Result<(), WireError> {
    for field in max_fields {
        match v.get(*field) {
            None | Some(Value::Null) => {}
            Some(x) => match x.as_i64() {
                Some(n) if (1..=1_000_000).contains(&n) => params.max_tokens = n as u32,
                _ => return Err(bad(*field, format!("{field} must be a positive integer, got {x}"))),
            },
        }
    }
    match v.get("temperature") {
        None | Some(Value::Null) => {}
        Some(x) => match x.as_f64() {
            Some(t) if (0.0..=2.0).contains(&t) => params.temperature = t as f32,
            _ => return Err(bad("temperature", format!("temperature must be a number from 0 to 2, got {x}"))),
        },
    }
    match v.get("top_p") {
        None | Some(Value::Null) => {}
        Some(x) => match x.as_f64() {
            Some(p) if p > 0.0 && p <= 1.0 => params.top_p = Some(p as f32),
            _ => return Err(bad("top_p", format!("top_p must be a number above 0 and at most 1, got {x}"))),
        },
    }
    match v.get(stop_field) {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => params.stop = vec![s.clone()],
        Some(Value::Array(a)) if a.len() <= max_stops && a.iter().all(Value::is_string) => {
            params.stop = a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()
        }
        Some(x) => {
            return Err(bad(stop_field, format!("{stop_field} must be a string or up to {max_stops} strings, got {x}")))
        }
    }
    Ok(())
}

/// A tool call's arguments as a JSON object for the formats that carry them as one (Anthropic's `input`). A
/// model that wrote arguments that are not a JSON object gets them as a string under `"_raw"`, so nothing is
/// lost and the client's tool reports the error.
pub(crate) fn arguments_object(arguments: &str) -> Value {
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ if arguments.trim().is_empty() => Value::Object(Default::default()),
        _ => serde_json::json!({ "_raw": arguments }),
    }
}

/// A front door's request body as JSON. Here rather than at the server's call site so that the parse is compiled
/// with this crate's optimisation: the app crate is built at `opt-level = 0` (Cargo.toml), and `from_slice` is
/// generic, so it would be instantiated there — and an agent's request carries its whole conversation.
pub fn parse_body(bytes: &[u8]) -> serde_json::Result<Value> {
    serde_json::from_slice(bytes)
}

/// An id for something the provider did not name (a tool call without an id), unique in this process.
pub fn new_id(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0);
    format!("{prefix}{t:x}{:04x}", N.fetch_add(1, Ordering::Relaxed) & 0xffff)
}

/// The text of a tool result or message given as a string or as a list of text parts (`{"type": "text",
/// "text": …}` and the formats' other text part names). Non-text parts are refused by the caller.
pub(crate) fn text_of(parts: &[Value]) -> String {
    parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("")
}
