//! The classifier benchmark, in one run:
//!   1. quality — every local method on the replayed paper labels (all of MBPP × the 3 recorded models, every
//!      answer verified in the sandbox, single3 rule), 5-fold CV with seed 0 (the same folds for all), beside
//!      the majority-class floor;
//!   2. routing — each method's held-out predictions routed by the cost dial (λ calibrated per share), Δ in pass
//!      rate against the hull of the fixed tiers at 5/10/20/50% of always-top's cost (paper units 1/10/100),
//!      with 95% paired-bootstrap intervals; per-tier AUC of the pass prediction;
//!   3. training time per method (the whole evaluation, and the final fit alone);
//!   4. decision latency per prompt (batch of one, all 974 MBPP prompts): classify + the dial's choice, p50/p99,
//!      for the shipped pass classifier, TF-IDF and the MiniLM head (encoder included), against the 2 ms goal.
//!
//! Run: `cargo bench -p complexitynet-core --bench classifier` (needs ../shared/data, bubblewrap and the
//! MiniLM files: scripts/fetch-models.sh; COMPLEXITYNET_TEST_MODELS points at them). `BENCH_FINETUNE=0` skips
//! the full fine-tune (about 20 minutes on 2 cores).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use complexitynet_classifier::artifact::{self, LoadContext};
use complexitynet_classifier::eval::{self, EvalOptions};
use complexitynet_classifier::train::{self, Options};
use complexitynet_classifier::Method;
use complexitynet_core::label::pipeline::{self, Progress, Tier};
use complexitynet_engine::dataset::{self, parse_file, Format};
use complexitynet_engine::runs::{self as run, RunConfig};
use complexitynet_providers::CancellationToken;
use complexitynet_router::label::Rule;
use complexitynet_verify::sandbox::default_parallelism;
use complexitynet_verify::testing::{shared_data, test_models};
use complexitynet_verify::{read_answers, Verifier};

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
    let mut store = complexitynet_engine::open(&dir.path().join("bench.sqlite3")).unwrap();
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
    rt.block_on(pipeline::execute(
        store.path().to_owned(),
        run_id,
        tasks.clone(),
        tiers,
        cfg,
        None,
        Arc::new(Verifier::new()),
        default_parallelism(),
        Arc::new(|_: &Progress| {}),
    ))
    .unwrap();
    let set = complexitynet_core::training::labeled_set(&store, "paper-replay").unwrap();
    println!(
        "labels: {} labeled tasks of {} ({:?}), replayed and verified in {:.1} s",
        set.examples.len(),
        tasks.len(),
        set.counts(),
        t.elapsed().as_secs_f64()
    );

    // 2. Quality and training time, the same 5 folds (seed 0) for every method.
    let finetune = std::env::var("BENCH_FINETUNE").map(|v| v != "0").unwrap_or(true);
    let mut methods = vec![Method::Pass, Method::Tfidf, Method::Head];
    if finetune {
        methods.push(Method::Finetune);
    }
    println!("\nquality, 5-fold CV (seed 0), 95% bootstrap intervals:");
    println!(
        "{:<10} {:>24} {:>24} {:>10} {:>14} {:>10} {:>10}",
        "method", "accuracy", "macro-F1", "within-1", "split acc", "eval s", "fit s"
    );
    let mut models = Vec::new();
    let mut reports = Vec::new();
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
        reports.push((m, out.report.clone()));
        models.push((m, out.model));
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

    // 2. Routing with each method's held-out predictions: the dial against the hull of the fixed tiers.
    println!(
        "\nrouting, the cost dial on held-out predictions: Δ pass rate vs the hull of the fixed tiers, points [95% CI]"
    );
    println!(
        "{:<10} {:>18} {:>18} {:>18} {:>18} {:>10} {:>7}   per-tier AUC",
        "method", "5%", "10%", "20%", "50%", "area 1-10%", "APGR"
    );
    for (m, r) in &reports {
        let predictions = r.cv_predictions.iter().map(|h| (h.task_id.clone(), h.probabilities.clone())).collect();
        let tier_pass = r
            .cv_predictions
            .iter()
            .filter(|h| !h.tier_pass.is_empty())
            .map(|h| (h.task_id.clone(), h.tier_pass.clone()))
            .collect();
        let opts = EvalOptions {
            classifier: m.name().into(),
            policy: complexitynet_router::Policy::Threshold { tau: 0.5 },
            policy_name: "threshold".into(),
            costs: vec![1.0, 10.0, 100.0],
            cost_unit: "paper units".into(),
            folds: 5,
            seed: 0,
            tier_pass,
            tier_metrics: r.tier_metrics.clone(),
            shown: None,
            unsolved: Vec::new(),
        };
        let e = eval::evaluate_routing(&set, &predictions, &opts).unwrap();
        let dial = e.comparisons.iter().find(|c| c.policy == "dial").unwrap();
        let cells: Vec<String> = dial
            .at
            .iter()
            .map(|d| format!("{:+.1} [{:+.1},{:+.1}]", 100.0 * d.delta, 100.0 * d.ci[0], 100.0 * d.ci[1]))
            .collect();
        let aucs: Vec<String> = r.tier_metrics.iter().map(|t| format!("{:.3}", t.auc)).collect();
        println!(
            "{:<10} {:>18} {:>18} {:>18} {:>18} {:>10.1} {:>7.3}   {}",
            m.name(),
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            100.0 * dial.area_low.unwrap_or(0.0),
            dial.apgr.unwrap_or(0.0),
            if aucs.is_empty() { "(from levels)".into() } else { aucs.join(" / ") }
        );
    }

    // 3. Decision latency per prompt, one prompt at a time as the router decides: classify, then the dial.
    let t = Instant::now();
    let ctx = LoadContext { encoder_dir: encoder.clone(), ..Default::default() };
    let shipped = artifact::load(artifact::builtin(), None, &ctx).unwrap();
    println!(
        "\ndecision latency per prompt (classify + the dial's choice, batch of one, {} MBPP prompts; shipped {} \
         classifier loaded in {:.0} ms):",
        tasks.len(),
        shipped.meta.method.name(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    let prompts: Vec<&str> = tasks.iter().map(|t| t.prompt.as_str()).collect();
    let cancel = CancellationToken::new();
    let levels = shipped.meta.levels.clone();
    let dial = complexitynet_router::Policy::Dial { lambda: 0.25, costs: vec![0.01, 0.1, 1.0] };
    let success = shipped.meta.report.tier_success.clone();
    let decide = |model: &complexitynet_classifier::Model, p: &str| {
        let probs = rt.block_on(model.predict(&levels, &[p], &cancel)).unwrap().remove(0);
        let pass: Vec<f64> = match model.tier_pass(p) {
            Some(v) => v.iter().map(|&x| x as f64).collect(),
            None => complexitynet_router::expected_success(&probs, &success, 3),
        };
        complexitynet_router::choose(&dial, &levels, &probs, &pass, 3).tier
    };
    let report = |name: &str, model: &complexitynet_classifier::Model| {
        for p in prompts.iter().take(20) {
            decide(model, p);
        }
        let mut ms: Vec<f64> = prompts
            .iter()
            .map(|p| {
                let t = Instant::now();
                decide(model, p);
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(|a, b| a.total_cmp(b));
        let p50 = percentile(&ms, 0.5);
        println!(
            "  {name:<28} p50 {p50:>7.3} ms  p99 {:>7.3} ms  mean {:>7.3} ms  ({:.3}× the 2 ms goal at p50)",
            percentile(&ms, 0.99),
            ms.iter().sum::<f64>() / ms.len() as f64,
            p50 / 2.0
        );
    };
    report("pass (shipped)", &shipped.model);
    for (m, model) in &models {
        if *m != Method::Pass {
            report(m.name(), model);
        }
    }
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("\n(machine: {threads} hardware threads)");
}
