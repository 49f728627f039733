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

use std::borrow::Cow;
use std::collections::BTreeSet;

use printpdf::{
    Actions, BorderArray, Color, ColorArray, HighlightingMode, Line, LineDashPattern, LinePoint,
    LinkAnnotation, Mm, Op, PaintMode, PdfDocument, PdfPage, Point, Pt, Rect, Rgb,
};

use crate::error::PrintError;
use crate::fonts::Fonts;
use crate::signage::{BoxMm, MM_TO_PT, assemble, ellipsize, round2, save, show_text, wrap};

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

// ---------------------------------------------------------------------------------------
// Look

type Rgb3 = [f32; 3];

const INK: Rgb3 = [0.10, 0.11, 0.13];
const MUTED: Rgb3 = [0.40, 0.42, 0.46];
const ACCENT: Rgb3 = [0.12, 0.36, 0.58];
const LINK: Rgb3 = [0.08, 0.32, 0.72];
const RULE: Rgb3 = [0.78, 0.80, 0.83];
const GRID: Rgb3 = [0.86, 0.87, 0.89];
const HEADER_FILL: Rgb3 = [0.91, 0.93, 0.955];
const ZEBRA_FILL: Rgb3 = [0.963, 0.967, 0.975];
const CARD_FILL: Rgb3 = [0.950, 0.958, 0.972];

const MARGIN_X: f32 = 16.0;
const MARGIN_TOP: f32 = 15.0;
/// Content stops this far above the paper's bottom edge; the footer sits below.
const MARGIN_BOTTOM: f32 = 19.0;
const FOOTER_RULE: f32 = 14.5;
const FOOTER_BASELINE: f32 = 10.0;
/// Space between blocks (totals, charts, tables).
const BLOCK_GAP: f32 = 7.0;

const TITLE_PT: f32 = 20.0;
const SHOP_PT: f32 = 11.0;
const SUBTITLE_PT: f32 = 10.0;
const SMALL_PT: f32 = 8.0;
const SECTION_PT: f32 = 10.5;
const CELL_PT: f32 = 8.5;
const HEAD_PT: f32 = 8.0;
const FOOTER_PT: f32 = 7.5;

const ROW_H: f32 = 5.8;
const HEAD_H: f32 = 6.6;
const CELL_PAD: f32 = 1.8;
const SECTION_TITLE_H: f32 = 8.0;
/// Tables with at most this many rows are not split over two pages.
const KEEP_TOGETHER_ROWS: usize = 8;

#[derive(Clone, Copy)]
struct Style {
    size_pt: f32,
    bold: bool,
    color: Rgb3,
}

const fn style(size_pt: f32, bold: bool, color: Rgb3) -> Style {
    Style {
        size_pt,
        bold,
        color,
    }
}

// ---------------------------------------------------------------------------------------
// Pages

/// The pages being drawn: a cursor `y` runs down the current page; blocks that do not
/// fit start a new page. Page numbers are drawn at the end, once the count is known.
struct Canvas<'f> {
    fonts: &'f Fonts,
    height: f32,
    left: f32,
    right: f32,
    top: f32,
    bottom: f32,
    pages: Vec<Vec<Op>>,
    current: usize,
    y: f32,
    /// The fill colour last set on the current page (skips repeated `rg`).
    fill: Option<Rgb3>,
    used: [BTreeSet<char>; 3],
}

impl<'f> Canvas<'f> {
    fn new(fonts: &'f Fonts, width: f32, height: f32) -> Self {
        Canvas {
            fonts,
            height,
            left: MARGIN_X,
            right: width - MARGIN_X,
            top: MARGIN_TOP,
            bottom: height - MARGIN_BOTTOM,
            pages: vec![Vec::new()],
            current: 0,
            y: MARGIN_TOP,
            fill: None,
            used: Default::default(),
        }
    }

    fn content_width(&self) -> f32 {
        self.right - self.left
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        &mut self.pages[self.current]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.current = self.pages.len() - 1;
        self.y = self.top;
        self.fill = None;
    }

