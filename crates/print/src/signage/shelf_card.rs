//! Shelf-card presets: A6 and A7 cards printed several to an A4 sheet of plain paper, with
//! light grey cut guides around every card.

use printpdf::{Op, PaintMode, Pt, Rect};

use crate::pdf::{MM_TO_PT, grey};

use super::placed::PageLayout;
use super::template::{GridSpec, a4_edge_to_edge};

/// The shelf-card preset called `name`, if it is one.
pub(super) fn preset(name: &str) -> Option<GridSpec> {
    match name {
        // Four A6 cards (105 × 148.5 mm) per A4.
        "a6-card" => Some(a4_edge_to_edge(2, 2, 105.0, 148.5)),
        // Eight A7 cards (landscape, 105 × 74.25 mm) per A4.
        "a7-card" => Some(a4_edge_to_edge(2, 4, 105.0, 74.25)),
        _ => None,
    }
}

/// A light grey outline around every card, to cut along.
pub(super) fn cut_guides(ops: &mut Vec<Op>, page: &PageLayout) {
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
