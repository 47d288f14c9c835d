//! The one error every front end sees: `{code, message}` with a closed snake_case `code` (the engine's
//! [`ErrorCode`]). Every domain error converts into it with `?`, so no front end maps errors by hand. The CLI
//! prints it (`{"error": {...}}` with `--json`), the window receives it as the rejection of a command, and the
//! server turns its code into an HTTP status.

use complexitynet_classifier::ClassifierError;
use complexitynet_engine::error::{
    ChatError, DatasetError, LabelError, ModelError, StoreError, TierError, VerifyError,
};
use complexitynet_engine::{EngineError, ErrorCode};
use complexitynet_llm_local::LocalError;
use complexitynet_providers::download::DownloadError;
use complexitynet_providers::keys::KeyError;
use complexitynet_providers::ProviderError;
use complexitynet_router::label::RuleError;
use complexitynet_router::RouteError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError { code, message: message.into() }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::Internal, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::InvalidArguments, message)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl From<EngineError> for AppError {
    fn from(e: EngineError) -> Self {
        AppError { code: e.code(), message: e.to_string() }
    }
}

macro_rules! from_engine_domain {
    ($($t:ty),*) => {$(
        impl From<$t> for AppError {
            fn from(e: $t) -> Self {
                AppError::from(EngineError::from(e))
            }
        }
    )*};
}
from_engine_domain!(DatasetError, StoreError, TierError, ModelError, LabelError, VerifyError, ChatError);

/// The providers' errors: each knows its code (the providers do not depend on the store, so they are not part of
/// the engine's error).
macro_rules! from_coded {
    ($($t:ty),*) => {$(
        impl From<$t> for AppError {
            fn from(e: $t) -> Self {
                AppError { code: e.code(), message: e.to_string() }
            }
        }
    )*};
}
from_coded!(DownloadError, KeyError, ProviderError, RouteError);

impl From<ClassifierError> for AppError {
    fn from(e: ClassifierError) -> Self {
        AppError { code: e.code(), message: e.to_string() }
    }
}

impl From<RuleError> for AppError {
    fn from(e: RuleError) -> Self {
        AppError::invalid(e.to_string())
    }
}

impl From<LocalError> for AppError {
    fn from(e: LocalError) -> Self {
        let code = match e {
            LocalError::Load { .. } => ErrorCode::ModelInvalid,
            LocalError::ContextLength { .. } => ErrorCode::ContextLength,
            LocalError::Runtime(_) | LocalError::WorkerGone => ErrorCode::Internal,
        };
        AppError { code, message: e.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ui_error_json_shape_is_pinned() {
        let e = AppError::from(DatasetError::NotFound { name: "mbpp".into() });
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"code":"dataset_not_found","message":"no dataset named \"mbpp\" (see `complexitynet dataset list`)"}"#
        );
        let e = AppError::from(RouteError::NoTierAvailable("local: no model".into()));
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"code":"no_tier_available","message":"no tier can answer: local: no model"}"#
        );
    }
}
