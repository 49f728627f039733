//! Printable material for Shopcast: QR codes, signage, receipts and till reports.
//!
//! This crate takes plain data only (no dependency on `shopcast-core`):
//!
//! * [`qr`]: encode a payload to a module [`qr::Matrix`], write it as SVG or PNG.
//! * [`signage`]: lay out [`signage::Sign`]s on a [`signage::Template`] (label sheets,
//!   shelf cards, table tents) and [`signage::render`] them to a PDF with vector QR
//!   codes and subset-embedded fonts (Latin + CJK).
//! * [`barcode`]: GS1 check digits, GTINs cleaned and checked, EAN-13 bar patterns (drawn
//!   beside the QR when a [`Sign`] has a `barcode`).
//! * [`receipt`]: a sale as a PDF ([`receipt_pdf`], 58/80 mm roll or A4) or ESC/POS bytes.
//! * [`till_report`]: the till's X and Z reports as a PDF, in the receipt's column.
//! * An optional shop [`Logo`] on every sign: [`render_with`] / [`preview_svg_with`]
//!   with [`RenderOptions`] (the PDF embeds it once and reuses it on every sign).
//!
//! ```
//! use shopcast_print::{Sign, Template, render};
//!
//! let sign = Sign {
//!     shop_name: "西湖茶庄".into(),
//!     product_name: "龙井绿茶 特级 250g".into(),
//!     price_text: "¥88.00".into(),
//!     qr_payload: "https://shop.example.com/p/SKU-1?src=qr".into(),
//!     call_to_action: Some("扫码下单 Scan to order".into()),
//!     barcode: Some("6901234567892".into()),
//! };
//! let template = Template::preset("a4-3x8")?;
//! let pdf = render(&template, &[sign], 24)?; // one full sheet
//! assert!(pdf.starts_with(b"%PDF-"));
//! # Ok::<(), shopcast_print::PrintError>(())
//! ```

pub mod barcode;
mod error;
mod fonts;
mod logo;
mod pdf;
mod preview;
pub mod qr;
pub mod receipt;
pub mod report;
mod roll;
pub mod signage;
mod text_fit;
pub mod till_report;

pub use barcode::{BarcodeError, Gtin, ean13_modules, gs1_check_digit, normalize_gtin};
pub use error::PrintError;
pub use logo::{LOGO_MAX_PX, Logo, RenderOptions};
pub use preview::{preview_svg, preview_svg_with};
pub use qr::{EcLevel, Matrix, QrCode, to_png, to_svg};
pub use receipt::{Paper, Receipt, ReceiptLine, receipt_pdf};
pub use report::{ReportDoc, render_report};
pub use signage::{
    BoxMm, GridSpec, PageLayout, PageSize, PlacedBarcode, PlacedSign, PlacedText, Sign, Template,
    TemplateKind, TextRole, layout, layout_with, render, render_with,
};
pub use till_report::{TillReportDoc, render_till_report};
