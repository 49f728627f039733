//! Sales-report PDFs checked with real tools: qpdf (structure, uncompressed content for
//! counting chart bars and links), pdffonts, pdftotext (per page), pdfimages, pdftoppm.
//! Artifacts: `<repo>/target/print-artifacts/report*/` and `report-page1.png`.

use std::path::{Path, PathBuf};

use shopcast_print::report::{
    Align, Bar, BarChart, CHART_BARS_TAG, Column, ReportDoc, ReportLabels, ReportPaper, Table,
    TotalsBlock, render_report,
};

use super::{artifacts_dir, fonts_embedded_and_subset, normalize, qpdf_check, run_ok};

const MM_TO_PT: f32 = 72.0 / 25.4;

const PRODUCTS: [&str; 8] = [
    "青花瓷杯",
    "龙井 明前 250g",
    "Café crème tasse",
    "Jasmine Pearls 茉莉龙珠",
    "Crème brûlée set",
    "普洱熟茶 饼 357g",
    "Sourdough £ loaf",
    "Matcha ¥ whisk",
];

/// A long name that must be ellipsized in its column.
const LONG_NAME: &str = "P007 Premium Hand-Picked Spring Harvest Oolong 高山乌龙茶 in a Lacquered Gift Box with Two Cups and a Certificate";

fn column(header: &str, align: Align, weight: f32) -> Column {
    Column {
        header: header.into(),
        align,
        weight,
    }
}

/// "P001 青花瓷杯", …: the tag makes every first cell unique and findable.
fn product_name(i: usize) -> String {
    if i == 6 {
        LONG_NAME.to_string()
    } else {
        format!("P{:03} {}", i + 1, PRODUCTS[i % PRODUCTS.len()])
    }
}

/// November 2026: CNY every day but two, EUR on fewer days.
fn daily(currency: &str, symbol: &str) -> BarChart {
    let bars: Vec<Bar> = (1..=30)
        .map(|d| {
            let value: i64 = match currency {
                "CNY" if d % 13 == 0 => 0,
                "CNY" => 40_000 + (d * 7919 % 97) * 1_300,
                _ if d % 3 == 0 => 0,
                _ => 2_000 + (d * 31 % 17) * 450,
            };
            Bar {
                label: format!("11-{d:02}"),
                value,
                value_text: format!("{symbol}{}", value / 100),
            }
        })
        .collect();
    let max = bars.iter().map(|b| b.value).max().unwrap();
    BarChart {
        title: format!("Daily sales ({currency})"),
        bars,
        axis_max_text: format!("{symbol}{}", max / 100),
    }
}

