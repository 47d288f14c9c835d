//! Anthropic Messages, both directions.
//!
//! As a tier: [`request_body`] writes a request (`system` on top, alternating user/assistant turns, `tool_use`
//! and `tool_result` blocks, images, tools with `input_schema`, `tool_choice`), [`read_response`] reads a
//! whole answer and [`StreamReader`] the named events of a streamed one (`text_delta`, `input_json_delta`).
//! As a front door (what Claude Code speaks): [`parse_request`] reads a client's request — system as a string
//! or blocks, text, image, tool_use, tool_result and thinking blocks, a `system` message mid-conversation — and
//! [`render`] / [`Writer`] write the answer and its events.

use serde_json::{json, Value};
use std::collections::BTreeMap;

use super::{arguments_object, bad, kind, opt_bool, sampling, Conversation, SseOut, StreamWriter, WireError};
use crate::{
    Answer, Completion, FinishReason, GenParams, Message, Part, Request, Role, ToolCall, ToolChoice, ToolDef, Usage,
};

pub const API_VERSION: &str = "2023-06-01";

// ------------------------------------------------------------------------------------------------------------
// As a tier

fn image_block(media_type: &str, data: &Option<String>, url: &Option<String>) -> Value {
    match (data, url) {
        (Some(d), _) => json!({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": d}}),
        (None, Some(u)) => json!({"type": "image", "source": {"type": "url", "url": u}}),
        (None, None) => json!({"type": "text", "text": "[an image with no data]"}),
    }
}

/// The system text and the turns as Messages carries them: tool results as `tool_result` blocks in a user turn,
/// tool calls as `tool_use` blocks, consecutive messages of one side merged (the API wants them alternating).
/// Thinking blocks are not sent: their signatures verify only with the provider that wrote them, and this
/// request does not ask for thinking.
pub fn messages(msgs: &[Message]) -> (String, Vec<Value>) {
    let mut system = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for m in msgs {
        let (role, mut blocks) = match m.role {
            Role::System => {
                system.push(m.content.clone());
                continue;
            }
            Role::User | Role::Tool => ("user", Vec::new()),
            Role::Assistant => ("assistant", Vec::new()),
        };
        for (id, content, is_error) in m.tool_results() {
            let mut b = json!({"type": "tool_result", "tool_use_id": id, "content": content});
            if is_error {
                b["is_error"] = json!(true);
            }
            blocks.push(b);
        }
        if !m.content.is_empty() {
            blocks.push(json!({"type": "text", "text": m.content}));
        }
        for p in &m.parts {
            match p {
                Part::Image { media_type, data, url } => blocks.push(image_block(media_type, data, url)),
                Part::ToolCall(c) => blocks.push(
                    json!({"type": "tool_use", "id": c.id, "name": c.name, "input": arguments_object(&c.arguments)}),
                ),
                Part::ToolResult { .. } | Part::Thinking { .. } => {}
            }
        }
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((r, b)) if *r == role => b.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let turns = turns.into_iter().map(|(role, content)| json!({"role": role, "content": content})).collect();
    (system.join("\n\n"), turns)
}

pub fn tools(tools: &[ToolDef]) -> Vec<Value> {
    tools
        .iter()
        .map(|t| {
            json!({"name": t.name, "description": t.description,
                "input_schema": if t.parameters.is_object() { t.parameters.clone() } else { json!({"type": "object"}) }})
        })
        .collect()
}

pub fn tool_choice(c: &ToolChoice, parallel: Option<bool>) -> Value {
    let mut v = match c {
        ToolChoice::Auto => json!({"type": "auto"}),
        ToolChoice::None => json!({"type": "none"}),
        ToolChoice::Required => json!({"type": "any"}),
        ToolChoice::Tool(name) => json!({"type": "tool", "name": name}),
    };
    if parallel == Some(false) && !matches!(c, ToolChoice::None) {
        v["disable_parallel_tool_use"] = json!(true);
    }
    v
}

/// A tier's request body.
pub fn request_body(req: &Request) -> Value {
    let p = &req.params;
    let (system, messages) = messages(&req.messages);
    let mut body = json!({
        "model": req.model,
        "max_tokens": p.max_tokens,
        "messages": messages,
        "temperature": p.temperature.min(1.0),
        "stream": req.stream,
    });
    if !system.is_empty() {
        body["system"] = json!(system);
    }
    if let Some(top_p) = p.top_p {
        body["top_p"] = json!(top_p);
    }
    if !p.stop.is_empty() {
        body["stop_sequences"] = json!(p.stop);
    }
    if !req.tools.is_empty() {
        body["tools"] = Value::Array(tools(&req.tools));
        body["tool_choice"] = tool_choice(&req.tool_choice, req.parallel_tool_calls);
    }
    body
}

pub fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        Some("end_turn") | Some("stop_sequence") | None => FinishReason::Stop,
        Some("max_tokens") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some(other) => FinishReason::Other(other.to_owned()),
    }
}

/// Usage as Anthropic reports it: input tokens not from the cache, cache reads and writes apart.
fn usage_of(u: &Value) -> (Option<u64>, Option<u64>, u64, u64) {
    (
        u["input_tokens"].as_u64(),
        u["output_tokens"].as_u64(),
        u["cache_read_input_tokens"].as_u64().unwrap_or(0),
        u["cache_creation_input_tokens"].as_u64().unwrap_or(0),
    )
}

/// A whole (non-streamed) answer.
pub fn read_response(v: &Value, model: &str) -> Answer {
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for b in v["content"].as_array().into_iter().flatten() {
        match b["type"].as_str() {
            Some("text") => text.push_str(b["text"].as_str().unwrap_or_default()),
            Some("tool_use") => tool_calls.push(ToolCall {
                id: b["id"].as_str().map(str::to_owned).unwrap_or_else(|| super::new_id("toolu_")),
                name: b["name"].as_str().unwrap_or_default().to_owned(),
                arguments: b.get("input").filter(|i| !i.is_null()).map(Value::to_string).unwrap_or_else(|| "{}".into()),
            }),
            _ => {} // thinking: the tier's own, not part of the answer
        }
    }
    let usage = v["usage"].is_object().then(|| {
        let (i, o, read, write) = usage_of(&v["usage"]);
        Usage {
            prompt_tokens: (i.unwrap_or(0) + read + write) as u32,
            completion_tokens: o.unwrap_or(0) as u32,
            cached_tokens: read as u32,
        }
    });
    Answer {
        text,
        tool_calls,
        usage,
        finish: finish_reason(v["stop_reason"].as_str()),
        model: v["model"].as_str().unwrap_or(model).to_owned(),
    }
}

/// A streamed answer, event by event: text comes back as it arrives; `tool_use` blocks are put together from
/// their `input_json_delta`s.
#[derive(Debug, Default)]
pub struct StreamReader {
    text: String,
    calls: BTreeMap<u64, ToolCall>,
    input: Option<u64>,
    output: Option<u64>,
    cache: (u64, u64),
    stop: Option<String>,
    model: Option<String>,
}

impl StreamReader {
    /// Reads one event; returns the text piece it carries.
    pub fn event(&mut self, event: &str, v: &Value) -> Option<String> {
        match event {
            "message_start" => {
                let (i, o, read, write) = usage_of(&v["message"]["usage"]);
                self.input = i;
                self.output = o;
                self.cache = (read, write);
                if let Some(m) = v["message"]["model"].as_str() {
                    self.model = Some(m.to_owned());
                }
            }
            "content_block_start" if v["content_block"]["type"] == "tool_use" => {
                let b = &v["content_block"];
                self.calls.insert(
                    v["index"].as_u64().unwrap_or(0),
                    ToolCall {
                        id: b["id"].as_str().map(str::to_owned).unwrap_or_else(|| super::new_id("toolu_")),
                        name: b["name"].as_str().unwrap_or_default().to_owned(),
                        arguments: String::new(),
                    },
                );
            }
            "content_block_delta" => match v["delta"]["type"].as_str() {
                Some("input_json_delta") => {
                    if let Some(c) = self.calls.get_mut(&v["index"].as_u64().unwrap_or(0)) {
                        c.arguments.push_str(v["delta"]["partial_json"].as_str().unwrap_or_default());
                    }
                }
                Some("text_delta") | None => {
                    let piece = v["delta"]["text"].as_str().filter(|p| !p.is_empty())?;
                    self.text.push_str(piece);
                    return Some(piece.to_owned());
                }
                _ => {} // thinking and signature deltas
            },
            "message_delta" => {
                if let Some(s) = v["delta"]["stop_reason"].as_str() {
                    self.stop = Some(s.to_owned());
                }
                let (i, o, read, write) = usage_of(&v["usage"]);
                if o.is_some() {
                    self.output = o;
                }
                if i.is_some() {
                    self.input = i;
                }
                if read + write > 0 {
                    self.cache = (read, write);
                }
            }
            _ => {}
        }
        None
    }

    pub fn answer(self, model: &str, cancelled: bool) -> Answer {
        let usage = match (self.input, self.output) {
            (None, None) => None,
            (i, o) => Some(Usage {
                prompt_tokens: (i.unwrap_or(0) + self.cache.0 + self.cache.1) as u32,
                completion_tokens: o.unwrap_or(0) as u32,
                cached_tokens: self.cache.0 as u32,
            }),
        };
        let tool_calls: Vec<ToolCall> = self
            .calls
            .into_values()
            .map(|mut c| {
                if c.arguments.trim().is_empty() {
                    c.arguments = "{}".into();
                }
                c
            })
            .collect();
        let finish = if cancelled { FinishReason::Cancelled } else { finish_reason(self.stop.as_deref()) };
        Answer { text: self.text, tool_calls, usage, finish, model: self.model.unwrap_or_else(|| model.to_owned()) }
    }
}

// ------------------------------------------------------------------------------------------------------------
// As a front door

/// The text of a tool result's content: a string, or blocks of text (an image in a result becomes a note: the
/// tier gets the text, and the client's screenshots are described as such).
fn result_text(v: &Value, path: &str) -> Result<String, WireError> {
    match v {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        Value::Array(blocks) => {
            let mut out = Vec::new();
            for (k, b) in blocks.iter().enumerate() {
                match b.get("type").and_then(Value::as_str) {
                    Some("text") => out.push(b["text"].as_str().unwrap_or_default().to_owned()),
                    Some("image") => out.push("[image]".to_owned()),
                    other => {
                        return Err(bad(
                            format!("{path}[{k}].type"),
                            format!("{path}[{k}].type {other:?} is not supported in a tool result (text, image)"),
                        ))
                    }
                }
            }
            Ok(out.join("\n"))
        }
        x => Err(bad(path, format!("{path} must be a string or a list of blocks, got {}", kind(x)))),
    }
}

fn image_of(b: &Value, path: &str) -> Result<Part, WireError> {
    let s = &b["source"];
    match s["type"].as_str() {
        Some("base64") => Ok(Part::Image {
            media_type: s["media_type"].as_str().unwrap_or("image/png").to_owned(),
            data: Some(
                s["data"]
                    .as_str()
                    .ok_or_else(|| bad(format!("{path}.source.data"), format!("{path}.source.data must be a string")))?
                    .to_owned(),
            ),
            url: None,
        }),
        Some("url") => Ok(Part::Image {
            media_type: String::new(),
            data: None,
            url: Some(
                s["url"]
                    .as_str()
                    .ok_or_else(|| bad(format!("{path}.source.url"), format!("{path}.source.url must be a string")))?
                    .to_owned(),
            ),
        }),
        other => Err(bad(format!("{path}.source.type"), format!("{path}.source.type {other:?} is not base64 or url"))),
    }
}

fn parse_message(m: &Value, i: usize) -> Result<Vec<Message>, WireError> {
    let path = format!("messages[{i}]");
    let role = match m.get("role").and_then(Value::as_str) {
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        // Claude Code sends system reminders as `system` turns mid-conversation.
        Some("system") => Role::System,
        other => return Err(bad(format!("{path}.role"), format!("{path}.role {other:?} is not user or assistant"))),
    };
    let blocks = match m.get("content") {
        Some(Value::String(s)) => return Ok(vec![Message::new(role, s.clone())]),
        Some(Value::Array(b)) => b,
        Some(x) => {
            return Err(bad(
                format!("{path}.content"),
                format!("{path}.content must be a string or a list of blocks, got {}", kind(x)),
            ))
        }
        None => return Err(bad(format!("{path}.content"), format!("{path}.content is required"))),
    };
    let mut text = Vec::new();
    let mut parts = Vec::new();
    for (j, b) in blocks.iter().enumerate() {
        let here = format!("{path}.content[{j}]");
        let t = b
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("{here}.type"), format!("{here} has no type")))?;
        match (t, role) {
            ("text", _) => match b.get("text") {
                Some(Value::String(s)) => text.push(s.clone()),
                _ => return Err(bad(format!("{here}.text"), format!("{here}.text must be a string"))),
            },
            ("image", Role::User) => parts.push(image_of(b, &here)?),
            ("tool_use", Role::Assistant) => {
                let id = b["id"].as_str().filter(|s| !s.is_empty()).ok_or_else(|| bad(format!("{here}.id"), format!("{here}.id must be a string")))?;
                let name = b["name"].as_str().filter(|s| !s.is_empty()).ok_or_else(|| bad(format!("{here}.name"), format!("{here}.name must be a string")))?;
                let input = b.get("input").cloned().unwrap_or(json!({}));
                parts.push(Part::ToolCall(ToolCall { id: id.to_owned(), name: name.to_owned(), arguments: input.to_string() }));
            }
            ("tool_result", Role::User) => {
                let id = b["tool_use_id"].as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
                    bad(format!("{here}.tool_use_id"), format!("{here}.tool_use_id must be a string"))
                })?;
                let content = result_text(b.get("content").unwrap_or(&Value::Null), &format!("{here}.content"))?;
                let is_error = opt_bool(b, "is_error", &format!("{here}.is_error"))?.unwrap_or(false);
                parts.push(Part::ToolResult { call_id: id.to_owned(), content, is_error });
            }
            ("thinking", Role::Assistant) => parts.push(Part::Thinking {
                text: b["thinking"].as_str().unwrap_or_default().to_owned(),
                signature: b["signature"].as_str().map(str::to_owned),
            }),
            ("redacted_thinking", Role::Assistant) => {}
            (other, _) => {
                return Err(bad(
                    format!("{here}.type"),
                    format!("{here}.type {other:?} is not supported in a {} message (text, image, tool_use, tool_result, thinking)", m["role"].as_str().unwrap_or("?")),
                ))
            }
        }
    }
    Ok(vec![Message { role, content: text.join("\n\n"), parts }])
}

