//! The leave-models-out benchmark's key assertions, small (the full run: `cargo bench -p complexitynet-classifier
//! --bench leave_models_out`): for tiers of models the difficulty fit never saw, known only by their published
//! rate, the default router (the hull mix under its controller) spends the budget it was given and routes no worse
//! than the hull of the fixed tiers — on half the tasks, in file order.

use complexitynet_classifier::ability::OutcomeTable;
use complexitynet_classifier::split::Rng;
use complexitynet_router::{self as route, Hull, Spend, TierProfile};
use complexitynet_verify::testing::shared_data;

const COSTS: [f64; 3] = [0.01, 0.1, 1.0];

#[test]
fn the_default_router_keeps_the_budget_and_the_hull_for_held_out_models() {
    let table =
        OutcomeTable::parse(&std::fs::read_to_string(shared_data().join("outcomes/mbpp-plus-greedy.jsonl")).unwrap())
            .unwrap();
    let (models, tasks) = (&table.models, &table.tasks);
    let passed = table.passed();
    let mut rng = Rng::new(7);
    let mut ts = tasks.clone();
    rng.shuffle(&mut ts);
    // Half the tasks are routed (in file order); a model's "published" rate is, as in the bench and as published
    // figures are, its rate on the whole benchmark.
    let (held, _) = ts.split_at(tasks.len() / 2);
    let known = &tasks[..];
    let mut held = held.to_vec();
    held.sort_by_key(|t| t.parse::<u64>().unwrap_or(0));
    let rate = |m: &str, on: &[String]| on.iter().filter(|t| passed[&(m, t.as_str())]).count() as f64 / on.len() as f64;
    let mut deltas = Vec::new();
    for _ in 0..4 {
        let mut trio: Vec<&String> = Vec::new();
        while trio.len() < 3 {
            let m = &models[rng.below(models.len())];
            if !trio.contains(&m) && trio.iter().all(|x| (rate(x, known) - rate(m, known)).abs() > 1e-9) {
                trio.push(m);
            }
        }
        trio.sort_by(|a, b| rate(a, known).total_cmp(&rate(b, known)));
        let profiles: Vec<TierProfile> =
            COSTS.iter().zip(&trio).map(|(&cost, m)| TierProfile { cost, rate: Some(rate(m, known)) }).collect();
        for s in [0.05, 0.10, 0.20, 0.50] {
            let (lo, hi, _) = route::mix(&profiles, s);
            let mut spend = Spend::default();
            let choice: Vec<usize> = (0..held.len())
                .map(|_| {
                    let k = if route::controlled_up(&spend, s, COSTS[lo], COSTS[hi], 1.0) { hi } else { lo };
                    spend.add(COSTS[k], 1.0);
                    k
                })
                .collect();
            let realized = spend.share().unwrap();
            // The budget holds: the realized share is the target, or less where the hull ends below it.
            let top_vertex = profiles.iter().map(|p| p.cost).fold(0.0, f64::max);
            assert!(realized <= s * 1.1 + 1e-9, "{trio:?} at {s}: spent {realized}");
            if s <= top_vertex && lo != hi {
                assert!(realized >= s * 0.9, "{trio:?} at {s}: spent only {realized}");
            }
            let n = held.len() as f64;
            let pass =
                choice.iter().zip(&held).filter(|(&k, t)| passed[&(trio[k].as_str(), t.as_str())]).count() as f64 / n;
            let fixed: Vec<[f64; 2]> = (0..3).map(|k| [COSTS[k], rate(trio[k], &held)]).collect();
            deltas.push(pass - Hull::new(&fixed).at(realized));
        }
    }
    let mean = deltas.iter().sum::<f64>() / deltas.len() as f64;
    let worst = deltas.iter().cloned().fold(f64::INFINITY, f64::min);
    assert!(mean >= -0.01, "on average no worse than the hull (−1 point): {mean:+.3} {deltas:?}");
    assert!(worst >= -0.05, "no point far under the hull: {worst:+.3} {deltas:?}");
}
