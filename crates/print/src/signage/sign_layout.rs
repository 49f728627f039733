//! Laying out one sign inside its cell: the QR code beside (landscape) or under (portrait)
//! the text, font sizes that fit, the optional logo with the shop name beside it.

use crate::fonts::Fonts;
use crate::text_fit::{ellipsize, is_cjk, wrap};

use super::Sign;
use super::placed::{BoxMm, PlacedBarcode, PlacedSign, PlacedText, TextRole};

/// Font sizes (mm) as fractions of the text-box height, with upper limits.
struct Sizes {
    shop: f32,
    name: f32,
    price: f32,
    cta: f32,
}

pub(super) fn layout_sign(
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
    let (text_box, barcode, barcode_lines) = match sign.barcode.as_deref().map(str::trim) {
        Some(digits) if !digits.is_empty() => {
            match place_barcode(fonts, digits, text_box, centered, gap) {
                Some((rest, placed, lines)) => (rest, Some(placed), lines),
                None => (text_box, None, Vec::new()),
            }
        }
        _ => (text_box, None, Vec::new()),
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
    lines.extend(barcode_lines);
    PlacedSign {
        sign_index,
        cell,
        qr_box,
        qr_modules,
        payload: sign.qr_payload.clone(),
        lines,
        logo_box,
        barcode,
        rotated: false,
    }
}

/// Modules across a whole EAN-13 symbol with its quiet zones (11 left, where the first
/// digit sits, and 7 right).
const EAN13_WITH_QUIET: f32 = 113.0;
/// Narrowest module that still scans reliably (GS1 allows 0.264 mm, 80 % of nominal).
const MIN_MODULE_MM: f32 = 0.25;
/// GS1's nominal module; symbols are never drawn larger than this.
const NOMINAL_MODULE_MM: f32 = 0.33;

/// An EAN-13 symbol at the bottom of `text_box` (centred when `centered`), its digits as
/// text lines under it; the text box shrinks by its height. `None` when the column is
/// too narrow or too short for bars that scan.
fn place_barcode(
    fonts: &Fonts,
    digits: &str,
    text_box: BoxMm,
    centered: bool,
    gap: f32,
) -> Option<(BoxMm, PlacedBarcode, Vec<PlacedText>)> {
    let module = (text_box.width / EAN13_WITH_QUIET).min(NOMINAL_MODULE_MM);
    if module < MIN_MODULE_MM || digits.len() != 13 {
        return None;
    }
    // nominal bars are 69 modules tall; keep most of the column for the text
    let bar_height = (69.0 * module).min(text_box.height * 0.28);
    let digit_size = (9.0 * module).min(bar_height * 0.5);
    if bar_height < 4.0 {
        return None;
    }
    let guard = bar_height + 0.5 * digit_size;
    let block_height = bar_height + 1.05 * digit_size;
    let symbol_width = EAN13_WITH_QUIET * module;
    let left = if centered {
        text_box.x + (text_box.width - symbol_width) / 2.0
    } else {
        text_box.x
    };
    let top = text_box.bottom() - block_height;
    let bbox = BoxMm {
        x: left + 11.0 * module,
        y: top,
        width: 95.0 * module,
        height: guard,
    };
    // The first digit in the left quiet zone, then six under each half (between guards).
    let groups = [
        (&digits[..1], left + 0.5 * module, left + 10.0 * module),
        (&digits[1..7], bbox.x + 3.0 * module, bbox.x + 45.0 * module),
        (&digits[7..], bbox.x + 50.0 * module, bbox.x + 92.0 * module),
    ];
    let digit_top = top + bar_height + 0.05 * digit_size;
    let lines = groups
        .into_iter()
        .map(|(text, from, to)| {
            let width = fonts.width_em(text, false) * digit_size;
            let x = from + ((to - from) - width).max(0.0) / 2.0;
            PlacedText {
                role: TextRole::BarcodeDigits,
                text: text.to_string(),
                bold: false,
                size_mm: digit_size,
                bbox: BoxMm {
                    x,
                    y: digit_top,
                    width,
                    height: digit_size,
                },
                baseline_mm: digit_top + 0.9 * digit_size,
                grey: 0.0,
            }
        })
        .collect();
    let rest = BoxMm {
        height: (top - gap * 0.5 - text_box.y).max(0.0),
        ..text_box
    };
    Some((
        rest,
        PlacedBarcode {
            digits: digits.to_string(),
            bbox,
            bar_height_mm: bar_height,
            module_mm: module,
        },
        lines,
    ))
}
