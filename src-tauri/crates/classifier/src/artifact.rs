//! Stored classifiers: each one a folder under `<data dir>/classifiers/<id>/` (the head as safetensors, or the
//! TF-IDF model as JSON, a fine-tuned encoder's weights, and `meta.json`); the store keeps a row for each and
//! which one is active (`complexitynet_engine::classifiers`, joined to these files by the application core); a default classifier ships inside the app (a 3 × 384 head and its metadata, built by
//! `complexitynet train` from the replayed paper labels), so routing works on first launch.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use complexitynet_providers::CancellationToken;
use complexitynet_router::label::Rule;

use crate::bert::{self, Encoder};
use crate::error::{ClassifierError, Result};
use crate::metrics::argmax;
use crate::neural::Head;
use crate::openai::FineTuneClient;
use crate::train::{Outcome, Report};
use crate::zeroshot::ZeroShot;
use crate::{Method, Model};

/// The shipped classifier's id.
pub const BUILTIN_ID: &str = "default";
const BUILTIN_META: &str = include_str!("../../../../resources/classifier/meta.json");
/// The shipped per-tier pass model (TF-IDF vocabularies and weights: no encoder to fetch before the first route).
const BUILTIN_PASS: &str = include_str!("../../../../resources/classifier/pass.json");

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct EncoderRef {
    pub id: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "ClassifierMeta")]
pub struct Meta {
    pub id: String,
    pub method: Method,
    /// The label run the classifier learned from.
    pub labels: String,
    pub rule: Rule,
    pub levels: Vec<u32>,
    pub encoder: Option<EncoderRef>,
    pub training_hash: String,
    /// Unix seconds.
    pub created: u64,
    pub report: Report,
    /// Zero-shot: the tier that rates.
    #[serde(default)]
    pub tier: Option<String>,
    /// OpenAI: the fine-tuned model that classifies.
    #[serde(default)]
    pub fine_tuned_model: Option<String>,
    #[serde(default)]
    pub builtin: bool,
    /// Filled in when classifiers are listed.
    #[serde(default)]
    pub active: bool,
}

fn root(data_dir: &Path) -> PathBuf {
    data_dir.join("classifiers")
}

fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 80
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !id.starts_with('.');
    if !ok || id == BUILTIN_ID {
        return Err(ClassifierError::Invalid(format!(
            "{id:?} cannot name a classifier (letters, digits, '-', '_', '.'; not {BUILTIN_ID:?})"
        )));
    }
    Ok(())
}

/// A fresh id: `<labels>-<method>-<unix seconds>`.
pub fn new_id(labels: &str, method: Method) -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let clean: String =
        labels.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' }).collect();
    format!("{clean}-{}-{secs}", method.name())
}

/// Writes a trained classifier's files under `id` (replacing one of that id) and returns its metadata and folder;
/// the caller records the row. The files are written to a temporary folder and renamed into place, so a crash
/// leaves either the old classifier or the new one.
pub fn save(data_dir: &Path, id: &str, outcome: &Outcome, tier: Option<String>) -> Result<(Meta, PathBuf)> {
    check_id(id)?;
    let io = |what: &str, e| ClassifierError::io(what.to_owned(), e);
    let root = root(data_dir);
    std::fs::create_dir_all(&root).map_err(|e| io("creating the classifiers folder", e))?;
    let tmp = root.join(format!(".{id}.tmp"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| io("creating the classifier folder", e))?;
    let r = &outcome.report;
    let mut encoder = None;
    match &outcome.model {
        Model::Tfidf(m) => {
            let json = serde_json::to_vec(m).map_err(|e| ClassifierError::Invalid(e.to_string()))?;
            std::fs::write(tmp.join("tfidf.json"), json).map_err(|e| io("writing tfidf.json", e))?;
        }
        Model::Encoder { encoder: enc, head } => {
            head.save(&tmp.join("head.safetensors"))?;
            if r.method == Method::Finetune {
                enc.save_weights(&tmp.join("encoder.safetensors"))?;
            }
            encoder = Some(EncoderRef { id: bert::ENCODER_ID.into(), sha256: enc.sha256.clone() });
        }
        Model::Pass { model, .. } => {
            let json = serde_json::to_vec(model).map_err(|e| ClassifierError::Invalid(e.to_string()))?;
            std::fs::write(tmp.join("pass.json"), json).map_err(|e| io("writing pass.json", e))?;
        }
        Model::ZeroShot(_) | Model::OpenAi { .. } => {}
    }
    let meta = Meta {
        id: id.to_owned(),
        method: r.method,
        labels: r.source.clone(),
        rule: r.rule.clone(),
        levels: r.levels.clone(),
        encoder,
        training_hash: r.training_hash.clone(),
        created: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        report: r.clone(),
        tier,
        fine_tuned_model: outcome.fine_tuned_model.clone(),
        builtin: false,
        active: false,
    };
    let meta_json = serde_json::to_string_pretty(&meta).map_err(|e| ClassifierError::Invalid(e.to_string()))?;
    std::fs::write(tmp.join("meta.json"), &meta_json).map_err(|e| io("writing meta.json", e))?;
    let dir = root.join(id);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&tmp, &dir).map_err(|e| io("moving the classifier into place", e))?;
    Ok((meta, dir))
}

/// The shipped default's metadata.
pub fn builtin() -> Meta {
    let mut m: Meta = serde_json::from_str(BUILTIN_META).expect("the shipped classifier's meta.json parses");
    m.id = BUILTIN_ID.into();
    m.builtin = true;
    m
}

