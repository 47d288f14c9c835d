//! HTTP downloads with progress, retries that resume with `Range`, and size + SHA-256 checks.
//!
//! Bytes go to `DEST.part` and are renamed to `DEST` only after every check passed, so a crash or a dropped
//! connection never leaves a file that looks complete.

use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

use complexitynet_errors::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("invalid download URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("{url} answered HTTP {status}")]
    Http { url: String, status: u16 },
    #[error(
        "the download from {url} was interrupted after {received} of {} bytes ({attempts} attempts): {reason}",
        total.map(|t| t.to_string()).unwrap_or_else(|| "?".into())
    )]
    Interrupted { url: String, received: u64, total: Option<u64>, attempts: u32, reason: String },
    #[error("cannot reach {url} ({attempts} attempts): {reason}")]
    Network { url: String, attempts: u32, reason: String },
    #[error("the file from {url} has {actual} bytes, expected {expected}{}", kept_note(kept))]
    SizeMismatch { url: String, expected: u64, actual: u64, kept: Option<PathBuf> },
    #[error("the file from {url} has SHA-256 {actual}, expected {expected}{}", kept_note(kept))]
    ChecksumMismatch { url: String, expected: String, actual: String, kept: Option<PathBuf> },
    #[error("no downloadable dataset named {name:?} (known: {known})")]
    UnknownDataset { name: String, known: String },
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn kept_note(kept: &Option<PathBuf>) -> String {
    kept.as_ref()
        .map(|p| format!("; the downloaded file was kept at {} (delete it to start over)", p.display()))
        .unwrap_or_default()
}

impl DownloadError {
    pub fn code(&self) -> ErrorCode {
        match self {
            DownloadError::SizeMismatch { .. } | DownloadError::ChecksumMismatch { .. } => ErrorCode::DownloadCorrupt,
            DownloadError::Io { .. } => ErrorCode::Internal,
            DownloadError::UnknownDataset { .. } => ErrorCode::UnknownDataset,
            _ => ErrorCode::DownloadFailed,
        }
    }
}

/// A progress report: bytes received so far, and the total when the server said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DownloadProgress {
    pub received: u64,
    pub total: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub url: String,
    pub dest: PathBuf,
    pub expected_size: Option<u64>,
    pub expected_sha256: Option<String>,
    /// Attempts in all, the first included. Later attempts resume with `Range` where the server allows it.
    pub attempts: u32,
    /// Delay before the second attempt; it doubles after each failure.
    pub backoff: Duration,
    /// Keep `DEST.part` across runs and resume it (large model files); on a size or checksum mismatch the
    /// partial file is kept for inspection and the error names it. Off: every run starts clean (datasets).
    pub resume: bool,
}

