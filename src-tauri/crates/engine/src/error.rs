//! The engine's error: one `thiserror` enum per domain, composed here, and a closed set of machine-readable
//! codes. The UI and the CLI's `--json` mode only ever see `{code, message}`, so the codes are a public contract:
//! add new ones, never rename old ones.

pub use complexitynet_errors::ErrorCode;

pub use crate::conversations::ChatError;
pub use crate::dataset::DatasetError;
pub use crate::local_models::ModelError;
pub use crate::runs::LabelError;
pub use crate::store::StoreError;
pub use crate::tiers::TierError;
pub use complexitynet_verify::VerifyError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error(transparent)]
    Tier(#[from] TierError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Label(#[from] LabelError),
    #[error(transparent)]
    Chat(#[from] ChatError),
}

impl EngineError {
    pub fn code(&self) -> ErrorCode {
        match self {
            EngineError::Store(e) => e.code(),
            EngineError::Dataset(e) => e.code(),
            EngineError::Verify(e) => e.code(),
            EngineError::Tier(e) => e.code(),
            EngineError::Model(e) => e.code(),
            EngineError::Label(e) => e.code(),
            EngineError::Chat(e) => e.code(),
        }
    }
}
