//! OpenAI Responses, as a front door (what Codex CLI speaks: it refuses Chat Completions).
//!
//! [`parse_request`] reads `instructions`, `input` (a string, or items: messages with `input_text` /
//! `output_text` / `input_image` parts, `function_call` and `function_call_output` items) and function tools;
//! the provider's hosted tools (web search, another agent's namespace) are not offered to a tier, and the
//! decision says so. Nothing is stored: `previous_response_id` is a 400 that says to send the whole input
//! (Codex sends `store: false` and the whole conversation every time). [`render`] and [`Writer`] write the
//! response and its events (`response.created` … `response.completed`).

use serde_json::{json, Value};

use super::{bad, kind, opt_bool, opt_str, sampling, Conversation, SseOut, StreamWriter, WireError};
use crate::{Completion, FinishReason, GenParams, Message, Part, Role, ToolCall, ToolChoice, ToolDef, Usage};

fn parse_content(c: &Value, path: &str, role: Role) -> Result<(String, Vec<Part>), WireError> {
    match c {
        Value::String(s) => Ok((s.clone(), Vec::new())),
        Value::Array(parts) => {
            let (mut text, mut images) = (Vec::new(), Vec::new());
            for (j, p) in parts.iter().enumerate() {
                let here = format!("{path}[{j}]");
                match p.get("type").and_then(Value::as_str) {
                    Some("input_text") | Some("output_text") | Some("text") => match p.get("text") {
                        Some(Value::String(t)) => text.push(t.clone()),
                        _ => return Err(bad(format!("{here}.text"), format!("{here}.text must be a string"))),
                    },
                    Some("refusal") => text.push(p["refusal"].as_str().unwrap_or_default().to_owned()),
                    Some("input_image") if role == Role::User => match p["image_url"].as_str() {
                        Some(url) => images.push(super::openai_chat::image_part(url)),
                        None => {
                            return Err(bad(
                                format!("{here}.image_url"),
                                format!("{here}: only images given by image_url are supported (not file_id)"),
                            ))
                        }
                    },
                    other => {
                        return Err(bad(
                            format!("{here}.type"),
                            format!("{here}.type {other:?} is not supported (input_text, output_text, input_image)"),
                        ))
                    }
                }
            }
            Ok((text.join(""), images))
        }
        x => Err(bad(path, format!("{path} must be a string or a list of parts, got {}", kind(x)))),
    }
}

fn output_text(v: &Value, path: &str) -> Result<String, WireError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Array(parts) => Ok(super::text_of(parts)),
        Value::Null => Ok(String::new()),
        x => Err(bad(path, format!("{path} must be a string or a list of parts, got {}", kind(x)))),
    }
}

