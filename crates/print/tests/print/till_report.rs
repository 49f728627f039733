//! The till's Z and X report PDFs read back with pdftotext (headings and figures, in
//! order) and pdfinfo (roll width, one growing page; A4 flows over pages).

use shopcast_print::{Paper, TillReportDoc, render_till_report};

use super::receipt::{layout_text, page_size, write};
use super::{artifacts_dir, qpdf_check, run_ok};

fn z_report(paper: Paper) -> TillReportDoc {
    let rows = |r: &[(&str, &str)]| -> Vec<(String, String)> {
        r.iter()
            .map(|(l, a)| (l.to_string(), a.to_string()))
            .collect()
    };
    TillReportDoc {
        title: "Z report 12".into(),
        shop_name: "西湖茶庄".into(),
        till: "Till 1 · Front counter".into(),
        period: "Opened 2026-11-25 09:00 – closed 2026-11-25 18:30".into(),
        sections: vec![
            (
                "Sales by method".into(),
                rows(&[
                    ("Cash 现金", "¥320.00"),
                    ("Alipay 支付宝", "¥1,203.40"),
                    ("WeChat Pay", "¥88.00"),
                ]),
            ),
            ("Refunds".into(), rows(&[("Cash (1)", "−¥45.00")])),
            (
                "Tax per rate".into(),
                rows(&[("VAT 13%", "¥185.30"), ("VAT 9%", "¥7.27")]),
            ),
            ("Discounts".into(), rows(&[("Member 10%", "−¥17.60")])),
            (
                "Cash drawer".into(),
                rows(&[
                    ("Float", "¥200.00"),
                    ("Expected", "¥475.00"),
                    ("Counted", "¥470.00"),
                    ("Difference", "−¥5.00"),
                ]),
            ),
        ],
        generated_at: "Printed 2026-11-25 18:31".into(),
        paper,
    }
}

#[test]
fn z_report_on_every_paper() {
    for (paper, width) in [
        (Paper::Roll58, 58.0),
        (Paper::Roll80, 80.0),
        (Paper::A4, 210.0),
    ] {
        let case = format!("z-report-{width}");
        let dir = artifacts_dir(&case);
        let pdf = write(
            &dir,
            "z.pdf",
            &render_till_report(&z_report(paper)).unwrap(),
        );
        qpdf_check(&case, &pdf);
        let ((w, _), pages) = page_size(&pdf);
        assert!((w - width / 25.4 * 72.0).abs() < 0.1, "{case}: width {w}");
        assert_eq!(pages, 1, "{case}");
        let text = layout_text(&pdf);
        for needle in [
            "西湖茶庄",
            "Z report 12",
            "Till 1 · Front counter",
            "Sales by method",
            "Cash 现金 ¥320.00",
            "Alipay 支付宝 ¥1,203.40",
            "Refunds",
            "Cash (1) −¥45.00",
            "Tax per rate",
            "VAT 13% ¥185.30",
            "VAT 9% ¥7.27",
            "Discounts",
            "Member 10% −¥17.60",
            "Cash drawer",
            "Expected ¥475.00",
            "Counted ¥470.00",
            "Difference −¥5.00",
            "Printed 2026-11-25 18:31",
        ] {
            assert!(text.contains(needle), "{case}: {needle:?} not in\n{text}");
        }
        // headings come in order
        let at = |s: &str| text.find(s).unwrap();
        assert!(at("Sales by method") < at("Refunds") && at("Tax per rate") < at("Cash drawer"));
    }
}

#[test]
fn long_x_report_on_a4_flows_over_pages() {
    let mut doc = z_report(Paper::A4);
    doc.title = "X report".into();
    doc.sections[0].1 = (0..120)
        .map(|i| (format!("Product {i}"), format!("¥{i}.00")))
        .collect();
    let dir = artifacts_dir("x-report-a4-long");
    let pdf = write(&dir, "x.pdf", &render_till_report(&doc).unwrap());
    let ((_, h), pages) = page_size(&pdf);
    assert!((h - 841.89).abs() < 0.1);
    assert!(pages >= 2, "{pages} pages");
    let text = run_ok("pdftotext", "poppler-utils", &[pdf.to_str().unwrap(), "-"]);
    assert!(text.contains("Product 119") && text.contains("Difference"));
}
