//! Receipt PDFs read back with real tools: pdftotext (shop name, a Chinese product name,
//! totals and tax lines), pdftoppm + zbarimg (the QR link), pdfinfo (the roll's width, one
//! page that grows with the receipt).

use std::path::{Path, PathBuf};

use shopcast_print::{Logo, Paper, Receipt, ReceiptLine, receipt_pdf};

use super::{
    artifacts_dir, first_page_png, fonts_embedded_and_subset, logo_png, qpdf_check, run, run_ok,
};

const LINK: &str = "https://shop.example.com/r/ORD-1042?k=7f3a";

fn receipt(items: usize) -> Receipt {
    let mut lines = vec![
        ReceiptLine {
            name: "龙井绿茶 特级 250g".into(),
            quantity: 2,
            unit_text: "¥88.00".into(),
            amount_text: "¥176.00".into(),
            discount_text: Some("会员折扣 −¥17.60".into()),
        },
        ReceiptLine {
            name: "Handmade celadon tea cup with a very long name that has to wrap".into(),
            quantity: 1,
            unit_text: "¥45.00".into(),
            amount_text: "¥45.00".into(),
            discount_text: None,
        },
    ];
    for i in 2..items {
        lines.push(ReceiptLine {
            name: format!("茶点 {i}"),
            quantity: 1,
            unit_text: "¥5.00".into(),
            amount_text: "¥5.00".into(),
            discount_text: None,
        });
    }
    Receipt {
        shop_name: "西湖茶庄 West Lake Tea".into(),
        logo: Some(Logo::from_image_bytes(&logo_png()).unwrap()),
        header_lines: vec![
            "杭州市西湖区龙井路 1 号".into(),
            "Tel 0571-8888 0000".into(),
        ],
        order_ref: "Order ORD-1042".into(),
        time_text: "2026-11-25 17:02".into(),
        till: Some("Till 1 · Front counter".into()),
        lines,
        totals: vec![
            ("Subtotal".into(), "¥221.00".into()),
            ("Discount".into(), "−¥17.60".into()),
            ("Total".into(), "¥203.40".into()),
        ],
        tax_lines: vec![("VAT 13% incl.".into(), "¥23.40".into())],
        payment_text: "Paid by Alipay 支付宝 ¥203.40".into(),
        qr: Some(LINK.into()),
        footer: "谢谢惠顾 Thank you!\nReturns within 7 days with this receipt.".into(),
    }
}

pub(super) fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// (width, height) in pt and the page count, from pdfinfo.
pub(super) fn page_size(pdf: &Path) -> ((f32, f32), usize) {
    let info = run_ok("pdfinfo", "poppler-utils", &[pdf.to_str().unwrap()]);
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in pdfinfo:\n{info}"))
            .trim()
            .to_string()
    };
    let size = field("Page size:");
    let nums: Vec<f32> = size
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let pages = field("Pages:").parse().unwrap();
    ((nums[0], nums[1]), pages)
}

