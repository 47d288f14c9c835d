//! The wire formats both ways: a conversation with tools read by one front door and written by another tier's
//! format keeps every message, call and result; streamed tool calls are put together from their deltas; and no
//! reader panics on arbitrary JSON (property tests).

use complexitynet_providers::formats::{anthropic_messages as anth, openai_chat as oai, responses as resp};
use complexitynet_providers::formats::{Conversation, StreamWriter};
use complexitynet_providers::{
    Completion, FinishReason, GenParams, Message, Part, Price, Request, Role, ToolCall, ToolChoice, Usage,
};
use proptest::prelude::*;
use serde_json::{json, Value};

/// A conversation as a sequence of what happened, whatever the format's grouping: who said what, which tool
/// was called with what, what each call returned.
fn atoms(msgs: &[Message]) -> Vec<String> {
    // System text as one: the Messages API carries it on top, joined.
    let system: Vec<&str> = msgs.iter().filter(|m| m.role == Role::System).map(|m| m.content.as_str()).collect();
    let mut out = vec![format!("system: {}", system.join("\n\n"))];
    for m in msgs.iter().filter(|m| m.role != Role::System) {
        for (id, content, is_error) in m.tool_results() {
            out.push(format!("result {id} {is_error}: {content}"));
        }
        if !m.content.is_empty() {
            let who = match m.role {
                Role::System | Role::User | Role::Tool => "user",
                Role::Assistant => "assistant",
            };
            out.push(format!("{who}: {}", m.content));
        }
        for p in &m.parts {
            match p {
                Part::ToolCall(c) => {
                    let args: Value = serde_json::from_str(&c.arguments).unwrap_or(Value::Null);
                    out.push(format!("call {} {} {args}", c.id, c.name));
                }
                Part::Image { media_type, data, url } => out.push(format!("image {media_type} {data:?} {url:?}")),
                _ => {}
            }
        }
    }
    out
}

fn tier_request(c: &Conversation) -> Request {
    Request {
        model: "m".into(),
        messages: c.messages.clone(),
        params: c.params.clone(),
        stream: false,
        price: Price::default(),
        tools: c.tools.clone(),
        tool_choice: c.tool_choice.clone(),
        parallel_tool_calls: c.parallel_tool_calls,
    }
}

fn claude_code_like() -> Value {
    json!({
        "model": "claude-opus-4-8",
        "max_tokens": 64000,
        "stream": true,
        "system": [{"type": "text", "text": "You are an agent."}, {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "tools": [
            {"name": "Write", "description": "Write a file", "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}, "content": {"type": "string"}}}},
            {"type": "web_search_20250305", "name": "web_search"}
        ],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "<system-reminder>today is Sunday</system-reminder>"}, {"type": "text", "text": "write hello.py — ünïcode ✓"}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "I should write it.", "signature": "sig"},
                {"type": "text", "text": "Writing it."},
                {"type": "tool_use", "id": "toolu_01", "name": "Write", "input": {"file_path": "hello.py", "content": "print('hi')"}}
            ]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": [{"type": "text", "text": "File created"}]}]},
            {"role": "system", "content": "a reminder mid-conversation"}
        ]
    })
}

#[test]
fn a_claude_code_request_reaches_an_openai_tier_and_back_without_losing_a_call() {
    let c = anth::parse_request(&claude_code_like()).unwrap();
    assert_eq!(c.params.max_tokens, 64000);
    assert!(c.stream);
    assert_eq!(c.tools.len(), 1, "the custom tool is offered");
    assert!(c.not_offered[0].contains("web_search"), "the server tool is not, and that is said: {:?}", c.not_offered);
    assert!(c.messages[2].parts.iter().any(|p| matches!(p, Part::Thinking { .. })));
    // Written as Chat Completions for an OpenAI-compatible tier, then read back as a client of that format would
    // send it: the same conversation.
    let body = oai::request_body(&tier_request(&c));
    assert_eq!(body["messages"][2]["content"], "Writing it.");
    assert_eq!(body["messages"][2]["tool_calls"][0]["function"]["name"], "Write");
    assert_eq!(body["messages"][3]["role"], "tool");
    assert_eq!(body["tools"][0]["function"]["parameters"]["properties"]["file_path"]["type"], "string");
    let back = oai::parse_request(&body).unwrap();
    assert_eq!(atoms(&back.messages), atoms(&c.messages));
    assert_eq!(back.tools, c.tools);
}

