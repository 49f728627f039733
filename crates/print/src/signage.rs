//! Printable signage: label sheets, shelf cards and folded table tents as PDF.
//!
//! Everything is laid out in millimetres with the origin at the **top-left** of the
//! page (see [`layout`]); [`render`] turns that layout into a PDF whose QR codes are
//! vector shapes and whose text uses the bundled fonts, embedded as subsets.
//!
//! Presets (see [`Template::preset`]):
//!
//! | name         | sheet  | grid  | piece            | notes                                  |
//! |--------------|--------|-------|------------------|----------------------------------------|
//! | `a4-3x8`     | A4     | 3 × 8 | 70 × 37 mm       | Avery 3474 geometry, no gaps           |
//! | `letter-2x5` | Letter | 2 × 5 | 4 × 2 in         | Avery 5163 geometry                    |
//! | `a6-card`    | A4     | 2 × 2 | 105 × 148.5 mm   | four A6 shelf cards per A4, cut guides |
//! | `a7-card`    | A4     | 2 × 4 | 105 × 74.25 mm   | eight A7 (landscape) cards per A4      |
//! | `a5-tent`    | A4     | 1 × 2 | 210 × 148.5 mm   | one tent per A4: fold across the middle; the top half is rotated 180° |
//!
//! Cards are printed several to an A4 sheet (plain paper, cut along the light grey
//! guides) rather than one per A6/A7 page, because shop printers rarely take A6/A7 paper.

use std::collections::BTreeSet;

use printpdf::{
    Color, CurTransMat, DictItem, ExternalStream, ExternalXObject, FontId, LineDashPattern,
    LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt,
    Rect, Rgb, TextItem, TextMatrix, XObjectId, XObjectTransform,
};

use crate::error::PrintError;
use crate::fonts::{Face, Fonts};
use crate::logo::{Logo, RenderOptions};
use crate::qr::{EcLevel, Matrix, QUIET_ZONE, QrCode};

/// Largest accepted `copies` value for [`render`].
pub const MAX_COPIES: u32 = 100;
/// Smallest accepted label side lengths (short side, long side), in mm.
pub const MIN_LABEL_MM: (f32, f32) = (15.0, 30.0);
/// Error-correction level used for sign QR codes.
pub const SIGN_EC_LEVEL: EcLevel = EcLevel::M;

pub(crate) const MM_TO_PT: f32 = 72.0 / 25.4;
const ELLIPSIS: char = '…';

/// One sign: plain data, already formatted for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sign {
    pub shop_name: String,
    pub product_name: String,
    /// Already formatted, e.g. `"¥88.00"`, `"12,50 €"`.
    pub price_text: String,
    /// What the QR code encodes, usually a product URL.
    pub qr_payload: String,
    pub call_to_action: Option<String>,
}

/// Paper size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PageSize {
    /// 210 × 297 mm.
    A4,
    /// 215.9 × 279.4 mm.
    Letter,
    /// Any size, portrait or landscape.
    Custom { width_mm: f32, height_mm: f32 },
}

impl PageSize {
    /// (width, height) in mm.
    pub fn dimensions_mm(self) -> (f32, f32) {
        match self {
            PageSize::A4 => (210.0, 297.0),
            PageSize::Letter => (215.9, 279.4),
            PageSize::Custom {
                width_mm,
                height_mm,
            } => (width_mm, height_mm),
        }
    }
}

/// What is printed in each grid cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    /// Die-cut adhesive labels: no guides are printed.
    Labels,
    /// Cards cut from plain paper: light grey cut guides are printed.
    ShelfCards,
    /// Folded table tent: each page holds one sign twice, the top copy rotated 180°.
    /// The grid must be 1 column × 2 rows.
    TableTent,
}

/// A custom label grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridSpec {
    pub page: PageSize,
    pub columns: u32,
    pub rows: u32,
    pub label_width_mm: f32,
    pub label_height_mm: f32,
    /// `None` centres the grid horizontally.
    pub margin_left_mm: Option<f32>,
    /// `None` centres the grid vertically.
    pub margin_top_mm: Option<f32>,
    pub gap_x_mm: f32,
    pub gap_y_mm: f32,
}

/// A validated page layout: where the pieces sit on each sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: String,
    pub kind: TemplateKind,
    pub page_width_mm: f32,
    pub page_height_mm: f32,
    pub columns: u32,
    pub rows: u32,
    pub label_width_mm: f32,
    pub label_height_mm: f32,
    pub margin_left_mm: f32,
    pub margin_top_mm: f32,
    pub gap_x_mm: f32,
    pub gap_y_mm: f32,
}

