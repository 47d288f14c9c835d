//! Prompt difficulty learned once, model ability per model — item response theory (the Rasch model): the chance
//! that model `m` passes prompt `t` is `σ(θ_m − b_t)`, one ability per model and one difficulty per prompt.
//!
//! Why: a pass probability learned for one model says nothing about another (the shipped classifier's 74% for
//! "local" was Code Llama 7B's, shown for SmolLM2). Splitting the two lets the difficulty come from many models'
//! outcomes (`../shared/data/outcomes/`: 49 models × 378 MBPP tasks) and each tier's ability from what is known
//! of *its* model: the user's own verified outcomes, a calibration run, or a published pass rate.
//!
//! - [`fit_rasch`] fits abilities and difficulties to a table of outcomes (a Gaussian prior keeps a task every
//!   model passes, or fails, at a finite difficulty).
//! - [`DifficultyModel`] predicts a prompt's difficulty from its description alone (TF-IDF words and pairs,
//!   ridge regression on the fitted difficulties). Its cross-validated residual widens every prediction: the
//!   pass probability for a new prompt is `E[σ(θ − b)]` over `b ~ N(b̂, s²)`, so a weak text signal gives
//!   cautious probabilities rather than confident wrong ones.
//! - An ability from a published pass rate solves `mean_t σ(θ − b_t) = rate` over the reference tasks' fitted
//!   difficulties (the benchmark the rate was measured on); from outcomes, it is the posterior mode given each
//!   prompt's difficulty.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::features::{Blocks, Featurizer, PromptParts};

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// One model's verdict on one task.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub model: String,
    pub task: String,
    pub passed: bool,
}

/// A table of per-task outcomes, one JSON object per line with `model`, `task_id` and `passed` (0/1 or a boolean),
/// as leaderboards publish them (the EvalPlus leaderboard's, which the leave-models-out benchmark reads), with its
/// models sorted and its tasks in numeric order.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeTable {
    pub outcomes: Vec<Outcome>,
    pub models: Vec<String>,
    pub tasks: Vec<String>,
}

impl OutcomeTable {
    /// Parses the lines; a line that is not such an object is an error naming its number.
    pub fn parse(text: &str) -> Result<OutcomeTable, String> {
        let mut outcomes = Vec::new();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let bad = |what: &str| format!("line {}: {what}", i + 1);
            let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(&format!("not JSON ({e})")))?;
            let model = v["model"].as_str().ok_or_else(|| bad("no \"model\" string"))?.to_owned();
            let task = match &v["task_id"] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return Err(bad("no \"task_id\"")),
            };
            let passed = match &v["passed"] {
                serde_json::Value::Bool(b) => *b,
                serde_json::Value::Number(n) if n.as_f64() == Some(0.0) || n.as_f64() == Some(1.0) => {
                    n.as_f64() == Some(1.0)
                }
                _ => return Err(bad("\"passed\" must be 0, 1, true or false")),
            };
            outcomes.push(Outcome { model, task, passed });
        }
        let mut models: Vec<String> = outcomes.iter().map(|o| o.model.clone()).collect();
        models.sort();
        models.dedup();
        let mut tasks: Vec<String> = outcomes.iter().map(|o| o.task.clone()).collect();
        tasks.sort_by(|a, b| (a.parse::<u64>().unwrap_or(u64::MAX), a).cmp(&(b.parse::<u64>().unwrap_or(u64::MAX), b)));
        tasks.dedup();
        Ok(OutcomeTable { outcomes, models, tasks })
    }

    /// Whether `model` passed `task`, for every pair the table holds.
    pub fn passed(&self) -> HashMap<(&str, &str), bool> {
        self.outcomes.iter().map(|o| ((o.model.as_str(), o.task.as_str()), o.passed)).collect()
    }
}

/// Abilities and difficulties fitted to outcomes.
#[derive(Debug, Clone, PartialEq)]
pub struct Rasch {
    pub models: Vec<String>,
    pub abilities: Vec<f64>,
    pub tasks: Vec<String>,
    pub difficulties: Vec<f64>,
}

/// The prior's standard deviation on abilities and difficulties (logits): wide enough for the spread seen
/// (abilities −2…+2.3 on MBPP), tight enough that a task all 49 models pass is "easy", not "infinitely easy".
const PRIOR_SD: f64 = 2.5;

