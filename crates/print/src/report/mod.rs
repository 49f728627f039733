//! Sales reports as PDF: a header, totals per currency, daily bar charts (vector) and
//! tables that flow over pages with their header repeated, page numbers on every page.
//!
//! The engine computes the numbers and formats every value in the shop's locale; this
//! module only lays the given text out. Everything is measured in millimetres from the
//! page's top-left corner, like [`crate::signage`].
//!
//! ```
//! use shopcast_print::report::{
//!     Align, Bar, BarChart, Column, ReportDoc, ReportLabels, ReportPaper, Table, TotalsBlock,
//!     render_report,
//! };
//!
//! let doc = ReportDoc {
//!     title: "Sales report".into(),
//!     shop_name: "西湖茶庄".into(),
//!     period: "1 Nov 2026 – 30 Nov 2026 (Asia/Shanghai)".into(),
//!     generated_at: "Generated 25 Nov 2026 17:02".into(),
//!     paper: ReportPaper::A4,
//!     totals: vec![TotalsBlock {
//!         currency: "CNY".into(),
//!         items: vec![("Net".into(), "¥1,280.00".into())],
//!     }],
//!     charts: vec![BarChart {
//!         title: "Daily sales (CNY)".into(),
//!         bars: vec![Bar { label: "11-01".into(), value: 128_000, value_text: "¥1,280".into() }],
//!         axis_max_text: "¥1,280".into(),
//!     }],
//!     sections: vec![Table {
//!         title: "By product".into(),
//!         columns: vec![
//!             Column { header: "Product".into(), align: Align::Left, weight: 3.0 },
//!             Column { header: "Net".into(), align: Align::Right, weight: 1.0 },
//!         ],
//!         rows: vec![vec!["龙井绿茶 250g".into(), "¥1,280.00".into()]],
//!         links: vec![],
//!     }],
//!     empty_message: None,
//!     labels: ReportLabels::default(),
//! };
//! let pdf = render_report(&doc)?;
//! assert!(pdf.starts_with(b"%PDF-"));
//! # Ok::<(), shopcast_print::PrintError>(())
//! ```

mod blocks;
mod canvas;
mod chart;
mod table;

use printpdf::{Mm, PdfDocument, PdfPage};

use crate::error::PrintError;
use crate::fonts::Fonts;
use crate::pdf::{assemble, save};

use blocks::{empty_notice, footers, header, totals};
use canvas::Canvas;
use chart::bar_chart;
use table::table_section;

/// A whole report, every value already formatted for display.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportDoc {
    /// e.g. "Sales report".
    pub title: String,
    /// Any script; printed as given (text that looks like HTML stays text).
    pub shop_name: String,
    /// e.g. "1 Nov 2026 – 30 Nov 2026 (Europe/Berlin)".
    pub period: String,
    /// e.g. "Generated 25 Nov 2026 17:02".
    pub generated_at: String,
    pub paper: ReportPaper,
    /// One block per currency (amounts in different currencies are never added up).
    pub totals: Vec<TotalsBlock>,
    /// Daily sales, one chart per currency.
    pub charts: Vec<BarChart>,
    /// By day, by product, by payment method, by channel, top posts, …
    pub sections: Vec<Table>,
    /// When set (no sales in the period) it is printed, prominently, instead of the
    /// charts and tables (the totals are still printed).
    pub empty_message: Option<String>,
    pub labels: ReportLabels,
}

/// Paper size; reports are portrait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportPaper {
    /// 210 × 297 mm.
    #[default]
    A4,
    /// 8.5 × 11 in.
    Letter,
}

impl ReportPaper {
    /// (width, height) in mm.
    pub fn dimensions_mm(self) -> (f32, f32) {
        match self {
            ReportPaper::A4 => (210.0, 297.0),
            ReportPaper::Letter => (215.9, 279.4),
        }
    }
}

/// The totals of one currency, e.g. Gross, Refunds, Net, Orders, Average ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalsBlock {
    /// Printed as the block's heading, e.g. "CNY" or "EUR".
    pub currency: String,
    /// (label, value) pairs, in order.
    pub items: Vec<(String, String)>,
}

