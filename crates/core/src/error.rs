//! The engine's error type and the one error-code vocabulary: every error has a stable
//! [`ErrorCode`] (the leaf crates' codes included) that reaches the UI and the CLI.

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

    /// A secret file (the keychain's fallback) that other users of the computer may read.
    #[error(
        "The secret file {path} can be read by other users of this computer (mode {mode:o}). Run `chmod 600 {path}` and try again."
    )]
    SecretFileExposed { path: PathBuf, mode: u32 },

    /// A saved setting that cannot be read back; saving over it needs the owner's word.
    #[error("{message}")]
    SettingsUnreadable {
        setting: &'static str,
        message: String,
    },

    /// A catalog CSV over the import's size or row cap.
    #[error("{0}")]
    CsvTooLarge(String),

    /// A provider callback (Stripe webhook, Alipay notify) that cannot be verified or does not
    /// match its order; nothing was recorded.
    #[error("{message}")]
    CallbackRefused {
        provider: &'static str,
        message: String,
    },

    /// Fewer left than the buyer asked for.
    #[error("{message}")]
    SoldOut { message: String },

    /// A receipt printer that refused the connection, is not there, or failed mid-receipt;
    /// `printer` is where it was looked for (host:port or device path).
    #[error("{message}")]
    PrinterUnreachable { printer: String, message: String },

    /// A receipt printer that did not take the receipt within the time allowed.
    #[error("The printer at {printer} did not answer within {} s.", seconds_text(*.after))]
    PrinterTimedOut {
        printer: String,
        after: std::time::Duration,
    },

    /// The shop's database server cannot be used: not reachable, the login refused, not a
    /// Shopcast database, or one made by a newer Shopcast.
    #[error("{message}")]
    DatabaseUnavailable {
        problem: DatabaseProblem,
        message: String,
    },

    #[error("The shop database reported an error: {0}")]
    Database(#[from] sqlx::Error),

    #[error("The shop database could not be upgraded: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl CoreError {
    /// Stable code for the UI and scripts; never changes once released.
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::Validation { .. } => ErrorCode::Validation,
            CoreError::NotFound { .. } => ErrorCode::NotFound,
            CoreError::Conflict { .. } => ErrorCode::Conflict,
            CoreError::HasSales => ErrorCode::HasSales,
            CoreError::PhotoTooLarge { .. } => ErrorCode::PhotoTooLarge,
            CoreError::PhotoUnsupported => ErrorCode::PhotoUnsupported,
            CoreError::PhotoBroken(_) => ErrorCode::PhotoBroken,
            CoreError::CsvInvalid(_) => ErrorCode::CsvInvalid,
            CoreError::Payload(_) => ErrorCode::PayloadInvalid,
            CoreError::Print(error) => ErrorCode::from_leaf(error.code()),
            CoreError::Io { .. } => ErrorCode::Io,
            CoreError::Provider { code, .. } => ErrorCode::from_leaf(code),
            CoreError::Report(_) => ErrorCode::ReportFailed,
            CoreError::Cancelled => ErrorCode::Cancelled,
            CoreError::SecretFileExposed { .. } => ErrorCode::SecretFileExposed,
            CoreError::SettingsUnreadable { .. } => ErrorCode::SettingsUnreadable,
            CoreError::CsvTooLarge(_) => ErrorCode::CsvTooLarge,
            CoreError::CallbackRefused { .. } => ErrorCode::CallbackRefused,
            CoreError::SoldOut { .. } => ErrorCode::SoldOut,
            CoreError::PrinterUnreachable { .. } => ErrorCode::PrinterUnreachable,
            CoreError::PrinterTimedOut { .. } => ErrorCode::PrinterTimedOut,
            CoreError::DatabaseUnavailable { problem, .. } => problem.code(),
            // A server that went away mid-session is said as such, not as an internal error.
            CoreError::Database(error) if DatabaseProblem::of(error).is_some() => {
                DatabaseProblem::of(error).map_or(ErrorCode::Internal, DatabaseProblem::code)
            }
            CoreError::Database(_) | CoreError::Migration(_) => ErrorCode::Internal,
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

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        CoreError::NotFound { what: what.into() }
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

/// Why the shop's database cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseProblem {
    /// The server is down, unreachable, or went away.
    Unreachable,
    /// The server refused the user, password or database name.
    Login,
    /// The database holds tables that are not a Shopcast shop's.
    NotShopcast,
    /// A newer Shopcast has upgraded it past what this one knows.
    Newer,
}

impl DatabaseProblem {
    pub fn code(self) -> ErrorCode {
        match self {
            DatabaseProblem::Unreachable => ErrorCode::DatabaseUnreachable,
            DatabaseProblem::Login => ErrorCode::DatabaseLogin,
            DatabaseProblem::NotShopcast => ErrorCode::DatabaseNotShopcast,
            DatabaseProblem::Newer => ErrorCode::DatabaseNewer,
        }
    }

