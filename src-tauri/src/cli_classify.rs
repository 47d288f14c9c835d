//! `train`, `classify` and `classifier …`: the complexity classifier from the command line.

use clap::{Args, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use complexitynet_classifier::artifact::{self, Classifier, LoadContext, Meta};
use complexitynet_classifier::openai::FineTuneClient;
use complexitynet_classifier::train::{self, Event, Options};
use complexitynet_classifier::zeroshot::ZeroShot;
use complexitynet_classifier::{bert, ClassifierError, LabeledSet, Method};
use complexitynet_engine::keys::{Keychain, SecretStore};
use complexitynet_engine::label::Rule;
use complexitynet_engine::paths::DataDir;
use complexitynet_engine::store::Store;
use complexitynet_engine::tiers::{table, CancellationToken};

use crate::cli::{emit, open};
use crate::error::AppError;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The label run whose labels to learn, or `personal` for the chat answers marked as working or failing
    #[arg(long, value_name = "RUN")]
    pub labels: String,
    /// zero-shot, tfidf, head, finetune or openai
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

pub(crate) fn cls_err(e: ClassifierError) -> AppError {
    AppError { code: e.code(), message: e.to_string() }
}

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| AppError::internal(format!("cannot start the async runtime: {e}")))
}

pub fn encoder_dir(data_dir: &DataDir, flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(|| bert::default_dir(&data_dir.root))
}

/// The zero-shot rater for a tier.
pub(crate) fn zero_shot(store: &Store, spec: &str, rule: &Rule, levels: &[u32]) -> Result<Arc<ZeroShot>, AppError> {
    let (tier, prov) = table::resolve(store, spec).map_err(|e| AppError { code: e.code(), message: e.to_string() })?;
    let provider = crate::cli_tiers::build_provider(store, &tier, &prov, &Keychain::open(), None)?;
    Ok(Arc::new(ZeroShot {
        tier: spec.to_owned(),
        model: tier.model.clone(),
        provider: Arc::from(provider),
        levels: levels.to_vec(),
        rule: rule.clone(),
        unparsed: Default::default(),
    }))
}

