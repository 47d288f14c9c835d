//! The complexity classifier's use cases: train (every method on the same split and folds, then the final
//! fit), list, show, compare, activate, remove, classify a prompt, install the sentence encoder, export the
//! shippable head. Shared by `complexitynet train/classify/classifier` and the Fine-tune tab.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::doctor::{Check, CheckStatus};
use complexitynet_classifier::artifact::{self, Classifier, LoadContext, Meta, Prediction};
use complexitynet_classifier::data::{ChatEvidence, Example};
use complexitynet_classifier::openai::FineTuneClient;
use complexitynet_classifier::train::{self, Event, Options};
use complexitynet_classifier::zeroshot::ZeroShot;
use complexitynet_classifier::{bert, LabeledSet, Method};
use complexitynet_engine::store::Store;
use complexitynet_engine::tiers as table;
use complexitynet_providers::download::DownloadProgress;
use complexitynet_providers::CancellationToken;
use complexitynet_router::label::Rule;
use serde::{Deserialize, Serialize};

use crate::{lock, App, AppError, Result};

/// The job id of a training started from the window.
pub const TRAIN_JOB: &str = "train";

/// What to train: the CLI's flags and the Fine-tune tab's form alike.
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct TrainRequest {
    /// A label run, or `personal` (the chat answers marked as working or failing).
    pub labels: String,
    /// zero-shot, tfidf, head, finetune or openai.
    pub method: String,
    /// Cross-validation folds [default: 5; 0 for openai, where each fold is a paid job].
    #[ts(optional = nullable)]
    pub folds: Option<usize>,
    #[ts(type = "number")]
    pub seed: u64,
    #[ts(optional = nullable)]
    pub epochs: Option<usize>,
    #[ts(optional = nullable)]
    pub learning_rate: Option<f64>,
    #[ts(optional = nullable)]
    pub weight_decay: Option<f64>,
    pub train_token_table: bool,
    /// zero-shot: the tier that rates [default: mid].
    #[ts(optional = nullable)]
    pub tier: Option<String>,
    /// openai: the base model [default: gpt-4o-mini-2024-07-18].
    #[ts(optional = nullable)]
    pub base_model: Option<String>,
    /// openai: the provider whose endpoint and key to use [default: openai].
    #[ts(optional = nullable)]
    pub provider: Option<String>,
    /// Fail unless the labels come from this rule.
    #[ts(optional = nullable)]
    pub rule: Option<String>,
    #[ts(optional = nullable)]
    pub name: Option<String>,
    pub activate: bool,
    /// The sentence encoder's folder (the CLI's --encoder).
    #[serde(skip)]
    #[ts(skip)]
    pub encoder: Option<PathBuf>,
}

/// Where the sentence encoder is, and whether it is installed.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct EncoderStatus {
    pub id: String,
    pub dir: String,
    pub present: bool,
}

impl App {
    /// The encoder folder: the given one, else `$COMPLEXITYNET_ENCODER_DIR`, else inside the data dir.
    pub fn encoder_dir(&self, flag: Option<PathBuf>) -> PathBuf {
        flag.unwrap_or_else(|| bert::default_dir(&self.data_dir().root))
    }

    pub fn encoder_status(&self) -> EncoderStatus {
        let dir = self.encoder_dir(None);
        EncoderStatus { id: bert::ENCODER_ID.into(), present: bert::present(&dir), dir: dir.display().to_string() }
    }

    /// Installs the encoder from a folder holding its files (checksums checked).
    pub fn install_encoder(&self, from: &Path, encoder: Option<PathBuf>) -> Result<PathBuf> {
        let dest = self.encoder_dir(encoder);
        bert::install_from(from, &dest)?;
        Ok(dest)
    }

    /// Downloads the encoder from its hub folder (or a mirror) with progress, resume and checksums.
    pub async fn fetch_encoder(
        &self,
        url: Option<&str>,
        encoder: Option<PathBuf>,
        progress: &(dyn Fn(&str, DownloadProgress) + Send + Sync),
    ) -> Result<PathBuf> {
        let dest = self.encoder_dir(encoder);
        bert::fetch(url.unwrap_or(bert::CANONICAL_URL), &dest, progress).await?;
        Ok(dest)
    }

