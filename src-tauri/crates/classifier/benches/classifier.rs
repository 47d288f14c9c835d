//! The classifier benchmark, in one run:
//!   1. quality — every local method on the replayed paper labels (all of MBPP × the 3 recorded models, every
//!      answer verified in the sandbox, single3 rule), 5-fold CV with seed 0 (the same folds for all), beside
//!      the majority-class floor;
//!   2. training time per method (the whole evaluation, and the final fit alone);
//!   3. classification latency per prompt (batch of one, all 974 MBPP prompts): p50/p99 for the shipped head
//!      classifier (encoder included) and TF-IDF, against the 5 ms goal.
//!
//! Run: `cargo bench -p complexitynet-classifier --bench classifier` (needs ../shared/data, bubblewrap and the
//! MiniLM files: scripts/fetch-models.sh; COMPLEXITYNET_TEST_MODELS points at them). `BENCH_FINETUNE=0` skips
//! the full fine-tune (about 20 minutes on 2 cores).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use complexitynet_classifier::artifact::{self, LoadContext};
use complexitynet_classifier::train::{self, Options};
use complexitynet_classifier::{LabeledSet, Method};
use complexitynet_engine::dataset::{self, parse_file, Format};
use complexitynet_engine::label::run::{self, RunConfig, Tier};
use complexitynet_engine::label::Rule;
use complexitynet_engine::store::Store;
use complexitynet_engine::testing::{shared_data, test_models};
use complexitynet_engine::tiers::CancellationToken;
use complexitynet_engine::verify::sandbox::default_parallelism;
use complexitynet_engine::verify::{read_answers, Verifier};

const MODELS: [&str; 3] = ["codellama-7b-python", "gpt-3.5-turbo-1106", "gpt-4-1106-preview"];

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let data = shared_data();
    let mbpp = data.join("mbpp.jsonl");
    let encoder: PathBuf = test_models().join("all-MiniLM-L6-v2");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    // 1. The replayed paper labels, made as `complexitynet label run … --replay` makes them.
    let t = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("bench.sqlite3")).unwrap();
    dataset::import_file(&mut store, &mbpp, Some(Format::Mbpp), Some("mbpp"), false).unwrap();
    let (_, tasks) = parse_file(&mbpp, Some(Format::Mbpp)).unwrap();
    let recorded = read_answers(&data.join("recorded/complexitynet-mbpp-outputs.jsonl")).unwrap();
    let cfg = RunConfig {
        tiers: MODELS.iter().map(|m| format!("replay:{m}")).collect(),
        trials: 1,
        temperature: 1.0,
        max_tokens: 512,
        seed: 0,
        task_ids: tasks.iter().map(|t| t.task_id.clone()).collect(),
        timeout_ms: 10_000,
    };
    let (run_id, _) = run::open_run(&store, "paper-replay", "mbpp", &cfg, &Rule::Single3).unwrap();
    let tiers: Vec<Tier> = MODELS.iter().map(|m| Tier::replay(m, &recorded).unwrap()).collect();
    rt.block_on(run::execute(
        store.path().to_owned(),
        run_id,
        tasks.clone(),
        tiers,
        cfg,
        None,
        Arc::new(Verifier::new()),
        default_parallelism(),
        Arc::new(|_: &run::Progress| {}),
    ))
    .unwrap();
    let set = LabeledSet::from_run(&store, "paper-replay").unwrap();
    println!(
        "labels: {} labeled tasks of {} ({:?}), replayed and verified in {:.1} s",
        set.examples.len(),
        tasks.len(),
        set.counts(),
        t.elapsed().as_secs_f64()
    );

    // 2. Quality and training time, the same 5 folds (seed 0) for every method.
    let finetune = std::env::var("BENCH_FINETUNE").map(|v| v != "0").unwrap_or(true);
    let mut methods = vec![Method::Tfidf, Method::Head];
    if finetune {
        methods.push(Method::Finetune);
    }
    println!("\nquality, 5-fold CV (seed 0), 95% bootstrap intervals:");
    println!(
        "{:<10} {:>24} {:>24} {:>10} {:>14} {:>10} {:>10}",
        "method", "accuracy", "macro-F1", "within-1", "split acc", "eval s", "fit s"
    );
    let mut tfidf_model = None;
    let mut majority = None;
    for m in methods {
        let mut o = Options::new(m, encoder.clone());
        o.folds = 5;
        let out = rt.block_on(train::run(&set, &o, &|_| {}, &CancellationToken::new())).unwrap();
        let r = &out.report;
        let cv = r.cv.as_ref().unwrap();
        println!(
            "{:<10} {:>6.1}% [{:>5.1}, {:>5.1}] {:>6.1}% [{:>5.1}, {:>5.1}] {:>9.1}% {:>13.1}% {:>10.2} {:>10.3}",
            m.name(),
            100.0 * cv.accuracy,
            100.0 * cv.accuracy_ci[0],
            100.0 * cv.accuracy_ci[1],
            100.0 * cv.macro_f1,
            100.0 * cv.macro_f1_ci[0],
            100.0 * cv.macro_f1_ci[1],
            100.0 * cv.within_one,
            100.0 * r.split.accuracy,
            r.total_seconds,
            r.train_seconds
        );
        majority = r.majority.clone();
        if m == Method::Tfidf {
            tfidf_model = Some(out.model);
        }
    }
    if let Some(mj) = majority {
        println!(
            "{:<10} {:>6.1}% [{:>5.1}, {:>5.1}] {:>6.1}% [{:>5.1}, {:>5.1}] {:>9.1}%",
            "majority",
            100.0 * mj.accuracy,
            100.0 * mj.accuracy_ci[0],
            100.0 * mj.accuracy_ci[1],
            100.0 * mj.macro_f1,
            100.0 * mj.macro_f1_ci[0],
            100.0 * mj.macro_f1_ci[1],
            100.0 * mj.within_one
        );
    }

    // 3. Latency per prompt, one prompt at a time as the router classifies.
    let t = Instant::now();
    let ctx = LoadContext { encoder_dir: encoder.clone(), ..Default::default() };
    let shipped = artifact::load(artifact::builtin(), None, &ctx).unwrap();
    println!(
        "\nlatency per prompt (batch of one, {} MBPP prompts; shipped head loaded in {:.0} ms):",
        tasks.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    let prompts: Vec<&str> = tasks.iter().map(|t| t.prompt.as_str()).collect();
    let cancel = CancellationToken::new();
    let levels = shipped.meta.levels.clone();
    let report = |name: &str, model: &complexitynet_classifier::Model| {
        for p in prompts.iter().take(20) {
            rt.block_on(model.predict(&levels, &[p], &cancel)).unwrap();
        }
        let mut ms: Vec<f64> = prompts
            .iter()
            .map(|p| {
                let t = Instant::now();
                rt.block_on(model.predict(&levels, &[p], &cancel)).unwrap();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(|a, b| a.total_cmp(b));
        let p50 = percentile(&ms, 0.5);
        println!(
            "  {name:<28} p50 {p50:>7.3} ms  p99 {:>7.3} ms  mean {:>7.3} ms  ({:.2}× the 5 ms goal at p50)",
            percentile(&ms, 0.99),
            ms.iter().sum::<f64>() / ms.len() as f64,
            p50 / 5.0
        );
    };
    report("head (MiniLM + head)", &shipped.model);
    if let Some(m) = &tfidf_model {
        report("tfidf", m);
    }
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("\n(machine: {threads} hardware threads)");
}
