//! Answer extraction's speed against its peer, the line-based extractor it replaced (benches/peers/extract_v1.rs,
//! as of commit 9e4db77), in one run: every recorded answer of the paper's three models on MBPP (2920), each
//! extracted with its task's entry point (and, for the new one, its asserts), best of 5 passes.
//!
//! Run: `cargo bench -p complexitynet-engine --bench extract` (needs ../shared/data or COMPLEXITYNET_SHARED_DATA).

#[path = "peers/extract_v1.rs"]
#[allow(dead_code)] // the peer as it was; the bench calls only its entry point
mod extract_v1;

use complexitynet_engine::dataset::{parse_file, Format};
use complexitynet_verify::extract::extract_for_tests;
use complexitynet_verify::read_answers;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let data = std::env::var_os("COMPLEXITYNET_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/data"));
    let (_, tasks) = parse_file(&data.join("mbpp.jsonl"), Some(Format::Mbpp)).expect("MBPP");
    let by_id: HashMap<&str, _> = tasks.iter().map(|t| (t.task_id.as_str(), t)).collect();
    let answers = read_answers(&data.join("recorded/complexitynet-mbpp-outputs.jsonl")).expect("recorded answers");
    let work: Vec<(&str, &str, Vec<&str>)> = answers
        .iter()
        .filter_map(|a| {
            let t = by_id.get(a.task_id.as_str())?;
            let tests = std::iter::once(t.setup.as_str()).chain(t.asserts.iter().map(String::as_str)).collect();
            Some((a.output.as_str(), t.entry_point.name.as_str(), tests))
        })
        .collect();
    let time = |f: &dyn Fn() -> usize| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let old = time(&|| work.iter().map(|(a, e, _)| extract_v1::extract_code(a, Some(e)).code.len()).sum());
    let new = time(&|| work.iter().map(|(a, e, t)| extract_for_tests(a, Some(e), t).code.len()).sum());
    let n = work.len() as f64;
    println!("answer extraction, {} recorded answers, best of 5:", work.len());
    println!("  line-based extractor (peer)      {:>8.1} µs per answer", old / n * 1e6);
    println!("  tree-sitter candidates + sanitize {:>8.1} µs per answer", new / n * 1e6);
    println!("  ratio new / peer: {:.2}×", new / old);
    println!("  (a sandbox check of one answer takes tens of milliseconds: see the label_pipeline bench)");
}