impl Template {
    /// Names accepted by [`Template::preset`].
    pub const PRESETS: [&'static str; 5] =
        ["a4-3x8", "letter-2x5", "a6-card", "a7-card", "a5-tent"];

    /// A built-in template by name (see the module docs).
    pub fn preset(name: &str) -> Result<Template, PrintError> {
        const IN: f32 = 25.4;
        let (kind, spec) = match name {
            "a4-3x8" => (
                TemplateKind::Labels,
                GridSpec {
                    page: PageSize::A4,
                    columns: 3,
                    rows: 8,
                    label_width_mm: 70.0,
                    label_height_mm: 37.0,
                    margin_left_mm: Some(0.0),
                    margin_top_mm: Some(0.5),
                    gap_x_mm: 0.0,
                    gap_y_mm: 0.0,
                },
            ),
            "letter-2x5" => (
                TemplateKind::Labels,
                GridSpec {
                    page: PageSize::Letter,
                    columns: 2,
                    rows: 5,
                    label_width_mm: 4.0 * IN,
                    label_height_mm: 2.0 * IN,
                    margin_left_mm: Some(0.15625 * IN),
                    margin_top_mm: Some(0.5 * IN),
                    gap_x_mm: 0.1875 * IN,
                    gap_y_mm: 0.0,
                },
            ),
            "a6-card" => (
                TemplateKind::ShelfCards,
                GridSpec {
                    page: PageSize::A4,
                    columns: 2,
                    rows: 2,
                    label_width_mm: 105.0,
                    label_height_mm: 148.5,
                    margin_left_mm: Some(0.0),
                    margin_top_mm: Some(0.0),
                    gap_x_mm: 0.0,
                    gap_y_mm: 0.0,
                },
            ),
            "a7-card" => (
                TemplateKind::ShelfCards,
                GridSpec {
                    page: PageSize::A4,
                    columns: 2,
                    rows: 4,
                    label_width_mm: 105.0,
                    label_height_mm: 74.25,
                    margin_left_mm: Some(0.0),
                    margin_top_mm: Some(0.0),
                    gap_x_mm: 0.0,
                    gap_y_mm: 0.0,
                },
            ),
            "a5-tent" => (
                TemplateKind::TableTent,
                GridSpec {
                    page: PageSize::A4,
                    columns: 1,
                    rows: 2,
                    label_width_mm: 210.0,
                    label_height_mm: 148.5,
                    margin_left_mm: Some(0.0),
                    margin_top_mm: Some(0.0),
                    gap_x_mm: 0.0,
                    gap_y_mm: 0.0,
                },
            ),
            other => return Err(PrintError::UnknownTemplate(other.to_string())),
        };
        let mut t = Template::custom(spec)?;
        t.name = name.to_string();
        t.kind = kind;
        Ok(t)
    }

    /// A custom label grid, validated: every label must lie on the page.
    pub fn custom(spec: GridSpec) -> Result<Template, PrintError> {
        let (pw, ph) = spec.page.dimensions_mm();
        let finite = [
            pw,
            ph,
            spec.label_width_mm,
            spec.label_height_mm,
            spec.gap_x_mm,
            spec.gap_y_mm,
            spec.margin_left_mm.unwrap_or(0.0),
            spec.margin_top_mm.unwrap_or(0.0),
        ];
        if finite.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(PrintError::InvalidTemplate(
                "sizes, margins and gaps must be positive numbers".into(),
            ));
        }
        if spec.columns == 0 || spec.rows == 0 || spec.columns > 50 || spec.rows > 50 {
            return Err(PrintError::InvalidTemplate(
                "columns and rows must be between 1 and 50".into(),
            ));
        }
        let (w, h) = (spec.label_width_mm, spec.label_height_mm);
        let (short, long) = if w < h { (w, h) } else { (h, w) };
        if short < MIN_LABEL_MM.0 || long < MIN_LABEL_MM.1 {
            let (min_w, min_h) = if w < h {
                (MIN_LABEL_MM.0, MIN_LABEL_MM.1)
            } else {
                (MIN_LABEL_MM.1, MIN_LABEL_MM.0)
            };
            return Err(PrintError::LabelTooSmall {
                width_mm: w,
                height_mm: h,
                min_width_mm: min_w,
                min_height_mm: min_h,
            });
        }
        let grid_w = spec.columns as f32 * w + (spec.columns - 1) as f32 * spec.gap_x_mm;
        let grid_h = spec.rows as f32 * h + (spec.rows - 1) as f32 * spec.gap_y_mm;
        let left = spec
            .margin_left_mm
            .unwrap_or(((pw - grid_w) / 2.0).max(0.0));
        let top = spec.margin_top_mm.unwrap_or(((ph - grid_h) / 2.0).max(0.0));
        const TOLERANCE: f32 = 0.05;
        let over_x = left + grid_w - pw;
        if over_x > TOLERANCE {
            return Err(PrintError::LabelsDoNotFit {
                horizontal: true,
                overflow_mm: over_x,
            });
        }
        let over_y = top + grid_h - ph;
        if over_y > TOLERANCE {
            return Err(PrintError::LabelsDoNotFit {
                horizontal: false,
                overflow_mm: over_y,
            });
        }
        Ok(Template {
            name: format!("custom-{}x{}", spec.columns, spec.rows),
            kind: TemplateKind::Labels,
            page_width_mm: pw,
            page_height_mm: ph,
            columns: spec.columns,
            rows: spec.rows,
            label_width_mm: w,
            label_height_mm: h,
            margin_left_mm: left,
            margin_top_mm: top,
            gap_x_mm: spec.gap_x_mm,
            gap_y_mm: spec.gap_y_mm,
        })
    }

    /// Signs per sheet (a table tent holds one sign, printed twice).
    pub fn signs_per_page(&self) -> usize {
        match self.kind {
            TemplateKind::TableTent => 1,
            _ => (self.columns * self.rows) as usize,
        }
    }

    fn cell(&self, index: usize) -> BoxMm {
        let col = index % self.columns as usize;
        let row = index / self.columns as usize;
        BoxMm {
            x: self.margin_left_mm + col as f32 * (self.label_width_mm + self.gap_x_mm),
            y: self.margin_top_mm + row as f32 * (self.label_height_mm + self.gap_y_mm),
            width: self.label_width_mm,
            height: self.label_height_mm,
        }
    }
}

/// An axis-aligned box in mm, origin at the page's top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxMm {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl BoxMm {
    pub fn right(&self) -> f32 {
        self.x + self.width
    }
    pub fn bottom(&self) -> f32 {
        self.y + self.height
    }
    /// Whether the two boxes share any area.
    pub fn intersects(&self, other: &BoxMm) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }
    /// The box turned 180° inside `frame`.
    fn rotated_in(&self, frame: &BoxMm) -> BoxMm {
        BoxMm {
            x: frame.x + frame.right() - self.right(),
            y: frame.y + frame.bottom() - self.bottom(),
            width: self.width,
            height: self.height,
        }
    }
}

/// What a line of text on a sign is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextRole {
    ShopName,
    ProductName,
    Price,
    CallToAction,
}

impl PlacedText {
    /// Distance from the top of the line's box to its baseline, in mm.
    pub(crate) fn baseline_offset(&self) -> f32 {
        self.baseline_mm - self.bbox.y
    }

    /// Grey level of the text, 0 = black, 1 = white.
    pub(crate) fn grey(&self) -> f32 {
        self.grey
    }
}

