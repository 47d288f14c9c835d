//! `train`, `classify` and `classifier …`: the complexity classifier from the command line.

use clap::{Args, Subcommand};
use complexitynet_core::training::TrainRequest;
use complexitynet_core::types::bert;
use complexitynet_core::types::CancellationToken;
use complexitynet_core::types::Event;
use complexitynet_core::types::Meta;
use complexitynet_core::AppError;
use serde_json::json;
use std::path::PathBuf;

use super::Ctx;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The label run whose labels to learn, or `personal` for the chat answers marked as working or failing
    #[arg(long, value_name = "RUN")]
    pub labels: String,
    /// pass (a calibrated pass probability per tier: the shipped default), zero-shot, tfidf, head, finetune or
    /// openai
    #[arg(long)]
    pub method: String,
    /// Cross-validation folds (0: the 80/20 split only) [default: 5; 0 for openai, where each fold is a paid job]
    #[arg(long)]
    pub folds: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Epochs (head: full-batch steps, default 300; finetune: passes, default 3; tfidf: iterations, default 300)
    #[arg(long)]
    pub epochs: Option<usize>,
    /// head and finetune: the head's learning rate [default: 0.05 head, 0.002 finetune]
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// head: AdamW's decoupled weight decay [default: 0.001]
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// finetune: also train the token embedding table (by default every layer above it trains)
    #[arg(long)]
    pub train_token_table: bool,
    /// zero-shot: the tier that rates the tasks
    #[arg(long, default_value = "mid")]
    pub tier: String,
    /// openai: the base model to fine-tune
    #[arg(long, default_value = "gpt-4o-mini-2024-07-18")]
    pub base_model: String,
    /// openai: the provider whose endpoint and key to use
    #[arg(long, default_value = "openai")]
    pub provider: String,
    /// Fail unless the labels come from this rule (paper5, single3, threshold)
    #[arg(long)]
    pub rule: Option<String>,
    /// The classifier's id [default: <labels>-<method>-<time>]
    #[arg(long)]
    pub name: Option<String>,
    /// Make it the active classifier
    #[arg(long)]
    pub activate: bool,
    /// Also write the head and metadata to DIR (how resources/classifier is produced)
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// The sentence encoder's folder [default: $COMPLEXITYNET_ENCODER_DIR, else DATA_DIR/encoders/all-MiniLM-L6-v2]
    #[arg(long, value_name = "DIR")]
    pub encoder: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    pub prompt: String,
    /// Use this classifier instead of the active one
    #[arg(long)]
    pub classifier: Option<String>,
    #[arg(long, value_name = "DIR")]
    pub encoder: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ClassifierCommand {
    /// The shipped and trained classifiers with their metrics
    List,
    /// One classifier's metadata and evaluation
    Show { id: String },
    /// Route with this classifier from now on
    Activate { id: String },
    /// Delete a trained classifier
    Remove { id: String },
    /// Classifiers trained on the same labels with the same folds and seed, side by side
    Compare {
        #[arg(long, value_name = "RUN")]
        labels: String,
    },
    /// Fit prompt difficulty once from many models' outcomes (item response: an ability per model, a difficulty
    /// per task, then task text → difficulty); writes difficulty.json to --export
    FitDifficulty {
        /// Outcomes, one `{"task_id", "model", "passed"}` per line (e.g. ../shared/data/outcomes/mbpp-plus-greedy.jsonl)
        #[arg(long, value_name = "FILE.jsonl")]
        outcomes: PathBuf,
        /// The imported dataset whose tasks they are (their prompts are the text)
        #[arg(long)]
        dataset: String,
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
    },
    /// Install the sentence encoder (all-MiniLM-L6-v2): from its hub URL (or a mirror), or a local folder
    FetchEncoder {
        /// A folder holding config.json, tokenizer.json and model.safetensors
        #[arg(long, value_name = "DIR", conflicts_with = "url")]
        from: Option<PathBuf>,
        /// The base URL to download the three files from [default: the canonical hub folder]
        #[arg(long)]
        url: Option<String>,
        #[arg(long, value_name = "DIR")]
        encoder: Option<PathBuf>,
    },
}

