//! Moving a shop between databases: a randomized shop copied SQLite → PostgreSQL → SQLite
//! (SQLite → SQLite → SQLite without a server) exports byte for byte what it exported before.

use shopcast_core::infra::copy::copy_shop;
use shopcast_core::reports::{CsvOptions, ReportFilter, ReportSummary};
use shopcast_core::{Database, Shop};
use shopcast_payments::{PaymentStatus, ProviderKind};

use crate::{draft, paid_order, shop_with};

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// The catalog CSV and the whole year's sales CSV (test sales included), as bytes.
async fn exports(shop: &Shop, dir: &std::path::Path) -> (Vec<u8>, Vec<u8>) {
    let catalog = dir.join("catalog.csv");
    shop.export_catalog(&catalog).await.unwrap();
    let sales = dir.join("sales.csv");
    shop.export_sales_csv(
        &ReportFilter {
            from: "2026-01-01".into(),
            to: "2026-12-31".into(),
            include_test: true,
            ..Default::default()
        },
        CsvOptions::default(),
        &sales,
        Default::default(),
        |_| {},
    )
    .await
    .unwrap();
    (
        std::fs::read(catalog).unwrap(),
        std::fs::read(sales).unwrap(),
    )
}

async fn randomized_shop(seed: u64) -> (Shop, tempfile::TempDir) {
    let (shop, dir) = shop_with("CNY").await;
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    shop.add_tax_rate("增值税 13%", "13", true).await.unwrap();
    shop.add_tax_rate("Reduced", "9", false).await.unwrap();
    let mut products = Vec::new();
    for i in 0..(5 + rng.below(20)) {
        let mut d = draft(
            &format!("青花瓷杯 \"{i}\", =SUM(A1)\n第二行 €"),
            &format!("{}.{:02}", 1 + rng.below(500), rng.below(100)),
        );
        d.sku = Some(format!("SKU-{i}"));
        d.description = "手工 ¥ <b>&amp;</b>".repeat(rng.below(3) as usize);
        d.stock = (rng.below(3) > 0).then(|| 50 + rng.below(50) as i64);
        d.tags = if i % 2 == 0 {
            vec!["茶".into(), "gift".into()]
        } else {
            Vec::new()
        };
        d.tax = (rng.below(3) == 0).then(|| "Reduced".into());
        products.push(shop.create_product(&d).await.unwrap().id);
    }
    shop.set_archived(products[0], true).await.unwrap();
    let start: jiff::Timestamp = "2026-03-01T02:00:00Z".parse().unwrap();
    for n in 0..(10 + rng.below(30)) {
        let lines: Vec<(i64, u32)> = (0..=rng.below(3))
            .map(|_| {
                let id = products[1 + rng.below(products.len() as u64 - 1) as usize];
                (id, 1 + rng.below(3) as u32)
            })
            .collect();
        let when = start
            .checked_add(jiff::SignedDuration::from_hours(
                (n * 37 + rng.below(30)) as i64,
            ))
            .unwrap();
        let provider = if rng.below(4) == 0 {
            ProviderKind::Test
        } else {
            ProviderKind::Stripe
        };
        let roll = rng.below(8);
        paid_order(&shop, &lines, when, provider, |event| match roll {
            0 => event.refunded_total_minor = Some(event.amount_minor / 3),
            1 => {
                event.refunded_total_minor = Some(event.amount_minor);
                event.status = PaymentStatus::Refunded;
            }
            _ => {}
        })
        .await;
    }
    // A payment link paid without an order, and an order whose lines are gone: sales
    // without lines, which reports keep as one row with everything.
    let at = start.as_millisecond() + 3_600_000;
    sqlx::query(
        "INSERT INTO orders (created_at, ref, status, total_minor, currency, channel, updated_at)
         VALUES ($1, 'O-EMPTY', 'paid', 777, 'CNY', 'till', $1)",
    )
    .bind(at)
    .execute(shop.pool())
    .await
    .unwrap();
    for (n, order) in [(1, None), (2, Some("O-EMPTY"))] {
        sqlx::query(
            "INSERT INTO payments (provider, provider_ref, order_id, status, amount_minor, currency,
                                   refunded_minor, method, channel, source_ref, test, occurred_at, updated_at)
             VALUES ('stripe', $1, (SELECT id FROM orders WHERE ref = $2), 'paid', $3, 'CNY', $4, 'card',
                     'link', NULL, 0, $5, $5)",
        )
        .bind(format!("pi_no_lines_{n}"))
        .bind(order)
        .bind(500 + 277 * n)
        .bind(100 * (n - 1))
        .bind(at + n * 60_000)
        .execute(shop.pool())
        .await
        .unwrap();
    }
    shop.open_till(Some("前台 1"), "200").await.unwrap();
    (shop, dir)
}

/// Fails naming the first summary and table that differ, with just the rows that differ.
fn assert_same_summaries(got: &[ReportSummary], expected: &[ReportSummary], what: &str) {
    for (i, (got, expected)) in got.iter().zip(expected).enumerate() {
        let days: Vec<_> = got
            .by_day
            .iter()
            .zip(&expected.by_day)
            .filter(|(g, e)| g != e)
            .collect();
        assert!(
            days.is_empty(),
            "{what}, summary {i}: days differ: {days:#?}"
        );
        assert_eq!(got.totals, expected.totals, "{what}, summary {i}: totals");
        assert_eq!(
            got.by_product, expected.by_product,
            "{what}, summary {i}: products"
        );
        assert_eq!(
            got.by_method, expected.by_method,
            "{what}, summary {i}: methods"
        );
        assert_eq!(
            got.by_channel, expected.by_channel,
            "{what}, summary {i}: channels"
        );
        assert_eq!(
            got.top_posts, expected.top_posts,
            "{what}, summary {i}: posts"
        );
        assert_eq!(got.taxes, expected.taxes, "{what}, summary {i}: taxes");
        assert_eq!(got, expected, "{what}, summary {i}");
    }
    assert_eq!(got.len(), expected.len());
}