    /// Start a new page unless `height` mm fit below the cursor (a block taller than a
    /// page starts at the top of one and is cut by the caller).
    fn need(&mut self, height: f32) {
        if self.y + height > self.bottom && self.y > self.top + 0.01 {
            self.new_page();
        }
    }

    fn set_fill(&mut self, color: Rgb3) {
        if self.fill != Some(color) {
            self.fill = Some(color);
            self.ops().push(Op::SetFillColor { col: rgb(color) });
        }
    }

    /// Width of `text` in mm.
    fn measure(&self, text: &str, s: Style) -> f32 {
        self.fonts.width_em(text, s.bold) * s.size_pt / MM_TO_PT
    }

    /// `text` ellipsized to `max_mm`.
    fn fit(&self, text: &str, s: Style, max_mm: f32) -> String {
        if max_mm <= 0.0 {
            return String::new();
        }
        ellipsize(self.fonts, text, s.bold, max_mm * MM_TO_PT / s.size_pt)
    }

    /// Text starting at `x` on the baseline `baseline` (mm from the top).
    fn text(&mut self, x: f32, baseline: f32, text: &str, s: Style) {
        if text.is_empty() {
            return;
        }
        self.set_fill(s.color);
        let origin = (x, self.height - baseline);
        let (fonts, ops, used) = (self.fonts, &mut self.pages[self.current], &mut self.used);
        show_text(ops, fonts, text, s.bold, origin, s.size_pt, used);
    }

    /// Text ending at `right`.
    fn text_right(&mut self, right: f32, baseline: f32, text: &str, s: Style) {
        let w = self.measure(text, s);
        self.text(right - w, baseline, text, s);
    }

    /// Text centred on `centre`.
    fn text_centred(&mut self, centre: f32, baseline: f32, text: &str, s: Style) {
        let w = self.measure(text, s);
        self.text(centre - w / 2.0, baseline, text, s);
    }

    fn fill_rect(&mut self, b: BoxMm, color: Rgb3) {
        self.set_fill(color);
        let rect = self.pdf_rect(b);
        self.ops().push(Op::DrawRectangle { rectangle: rect });
    }

    fn pdf_rect(&self, b: BoxMm) -> Rect {
        Rect {
            x: Pt(round2(b.x * MM_TO_PT)),
            y: Pt(round2((self.height - b.bottom()) * MM_TO_PT)),
            width: Pt(round2(b.width * MM_TO_PT)),
            height: Pt(round2(b.height * MM_TO_PT)),
            mode: Some(PaintMode::Fill),
            winding_order: None,
        }
    }

    /// A straight line from `a` to `b` (mm from the top-left).
    fn line(&mut self, a: (f32, f32), b: (f32, f32), width_pt: f32, color: Rgb3, dashed: bool) {
        let h = self.height;
        let point = |(x, y): (f32, f32)| LinePoint {
            p: Point {
                x: Pt(round2(x * MM_TO_PT)),
                y: Pt(round2((h - y) * MM_TO_PT)),
            },
            bezier: false,
        };
        let ops = self.ops();
        ops.push(Op::SetOutlineColor { col: rgb(color) });
        ops.push(Op::SetOutlineThickness { pt: Pt(width_pt) });
        if dashed {
            ops.push(Op::SetLineDashPattern {
                dash: LineDashPattern::new(0.0, &[2.0, 2.0]),
            });
        }
        ops.push(Op::DrawLine {
            line: Line {
                points: vec![point(a), point(b)],
                is_closed: false,
            },
        });
        if dashed {
            ops.push(Op::SetLineDashPattern {
                dash: LineDashPattern::solid(),
            });
        }
    }

    fn hline(&mut self, x0: f32, x1: f32, y: f32, width_pt: f32, color: Rgb3) {
        self.line((x0, y), (x1, y), width_pt, color, false);
    }