#[test]
fn an_openai_tool_conversation_reaches_an_anthropic_tier_and_back() {
    let v = json!({
        "model": "auto",
        "messages": [
            {"role": "system", "content": "You run tools."},
            {"role": "user", "content": [{"type": "text", "text": "what is in /tmp?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "ls", "arguments": "{\"path\": \"/tmp\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "ls", "arguments": "{\"path\": \"/var\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "a.txt"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "log"}]},
            {"role": "user", "content": "and the sizes?"}
        ],
        "tools": [{"type": "function", "function": {"name": "ls", "description": "list", "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}],
        "tool_choice": {"type": "function", "function": {"name": "ls"}},
        "parallel_tool_calls": false,
        "stream": true,
        "stream_options": {"include_usage": true}
    });
    let c = oai::parse_request(&v).unwrap();
    assert_eq!(c.tool_choice, ToolChoice::Tool("ls".into()));
    assert!(c.include_usage && c.stream);
    let body = anth::request_body(&tier_request(&c));
    assert_eq!(body["system"], "You run tools.");
    assert_eq!(body["tool_choice"], json!({"type": "tool", "name": "ls", "disable_parallel_tool_use": true}));
    // The two tool results and the new question are one user turn, as the Messages API wants.
    let roles: Vec<&str> = body["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    assert_eq!(body["messages"][1]["content"][0]["input"], json!({"path": "/tmp"}));
    assert_eq!(body["messages"][0]["content"][1]["source"]["media_type"], "image/png");
    let back = anth::parse_request(&body).unwrap();
    assert_eq!(atoms(&back.messages), atoms(&c.messages));
}

#[test]
fn a_codex_request_reaches_both_tier_formats() {
    let v = json!({
        "model": "gpt-5-codex",
        "instructions": "You are Codex.",
        "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "sandbox: workspace-write"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "make the tests pass"}]},
            {"type": "reasoning", "summary": [], "encrypted_content": "xyz"},
            {"type": "function_call", "call_id": "call_a", "name": "exec_command", "arguments": "{\"cmd\":\"pytest -q\"}"},
            {"type": "function_call_output", "call_id": "call_a", "output": "1 failed, 2 passed"}
        ],
        "tools": [
            {"type": "function", "name": "exec_command", "description": "run", "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}},
            {"type": "web_search"},
            {"type": "namespace", "name": "multi_agent_v1"}
        ],
        "tool_choice": "auto", "parallel_tool_calls": true, "store": false, "stream": true,
        "include": ["reasoning.encrypted_content"], "reasoning": {"summary": "auto"}
    });
    let c = resp::parse_request(&v).unwrap();
    assert_eq!(c.messages[0], Message::system("You are Codex."));
    assert_eq!(c.tools.len(), 1);
    assert_eq!(c.not_offered.len(), 2, "{:?}", c.not_offered);
    let want = atoms(&c.messages);
    assert_eq!(atoms(&oai::parse_request(&oai::request_body(&tier_request(&c))).unwrap().messages), want);
    assert_eq!(atoms(&anth::parse_request(&anth::request_body(&tier_request(&c))).unwrap().messages), want);
    // Nothing is kept between requests: a follow-up by id is refused by name.
    let e = resp::parse_request(&json!({"model": "m", "input": "x", "previous_response_id": "resp_1"})).unwrap_err();
    assert_eq!(e.param, "previous_response_id");
}

#[test]
fn a_bad_block_or_item_is_a_400_naming_it() {
    type Parse = fn(&Value) -> Result<Conversation, complexitynet_providers::formats::WireError>;
    let cases: Vec<(Value, Parse, &str)> = vec![
        (
            json!({"messages": [{"role": "user", "content": [{"type": "video", "url": "x"}]}]}),
            anth::parse_request,
            "messages[0].content[0].type",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"type": "tool_use", "id": "a", "name": "b", "input": {}}]}]}),
            anth::parse_request,
            "messages[0].content[0].type",
        ),
        (
            json!({"messages": [{"role": "assistant", "content": [{"type": "tool_use", "name": "b"}]}]}),
            anth::parse_request,
            "messages[0].content[0].id",
        ),
        (json!({"messages": [{"role": "tool", "content": "x"}]}), oai::parse_request, "messages[0].tool_call_id"),
        (
            json!({"messages": [{"role": "assistant", "content": null, "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {"a": 1}}}]}]}),
            oai::parse_request,
            "messages[0].tool_calls[0].function.arguments",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "code_interpreter"}]}),
            oai::parse_request,
            "tools[0].type",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "g"}}}),
            oai::parse_request,
            "tool_choice",
        ),
        (json!({"input": [{"type": "computer_call"}]}), resp::parse_request, "input[0].type"),
        (json!({"input": [{"type": "function_call", "name": "f"}]}), resp::parse_request, "input[0].call_id"),
    ];
    for (body, parse, param) in cases {
        let e = parse(&body).unwrap_err();
        assert_eq!(e.param, param, "{body}: {}", e.message);
        let last = param.rsplit('.').next().unwrap().split('[').next().unwrap();
        assert!(e.message.contains(last), "{body}: {}", e.message);
    }
}

