//! OpenAI Chat Completions, both directions.
//!
//! As a tier: [`request_body`] writes a request (messages with `tool_calls` and `tool` messages, image parts,
//! function tools, `tool_choice`), [`read_response`] reads a whole answer and [`StreamReader`] a streamed one
//! (text deltas, tool-call deltas by index, the usage chunk). As a front door: [`parse_request`] reads a
//! client's request and [`render`] / [`Writer`] write the answer, tool calls included.

use serde_json::{json, Value};
use std::collections::BTreeMap;

use super::{bad, kind, opt_bool, opt_str, sampling, Conversation, SseOut, StreamWriter, WireError};
use crate::{
    Answer, Completion, FinishReason, GenParams, Message, Part, Request, Role, ToolCall, ToolChoice, ToolDef, Usage,
};

// ------------------------------------------------------------------------------------------------------------
// As a tier

fn image_url(media_type: &str, data: &Option<String>, url: &Option<String>) -> String {
    match (data, url) {
        (Some(d), _) => format!("data:{media_type};base64,{d}"),
        (None, Some(u)) => u.clone(),
        (None, None) => String::new(),
    }
}

/// The messages as Chat Completions carries them: tool results as `tool` messages (one per result, before any
/// text that came with them), tool calls on the assistant message, images as `image_url` parts. Thinking is
/// the writing tier's own and is not sent.
pub fn messages(msgs: &[Message]) -> Vec<Value> {
    let mut out = Vec::new();
    for m in msgs {
        for (id, content, is_error) in m.tool_results() {
            // Chat Completions has no error flag on a tool result: say it in the text.
            let content = if is_error { format!("Error: {content}") } else { content.to_owned() };
            out.push(json!({"role": "tool", "tool_call_id": id, "content": content}));
        }
        match m.role {
            Role::Tool => {
                if !m.content.is_empty() {
                    out.push(json!({"role": "user", "content": m.content}));
                }
            }
            Role::System => out.push(json!({"role": "system", "content": m.content})),
            Role::User => {
                let images: Vec<Value> = m
                    .parts
                    .iter()
                    .filter_map(|p| match p {
                        Part::Image { media_type, data, url } => {
                            Some(json!({"type": "image_url", "image_url": {"url": image_url(media_type, data, url)}}))
                        }
                        _ => None,
                    })
                    .collect();
                if images.is_empty() {
                    if !m.content.is_empty() || m.tool_results().next().is_none() {
                        out.push(json!({"role": "user", "content": m.content}));
                    }
                } else {
                    let mut parts = vec![json!({"type": "text", "text": m.content})];
                    parts.extend(images);
                    out.push(json!({"role": "user", "content": parts}));
                }
            }
            Role::Assistant => {
                let calls: Vec<Value> = m
                    .tool_calls()
                    .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
                    .collect();
                let mut msg = json!({"role": "assistant", "content": m.content});
                if !calls.is_empty() {
                    if m.content.is_empty() {
                        msg["content"] = Value::Null;
                    }
                    msg["tool_calls"] = Value::Array(calls);
                }
                out.push(msg);
            }
        }
    }
    out
}

pub fn tools(tools: &[ToolDef]) -> Vec<Value> {
    tools
        .iter()
        .map(|t| {
            json!({"type": "function", "function": {"name": t.name, "description": t.description,
                "parameters": if t.parameters.is_object() { t.parameters.clone() } else { json!({"type": "object"}) }}})
        })
        .collect()
}

pub fn tool_choice(c: &ToolChoice) -> Value {
    match c {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
    }
}

/// A tier's request body.
pub fn request_body(req: &Request) -> Value {
    let p = &req.params;
    let mut body = json!({
        "model": req.model,
        "messages": messages(&req.messages),
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
    if !req.tools.is_empty() {
        body["tools"] = Value::Array(tools(&req.tools));
        body["tool_choice"] = tool_choice(&req.tool_choice);
        if let Some(par) = req.parallel_tool_calls {
            body["parallel_tool_calls"] = json!(par);
        }
    }
    body
}

pub fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        Some("stop") | None => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some("tool_calls") | Some("function_call") => FinishReason::ToolCalls,
        Some(other) => FinishReason::Other(other.to_owned()),
    }
}

