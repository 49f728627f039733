//! `shopcast export` run as an accountant would, and the CSV read back by real readers
//! (Python's csv module and pandas, from tests/reports/read_csv.py) with the same values.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use shopcast_core::payments::till::{OrderDraft, OrderLineDraft};
use shopcast_core::{ProductDraft, Shop, ShopSettings};
use shopcast_payments::{PaymentStatus, ProviderEvent, ProviderKind};

fn shopcast(data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_shopcast"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("SHOPCAST_DATA_DIR")
        .output()
        .unwrap()
}

fn venv_python() -> PathBuf {
    let venv = std::env::var("SHOPCAST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/shopcast-venv")
        });
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: run tests/peers/setup.sh",
        python.display()
    );
    python
}

/// A shop with awkward names sold in three currencies on two days.
async fn shop_with_sales(dir: &Path) {
    let shop = Shop::open(dir).await.unwrap();
    shop.save_settings(ShopSettings {
        name: "小店".into(),
        currency: "CNY".into(),
        timezone: "Europe/Berlin".into(),
        locale: "en".into(),
        buy_link_base: String::new(),
        public_url: String::new(),
        ..Default::default()
    })
    .await
    .unwrap();
    let names = [
        ("青花瓷杯, \"特级\"", "88.00", "CNY"),
        ("=cmd|' /C calc'!A0", "12.50", "EUR"),
        ("Line one\nline two", "500", "JPY"),
        ("-@Tea", "0.99", "EUR"),
    ];
    for (i, (name, price, currency)) in names.iter().enumerate() {
        let product = shop
            .create_product(&ProductDraft {
                name: (*name).into(),
                price: (*price).into(),
                currency: Some((*currency).into()),
                sku: Some(format!("SKU-{i}")),
                ..Default::default()
            })
            .await
            .unwrap();
        for (day, quantity) in [("2026-11-03T10:00:00Z", 1), ("2026-11-20T22:59:59Z", 3)] {
            let order = shop
                .create_order(&OrderDraft {
                    lines: vec![OrderLineDraft {
                        product_id: product.id,
                        quantity,
                        ..Default::default()
                    }],
                    ..Default::default()
                })
                .await
                .unwrap();
            let event = ProviderEvent {
                event_id: format!("evt_{}", order.order_ref),
                provider_ref: format!("pi_{}", order.order_ref),
                order_ref: Some(order.order_ref.clone()),
                charge_ref: None,
                status: PaymentStatus::Paid,
                amount_minor: order.total.amount_minor,
                currency: order.total.currency.clone(),
                refunded_total_minor: (quantity == 3).then_some(order.total.amount_minor / 3),
                method: Some("card".into()),
                source_tag: None,
                occurred_at: day.parse().unwrap(),
                raw: "{}".into(),
            };
            shop.payments()
                .ingest(ProviderKind::Stripe, &[event], None)
                .await
                .unwrap();
        }
    }
    shop.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn exported_csv_reads_back_the_same_in_python_csv_and_pandas() {
    let dir = tempfile::tempdir().unwrap();
    shop_with_sales(dir.path()).await;
    let out = dir.path().join("sales.csv");
    let run = shopcast(
        dir.path(),
        &[
            "export",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "csv",
            "--excel",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("8 sales written"));

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/reports/read_csv.py");
    let read = Command::new(venv_python())
        .arg(&script)
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let seen: Value = serde_json::from_slice(&read.stdout).unwrap();
    // 2026-11-20T22:59:59Z is 23:59:59 in Berlin: still the 20th.
    let expected_sums = serde_json::json!({
        "CNY": {"gross": "352.00", "refunded": "88.00", "net": "264.00"},
        "EUR": {"gross": "53.96", "refunded": "13.49", "net": "40.47"},
        "JPY": {"gross": "2000", "refunded": "500", "net": "1500"},
    });
    for reader in ["csv", "pandas"] {
        let view = &seen[reader];
        assert_eq!(view["rows"], 8, "{reader}");
        assert_eq!(
            view["columns"][0], "local_date",
            "{reader}: the BOM must not stick to the header"
        );
        assert_eq!(
            view["columns"].as_array().unwrap().len(),
            shopcast_core::reports::CSV_COLUMNS.len()
        );
        assert_eq!(view["sums"], expected_sums, "{reader}");
        let products: Vec<&str> = view["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert!(
            products.contains(&"青花瓷杯, \"特级\""),
            "{reader}: {products:?}"
        );
        assert!(
            products.contains(&"Line one\nline two"),
            "{reader}: {products:?}"
        );
        assert!(
            products.contains(&"'=cmd|' /C calc'!A0"),
            "{reader}: formula neutralised: {products:?}"
        );
        assert!(products.contains(&"'-@Tea"), "{reader}: {products:?}");
    }

    // The PDF of the same period, read by poppler.
    let pdf = dir.path().join("sales.pdf");
    let run = shopcast(
        dir.path(),
        &[
            "export",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "pdf",
            "--out",
            pdf.to_str().unwrap(),
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    for shown in ["¥352.00", "€53.96", "¥2,000", "青花瓷杯"] {
        assert!(text.contains(shown), "{shown} missing:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_export_requests_say_why_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    shop_with_sales(dir.path()).await;
    let out = dir.path().join("x.csv");
    let backwards = shopcast(
        dir.path(),
        &[
            "export",
            "--from",
            "2026-11-30",
            "--to",
            "2026-11-01",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(!backwards.status.success());
    assert!(
        String::from_utf8_lossy(&backwards.stderr).contains("start date is after the end date")
    );
    let nowhere = dir.path().join("missing/x.csv");
    let unwritable = shopcast(
        dir.path(),
        &[
            "export",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--out",
            nowhere.to_str().unwrap(),
        ],
    );
    assert!(!unwritable.status.success());
    assert!(String::from_utf8_lossy(&unwritable.stderr).contains("missing"));
    assert!(!out.exists() && !nowhere.exists());
    // An empty period is a valid export with the header only.
    let empty = dir.path().join("empty.csv");
    let run = shopcast(
        dir.path(),
        &[
            "export",
            "--from",
            "2025-01-01",
            "--to",
            "2025-01-31",
            "--out",
            empty.to_str().unwrap(),
        ],
    );
    assert!(run.status.success());
    assert_eq!(std::fs::read_to_string(&empty).unwrap().lines().count(), 1);
}
