//! Taxes, discounts and barcodes at the till (till/tax.rs, till/taxes.rs): what a sale
//! stores, and that the reports and the sales CSV show the same tax as the lines.

use shopcast_core::payments::till::{OrderDraft, OrderLineDraft};
use shopcast_core::reports::{ReportFilter, ReportFormat};
use shopcast_core::{ErrorCode, ProductDraft, Shop};

use crate::shop_with;

async fn taxed(
    shop: &Shop,
    name: &str,
    price: &str,
    tax: Option<&str>,
    barcode: Option<&str>,
) -> i64 {
    shop.create_product(&ProductDraft {
        name: name.into(),
        price: price.into(),
        sku: Some(name.to_uppercase().replace(' ', "-")),
        tax: tax.map(String::from),
        barcode: barcode.map(String::from),
        stock: Some(10),
        ..Default::default()
    })
    .await
    .unwrap()
    .id
}

fn line(product_id: i64, quantity: u32, discount: Option<&str>) -> OrderLineDraft {
    OrderLineDraft {
        product_id,
        quantity,
        discount: discount.map(String::from),
        discount_reason: discount.map(|_| "damaged box".to_string()),
    }
}

/// Tax per rate over the paid lines, by SQL over the ledger (independent of the code).
async fn tax_by_rate(shop: &Shop) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT l.tax_rate_name, CAST(sum(l.tax_minor) AS BIGINT) FROM order_lines l JOIN orders o ON o.id = l.order_id
         WHERE o.status = 'paid' AND l.tax_rate_name IS NOT NULL
         GROUP BY l.tax_rate_name ORDER BY l.tax_rate_name",
    )
    .fetch_all(shop.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn taxes_and_discounts_price_the_sale_and_reach_the_reports() {
    let (shop, dir) = shop_with("EUR").await;
    shop.add_tax_rate("VAT 19 %", "19", true).await.unwrap();
    let reduced = shop.add_tax_rate("VAT 7 %", "7%", false).await.unwrap();
    assert_eq!(reduced.rate_ppm, 70_000);
    // A second default replaces the first; names are unique whatever their case.
    let err = shop.add_tax_rate("vat 7 %", "7", false).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    shop.add_tax_rate("ÜST", "20", false).await.unwrap();
    let err = shop.add_tax_rate("üst", "7", false).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    for bad in ["", "abc", "101", "-1", "7.12345"] {
        let err = shop.add_tax_rate("Odd", bad, false).await.unwrap_err();
        assert_eq!(err.field(), Some("percent"), "{bad}");
    }
    let rates = shop.tax_rates().await.unwrap();
    assert_eq!(rates.iter().filter(|r| r.is_default).count(), 1);

    let cup = taxed(&shop, "Cup", "11.90", None, None).await; // the default rate, 19 %
    let book = taxed(
        &shop,
        "Book",
        "4.99",
        Some("vat 7 %"),
        Some("4006381333931"),
    )
    .await;
    let err = shop
        .create_product(&ProductDraft {
            name: "Ghost".into(),
            price: "1".into(),
            tax: Some("VAT 99".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("tax"));
    assert!(err.to_string().contains("shopcast taxes add"), "{err}");

    // Cup ×2 with 10 % off the line, Book ×3, and 5.00 off the whole sale.
    let order = shop
        .create_order(&OrderDraft {
            lines: vec![line(cup, 2, Some("10%")), line(book, 3, None)],
            discount: Some("5.00".into()),
            discount_reason: Some("staff".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    // Cup: 23.80 − 2.38 = 21.42; Book 14.97; subtotal 36.39, 5.00 shared 21.42 : 14.97
    // → 2.94 (2.943…) and 2.06 (2.056…): Cup 18.48, Book 12.91.
    let [c, b] = [&order.lines[0], &order.lines[1]];
    assert_eq!((c.gross_minor, c.discount_minor), (1848, 238 + 294));
    assert_eq!((b.gross_minor, b.discount_minor), (1291, 206));
    // Tax in the price: 18.48 × 19/119 = 2.9506… → 2.95; 12.91 × 7/107 = 0.8445… → 0.84.
    assert_eq!((c.tax_minor, c.net_minor), (295, 1553));
    assert_eq!((b.tax_minor, b.net_minor), (84, 1207));
    assert_eq!(c.tax_rate_name.as_deref(), Some("VAT 19 %"));
    assert_eq!(b.tax_rate_ppm, 70_000);
    assert_eq!(order.total.amount_minor, 1848 + 1291);
    assert_eq!(order.discount_minor, 238 + 294 + 206);
    assert_eq!(order.discount_reason.as_deref(), Some("staff"));
    assert_eq!(
        order
            .taxes
            .iter()
            .map(|t| (t.name.as_str(), t.tax_minor))
            .collect::<Vec<_>>(),
        vec![("VAT 19 %", 295), ("VAT 7 %", 84)]
    );
    // What was stored reads back the same.
    assert_eq!(shop.order(order.id).await.unwrap(), order);
    shop.mark_paid_manually(order.id, "cash").await.unwrap();
    // Discounts change money, not goods: stock goes down by what was sold.
    assert_eq!(shop.product(cup).await.unwrap().stock, Some(8));
    assert_eq!(shop.product(book).await.unwrap().stock, Some(7));

    // A US-style shop adds tax at the till: 10.00 at 8.875 % is 10.89.
    shop.set_setting("shop.prices_include_tax", "false")
        .await
        .unwrap();
    shop.add_tax_rate("NYC", "8.875", false).await.unwrap();
    let hat = taxed(&shop, "Hat", "10.00", Some("NYC"), None).await;
    let us = shop
        .create_order(&OrderDraft {
            lines: vec![line(hat, 1, None)],
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!us.prices_include_tax);
    assert_eq!(
        (
            us.lines[0].net_minor,
            us.lines[0].tax_minor,
            us.total.amount_minor
        ),
        (1000, 89, 1089)
    );
    shop.mark_paid_manually(us.id, "cash").await.unwrap();

    // Refused discounts make no order.
    for (discount, field) in [
        ("150%", "discount"),
        ("50.00", "discount"),
        ("abc", "discount"),
    ] {
        let err = shop
            .create_order(&OrderDraft {
                lines: vec![line(hat, 1, None)],
                discount: Some(discount.into()),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some(field), "{discount}: {err}");
    }
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(shop.pool())
        .await
        .unwrap();
    assert_eq!(orders, 2);

    // The report's tax per rate is the sum over the lines, and discounts are shown.
    let expected = tax_by_rate(&shop).await;
    let today = jiff::Timestamp::now()
        .in_tz("Asia/Shanghai")
        .unwrap()
        .date()
        .to_string();
    let filter = ReportFilter {
        from: today.clone(),
        to: today,
        ..Default::default()
    };
    let summary = shop.report_summary(&filter, 10).await.unwrap();
    let reported: Vec<(String, i64)> = summary
        .taxes
        .iter()
        .map(|t| (t.name.clone(), t.tax_minor))
        .collect();
    assert_eq!(reported, expected);
    let eur = &summary.totals[0];
    assert_eq!(eur.gross_minor, 1848 + 1291 + 1089);
    assert_eq!(eur.discount_minor, 738);
    assert_eq!(eur.before_discounts_minor, eur.gross_minor + 738);
    assert_eq!(eur.tax_minor, 295 + 84 + 89);

    // The sales CSV: discount, tax_rate and tax after `test`, one row per line.
    let csv_path = dir.path().join("sales.csv");
    shop.export_report(
        &filter,
        ReportFormat::Csv,
        Default::default(),
        &csv_path,
        Default::default(),
        |_| {},
    )
    .await
    .unwrap();
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let tail: Vec<&str> = headers.iter().skip(headers.len() - 4).collect();
    assert_eq!(tail, ["test", "discount", "tax_rate", "tax"]);
    let mut from_csv: std::collections::BTreeMap<String, i64> = Default::default();
    for row in reader.records() {
        let row = row.unwrap();
        let rate = row.get(headers.len() - 2).unwrap();
        let tax = row.get(headers.len() - 1).unwrap();
        if !rate.is_empty() {
            *from_csv.entry(rate.into()).or_default() +=
                (tax.parse::<f64>().unwrap() * 100.0).round() as i64;
        }
    }
    assert_eq!(from_csv.into_iter().collect::<Vec<_>>(), expected);
}

#[tokio::test]
async fn barcodes_are_checked_unique_and_found_as_scanned() {
    let (shop, _dir) = shop_with("USD").await;
    // UPC-A 036000291452 is the EAN-13 0036000291452: one product.
    let soap = taxed(&shop, "Soap", "3.50", None, Some("0 36000 29145 2")).await;
    let found = shop
        .product_by_barcode("0036000291452")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, soap);
    assert_eq!(found.barcode.as_deref(), Some("036000291452"));
    let err = shop
        .create_product(&ProductDraft {
            name: "Soap again".into(),
            price: "1".into(),
            barcode: Some("0036000291452".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Conflict);
    assert_eq!(err.field(), Some("barcode"));
    for bad in ["4006381333932", "12345", "40063813339x1"] {
        let err = shop
            .create_product(&ProductDraft {
                name: "Bad".into(),
                price: "1".into(),
                barcode: Some(bad.into()),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("barcode"), "{bad}: {err}");
    }
    assert!(
        shop.product_by_barcode("4006381333931")
            .await
            .unwrap()
            .is_none()
    );
    assert!(shop.product_by_barcode("4006381333932").await.is_err());
}

#[tokio::test]
async fn the_catalog_csv_carries_tax_barcode_and_low_stock() {
    let (shop, dir) = shop_with("CNY").await;
    shop.add_tax_rate("增值税 13 %", "13", true).await.unwrap();
    let file = dir.path().join("in.csv");
    std::fs::write(
        &file,
        "sku,name,price,stock,tags,tax,barcode,low_stock\n\
         T-1,绿茶,88,3,,增值税 13 %,6901234567892,5\n\
         T-2,红茶,66,10,,,,\n",
    )
    .unwrap();
    let report = shop.import_catalog(&file, false).await.unwrap();
    assert!(report.applied, "{report:?}");
    let out = dir.path().join("out.csv");
    shop.export_catalog(&out).await.unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "sku,name,description,price,currency,stock,tags,tax,barcode,low_stock"
    );
    assert_eq!(
        lines.next().unwrap(),
        "T-1,绿茶,,88.00,CNY,3,,增值税 13 %,6901234567892,5"
    );
    // The round trip is exact: importing the export changes nothing.
    let again = shop.import_catalog(&out, false).await.unwrap();
    assert_eq!((again.created, again.updated), (0, 2));
    shop.export_catalog(&out).await.unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
    // Running low: at or below its level.
    let page = shop
        .list_products(&shopcast_core::ProductQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let tea = page
        .items
        .iter()
        .find(|p| p.sku.as_deref() == Some("T-1"))
        .unwrap();
    assert!(tea.is_low());
    assert!(
        !page
            .items
            .iter()
            .find(|p| p.sku.as_deref() == Some("T-2"))
            .unwrap()
            .is_low()
    );

    // Two products swap barcodes in one import, and a new one takes a barcode given up.
    std::fs::write(
        &file,
        "sku,name,price,barcode\n\
         T-1,绿茶,88,96385074\n\
         T-2,红茶,66,6901234567892\n",
    )
    .unwrap();
    let report = shop.import_catalog(&file, false).await.unwrap();
    assert!(report.applied, "{report:?}");
    std::fs::write(
        &file,
        "sku,name,price,barcode\n\
         T-1,绿茶,88,6901234567892\n\
         T-2,红茶,66,\n\
         T-3,白茶,99,96385074\n",
    )
    .unwrap();
    let report = shop.import_catalog(&file, false).await.unwrap();
    assert!(report.applied, "{report:?}");
    let by_barcode = |code: &'static str| {
        let shop = &shop;
        async move { shop.product_by_barcode(code).await.unwrap().map(|p| p.sku) }
    };
    assert_eq!(by_barcode("6901234567892").await, Some(Some("T-1".into())));
    assert_eq!(by_barcode("96385074").await, Some(Some("T-3".into())));

    // Unknown rates, bad check digits and a barcode twice are refused by line; nothing written.
    std::fs::write(
        &file,
        "sku,name,price,tax,barcode\n\
         X-1,A,1,VAT 99,\n\
         X-2,B,1,,6901234567891\n\
         X-3,C,1,,96385074\n\
         X-4,D,1,,96385074\n",
    )
    .unwrap();
    let report = shop.import_catalog(&file, false).await.unwrap();
    assert!(!report.applied);
    let fields: Vec<(u64, Option<&str>)> = report
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_deref()))
        .collect();
    assert_eq!(
        fields,
        [(2, Some("tax")), (3, Some("barcode")), (5, Some("barcode"))]
    );
}

#[tokio::test]
async fn a_till_receipt_links_to_its_own_receipt_page_on_the_shop_page() {
    let (shop, _dir) = shop_with("CNY").await;
    let tea = taxed(&shop, "Tea", "88", None, None).await;
    let order = shop
        .create_order(&OrderDraft {
            lines: vec![line(tea, 1, None)],
            ..Default::default()
        })
        .await
        .unwrap();
    shop.mark_paid_manually(order.id, "cash").await.unwrap();
    // Without a shop page: the product's buy link.
    let link = shop.receipt_qr(order.id).await.unwrap().unwrap();
    assert_eq!(
        link,
        format!(
            "https://shop.example.com/p/TEA?src=receipt&order={}",
            order.order_ref
        )
    );
    // With one: the sale's receipt page, the same on every reprint, where the buyer can share.
    shop.set_setting("shop.public_url", "https://shop.example.com")
        .await
        .unwrap();
    let page = shop.receipt_qr(order.id).await.unwrap().unwrap();
    let token = page.strip_prefix("https://shop.example.com/r/").unwrap();
    assert_eq!(token.len(), 32, "{page}");
    assert_eq!(shop.receipt_qr(order.id).await.unwrap().unwrap(), page);
    let receipt = shop
        .receipt(token, "https://shop.example.com")
        .await
        .unwrap()
        .expect("the receipt page knows the token");
    assert!(receipt.paid);
    assert_eq!(receipt.order_ref, order.order_ref);
    assert!(receipt.share.is_some(), "a paid sale can be shared");
    // Only the token's hash is in the shop file; another order gets another token.
    let stored: String = sqlx::query_scalar("SELECT receipt_hash FROM orders WHERE id = $1")
        .bind(order.id)
        .fetch_one(shop.pool())
        .await
        .unwrap();
    assert!(!stored.contains(token));
    let other = shop
        .create_order(&OrderDraft {
            lines: vec![line(tea, 2, None)],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_ne!(shop.receipt_qr(other.id).await.unwrap().unwrap(), page);
}

#[tokio::test]
async fn the_till_preview_prices_a_sale_as_it_will_be_stored_and_stores_nothing() {
    let (shop, _dir) = shop_with("EUR").await;
    shop.add_tax_rate("VAT 19 %", "19", true).await.unwrap();
    let cup = taxed(&shop, "Cup", "11.90", None, None).await;
    let draft = OrderDraft {
        lines: vec![line(cup, 3, Some("10%"))],
        discount: Some("1.00".into()),
        ..Default::default()
    };
    let preview = shop.preview_order(&draft).await.unwrap();
    let orders = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM orders")
            .fetch_one(shop.pool())
            .await
            .unwrap()
    };
    assert_eq!(orders().await, 0);
    let order = shop.create_order(&draft).await.unwrap();
    assert_eq!(preview.total, order.total);
    assert_eq!(preview.lines, order.lines);
    assert_eq!(preview.taxes, order.taxes);
    assert_eq!(preview.discount_minor, order.discount_minor);
    assert_eq!(orders().await, 1);
}
