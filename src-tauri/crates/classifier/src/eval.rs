//! The evaluation that decides whether routing pays: each policy's deferral curve (pass rate against cost, as a
//! share of always-top's cost) beside the hull of the fixed tiers — what mixing "always L1", "always L2", …
//! at random achieves for the same money. A policy counts where it is above that hull, by more than chance:
//! Δ vs the hull at 5/10/20/50% of the cost with 95% bootstrap intervals, the area between curve and hull, and
//! APGR (the share of the gap between the cheapest and the top tier recovered, averaged over the cost range).
//!
//! Honesty rules: a task is routed with the prediction from the fold that held it out (never from a model that
//! saw its outcome); the dial's λ for a target share is calibrated on those same held-out predictions, as the
//! app calibrates it; the level-only methods' pass probabilities come from the other folds' pass rates per
//! level. Every point carries the tier chosen for each task, so anyone can recompute pass and cost from the
//! verdicts. The verified cascade is reported beside the policies with its caveat: on MBPP the asserts that
//! verify an answer are the ones that score it, so its figures are an upper bound.

use serde::Serialize;
use std::collections::HashMap;

use complexitynet_router::{self as route, Hull, Policy};

use crate::data::LabeledSet;
use crate::error::{ClassifierError, Result};
use crate::metrics::TierMetrics;
use crate::metrics::{argmax, evaluate, Metrics};
use crate::split;

/// The cost shares the comparisons are made at.
pub const SHARES: [f64; 4] = [0.05, 0.10, 0.20, 0.50];

/// A routing outcome over the labeled tasks.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Point {
    pub name: String,
    /// The setting that produced it (the dial's target share, τ), when it has one.
    pub setting: Option<f64>,
    pub pass_rate: f64,
    /// Mean cost per task, in the report's cost unit.
    pub cost: f64,
    /// Cost as a share of always using the top tier.
    pub relative_cost: f64,
    /// The paper's savings formula: 1 − cost / cost(always top).
    pub savings_vs_top: f64,
    /// The share of tasks sent to each tier.
    pub tier_share: Vec<f64>,
    /// The tier (0-based) each task went to, in `task_ids` order (for a cascade: the last tier it reached).
    pub choices: Vec<u8>,
}

impl Point {
    /// A point from its pass rate and mean cost; the shares of always-top's cost follow from `top_cost`.
    fn new(
        name: String,
        setting: Option<f64>,
        pass_rate: f64,
        cost: f64,
        top_cost: f64,
        share: Vec<f64>,
        choices: Vec<u8>,
    ) -> Point {
        Point {
            name,
            setting,
            pass_rate,
            cost,
            relative_cost: cost / top_cost,
            savings_vs_top: 1.0 - cost / top_cost,
            tier_share: share,
            choices,
        }
    }
}

/// A policy's points, sorted by cost.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Curve {
    pub policy: String,
    pub points: Vec<Point>,
}

/// A policy against the hull at one cost share.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DeltaAt {
    pub cost_share: f64,
    /// The cost share the policy's operating point actually spends.
    pub achieved: f64,
    pub pass_rate: f64,
    /// What the fixed tiers' hull passes at the achieved cost.
    pub hull: f64,
    pub delta: f64,
    /// 95% bootstrap interval of `delta` (tasks resampled, the choices kept).
    pub ci: [f64; 2],
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Comparison {
    pub policy: String,
    pub at: Vec<DeltaAt>,
    /// Mean (curve − hull) in pass rate over cost shares 1–10%, and over the whole range the curve covers (none
    /// for a policy with one operating point: it has no curve).
    pub area_low: Option<f64>,
    pub area_all: Option<f64>,
    /// Average performance gap recovered: (curve − always-L1) / (always-top − always-L1), averaged over the cost
    /// range from always-L1's cost to always-top's.
    pub apgr: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct EvalReport {
    pub labels: String,
    pub classifier: String,
    pub rule: String,
    pub tiers: Vec<String>,
    pub costs: Vec<f64>,
    pub cost_unit: String,
    /// Every task routed and scored (unsolved ones included, unless the report is of the cleaned view).
    pub n: usize,
    /// Of those, the labeled ones (some tier solved them): the classifier's own metrics are over these.
    pub labeled: usize,
    pub folds: usize,
    /// The tasks, in the order of every point's `choices`.
    pub task_ids: Vec<String>,
    pub classifier_metrics: Metrics,
    /// How well each tier's pass probability is predicted on the held-out folds.
    pub tier_metrics: Vec<TierMetrics>,
    /// Always L1, always L2, …; the hull is drawn through them.
    pub fixed: Vec<Point>,
    /// The index in `fixed` of always-mid (the tier to beat at its cost).
    pub always_mid: usize,
    /// The upper hull of the fixed tiers, as (cost share, pass rate) vertices.
    pub hull: Vec<[f64; 2]>,
    /// The hull's own APGR over the same cost range (what mixing fixed tiers recovers): a policy's APGR means
    /// something only beside it.
    pub hull_apgr: f64,
    pub random: Point,
    pub oracle: Point,
    pub curves: Vec<Curve>,
    pub comparisons: Vec<Comparison>,
    /// The saved policy at its setting.
    pub routed: Point,
    pub cascades: Vec<Point>,
    pub cascade_caveat: String,
    /// The cascade verified by the prompt's checks and scored by the dataset's tests, when asked for.
    pub honest: Option<HonestCascade>,
}

pub struct EvalOptions {
    pub classifier: String,
    /// The saved policy, scored as `routed` (the dial carries its calibrated λ; see [`dial_policy`]).
    pub policy: Policy,
    /// Its name in the report, e.g. "dial at 10% of the top tier's cost".
    pub policy_name: String,
    /// Cost of one task on each tier (default: the paper's 1, 10, 100 units).
    pub costs: Vec<f64>,
    pub cost_unit: String,
    pub folds: usize,
    pub seed: u64,
    /// Held-out tier pass probabilities by task (the `pass` method); empty: derived from the levels.
    pub tier_pass: HashMap<String, Vec<f32>>,
    pub tier_metrics: Vec<TierMetrics>,
    /// Each task's answers judged by the checks its prompt shows (the honest cascade); None: not reported.
    pub shown: Option<HashMap<String, Shown>>,
    /// The tasks no tier solved (no label: the classifier never trained on them), each with the prediction of the
    /// classifier's final model: routed and scored with the rest, so every task counts (a failure for every
    /// policy, at whatever it cost). Empty: the labeled tasks only (the cleaned view).
    pub unsolved: Vec<Unsolved>,
}

/// A task no tier solved, as the eval routes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsolved {
    pub task_id: String,
    pub probabilities: Vec<f32>,
    /// Each tier's pass probability (empty for the level-only methods: derived from the levels).
    pub tier_pass: Vec<f32>,
}

