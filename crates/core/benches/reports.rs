//! Reports benchmark on 1,000,000 payments over a year (generated here with bulk SQL into a
//! real shop file: 1,000 products, one order of one taxed line per payment, 5 % partly refunded).
//! Compares, on the same file in the same run:
//! - CSV export (our streaming writer, in a child process to read its peak memory) against
//!   `sqlite3 -csv` running the same query into a file;
//! - the year's summary (totals, days, products, methods, channels, posts) against the four
//!   naive GROUP BY queries in `sqlite3`, and the PDF made from it.
//!
//! Run: `cargo bench -p shopcast-core --bench reports` (SHOPCAST_BENCH_PAYMENTS to change the
//! size; SHOPCAST_BENCH_DIR to keep the shop). Needs the `sqlite3` shell (Debian `sqlite3`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use shopcast_core::reports::{self, CsvOptions, ReportFilter};
use shopcast_core::{Shop, ShopSettings};

const TZ: &str = "Asia/Shanghai";

fn year() -> ReportFilter {
    ReportFilter {
        from: "2025-01-01".into(),
        to: "2025-12-31".into(),
        ..Default::default()
    }
}

async fn generate(dir: &Path, payments: i64) {
    let shop = Shop::open(dir).await.unwrap();
    shop.save_settings(ShopSettings {
        name: "Bench 小店".into(),
        currency: "CNY".into(),
        timezone: TZ.into(),
        locale: "zh-CN".into(),
        buy_link_base: String::new(),
        public_url: String::new(),
        ..Default::default()
    })
    .await
    .unwrap();
    let pool = shop.pool();
    let start = jiff::Timestamp::from_second(1_735_660_800)
        .unwrap()
        .as_millisecond(); // 2025-01-01 00:00 +08
    let step = 365 * 86_400_000 / payments;
    for sql in [
        "INSERT INTO products (sku, name, description, price_minor, currency, stock, tags, created_at, updated_at)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
         SELECT 'SKU-' || i, CASE i % 3 WHEN 0 THEN '青花瓷杯 ' || i WHEN 1 THEN 'Tea \"' || i || '\"' ELSE 'Scarf, wool ' || i END,
                '', 100 + (i * 37) % 9900, CASE WHEN i % 10 = 0 THEN 'EUR' ELSE 'CNY' END, NULL, '', 0, 0 FROM n",
        "INSERT INTO orders (id, created_at, ref, status, total_minor, currency, channel, source_ref, updated_at)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         SELECT i, 0, 'O-' || i, 'paid', p.price_minor * (1 + i % 3), p.currency,
                CASE i % 4 WHEN 0 THEN 'post' WHEN 1 THEN 'signage' ELSE 'till' END,
                CASE i % 4 WHEN 0 THEN 'p' || (i % 50) WHEN 1 THEN 'S' || (i % 20) ELSE NULL END, 0
         FROM n JOIN products p ON p.id = 1 + i % 1000",
        // Each line as the till prices it: 13 % tax included, rounded half up per line.
        "INSERT INTO order_lines (order_id, product_id, quantity, unit_price_minor, currency, name, sku,
                                  gross_minor, net_minor, tax_minor, tax_rate_name, tax_rate_ppm, lines_in_order)
         SELECT id, pid, q, price, currency, name, sku, g, g - (g * 130000 + 565000) / 1130000,
                (g * 130000 + 565000) / 1130000, '增值税 13 %', 130000, 1
         FROM (SELECT o.id, p.id AS pid, 1 + o.id % 3 AS q, p.price_minor AS price, p.currency,
                      p.name, p.sku, p.price_minor * (1 + o.id % 3) AS g
               FROM orders o JOIN products p ON p.id = 1 + o.id % 1000)",
        "INSERT INTO payments (provider, provider_ref, order_id, status, amount_minor, currency, refunded_minor,
                               method, channel, source_ref, test, mismatch, occurred_at, updated_at)
         SELECT CASE id % 3 WHEN 0 THEN 'stripe' WHEN 1 THEN 'alipay' ELSE 'manual' END, 'ref_' || id, id,
                'paid', total_minor, currency, CASE WHEN id % 20 = 0 THEN total_minor / 4 ELSE 0 END,
                CASE id % 3 WHEN 0 THEN 'card' WHEN 1 THEN 'alipay' ELSE 'cash' END, channel, source_ref, 0, NULL,
                $2 + id * $3 + (id * 7919) % $3, 0
         FROM orders",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(payments)
            .bind(start)
            .bind(step)
            .execute(pool)
            .await
            .unwrap();
    }
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
    shop.close().await;
}