fn parse_input(v: &Value) -> Result<Vec<Message>, WireError> {
    let items = match v.get("input") {
        Some(Value::String(s)) => return Ok(vec![Message::user(s.clone())]),
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => return Err(bad("input", "input is required (a string or a list of items)")),
        Some(x) => return Err(bad("input", format!("input must be a string or a list of items, got {}", kind(x)))),
    };
    let mut out: Vec<Message> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let path = format!("input[{i}]");
        if !it.is_object() {
            return Err(bad(&path, format!("{path} must be an object, got {}", kind(it))));
        }
        let t = it.get("type").and_then(Value::as_str).unwrap_or("message");
        match t {
            "message" => {
                let role = match it.get("role").and_then(Value::as_str) {
                    Some("system") | Some("developer") => Role::System,
                    Some("user") => Role::User,
                    Some("assistant") => Role::Assistant,
                    other => {
                        return Err(bad(
                            format!("{path}.role"),
                            format!("{path}.role {other:?} is not system, developer, user or assistant"),
                        ))
                    }
                };
                let (content, parts) =
                    parse_content(it.get("content").unwrap_or(&Value::Null), &format!("{path}.content"), role)?;
                out.push(Message { role, content, parts });
            }
            "function_call" => {
                let call_id = opt_str(it, "call_id", &format!("{path}.call_id"))?
                    .ok_or_else(|| bad(format!("{path}.call_id"), format!("{path}.call_id is required")))?;
                let name = opt_str(it, "name", &format!("{path}.name"))?
                    .ok_or_else(|| bad(format!("{path}.name"), format!("{path}.name is required")))?;
                let arguments = opt_str(it, "arguments", &format!("{path}.arguments"))?.unwrap_or("").to_owned();
                let call = Part::ToolCall(ToolCall { id: call_id.to_owned(), name: name.to_owned(), arguments });
                // Consecutive calls (and the text before them) are one assistant turn.
                match out.last_mut() {
                    Some(m) if m.role == Role::Assistant => m.parts.push(call),
                    _ => out.push(Message { role: Role::Assistant, content: String::new(), parts: vec![call] }),
                }
            }
            "function_call_output" => {
                let call_id = opt_str(it, "call_id", &format!("{path}.call_id"))?
                    .ok_or_else(|| bad(format!("{path}.call_id"), format!("{path}.call_id is required")))?;
                let content = output_text(it.get("output").unwrap_or(&Value::Null), &format!("{path}.output"))?;
                out.push(Message {
                    role: Role::Tool,
                    content: String::new(),
                    parts: vec![Part::ToolResult { call_id: call_id.to_owned(), content, is_error: false }],
                });
            }
            // A reasoning item is the model's own (encrypted for its provider): nothing another model can use.
            "reasoning" => {}
            other => {
                return Err(bad(
                    format!("{path}.type"),
                    format!("{path}.type {other:?} is not supported (message, function_call, function_call_output)"),
                ))
            }
        }
    }
    if out.is_empty() {
        return Err(bad("input", "input must not be empty"));
    }
    Ok(out)
}

fn parse_tools(v: &Value) -> Result<(Vec<ToolDef>, Vec<String>), WireError> {
    let list = match v.get("tools") {
        None | Some(Value::Null) => return Ok((Vec::new(), Vec::new())),
        Some(Value::Array(l)) => l,
        Some(x) => return Err(bad("tools", format!("tools must be a list, got {}", kind(x)))),
    };
    let (mut tools, mut not_offered) = (Vec::new(), Vec::new());
    for (i, t) in list.iter().enumerate() {
        let here = format!("tools[{i}]");
        match t.get("type").and_then(Value::as_str) {
            Some("function") => {
                let name = t["name"]
                    .as_str()
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| bad(format!("{here}.name"), format!("{here}.name must be a string")))?;
                tools.push(ToolDef {
                    name: name.to_owned(),
                    description: t["description"].as_str().unwrap_or_default().to_owned(),
                    parameters: t
                        .get("parameters")
                        .cloned()
                        .filter(Value::is_object)
                        .unwrap_or(json!({"type": "object"})),
                });
            }
            Some(other) => {
                let name = t["name"].as_str().unwrap_or(other);
                not_offered.push(format!("{name} ({other}: not a function tool, which only the provider runs)"));
            }
            None => return Err(bad(format!("{here}.type"), format!("{here} has no type"))),
        }
    }
    Ok((tools, not_offered))
}