/// A task's answers, tier by tier, judged by the checks its prompt shows and scored by the dataset's tests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shown {
    /// The prompt shows no checks: the answer cannot be verified.
    pub unchecked: bool,
    pub tiers: Vec<Judged>,
}

/// One tier's answers to a task: how many, how many the shown checks accepted, and how those split by the
/// dataset's tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Judged {
    pub trials: u32,
    pub accepted: u32,
    pub accepted_correct: u32,
    pub rejected_correct: u32,
}

/// The shown checks as a judge of one tier's answers (the dataset's tests being the truth).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct JudgeMetrics {
    pub tier: String,
    /// Answers judged (of tasks whose prompt shows checks).
    pub answers: u32,
    /// Of the answers the checks accepted, the share the dataset's tests pass.
    pub precision: f64,
    /// Of the answers the dataset's tests pass, the share the checks accepted.
    pub recall: f64,
}

/// The honest cascade: verified by what the prompt shows, scored by the dataset's held-out tests.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct HonestCascade {
    /// How verification saw each task, and how it was scored.
    pub protocol: String,
    /// The share of tasks whose prompt shows checks (the rest go to the top tier unverified).
    pub checked_share: f64,
    pub cascades: Vec<Point>,
    pub judge: Vec<JudgeMetrics>,
}

fn pass_rates(set: &LabeledSet) -> Vec<Vec<f64>> {
    // A tier with no trial of a task (only in a personal set) counts as not passing it: the eval scores what
    // would have been answered.
    set.pass_fractions()
        .into_iter()
        .map(|r| r.into_iter().map(|x| if x.is_nan() { 0.0 } else { f64::from(x) }).collect())
        .collect()
}

fn point(name: &str, setting: Option<f64>, choice: &[usize], pass: &[Vec<f64>], costs: &[f64]) -> Point {
    let n = choice.len().max(1) as f64;
    let k = costs.len();
    let pass_rate = choice.iter().zip(pass).map(|(&t, p)| p[t]).sum::<f64>() / n;
    let cost = choice.iter().map(|&t| costs[t]).sum::<f64>() / n;
    let top = costs[k - 1];
    let mut share = vec![0.0; k];
    for &t in choice {
        share[t] += 1.0 / n;
    }
    Point::new(name.to_owned(), setting, pass_rate, cost, top, share, choice.iter().map(|&t| t as u8).collect())
}

/// A curve as a monotone function of cost share (the best pass rate reachable at or below each cost), linear
/// between its points; None outside the range it covers.
fn curve_at(points: &[[f64; 2]], x: f64) -> Option<f64> {
    let mut frontier: Vec<[f64; 2]> = Vec::new();
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a[0].total_cmp(&b[0]));
    for p in sorted {
        match frontier.last() {
            Some(l) if p[1] <= l[1] => {}
            _ => frontier.push(p),
        }
    }
    let first = frontier.first()?;
    if x < first[0] - 1e-12 {
        return None;
    }
    for w in frontier.windows(2) {
        if x <= w[1][0] {
            return Some(w[0][1] + (w[1][1] - w[0][1]) * (x - w[0][0]) / (w[1][0] - w[0][0]).max(1e-12));
        }
    }
    frontier.last().map(|l| l[1])
}

