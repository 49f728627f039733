//! Daily bar charts: a value axis, one vector rectangle per bar (tagged for counting) and as
//! many bar labels as fit without overlapping.

use printpdf::Op;

use crate::signage::BoxMm;

use super::canvas::*;
use super::{BarChart, CHART_BARS_TAG};

/// Height of a chart's plot area (the tallest bar), mm.
pub(super) const PLOT_H: f32 = 44.0;
/// Label steps tried when bar labels would overlap (a week, a fortnight, a month, …).
pub(super) const LABEL_STEPS: [usize; 13] = [1, 2, 3, 4, 5, 7, 10, 14, 15, 30, 60, 90, 180];

/// Title, the value axis (top line labelled with `axis_max_text`), one filled rectangle
/// per bar with a value above zero, and as many bar labels as fit without overlapping.
pub(super) fn bar_chart(c: &mut Canvas<'_>, chart: &BarChart) {
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