    /// A clickable area opening `url`.
    fn link(&mut self, b: BoxMm, url: &str) {
        let mut rect = self.pdf_rect(b);
        rect.mode = None;
        self.ops().push(Op::LinkAnnotation {
            link: LinkAnnotation::new(
                rect,
                Actions::Uri(url.to_string()),
                Some(BorderArray::Solid([0.0, 0.0, 0.0])),
                Some(ColorArray::Transparent),
                Some(HighlightingMode::Invert),
            ),
        });
    }
}

fn rgb(c: Rgb3) -> Color {
    Color::Rgb(Rgb::new(c[0], c[1], c[2], None))
}

/// Text as one line: control characters (tabs, newlines) become spaces.
fn clean(text: &str) -> Cow<'_, str> {
    let text = text.trim();
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

// ---------------------------------------------------------------------------------------
// Blocks

/// Shop name and generated-at on the first line, the title large, the period, a rule.
fn header(c: &mut Canvas<'_>, doc: &ReportDoc) {
    let top = c.y;
    let width = c.content_width();
    let shop_style = style(SHOP_PT, true, INK);
    let generated_style = style(SMALL_PT, false, MUTED);
    let generated = clean(&doc.generated_at);
    let generated_w = c.measure(&generated, generated_style).min(width * 0.45);
    let generated = c.fit(&generated, generated_style, generated_w + 0.01);
    let right = c.right;
    c.text_right(right, top + 4.2, &generated, generated_style);
    let shop_room = width - generated_w - if generated.is_empty() { 0.0 } else { 6.0 };
    let shop = c.fit(&clean(&doc.shop_name), shop_style, shop_room);
    let left = c.left;
    c.text(left, top + 4.2, &shop, shop_style);
    let title_style = style(TITLE_PT, true, INK);
    let title = c.fit(&clean(&doc.title), title_style, width);
    c.text(left, top + 13.5, &title, title_style);
    let period_style = style(SUBTITLE_PT, false, MUTED);
    let period = c.fit(&clean(&doc.period), period_style, width);
    c.text(left, top + 20.0, &period, period_style);
    c.hline(left, right, top + 24.0, 1.2, ACCENT);
    c.y = top + 24.0 + BLOCK_GAP;
}

/// One card per currency, two or three to a row, items as label … value lines.
fn totals(c: &mut Canvas<'_>, blocks: &[TotalsBlock]) {
    if blocks.is_empty() {
        return;
    }
    const GAP: f32 = 5.0;
    const PAD: f32 = 4.0;
    const HEADING_H: f32 = 8.0;
    const ITEM_H: f32 = 5.6;
    let per_row = match blocks.len() {
        1 | 2 | 4 => 2,
        _ => 3,
    };
    let card_w = (c.content_width() - GAP * (per_row - 1) as f32) / per_row as f32;
    let heading = style(SECTION_PT, true, ACCENT);
    let label = style(CELL_PT + 0.5, false, MUTED);
    let value = style(CELL_PT + 1.0, true, INK);
    for row in blocks.chunks(per_row) {
        let items = row.iter().map(|b| b.items.len()).max().unwrap_or(0);
        let card_h = PAD + HEADING_H + items as f32 * ITEM_H + PAD * 0.5;
        c.need(card_h);
        let top = c.y;
        for (i, block) in row.iter().enumerate() {
            let x = c.left + i as f32 * (card_w + GAP);
            c.fill_rect(
                BoxMm {
                    x,
                    y: top,
                    width: card_w,
                    height: card_h,
                },
                CARD_FILL,
            );
            c.fill_rect(
                BoxMm {
                    x,
                    y: top,
                    width: 1.2,
                    height: card_h,
                },
                ACCENT,
            );
            let inner_left = x + PAD + 1.2;
            let inner_right = x + card_w - PAD;
            let inner_w = inner_right - inner_left;
            let currency = c.fit(&clean(&block.currency), heading, inner_w);
            c.text(inner_left, top + PAD + 4.0, &currency, heading);
            for (j, (l, v)) in block.items.iter().enumerate() {
                let baseline = top + PAD + HEADING_H + j as f32 * ITEM_H + 3.6;
                if j > 0 {
                    let y = baseline - 4.0;
                    c.hline(inner_left, inner_right, y, 0.3, GRID);
                }
                let v = c.fit(&clean(v), value, inner_w * 0.62);
                let v_w = c.measure(&v, value);
                c.text_right(inner_right, baseline, &v, value);
                let l = c.fit(&clean(l), label, inner_w - v_w - 3.0);
                c.text(inner_left, baseline, &l, label);
            }
        }
        c.y = top + card_h + GAP;
    }
    c.y += BLOCK_GAP - GAP;
}

