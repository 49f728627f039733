//! Receipt lines drawn as 1-bit images for printers whose font lacks Chinese
//! (`Chinese::Raster`): one 24-dot row per line, 12 dots per column, sent as GS v 0.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, Glyph, GlyphId, PxScale, ScaleFont, point};

use super::escpos::char_columns;

/// Dots per half-width column of the printer's Font A (a CJK character takes two).
pub(crate) const COLUMN_DOTS: u32 = 12;
/// Height of a Font A line in dots.
pub(crate) const LINE_DOTS: u32 = 24;

// The same files `crate::fonts` embeds for PDFs; the rasterizer needs the raw bytes.
// The same embedded bytes as the PDFs use (one copy of the 4 MB CJK font in the binary).
use crate::fonts::{CJK, SANS};

/// Where the text of a line sits on the paper (ESC a 0/1/2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Centre,
    // No part of a receipt is right-aligned today; kept so every ESC a has its image form.
    #[cfg_attr(not(test), allow(dead_code))]
    Right,
}

/// A 1-bit image, rows packed eight dots a byte, leftmost dot in the high bit (as GS v 0 takes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bitmap {
    width: u32,
    height: u32,
    bytes_per_row: u32,
    dots: Vec<u8>,
}

impl Bitmap {
    fn new(width: u32, height: u32) -> Bitmap {
        let bytes_per_row = width.div_ceil(8);
        Bitmap {
            width,
            height,
            bytes_per_row,
            dots: vec![0; (bytes_per_row * height) as usize],
        }
    }

    /// Width in dots, a whole number of bytes.
    #[cfg(test)]
    pub(crate) fn width(&self) -> u32 {
        self.bytes_per_row * 8
    }

    #[cfg(test)]
    pub(crate) fn height(&self) -> u32 {
        self.height
    }

    fn set(&mut self, x: i64, y: i64) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let i = y as usize * self.bytes_per_row as usize + x as usize / 8;
        if let Some(b) = self.dots.get_mut(i) {
            *b |= 0x80 >> (x % 8);
        }
    }

    /// Whether the dot at (x, y) is printed.
    #[cfg(test)]
    pub(crate) fn is_dark(&self, x: u32, y: u32) -> bool {
        let i = y as usize * self.bytes_per_row as usize + x as usize / 8;
        x < self.width && self.dots.get(i).is_some_and(|b| b & (0x80 >> (x % 8)) != 0)
    }

    /// How many dots are printed.
    #[cfg(test)]
    pub(crate) fn dark_dots(&self) -> u32 {
        self.dots.iter().map(|b| b.count_ones()).sum()
    }

    /// GS v 0 m xL xH yL yH d1…dk, normal density.
    pub(crate) fn gs_v0(&self) -> Vec<u8> {
        let mut out = vec![0x1D, 0x76, 0x30, 0x00];
        out.extend_from_slice(&(self.bytes_per_row as u16).to_le_bytes());
        out.extend_from_slice(&(self.height as u16).to_le_bytes());
        out.extend_from_slice(&self.dots);
        out
    }
}

struct Faces {
    sans: FontRef<'static>,
    cjk: FontRef<'static>,
}

/// The two faces, parsed once; `None` if a bundled file is broken (then lines come out blank).
fn faces() -> Option<&'static Faces> {
    static FACES: OnceLock<Option<Faces>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            Some(Faces {
                sans: FontRef::try_from_slice(SANS).ok()?,
                cjk: FontRef::try_from_slice(CJK).ok()?,
            })
        })
        .as_ref()
}

impl Faces {
    /// The face and glyph for `c`: DejaVu for what it has (Latin, currency signs), else
    /// Droid Sans Fallback, else DejaVu's '?' so a missing glyph still shows on paper.
    fn glyph(&self, c: char) -> (&FontRef<'static>, GlyphId) {
        let id = self.sans.glyph_id(c);
        if id.0 != 0 {
            return (&self.sans, id);
        }
        let id = self.cjk.glyph_id(c);
        if id.0 != 0 {
            return (&self.cjk, id);
        }
        (&self.sans, self.sans.glyph_id('?'))
    }
}

/// `text` (one line, already wrapped to at most `columns`) drawn `columns` × 12 dots wide
/// and 24 high, each character centred in its 12- or 24-dot cell so columns line up as
/// they do in text; aligned inside the width like the printer aligns text.
pub(crate) fn line_bitmap(text: &str, columns: usize, align: Align) -> Bitmap {
    let line_width = columns as u32 * COLUMN_DOTS;
    let mut bitmap = Bitmap::new(line_width, LINE_DOTS);
    let chars: Vec<char> = text.chars().filter(|c| !c.is_control()).collect();
    let text_width: u32 = chars.iter().map(|&c| char_columns(c) as u32).sum::<u32>() * COLUMN_DOTS;
    let spare = line_width.saturating_sub(text_width);
    let mut x = match align {
        Align::Left => 0,
        Align::Centre => spare / 2,
        Align::Right => spare,
    };
    let Some(faces) = faces() else {
        return bitmap;
    };
    for c in chars {
        let cell = char_columns(c) as u32 * COLUMN_DOTS;
        if !c.is_whitespace() {
            draw_char(&mut bitmap, faces, c, x, cell);
        }
        x += cell;
    }
    bitmap
}

