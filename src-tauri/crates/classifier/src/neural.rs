//! The encoder methods: a linear head on frozen sentence embeddings (seconds), and full fine-tuning of encoder
//! and head (minutes on a laptop CPU). Both use class-weighted cross-entropy, since the levels are imbalanced
//! (on the replayed paper labels the largest class is 3.7× the smallest).

use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use complexitynet_providers::CancellationToken;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

use crate::bert::Encoder;
use crate::error::{ClassifierError, Result};
use crate::split::Rng;

/// One epoch's figures, for progress bars and the Fine-tune tab's live chart.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "EpochReport")]
pub struct Epoch {
    pub epoch: usize,
    pub epochs: usize,
    pub loss: f64,
    pub train_accuracy: f64,
    /// Accuracy on the held-out part when the caller gave one (reported, never used to pick the model).
    pub held_out_accuracy: Option<f64>,
}

/// A linear classification head: logits = x·Wᵀ + b.
pub struct Head {
    pub w: Tensor,
    pub b: Tensor,
}

impl Head {
    pub fn zeros(k: usize, hidden: usize) -> Result<(Head, Vec<Var>)> {
        let w = Var::zeros((k, hidden), DType::F32, &Device::Cpu)?;
        let b = Var::zeros(k, DType::F32, &Device::Cpu)?;
        Ok((Head { w: w.as_tensor().clone(), b: b.as_tensor().clone() }, vec![w, b]))
    }

    /// A trainable copy of this head.
    pub fn trainable(&self) -> Result<(Head, Vec<Var>)> {
        let w = Var::from_tensor(&self.w.copy()?)?;
        let b = Var::from_tensor(&self.b.copy()?)?;
        Ok((Head { w: w.as_tensor().clone(), b: b.as_tensor().clone() }, vec![w, b]))
    }

    pub fn logits(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.matmul(&self.w.t()?)?.broadcast_add(&self.b)?)
    }

    pub fn probabilities(&self, x: &Tensor) -> Result<Vec<Vec<f32>>> {
        Ok(candle_nn::ops::softmax(&self.logits(x)?, D::Minus1)?.to_vec2::<f32>()?)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let map: HashMap<String, Tensor> =
            [("head.weight".to_owned(), self.w.clone()), ("head.bias".to_owned(), self.b.clone())].into();
        candle_core::safetensors::save(&map, path)?;
        Ok(())
    }

    pub fn load(path: &Path) -> Result<Head> {
        let bytes = std::fs::read(path).map_err(|e| ClassifierError::io(format!("reading {}", path.display()), e))?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Head> {
        let mut m = candle_core::safetensors::load_buffer(bytes, &Device::Cpu)?;
        let (Some(w), Some(b)) = (m.remove("head.weight"), m.remove("head.bias")) else {
            return Err(ClassifierError::Invalid("the head file lacks head.weight / head.bias".into()));
        };
        Ok(Head { w, b })
    }
}

fn rows(x: &[Vec<f32>]) -> Result<Tensor> {
    let h = x.first().map(Vec::len).unwrap_or(0);
    Ok(Tensor::from_vec(x.concat(), (x.len(), h), &Device::Cpu)?)
}

/// Class-weighted mean cross-entropy and the batch's correct count.
fn weighted_loss(logits: &Tensor, classes: &[usize], weights: &[f32]) -> Result<(Tensor, usize)> {
    let targets = Tensor::from_vec(classes.iter().map(|&c| c as u32).collect::<Vec<_>>(), classes.len(), &Device::Cpu)?;
    let w: Vec<f32> = classes.iter().map(|&c| weights[c]).collect();
    let wsum: f32 = w.iter().sum::<f32>().max(1e-9);
    let w = Tensor::from_vec(w, classes.len(), &Device::Cpu)?;
    let logp = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = logp.gather(&targets.unsqueeze(1)?, 1)?.squeeze(1)?;
    let loss = ((picked * w)?.sum_all()? * (-1.0 / wsum as f64))?;
    let pred = logits.argmax(D::Minus1)?.to_vec1::<u32>()?;
    let correct = pred.iter().zip(classes).filter(|(p, c)| **p as usize == **c).count();
    Ok((loss, correct))
}

fn accuracy(probs: &[Vec<f32>], classes: &[usize]) -> f64 {
    let ok = probs.iter().zip(classes).filter(|(p, &c)| crate::metrics::argmax(p) == c).count();
    ok as f64 / classes.len().max(1) as f64
}

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
pub struct HeadParams {
    /// Full-batch optimisation steps ("epochs": each sees every example once).
    pub epochs: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
}

impl Default for HeadParams {
    fn default() -> Self {
        HeadParams { epochs: 300, learning_rate: 0.05, weight_decay: 1e-3 }
    }
}

