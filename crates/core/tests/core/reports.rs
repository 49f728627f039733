//! Reports on real shop files: CSV export and summary totals against plain SQL sums over
//! randomized ledgers, local-day grouping across DST changes, and bad input.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use shopcast_core::Shop;
use shopcast_core::reports::{CSV_COLUMNS, CsvOptions, ReportFilter};
use shopcast_payments::{PaymentStatus, ProviderEvent, ProviderKind};

use crate::{draft, paid_order, shop_with};

/// A small deterministic generator (xorshift64*), so every failure is reproducible by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

fn filter(from: &str, to: &str) -> ReportFilter {
    ReportFilter {
        from: from.into(),
        to: to.into(),
        ..Default::default()
    }
}

async fn export(
    shop: &Shop,
    filter: &ReportFilter,
    options: CsvOptions,
) -> (Vec<Vec<String>>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sales.csv");
    shop.export_sales_csv(
        filter,
        options,
        &out,
        Arc::new(AtomicBool::new(false)),
        |_| {},
    )
    .await
    .unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body);
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (rows, bytes)
}

fn minor(decimal: &str, currency: &str) -> i64 {
    shopcast_core::money::parse_price(decimal, currency)
        .unwrap()
        .amount_minor
}

#[tokio::test]
async fn csv_and_summary_totals_equal_sql_sums_for_random_ledgers() {
    for seed in 1..=12u64 {
        let (shop, _dir) = shop_with("CNY").await;
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut products = Vec::new();
        for (i, currency) in ["CNY", "CNY", "EUR", "JPY", "CNY"].iter().enumerate() {
            let mut d = draft(
                &format!("商品 \"{i}\", =SUM(A1)\n第二行"),
                &format!("{}", 3 + rng.below(200)),
            );
            d.currency = Some((*currency).into());
            d.sku = Some(format!("SKU-{i}"));
            products.push((shop.create_product(&d).await.unwrap().id, *currency));
        }
        let start = at("2026-11-01T00:00:00+08:00[Asia/Shanghai]"
            .split('[')
            .next()
            .unwrap());
        for _ in 0..(20 + rng.below(40)) {
            let currency = ["CNY", "EUR", "JPY"][rng.below(3) as usize];
            let same: Vec<i64> = products
                .iter()
                .filter(|p| p.1 == currency)
                .map(|p| p.0)
                .collect();
            let lines: Vec<(i64, u32)> = (0..=rng.below(same.len() as u64))
                .map(|i| (same[i as usize % same.len()], 1 + rng.below(4) as u32))
                .collect();
            let when = start
                .checked_add(jiff::SignedDuration::from_secs(
                    rng.below(40 * 86_400) as i64 - 5 * 86_400,
                ))
                .unwrap();
            let provider = if rng.below(5) == 0 {
                ProviderKind::Test
            } else {
                ProviderKind::Stripe
            };
            let roll = rng.below(10);
            paid_order(&shop, &lines, when, provider, |event| match roll {
                0 => event.status = PaymentStatus::Failed,
                1 => event.amount_minor -= 1, // mismatch: held for review
                2 | 3 => event.refunded_total_minor = Some(event.amount_minor / 3),
                4 => {
                    event.refunded_total_minor = Some(event.amount_minor);
                    event.status = PaymentStatus::Refunded;
                }
                _ => {}
            })
            .await;
        }
        let report = filter("2026-11-01", "2026-11-30");
        let (start_ms, end_ms) = (
            at("2026-10-31T16:00:00Z").as_millisecond(),
            at("2026-11-30T16:00:00Z").as_millisecond(),
        );
        let expected: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT currency, CAST(sum(amount_minor) AS BIGINT), CAST(sum(refunded_minor) AS BIGINT), count(*) FROM payments
             WHERE occurred_at >= $1 AND occurred_at < $2 AND status IN ('paid', 'refunded')
               AND mismatch IS NULL AND test = 0 GROUP BY currency ORDER BY currency",
        )
        .bind(start_ms)
        .bind(end_ms)
        .fetch_all(shop.pool())
        .await
        .unwrap();

        let (rows, _) = export(&shop, &report, CsvOptions::default()).await;
        assert_eq!(rows[0], CSV_COLUMNS);
        let column = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
        let mut from_csv: std::collections::BTreeMap<
            String,
            (i64, i64, i64, std::collections::BTreeSet<String>),
        > = Default::default();
        for row in &rows[1..] {
            let currency = row[column("currency")].clone();
            let entry = from_csv.entry(currency.clone()).or_default();
            let gross = minor(&row[column("gross")], &currency);
            let refunded = minor(&row[column("refunded")], &currency);
            let net = minor(&row[column("net")], &currency);
            assert_eq!(gross - refunded, net, "seed {seed}: {row:?}");
            entry.0 += gross;
            entry.1 += refunded;
            entry.2 += net;
            entry.3.insert(row[column("provider_ref")].clone());
            assert_eq!(row[column("test")], "no");
            assert!(row[column("product")].starts_with("商品"), "{row:?}");
            assert!(!row[column("product")].starts_with('='));
        }
        let got: Vec<(String, i64, i64, i64)> = from_csv
            .iter()
            .map(|(c, (g, r, _, refs))| (c.clone(), *g, *r, refs.len() as i64))
            .collect();
        assert_eq!(got, expected, "seed {seed}: CSV totals differ from SQL");

        let summary = shop.report_summary(&report, 10).await.unwrap();
        let from_summary: Vec<(String, i64, i64, i64)> = summary
            .totals
            .iter()
            .map(|t| {
                (
                    t.currency.clone(),
                    t.gross_minor,
                    t.refunded_minor,
                    t.payments,
                )
            })
            .collect();
        assert_eq!(
            from_summary, expected,
            "seed {seed}: summary totals differ from SQL"
        );
        for total in &summary.totals {
            let days: i64 = summary
                .by_day
                .iter()
                .filter(|d| d.currency == total.currency)
                .map(|d| d.gross_minor)
                .sum();
            assert_eq!(days, total.gross_minor, "seed {seed}: days add up");
            let products: i64 = summary
                .by_product
                .iter()
                .filter(|p| p.currency == total.currency)
                .map(|p| p.gross_minor)
                .sum();
            assert_eq!(products, total.gross_minor, "seed {seed}: products add up");
        }
        assert_eq!(summary.by_day.len(), 30 * summary.totals.len());

        // Asked for, test payments are in, and marked.
        let with_test = ReportFilter {
            include_test: true,
            ..report.clone()
        };
        let (rows, _) = export(&shop, &with_test, CsvOptions::default()).await;
        let test_sum: i64 = rows[1..]
            .iter()
            .filter(|r| r[column("test")] == "yes")
            .map(|r| minor(&r[column("gross")], &r[column("currency")]))
            .sum();
        let sql_test: i64 = sqlx::query_scalar(
            "SELECT CAST(coalesce(sum(amount_minor), 0) AS BIGINT) FROM payments WHERE occurred_at >= $1 AND occurred_at < $2
               AND status IN ('paid', 'refunded') AND mismatch IS NULL AND test = 1",
        )
        .bind(start_ms)
        .bind(end_ms)
        .fetch_one(shop.pool())
        .await
        .unwrap();
        assert_eq!(test_sum, sql_test, "seed {seed}");
        shop.close().await;
    }
}