/// The fine-tuning client for a provider, with its key from the keychain.
pub(crate) fn openai_client(store: &Store, provider: &str) -> Result<Arc<FineTuneClient>, AppError> {
    let row = table::provider(store, provider).map_err(|e| AppError { code: e.code(), message: e.to_string() })?;
    let key = Keychain::open().get(&row.name).map_err(|e| AppError { code: e.code(), message: e.to_string() })?;
    let mut client = FineTuneClient::new(&row.base_url, key);
    if let Some(ms) = std::env::var("COMPLEXITYNET_FINETUNE_POLL_MS").ok().and_then(|v| v.parse().ok()) {
        client.poll = std::time::Duration::from_millis(ms);
    }
    Ok(Arc::new(client))
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

fn metrics_line(m: &complexitynet_classifier::metrics::Metrics) -> String {
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
    s
}

/// What to train: the CLI's flags and the Fine-tune tab's form alike.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrainRequest {
    pub labels: String,
    pub method: String,
    pub folds: Option<usize>,
    pub seed: u64,
    pub epochs: Option<usize>,
    pub learning_rate: Option<f64>,
    pub weight_decay: Option<f64>,
    pub train_token_table: bool,
    pub tier: Option<String>,
    pub base_model: Option<String>,
    pub provider: Option<String>,
    pub rule: Option<String>,
    pub name: Option<String>,
    pub activate: bool,
    #[serde(skip)]
    pub encoder: Option<PathBuf>,
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

/// Trains, evaluates and stores a classifier (blocking: run it off any async worker). Shared by `complexitynet
/// train` and the Fine-tune tab.
pub fn train_request(
    data_dir: &DataDir,
    req: &TrainRequest,
    progress: &(dyn Fn(Event) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<Meta, AppError> {
    let method = Method::parse(&req.method).map_err(cls_err)?;
    let store = open(data_dir)?;
    // `personal`: the chat answers the user marked as working or failing.
    let set = if req.labels == "personal" {
        LabeledSet::from_feedback(&store)
    } else {
        LabeledSet::from_run(&store, &req.labels)
    }
    .map_err(cls_err)?;
    let mut opts = Options::new(method, encoder_dir(data_dir, req.encoder.clone()));
    opts.folds = req.folds.unwrap_or(if method == Method::OpenAi { 0 } else { 5 });
    opts.seed = req.seed;
    opts.expect_rule = req.rule.clone();
    if let Some(e) = req.epochs {
        opts.head.epochs = e;
        opts.finetune.epochs = e;
        opts.tfidf.iterations = e;
    }
    if let Some(lr) = req.learning_rate {
        opts.head.learning_rate = lr;
        opts.finetune.head_lr = lr;
    }
    if let Some(wd) = req.weight_decay {
        opts.head.weight_decay = wd;
    }
    opts.finetune.token_table = req.train_token_table;
    // Check the set before building clients: a bad set fails fast, whatever the method.
    set.validate(opts.folds, opts.expect_rule.as_deref()).map_err(cls_err)?;
    let mut tier = None;
    match method {
        Method::ZeroShot => {
            let spec = req.tier.clone().unwrap_or_else(|| "mid".into());
            opts.zero_shot = Some(zero_shot(&store, &spec, &set.rule, &set.levels)?);
            tier = Some(spec);
        }
        Method::OpenAi => {
            let provider = req.provider.clone().unwrap_or_else(|| "openai".into());
            opts.openai = Some(train::OpenAiOptions {
                client: openai_client(&store, &provider)?,
                base_model: req.base_model.clone().unwrap_or_else(|| "gpt-4o-mini-2024-07-18".into()),
            });
            tier = Some(provider);
        }
        _ => {}
    }
    let rt = runtime()?;
    let outcome = rt.block_on(train::run(&set, &opts, progress, cancel)).map_err(cls_err)?;
    let id = req.name.clone().unwrap_or_else(|| artifact::new_id(&req.labels, method));
    let mut meta = artifact::save(&store, &data_dir.root, &id, &outcome, tier).map_err(cls_err)?;
    if req.activate {
        meta = artifact::activate(&store, &id).map_err(cls_err)?;
    }
    Ok(meta)
}

pub fn train(args: TrainArgs, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    let cancel = CancellationToken::new();
    let rt = runtime()?;
    {
        let c = cancel.clone();
        rt.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("cancelling…");
                c.cancel();
            }
        });
    }
    let meta = train_request(data_dir, &TrainRequest::from(&args), &print_event, &cancel)?;
    if let Some(dir) = &args.export {
        export(&meta, &data_dir.root.join("classifiers").join(&meta.id), dir)?;
    }
    emit(json, &meta, || describe(&meta));
    Ok(())
}

