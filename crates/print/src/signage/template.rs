//! Templates: paper sizes, label grids ([`GridSpec`]) and the validated [`Template`] that
//! says where each piece sits on a sheet; the presets come from the per-kind modules.

use crate::error::PrintError;

use super::placed::BoxMm;
use super::{labels, shelf_card, table_tent};

/// Smallest accepted label side lengths (short side, long side), in mm.
pub const MIN_LABEL_MM: (f32, f32) = (15.0, 30.0);

/// Paper size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PageSize {
    /// 210 × 297 mm.
    A4,
    /// 215.9 × 279.4 mm.
    Letter,
    /// Any size, portrait or landscape.
    Custom { width_mm: f32, height_mm: f32 },
}

impl PageSize {
    /// (width, height) in mm.
    pub fn dimensions_mm(self) -> (f32, f32) {
        match self {
            PageSize::A4 => (210.0, 297.0),
            PageSize::Letter => (215.9, 279.4),
            PageSize::Custom {
                width_mm,
                height_mm,
            } => (width_mm, height_mm),
        }
    }
}

/// What is printed in each grid cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    /// Die-cut adhesive labels: no guides are printed.
    Labels,
    /// Cards cut from plain paper: light grey cut guides are printed.
    ShelfCards,
    /// Folded table tent: each page holds one sign twice, the top copy rotated 180°.
    /// The grid must be 1 column × 2 rows.
    TableTent,
}

/// A custom label grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridSpec {
    pub page: PageSize,
    pub columns: u32,
    pub rows: u32,
    pub label_width_mm: f32,
    pub label_height_mm: f32,
    /// `None` centres the grid horizontally.
    pub margin_left_mm: Option<f32>,
    /// `None` centres the grid vertically.
    pub margin_top_mm: Option<f32>,
    pub gap_x_mm: f32,
    pub gap_y_mm: f32,
}

/// A validated page layout: where the pieces sit on each sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: String,
    pub kind: TemplateKind,
    pub page_width_mm: f32,
    pub page_height_mm: f32,
    pub columns: u32,
    pub rows: u32,
    pub label_width_mm: f32,
    pub label_height_mm: f32,
    pub margin_left_mm: f32,
    pub margin_top_mm: f32,
    pub gap_x_mm: f32,
    pub gap_y_mm: f32,
}

impl Template {
    /// Names accepted by [`Template::preset`].
    pub const PRESETS: [&'static str; 5] =
        ["a4-3x8", "letter-2x5", "a6-card", "a7-card", "a5-tent"];

    /// A built-in template by name (see the module docs).
    pub fn preset(name: &str) -> Result<Template, PrintError> {
        let (kind, spec) = labels::preset(name)
            .map(|spec| (TemplateKind::Labels, spec))
            .or_else(|| shelf_card::preset(name).map(|spec| (TemplateKind::ShelfCards, spec)))
            .or_else(|| table_tent::preset(name).map(|spec| (TemplateKind::TableTent, spec)))
            .ok_or_else(|| PrintError::UnknownTemplate(name.to_string()))?;
        let mut t = Template::custom(spec)?;
        t.name = name.to_string();
        t.kind = kind;
        Ok(t)
    }

    /// A custom label grid, validated: every label must lie on the page.
    pub fn custom(spec: GridSpec) -> Result<Template, PrintError> {
        let (pw, ph) = spec.page.dimensions_mm();
        let finite = [
            pw,
            ph,
            spec.label_width_mm,
            spec.label_height_mm,
            spec.gap_x_mm,
            spec.gap_y_mm,
            spec.margin_left_mm.unwrap_or(0.0),
            spec.margin_top_mm.unwrap_or(0.0),
        ];
        if finite.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(PrintError::InvalidTemplate(
                "sizes, margins and gaps must be positive numbers".into(),
            ));
        }
        if spec.columns == 0 || spec.rows == 0 || spec.columns > 50 || spec.rows > 50 {
            return Err(PrintError::InvalidTemplate(
                "columns and rows must be between 1 and 50".into(),
            ));
        }
        let (w, h) = (spec.label_width_mm, spec.label_height_mm);
        let (short, long) = if w < h { (w, h) } else { (h, w) };
        if short < MIN_LABEL_MM.0 || long < MIN_LABEL_MM.1 {
            let (min_w, min_h) = if w < h {
                (MIN_LABEL_MM.0, MIN_LABEL_MM.1)
            } else {
                (MIN_LABEL_MM.1, MIN_LABEL_MM.0)
            };
            return Err(PrintError::LabelTooSmall {
                width_mm: w,
                height_mm: h,
                min_width_mm: min_w,
                min_height_mm: min_h,
            });
        }
        let grid_w = spec.columns as f32 * w + (spec.columns - 1) as f32 * spec.gap_x_mm;
        let grid_h = spec.rows as f32 * h + (spec.rows - 1) as f32 * spec.gap_y_mm;
        let left = spec
            .margin_left_mm
            .unwrap_or(((pw - grid_w) / 2.0).max(0.0));
        let top = spec.margin_top_mm.unwrap_or(((ph - grid_h) / 2.0).max(0.0));
        const TOLERANCE: f32 = 0.05;
        let over_x = left + grid_w - pw;
        if over_x > TOLERANCE {
            return Err(PrintError::LabelsDoNotFit {
                horizontal: true,
                overflow_mm: over_x,
            });
        }
        let over_y = top + grid_h - ph;
        if over_y > TOLERANCE {
            return Err(PrintError::LabelsDoNotFit {
                horizontal: false,
                overflow_mm: over_y,
            });
        }
        Ok(Template {
            name: format!("custom-{}x{}", spec.columns, spec.rows),
            kind: TemplateKind::Labels,
            page_width_mm: pw,
            page_height_mm: ph,
            columns: spec.columns,
            rows: spec.rows,
            label_width_mm: w,
            label_height_mm: h,
            margin_left_mm: left,
            margin_top_mm: top,
            gap_x_mm: spec.gap_x_mm,
            gap_y_mm: spec.gap_y_mm,
        })
    }