/// A client's request (`POST /v1/responses`).
pub fn parse_request(v: &Value) -> Result<Conversation, WireError> {
    if !v.is_object() {
        return Err(bad("body", "the body must be a JSON object"));
    }
    if v.get("previous_response_id").is_some_and(|p| !p.is_null()) {
        return Err(bad(
            "previous_response_id",
            "previous_response_id is not supported: responses are not kept; send the whole input (store: false)",
        ));
    }
    let model = opt_str(v, "model", "model")?.unwrap_or("auto").to_owned();
    let mut messages = Vec::new();
    if let Some(i) = opt_str(v, "instructions", "instructions")? {
        messages.push(Message::system(i));
    }
    messages.extend(parse_input(v)?);
    let (tools, not_offered) = parse_tools(v)?;
    let tool_choice = match v.get("tool_choice") {
        None | Some(Value::Null) => ToolChoice::Auto,
        Some(Value::String(s)) => match s.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => return Err(bad("tool_choice", format!("tool_choice {other:?} is not auto, none or required"))),
        },
        Some(o @ Value::Object(_)) => match o["name"].as_str() {
            Some(n) if tools.iter().any(|t| t.name == n) => ToolChoice::Tool(n.to_owned()),
            _ => return Err(bad("tool_choice", "tool_choice must name one of the function tools")),
        },
        Some(x) => {
            return Err(bad("tool_choice", format!("tool_choice must be a string or an object, got {}", kind(x))))
        }
    };
    let mut params = GenParams { temperature: 1.0, max_tokens: 4096, ..GenParams::default() };
    sampling(v, &mut params, &["max_output_tokens"], "stop", 4)?;
    Ok(Conversation {
        model,
        messages,
        tools,
        tool_choice,
        parallel_tool_calls: opt_bool(v, "parallel_tool_calls", "parallel_tool_calls")?,
        params,
        stream: opt_bool(v, "stream", "stream")?.unwrap_or(false),
        include_usage: false,
        not_offered,
    })
}

fn usage_json(u: &Usage) -> Value {
    json!({"input_tokens": u.prompt_tokens, "input_tokens_details": {"cached_tokens": u.cached_tokens},
        "output_tokens": u.completion_tokens, "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": u.prompt_tokens + u.completion_tokens})
}

