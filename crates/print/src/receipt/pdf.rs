//! A receipt as PDF: one page exactly as tall as the receipt on a 58 or 80 mm roll, or
//! the receipt's column at the top of an A4 sheet (for an office printer or e-mail).

use crate::error::PrintError;
use crate::roll::{BODY, Column, MUTED, STRONG, TITLE};

use super::{Paper, Receipt};

/// Indent of the quantity and discount lines under an item's name, in mm.
const ITEM_INDENT: f32 = 3.0;

/// The receipt laid out for `paper`: logo, shop name, header lines, order, time and till,
/// the items, totals, tax, payment, QR code and footer; Chinese prints in the bundled
/// CJK font.
pub fn receipt_pdf(receipt: &Receipt, paper: Paper) -> Result<Vec<u8>, PrintError> {
    let mut col = Column::new(paper)?;
    if let Some(logo) = &receipt.logo {
        col.logo(logo);
    }
    col.centred(&receipt.shop_name, TITLE);
    for line in &receipt.header_lines {
        col.centred(line, MUTED);
    }
    col.rule();
    col.label_amount(&receipt.order_ref, &receipt.time_text, BODY, 0.0);
    if let Some(till) = &receipt.till {
        col.left(till, BODY, 0.0);
    }
    col.rule();
    for line in &receipt.lines {
        col.left(&line.name, BODY, 0.0);
        let quantity = format!("{} × {}", line.quantity, line.unit_text);
        col.label_amount(&quantity, &line.amount_text, BODY, ITEM_INDENT);
        if let Some(discount) = &line.discount_text {
            col.left(discount, MUTED, ITEM_INDENT);
        }
    }
    col.rule();
    for (label, amount) in &receipt.totals {
        col.label_amount(label, amount, STRONG, 0.0);
    }
    if !receipt.tax_lines.is_empty() {
        col.gap(1.0);
        for (label, amount) in &receipt.tax_lines {
            col.label_amount(label, amount, MUTED, 0.0);
        }
    }
    col.gap(1.5);
    col.left(&receipt.payment_text, BODY, 0.0);
    if let Some(qr) = receipt.qr.as_deref().filter(|q| !q.trim().is_empty()) {
        col.gap(2.0);
        col.qr(qr)?;
    }
    col.gap(2.0);
    col.centred(&receipt.footer, MUTED);
    col.finish("Receipt", receipt.logo.as_ref())
}