/// Fits the Rasch model by Newton steps on each parameter in turn (the log posterior is concave in each).
pub fn fit_rasch(outcomes: &[Outcome]) -> Rasch {
    let mut models: Vec<String> = outcomes.iter().map(|o| o.model.clone()).collect();
    models.sort();
    models.dedup();
    let mut tasks: Vec<String> = outcomes.iter().map(|o| o.task.clone()).collect();
    tasks.sort();
    tasks.dedup();
    let mi: HashMap<&str, usize> = models.iter().enumerate().map(|(i, m)| (m.as_str(), i)).collect();
    let ti: HashMap<&str, usize> = tasks.iter().enumerate().map(|(i, t)| (t.as_str(), i)).collect();
    let obs: Vec<(usize, usize, f64)> =
        outcomes.iter().map(|o| (mi[o.model.as_str()], ti[o.task.as_str()], f64::from(u8::from(o.passed)))).collect();
    let (mut th, mut b) = (vec![0.0; models.len()], vec![0.0; tasks.len()]);
    let prec = 1.0 / (PRIOR_SD * PRIOR_SD);
    for _ in 0..200 {
        let (mut gt, mut ht) = (vec![0.0; th.len()], vec![0.0; th.len()]);
        let (mut gb, mut hb) = (vec![0.0; b.len()], vec![0.0; b.len()]);
        for &(m, t, y) in &obs {
            let p = sigmoid(th[m] - b[t]);
            let w = p * (1.0 - p);
            gt[m] += y - p;
            ht[m] += w;
            gb[t] -= y - p;
            hb[t] += w;
        }
        let mut step = 0.0f64;
        for m in 0..th.len() {
            let d = (gt[m] - prec * th[m]) / (ht[m] + prec);
            th[m] += d;
            step = step.max(d.abs());
        }
        for t in 0..b.len() {
            let d = (gb[t] - prec * b[t]) / (hb[t] + prec);
            b[t] += d;
            step = step.max(d.abs());
        }
        if step < 1e-7 {
            break;
        }
    }
    Rasch { models, abilities: th, tasks, difficulties: b }
}