fn message_item(id: &str, text: &str, status: &str) -> Value {
    json!({"type": "message", "id": id, "status": status, "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}]})
}

fn call_item(id: &str, c: &ToolCall) -> Value {
    json!({"type": "function_call", "id": id, "call_id": c.id, "name": c.name, "arguments": c.arguments,
        "status": "completed"})
}

fn response(id: &str, created: u64, model: &str, status: &str, output: Vec<Value>, usage: Option<&Usage>) -> Value {
    let mut r = json!({"id": id, "object": "response", "created_at": created, "status": status, "model": model,
        "output": output, "parallel_tool_calls": true, "tool_choice": "auto", "tools": [], "store": false});
    if let Some(u) = usage {
        r["usage"] = usage_json(u);
    }
    r
}

/// The output items of an answer: its text as a message, then each tool call.
fn output(id: &str, c: &Completion) -> Vec<Value> {
    let mut out = Vec::new();
    if !c.text.is_empty() || c.tool_calls.is_empty() {
        out.push(message_item(&format!("msg_{id}"), &c.text, "completed"));
    }
    for (i, t) in c.tool_calls.iter().enumerate() {
        out.push(call_item(&format!("fc_{id}_{i}"), t));
    }
    out
}

/// A whole answer (a `response`).
pub fn render(id: &str, created: u64, c: &Completion, extra: Option<&Value>) -> Value {
    let status = if c.finish_reason == FinishReason::Length { "incomplete" } else { "completed" };
    let mut r = response(id, created, &c.model, status, output(id, c), Some(&c.usage));
    if let Some(e) = extra {
        r["complexitynet"] = e.clone();
    }
    r
}

/// A streamed answer: `response.created`, `response.in_progress`; the text as a message item (`…output_item
/// .added`, `…content_part.added`, `…output_text.delta`s, then the `.done`s); each tool call as a
/// `function_call` item with its arguments; `response.completed`. Every event carries a `sequence_number`.
pub struct Writer {
    id: String,
    created: u64,
    model: String,
    seq: u64,
    text: Option<String>,
    items: Vec<Value>,
}

impl Writer {
    pub fn new(id: &str, created: u64, model: &str) -> Self {
        Writer { id: id.to_owned(), created, model: model.to_owned(), seq: 0, text: None, items: Vec::new() }
    }

    fn ev(&mut self, mut v: Value) -> SseOut {
        v["sequence_number"] = json!(self.seq);
        self.seq += 1;
        let name = v["type"].as_str().unwrap_or("message").to_owned();
        SseOut { event: Some(name), data: v.to_string() }
    }

    fn msg_id(&self) -> String {
        format!("msg_{}", self.id)
    }

    fn close_text(&mut self) -> Vec<SseOut> {
        let Some(text) = self.text.take() else { return Vec::new() };
        let (id, index) = (self.msg_id(), self.items.len());
        let item = message_item(&id, &text, "completed");
        self.items.push(item.clone());
        vec![
            self.ev(json!({"type": "response.output_text.done", "item_id": id, "output_index": index,
                "content_index": 0, "text": text})),
            self.ev(json!({"type": "response.content_part.done", "item_id": id, "output_index": index,
                "content_index": 0, "part": {"type": "output_text", "text": text, "annotations": []}})),
            self.ev(json!({"type": "response.output_item.done", "output_index": index, "item": item})),
        ]
    }
}

impl StreamWriter for Writer {
    fn start(&mut self, extra: Option<&Value>) -> Vec<SseOut> {
        let mut r = response(&self.id, self.created, &self.model, "in_progress", Vec::new(), None);
        if let Some(e) = extra {
            r["complexitynet"] = e.clone();
        }
        vec![
            self.ev(json!({"type": "response.created", "response": r.clone()})),
            self.ev(json!({"type": "response.in_progress", "response": r})),
        ]
    }

    fn text(&mut self, piece: &str) -> Vec<SseOut> {
        let mut out = Vec::new();
        let (id, index) = (self.msg_id(), self.items.len());
        if self.text.is_none() {
            self.text = Some(String::new());
            let mut item = message_item(&id, "", "in_progress");
            item["content"] = json!([]);
            out.push(self.ev(json!({"type": "response.output_item.added", "output_index": index, "item": item})));
            out.push(self.ev(json!({"type": "response.content_part.added", "item_id": id, "output_index": index,
                "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}})));
        }
        if let Some(t) = self.text.as_mut() {
            t.push_str(piece);
        }
        out.push(self.ev(json!({"type": "response.output_text.delta", "item_id": id, "output_index": index,
            "content_index": 0, "delta": piece})));
        out
    }

    fn finish(&mut self, c: &Completion, extra: Option<&Value>) -> Vec<SseOut> {
        let mut out = self.close_text();
        for (i, t) in c.tool_calls.iter().enumerate() {
            let (item_id, index) = (format!("fc_{}_{i}", self.id), self.items.len());
            let mut added = call_item(&item_id, t);
            added["arguments"] = json!("");
            added["status"] = json!("in_progress");
            out.push(self.ev(json!({"type": "response.output_item.added", "output_index": index, "item": added})));
            out.push(self.ev(json!({"type": "response.function_call_arguments.delta", "item_id": item_id,
                "output_index": index, "delta": t.arguments})));
            out.push(self.ev(json!({"type": "response.function_call_arguments.done", "item_id": item_id,
                "output_index": index, "arguments": t.arguments})));
            let item = call_item(&item_id, t);
            self.items.push(item.clone());
            out.push(self.ev(json!({"type": "response.output_item.done", "output_index": index, "item": item})));
        }
        let status = if c.finish_reason == FinishReason::Length { "incomplete" } else { "completed" };
        let mut r = response(&self.id, self.created, &c.model, status, self.items.clone(), Some(&c.usage));
        if let Some(e) = extra {
            r["complexitynet"] = e.clone();
        }
        let kind = if status == "completed" { "response.completed" } else { "response.incomplete" };
        out.push(self.ev(json!({"type": kind, "response": r})));
        out
    }

    fn error(&mut self, message: &str) -> Vec<SseOut> {
        let mut r = response(&self.id, self.created, &self.model, "failed", self.items.clone(), None);
        r["error"] = json!({"code": "server_error", "message": message});
        vec![self.ev(json!({"type": "response.failed", "response": r}))]
    }
}

/// The error body a client of this format expects (the same as Chat Completions').
pub fn error_body(kind: &str, code: &str, message: &str, param: Option<&str>) -> Value {
    super::openai_chat::error_body(kind, code, message, param)
}