/// A bar chart, e.g. the daily sales of one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarChart {
    pub title: String,
    pub bars: Vec<Bar>,
    /// The largest bar's value, formatted: printed at the top of the value axis, which
    /// is where the tallest bar ends.
    pub axis_max_text: String,
}

/// One bar of a [`BarChart`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// e.g. "11-03". Printed under the bar when there is room (every k-th bar otherwise).
    pub label: String,
    /// In minor units, ≥ 0; bars are scaled to the largest value.
    pub value: i64,
    /// Printed above the bar when every bar's text fits its slot.
    pub value_text: String,
}

/// A table that may run over several pages; its title and header row are repeated on
/// every page it continues on, and a row is never split.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub title: String,
    pub columns: Vec<Column>,
    /// One cell per column in every row; text too long for its column is ellipsized.
    pub rows: Vec<Vec<String>>,
    /// Empty, or one optional URL per row: the row's first cell becomes a link.
    pub links: Vec<Option<String>>,
}

/// A table column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub header: String,
    pub align: Align,
    /// Relative width (the columns share the page width in proportion), > 0.
    pub weight: f32,
}

/// Horizontal alignment of a column's cells (and header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    /// For amounts and counts.
    Right,
}

/// The fixed strings of a report, in the shop's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLabels {
    /// Page footer template: `{n}` is replaced by the page number, `{total}` by the page
    /// count, e.g. "Page {n} of {total}" or "第 {n} 页，共 {total} 页".
    pub page_number: String,
    /// Appended to a table's title on the pages it continues on, e.g. "(continued)".
    pub continued: String,
}

impl Default for ReportLabels {
    /// English.
    fn default() -> Self {
        ReportLabels {
            page_number: "Page {n} of {total}".into(),
            continued: "(continued)".into(),
        }
    }
}

/// Marked-content tag around the bars of each chart (`/ShopcastChartBars BMC … EMC`),
/// one `re` per bar with a value above zero: lets tests (and anyone) count them.
pub const CHART_BARS_TAG: &str = "ShopcastChartBars";

/// Lay out and render the report to a PDF (fonts embedded as subsets, charts as vector
/// shapes). The same input gives the same bytes.
pub fn render_report(doc: &ReportDoc) -> Result<Vec<u8>, PrintError> {
    validate(doc)?;
    let fonts = Fonts::get()?;
    let (width, height) = doc.paper.dimensions_mm();
    let mut page = Canvas::new(fonts, width, height);
    header(&mut page, doc);
    totals(&mut page, &doc.totals);
    match doc.empty_message.as_deref().map(str::trim) {
        Some(message) if !message.is_empty() => empty_notice(&mut page, message),
        _ => {
            for chart in &doc.charts {
                bar_chart(&mut page, chart);
            }
            for table in &doc.sections {
                table_section(&mut page, table, &doc.labels);
            }
        }
    }
    footers(&mut page, doc);

    let title = [doc.title.trim(), doc.shop_name.trim()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" — ");
    let pages = std::mem::take(&mut page.pages)
        .into_iter()
        .map(|ops| PdfPage::new(Mm(width), Mm(height), ops))
        .collect();
    let mut lo = assemble(PdfDocument::new(&title), pages, &page.used)?;
    // printpdf draws a random file ID; derive it from the input instead so that the
    // same report gives the same bytes.
    let id = lopdf::Object::String(document_id(doc).into_bytes(), lopdf::StringFormat::Literal);
    lo.trailer
        .set("ID", lopdf::Object::Array(vec![id.clone(), id]));
    save(lo)
}

