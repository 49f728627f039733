//! The till's days (till/day.rs): open with a float, X mid-day, Z at close, each figure
//! checked against a query of the ledger written here.

use shopcast_core::Shop;
use shopcast_core::payments::till::OrderDraft;

use crate::{count, line, product, shop_with};

/// A cash or card-terminal sale of `qty` × product at till `till`; the payment id.
async fn sale(shop: &Shop, till: Option<&str>, product_id: i64, qty: u32, method: &str) -> i64 {
    discounted_sale(shop, till, &[(product_id, qty)], None, method).await
}

/// A sale of several lines with an optional discount on the whole sale; the payment id.
async fn discounted_sale(
    shop: &Shop,
    till: Option<&str>,
    lines: &[(i64, u32)],
    discount: Option<&str>,
    method: &str,
) -> i64 {
    let order = shop
        .create_order(&OrderDraft {
            lines: lines.iter().map(|(id, qty)| line(*id, *qty)).collect(),
            till: till.map(String::from),
            discount: discount.map(String::from),
            ..Default::default()
        })
        .await
        .unwrap();
    shop.mark_paid_manually(order.id, method).await.unwrap().id
}

async fn sql(shop: &Shop, query: &str, till: &str, from: i64) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(query.to_string()))
        .bind(till)
        .bind(from)
        .fetch_one(shop.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_day_of_sales_and_refunds_adds_up_to_the_ledger() {
    let (shop, _dir) = shop_with("CNY").await;
    shop.add_tax_rate("增值税 13 %", "13", true).await.unwrap();
    shop.add_tax_rate("增值税 6 %", "6", false).await.unwrap();
    let tea = product(&shop, "茶 Tea", "12.50", None).await;
    let book = shop
        .create_product(&shopcast_core::ProductDraft {
            name: "书 Book".into(),
            price: "39.90".into(),
            tax: Some("增值税 6 %".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    let err = shop
        .till_report(Some("Front"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("has no open day"), "{err}");
    // A sale before the day opens is not in it.
    sale(&shop, Some("Front"), tea, 1, "cash").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let day = shop.open_till(Some("Front"), "200").await.unwrap();
    assert_eq!(day.float_minor, 20000);
    let again = shop
        .open_till(Some("Front"), "1")
        .await
        .unwrap_err()
        .to_string();
    assert!(again.contains("already has an open day"), "{again}");
    let mut seed: u64 = 0x5eed;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as u32
    };
    let mut paid = Vec::new();
    for _ in 0..12 {
        let method = if next() % 3 == 0 {
            "card_terminal"
        } else {
            "cash"
        };
        let discount = match next() % 3 {
            0 => Some("10%".to_string()),
            1 => Some(format!("{}.{:02}", next() % 5, next() % 100)),
            _ => None,
        };
        let lines = [(tea, 1 + next() % 4), (book, next() % 3)];
        let lines: Vec<(i64, u32)> = lines.into_iter().filter(|(_, q)| *q > 0).collect();
        paid.push(discounted_sale(&shop, Some("Front"), &lines, discount.as_deref(), method).await);
    }
    // The other till's day is separate.
    shop.open_till(Some("Back"), "50").await.unwrap();
    sale(&shop, Some("Back"), tea, 7, "cash").await;
    for id in paid.iter().step_by(4) {
        shop.refund_payment(*id, Some(100 + i64::from(next() % 500)))
            .await
            .unwrap();
    }
    let days_before = count(&shop, "till_days WHERE closed_at IS NOT NULL").await;
    let x = shop.till_report(Some("Front")).await.unwrap();
    assert_eq!(
        count(&shop, "till_days WHERE closed_at IS NOT NULL").await,
        days_before
    );
    let from = day.opened_at_ms;
    let sales =
        "SELECT CAST(coalesce(sum(p.amount_minor), 0) AS BIGINT) FROM payments p JOIN orders o ON o.id = p.order_id
                 WHERE coalesce(o.till, '') = $1 AND p.occurred_at >= $2";
    let cash = format!("{sales} AND p.method = 'cash'");
    let refunds = "SELECT CAST(coalesce(sum(p.refunded_minor), 0) AS BIGINT) FROM payments p JOIN orders o ON o.id = p.order_id
                   WHERE coalesce(o.till, '') = $1 AND p.occurred_at >= $2";
    let cash_refunds = format!("{refunds} AND p.method = 'cash'");
    assert_eq!(x.sales_minor, sql(&shop, sales, "Front", from).await);
    assert_eq!(x.sales_count, 12);
    assert_eq!(x.cash_sales_minor, sql(&shop, &cash, "Front", from).await);
    assert_eq!(x.refunds_minor, sql(&shop, refunds, "Front", from).await);
    assert_eq!(x.refunds_count, 3);
    assert_eq!(
        x.cash_refunds_minor,
        sql(&shop, &cash_refunds, "Front", from).await
    );
    assert_eq!(
        x.expected_cash_minor,
        20000 + x.cash_sales_minor - x.cash_refunds_minor
    );
    assert!(x.cash_sales_minor > 0 && x.sales_minor > x.cash_sales_minor);
    let tax: i64 = x.taxes.iter().map(|t| t.tax_minor).sum();
    let lines = "SELECT CAST(coalesce(sum(l.tax_minor), 0) AS BIGINT) FROM order_lines l JOIN orders o ON o.id = l.order_id
                 JOIN payments p ON p.order_id = o.id WHERE coalesce(o.till, '') = $1 AND p.occurred_at >= $2";
    assert_eq!(tax, sql(&shop, lines, "Front", from).await);
    assert!(tax > 0);
    // Per rate, as SQL groups the day's lines.
    let per_rate: Vec<(String, i64)> = sqlx::query_as(
        "SELECT l.tax_rate_name, CAST(sum(l.tax_minor) AS BIGINT) FROM order_lines l JOIN orders o ON o.id = l.order_id
         JOIN payments p ON p.order_id = o.id WHERE o.till = 'Front' AND p.occurred_at >= $1
         GROUP BY l.tax_rate_name ORDER BY l.tax_rate_name",
    )
    .bind(from)
    .fetch_all(shop.pool())
    .await
    .unwrap();
    let mut reported: Vec<(String, i64)> = x
        .taxes
        .iter()
        .map(|t| (t.name.clone().unwrap_or_default(), t.tax_minor))
        .collect();
    reported.sort();
    assert_eq!(reported, per_rate);
    let discounts = "SELECT CAST(coalesce(sum(l.discount_minor), 0) AS BIGINT) FROM order_lines l JOIN orders o ON o.id = l.order_id
                 JOIN payments p ON p.order_id = o.id WHERE coalesce(o.till, '') = $1 AND p.occurred_at >= $2";
    assert_eq!(
        x.discounts_minor,
        sql(&shop, discounts, "Front", from).await
    );
    assert!(x.discounts_minor > 0);

    let z = shop.close_till(Some("Front"), "1234.50").await.unwrap();
    assert_eq!(z.kind, "Z");
    assert_eq!(z.sales_minor, x.sales_minor);
    assert_eq!(z.counted_minor, Some(123450));
    assert_eq!(z.difference_minor, Some(123450 - z.expected_cash_minor));
    // A sale after the close is not in the closed Z, reread from the shop file.
    sale(&shop, Some("Front"), tea, 3, "cash").await;
    assert_eq!(shop.z_report(z.day_id).await.unwrap(), z);
    let twice = shop
        .close_till(Some("Front"), "1")
        .await
        .unwrap_err()
        .to_string();
    assert!(twice.contains("has no open day"), "{twice}");
    // The closed day cannot change, whatever writes to the file.
    let update = sqlx::query("UPDATE till_days SET counted_minor = 1 WHERE id = $1")
        .bind(z.day_id)
        .execute(shop.pool())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        update.contains("a closed till day cannot be changed"),
        "{update}"
    );
    // A QR paid a moment before the close but reported after it (the provider's time is in
    // the closed day): not in the stored Z, and on the next day's report with the sale made
    // between the days, so every sale is on exactly one Z.
    let late = sale(&shop, Some("Front"), tea, 2, "card_terminal").await;
    sqlx::query("UPDATE payments SET occurred_at = $1 WHERE id = $2")
        .bind(z.until_ms - 1)
        .bind(late)
        .execute(shop.pool())
        .await
        .unwrap();
    assert_eq!(shop.z_report(z.day_id).await.unwrap(), z);
    shop.open_till(Some("Front"), "100").await.unwrap();
    let next = shop.till_report(Some("Front")).await.unwrap();
    assert_eq!(next.sales_count, 2);
    assert_eq!(next.sales_minor, 3 * 1250 + 2 * 1250);
    assert_eq!(next.cash_sales_minor, 3 * 1250);
    let back = shop.till_report(Some("Back")).await.unwrap();
    assert_eq!(back.sales_count, 1);
    assert_eq!(back.cash_sales_minor, 7 * 1250);
}

#[tokio::test]
async fn known_tills_lists_every_till_once_by_name() {
    let (shop, _dir) = shop_with("CNY").await;
    assert!(
        shop.known_tills().await.unwrap().is_empty(),
        "a new shop has no tills"
    );
    let tea = product(&shop, "茶 Tea", "12.50", None).await;
    sale(&shop, Some("收银台 2"), tea, 1, "cash").await;
    sale(&shop, Some("Front"), tea, 1, "cash").await;
    sale(&shop, Some("Front"), tea, 1, "cash").await;
    sale(&shop, None, tea, 1, "cash").await;
    // A till that opened its day but has sold nothing yet is known too.
    shop.open_till(Some("Back"), "50").await.unwrap();
    shop.open_till(None, "50").await.unwrap();
    let tills = shop.known_tills().await.unwrap();
    let mut expected = vec!["Back".to_string(), "Front".into(), "收银台 2".into()];
    expected.sort();
    assert_eq!(tills, expected);
}