fn parse_system(v: &Value) -> Result<Option<String>, WireError> {
    match v.get("system") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Array(blocks)) => {
            let mut out = Vec::new();
            for (j, b) in blocks.iter().enumerate() {
                match (b.get("type").and_then(Value::as_str), b.get("text")) {
                    (Some("text"), Some(Value::String(t))) => out.push(t.clone()),
                    _ => return Err(bad(format!("system[{j}]"), format!("system[{j}] must be a text block"))),
                }
            }
            Ok(Some(out.join("\n\n")))
        }
        Some(x) => Err(bad("system", format!("system must be a string or a list of text blocks, got {}", kind(x)))),
    }
}

/// Client tools: custom tools (a name and an `input_schema`) are offered to the tier; Anthropic's server tools
/// (web search, code execution: a `type` other than `custom`) run at Anthropic and nowhere else, so they are not
/// offered, and the decision says so.
fn parse_tools(v: &Value) -> Result<(Vec<ToolDef>, Vec<String>), WireError> {
    let list = match v.get("tools") {
        None | Some(Value::Null) => return Ok((Vec::new(), Vec::new())),
        Some(Value::Array(l)) => l,
        Some(x) => return Err(bad("tools", format!("tools must be a list, got {}", kind(x)))),
    };
    let (mut tools, mut not_offered) = (Vec::new(), Vec::new());
    for (i, t) in list.iter().enumerate() {
        let here = format!("tools[{i}]");
        let name = t["name"]
            .as_str()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| bad(format!("{here}.name"), format!("{here}.name must be a string")))?;
        match t.get("type").and_then(Value::as_str) {
            None | Some("custom") => tools.push(ToolDef {
                name: name.to_owned(),
                description: t["description"].as_str().unwrap_or_default().to_owned(),
                parameters: t
                    .get("input_schema")
                    .cloned()
                    .filter(Value::is_object)
                    .unwrap_or(json!({"type": "object"})),
            }),
            Some(server) => not_offered.push(format!("{name} ({server}: a tool Anthropic's servers run)")),
        }
    }
    Ok((tools, not_offered))
}