/// Height of a chart's plot area (the tallest bar), mm.
const PLOT_H: f32 = 44.0;
/// Label steps tried when bar labels would overlap (a week, a fortnight, a month, …).
const LABEL_STEPS: [usize; 13] = [1, 2, 3, 4, 5, 7, 10, 14, 15, 30, 60, 90, 180];

/// Title, the value axis (top line labelled with `axis_max_text`), one filled rectangle
/// per bar with a value above zero, and as many bar labels as fit without overlapping.
fn bar_chart(c: &mut Canvas<'_>, chart: &BarChart) {
    let n = chart.bars.len();
    let title_style = style(SECTION_PT, true, INK);
    let axis_style = style(7.0, false, MUTED);
    let label_style = style(6.5, false, MUTED);
    let value_style = style(6.0, false, MUTED);

    let axis_text = clean(&chart.axis_max_text);
    let axis_w = (c.measure(&axis_text, axis_style) + 2.5).clamp(6.0, c.content_width() * 0.3);
    let plot_x = c.left + axis_w;
    let plot_w = c.right - plot_x;
    let slot = plot_w / n.max(1) as f32;
    let show_values = n > 0
        && n <= 62
        && chart
            .bars
            .iter()
            .all(|b| c.measure(&clean(&b.value_text), value_style) <= slot - 0.8);

    let head_h = 8.0 + if show_values { 4.0 } else { 1.5 };
    let labels_h = 6.0;
    c.need(head_h + PLOT_H + labels_h);
    let top = c.y;
    let title = c.fit(&clean(&chart.title), title_style, c.content_width());
    let left = c.left;
    c.text(left, top + 4.5, &title, title_style);

    let plot_top = top + head_h;
    let plot_bottom = plot_top + PLOT_H;
    let right = c.right;
    // value axis: dashed lines at the top (max) and middle, labelled at the top
    c.line((plot_x, plot_top), (right, plot_top), 0.4, RULE, true);
    c.line(
        (plot_x, plot_top + PLOT_H / 2.0),
        (right, plot_top + PLOT_H / 2.0),
        0.3,
        GRID,
        true,
    );
    let axis_text = c.fit(&axis_text, axis_style, axis_w - 1.5);
    c.text_right(plot_x - 1.5, plot_top + 1.2, &axis_text, axis_style);

    let max = chart.bars.iter().map(|b| b.value).max().unwrap_or(0);
    let bar_w = (slot * if n > 60 { 0.8 } else { 0.7 }).min(12.0);
    if max > 0 {
        c.ops().push(Op::BeginMarkedContent {
            tag: CHART_BARS_TAG.to_string(),
        });
        c.set_fill(ACCENT);
        for (i, bar) in chart.bars.iter().enumerate() {
            if bar.value <= 0 {
                continue;
            }
            // at least a hairline, so that a small sale still shows
            let h = ((bar.value as f64 / max as f64) as f32 * PLOT_H).max(0.25);
            let x = plot_x + i as f32 * slot + (slot - bar_w) / 2.0;
            c.fill_rect(
                BoxMm {
                    x,
                    y: plot_bottom - h,
                    width: bar_w,
                    height: h,
                },
                ACCENT,
            );
        }
        c.ops().push(Op::EndMarkedContent);
        if show_values {
            for (i, bar) in chart.bars.iter().enumerate() {
                if bar.value <= 0 {
                    continue;
                }
                let h = (bar.value as f64 / max as f64) as f32 * PLOT_H;
                let centre = plot_x + (i as f32 + 0.5) * slot;
                let text = clean(&bar.value_text);
                c.text_centred(centre, plot_bottom - h - 1.0, &text, value_style);
            }
        }
    }
    // axes
    c.line((plot_x, plot_top), (plot_x, plot_bottom), 0.4, RULE, false);
    c.hline(plot_x, right, plot_bottom, 0.7, MUTED);

    // bar labels: every k-th, k the smallest step that keeps them apart
    let widest = chart
        .bars
        .iter()
        .map(|b| c.measure(&clean(&b.label), label_style))
        .fold(0.0, f32::max);
    let min_step = ((widest + 2.0) / slot).ceil().max(1.0) as usize;
    let step = LABEL_STEPS
        .iter()
        .copied()
        .find(|s| *s >= min_step)
        .unwrap_or(min_step);
    let mut last_right = f32::NEG_INFINITY;
    for i in (0..n).step_by(step) {
        let text = clean(&chart.bars[i].label);
        let w = c.measure(&text, label_style);
        let centre = plot_x + (i as f32 + 0.5) * slot;
        let x = (centre - w / 2.0).clamp(c.left, (c.right - w).max(c.left));
        if x < last_right + 1.0 {
            continue;
        }
        last_right = x + w;
        c.line(
            (centre, plot_bottom),
            (centre, plot_bottom + 0.9),
            0.4,
            MUTED,
            false,
        );
        c.text(x, plot_bottom + 3.9, &text, label_style);
    }
    c.y = plot_bottom + labels_h + BLOCK_GAP;
}