fn time_sqlite(db: &Path, sql: &str, out: &Path) -> Duration {
    let started = Instant::now();
    let status = Command::new("sqlite3")
        .arg("-csv")
        .arg("-header")
        .arg(db)
        .arg(sql)
        .stdout(std::fs::File::create(out).unwrap())
        .status()
        .expect("the sqlite3 shell (Debian package sqlite3)");
    assert!(status.success());
    started.elapsed()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn child_export(db: PathBuf, out: PathBuf) {
    let started = Instant::now();
    let outcome = reports::export_csv(
        &reports::ReportSource::File(db.clone()),
        &year(),
        TZ,
        CsvOptions::default(),
        &out,
        Some(&AtomicBool::new(false)),
        |_| {},
    )
    .unwrap();
    println!(
        "{} {} {} {}",
        started.elapsed().as_millis(),
        outcome.rows,
        outcome.bytes,
        peak_rss_kib()
    );
}

fn main() {
    if let (Ok(db), Ok(out)) = (
        std::env::var("SHOPCAST_BENCH_CHILD_DB"),
        std::env::var("SHOPCAST_BENCH_CHILD_OUT"),
    ) {
        return child_export(db.into(), out.into());
    }
    let payments: i64 = std::env::var("SHOPCAST_BENCH_PAYMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let temp = tempfile::tempdir().unwrap();
    let dir = std::env::var("SHOPCAST_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| temp.path().to_path_buf());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = dir.join("shopcast.sqlite");
    if !db.exists() {
        let started = Instant::now();
        runtime.block_on(generate(&dir, payments));
        println!(
            "generated {payments} payments in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    // CSV: sqlite3 -csv with the export's own query, then ours, alternating, best of 3.
    let period = reports::Period::new("2025-01-01", "2025-12-31", TZ).unwrap();
    let sql = reports::sales_sql(&year())
        .replace("$1", &period.start_ms.to_string())
        .replace("$2", &period.end_ms.to_string());
    let mut sqlite_best = Duration::MAX;
    let mut ours_best = Duration::MAX;
    let mut ours_line = String::new();
    for _ in 0..3 {
        sqlite_best = sqlite_best.min(time_sqlite(&db, &sql, &dir.join("sqlite3.csv")));
        let output = Command::new(std::env::current_exe().unwrap())
            .env("SHOPCAST_BENCH_CHILD_DB", &db)
            .env("SHOPCAST_BENCH_CHILD_OUT", dir.join("shopcast.csv"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = String::from_utf8(output.stdout).unwrap();
        let ms: u64 = line.split_whitespace().next().unwrap().parse().unwrap();
        if Duration::from_millis(ms) < ours_best {
            ours_best = Duration::from_millis(ms);
            ours_line = line;
        }
    }
    let fields: Vec<&str> = ours_line.split_whitespace().collect();
    println!(
        "CSV export of a year ({} rows, {:.1} MB): shopcast {:.2} s (peak RSS {:.1} MB), sqlite3 -csv {:.2} s → ratio {:.2} (goal ≤ 1.3)",
        fields[1],
        fields[2].parse::<f64>().unwrap() / 1e6,
        ours_best.as_secs_f64(),
        fields[3].parse::<f64>().unwrap() / 1024.0,
        sqlite_best.as_secs_f64(),
        ours_best.as_secs_f64() / sqlite_best.as_secs_f64(),
    );

    // Summary: the naive four GROUP BY queries in sqlite3, against our one-pass summary.
    let naive = format!(
        "SELECT date(occurred_at / 1000, 'unixepoch', '+8 hours') AS day, currency, sum(amount_minor), sum(refunded_minor), count(*)
           FROM payments WHERE occurred_at >= {s} AND occurred_at < {e} AND status IN ('paid','refunded') GROUP BY day, currency;
         SELECT l.sku, l.name, p.currency, sum(l.quantity), sum(p.amount_minor) AS gross FROM payments p JOIN order_lines l ON l.order_id = p.order_id
           WHERE p.occurred_at >= {s} AND p.occurred_at < {e} AND p.status IN ('paid','refunded') GROUP BY l.product_id, p.currency ORDER BY gross DESC LIMIT 50;
         SELECT provider, method, currency, sum(amount_minor), count(*) FROM payments
           WHERE occurred_at >= {s} AND occurred_at < {e} AND status IN ('paid','refunded') GROUP BY provider, method, currency;
         SELECT channel, currency, sum(amount_minor), count(*) FROM payments
           WHERE occurred_at >= {s} AND occurred_at < {e} AND status IN ('paid','refunded') GROUP BY channel, currency;",
        s = period.start_ms,
        e = period.end_ms
    );
    let mut naive_best = Duration::MAX;
    let mut ours_best = Duration::MAX;
    for _ in 0..3 {
        naive_best = naive_best.min(time_sqlite(&db, &naive, &dir.join("naive.txt")));
        let started = Instant::now();
        let summary =
            reports::summary(&reports::ReportSource::File(db.clone()), &year(), TZ, 50).unwrap();
        let doc = shopcast_core::reports::pdf::report_doc(
            &summary,
            "Bench 小店",
            "zh-CN",
            "2026-01-01 09:00",
            &|_| None,
        );
        let pdf = shopcast_print::report::render_report(&doc).unwrap();
        ours_best = ours_best.min(started.elapsed());
        assert_eq!(summary.by_day.len(), 365 * summary.totals.len());
        assert!(pdf.len() > 10_000);
    }
    println!(
        "PDF report of a year (summary + render): shopcast {:.2} s, naive summary SQL in sqlite3 {:.2} s → ratio {:.2} (goal ≤ 0.5)",
        ours_best.as_secs_f64(),
        naive_best.as_secs_f64(),
        ours_best.as_secs_f64() / naive_best.as_secs_f64()
    );
}
