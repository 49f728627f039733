//! The error every command returns: a stable code plus a sentence for the shop owner.

use serde::Serialize;
use shopcast_core::CoreError;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    /// The form field the error is about, if any.
    pub field: Option<String>,
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        if error.code() == "internal" {
            tracing::error!(%error, "internal error");
        }
        ApiError {
            code: error.code().to_string(),
            message: error.to_string(),
            field: error.field().map(str::to_string),
        }
    }
}

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            code: "validation".into(),
            message: message.into(),
            field: Some(field.into()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
