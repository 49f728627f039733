//! Drawing laid-out signs as PDF operations: the logo and text of a sign, and all QR codes
//! of a page as one form XObject of small integers in module units.

use std::collections::BTreeSet;

use printpdf::{
    CurTransMat, DictItem, ExternalStream, ExternalXObject, Op, PaintMode, Pt, Rect, XObjectId,
    XObjectTransform,
};

use crate::barcode::ean13_modules;

use crate::fonts::Fonts;
use crate::pdf::{MM_TO_PT, grey, round2, show_text};
use crate::qr::{Matrix, QUIET_ZONE};

use super::placed::{PageLayout, PlacedBarcode, PlacedSign};
use super::table_tent;

pub(super) fn draw_sign(
    ops: &mut Vec<Op>,
    fonts: &Fonts,
    placed: &PlacedSign,
    logo: Option<&XObjectId>,
    page_height_mm: f32,
    used: &mut [BTreeSet<char>; 3],
) {
    if let (Some(id), Some(b)) = (logo, placed.logo_box) {
        // the image is a unit square: scale it to the box (PDF origin bottom-left)
        ops.push(Op::SaveGraphicsState);
        ops.push(Op::SetTransformationMatrix {
            matrix: CurTransMat::Raw([
                round2(b.width * MM_TO_PT),
                0.0,
                0.0,
                round2(b.height * MM_TO_PT),
                round2(b.x * MM_TO_PT),
                round2((page_height_mm - b.bottom()) * MM_TO_PT),
            ]),
        });
        ops.push(Op::UseXobject {
            id: id.clone(),
            transform: XObjectTransform {
                no_auto_scale: true,
                ..Default::default()
            },
        });
        ops.push(Op::RestoreGraphicsState);
    }
    if let Some(barcode) = &placed.barcode {
        draw_barcode(ops, barcode, page_height_mm);
    }
    for line in &placed.lines {
        ops.push(Op::SetFillColor {
            col: grey(line.grey),
        });
        show_text(
            ops,
            fonts,
            &line.text,
            line.bold,
            (line.bbox.x, page_height_mm - line.baseline_mm),
            line.size_mm * MM_TO_PT,
            used,
        );
    }
}

/// The bars of an EAN-13 symbol as filled rectangles, one per run of dark modules (the
/// layout validated the digits; a pattern that cannot be made draws nothing).
fn draw_barcode(ops: &mut Vec<Op>, barcode: &PlacedBarcode, page_height_mm: f32) {
    let Ok(modules) = ean13_modules(&barcode.digits) else {
        return;
    };
    ops.push(Op::SetFillColor { col: grey(0.0) });
    for (start, len, guard) in bar_runs(&modules) {
        let height = if guard {
            barcode.bbox.height
        } else {
            barcode.bar_height_mm
        };
        let b = &barcode.bbox;
        ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(round2((b.x + start as f32 * barcode.module_mm) * MM_TO_PT)),
                y: Pt(round2((page_height_mm - b.y - height) * MM_TO_PT)),
                width: Pt(round2(len as f32 * barcode.module_mm * MM_TO_PT)),
                height: Pt(round2(height * MM_TO_PT)),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
    }
}

/// Runs of dark modules as (first module, length, is a guard bar).
pub(crate) fn bar_runs(modules: &[bool]) -> Vec<(usize, usize, bool)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < modules.len() {
        if modules[i] {
            let start = i;
            while i < modules.len() && modules[i] {
                i += 1;
            }
            let guard = start < 3 || (45..50).contains(&start) || start >= 92;
            runs.push((start, i - start, guard));
        } else {
            i += 1;
        }
    }
    runs
}

/// Draw the QR as one filled path made of one rectangle per horizontal run of
/// dark modules, in module units (a single `cm` maps modules to the page) so the
/// content stream holds only small integers. Filling all runs as *one* path (rather
/// than one fill per rectangle) avoids anti-aliasing seams between rows on screen
/// and in rasterizing print drivers.
/// The dark modules of one code as `x y w 1 re` rectangles in module units (y down), one
/// per horizontal run.
fn write_qr_rects(content: &mut Vec<u8>, matrix: &Matrix) {
    use std::io::Write;
    for run in matrix.runs() {
        let _ = writeln!(content, "{} {} {} 1 re", run.x, run.y, run.len);
    }
}

/// Every QR code of a page as one form XObject in page coordinates (pt).
pub(super) fn qr_page_form(page: &PageLayout, matrices: &[Matrix]) -> ExternalXObject {
    use std::io::Write;
    let ph = page.height_mm;
    let mut content = Vec::with_capacity(page.signs.len() * 4096);
    content.extend_from_slice(b"0 g\n");
    for placed in &page.signs {
        let matrix = &matrices[placed.sign_index];
        content.extend_from_slice(b"q\n");
        let qr_box = if placed.rotated {
            // The back face of a tent: turn 180° about the cell centre, then draw as usual.
            let (tx, ty) = table_tent::half_turn_offset(&placed.cell, ph);
            let _ = writeln!(content, "-1 0 0 -1 {tx:.3} {ty:.3} cm");
            placed.qr_box.rotated_in(&placed.cell)
        } else {
            placed.qr_box
        };
        let total = (matrix.width() + 2 * QUIET_ZONE) as f32;
        let module_pt = qr_box.width / total * MM_TO_PT;
        let left = (qr_box.x * MM_TO_PT) + QUIET_ZONE as f32 * module_pt;
        let top = (ph - qr_box.y) * MM_TO_PT - QUIET_ZONE as f32 * module_pt;
        // Module units, y pointing down, origin at the code's top-left module.
        let _ = writeln!(
            content,
            "{module_pt:.4} 0 0 {:.4} {left:.3} {top:.3} cm",
            -module_pt
        );
        write_qr_rects(&mut content, matrix);
        content.extend_from_slice(b"f\nQ\n");
    }
    let (w, h) = (page.width_mm * MM_TO_PT, page.height_mm * MM_TO_PT);
    let dict = [
        ("Type", DictItem::Name(b"XObject".to_vec())),
        ("Subtype", DictItem::Name(b"Form".to_vec())),
        (
            "BBox",
            DictItem::Array(vec![
                DictItem::Int(0),
                DictItem::Int(0),
                DictItem::Real(w),
                DictItem::Real(h),
            ]),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    ExternalXObject {
        stream: ExternalStream {
            dict,
            content,
            compress: true,
        },
        width: None,
        height: None,
        dpi: None,
    }
}