    /// Signs per sheet (a table tent holds one sign, printed twice).
    pub fn signs_per_page(&self) -> usize {
        match self.kind {
            TemplateKind::TableTent => 1,
            _ => (self.columns * self.rows) as usize,
        }
    }

    pub(crate) fn cell(&self, index: usize) -> BoxMm {
        let col = index % self.columns as usize;
        let row = index / self.columns as usize;
        BoxMm {
            x: self.margin_left_mm + col as f32 * (self.label_width_mm + self.gap_x_mm),
            y: self.margin_top_mm + row as f32 * (self.label_height_mm + self.gap_y_mm),
            width: self.label_width_mm,
            height: self.label_height_mm,
        }
    }
}

/// An A4 sheet cut edge to edge into `columns` × `rows` pieces of `width` × `height` mm
/// (cards and tents: no margins, no gaps).
pub(super) fn a4_edge_to_edge(columns: u32, rows: u32, width: f32, height: f32) -> GridSpec {
    GridSpec {
        page: PageSize::A4,
        columns,
        rows,
        label_width_mm: width,
        label_height_mm: height,
        margin_left_mm: Some(0.0),
        margin_top_mm: Some(0.0),
        gap_x_mm: 0.0,
        gap_y_mm: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_fit() {
        for name in Template::PRESETS {
            let t = Template::preset(name).unwrap();
            let last = t.cell((t.columns * t.rows) as usize - 1);
            assert!(last.right() <= t.page_width_mm + 0.05, "{name}");
            assert!(last.bottom() <= t.page_height_mm + 0.05, "{name}");
        }
        assert_eq!(
            Template::preset("nope").unwrap_err().code(),
            "unknown_template"
        );
    }

    #[test]
    fn custom_grid_overflow_says_by_how_much() {
        let err = Template::custom(GridSpec {
            page: PageSize::A4,
            columns: 3,
            rows: 8,
            label_width_mm: 72.0,
            label_height_mm: 37.0,
            margin_left_mm: Some(0.0),
            margin_top_mm: None,
            gap_x_mm: 0.0,
            gap_y_mm: 0.0,
        })
        .unwrap_err();
        assert_eq!(err.code(), "labels_do_not_fit");
        assert_eq!(
            err.to_string(),
            "The labels do not fit the page: they are 6.0 mm too wide."
        );
        let err = Template::custom(GridSpec {
            page: PageSize::Letter,
            columns: 2,
            rows: 6,
            label_width_mm: 101.6,
            label_height_mm: 50.8,
            margin_left_mm: None,
            margin_top_mm: None,
            gap_x_mm: 3.0,
            gap_y_mm: 0.0,
        })
        .unwrap_err();
        assert!(err.to_string().contains("25.4 mm too tall"), "{err}");
    }

    #[test]
    fn bad_templates() {
        let base = GridSpec {
            page: PageSize::A4,
            columns: 5,
            rows: 13,
            label_width_mm: 38.1,
            label_height_mm: 21.2,
            margin_left_mm: None,
            margin_top_mm: None,
            gap_x_mm: 2.5,
            gap_y_mm: 0.0,
        };
        assert!(Template::custom(base).is_ok());
        let zero = GridSpec { rows: 0, ..base };
        assert_eq!(
            Template::custom(zero).unwrap_err().code(),
            "invalid_template"
        );
        let tiny = GridSpec {
            label_width_mm: 20.0,
            label_height_mm: 10.0,
            ..base
        };
        assert_eq!(
            Template::custom(tiny).unwrap_err().code(),
            "label_too_small"
        );
        let neg = GridSpec {
            gap_x_mm: -1.0,
            ..base
        };
        assert_eq!(
            Template::custom(neg).unwrap_err().code(),
            "invalid_template"
        );
    }
}
