//! End-to-end checks of the signage PDFs with real tools:
//! qpdf (structure), pdftotext (text, Chinese included; word boxes vs. QR boxes),
//! pdftoppm + zbarimg (every QR on every page decodes to the expected payloads).
//!
//! Needs Debian packages `qpdf`, `poppler-utils` and `zbar-tools`; a missing tool
//! fails the test with the package to install.
//! PDFs and page PNGs are left in `<repo>/target/print-artifacts/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use shopcast_print::{
    BoxMm, GridSpec, Logo, PageSize, PlacedSign, RenderOptions, Sign, Template, TextRole, layout,
    layout_with, preview_svg_with, render, render_with,
};

mod barcode;
mod receipt;
mod report;
mod till_report;

const MM_TO_PT: f32 = 72.0 / 25.4;

fn artifacts_dir(case: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/print-artifacts")
        .join(case);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run a tool; a missing tool fails with the Debian package to install.
fn run(tool: &str, package: &str, args: &[&str]) -> std::process::Output {
    match Command::new(tool).args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`{tool}` is not installed: run `apt-get install -y {package}` (Debian package {package})"
        ),
        Err(e) => panic!("cannot run {tool}: {e}"),
    }
}

fn run_ok(tool: &str, package: &str, args: &[&str]) -> String {
    let out = run(tool, package, args);
    assert!(
        out.status.success(),
        "{tool} {args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tool output is UTF-8")
}

/// `qpdf --check` finds nothing wrong with the file.
/// Renders the first page of `pdf` at 300 dpi into `dir` with pdftoppm; the PNG's path.
fn first_page_png(dir: &Path, pdf: &Path) -> PathBuf {
    let prefix = dir.join("page");
    let args = ["-r", "300", "-png", "-f", "1", "-l", "1"];
    let mut args: Vec<&str> = args.to_vec();
    args.extend([pdf.to_str().unwrap(), prefix.to_str().unwrap()]);
    run_ok("pdftoppm", "poppler-utils", &args);
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .expect("pdftoppm wrote page 1")
}

