//! Hostile values typed or scripted into the Shop API: prices and amounts, report and export
//! periods, schedule times and time zones, settings, signage requests; refused, nothing changed.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use shopcast_core::payments::till::{OrderDraft, OrderLineDraft};
use shopcast_core::reports::{CsvOptions, ReportFilter, ReportFormat};
use shopcast_core::signage::{CustomGrid, Paper, Selection, SignageRequest};
use shopcast_core::{ComposeRequest, ErrorCode, ProductDraft, ShopSettings};

use super::{Tally, snapshot};
use crate::{draft, product, shop_with};

/// Prices as an owner might mistype them, each refused for the currency given.
const BAD_PRICES: &[(&str, &str)] = &[
    ("", "CNY"),
    ("   ", "CNY"),
    ("1,2.3", "CNY"),
    ("1.2,3", "EUR"),
    ("1e3", "CNY"),
    ("1E-2", "USD"),
    ("--1", "CNY"),
    ("-0.01", "CNY"),
    ("+-1", "CNY"),
    ("１２", "CNY"),
    ("１２.５０", "JPY"),
    ("٣٤", "CNY"),
    ("๑๒", "THB"),
    ("一百", "CNY"),
    ("NaN", "CNY"),
    ("Infinity", "USD"),
    ("0x1F", "USD"),
    ("1_000", "USD"),
    ("12.50.1", "USD"),
    ("1..5", "USD"),
    (".", "USD"),
    (",", "EUR"),
    ("€", "EUR"),
    ("¥", "CNY"),
    ("9223372036854775807", "USD"),
    ("9223372036854775808", "JPY"),
    ("99999999999999999999999999999", "CNY"),
    ("10000000000000000", "JPY"),
    ("10000000000000.01", "USD"),
    ("500.5", "JPY"),
    ("1.5", "KRW"),
    ("1.2345", "KWD"),
    ("0.0001", "BHD"),
    ("12", "XXX"),
    ("12", "ABC"),
    ("12", "usd\0"),
    ("12", "€"),
    ("12", ""),
    ("12", "US"),
    ("12", "EURO"),
    ("12", "978"),
    ("$12", "EUR"),
    ("12 GBP", "USD"),
    ("€12", "CNY"),
    ("円500", "CNY"),
    ("12\u{0}", "USD"),
    ("1 2 3 . 4 5 6 7", "USD"),
    ("12\u{202e}05", "USD"),
    ("12.5 abc", "USD"),
    ("=1+1", "USD"),
    ("1/2", "USD"),
    ("½", "USD"),
    ("12%", "USD"),
];

#[tokio::test]
async fn hostile_prices_and_amounts_are_refused() {
    let mut tally = Tally::new("money");
    let (shop, _dir) = shop_with("CNY").await;
    let id = product(&shop, "Priced", "88", Some(10)).await;
    let mut before = snapshot(&shop).await;
    for (price, currency) in BAD_PRICES {
        let name = format!("price {price:?} {currency}");
        let typed = ProductDraft {
            currency: Some((*currency).into()),
            ..draft("Tea", price)
        };
        // An empty currency means the shop's: give the bad currencies a valid price.
        let typed = if currency.is_empty() {
            ProductDraft {
                currency: Some("   ".into()),
                price: "12,5,0".into(),
                ..typed
            }
        } else {
            typed
        };
        tally.refused(
            &name,
            shop.create_product(&typed).await,
            ErrorCode::Validation,
        );
        tally.refused(
            &format!("edit {name}"),
            shop.update_product(id, &typed).await,
            ErrorCode::Validation,
        );
        tally.refused(
            &format!("till amount {name}"),
            shop.create_order(&OrderDraft {
                amount: Some(typed.price.clone()),
                currency: typed.currency.clone(),
                ..Default::default()
            })
            .await,
            ErrorCode::Validation,
        );
        tally.unchanged(&name, &shop, &mut before).await;
    }

    // Till orders: quantities and products that cannot be sold.
    type Order<'a> = (&'a str, Vec<(i64, u32)>, Option<&'a str>, ErrorCode);
    let orders: Vec<Order> = vec![
        ("no lines, no amount", vec![], None, ErrorCode::Validation),
        ("zero amount", vec![], Some("0"), ErrorCode::Validation),
        ("quantity zero", vec![(id, 0)], None, ErrorCode::Validation),
        (
            "unknown product",
            vec![(999_999, 1)],
            None,
            ErrorCode::NotFound,
        ),
        (
            "quantity u32::MAX",
            vec![(id, u32::MAX)],
            None,
            ErrorCode::Validation,
        ),
    ];
    for (name, lines, amount, code) in orders {
        let draft = OrderDraft {
            lines: lines
                .iter()
                .map(|(product_id, quantity)| OrderLineDraft {
                    product_id: *product_id,
                    quantity: *quantity,
                    ..Default::default()
                })
                .collect(),
            amount: amount.map(str::to_string),
            ..Default::default()
        };
        tally.refused(name, shop.create_order(&draft).await, code);
        tally.unchanged(name, &shop, &mut before).await;
    }
    let tried = tally.finish();
    assert!(tried >= 150, "{tried}");
}

