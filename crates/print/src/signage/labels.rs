//! Label-sheet presets: die-cut adhesive labels (Avery geometries) on A4 and Letter, printed
//! without guides.

use super::template::{GridSpec, PageSize};

const INCH: f32 = 25.4;

/// The label-sheet preset called `name`, if it is one.
pub(super) fn preset(name: &str) -> Option<GridSpec> {
    match name {
        // Avery 3474: 3 × 8 labels of 70 × 37 mm, no gaps.
        "a4-3x8" => Some(GridSpec {
            page: PageSize::A4,
            columns: 3,
            rows: 8,
            label_width_mm: 70.0,
            label_height_mm: 37.0,
            margin_left_mm: Some(0.0),
            margin_top_mm: Some(0.5),
            gap_x_mm: 0.0,
            gap_y_mm: 0.0,
        }),
        // Avery 5163: 2 × 5 labels of 4 × 2 in.
        "letter-2x5" => Some(GridSpec {
            page: PageSize::Letter,
            columns: 2,
            rows: 5,
            label_width_mm: 4.0 * INCH,
            label_height_mm: 2.0 * INCH,
            margin_left_mm: Some(0.15625 * INCH),
            margin_top_mm: Some(0.5 * INCH),
            gap_x_mm: 0.1875 * INCH,
            gap_y_mm: 0.0,
        }),
        _ => None,
    }
}
