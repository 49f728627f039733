//! The error every command returns: a stable code from the engine's one vocabulary plus a
//! sentence for the shop owner; the UI shows its own sentence for the code when it has one.

use serde::Serialize;
use shopcast_core::{CoreError, ErrorCode};

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// The form field the error is about, if any.
    pub field: Option<String>,
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        if error.code() == ErrorCode::Internal {
            tracing::error!(%error, "internal error");
        }
        ApiError {
            code: error.code(),
            message: error.to_string(),
            field: error.field().map(str::to_string),
        }
    }
}

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            code: ErrorCode::Validation,
            message: message.into(),
            field: Some(field.into()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