fn month_report() -> ReportDoc {
    let products = Table {
        title: "By product".into(),
        columns: vec![
            column("Product name", Align::Left, 4.0),
            column("Currency", Align::Left, 1.2),
            column("Units sold", Align::Right, 1.2),
            column("Net sales", Align::Right, 1.6),
        ],
        rows: (0..120)
            .map(|i| {
                let cny = i % 3 != 2;
                vec![
                    product_name(i),
                    if cny { "CNY" } else { "EUR" }.into(),
                    (200 - i).to_string(),
                    if cny {
                        format!("¥{},{:03}.00", 9 - i / 15, (i * 37) % 1000)
                    } else {
                        format!("€{}.{:02}", 900 - i * 3, i % 100)
                    },
                ]
            })
            .collect(),
        links: vec![],
    };
    let payments = Table {
        title: "By payment method".into(),
        columns: vec![
            column("Method", Align::Left, 3.0),
            column("Orders", Align::Right, 1.0),
            column("Amount", Align::Right, 1.5),
        ],
        rows: vec![
            vec!["支付宝 Alipay".into(), "412".into(), "¥41,230.00".into()],
            vec!["Card (Stripe)".into(), "96".into(), "€3.120,50".into()],
            vec!["Cash".into(), "37".into(), "£210.00".into()],
        ],
        links: vec![],
    };
    let posts = Table {
        title: "Top posts".into(),
        columns: vec![
            column("Post", Align::Left, 4.0),
            column("Orders", Align::Right, 1.0),
        ],
        rows: vec![
            vec!["New spring tea 新茶上市".into(), "58".into()],
            vec!["Weekend tasting".into(), "21".into()],
        ],
        links: vec![
            Some("https://bsky.app/profile/shop.example.com/post/3kx2".into()),
            None,
        ],
    };
    ReportDoc {
        title: "Sales report".into(),
        shop_name: "<b>西湖茶庄</b> & Crème Co.".into(),
        period: "1 Nov 2026 – 30 Nov 2026 (Europe/Berlin)".into(),
        generated_at: "Generated 25 Nov 2026 17:02".into(),
        paper: ReportPaper::A4,
        totals: vec![
            TotalsBlock {
                currency: "CNY".into(),
                items: vec![
                    ("Gross".into(), "¥48,912.40".into()),
                    ("Refunds".into(), "−¥1,204.00".into()),
                    ("Net".into(), "¥47,708.40".into()),
                    ("Orders".into(), "508".into()),
                    ("Average ticket".into(), "¥93.91".into()),
                ],
            },
            TotalsBlock {
                currency: "EUR".into(),
                items: vec![
                    ("Gross".into(), "€3.310,50".into()),
                    ("Refunds".into(), "−€190,00".into()),
                    ("Net".into(), "€3.120,50".into()),
                    ("Orders".into(), "96".into()),
                    ("Average ticket".into(), "€32,51".into()),
                ],
            },
        ],
        charts: vec![daily("CNY", "¥"), daily("EUR", "€")],
        sections: vec![products, payments, posts],
        empty_message: None,
        labels: ReportLabels::default(),
    }
}

fn write_pdf(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let pdf = dir.join(name);
    std::fs::write(&pdf, bytes).unwrap();
    qpdf_check(name, &pdf);
    pdf
}

/// `page` of `pdf` (the first without one) as `<out>.png` at 80 dpi, to look at.
fn snapshot(pdf: &Path, page: Option<usize>, out: &Path) {
    let page = page.map(|p| p.to_string());
    let mut args = vec!["-r", "80", "-png"];
    if let Some(page) = &page {
        args.extend(["-f", page, "-l", page]);
    }
    args.extend(["-singlefile", pdf.to_str().unwrap(), out.to_str().unwrap()]);
    run_ok("pdftoppm", "poppler-utils", &args);
}

fn page_count(pdf: &Path) -> usize {
    run_ok("qpdf", "qpdf", &["--show-npages", pdf.to_str().unwrap()])
        .trim()
        .parse()
        .unwrap()
}

fn page_text(pdf: &Path, page: usize) -> String {
    let k = page.to_string();
    run_ok(
        "pdftotext",
        "poppler-utils",
        &["-layout", "-f", &k, "-l", &k, pdf.to_str().unwrap(), "-"],
    )
}

/// Page `page` alone as an uncompressed QDF file, read as text (content streams,
/// annotations).
fn page_qdf(pdf: &Path, page: usize) -> String {
    let out = pdf.with_extension(format!("page{page}.qdf.pdf"));
    let k = page.to_string();
    run_ok(
        "qpdf",
        "qpdf",
        &[
            "--qdf",
            "--object-streams=disable",
            pdf.to_str().unwrap(),
            "--pages",
            ".",
            &k,
            "--",
            out.to_str().unwrap(),
        ],
    );
    String::from_utf8_lossy(&std::fs::read(&out).unwrap()).into_owned()
}

/// The `x y w h re` rectangles inside each `/ShopcastChartBars BMC … EMC` section.
fn chart_bars(qdf: &str) -> Vec<Vec<[f32; 4]>> {
    let begin = format!("/{CHART_BARS_TAG} BMC");
    qdf.split(&begin)
        .skip(1)
        .map(|section| {
            let section = &section[..section.find("EMC").expect("EMC after BMC")];
            section
                .lines()
                .filter_map(|l| {
                    let t: Vec<&str> = l.split_whitespace().collect();
                    (t.len() == 5 && t[4] == "re").then(|| {
                        let n = |i: usize| t[i].parse::<f32>().expect("number");
                        [n(0), n(1), n(2), n(3)]
                    })
                })
                .collect()
        })
        .collect()
}

