//! Leave models out: does the dial keep the budget, and route no worse than the fixed tiers, for tiers of models
//! it has never seen, knowing of each only its published pass rate?
//!
//! From `../shared/data/outcomes/mbpp-plus-greedy.jsonl` (49 models × 378 MBPP tasks): for each of four seeded
//! splits, 15 models and half of the tasks are held out; the difficulties (Rasch) and the text → difficulty
//! regression are fitted on the other models and tasks only. Three tier sets per split are drawn from the
//! held-out models (local < mid < top by their overall pass rate, the "published" rate; costs 1 : 10 : 100). The
//! held-out tasks are routed in file order, as if they arrived one by one, at each cost share S:
//!
//! - **dial (default)**: the hull of the tiers by their published rates, the mix of its two neighbouring tiers
//!   the budget buys, decided by the controller on realized spend (the product's `route` code);
//! - **IRT dial**: each tier's pass probability from its ability (its published rate) and the prompt's predicted
//!   difficulty, `p_k − λ·c_k` with λ set on the prompts' own predictions to spend S (the learned router).
//!
//! Each is scored by the held-out outcomes against the hull of the fixed tiers at the realized cost, with a
//! paired bootstrap over tasks (1,000 resamples). Run: `cargo bench -p complexitynet-classifier --bench
//! leave_models_out` (COMPLEXITYNET_SHARED_DATA as for the tests).

use std::collections::HashMap;

use complexitynet_classifier::ability::{fit_rasch, DifficultyModel, Outcome, OutcomeTable};
use complexitynet_classifier::split::Rng;
use complexitynet_router::{self as route, Spend, TierProfile};
use complexitynet_verify::testing::shared_data;

const SHARES: [f64; 4] = [0.05, 0.10, 0.20, 0.50];
const COSTS: [f64; 3] = [0.01, 0.1, 1.0];

struct Point {
    share: f64,
    delta: f64,
    ci: [f64; 2],
}