/// The dial's policy for a target share, with λ calibrated on `pool` (held-out tier pass probabilities).
pub fn dial_policy(pool: &[Vec<f64>], costs: &[f64], share: f64) -> Policy {
    let top = costs.last().copied().unwrap_or(1.0).max(1e-12);
    let rel: Vec<f64> = costs.iter().map(|c| c / top).collect();
    let weighted: Vec<(Vec<f64>, f64)> = pool.iter().map(|p| (p.clone(), 1.0)).collect();
    let lambda = route::calibrate_for_cost(&weighted, &rel, share);
    Policy::Dial { lambda, costs: rel }
}

/// Scores routing over `set` with held-out level `predictions` (task id → probabilities over `set.levels`).
pub fn evaluate_routing(
    set: &LabeledSet,
    predictions: &HashMap<String, Vec<f32>>,
    opts: &EvalOptions,
) -> Result<EvalReport> {
    let k = set.tiers.len();
    if k == 0 || opts.costs.len() != k {
        return Err(ClassifierError::Invalid(format!(
            "{} tiers in the labels but {} costs; give one cost per tier (--costs)",
            k,
            opts.costs.len()
        )));
    }
    if set.examples.iter().any(|e| e.counts.len() != k) {
        return Err(ClassifierError::LabelsUnusable("the labels carry no per-tier pass counts".into()));
    }
    let missing = set.examples.iter().filter(|e| !predictions.contains_key(&e.task_id)).count();
    if missing > 0 {
        return Err(ClassifierError::Invalid(format!(
            "{missing} labeled tasks have no held-out prediction from this classifier (train it on these labels)"
        )));
    }
    let n = set.examples.len();
    let pass = pass_rates(set);
    let costs = &opts.costs;
    let top_cost = costs[k - 1];
    let probs: Vec<&Vec<f32>> = set.examples.iter().map(|e| &predictions[&e.task_id]).collect();
    let classes = set.classes();
    let pred: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
    let classifier_metrics = evaluate(&set.levels, &classes, &pred, opts.seed);

    // Each task's held-out pass probability per tier: the pass method's own, or the level probabilities times the
    // pass rates per level measured on the folds that do not hold the task.
    let folds = split::k_folds(&set.level_values(), opts.folds.max(2), opts.seed);
    let tier_pass: Vec<Vec<f64>> = if opts.tier_pass.is_empty() {
        let mut out = vec![Vec::new(); n];
        for held in &folds {
            let mut train = set.clone();
            train.examples =
                (0..n).filter(|i| held.binary_search(i).is_err()).map(|i| set.examples[i].clone()).collect();
            let s = train.tier_success();
            for &i in held {
                out[i] = route::expected_success(probs[i], &s, k);
            }
        }
        out
    } else {
        set.examples
            .iter()
            .map(|e| opts.tier_pass.get(&e.task_id).map(|p| p.iter().map(|&x| x as f64).collect()).unwrap_or_default())
            .collect()
    };
    if tier_pass.iter().any(|p| p.len() != k) {
        return Err(ClassifierError::Invalid("held-out pass probabilities do not cover every tier".into()));
    }
    // Every task from here on: the labeled ones, then those no tier solved (each a failure for every tier).
    let labeled = n;
    let mut pass = pass;
    let mut tier_pass = tier_pass;
    let mut probs: Vec<Vec<f32>> = probs.into_iter().cloned().collect();
    let mut task_ids: Vec<String> = set.examples.iter().map(|e| e.task_id.clone()).collect();
    let success = set.tier_success();
    for u in &opts.unsolved {
        pass.push(vec![0.0; k]);
        tier_pass.push(if u.tier_pass.len() == k {
            u.tier_pass.iter().map(|&x| f64::from(x)).collect()
        } else {
            route::expected_success(&u.probabilities, &success, k)
        });
        probs.push(u.probabilities.clone());
        task_ids.push(u.task_id.clone());
    }
    let n = pass.len();
    let route_all = |policy: &Policy| -> Vec<usize> {
        match policy {
            // The hull mix runs under its controller: the tasks in order, as they would arrive.
            Policy::Hull { costs: rel, .. } => {
                let mut spend = route::Spend::default();
                (0..n)
                    .map(|i| {
                        let budget = route::Budget { spend, top: 1.0 };
                        let t = route::choose_within(policy, &set.levels, &probs[i], &tier_pass[i], k, &budget).tier;
                        spend.add(rel.get(t).copied().unwrap_or(1.0), 1.0);
                        t
                    })
                    .collect()
            }
            _ => (0..n).map(|i| route::choose(policy, &set.levels, &probs[i], &tier_pass[i], k).tier).collect(),
        }
    };

    // The fixed tiers and their hull.
    let fixed: Vec<Point> = (0..k)
        .map(|t| point(&format!("always L{} ({})", t + 1, set.tiers[t]), None, &vec![t; n], &pass, costs))
        .collect();
    let hull = Hull::new(&fixed.iter().map(|p| [p.relative_cost, p.pass_rate]).collect::<Vec<_>>());
    let always_mid = k / 2;
    let random = {
        let mean = |f: fn(&Point) -> f64| fixed.iter().map(f).sum::<f64>() / k as f64;
        let cost = mean(|p| p.cost);
        Point::new(
            "random tier".into(),
            None,
            mean(|p| p.pass_rate),
            cost,
            top_cost,
            vec![1.0 / k as f64; k],
            Vec::new(),
        )
    };
    let oracle_choice: Vec<usize> = pass
        .iter()
        .map(|p| {
            let best = p.iter().cloned().fold(0.0, f64::max);
            p.iter().position(|&x| x >= best).unwrap_or(k - 1)
        })
        .collect();
    let oracle = point("oracle", None, &oracle_choice, &pass, costs);

    // The policies' curves.
    let dial_shares = [0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.10, 0.15, 0.20, 0.30, 0.40, 0.50, 0.75, 1.0];
    let dial_at = |share: f64| route_all(&dial_policy(&tier_pass, costs, share));
    let mut dial: Vec<Point> = dial_shares
        .iter()
        .map(|&s| point(&format!("dial {:.1}%", 100.0 * s), Some(s), &dial_at(s), &pass, costs))
        .collect();
    let mut threshold: Vec<Point> = (0..=20)
        .map(|i| {
            let tau = i as f64 / 20.0;
            point(&format!("threshold τ={tau:.2}"), Some(tau), &route_all(&Policy::Threshold { tau }), &pass, costs)
        })
        .collect();
    let paper_policy = Policy::Paper { map: route::default_map(set.rule.name(), &set.levels, k) };
    let paper = point("paper map", None, &route_all(&paper_policy), &pass, costs);
    for c in [&mut dial, &mut threshold] {
        c.sort_by(|a, b| a.relative_cost.total_cmp(&b.relative_cost));
    }
    let curves = vec![
        Curve { policy: "dial".into(), points: dial },
        Curve { policy: "threshold".into(), points: threshold },
        Curve { policy: "paper map".into(), points: vec![paper] },
    ];

    // Each policy against the hull.
    let fixed_pass: Vec<Vec<f64>> = (0..k).map(|t| pass.iter().map(|p| p[t]).collect()).collect();
    let rel_costs: Vec<f64> = costs.iter().map(|c| c / top_cost).collect();
    // `refit`: for the dial, its routing of a resample with λ calibrated again on that resample's prompts (what
    // a different sample of prompts would have made the app do); the classifier and its calibration stay fixed.
    type Refit<'a> = Option<&'a dyn Fn(&[usize]) -> Vec<usize>>;
    let delta_at = |share: f64, choice: &[u8], refit: Refit| -> DeltaAt {
        let c: Vec<usize> = choice.iter().map(|&t| t as usize).collect();
        let p = point("", None, &c, &pass, costs);
        let d = p.pass_rate - hull.at(p.relative_cost);
        // Paired bootstrap: the same resampled tasks for the policy and for the fixed tiers behind the hull.
        let mut rng = split::Rng::new(opts.seed ^ 0xB007);
        let mut ds: Vec<f64> = (0..1000)
            .map(|_| {
                let idx: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
                let m = n as f64;
                let routed: Vec<usize> = match refit {
                    Some(f) => f(&idx),
                    None => idx.iter().map(|&i| c[i]).collect(),
                };
                let pr = idx.iter().zip(&routed).map(|(&i, &t)| pass[i][t]).sum::<f64>() / m;
                let cr = routed.iter().map(|&t| rel_costs[t]).sum::<f64>() / m;
                let h = Hull::new(
                    &(0..k)
                        .map(|t| [rel_costs[t], idx.iter().map(|&i| fixed_pass[t][i]).sum::<f64>() / m])
                        .collect::<Vec<_>>(),
                );
                pr - h.at(cr)
            })
            .collect();
        ds.sort_by(|a, b| a.total_cmp(b));
        DeltaAt {
            cost_share: share,
            achieved: p.relative_cost,
            pass_rate: p.pass_rate,
            hull: hull.at(p.relative_cost),
            delta: d,
            ci: [ds[25], ds[974]],
        }
    };
    let low = [fixed[0].relative_cost, 1.0];
    let hull_apgr = {
        let (weak, strong) = (fixed[0].pass_rate, fixed[k - 1].pass_rate);
        let xs = (0..=200).map(|i| low[0] + (low[1] - low[0]) * i as f64 / 200.0);
        xs.map(|x| (hull.at(x) - weak) / (strong - weak).max(1e-12)).sum::<f64>() / 201.0
    };
    let compare = |c: &Curve, at: Vec<DeltaAt>| -> Comparison {
        let pts: Vec<[f64; 2]> = c.points.iter().map(|p| [p.relative_cost, p.pass_rate]).collect();
        let curve = pts.len() > 1;
        let mean_gap = |a: f64, b: f64| {
            let xs: Vec<f64> = (0..=200).map(|i| a + (b - a) * i as f64 / 200.0).collect();
            let gaps: Vec<f64> = xs.iter().filter_map(|&x| curve_at(&pts, x).map(|y| y - hull.at(x))).collect();
            if gaps.is_empty() {
                0.0
            } else {
                gaps.iter().sum::<f64>() / gaps.len() as f64
            }
        };
        let (weak, strong) = (fixed[0].pass_rate, fixed[k - 1].pass_rate);
        let pgr: Vec<f64> = (0..=200)
            .map(|i| low[0] + (low[1] - low[0]) * i as f64 / 200.0)
            .filter_map(|x| curve_at(&pts, x).map(|y| (y - weak) / (strong - weak).max(1e-12)))
            .collect();
        Comparison {
            policy: c.policy.clone(),
            at,
            area_low: curve.then(|| mean_gap(0.01, 0.10)),
            area_all: curve.then(|| mean_gap(low[0], 1.0)),
            apgr: (curve && !pgr.is_empty()).then(|| pgr.iter().sum::<f64>() / pgr.len() as f64),
        }
    };
    let mut comparisons = Vec::new();
    // The dial: λ calibrated to each share, as the app does.
    comparisons.push(compare(
        &curves[0],
        SHARES
            .iter()
            .map(|&s| {
                let c: Vec<u8> = dial_at(s).into_iter().map(|t| t as u8).collect();
                let refit = |idx: &[usize]| -> Vec<usize> {
                    let pool: Vec<(Vec<f64>, f64)> = idx.iter().map(|&i| (tier_pass[i].clone(), 1.0)).collect();
                    let lambda = route::calibrate_for_cost(&pool, &rel_costs, s);
                    idx.iter().map(|&i| route::dial_choice(&tier_pass[i], lambda, &rel_costs)).collect()
                };
                delta_at(s, &c, Some(&refit))
            })
            .collect(),
    ));
    // The threshold: the costliest setting that stays within each share (what a user would pick for a budget).
    comparisons.push(compare(
        &curves[1],
        SHARES
            .iter()
            .filter_map(|&s| {
                let best = curves[1]
                    .points
                    .iter()
                    .filter(|p| p.relative_cost <= s + 1e-9)
                    .max_by(|a, b| a.relative_cost.total_cmp(&b.relative_cost))?;
                Some(delta_at(s, &best.choices, None))
            })
            .collect(),
    ));
    let paper_pt = &curves[2].points[0];
    comparisons.push(compare(&curves[2], vec![delta_at(paper_pt.relative_cost, &paper_pt.choices, None)]));

    // The verified cascades, every attempt paid: from L1 up to each tier, and from the tier the dial picks at the
    // default share up to the top (what the app does when a prompt carries tests).
    let cascade = |name: String, start: &[usize], last: usize| -> Point {
        let mut pass_rate = 0.0;
        let mut cost = 0.0;
        let mut share = vec![0.0; k];
        let mut choices = Vec::with_capacity(n);
        for (i, p) in pass.iter().enumerate() {
            // With M trials per tier, each tier is one attempt that passes with its pass fraction.
            let mut reach = 1.0;
            let mut last_reached = start[i];
            for t in start[i]..=last {
                cost += reach * costs[t];
                share[t] += reach / n as f64;
                if reach > 0.0 {
                    last_reached = t;
                }
                reach *= 1.0 - p[t];
            }
            pass_rate += 1.0 - reach;
            choices.push(last_reached as u8);
        }
        let (pass_rate, cost) = (pass_rate / n as f64, cost / n as f64);
        Point::new(name, None, pass_rate, cost, top_cost, share, choices)
    };
    let mut cascades: Vec<Point> = (1..k)
        .map(|last| {
            let name = format!("cascade {}", (0..=last).map(|t| format!("L{}", t + 1)).collect::<Vec<_>>().join("→"));
            cascade(name, &vec![0; n], last)
        })
        .collect();
    if k > 1 {
        let share = route::DEFAULT_COST_SHARE;
        cascades.push(cascade(
            format!("cascade from the dial's tier ({:.0}%) → L{k}", 100.0 * share),
            &dial_at(share),
            k - 1,
        ));
    }

    let routed = point(&opts.policy_name, None, &route_all(&opts.policy), &pass, costs);
    let honest = opts.shown.as_ref().map(|shown| honest_cascades(&task_ids, &set.tiers, shown, costs));
    Ok(EvalReport {
        labels: set.source.clone(),
        classifier: opts.classifier.clone(),
        rule: set.rule.name().into(),
        tiers: set.tiers.clone(),
        costs: costs.clone(),
        cost_unit: opts.cost_unit.clone(),
        n,
        folds: folds.len(),
        task_ids: task_ids.clone(),
        labeled,
        classifier_metrics,
        tier_metrics: opts.tier_metrics.clone(),
        fixed,
        always_mid,
        hull: hull.vertices.clone(),
        hull_apgr,
        random,
        oracle,
        curves,
        comparisons,
        routed,
        cascades,
        cascade_caveat: "the cascade verifies each answer with the task's own asserts, which are also what score it; \
                         on MBPP these figures are an upper bound (a prompt's own tests are usually fewer and weaker)"
            .into(),
        honest,
    })
}

