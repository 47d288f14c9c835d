//! Training with an honest evaluation: every method is scored on the paper's seeded 80/20 split and on
//! stratified k-fold cross-validation (the same folds for every method with the same seed, so their figures
//! compare), then the deployed model is fitted on all the labels. Nothing a round is scored on was in its
//! training part.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use complexitynet_providers::CancellationToken;
use complexitynet_router::label::Rule;

use crate::bert::Encoder;
use crate::data::LabeledSet;
use crate::error::{ClassifierError, Result};
use crate::metrics::{argmax, evaluate, Metrics, TierMetrics};
use crate::neural::{self, Epoch, FinetuneParams, HeadParams};
use crate::openai::{FineTuneClient, Job, JobUpdate};
use crate::split;
use crate::tfidf::{balanced_weights, Tfidf, TfidfParams};
use crate::zeroshot::ZeroShot;
use crate::{Method, Model};

pub struct OpenAiOptions {
    pub client: Arc<FineTuneClient>,
    pub base_model: String,
}

pub struct Options {
    pub method: Method,
    /// Cross-validation folds; 0 for the 80/20 split only.
    pub folds: usize,
    pub seed: u64,
    pub test_fraction: f64,
    pub tfidf: TfidfParams,
    pub head: HeadParams,
    pub finetune: FinetuneParams,
    pub encoder_dir: PathBuf,
    pub zero_shot: Option<Arc<ZeroShot>>,
    pub openai: Option<OpenAiOptions>,
    /// The rule the caller needs the labels to come from.
    pub expect_rule: Option<String>,
}

impl Options {
    pub fn new(method: Method, encoder_dir: PathBuf) -> Options {
        Options {
            method,
            folds: 5,
            seed: 0,
            test_fraction: 0.2,
            tfidf: TfidfParams::default(),
            head: HeadParams::default(),
            finetune: FinetuneParams::default(),
            encoder_dir,
            zero_shot: None,
            openai: None,
            expect_rule: None,
        }
    }
}