/// Month, two currencies, 120 products: structure, fonts, text, page numbers, table
/// header on every page with rows, rows never split, links, page 1 image.
#[test]
fn month_report_two_currencies() {
    let doc = month_report();
    let dir = artifacts_dir("report");
    let bytes = render_report(&doc).expect("render");
    let pdf = write_pdf(&dir, "report-month.pdf", &bytes);

    let fonts = fonts_embedded_and_subset("month report", &pdf);
    assert!(fonts.contains("DejaVuSans-Bold"), "{fonts}");
    assert!(fonts.contains("DroidSansFallback"), "CJK face:\n{fonts}");
    assert!(
        bytes.len() < 400_000,
        "fonts are subset: {} bytes",
        bytes.len()
    );

    let n = page_count(&pdf);
    assert!(n >= 4, "120 rows must run over several pages: {n}");
    let pages: Vec<String> = (1..=n).map(|k| normalize(&page_text(&pdf, k))).collect();
    let all = pages.join("\n");

    // header, totals, tables
    for expected in [
        "<b>西湖茶庄</b> & Crème Co.",
        "Sales report",
        "1 Nov 2026 – 30 Nov 2026 (Europe/Berlin)",
        "Generated 25 Nov 2026 17:02",
        "Daily sales (CNY)",
        "Daily sales (EUR)",
        "By payment method",
        "支付宝 Alipay",
        "€3.120,50",
        "Top posts",
        "New spring tea 新茶上市",
    ] {
        assert!(
            all.contains(expected),
            "{expected:?} not in the PDF:\n{all}"
        );
    }
    for block in &doc.totals {
        assert!(pages[0].contains(&block.currency), "{}", block.currency);
        for (label, value) in &block.items {
            assert!(pages[0].contains(label.as_str()), "totals label {label:?}");
            assert!(pages[0].contains(value.as_str()), "totals value {value:?}");
        }
    }
    // top products (the first rows), Chinese included
    for name in [
        "P001 青花瓷杯",
        "P002 龙井 明前 250g",
        "P004 Jasmine Pearls 茉莉龙珠",
    ] {
        assert!(all.contains(name), "{name:?} not in the PDF");
    }

    // page numbers
    for (k, text) in pages.iter().enumerate() {
        let label = format!("Page {} of {n}", k + 1);
        assert_eq!(
            text.matches(&label).count(),
            1,
            "{label:?} on page {}",
            k + 1
        );
    }

    // every product row exactly once (never split, never repeated); the long one ellipsized
    let products = &doc.sections[0];
    for row in &products.rows {
        let tag = format!("{} ", &row[0][..4]);
        assert_eq!(all.matches(&tag).count(), 1, "row {tag:?}");
        if row[0] == LONG_NAME {
            assert!(!all.contains(LONG_NAME), "long name not ellipsized");
            assert!(all.contains("P007 Premium Hand-Picked"), "long name start");
            assert!(all.contains('…'), "ellipsis");
        } else {
            assert_eq!(all.matches(&normalize(&row[0])).count(), 1, "{:?}", row[0]);
        }
    }
    // a row's cells stay together on one page: its name and its amount
    for row in &products.rows {
        let tag = format!("{} ", &row[0][..4]);
        let page = pages.iter().find(|p| p.contains(&tag)).unwrap();
        assert!(
            page.contains(&row[3]),
            "{tag:?} and {:?} on one page",
            row[3]
        );
    }

    // the header row (and title) on every page that holds product rows
    let mut product_pages = 0;
    for (k, text) in pages.iter().enumerate() {
        let rows_here = products
            .rows
            .iter()
            .filter(|r| text.contains(&format!("{} ", &r[0][..4])))
            .count();
        if rows_here == 0 {
            continue;
        }
        product_pages += 1;
        for column in &products.columns {
            assert_eq!(
                text.matches(&column.header).count(),
                1,
                "header {:?} on page {}",
                column.header,
                k + 1
            );
        }
        if product_pages > 1 {
            assert!(
                text.contains("By product (continued)"),
                "continued title on page {}",
                k + 1
            );
        }
    }
    assert!(
        product_pages >= 3,
        "product table spans {product_pages} pages"
    );

    // the first cell of a row with a URL is a link, on the page of that row
    let posts_page = 1 + pages
        .iter()
        .position(|p| p.contains("New spring tea 新茶上市"))
        .unwrap();
    assert!(
        pages[posts_page - 1].contains("Top posts")
            && pages[posts_page - 1].contains("Weekend tasting"),
        "a two-row table stays on one page"
    );
    let qdf = page_qdf(&pdf, posts_page);
    assert_eq!(qdf.matches("/Subtype /Link").count(), 1, "one link");
    assert!(
        qdf.contains("/URI (https://bsky.app/profile/shop.example.com/post/3kx2)"),
        "link annotation on page {posts_page}"
    );

    // page 1 as an image, to look at
    let png =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/print-artifacts/report-page1");
    snapshot(&pdf, Some(1), &png);
    let png = png.with_extension("png");
    let img = image::open(&png).expect("page 1 PNG");
    assert_eq!((img.width(), img.height()), (662, 936), "A4 at 80 dpi");
    // page 2 too (a continued table)
    snapshot(&pdf, Some(2), &dir.join("report-page2"));
}

