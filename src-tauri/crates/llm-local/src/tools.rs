//! Tool calls on the local tier, in the Hermes format that Qwen2.5(-Coder), Qwen3, Hermes and SmolLM3 were trained
//! on: the tools described in the system prompt inside `<tools>`, each call the model makes written as
//! `<tool_call>{"name": …, "arguments": {…}}</tool_call>`, each result given back inside `<tool_response>`.
//!
//! Why not the GGUF's own Jinja template: llama.cpp's C API (`llama_chat_apply_template`) renders only roles and
//! text, and llama-cpp-2 0.1.160 no longer exposes llama.cpp's Jinja engine. For the Qwen family the text built here
//! is what their template writes; the conversation is then put in the model's own chat format by llama.cpp as usual.
//! A model takes tool requests only when its template declares tools ([`declares_tools`]); the router skips it
//! otherwise, with that reason.
//!
//! When the request requires a call (`tool_choice` required or a named tool) a grammar constrains the answer to one
//! well-formed call of an offered tool, so even a small model answers in shape; with `auto` the model chooses and
//! [`parse`] reads what it wrote. A call whose JSON does not parse is the tier's error (the router falls through).

use complexitynet_providers::{Message, Role, ToolCall, ToolChoice, ToolDef};

/// Whether a chat template was written for tool calls (it refers to the request's `tools`).
pub fn declares_tools(template: &str) -> bool {
    template.contains("tools")
}

/// The system prompt's tool section, worded as Qwen2.5's template words it.
fn tools_block(tools: &[ToolDef]) -> String {
    let mut s = String::from(
        "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function \
         signatures within <tools></tools> XML tags:\n<tools>",
    );
    for t in tools {
        let f = serde_json::json!({"type": "function", "function": {
            "name": t.name, "description": t.description, "parameters": t.parameters}});
        s.push('\n');
        s.push_str(&f.to_string());
    }
    s.push_str(
        "\n</tools>\n\nFor each function call, return a json object with function name and arguments within \
         <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n\
         </tool_call>",
    );
    s
}

fn call_text(c: &ToolCall) -> String {
    // The arguments travel as JSON text; a call that is not JSON is kept as a string rather than dropped.
    let args: serde_json::Value =
        serde_json::from_str(&c.arguments).unwrap_or_else(|_| serde_json::Value::String(c.arguments.clone()));
    format!("<tool_call>\n{}\n</tool_call>", serde_json::json!({"name": c.name, "arguments": args}))
}

/// The conversation as roles and text for a model that calls tools: the tools in the system prompt, the
/// assistant's earlier calls as `<tool_call>` blocks, the results as a user turn of `<tool_response>` blocks.
pub fn render(messages: &[Message], tools: &[ToolDef]) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    let system: Vec<&str> = messages.iter().filter(|m| m.role == Role::System).map(|m| m.content.as_str()).collect();
    let mut sys = system.join("\n");
    if !tools.is_empty() {
        if sys.is_empty() {
            sys.push_str("You are a helpful assistant.");
        }
        sys.push_str("\n\n");
        sys.push_str(&tools_block(tools));
    }
    if !sys.is_empty() {
        out.push(Message::system(sys));
    }
    for m in messages.iter().filter(|m| m.role != Role::System) {
        let results: Vec<String> = m
            .tool_results()
            .map(|(_, content, is_error)| {
                let content = if is_error { format!("Error: {content}") } else { content.to_owned() };
                format!("<tool_response>\n{content}\n</tool_response>")
            })
            .collect();
        match m.role {
            Role::Assistant => {
                let mut t = m.content.clone();
                for c in m.tool_calls() {
                    if !t.is_empty() {
                        t.push('\n');
                    }
                    t.push_str(&call_text(c));
                }
                out.push(Message::assistant(t));
            }
            _ => {
                let mut t = results.join("\n");
                if !m.content.is_empty() {
                    if !t.is_empty() {
                        t.push('\n');
                    }
                    t.push_str(&m.content);
                }
                // Consecutive results (one per call) are one user turn, as the Qwen template writes them.
                match out.last_mut() {
                    Some(prev) if prev.role == Role::User && m.role == Role::Tool && !results.is_empty() => {
                        prev.content.push('\n');
                        prev.content.push_str(&t);
                    }
                    _ => out.push(Message::user(t)),
                }
            }
        }
    }
    out
}