    /// The zero-shot rater for a tier.
    fn zero_shot(&self, spec: &str, rule: &Rule, levels: &[u32]) -> Result<Arc<ZeroShot>> {
        let (tier, prov) = self.with_store(|s| Ok(table::resolve(s, spec)?))?;
        Ok(Arc::new(ZeroShot {
            tier: spec.to_owned(),
            model: tier.model.clone(),
            provider: self.provider(&tier, &prov)?,
            levels: levels.to_vec(),
            rule: rule.clone(),
            unparsed: Default::default(),
        }))
    }

    /// The fine-tuning client for a provider, with its key from the secret store.
    fn fine_tune_client(&self, provider: &str) -> Result<Arc<FineTuneClient>> {
        let row = self.with_store(|s| Ok(table::provider(s, provider)?))?;
        let mut client = FineTuneClient::new(&row.base_url, self.secrets().get(&row.name)?);
        if let Some(ms) = std::env::var("COMPLEXITYNET_FINETUNE_POLL_MS").ok().and_then(|v| v.parse().ok()) {
            client.poll = std::time::Duration::from_millis(ms);
        }
        Ok(Arc::new(client))
    }

    /// Loads a classifier (the active one by default) with what its method needs.
    pub fn load_classifier(&self, id: Option<&str>, encoder: Option<PathBuf>) -> Result<Classifier> {
        let (meta, dir) = self.with_store(|s| {
            let id = match id {
                Some(i) => i.to_owned(),
                None => active_id(s)?,
            };
            stored(s, &id)
        })?;
        let mut ctx = LoadContext { encoder_dir: self.encoder_dir(encoder), ..Default::default() };
        match meta.method {
            Method::ZeroShot => {
                ctx.zero_shot = Some(self.zero_shot(meta.tier.as_deref().unwrap_or("mid"), &meta.rule, &meta.levels)?)
            }
            Method::OpenAi => ctx.openai = Some(self.fine_tune_client(meta.tier.as_deref().unwrap_or("openai"))?),
            _ => {}
        }
        Ok(artifact::load(meta, dir.as_deref(), &ctx)?)
    }

    /// The active classifier, loaded once and kept (reloaded when another one is activated).
    pub fn active_classifier(&self) -> Result<Arc<Classifier>> {
        let active = self.with_store(|s| active_id(s))?;
        if let Some(c) = lock(&self.classifier).as_ref() {
            if c.meta.id == active {
                return Ok(c.clone());
            }
        }
        let c = Arc::new(self.load_classifier(Some(&active), None)?);
        *lock(&self.classifier) = Some(c.clone());
        Ok(c)
    }

    /// A classifier by id (the active one when None); the active one comes from the cache.
    pub fn classifier(&self, id: Option<&str>) -> Result<Arc<Classifier>> {
        match id {
            None => self.active_classifier(),
            Some(id) => {
                if let Some(c) = lock(&self.classifier).as_ref().filter(|c| c.meta.id == id) {
                    return Ok(c.clone());
                }
                Ok(Arc::new(self.load_classifier(Some(id), None)?))
            }
        }
    }

    /// A prompt's predicted level with a classifier (the active one by default).
    pub async fn classify(&self, prompt: &str, id: Option<&str>, encoder: Option<PathBuf>) -> Result<Prediction> {
        let c = match encoder {
            Some(e) => Arc::new(self.load_classifier(id, Some(e))?),
            None => self.classifier(id)?,
        };
        Ok(c.classify(prompt, &CancellationToken::new()).await?)
    }

    pub fn classifiers(&self) -> Result<Vec<Meta>> {
        self.with_store(|s| list(s))
    }

    pub fn classifier_meta(&self, id: &str) -> Result<Meta> {
        self.with_store(|s| Ok(stored(s, id)?.0))
    }

    pub fn activate_classifier(&self, id: &str) -> Result<Meta> {
        self.with_store(|s| {
            let (mut meta, _) = stored(s, id)?;
            complexitynet_engine::classifiers::set_active(s, Some(id))?;
            meta.active = true;
            Ok(meta)
        })
    }

    pub fn remove_classifier(&self, id: &str) -> Result<()> {
        self.with_store(|s| remove(s, id))?;
        lock(&self.classifier).take_if(|c| c.meta.id == id);
        Ok(())
    }