/// A table: its title, a shaded header row, zebra rows; continued on the next page
/// (title + "(continued)" + header again) when a row would not fit.
fn table_section(c: &mut Canvas<'_>, table: &Table, labels: &ReportLabels) {
    let total_weight: f32 = table.columns.iter().map(|col| col.weight).sum();
    let width = c.content_width();
    // column left edges and widths
    let mut x = c.left;
    let cols: Vec<(f32, f32)> = table
        .columns
        .iter()
        .map(|col| {
            let w = width * col.weight / total_weight;
            let out = (x, w);
            x += w;
            out
        })
        .collect();
    let cell = style(CELL_PT, false, INK);
    let link = style(CELL_PT, false, LINK);
    let head = style(HEAD_PT, true, INK);
    let title_style = style(SECTION_PT, true, INK);
    let continued_style = style(SECTION_PT, false, MUTED);
    let title = clean(&table.title).into_owned();
    let continued = clean(&labels.continued).into_owned();

    let start = |c: &mut Canvas<'_>, continued_page: bool| {
        let top = c.y;
        let t = c.fit(&title, title_style, width);
        let left = c.left;
        c.text(left, top + 5.0, &t, title_style);
        if continued_page && !continued.is_empty() {
            let x = left + c.measure(&t, title_style) + 1.8;
            let more = c.fit(&continued, continued_style, c.right - x);
            c.text(x, top + 5.0, &more, continued_style);
        }
        let head_top = top + SECTION_TITLE_H;
        c.fill_rect(
            BoxMm {
                x: left,
                y: head_top,
                width,
                height: HEAD_H,
            },
            HEADER_FILL,
        );
        let baseline = head_top + HEAD_H / 2.0 + 0.36 * HEAD_PT / MM_TO_PT;
        for (col, &(x, w)) in table.columns.iter().zip(&cols) {
            let text = c.fit(&clean(&col.header), head, w - 2.0 * CELL_PAD);
            match col.align {
                Align::Left => c.text(x + CELL_PAD, baseline, &text, head),
                Align::Right => c.text_right(x + w - CELL_PAD, baseline, &text, head),
            }
        }
        let right = c.right;
        c.hline(left, right, head_top + HEAD_H, 0.6, MUTED);
        c.y = head_top + HEAD_H;
    };

    // A short table is kept on one page; a long one starts with at least a few rows.
    let first_rows = match table.rows.len() {
        n if n <= KEEP_TOGETHER_ROWS => n,
        _ => 3,
    };
    c.need(SECTION_TITLE_H + HEAD_H + first_rows as f32 * ROW_H);
    start(c, false);
    for (i, row) in table.rows.iter().enumerate() {
        if c.y + ROW_H > c.bottom {
            let (left, right, y) = (c.left, c.right, c.y);
            c.hline(left, right, y, 0.4, RULE);
            c.new_page();
            start(c, true);
        }
        let top = c.y;
        if i % 2 == 1 {
            c.fill_rect(
                BoxMm {
                    x: c.left,
                    y: top,
                    width,
                    height: ROW_H,
                },
                ZEBRA_FILL,
            );
        }
        let baseline = top + ROW_H / 2.0 + 0.36 * CELL_PT / MM_TO_PT;
        let url = table
            .links
            .get(i)
            .and_then(Option::as_deref)
            .map(str::trim)
            .filter(|u| !u.is_empty());
        for (j, ((text, col), &(x, w))) in row.iter().zip(&table.columns).zip(&cols).enumerate() {
            let s = if j == 0 && url.is_some() { link } else { cell };
            let text = c.fit(&clean(text), s, w - 2.0 * CELL_PAD);
            match col.align {
                Align::Left => c.text(x + CELL_PAD, baseline, &text, s),
                Align::Right => c.text_right(x + w - CELL_PAD, baseline, &text, s),
            }
        }
        if let (Some(url), Some(&(x, w))) = (url, cols.first()) {
            c.link(
                BoxMm {
                    x,
                    y: top,
                    width: w,
                    height: ROW_H,
                },
                url,
            );
        }
        c.y = top + ROW_H;
    }
    let (left, right, y) = (c.left, c.right, c.y);
    c.hline(left, right, y, 0.4, RULE);
    c.y += BLOCK_GAP;
}