/// One character in the cell starting at `cell_x`, `cell` dots wide.
fn draw_char(bitmap: &mut Bitmap, faces: &Faces, c: char, cell_x: u32, cell: u32) {
    let (font, id) = faces.glyph(c);
    let row = LINE_DOTS as f32;
    let (height, baseline) = if std::ptr::eq(font, &faces.cjk) {
        // A CJK em square is the 24 × 24 dots of a Kanji-mode character; Droid Sans
        // Fallback draws its ideographs in the box 0.86 em above to 0.14 em below the baseline.
        let em = font.units_per_em().unwrap_or(1000.0);
        (row * font.height_unscaled() / em, row * 0.86)
    } else {
        // Latin: the face's whole height (ascent to descent) fills the 24 dots.
        let scaled = font.as_scaled(PxScale::from(row));
        (row, scaled.ascent())
    };
    let advance = font.as_scaled(PxScale::from(height)).h_advance(id);
    // Wide Latin letters (W, M, €) are narrowed to their cell, as a printer font is.
    let x_scale = if advance > cell as f32 {
        height * cell as f32 / advance
    } else {
        height
    };
    let scale = PxScale {
        x: x_scale,
        y: height,
    };
    let advance = font.as_scaled(scale).h_advance(id);
    let left = cell_x as f32 + (cell as f32 - advance) / 2.0;
    let glyph: Glyph = id.with_scale_and_position(scale, point(left, baseline));
    let Some(outline) = font.outline_glyph(glyph) else {
        return;
    };
    let bounds = outline.px_bounds();
    let (x0, y0) = (bounds.min.x as i64, bounds.min.y as i64);
    outline.draw(|gx, gy, coverage| {
        // Thermal dots are on or off: half covered prints.
        if coverage >= 0.5 {
            bitmap.set(x0 + i64::from(gx), y0 + i64::from(gy));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ascii_art(b: &Bitmap, columns: u32) -> String {
        let mut s = String::new();
        for y in 0..b.height() {
            for x in 0..columns * COLUMN_DOTS {
                s.push(if b.is_dark(x, y) { '#' } else { '.' });
            }
            s.push('\n');
        }
        s
    }

    /// Dark dots in the columns [from, to) of the cells.
    fn dots_in(b: &Bitmap, from: u32, to: u32) -> u32 {
        (0..b.height())
            .flat_map(|y| (from * COLUMN_DOTS..to * COLUMN_DOTS).map(move |x| (x, y)))
            .filter(|&(x, y)| b.is_dark(x, y))
            .count() as u32
    }

    #[test]
    fn a_line_is_columns_times_12_by_24_and_whole_bytes() {
        let b = line_bitmap("龙井", 32, Align::Left);
        assert_eq!((b.width(), b.height()), (384, 24));
        let odd = line_bitmap("龙井", 33, Align::Left);
        // 396 dots round up to 50 bytes.
        assert_eq!(odd.width(), 400);
        let cmd = odd.gs_v0();
        assert_eq!(&cmd[..8], &[0x1D, 0x76, 0x30, 0, 50, 0, 24, 0]);
        assert_eq!(cmd.len(), 8 + 50 * 24);
    }

    #[test]
    fn glyphs_are_drawn_in_their_cells() {
        let b = line_bitmap("龙a井", 8, Align::Left);
        let art = ascii_art(&b, 8);
        // 龙 in columns 0–1, a in 2, 井 in 3–4, nothing after.
        assert!(dots_in(&b, 0, 2) > 40, "{art}");
        assert!(dots_in(&b, 2, 3) > 15, "{art}");
        assert!(dots_in(&b, 3, 5) > 40, "{art}");
        assert_eq!(dots_in(&b, 5, 8), 0, "{art}");
        // Ink in the top and bottom halves of the CJK cell (the glyph fills the row).
        let top = (0..12)
            .flat_map(|y| (0..24).map(move |x| (x, y)))
            .any(|(x, y)| b.is_dark(x, y));
        let bottom = (12..24)
            .flat_map(|y| (0..24).map(move |x| (x, y)))
            .any(|(x, y)| b.is_dark(x, y));
        assert!(top && bottom, "{art}");
    }

    #[test]
    fn different_text_different_image_and_blank_is_blank() {
        let a = line_bitmap("龙井", 32, Align::Left);
        let b = line_bitmap("绿茶", 32, Align::Left);
        assert!(a.dark_dots() > 0 && b.dark_dots() > 0);
        assert_ne!(a, b);
        assert_eq!(line_bitmap("   ", 32, Align::Left).dark_dots(), 0);
    }

    #[test]
    fn alignment_moves_the_text_like_the_printer_does() {
        let left = line_bitmap("谢谢", 10, Align::Left);
        let centre = line_bitmap("谢谢", 10, Align::Centre);
        let right = line_bitmap("谢谢", 10, Align::Right);
        assert!(dots_in(&left, 0, 4) > 0 && dots_in(&left, 4, 10) == 0);
        assert!(dots_in(&centre, 3, 7) > 0);
        assert!(dots_in(&centre, 0, 3) == 0 && dots_in(&centre, 7, 10) == 0);
        assert!(dots_in(&right, 6, 10) > 0 && dots_in(&right, 0, 6) == 0);
        // Same glyphs, shifted by whole cells.
        assert_eq!(left.dark_dots(), right.dark_dots());
    }

    #[test]
    fn wide_latin_letters_stay_in_their_cell() {
        let b = line_bitmap("W€M", 5, Align::Left);
        let art = ascii_art(&b, 5);
        assert!(dots_in(&b, 0, 1) > 0 && dots_in(&b, 1, 2) > 0 && dots_in(&b, 2, 3) > 0);
        assert_eq!(dots_in(&b, 3, 5), 0, "{art}");
    }
}