fn main() {
    let data = OutcomeTable::parse(
        &std::fs::read_to_string(shared_data().join("outcomes/mbpp-plus-greedy.jsonl")).expect("the outcomes file"),
    )
    .expect("the outcomes table");
    let prompts: HashMap<String, String> = std::fs::read_to_string(shared_data().join("mbpp.jsonl"))
        .expect("MBPP")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["task_id"].to_string(), v["text"].as_str().unwrap().to_owned())
        })
        .collect();
    let (outcomes, models, tasks) = (&data.outcomes, &data.models, &data.tasks);
    let passed = data.passed();
    let rate = |m: &str| tasks.iter().filter(|t| passed[&(m, t.as_str())]).count() as f64 / tasks.len() as f64;

    let mut table: HashMap<(&str, usize), Vec<Point>> = HashMap::new();
    let mut sets = 0;
    for split in 0..4u64 {
        let mut rng = Rng::new(1000 + split);
        let mut ms = models.clone();
        rng.shuffle(&mut ms);
        let (held_models, train_models) = ms.split_at(15);
        let mut ts = tasks.clone();
        rng.shuffle(&mut ts);
        let (held_tasks, train_tasks) = ts.split_at(tasks.len() / 2);
        let mut held_tasks = held_tasks.to_vec();
        held_tasks.sort_by_key(|t| t.parse::<u64>().unwrap_or(0)); // "in order, as they arrive"
        let train: Vec<Outcome> = outcomes
            .iter()
            .filter(|o| train_models.contains(&o.model) && train_tasks.contains(&o.task))
            .cloned()
            .collect();
        let rasch = fit_rasch(&train);
        let fitted: Vec<(String, f64)> =
            rasch.tasks.iter().zip(&rasch.difficulties).map(|(t, b)| (prompts[t].clone(), *b)).collect();
        let dm = DifficultyModel::fit(&fitted, &rasch, "mbpp", "bench".into(), 5, split);
        let difficulty: Vec<f64> = held_tasks.iter().map(|t| dm.difficulty(&prompts[t])).collect();
        for _ in 0..3 {
            let mut trio: Vec<&String> = Vec::new();
            while trio.len() < 3 {
                let m = &held_models[rng.below(held_models.len())];
                if !trio.contains(&m) && trio.iter().all(|x| (rate(x) - rate(m)).abs() > 1e-9) {
                    trio.push(m);
                }
            }
            trio.sort_by(|a, b| rate(a).total_cmp(&rate(b)));
            sets += 1;
            let published: Vec<f64> = trio.iter().map(|m| rate(m)).collect();
            let profiles: Vec<TierProfile> =
                COSTS.iter().zip(&published).map(|(&cost, &r)| TierProfile { cost, rate: Some(r) }).collect();
            let outcome = |k: usize, t: usize| f64::from(u8::from(passed[&(trio[k].as_str(), held_tasks[t].as_str())]));
            let abilities: Vec<f64> = published.iter().map(|&r| dm.ability_for_rate(r)).collect();
            let pk: Vec<Vec<f64>> =
                difficulty.iter().map(|&b| abilities.iter().map(|&a| dm.pass_probability(a, b)).collect()).collect();
            for (si, &s) in SHARES.iter().enumerate() {
                // The default dial: the hull mix under the controller.
                let (lo, hi, _) = route::mix(&profiles, s);
                let mut spend = Spend::default();
                let mix: Vec<usize> = (0..held_tasks.len())
                    .map(|_| {
                        let up = route::controlled_up(&spend, s, COSTS[lo], COSTS[hi], 1.0);
                        let k = if up { hi } else { lo };
                        spend.add(COSTS[k], 1.0);
                        k
                    })
                    .collect();
                // The learned router: λ set on the prompts' own predicted pass probabilities.
                let pool: Vec<(Vec<f64>, f64)> = pk.iter().map(|p| (p.clone(), 1.0)).collect();
                let lambda = route::calibrate_for_cost(&pool, &COSTS, s);
                let irt: Vec<usize> = pk.iter().map(|p| route::dial_choice(p, lambda, &COSTS)).collect();
                for (name, choice) in [("dial (default: hull mix, controller)", &mix), ("IRT dial (learned)", &irt)] {
                    table.entry((name, si)).or_default().push(score(choice, &outcome, held_tasks.len(), split));
                }
            }
        }
    }
    println!("Leave models out: {sets} tier sets of held-out models, held-out tasks, costs 1 : 10 : 100\n");
    println!("| policy | S | realized share / S: mean [min, max] | Δ vs hull, points: mean [min] | points whose CI is wholly below −1 |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for name in ["dial (default: hull mix, controller)", "IRT dial (learned)"] {
        let mut all = Vec::new();
        for (si, &s) in SHARES.iter().enumerate() {
            let pts = &table[&(name, si)];
            let ratio: Vec<f64> = pts.iter().map(|p| p.share / s).collect();
            let deltas: Vec<f64> = pts.iter().map(|p| p.delta).collect();
            let below = pts.iter().filter(|p| p.ci[1] < -0.01).count();
            all.extend(deltas.iter().copied());
            println!(
                "| {name} | {:.0}% | {:.2} [{:.2}, {:.2}] | {:+.1} [{:+.1}] | {below} of {} |",
                100.0 * s,
                mean(&ratio),
                ratio.iter().copied().fold(f64::INFINITY, f64::min),
                ratio.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                100.0 * mean(&deltas),
                100.0 * deltas.iter().copied().fold(f64::INFINITY, f64::min),
                pts.len()
            );
        }
        println!("| {name} | all | | {:+.2} (average over tier sets and shares) | |", 100.0 * mean(&all));
    }
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len().max(1) as f64
}

/// The routed pass rate against the hull of the fixed tiers at the realized cost, with a paired bootstrap over
/// tasks (the routing's choices kept; the fixed tiers' rates, and so the hull, recomputed on each resample).
fn score(choice: &[usize], outcome: &dyn Fn(usize, usize) -> f64, n: usize, seed: u64) -> Point {
    let delta = |idx: &[usize]| {
        let m = idx.len() as f64;
        let fixed: Vec<[f64; 2]> =
            (0..3).map(|k| [COSTS[k], idx.iter().map(|&t| outcome(k, t)).sum::<f64>() / m]).collect();
        let pass = idx.iter().map(|&t| outcome(choice[t], t)).sum::<f64>() / m;
        let share = idx.iter().map(|&t| COSTS[choice[t]]).sum::<f64>() / m;
        (pass - route::Hull::new(&fixed).at(share), share)
    };
    let all: Vec<usize> = (0..n).collect();
    let (d, share) = delta(&all);
    let mut rng = Rng::new(seed ^ 0x5eed);
    let mut boot: Vec<f64> = (0..1000)
        .map(|_| {
            let idx: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
            delta(&idx).0
        })
        .collect();
    boot.sort_by(f64::total_cmp);
    Point { share, delta: d, ci: [boot[24], boot[974]] }
}