/// The cascades verified by the checks each prompt shows and scored by the dataset's tests: at each tier an
/// answer the checks accept stops the climb (and counts as passing only if the dataset's tests pass it); the last
/// tier's answer is returned either way. A prompt that shows no checks cannot be verified and goes to the top
/// tier. With M trials per tier, each tier is one attempt drawn from its trials.
fn honest_cascades(tasks: &[String], tiers: &[String], shown: &HashMap<String, Shown>, costs: &[f64]) -> HonestCascade {
    let k = costs.len();
    let n = tasks.len().max(1) as f64;
    let top_cost = costs[k - 1];
    let fraction = |x: u32, of: u32| if of == 0 { 0.0 } else { f64::from(x) / f64::from(of) };
    let checked = tasks.iter().filter(|t| shown.get(*t).is_some_and(|s| !s.unchecked)).count();
    let cascade = |last: usize| -> Point {
        let (mut pass_rate, mut cost) = (0.0, 0.0);
        let mut share = vec![0.0; k];
        let mut choices = Vec::with_capacity(tasks.len());
        for t in tasks {
            let s = shown.get(t);
            let tiers = s.map(|s| s.tiers.as_slice()).unwrap_or(&[]);
            let judged = |t: usize| tiers.get(t).copied().unwrap_or_default();
            if s.is_none_or(|s| s.unchecked) {
                let j = judged(last);
                pass_rate += fraction(j.accepted_correct + j.rejected_correct, j.trials);
                cost += costs[last];
                share[last] += 1.0 / n;
                choices.push(last as u8);
                continue;
            }
            let mut reach = 1.0;
            let mut last_reached = 0;
            for t in 0..=last {
                let j = judged(t);
                cost += reach * costs[t];
                share[t] += reach / n;
                if reach > 0.0 {
                    last_reached = t;
                }
                if t == last {
                    pass_rate += reach * fraction(j.accepted_correct + j.rejected_correct, j.trials);
                } else {
                    pass_rate += reach * fraction(j.accepted_correct, j.trials);
                    reach *= 1.0 - fraction(j.accepted, j.trials);
                }
            }
            choices.push(last_reached as u8);
        }
        let (pass_rate, cost) = (pass_rate / n, cost / n);
        let name = format!(
            "cascade {} verified by the prompt's checks",
            (0..=last).map(|t| format!("L{}", t + 1)).collect::<Vec<_>>().join("→")
        );
        Point::new(name, None, pass_rate, cost, top_cost, share, choices)
    };
    let judge = (0..k)
        .map(|t| {
            let (mut answers, mut accepted, mut tp, mut correct) = (0u32, 0u32, 0u32, 0u32);
            for task in tasks {
                let Some(s) = shown.get(task).filter(|s| !s.unchecked) else { continue };
                let j = s.tiers.get(t).copied().unwrap_or_default();
                answers += j.trials;
                accepted += j.accepted;
                tp += j.accepted_correct;
                correct += j.accepted_correct + j.rejected_correct;
            }
            JudgeMetrics {
                tier: tiers.get(t).cloned().unwrap_or_default(),
                answers,
                precision: fraction(tp, accepted),
                recall: fraction(tp, correct),
            }
        })
        .collect();
    HonestCascade {
        protocol: "each answer is verified only by what its prompt shows (its own examples; a prompt that shows none \
                   but has asserts, as MBPP's one-sentence prompts, shows its first assert, as MBPP's own prompt \
                   format does) and scored by all of the dataset's tests; a prompt that shows nothing goes to the \
                   top tier unverified"
            .into(),
        checked_share: checked as f64 / n,
        cascades: (1..k).map(cascade).collect(),
        judge,
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn pts(x: f64) -> String {
    format!("{:+.1}", 100.0 * x)
}

/// The report as Markdown.
pub fn markdown(r: &EvalReport) -> String {
    let m = &r.classifier_metrics;
    let mut s = format!(
        "# Routing report: {} with classifier {}\n\n{} labeled tasks ({} rule), tiers {}, costs per task {:?} ({}).\n\
         Every task is routed with the prediction from the fold that held it out ({} folds).\n\n## Classifier\n\n\
         Levels: accuracy {} [{}, {}], macro-F1 {}, within one level {}.\n",
        r.labels,
        r.classifier,
        r.n,
        r.rule,
        r.tiers.join(", "),
        r.costs,
        r.cost_unit,
        r.folds,
        pct(m.accuracy),
        pct(m.accuracy_ci[0]),
        pct(m.accuracy_ci[1]),
        pct(m.macro_f1),
        pct(m.within_one)
    );
    if !r.tier_metrics.is_empty() {
        s.push_str("\n| tier | passes | AUC | Brier | calibration error |\n| --- | ---: | ---: | ---: | ---: |\n");
        for t in &r.tier_metrics {
            s.push_str(&format!(
                "| {} | {} | {:.3} | {:.3} | {:.3} |\n",
                t.tier,
                pct(t.base_rate),
                t.auc,
                t.brier,
                t.ece
            ));
        }
    }
    s.push_str(
        "\n## Fixed tiers and references\n\n| strategy | pass rate | cost vs always-top |\n| --- | ---: | ---: |\n",
    );
    for (i, p) in r.fixed.iter().enumerate() {
        let mark = if i == r.always_mid { " (always-mid)" } else { "" };
        s.push_str(&format!("| {}{mark} | {} | {} |\n", p.name, pct(p.pass_rate), pct(p.relative_cost)));
    }
    for p in [&r.random, &r.oracle] {
        s.push_str(&format!("| {} | {} | {} |\n", p.name, pct(p.pass_rate), pct(p.relative_cost)));
    }
    s.push_str(
        "\n## Policies against the hull of the fixed tiers\n\nΔ is the policy's pass rate minus what mixing the fixed \
         tiers achieves at the same cost, in points, with its 95% bootstrap interval.\n\n\
         | policy | at cost | spends | pass rate | hull | Δ [95% CI] |\n| --- | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for c in &r.comparisons {
        for d in &c.at {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} [{}, {}] |\n",
                c.policy,
                pct(d.cost_share),
                pct(d.achieved),
                pct(d.pass_rate),
                pct(d.hull),
                pts(d.delta),
                pts(d.ci[0]),
                pts(d.ci[1])
            ));
        }
    }
    s.push_str("\n| policy | area vs hull, 1–10% | area vs hull, whole range | APGR |\n| --- | ---: | ---: | ---: |\n");
    let or_dash = |x: Option<f64>, f: &dyn Fn(f64) -> String| x.map(f).unwrap_or_else(|| "–".into());
    for c in r.comparisons.iter().filter(|c| c.apgr.is_some()) {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            c.policy,
            or_dash(c.area_low, &pts),
            or_dash(c.area_all, &pts),
            or_dash(c.apgr, &|a| format!("{a:.3}"))
        ));
    }
    s.push_str(&format!("| the hull of the fixed tiers itself | 0 | 0 | {:.3} |\n", r.hull_apgr));
    s.push_str(&format!(
        "\n**Saved policy — {}**: pass rate {} at {} of always-top's cost ({} saved).\n\n## The verified cascade\n\n\
         | cascade | pass rate | cost vs always-top |\n| --- | ---: | ---: |\n",
        r.routed.name,
        pct(r.routed.pass_rate),
        pct(r.routed.relative_cost),
        pct(r.routed.savings_vs_top)
    ));
    for p in &r.cascades {
        s.push_str(&format!("| {} | {} | {} |\n", p.name, pct(p.pass_rate), pct(p.relative_cost)));
    }
    s.push_str(&format!("\nCaveat: {}.\n", r.cascade_caveat));
    if let Some(h) = &r.honest {
        s.push_str(&format!(
            "\n## The cascade verified by the prompt's checks, scored by the dataset's tests\n\n{}. {} of the tasks \
             show checks.\n\n| cascade | pass rate | cost vs always-top |\n| --- | ---: | ---: |\n",
            h.protocol,
            pct(h.checked_share)
        ));
        for p in &h.cascades {
            s.push_str(&format!("| {} | {} | {} |\n", p.name, pct(p.pass_rate), pct(p.relative_cost)));
        }
        s.push_str("\nThe shown checks as a judge (the dataset's tests are the truth):\n\n| tier | answers | precision | recall |\n| --- | ---: | ---: | ---: |\n");
        for j in &h.judge {
            s.push_str(&format!("| {} | {} | {} | {} |\n", j.tier, j.answers, pct(j.precision), pct(j.recall)));
        }
    }
    s.push_str("\n![cost vs pass rate](plot.svg)\n");
    s
}

