//! Label-run pipeline overhead: a replayed run over all of MBPP × the 3 recorded models (generation replayed,
//! every answer extracted, verified in the sandbox and committed to SQLite) against the time the same
//! verifications take alone, in one run. Goal: overhead ≤ 2%.
//!
//! Run: `cargo bench -p complexitynet-core --bench label_pipeline` (needs ../shared/data or
//! COMPLEXITYNET_SHARED_DATA, and bubblewrap).

use complexitynet_core::label::pipeline::{self, Tier};
use complexitynet_engine::dataset::{self, parse_file, Format};
use complexitynet_engine::runs::{self as run, RunConfig};
use complexitynet_router::label::Rule;
use complexitynet_verify::extract::extract_for_tests;
use complexitynet_verify::sandbox::default_parallelism;
use complexitynet_verify::{read_answers, Check, Limits, Verifier};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

const MODELS: [&str; 3] = ["codellama-7b-python", "gpt-3.5-turbo-1106", "gpt-4-1106-preview"];

fn main() {
    let data = std::env::var_os("COMPLEXITYNET_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/data"));
    let mbpp = data.join("mbpp.jsonl");
    let (_, tasks) = parse_file(&mbpp, Some(Format::Mbpp)).expect("MBPP");
    let recorded = read_answers(&data.join("recorded/complexitynet-mbpp-outputs.jsonl")).expect("recorded answers");
    let cores = default_parallelism();
    let limits = Limits { timeout_ms: 10_000, ..Limits::default() };

    // The verifications alone: the same checks the run will make, in the run's order (trial, task, tier).
    let by_task: HashMap<&str, &complexitynet_verify::Task> = tasks.iter().map(|t| (t.task_id.as_str(), t)).collect();
    let mut answers: HashMap<(&str, &str), &str> = HashMap::new();
    for a in &recorded {
        answers.insert((a.task_id.as_str(), a.model.as_str()), a.output.as_str());
    }
    let mut checks = Vec::new();
    for t in &tasks {
        for m in MODELS {
            if let Some(out) = answers.get(&(t.task_id.as_str(), m)) {
                let t = by_task[t.task_id.as_str()];
                let tests: Vec<&str> =
                    std::iter::once(t.setup.as_str()).chain(t.asserts.iter().map(String::as_str)).collect();
                checks.push(Check {
                    code: extract_for_tests(out, Some(&t.entry_point.name), &tests).code,
                    setup: t.setup.clone(),
                    asserts: t.asserts.clone(),
                    limits,
                });
            }
        }
    }
    let mut best_verify = f64::MAX;
    let mut best_run = f64::MAX;
    for round in 0..2 {
        let verifier = Verifier::new();
        let t = Instant::now();
        let v = verifier.verify_all(&checks, cores, &|_, _| {});
        best_verify = best_verify.min(t.elapsed().as_secs_f64());
        let passed = v.iter().filter(|v| v.passed()).count();
        let busy_alone: f64 = v.iter().map(|v| v.duration_ms).sum::<f64>() / 1000.0;

        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("bench.sqlite3");
        let mut store = complexitynet_engine::open(&db).unwrap();
        dataset::import_file(&mut store, &mbpp, Some(Format::Mbpp), Some("mbpp"), false).unwrap();
        let cfg = RunConfig {
            tiers: MODELS.iter().map(|m| format!("replay:{m}")).collect(),
            trials: 1,
            temperature: 1.0,
            max_tokens: 512,
            seed: 0,
            task_ids: tasks.iter().map(|t| t.task_id.clone()).collect(),
            timeout_ms: 10_000,
        };
        let (run_id, _) = run::open_run(&store, "bench", "mbpp", &cfg, &Rule::Single3).unwrap();
        drop(store);
        let tiers: Vec<Tier> = MODELS.iter().map(|m| Tier::replay(m, &recorded).unwrap()).collect();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let t = Instant::now();
        let out = rt
            .block_on(pipeline::execute(
                db.clone(),
                run_id,
                tasks.clone(),
                tiers,
                cfg,
                None,
                Arc::new(Verifier::new()),
                cores,
                Arc::new(|_| {}),
            ))
            .unwrap();
        best_run = best_run.min(t.elapsed().as_secs_f64());
        let store = complexitynet_engine::open(&db).unwrap();
        let s = run::summary(&store, "bench").unwrap();
        let run_passed: usize = s.tiers.iter().map(|t| t.passes as usize).sum();
        let busy_run: f64 = store
            .conn()
            .query_row("SELECT sum(json_extract(verdict_json, '$.duration_ms')) FROM trials", [], |r| {
                r.get::<_, f64>(0)
            })
            .unwrap()
            / 1000.0;
        println!("  sandbox busy time (sum of check durations): alone {busy_alone:.2} s, in the run {busy_run:.2} s");
        println!(
            "round {}: {} checks verified alone ({} passed); the replayed run stored {} trials ({} passed)",
            round + 1,
            checks.len(),
            passed,
            out.stored,
            run_passed
        );
    }
    println!("\nlabel pipeline overhead, MBPP × {} recorded models, {cores} sandbox workers, best of 2:", MODELS.len());
    println!("  verifications alone:      {best_verify:>7.2} s");
    println!("  replayed label run:       {best_run:>7.2} s");
    println!("  pipeline overhead:        {:>7.1} %  (goal <= 2 %)", 100.0 * (best_run - best_verify) / best_verify);
}
