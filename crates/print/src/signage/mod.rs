//! Printable signage: label sheets, shelf cards and folded table tents as PDF.
//!
//! Everything is laid out in millimetres with the origin at the **top-left** of the
//! page (see [`layout`]); [`render`] turns that layout into a PDF whose QR codes are
//! vector shapes and whose text uses the bundled fonts, embedded as subsets.
//!
//! Presets (see [`Template::preset`]):
//!
//! | name         | sheet  | grid  | piece            | notes                                  |
//! |--------------|--------|-------|------------------|----------------------------------------|
//! | `a4-3x8`     | A4     | 3 × 8 | 70 × 37 mm       | Avery 3474 geometry, no gaps           |
//! | `letter-2x5` | Letter | 2 × 5 | 4 × 2 in         | Avery 5163 geometry                    |
//! | `a6-card`    | A4     | 2 × 2 | 105 × 148.5 mm   | four A6 shelf cards per A4, cut guides |
//! | `a7-card`    | A4     | 2 × 4 | 105 × 74.25 mm   | eight A7 (landscape) cards per A4      |
//! | `a5-tent`    | A4     | 1 × 2 | 210 × 148.5 mm   | one tent per A4: fold across the middle; the top half is rotated 180° |
//!
//! Cards are printed several to an A4 sheet (plain paper, cut along the light grey
//! guides) rather than one per A6/A7 page, because shop printers rarely take A6/A7 paper.

mod draw;
mod labels;
mod placed;
mod shelf_card;
mod sign_layout;
mod table_tent;
mod template;

use std::collections::BTreeSet;

use printpdf::{CurTransMat, Mm, Op, PdfDocument, PdfPage, XObjectTransform};

use crate::error::PrintError;
use crate::fonts::Fonts;
use crate::logo::{Logo, RenderOptions};
use crate::pdf::{assemble, save};
use crate::qr::{EcLevel, Matrix, QrCode};

pub(crate) use draw::bar_runs;
use draw::{draw_sign, qr_page_form};
use sign_layout::layout_sign;

pub use placed::{BoxMm, PageLayout, PlacedBarcode, PlacedSign, PlacedText, TextRole};
pub use template::{GridSpec, MIN_LABEL_MM, PageSize, Template, TemplateKind};

/// Largest accepted `copies` value for [`render`].
pub const MAX_COPIES: u32 = 100;
/// Error-correction level used for sign QR codes.
pub const SIGN_EC_LEVEL: EcLevel = EcLevel::M;

/// One sign: plain data, already formatted for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sign {
    pub shop_name: String,
    pub product_name: String,
    /// Already formatted, e.g. `"¥88.00"`, `"12,50 €"`.
    pub price_text: String,
    /// What the QR code encodes, usually a product URL.
    pub qr_payload: String,
    pub call_to_action: Option<String>,
    /// EAN-13 digits (13, check digit valid) drawn as bars beside the QR code when the
    /// sign has room for bars that scan (see [`PlacedSign::barcode`]).
    pub barcode: Option<String>,
}

fn validate(signs: &[Sign], copies: u32) -> Result<(), PrintError> {
    if signs.is_empty() {
        return Err(PrintError::NoSigns);
    }
    if copies == 0 || copies > MAX_COPIES {
        return Err(PrintError::BadCopies {
            copies,
            max: MAX_COPIES,
        });
    }
    for (index, s) in signs.iter().enumerate() {
        if s.product_name.trim().is_empty() {
            return Err(PrintError::EmptyProductName { index });
        }
        if let Some(digits) = s.barcode.as_deref().map(str::trim)
            && !digits.is_empty()
        {
            crate::barcode::ean13_modules(digits)
                .map_err(|error| PrintError::SignBarcode { index, error })?;
        }
    }
    Ok(())
}

/// Lay out `copies` of each sign (consecutively) on as many sheets as needed.
pub fn layout(
    template: &Template,
    signs: &[Sign],
    copies: u32,
) -> Result<Vec<PageLayout>, PrintError> {
    layout_with(template, signs, copies, &RenderOptions::default())
}

/// [`layout`] with options (a logo box is reserved on every sign when a logo is given).
pub fn layout_with(
    template: &Template,
    signs: &[Sign],
    copies: u32,
    options: &RenderOptions,
) -> Result<Vec<PageLayout>, PrintError> {
    Ok(layout_with_matrices(template, signs, copies, options)?.0)
}