/// The daily charts are vectors: no image on page 1, one `re` per day with sales,
/// heights in proportion to the values, the tallest as tall as the plot.
#[test]
fn charts_are_vector_bars() {
    let doc = month_report();
    let dir = artifacts_dir("report-chart");
    let pdf = write_pdf(&dir, "report-chart.pdf", &render_report(&doc).unwrap());

    let images = run_ok(
        "pdfimages",
        "poppler-utils",
        &["-list", "-f", "1", "-l", "1", pdf.to_str().unwrap()],
    );
    assert_eq!(images.lines().count(), 2, "no images on page 1:\n{images}");

    let qdf = page_qdf(&pdf, 1);
    let charts = chart_bars(&qdf);
    assert_eq!(charts.len(), doc.charts.len(), "both charts on page 1");
    for (chart, rects) in doc.charts.iter().zip(&charts) {
        let with_sales: Vec<&Bar> = chart.bars.iter().filter(|b| b.value > 0).collect();
        assert!(
            with_sales.len() < chart.bars.len(),
            "test data has empty days"
        );
        assert_eq!(
            rects.len(),
            with_sales.len(),
            "{}: one bar per day",
            chart.title
        );
        let max_value = with_sales.iter().map(|b| b.value).max().unwrap() as f32;
        let max_h = rects.iter().map(|r| r[3]).fold(0.0, f32::max);
        assert!(
            (max_h - 44.0 * MM_TO_PT).abs() < 0.05,
            "{}: tallest bar {max_h} pt",
            chart.title
        );
        for (bar, rect) in with_sales.iter().zip(rects) {
            let expected = bar.value as f32 / max_value * max_h;
            assert!(
                (rect[3] - expected).abs() < 0.05,
                "{} {}: height {} pt, expected {expected}",
                chart.title,
                bar.label,
                rect[3]
            );
        }
        // left to right, never overlapping, all on one baseline
        for pair in rects.windows(2) {
            assert!(pair[0][0] + pair[0][2] < pair[1][0], "{pair:?}");
            assert!((pair[0][1] - pair[1][1]).abs() < 0.02, "{pair:?}");
        }
    }
    // a month has room for every other day label, and for the EUR values above the bars
    let text = normalize(&page_text(&pdf, 1));
    for day in ["11-01", "11-15", "11-29"] {
        assert!(text.contains(day), "{day} label");
    }
    for bar in doc.charts[1].bars.iter().filter(|b| b.value > 0) {
        assert!(text.contains(&bar.value_text), "{} value", bar.label);
    }
}

