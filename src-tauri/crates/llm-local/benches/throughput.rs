//! Local-tier throughput: prompt processing (pp) and generation (tg) tokens/s on SmolLM2-135M and Gemma 3 270M,
//! 1 and 2 threads, greedy — against llama-cpp-python on the same file, prompt, threads and sampling, in one
//! run, as ratios; and against the memory-bandwidth bound (model bytes × tokens/s ÷ measured copy bandwidth).
//!
//! Run: `BENCH_PYTHON=<python with llama-cpp-python> cargo bench -p complexitynet-llm-local --bench throughput`
//! (models from scripts/fetch-models.sh or $COMPLEXITYNET_TEST_MODELS).

use complexitynet_llm_local::{LocalModel, LocalProvider, LocalSettings};
use complexitynet_providers::{CancellationToken, GenParams, Message, Price, Provider, Request};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

const PROMPT: &str = "Write a Python function that returns the n-th Fibonacci number, then explain how it works step by step, and give three example calls with their results.";
const SYSTEM: &str = "You are a helpful coding assistant.";
const N_GEN: u32 = 64;

/// Copy bandwidth in bytes/s: the best of several 256 MiB copies (a token must stream every weight once).
fn copy_bandwidth() -> f64 {
    let n = 256 << 20;
    let src = vec![1u8; n];
    let mut dst = vec![0u8; n];
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        dst.copy_from_slice(&src);
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(&dst);
    }
    // A copy reads n and writes n bytes.
    2.0 * n as f64 / best
}

struct Run {
    pp_tps: f64,
    tg_tps: f64,
    generated: u32,
    prompt_tokens: u32,
}

/// One streamed run, best of 3: prompt processing until the first token, generation after it.
fn ours(model: &Arc<LocalModel>) -> Option<Run> {
    let p = LocalProvider::new(model.clone());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let req = Request {
        model: "bench".into(),
        messages: vec![Message::system(SYSTEM), Message::user(PROMPT)],
        params: GenParams { temperature: 0.0, max_tokens: N_GEN, ..GenParams::default() },
        stream: true,
        price: Price::default(),
        ..Default::default()
    };
    let mut best: Option<Run> = None;
    for _ in 0..3 {
        let cancel = CancellationToken::new();
        let first = Mutex::new(None::<Instant>);
        let t0 = Instant::now();
        let c = rt
            .block_on(p.generate(
                &req,
                &|_| {
                    first.lock().unwrap().get_or_insert_with(Instant::now);
                },
                &cancel,
            ))
            .unwrap();
        let t2 = Instant::now();
        let Some(t1) = first.into_inner().unwrap() else { continue };
        if c.usage.completion_tokens < 2 {
            continue;
        }
        let run = Run {
            pp_tps: c.usage.prompt_tokens as f64 / (t1 - t0).as_secs_f64(),
            tg_tps: (c.usage.completion_tokens - 1) as f64 / (t2 - t1).as_secs_f64(),
            generated: c.usage.completion_tokens,
            prompt_tokens: c.usage.prompt_tokens,
        };
        if best.as_ref().is_none_or(|b| run.tg_tps > b.tg_tps) {
            best = Some(run);
        }
    }
    best
}

fn peer(python: &str, path: &std::path::Path, threads: i32) -> Option<Run> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/llama_cpp_python_peer.py");
    let out = Command::new(python)
        .arg(script)
        .arg(path)
        .arg(threads.to_string())
        .arg(PROMPT)
        .arg(N_GEN.to_string())
        .arg(SYSTEM)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("peer failed: {}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or(""));
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok().filter(|v: &serde_json::Value| !v.is_null())?;
    Some(Run {
        pp_tps: v["pp_tps"].as_f64()?,
        tg_tps: v["tg_tps"].as_f64()?,
        generated: v["generated"].as_u64()? as u32,
        prompt_tokens: v["prompt_tokens"].as_u64()? as u32,
    })
}

fn main() {
    let dir = std::env::var_os("COMPLEXITYNET_TEST_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/complexitynet-dev/models"));
    let python = std::env::var("BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let bw = copy_bandwidth();
    println!("local tier throughput: greedy, a system + a user message ({} chars), up to {N_GEN} generated tokens, best of 3; copy bandwidth {:.1} GB/s", PROMPT.len(), bw / 1e9);
    println!(
        "\n{:<24} {:>3} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>9}",
        "model", "thr", "pp ours", "pp peer", "tg ours", "tg peer", "pp ×", "tg ×", "tg/bound"
    );
    for file in ["SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf"] {
        let path = dir.join(file);
        for threads in [1, 2] {
            let settings = LocalSettings { threads, gpu_layers: 0, n_ctx: 2048, n_batch: 512 };
            let model = Arc::new(LocalModel::load(&path, file, settings).expect("the model loads"));
            let bytes = model.info().bytes as f64;
            let Some(o) = ours(&model) else {
                println!("{file}: the model stopped before generating 2 tokens; no figure");
                continue;
            };
            drop(model);
            let p = peer(&python, &path, threads);
            let bound = bw / bytes;
            let (pp_peer, tg_peer, ppx, tgx) = match &p {
                Some(p) => (
                    format!("{:.1}", p.pp_tps),
                    format!("{:.1}", p.tg_tps),
                    format!("{:.2}", o.pp_tps / p.pp_tps),
                    format!("{:.2}", o.tg_tps / p.tg_tps),
                ),
                None => ("n/a".into(), "n/a".into(), "n/a".into(), "n/a".into()),
            };
            println!(
                "{:<24} {:>3} {:>9.1} {:>9} {:>9.1} {:>9} {:>7} {:>7} {:>8.0}%",
                &file[..file.len().min(24)],
                threads,
                o.pp_tps,
                pp_peer,
                o.tg_tps,
                tg_peer,
                ppx,
                tgx,
                100.0 * o.tg_tps / bound
            );
            if let Some(p) = p {
                println!(
                    "    prompt tokens ours/peer {}/{}, generated ours/peer {}/{}",
                    o.prompt_tokens, p.prompt_tokens, o.generated, p.generated
                );
            }
        }
    }
    println!(
        "\npp/tg: tokens per second; ×: ours ÷ llama-cpp-python (goal ≥ 1.0); tg/bound: generation speed as a share of"
    );
    println!("the memory-bandwidth bound (copy bandwidth ÷ model bytes).");
}