#[tokio::test]
async fn local_days_follow_the_shop_time_zone_across_dst() {
    for (timezone, date, hours, late, next_morning) in [
        // 23-hour day: clocks go forward.
        (
            "Europe/Berlin",
            "2026-03-29",
            23,
            "2026-03-29T21:59:59Z",
            "2026-03-29T22:00:00Z",
        ),
        // 25-hour day: clocks go back.
        (
            "Europe/Berlin",
            "2026-10-25",
            25,
            "2026-10-25T22:59:59Z",
            "2026-10-25T23:00:00Z",
        ),
        (
            "America/New_York",
            "2026-03-08",
            23,
            "2026-03-09T03:59:59Z",
            "2026-03-09T04:00:00Z",
        ),
        (
            "America/New_York",
            "2026-11-01",
            25,
            "2026-11-02T04:59:59Z",
            "2026-11-02T05:00:00Z",
        ),
        (
            "Asia/Shanghai",
            "2026-11-11",
            24,
            "2026-11-11T15:59:59Z",
            "2026-11-11T16:00:00Z",
        ),
    ] {
        let (shop, _dir) = shop_with("EUR").await;
        shop.set_setting("shop.timezone", timezone).await.unwrap();
        let cup = shop.create_product(&draft("Cup", "10")).await.unwrap().id;
        let day: jiff::civil::Date = date.parse().unwrap();
        let start = day
            .to_zoned_datetime(jiff::tz::TimeZone::get(timezone).unwrap())
            .unwrap()
            .timestamp();
        let end = day
            .tomorrow()
            .unwrap()
            .to_zoned_datetime(jiff::tz::TimeZone::get(timezone).unwrap())
            .unwrap()
            .timestamp();
        assert_eq!((end - start).as_hours(), hours, "{timezone} {date}");
        // First second of the day, 23:59:59 local, and 00:00:00 of the next day.
        paid_order(&shop, &[(cup, 1)], start, ProviderKind::Stripe, |_| {}).await;
        paid_order(&shop, &[(cup, 2)], at(late), ProviderKind::Stripe, |_| {}).await;
        paid_order(
            &shop,
            &[(cup, 4)],
            at(next_morning),
            ProviderKind::Stripe,
            |_| {},
        )
        .await;
        let next = day.tomorrow().unwrap().to_string();
        let summary = shop.report_summary(&filter(date, &next), 5).await.unwrap();
        let gross: Vec<(String, i64)> = summary
            .by_day
            .iter()
            .map(|d| (d.date.clone(), d.gross_minor))
            .collect();
        assert_eq!(
            gross,
            vec![(date.to_string(), 3_000), (next.clone(), 4_000)],
            "{timezone} {date}"
        );
        let (rows, _) = export(&shop, &filter(date, date), CsvOptions::default()).await;
        let times: Vec<(&str, &str)> = rows[1..]
            .iter()
            .map(|r| (r[0].as_str(), r[1].as_str()))
            .collect();
        assert_eq!(
            times,
            vec![(date, "00:00:00"), (date, "23:59:59")],
            "{timezone} {date}"
        );
        shop.close().await;
    }
}