pub fn usage(v: &Value) -> Option<Usage> {
    let u = v.get("usage").filter(|u| u.is_object())?;
    Some(Usage {
        prompt_tokens: u["prompt_tokens"].as_u64().unwrap_or(0) as u32,
        completion_tokens: u["completion_tokens"].as_u64().unwrap_or(0) as u32,
        cached_tokens: u["prompt_tokens_details"]["cached_tokens"].as_u64().unwrap_or(0) as u32,
    })
}

fn call_of(c: &Value) -> ToolCall {
    ToolCall {
        id: c["id"].as_str().filter(|s| !s.is_empty()).map(str::to_owned).unwrap_or_else(|| super::new_id("call_")),
        name: c["function"]["name"].as_str().unwrap_or_default().to_owned(),
        arguments: match &c["function"]["arguments"] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        },
    }
}

/// A whole (non-streamed) answer.
pub fn read_response(v: &Value, model: &str) -> Answer {
    let choice = &v["choices"][0];
    let tool_calls: Vec<ToolCall> =
        choice["message"]["tool_calls"].as_array().into_iter().flatten().map(call_of).collect();
    let mut finish = finish_reason(choice["finish_reason"].as_str());
    if !tool_calls.is_empty() && finish == FinishReason::Stop {
        finish = FinishReason::ToolCalls;
    }
    Answer {
        text: choice["message"]["content"].as_str().unwrap_or_default().to_owned(),
        tool_calls,
        usage: usage(v),
        finish,
        model: v["model"].as_str().unwrap_or(model).to_owned(),
    }
}

/// A streamed answer, chunk by chunk: text pieces come back as they arrive; tool calls are put together from
/// their deltas (by index: the first names the call, later ones add to its arguments).
#[derive(Debug, Default)]
pub struct StreamReader {
    text: String,
    calls: BTreeMap<u64, ToolCall>,
    usage: Option<Usage>,
    finish: Option<String>,
    model: Option<String>,
}

impl StreamReader {
    /// Reads one chunk; returns the text piece it carries.
    pub fn chunk(&mut self, v: &Value) -> Option<String> {
        if let Some(m) = v["model"].as_str() {
            self.model = Some(m.to_owned());
        }
        if let Some(u) = usage(v) {
            self.usage = Some(u);
        }
        let choice = &v["choices"][0];
        for (i, d) in choice["delta"]["tool_calls"].as_array().into_iter().flatten().enumerate() {
            let index = d["index"].as_u64().unwrap_or(i as u64);
            let call = self.calls.entry(index).or_insert_with(|| ToolCall {
                id: String::new(),
                name: String::new(),
                arguments: String::new(),
            });
            if let Some(id) = d["id"].as_str().filter(|s| !s.is_empty()) {
                call.id = id.to_owned();
            }
            if let Some(n) = d["function"]["name"].as_str() {
                call.name.push_str(n);
            }
            if let Some(a) = d["function"]["arguments"].as_str() {
                call.arguments.push_str(a);
            }
        }
        if let Some(f) = choice["finish_reason"].as_str() {
            self.finish = Some(f.to_owned());
        }
        let piece = choice["delta"]["content"].as_str().filter(|p| !p.is_empty())?;
        self.text.push_str(piece);
        Some(piece.to_owned())
    }

    pub fn answer(self, model: &str, cancelled: bool) -> Answer {
        let tool_calls: Vec<ToolCall> = self
            .calls
            .into_values()
            .map(|mut c| {
                if c.id.is_empty() {
                    c.id = super::new_id("call_");
                }
                c
            })
            .collect();
        let finish = if cancelled {
            FinishReason::Cancelled
        } else {
            match finish_reason(self.finish.as_deref()) {
                FinishReason::Stop if !tool_calls.is_empty() => FinishReason::ToolCalls,
                f => f,
            }
        };
        Answer {
            text: self.text,
            tool_calls,
            usage: self.usage,
            finish,
            model: self.model.unwrap_or_else(|| model.to_owned()),
        }
    }
}

// ------------------------------------------------------------------------------------------------------------
// As a front door

