//! `cargo bench -p shopcast-print --bench report`: a year's sales report (365 daily bars
//! in two currencies, a 1,000-row product table with CJK names) → time and PDF size.
//! Goal: well under 1 s.

use std::hint::black_box;
use std::time::{Duration, Instant};

use shopcast_print::report::{
    Align, Bar, BarChart, Column, ReportDoc, ReportLabels, ReportPaper, Table, TotalsBlock,
    render_report,
};

const NAMES: [&str; 8] = [
    "青花瓷杯",
    "龙井绿茶 特级 250g",
    "Café crème tasse",
    "Jasmine Pearls 茉莉龙珠",
    "Crème brûlée set",
    "普洱熟茶 饼 357g",
    "Sourdough loaf",
    "Matcha whisk 抹茶刷",
];

fn column(header: &str, align: Align, weight: f32) -> Column {
    Column {
        header: header.into(),
        align,
        weight,
    }
}

fn year_chart(currency: &str, symbol: &str, scale: i64) -> BarChart {
    let bars: Vec<Bar> = (0..365)
        .map(|d: i64| {
            let value = if d % 7 == 6 {
                0
            } else {
                scale * (20 + (d * 7919) % 80)
            };
            Bar {
                label: format!("{:02}-{:02}", d / 31 + 1, d % 31 + 1),
                value,
                value_text: format!("{symbol}{}", value / 100),
            }
        })
        .collect();
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0);
    BarChart {
        title: format!("Daily sales ({currency})"),
        bars,
        axis_max_text: format!("{symbol}{}", max / 100),
    }
}

fn year_report(products: usize) -> ReportDoc {
    let table = Table {
        title: "By product".into(),
        columns: vec![
            column("Product", Align::Left, 4.0),
            column("SKU", Align::Left, 1.4),
            column("Units", Align::Right, 1.0),
            column("Orders", Align::Right, 1.0),
            column("Net sales", Align::Right, 1.6),
        ],
        rows: (0..products)
            .map(|i| {
                vec![
                    format!("{} #{}", NAMES[i % NAMES.len()], i + 1),
                    format!("SKU-{:05}", i + 1),
                    (5000 - i).to_string(),
                    (3000 - i).to_string(),
                    format!("¥{},{:03}.{:02}", 90 - i / 12, (i * 37) % 1000, i % 100),
                ]
            })
            .collect(),
        links: (0..products)
            .map(|i| (i % 10 == 0).then(|| format!("https://shop.example.com/p/SKU-{}", i + 1)))
            .collect(),
    };
    ReportDoc {
        title: "Sales report".into(),
        shop_name: "西湖茶庄 West Lake Tea".into(),
        period: "1 Jan 2026 – 31 Dec 2026 (Asia/Shanghai)".into(),
        generated_at: "Generated 2 Jan 2027 09:15".into(),
        paper: ReportPaper::A4,
        totals: ["CNY", "EUR"]
            .iter()
            .map(|c| TotalsBlock {
                currency: (*c).into(),
                items: ["Gross", "Refunds", "Net", "Orders", "Average ticket"]
                    .iter()
                    .map(|l| ((*l).into(), "1,234,567.89".into()))
                    .collect(),
            })
            .collect(),
        charts: vec![
            year_chart("CNY", "¥", 10_000),
            year_chart("EUR", "€", 1_000),
        ],
        sections: vec![table],
        empty_message: None,
        labels: ReportLabels::default(),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let doc = year_report(1000);
    // warm-up (parses the bundled fonts once)
    let pdf = render_report(&doc).expect("render");
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        black_box(render_report(black_box(&doc)).expect("render"));
        times.push(t.elapsed());
    }
    let t = median(times);
    if let Some(out) = std::env::var_os("SHOPCAST_BENCH_PDF") {
        std::fs::write(&out, &pdf).expect("write the benchmark PDF");
    }
    // page dictionaries are not compressed: one /MediaBox each
    let pages = pdf.windows(9).filter(|w| w == b"/MediaBox").count();
    println!(
        "report: a year (2 × 365 bars) + 1,000 product rows, {pages} pages: {:.0} ms (median of 5), {:.1} KiB ({} bytes) — goal < 1000 ms: {}",
        t.as_secs_f64() * 1e3,
        pdf.len() as f64 / 1024.0,
        pdf.len(),
        if t < Duration::from_secs(1) {
            "met"
        } else {
            "NOT met"
        }
    );

    let month = {
        let mut d = year_report(120);
        for chart in &mut d.charts {
            chart.bars.truncate(30);
        }
        d
    };
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..5 {
        let t = Instant::now();
        size = black_box(render_report(black_box(&month)).expect("render")).len();
        times.push(t.elapsed());
    }
    println!(
        "report: a month (2 × 30 bars) + 120 product rows: {:.0} ms (median of 5), {:.1} KiB",
        median(times).as_secs_f64() * 1e3,
        size as f64 / 1024.0
    );
}