/// A GBNF string literal.
fn literal(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The grammar that holds the answer to one call of an offered tool, when the request requires a call; `None` when
/// the model may answer in text (or no offered tool matches the one named).
pub fn grammar(tools: &[ToolDef], choice: &ToolChoice) -> Option<String> {
    let offered: Vec<&ToolDef> = match choice {
        ToolChoice::Required => tools.iter().collect(),
        ToolChoice::Tool(name) => tools.iter().filter(|t| &t.name == name).collect(),
        ToolChoice::Auto | ToolChoice::None => return None,
    };
    if offered.is_empty() {
        return None;
    }
    // One alternative per tool: its name (a JSON string, escaped as needed) and arguments shaped by its schema.
    let mut rules = String::new();
    let calls: Vec<String> = offered
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let name = literal(&serde_json::Value::String(t.name.clone()).to_string());
            rules.push_str(&format!("args{i} ::= {}\n", arguments_rule(&t.parameters)));
            format!("{name} \", \\\"arguments\\\": \" args{i}")
        })
        .collect();
    // The JSON rules are llama.cpp's grammars/json.gbnf.
    Some(format!(
        r#"root ::= "<tool_call>\n{{\"name\": " call "}}\n</tool_call>"
call ::= {}
{rules}value ::= object | array | string | number | boolean | "null" ws
boolean ::= ("true" | "false") ws
object ::= "{{" ws ( string ":" ws value ( "," ws string ":" ws value )* )? "}}" ws
array ::= "[" ws ( value ( "," ws value )* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{{4}}) )* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]{{0,15}})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{{0,15}})? ws
ws ::= | " " | "\n" [ \t]{{0,20}}
"#,
        calls.join(" | ")
    ))
}