/// Trains a head on frozen embeddings. Reports every `epochs / 10` epochs (and the last).
pub fn train_head(
    x: &[Vec<f32>],
    classes: &[usize],
    k: usize,
    weights: &[f32],
    p: HeadParams,
    held_out: Option<(&[Vec<f32>], &[usize])>,
    mut progress: impl FnMut(Epoch),
) -> Result<Head> {
    let hidden = x.first().map(Vec::len).ok_or_else(|| ClassifierError::LabelsUnusable("no examples".into()))?;
    let (head, vars) = Head::zeros(k, hidden)?;
    let xt = rows(x)?;
    let held = held_out.map(|(hx, hc)| rows(hx).map(|t| (t, hc))).transpose()?;
    let mut opt =
        AdamW::new(vars, ParamsAdamW { lr: p.learning_rate, weight_decay: p.weight_decay, ..Default::default() })?;
    let every = (p.epochs / 10).max(1);
    for epoch in 1..=p.epochs {
        let (loss, correct) = weighted_loss(&head.logits(&xt)?, classes, weights)?;
        opt.backward_step(&loss)?;
        if epoch % every == 0 || epoch == p.epochs {
            let held_out_accuracy = match &held {
                Some((t, c)) => Some(accuracy(&head.probabilities(t)?, c)),
                None => None,
            };
            progress(Epoch {
                epoch,
                epochs: p.epochs,
                loss: loss.to_scalar::<f32>()? as f64,
                train_accuracy: correct as f64 / classes.len() as f64,
                held_out_accuracy,
            });
        }
    }
    Ok(Head { w: head.w.detach(), b: head.b.detach() })
}

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
pub struct FinetuneParams {
    pub epochs: usize,
    pub batch: usize,
    pub encoder_lr: f64,
    pub head_lr: f64,
    pub seed: u64,
    /// Also train the token embedding table (half the encoder's parameters; slower, and with a few hundred
    /// prompts it mostly memorises).
    #[serde(default)]
    pub token_table: bool,
}

impl Default for FinetuneParams {
    fn default() -> Self {
        FinetuneParams { epochs: 3, batch: 16, encoder_lr: 3e-5, head_lr: 2e-3, seed: 0, token_table: false }
    }
}

/// Fine-tunes encoder and head together, starting the head from a frozen-encoder fit (so the first epochs
/// refine a sensible classifier instead of back-propagating noise into the encoder). `encoder` must have been
/// loaded trainable with its variables in `encoder_vars`.
#[allow(clippy::too_many_arguments)]
pub fn finetune(
    encoder: &Encoder,
    encoder_vars: Vec<Var>,
    start: &Head,
    texts: &[&str],
    classes: &[usize],
    weights: &[f32],
    p: FinetuneParams,
    held_out: Option<(&[&str], &[usize])>,
    cancel: &CancellationToken,
    mut progress: impl FnMut(Epoch),
) -> Result<Head> {
    let (head, head_vars) = start.trainable()?;
    let mut enc_opt =
        AdamW::new(encoder_vars, ParamsAdamW { lr: p.encoder_lr, weight_decay: 0.01, ..Default::default() })?;
    let mut head_opt = AdamW::new(head_vars, ParamsAdamW { lr: p.head_lr, weight_decay: 1e-3, ..Default::default() })?;
    let mut order: Vec<usize> = (0..texts.len()).collect();
    let mut rng = Rng::new(p.seed);
    for epoch in 1..=p.epochs {
        rng.shuffle(&mut order);
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0, 0);
        for batch in order.chunks(p.batch.max(1)) {
            if cancel.is_cancelled() {
                return Err(ClassifierError::Cancelled);
            }
            let bt: Vec<&str> = batch.iter().map(|&i| texts[i]).collect();
            let bc: Vec<usize> = batch.iter().map(|&i| classes[i]).collect();
            let (ids, mask) = encoder.tokenize(&bt)?;
            let emb = encoder.forward(&ids, &mask, true)?;
            let (loss, ok) = weighted_loss(&head.logits(&emb)?, &bc, weights)?;
            let grads = loss.backward()?;
            enc_opt.step(&grads)?;
            head_opt.step(&grads)?;
            loss_sum += loss.to_scalar::<f32>()? as f64 * batch.len() as f64;
            correct += ok;
            seen += batch.len();
        }
        let held_out_accuracy = match held_out {
            Some((ht, hc)) => {
                let e = rows(&encoder.embed(ht)?)?;
                Some(accuracy(&head.probabilities(&e)?, hc))
            }
            None => None,
        };
        progress(Epoch {
            epoch,
            epochs: p.epochs,
            loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            held_out_accuracy,
        });
    }
    Ok(Head { w: head.w.detach(), b: head.b.detach() })
}

/// Probabilities for embeddings.
pub fn predict_rows(head: &Head, x: &[Vec<f32>]) -> Result<Vec<Vec<f32>>> {
    head.probabilities(&rows(x)?)
}
