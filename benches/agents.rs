//! What the agents' front doors cost, in one run, against calling the tier directly:
//!   1. translation alone: a Claude-Code-sized request (a long system prompt, 24 tools, 12 tool rounds) read as
//!      Anthropic Messages, written as a Chat Completions request for the tier, the tier's answer (a tool call)
//!      read and written back as Anthropic — and the same for a Codex-sized Responses request;
//!   2. a request over loopback to a fast OpenAI-wire tier: directly, and through `complexitynet serve`'s three
//!      front doors (the tier pinned by name, so the router's own cost is not counted here: `--bench router`);
//!   3. the first byte of a streamed answer: directly from the tier, and through the Anthropic front door.
//!
//! Goals: translation ≤ 1 ms at p50 per request; the first byte through `serve` within 5 ms of the tier's.
//!
//! Run: `cargo bench --bench agents`.

use std::sync::Arc;
use std::time::Instant;

use complexitynet_core::routing::RouteOverrides;
use complexitynet_core::App;
use complexitynet_engine::paths::DataDir;
use complexitynet_engine::tiers::{self as table, ProviderKind, TierUpdate};
use complexitynet_providers::formats::{anthropic_messages as anth, openai_chat as oai, responses as resp};
use complexitynet_providers::keys::MemoryStore;
use complexitynet_providers::testing::{ChatServer, Reply};
use complexitynet_providers::{Price, Request};
use serde_json::{json, Value};

const N: usize = 200;

fn pct(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn tools_anthropic() -> Vec<Value> {
    (0..24)
        .map(|i| {
            json!({"name": format!("Tool{i}"), "description": "Does a thing. ".repeat(40),
                "input_schema": {"type": "object", "properties": {"path": {"type": "string", "description": "where"},
                    "content": {"type": "string"}, "flag": {"type": "boolean"}}, "required": ["path"]}})
        })
        .collect()
}

fn claude_request() -> Value {
    let mut messages =
        vec![json!({"role": "user", "content": [{"type": "text", "text": "Fix the failing tests in src/."}]})];
    for i in 0..12 {
        messages.push(json!({"role": "assistant", "content": [{"type": "text", "text": "Looking."},
            {"type": "tool_use", "id": format!("toolu_{i}"), "name": "Tool1", "input": {"path": format!("src/f{i}.py")}}]}));
        messages.push(json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": format!("toolu_{i}"),
            "content": "def f():\n    return 1\n".repeat(30)}]}));
    }
    json!({"model": "mid", "max_tokens": 8192, "system": [{"type": "text", "text": "You are an agent. ".repeat(600)}],
        "tools": tools_anthropic(), "messages": messages})
}

fn codex_request() -> Value {
    let mut input =
        vec![json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Fix the tests."}]})];
    for i in 0..12 {
        input.push(json!({"type": "function_call", "call_id": format!("call_{i}"), "name": "exec_command",
            "arguments": "{\"cmd\":\"pytest -q\"}"}));
        input.push(
            json!({"type": "function_call_output", "call_id": format!("call_{i}"), "output": "1 failed\n".repeat(60)}),
        );
    }
    let tools: Vec<Value> = (0..9)
        .map(|i| {
            json!({"type": "function", "name": format!("tool{i}"), "description": "Runs. ".repeat(60),
            "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}})
        })
        .collect();
    json!({"model": "mid", "instructions": "You are Codex. ".repeat(800), "input": input, "tools": tools, "stream": false})
}

fn tier_answer() -> Value {
    json!({"id": "chatcmpl-x", "object": "chat.completion", "created": 1, "model": "fast-model",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "Tool1", "arguments": "{\"path\":\"src/a.py\"}"}}]}}],
        "usage": {"prompt_tokens": 9000, "completion_tokens": 20, "total_tokens": 9020}})
}