/// One laid-out line of text.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedText {
    pub role: TextRole,
    pub text: String,
    pub bold: bool,
    /// Font size in mm (1 pt = 0.3528 mm).
    pub size_mm: f32,
    /// Bounding box of the line (advance width × font size, top = baseline − 0.95 em).
    pub bbox: BoxMm,
    baseline_mm: f32,
    grey: f32,
}

/// One sign placed on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedSign {
    /// Index into the `signs` slice given to [`layout`].
    pub sign_index: usize,
    /// The cell (label, card or tent face).
    pub cell: BoxMm,
    /// The QR code including its quiet zone.
    pub qr_box: BoxMm,
    /// QR side length in modules, without quiet zone.
    pub qr_modules: usize,
    pub payload: String,
    pub lines: Vec<PlacedText>,
    /// Where the shop logo is drawn (aspect ratio kept), if a logo was given. It
    /// never overlaps `qr_box` or any line box.
    pub logo_box: Option<BoxMm>,
    /// Drawn upside down (the back face of a table tent). `qr_box` and the line
    /// boxes are given in final page coordinates either way.
    pub rotated: bool,
}

/// One page of the laid-out document.
#[derive(Debug, Clone, PartialEq)]
pub struct PageLayout {
    pub width_mm: f32,
    pub height_mm: f32,
    pub signs: Vec<PlacedSign>,
}

fn validate(signs: &[Sign], copies: u32) -> Result<(), PrintError> {
    if signs.is_empty() {
        return Err(PrintError::NoSigns);
    }
    if copies == 0 || copies > MAX_COPIES {
        return Err(PrintError::BadCopies {
            copies,
            max: MAX_COPIES,
        });
    }
    for (index, s) in signs.iter().enumerate() {
        if s.product_name.trim().is_empty() {
            return Err(PrintError::EmptyProductName { index });
        }
    }
    Ok(())
}

/// Lay out `copies` of each sign (consecutively) on as many sheets as needed.
pub fn layout(
    template: &Template,
    signs: &[Sign],
    copies: u32,
) -> Result<Vec<PageLayout>, PrintError> {
    layout_with(template, signs, copies, &RenderOptions::default())
}

/// [`layout`] with options (a logo box is reserved on every sign when a logo is given).
pub fn layout_with(
    template: &Template,
    signs: &[Sign],
    copies: u32,
    options: &RenderOptions,
) -> Result<Vec<PageLayout>, PrintError> {
    Ok(layout_with_matrices(template, signs, copies, options)?.0)
}

pub(crate) fn layout_with_matrices(
    template: &Template,
    signs: &[Sign],
    copies: u32,
    options: &RenderOptions,
) -> Result<(Vec<PageLayout>, Vec<Matrix>), PrintError> {
    validate(signs, copies)?;
    let logo = options.logo.map(Logo::aspect);
    let fonts = Fonts::get()?;
    let matrices = encode_all(signs)?;
    let per_page = template.signs_per_page();
    let total = signs.len() * copies as usize;
    let mut pages: Vec<PageLayout> = Vec::new();
    for item in 0..total {
        let sign_index = item / copies as usize;
        let slot = item % per_page;
        if slot == 0 {
            pages.push(PageLayout {
                width_mm: template.page_width_mm,
                height_mm: template.page_height_mm,
                signs: Vec::new(),
            });
        }
        let page = pages.last_mut().expect("pushed above");
        let sign = &signs[sign_index];
        let qr_modules = matrices[sign_index].width();
        if template.kind == TemplateKind::TableTent {
            let back = template.cell(0);
            let front = template.cell(1);
            let mut b = turned(&layout_sign(
                fonts, sign, sign_index, back, qr_modules, logo,
            ));
            b.rotated = true;
            page.signs.push(b);
            page.signs.push(layout_sign(
                fonts, sign, sign_index, front, qr_modules, logo,
            ));
        } else {
            let cell = template.cell(slot);
            page.signs
                .push(layout_sign(fonts, sign, sign_index, cell, qr_modules, logo));
        }
    }
    Ok((pages, matrices))
}

/// Encode every sign's QR payload, on all cores for large batches (the QR
/// encoder's mask search dominates layout time).
fn encode_all(signs: &[Sign]) -> Result<Vec<Matrix>, PrintError> {
    let encode = |chunk: &[Sign]| {
        chunk
            .iter()
            .map(|s| QrCode::encode(s.qr_payload.as_bytes(), SIGN_EC_LEVEL))
            .collect::<Result<Vec<_>, _>>()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if signs.len() < 64 || threads < 2 {
        return encode(signs);
    }
    let chunk = signs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = signs
            .chunks(chunk)
            .map(|c| scope.spawn(move || encode(c)))
            .collect();
        let mut out = Vec::with_capacity(signs.len());
        for h in handles {
            out.extend(h.join().expect("QR encoder thread panicked")?);
        }
        Ok(out)
    })
}

/// Font sizes (mm) as fractions of the text-box height, with upper limits.
struct Sizes {
    shop: f32,
    name: f32,
    price: f32,
    cta: f32,
}