/// A year of bars: every bar drawn, day labels thinned so that none overlap.
#[test]
fn year_chart_labels_do_not_overlap() {
    let bars: Vec<Bar> = (0..365)
        .map(|d| Bar {
            label: format!("{:02}-{:02}", d / 31 + 1, d % 31 + 1),
            value: 1 + (d * 7919 % 1000),
            value_text: format!("¥{}", 1 + (d * 7919 % 1000)),
        })
        .collect();
    let mut doc = month_report();
    doc.period = "1 Jan 2026 – 31 Dec 2026 (Asia/Shanghai)".into();
    doc.charts = vec![BarChart {
        title: "Daily sales (CNY)".into(),
        bars,
        axis_max_text: "¥1,000".into(),
    }];
    doc.sections.truncate(1);
    doc.paper = ReportPaper::Letter;
    let dir = artifacts_dir("report-year");
    let pdf = write_pdf(&dir, "report-year.pdf", &render_report(&doc).unwrap());
    let info = run_ok("pdfinfo", "poppler-utils", &[pdf.to_str().unwrap()]);
    assert!(info.contains("612 x 792 pts"), "Letter:\n{info}");

    let charts = chart_bars(&page_qdf(&pdf, 1));
    assert_eq!(charts.len(), 1);
    assert_eq!(charts[0].len(), 365, "one bar per day");

    let html = run_ok(
        "pdftotext",
        "poppler-utils",
        &["-bbox", "-f", "1", "-l", "1", pdf.to_str().unwrap(), "-"],
    );
    let labels: Vec<[f32; 2]> = html
        .split("<word ")
        .skip(1)
        .filter_map(|w| {
            let text = &w[w.find('>')? + 1..w.find("</word>")?];
            let is_day = text.len() == 5
                && text.as_bytes()[2] == b'-'
                && text.bytes().filter(u8::is_ascii_digit).count() == 4;
            let attr = |name: &str| -> f32 {
                let start = w.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                let end = start + w[start..].find('"').unwrap();
                w[start..end].parse().unwrap()
            };
            is_day.then(|| [attr("xMin"), attr("xMax")])
        })
        .collect();
    assert!(
        (8..=40).contains(&labels.len()),
        "{} day labels",
        labels.len()
    );
    for pair in labels.windows(2) {
        assert!(pair[0][1] < pair[1][0], "labels overlap: {pair:?}");
    }
}

/// No sales: the message instead of charts and tables, still a valid one-page PDF.
#[test]
fn empty_period_prints_the_message() {
    let mut doc = month_report();
    doc.empty_message = Some("No sales between 1 and 30 November 2026. 本期没有销售。".into());
    let dir = artifacts_dir("report-empty");
    let pdf = write_pdf(&dir, "report-empty.pdf", &render_report(&doc).unwrap());
    assert_eq!(page_count(&pdf), 1);
    let text = normalize(&page_text(&pdf, 1));
    assert!(
        text.contains("No sales between 1 and 30 November 2026."),
        "{text}"
    );
    assert!(text.contains("本期没有销售。"), "{text}");
    assert!(text.contains("Page 1 of 1"), "{text}");
    for absent in ["Daily sales", "By product", "Product name", "P001"] {
        assert!(!text.contains(absent), "{absent:?} printed:\n{text}");
    }
    assert!(chart_bars(&page_qdf(&pdf, 1)).is_empty(), "no chart");
    snapshot(&pdf, None, &dir.join("report-empty"));
}

/// A row with the wrong number of cells is refused with a code and a sentence.
#[test]
fn wrong_cell_count_is_an_error() {
    let mut doc = month_report();
    doc.sections[0].rows[41].pop();
    let err = render_report(&doc).unwrap_err();
    assert_eq!(err.code(), "report_row_cells");
    assert_eq!(
        err.to_string(),
        "Row 42 of the report table \"By product\" has 3 cells but the table has 4 columns."
    );
}
