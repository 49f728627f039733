//! PDF plumbing shared by signage and reports: millimetre/point units, one line of text in
//! the bundled fonts, font subsetting, parallel stream compression and saving.

use std::collections::BTreeSet;

use printpdf::{
    Color, FontId, Op, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Pt, Rgb, TextItem,
    TextMatrix,
};

use crate::error::PrintError;
use crate::fonts::{Face, Fonts};

pub(crate) const MM_TO_PT: f32 = 72.0 / 25.4;

/// Embed the characters in `used` (indexed like [`Face::ALL`]) as font subsets, add the
/// pages and build the PDF objects, streams compressed.
pub(crate) fn assemble(
    mut doc: PdfDocument,
    pdf_pages: Vec<PdfPage>,
    used: &[BTreeSet<char>; 3],
) -> Result<lopdf::Document, PrintError> {
    for (i, face) in Face::ALL.iter().enumerate() {
        if !used[i].is_empty() {
            doc.resources.fonts.map.insert(
                FontId(face.id().to_string()),
                printpdf::PdfFont::new(crate::fonts::subset(*face, &used[i])?),
            );
        }
    }
    doc.with_pages(pdf_pages);
    // `optimize: false` skips lopdf's single-threaded `Compression::best()` pass;
    // `compress_streams` does the same job in parallel at the default level
    // (≈ 3× faster for large sheets, a few % larger).
    let opts = PdfSaveOptions {
        subset_fonts: true,
        optimize: false,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut lo = doc.to_lopdf_document(&opts, &mut warnings);
    compress_streams(&mut lo);
    Ok(lo)
}

/// The PDF file's bytes.
pub(crate) fn save(mut lo: lopdf::Document) -> Result<Vec<u8>, PrintError> {
    let mut out = Vec::new();
    lo.save_to(&mut out)
        .map_err(|e| PrintError::Pdf(e.to_string()))?;
    Ok(out)
}

/// Flate-compress every uncompressed stream, on all cores.
fn compress_streams(doc: &mut lopdf::Document) {
    use std::io::Write;
    let mut streams: Vec<&mut lopdf::Stream> = doc
        .objects
        .values_mut()
        .filter_map(|o| match o {
            lopdf::Object::Stream(s) if s.allows_compression && s.dict.get(b"Filter").is_err() => {
                Some(s)
            }
            _ => None,
        })
        .collect();
    let compress = |s: &mut lopdf::Stream| {
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        if enc.write_all(&s.content).is_ok()
            && let Ok(z) = enc.finish()
            && z.len() + 19 < s.content.len()
        {
            s.dict.set("Filter", "FlateDecode");
            s.set_content(z);
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 || streams.len() < 8 {
        streams.into_iter().for_each(compress);
        return;
    }
    let chunk = streams.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for part in streams.chunks_mut(chunk) {
            scope.spawn(move || part.iter_mut().for_each(|s| compress(s)));
        }
    });
}

pub(crate) fn grey(level: f32) -> Color {
    Color::Rgb(Rgb::new(level, level, level, None))
}

/// One line of text starting at `origin` (mm from the page's *bottom*-left, on the
/// baseline) in the current fill colour, split into runs of the bundled face that has
/// their glyphs; the characters are added to `used` (indexed like [`Face::ALL`]) so
/// that the fonts can be subset afterwards.
pub(crate) fn show_text(
    ops: &mut Vec<Op>,
    fonts: &Fonts,
    text: &str,
    bold: bool,
    origin: (f32, f32),
    size_pt: f32,
    used: &mut [BTreeSet<char>; 3],
) {
    ops.push(Op::StartTextSection);
    ops.push(Op::SetTextMatrix {
        matrix: TextMatrix::Translate(
            Pt(round2(origin.0 * MM_TO_PT)),
            Pt(round2(origin.1 * MM_TO_PT)),
        ),
    });
    for (face, text) in fonts.runs(text, bold) {
        used[Face::ALL.iter().position(|f| *f == face).unwrap_or(0)].extend(text.chars());
        ops.push(Op::SetFont {
            font: PdfFontHandle::External(FontId(face.id().to_string())),
            size: Pt(round2(size_pt)),
        });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(text)],
        });
    }
    ops.push(Op::EndTextSection);
}

pub(crate) fn round2(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}