    /// Classifiers trained on the same labels (same folds and seed give comparable figures).
    pub fn compare_classifiers(&self, labels: &str) -> Result<Vec<Meta>> {
        Ok(self.classifiers()?.into_iter().filter(|m| m.labels == labels).collect())
    }

    /// Trains, evaluates and stores a classifier (blocking for minutes: run it off any async worker).
    /// The personal labels: what the user's own chat answers say about the tiers (each verified step, each
    /// answer marked as working or failing).
    pub fn personal_labels(&self) -> Result<LabeledSet> {
        self.with_store(|s| {
            let tiers: Vec<String> = complexitynet_engine::tiers::tiers(s)?.into_iter().map(|t| t.name).collect();
            let outcomes = complexitynet_engine::conversations::outcomes(s)?;
            Ok(personal_set(&tiers, &outcomes))
        })
    }

    pub fn train(
        &self,
        req: &TrainRequest,
        progress: &(dyn Fn(Event) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<Meta> {
        let method = Method::parse(&req.method)?;
        let _span = tracing::info_span!("train", method = method.name(), labels = %req.labels).entered();
        // `personal`: the chat answers the user marked as working or failing.
        let set = if req.labels == "personal" {
            self.personal_labels()?
        } else {
            self.with_store(|s| labeled_set(s, &req.labels))?
        };
        let mut opts = Options::new(method, self.encoder_dir(req.encoder.clone()));
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
        set.validate(opts.folds, opts.expect_rule.as_deref())?;
        let mut tier = None;
        match method {
            Method::ZeroShot => {
                let spec = req.tier.clone().unwrap_or_else(|| "mid".into());
                opts.zero_shot = Some(self.zero_shot(&spec, &set.rule, &set.levels)?);
                tier = Some(spec);
            }
            Method::OpenAi => {
                let provider = req.provider.clone().unwrap_or_else(|| "openai".into());
                opts.openai = Some(train::OpenAiOptions {
                    client: self.fine_tune_client(&provider)?,
                    base_model: req.base_model.clone().unwrap_or_else(|| "gpt-4o-mini-2024-07-18".into()),
                });
                tier = Some(provider);
            }
            _ => {}
        }
        let outcome = crate::runtime()?.block_on(train::run(&set, &opts, progress, cancel))?;
        let id = req.name.clone().unwrap_or_else(|| artifact::new_id(&req.labels, method));
        let root = self.data_dir().root.clone();
        let (mut meta, dir) = artifact::save(&root, &id, &outcome, tier)?;
        self.with_store(|s| {
            let json = serde_json::to_string(&meta).map_err(|e| AppError::internal(e.to_string()))?;
            Ok(complexitynet_engine::classifiers::upsert(
                s,
                &id,
                meta.method.name(),
                &meta.labels,
                &dir.to_string_lossy(),
                &json,
            )?)
        })?;
        if req.activate {
            meta = self.activate_classifier(&id)?;
        }
        Ok(meta)
    }

    /// [`App::train`] as the job [`TRAIN_JOB`], off the async workers: the Fine-tune tab's Stop cancels it (a
    /// cloud job on the provider's side too).
    pub async fn train_job(
        self: &Arc<Self>,
        req: TrainRequest,
        on_event: Arc<dyn Fn(Event) + Send + Sync>,
    ) -> Result<Meta> {
        let guard = self.jobs().start(crate::JobKind::Training, TRAIN_JOB)?;
        let token = guard.token().clone();
        self.blocking(move |app| app.train(&req, &move |e| on_event(e), &token)).await
    }

    /// Writes a classifier's shippable part (its model file and metadata) to `dir`: how `resources/classifier` is
    /// made. Only the methods that need nothing beyond their files ship (`pass`, `tfidf`, `head` with the
    /// public encoder); a fine-tune carries 90 MB of weights, a zero-shot or cloud one a provider.
    pub fn export_classifier(&self, meta: &Meta, dir: &Path) -> Result<()> {
        let file = match meta.method {
            Method::Pass => "pass.json",
            Method::Tfidf => "tfidf.json",
            Method::Head => "head.safetensors",
            _ => {
                return Err(AppError::invalid(
                    "only a pass, tfidf or head classifier can ship (the others carry an encoder or a provider)",
                ))
            }
        };
        let from = self.data_dir().root.join("classifiers").join(&meta.id);
        let io = |e: std::io::Error| AppError::internal(format!("exporting to {}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(io)?;
        std::fs::copy(from.join(file), dir.join(file)).map_err(io)?;
        let mut shipped = meta.clone();
        shipped.active = false;
        // Compact: the held-out predictions of every training task make the pretty form large.
        let json = serde_json::to_string(&shipped).map_err(|e| AppError::internal(e.to_string()))?;
        std::fs::write(dir.join("meta.json"), json + "\n").map_err(io)?;
        Ok(())
    }

    /// `doctor`'s line for the classifier: the active one and whether its encoder is installed.
    pub fn classifier_check(&self) -> Check {
        let active = self.with_store(|s| active_id(s)).unwrap_or_else(|_| "default".into());
        let needs_encoder =
            self.with_store(|s| Ok(stored(s, &active)?.0)).map(|m| m.encoder.is_some()).unwrap_or(false);
        let dir = self.encoder_dir(None);
        let (status, detail) = match (needs_encoder, bert::present(&dir)) {
            (false, present) => (
                CheckStatus::Ok,
                format!(
                    "active {active}, which needs no encoder{}",
                    if present {
                        format!(" (encoder {} in {})", bert::ENCODER_ID, dir.display())
                    } else {
                        String::new()
                    }
                ),
            ),
            (true, true) => {
                (CheckStatus::Ok, format!("active {active}; encoder {} in {}", bert::ENCODER_ID, dir.display()))
            }
            (true, false) => (
                CheckStatus::Missing,
                format!(
                    "active {active}; the encoder {} is not in {} (complexitynet classifier fetch-encoder)",
                    bert::ENCODER_ID,
                    dir.display()
                ),
            ),
        };
        Check { name: "classifier", status, detail }
    }
}

/// What `classifier fit-difficulty` made, for its report.
#[derive(Debug, Clone, Serialize)]
pub struct DifficultyReport {
    pub models: usize,
    pub tasks: usize,
    pub outcomes: usize,
    /// The cross-validated residual of the text → difficulty regression (logits).
    pub residual_sd: f32,
    /// Each model's fitted ability and its pass rate on these tasks.
    pub abilities: Vec<(String, f32, f64)>,
    pub exported: Option<std::path::PathBuf>,
}

impl App {
    /// Fits prompt difficulty once from many models' outcomes on a dataset's tasks (item response: one ability
    /// per model, one difficulty per task, then the task text → difficulty regression), and writes
    /// `difficulty.json` to `export` (the shipped one is `resources/classifier/difficulty.json`).
    pub fn fit_difficulty(
        &self,
        outcomes: &std::path::Path,
        dataset: &str,
        export: Option<&std::path::Path>,
    ) -> Result<DifficultyReport> {
        let _span = tracing::info_span!("fit_difficulty", dataset).entered();
        let rows = complexitynet_classifier::ability::read_outcomes(outcomes)?;
        let tasks = self.with_store(|s| Ok(complexitynet_engine::dataset::all_tasks(s, dataset)?))?;
        let prompts: std::collections::HashMap<&str, &str> =
            tasks.iter().map(|t| (t.task_id.as_str(), t.prompt.as_str())).collect();
        if let Some(o) = rows.iter().find(|o| !prompts.contains_key(o.task.as_str())) {
            return Err(AppError::invalid(format!(
                "{} names task {} that dataset {dataset:?} does not have",
                outcomes.display(),
                o.task
            )));
        }
        let rasch = complexitynet_classifier::ability::fit_rasch(&rows);
        let fitted: Vec<(String, f64)> =
            rasch.tasks.iter().zip(&rasch.difficulties).map(|(t, b)| (prompts[t.as_str()].to_owned(), *b)).collect();
        let bytes = std::fs::read(outcomes).map_err(|e| AppError::internal(e.to_string()))?;
        let sha = {
            use sha2::Digest;
            format!("{:x}", sha2::Sha256::digest(&bytes))
        };
        let file = outcomes.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let source = format!(
            "{} models × {} {dataset} tasks from {file} (SHA-256 {})",
            rasch.models.len(),
            rasch.tasks.len(),
            &sha[..16]
        );
        let model = complexitynet_classifier::ability::DifficultyModel::fit(&fitted, &rasch, dataset, source, 5, 0);
        let mut exported = None;
        if let Some(dir) = export {
            std::fs::create_dir_all(dir).map_err(|e| AppError::internal(format!("{}: {e}", dir.display())))?;
            let path = dir.join("difficulty.json");
            let json = serde_json::to_string(&model).map_err(|e| AppError::internal(e.to_string()))?;
            std::fs::write(&path, json + "\n").map_err(|e| AppError::internal(format!("{}: {e}", path.display())))?;
            exported = Some(path);
        }
        let rate = |m: &str| {
            let mine: Vec<bool> = rows.iter().filter(|o| o.model == m).map(|o| o.passed).collect();
            mine.iter().filter(|p| **p).count() as f64 / mine.len().max(1) as f64
        };
        Ok(DifficultyReport {
            models: rasch.models.len(),
            tasks: rasch.tasks.len(),
            outcomes: rows.len(),
            residual_sd: model.residual_sd,
            abilities: model.abilities.iter().map(|(m, a)| (m.clone(), *a, rate(m))).collect(),
            exported,
        })
    }
}

/// The active classifier's id (the shipped default until the user activates another).
pub(crate) fn active_id(store: &Store) -> Result<String> {
    Ok(complexitynet_engine::classifiers::active(store)?.unwrap_or_else(|| artifact::BUILTIN_ID.into()))
}

/// A classifier's metadata and folder (none for the shipped one).
pub(crate) fn stored(store: &Store, id: &str) -> Result<(Meta, Option<PathBuf>)> {
    if id == artifact::BUILTIN_ID {
        return Ok((artifact::builtin(), None));
    }
    let (meta, dir) = complexitynet_engine::classifiers::get(store, id)?
        .ok_or_else(|| complexitynet_classifier::ClassifierError::Unknown(id.to_owned()))?;
    Ok((artifact::parse_meta(id, &meta)?, Some(PathBuf::from(dir))))
}

/// Every classifier, the shipped one first, newest next; `active` marks the one in use.
fn list(store: &Store) -> Result<Vec<Meta>> {
    let active = active_id(store)?;
    let mut out = vec![artifact::builtin()];
    // A row whose metadata no longer parses (written by another version) is left out, not an error.
    out.extend(
        complexitynet_engine::classifiers::metas(store)?.iter().filter_map(|m| serde_json::from_str::<Meta>(m).ok()),
    );
    for m in &mut out {
        m.active = m.id == active;
    }
    Ok(out)
}

/// Removes a stored classifier (not the shipped one) with its files; if it was active, the shipped one takes
/// over.
fn remove(store: &Store, id: &str) -> Result<()> {
    let (meta, dir) = stored(store, id)?;
    artifact::removable(&meta)?;
    if active_id(store)? == id {
        complexitynet_engine::classifiers::set_active(store, None)?;
    }
    complexitynet_engine::classifiers::delete(store, id)?;
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    Ok(())
}

/// The labeled (complete, not dropped) tasks of a label run, with their prompts from the run's dataset.
pub fn labeled_set(store: &Store, name: &str) -> Result<LabeledSet> {
    let summary = complexitynet_engine::runs::summary(store, name)?;
    let tasks = complexitynet_engine::dataset::all_tasks(store, &summary.dataset)?;
    let prompts: std::collections::HashMap<String, (String, Vec<String>)> =
        tasks.into_iter().map(|t| (t.task_id, (t.prompt, t.asserts))).collect();
    let mut examples = Vec::new();
    for row in summary.labels {
        let (Some(level), Some((prompt, asserts))) = (row.level, prompts.get(&row.task_id)) else { continue };
        examples.push(Example {
            task_id: row.task_id,
            prompt: prompt.clone(),
            level,
            counts: row.counts,
            trials: row.trials,
            asserts: asserts.clone(),
        });
    }
    Ok(LabeledSet {
        source: name.to_owned(),
        levels: complexitynet_classifier::data::rule_levels(&summary.rule, summary.config.tiers.len()),
        rule: summary.rule,
        examples,
        tiers: summary.config.tiers,
    })
}

/// The personal labels from the chat's verified and marked answers.
fn personal_set(tiers: &[String], outcomes: &[complexitynet_engine::conversations::ChatOutcome]) -> LabeledSet {
    let evidence: Vec<ChatEvidence> = outcomes
        .iter()
        .map(|o| ChatEvidence {
            id: o.id,
            prompt: o.prompt.clone(),
            steps: o.steps.iter().map(|s| (s.tier.clone(), s.passed)).collect(),
            tier: o.tier.clone(),
            feedback: o.feedback.clone(),
        })
        .collect();
    LabeledSet::from_outcomes(tiers, &evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_feedback_becomes_a_personal_labeled_set() {
        use complexitynet_engine::conversations::{self as chat, ChatMessage, ChatRoute};
        use complexitynet_verify::judge::{Verification, VerifiedStep};
        let personal = |store: &complexitynet_engine::store::Store| {
            let tiers: Vec<String> =
                complexitynet_engine::tiers::tiers(store).unwrap().into_iter().map(|t| t.name).collect();
            personal_set(&tiers, &chat::outcomes(store).unwrap())
        };
        let dir = tempfile::tempdir().unwrap();
        let store = complexitynet_engine::open(&dir.path().join("db.sqlite3")).unwrap();
        let c = chat::create(&store, "x").unwrap();
        let ask = |prompt: &str, tier: &str, feedback: &str| {
            chat::add(
                &store,
                &ChatMessage { conversation_id: c, role: "user".into(), content: prompt.into(), ..Default::default() },
            )
            .unwrap();
            let a = chat::add(
                &store,
                &ChatMessage {
                    conversation_id: c,
                    role: "assistant".into(),
                    content: "…".into(),
                    tier: Some(tier.into()),
                    ..Default::default()
                },
            )
            .unwrap();
            chat::set_feedback(&store, a.id, Some(feedback)).unwrap();
        };
        ask("reverse a string", "local", "worked");
        ask("edit distance", "local", "failed");
        ask("edit distance", "mid", "worked");
        ask("n-queens", "top", "down");
        let set = personal(&store);
        let got: Vec<(&str, u32)> = set.examples.iter().map(|e| (e.prompt.as_str(), e.level)).collect();
        assert_eq!(got, vec![("edit distance", 1), ("reverse a string", 0)], "no positive evidence: no label");
        assert_eq!(set.examples[0].trials, vec![1, 1, 0]);
        assert_eq!(set.tiers, vec!["local", "mid", "top"]);
        // An untried tier is unknown, not failed.
        assert!(set.pass_fractions()[0][2].is_nan());

        // A verified chat answer teaches without any feedback: each cascade step is an outcome of its tier.
        chat::add(
            &store,
            &ChatMessage {
                conversation_id: c,
                role: "user".into(),
                content: "add\nassert add(1, 2) == 3".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let step = |tier: &str, passed: bool| VerifiedStep {
            tier: tier.into(),
            model: "m".into(),
            verdict: if passed { "passed".into() } else { "failed at assert 0".into() },
            passed,
            cost_usd: 0.0,
        };
        let decision = serde_json::from_value(serde_json::json!({
            "level": 0, "tier": "mid", "model": "m", "probabilities": [1.0], "levels": [0], "reason": "r",
            "classifier": "c", "expected": [], "chosen": "local", "flagged": false, "available": true, "tiers": []
        }))
        .unwrap();
        let route = ChatRoute {
            decision,
            verification: Some(Verification {
                passed: true,
                tests: 1,
                checks: Vec::new(),
                steps: vec![step("local", false), step("mid", true)],
                trust: None,
            }),
        };
        chat::add(
            &store,
            &ChatMessage {
                conversation_id: c,
                role: "assistant".into(),
                content: "def add(a, b): return a + b".into(),
                tier: Some("mid".into()),
                route: Some(route),
                verified: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
        let set = personal(&store);
        let verified = set.examples.iter().find(|e| e.prompt.starts_with("add")).unwrap();
        assert_eq!(
            (verified.level, verified.counts.clone(), verified.trials.clone()),
            (1, vec![0, 1, 0], vec![1, 1, 0])
        );
    }
}