fn layout_sign(
    fonts: &Fonts,
    sign: &Sign,
    sign_index: usize,
    cell: BoxMm,
    qr_modules: usize,
    logo_aspect: Option<f32>,
) -> PlacedSign {
    let portrait = cell.height > cell.width * 1.15;
    let inset = (cell.width.min(cell.height) * 0.05).clamp(1.2, 6.0);
    let gap = (inset * 0.8).max(1.0);
    let (qr_box, text_box, centered) = if portrait {
        let side = (cell.width - 2.0 * inset).min(cell.height * 0.5);
        let qr = BoxMm {
            x: cell.x + (cell.width - side) / 2.0,
            y: cell.bottom() - inset - side,
            width: side,
            height: side,
        };
        let text = BoxMm {
            x: cell.x + inset * 1.5,
            y: cell.y + inset * 1.5,
            width: cell.width - 3.0 * inset,
            height: qr.y - gap - (cell.y + inset * 1.5),
        };
        (qr, text, true)
    } else {
        // The quiet zone is white space already, so the QR box hugs the cell edge
        // with only a small inset against label misalignment.
        let side = (cell.height - 2.0 * inset * 0.6).min(cell.width * 0.46);
        let qr = BoxMm {
            x: cell.x + inset * 0.6,
            y: cell.y + (cell.height - side) / 2.0,
            width: side,
            height: side,
        };
        let tx = qr.right() + gap * 0.5;
        let text = BoxMm {
            x: tx,
            y: cell.y + inset,
            width: cell.right() - inset - tx,
            height: cell.height - 2.0 * inset,
        };
        (qr, text, false)
    };

    let h = text_box.height;
    let mut sz = Sizes {
        shop: (0.10 * h).min(6.0),
        name: (0.135 * h).min(13.0),
        price: (0.25 * h).min(28.0),
        cta: (0.09 * h).min(6.0),
    };
    let has_cta = sign
        .call_to_action
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty());
    let has_shop = !sign.shop_name.trim().is_empty();
    const LEAD: f32 = 1.2;
    // With a logo, the top row (logo, shop name beside it) is as tall as a shop
    // line plus a product-name line.
    let header = |s: &Sizes| match logo_aspect {
        Some(_) => s.shop * LEAD + s.name * LEAD,
        None if has_shop => s.shop * LEAD,
        None => 0.0,
    };
    let needed = |s: &Sizes| {
        header(s) + s.name * LEAD * 2.0 + s.price * 1.1 + if has_cta { s.cta * LEAD } else { 0.0 }
    };
    let total = needed(&sz);
    if total > h {
        let k = h / total;
        sz.shop *= k;
        sz.name *= k;
        sz.price *= k;
        sz.cta *= k;
    }
    let max_w = text_box.width;
    let mut lines = Vec::new();
    let mut place = |role: TextRole, text: String, bold: bool, size: f32, top: f32, grey: f32| {
        let width = fonts.width_em(&text, bold) * size;
        let x = if centered {
            text_box.x + (max_w - width).max(0.0) / 2.0
        } else {
            text_box.x
        };
        let baseline = top + 0.95 * size;
        lines.push(PlacedText {
            role,
            text,
            bold,
            size_mm: size,
            bbox: BoxMm {
                x,
                y: top,
                width,
                height: 1.2 * size,
            },
            baseline_mm: baseline,
            grey,
        });
    };

    // top group: [logo] shop name, product name (≤ 2 lines)
    let mut y = text_box.y;
    let mut logo_box = None;
    let mut shop_beside_logo = None;
    if let Some(aspect) = logo_aspect {
        let row = header(&sz);
        // the logo takes at most 45 % of the column, and shrinks (to 25 %) to leave
        // the shop name room beside it
        let logo_gap = (sz.shop * 0.6).max(0.8);
        let max_logo_w = if has_shop {
            let shop_w = fonts.width_em(sign.shop_name.trim(), false) * sz.shop;
            (max_w - logo_gap - shop_w).clamp(max_w * 0.25, max_w * 0.45)
        } else {
            max_w * 0.6
        };
        let pad = row * 0.06;
        let (mut lh, mut lw) = (row - 2.0 * pad, (row - 2.0 * pad) * aspect);
        if lw > max_logo_w {
            lw = max_logo_w;
            lh = lw / aspect;
        }
        let shop = has_shop.then(|| {
            let avail = (max_w - lw - logo_gap).max(0.0);
            ellipsize(fonts, sign.shop_name.trim(), false, avail / sz.shop)
        });
        let shop_w = shop
            .as_deref()
            .map_or(0.0, |t| fonts.width_em(t, false) * sz.shop);
        let group_w = lw
            + if shop.is_some() {
                logo_gap + shop_w
            } else {
                0.0
            };
        let x = if centered {
            text_box.x + (max_w - group_w).max(0.0) / 2.0
        } else {
            text_box.x
        };
        let b = BoxMm {
            x,
            y: y + (row - lh) / 2.0,
            width: lw,
            height: lh,
        };
        logo_box = Some(b);
        if let Some(shop) = shop {
            let top = y + (row - sz.shop * 1.2) / 2.0;
            let width = fonts.width_em(&shop, false) * sz.shop;
            let sx = b.right() + logo_gap;
            shop_beside_logo = Some(PlacedText {
                role: TextRole::ShopName,
                text: shop,
                bold: false,
                size_mm: sz.shop,
                bbox: BoxMm {
                    x: sx,
                    y: top,
                    width,
                    height: 1.2 * sz.shop,
                },
                baseline_mm: top + 0.95 * sz.shop,
                grey: 0.35,
            });
        }
        y += row;
    } else if has_shop {
        let shop = ellipsize(fonts, sign.shop_name.trim(), false, max_w / sz.shop);
        place(TextRole::ShopName, shop, false, sz.shop, y, 0.35);
        y += sz.shop * LEAD;
    }
    // Shrink the name (to at most 70 %) so its longest word is not broken mid-word.
    let name = sign.product_name.trim();
    let longest_word = name
        .split(|c: char| c.is_whitespace() || is_cjk(c))
        .take(64)
        .map(|w| fonts.width_em(w, true))
        .fold(0.0, f32::max);
    let name_size = if longest_word * sz.name > max_w {
        (max_w / longest_word).max(0.7 * sz.name)
    } else {
        sz.name
    };
    for line in wrap(fonts, name, true, max_w / name_size, 2) {
        place(TextRole::ProductName, line, true, name_size, y, 0.0);
        y += name_size * LEAD;
    }
    // bottom group: price (shrunk to fit the width), call to action
    let mut bottom = text_box.bottom();
    let mut cta_line = None;
    if has_cta {
        let cta = sign.call_to_action.as_deref().unwrap_or_default().trim();
        bottom -= sz.cta * LEAD;
        cta_line = Some((ellipsize(fonts, cta, false, max_w / sz.cta), bottom));
    }
    let price_text = sign.price_text.trim().to_string();
    let price_w = fonts.width_em(&price_text, true);
    let price_size = if price_w * sz.price > max_w {
        max_w / price_w
    } else {
        sz.price
    };
    let price_top = (bottom - price_size * 1.1).max(y);
    if !price_text.is_empty() {
        place(
            TextRole::Price,
            price_text,
            true,
            price_size,
            price_top,
            0.0,
        );
    }
    if let Some((cta, top)) = cta_line {
        place(TextRole::CallToAction, cta, false, sz.cta, top, 0.3);
    }

    if let Some(shop) = shop_beside_logo {
        lines.insert(0, shop);
    }
    PlacedSign {
        sign_index,
        cell,
        qr_box,
        qr_modules,
        payload: sign.qr_payload.clone(),
        lines,
        logo_box,
        rotated: false,
    }
}