/// The text of the PDF with runs of spaces squeezed to one.
pub(super) fn layout_text(pdf: &Path) -> String {
    let text = run_ok(
        "pdftotext",
        "poppler-utils",
        &["-layout", pdf.to_str().unwrap(), "-"],
    );
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every QR zbarimg finds on the page rendered at 300 dpi.
fn qr_links(dir: &Path, pdf: &Path) -> Vec<String> {
    let png = first_page_png(dir, pdf);
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
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn check(case: &str, paper: Paper, width_pt: f32) {
    let dir = artifacts_dir(case);
    let pdf = write(
        &dir,
        "receipt.pdf",
        &receipt_pdf(&receipt(2), paper).unwrap(),
    );
    qpdf_check(case, &pdf);
    let fonts = fonts_embedded_and_subset(case, &pdf);
    assert!(
        fonts.contains("DroidSansFallback"),
        "{case}: CJK font in\n{fonts}"
    );
    let ((w, h), pages) = page_size(&pdf);
    assert!((w - width_pt).abs() < 0.1, "{case}: page width {w} pt");
    assert_eq!(pages, 1, "{case}: one page");

    // the shop name may wrap on a 58 mm roll: compare lines joined
    let text = layout_text(&pdf);
    let flat = text.replace('\n', " ");
    for needle in [
        "西湖茶庄 West Lake Tea",
        "龙井绿茶 特级 250g",
        "会员折扣 −¥17.60",
        "2 × ¥88.00 ¥176.00",
        "Order ORD-1042 2026-11-25 17:02",
        "Till 1 · Front counter",
        "Subtotal ¥221.00",
        "Total ¥203.40",
        "VAT 13% incl. ¥23.40",
        "Paid by Alipay 支付宝 ¥203.40",
        "谢谢惠顾 Thank you!",
    ] {
        assert!(flat.contains(needle), "{case}: {needle:?} not in\n{text}");
    }
    // the long name wraps but is all there
    assert!(
        flat.contains("Handmade celadon tea cup with a very long name that has to wrap"),
        "{case}: wrapped name in\n{text}"
    );
    assert_eq!(qr_links(&dir, &pdf), vec![LINK.to_string()], "{case}: QR");

    if paper != Paper::A4 {
        // the roll grows with the receipt and never breaks the page
        let long = write(&dir, "long.pdf", &receipt_pdf(&receipt(60), paper).unwrap());
        let ((lw, lh), pages) = page_size(&long);
        assert_eq!((lw, pages), (w, 1), "{case}: long receipt is one page");
        assert!(lh > h + 58.0 * 3.0, "{case}: {lh} pt vs {h} pt");
        assert!(layout_text(&long).contains("茶点 59"), "{case}: last item");
    } else {
        assert!((h - 841.89).abs() < 0.1, "{case}: A4 height {h}");
    }
}

#[test]
fn receipt_on_58_mm_roll() {
    check("receipt-58", Paper::Roll58, 58.0 / 25.4 * 72.0);
}

#[test]
fn receipt_on_80_mm_roll() {
    check("receipt-80", Paper::Roll80, 80.0 / 25.4 * 72.0);
}

#[test]
fn receipt_on_a4() {
    check("receipt-a4", Paper::A4, 210.0 / 25.4 * 72.0);
}

#[test]
fn receipt_without_logo_qr_or_till() {
    let mut r = receipt(2);
    r.logo = None;
    r.qr = None;
    r.till = None;
    r.tax_lines.clear();
    let dir = artifacts_dir("receipt-plain");
    let pdf = write(
        &dir,
        "receipt.pdf",
        &receipt_pdf(&r, Paper::Roll58).unwrap(),
    );
    assert!(layout_text(&pdf).contains("Total ¥203.40"));
    assert!(qr_links(&dir, &pdf).is_empty());
}

/// `Chinese::Raster` read back by the independent ESC/POS reader: every line with Chinese
/// (or another sign outside code page 1252, like −) is one 384 × 24 image on a 58 mm roll,
/// the rest is text, and the reader finds nothing it does not know.
#[test]
fn escpos_raster_chinese_read_back() {
    use shopcast_print::receipt::escpos::{Chinese, EscPosOptions, receipt_bytes};

    let opts = EscPosOptions {
        columns: 32,
        chinese: Chinese::Raster,
        cut: true,
        drawer_kick: false,
    };
    let dir = artifacts_dir("receipt-escpos-raster");
    let file = write(&dir, "receipt.bin", &receipt_bytes(&receipt(2), &opts));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers/escpos_reader.py");
    let json = run_ok(
        "python3",
        "python3",
        &[script.to_str().unwrap(), "decode", file.to_str().unwrap()],
    );
    let decoded: serde_json::Value = serde_json::from_str(&json).expect("reader JSON");
    assert_eq!(decoded["unknown"], serde_json::json!([]), "{json}");
    assert_eq!(decoded["unprinted"], "", "{json}");
    // The logo, then: shop name, 杭州市西湖区…, 龙井绿茶…, 会员折扣 −¥17.60, Discount −¥17.60,
    // Paid by Alipay 支付宝…, 谢谢惠顾 Thank you!.
    let mut images = vec![serde_json::json!([256, 128])];
    images.extend(std::iter::repeat_n(serde_json::json!([384, 24]), 7));
    assert_eq!(decoded["images"], serde_json::Value::from(images), "{json}");
    let lines: Vec<&str> = decoded["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    let text = lines.join("\n");
    for latin in [
        "Tel 0571-8888 0000",
        "Till 1 · Front counter",
        "Handmade celadon tea cup with a",
        "¥176.00",
        "VAT 13% incl.",
        "Total",
        // The footer's second line, on a line of its own.
        "Returns within 7 days with this",
    ] {
        assert!(text.contains(latin), "{latin:?} printed as text:\n{text}");
    }
    assert!(
        !text.contains('?') && !text.chars().any(|c| c as u32 >= 0x2E80),
        "no '?' and no Chinese left in the text:\n{text}"
    );
    assert_eq!(decoded["cuts"], 1, "{json}");
}
