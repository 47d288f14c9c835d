//! ComplexityNet's complexity classifier: predicts a task's level from its prompt alone.
//!
//! Every method sits behind one interface: train on a [`LabeledSet`] → a [`Model`]; `predict(prompts)` → a
//! probability per level. [`train::run`] evaluates any method on the same seeded 80/20 split and stratified
//! k folds, then fits the deployed model on all the data; [`artifact`] writes and loads the results' files (the store
//! keeps their rows), [`eval`] scores routing against the router's hull. It must not depend on SQL.

pub mod ability;
pub mod artifact;
pub mod bert;
pub mod data;
pub mod error;
pub mod eval;
pub mod features;
pub mod logistic;
pub mod metrics;
pub mod neural;
pub mod openai;
pub mod passrate;
pub mod split;
pub mod tfidf;
pub mod train;
pub mod zeroshot;

#[doc(hidden)]
pub mod testing;

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use complexitynet_providers::CancellationToken;

pub use data::{Example, LabeledSet};
pub use error::{ClassifierError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
pub enum Method {
    #[serde(rename = "zero-shot")]
    ZeroShot,
    #[serde(rename = "tfidf")]
    Tfidf,
    #[serde(rename = "head")]
    Head,
    #[serde(rename = "finetune")]
    Finetune,
    #[serde(rename = "openai")]
    OpenAi,
    /// Per-tier pass probabilities (what the cost dial routes on); the level is derived from them.
    #[serde(rename = "pass")]
    Pass,
}

impl Method {
    pub const ALL: [Method; 6] =
        [Method::ZeroShot, Method::Tfidf, Method::Head, Method::Finetune, Method::OpenAi, Method::Pass];

    pub fn name(self) -> &'static str {
        match self {
            Method::ZeroShot => "zero-shot",
            Method::Tfidf => "tfidf",
            Method::Head => "head",
            Method::Finetune => "finetune",
            Method::OpenAi => "openai",
            Method::Pass => "pass",
        }
    }

    pub fn parse(s: &str) -> Result<Method> {
        Method::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            ClassifierError::Invalid(format!("unknown method {s:?} (pass, tfidf, head, finetune, zero-shot or openai)"))
        })
    }

    /// Whether it needs the sentence encoder.
    pub fn uses_encoder(self) -> bool {
        matches!(self, Method::Head | Method::Finetune)
    }
}

/// A trained classifier, ready to predict.
pub enum Model {
    Tfidf(tfidf::Tfidf),
    /// A head on an encoder: the frozen pretrained one (`head`) or a fine-tuned one (`finetune`).
    Encoder {
        encoder: Arc<bert::Encoder>,
        head: neural::Head,
    },
    ZeroShot(Arc<zeroshot::ZeroShot>),
    OpenAi {
        client: Arc<openai::FineTuneClient>,
        model: String,
    },
    /// Per-tier pass probabilities, with the rule that turns them into a level.
    Pass {
        model: passrate::PassModel,
        rule: complexitynet_router::label::Rule,
    },
}

impl Model {
    /// Each tier's probability of passing, for a model that predicts it (the `pass` method); None for the
    /// level-only methods (the router then derives it from the level probabilities and the run's pass rates).
    pub fn tier_pass(&self, prompt: &str) -> Option<Vec<f32>> {
        match self {
            Model::Pass { model, .. } => Some(model.predict(prompt)),
            _ => None,
        }
    }

    /// A probability per level (in the classifier's level order) for each prompt.
    pub async fn predict(&self, levels: &[u32], prompts: &[&str], cancel: &CancellationToken) -> Result<Vec<Vec<f32>>> {
        match self {
            Model::Tfidf(m) => Ok(prompts.iter().map(|p| m.predict(p)).collect()),
            Model::Pass { model, rule } => Ok(prompts
                .iter()
                .map(|p| passrate::level_distribution(rule, levels, &model.predict(p), model.trials))
                .collect()),
            Model::Encoder { encoder, head } => neural::predict_rows(head, &encoder.embed(prompts)?),
            Model::ZeroShot(z) => {
                let mut out = Vec::with_capacity(prompts.len());
                for p in prompts {
                    out.push(z.predict_one(p, cancel).await?);
                }
                Ok(out)
            }
            Model::OpenAi { client, model } => {
                let mut out = Vec::with_capacity(prompts.len());
                for p in prompts {
                    if cancel.is_cancelled() {
                        return Err(ClassifierError::Cancelled);
                    }
                    out.push(client.classify(model, levels, p, cancel).await?);
                }
                Ok(out)
            }
        }
    }
}