/// Break `text` into at most `max_lines` lines of at most `max_em` em; the last
/// line is ellipsized if text remains. CJK characters may break anywhere, other
/// text at spaces (or anywhere if a single word is too long).
pub(crate) fn wrap(
    fonts: &Fonts,
    text: &str,
    bold: bool,
    max_em: f32,
    max_lines: usize,
) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut lines = Vec::new();
    let mut start = 0;
    while start < chars.len() && lines.len() < max_lines {
        // skip leading spaces
        while start < chars.len() && chars[start].is_whitespace() {
            start += 1;
        }
        if start >= chars.len() {
            break;
        }
        let mut width = 0.0;
        let mut end = start;
        let mut last_break = None; // index where the next line may start
        while end < chars.len() {
            let c = chars[end];
            let adv = fonts.advance_em(c, bold);
            if width + adv > max_em && !c.is_whitespace() {
                break;
            }
            width += adv;
            if c.is_whitespace() || is_cjk(c) {
                last_break = Some(if c.is_whitespace() { end + 1 } else { end });
            }
            end += 1;
            if end < chars.len() && is_cjk(chars[end]) {
                last_break = Some(end);
            }
        }
        let next = if end >= chars.len() {
            chars.len()
        } else {
            match last_break {
                Some(b) if b > start => b,
                _ => end.max(start + 1),
            }
        };
        let line: String = chars[start..next].iter().collect();
        lines.push(line.trim_end().to_string());
        start = next;
    }
    let rest_nonblank = chars[start.min(chars.len())..]
        .iter()
        .any(|c| !c.is_whitespace());
    if rest_nonblank && let Some(last) = lines.last_mut() {
        *last = add_ellipsis(fonts, last, bold, max_em);
    }
    lines
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// `text` if it fits in `max_em`, else its longest prefix that fits with "…" appended.
pub(crate) fn ellipsize(fonts: &Fonts, text: &str, bold: bool, max_em: f32) -> String {
    let mut width = 0.0;
    for (i, c) in text.char_indices() {
        width += fonts.advance_em(c, bold);
        if width > max_em {
            return add_ellipsis(fonts, &text[..i], bold, max_em);
        }
    }
    text.to_string()
}

/// Append "…" to `text`, dropping characters from its end until it fits.
fn add_ellipsis(fonts: &Fonts, text: &str, bold: bool, max_em: f32) -> String {
    let budget = max_em - fonts.advance_em(ELLIPSIS, bold);
    let mut s: String = text.to_string();
    while !s.is_empty() && fonts.width_em(&s, bold) > budget {
        s.pop();
    }
    let mut s = s.trim_end().to_string();
    s.push(ELLIPSIS);
    s
}

/// Render the signs to a PDF (fonts embedded as subsets, QR codes as vectors).
pub fn render(template: &Template, signs: &[Sign], copies: u32) -> Result<Vec<u8>, PrintError> {
    render_with(template, signs, copies, &RenderOptions::default())
}

/// [`render`] with options. A logo is embedded once per document (one image
/// XObject) and drawn on every sign.
pub fn render_with(
    template: &Template,
    signs: &[Sign],
    copies: u32,
    options: &RenderOptions,
) -> Result<Vec<u8>, PrintError> {
    let (pages, matrices) = layout_with_matrices(template, signs, copies, options)?;
    let fonts = Fonts::get()?;
    let mut doc = PdfDocument::new("Shopcast signage");
    let logo_id = options.logo.map(|logo| doc.add_image(&logo.raw_image()));
    let logo_id = logo_id.as_ref();
    let mut used: [BTreeSet<char>; 3] = Default::default();
    let mut pdf_pages = Vec::with_capacity(pages.len());
    for page in &pages {
        let ph = page.height_mm;
        let mut ops = Vec::new();
        // All QR codes of the page in one form XObject written directly: small integers in
        // module units, one stream per page (compresses well, no per-rectangle objects).
        let qr_page = doc.add_xobject(&qr_page_form(page, &matrices));
        ops.push(Op::SaveGraphicsState);
        ops.push(Op::UseXobject {
            id: qr_page,
            transform: XObjectTransform {
                no_auto_scale: true,
                ..Default::default()
            },
        });
        ops.push(Op::RestoreGraphicsState);
        if template.kind == TemplateKind::ShelfCards {
            cut_guides(&mut ops, page);
        }
        if template.kind == TemplateKind::TableTent {
            fold_line(&mut ops, page);
        }
        for placed in &page.signs {
            if placed.rotated {
                // rotate 180° around the cell centre (PDF coordinates)
                let cx = (placed.cell.x + placed.cell.width / 2.0) * MM_TO_PT;
                let cy = (ph - placed.cell.y - placed.cell.height / 2.0) * MM_TO_PT;
                ops.push(Op::SaveGraphicsState);
                ops.push(Op::SetTransformationMatrix {
                    matrix: CurTransMat::Raw([-1.0, 0.0, 0.0, -1.0, 2.0 * cx, 2.0 * cy]),
                });
                let unrotated = turned(placed);
                draw_sign(&mut ops, fonts, &unrotated, logo_id, ph, &mut used);
                ops.push(Op::RestoreGraphicsState);
            } else {
                draw_sign(&mut ops, fonts, placed, logo_id, ph, &mut used);
            }
        }
        pdf_pages.push(PdfPage::new(Mm(page.width_mm), Mm(page.height_mm), ops));
    }
    save(assemble(doc, pdf_pages, &used)?)
}