fn parse_tool_choice(v: &Value, tools: &[ToolDef]) -> Result<(ToolChoice, Option<bool>), WireError> {
    let c = match v.get("tool_choice") {
        None | Some(Value::Null) => return Ok((ToolChoice::Auto, None)),
        Some(c @ Value::Object(_)) => c,
        Some(x) => return Err(bad("tool_choice", format!("tool_choice must be an object, got {}", kind(x)))),
    };
    let choice = match c["type"].as_str() {
        Some("auto") => ToolChoice::Auto,
        Some("any") => ToolChoice::Required,
        Some("none") => ToolChoice::None,
        Some("tool") => {
            let name = c["name"]
                .as_str()
                .ok_or_else(|| bad("tool_choice.name", "tool_choice.name is required for type tool"))?;
            if !tools.iter().any(|t| t.name == name) {
                return Err(bad(
                    "tool_choice.name",
                    format!("tool_choice names {name:?}, which is not one of the tools"),
                ));
            }
            ToolChoice::Tool(name.to_owned())
        }
        other => {
            return Err(bad("tool_choice.type", format!("tool_choice.type {other:?} is not auto, any, tool or none")))
        }
    };
    let parallel = opt_bool(c, "disable_parallel_tool_use", "tool_choice.disable_parallel_tool_use")?.map(|d| !d);
    Ok((choice, parallel))
}

