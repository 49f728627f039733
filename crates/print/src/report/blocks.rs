//! The report's fixed blocks: the header (shop, title, period), the totals cards, the
//! "no sales" notice, and the footer with page numbers on every page.

use crate::pdf::MM_TO_PT;
use crate::signage::BoxMm;
use crate::text_fit::wrap;

use super::canvas::*;
use super::{ReportDoc, TotalsBlock};

/// Shop name and generated-at on the first line, the title large, the period, a rule.
pub(super) fn header(c: &mut Canvas<'_>, doc: &ReportDoc) {
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
pub(super) fn totals(c: &mut Canvas<'_>, blocks: &[TotalsBlock]) {
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

/// The "no sales" message, large and centred in a shaded box (up to three lines).
pub(super) fn empty_notice(c: &mut Canvas<'_>, message: &str) {
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
pub(super) fn footers(c: &mut Canvas<'_>, doc: &ReportDoc) {
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