/// Embed the characters in `used` (indexed like [`Face::ALL`]) as font subsets, add the
/// pages and build the PDF objects, streams compressed.
pub(crate) fn assemble(
    mut doc: PdfDocument,
    pdf_pages: Vec<PdfPage>,
    used: &[BTreeSet<char>; 3],
) -> Result<lopdf::Document, PrintError> {
    for (i, face) in Face::ALL.iter().enumerate() {
        if !used[i].is_empty() {
            doc.resources.fonts.map.insert(
                FontId(face.id().to_string()),
                printpdf::PdfFont::new(crate::fonts::subset(*face, &used[i])?),
            );
        }
    }
    doc.with_pages(pdf_pages);
    // `optimize: false` skips lopdf's single-threaded `Compression::best()` pass;
    // `compress_streams` does the same job in parallel at the default level
    // (≈ 3× faster for large sheets, a few % larger).
    let opts = PdfSaveOptions {
        subset_fonts: true,
        optimize: false,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut lo = doc.to_lopdf_document(&opts, &mut warnings);
    compress_streams(&mut lo);
    Ok(lo)
}

/// The PDF file's bytes.
pub(crate) fn save(mut lo: lopdf::Document) -> Result<Vec<u8>, PrintError> {
    let mut out = Vec::new();
    lo.save_to(&mut out)
        .map_err(|e| PrintError::Pdf(e.to_string()))?;
    Ok(out)
}

/// Flate-compress every uncompressed stream, on all cores.
fn compress_streams(doc: &mut lopdf::Document) {
    use std::io::Write;
    let mut streams: Vec<&mut lopdf::Stream> = doc
        .objects
        .values_mut()
        .filter_map(|o| match o {
            lopdf::Object::Stream(s) if s.allows_compression && s.dict.get(b"Filter").is_err() => {
                Some(s)
            }
            _ => None,
        })
        .collect();
    let compress = |s: &mut lopdf::Stream| {
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        if enc.write_all(&s.content).is_ok()
            && let Ok(z) = enc.finish()
            && z.len() + 19 < s.content.len()
        {
            s.dict.set("Filter", "FlateDecode");
            s.set_content(z);
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 || streams.len() < 8 {
        streams.into_iter().for_each(compress);
        return;
    }
    let chunk = streams.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for part in streams.chunks_mut(chunk) {
            scope.spawn(move || part.iter_mut().for_each(|s| compress(s)));
        }
    });
}

/// Turn a sign's boxes 180° inside its cell (an involution: used to place the back
/// face of a tent and to map it back to where it is drawn before the `cm` turn).
fn turned(placed: &PlacedSign) -> PlacedSign {
    let mut p = placed.clone();
    p.qr_box = placed.qr_box.rotated_in(&placed.cell);
    p.logo_box = placed.logo_box.map(|b| b.rotated_in(&placed.cell));
    for l in &mut p.lines {
        let b = l.bbox.rotated_in(&placed.cell);
        l.baseline_mm = b.y + (l.baseline_mm - l.bbox.y);
        l.bbox = b;
    }
    p
}

fn grey(level: f32) -> Color {
    Color::Rgb(Rgb::new(level, level, level, None))
}

fn cut_guides(ops: &mut Vec<Op>, page: &PageLayout) {
    let ph = page.height_mm;
    ops.push(Op::SetOutlineColor { col: grey(0.75) });
    ops.push(Op::SetOutlineThickness { pt: Pt(0.3) });
    for placed in &page.signs {
        let c = placed.cell;
        ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(c.x * MM_TO_PT),
                y: Pt((ph - c.bottom()) * MM_TO_PT),
                width: Pt(c.width * MM_TO_PT),
                height: Pt(c.height * MM_TO_PT),
                mode: Some(PaintMode::Stroke),
                winding_order: None,
            },
        });
    }
}

fn fold_line(ops: &mut Vec<Op>, page: &PageLayout) {
    let y = page.height_mm / 2.0 * MM_TO_PT;
    ops.push(Op::SetOutlineColor { col: grey(0.7) });
    ops.push(Op::SetOutlineThickness { pt: Pt(0.4) });
    ops.push(Op::SetLineDashPattern {
        dash: LineDashPattern::new(0.0, &[4.0, 3.0]),
    });
    ops.push(Op::DrawLine {
        line: printpdf::Line {
            points: vec![
                LinePoint {
                    p: Point {
                        x: Pt(0.0),
                        y: Pt(y),
                    },
                    bezier: false,
                },
                LinePoint {
                    p: Point {
                        x: Pt(page.width_mm * MM_TO_PT),
                        y: Pt(y),
                    },
                    bezier: false,
                },
            ],
            is_closed: false,
        },
    });
    ops.push(Op::SetLineDashPattern {
        dash: LineDashPattern::solid(),
    });
}

fn draw_sign(
    ops: &mut Vec<Op>,
    fonts: &Fonts,
    placed: &PlacedSign,
    logo: Option<&XObjectId>,
    page_height_mm: f32,
    used: &mut [BTreeSet<char>; 3],
) {
    if let (Some(id), Some(b)) = (logo, placed.logo_box) {
        // the image is a unit square: scale it to the box (PDF origin bottom-left)
        ops.push(Op::SaveGraphicsState);
        ops.push(Op::SetTransformationMatrix {
            matrix: CurTransMat::Raw([
                round2(b.width * MM_TO_PT),
                0.0,
                0.0,
                round2(b.height * MM_TO_PT),
                round2(b.x * MM_TO_PT),
                round2((page_height_mm - b.bottom()) * MM_TO_PT),
            ]),
        });
        ops.push(Op::UseXobject {
            id: id.clone(),
            transform: XObjectTransform {
                no_auto_scale: true,
                ..Default::default()
            },
        });
        ops.push(Op::RestoreGraphicsState);
    }
    for line in &placed.lines {
        ops.push(Op::SetFillColor {
            col: grey(line.grey),
        });
        show_text(
            ops,
            fonts,
            &line.text,
            line.bold,
            (line.bbox.x, page_height_mm - line.baseline_mm),
            line.size_mm * MM_TO_PT,
            used,
        );
    }
}