/// Progress of a training run.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(rename = "TrainEvent")]
pub enum Event {
    /// A round starts: `split`, `fold 2/5` or `final`.
    Round {
        round: String,
        index: usize,
        total: usize,
    },
    Epoch {
        round: String,
        epoch: Epoch,
    },
    Job {
        round: String,
        update: JobUpdate,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct Report {
    pub method: Method,
    pub source: String,
    pub rule: Rule,
    pub levels: Vec<u32>,
    pub n: usize,
    pub counts: Vec<(u32, usize)>,
    pub training_hash: String,
    pub folds: usize,
    pub seed: u64,
    pub test_fraction: f64,
    /// On the held-out 20%.
    pub split: Metrics,
    /// Over all folds' held-out predictions (each example predicted once, by a model that never saw it).
    pub cv: Option<Metrics>,
    pub fold_accuracy: Vec<f64>,
    /// The floor every method must clear: always predicting the training part's most common level, scored on
    /// the same held-out parts (cross-validated when there are folds, else the split).
    #[serde(default)]
    pub majority: Option<Metrics>,
    /// Each example's probabilities from the fold that held it out (never from a model that saw it): what the
    /// router's evaluation scores routing on.
    #[serde(default)]
    pub cv_predictions: Vec<HeldOut>,
    /// The label run's tiers and their measured pass rate per level ([level][tier]).
    #[serde(default)]
    pub tiers: Vec<String>,
    #[serde(default)]
    pub tier_success: Vec<Vec<f64>>,
    /// Fitting the deployed model on all labels.
    pub train_seconds: f64,
    /// The whole run: evaluation rounds and the final fit.
    pub total_seconds: f64,
    pub params: serde_json::Value,
    /// Zero-shot answers that named no level.
    #[serde(default)]
    pub unparsed: usize,
    /// Cloud fine-tuning jobs, one per round.
    #[serde(default)]
    pub jobs: Vec<Job>,
    /// Per tier, how well its pass probability is predicted (the `pass` method).
    #[serde(default)]
    pub tier_metrics: Vec<TierMetrics>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct HeldOut {
    pub task_id: String,
    pub probabilities: Vec<f32>,
    /// Each tier's calibrated probability of passing (the `pass` method; empty for level-only methods).
    #[serde(default)]
    pub tier_pass: Vec<f32>,
}

pub struct Outcome {
    pub model: Model,
    pub report: Report,
    /// The final OpenAI job's model, for the artifact.
    pub fine_tuned_model: Option<String>,
}

type Progress<'a> = &'a (dyn Fn(Event) + Send + Sync);

struct Ctx<'a> {
    set: &'a LabeledSet,
    opts: &'a Options,
    classes: Vec<usize>,
    texts: Vec<&'a str>,
    /// Frozen-encoder embeddings of every example (head and fine-tune start), computed once.
    embeddings: Option<Vec<Vec<f32>>>,
    frozen: Option<Arc<Encoder>>,
    /// Zero-shot predictions of every example, asked once.
    zero_shot: Option<Vec<Vec<f32>>>,
    /// The `pass` method's held-out logits per tier, by example, from the folds.
    tier_logits: Vec<(usize, Vec<f32>)>,
    jobs: Vec<Job>,
    progress: Progress<'a>,
    cancel: &'a CancellationToken,
}

fn pick<T: Clone>(v: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().map(|&i| v[i].clone()).collect()
}

impl Ctx<'_> {
    fn check_cancel(&self) -> Result<()> {
        if self.cancel.is_cancelled() {
            return Err(ClassifierError::Cancelled);
        }
        Ok(())
    }

    /// Fits on `train` and predicts `held`; returns the model and the held-out level probabilities (and, for the
    /// `pass` method, each held-out example's uncalibrated logit per tier).
    async fn fit(&mut self, round: &str, train: &[usize], held: &[usize]) -> Result<(Model, Vec<Vec<f32>>)> {
        let (model, preds, logits) = self.fit_with_logits(round, train, held).await?;
        if let Some(l) = logits {
            self.tier_logits.extend(held.iter().copied().zip(l));
        }
        Ok((model, preds))
    }

    async fn fit_with_logits(
        &mut self,
        round: &str,
        train: &[usize],
        held: &[usize],
    ) -> Result<(Model, Vec<Vec<f32>>, Option<Vec<Vec<f32>>>)> {
        if self.opts.method == Method::Pass {
            self.check_cancel()?;
            let fractions = self.set.pass_fractions();
            let prompts: Vec<String> = self.set.examples.iter().map(|e| e.routing_prompt()).collect();
            let samples: Vec<crate::passrate::Sample> = train
                .iter()
                .map(|&i| crate::passrate::Sample { prompt: &prompts[i], pass: fractions[i].clone() })
                .collect();
            let k = self.set.tiers.len();
            let trials = self.set.max_trials();
            let model = crate::passrate::PassModel::fit(&samples, k, trials);
            // One convex fit per tier, no epochs to report: the round's own event is the progress.
            let logits: Vec<Vec<f32>> = held.iter().map(|&i| model.raw_logits(&prompts[i])).collect();
            let preds = logits
                .iter()
                .map(|z| {
                    let p: Vec<f32> = z.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect();
                    crate::passrate::level_distribution(&self.set.rule, &self.set.levels, &p, trials)
                })
                .collect();
            return Ok((Model::Pass { model, rule: self.set.rule.clone() }, preds, Some(logits)));
        }
        let (model, preds) = self.fit_levels(round, train, held).await?;
        Ok((model, preds, None))
    }

    /// The level-predicting methods.
    async fn fit_levels(&mut self, round: &str, train: &[usize], held: &[usize]) -> Result<(Model, Vec<Vec<f32>>)> {
        self.check_cancel()?;
        let k = self.set.levels.len();
        let tc = pick(&self.classes, train);
        let weights = balanced_weights(&tc, k);
        let hc = pick(&self.classes, held);
        let progress = self.progress;
        let epoch = |e: Epoch| progress(Event::Epoch { round: round.to_owned(), epoch: e });
        match self.opts.method {
            Method::Tfidf => {
                let tt = pick(&self.texts, train);
                let every = (self.opts.tfidf.iterations / 10).max(1);
                let total = self.opts.tfidf.iterations;
                let m = Tfidf::fit(&tt, &tc, k, &weights, self.opts.tfidf, |it, loss, acc| {
                    if it % every == 0 || it == total {
                        epoch(Epoch {
                            epoch: it,
                            epochs: total,
                            loss: loss as f64,
                            train_accuracy: acc as f64,
                            held_out_accuracy: None,
                        })
                    }
                });
                let preds = held.iter().map(|&i| m.predict(self.texts[i])).collect();
                Ok((Model::Tfidf(m), preds))
            }
            Method::Head => {
                let emb = self.embeddings.as_ref().expect("embeddings computed for the head method");
                let (tx, hx) = (pick(emb, train), pick(emb, held));
                let held_arg = (!held.is_empty()).then_some((hx.as_slice(), hc.as_slice()));
                let head = neural::train_head(&tx, &tc, k, &weights, self.opts.head, held_arg, epoch)?;
                let preds = if held.is_empty() { Vec::new() } else { neural::predict_rows(&head, &hx)? };
                let encoder = self.frozen.clone().expect("the frozen encoder is loaded");
                Ok((Model::Encoder { encoder, head }, preds))
            }
            Method::Finetune => {
                let emb = self.embeddings.as_ref().expect("embeddings computed for fine-tuning");
                let tx = pick(emb, train);
                // Start from a frozen-encoder head (quietly: its epochs are not this method's).
                let start = neural::train_head(&tx, &tc, k, &weights, self.opts.head, None, |_| {})?;
                let (encoder, vars) = Encoder::load_trainable(&self.opts.encoder_dir, self.opts.finetune.token_table)?;
                let (tt, ht) = (pick(&self.texts, train), pick(&self.texts, held));
                let held_arg = (!held.is_empty()).then_some((ht.as_slice(), hc.as_slice()));
                let mut p = self.opts.finetune;
                p.seed = self.opts.seed;
                let head =
                    neural::finetune(&encoder, vars, &start, &tt, &tc, &weights, p, held_arg, self.cancel, epoch)?;
                let encoder = Arc::new(encoder.frozen()?);
                let preds =
                    if held.is_empty() { Vec::new() } else { neural::predict_rows(&head, &encoder.embed(&ht)?)? };
                Ok((Model::Encoder { encoder, head }, preds))
            }
            Method::ZeroShot => {
                let z = self.opts.zero_shot.clone().ok_or_else(|| {
                    ClassifierError::Invalid("the zero-shot method needs a tier to ask (--tier)".into())
                })?;
                if self.zero_shot.is_none() {
                    let mut all = Vec::with_capacity(self.texts.len());
                    for (i, t) in self.texts.iter().enumerate() {
                        self.check_cancel()?;
                        all.push(z.predict_one(t, self.cancel).await?);
                        if (i + 1) % 10 == 0 || i + 1 == self.texts.len() {
                            progress(Event::Epoch {
                                round: "rating".into(),
                                epoch: Epoch {
                                    epoch: i + 1,
                                    epochs: self.texts.len(),
                                    loss: 0.0,
                                    train_accuracy: 0.0,
                                    held_out_accuracy: None,
                                },
                            });
                        }
                    }
                    self.zero_shot = Some(all);
                }
                let preds = pick(self.zero_shot.as_ref().expect("rated above"), held);
                Ok((Model::ZeroShot(z), preds))
            }
            Method::Pass => unreachable!("the pass method is fitted by fit_with_logits"),
            Method::OpenAi => {
                let o = self.opts.openai.as_ref().ok_or_else(|| {
                    ClassifierError::Invalid("the openai method needs a provider and a base model".into())
                })?;
                let examples = self.set.subset(train);
                let jsonl = crate::openai::training_jsonl(&examples, &o.base_model);
                let file =
                    o.client.upload(&jsonl, &format!("complexitynet-{}.jsonl", self.set.source), self.cancel).await?;
                let suffix = crate::openai::suffix(&self.set.source, &self.set.rule);
                let job = o.client.create_job(&file, &o.base_model, &suffix, self.opts.seed, self.cancel).await?;
                let job = o
                    .client
                    .follow(&job.id, self.cancel, |u| progress(Event::Job { round: round.to_owned(), update: u }))
                    .await?;
                let model_id = job.fine_tuned_model.clone().expect("a succeeded job names its model");
                self.jobs.push(job);
                let model = Model::OpenAi { client: o.client.clone(), model: model_id };
                let ht = pick(&self.texts, held);
                let preds = model.predict(&self.set.levels, &ht, self.cancel).await?;
                Ok((model, preds))
            }
        }
    }
}

/// Evaluates `opts.method` on `set` and fits the deployed model. Checks the set first (nothing is trained on
/// a set that cannot be evaluated).
pub async fn run(
    set: &LabeledSet,
    opts: &Options,
    progress: Progress<'_>,
    cancel: &CancellationToken,
) -> Result<Outcome> {
    set.validate(opts.folds, opts.expect_rule.as_deref())?;
    if opts.method.uses_encoder() && !crate::bert::present(&opts.encoder_dir) {
        return Err(ClassifierError::EncoderMissing(format!(
            "the {} method needs the sentence encoder ({}), which is not in {}: run `complexitynet classifier \
             fetch-encoder`",
            opts.method.name(),
            crate::bert::ENCODER_ID,
            opts.encoder_dir.display()
        )));
    }
    let started = Instant::now();
    let span = tracing::info_span!("train", method = opts.method.name(), source = %set.source, n = set.examples.len());
    let _enter = span.enter();
    let mut ctx = Ctx {
        set,
        opts,
        classes: set.classes(),
        texts: set.examples.iter().map(|e| e.prompt.as_str()).collect(),
        embeddings: None,
        frozen: None,
        zero_shot: None,
        tier_logits: Vec::new(),
        jobs: Vec::new(),
        progress,
        cancel,
    };
    if opts.method.uses_encoder() {
        let enc = Encoder::load(&opts.encoder_dir)?;
        ctx.embeddings = Some(enc.embed(&ctx.texts)?);
        ctx.frozen = Some(Arc::new(enc));
    }
    let levels = set.level_values();
    let (train, test) = split::holdout(&levels, opts.test_fraction, opts.seed);
    let folds = if opts.folds >= 2 { split::k_folds(&levels, opts.folds, opts.seed) } else { Vec::new() };
    let total = 2 + folds.len();

    progress(Event::Round { round: "split".into(), index: 1, total });
    let (_, preds) = ctx.fit("split", &train, &test).await?;
    ctx.tier_logits.clear(); // only the folds' held-out logits calibrate
    let classes = ctx.classes.clone();
    let truth = |idx: &[usize]| pick(&classes, idx);
    let split_metrics =
        evaluate(&set.levels, &truth(&test), &preds.iter().map(|p| argmax(p)).collect::<Vec<_>>(), opts.seed);
    let majority_of = |train: &[usize]| {
        let mut counts = vec![0usize; set.levels.len()];
        for &i in train {
            counts[classes[i]] += 1;
        }
        (0..counts.len()).max_by_key(|&c| (counts[c], std::cmp::Reverse(c))).unwrap_or(0)
    };
    let mut majority_pred = vec![majority_of(&train); test.len()];
    let mut majority_truth = truth(&test);

    let mut cv_truth = Vec::new();
    let mut cv_pred = Vec::new();
    let mut fold_accuracy = Vec::new();
    let mut cv_predictions = Vec::new();
    for (f, held) in folds.iter().enumerate() {
        if cancel.is_cancelled() {
            return Err(ClassifierError::Cancelled);
        }
        let round = format!("fold {}/{}", f + 1, folds.len());
        progress(Event::Round { round: round.clone(), index: f + 2, total });
        let train: Vec<usize> = (0..set.examples.len()).filter(|i| held.binary_search(i).is_err()).collect();
        let (_, preds) = ctx.fit(&round, &train, held).await?;
        let pred: Vec<usize> = preds.iter().map(|p| argmax(p)).collect();
        for (&i, p) in held.iter().zip(&preds) {
            cv_predictions.push(HeldOut {
                task_id: set.examples[i].task_id.clone(),
                probabilities: p.clone(),
                tier_pass: Vec::new(),
            });
        }
        let t = truth(held);
        if f == 0 {
            majority_pred.clear();
            majority_truth.clear();
        }
        majority_pred.extend(std::iter::repeat_n(majority_of(&train), held.len()));
        majority_truth.extend(t.iter().copied());
        fold_accuracy.push(t.iter().zip(&pred).filter(|(a, b)| a == b).count() as f64 / t.len().max(1) as f64);
        cv_truth.extend(t);
        cv_pred.extend(pred);
    }
    // The pass method: calibrate each tier on held-out logits. The held-out probabilities of fold f use a
    // calibration fitted on the other folds only (cross-fitting), so what is reported never saw its own outcome;
    // the deployed model's calibration is fitted on all of them.
    let mut calibration = Vec::new();
    let mut tier_metrics = Vec::new();
    if opts.method == Method::Pass && !folds.is_empty() {
        let fractions = set.pass_fractions();
        let k = set.tiers.len();
        let logits: std::collections::HashMap<usize, Vec<f32>> = ctx.tier_logits.iter().cloned().collect();
        let fold_of: std::collections::HashMap<usize, usize> =
            folds.iter().enumerate().flat_map(|(f, held)| held.iter().map(move |&i| (i, f))).collect();
        let fit_platt = |t: usize, exclude: Option<usize>| {
            let (zs, ys): (Vec<f32>, Vec<f32>) = logits
                .iter()
                .filter(|(i, _)| exclude.is_none_or(|f| fold_of[*i] != f))
                // A tier that never tried a task (a chat answered elsewhere) says nothing about it.
                .filter(|(i, _)| !fractions[**i][t].is_nan())
                .map(|(i, z)| (z[t], fractions[*i][t]))
                .unzip();
            crate::logistic::Platt::fit(&zs, &ys)
        };
        let per_fold: Vec<Vec<crate::logistic::Platt>> =
            (0..folds.len()).map(|f| (0..k).map(|t| fit_platt(t, Some(f))).collect()).collect();
        calibration = (0..k).map(|t| fit_platt(t, None)).collect();
        let trials = set.max_trials();
        cv_truth.clear();
        cv_pred.clear();
        for h in cv_predictions.iter_mut() {
            let i = set.examples.iter().position(|e| e.task_id == h.task_id).expect("a held-out example of the set");
            let p: Vec<f32> = logits[&i].iter().zip(&per_fold[fold_of[&i]]).map(|(&z, c)| c.apply(z)).collect();
            h.probabilities = crate::passrate::level_distribution(&set.rule, &set.levels, &p, trials);
            h.tier_pass = p;
            cv_truth.push(classes[i]);
            cv_pred.push(argmax(&h.probabilities));
        }
        let truth: Vec<Vec<f32>> = cv_predictions
            .iter()
            .map(|h| fractions[set.examples.iter().position(|e| e.task_id == h.task_id).expect("in the set")].clone())
            .collect();
        tier_metrics = (0..k)
            .map(|t| {
                let (p, y): (Vec<f64>, Vec<f64>) = cv_predictions
                    .iter()
                    .zip(&truth)
                    .filter(|(_, r)| !r[t].is_nan())
                    .map(|(h, r)| (h.tier_pass[t] as f64, r[t] as f64))
                    .unzip();
                crate::metrics::tier_metrics(&set.tiers[t], &p, &y)
            })
            .collect();
    }
    let cv = (!folds.is_empty()).then(|| evaluate(&set.levels, &cv_truth, &cv_pred, opts.seed));

    progress(Event::Round { round: "final".into(), index: total, total });
    let fit_start = Instant::now();
    let all: Vec<usize> = (0..set.examples.len()).collect();
    let (mut model, _) = ctx.fit("final", &all, &[]).await?;
    if let (Model::Pass { model, .. }, false) = (&mut model, calibration.is_empty()) {
        model.calibrate(calibration);
    }
    let train_seconds = fit_start.elapsed().as_secs_f64();
    let params = match opts.method {
        Method::Tfidf => serde_json::to_value(opts.tfidf).unwrap_or_default(),
        Method::Head => serde_json::to_value(opts.head).unwrap_or_default(),
        Method::Finetune => serde_json::json!({"head": opts.head, "finetune": opts.finetune}),
        Method::ZeroShot => {
            serde_json::json!({"tier": opts.zero_shot.as_ref().map(|z| z.tier.clone()),
                "model": opts.zero_shot.as_ref().map(|z| z.model.clone())})
        }
        Method::OpenAi => serde_json::json!({"base_model": opts.openai.as_ref().map(|o| o.base_model.clone())}),
        Method::Pass => serde_json::json!({"members": "all features (C 0.3) + description words (C 1.0)",
            "calibration": "Platt per tier, cross-fitted on held-out folds"}),
    };
    let fine_tuned_model = match &model {
        Model::OpenAi { model, .. } => Some(model.clone()),
        _ => None,
    };
    let unparsed = opts.zero_shot.as_ref().map(|z| z.unparsed.load(std::sync::atomic::Ordering::Relaxed)).unwrap_or(0);
    let report = Report {
        method: opts.method,
        source: set.source.clone(),
        rule: set.rule.clone(),
        levels: set.levels.clone(),
        n: set.examples.len(),
        counts: set.counts(),
        training_hash: set.hash(),
        folds: folds.len(),
        seed: opts.seed,
        test_fraction: opts.test_fraction,
        split: split_metrics,
        cv,
        fold_accuracy,
        majority: Some(evaluate(&set.levels, &majority_truth, &majority_pred, opts.seed)),
        cv_predictions,
        tiers: set.tiers.clone(),
        tier_success: set.tier_success(),
        train_seconds,
        total_seconds: started.elapsed().as_secs_f64(),
        params,
        unparsed,
        jobs: ctx.jobs,
        tier_metrics,
    };
    tracing::info!(accuracy = report.split.accuracy, seconds = report.total_seconds, "trained");
    Ok(Outcome { model, report, fine_tuned_model })
}
