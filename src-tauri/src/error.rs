//! The one error that crosses to the UI: `{code, message}` with a closed snake_case `code` (the engine's
//! [`ErrorCode`]). Commands return `Result<T, AppError>`; never a bare string.

use complexitynet_engine::dataset::DatasetError;
use complexitynet_engine::download::DownloadError;
use complexitynet_engine::store::StoreError;
use complexitynet_engine::{EngineError, ErrorCode};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn internal(message: impl Into<String>) -> Self {
        AppError { code: ErrorCode::Internal, message: message.into() }
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

macro_rules! from_domain {
    ($($t:ty),*) => {$(
        impl From<$t> for AppError {
            fn from(e: $t) -> Self {
                AppError::from(EngineError::from(e))
            }
        }
    )*};
}
from_domain!(DatasetError, DownloadError, StoreError);

impl From<tauri::Error> for AppError {
    fn from(e: tauri::Error) -> Self {
        AppError::internal(e.to_string())
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
    }
}