/// The year's summary under several filters: adding up on the server must give exactly
/// what SQLite's one-payment-at-a-time pass gives.
async fn summaries(shop: &Shop) -> Vec<ReportSummary> {
    let year = ReportFilter {
        from: "2026-01-01".into(),
        to: "2026-12-31".into(),
        ..Default::default()
    };
    let mut out = Vec::new();
    for filter in [
        year.clone(),
        ReportFilter {
            include_test: true,
            ..year.clone()
        },
        ReportFilter {
            provider: Some("stripe".into()),
            status: Some("paid".into()),
            ..year.clone()
        },
        ReportFilter {
            channel: Some("link".into()),
            ..year.clone()
        },
        ReportFilter {
            sku: Some("SKU-2".into()),
            ..year.clone()
        },
        ReportFilter {
            from: "2026-03-20".into(),
            to: "2026-04-10".into(),
            ..year.clone()
        },
    ] {
        // Berlin: the period crosses the change to summer time (a 23-hour day).
        let source = shop.report_source();
        let summary = tokio::task::spawn_blocking(move || {
            shopcast_core::reports::summary(&source, &filter, "Europe/Berlin", 100)
        });
        out.push(summary.await.unwrap().unwrap());
    }
    out
}

/// A second database for the copy: on the test server when there is one, else a file.
async fn other_database(dir: &std::path::Path) -> Database {
    crate::test_database(dir).await
}

#[tokio::test]
async fn a_copied_shop_exports_exactly_what_it_did_and_a_copy_never_lands_on_a_shop() {
    for seed in 1..=3u64 {
        let (shop, dir) = randomized_shop(seed).await;
        let before = exports(&shop, dir.path()).await;
        let summarized = summaries(&shop).await;
        assert!(
            summarized[0].by_product.iter().any(|p| p.key == "—"),
            "sales without lines are summarized too"
        );
        let from = shop.database().clone();
        shop.close().await;

        // There (the server when testing on one, else another file) …
        let middle_dir = tempfile::tempdir().unwrap();
        let middle = match &from {
            Database::File(_) => match other_database(middle_dir.path()).await {
                Database::File(_) => Database::in_data_dir(middle_dir.path()),
                server => server,
            },
            // On a server already: come back through a file.
            Database::Server(_) => Database::in_data_dir(middle_dir.path()),
        };
        let there = copy_shop(dir.path(), &from, &middle).await.unwrap();
        assert!(there.matches(), "{there:#?}");
        let payments = there.tables.iter().find(|t| t.table == "payments").unwrap();
        assert!(payments.to >= 10, "{there:#?}");
        assert!(
            there
                .money
                .iter()
                .any(|m| m.column == "payments.amount_minor" && m.to > 0),
            "{there:#?}"
        );

        // … and back into a file.
        let back_dir = tempfile::tempdir().unwrap();
        let back = Database::in_data_dir(back_dir.path());
        let again = copy_shop(dir.path(), &middle, &back).await.unwrap();
        assert!(again.matches(), "{again:#?}");
        let copied = Shop::open_with(dir.path(), back.clone()).await.unwrap();
        let after = exports(&copied, back_dir.path()).await;
        assert!(
            before.0 == after.0,
            "catalog CSV differs:\n{}\n---\n{}",
            String::from_utf8_lossy(&before.0),
            String::from_utf8_lossy(&after.0)
        );
        assert!(
            before.1 == after.1,
            "sales CSV differs:\n{}\n---\n{}",
            String::from_utf8_lossy(&before.1),
            String::from_utf8_lossy(&after.1)
        );
        // New records get new ids after copied ones (a server's sequences were moved on).
        let middle_shop = Shop::open_with(middle_dir.path(), middle.clone())
            .await
            .unwrap();
        let what = format!("seed {seed}, copied");
        assert_same_summaries(&summaries(&middle_shop).await, &summarized, &what);
        assert_same_summaries(&summaries(&copied).await, &summarized, &what);
        // Lines written before their order's line count was kept (0) are split one by one
        // (on the server, where the count matters).
        let server = match (&from, &middle) {
            (Database::Server(_), _) => Shop::open_with(dir.path(), from.clone()).await.unwrap(),
            _ => Shop::open_with(middle_dir.path(), middle.clone())
                .await
                .unwrap(),
        };
        sqlx::query("UPDATE order_lines SET lines_in_order = 0 WHERE id % 2 = 0")
            .execute(server.pool())
            .await
            .unwrap();
        let what = format!("seed {seed}, line counts unknown");
        assert_same_summaries(&summaries(&server).await, &summarized, &what);
        server.close().await;
        let newest = middle_shop
            .create_product(&draft("After the move", "1.00"))
            .await
            .unwrap();
        let products = there.tables.iter().find(|t| t.table == "products").unwrap();
        assert_eq!(
            newest.id,
            products.to + 1,
            "a new product takes the id after the copied ones"
        );

        // A copy onto a database that holds a shop is refused and changes nothing there.
        let refused = copy_shop(dir.path(), &from, &back).await.unwrap_err();
        assert_eq!(
            refused.code(),
            shopcast_core::ErrorCode::Conflict,
            "{refused}"
        );
        assert!(refused.to_string().contains("not empty"), "{refused}");
        assert_eq!(exports(&copied, back_dir.path()).await, after);
        copied.close().await;
        middle_shop.close().await;
    }
}
