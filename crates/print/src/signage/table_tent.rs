//! The table-tent preset: one A5 sign printed twice on an A4 sheet that is folded across
//! the middle, the top copy turned 180° so both faces read upright on the table.

use printpdf::{LineDashPattern, LinePoint, Op, Point, Pt};

use crate::pdf::{MM_TO_PT, grey};

use super::placed::{BoxMm, PageLayout, PlacedSign};
use super::template::{GridSpec, a4_edge_to_edge};

/// The table-tent preset called `name`, if it is one.
pub(super) fn preset(name: &str) -> Option<GridSpec> {
    match name {
        // One 210 × 148.5 mm face above the fold, one below.
        "a5-tent" => Some(a4_edge_to_edge(1, 2, 210.0, 148.5)),
        _ => None,
    }
}

/// The translation (pt) of the PDF matrix `-1 0 0 -1 tx ty` that turns a drawing 180°
/// about the centre of `cell` on a page `page_height_mm` tall.
pub(super) fn half_turn_offset(cell: &BoxMm, page_height_mm: f32) -> (f32, f32) {
    let cx = (cell.x + cell.width / 2.0) * MM_TO_PT;
    let cy = (page_height_mm - cell.y - cell.height / 2.0) * MM_TO_PT;
    (2.0 * cx, 2.0 * cy)
}

/// Turn a sign's boxes 180° inside its cell (an involution: used to place the back
/// face of a tent and to map it back to where it is drawn before the `cm` turn).
pub(super) fn turned(placed: &PlacedSign) -> PlacedSign {
    let mut p = placed.clone();
    p.qr_box = placed.qr_box.rotated_in(&placed.cell);
    p.logo_box = placed.logo_box.map(|b| b.rotated_in(&placed.cell));
    if let Some(b) = &mut p.barcode {
        b.bbox = b.bbox.rotated_in(&placed.cell);
    }
    for l in &mut p.lines {
        let b = l.bbox.rotated_in(&placed.cell);
        l.baseline_mm = b.y + (l.baseline_mm - l.bbox.y);
        l.bbox = b;
    }
    p
}

/// A dashed grey line across the middle of the sheet, to fold along.
pub(super) fn fold_line(ops: &mut Vec<Op>, page: &PageLayout) {
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
