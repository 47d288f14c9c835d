//! Local model management on real GGUF files (SmolLM2-135M-Instruct and Gemma 3 270M from their PyPI wheels,
//! fetched by scripts/fetch-models.sh): header validation and metadata, registration, the catalog.

use complexitynet_engine::local_models::{self as models, gguf};
use complexitynet_verify::testing::test_models as models_dir;

#[test]
fn the_gguf_header_of_smollm2_describes_it() {
    let info = gguf::read(&models_dir().join("SmolLM2-135M-Instruct.Q4_1.gguf")).unwrap();
    assert_eq!((info.architecture.as_str(), info.quantization.as_str()), ("llama", "Q4_1"));
    assert!((134_000_000..=135_000_000).contains(&info.parameters), "{}", info.parameters);
    assert_eq!(info.context_length, Some(8192));
    assert!(info.has_chat_template);
    assert_eq!(info.embedding_length, Some(576));
    let mem = info.memory_estimate(2048);
    assert!(mem > info.file_bytes && mem < info.file_bytes + 200 * 1024 * 1024, "{mem}");
}

#[test]
fn the_gguf_header_of_gemma_has_no_chat_template() {
    let info = gguf::read(&models_dir().join("gemma-3-270m-q4_k_m.gguf")).unwrap();
    assert_eq!((info.architecture.as_str(), info.quantization.as_str()), ("gemma3", "Q4_K_M"));
    assert!((260_000_000..=275_000_000).contains(&info.parameters), "{}", info.parameters);
    assert_eq!(info.context_length, Some(32768));
    assert!(!info.has_chat_template);
}

#[test]
fn a_model_is_registered_by_path_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let store = complexitynet_engine::open(&dir.path().join("db")).unwrap();
    let row =
        models::add(&store, &models_dir().join("SmolLM2-135M-Instruct.Q4_1.gguf"), Some("smollm2"), "file").unwrap();
    assert_eq!((row.name.as_str(), row.architecture.as_str()), ("smollm2", "llama"));
    assert_eq!(models::list(&store).unwrap().len(), 1);
    let bad = dir.path().join("fake.gguf");
    std::fs::write(&bad, b"not a model").unwrap();
    let err = models::add(&store, &bad, None, "file").unwrap_err();
    assert!(err.to_string().contains("not a GGUF model file"), "{err}");
    assert_eq!(models::list(&store).unwrap().len(), 1, "an invalid file is not registered");
}

#[test]
fn the_catalog_has_the_papers_local_model_with_size_and_checksum_and_published_scores() {
    let c = models::catalog();
    let m = &c["codellama-7b-instruct.Q4_K_M"];
    assert!(m.url.ends_with("codellama-7b-instruct.Q4_K_M.gguf") && m.url.starts_with("https://"));
    assert_eq!(m.sha256.as_deref().map(str::len), Some(64));
    assert!(m.size.unwrap() > 4_000_000_000);
    // The stronger local tiers, Apache-2.0, with their published pass@1 and its source.
    for (name, humaneval) in
        [("qwen2.5-coder-1.5b-instruct.Q4_K_M", 0.707), ("qwen2.5-coder-7b-instruct.Q4_K_M", 0.884)]
    {
        let q = &c[name];
        assert_eq!(q.license, "Apache-2.0");
        assert!(q.url.starts_with("https://huggingface.co/Qwen/"), "{}", q.url);
        let he = q.scores.iter().find(|s| s.benchmark == "HumanEval").unwrap();
        assert_eq!(he.pass_at_1, humaneval);
        assert!(he.source.contains("arXiv:2409.12186"), "{}", he.source);
        assert!(q.scores.iter().any(|s| s.benchmark == "MBPP"));
    }
    // Every catalog entry says either both figures or neither (then the first download pins them).
    for (name, m) in &c {
        assert_eq!(m.size.is_some(), m.sha256.is_some(), "{name}");
    }
}