fn qpdf_check(case: &str, pdf: &Path) {
    let out = run("qpdf", "qpdf", &["--check", pdf.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "qpdf --check {case}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every font is embedded, subset (tagged name) and has a Unicode map; `pdffonts`' table.
fn fonts_embedded_and_subset(case: &str, pdf: &Path) -> String {
    let fonts = run_ok("pdffonts", "poppler-utils", &[pdf.to_str().unwrap()]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty(), "{case}: no fonts:\n{fonts}");
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(
            (cols[n - 5], cols[n - 4], cols[n - 3]),
            ("yes", "yes", "yes"),
            "{case}: font not embedded+subset+unicode: {row}"
        );
        assert!(
            cols[0].contains('+'),
            "{case}: subset font name has a tag: {row}"
        );
    }
    fonts
}

fn signs() -> Vec<Sign> {
    let long_name: String = "Premium Hand-Picked Spring Harvest Oolong 高山乌龙茶 "
        .chars()
        .cycle()
        .take(2000)
        .collect();
    let data: [(&str, &str, Option<&str>); 6] = [
        (
            "龙井绿茶 特级 250g",
            "¥88.00",
            Some("扫码下单 Scan to order"),
        ),
        (&long_name, "12,50 €", Some("Scan for details")),
        ("Sourdough Loaf", "$5.00", None),
        ("茉莉花茶", "¥500", Some("扫一扫")),
        ("Earl Grey", "£3.20", Some("Scan me")),
        ("Café au lait", "12,50 €", None),
    ];
    data.iter()
        .enumerate()
        .map(|(i, (name, price, cta))| Sign {
            shop_name: if i % 2 == 0 {
                "Shopcast Tea House".into()
            } else {
                "西湖茶庄".into()
            },
            product_name: name.to_string(),
            price_text: price.to_string(),
            qr_payload: format!(
                "https://shop.example.com/p/SKU-{}?src=qr&sign=S{}",
                i + 1,
                40 + i
            ),
            call_to_action: cta.map(str::to_string),
            barcode: None,
        })
        .collect()
}

fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Word boxes (pt, top-left origin) per page from `pdftotext -bbox`.
fn word_boxes(pdf: &Path) -> Vec<Vec<(String, [f32; 4])>> {
    let html = run_ok(
        "pdftotext",
        "poppler-utils",
        &["-bbox", pdf.to_str().unwrap(), "-"],
    );
    let mut pages = Vec::new();
    for chunk in html.split("<page ").skip(1) {
        let mut words = Vec::new();
        for w in chunk.split("<word ").skip(1) {
            let attr = |name: &str| -> f32 {
                let start = w.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                let end = start + w[start..].find('"').unwrap();
                w[start..end].parse().unwrap()
            };
            let text_start = w.find('>').unwrap() + 1;
            let text_end = w.find("</word>").unwrap();
            words.push((
                w[text_start..text_end].to_string(),
                [attr("xMin"), attr("yMin"), attr("xMax"), attr("yMax")],
            ));
        }
        pages.push(words);
    }
    pages
}

fn check(case: &str, template: &Template, copies: u32) {
    let signs = signs();
    let pdf_bytes = render(template, &signs, copies).expect("render");
    let pages = layout(template, &signs, copies).expect("layout");
    let dir = artifacts_dir(case);
    let pdf = dir.join(format!("{case}.pdf"));
    std::fs::write(&pdf, &pdf_bytes).unwrap();
    let pdf_s = pdf.to_str().unwrap();

    // 1. structure
    qpdf_check(case, &pdf);

    // fonts embedded and subset
    fonts_embedded_and_subset(case, &pdf);

    // 2. text: every product name (first laid-out line; the long one is ellipsized) and price
    let text = normalize(&run_ok(
        "pdftotext",
        "poppler-utils",
        &["-layout", pdf_s, "-"],
    ));
    for (i, sign) in signs.iter().enumerate() {
        assert!(
            text.contains(&sign.price_text),
            "{case}: price {:?} not found in:\n{text}",
            sign.price_text
        );
        let placed = pages
            .iter()
            .flat_map(|p| &p.signs)
            .find(|s| s.sign_index == i && !s.rotated)
            .expect("sign placed");
        let name_lines: Vec<&str> = placed
            .lines
            .iter()
            .filter(|l| l.role == TextRole::ProductName)
            .map(|l| l.text.as_str())
            .collect();
        assert!(
            !name_lines.is_empty() && name_lines.len() <= 2,
            "{case}: {name_lines:?}"
        );
        let first = normalize(name_lines[0].trim_end_matches('…'));
        assert!(
            normalize(&sign.product_name).starts_with(&first) && !first.is_empty(),
            "{case}: first line {first:?} is not the start of the name"
        );
        assert!(
            text.contains(&first),
            "{case}: product name line {first:?} not found in:\n{text}"
        );
        if sign.product_name.chars().count() > 100 {
            let last = name_lines.last().unwrap();
            assert!(
                last.ends_with('…'),
                "{case}: long name not ellipsized: {last:?}"
            );
            assert!(text.contains('…'), "{case}: ellipsis not in the PDF text");
        }
    }
    assert!(
        text.contains("龙井绿茶"),
        "{case}: Chinese name missing:\n{text}"
    );

    // 3. no word box on the QR codes (the quiet zone included)
    let boxes = word_boxes(&pdf);
    assert_eq!(boxes.len(), pages.len(), "{case}: page count");
    for (p, (words, page)) in boxes.iter().zip(&pages).enumerate() {
        assert!(!words.is_empty(), "{case}: page {} has no text", p + 1);
        for s in &page.signs {
            let q = s.qr_box;
            let qr = [
                q.x * MM_TO_PT,
                q.y * MM_TO_PT,
                q.right() * MM_TO_PT,
                q.bottom() * MM_TO_PT,
            ];
            for (word, b) in words {
                // shrink the word box a little: glyph boxes include line spacing
                let overlaps = b[0] + 0.3 < qr[2]
                    && qr[0] < b[2] - 0.3
                    && b[1] + 0.3 < qr[3]
                    && qr[1] < b[3] - 0.3;
                assert!(
                    !overlaps,
                    "{case} page {}: word {word:?} {b:?} overlaps QR box {qr:?}",
                    p + 1
                );
            }
        }
        // and the layout agrees
        for s in &page.signs {
            for l in &s.lines {
                assert!(!l.bbox.intersects(&s.qr_box), "{case}: {l:?}");
                assert!(
                    inside(&l.bbox, &s.cell),
                    "{case}: text outside its cell {l:?}"
                );
            }
        }
    }

    // 4. every QR on every page decodes, to exactly the expected payloads
    decode_every_page(case, &dir, pdf_s, &pages);
}

/// Renders every page at 200 dpi and checks every code on it (see `decode_every_code`).
fn decode_every_page(case: &str, dir: &Path, pdf: &str, pages: &[shopcast_print::PageLayout]) {
    let prefix = dir.join("page");
    run_ok(
        "pdftoppm",
        "poppler-utils",
        &["-r", "200", "-png", pdf, prefix.to_str().unwrap()],
    );
    let mut pngs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    pngs.sort();
    assert_eq!(pngs.len(), pages.len(), "{case}: rendered page count");
    for (p, (png, page)) in pngs.iter().zip(pages).enumerate() {
        decode_every_code(case, p, png, page);
    }
}

/// Every QR of the page, read one by one by zbarimg from its own spot on the rendered page
/// (the QR box plus a margin): each must decode to exactly its sign's payload. (On a whole
/// sheet of 24 codes zbar now and then skips one it reads fine alone.)
fn decode_every_code(case: &str, page_index: usize, png: &Path, page: &shopcast_print::PageLayout) {
    const DPI: f32 = 200.0;
    let image = image::open(png).expect("rendered page");
    let px = |mm: f32| (mm / 25.4 * DPI).round().max(0.0) as u32;
    for (n, placed) in page.signs.iter().enumerate() {
        let b = placed.qr_box;
        let (x, y) = (px(b.x - 1.5), px(b.y - 1.5));
        let (w, h) = (
            px(b.width + 3.0).min(image.width() - x),
            px(b.height + 3.0).min(image.height() - y),
        );
        let crop = png.with_file_name(format!("qr-{}-{n}.png", page_index + 1));
        image.crop_imm(x, y, w, h).save(&crop).unwrap();
        let out = run(
            "zbarimg",
            "zbar-tools",
            &["--raw", "-q", crop.to_str().unwrap()],
        );
        let decoded = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            decoded.trim_end_matches('\n'),
            placed.payload,
            "{case} page {} code {n}: decoded QR payload",
            page_index + 1
        );
        let _ = std::fs::remove_file(&crop);
    }
}

fn inside(inner: &BoxMm, outer: &BoxMm) -> bool {
    inner.x >= outer.x - 0.01
        && inner.y >= outer.y - 0.01
        && inner.right() <= outer.right() + 0.01
        && inner.bottom() <= outer.bottom() + 0.01
}

/// A 600 × 300 PNG logo with transparency: a teal rounded badge with a white
/// "leaf", on a transparent background.
fn logo_png() -> Vec<u8> {
    use image::ImageEncoder;
    let (w, h) = (600u32, 300u32);
    let img = image::RgbaImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        // rounded rectangle badge
        let (dx, dy) = ((fx - 0.5).abs() - 0.4, (fy - 0.5).abs() - 0.3);
        let outside = dx.max(0.0).hypot(dy.max(0.0)) > 0.08;
        if outside {
            return image::Rgba([0, 0, 0, 0]);
        }
        // a white ellipse "leaf" and a stripe, inside the badge
        let leaf = ((fx - 0.3) / 0.15).powi(2) + ((fy - 0.5) / 0.28).powi(2) < 1.0;
        let stripe = (0.5..0.85).contains(&fx) && (fy - 0.5).abs() < 0.08;
        if leaf || stripe {
            image::Rgba([255, 255, 255, 255])
        } else {
            image::Rgba([20, 120, 110, 230])
        }
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

/// The logo is embedded once, drawn on every sign, never on text or QR codes, and
/// every QR still decodes.
fn check_logo(case: &str, template: &Template, copies: u32) {
    let logo = Logo::from_image_bytes(&logo_png()).expect("logo");
    assert_eq!((logo.width(), logo.height()), (256, 128));
    let options = RenderOptions { logo: Some(&logo) };
    let signs = signs();
    let pdf_bytes = render_with(template, &signs, copies, &options).expect("render");
    let pages = layout_with(template, &signs, copies, &options).expect("layout");
    let dir = artifacts_dir(case);
    let pdf = dir.join(format!("{case}.pdf"));
    std::fs::write(&pdf, &pdf_bytes).unwrap();
    let pdf_s = pdf.to_str().unwrap();

    qpdf_check(case, &pdf);

    // one image object, drawn on every sign of every page
    let list = run_ok("pdfimages", "poppler-utils", &["-list", pdf_s]);
    let rows: Vec<&str> = list.lines().skip(2).collect();
    let signs_total: usize = pages.iter().map(|p| p.signs.len()).sum();
    assert_eq!(rows.len(), signs_total, "{case}: one use per sign:\n{list}");
    let objects: std::collections::BTreeSet<&str> = rows
        .iter()
        .map(|r| {
            let cols: Vec<&str> = r.split_whitespace().collect();
            assert_eq!(cols[2], "image", "{case}: {r}");
            assert_eq!((cols[3], cols[4]), ("256", "128"), "{case}: {r}");
            cols[10] // object id
        })
        .collect();
    assert_eq!(objects.len(), 1, "{case}: logo embedded once:\n{list}");

    // layout: the logo box is in its cell, off the QR (quiet zone included) and the text
    let words = word_boxes(&pdf);
    for (p, page) in pages.iter().enumerate() {
        for s in &page.signs {
            let b = s.logo_box.expect("every sign has a logo box");
            assert!(b.width > 1.0 && b.height > 1.0, "{case}: {b:?}");
            assert!(
                (b.width / b.height - 2.0).abs() < 0.02,
                "{case}: aspect {b:?}"
            );
            assert!(inside(&b, &s.cell), "{case}: logo outside its cell {b:?}");
            assert!(!b.intersects(&s.qr_box), "{case}: logo on the QR {b:?}");
            for l in &s.lines {
                assert!(!l.bbox.intersects(&b), "{case}: {l:?} on the logo {b:?}");
                assert!(!l.bbox.intersects(&s.qr_box), "{case}: {l:?}");
                assert!(inside(&l.bbox, &s.cell), "{case}: {l:?}");
            }
            let lb = [
                b.x * MM_TO_PT,
                b.y * MM_TO_PT,
                b.right() * MM_TO_PT,
                b.bottom() * MM_TO_PT,
            ];
            for (word, w) in &words[p] {
                let overlaps = w[0] + 0.3 < lb[2]
                    && lb[0] < w[2] - 0.3
                    && w[1] + 0.3 < lb[3]
                    && lb[1] < w[3] - 0.3;
                assert!(!overlaps, "{case}: word {word:?} {w:?} on the logo {lb:?}");
            }
        }
    }

    // every QR still decodes
    decode_every_page(case, &dir, pdf_s, &pages);

    // the preview shows the logo once per sign of page 1, as a PNG data URI
    let (svg, _) = preview_svg_with(template, &signs, copies, 0, &options).unwrap();
    assert_eq!(
        svg.matches("<image").count(),
        pages[0].signs.len(),
        "{case}"
    );
    assert_eq!(
        svg.matches(r#"href="data:image/png;base64,"#).count(),
        pages[0].signs.len(),
        "{case}"
    );
    std::fs::write(dir.join(format!("{case}.svg")), svg).unwrap();
}

fn smallest_custom() -> Template {
    // Avery L7651 geometry: 38.1 × 21.2 mm
    Template::custom(GridSpec {
        page: PageSize::A4,
        columns: 5,
        rows: 13,
        label_width_mm: 38.1,
        label_height_mm: 21.2,
        margin_left_mm: Some(4.75),
        margin_top_mm: Some(10.7),
        gap_x_mm: 2.5,
        gap_y_mm: 0.0,
    })
    .unwrap()
}

#[test]
fn logo_a4_3x8_labels() {
    check_logo("logo-a4-3x8", &Template::preset("a4-3x8").unwrap(), 5);
}

#[test]
fn logo_smallest_custom_a4_5x13() {
    check_logo("logo-custom-a4-5x13", &smallest_custom(), 2);
}

#[test]
fn logo_a6_shelf_cards() {
    check_logo("logo-a6-card", &Template::preset("a6-card").unwrap(), 1);
}

#[test]
fn logo_a5_table_tent() {
    let t = Template::preset("a5-tent").unwrap();
    check_logo("logo-a5-tent", &t, 1);
    // the back face's logo is the front's turned 180° about the page centre
    let logo = Logo::from_image_bytes(&logo_png()).unwrap();
    let pages = layout_with(&t, &signs(), 1, &RenderOptions { logo: Some(&logo) }).unwrap();
    let (b, f) = (
        pages[0].signs[0].logo_box.unwrap(),
        pages[0].signs[1].logo_box.unwrap(),
    );
    assert!(pages[0].signs[0].rotated);
    assert!((b.right() - (210.0 - f.x)).abs() < 0.01);
    assert!((b.bottom() - (297.0 - f.y)).abs() < 0.01);
}

#[test]
fn logo_does_not_grow_a_large_pdf_per_label() {
    let t = Template::preset("a4-3x8").unwrap();
    let many: Vec<Sign> = signs().into_iter().cycle().take(240).collect();
    let logo = Logo::from_image_bytes(&logo_png()).unwrap();
    let plain = render(&t, &many, 1).unwrap();
    let with = render_with(&t, &many, 1, &RenderOptions { logo: Some(&logo) }).unwrap();
    // one image (≈ 256 × 128 RGB, deflated) plus a few dozen bytes per label
    let extra = with.len() - plain.len();
    assert!(
        extra < 20_000 + 240 * 80,
        "logo adds {extra} bytes to 240 labels"
    );
}

#[test]
fn a4_3x8_labels() {
    let t = Template::preset("a4-3x8").unwrap();
    // 6 signs × 5 copies = 30 labels: a full sheet plus a partial one
    check("a4-3x8", &t, 5);
    let page1 = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/print-artifacts/a4-3x8/page-1.png");
    assert!(
        page1.exists(),
        "page 1 PNG artifact kept at {}",
        page1.display()
    );
}

#[test]
fn letter_2x5_labels() {
    check("letter-2x5", &Template::preset("letter-2x5").unwrap(), 2);
}

#[test]
fn a6_shelf_cards() {
    check("a6-card", &Template::preset("a6-card").unwrap(), 1);
}

#[test]
fn a7_shelf_cards() {
    check("a7-card", &Template::preset("a7-card").unwrap(), 1);
}

#[test]
fn a5_table_tent() {
    let t = Template::preset("a5-tent").unwrap();
    check("a5-tent", &t, 1);
    let pages = layout(&t, &signs(), 1).unwrap();
    assert_eq!(pages.len(), 6, "one tent per page");
    for p in &pages {
        let rotated: Vec<&PlacedSign> = p.signs.iter().filter(|s| s.rotated).collect();
        assert_eq!(rotated.len(), 1, "one copy upside down");
    }
}

#[test]
fn smallest_custom_a4_5x13() {
    check("custom-a4-5x13", &smallest_custom(), 2);
}

#[test]
fn one_sheet_pdf_is_small_with_subset_fonts() {
    let t = Template::preset("a4-3x8").unwrap();
    let s = signs();
    let pdf = render(&t, &s, 1).unwrap();
    // three faces embedded, all subset (well under the 4 MB CJK font)
    assert!(pdf.len() < 200_000, "PDF is {} bytes", pdf.len());
    let counts: BTreeMap<usize, usize> = layout(&t, &s, 1)
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, p)| (i, p.signs.len()))
        .collect();
    assert_eq!(counts, BTreeMap::from([(0, 6)]));
}

#[test]
fn qr_png_decodes_with_zbar() {
    use shopcast_print::{EcLevel, QrCode, to_png, to_svg};
    let dir = artifacts_dir("qr");
    for (i, level) in [EcLevel::L, EcLevel::M, EcLevel::Q, EcLevel::H]
        .into_iter()
        .enumerate()
    {
        let payload = format!("https://shop.example.com/p/SKU-{i}?src=qr&sign=S4{i}");
        let m = QrCode::encode(payload.as_bytes(), level).unwrap();
        let png = dir.join(format!("qr-{}.png", level.letter()));
        std::fs::write(&png, to_png(&m, 300)).unwrap();
        std::fs::write(
            dir.join(format!("qr-{}.svg", level.letter())),
            to_svg(&m, 4),
        )
        .unwrap();
        let out = run(
            "zbarimg",
            "zbar-tools",
            &["--raw", "-q", png.to_str().unwrap()],
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap().trim_end(), payload);
    }
}