/// The ability (logit) at which a model would pass `rate` of tasks with these difficulties.
pub fn ability_for_rate(difficulties: &[f64], rate: f64) -> f64 {
    let rate = rate.clamp(1e-4, 1.0 - 1e-4);
    let mean = |th: f64| difficulties.iter().map(|b| sigmoid(th - b)).sum::<f64>() / difficulties.len().max(1) as f64;
    let (mut lo, mut hi) = (-20.0f64, 20.0f64);
    for _ in 0..80 {
        let mid = (lo + hi) / 2.0;
        if mean(mid) < rate {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// The ability that best explains a model's outcomes on prompts of known difficulty (the posterior mode under
/// the same prior as the fit, centred on `prior` when one is known — a published rate's ability, say).
pub fn ability_from_outcomes(observed: &[(f64, bool)], prior: f64) -> f64 {
    let prec = 1.0 / (PRIOR_SD * PRIOR_SD);
    let mut th = prior;
    for _ in 0..100 {
        let (mut g, mut h) = (-prec * (th - prior), prec);
        for &(b, y) in observed {
            let p = sigmoid(th - b);
            g += f64::from(u8::from(y)) - p;
            h += p * (1.0 - p);
        }
        let d = g / h;
        th += d;
        if d.abs() < 1e-9 {
            break;
        }
    }
    th
}

/// Predicts a prompt's difficulty from its description, and turns abilities into pass probabilities.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DifficultyModel {
    /// Where the difficulties came from (models × tasks, the file's SHA-256).
    pub source: String,
    pub featurizer: Featurizer,
    pub weights: Vec<f32>,
    pub bias: f32,
    /// The standard deviation of `b − b̂` on held-out folds: how far a text-only prediction is from the truth.
    pub residual_sd: f32,
    /// The reference tasks' fitted difficulties (the benchmark a published pass rate is measured on).
    pub reference: Vec<f32>,
    /// The reference tasks' ids in the benchmark, in the order of `reference` (a calibration run samples them).
    #[serde(default)]
    pub reference_tasks: Vec<String>,
    /// The reference benchmark's name (`mbpp`).
    pub benchmark: String,
    /// The training models' fitted abilities, by name (for the report; a tier's own ability comes from its
    /// model).
    pub abilities: Vec<(String, f32)>,
}

/// Ridge regression in its dual form: `(K + αI) a = y − ȳ`, `w = Σ a_i x_i` (as many unknowns as prompts, a few
/// hundred, whatever the vocabulary).
fn ridge(xs: &[Vec<(u32, f32)>], ys: &[f64], dim: usize, alpha: f64) -> (Vec<f32>, f32) {
    let n = xs.len();
    let mean = ys.iter().sum::<f64>() / n.max(1) as f64;
    let dense: Vec<HashMap<u32, f32>> = xs.iter().map(|x| x.iter().copied().collect()).collect();
    let dot = |a: &[(u32, f32)], b: &HashMap<u32, f32>| -> f64 {
        a.iter().map(|(i, v)| f64::from(*v) * f64::from(b.get(i).copied().unwrap_or(0.0))).sum()
    };
    let mut k = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..=i {
            let v = dot(&xs[i], &dense[j]);
            k[i * n + j] = v;
            k[j * n + i] = v;
        }
        k[i * n + i] += alpha;
    }
    let rhs: Vec<f64> = ys.iter().map(|y| y - mean).collect();
    let a = cholesky_solve(&mut k, n, &rhs);
    let mut w = vec![0.0f32; dim];
    for (x, ai) in xs.iter().zip(&a) {
        for (i, v) in x {
            w[*i as usize] += (*ai as f32) * v;
        }
    }
    (w, mean as f32)
}

/// Solves `K x = b` for a symmetric positive definite `K` (row-major, overwritten by its Cholesky factor).
fn cholesky_solve(k: &mut [f64], n: usize, b: &[f64]) -> Vec<f64> {
    for j in 0..n {
        let mut d = k[j * n + j];
        for p in 0..j {
            d -= k[j * n + p] * k[j * n + p];
        }
        let d = d.max(1e-12).sqrt();
        k[j * n + j] = d;
        for i in j + 1..n {
            let mut s = k[i * n + j];
            for p in 0..j {
                s -= k[i * n + p] * k[j * n + p];
            }
            k[i * n + j] = s / d;
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut s = b[i];
        for p in 0..i {
            s -= k[i * n + p] * y[p];
        }
        y[i] = s / k[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = y[i];
        for p in i + 1..n {
            s -= k[p * n + i] * x[p];
        }
        x[i] = s / k[i * n + i];
    }
    x
}

/// The ridge penalty (chosen on cross-validated correlation over MBPP's 378 tasks: 0.3 → 0.27, 1 → 0.31, 3 →
/// 0.31, 10 → 0.36; flat beyond).
const ALPHA: f64 = 10.0;

impl DifficultyModel {
    /// Fits the text → difficulty regression on `tasks` (each prompt with its fitted difficulty), with the
    /// residual measured on `folds` held-out folds.
    pub fn fit(
        tasks: &[(String, f64)],
        rasch: &Rasch,
        benchmark: &str,
        source: String,
        folds: usize,
        seed: u64,
    ) -> DifficultyModel {
        let parts: Vec<PromptParts> = tasks.iter().map(|(p, _)| prompt_form(p)).collect();
        let ys: Vec<f64> = tasks.iter().map(|(_, b)| *b).collect();
        // The residual on held-out folds (each fold predicted by a model fitted without it).
        let mut order: Vec<usize> = (0..tasks.len()).collect();
        crate::split::Rng::new(seed).shuffle(&mut order);
        let mut sq = 0.0;
        let folds = folds.clamp(2, tasks.len().max(2));
        for f in 0..folds {
            let held: Vec<usize> =
                order.iter().copied().enumerate().filter(|(i, _)| i % folds == f).map(|(_, t)| t).collect();
            let train: Vec<usize> =
                order.iter().copied().enumerate().filter(|(i, _)| i % folds != f).map(|(_, t)| t).collect();
            let tp: Vec<PromptParts> = train.iter().map(|&i| parts[i].clone()).collect();
            let fz = Featurizer::fit(&tp, Blocks::Description);
            let xs: Vec<Vec<(u32, f32)>> = tp.iter().map(|p| fz.vector(p)).collect();
            let (w, bias) = ridge(&xs, &train.iter().map(|&i| ys[i]).collect::<Vec<_>>(), fz.dim(), ALPHA);
            for &i in &held {
                let pred = predict(&fz, &w, bias, &parts[i]);
                sq += (ys[i] - pred).powi(2);
            }
        }
        let residual_sd = (sq / tasks.len().max(1) as f64).sqrt() as f32;
        let featurizer = Featurizer::fit(&parts, Blocks::Description);
        let xs: Vec<Vec<(u32, f32)>> = parts.iter().map(|p| featurizer.vector(p)).collect();
        let (weights, bias) = ridge(&xs, &ys, featurizer.dim(), ALPHA);
        DifficultyModel {
            source,
            featurizer,
            weights,
            bias,
            residual_sd,
            reference: rasch.difficulties.iter().map(|&b| b as f32).collect(),
            reference_tasks: rasch.tasks.clone(),
            benchmark: benchmark.to_owned(),
            abilities: rasch.models.iter().cloned().zip(rasch.abilities.iter().map(|&a| a as f32)).collect(),
        }
    }

    /// A prompt's predicted difficulty (logits; higher is harder).
    pub fn difficulty(&self, prompt: &str) -> f64 {
        predict(&self.featurizer, &self.weights, self.bias, &prompt_form(prompt))
    }

    /// `n` reference tasks spread evenly over the difficulty range (one from each of `n` equal-count bins, its
    /// middle task): a calibration sample that measures an ability anywhere on the scale.
    pub fn stratified_sample(&self, n: usize) -> Vec<(String, f64)> {
        let mut tasks: Vec<(String, f64)> =
            self.reference_tasks.iter().cloned().zip(self.reference.iter().map(|&b| f64::from(b))).collect();
        tasks.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        let n = n.min(tasks.len());
        (0..n).map(|i| tasks[(2 * i + 1) * tasks.len() / (2 * n)].clone()).collect()
    }

    /// The difficulty of a reference task, when it is one.
    pub fn reference_difficulty(&self, task: &str) -> Option<f64> {
        self.reference_tasks.iter().position(|t| t == task).map(|i| f64::from(self.reference[i]))
    }

    /// The ability of a model that passes `rate` of the reference benchmark.
    pub fn ability_for_rate(&self, rate: f64) -> f64 {
        let refs: Vec<f64> = self.reference.iter().map(|&b| f64::from(b)).collect();
        ability_for_rate(&refs, rate)
    }

    /// The pass rate on the reference benchmark of a model with this ability.
    pub fn rate_for_ability(&self, ability: f64) -> f64 {
        self.reference.iter().map(|&b| sigmoid(ability - f64::from(b))).sum::<f64>()
            / self.reference.len().max(1) as f64
    }

    /// What a model's verified outcomes on the user's own prompts (`(predicted difficulty, passed)`) say of its
    /// ability, starting from `prior` (a published or calibrated figure's ability, say) with `prior_sd`: the
    /// posterior mode and its standard deviation (Laplace). Each outcome counts through
    /// [`DifficultyModel::pass_probability`], so a prompt whose difficulty is only predicted weighs less than a
    /// reference task whose difficulty is known.
    pub fn ability_posterior(&self, observed: &[(f64, bool)], prior: f64, prior_sd: f64) -> (f64, f64) {
        let k = (1.0 + std::f64::consts::PI * f64::from(self.residual_sd).powi(2) / 8.0).sqrt();
        let prec = 1.0 / (prior_sd * prior_sd).max(1e-12);
        let mut th = prior;
        let mut h = prec;
        for _ in 0..100 {
            let mut g = -prec * (th - prior);
            h = prec;
            for &(b, y) in observed {
                let p = sigmoid((th - b) / k);
                g += (f64::from(u8::from(y)) - p) / k;
                h += p * (1.0 - p) / (k * k);
            }
            let d = (g / h).clamp(-5.0, 5.0);
            th += d;
            if d.abs() < 1e-9 {
                break;
            }
        }
        (th, 1.0 / h.sqrt())
    }

    /// The probability that a model of `ability` passes a prompt of predicted difficulty `difficulty`: the
    /// logistic curve widened by the prediction's uncertainty (`E[σ(θ − b)]`, `b ~ N(b̂, s²)`, by the probit
    /// approximation).
    pub fn pass_probability(&self, ability: f64, difficulty: f64) -> f64 {
        let s2 = f64::from(self.residual_sd).powi(2);
        sigmoid((ability - difficulty) / (1.0 + std::f64::consts::PI * s2 / 8.0).sqrt())
    }
}

/// The shipped difficulty model (`resources/classifier/difficulty.json`, made by `complexitynet classifier
/// fit-difficulty` from the 49 models' outcomes on MBPP; a test re-runs the command and compares).
pub fn builtin() -> &'static DifficultyModel {
    static MODEL: std::sync::OnceLock<DifficultyModel> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| {
        serde_json::from_str(include_str!("../../../../resources/classifier/difficulty.json"))
            .expect("the shipped difficulty model parses")
    })
}

/// Reads a table of outcomes (`{"task_id", "model", "passed"}` per line, as `../shared/data/outcomes/`). All or
/// nothing: a bad line is an error naming the file and the line.
pub fn read_outcomes(file: &std::path::Path) -> crate::Result<Vec<Outcome>> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| crate::ClassifierError::Invalid(format!("cannot read {}: {e}", file.display())))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |why: String| crate::ClassifierError::Invalid(format!("{}:{}: {why}", file.display(), i + 1));
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(format!("invalid JSON: {e}")))?;
        let task = match &v["task_id"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(bad("missing field \"task_id\"".into())),
        };
        let model = v["model"].as_str().ok_or_else(|| bad("missing field \"model\"".into()))?.to_owned();
        let passed = match &v["passed"] {
            serde_json::Value::Bool(b) => *b,
            serde_json::Value::Number(n) => n.as_f64().is_some_and(|x| x > 0.0),
            _ => return Err(bad("missing field \"passed\"".into())),
        };
        out.push(Outcome { model, task, passed });
    }
    Ok(out)
}