fn print_event(e: Event) {
    match &e {
        Event::Round { round, index, total } => eprintln!("[{index}/{total}] {round}"),
        Event::Epoch { round, epoch } if round == "rating" => {
            eprintln!("  zero-shot: rated {}/{} tasks", epoch.epoch, epoch.epochs)
        }
        Event::Epoch { round, epoch } => {
            let held = epoch.held_out_accuracy.map(|a| format!("  held-out acc {a:.3}")).unwrap_or_default();
            eprintln!(
                "  {round}: epoch {}/{}  loss {:.4}  train acc {:.3}{held}",
                epoch.epoch, epoch.epochs, epoch.loss, epoch.train_accuracy
            );
        }
        Event::Job { round, update } => eprintln!("  {round}: {}", serde_json::to_string(update).unwrap_or_default()),
    }
}

fn metrics_line(m: &complexitynet_core::types::Metrics) -> String {
    format!(
        "acc {:.3} [{:.3}, {:.3}]  macro-F1 {:.3} [{:.3}, {:.3}]  within-one {:.3}  (n={})",
        m.accuracy,
        m.accuracy_ci[0],
        m.accuracy_ci[1],
        m.macro_f1,
        m.macro_f1_ci[0],
        m.macro_f1_ci[1],
        m.within_one,
        m.n
    )
}

fn describe(m: &Meta) -> String {
    let r = &m.report;
    let mut s = format!(
        "{}{}  method {}  labels {} ({} rule, levels {:?}, n={})\n  split 80/20: {}\n",
        m.id,
        if m.active { " (active)" } else { "" },
        m.method.name(),
        m.labels,
        m.rule.name(),
        m.levels,
        r.n,
        metrics_line(&r.split)
    );
    if let Some(cv) = &r.cv {
        s.push_str(&format!("  {}-fold CV:   {}\n", r.folds, metrics_line(cv)));
        if let Some(m) = &r.majority {
            s.push_str(&format!("  majority:     {}\n", metrics_line(m)));
        }
        s.push_str("  confusion (rows true, columns predicted):\n");
        for (i, row) in cv.confusion.iter().enumerate() {
            s.push_str(&format!("    {:>3} {:?}\n", cv.levels[i], row));
        }
    }
    if !r.tier_metrics.is_empty() {
        s.push_str("  per-tier pass prediction (held out):\n");
        for t in &r.tier_metrics {
            s.push_str(&format!(
                "    {:<32} passes {:>5.1}%  AUC {:.3}  Brier {:.3}  ECE {:.3}\n",
                t.tier,
                100.0 * t.base_rate,
                t.auc,
                t.brier,
                t.ece
            ));
        }
    }
    s
}

impl From<&TrainArgs> for TrainRequest {
    fn from(a: &TrainArgs) -> Self {
        TrainRequest {
            labels: a.labels.clone(),
            method: a.method.clone(),
            folds: a.folds,
            seed: a.seed,
            epochs: a.epochs,
            learning_rate: a.learning_rate,
            weight_decay: a.weight_decay,
            train_token_table: a.train_token_table,
            tier: Some(a.tier.clone()),
            base_model: Some(a.base_model.clone()),
            provider: Some(a.provider.clone()),
            rule: a.rule.clone(),
            name: a.name.clone(),
            activate: a.activate,
            encoder: a.encoder.clone(),
        }
    }
}

pub fn train(args: TrainArgs, ctx: &Ctx) -> Result<(), AppError> {
    // Ctrl-C cancels the training (and a cloud job on the provider's side too).
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    let rt = complexitynet_core::runtime()?;
    rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("cancelling…");
            c.cancel();
        }
    });
    let meta = ctx.app.train(&TrainRequest::from(&args), &print_event, &cancel)?;
    if let Some(dir) = &args.export {
        ctx.app.export_classifier(&meta, dir)?;
    }
    ctx.emit(&meta, || describe(&meta));
    Ok(())
}

pub fn classify(args: ClassifyArgs, ctx: &Ctx) -> Result<(), AppError> {
    let rt = complexitynet_core::runtime()?;
    let p = rt.block_on(ctx.app.classify(&args.prompt, args.classifier.as_deref(), args.encoder))?;
    ctx.emit(&p, || {
        let probs: Vec<String> = p.levels.iter().zip(&p.probabilities).map(|(l, q)| format!("{l}: {q:.2}")).collect();
        format!("level {}  ({})  by {}\n", p.level, probs.join(", "), p.classifier)
    });
    Ok(())
}

