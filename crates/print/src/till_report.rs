//! The till's X and Z reports as a PDF: sales per method, refunds, tax per rate, discounts,
//! expected and counted cash.
//!
//! Core computes and formats every figure; this module lays out the given sections of
//! label/amount rows in the receipt's style, on a 58 or 80 mm roll or on A4.

use crate::error::PrintError;
use crate::receipt::Paper;
use crate::roll::{BODY, Column, HEADING, MUTED, TITLE};

/// An X report (the open day so far) or Z report (the closed day), every value already
/// formatted for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TillReportDoc {
    /// e.g. "Z report 12" or "X report".
    pub title: String,
    pub shop_name: String,
    /// e.g. "Till 1 · Front counter".
    pub till: String,
    /// e.g. "Opened 25 Nov 2026 09:00 – closed 25 Nov 2026 18:30".
    pub period: String,
    /// (heading, rows of (label, amount)), e.g. ("Sales by method", [("Cash", "¥320.00")]).
    pub sections: Vec<(String, Vec<(String, String)>)>,
    /// e.g. "Printed 25 Nov 2026 18:31".
    pub generated_at: String,
    pub paper: Paper,
}

/// The report as a PDF on `doc.paper` (a roll page grows to fit; A4 flows over pages).
pub fn render_till_report(doc: &TillReportDoc) -> Result<Vec<u8>, PrintError> {
    let mut col = Column::new(doc.paper)?;
    col.centred(&doc.shop_name, TITLE);
    col.gap(1.0);
    col.centred(&doc.title, HEADING);
    col.centred(&doc.till, BODY);
    col.centred(&doc.period, MUTED);
    for (heading, rows) in &doc.sections {
        col.rule();
        col.left(heading, HEADING, 0.0);
        for (label, amount) in rows {
            col.label_amount(label, amount, BODY, 0.0);
        }
    }
    col.rule();
    col.centred(&doc.generated_at, MUTED);
    col.finish(&doc.title, None)
}