fn validate(doc: &ReportDoc) -> Result<(), PrintError> {
    for table in &doc.sections {
        let name = || table.title.trim().to_string();
        if table.columns.is_empty() {
            return Err(PrintError::InvalidReport(format!(
                "the table \"{}\" has no columns.",
                name()
            )));
        }
        if let Some(c) = table
            .columns
            .iter()
            .find(|c| !(c.weight.is_finite() && c.weight > 0.0))
        {
            return Err(PrintError::InvalidReport(format!(
                "the column \"{}\" of the table \"{}\" has width {}; widths must be above zero.",
                c.header,
                name(),
                c.weight
            )));
        }
        if let Some((row, cells)) = table
            .rows
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() != table.columns.len())
        {
            return Err(PrintError::ReportRowCells {
                table: name(),
                row,
                cells: cells.len(),
                columns: table.columns.len(),
            });
        }
        if !table.links.is_empty() && table.links.len() != table.rows.len() {
            return Err(PrintError::ReportLinks {
                table: name(),
                rows: table.rows.len(),
                links: table.links.len(),
            });
        }
    }
    for chart in &doc.charts {
        if let Some((i, bar)) = chart.bars.iter().enumerate().find(|(_, b)| b.value < 0) {
            return Err(PrintError::InvalidReport(format!(
                "bar {} (\"{}\") of the chart \"{}\" is negative ({}); bars start at zero.",
                i + 1,
                bar.label,
                chart.title.trim(),
                bar.value
            )));
        }
    }
    Ok(())
}

/// 32 hex digits from the input (two FNV-1a hashes of its debug form).
fn document_id(doc: &ReportDoc) -> String {
    let text = format!("{doc:?}");
    let hash = |mut h: u64| {
        for b in text.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h
    };
    format!(
        "{:016x}{:016x}",
        hash(0xcbf2_9ce4_8422_2325),
        hash(0x6c62_272e_07bb_0142)
    )
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::canvas::clean;
    use super::*;

    fn doc() -> ReportDoc {
        ReportDoc {
            title: "Sales report".into(),
            shop_name: "Tea House".into(),
            period: "1 Nov 2026 – 30 Nov 2026".into(),
            generated_at: "Generated 25 Nov 2026 17:02".into(),
            paper: ReportPaper::A4,
            totals: vec![],
            charts: vec![],
            sections: vec![Table {
                title: "By product".into(),
                columns: vec![
                    Column {
                        header: "Product".into(),
                        align: Align::Left,
                        weight: 3.0,
                    },
                    Column {
                        header: "Net".into(),
                        align: Align::Right,
                        weight: 1.0,
                    },
                ],
                rows: vec![vec!["Tea".into(), "€1.00".into()]],
                links: vec![],
            }],
            empty_message: None,
            labels: ReportLabels::default(),
        }
    }

    #[test]
    fn bad_input_is_explained() {
        let mut d = doc();
        d.sections[0].rows.push(vec!["Coffee".into()]);
        let err = render_report(&d).unwrap_err();
        assert_eq!(err.code(), "report_row_cells");
        assert_eq!(
            err.to_string(),
            "Row 2 of the report table \"By product\" has 1 cell but the table has 2 columns."
        );

        let mut d = doc();
        d.sections[0].links = vec![None, None];
        let err = render_report(&d).unwrap_err();
        assert_eq!(err.code(), "report_links");
        assert!(err.to_string().contains("has 1 row but 2 links"), "{err}");

        let mut d = doc();
        d.sections[0].columns[1].weight = 0.0;
        assert_eq!(render_report(&d).unwrap_err().code(), "invalid_report");

        let mut d = doc();
        d.charts.push(BarChart {
            title: "Daily".into(),
            bars: vec![Bar {
                label: "11-01".into(),
                value: -5,
                value_text: "-5".into(),
            }],
            axis_max_text: "0".into(),
        });
        let err = render_report(&d).unwrap_err();
        assert_eq!(err.code(), "invalid_report");
        assert!(err.to_string().contains("negative"), "{err}");
    }

    #[test]
    fn same_input_same_bytes() {
        let a = render_report(&doc()).unwrap();
        let b = render_report(&doc()).unwrap();
        assert!(a == b, "two renders of the same report differ");
        let mut other = doc();
        other.shop_name = "Coffee House".into();
        assert_ne!(document_id(&doc()), document_id(&other));
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(clean(" a\tb\nc "), "a b c");
        assert!(matches!(clean("plain"), Cow::Borrowed("plain")));
    }
}