fn content_text(v: &Value, path: &str, images: &mut Vec<Part>) -> Result<String, WireError> {
    match v {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        Value::Array(parts) => {
            let mut text = String::new();
            for (j, p) in parts.iter().enumerate() {
                let here = format!("{path}[{j}]");
                match p.get("type").and_then(Value::as_str) {
                    Some("text") | Some("input_text") => match p.get("text") {
                        Some(Value::String(t)) => text.push_str(t),
                        _ => return Err(bad(format!("{here}.text"), format!("{here}.text must be a string"))),
                    },
                    Some("image_url") => {
                        let url =
                            p["image_url"]["url"].as_str().or_else(|| p["image_url"].as_str()).ok_or_else(|| {
                                bad(format!("{here}.image_url"), format!("{here}.image_url.url must be a string"))
                            })?;
                        images.push(image_part(url));
                    }
                    Some(other) => {
                        return Err(bad(
                            format!("{here}.type"),
                            format!("{here}.type {other:?} is not supported (text and image_url parts)"),
                        ))
                    }
                    None => return Err(bad(format!("{here}.type"), format!("{here} has no type"))),
                }
            }
            Ok(text)
        }
        x => Err(bad(path, format!("{path} must be a string or a list of parts, got {}", kind(x)))),
    }
}

/// An image from a URL or a `data:` URL.
pub(crate) fn image_part(url: &str) -> Part {
    if let Some(rest) = url.strip_prefix("data:") {
        if let Some((media, data)) = rest.split_once(";base64,") {
            return Part::Image { media_type: media.to_owned(), data: Some(data.to_owned()), url: None };
        }
    }
    Part::Image { media_type: String::new(), data: None, url: Some(url.to_owned()) }
}

fn parse_message(m: &Value, i: usize) -> Result<Message, WireError> {
    let path = format!("messages[{i}]");
    if !m.is_object() {
        return Err(bad(&path, format!("{path} must be an object, got {}", kind(m))));
    }
    let role = match m.get("role").and_then(Value::as_str) {
        Some("system") | Some("developer") => Role::System,
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        Some("tool") => Role::Tool,
        other => {
            return Err(bad(
                format!("{path}.role"),
                format!("{path}.role {other:?} is not system, developer, user, assistant or tool"),
            ))
        }
    };
    let mut parts = Vec::new();
    let content = content_text(m.get("content").unwrap_or(&Value::Null), &format!("{path}.content"), &mut parts)?;
    if !parts.is_empty() && role != Role::User {
        return Err(bad(format!("{path}.content"), format!("{path}: only user messages may carry images")));
    }
    match role {
        Role::Assistant => {
            match m.get("tool_calls") {
                None | Some(Value::Null) => {}
                Some(Value::Array(calls)) => {
                    for (j, c) in calls.iter().enumerate() {
                        let here = format!("{path}.tool_calls[{j}]");
                        let name = c["function"]["name"].as_str().filter(|n| !n.is_empty()).ok_or_else(|| {
                            bad(format!("{here}.function.name"), format!("{here}.function.name must be a string"))
                        })?;
                        let id = c["id"]
                            .as_str()
                            .filter(|n| !n.is_empty())
                            .ok_or_else(|| bad(format!("{here}.id"), format!("{here}.id must be a string")))?;
                        let arguments = match &c["function"]["arguments"] {
                            Value::String(s) => s.clone(),
                            Value::Null => String::new(),
                            _ => {
                                return Err(bad(
                                    format!("{here}.function.arguments"),
                                    format!("{here}.function.arguments must be a string of JSON"),
                                ))
                            }
                        };
                        parts.push(Part::ToolCall(ToolCall { id: id.to_owned(), name: name.to_owned(), arguments }));
                    }
                }
                Some(x) => {
                    return Err(bad(
                        format!("{path}.tool_calls"),
                        format!("{path}.tool_calls must be a list, got {}", kind(x)),
                    ))
                }
            }
            Ok(Message { role, content, parts })
        }
        Role::Tool => {
            let id = opt_str(m, "tool_call_id", &format!("{path}.tool_call_id"))?.ok_or_else(|| {
                bad(format!("{path}.tool_call_id"), format!("{path}.tool_call_id is required on a tool message"))
            })?;
            Ok(Message {
                role,
                content: String::new(),
                parts: vec![Part::ToolResult { call_id: id.to_owned(), content, is_error: false }],
            })
        }
        _ => Ok(Message { role, content, parts }),
    }
}