/// A client's request (`POST /v1/messages`).
pub fn parse_request(v: &Value) -> Result<Conversation, WireError> {
    if !v.is_object() {
        return Err(bad("body", "the body must be a JSON object"));
    }
    let model = super::opt_str(v, "model", "model")?.unwrap_or("auto").to_owned();
    let list = match v.get("messages") {
        Some(Value::Array(l)) if !l.is_empty() => l,
        Some(Value::Array(_)) => return Err(bad("messages", "messages must not be empty")),
        _ => return Err(bad("messages", "messages is required (a list)")),
    };
    let mut messages = Vec::new();
    if let Some(s) = parse_system(v)? {
        messages.push(Message::system(s));
    }
    for (i, m) in list.iter().enumerate() {
        if !m.is_object() {
            return Err(bad(format!("messages[{i}]"), format!("messages[{i}] must be an object, got {}", kind(m))));
        }
        messages.extend(parse_message(m, i)?);
    }
    let (tools, not_offered) = parse_tools(v)?;
    let (tool_choice, parallel_tool_calls) = parse_tool_choice(v, &tools)?;
    // Claude Code asks for up to 64,000 tokens by default; the tier gets what the client asked for.
    let mut params = GenParams { temperature: 1.0, max_tokens: 4096, ..GenParams::default() };
    sampling(v, &mut params, &["max_tokens"], "stop_sequences", 8)?;
    Ok(Conversation {
        model,
        messages,
        tools,
        tool_choice,
        parallel_tool_calls,
        params,
        stream: opt_bool(v, "stream", "stream")?.unwrap_or(false),
        include_usage: false,
        not_offered,
    })
}