#[tokio::test]
async fn csv_cells_are_exact_excel_friendly_and_safe() {
    let (shop, _dir) = shop_with("JPY").await;
    let mut d = draft("=HYPERLINK(\"http://x\") 青花瓷, \"杯\"\n二", "¥500");
    d.sku = Some("+SKU".into());
    let cup = shop.create_product(&d).await.unwrap().id;
    paid_order(
        &shop,
        &[(cup, 3)],
        at("2026-11-11T03:00:00Z"),
        ProviderKind::Stripe,
        |e| {
            e.refunded_total_minor = Some(500);
        },
    )
    .await;
    let (rows, bytes) = export(
        &shop,
        &filter("2026-11-11", "2026-11-11"),
        CsvOptions { excel: true },
    )
    .await;
    assert!(
        bytes.starts_with("\u{feff}".as_bytes()),
        "Excel needs the BOM"
    );
    let row = &rows[1];
    let get = |name: &str| row[CSV_COLUMNS.iter().position(|c| *c == name).unwrap()].as_str();
    assert_eq!(
        get("product"),
        "'=HYPERLINK(\"http://x\") 青花瓷, \"杯\"\n二"
    );
    assert_eq!(get("sku"), "'+SKU");
    assert_eq!(
        (get("gross"), get("refunded"), get("net")),
        ("1500", "500", "1000")
    );
    assert_eq!(
        (get("quantity"), get("currency"), get("status")),
        ("3", "JPY", "paid")
    );
    assert_eq!(
        (get("local_date"), get("local_time")),
        ("2026-11-11", "11:00:00")
    );
    let (_, plain) = export(
        &shop,
        &filter("2026-11-11", "2026-11-11"),
        CsvOptions::default(),
    )
    .await;
    assert!(plain.starts_with(b"local_date,"));
}

#[tokio::test]
async fn bad_periods_and_paths_are_refused_and_leave_nothing() {
    let (shop, dir) = shop_with("CNY").await;
    let error = shop
        .report_summary(&filter("2026-11-30", "2026-11-01"), 5)
        .await
        .unwrap_err();
    assert_eq!(error.field(), Some("from"));
    let error = shop
        .report_summary(&filter("2026-13-01", "2026-11-01"), 5)
        .await
        .unwrap_err();
    assert_eq!(error.field(), Some("from"));
    // An empty period is a report that says so, not an error.
    let empty = shop
        .report_summary(&filter("2026-11-01", "2026-11-30"), 5)
        .await
        .unwrap();
    assert!(empty.totals.is_empty() && empty.by_product.is_empty());
    let (rows, _) = export(
        &shop,
        &filter("2026-11-01", "2026-11-30"),
        CsvOptions::default(),
    )
    .await;
    assert_eq!(rows.len(), 1, "only the header");
    // A folder that cannot be written: a clear error and no file, partial or temporary.
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    let out = locked.join("missing-folder/sales.csv");
    let error = shop
        .export_sales_csv(
            &filter("2026-11-01", "2026-11-30"),
            CsvOptions::default(),
            &out,
            Arc::new(AtomicBool::new(false)),
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(error.code().as_str(), "io", "{error}");
    assert!(error.to_string().contains("missing-folder"), "{error}");
    assert_eq!(std::fs::read_dir(&locked).unwrap().count(), 0);
}

#[tokio::test]
async fn a_cancelled_export_leaves_no_file() {
    let (shop, dir) = shop_with("CNY").await;
    let cup = shop.create_product(&draft("Cup", "1")).await.unwrap().id;
    let events: Vec<_> = (0..45_000)
        .map(|i| ProviderEvent {
            event_id: format!("e{i}"),
            provider_ref: format!("pi{i}"),
            order_ref: None,
            charge_ref: None,
            status: PaymentStatus::Paid,
            amount_minor: 100,
            currency: "CNY".into(),
            refunded_total_minor: None,
            method: None,
            source_tag: None,
            occurred_at: at("2026-11-02T00:00:00Z"),
            raw: String::new(),
        })
        .collect();
    let _ = cup;
    shop.payments()
        .ingest(ProviderKind::Stripe, &events, None)
        .await
        .unwrap();
    let cancel = Arc::new(AtomicBool::new(true));
    let out = dir.path().join("cancelled.csv");
    let error = shop
        .export_sales_csv(
            &filter("2026-11-01", "2026-11-30"),
            CsvOptions::default(),
            &out,
            cancel,
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(error.code().as_str(), "cancelled");
    assert!(!out.exists());
    assert!(!std::fs::read_dir(dir.path()).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .contains("shopcast-export")
    }));
}

