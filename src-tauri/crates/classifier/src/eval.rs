//! The savings report: how routing by the classifier compares with always using one tier, a random tier, the
//! oracle, the paper's map and the threshold curve — in pass rate (per task, the measured pass rate of the tier
//! it was routed to) and cost — on held-out predictions only.
//!
//! Honesty rules: a task is routed with the probabilities from the fold that held it out, and the threshold
//! policy's per-level pass rates come from the other folds (never from the task's own outcome).

use serde::Serialize;
use std::collections::HashMap;

use complexitynet_engine::route::{self, Policy};

use crate::data::LabeledSet;
use crate::error::{ClassifierError, Result};
use crate::metrics::{argmax, evaluate, Metrics};
use crate::split;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Strategy {
    pub name: String,
    pub pass_rate: f64,
    /// Mean cost per task, in the report's cost unit.
    pub cost: f64,
    /// Cost as a fraction of always using the top tier.
    pub relative_cost: f64,
    /// The paper's savings formula: 1 − cost / cost(always top).
    pub savings_vs_top: f64,
    /// The share of tasks sent to each tier.
    pub tier_share: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CurvePoint {
    pub tau: f64,
    pub pass_rate: f64,
    pub relative_cost: f64,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct EvalReport {
    pub labels: String,
    pub classifier: String,
    pub rule: String,
    pub tiers: Vec<String>,
    pub costs: Vec<f64>,
    pub cost_unit: String,
    pub n: usize,
    pub folds: usize,
    pub classifier_metrics: Metrics,
    pub policy: Policy,
    /// The policy the user asked for, scored.
    pub routed: Strategy,
    pub strategies: Vec<Strategy>,
    pub threshold_curve: Vec<CurvePoint>,
    /// Routed against the oracle: pass-rate gap and cost ratio.
    pub pass_rate_gap_vs_oracle: f64,
    pub cost_ratio_vs_oracle: f64,
}

/// Per task, the measured pass rate of each tier.
fn pass_rates(set: &LabeledSet) -> Vec<Vec<f64>> {
    set.examples
        .iter()
        .map(|e| e.counts.iter().zip(&e.trials).map(|(&c, &t)| if t > 0 { c as f64 / t as f64 } else { 0.0 }).collect())
        .collect()
}

fn score(name: &str, choice: &[usize], pass: &[Vec<f64>], costs: &[f64]) -> Strategy {
    let n = choice.len().max(1) as f64;
    let k = costs.len();
    let pass_rate = choice.iter().zip(pass).map(|(&t, p)| p[t]).sum::<f64>() / n;
    let cost = choice.iter().map(|&t| costs[t]).sum::<f64>() / n;
    let top = costs[k - 1];
    let mut share = vec![0.0; k];
    for &t in choice {
        share[t] += 1.0 / n;
    }
    Strategy {
        name: name.to_owned(),
        pass_rate,
        cost,
        relative_cost: cost / top,
        savings_vs_top: 1.0 - cost / top,
        tier_share: share,
    }
}

pub struct EvalOptions {
    pub classifier: String,
    pub policy: Policy,
    /// Cost of one task on each tier (default: the paper's 1, 10, 100 units).
    pub costs: Vec<f64>,
    pub cost_unit: String,
    pub folds: usize,
    pub seed: u64,
}

/// Scores routing over `set` with held-out `predictions` (task id → probabilities over `set.levels`).
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
    let pass = pass_rates(set);
    let probs: Vec<&Vec<f32>> = set.examples.iter().map(|e| &predictions[&e.task_id]).collect();
    let classes = set.classes();
    let pred: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
    let classifier_metrics = evaluate(&set.levels, &classes, &pred, opts.seed);

    // The threshold policy's per-level pass rates, from the folds that do not hold each task.
    let levels = set.level_values();
    let folds = split::k_folds(&levels, opts.folds.max(2), opts.seed);
    let mut success_for: Vec<Vec<Vec<f64>>> = vec![Vec::new(); set.examples.len()];
    for held in &folds {
        let mut train = set.clone();
        train.examples = (0..set.examples.len())
            .filter(|i| held.binary_search(i).is_err())
            .map(|i| set.examples[i].clone())
            .collect();
        let s = train.tier_success();
        for &i in held {
            success_for[i] = s.clone();
        }
    }
    let route_all = |policy: &Policy| -> Vec<usize> {
        (0..set.examples.len()).map(|i| route::choose(policy, &set.levels, probs[i], &success_for[i], k).tier).collect()
    };

    let mut strategies = Vec::new();
    for t in 0..k {
        strategies.push(score(
            &format!("always L{} ({})", t + 1, set.tiers[t]),
            &vec![t; set.examples.len()],
            &pass,
            &opts.costs,
        ));
    }
    // Random: each tier with equal probability, in expectation.
    let always: Vec<Strategy> = strategies.clone();
    let mean = |f: fn(&Strategy) -> f64| always.iter().map(f).sum::<f64>() / k as f64;
    let top = opts.costs[k - 1];
    let random_cost = mean(|s| s.cost);
    strategies.push(Strategy {
        name: "random tier".into(),
        pass_rate: mean(|s| s.pass_rate),
        cost: random_cost,
        relative_cost: random_cost / top,
        savings_vs_top: 1.0 - random_cost / top,
        tier_share: vec![1.0 / k as f64; k],
    });
    // Oracle: per task the cheapest tier with the best measured pass rate.
    let oracle_choice: Vec<usize> = pass
        .iter()
        .map(|p| {
            let best = p.iter().cloned().fold(0.0, f64::max);
            p.iter().position(|&x| x >= best).unwrap_or(k - 1)
        })
        .collect();
    let oracle = score("oracle", &oracle_choice, &pass, &opts.costs);
    strategies.push(oracle.clone());
    let paper = Policy::Paper { map: route::default_map(set.rule.name(), &set.levels, k) };
    strategies.push(score("paper map", &route_all(&paper), &pass, &opts.costs));
    let threshold_curve: Vec<CurvePoint> = (0..=20)
        .map(|i| {
            let tau = i as f64 / 20.0;
            let s = score("t", &route_all(&Policy::Threshold { tau }), &pass, &opts.costs);
            CurvePoint { tau, pass_rate: s.pass_rate, relative_cost: s.relative_cost }
        })
        .collect();
    let routed = score(
        &match &opts.policy {
            Policy::Paper { .. } => "routed (paper map)".to_owned(),
            Policy::Threshold { tau } => format!("routed (threshold τ={tau:.2})"),
        },
        &route_all(&opts.policy),
        &pass,
        &opts.costs,
    );
    Ok(EvalReport {
        labels: set.source.clone(),
        classifier: opts.classifier.clone(),
        rule: set.rule.name().into(),
        tiers: set.tiers.clone(),
        costs: opts.costs.clone(),
        cost_unit: opts.cost_unit.clone(),
        n: set.examples.len(),
        folds: folds.len(),
        classifier_metrics,
        policy: opts.policy.clone(),
        pass_rate_gap_vs_oracle: oracle.pass_rate - routed.pass_rate,
        cost_ratio_vs_oracle: routed.cost / oracle.cost.max(1e-12),
        routed,
        strategies,
        threshold_curve,
    })
}

/// The report as Markdown.
pub fn markdown(r: &EvalReport) -> String {
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let m = &r.classifier_metrics;
    let mut s = format!(
        "# Routing report: {} with classifier {}\n\n{} labeled tasks ({} rule), tiers {}, costs per task {:?} ({}).\n\
         Every task is routed with the classifier's prediction from the fold that held it out ({} folds).\n\n\
         ## Classifier\n\naccuracy {} [{}, {}], macro-F1 {}, within one level {}.\n\n## Routing\n\n\
         | strategy | pass rate | cost / task | cost vs always-top | savings vs always-top | tier share |\n\
         | --- | ---: | ---: | ---: | ---: | --- |\n",
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
    for st in r.strategies.iter().chain(std::iter::once(&r.routed)) {
        let share: Vec<String> = st.tier_share.iter().map(|x| pct(*x)).collect();
        s.push_str(&format!(
            "| {} | {} | {:.2} | {} | {} | {} |\n",
            st.name,
            pct(st.pass_rate),
            st.cost,
            pct(st.relative_cost),
            pct(st.savings_vs_top),
            share.join(" / ")
        ));
    }
    s.push_str(&format!(
        "\n**{}**: pass rate {} at {} of always-top's cost — the paper's savings formula gives **{} saved** vs \
         always-top; against the oracle the pass rate is {} points lower at {:.2}× its cost.\n\n\
         ## Threshold curve\n\n| τ | pass rate | cost vs always-top |\n| ---: | ---: | ---: |\n",
        r.routed.name,
        pct(r.routed.pass_rate),
        pct(r.routed.relative_cost),
        pct(r.routed.savings_vs_top),
        format_args!("{:.1}", 100.0 * r.pass_rate_gap_vs_oracle),
        r.cost_ratio_vs_oracle
    ));
    for p in &r.threshold_curve {
        s.push_str(&format!("| {:.2} | {} | {} |\n", p.tau, pct(p.pass_rate), pct(p.relative_cost)));
    }
    s.push_str("\n![cost vs pass rate](plot.svg)\n");
    s
}

/// Cost (x, fraction of always-top) against pass rate (y): the strategies as labeled points and the threshold
/// curve as a line, as a standalone SVG.
pub fn plot_svg(r: &EvalReport) -> String {
    let (w, h, left, bottom, top, right) = (780.0, 460.0, 70.0, 50.0, 30.0, 250.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let ys: Vec<f64> =
        r.strategies.iter().map(|s| s.pass_rate).chain(r.threshold_curve.iter().map(|p| p.pass_rate)).collect();
    let (ymin, ymax) = (
        (ys.iter().cloned().fold(1.0, f64::min) - 0.05).max(0.0),
        (ys.iter().cloned().fold(0.0, f64::max) + 0.05).min(1.0),
    );
    let x = |c: f64| left + c.clamp(0.0, 1.05) / 1.05 * pw;
    let y = |p: f64| top + ph - (p - ymin) / (ymax - ymin).max(1e-9) * ph;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">{} — cost vs pass rate (held-out)</text>\n",
        left + pw / 2.0,
        r.labels
    );
    // Axes and ticks.
    s.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"black\"/>\n",
        top + ph, left + pw, top + ph, top + ph
    ));
    for i in 0..=5 {
        let c = i as f64 * 0.2;
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{:.0}%</text>\n",
            x(c),
            top + ph + 18.0,
            c * 100.0
        ));
        let p = ymin + (ymax - ymin) * i as f64 / 5.0;
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{:.0}%</text>\n",
            left - 6.0,
            y(p) + 4.0,
            p * 100.0
        ));
    }
    s.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">cost (fraction of always-top)</text>\n\
         <text x=\"16\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {})\">pass rate</text>\n",
        left + pw / 2.0,
        h - 10.0,
        top + ph / 2.0,
        top + ph / 2.0
    ));
    let pts: Vec<String> =
        r.threshold_curve.iter().map(|p| format!("{:.1},{:.1}", x(p.relative_cost), y(p.pass_rate))).collect();
    s.push_str(&format!(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#2563eb\" stroke-width=\"2\"/>\n",
        pts.join(" ")
    ));
    let colors = ["#64748b", "#64748b", "#64748b", "#94a3b8", "#16a34a", "#f97316", "#dc2626"];
    for (i, st) in r.strategies.iter().chain(std::iter::once(&r.routed)).enumerate() {
        let c = colors.get(i).copied().unwrap_or("#dc2626");
        let (px, py) = (x(st.relative_cost), y(st.pass_rate));
        s.push_str(&format!("<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"5\" fill=\"{c}\"/>\n"));
        let ly = top + 16.0 * i as f64 + 10.0;
        s.push_str(&format!(
            "<circle cx=\"{}\" cy=\"{:.1}\" r=\"5\" fill=\"{c}\"/><text x=\"{}\" y=\"{:.1}\">{}</text>\n",
            left + pw + 14.0,
            ly,
            left + pw + 24.0,
            ly + 4.0,
            st.name.split(" (replay").next().unwrap_or(&st.name).replace('&', "&amp;").replace('<', "&lt;")
        ));
    }
    let ly = top + 16.0 * (r.strategies.len() + 1) as f64 + 10.0;
    s.push_str(&format!(
        "<line x1=\"{}\" y1=\"{ly:.1}\" x2=\"{}\" y2=\"{ly:.1}\" stroke=\"#2563eb\" stroke-width=\"2\"/><text x=\"{}\" y=\"{:.1}\">threshold τ 0…1</text>\n",
        left + pw + 8.0,
        left + pw + 20.0,
        left + pw + 24.0,
        ly + 4.0
    ));
    s.push_str("</svg>\n");
    s
}