/// One line of text starting at `origin` (mm from the page's *bottom*-left, on the
/// baseline) in the current fill colour, split into runs of the bundled face that has
/// their glyphs; the characters are added to `used` (indexed like [`Face::ALL`]) so
/// that the fonts can be subset afterwards.
pub(crate) fn show_text(
    ops: &mut Vec<Op>,
    fonts: &Fonts,
    text: &str,
    bold: bool,
    origin: (f32, f32),
    size_pt: f32,
    used: &mut [BTreeSet<char>; 3],
) {
    ops.push(Op::StartTextSection);
    ops.push(Op::SetTextMatrix {
        matrix: TextMatrix::Translate(
            Pt(round2(origin.0 * MM_TO_PT)),
            Pt(round2(origin.1 * MM_TO_PT)),
        ),
    });
    for (face, text) in fonts.runs(text, bold) {
        used[Face::ALL.iter().position(|f| *f == face).unwrap_or(0)].extend(text.chars());
        ops.push(Op::SetFont {
            font: PdfFontHandle::External(FontId(face.id().to_string())),
            size: Pt(round2(size_pt)),
        });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(text)],
        });
    }
    ops.push(Op::EndTextSection);
}

pub(crate) fn round2(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

/// Draw the QR as one filled path made of one rectangle per horizontal run of
/// dark modules, in module units (a single `cm` maps modules to the page) so the
/// content stream holds only small integers. Filling all runs as *one* path (rather
/// than one fill per rectangle) avoids anti-aliasing seams between rows on screen
/// and in rasterizing print drivers.
/// The dark modules of one code as `x y w 1 re` rectangles in module units (y down), one
/// per horizontal run.
fn write_qr_rects(content: &mut Vec<u8>, matrix: &Matrix) {
    use std::io::Write;
    for run in matrix.runs() {
        let _ = writeln!(content, "{} {} {} 1 re", run.x, run.y, run.len);
    }
}

/// Every QR code of a page as one form XObject in page coordinates (pt).
fn qr_page_form(page: &PageLayout, matrices: &[Matrix]) -> ExternalXObject {
    use std::io::Write;
    let ph = page.height_mm;
    let mut content = Vec::with_capacity(page.signs.len() * 4096);
    content.extend_from_slice(b"0 g\n");
    for placed in &page.signs {
        let matrix = &matrices[placed.sign_index];
        content.extend_from_slice(b"q\n");
        let qr_box = if placed.rotated {
            // The back face of a tent: turn 180° about the cell centre, then draw as usual.
            let cx = (placed.cell.x + placed.cell.width / 2.0) * MM_TO_PT;
            let cy = (ph - placed.cell.y - placed.cell.height / 2.0) * MM_TO_PT;
            let _ = writeln!(content, "-1 0 0 -1 {:.3} {:.3} cm", 2.0 * cx, 2.0 * cy);
            placed.qr_box.rotated_in(&placed.cell)
        } else {
            placed.qr_box
        };
        let total = (matrix.width() + 2 * QUIET_ZONE) as f32;
        let module_pt = qr_box.width / total * MM_TO_PT;
        let left = (qr_box.x * MM_TO_PT) + QUIET_ZONE as f32 * module_pt;
        let top = (ph - qr_box.y) * MM_TO_PT - QUIET_ZONE as f32 * module_pt;
        // Module units, y pointing down, origin at the code's top-left module.
        let _ = writeln!(
            content,
            "{module_pt:.4} 0 0 {:.4} {left:.3} {top:.3} cm",
            -module_pt
        );
        write_qr_rects(&mut content, matrix);
        content.extend_from_slice(b"f\nQ\n");
    }
    let (w, h) = (page.width_mm * MM_TO_PT, page.height_mm * MM_TO_PT);
    let dict = [
        ("Type", DictItem::Name(b"XObject".to_vec())),
        ("Subtype", DictItem::Name(b"Form".to_vec())),
        (
            "BBox",
            DictItem::Array(vec![
                DictItem::Int(0),
                DictItem::Int(0),
                DictItem::Real(w),
                DictItem::Real(h),
            ]),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    ExternalXObject {
        stream: ExternalStream {
            dict,
            content,
            compress: true,
        },
        width: None,
        height: None,
        dpi: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(name: &str) -> Sign {
        Sign {
            shop_name: "Tea House".into(),
            product_name: name.into(),
            price_text: "¥88.00".into(),
            qr_payload: "https://shop.example.com/p/1".into(),
            call_to_action: Some("Scan to order".into()),
        }
    }

    #[test]
    fn presets_are_valid_and_fit() {
        for name in Template::PRESETS {
            let t = Template::preset(name).unwrap();
            let last = t.cell((t.columns * t.rows) as usize - 1);
            assert!(last.right() <= t.page_width_mm + 0.05, "{name}");
            assert!(last.bottom() <= t.page_height_mm + 0.05, "{name}");
        }
        assert_eq!(
            Template::preset("nope").unwrap_err().code(),
            "unknown_template"
        );
    }

    #[test]
    fn custom_grid_overflow_says_by_how_much() {
        let err = Template::custom(GridSpec {
            page: PageSize::A4,
            columns: 3,
            rows: 8,
            label_width_mm: 72.0,
            label_height_mm: 37.0,
            margin_left_mm: Some(0.0),
            margin_top_mm: None,
            gap_x_mm: 0.0,
            gap_y_mm: 0.0,
        })
        .unwrap_err();
        assert_eq!(err.code(), "labels_do_not_fit");
        assert_eq!(
            err.to_string(),
            "The labels do not fit the page: they are 6.0 mm too wide."
        );
        let err = Template::custom(GridSpec {
            page: PageSize::Letter,
            columns: 2,
            rows: 6,
            label_width_mm: 101.6,
            label_height_mm: 50.8,
            margin_left_mm: None,
            margin_top_mm: None,
            gap_x_mm: 3.0,
            gap_y_mm: 0.0,
        })
        .unwrap_err();
        assert!(err.to_string().contains("25.4 mm too tall"), "{err}");
    }

    #[test]
    fn bad_templates() {
        let base = GridSpec {
            page: PageSize::A4,
            columns: 5,
            rows: 13,
            label_width_mm: 38.1,
            label_height_mm: 21.2,
            margin_left_mm: None,
            margin_top_mm: None,
            gap_x_mm: 2.5,
            gap_y_mm: 0.0,
        };
        assert!(Template::custom(base).is_ok());
        let zero = GridSpec { rows: 0, ..base };
        assert_eq!(
            Template::custom(zero).unwrap_err().code(),
            "invalid_template"
        );
        let tiny = GridSpec {
            label_width_mm: 20.0,
            label_height_mm: 10.0,
            ..base
        };
        assert_eq!(
            Template::custom(tiny).unwrap_err().code(),
            "label_too_small"
        );
        let neg = GridSpec {
            gap_x_mm: -1.0,
            ..base
        };
        assert_eq!(
            Template::custom(neg).unwrap_err().code(),
            "invalid_template"
        );
    }

    #[test]
    fn bad_input() {
        let t = Template::preset("a4-3x8").unwrap();
        assert_eq!(render(&t, &[], 1).unwrap_err(), PrintError::NoSigns);
        assert_eq!(
            render(&t, &[sign("Tea")], 0).unwrap_err().code(),
            "bad_copies"
        );
        assert_eq!(
            render(&t, &[sign("Tea")], 101).unwrap_err().to_string(),
            "Copies must be between 1 and 100; got 101."
        );
        let err = render(&t, &[sign("Tea"), sign("  ")], 1).unwrap_err();
        assert_eq!(err, PrintError::EmptyProductName { index: 1 });
        assert_eq!(err.to_string(), "Sign 2 has no product name.");
        let mut long = sign("Tea");
        long.qr_payload = "x".repeat(3120);
        let err = render(&t, &[long], 1).unwrap_err();
        assert_eq!(err.code(), "qr_payload_too_long");
        assert!(err.to_string().starts_with("This link is 3,120 bytes"));
        let mut empty = sign("Tea");
        empty.qr_payload.clear();
        assert_eq!(
            render(&t, &[empty], 1).unwrap_err().code(),
            "qr_payload_empty"
        );
    }

    #[test]
    fn wrap_and_ellipsize() {
        let f = Fonts::get().unwrap();
        let lines = wrap(f, "Earl Grey Supreme Loose Leaf", false, 8.0, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("Earl Grey"));
        assert!(lines[1].ends_with('…'));
        for l in &lines {
            assert!(f.width_em(l, false) <= 8.0 + 1e-3, "{l}");
        }
        let long = "龙".repeat(2000);
        let lines = wrap(f, &long, true, 6.0, 2);
        assert_eq!(lines[0], "龙".repeat(6));
        assert!(lines[1].ends_with('…') && lines[1].chars().count() == 6);
        assert_eq!(wrap(f, "Tea", false, 8.0, 2), vec!["Tea".to_string()]);
        assert_eq!(ellipsize(f, "Short", false, 20.0), "Short");
        let e = ellipsize(f, "A rather long shop name", false, 5.0);
        assert!(e.ends_with('…') && f.width_em(&e, false) <= 5.0);
    }

    #[test]
    fn layout_keeps_text_off_the_qr() {
        for name in Template::PRESETS {
            let t = Template::preset(name).unwrap();
            let pages = layout(&t, &[sign(&"龙井绿茶 特级 250g ".repeat(50))], 3).unwrap();
            for page in &pages {
                for s in &page.signs {
                    assert!(s.lines.iter().any(|l| l.role == TextRole::Price));
                    for l in &s.lines {
                        assert!(!l.bbox.intersects(&s.qr_box), "{name}: {l:?}");
                        assert!(l.bbox.right() <= s.cell.right() + 0.01, "{name}: {l:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn logo_stays_off_text_and_qr_for_any_aspect() {
        use image::ImageEncoder;
        let mut small = Template::preset("a4-3x8").unwrap();
        small.label_width_mm = 38.1;
        small.label_height_mm = 21.2;
        let templates: Vec<Template> = Template::PRESETS
            .iter()
            .map(|n| Template::preset(n).unwrap())
            .chain([small])
            .collect();
        for (w, h) in [(400, 100), (100, 100), (100, 300)] {
            let mut png = Vec::new();
            image::codecs::png::PngEncoder::new(&mut png)
                .write_image(
                    &vec![90; w * h * 3],
                    w as u32,
                    h as u32,
                    image::ExtendedColorType::Rgb8,
                )
                .unwrap();
            let logo = Logo::from_image_bytes(&png).unwrap();
            let opts = RenderOptions { logo: Some(&logo) };
            let mut no_shop = sign("Tea");
            no_shop.shop_name.clear();
            let mut long_shop = sign(&"龙井绿茶 特级 250g ".repeat(50));
            long_shop.shop_name = "A Very Long Shop Name Indeed ".repeat(5);
            let signs = [no_shop, long_shop, sign("Tea")];
            for t in &templates {
                for page in layout_with(t, &signs, 1, &opts).unwrap() {
                    for s in &page.signs {
                        let b = s.logo_box.expect("logo box");
                        assert!(!b.intersects(&s.qr_box), "{}: {b:?}", t.name);
                        assert!(b.x >= s.cell.x && b.right() <= s.cell.right(), "{}", t.name);
                        assert!(
                            b.y >= s.cell.y && b.bottom() <= s.cell.bottom(),
                            "{}",
                            t.name
                        );
                        for l in &s.lines {
                            assert!(!l.bbox.intersects(&b), "{}: {l:?} {b:?}", t.name);
                            assert!(!l.bbox.intersects(&s.qr_box), "{}: {l:?}", t.name);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn tent_has_rotated_copy() {
        let t = Template::preset("a5-tent").unwrap();
        let pages = layout(&t, &[sign("Tea"), sign("Coffee")], 1).unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].signs.len(), 2);
        assert!(pages[0].signs[0].rotated && !pages[0].signs[1].rotated);
        // the back copy is the front copy turned 180° about the page centre
        let (b, f) = (&pages[0].signs[0].qr_box, &pages[0].signs[1].qr_box);
        assert!((b.x + b.width - (210.0 - f.x)).abs() < 0.01);
    }
}