fn tool(program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} (run scripts/setup.sh): {e}"));
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn the_pdf_report_holds_the_totals_and_top_products_and_is_valid() {
    let (shop, dir) = shop_with("CNY").await;
    let mut cup = draft("青花瓷杯 <b>", "88");
    cup.sku = Some("CUP-1".into());
    let cup = shop.create_product(&cup).await.unwrap().id;
    let mut tea = draft("Longjing tea", "12.50");
    tea.currency = Some("EUR".into());
    let tea = shop.create_product(&tea).await.unwrap().id;
    for day in 1..=20 {
        let when = at(&format!("2026-11-{day:02}T04:00:00Z"));
        paid_order(
            &shop,
            &[(cup, 1 + day % 3)],
            when,
            ProviderKind::Stripe,
            |_| {},
        )
        .await;
        paid_order(&shop, &[(tea, 2)], when, ProviderKind::Alipay, |e| {
            if day == 5 {
                e.refunded_total_minor = Some(1_000);
            }
        })
        .await;
    }
    let out = dir.path().join("report.pdf");
    shop.export_sales_pdf(&filter("2026-11-01", "2026-11-30"), &out)
        .await
        .unwrap();
    let path = out.to_str().unwrap();
    tool("qpdf", &["--check", path]);
    let text = tool("pdftotext", &["-layout", path, "-"]);
    let summary = shop
        .report_summary(&filter("2026-11-01", "2026-11-30"), 50)
        .await
        .unwrap();
    for total in &summary.totals {
        for minor in [total.gross_minor, total.refunded_minor, total.net_minor] {
            let shown = shopcast_core::reports::money(minor, &total.currency, "zh-CN");
            assert!(
                text.contains(&shown),
                "{shown} missing from the PDF:\n{text}"
            );
        }
    }
    assert!(
        text.contains("青花瓷杯 <b>") && text.contains("Longjing tea"),
        "{text}"
    );
    assert!(
        text.contains("小店 Test Shop") && text.contains("销售报告"),
        "{text}"
    );
    assert!(
        text.contains("2026-11-01 – 2026-11-30 (Asia/Shanghai)"),
        "{text}"
    );
    let artifacts =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/report-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    tool(
        "pdftoppm",
        &[
            "-r",
            "60",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            path,
            artifacts.join("sales-report-page1").to_str().unwrap(),
        ],
    );

    // No sales: a report that says so.
    let empty = dir.path().join("empty.pdf");
    shop.export_sales_pdf(&filter("2025-01-01", "2025-01-31"), &empty)
        .await
        .unwrap();
    let text = tool("pdftotext", &[empty.to_str().unwrap(), "-"]);
    assert!(text.contains("此期间没有销售"), "{text}");
    // A path that cannot be written: a clear error, nothing left.
    let bad = dir.path().join("no/such/folder/report.pdf");
    let error = shop
        .export_sales_pdf(&filter("2026-11-01", "2026-11-30"), &bad)
        .await
        .unwrap_err();
    assert!(
        matches!(error.code().as_str(), "io" | "print_io"),
        "{error}"
    );
    assert!(!bad.exists());
}