    /// The problem a database error shows, if it is one of these (PostgreSQL SQLSTATE
    /// classes 08, 57P and 28, 3D000; sockets, timeouts and closed pools).
    pub fn of(error: &sqlx::Error) -> Option<DatabaseProblem> {
        match error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Some(DatabaseProblem::Unreachable),
            sqlx::Error::Database(db) => {
                // SQLSTATEs are five characters; SQLite's codes are numbers of up to four.
                let code = db.code().filter(|c| c.len() == 5)?;
                if code.starts_with("08") || code.starts_with("57P") {
                    Some(DatabaseProblem::Unreachable)
                } else if code.starts_with("28") || code == "3D000" {
                    Some(DatabaseProblem::Login)
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

/// Seconds as the owner reads them: "5", "1.5", "0.25".
fn seconds_text(after: std::time::Duration) -> String {
    let text = format!("{:.2}", after.as_secs_f64());
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

crate::infra::text_enum! {
    /// Every error code the UI and scripts may see (snake_case on the wire).
    pub enum ErrorCode {
    // The engine's own.
    Validation = "validation",
    NotFound = "not_found",
    Conflict = "conflict",
    HasSales = "has_sales",
    PhotoTooLarge = "photo_too_large",
    PhotoUnsupported = "photo_unsupported",
    PhotoBroken = "photo_broken",
    CsvInvalid = "csv_invalid",
    Io = "io",
    Internal = "internal",
    Cancelled = "cancelled",
    ReportFailed = "report_failed",
    SecretFileExposed = "secret_file_exposed",
    SettingsUnreadable = "settings_unreadable",
    PathNotAllowed = "path_not_allowed",
    CsvTooLarge = "csv_too_large",
    CallbackRefused = "callback_refused",
    SoldOut = "sold_out",
    // Receipt printers (till::printer).
    PrinterUnreachable = "printer_unreachable",
    PrinterTimedOut = "printer_timed_out",
    // A payment-QR field its standard does not allow (EPC, EMVCo, Pix, UPI).
    PayloadInvalid = "payload_invalid",
    // Payment providers (shopcast_payments::ProviderError).
    ProviderUnreachable = "provider_unreachable",
    ProviderRateLimited = "provider_rate_limited",
    ProviderServerError = "provider_server_error",
    ProviderBadResponse = "provider_bad_response",
    ProviderRejected = "provider_rejected",
    ProviderBadSignature = "provider_bad_signature",
    ProviderConfig = "provider_config",
    ProviderUnsupported = "provider_unsupported",
    ProviderAmount = "provider_amount",
    // Microblog networks (shopcast_social::PublishError, OAuthError).
    NetworkUnreachable = "network_unreachable",
    NetworkRateLimited = "network_rate_limited",
    NetworkServerError = "network_server_error",
    NetworkBadResponse = "network_bad_response",
    AccountReconnect = "account_reconnect",
    PostRejected = "post_rejected",
    PostInvalid = "post_invalid",
    PostMaybePosted = "post_maybe_posted",
    OauthDenied = "oauth_denied",
    OauthStateMismatch = "oauth_state_mismatch",
    OauthTimedOut = "oauth_timed_out",
    OauthNoCode = "oauth_no_code",
    OauthListenFailed = "oauth_listen_failed",
    OauthRefused = "oauth_refused",
    // Printing (shopcast_print::PrintError).
    QrPayloadTooLong = "qr_payload_too_long",
    QrPayloadEmpty = "qr_payload_empty",
    EmptyProductName = "empty_product_name",
    NoSigns = "no_signs",
    BadCopies = "bad_copies",
    LabelsDoNotFit = "labels_do_not_fit",
    LabelTooSmall = "label_too_small",
    InvalidTemplate = "invalid_template",
    UnknownTemplate = "unknown_template",
    QrError = "qr_error",
    FontError = "font_error",
    PdfError = "pdf_error",
    LogoUnreadable = "logo_unreadable",
    ReportRowCells = "report_row_cells",
    ReportLinks = "report_links",
    InvalidReport = "invalid_report",
    BarcodeInvalid = "barcode_invalid",
    // The shop's database server (infra::store).
    DatabaseUnreachable = "database_unreachable",
    DatabaseLogin = "database_login",
    DatabaseNotShopcast = "database_not_shopcast",
    DatabaseNewer = "database_newer",
    }
}

impl ErrorCode {
    /// A leaf crate's code in the vocabulary; a test keeps every leaf code listed, so the
    /// fallback only guards against a code added without one.
    pub fn from_leaf(code: &str) -> ErrorCode {
        ErrorCode::parse(code).unwrap_or(ErrorCode::Internal)
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    /// A leaf crate's new code without a place in the vocabulary would reach the UI as
    /// "internal": every code they can return must parse.
    #[test]
    fn every_leaf_code_is_in_the_vocabulary() {
        let leaves = [
            shopcast_payments::ProviderError::CODES,
            shopcast_social::PublishError::CODES,
            shopcast_social::oauth::OAuthError::CODES,
            shopcast_print::PrintError::CODES,
        ];
        for code in leaves.concat() {
            assert!(
                ErrorCode::parse(code).is_some(),
                "{code} is not an ErrorCode"
            );
        }
        assert_eq!(
            ErrorCode::parse("payload_invalid"),
            Some(ErrorCode::PayloadInvalid)
        );
    }

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            assert!(seen.insert(code.as_str()), "{code} twice");
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