/// The tokens a request's prompt holds, counted by the caller's tokenizer: `{"input_tokens": n}`.
pub fn count_body(input_tokens: u32) -> Value {
    json!({ "input_tokens": input_tokens })
}

fn stop_str(f: &FinishReason) -> &'static str {
    match f {
        FinishReason::Length => "max_tokens",
        FinishReason::ToolCalls => "tool_use",
        _ => "end_turn",
    }
}

fn usage_json(u: &Usage) -> Value {
    json!({"input_tokens": u.prompt_tokens.saturating_sub(u.cached_tokens), "output_tokens": u.completion_tokens,
        "cache_read_input_tokens": u.cached_tokens, "cache_creation_input_tokens": 0})
}

/// A whole answer (a `message`).
pub fn render(id: &str, c: &Completion, extra: Option<&Value>) -> Value {
    let mut content = Vec::new();
    if !c.text.is_empty() || c.tool_calls.is_empty() {
        content.push(json!({"type": "text", "text": c.text}));
    }
    for t in &c.tool_calls {
        content.push(json!({"type": "tool_use", "id": t.id, "name": t.name, "input": arguments_object(&t.arguments)}));
    }
    let mut v = json!({"id": id, "type": "message", "role": "assistant", "model": c.model, "content": content,
        "stop_reason": stop_str(&c.finish_reason), "stop_sequence": null, "usage": usage_json(&c.usage)});
    if let Some(e) = extra {
        v["complexitynet"] = e.clone();
    }
    v
}