#[tokio::test]
async fn sales_from_a_post_name_its_network_and_url() {
    let (shop, _dir) = shop_with("CNY").await;
    let cup = shop.create_product(&draft("Cup", "10")).await.unwrap().id;
    let account: i64 = sqlx::query_scalar(
        "INSERT INTO accounts (network, service, handle, secret_name, secret_backend, created_at)
         VALUES ('bluesky', 'https://bsky.social', 'teashop.test', 'x', 'file', 0) RETURNING id",
    )
    .fetch_one(shop.pool())
    .await
    .unwrap();
    let post: i64 = sqlx::query_scalar(
        "INSERT INTO posts (account_id, product_id, text, idempotency_key, status, scheduled_at,
                            next_attempt_at, url, created_at, updated_at)
         VALUES ($1, $2, 'Cup', 'k1', 'posted', 0, 0, 'https://bsky.app/profile/teashop.test/post/3abc', 0, 0)
         RETURNING id",
    )
    .bind(account)
    .bind(cup)
    .fetch_one(shop.pool())
    .await
    .unwrap();
    paid_order(
        &shop,
        &[(cup, 2)],
        at("2026-11-05T03:00:00Z"),
        ProviderKind::Stripe,
        |e| {
            e.source_tag = Some(format!("post-{post}"));
            e.order_ref = None; // a Payment Link sale: attributed by the tag alone
        },
    )
    .await;
    paid_order(
        &shop,
        &[(cup, 1)],
        at("2026-11-05T04:00:00Z"),
        ProviderKind::Stripe,
        |_| {},
    )
    .await;
    let (rows, _) = export(
        &shop,
        &filter("2026-11-01", "2026-11-30"),
        CsvOptions::default(),
    )
    .await;
    let column = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
    let from_post: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|r| r[column("channel")] == "post")
        .collect();
    assert_eq!(from_post.len(), 1);
    assert_eq!(from_post[0][column("post_network")], "bluesky");
    assert_eq!(
        from_post[0][column("post_url")],
        "https://bsky.app/profile/teashop.test/post/3abc"
    );
    let till = rows[1..]
        .iter()
        .find(|r| r[column("channel")] == "till")
        .unwrap();
    assert_eq!(
        (
            till[column("post_network")].as_str(),
            till[column("post_url")].as_str()
        ),
        ("", "")
    );
    let summary = shop
        .report_summary(&filter("2026-11-01", "2026-11-30"), 5)
        .await
        .unwrap();
    assert_eq!(summary.top_posts.len(), 1);
    assert_eq!(
        summary.top_posts[0].key,
        format!("Bluesky @teashop.test #{post}")
    );
    assert_eq!(
        summary.top_posts[0].detail.as_deref(),
        Some("https://bsky.app/profile/teashop.test/post/3abc")
    );
    assert_eq!(summary.top_posts[0].gross_minor, 2_000);
}

/// A partial refund of a two-line sale cannot be split exactly: the remainder goes to the line
/// entered last, in the summary as in the CSV, whatever order the backend reads the lines in.
#[tokio::test]
async fn a_refund_remainder_lands_on_the_same_line_in_the_summary_and_the_csv() {
    let (shop, _dir) = shop_with("CNY").await;
    // The lower product id is entered last, so the lines' id order is not the products'.
    let cup = shop.create_product(&draft("Cup", "1")).await.unwrap().id;
    let pot = shop.create_product(&draft("Pot", "2")).await.unwrap().id;
    let order = crate::order_of(&shop, &[(pot, 1), (cup, 1)]).await;
    let payment = shop.mark_paid_manually(order.id, "cash").await.unwrap();
    shop.refund_typed(payment.id, Some("1.00")).await.unwrap();

    let today = jiff::Timestamp::now().in_tz("UTC").unwrap().date();
    let period = filter(
        &today.yesterday().unwrap().to_string(),
        &today.tomorrow().unwrap().to_string(),
    );
    let summary = shop.report_summary(&period, 10).await.unwrap();
    let net = |name: &str| {
        summary
            .by_product
            .iter()
            .find(|row| row.key == name)
            .map(|row| (row.gross_minor, row.net_minor))
            .unwrap()
    };
    // 1.00 refunded of 3.00: the pot's share is 0.66, the cup (last) takes 0.34.
    assert_eq!(net("Pot"), (200, 134));
    assert_eq!(net("Cup"), (100, 66));

    let (rows, _) = export(&shop, &period, CsvOptions::default()).await;
    let column = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
    let refunded = |name: &str| {
        rows[1..]
            .iter()
            .find(|r| r[column("product")] == name)
            .map(|r| r[column("refunded")].clone())
            .unwrap()
    };
    assert_eq!(refunded("Pot"), "0.66");
    assert_eq!(refunded("Cup"), "0.34");
}