/// The "no sales" message, large and centred in a shaded box (up to three lines).
fn empty_notice(c: &mut Canvas<'_>, message: &str) {
    let s = style(14.0, false, MUTED);
    let width = c.content_width();
    let lines = wrap(
        c.fonts,
        &clean(message),
        false,
        (width - 20.0) * MM_TO_PT / s.size_pt,
        3,
    );
    let line_h = 7.0;
    let height = 24.0 + (lines.len().max(1) - 1) as f32 * line_h;
    c.need(height);
    let top = c.y;
    let left = c.left;
    c.fill_rect(
        BoxMm {
            x: left,
            y: top,
            width,
            height,
        },
        CARD_FILL,
    );
    let centre = left + width / 2.0;
    for (i, line) in lines.iter().enumerate() {
        c.text_centred(centre, top + 14.0 + i as f32 * line_h, line, s);
    }
    c.y = top + height + BLOCK_GAP;
}

/// On every page: a rule, the shop, title and period on the left, "Page n of N" right.
fn footers(c: &mut Canvas<'_>, doc: &ReportDoc) {
    let total = c.pages.len();
    let s = style(FOOTER_PT, false, MUTED);
    let about = [&doc.shop_name, &doc.title, &doc.period]
        .iter()
        .map(|t| clean(t))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("  ·  ");
    let template = clean(&doc.labels.page_number).into_owned();
    for page in 0..total {
        c.current = page;
        c.fill = None;
        let (left, right) = (c.left, c.right);
        let rule_y = c.height - FOOTER_RULE;
        let baseline = c.height - FOOTER_BASELINE;
        c.hline(left, right, rule_y, 0.4, RULE);
        let number = template
            .replace("{n}", &(page + 1).to_string())
            .replace("{total}", &total.to_string());
        let number = c.fit(&number, s, c.content_width() * 0.4);
        let number_w = c.measure(&number, s);
        c.text_right(right, baseline, &number, s);
        let about = c.fit(&about, s, c.content_width() - number_w - 8.0);
        c.text(left, baseline, &about, s);
    }
}

#[cfg(test)]
mod tests {
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
