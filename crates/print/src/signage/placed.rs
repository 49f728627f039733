//! The laid-out signs: boxes in millimetres from the page's top-left corner, the lines of
//! text and the QR code of each sign, and the pages they sit on.

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
    pub(crate) fn rotated_in(&self, frame: &BoxMm) -> BoxMm {
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
    /// The digits printed under an EAN-13 barcode.
    BarcodeDigits,
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
    pub(crate) baseline_mm: f32,
    pub(crate) grey: f32,
}

/// One sign placed on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedSign {
    /// Index into the `signs` slice given to [`layout`](super::layout).
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
    /// The EAN-13 bars, when the sign has a barcode and its text column has room for
    /// scannable bars (their digits are lines with [`TextRole::BarcodeDigits`]).
    pub barcode: Option<PlacedBarcode>,
    /// Drawn upside down (the back face of a table tent). `qr_box` and the line
    /// boxes are given in final page coordinates either way.
    pub rotated: bool,
}

/// An EAN-13 symbol on a sign: 95 modules across `bbox`, quiet zones outside it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedBarcode {
    /// The 13 digits.
    pub digits: String,
    /// From the start guard to the end guard, as tall as the guard bars (which reach
    /// down between the digits); turned 180° with the sign on the back of a tent.
    pub bbox: BoxMm,
    /// Height of the data bars, from the top of `bbox` as the sign reads.
    pub bar_height_mm: f32,
    /// Width of one module in mm.
    pub module_mm: f32,
}

/// One page of the laid-out document.
#[derive(Debug, Clone, PartialEq)]
pub struct PageLayout {
    pub width_mm: f32,
    pub height_mm: f32,
    pub signs: Vec<PlacedSign>,
}