/// A streamed answer: `message_start`, a text block's `content_block_start` / `text_delta`s / `_stop`, one block
/// per tool call with its `input_json_delta`, `message_delta` (stop reason, usage), `message_stop`.
pub struct Writer {
    id: String,
    model: String,
    text_open: bool,
    blocks: usize,
}

impl Writer {
    pub fn new(id: &str, model: &str) -> Self {
        Writer { id: id.to_owned(), model: model.to_owned(), text_open: false, blocks: 0 }
    }
}

impl StreamWriter for Writer {
    fn start(&mut self, extra: Option<&Value>) -> Vec<SseOut> {
        let mut message = json!({"id": self.id, "type": "message", "role": "assistant", "model": self.model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 0, "output_tokens": 0}});
        if let Some(e) = extra {
            message["complexitynet"] = e.clone();
        }
        vec![SseOut::named("message_start", &json!({"type": "message_start", "message": message}))]
    }

    fn text(&mut self, piece: &str) -> Vec<SseOut> {
        let mut out = Vec::new();
        if !self.text_open {
            self.text_open = true;
            out.push(SseOut::named(
                "content_block_start",
                &json!({"type": "content_block_start", "index": self.blocks, "content_block": {"type": "text", "text": ""}}),
            ));
        }
        out.push(SseOut::named(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": self.blocks, "delta": {"type": "text_delta", "text": piece}}),
        ));
        out
    }

    fn finish(&mut self, c: &Completion, extra: Option<&Value>) -> Vec<SseOut> {
        let mut out = Vec::new();
        if self.text_open {
            out.push(SseOut::named("content_block_stop", &json!({"type": "content_block_stop", "index": self.blocks})));
            self.text_open = false;
            self.blocks += 1;
        }
        for t in &c.tool_calls {
            let i = self.blocks;
            out.push(SseOut::named(
                "content_block_start",
                &json!({"type": "content_block_start", "index": i,
                    "content_block": {"type": "tool_use", "id": t.id, "name": t.name, "input": {}}}),
            ));
            out.push(SseOut::named(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": i,
                    "delta": {"type": "input_json_delta", "partial_json": arguments_object(&t.arguments).to_string()}}),
            ));
            out.push(SseOut::named("content_block_stop", &json!({"type": "content_block_stop", "index": i})));
            self.blocks += 1;
        }
        let mut delta = json!({"type": "message_delta", "delta": {"stop_reason": stop_str(&c.finish_reason),
            "stop_sequence": null}, "usage": usage_json(&c.usage)});
        if let Some(e) = extra {
            delta["complexitynet"] = e.clone();
        }
        out.push(SseOut::named("message_delta", &delta));
        out.push(SseOut::named("message_stop", &json!({"type": "message_stop"})));
        out
    }

    fn error(&mut self, message: &str) -> Vec<SseOut> {
        vec![SseOut::named("error", &error_body("api_error", message))]
    }
}

/// The error body a client of this format expects.
pub fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}
