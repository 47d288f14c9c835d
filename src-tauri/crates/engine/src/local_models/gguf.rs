//! A reader for GGUF headers: validates the file and reads the metadata a user needs before loading a model
//! (name, architecture, parameter count, quantisation, context length, chat template) plus what a memory
//! estimate needs. It reads only the header and tensor table, never the weights.

use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i128),
    Float(f64),
    Bool(bool),
    Str(String),
    /// Arrays are counted, not kept (a vocabulary has 250K entries).
    Array(u64),
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GgufInfo {
    pub version: u32,
    pub name: Option<String>,
    pub architecture: String,
    pub parameters: u64,
    pub quantization: String,
    pub context_length: Option<u64>,
    pub has_chat_template: bool,
    /// The template itself (what the local tier reads to know whether the model calls tools); not printed.
    #[serde(skip)]
    pub chat_template: Option<String>,
    pub block_count: Option<u64>,
    pub embedding_length: Option<u64>,
    pub head_count: Option<u64>,
    pub head_count_kv: Option<u64>,
    pub file_bytes: u64,
}

impl GgufInfo {
    /// Bytes needed to run with a context of `n_ctx` tokens: the weights (mmapped) plus an f16 KV cache.
    pub fn memory_estimate(&self, n_ctx: u64) -> u64 {
        let (layers, embd) = (self.block_count.unwrap_or(0), self.embedding_length.unwrap_or(0));
        let heads = self.head_count.unwrap_or(1).max(1);
        let kv_heads = self.head_count_kv.unwrap_or(heads);
        let kv = 2 * n_ctx * layers * (embd / heads * kv_heads) * 2;
        self.file_bytes + kv + 64 * 1024 * 1024 // compute buffers and the runtime itself
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("{path}: not a GGUF model file (it starts with {magic:?}, not \"GGUF\")")]
    NotGguf { path: String, magic: String },
    #[error("{path}: unsupported GGUF version {version}")]
    Version { path: String, version: u32 },
    #[error("{path}: the GGUF header is truncated or corrupt ({why})")]
    Corrupt { path: String, why: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

struct R<T: Read> {
    r: T,
}

impl<T: Read> R<T> {
    fn bytes<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        let mut b = [0u8; N];
        self.r.read_exact(&mut b)?;
        Ok(b)
    }
    fn u32(&mut self) -> std::io::Result<u32> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }
    fn u64(&mut self) -> std::io::Result<u64> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }
    fn string(&mut self) -> std::io::Result<String> {
        let len = self.u64()?;
        if len > 1 << 26 {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("a {len}-byte string")));
        }
        let mut b = vec![0u8; len as usize];
        self.r.read_exact(&mut b)?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        std::io::copy(&mut (&mut self.r).take(n), &mut std::io::sink())?;
        Ok(())
    }
    fn value(&mut self, ty: u32) -> std::io::Result<Value> {
        Ok(match ty {
            0 => Value::Int(self.bytes::<1>()?[0] as i128),
            1 => Value::Int(self.bytes::<1>()?[0] as i8 as i128),
            2 => Value::Int(u16::from_le_bytes(self.bytes()?) as i128),
            3 => Value::Int(i16::from_le_bytes(self.bytes()?) as i128),
            4 => Value::Int(self.u32()? as i128),
            5 => Value::Int(i32::from_le_bytes(self.bytes()?) as i128),
            6 => Value::Float(f32::from_le_bytes(self.bytes()?) as f64),
            7 => Value::Bool(self.bytes::<1>()?[0] != 0),
            8 => Value::Str(self.string()?),
            9 => {
                let inner = self.u32()?;
                let n = self.u64()?;
                let width = match inner {
                    0 | 1 | 7 => Some(1),
                    2 | 3 => Some(2),
                    4..=6 => Some(4),
                    10..=12 => Some(8),
                    _ => None,
                };
                match width {
                    Some(w) => self.skip(n * w)?,
                    None => {
                        for _ in 0..n {
                            self.value(inner)?;
                        }
                    }
                }
                Value::Array(n)
            }
            10 => Value::Int(self.u64()? as i128),
            11 => Value::Int(i64::from_le_bytes(self.bytes()?) as i128),
            12 => Value::Float(f64::from_le_bytes(self.bytes()?)),
            other => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("value type {other}"))),
        })
    }
}