#[test]
fn streamed_tool_calls_are_put_together_from_their_deltas() {
    let mut r = oai::StreamReader::default();
    let chunks = [
        json!({"choices": [{"delta": {"role": "assistant", "content": "Let me look."}}]}),
        json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "call_9", "type": "function", "function": {"name": "ls", "arguments": ""}}]}}]}),
        json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"pa"}}]}}]}),
        json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "th\": \"/\"}"}}, {"index": 1, "id": "call_10", "function": {"name": "pwd", "arguments": "{}"}}]}}]}),
        json!({"choices": [{"delta": {}, "finish_reason": "tool_calls"}]}),
        json!({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 8}}}),
    ];
    let pieces: Vec<String> = chunks.iter().filter_map(|c| r.chunk(c)).collect();
    assert_eq!(pieces, ["Let me look."]);
    let a = r.answer("m", false);
    assert_eq!(a.finish, FinishReason::ToolCalls);
    assert_eq!(
        a.tool_calls[0],
        ToolCall { id: "call_9".into(), name: "ls".into(), arguments: "{\"path\": \"/\"}".into() }
    );
    assert_eq!(a.tool_calls[1].name, "pwd");
    assert_eq!(a.usage, Some(Usage { prompt_tokens: 12, completion_tokens: 7, cached_tokens: 8 }));

    let mut r = anth::StreamReader::default();
    let events = [
        (
            "message_start",
            json!({"message": {"model": "claude", "usage": {"input_tokens": 5, "cache_read_input_tokens": 100}}}),
        ),
        ("content_block_start", json!({"index": 0, "content_block": {"type": "text", "text": ""}})),
        ("content_block_delta", json!({"index": 0, "delta": {"type": "text_delta", "text": "Sure."}})),
        (
            "content_block_start",
            json!({"index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "Write", "input": {}}}),
        ),
        (
            "content_block_delta",
            json!({"index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"file_path\":"}}),
        ),
        (
            "content_block_delta",
            json!({"index": 1, "delta": {"type": "input_json_delta", "partial_json": " \"a.py\"}"}}),
        ),
        ("message_delta", json!({"delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}})),
    ];
    let pieces: Vec<String> = events.iter().filter_map(|(e, v)| r.event(e, v)).collect();
    assert_eq!(pieces, ["Sure."]);
    let a = r.answer("m", false);
    assert_eq!((a.finish, a.tool_calls[0].arguments.as_str()), (FinishReason::ToolCalls, "{\"file_path\": \"a.py\"}"));
    assert_eq!(a.usage, Some(Usage { prompt_tokens: 105, completion_tokens: 9, cached_tokens: 100 }));
}

fn answer_with_calls() -> Completion {
    Completion {
        text: "Writing.".into(),
        tool_calls: vec![ToolCall {
            id: "call_1".into(),
            name: "Write".into(),
            arguments: "{\"file_path\":\"x\"}".into(),
        }],
        model: "mid-model".into(),
        usage: Usage { prompt_tokens: 10, completion_tokens: 5, cached_tokens: 0 },
        finish_reason: FinishReason::ToolCalls,
        latency_ms: 1.0,
        cost_usd: 0.0,
        attempts: 1,
        usage_estimated: false,
    }
}

#[test]
fn each_front_door_writes_tool_calls_in_its_own_shape() {
    let c = answer_with_calls();
    let o = oai::render("id", 1, &c, None);
    assert_eq!(o["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(o["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"], "{\"file_path\":\"x\"}");
    let a = anth::render("id", &c, None);
    assert_eq!(a["stop_reason"], "tool_use");
    assert_eq!(
        a["content"][1],
        json!({"type": "tool_use", "id": "call_1", "name": "Write", "input": {"file_path": "x"}})
    );
    let r = resp::render("id", 1, &c, None);
    assert_eq!(r["output"][1]["type"], "function_call");
    assert_eq!(r["output"][1]["call_id"], "call_1");

    // Streams: what a client reassembles from the events is the same answer.
    let mut w = anth::Writer::new("id", "m");
    let mut evs = w.start(None);
    evs.extend(w.text("Writing."));
    evs.extend(w.finish(&c, None));
    let names: Vec<&str> = evs.iter().map(|e| e.event.as_deref().unwrap()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let mut reader = anth::StreamReader::default();
    for e in &evs {
        reader.event(e.event.as_deref().unwrap(), &serde_json::from_str(&e.data).unwrap());
    }
    let back = reader.answer("m", false);
    assert_eq!((back.text.as_str(), back.tool_calls.clone()), ("Writing.", c.tool_calls.clone()));

    let mut w = oai::Writer::new("id", 1, "m", true);
    let mut evs = w.start(None);
    evs.extend(w.text("Writing."));
    evs.extend(w.finish(&c, None));
    assert_eq!(evs.last().unwrap().data, "[DONE]");
    let mut reader = oai::StreamReader::default();
    for e in evs.iter().filter(|e| e.data != "[DONE]") {
        reader.chunk(&serde_json::from_str(&e.data).unwrap());
    }
    let back = reader.answer("m", false);
    assert_eq!(
        (back.text.as_str(), back.tool_calls, back.finish),
        ("Writing.", c.tool_calls.clone(), FinishReason::ToolCalls)
    );
    assert_eq!(back.usage.unwrap().completion_tokens, 5, "include_usage: the usage chunk comes last");

    let mut w = resp::Writer::new("id", 1, "m");
    let mut evs = w.start(None);
    evs.extend(w.text("Writ"));
    evs.extend(w.text("ing."));
    evs.extend(w.finish(&c, None));
    let kinds: Vec<&str> = evs.iter().map(|e| e.event.as_deref().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"response.created"));
    assert_eq!(kinds.last(), Some(&"response.completed"));
    assert!(kinds.contains(&"response.function_call_arguments.done"));
    let done: Value = serde_json::from_str(&evs.last().unwrap().data).unwrap();
    assert_eq!(done["response"]["output"][0]["content"][0]["text"], "Writing.");
    assert_eq!(done["response"]["output"][1]["arguments"], "{\"file_path\":\"x\"}");
    let seqs: Vec<u64> = evs
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.data).unwrap()["sequence_number"].as_u64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1));
}

#[test]
fn a_plain_request_keeps_its_old_shape() {
    let r = Request::new("m", vec![Message::user("hi")], GenParams::default(), false, Price::default());
    let o = oai::request_body(&r);
    assert!(o.get("tools").is_none() && o["messages"] == json!([{"role": "user", "content": "hi"}]));
    let a = anth::request_body(&r);
    assert!(
        a.get("tools").is_none()
            && a["messages"] == json!([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    );
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".*".prop_map(Value::String),
        prop_oneof![
            Just("user"),
            Just("assistant"),
            Just("tool"),
            Just("system"),
            Just("text"),
            Just("tool_use"),
            Just("tool_result"),
            Just("function_call"),
            Just("function_call_output"),
            Just("message"),
            Just("image"),
            Just("image_url"),
            Just("input_text"),
            Just("function"),
            Just("thinking"),
        ]
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("role".to_owned()),
                        Just("content".to_owned()),
                        Just("type".to_owned()),
                        Just("text".to_owned()),
                        Just("messages".to_owned()),
                        Just("input".to_owned()),
                        Just("tools".to_owned()),
                        Just("tool_calls".to_owned()),
                        Just("function".to_owned()),
                        Just("arguments".to_owned()),
                        Just("name".to_owned()),
                        Just("id".to_owned()),
                        Just("call_id".to_owned()),
                        Just("tool_use_id".to_owned()),
                        Just("source".to_owned()),
                        Just("system".to_owned()),
                        Just("tool_choice".to_owned()),
                        Just("output".to_owned()),
                        Just("choices".to_owned()),
                        Just("delta".to_owned()),
                        Just("index".to_owned()),
                        ".*",
                    ],
                    inner,
                ),
                0..6,
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_reader_panics_on_arbitrary_json(v in arb_json()) {
        let _ = oai::parse_request(&v);
        let _ = anth::parse_request(&v);
        let _ = resp::parse_request(&v);
        let _ = oai::read_response(&v, "m");
        let _ = anth::read_response(&v, "m");
        let mut r = oai::StreamReader::default();
        r.chunk(&v);
        let _ = r.answer("m", false);
        let mut r = anth::StreamReader::default();
        for e in ["message_start", "content_block_start", "content_block_delta", "message_delta"] {
            r.event(e, &v);
        }
        let _ = r.answer("m", false);
        // Wrapped where each format expects messages, so the readers get past the envelope.
        let _ = oai::parse_request(&json!({"messages": [v.clone()]}));
        let _ = anth::parse_request(&json!({"messages": [v.clone()], "tools": [v.clone()]}));
        let _ = resp::parse_request(&json!({"input": [v.clone()], "tools": [v]}));
    }

    #[test]
    fn whatever_reads_writes_and_reads_back_the_same(text in "\\PC{0,40}", args in "\\PC{0,40}", result in "\\PC{0,40}") {
        // A conversation any format can carry: text, a call with arbitrary (even invalid) JSON arguments, a
        // result. Through each tier format and back, its text and results stay; arguments that were a JSON
        // object stay exactly.
        let call = ToolCall { id: "call_1".into(), name: "f".into(), arguments: args.clone() };
        let msgs = vec![
            Message::user(text.clone()),
            Message { role: Role::Assistant, content: String::new(), parts: vec![Part::ToolCall(call)] },
            Message { role: Role::Tool, content: String::new(), parts: vec![Part::ToolResult { call_id: "call_1".into(), content: result.clone(), is_error: false }] },
        ];
        let req = Request { messages: msgs, ..Request::default() };
        for back in [oai::parse_request(&oai::request_body(&req)), anth::parse_request(&anth::request_body(&req))] {
            let back = back.unwrap();
            let results: Vec<String> = back.messages.iter().flat_map(|m| m.tool_results().map(|r| r.1.to_owned()).collect::<Vec<_>>()).collect();
            prop_assert_eq!(results, vec![result.clone()]);
            let calls: Vec<&ToolCall> = back.messages.iter().flat_map(|m| m.tool_calls()).collect();
            prop_assert_eq!(calls.len(), 1);
            if serde_json::from_str::<Value>(&args).is_ok_and(|v| v.is_object()) {
                let a: Value = serde_json::from_str(&calls[0].arguments).unwrap();
                prop_assert_eq!(a, serde_json::from_str::<Value>(&args).unwrap());
            }
        }
    }
}