/// A stored classifier's metadata, from its row's JSON.
pub fn parse_meta(id: &str, json: &str) -> Result<Meta> {
    serde_json::from_str(json).map_err(|e| ClassifierError::Invalid(format!("{id}: {e}")))
}

/// Whether a classifier may be removed (the shipped one may not).
pub fn removable(meta: &Meta) -> Result<()> {
    if meta.builtin {
        return Err(ClassifierError::Invalid("the shipped classifier cannot be removed".into()));
    }
    Ok(())
}

/// What loading may need beyond the files: the encoder folder, and for the LLM-backed methods their clients
/// (built by the caller from the tier or key the metadata names).
#[derive(Default)]
pub struct LoadContext {
    pub encoder_dir: PathBuf,
    pub zero_shot: Option<Arc<ZeroShot>>,
    pub openai: Option<Arc<FineTuneClient>>,
}

/// A loaded classifier.
pub struct Classifier {
    pub meta: Meta,
    pub model: Model,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Prediction {
    pub level: u32,
    pub probabilities: Vec<f32>,
    pub levels: Vec<u32>,
    pub classifier: String,
    /// Each tier's probability of passing: predicted by the `pass` method, else derived from the level
    /// probabilities and the label run's pass rate of each tier on each level.
    pub tier_pass: Vec<f32>,
}

fn encoder_for(meta: &Meta, ctx: &LoadContext, weights: Option<&Path>) -> Result<Encoder> {
    let enc = match weights {
        Some(w) => Encoder::load_with_weights(&ctx.encoder_dir, w)?,
        None => Encoder::load(&ctx.encoder_dir)?,
    };
    if let (Some(want), None) = (&meta.encoder, weights) {
        if want.sha256 != enc.sha256 {
            return Err(ClassifierError::EncoderMissing(format!(
                "classifier {} was trained on encoder weights {}…, but {} holds {}…; fetch the right encoder with \
                 `complexitynet classifier fetch-encoder`",
                meta.id,
                &want.sha256[..12],
                ctx.encoder_dir.display(),
                &enc.sha256[..12.min(enc.sha256.len())]
            )));
        }
    }
    Ok(enc)
}

pub fn load(meta: Meta, dir: Option<&Path>, ctx: &LoadContext) -> Result<Classifier> {
    let read = |name: &str| -> Result<Vec<u8>> {
        let d = dir.ok_or_else(|| ClassifierError::Invalid(format!("classifier {} has no files", meta.id)))?;
        std::fs::read(d.join(name)).map_err(|e| ClassifierError::io(format!("reading {}", d.join(name).display()), e))
    };
    let model = match meta.method {
        Method::Tfidf => Model::Tfidf(
            serde_json::from_slice(&read("tfidf.json")?).map_err(|e| ClassifierError::Invalid(e.to_string()))?,
        ),
        Method::Head => {
            let head = Head::from_bytes(&read("head.safetensors")?)?;
            Model::Encoder { encoder: Arc::new(encoder_for(&meta, ctx, None)?), head }
        }
        Method::Pass => {
            let json = if meta.builtin { BUILTIN_PASS.as_bytes().to_vec() } else { read("pass.json")? };
            Model::Pass {
                model: serde_json::from_slice(&json)
                    .map_err(|e| ClassifierError::Invalid(format!("pass.json: {e}")))?,
                rule: meta.rule.clone(),
            }
        }
        Method::Finetune => {
            let d = dir.ok_or_else(|| ClassifierError::Invalid("a fine-tuned classifier has files".into()))?;
            let encoder = encoder_for(&meta, ctx, Some(&d.join("encoder.safetensors")))?;
            Model::Encoder { encoder: Arc::new(encoder), head: Head::from_bytes(&read("head.safetensors")?)? }
        }
        Method::ZeroShot => Model::ZeroShot(ctx.zero_shot.clone().ok_or_else(|| {
            ClassifierError::Invalid(format!(
                "classifier {} asks tier {:?}, which is not available",
                meta.id, meta.tier
            ))
        })?),
        Method::OpenAi => Model::OpenAi {
            client: ctx
                .openai
                .clone()
                .ok_or_else(|| ClassifierError::Invalid(format!("classifier {} needs the OpenAI provider", meta.id)))?,
            model: meta
                .fine_tuned_model
                .clone()
                .ok_or_else(|| ClassifierError::Invalid("no fine-tuned model".into()))?,
        },
    };
    Ok(Classifier { meta, model })
}

impl Classifier {
    pub async fn classify(&self, prompt: &str, cancel: &CancellationToken) -> Result<Prediction> {
        let probabilities = self.model.predict(&self.meta.levels, &[prompt], cancel).await?.remove(0);
        let tier_pass = match self.model.tier_pass(prompt) {
            Some(p) => p,
            None => {
                let success = &self.meta.report.tier_success;
                let k = success.first().map(Vec::len).unwrap_or(0);
                complexitynet_router::expected_success(&probabilities, success, k)
                    .into_iter()
                    .map(|x| x as f32)
                    .collect()
            }
        };
        Ok(Prediction {
            level: self.meta.levels[argmax(&probabilities)],
            probabilities,
            levels: self.meta.levels.clone(),
            classifier: self.meta.id.clone(),
            tier_pass,
        })
    }
}
