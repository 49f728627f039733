//! Error type shared by the QR and signage modules.

use crate::qr::EcLevel;

/// Everything that can go wrong while preparing printable material.
///
/// Messages are written for shop owners (they may be shown in the UI);
/// [`PrintError::code`] gives a stable machine-readable identifier.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PrintError {
    /// The QR payload does not fit in the largest QR code (version 40).
    #[error(
        "This link is {} bytes; a QR code holds at most {} bytes at error-correction level {}.",
        group_thousands(*.len),
        group_thousands(*.max),
        .level.letter()
    )]
    PayloadTooLong {
        len: usize,
        max: usize,
        level: EcLevel,
    },
    /// The QR payload is empty.
    #[error("The QR code link is empty.")]
    EmptyPayload,
    /// A sign has an empty (or whitespace-only) product name.
    #[error("Sign {} has no product name.", .index + 1)]
    EmptyProductName { index: usize },
    /// A sign's barcode is not a valid EAN-13.
    #[error("The barcode of sign {} cannot be printed: {error}", .index + 1)]
    SignBarcode {
        index: usize,
        error: crate::barcode::BarcodeError,
    },
    /// `render` was called without any sign.
    #[error("There is nothing to print: the list of signs is empty.")]
    NoSigns,
    /// `copies` must be between 1 and [`crate::signage::MAX_COPIES`].
    #[error("Copies must be between 1 and {max}; got {copies}.")]
    BadCopies { copies: u32, max: u32 },
    /// A label grid is larger than its page.
    #[error(
        "The labels do not fit the page: they are {overflow_mm:.1} mm too {}.",
        if *.horizontal { "wide" } else { "tall" }
    )]
    LabelsDoNotFit { horizontal: bool, overflow_mm: f32 },
    /// A label is too small to hold a scannable QR code and readable text.
    #[error(
        "Labels of {width_mm:.1} × {height_mm:.1} mm are too small; they must be at least {min_width_mm:.0} × {min_height_mm:.0} mm."
    )]
    LabelTooSmall {
        width_mm: f32,
        height_mm: f32,
        min_width_mm: f32,
        min_height_mm: f32,
    },
    /// A template value is out of range (zero rows, negative margin, …).
    #[error("Invalid label template: {0}")]
    InvalidTemplate(String),
    /// An unknown preset name was given to [`crate::signage::Template::preset`].
    #[error("Unknown label template \"{0}\".")]
    UnknownTemplate(String),
    /// Internal QR encoder failure other than capacity.
    #[error("Could not make a QR code: {0}")]
    Qr(String),
    /// The PDF could not be written (should never happen: it is written to memory).
    #[error("Could not write the PDF: {0}")]
    Pdf(String),
    /// Bundled font could not be parsed (should never happen).
    #[error("Font error: {0}")]
    Font(String),
    /// The shop logo is not a readable PNG, JPEG or WebP image.
    #[error("The logo could not be read ({0}). Please upload a PNG, JPEG or WebP image.")]
    LogoUnreadable(String),
    /// A report table row does not have exactly one cell per column.
    #[error(
        "Row {} of the report table \"{table}\" has {} but the table has {}.",
        .row + 1,
        count(*.cells, "cell"),
        count(*.columns, "column")
    )]
    ReportRowCells {
        table: String,
        /// 0-based.
        row: usize,
        cells: usize,
        columns: usize,
    },
    /// A report table has links, but not one (or `None`) per row.
    #[error(
        "The report table \"{table}\" has {} but {}: give one link (or none) per row.",
        count(*.rows, "row"),
        count(*.links, "link")
    )]
    ReportLinks {
        table: String,
        rows: usize,
        links: usize,
    },
    /// Other report input that cannot be laid out (a table without columns, a
    /// negative bar, …).
    #[error("The report cannot be printed: {0}")]
    InvalidReport(String),
}

impl PrintError {
    /// Every code [`Self::code`] can return (the engine maps each into its vocabulary).
    pub const CODES: &'static [&'static str] = &[
        "qr_payload_too_long",
        "qr_payload_empty",
        "empty_product_name",
        "barcode_invalid",
        "no_signs",
        "bad_copies",
        "labels_do_not_fit",
        "label_too_small",
        "invalid_template",
        "unknown_template",
        "qr_error",
        "font_error",
        "pdf_error",
        "logo_unreadable",
        "report_row_cells",
        "report_links",
        "invalid_report",
    ];

    /// Stable snake_case identifier of the error kind.
    pub fn code(&self) -> &'static str {
        match self {
            PrintError::PayloadTooLong { .. } => "qr_payload_too_long",
            PrintError::EmptyPayload => "qr_payload_empty",
            PrintError::EmptyProductName { .. } => "empty_product_name",
            PrintError::SignBarcode { .. } => "barcode_invalid",
            PrintError::NoSigns => "no_signs",
            PrintError::BadCopies { .. } => "bad_copies",
            PrintError::LabelsDoNotFit { .. } => "labels_do_not_fit",
            PrintError::LabelTooSmall { .. } => "label_too_small",
            PrintError::InvalidTemplate(_) => "invalid_template",
            PrintError::UnknownTemplate(_) => "unknown_template",
            PrintError::Qr(_) => "qr_error",
            PrintError::Font(_) => "font_error",
            PrintError::Pdf(_) => "pdf_error",
            PrintError::LogoUnreadable(_) => "logo_unreadable",
            PrintError::ReportRowCells { .. } => "report_row_cells",
            PrintError::ReportLinks { .. } => "report_links",
            PrintError::InvalidReport(_) => "invalid_report",
        }
    }
}

/// `3120` → `"3,120"`.
pub(crate) fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `1, "cell"` → `"1 cell"`, `3, "cell"` → `"3 cells"`.
fn count(n: usize, noun: &str) -> String {
    let n_text = group_thousands(n);
    if n == 1 {
        format!("{n_text} {noun}")
    } else {
        format!("{n_text} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(3120), "3,120");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
    }
}