/// The arguments' rule from the tool's JSON Schema: an object with the schema's properties, each once, in the
/// schema's order — the required ones always, the others only when none is required (a small model held to bare
/// JSON repeats keys until it runs out of tokens). Any other schema: any JSON object.
fn arguments_rule(schema: &serde_json::Value) -> String {
    let Some(props) = schema.get("properties").and_then(|p| p.as_object()).filter(|p| !p.is_empty()) else {
        return "object".into();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let keys: Vec<(&String, &serde_json::Value)> =
        props.iter().filter(|(k, _)| required.is_empty() || required.contains(&k.as_str())).collect();
    if keys.is_empty() {
        return "object".into();
    }
    let members: Vec<String> = keys
        .iter()
        .map(|(k, v)| {
            let value = match v.get("type").and_then(|t| t.as_str()) {
                Some("string") => "string",
                Some("integer" | "number") => "number",
                Some("boolean") => "boolean",
                Some("array") => "array",
                Some("object") => "object",
                _ => "value",
            };
            format!("{} \":\" ws {value}", literal(&serde_json::Value::String((*k).clone()).to_string()))
        })
        .collect();
    format!("\"{{\" ws {} \"}}\" ws", members.join(" \",\" ws "))
}

/// A `<tool_call>` block whose JSON does not parse (or names no tool).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the local model wrote a tool call that is not valid JSON: {0}")]
pub struct BadCall(pub String);

/// Splits an answer into its text and its tool calls. `id_base` makes the calls' ids unique across answers.
pub fn parse(answer: &str, id_base: &str) -> Result<(String, Vec<ToolCall>), BadCall> {
    const OPEN: &str = "<tool_call>";
    const CLOSE: &str = "</tool_call>";
    let mut text = String::new();
    let mut calls = Vec::new();
    let mut rest = answer;
    while let Some(start) = rest.find(OPEN) {
        text.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        // An answer cut short (max_tokens) leaves the last block open: what is there is still the call's JSON.
        let (body, next) = match after.find(CLOSE) {
            Some(end) => (&after[..end], &after[end + CLOSE.len()..]),
            None => (after, ""),
        };
        let v: serde_json::Value = serde_json::from_str(body.trim()).map_err(|e| BadCall(format!("{e}: {body:?}")))?;
        let name = v.get("name").and_then(|n| n.as_str()).filter(|n| !n.is_empty());
        let Some(name) = name else {
            return Err(BadCall(format!("no tool name in {body:?}")));
        };
        let arguments = match v.get("arguments").or_else(|| v.get("parameters")) {
            None | Some(serde_json::Value::Null) => "{}".to_owned(),
            // Some models write the arguments as a JSON string; the wire formats carry them as JSON text.
            Some(serde_json::Value::String(s)) if serde_json::from_str::<serde_json::Value>(s).is_ok() => s.clone(),
            Some(a) => a.to_string(),
        };
        calls.push(ToolCall { id: format!("call_{id_base}_{}", calls.len()), name: name.to_owned(), arguments });
        rest = next;
    }
    text.push_str(rest);
    Ok((text.trim().to_owned(), calls))
}

#[cfg(test)]
mod tests {
    use super::*;
    use complexitynet_providers::Part;
    use proptest::prelude::*;

    fn write_tool() -> ToolDef {
        ToolDef {
            name: "write_file".into(),
            description: "Writes a file".into(),
            parameters: serde_json::json!({"type": "object", "properties": {"path": {"type": "string"}}}),
        }
    }

    #[test]
    fn the_tools_go_in_the_system_prompt_and_calls_and_results_round_trip_as_text() {
        let mut asked = Message::assistant("I will write it.");
        asked.parts.push(Part::ToolCall(ToolCall {
            id: "c1".into(),
            name: "write_file".into(),
            arguments: r#"{"path":"a.py"}"#.into(),
        }));
        let mut result = Message::new(Role::Tool, "");
        result.parts.push(Part::ToolResult { call_id: "c1".into(), content: "written".into(), is_error: false });
        let msgs = [Message::system("Be brief."), Message::user("Write a.py"), asked, result];
        let r = render(&msgs, &[write_tool()]);
        assert_eq!(r.len(), 4);
        assert!(r[0].content.starts_with("Be brief.\n\n# Tools"), "{}", r[0].content);
        assert!(r[0].content.contains(r#""name":"write_file""#), "{}", r[0].content);
        assert_eq!(
            r[2].content,
            "I will write it.\n<tool_call>\n{\"arguments\":{\"path\":\"a.py\"},\"name\":\"write_file\"}\n</tool_call>"
        );
        assert_eq!((r[3].role, r[3].content.as_str()), (Role::User, "<tool_response>\nwritten\n</tool_response>"));
        // What the model writes back in that shape is read as the call it is.
        let (text, calls) = parse(&r[2].content, "x").unwrap();
        assert_eq!(text, "I will write it.");
        assert_eq!(calls.len(), 1);
        assert_eq!((calls[0].name.as_str(), calls[0].arguments.as_str()), ("write_file", r#"{"path":"a.py"}"#));
    }

    #[test]
    fn answers_with_several_calls_no_call_or_a_broken_call() {
        let two = "<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>\n<tool_call>{\"name\": \"b\", \
                   \"arguments\": \"{\\\"k\\\": 1}\"}</tool_call>";
        let (text, calls) = parse(two, "t").unwrap();
        assert_eq!(text, "");
        assert_eq!(calls.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(calls[1].arguments, r#"{"k": 1}"#);
        assert_ne!(calls[0].id, calls[1].id);
        assert_eq!(parse("def f(): pass", "t").unwrap(), ("def f(): pass".into(), vec![]));
        assert!(parse("<tool_call>{\"name\": \"a\", \"arguments\": {", "t").is_err());
        assert!(parse("<tool_call>{\"arguments\": {}}</tool_call>", "t").is_err());
    }

    #[test]
    fn a_grammar_only_when_a_call_is_required_and_only_for_offered_tools() {
        let tools = [write_tool()];
        assert!(grammar(&tools, &ToolChoice::Auto).is_none());
        assert!(grammar(&tools, &ToolChoice::None).is_none());
        assert!(grammar(&tools, &ToolChoice::Tool("nope".into())).is_none());
        let g = grammar(&tools, &ToolChoice::Required).unwrap();
        assert!(g.contains(r#"call ::= "\"write_file\"""#), "{g}");
        assert!(g.contains(r#"args0 ::= "{" ws "\"path\"" ":" ws string "}" ws"#), "{g}");
        assert!(declares_tools("{% if tools %}{{ tools | tojson }}{% endif %}"));
        assert!(!declares_tools("{% for m in messages %}{{ m.content }}{% endfor %}"));
    }

    /// Every recorded answer of the paper's three models (2,920 trials, plain code and prose): read as text, whole, no call.
    #[test]
    fn every_recorded_answer_is_text_without_calls() {
        let file = complexitynet_verify::testing::shared_data().join("recorded/complexitynet-mbpp-outputs.jsonl");
        let mut n = 0;
        for line in std::fs::read_to_string(file).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            // (A generation that failed is recorded as null: nothing to read.)
            let Some(out) = v["output"].as_str() else { continue };
            assert_eq!(parse(out, "r").unwrap(), (out.trim().to_owned(), vec![]), "task {}", v["task_id"]);
            n += 1;
        }
        assert_eq!(n, 2851, "every answer that was generated (69 of the 2,920 trials recorded none)");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = parse(&s, "p");
            let _ = parse(&format!("<tool_call>{s}</tool_call>{s}"), "p");
        }

        #[test]
        fn a_grammar_for_any_tool_name(name in "\\PC{1,20}") {
            let tools = [ToolDef { name: name.clone(), description: String::new(), parameters: serde_json::json!({}) }];
            prop_assert!(grammar(&tools, &ToolChoice::Tool(name)).is_some());
        }
    }
}
