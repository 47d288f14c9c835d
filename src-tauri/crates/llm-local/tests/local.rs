//! The local tier on real GGUF models: SmolLM2-135M-Instruct (a chat template in its GGUF) and Gemma 3 270M
//! (a base model without one: the [INST] fallback). Threads: 1, since tests run in parallel on small machines.

use complexitynet_llm_local::{LocalError, LocalModel, LocalProvider, LocalSettings, TemplateKind};
use complexitynet_providers::{CancellationToken, FinishReason, GenParams, Message, Price, Provider, Request};
use complexitynet_verify::testing::test_models as models_dir;
use std::sync::{Arc, Mutex};

fn settings(n_ctx: u32) -> LocalSettings {
    LocalSettings { threads: 1, gpu_layers: 0, n_ctx, n_batch: 512 }
}

fn smol(n_ctx: u32) -> Arc<LocalModel> {
    Arc::new(
        LocalModel::load(&models_dir().join("SmolLM2-135M-Instruct.Q4_1.gguf"), "smollm2", settings(n_ctx)).unwrap(),
    )
}

fn request(prompt: &str, params: GenParams) -> Request {
    Request {
        model: "smollm2".into(),
        messages: vec![Message::user(prompt)],
        params,
        stream: true,
        price: Price { input_per_1k: 0.0002, output_per_1k: 0.0002 },
        ..Default::default()
    }
}

fn greedy(max_tokens: u32) -> GenParams {
    GenParams { temperature: 0.0, max_tokens, ..GenParams::default() }
}

fn run(
    p: &LocalProvider,
    req: &Request,
) -> (Result<complexitynet_providers::Completion, complexitynet_providers::ProviderError>, Vec<String>) {
    let pieces = Mutex::new(Vec::new());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let cancel = CancellationToken::new();
    let out = rt.block_on(p.generate(req, &|t| pieces.lock().unwrap().push(t.to_owned()), &cancel));
    (out, pieces.into_inner().unwrap())
}

#[test]
fn smollm2_answers_a_chat_prompt_streaming_with_its_own_template() {
    let model = smol(2048);
    assert_eq!(model.info().template, TemplateKind::Gguf);
    assert!(model.info().n_params > 100_000_000);
    let p = LocalProvider::new(model);
    let (out, pieces) = run(&p, &request("Write one sentence about the sea.", greedy(48)));
    let c = out.unwrap();
    assert!(c.text.split_whitespace().count() >= 3, "a real answer, got {:?}", c.text);
    assert!(pieces.len() >= 3, "the answer streams in pieces: {pieces:?}");
    assert_eq!(pieces.concat(), c.text);
    assert!(c.usage.prompt_tokens > 5 && c.usage.completion_tokens as usize >= pieces.len() - 1);
    assert!(matches!(c.finish_reason, FinishReason::Stop | FinishReason::Length));
    assert!(c.cost_usd > 0.0 && !c.usage_estimated);
}

#[test]
fn temperature_zero_is_greedy_and_deterministic() {
    let p = LocalProvider::new(smol(2048));
    let req = request("List three colours.", greedy(24));
    let (a, _) = run(&p, &req);
    let (b, _) = run(&p, &req);
    assert_eq!(a.unwrap().text, b.unwrap().text);
    // With temperature and a seed, the same seed gives the same answer too.
    let sampled = request(
        "List three colours.",
        GenParams { temperature: 1.0, top_p: Some(0.9), seed: Some(42), max_tokens: 24, ..GenParams::default() },
    );
    let (c, _) = run(&p, &sampled);
    let (d, _) = run(&p, &sampled);
    let c = c.unwrap().text;
    assert_eq!(c, d.unwrap().text);
    // And the temperature and the seed are used: other seeds sample other answers, not the greedy one.
    let greedy_text = run(&p, &req).0.unwrap().text;
    let seeded: std::collections::HashSet<String> = (1..=5)
        .map(|seed| {
            let params = GenParams { temperature: 1.5, seed: Some(seed), max_tokens: 24, ..GenParams::default() };
            run(&p, &request("List three colours.", params)).0.unwrap().text
        })
        .collect();
    assert!(seeded.len() >= 2, "five seeds gave one answer: {seeded:?}");
    assert!(seeded.iter().any(|t| *t != greedy_text), "sampling gave only the greedy answer: {seeded:?}");
}

