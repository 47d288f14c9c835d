//! The closed list of error codes that cross to a front end: the window, the CLI's `--json` and the server only
//! ever see `{code, message}`, so the codes are a public contract — add new ones, never rename old ones.
//!
//! A leaf crate so that every domain crate (verification, providers, routing, the store, the classifier) can say
//! which code its own `thiserror` enum maps to without depending on any other domain.

use serde::Serialize;

/// The closed list of error codes that cross to the UI (snake_case in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The database was written by a newer ComplexityNet; we refuse to touch it.
    StoreTooNew,
    /// The database file cannot be opened or is not a ComplexityNet database.
    StoreUnavailable,
    /// A dataset file is malformed: the message names file, line and problem.
    DatasetMalformed,
    /// The file cannot be read (missing, permissions, not UTF-8).
    DatasetUnreadable,
    DatasetNotFound,
    TaskNotFound,
    /// A dataset of that name exists with different content.
    DatasetExists,
    InvalidName,
    /// Network failure, interrupted transfer or an HTTP error status.
    DownloadFailed,
    /// The bytes arrived but their size or SHA-256 is wrong.
    DownloadCorrupt,
    UnknownDataset,
    /// No isolation is available for running code; the message says how to fix it.
    SandboxUnavailable,
    /// A command was given a combination of arguments it cannot act on.
    InvalidArguments,
    UnknownTier,
    /// The OS keychain cannot be reached.
    KeychainUnavailable,
    /// The provider needs an API key and none is stored (or it was rejected).
    ProviderAuth,
    ProviderRateLimited,
    ProviderQuota,
    ContextLength,
    ProviderServer,
    ProviderNetwork,
    ProviderTimeout,
    ProviderBadRequest,
    Cancelled,
    /// The local model runtime is not available in this build.
    LocalRuntimeUnavailable,
    /// A model file is not a valid GGUF.
    ModelInvalid,
    UnknownModel,
    /// Not enough free disk space for a download.
    DiskFull,
    UnknownRun,
    /// A labeled set cannot train a classifier (empty, too few examples of a level, another rule than
    /// expected); nothing was trained.
    LabelsUnusable,
    UnknownClassifier,
    /// The sentence encoder's files are missing or not the expected ones; the message says how to fetch them.
    EncoderMissing,
    /// A cloud fine-tuning job failed or was cancelled on the provider's side.
    FineTuneFailed,
    /// No tier can answer a prompt now (no local model, no keys): the message names each tier's fix.
    NoTierAvailable,
    /// A job with that id is already running.
    JobRunning,
    /// The local server's daily spend cap is reached: paid tiers wait for tomorrow (the local tier still answers).
    SpendCapReached,
    /// Anything unexpected (I/O on the data dir, a bug). The message says what.
    Internal,
}