impl FetchRequest {
    pub fn new(url: impl Into<String>, dest: impl Into<PathBuf>) -> Self {
        FetchRequest {
            url: url.into(),
            dest: dest.into(),
            expected_size: None,
            expected_sha256: None,
            attempts: 4,
            backoff: Duration::from_millis(500),
            resume: false,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FetchOutcome {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    pub attempts: u32,
}

pub fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
}

/// Downloads `req.url` to `req.dest`, calling `progress` as bytes arrive.
pub async fn fetch(
    req: &FetchRequest,
    progress: &(dyn Fn(DownloadProgress) + Send + Sync),
) -> Result<FetchOutcome, DownloadError> {
    use tracing::Instrument;
    // `instrument`, not `entered()`: an entered span guard held across an await would make the future !Send.
    fetch_inner(req, progress).instrument(tracing::info_span!("download", url = %req.url)).await
}

async fn fetch_inner(
    req: &FetchRequest,
    progress: &(dyn Fn(DownloadProgress) + Send + Sync),
) -> Result<FetchOutcome, DownloadError> {
    let url = reqwest::Url::parse(&req.url)
        .map_err(|e| DownloadError::InvalidUrl { url: req.url.clone(), reason: e.to_string() })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(DownloadError::InvalidUrl {
            url: req.url.clone(),
            reason: "only http and https are supported".into(),
        });
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| DownloadError::Io { path, source }
    };
    if let Some(dir) = req.dest.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io(dir))?;
    }
    let part = partial_path(&req.dest);
    if !req.resume {
        // A stale partial file from an earlier process may belong to another version of the file: start clean.
        let _ = tokio::fs::remove_file(&part).await;
    }

    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .read_timeout(Duration::from_secs(60))
        .user_agent(concat!("ComplexityNet/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| DownloadError::Network { url: req.url.clone(), attempts: 0, reason: e.to_string() })?;

    // Resuming: what an earlier run left is where this one starts.
    let mut received: u64 = if req.resume { tokio::fs::metadata(&part).await.map(|m| m.len()).unwrap_or(0) } else { 0 };
    let mut total: Option<u64> = req.expected_size;
    let mut last: Option<DownloadError> = None;
    let mut attempt = 0;
    let mut delay = req.backoff;
    // A resumed file that is already complete needs no request at all (a Range past the end would be a 416).
    let complete_already = req.resume && req.expected_size.is_some_and(|s| received >= s);
    while !complete_already && attempt < req.attempts.max(1) {
        attempt += 1;
        if attempt > 1 {
            tracing::warn!(attempt, received, "retrying the download after {:?}", delay);
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        let mut get = client.get(url.clone());
        if received > 0 {
            get = get.header(reqwest::header::RANGE, format!("bytes={received}-"));
        }
        let resp = match get.send().await {
            Ok(r) => r,
            Err(e) => {
                last =
                    Some(DownloadError::Network { url: req.url.clone(), attempts: attempt, reason: error_chain(&e) });
                continue;
            }
        };
        let status = resp.status();
        let resumed = received > 0 && status == reqwest::StatusCode::PARTIAL_CONTENT;
        if !status.is_success() {
            let err = DownloadError::Http { url: req.url.clone(), status: status.as_u16() };
            // 4xx other than 408/429 will not change on retry: report at once.
            if status.is_client_error() && status != reqwest::StatusCode::REQUEST_TIMEOUT && status.as_u16() != 429 {
                return Err(err);
            }
            last = Some(err);
            continue;
        }
        let mut file = if resumed {
            tokio::fs::OpenOptions::new().append(true).open(&part).await.map_err(io(&part))?
        } else {
            received = 0; // the server ignored Range (or this is the first attempt): start over
            tokio::fs::File::create(&part).await.map_err(io(&part))?
        };
        if let Some(len) = resp.content_length() {
            total = Some(received + len);
        }
        progress(DownloadProgress { received, total });
        let mut body = resp.bytes_stream();
        let mut broke: Option<String> = None;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => {
                    file.write_all(&bytes).await.map_err(io(&part))?;
                    received += bytes.len() as u64;
                    progress(DownloadProgress { received, total });
                }
                Err(e) => {
                    broke = Some(error_chain(&e));
                    break;
                }
            }
        }
        file.flush().await.map_err(io(&part))?;
        drop(file);
        if broke.is_none() && total.is_some_and(|t| received < t) {
            broke = Some("the server closed the connection early".into());
        }
        match broke {
            Some(reason) => {
                last = Some(DownloadError::Interrupted {
                    url: req.url.clone(),
                    received,
                    total,
                    attempts: attempt,
                    reason,
                });
            }
            None => {
                last = None;
                break;
            }
        }
    }
    if let Some(err) = last {
        if !req.resume {
            let _ = tokio::fs::remove_file(&part).await;
        }
        return Err(err);
    }

    let bytes = tokio::fs::metadata(&part).await.map_err(io(&part))?.len();
    let sha256 = sha256_file(&part).await.map_err(io(&part))?;
    let kept = req.resume.then(|| part.clone());
    let mismatch = if let Some(expected) = req.expected_size.filter(|&e| e != bytes) {
        Some(DownloadError::SizeMismatch { url: req.url.clone(), expected, actual: bytes, kept })
    } else {
        req.expected_sha256.as_ref().filter(|e| !e.eq_ignore_ascii_case(&sha256)).map(|e| {
            DownloadError::ChecksumMismatch { url: req.url.clone(), expected: e.clone(), actual: sha256.clone(), kept }
        })
    };
    if let Some(err) = mismatch {
        if req.resume {
            tracing::warn!(partial = %part.display(), "kept the downloaded file for inspection: {err}");
        } else {
            let _ = tokio::fs::remove_file(&part).await;
        }
        return Err(err);
    }
    tokio::fs::rename(&part, &req.dest).await.map_err(io(&req.dest))?;
    tracing::info!(bytes, attempts = attempt, "download complete");
    Ok(FetchOutcome { path: req.dest.clone(), bytes, sha256, attempts: attempt })
}

/// reqwest's top-level message is often just "error decoding response body"; the cause chain says why.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let s_msg = s.to_string();
        if !msg.contains(&s_msg) {
            msg.push_str(": ");
            msg.push_str(&s_msg);
        }
        src = s.source();
    }
    msg
}

pub async fn sha256_file(path: &Path) -> std::io::Result<String> {
    use tokio::io::AsyncReadExt;
    let mut f = tokio::fs::File::open(path).await?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}