pub(crate) fn layout_with_matrices(
    template: &Template,
    signs: &[Sign],
    copies: u32,
    options: &RenderOptions,
) -> Result<(Vec<PageLayout>, Vec<Matrix>), PrintError> {
    validate(signs, copies)?;
    let logo = options.logo.map(Logo::aspect);
    let fonts = Fonts::get()?;
    let matrices = encode_all(signs)?;
    let per_page = template.signs_per_page();
    let total = signs.len() * copies as usize;
    let mut pages: Vec<PageLayout> = Vec::new();
    for item in 0..total {
        let sign_index = item / copies as usize;
        let slot = item % per_page;
        if slot == 0 {
            pages.push(PageLayout {
                width_mm: template.page_width_mm,
                height_mm: template.page_height_mm,
                signs: Vec::new(),
            });
        }
        let page = pages.last_mut().expect("pushed above");
        let sign = &signs[sign_index];
        let qr_modules = matrices[sign_index].width();
        if template.kind == TemplateKind::TableTent {
            let back = template.cell(0);
            let front = template.cell(1);
            let mut b = table_tent::turned(&layout_sign(
                fonts, sign, sign_index, back, qr_modules, logo,
            ));
            b.rotated = true;
            page.signs.push(b);
            page.signs.push(layout_sign(
                fonts, sign, sign_index, front, qr_modules, logo,
            ));
        } else {
            let cell = template.cell(slot);
            page.signs
                .push(layout_sign(fonts, sign, sign_index, cell, qr_modules, logo));
        }
    }
    Ok((pages, matrices))
}

/// Encode every sign's QR payload, on all cores for large batches (the QR
/// encoder's mask search dominates layout time).
fn encode_all(signs: &[Sign]) -> Result<Vec<Matrix>, PrintError> {
    let encode = |chunk: &[Sign]| {
        chunk
            .iter()
            .map(|s| QrCode::encode(s.qr_payload.as_bytes(), SIGN_EC_LEVEL))
            .collect::<Result<Vec<_>, _>>()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if signs.len() < 64 || threads < 2 {
        return encode(signs);
    }
    let chunk = signs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = signs
            .chunks(chunk)
            .map(|c| scope.spawn(move || encode(c)))
            .collect();
        let mut out = Vec::with_capacity(signs.len());
        for h in handles {
            out.extend(h.join().expect("QR encoder thread panicked")?);
        }
        Ok(out)
    })
}

/// Render the signs to a PDF (fonts embedded as subsets, QR codes as vectors).
pub fn render(template: &Template, signs: &[Sign], copies: u32) -> Result<Vec<u8>, PrintError> {
    render_with(template, signs, copies, &RenderOptions::default())
}