#[tokio::test]
async fn hostile_refund_amounts_are_refused() {
    let mut tally = Tally::new("refund amounts");
    let (shop, _dir) = shop_with("JPY").await;
    let id = product(&shop, "Cash sale", "500", None).await;
    let order = crate::order_of(&shop, &[(id, 1)]).await;
    let payment = shop.mark_paid_manually(order.id, "cash").await.unwrap();
    let mut before = snapshot(&shop).await;
    for amount in [
        "abc",
        "-1",
        "1e3",
        "NaN",
        "１２",
        "0.5",
        "501",
        "99999999999999999999",
        "$5",
        "0",
    ] {
        let name = format!("refund {amount:?} of ¥500");
        let code = ErrorCode::Validation;
        tally.refused(
            &name,
            shop.refund_typed(payment.id, Some(amount)).await,
            code,
        );
        tally.unchanged(&name, &shop, &mut before).await;
    }
    tally.refused(
        "refund of a payment that is not there",
        shop.refund_typed(999_999, Some("1")).await,
        ErrorCode::NotFound,
    );
    tally.finish();
}

fn period(from: &str, to: &str) -> ReportFilter {
    ReportFilter {
        from: from.into(),
        to: to.into(),
        ..Default::default()
    }
}

/// Periods, filters and time zones for reports and exports.
#[tokio::test]
async fn hostile_periods_and_export_targets_are_refused_and_write_no_file() {
    let mut tally = Tally::new("dates and export periods");
    let (shop, dir) = shop_with("CNY").await;
    let id = product(&shop, "Sold", "10", None).await;
    crate::paid_order(
        &shop,
        &[(id, 1)],
        jiff::Timestamp::now(),
        shopcast_payments::ProviderKind::Stripe,
        |_| {},
    )
    .await;
    let periods: Vec<(&str, ReportFilter)> = vec![
        ("empty dates", period("", "")),
        ("empty start", period("", "2026-11-30")),
        ("month 13", period("2026-13-01", "2026-13-02")),
        ("30 February", period("2026-02-30", "2026-03-01")),
        ("day 0", period("2026-11-00", "2026-11-30")),
        ("words", period("yesterday", "today")),
        ("slashes", period("2026/11/01", "2026/11/30")),
        ("day first", period("01.11.2026", "30.11.2026")),
        ("with an offset", period("2026-11-01+08:00", "2026-11-30")),
        ("two-digit year", period("26-11-01", "26-11-30")),
        (
            "full-width digits",
            period("２０２６-１１-０１", "2026-11-30"),
        ),
        ("start after end", period("2026-11-30", "2026-11-01")),
        ("eleven years", period("2015-01-01", "2026-01-01")),
        ("year 9999 end", period("9999-12-30", "9999-12-31")),
        ("negative years", period("-9999-01-01", "-9999-01-02")),
        ("year 10000", period("10000-01-01", "10000-01-02")),
        (
            "SQL in a date",
            period("2026-11-01' OR 1=1 --", "2026-11-30"),
        ),
        ("NUL in a date", period("2026-11-01\0", "2026-11-30")),
        (
            "unknown status",
            ReportFilter {
                status: Some("paidd".into()),
                ..period("2026-11-01", "2026-11-30")
            },
        ),
        (
            "status in capitals",
            ReportFilter {
                status: Some("PAID".into()),
                ..period("2026-11-01", "2026-11-30")
            },
        ),
    ];
    let out_dir = tempfile::tempdir().unwrap();
    let mut before = snapshot(&shop).await;
    for (name, filter) in &periods {
        tally.refused(
            name,
            shop.report_summary(filter, 5).await,
            ErrorCode::Validation,
        );
        for format in [ReportFormat::Csv, ReportFormat::Pdf] {
            let out = out_dir.path().join(format!("{name}.{format}"));
            let label = format!("{name} ({format} export)");
            let result = shop
                .export_report(
                    filter,
                    format,
                    CsvOptions::default(),
                    &out,
                    Arc::new(AtomicBool::new(false)),
                    |_| {},
                )
                .await;
            tally.refused(&label, result, ErrorCode::Validation);
            tally.also(&label, !out.exists(), || "a file was written".into());
        }
        tally.unchanged(name, &shop, &mut before).await;
    }
    let good = period("2026-11-01", "2026-11-30");
    let targets = [
        (
            "export into a missing folder",
            out_dir.path().join("no/such/dir/x.csv"),
        ),
        ("export onto a folder", out_dir.path().to_path_buf()),
    ];
    for (name, out) in targets {
        for format in [ReportFormat::Csv, ReportFormat::Pdf] {
            let result = shop
                .export_report(
                    &good,
                    format,
                    CsvOptions::default(),
                    &out,
                    Arc::new(AtomicBool::new(false)),
                    |_| {},
                )
                .await;
            let label = format!("{name} ({format})");
            tally.refused(&label, result, ErrorCode::Io);
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(out_dir.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "files left behind: {leftovers:?}");
    drop(dir);
    let tried = tally.finish();
    assert!(tried >= 60, "{tried}");
}

const BAD_ZONES: &[&str] = &[
    "Mars/Base",
    "",
    "   ",
    "UTC+8",
    "GMT+25",
    "CST-8",
    "+08:00",
    "Asia/Shanghai\0",
    "Asia/Shang hai",
    "../../../../etc/passwd",
    "/usr/share/zoneinfo/UTC",
    "Asia/",
    "Europe/Berlin/Extra",
    "亚洲/上海",
];

/// Schedule times through `queue_posts` (checked before any account is looked up) and the
/// parser itself; time zones through settings.
#[tokio::test]
async fn hostile_schedule_times_and_time_zones_are_refused() {
    let mut tally = Tally::new("schedule times and time zones");
    let (shop, _dir) = shop_with("CNY").await;
    let id = product(&shop, "Scheduled", "10", None).await;
    let mut before = snapshot(&shop).await;
    let times = [
        "tomorrow",
        "2026-11-25 25:00",
        "2026-11-25 18:60",
        "2026-02-30 10:00",
        "2026-13-01 10:00",
        "18:00",
        "25/11/2026 18:00",
        "2026-11-25 18:00 Mars/Base",
        "2026-11-25T18:00:00[Mars/Base]",
        "99999-01-01 00:00",
        "2026-11-25 18:00\0",
        "２０２６-１１-２５ １８:００",
        "1764000000",
    ];
    for at in times {
        let name = format!("post at {at:?}");
        let request = ComposeRequest {
            product_id: id,
            account_ids: vec![1],
            template: "{name}".into(),
            at: Some(at.into()),
        };
        tally.refused(
            &name,
            shop.queue_posts(&request).await,
            ErrorCode::Validation,
        );
        tally.unchanged(&name, &shop, &mut before).await;
    }
    for zone in BAD_ZONES {
        let name = format!("time at {zone:?}");
        let parsed = shopcast_core::posting::parse_local_time("2026-11-25 18:00", zone);
        tally.refused(&name, parsed, ErrorCode::Validation);
    }
    // DST: a local time in the spring gap moves forward, one in the autumn fold is the first.
    let gap = shopcast_core::posting::parse_local_time("2026-03-29 02:30", "Europe/Berlin");
    tally.check(
        "DST gap in Berlin",
        gap.as_ref()
            .is_ok_and(|t| t.to_string() == "2026-03-29T01:30:00Z"),
        || format!("{gap:?}"),
    );
    let fold = shopcast_core::posting::parse_local_time("2026-10-25 02:30", "Europe/Berlin");
    tally.check(
        "DST fold in Berlin",
        fold.as_ref()
            .is_ok_and(|t| t.to_string() == "2026-10-25T00:30:00Z"),
        || format!("{fold:?}"),
    );
    let tried = tally.finish();
    assert!(tried >= 25, "{tried}");
}

#[tokio::test]
async fn hostile_settings_are_refused_and_change_nothing() {
    let mut tally = Tally::new("settings");
    let (shop, _dir) = shop_with("CNY").await;
    let mut before = snapshot(&shop).await;
    let long_name = "店".repeat(201);
    let mut values: Vec<(String, String)> = vec![
        ("shop.nam".into(), "x".into()),
        ("".into(), "x".into()),
        ("SHOP.NAME".into(), "x".into()),
        ("shop.name\0".into(), "x".into()),
        ("shop.name".into(), long_name),
        ("shop.name".into(), "Shop\0name".into()),
        ("shop.name".into(), "Shop\u{1b}[2Jname".into()),
        ("shop.currency".into(), "XXX".into()),
        ("shop.currency".into(), "".into()),
        ("shop.currency".into(), "€".into()),
        ("shop.currency".into(), "RMB".into()),
        ("shop.currency".into(), "CNY;DROP TABLE products".into()),
        ("shop.locale".into(), "".into()),
        ("shop.locale".into(), "en_US".into()),
        ("shop.locale".into(), "../../etc".into()),
        ("shop.locale".into(), "zh-CN; rm -rf".into()),
        ("shop.locale".into(), "a".repeat(40)),
        ("shop.locale".into(), "en--US".into()),
        ("shop.buy_link_base".into(), "javascript:alert(1)".into()),
        (
            "shop.buy_link_base".into(),
            "ftp://shop.example.com/".into(),
        ),
        ("shop.buy_link_base".into(), "file:///etc/passwd".into()),
        (
            "shop.buy_link_base".into(),
            "data:text/html,<script>alert(1)</script>".into(),
        ),
        ("shop.buy_link_base".into(), "not a web address".into()),
        ("shop.buy_link_base".into(), "https://".into()),
        ("shop.buy_link_base".into(), "//shop.example.com/p/".into()),
        ("shop.public_url".into(), "javascript:alert(1)".into()),
        ("shop.public_url".into(), "http://shop.example.com".into()),
        ("shop.public_url".into(), "http://8.8.8.8:8080".into()),
        (
            "shop.public_url".into(),
            "https://shop.example.com/p/".into(),
        ),
        (
            "shop.public_url".into(),
            "https://shop.example.com/?x=1".into(),
        ),
        (
            "shop.public_url".into(),
            "https://owner:pw@shop.example.com".into(),
        ),
        ("shop.public_url".into(), "shop.example.com".into()),
    ];
    values.extend(
        BAD_ZONES
            .iter()
            .map(|zone| ("shop.timezone".to_string(), zone.to_string())),
    );
    for (key, value) in &values {
        let name = format!("set {key:?} = {value:?}");
        tally.refused(
            &name,
            shop.set_setting(key, value).await,
            ErrorCode::Validation,
        );
        tally.unchanged(&name, &shop, &mut before).await;
    }
    let whole = ShopSettings {
        name: "Fine".into(),
        currency: "CNY".into(),
        timezone: "Mars/Base".into(),
        locale: "en".into(),
        buy_link_base: String::new(),
        public_url: String::new(),
        ..Default::default()
    };
    tally.refused(
        "save settings with a bad zone",
        shop.save_settings(whole).await,
        ErrorCode::Validation,
    );
    tally
        .unchanged("save settings with a bad zone", &shop, &mut before)
        .await;
    let tried = tally.finish();
    assert!(tried >= 35, "{tried}");
}

fn sign_request(selection: Selection, template: &str, copies: u32) -> SignageRequest {
    SignageRequest {
        selection,
        template: template.into(),
        custom_grid: None,
        copies,
        call_to_action: None,
    }
}

fn grid(columns: u32, rows: u32, width: f32, height: f32) -> CustomGrid {
    CustomGrid {
        paper: Paper::A4,
        columns,
        rows,
        label_width_mm: width,
        label_height_mm: height,
        margin_left_mm: None,
        margin_top_mm: None,
        gap_x_mm: 0.0,
        gap_y_mm: 0.0,
    }
}

#[tokio::test]
async fn hostile_signage_requests_are_refused_and_print_nothing() {
    let mut tally = Tally::new("signage requests");
    let (shop, _dir) = shop_with("CNY").await;
    let id = product(&shop, "Sign me", "10", None).await;
    let one = || Selection::Ids(vec![id]);
    let custom = |grid: CustomGrid| SignageRequest {
        custom_grid: Some(grid),
        ..sign_request(one(), "custom", 1)
    };
    let requests: Vec<(&str, SignageRequest, ErrorCode)> = vec![
        (
            "zero copies",
            sign_request(one(), "a6-card", 0),
            ErrorCode::BadCopies,
        ),
        (
            "a million copies",
            sign_request(one(), "a6-card", 1_000_000),
            ErrorCode::BadCopies,
        ),
        (
            "u32::MAX copies",
            sign_request(one(), "a6-card", u32::MAX),
            ErrorCode::BadCopies,
        ),
        (
            "unknown template",
            sign_request(one(), "poster-9000", 1),
            ErrorCode::UnknownTemplate,
        ),
        (
            "empty template",
            sign_request(one(), "", 1),
            ErrorCode::UnknownTemplate,
        ),
        (
            "template path",
            sign_request(one(), "../../etc/passwd", 1),
            ErrorCode::UnknownTemplate,
        ),
        (
            "custom without a grid",
            sign_request(one(), "custom", 1),
            ErrorCode::Validation,
        ),
        (
            "grid of 0 rows",
            custom(grid(3, 0, 60.0, 30.0)),
            ErrorCode::InvalidTemplate,
        ),
        (
            "grid of 1000 columns",
            custom(grid(1000, 1, 60.0, 30.0)),
            ErrorCode::InvalidTemplate,
        ),
        (
            "labels 0 mm wide",
            custom(grid(3, 8, 0.0, 30.0)),
            ErrorCode::LabelTooSmall,
        ),
        (
            "labels NaN mm",
            custom(grid(3, 8, f32::NAN, 30.0)),
            ErrorCode::InvalidTemplate,
        ),
        (
            "labels -5 mm",
            custom(grid(3, 8, -5.0, 30.0)),
            ErrorCode::InvalidTemplate,
        ),
        (
            "labels infinitely high",
            custom(grid(3, 8, 60.0, f32::INFINITY)),
            ErrorCode::InvalidTemplate,
        ),
        (
            "labels wider than A4",
            custom(grid(3, 8, 500.0, 30.0)),
            ErrorCode::LabelsDoNotFit,
        ),
        (
            "no products chosen",
            sign_request(Selection::Ids(vec![]), "a6-card", 1),
            ErrorCode::Validation,
        ),
        (
            "a product that is not there",
            sign_request(Selection::Ids(vec![999_999]), "a6-card", 1),
            ErrorCode::NotFound,
        ),
        (
            "an unknown SKU",
            sign_request(Selection::Skus(vec!["NOPE".into()]), "a6-card", 1),
            ErrorCode::Validation,
        ),
        (
            "an empty SKU",
            sign_request(Selection::Skus(vec!["".into()]), "a6-card", 1),
            ErrorCode::Validation,
        ),
    ];
    let out_dir = tempfile::tempdir().unwrap();
    let mut before = snapshot(&shop).await;
    for (name, request, code) in &requests {
        let out = out_dir.path().join("signs.pdf");
        tally.refused(name, shop.print_signage(request, &out).await, *code);
        tally.also(name, !out.exists(), || "a PDF was written".into());
        let preview = format!("preview: {name}");
        tally.refused(&preview, shop.preview_signage(request, 0).await, *code);
        tally.unchanged(name, &shop, &mut before).await;
    }
    let out = out_dir.path().join("no/such/folder/signs.pdf");
    let name = "print into a missing folder";
    tally.refused(
        name,
        shop.print_signage(&sign_request(one(), "a6-card", 1), &out)
            .await,
        ErrorCode::Io,
    );
    tally.unchanged(name, &shop, &mut before).await;
    let tried = tally.finish();
    assert!(tried >= 35, "{tried}");
}

/// Hostile text on a sign is printed as text: a script, bidi overrides and a huge call to
/// action never reach the SVG preview as markup.
#[tokio::test]
async fn hostile_text_on_signs_is_escaped_or_refused() {
    let mut tally = Tally::new("signage text");
    let (shop, _dir) = shop_with("CNY").await;
    let id = product(&shop, "<script>alert(1)</script> & \"tea\"", "10", None).await;
    let texts = [
        "<script>alert('cta')</script>",
        "]]><svg onload=alert(1)>",
        "\u{202e}yub ot nacs",
        "&amp;&lt;&#x3C;",
    ];
    for text in texts {
        let request = SignageRequest {
            call_to_action: Some(text.into()),
            ..sign_request(Selection::Ids(vec![id]), "a6-card", 1)
        };
        let preview = shop.preview_signage(&request, 0).await;
        let ok = preview
            .as_ref()
            .is_ok_and(|p| !p.svg.contains("<script") && !p.svg.contains("<svg onload"));
        tally.check(text, ok, || format!("{:?}", preview.map(|p| p.svg.len())));
    }
    let huge = SignageRequest {
        call_to_action: Some("扫".repeat(100_000)),
        ..sign_request(Selection::Ids(vec![id]), "a6-card", 1)
    };
    let result = shop.preview_signage(&huge, 0).await;
    tally.check(
        "a 100,000-character call to action",
        result.is_ok() || result.as_ref().is_err_and(|e| !e.to_string().is_empty()),
        || format!("{:?}", result.map(|p| p.svg.len())),
    );
    tally.finish();
}

/// Payment settings and provider connections typed wrong: refused before anything is saved
/// (no key in the keychain file, no provider row, the old settings kept).
#[tokio::test]
async fn hostile_payment_settings_and_provider_keys_are_refused() {
    let mut tally = Tally::new("payment settings");
    let (shop, _dir) = shop_with("CNY").await;
    let saved = shop.payment_settings().await.unwrap();
    let mut before = snapshot(&shop).await;
    type Tweak = fn(&mut shopcast_core::payments::providers::PaymentSettings);
    let tweaks: Vec<(&str, Tweak)> = vec![
        ("poll every 0 ms", |s| s.poll_ms = 0),
        ("poll every 49 ms", |s| s.poll_ms = 49),
        ("poll every 60.001 s", |s| s.poll_ms = 60_001),
        ("poll every u32::MAX ms", |s| s.poll_ms = u32::MAX),
        ("QR valid 0 minutes", |s| s.qr_minutes = 0),
        ("QR valid a day and a minute", |s| s.qr_minutes = 1_441),
        ("QR valid u32::MAX minutes", |s| s.qr_minutes = u32::MAX),
    ];
    for (name, tweak) in tweaks {
        let mut settings = saved.clone();
        tweak(&mut settings);
        tally.refused(
            name,
            shop.save_payment_settings(settings).await,
            ErrorCode::Validation,
        );
        tally.unchanged(name, &shop, &mut before).await;
    }
    use ErrorCode::{ProviderConfig, Validation};
    let stripe_bases = [
        ("Stripe base empty", "", Validation),
        ("Stripe base words", "not a web address", Validation),
        (
            "Stripe base plain http elsewhere",
            "http://api.stripe.example.com",
            ProviderConfig,
        ),
        ("Stripe base ftp", "ftp://api.stripe.com", Validation),
        ("Stripe base javascript", "javascript:alert(1)", Validation),
        ("Stripe base file", "file:///etc/passwd", Validation),
    ];
    for (name, base, code) in stripe_bases {
        let result = shop.connect_stripe(base, "sk_test_51BadInput").await;
        tally.refused(name, result, code);
        tally.unchanged(name, &shop, &mut before).await;
    }
    let gateway = "https://openapi.alipay.com/gateway.do";
    let alipay = [
        ("Alipay without an app id", "", gateway, "key", Validation),
        (
            "Alipay gateway over plain http",
            "2021000000000001",
            "http://openapi.alipay.example/gateway.do",
            "key",
            ProviderConfig,
        ),
        (
            "Alipay keys of words",
            "2021000000000001",
            gateway,
            "my key",
            ProviderConfig,
        ),
        (
            "Alipay keys empty",
            "2021000000000001",
            gateway,
            "",
            ProviderConfig,
        ),
    ];
    for (name, app_id, gateway, key, code) in alipay {
        let result = shop.connect_alipay(app_id, gateway, key, key).await;
        tally.refused(name, result, code);
        tally.unchanged(name, &shop, &mut before).await;
    }
    tally.finish();
}