fn main() {
    // 1. Translation alone.
    let (claude, codex, answer) = (claude_request(), codex_request(), tier_answer());
    let mut times = Vec::new();
    for _ in 0..N {
        let t = Instant::now();
        let c = anth::parse_request(&claude).unwrap();
        let req = Request {
            model: "m".into(),
            messages: c.messages,
            tools: c.tools,
            price: Price::default(),
            ..Default::default()
        };
        let body = oai::request_body(&req);
        let a = oai::read_response(&answer, "m");
        let done = complexitynet_providers::complete(&req, a, Instant::now(), 1);
        let out = anth::render("msg_1", &done, None);
        std::hint::black_box((body, out));
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let claude_p50 = pct(&mut times, 0.5);
    let mut times = Vec::new();
    for _ in 0..N {
        let t = Instant::now();
        let c = resp::parse_request(&codex).unwrap();
        let req = Request {
            model: "m".into(),
            messages: c.messages,
            tools: c.tools,
            price: Price::default(),
            ..Default::default()
        };
        let body = anth::request_body(&req);
        std::hint::black_box(body);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let codex_p50 = pct(&mut times, 0.5);
    println!(
        "translation alone, p50 over {N} requests ({} KB Anthropic request, 24 tools, 12 tool rounds):",
        claude.to_string().len() / 1024
    );
    println!("  Anthropic → internal → Chat Completions, its answer back to Anthropic: {claude_p50:.3} ms ({:.2}× the 1 ms goal)", claude_p50);
    println!("  Responses → internal → Anthropic (a Codex request):                  {codex_p50:.3} ms");

    // 2. and 3. Over loopback: the tier directly and through each front door.
    let sse = complexitynet_providers::testing::openai_sse(&["Looking", " at", " it."], Some((9000, 3)), true);
    let mut replies: Vec<Reply> = Vec::new();
    for _ in 0..4 * N {
        replies.push(Reply::Json { status: 200, headers: Vec::new(), body: answer.to_string() });
    }
    for _ in 0..2 * N {
        replies.push(Reply::Sse { body: sse.clone(), chunk: 1 << 20, stall_after: None });
    }
    let upstream = ChatServer::start(replies);
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::at(dir.path());
    {
        let store = complexitynet_engine::open(&data.database()).unwrap();
        let base = format!("{}/v1", upstream.url());
        table::set_provider(&store, "fast", Some(ProviderKind::Openai), Some(&base), Some(64), None).unwrap();
        let u = TierUpdate { provider: Some("fast"), model: Some("fast-model"), ..Default::default() };
        table::set_tier(&store, "mid", u).unwrap();
    }
    let app = Arc::new(App::open(data, Arc::new(MemoryStore::default())));
    let config = complexitynet_app::server::ServerConfig {
        api_key: None,
        route: RouteOverrides::default(),
        settings: Default::default(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, complexitynet_app::server::router(app, config, addr.port())).await });
    let serve = format!("http://{addr}");
    let direct = format!("{}/v1/chat/completions", upstream.url());
    let client = reqwest::Client::new();
    let tier_body = {
        let c = anth::parse_request(&claude).unwrap();
        let req = Request {
            model: "fast-model".into(),
            messages: c.messages,
            tools: c.tools,
            params: c.params,
            ..Default::default()
        };
        oai::request_body(&req)
    };
    let chat_body = {
        let mut b = tier_body.clone();
        b["model"] = json!("mid");
        b
    };
    let post = |url: String, body: Value| {
        let client = client.clone();
        async move {
            let t = Instant::now();
            let r = client.post(url).json(&body).send().await.unwrap();
            assert!(r.status().is_success(), "{}", r.status());
            let _ = r.bytes().await.unwrap();
            t.elapsed().as_secs_f64() * 1e3
        }
    };
    let lat = |url: &str, body: &Value| -> f64 {
        let mut v: Vec<f64> = (0..N).map(|_| rt.block_on(post(url.to_owned(), body.clone()))).collect();
        pct(&mut v, 0.5)
    };
    let d = lat(&direct, &tier_body);
    let c = lat(&format!("{serve}/v1/chat/completions"), &chat_body);
    let m = lat(&format!("{serve}/v1/messages"), &claude);
    let r = lat(&format!("{serve}/v1/responses"), &codex);
    println!("\na tool-calling request over loopback, p50 over {N} each (the tier pinned by name):");
    println!("  the tier directly                         {d:>7.2} ms");
    println!("  serve, Chat Completions front door        {c:>7.2} ms  (+{:.2} ms: gate, ledger, translation)", c - d);
    println!("  serve, Anthropic Messages front door      {m:>7.2} ms  (+{:.2} ms)", m - d);
    println!("  serve, Responses front door (Codex)       {r:>7.2} ms  (+{:.2} ms)", r - d);

    // 3. First byte of a stream.
    let first_byte = |url: String, body: Value| {
        let client = client.clone();
        async move {
            let t = Instant::now();
            let mut r = client.post(url).json(&body).send().await.unwrap();
            let _ = r.chunk().await.unwrap();
            let first = t.elapsed().as_secs_f64() * 1e3;
            while r.chunk().await.unwrap().is_some() {}
            first
        }
    };
    let mut stream_tier = tier_body.clone();
    stream_tier["stream"] = json!(true);
    let mut stream_claude = claude.clone();
    stream_claude["stream"] = json!(true);
    let mut fd: Vec<f64> = (0..N).map(|_| rt.block_on(first_byte(direct.clone(), stream_tier.clone()))).collect();
    let mut fs: Vec<f64> =
        (0..N).map(|_| rt.block_on(first_byte(format!("{serve}/v1/messages"), stream_claude.clone()))).collect();
    let (fd, fs) = (pct(&mut fd, 0.5), pct(&mut fs, 0.5));
    println!("\nfirst byte of a streamed answer, p50 over {N}:");
    println!(
        "  the tier directly {fd:.2} ms; through the Anthropic front door {fs:.2} ms (+{:.2} ms; goal ≤ 5 ms)",
        fs - fd
    );
}
