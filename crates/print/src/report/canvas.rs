//! The report's look and its drawing surface: colours, margins and type sizes, and the
//! [`Canvas`] whose cursor runs down the pages (text, rectangles, lines, links).

use std::borrow::Cow;
use std::collections::BTreeSet;

use printpdf::{
    Actions, BorderArray, Color, ColorArray, HighlightingMode, Line, LineDashPattern, LinePoint,
    LinkAnnotation, Op, PaintMode, Point, Pt, Rect, Rgb,
};

use crate::fonts::Fonts;
use crate::pdf::{MM_TO_PT, round2, show_text};
use crate::signage::BoxMm;
use crate::text_fit::ellipsize;

// ---------------------------------------------------------------------------------------
// Look

pub(super) type Rgb3 = [f32; 3];

pub(super) const INK: Rgb3 = [0.10, 0.11, 0.13];
pub(super) const MUTED: Rgb3 = [0.40, 0.42, 0.46];
pub(super) const ACCENT: Rgb3 = [0.12, 0.36, 0.58];
pub(super) const LINK: Rgb3 = [0.08, 0.32, 0.72];
pub(super) const RULE: Rgb3 = [0.78, 0.80, 0.83];
pub(super) const GRID: Rgb3 = [0.86, 0.87, 0.89];
pub(super) const HEADER_FILL: Rgb3 = [0.91, 0.93, 0.955];
pub(super) const ZEBRA_FILL: Rgb3 = [0.963, 0.967, 0.975];
pub(super) const CARD_FILL: Rgb3 = [0.950, 0.958, 0.972];

pub(super) const MARGIN_X: f32 = 16.0;
pub(super) const MARGIN_TOP: f32 = 15.0;
/// Content stops this far above the paper's bottom edge; the footer sits below.
pub(super) const MARGIN_BOTTOM: f32 = 19.0;
pub(super) const FOOTER_RULE: f32 = 14.5;
pub(super) const FOOTER_BASELINE: f32 = 10.0;
/// Space between blocks (totals, charts, tables).
pub(super) const BLOCK_GAP: f32 = 7.0;

pub(super) const TITLE_PT: f32 = 20.0;
pub(super) const SHOP_PT: f32 = 11.0;
pub(super) const SUBTITLE_PT: f32 = 10.0;
pub(super) const SMALL_PT: f32 = 8.0;
pub(super) const SECTION_PT: f32 = 10.5;
pub(super) const CELL_PT: f32 = 8.5;
pub(super) const HEAD_PT: f32 = 8.0;
pub(super) const FOOTER_PT: f32 = 7.5;

pub(super) const ROW_H: f32 = 5.8;
pub(super) const HEAD_H: f32 = 6.6;
pub(super) const CELL_PAD: f32 = 1.8;
pub(super) const SECTION_TITLE_H: f32 = 8.0;
/// Tables with at most this many rows are not split over two pages.
pub(super) const KEEP_TOGETHER_ROWS: usize = 8;

#[derive(Clone, Copy)]
pub(super) struct Style {
    pub(super) size_pt: f32,
    pub(super) bold: bool,
    pub(super) color: Rgb3,
}

pub(super) const fn style(size_pt: f32, bold: bool, color: Rgb3) -> Style {
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
pub(super) struct Canvas<'f> {
    pub(super) fonts: &'f Fonts,
    pub(super) height: f32,
    pub(super) left: f32,
    pub(super) right: f32,
    pub(super) top: f32,
    pub(super) bottom: f32,
    pub(super) pages: Vec<Vec<Op>>,
    pub(super) current: usize,
    pub(super) y: f32,
    /// The fill colour last set on the current page (skips repeated `rg`).
    pub(super) fill: Option<Rgb3>,
    pub(super) used: [BTreeSet<char>; 3],
}

impl<'f> Canvas<'f> {
    pub(super) fn new(fonts: &'f Fonts, width: f32, height: f32) -> Self {
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

    pub(super) fn content_width(&self) -> f32 {
        self.right - self.left
    }

    pub(super) fn ops(&mut self) -> &mut Vec<Op> {
        &mut self.pages[self.current]
    }

    pub(super) fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.current = self.pages.len() - 1;
        self.y = self.top;
        self.fill = None;
    }

    /// Start a new page unless `height` mm fit below the cursor (a block taller than a
    /// page starts at the top of one and is cut by the caller).
    pub(super) fn need(&mut self, height: f32) {
        if self.y + height > self.bottom && self.y > self.top + 0.01 {
            self.new_page();
        }
    }

    pub(super) fn set_fill(&mut self, color: Rgb3) {
        if self.fill != Some(color) {
            self.fill = Some(color);
            self.ops().push(Op::SetFillColor { col: rgb(color) });
        }
    }

    /// Width of `text` in mm.
    pub(super) fn measure(&self, text: &str, s: Style) -> f32 {
        self.fonts.width_em(text, s.bold) * s.size_pt / MM_TO_PT
    }

    /// `text` ellipsized to `max_mm`.
    pub(super) fn fit(&self, text: &str, s: Style, max_mm: f32) -> String {
        if max_mm <= 0.0 {
            return String::new();
        }
        ellipsize(self.fonts, text, s.bold, max_mm * MM_TO_PT / s.size_pt)
    }

    /// Text starting at `x` on the baseline `baseline` (mm from the top).
    pub(super) fn text(&mut self, x: f32, baseline: f32, text: &str, s: Style) {
        if text.is_empty() {
            return;
        }
        self.set_fill(s.color);
        let origin = (x, self.height - baseline);
        let (fonts, ops, used) = (self.fonts, &mut self.pages[self.current], &mut self.used);
        show_text(ops, fonts, text, s.bold, origin, s.size_pt, used);
    }

    /// Text ending at `right`.
    pub(super) fn text_right(&mut self, right: f32, baseline: f32, text: &str, s: Style) {
        let w = self.measure(text, s);
        self.text(right - w, baseline, text, s);
    }

    /// Text centred on `centre`.
    pub(super) fn text_centred(&mut self, centre: f32, baseline: f32, text: &str, s: Style) {
        let w = self.measure(text, s);
        self.text(centre - w / 2.0, baseline, text, s);
    }

    pub(super) fn fill_rect(&mut self, b: BoxMm, color: Rgb3) {
        self.set_fill(color);
        let rect = self.pdf_rect(b);
        self.ops().push(Op::DrawRectangle { rectangle: rect });
    }

    pub(super) fn pdf_rect(&self, b: BoxMm) -> Rect {
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
    pub(super) fn line(
        &mut self,
        a: (f32, f32),
        b: (f32, f32),
        width_pt: f32,
        color: Rgb3,
        dashed: bool,
    ) {
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

    pub(super) fn hline(&mut self, x0: f32, x1: f32, y: f32, width_pt: f32, color: Rgb3) {
        self.line((x0, y), (x1, y), width_pt, color, false);
    }

    /// A clickable area opening `url`.
    pub(super) fn link(&mut self, b: BoxMm, url: &str) {
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

pub(super) fn rgb(c: Rgb3) -> Color {
    Color::Rgb(Rgb::new(c[0], c[1], c[2], None))
}

/// Text as one line: control characters (tabs, newlines) become spaces.
pub(super) fn clean(text: &str) -> Cow<'_, str> {
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
