//! Bundled fonts, parsed once per process.
//!
//! * DejaVu Sans / DejaVu Sans Bold (Bitstream Vera licence, see `fonts/LICENSE-DejaVu.txt`)
//!   cover Latin, Greek, Cyrillic, currency signs (¥ € $ £) and "…".
//! * Droid Sans Fallback Full (Apache-2.0) covers CJK; it has no Latin letters,
//!   so text is split into runs and each run uses the first font that has its glyphs.
//!
//! All three are embedded *subset* into every PDF (only the glyphs used).

use std::sync::OnceLock;

use printpdf::{ParsedFont, PdfFontParseWarning};

use crate::error::PrintError;

pub(crate) static SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static SANS_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");
pub(crate) static CJK: &[u8] = include_bytes!("../fonts/DroidSansFallbackFull.ttf");

/// Which bundled face a run of text uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Face {
    Sans,
    SansBold,
    Cjk,
}

impl Face {
    pub(crate) const ALL: [Face; 3] = [Face::Sans, Face::SansBold, Face::Cjk];

    /// Resource name used as the PDF font id.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Face::Sans => "FSans",
            Face::SansBold => "FSansBold",
            Face::Cjk => "FCjk",
        }
    }
}

pub(crate) struct Fonts {
    pub(crate) sans: ParsedFont,
    pub(crate) sans_bold: ParsedFont,
    pub(crate) cjk: ParsedFont,
}

impl Fonts {
    pub(crate) fn get() -> Result<&'static Fonts, PrintError> {
        static FONTS: OnceLock<Result<Fonts, String>> = OnceLock::new();
        FONTS
            .get_or_init(|| {
                Ok(Fonts {
                    sans: parse(SANS, "DejaVuSans")?,
                    sans_bold: parse(SANS_BOLD, "DejaVuSans-Bold")?,
                    cjk: parse(CJK, "DroidSansFallbackFull")?,
                })
            })
            .as_ref()
            .map_err(|e| PrintError::Font(e.clone()))
    }

    pub(crate) fn parsed(&self, face: Face) -> &ParsedFont {
        match face {
            Face::Sans => &self.sans,
            Face::SansBold => &self.sans_bold,
            Face::Cjk => &self.cjk,
        }
    }

    /// The face used for `ch` when the text style is bold or regular.
    pub(crate) fn face_for(&self, ch: char, bold: bool) -> Face {
        let latin = if bold { Face::SansBold } else { Face::Sans };
        if ch.is_whitespace() || self.parsed(latin).lookup_glyph_index(ch as u32).is_some() {
            latin
        } else if self.cjk.lookup_glyph_index(ch as u32).is_some() {
            Face::Cjk
        } else {
            latin
        }
    }

    /// Whether some bundled face has a glyph for `ch`.
    #[cfg(test)]
    pub(crate) fn covers(&self, ch: char) -> bool {
        Face::ALL
            .iter()
            .any(|&f| self.parsed(f).lookup_glyph_index(ch as u32).is_some())
    }

    /// Advance width of `ch` in em.
    pub(crate) fn advance_em(&self, ch: char, bold: bool) -> f32 {
        let face = self.face_for(ch, bold);
        let font = self.parsed(face);
        let gid = font.lookup_glyph_index(ch as u32).unwrap_or(0);
        let w = font.get_glyph_width(gid).unwrap_or(0);
        f32::from(w) / f32::from(font.units_per_em.max(1))
    }

    /// Width of `text` in em.
    pub(crate) fn width_em(&self, text: &str, bold: bool) -> f32 {
        text.chars().map(|c| self.advance_em(c, bold)).sum()
    }

    /// Split `text` into runs of the same face.
    pub(crate) fn runs(&self, text: &str, bold: bool) -> Vec<(Face, String)> {
        let mut out: Vec<(Face, String)> = Vec::new();
        for ch in text.chars() {
            let face = self.face_for(ch, bold);
            match out.last_mut() {
                Some((f, s)) if *f == face => s.push(ch),
                _ => out.push((face, ch.to_string())),
            }
        }
        out
    }
}

/// A new font holding only `.notdef` and the glyphs of `chars` (renumbered, with a
/// matching Unicode cmap), parsed for embedding. printpdf without its `text_layout`
/// feature would embed the whole font file (4 MB for CJK), so subsetting happens here.
pub(crate) fn subset(
    face: Face,
    chars: &std::collections::BTreeSet<char>,
) -> Result<ParsedFont, PrintError> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{CmapTarget, SubsetProfile};

    let fonts = Fonts::get()?;
    let full = fonts.parsed(face);
    let mut gids: Vec<u16> = chars
        .iter()
        .filter_map(|c| full.lookup_glyph_index(*c as u32))
        .filter(|g| *g != 0)
        .collect();
    gids.sort_unstable();
    gids.dedup();
    gids.insert(0, 0);
    let bytes = match face {
        Face::Sans => SANS,
        Face::SansBold => SANS_BOLD,
        Face::Cjk => CJK,
    };
    let err = |e: &dyn std::fmt::Debug| PrintError::Font(format!("subsetting {face:?}: {e:?}"));
    let data = ReadScope::new(bytes)
        .read::<FontData<'_>>()
        .map_err(|e| err(&e))?;
    let provider = data.table_provider(0).map_err(|e| err(&e))?;
    let sub = allsorts::subset::subset(&provider, &gids, &SubsetProfile::Pdf, CmapTarget::Unicode)
        .map_err(|e| err(&e))?;
    let mut font = parse(&sub, face.id()).map_err(PrintError::Font)?;
    // PDF 32000-1 §9.6.4: a subset font's name starts with a six-letter tag.
    font.font_name = Some(format!(
        "{}+{}",
        subset_tag(&gids),
        full.font_name.as_deref().unwrap_or(face.id())
    ));
    Ok(font)
}

/// Six uppercase letters derived from the glyph set (FNV-1a).
fn subset_tag(gids: &[u16]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for g in gids {
        for b in g.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    (0..6)
        .map(|i| char::from(b'A' + ((h >> (i * 8)) % 26) as u8))
        .collect()
}

fn parse(bytes: &[u8], name: &str) -> Result<ParsedFont, String> {
    let mut warnings: Vec<PdfFontParseWarning> = Vec::new();
    let mut font = ParsedFont::from_bytes(bytes, 0, &mut warnings)
        .ok_or_else(|| format!("cannot parse bundled font {name}: {warnings:?}"))?;
    font.font_name = Some(name.to_string());
    Ok(font)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage() {
        let f = Fonts::get().unwrap();
        for ch in "AZaz09¥€$£…,.龙井绿茶特级".chars() {
            assert!(f.covers(ch), "no glyph for {ch:?}");
        }
        assert_eq!(f.face_for('龙', true), Face::Cjk);
        assert_eq!(f.face_for('A', true), Face::SansBold);
        assert_eq!(f.face_for('€', false), Face::Sans);
        assert_eq!(f.face_for('…', false), Face::Sans);
        assert!(f.advance_em('龙', false) > 0.9);
        assert!(f.width_em("iii", false) < f.width_em("WWW", false));
    }
}