fn esc(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The deferral curves as a standalone SVG: pass rate against cost share (log scale, 0.5%–100%), the fixed
/// tiers' hull dashed, each policy's curve sorted by cost, the cascades and the saved policy's operating point.
pub fn plot_svg(r: &EvalReport) -> String {
    let (w, h, left, bottom, top, right) = (880.0, 480.0, 70.0, 50.0, 30.0, 300.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let all_y = r
        .fixed
        .iter()
        .chain(r.cascades.iter())
        .chain(r.curves.iter().flat_map(|c| c.points.iter()))
        .map(|p| p.pass_rate);
    let ymin = (all_y.clone().fold(1.0, f64::min) - 0.05).max(0.0);
    let ymax = (all_y.fold(0.0, f64::max) + 0.03).min(1.0);
    let (xlo, xhi) = (0.005f64.ln(), 1.0f64.ln());
    let x = |c: f64| left + (c.clamp(0.005, 1.0).ln() - xlo) / (xhi - xlo) * pw;
    let y = |p: f64| top + ph - (p - ymin) / (ymax - ymin).max(1e-9) * ph;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">{} — pass rate vs cost (held-out)</text>\n\
         <line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"black\"/>\n",
        left + pw / 2.0,
        esc(&r.labels),
        top + ph,
        left + pw,
        top + ph,
        top + ph
    );
    for c in [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0] {
        s.push_str(&format!(
            "<line x1=\"{0:.1}\" y1=\"{1}\" x2=\"{0:.1}\" y2=\"{2}\" stroke=\"#e5e7eb\"/><text x=\"{0:.1}\" y=\"{3}\" text-anchor=\"middle\">{4}%</text>\n",
            x(c),
            top,
            top + ph,
            top + ph + 18.0,
            100.0 * c
        ));
    }
    for i in 0..=5 {
        let p = ymin + (ymax - ymin) * i as f64 / 5.0;
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{:.0}%</text>\n",
            left - 6.0,
            y(p) + 4.0,
            p * 100.0
        ));
    }
    s.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">cost (share of always-top, log scale)</text>\n\
         <text x=\"16\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {})\">pass rate</text>\n",
        left + pw / 2.0,
        h - 10.0,
        top + ph / 2.0,
        top + ph / 2.0
    ));
    let line = |pts: &[[f64; 2]], color: &str, dash: &str, class: &str| {
        let p: Vec<String> = pts.iter().map(|q| format!("{:.1},{:.1}", x(q[0]), y(q[1]))).collect();
        format!(
            "<polyline class=\"{class}\" points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/>\n",
            p.join(" ")
        )
    };
    // The hull is straight in cost, not in log cost: drawn as itself, sampled densely along the log axis.
    let hull = Hull { vertices: r.hull.clone() };
    let hull_pts: Vec<[f64; 2]> = (0..=240)
        .map(|i| {
            let c = (xlo + (xhi - xlo) * i as f64 / 240.0).exp();
            [c, hull.at(c)]
        })
        .filter(|p| p[1] >= ymin)
        .collect();
    s.push_str(&line(&hull_pts, "#64748b", "6 4", "hull"));
    let colors = [("dial", "#2563eb"), ("threshold", "#9333ea"), ("paper map", "#f97316")];
    for c in &r.curves {
        let color = colors.iter().find(|(n, _)| *n == c.policy).map(|(_, c)| *c).unwrap_or("#000");
        let pts: Vec<[f64; 2]> = c.points.iter().map(|p| [p.relative_cost, p.pass_rate]).collect();
        if pts.len() > 1 {
            s.push_str(&line(&pts, color, "", &format!("curve curve-{}", c.policy.replace(' ', "-"))));
        }
        for p in &pts {
            s.push_str(&format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>\n", x(p[0]), y(p[1])));
        }
    }
    for (i, p) in r.fixed.iter().enumerate() {
        let label = if i == r.always_mid { format!("{} — always-mid", p.name) } else { p.name.clone() };
        // Labels of points in the right half read leftwards, so none runs into the legend.
        let right_half = x(p.relative_cost) > left + pw / 2.0;
        s.push_str(&format!(
            "<rect class=\"fixed\" x=\"{:.1}\" y=\"{:.1}\" width=\"9\" height=\"9\" fill=\"#334155\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"{}\">{}</text>\n",
            x(p.relative_cost) - 4.5,
            y(p.pass_rate) - 4.5,
            if right_half { x(p.relative_cost) - 7.0 } else { x(p.relative_cost) + 7.0 },
            y(p.pass_rate) + 14.0,
            if right_half { "end" } else { "start" },
            esc(&label)
        ));
    }
    for p in &r.cascades {
        s.push_str(&format!(
            "<circle class=\"cascade\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"none\" stroke=\"#16a34a\" stroke-width=\"2\"/>\n",
            x(p.relative_cost),
            y(p.pass_rate)
        ));
    }
    if let Some(h) = &r.honest {
        for p in &h.cascades {
            s.push_str(&format!(
                "<circle class=\"honest-cascade\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"#16a34a\"/>\n",
                x(p.relative_cost),
                y(p.pass_rate)
            ));
        }
    }
    s.push_str(&format!(
        "<circle class=\"operating-point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"7\" fill=\"#dc2626\" fill-opacity=\"0.7\"/>\n",
        x(r.routed.relative_cost),
        y(r.routed.pass_rate)
    ));
    let legend = [
        ("#64748b", "hull of the fixed tiers (dashed)".to_owned()),
        ("#2563eb", "cost dial".to_owned()),
        ("#9333ea", "threshold τ".to_owned()),
        ("#f97316", "paper map".to_owned()),
        ("#16a34a", "verified cascade, by the dataset's tests (ring: upper bound)".to_owned()),
        ("#16a34a", "verified cascade, by the prompt's checks (dot)".to_owned()),
        ("#dc2626", format!("saved policy: {}", r.routed.name)),
    ];
    // Outside the plotting area, wrapped to its width.
    let mut ly = top + 10.0;
    for (c, t) in &legend {
        s.push_str(&format!(
            "<rect x=\"{}\" y=\"{:.1}\" width=\"12\" height=\"4\" fill=\"{c}\"/>\n",
            left + pw + 12.0,
            ly - 2.0
        ));
        let mut line = String::new();
        let mut lines = Vec::new();
        for word in t.split(' ') {
            if !line.is_empty() && line.chars().count() + word.chars().count() > 40 {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
        for l in lines {
            s.push_str(&format!("<text x=\"{}\" y=\"{:.1}\">{}</text>\n", left + pw + 30.0, ly + 4.0, esc(&l)));
            ly += 15.0;
        }
        ly += 4.0;
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_curve_is_its_monotone_frontier() {
        // A curve is read as its monotone frontier and is undefined below its cheapest point.
        let c = [[0.05, 0.7], [0.02, 0.6], [0.08, 0.65]];
        assert_eq!(curve_at(&c, 0.01), None);
        assert!((curve_at(&c, 0.035).unwrap() - 0.65).abs() < 1e-9);
        assert_eq!(curve_at(&c, 0.09), Some(0.7));
    }
}