/// llama.cpp's `general.file_type` names.
fn file_type_name(t: i128) -> String {
    let name = match t {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        _ => return format!("type {t}"),
    };
    name.to_owned()
}

/// Reads and validates a GGUF file's header.
pub fn read(path: &Path) -> Result<GgufInfo, GgufError> {
    let p = path.display().to_string();
    let io = |source| GgufError::Io { path: p.clone(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let file_bytes = file.metadata().map_err(io)?.len();
    let mut r = R { r: BufReader::with_capacity(1 << 16, file) };
    let corrupt = |e: std::io::Error| GgufError::Corrupt { path: p.clone(), why: e.to_string() };
    let magic: [u8; 4] = r.bytes().map_err(corrupt)?;
    if &magic != b"GGUF" {
        return Err(GgufError::NotGguf { path: p.clone(), magic: String::from_utf8_lossy(&magic).into_owned() });
    }
    let version = r.u32().map_err(corrupt)?;
    if !(2..=3).contains(&version) {
        return Err(GgufError::Version { path: p.clone(), version });
    }
    let tensors = r.u64().map_err(corrupt)?;
    let kvs = r.u64().map_err(corrupt)?;
    if tensors > 1_000_000 || kvs > 1_000_000 {
        return Err(GgufError::Corrupt { path: p.clone(), why: format!("{tensors} tensors, {kvs} keys") });
    }
    let mut meta: BTreeMap<String, Value> = BTreeMap::new();
    for _ in 0..kvs {
        let key = r.string().map_err(corrupt)?;
        let ty = r.u32().map_err(corrupt)?;
        let v = r.value(ty).map_err(corrupt)?;
        meta.insert(key, v);
    }
    let mut parameters: u64 = 0;
    for _ in 0..tensors {
        r.string().map_err(corrupt)?;
        let dims = r.u32().map_err(corrupt)?;
        if dims > 8 {
            return Err(GgufError::Corrupt { path: p.clone(), why: format!("a tensor with {dims} dimensions") });
        }
        let mut n: u64 = 1;
        for _ in 0..dims {
            n = n.saturating_mul(r.u64().map_err(corrupt)?);
        }
        r.u32().map_err(corrupt)?; // type
        r.u64().map_err(corrupt)?; // offset
        parameters = parameters.saturating_add(n);
    }
    let s = |k: &str| match meta.get(k) {
        Some(Value::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let architecture = s("general.architecture").unwrap_or_else(|| "unknown".into());
    let int = |k: String| match meta.get(&k) {
        Some(Value::Int(i)) if *i >= 0 => Some(*i as u64),
        _ => None,
    };
    let quantization = match meta.get("general.file_type") {
        Some(Value::Int(t)) => file_type_name(*t),
        _ => "unknown".into(),
    };
    Ok(GgufInfo {
        version,
        name: s("general.name"),
        parameters,
        quantization,
        context_length: int(format!("{architecture}.context_length")),
        has_chat_template: matches!(meta.get("tokenizer.chat_template"), Some(Value::Str(t)) if !t.is_empty()),
        chat_template: match meta.get("tokenizer.chat_template") {
            Some(Value::Str(t)) if !t.is_empty() => Some(t.clone()),
            _ => None,
        },
        block_count: int(format!("{architecture}.block_count")),
        embedding_length: int(format!("{architecture}.embedding_length")),
        head_count: int(format!("{architecture}.attention.head_count")),
        head_count_kv: int(format!("{architecture}.attention.head_count_kv")),
        architecture,
        file_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_gguf_is_refused_with_its_magic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.gguf");
        std::fs::write(&p, b"PK\x03\x04 a zip file").unwrap();
        let e = read(&p).unwrap_err();
        assert!(e.to_string().contains("not a GGUF model file"), "{e}");
        std::fs::write(&p, b"GGUF\x03\x00\x00\x00\x01").unwrap();
        assert!(matches!(read(&p), Err(GgufError::Corrupt { .. })));
    }
}
