//! Tables that flow over pages: a title and a shaded header row repeated on every page the
//! table continues on, zebra rows never split, optional links on the first cell.

use crate::pdf::MM_TO_PT;
use crate::signage::BoxMm;

use super::canvas::*;
use super::{Align, ReportLabels, Table};

/// A table: its title, a shaded header row, zebra rows; continued on the next page
/// (title + "(continued)" + header again) when a row would not fit.
pub(super) fn table_section(c: &mut Canvas<'_>, table: &Table, labels: &ReportLabels) {
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