/// [`render`] with options. A logo is embedded once per document (one image
/// XObject) and drawn on every sign.
pub fn render_with(
    template: &Template,
    signs: &[Sign],
    copies: u32,
    options: &RenderOptions,
) -> Result<Vec<u8>, PrintError> {
    let (pages, matrices) = layout_with_matrices(template, signs, copies, options)?;
    let fonts = Fonts::get()?;
    let mut doc = PdfDocument::new("Shopcast signage");
    let logo_id = options.logo.map(|logo| doc.add_image(&logo.raw_image()));
    let logo_id = logo_id.as_ref();
    let mut used: [BTreeSet<char>; 3] = Default::default();
    let mut pdf_pages = Vec::with_capacity(pages.len());
    for page in &pages {
        let ph = page.height_mm;
        let mut ops = Vec::new();
        // All QR codes of the page in one form XObject written directly: small integers in
        // module units, one stream per page (compresses well, no per-rectangle objects).
        let qr_page = doc.add_xobject(&qr_page_form(page, &matrices));
        ops.push(Op::SaveGraphicsState);
        ops.push(Op::UseXobject {
            id: qr_page,
            transform: XObjectTransform {
                no_auto_scale: true,
                ..Default::default()
            },
        });
        ops.push(Op::RestoreGraphicsState);
        if template.kind == TemplateKind::ShelfCards {
            shelf_card::cut_guides(&mut ops, page);
        }
        if template.kind == TemplateKind::TableTent {
            table_tent::fold_line(&mut ops, page);
        }
        for placed in &page.signs {
            if placed.rotated {
                // rotate 180° around the cell centre (PDF coordinates)
                let (tx, ty) = table_tent::half_turn_offset(&placed.cell, ph);
                ops.push(Op::SaveGraphicsState);
                ops.push(Op::SetTransformationMatrix {
                    matrix: CurTransMat::Raw([-1.0, 0.0, 0.0, -1.0, tx, ty]),
                });
                let unrotated = table_tent::turned(placed);
                draw_sign(&mut ops, fonts, &unrotated, logo_id, ph, &mut used);
                ops.push(Op::RestoreGraphicsState);
            } else {
                draw_sign(&mut ops, fonts, placed, logo_id, ph, &mut used);
            }
        }
        pdf_pages.push(PdfPage::new(Mm(page.width_mm), Mm(page.height_mm), ops));
    }
    save(assemble(doc, pdf_pages, &used)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(name: &str) -> Sign {
        Sign {
            shop_name: "Tea House".into(),
            product_name: name.into(),
            price_text: "¥88.00".into(),
            qr_payload: "https://shop.example.com/p/1".into(),
            call_to_action: Some("Scan to order".into()),
            barcode: None,
        }
    }

    #[test]
    fn bad_input() {
        let t = Template::preset("a4-3x8").unwrap();
        assert_eq!(render(&t, &[], 1).unwrap_err(), PrintError::NoSigns);
        assert_eq!(
            render(&t, &[sign("Tea")], 0).unwrap_err().code(),
            "bad_copies"
        );
        assert_eq!(
            render(&t, &[sign("Tea")], 101).unwrap_err().to_string(),
            "Copies must be between 1 and 100; got 101."
        );
        let err = render(&t, &[sign("Tea"), sign("  ")], 1).unwrap_err();
        assert_eq!(err, PrintError::EmptyProductName { index: 1 });
        assert_eq!(err.to_string(), "Sign 2 has no product name.");
        let mut long = sign("Tea");
        long.qr_payload = "x".repeat(3120);
        let err = render(&t, &[long], 1).unwrap_err();
        assert_eq!(err.code(), "qr_payload_too_long");
        assert!(err.to_string().starts_with("This link is 3,120 bytes"));
        let mut empty = sign("Tea");
        empty.qr_payload.clear();
        assert_eq!(
            render(&t, &[empty], 1).unwrap_err().code(),
            "qr_payload_empty"
        );
    }

    #[test]
    fn layout_keeps_text_off_the_qr() {
        for name in Template::PRESETS {
            let t = Template::preset(name).unwrap();
            let pages = layout(&t, &[sign(&"龙井绿茶 特级 250g ".repeat(50))], 3).unwrap();
            for page in &pages {
                for s in &page.signs {
                    assert!(s.lines.iter().any(|l| l.role == TextRole::Price));
                    for l in &s.lines {
                        assert!(!l.bbox.intersects(&s.qr_box), "{name}: {l:?}");
                        assert!(l.bbox.right() <= s.cell.right() + 0.01, "{name}: {l:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn logo_stays_off_text_and_qr_for_any_aspect() {
        use image::ImageEncoder;
        let mut small = Template::preset("a4-3x8").unwrap();
        small.label_width_mm = 38.1;
        small.label_height_mm = 21.2;
        let templates: Vec<Template> = Template::PRESETS
            .iter()
            .map(|n| Template::preset(n).unwrap())
            .chain([small])
            .collect();
        for (w, h) in [(400, 100), (100, 100), (100, 300)] {
            let mut png = Vec::new();
            image::codecs::png::PngEncoder::new(&mut png)
                .write_image(
                    &vec![90; w * h * 3],
                    w as u32,
                    h as u32,
                    image::ExtendedColorType::Rgb8,
                )
                .unwrap();
            let logo = Logo::from_image_bytes(&png).unwrap();
            let opts = RenderOptions { logo: Some(&logo) };
            let mut no_shop = sign("Tea");
            no_shop.shop_name.clear();
            let mut long_shop = sign(&"龙井绿茶 特级 250g ".repeat(50));
            long_shop.shop_name = "A Very Long Shop Name Indeed ".repeat(5);
            let signs = [no_shop, long_shop, sign("Tea")];
            for t in &templates {
                for page in layout_with(t, &signs, 1, &opts).unwrap() {
                    for s in &page.signs {
                        let b = s.logo_box.expect("logo box");
                        assert!(!b.intersects(&s.qr_box), "{}: {b:?}", t.name);
                        assert!(b.x >= s.cell.x && b.right() <= s.cell.right(), "{}", t.name);
                        assert!(
                            b.y >= s.cell.y && b.bottom() <= s.cell.bottom(),
                            "{}",
                            t.name
                        );
                        for l in &s.lines {
                            assert!(!l.bbox.intersects(&b), "{}: {l:?} {b:?}", t.name);
                            assert!(!l.bbox.intersects(&s.qr_box), "{}: {l:?}", t.name);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn tent_has_rotated_copy() {
        let t = Template::preset("a5-tent").unwrap();
        let pages = layout(&t, &[sign("Tea"), sign("Coffee")], 1).unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].signs.len(), 2);
        assert!(pages[0].signs[0].rotated && !pages[0].signs[1].rotated);
        // the back copy is the front copy turned 180° about the page centre
        let (b, f) = (&pages[0].signs[0].qr_box, &pages[0].signs[1].qr_box);
        assert!((b.x + b.width - (210.0 - f.x)).abs() < 0.01);
    }
}
