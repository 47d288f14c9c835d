//! Downloads from a loopback server that misbehaves (drops the connection, answers an error status, serves
//! wrong bytes): size and SHA-256 checked, progress reported, a dropped connection resumed with a Range request
//! (within a run, and across runs for models), a partial file kept on a checksum mismatch.

use complexitynet_errors::ErrorCode;
use complexitynet_providers::download::{fetch, DownloadError, FetchRequest};
use complexitynet_providers::testing::{Behavior, FileServer};
use complexitynet_verify::testing::{shared_data, test_models as models_dir};
use std::path::PathBuf;
use std::time::Duration;

const SMOL_SHA: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

fn mbpp() -> PathBuf {
    shared_data().join("mbpp.jsonl")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn mbpp_request(url: String, dest: PathBuf) -> FetchRequest {
    let mut req = FetchRequest::new(url, dest);
    req.expected_size = Some(563_537);
    req.expected_sha256 = Some("0b7004a79cd62d9ec7ecdd5a6e5f0ef1210ff00b286df3c5d5b57bf38c58e19a".into());
    req.backoff = Duration::from_millis(20);
    req
}

#[test]
fn a_download_checks_size_and_checksum_and_reports_progress() {
    let server = FileServer::start(std::fs::read(mbpp()).unwrap(), Behavior::Serve);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("mbpp.jsonl");
    let seen = std::sync::Mutex::new(Vec::new());
    let out = rt()
        .block_on(fetch(&mbpp_request(server.url("mbpp.jsonl"), dest.clone()), &|p| seen.lock().unwrap().push(p)))
        .unwrap();
    assert_eq!((out.bytes, out.attempts), (563_537, 1));
    assert_eq!(std::fs::read(&dest).unwrap(), std::fs::read(mbpp()).unwrap());
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() > 2, "progress must be reported as bytes arrive, got {seen:?}");
    assert_eq!(seen.last().unwrap().received, 563_537);
    assert!(seen.windows(2).all(|w| w[0].received <= w[1].received));
}

#[test]
fn a_connection_dropped_every_time_fails_cleanly_and_leaves_no_file() {
    let server = FileServer::start(std::fs::read(mbpp()).unwrap(), Behavior::DropAfter(200_000));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("mbpp.jsonl");
    let err = rt().block_on(fetch(&mbpp_request(server.url("mbpp.jsonl"), dest.clone()), &|_| {})).unwrap_err();
    assert!(matches!(err, DownloadError::Interrupted { attempts: 4, .. }), "{err}");
    assert_eq!(err.code(), ErrorCode::DownloadFailed);
    assert!(err.to_string().contains("interrupted"), "{err}");
    assert!(!dest.exists() && !dir.path().join("mbpp.jsonl.part").exists(), "no partial or final file may remain");
    assert_eq!(server.connections(), 4);
}

#[test]
fn a_dropped_connection_resumes_with_a_range_request() {
    let server = FileServer::start(std::fs::read(mbpp()).unwrap(), Behavior::DropOnceAfter(300_000));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("mbpp.jsonl");
    let out = rt().block_on(fetch(&mbpp_request(server.url("mbpp.jsonl"), dest.clone()), &|_| {})).unwrap();
    assert_eq!(out.attempts, 2);
    assert_eq!(std::fs::read(&dest).unwrap(), std::fs::read(mbpp()).unwrap());
    let second = &server.requests()[1].to_ascii_lowercase();
    assert!(second.contains("range: bytes=300000-"), "the retry must resume, not restart: {second}");
}

#[test]
fn wrong_bytes_are_rejected_by_the_checksum() {
    let mut body = std::fs::read(mbpp()).unwrap();
    body[1000] ^= 1;
    let server = FileServer::start(body, Behavior::Serve);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("mbpp.jsonl");
    let err = rt().block_on(fetch(&mbpp_request(server.url("x"), dest.clone()), &|_| {})).unwrap_err();
    assert_eq!(err.code(), ErrorCode::DownloadCorrupt, "{err}");
    assert!(!dest.exists());
}

#[test]
fn a_404_is_reported_at_once_without_retries() {
    let server = FileServer::start(Vec::new(), Behavior::Status(404));
    let dir = tempfile::tempdir().unwrap();
    let err = rt().block_on(fetch(&mbpp_request(server.url("x"), dir.path().join("f")), &|_| {})).unwrap_err();
    assert!(matches!(err, DownloadError::Http { status: 404, .. }), "{err}");
    assert_eq!(server.connections(), 1);
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
    assert_eq!(&std::fs::read(&dest).unwrap()[..4], b"GGUF", "the whole model, header first");
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