#[test]
fn cancel_stops_decoding_within_a_token() {
    let p = LocalProvider::new(smol(2048));
    let req = request("Tell me a long story about a dragon.", greedy(200));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let cancel = CancellationToken::new();
    let seen = Mutex::new(0usize);
    let c = rt
        .block_on(p.generate(
            &req,
            &|_| {
                let mut n = seen.lock().unwrap();
                *n += 1;
                if *n == 3 {
                    cancel.cancel();
                }
            },
            &cancel,
        ))
        .unwrap();
    assert_eq!(c.finish_reason, FinishReason::Cancelled);
    assert!(
        c.usage.completion_tokens <= 5,
        "decoding must stop within a token of the cancel, made {}",
        c.usage.completion_tokens
    );
}

#[test]
fn a_prompt_longer_than_the_context_is_a_clear_error_and_the_model_keeps_working() {
    let model = smol(256);
    let p = LocalProvider::new(model);
    let long = "word ".repeat(600);
    let (out, _) = run(&p, &request(&long, greedy(8)));
    let e = out.unwrap_err();
    assert_eq!(e.kind, complexitynet_providers::ErrorKind::ContextLength, "{e}");
    assert!(e.message.contains("context holds 256"), "{e}");
    let (ok, _) = run(&p, &request("Say hi.", greedy(8)));
    assert!(ok.is_ok(), "the worker survives a rejected prompt");
}

#[test]
fn a_stop_string_ends_the_answer_before_it() {
    let p = LocalProvider::new(smol(2048));
    let params = GenParams { temperature: 0.0, max_tokens: 64, stop: vec!["\n".into()], ..GenParams::default() };
    let (out, pieces) = run(&p, &request("Write a haiku about rain, one line per verse.", params.clone()));
    let c = out.unwrap();
    assert!(!c.text.contains('\n') && !pieces.concat().contains('\n'), "{:?}", c.text);
    // It stopped at the stop string, not before anything was said: the same greedy answer without the stop goes
    // on past a newline, after exactly this text.
    let full = run(&p, &request("Write a haiku about rain, one line per verse.", GenParams { stop: vec![], ..params }))
        .0
        .unwrap()
        .text;
    assert!(full.contains('\n'), "the prompt's answer must have a second line for this test: {full:?}");
    let first = full.split('\n').find(|l| !l.is_empty()).unwrap_or_default();
    assert!(!c.text.trim().is_empty(), "an empty answer is not a stop: {full:?}");
    assert!(full.starts_with(&c.text) && c.text.trim() == first.trim(), "{:?} vs {full:?}", c.text);
}

#[test]
fn queued_requests_all_complete() {
    let model = smol(2048);
    let p = Arc::new(LocalProvider::new(model));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let reqs: Vec<Request> = (0..3).map(|i| request(&format!("Count to {}.", i + 2), greedy(12))).collect();
    let cancel = CancellationToken::new();
    let outs = rt.block_on(async { futures_join(&p, &reqs, &cancel).await });
    assert!(outs.iter().all(|o| o.as_ref().is_ok_and(|c| !c.text.is_empty())), "{outs:?}");
}

async fn futures_join(
    p: &LocalProvider,
    reqs: &[Request],
    cancel: &CancellationToken,
) -> Vec<Result<complexitynet_providers::Completion, complexitynet_providers::ProviderError>> {
    let (a, b, c) = tokio::join!(
        p.generate(&reqs[0], &|_| {}, cancel),
        p.generate(&reqs[1], &|_| {}, cancel),
        p.generate(&reqs[2], &|_| {}, cancel)
    );
    vec![a, b, c]
}

#[test]
fn gemma_without_a_chat_template_uses_the_inst_fallback() {
    let model =
        Arc::new(LocalModel::load(&models_dir().join("gemma-3-270m-q4_k_m.gguf"), "gemma", settings(1024)).unwrap());
    assert_eq!(model.info().template, TemplateKind::LlamaInst);
    let p = LocalProvider::new(model);
    let (out, _) = run(&p, &request("Write a Python function that adds two numbers.", greedy(16)));
    let c = out.unwrap();
    assert!(c.usage.completion_tokens > 0, "the base model still generates: {c:?}");
}

#[test]
fn a_missing_or_invalid_file_is_a_load_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = LocalModel::load(&dir.path().join("nope.gguf"), "x", settings(512)).err().unwrap();
    assert!(matches!(e, LocalError::Load { .. }), "{e}");
    let bad = dir.path().join("bad.gguf");
    std::fs::write(&bad, b"GGUF garbage that is not a model").unwrap();
    assert!(matches!(LocalModel::load(&bad, "x", settings(512)).err().unwrap(), LocalError::Load { .. }));
}

