//! Catalog CSV import benchmark against its peer, plain SQLite: 100,000 rows into an empty
//! shop, then 100,000 more into that shop (now holding 100,000 products), then the first
//! file again (100,000 updates); the peer inserts the same rows with raw multi-row INSERTs
//! (sqlx, one transaction, the same table and its search index) in the same run.
//! Run: `cargo bench -p shopcast-core --bench catalog_import` (SHOPCAST_BENCH_PRODUCTS to
//! change the size).

use std::time::{Duration, Instant};

use shopcast_core::Shop;

#[path = "support/catalog_csv.rs"]
mod catalog_csv;

/// Rows per INSERT of the peer (9 values each, well under SQLite's 32,766 variables).
const PEER_CHUNK: usize = 500;

fn main() {
    let count = catalog_csv::bench_size();
    let runtime = catalog_csv::runtime();
    runtime.block_on(run(count));
}

async fn run(count: usize) {
    let files = tempfile::tempdir().unwrap();
    let first = files.path().join("first.csv");
    let second = files.path().join("second.csv");
    catalog_csv::write_catalog(&first, count, 0);
    catalog_csv::write_catalog(&second, count, count);

    let dir = tempfile::tempdir().unwrap();
    let shop = open_shop(dir.path()).await;
    let empty = import(&shop, &first, count, "import: into an empty shop").await;
    let full = import(&shop, &second, count, "import: into a shop of as many").await;
    let started = Instant::now();
    let report = shop.import_catalog(&first, false).await.unwrap();
    assert!(
        report.applied && report.updated as usize == count,
        "{report:?}"
    );
    line(
        "import: the first file again (updates)",
        count,
        started.elapsed(),
    );
    shop.close().await;

    let dir = tempfile::tempdir().unwrap();
    let peer = open_shop(dir.path()).await;
    let peer_empty = raw_insert(&peer, &first, "peer: raw INSERT into an empty shop").await;
    let peer_full = raw_insert(&peer, &second, "peer: raw INSERT into a shop of as many").await;
    peer.close().await;

    println!(
        "ratio import/peer: empty shop {:.2}, full shop {:.2} (1.00 = as fast as plain SQLite)",
        empty / peer_empty,
        full / peer_full
    );
}

async fn open_shop(dir: &std::path::Path) -> Shop {
    let shop = Shop::open(dir).await.unwrap();
    shop.set_setting("shop.name", "Bench shop").await.unwrap();
    shop.set_setting("shop.currency", "CNY").await.unwrap();
    shop
}

/// Imports `csv` (all rows new) and returns rows per second.
async fn import(shop: &Shop, csv: &std::path::Path, count: usize, label: &str) -> f64 {
    let started = Instant::now();
    let report = shop.import_catalog(csv, false).await.unwrap();
    assert!(
        report.applied && report.created as usize == count,
        "{report:?}"
    );
    line(label, count, started.elapsed())
}

type PeerRow = (String, String, String, i64, String, i64, String);

/// Inserts the rows of `csv` (parsed beforehand, not timed) the plain way and returns rows
/// per second.
async fn raw_insert(shop: &Shop, csv: &std::path::Path, label: &str) -> f64 {
    let rows: Vec<PeerRow> = csv::Reader::from_path(csv)
        .unwrap()
        .records()
        .map(|record| {
            let r = record.unwrap();
            let price: f64 = r[3].parse().unwrap();
            (
                r[0].to_string(),
                r[1].to_string(),
                r[2].to_string(),
                (price * 100.0).round() as i64,
                r[4].to_string(),
                r[5].parse().unwrap(),
                r[6].to_string(),
            )
        })
        .collect();
    let started = Instant::now();
    let mut tx = shop.pool().begin().await.unwrap();
    for chunk in rows.chunks(PEER_CHUNK) {
        let mut insert = sqlx::QueryBuilder::<sqlx::Any>::new(
            "INSERT INTO products (sku, name, description, price_minor, currency, stock, tags, created_at, updated_at) ",
        );
        insert.push_values(chunk, |mut values, row| {
            values
                .push_bind(&row.0)
                .push_bind(&row.1)
                .push_bind(&row.2)
                .push_bind(row.3)
                .push_bind(&row.4)
                .push_bind(row.5)
                .push_bind(&row.6)
                .push_bind(1_790_000_000_000_i64)
                .push_bind(1_790_000_000_000_i64);
        });
        insert.build().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    line(label, rows.len(), started.elapsed())
}

fn line(label: &str, rows: usize, took: Duration) -> f64 {
    let per_second = rows as f64 / took.as_secs_f64();
    println!(
        "{label:<44} {:>8.0} ms   ({rows} rows, {per_second:>8.0} rows/s)",
        took.as_secs_f64() * 1000.0
    );
    per_second
}
