//! Catalog benchmark: a shop file with 100,000 products (generated here, through the
//! public CSV import), then the first catalog page, full-text searches and the CSV export.
//! Run: `cargo bench -p shopcast-core --bench catalog` (set SHOPCAST_BENCH_PRODUCTS to
//! change the size; SHOPCAST_BENCH_DIR to keep the generated shop for the app benchmarks).

use std::time::{Duration, Instant};

use shopcast_core::{ProductQuery, Shop};

#[path = "support/catalog_csv.rs"]
mod catalog_csv;

fn main() {
    let count = catalog_csv::bench_size();
    let runtime = catalog_csv::runtime();
    let temp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("SHOPCAST_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    runtime.block_on(run(count, &dir));
}

async fn run(count: usize, dir: &std::path::Path) {
    let shop = Shop::open(dir).await.unwrap();
    shop.set_setting("shop.name", "Bench shop").await.unwrap();
    shop.set_setting("shop.currency", "CNY").await.unwrap();

    let existing = shop
        .list_products(&ProductQuery {
            limit: 1,
            include_archived: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .total;
    if existing < count as i64 {
        let csv = dir.join("generated.csv");
        catalog_csv::write_catalog(&csv, count, 0);
        let started = Instant::now();
        let report = shop.import_catalog(&csv, false).await.unwrap();
        assert!(
            report.applied && report.created as usize == count,
            "{report:?}"
        );
        report_line("generate: import of the CSV", count, started.elapsed());
    }

    let first_page = ProductQuery {
        limit: 100,
        ..Default::default()
    };
    measure("list: first page (100 rows + total)", 50, || {
        shop.list_products(&first_page)
    })
    .await;
    let deep_page = ProductQuery {
        offset: (count as i64 - 100).max(0),
        limit: 100,
        ..Default::default()
    };
    measure("list: last page", 20, || shop.list_products(&deep_page)).await;
    for (label, text) in [
        ("search: latin word 'ceramic'", "ceramic"),
        ("search: two latin words 'wool scarf'", "wool scarf"),
        ("search: Chinese 3 chars '青花瓷'", "青花瓷"),
        ("search: Chinese 2 chars '龙井'", "龙井"),
        ("search: SKU 'SKU-0099999'", "SKU-0099999"),
        ("search: no match 'zzzzqq'", "zzzzqq"),
    ] {
        let query = ProductQuery {
            search: Some(text.into()),
            limit: 100,
            ..Default::default()
        };
        measure(label, 20, || shop.list_products(&query)).await;
    }
    let out = dir.join("export.csv");
    let started = Instant::now();
    let exported = shop.export_catalog(&out).await.unwrap();
    report_line(
        "export: catalog CSV",
        exported.rows as usize,
        started.elapsed(),
    );
    println!(
        "export: file size {:.1} MB",
        std::fs::metadata(&out).unwrap().len() as f64 / 1e6
    );
    shop.close().await;
}

async fn measure<F, Fut, T>(label: &str, runs: usize, mut op: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = shopcast_core::Result<T>>,
{
    op().await.unwrap(); // warm the page cache and the statement cache
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        op().await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    let median = times[runs / 2];
    let worst = times[runs - 1];
    println!(
        "{label:<42} median {:>8.2} ms   max {:>8.2} ms   ({runs} runs)",
        ms(median),
        ms(worst)
    );
}

fn report_line(label: &str, rows: usize, took: Duration) {
    println!(
        "{label:<42} {:>8.0} ms   ({rows} rows, {:.0} rows/s)",
        ms(took),
        rows as f64 / took.as_secs_f64()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