/// What the difficulty is read from: the description, never the tests (a prompt with tests takes the verified
/// cascade; the router sees prompts without them).
fn prompt_form(prompt: &str) -> PromptParts {
    let p = PromptParts::of(prompt);
    PromptParts { asserts: Vec::new(), entry: String::new(), ..p }
}

fn predict(fz: &Featurizer, w: &[f32], bias: f32, p: &PromptParts) -> f64 {
    f64::from(bias) + fz.vector(p).iter().map(|(i, v)| f64::from(w[*i as usize] * v)).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_table_reads_numbers_and_booleans_and_names_a_bad_line() {
        let t = OutcomeTable::parse(
            "{\"model\": \"b\", \"task_id\": 10, \"passed\": 1}\n\n{\"model\": \"a\", \"task_id\": 9, \"passed\": false}\n\
             {\"model\": \"a\", \"task_id\": \"HumanEval/0\", \"passed\": true}",
        )
        .unwrap();
        assert_eq!(t.models, ["a", "b"]);
        assert_eq!(t.tasks, ["9", "10", "HumanEval/0"], "numbers in numeric order, names after");
        let p = t.passed();
        assert_eq!((p[&("b", "10")], p[&("a", "9")], p[&("a", "HumanEval/0")]), (true, false, true));
        let err = OutcomeTable::parse(
            "{\"model\": \"a\", \"task_id\": 1, \"passed\": 1}\n{\"model\": \"a\", \"task_id\": 2, \"passed\": 2}",
        )
        .unwrap_err();
        assert!(err.starts_with("line 2: \"passed\" must be"), "{err}");
        assert!(OutcomeTable::parse("nope").unwrap_err().starts_with("line 1: not JSON"));
    }

    proptest::proptest! {
        #[test]
        fn no_text_makes_the_outcome_table_panic(text in "\\PC*", model in "\\PC*", id in proptest::num::i64::ANY) {
            let _ = OutcomeTable::parse(&text);
            let line = serde_json::json!({"model": model, "task_id": id, "passed": 1}).to_string();
            let t = OutcomeTable::parse(&format!("{text}\n{line}"));
            if let Ok(t) = t {
                proptest::prop_assert!(t.models.contains(&model));
            }
        }
    }

    fn outcomes(abilities: &[f64], difficulties: &[f64]) -> Vec<Outcome> {
        // Deterministic outcomes drawn from the model itself (a fixed pseudo-random stream).
        let mut state = 7u64;
        let mut out = Vec::new();
        for (m, th) in abilities.iter().enumerate() {
            for (t, b) in difficulties.iter().enumerate() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let u = (state >> 11) as f64 / (1u64 << 53) as f64;
                out.push(Outcome { model: format!("m{m:02}"), task: format!("t{t:03}"), passed: u < sigmoid(th - b) });
            }
        }
        out
    }

    #[test]
    fn the_fit_recovers_the_order_of_abilities_and_difficulties() {
        let th: Vec<f64> = (0..12).map(|i| -1.5 + 0.3 * i as f64).collect();
        let b: Vec<f64> = (0..200).map(|i| -3.0 + 6.0 * (i as f64 / 199.0)).collect();
        let r = fit_rasch(&outcomes(&th, &b));
        let corr = |x: &[f64], y: &[f64]| {
            let (mx, my) = (x.iter().sum::<f64>() / x.len() as f64, y.iter().sum::<f64>() / y.len() as f64);
            let c: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
            let (sx, sy): (f64, f64) =
                (x.iter().map(|a| (a - mx).powi(2)).sum(), y.iter().map(|b| (b - my).powi(2)).sum());
            c / (sx * sy).sqrt()
        };
        assert!(corr(&r.abilities, &th) > 0.97, "{:?}", r.abilities);
        assert!(corr(&r.difficulties, &b) > 0.9);
    }

    #[test]
    fn an_ability_reproduces_the_rate_it_came_from_and_outcomes_move_it() {
        let b: Vec<f64> = (0..100).map(|i| -2.0 + 4.0 * (i as f64 / 99.0)).collect();
        for rate in [0.1, 0.45, 0.8] {
            let th = ability_for_rate(&b, rate);
            let got = b.iter().map(|x| sigmoid(th - x)).sum::<f64>() / 100.0;
            assert!((got - rate).abs() < 1e-6, "{rate}: {got}");
        }
        let th = ability_for_rate(&b, 0.5);
        let passing: Vec<(f64, bool)> = b.iter().map(|&x| (x, true)).collect();
        assert!(ability_from_outcomes(&passing, th) > th + 1.0, "passing everything raises the ability");
        assert_eq!(ability_from_outcomes(&[], th), th, "no outcomes: the prior");
    }

    #[test]
    fn the_shipped_difficulty_model_samples_the_whole_scale_and_knows_its_tasks() {
        let dm = builtin();
        assert_eq!(dm.reference_tasks.len(), 378);
        let sample = dm.stratified_sample(40);
        assert_eq!(sample.len(), 40);
        let all: Vec<f64> = dm.reference.iter().map(|&b| f64::from(b)).collect();
        let (lo, hi) = (all.iter().copied().fold(f64::MAX, f64::min), all.iter().copied().fold(f64::MIN, f64::max));
        let (slo, shi) = (sample[0].1, sample[39].1);
        assert!(sample.windows(2).all(|w| w[0].1 <= w[1].1), "in difficulty order");
        assert!(slo - lo < 0.2 * (hi - lo) && hi - shi < 0.2 * (hi - lo), "easy to hard: {slo}..{shi} of {lo}..{hi}");
        let ids: std::collections::HashSet<&str> = sample.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(ids.len(), 40, "no task twice");
        assert_eq!(dm.reference_difficulty(&sample[3].0), Some(sample[3].1));
        assert_eq!(dm.reference_difficulty("no such task"), None);
        assert_eq!(dm.stratified_sample(10_000).len(), 378);
        // The rate a published figure means round-trips through the ability.
        for rate in [0.3, 0.6, 0.85] {
            assert!((dm.rate_for_ability(dm.ability_for_rate(rate)) - rate).abs() < 1e-4);
        }
    }

    #[test]
    fn cholesky_solves_a_small_system() {
        let mut k = vec![4.0, 2.0, 2.0, 3.0];
        let x = cholesky_solve(&mut k, 2, &[2.0, 1.0]);
        assert!((4.0 * x[0] + 2.0 * x[1] - 2.0).abs() < 1e-12 && (2.0 * x[0] + 3.0 * x[1] - 1.0).abs() < 1e-12);
    }
}