/// Writes a head classifier's shippable part (head + metadata) to `dir`.
fn export(meta: &Meta, from: &Path, dir: &Path) -> Result<(), AppError> {
    if meta.method != Method::Head {
        return Err(AppError {
            code: complexitynet_engine::ErrorCode::InvalidArguments,
            message: "only a head classifier can ship (the others carry an encoder, a vocabulary or a cloud model)"
                .into(),
        });
    }
    let io = |e: std::io::Error| AppError::internal(format!("exporting to {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::copy(from.join("head.safetensors"), dir.join("head.safetensors")).map_err(io)?;
    let mut shipped = meta.clone();
    shipped.active = false;
    // Compact: the held-out predictions of every training task make the pretty form 100 KB.
    std::fs::write(dir.join("meta.json"), serde_json::to_string(&shipped).expect("serialises") + "\n").map_err(io)?;
    Ok(())
}

/// Loads a classifier (the active one by default) with what its method needs.
pub fn load(
    store: &Store,
    data_dir: &DataDir,
    id: Option<&str>,
    encoder: Option<PathBuf>,
) -> Result<Classifier, AppError> {
    let id = match id {
        Some(i) => i.to_owned(),
        None => artifact::active_id(store).map_err(cls_err)?,
    };
    let (meta, dir) = artifact::get(store, &id).map_err(cls_err)?;
    let mut ctx = LoadContext { encoder_dir: encoder_dir(data_dir, encoder), ..Default::default() };
    match meta.method {
        Method::ZeroShot => {
            ctx.zero_shot = Some(zero_shot(store, meta.tier.as_deref().unwrap_or("mid"), &meta.rule, &meta.levels)?)
        }
        Method::OpenAi => ctx.openai = Some(openai_client(store, meta.tier.as_deref().unwrap_or("openai"))?),
        _ => {}
    }
    artifact::load(meta, dir.as_deref(), &ctx).map_err(cls_err)
}

pub fn classify(args: ClassifyArgs, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    let store = open(data_dir)?;
    let c = load(&store, data_dir, args.classifier.as_deref(), args.encoder)?;
    let rt = runtime()?;
    let p = rt.block_on(c.classify(&args.prompt, &CancellationToken::new())).map_err(cls_err)?;
    emit(json, &p, || {
        let probs: Vec<String> = p.levels.iter().zip(&p.probabilities).map(|(l, q)| format!("{l}: {:.2}", q)).collect();
        format!("level {}  ({})  by {}\n", p.level, probs.join(", "), p.classifier)
    });
    Ok(())
}

pub fn classifier(cmd: ClassifierCommand, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    match cmd {
        ClassifierCommand::List => {
            let list = artifact::list(&open(data_dir)?).map_err(cls_err)?;
            emit(json, &list, || {
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
        ClassifierCommand::Show { id } => {
            let (meta, _) = artifact::get(&open(data_dir)?, &id).map_err(cls_err)?;
            emit(json, &meta, || describe(&meta));
        }
        ClassifierCommand::Activate { id } => {
            let meta = artifact::activate(&open(data_dir)?, &id).map_err(cls_err)?;
            emit(json, &json!({"active": meta.id}), || format!("Active classifier: {}\n", meta.id));
        }
        ClassifierCommand::Remove { id } => {
            artifact::remove(&open(data_dir)?, &id).map_err(cls_err)?;
            emit(json, &json!({"removed": id}), || format!("Removed {id}\n"));
        }
        ClassifierCommand::Compare { labels } => {
            let list = artifact::list(&open(data_dir)?).map_err(cls_err)?;
            let rows: Vec<&Meta> = list.iter().filter(|m| m.labels == labels).collect();
            emit(json, &rows, || {
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
            let dest = encoder_dir(data_dir, encoder);
            match from {
                Some(src) => bert::install_from(&src, &dest).map_err(cls_err)?,
                None => {
                    let url = url.unwrap_or_else(|| bert::CANONICAL_URL.to_owned());
                    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
                    bar.set_style(
                        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
                            .expect("valid template")
                            .progress_chars("=> "),
                    );
                    let b = bar.clone();
                    let progress = move |f: &str, p: complexitynet_engine::download::DownloadProgress| {
                        b.set_message(f.to_owned());
                        if let Some(t) = p.total {
                            b.set_length(t);
                        }
                        b.set_position(p.received);
                    };
                    let r = runtime()?.block_on(bert::fetch(&url, &dest, &progress));
                    bar.finish_and_clear();
                    r.map_err(cls_err)?;
                }
            }
            emit(json, &json!({"encoder": bert::ENCODER_ID, "dir": dest, "sha256": bert::WEIGHTS_SHA256}), || {
                format!("Installed {} in {}\n", bert::ENCODER_ID, dest.display())
            });
        }
    }
    Ok(())
}

/// `doctor`'s line for the classifier: the active one and whether its encoder is installed.
pub fn classifier_check(data_dir: &DataDir) -> complexitynet_engine::doctor::Check {
    use complexitynet_engine::doctor::{Check, CheckStatus};
    let active = open(data_dir).ok().and_then(|s| artifact::active_id(&s).ok()).unwrap_or_else(|| "default".into());
    let dir = encoder_dir(data_dir, None);
    if bert::present(&dir) {
        Check {
            name: "classifier",
            status: CheckStatus::Ok,
            detail: format!("active {active}; encoder {} in {}", bert::ENCODER_ID, dir.display()),
        }
    } else {
        Check {
            name: "classifier",
            status: CheckStatus::Missing,
            detail: format!(
                "active {active}; the encoder {} is not in {} (complexitynet classifier fetch-encoder)",
                bert::ENCODER_ID,
                dir.display()
            ),
        }
    }
}
