//! The engine's error type. Every variant has a stable machine-readable code that the
//! desktop shell passes to the UI, and a message written for a shop owner.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Input the owner typed or imported is not acceptable; `field` names the form field.
    #[error("{message}")]
    Validation {
        field: &'static str,
        message: String,
    },

    #[error("{what} was not found.")]
    NotFound { what: String },

    #[error("{message}")]
    Conflict {
        field: &'static str,
        message: String,
    },

    #[error("This product has sales, so it cannot be deleted. Archive it instead.")]
    HasSales,

    #[error(
        "The photo is {size_mb:.1} MB; the limit is {limit_mb} MB. Please choose a smaller photo."
    )]
    PhotoTooLarge { size_mb: f64, limit_mb: u64 },

    #[error("This file is not a PNG, JPEG or WebP photo.")]
    PhotoUnsupported,

    #[error("The photo could not be read: it seems damaged ({0}).")]
    PhotoBroken(String),

    #[error("The CSV file could not be read: {0}")]
    CsvInvalid(String),

    #[error("Could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A payment-QR field that its standard does not allow (EPC, EMVCo, Pix, UPI).
    #[error("{0}")]
    Payload(#[from] shopcast_payments::PayloadError),

    /// A QR code or sign that cannot be printed as asked.
    #[error("{0}")]
    Print(#[from] shopcast_print::PrintError),

    /// A payment provider refused or could not be reached; `raw` is its reply, if any.
    #[error("{message}")]
    Provider {
        code: &'static str,
        message: String,
        raw: Option<String>,
    },

    /// A report could not be read from the shop file.
    #[error("The report could not be made: {0}")]
    Report(String),

    #[error("Cancelled.")]
    Cancelled,

    #[error("The shop database reported an error: {0}")]
    Database(#[from] sqlx::Error),

    #[error("The shop database could not be upgraded: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl CoreError {
    /// Stable code for the UI and scripts; never changes once released.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::Validation { .. } => "validation",
            CoreError::NotFound { .. } => "not_found",
            CoreError::Conflict { .. } => "conflict",
            CoreError::HasSales => "has_sales",
            CoreError::PhotoTooLarge { .. } => "photo_too_large",
            CoreError::PhotoUnsupported => "photo_unsupported",
            CoreError::PhotoBroken(_) => "photo_broken",
            CoreError::CsvInvalid(_) => "csv_invalid",
            CoreError::Payload(_) => "payload_invalid",
            CoreError::Print(error) => error.code(),
            CoreError::Io { .. } => "io",
            CoreError::Provider { code, .. } => code,
            CoreError::Report(_) => "report_failed",
            CoreError::Cancelled => "cancelled",
            CoreError::Database(_) | CoreError::Migration(_) => "internal",
        }
    }

    /// The form field the error is about, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            CoreError::Validation { field, .. } | CoreError::Conflict { field, .. } => Some(field),
            CoreError::Payload(error) => error.field(),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        CoreError::Validation {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        CoreError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
