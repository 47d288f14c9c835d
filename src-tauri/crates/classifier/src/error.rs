//! The classifier domain's error. Every variant maps to one of the closed `{code, message}` codes.

use complexitynet_errors::ErrorCode;
use complexitynet_providers::download::DownloadError;
use complexitynet_providers::ProviderError;

#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    /// The labeled set cannot train or evaluate: empty, a level with too few examples, another rule than the
    /// one asked for. Raised before any training starts.
    #[error("{0}")]
    LabelsUnusable(String),
    #[error("no classifier {0:?} (see `complexitynet classifier list`)")]
    Unknown(String),
    #[error("{0}")]
    EncoderMissing(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the fine-tuning job {job} ended as {status}: {message}")]
    FineTune { job: String, status: String, message: String },
    #[error("cancelled")]
    Cancelled,
    #[error("tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Download(#[from] DownloadError),
}

impl ClassifierError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ClassifierError::Io { context: context.into(), source }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ClassifierError::LabelsUnusable(_) => ErrorCode::LabelsUnusable,
            ClassifierError::Unknown(_) => ErrorCode::UnknownClassifier,
            ClassifierError::EncoderMissing(_) => ErrorCode::EncoderMissing,
            ClassifierError::Invalid(_) => ErrorCode::InvalidArguments,
            ClassifierError::FineTune { .. } => ErrorCode::FineTuneFailed,
            ClassifierError::Cancelled => ErrorCode::Cancelled,
            ClassifierError::Tensor(_) | ClassifierError::Io { .. } => ErrorCode::Internal,
            ClassifierError::Provider(e) => e.code(),
            ClassifierError::Download(e) => e.code(),
        }
    }
}

pub type Result<T, E = ClassifierError> = std::result::Result<T, E>;