pub fn classifier(cmd: ClassifierCommand, ctx: &Ctx) -> Result<(), AppError> {
    let app = &ctx.app;
    match cmd {
        ClassifierCommand::List => {
            let list = app.classifiers()?;
            ctx.emit(&list, || {
                let mut s = format!("{:<44} {:<10} {:<18} {:>7} {:>9}\n", "ID", "METHOD", "LABELS", "CV ACC", "CV MF1");
                for m in &list {
                    let cv = m.report.cv.as_ref();
                    s.push_str(&format!(
                        "{:<44} {:<10} {:<18} {:>7} {:>9}{}\n",
                        m.id,
                        m.method.name(),
                        m.labels,
                        cv.map(|c| format!("{:.3}", c.accuracy)).unwrap_or_else(|| "-".into()),
                        cv.map(|c| format!("{:.3}", c.macro_f1)).unwrap_or_else(|| "-".into()),
                        if m.active { "  *active" } else { "" }
                    ));
                }
                s
            });
        }
        ClassifierCommand::FitDifficulty { outcomes, dataset, export } => {
            let r = app.fit_difficulty(&outcomes, &dataset, export.as_deref())?;
            ctx.emit(&r, || {
                let mut s = format!(
                    "{} outcomes of {} models on {} tasks; text → difficulty residual {:.2} logits (5-fold)\n",
                    r.outcomes, r.models, r.tasks, r.residual_sd
                );
                for (m, a, rate) in &r.abilities {
                    s.push_str(&format!("  {m:<48} ability {a:>6.2}  passes {:>5.1}%\n", 100.0 * rate));
                }
                if let Some(p) = &r.exported {
                    s.push_str(&format!("written: {}\n", p.display()));
                }
                s
            });
        }
        ClassifierCommand::Show { id } => {
            let meta = app.classifier_meta(&id)?;
            ctx.emit(&meta, || describe(&meta));
        }
        ClassifierCommand::Activate { id } => {
            let meta = app.activate_classifier(&id)?;
            ctx.emit(&json!({"active": meta.id}), || format!("Active classifier: {}\n", meta.id));
        }
        ClassifierCommand::Remove { id } => {
            app.remove_classifier(&id)?;
            ctx.emit(&json!({"removed": id}), || format!("Removed {id}\n"));
        }
        ClassifierCommand::Compare { labels } => {
            let rows = app.compare_classifiers(&labels)?;
            ctx.emit(&rows, || {
                let mut s = format!(
                    "{:<10} {:>5} {:>5} {:>22} {:>22} {:>10} {:>9}\n",
                    "METHOD", "FOLDS", "SEED", "CV ACC [95% CI]", "CV MACRO-F1 [95% CI]", "WITHIN-1", "TRAIN S"
                );
                for m in &rows {
                    let r = &m.report;
                    let m2 = r.cv.as_ref().unwrap_or(&r.split);
                    s.push_str(&format!(
                        "{:<10} {:>5} {:>5} {:>22} {:>22} {:>10.3} {:>9.2}\n",
                        m.method.name(),
                        r.folds,
                        r.seed,
                        format!("{:.3} [{:.3},{:.3}]", m2.accuracy, m2.accuracy_ci[0], m2.accuracy_ci[1]),
                        format!("{:.3} [{:.3},{:.3}]", m2.macro_f1, m2.macro_f1_ci[0], m2.macro_f1_ci[1]),
                        m2.within_one,
                        r.train_seconds
                    ));
                }
                s
            });
        }
        ClassifierCommand::FetchEncoder { from, url, encoder } => {
            let dest = match from {
                Some(src) => app.install_encoder(&src, encoder)?,
                None => {
                    let bar = super::bar("{msg} [{bar:30}] {bytes}/{total_bytes}", None);
                    let b = bar.clone();
                    let progress = move |f: &str, p: complexitynet_core::types::DownloadProgress| {
                        b.set_message(f.to_owned());
                        if let Some(t) = p.total {
                            b.set_length(t);
                        }
                        b.set_position(p.received);
                    };
                    let r =
                        complexitynet_core::runtime()?.block_on(app.fetch_encoder(url.as_deref(), encoder, &progress));
                    bar.finish_and_clear();
                    r?
                }
            };
            ctx.emit(&json!({"encoder": bert::ENCODER_ID, "dir": dest, "sha256": bert::WEIGHTS_SHA256}), || {
                format!("Installed {} in {}\n", bert::ENCODER_ID, dest.display())
            });
        }
    }
    Ok(())
}