#[test]
fn a_request_sees_nothing_of_the_one_before() {
    // The worker reuses its context with an emptied KV cache: B after A must equal B on a fresh model.
    let warm = LocalProvider::new(smol(2048));
    let (_, _) = run(&warm, &request("Tell me about volcanoes in detail.", greedy(40)));
    let (after, _) = run(&warm, &request("Name a fruit.", greedy(16)));
    let fresh = LocalProvider::new(smol(2048));
    let (alone, _) = run(&fresh, &request("Name a fruit.", greedy(16)));
    assert_eq!(after.unwrap().text, alone.unwrap().text);
}

/// A code answer from the real model ends when its code: what streamed is the stored text, it holds at most
/// one closed code block with nothing after its closing fence, and no top-level definition twice (SmolLM2 left
/// alone repeats `def add` until the token limit).
#[test]
fn a_code_answer_stops_at_the_end_of_its_code() {
    let p = LocalProvider::new(smol(2048));
    let params = GenParams { code_answer: true, ..greedy(400) };
    let (out, pieces) = run(&p, &request("Write a Python function add(a, b) that returns a + b. Only code.", params));
    let c = out.unwrap();
    assert_eq!(pieces.concat(), c.text, "nothing shown that the cut took back");
    let fences = c.text.lines().filter(|l| l.trim_start().starts_with("```")).count();
    assert!(fences <= 2, "{:?}", c.text);
    if fences == 2 {
        assert!(c.text.trim_end().ends_with("```"), "nothing after the closing fence: {:?}", c.text);
        assert_eq!(c.finish_reason, FinishReason::Stop);
    }
    let defs: Vec<&str> = c.text.lines().filter(|l| l.starts_with("def ")).collect();
    let unique: std::collections::HashSet<&&str> = defs.iter().collect();
    assert_eq!(defs.len(), unique.len(), "a definition repeated: {:?}", c.text);
    assert!(c.usage.completion_tokens < 400, "it stopped before the token limit: {:?}", c.text);
}

#[test]
fn a_model_whose_template_declares_tools_calls_them_and_the_call_is_read_back() {
    use complexitynet_providers::{ToolChoice, ToolDef};
    let template = complexitynet_verify::testing::CHATML_WITH_TOOLS;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smol-tools.gguf");
    complexitynet_verify::testing::gguf_with_chat_template(
        &models_dir().join("SmolLM2-135M-Instruct.Q4_1.gguf"),
        &path,
        template,
    );
    let plain = smol(2048);
    assert!(!plain.info().calls_tools, "SmolLM2's own template declares no tools");
    let model = Arc::new(LocalModel::load(&path, "smol-tools", settings(2048)).unwrap());
    assert!(model.info().calls_tools);
    let p = LocalProvider::new(model);
    let write = ToolDef {
        name: "write_file".into(),
        description: "Write text to a file".into(),
        parameters: serde_json::json!({"type": "object", "properties": {"path": {"type": "string"},
            "content": {"type": "string"}}, "required": ["path", "content"]}),
    };
    let mut req = request("Write a Python function that adds two numbers to add.py.", greedy(160));
    req.tools = vec![write.clone()];
    req.tool_choice = ToolChoice::Required;
    let (out, pieces) = run(&p, &req);
    let c = out.unwrap();
    assert_eq!(c.finish_reason, FinishReason::ToolCalls, "{c:?}");
    assert_eq!(c.tool_calls.len(), 1, "{c:?}");
    assert_eq!(c.tool_calls[0].name, "write_file");
    let args: serde_json::Value = serde_json::from_str(&c.tool_calls[0].arguments).unwrap();
    assert!(args.is_object(), "{args}");
    assert!(pieces.concat().is_empty(), "a call is not streamed as text: {pieces:?}");
    // With `auto` the model chooses; whatever it writes comes back as text or as calls, never raw markup.
    // (A call it writes that does not parse is this tier's error, for the router to fall through on.)
    req.tool_choice = ToolChoice::Auto;
    req.params.max_tokens = 64;
    match run(&p, &req).0 {
        Ok(c) => assert!(!c.text.contains("<tool_call>"), "{c:?}"),
        Err(e) => assert!(e.to_string().contains("not valid JSON"), "{e}"),
    }
    // Without tools the same model streams a plain answer as before.
    let c = run(&p, &request("Say hello.", greedy(16))).0.unwrap();
    assert!(!c.text.is_empty());
}
