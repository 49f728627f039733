//! EAN-13 bars on signs: every barcode on a rendered sheet reads back with zbarimg (at
//! 300 dpi, cut from its spot on the page), and the bars stay off the QR and the text.

use std::path::Path;

use shopcast_print::{PageLayout, Sign, Template, TextRole, layout, render};

use super::{artifacts_dir, first_page_png, run, run_ok};

const CODES: [&str; 3] = ["4006381333931", "0036000291452", "6901234567892"];

fn signs() -> Vec<Sign> {
    CODES
        .iter()
        .enumerate()
        .map(|(i, code)| Sign {
            shop_name: "西湖茶庄".into(),
            product_name: format!("龙井绿茶 特级 {}g", 50 * (i + 1)),
            price_text: "¥88.00".into(),
            qr_payload: format!("https://shop.example.com/p/SKU-{}?src=qr", i + 1),
            call_to_action: Some("扫码下单 Scan to order".into()),
            barcode: Some(code.to_string()),
        })
        .collect()
}

/// Renders `template` with the three barcoded signs, then reads every EAN-13 (each cut
/// from the page with its quiet zones) and every QR of page one.
fn barcodes_scan(case: &str, template: &Template) {
    let signs = signs();
    let pages = layout(template, &signs, 1).unwrap();
    for page in &pages {
        for s in &page.signs {
            let b = s
                .barcode
                .as_ref()
                .unwrap_or_else(|| panic!("{case}: no room for bars"));
            assert_eq!(b.digits, CODES[s.sign_index]);
            assert!(!b.bbox.intersects(&s.qr_box), "{case}: bars on the QR");
            for l in &s.lines {
                if l.role != TextRole::BarcodeDigits {
                    assert!(!l.bbox.intersects(&b.bbox), "{case}: {l:?} on the bars");
                }
            }
            let digits: String = s
                .lines
                .iter()
                .filter(|l| l.role == TextRole::BarcodeDigits)
                .map(|l| l.text.as_str())
                .collect();
            assert_eq!(digits, b.digits, "{case}: human-readable digits");
        }
    }
    let dir = artifacts_dir(case);
    let pdf = dir.join(format!("{case}.pdf"));
    std::fs::write(&pdf, render(template, &signs, 1).unwrap()).unwrap();
    let png = first_page_png(&dir, &pdf);
    read_every_barcode(case, &png, &pages[0]);
    // the digits are real text, under the bars
    let text = run_ok("pdftotext", "poppler-utils", &[pdf.to_str().unwrap(), "-"]);
    for code in CODES {
        assert!(
            text.contains(&code[7..]),
            "{case}: digits {code} in\n{text}"
        );
    }
}

fn read_every_barcode(case: &str, png: &Path, page: &PageLayout) {
    const DPI: f32 = 300.0;
    let image = image::open(png).expect("rendered page");
    let px = |mm: f32| (mm / 25.4 * DPI).round().max(0.0) as u32;
    for (n, placed) in page.signs.iter().enumerate() {
        let Some(b) = &placed.barcode else { continue };
        let quiet = 11.0 * b.module_mm;
        let (x, y) = (px(b.bbox.x - quiet), px(b.bbox.y - 1.0));
        let (w, h) = (
            px(b.bbox.width + 2.0 * quiet).min(image.width() - x),
            px(b.bbox.height + 4.0).min(image.height() - y),
        );
        let crop = png.with_file_name(format!("ean-{n}.png"));
        image.crop_imm(x, y, w, h).save(&crop).unwrap();
        let out = run(
            "zbarimg",
            "zbar-tools",
            &[
                "--raw",
                "-q",
                "-Sdisable",
                "-Sean13.enable",
                crop.to_str().unwrap(),
            ],
        );
        let decoded = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            decoded.trim_end(),
            b.digits,
            "{case} sign {n}: zbarimg read of the EAN-13 ({})",
            crop.display()
        );
    }
    // the QR codes beside the bars still read (the whole page at once)
    let out = run(
        "zbarimg",
        "zbar-tools",
        &[
            "--raw",
            "-q",
            "-Sdisable",
            "-Sqrcode.enable",
            png.to_str().unwrap(),
        ],
    );
    let decoded = String::from_utf8(out.stdout).unwrap();
    for placed in &page.signs {
        assert!(
            decoded.lines().any(|l| l == placed.payload),
            "{case}: QR {} not read in {decoded:?}",
            placed.payload
        );
    }
}

#[test]
fn barcodes_on_a4_3x8_labels() {
    barcodes_scan("barcode-a4-3x8", &Template::preset("a4-3x8").unwrap());
}

#[test]
fn barcodes_on_letter_2x5_labels() {
    barcodes_scan(
        "barcode-letter-2x5",
        &Template::preset("letter-2x5").unwrap(),
    );
}

#[test]
fn barcodes_on_a6_shelf_cards() {
    barcodes_scan("barcode-a6-card", &Template::preset("a6-card").unwrap());
}

#[test]
fn barcodes_on_a7_shelf_cards() {
    barcodes_scan("barcode-a7-card", &Template::preset("a7-card").unwrap());
}

#[test]
fn barcodes_on_a5_table_tent_both_faces() {
    barcodes_scan("barcode-a5-tent", &Template::preset("a5-tent").unwrap());
}

#[test]
fn a_bad_barcode_is_refused_with_its_reason() {
    let mut signs = signs();
    signs[1].barcode = Some("4006381333932".into());
    let err = render(&Template::preset("a4-3x8").unwrap(), &signs, 1).unwrap_err();
    assert_eq!(err.code(), "barcode_invalid");
    assert_eq!(
        err.to_string(),
        "The barcode of sign 2 cannot be printed: The check digit should be 1, not 2: check the code."
    );
}