pub(crate) fn parse_tools(v: &Value) -> Result<Vec<ToolDef>, WireError> {
    match v.get("tools") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let here = format!("tools[{i}]");
                match t.get("type").and_then(Value::as_str) {
                    Some("function") => {}
                    other => {
                        return Err(bad(
                            format!("{here}.type"),
                            format!("{here}.type {other:?} is not supported (function tools only)"),
                        ))
                    }
                }
                let f = &t["function"];
                let name = f["name"].as_str().filter(|n| !n.is_empty()).ok_or_else(|| {
                    bad(format!("{here}.function.name"), format!("{here}.function.name must be a string"))
                })?;
                Ok(ToolDef {
                    name: name.to_owned(),
                    description: f["description"].as_str().unwrap_or_default().to_owned(),
                    parameters: f
                        .get("parameters")
                        .cloned()
                        .filter(Value::is_object)
                        .unwrap_or(json!({"type": "object"})),
                })
            })
            .collect(),
        Some(x) => Err(bad("tools", format!("tools must be a list, got {}", kind(x)))),
    }
}

pub(crate) fn parse_tool_choice(v: &Value, tools: &[ToolDef]) -> Result<ToolChoice, WireError> {
    let choice = match v.get("tool_choice") {
        None | Some(Value::Null) => return Ok(ToolChoice::Auto),
        Some(Value::String(s)) => match s.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => return Err(bad("tool_choice", format!("tool_choice {other:?} is not auto, none or required"))),
        },
        Some(o @ Value::Object(_)) => {
            let name = o["function"]["name"].as_str().or_else(|| o["name"].as_str()).ok_or_else(|| {
                bad(
                    "tool_choice",
                    "tool_choice must name a function: {\"type\": \"function\", \"function\": {\"name\": …}}",
                )
            })?;
            ToolChoice::Tool(name.to_owned())
        }
        Some(x) => {
            return Err(bad("tool_choice", format!("tool_choice must be a string or an object, got {}", kind(x))))
        }
    };
    if let ToolChoice::Tool(name) = &choice {
        if !tools.iter().any(|t| &t.name == name) {
            return Err(bad("tool_choice", format!("tool_choice names {name:?}, which is not one of the tools")));
        }
    }
    Ok(choice)
}

/// A client's request. The `complexitynet` extension object is the server's to read.
pub fn parse_request(v: &Value) -> Result<Conversation, WireError> {
    if !v.is_object() {
        return Err(bad("body", "the body must be a JSON object"));
    }
    let model = opt_str(v, "model", "model")?.unwrap_or("auto").to_owned();
    let list = match v.get("messages") {
        Some(Value::Array(l)) => l,
        _ => return Err(bad("messages", "messages is required (a list)")),
    };
    if list.is_empty() {
        return Err(bad("messages", "messages must not be empty"));
    }
    let messages = list.iter().enumerate().map(|(i, m)| parse_message(m, i)).collect::<Result<Vec<_>, _>>()?;
    let tools = parse_tools(v)?;
    let tool_choice = parse_tool_choice(v, &tools)?;
    let mut params = GenParams { temperature: 0.2, max_tokens: 512, ..GenParams::default() };
    sampling(v, &mut params, &["max_tokens", "max_completion_tokens"], "stop", 4)?;
    match v.get("n") {
        None | Some(Value::Null) => {}
        Some(x) if x.as_i64() == Some(1) => {}
        Some(x) => return Err(bad("n", format!("only n = 1 is supported, got {x}"))),
    }
    match v.get("seed") {
        None | Some(Value::Null) => {}
        Some(x) => match x.as_u64() {
            Some(s) => params.seed = Some(s),
            None => return Err(bad("seed", format!("seed must be a non-negative integer, got {x}"))),
        },
    }
    let stream = opt_bool(v, "stream", "stream")?.unwrap_or(false);
    let include_usage = match v.get("stream_options") {
        None | Some(Value::Null) => false,
        Some(o @ Value::Object(_)) => opt_bool(o, "include_usage", "stream_options.include_usage")?.unwrap_or(false),
        Some(x) => return Err(bad("stream_options", format!("stream_options must be an object, got {}", kind(x)))),
    };
    Ok(Conversation {
        model,
        messages,
        tools,
        tool_choice,
        parallel_tool_calls: opt_bool(v, "parallel_tool_calls", "parallel_tool_calls")?,
        params,
        stream,
        include_usage,
        not_offered: Vec::new(),
    })
}

