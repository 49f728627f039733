//! Receipts: a sale laid out for a 58 mm or 80 mm roll or A4 as PDF, and as an ESC/POS
//! byte stream for thermal printers (GB18030 text, raster logo, QR, cut, drawer kick).

pub mod escpos;
pub mod pdf;
mod raster_text;

pub use pdf::receipt_pdf;

use crate::Logo;

/// One line of a receipt; texts are already formatted by core in the shop's locale.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptLine {
    pub name: String,
    pub quantity: i64,
    pub unit_text: String,
    pub amount_text: String,
    pub discount_text: Option<String>,
}

/// A paid sale as the customer takes it home.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub shop_name: String,
    pub logo: Option<Logo>,
    pub header_lines: Vec<String>,
    pub order_ref: String,
    pub time_text: String,
    pub till: Option<String>,
    pub lines: Vec<ReceiptLine>,
    /// (label, amount)
    pub totals: Vec<(String, String)>,
    /// (label, amount) per tax rate
    pub tax_lines: Vec<(String, String)>,
    pub payment_text: String,
    pub qr: Option<String>,
    pub footer: String,
}

/// The paper a receipt is printed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    Roll58,
    Roll80,
    A4,
}