fn finish_str(f: &FinishReason) -> &'static str {
    match f {
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        _ => "stop",
    }
}

fn usage_json(u: &Usage) -> Value {
    json!({"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
        "total_tokens": u.prompt_tokens + u.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cached_tokens}})
}

fn calls_json(calls: &[ToolCall]) -> Vec<Value> {
    calls
        .iter()
        .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
        .collect()
}

/// A whole answer (`chat.completion`).
pub fn render(id: &str, created: u64, c: &Completion, extra: Option<&Value>) -> Value {
    let mut message = json!({"role": "assistant", "content": c.text});
    if !c.tool_calls.is_empty() {
        if c.text.is_empty() {
            message["content"] = Value::Null;
        }
        message["tool_calls"] = Value::Array(calls_json(&c.tool_calls));
    }
    let mut v = json!({"id": id, "object": "chat.completion", "created": created, "model": c.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_str(&c.finish_reason)}],
        "usage": usage_json(&c.usage)});
    if let Some(e) = extra {
        v["complexitynet"] = e.clone();
    }
    v
}

/// A streamed answer (`chat.completion.chunk`s, then `[DONE]`).
pub struct Writer {
    id: String,
    created: u64,
    model: String,
    include_usage: bool,
}

impl Writer {
    pub fn new(id: &str, created: u64, model: &str, include_usage: bool) -> Self {
        Writer { id: id.to_owned(), created, model: model.to_owned(), include_usage }
    }

    fn chunk(&self, delta: Value, finish: Value) -> Value {
        json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    }
}

impl StreamWriter for Writer {
    fn start(&mut self, extra: Option<&Value>) -> Vec<SseOut> {
        let mut head = self.chunk(json!({"role": "assistant", "content": ""}), Value::Null);
        if let Some(e) = extra {
            head["complexitynet"] = e.clone();
        }
        vec![SseOut::data(head.to_string())]
    }

    fn text(&mut self, piece: &str) -> Vec<SseOut> {
        vec![SseOut::data(self.chunk(json!({"content": piece}), Value::Null).to_string())]
    }

    fn finish(&mut self, c: &Completion, extra: Option<&Value>) -> Vec<SseOut> {
        let mut out = Vec::new();
        // Each tool call in one delta (its name and whole arguments): a client joins deltas by index either way.
        for (i, call) in c.tool_calls.iter().enumerate() {
            let delta = json!({"tool_calls": [{"index": i, "id": call.id, "type": "function",
                "function": {"name": call.name, "arguments": call.arguments}}]});
            out.push(SseOut::data(self.chunk(delta, Value::Null).to_string()));
        }
        let mut last = self.chunk(json!({}), json!(finish_str(&c.finish_reason)));
        if self.include_usage {
            out.push(SseOut::data(last.to_string()));
            // As OpenAI sends it when asked: a last chunk with no choices and the usage.
            last = json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.model, "choices": [], "usage": usage_json(&c.usage)});
        } else {
            last["usage"] = usage_json(&c.usage);
        }
        if let Some(e) = extra {
            last["complexitynet"] = e.clone();
        }
        out.push(SseOut::data(last.to_string()));
        out.push(SseOut::data("[DONE]"));
        out
    }

    fn error(&mut self, message: &str) -> Vec<SseOut> {
        // A failure mid-stream: OpenAI sends an error object as a data event.
        vec![
            SseOut::data(json!({"error": {"message": message, "type": "upstream_error"}}).to_string()),
            SseOut::data("[DONE]"),
        ]
    }
}

/// The error body a client of this format expects.
pub fn error_body(kind: &str, code: &str, message: &str, param: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}
