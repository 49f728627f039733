//! The till's "Scan customer's code" and `Shop::sell` against the local WeChat Pay gateway:
//! paid on the spot (recorded once), confirmed on the phone later, never confirmed (reversed,
//! order expired), declined (order open, scan again), codes of nobody or of a provider that
//! is not connected; whole sales by SKU with cash, test mode and a payment code.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, RawQuery, State};
use axum::routing::post;

use shopcast_core::payments::PaymentUpdate;
use shopcast_core::payments::sale::{SaleItem, SaleMethod, SaleRequest};
use shopcast_core::payments::till::OrderStatus;
use shopcast_core::{CoreError, ErrorCode, ProductDraft};
use shopcast_payments::{CODE_TRADE_SUFFIX, PaymentStatus, ProviderKind};
use shopcast_testkit::{CodeBehaviour, WechatGateway};

use crate::alipay_notify::{ALIPAY_PUBLIC_KEY, APP_ID, APP_PRIVATE_KEY, alipay_sign};
use crate::wechat::{cup_order, wechat_shop};
use crate::{count, order_of, product, shop_with};

/// WeChat Pay payment codes: 18 digits starting 10–15.
const CODE: &str = "134567890123456789";
const CODE_2: &str = "104567890123456780";

#[tokio::test]
async fn a_code_paid_on_the_spot_is_recorded_once() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    let cup = product(&shop, "青花瓷杯", "88", Some(5)).await;
    let order = order_of(&shop, &[(cup, 1)]).await;
    // As the scanner types it: spaces and the Enter.
    let paid = shop
        .charge_payment_code(order.id, &format!(" {} \n", &CODE))
        .await
        .unwrap();
    assert_eq!(paid.provider, ProviderKind::Wechat);
    assert!(!paid.waiting);
    assert!(
        paid.charge.charge_ref.ends_with(CODE_TRADE_SUFFIX),
        "{}",
        paid.charge.charge_ref
    );
    assert!(paid.charge.qr_svg.is_empty());
    let payment = paid.payment.unwrap();
    assert_eq!(payment.status, PaymentStatus::Paid);
    assert_eq!(payment.amount.amount_minor, 8_800);
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Paid
    );
    let trade = gateway.trade(&paid.charge.charge_ref).unwrap();
    assert_eq!(
        (trade.trade_type.as_str(), trade.state.as_str()),
        ("MICROPAY", "SUCCESS")
    );
    assert_eq!(trade.auth_code.as_deref(), Some(CODE));
    // Recorded under the id a poll or a notification of the same trade gives it, so
    // neither can record it twice.
    assert_eq!(
        event_ids(&shop).await,
        [shopcast_payments::wechat::wire::state_event_id(
            &paid.charge.charge_ref,
            "SUCCESS"
        )]
    );
    assert!(shop.poll_saved_providers_once().await.unwrap().is_empty());
    assert_eq!(count(&shop, "payments").await, 1);
    assert_eq!(count(&shop, "payment_events").await, 1);
    assert_code_not_kept(&shop, CODE).await;
}

/// The ids of every payment event recorded.
async fn event_ids(shop: &shopcast_core::Shop) -> Vec<String> {
    sqlx::query_scalar("SELECT event_id FROM payment_events ORDER BY id")
        .fetch_all(shop.pool())
        .await
        .unwrap()
}

/// The customer's payment code is nowhere in the shop file: not in a charge, not in a
/// provider reply kept with a charge or an event, not in the file's bytes.
async fn assert_code_not_kept(shop: &shopcast_core::Shop, code: &str) {
    for query in [
        "SELECT count(*) FROM charges WHERE qr_payload LIKE '%' || $1 || '%' OR raw LIKE '%' || $2 || '%'",
        "SELECT count(*) FROM payment_events WHERE raw LIKE '%' || $1 || '%' OR event_id LIKE '%' || $2 || '%'",
    ] {
        let stored: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(query))
            .bind(code)
            .bind(code)
            .fetch_one(shop.pool())
            .await
            .unwrap();
        assert_eq!(stored, 0, "{query}");
    }
    let (bytes, database) = crate::stored_bytes(shop).await;
    assert!(bytes.len() > 1024, "{database}");
    assert!(
        !bytes.windows(code.len()).any(|w| w == code.as_bytes()),
        "the payment code is in {database}"
    );
}

#[tokio::test]
async fn a_code_the_customer_confirms_later_is_paid_on_a_later_poll() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    gateway.set_code(
        CODE,
        CodeBehaviour::UserPaying {
            confirm_after_queries: 0,
        },
    );
    let order = cup_order(&shop).await;
    let mut updates = shop.payment_updates();
    let waiting = shop.charge_payment_code(order.id, CODE).await.unwrap();
    assert!(waiting.waiting);
    assert!(waiting.payment.is_none());
    assert_eq!(waiting.charge.order.status, OrderStatus::AwaitingPayment);
    // Still entering the password: nothing yet.
    assert!(shop.poll_saved_providers_once().await.unwrap().is_empty());
    gateway.pay(&waiting.charge.charge_ref);
    let changed = shop.poll_saved_providers_once().await.unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].status, PaymentStatus::Paid);
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Paid
    );
    // The window hears of it.
    let mut heard_paid = false;
    while let Ok(update) = updates.try_recv() {
        if let PaymentUpdate::Payment { payment } = update {
            heard_paid |=
                payment.status == PaymentStatus::Paid && payment.order_id == Some(order.id);
        }
    }
    assert!(heard_paid);
}

#[tokio::test]
async fn a_code_never_confirmed_is_reversed_after_the_wait_and_the_order_expires() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    shop.payments().set_code_wait(Duration::from_millis(300));
    gateway.set_code(CODE, CodeBehaviour::NeverConfirms);
    let cup = product(&shop, "青花瓷杯", "88", Some(3)).await;
    let order = order_of(&shop, &[(cup, 1)]).await;
    let waiting = shop.charge_payment_code(order.id, CODE).await.unwrap();
    assert!(waiting.waiting);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        shop.poll_saved_providers_once()
            .await
            .unwrap()
            .iter()
            .all(|p| p.status != PaymentStatus::Paid)
    );
    let trade = gateway.trade(&waiting.charge.charge_ref).unwrap();
    assert!(trade.reversed, "{trade:?}");
    assert!(
        !trade.closed,
        "a payment code is reversed, not closed: {trade:?}"
    );
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Expired
    );
    let paid = shop
        .list_payments(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.status == PaymentStatus::Paid)
        .count();
    assert_eq!(paid, 0);
    // No goods left the shelf.
    assert_eq!(shop.product(cup).await.unwrap().stock, Some(3));
}

#[tokio::test]
async fn a_declined_code_leaves_the_order_open_and_scanning_again_works() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    gateway.set_code(
        CODE,
        CodeBehaviour::Declined {
            code: "NOTENOUGH".into(),
            message: "用户余额不足".into(),
        },
    );
    let order = cup_order(&shop).await;
    let error = shop.charge_payment_code(order.id, CODE).await.unwrap_err();
    assert_eq!(
        error.code(),
        ErrorCode::from_leaf("provider_rejected"),
        "{error}"
    );
    let text = error.to_string();
    assert!(text.contains("用户余额不足"), "{text}");
    assert!(text.contains("WeChat Pay declined"), "{text}");
    assert!(text.contains("Nothing was charged"), "{text}");
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Open
    );
    assert_eq!(count(&shop, "payments").await, 0);
    // The customer refreshes the code; the cashier scans again.
    let paid = shop.charge_payment_code(order.id, CODE_2).await.unwrap();
    assert!(paid.payment.is_some(), "{paid:?}");
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Paid
    );
}

#[tokio::test]
async fn a_code_of_nobody_or_of_an_unconnected_provider_gets_a_sentence() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    let order = cup_order(&shop).await;
    for typed in ["", "ABC123", "990000000000000000", "1345678901"] {
        let error = shop.charge_payment_code(order.id, typed).await.unwrap_err();
        assert!(
            matches!(
                error,
                CoreError::Validation {
                    field: "authCode",
                    ..
                }
            ),
            "{typed:?}: {error}"
        );
    }
    // An Alipay code, and Alipay is not connected here.
    let error = shop
        .charge_payment_code(order.id, "281234567890123456")
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            CoreError::Validation {
                field: "authCode",
                ..
            }
        ),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.contains("This is an Alipay payment code, but Alipay is not connected"),
        "{text}"
    );
    assert!(text.contains("Settings → Payments"), "{text}");
    // Nothing reached WeChat Pay, and the order is untouched.
    assert!(
        !gateway
            .requests()
            .iter()
            .any(|r| r.path.contains("codepay"))
    );
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Open
    );
}

fn sale(method: SaleMethod, items: &[(&str, u32)]) -> SaleRequest {
    SaleRequest {
        items: items
            .iter()
            .map(|(sku, quantity)| SaleItem {
                sku: (*sku).into(),
                quantity: *quantity,
            })
            .collect(),
        amount: None,
        currency: None,
        method,
        till: Some("  收银台 2 ".into()),
        discount: None,
        discount_reason: None,
        auth_code: None,
    }
}

async fn product_with_sku(shop: &shopcast_core::Shop, sku: &str, price: &str) -> i64 {
    shop.create_product(&ProductDraft {
        name: format!("Product {sku}"),
        price: price.into(),
        sku: Some(sku.into()),
        ..Default::default()
    })
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn sell_takes_skus_and_a_till_with_cash_test_mode_and_a_payment_code() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    product_with_sku(&shop, "A", "12.50").await;
    product_with_sku(&shop, "B", "3").await;

    let cash = shop
        .sell(&sale(SaleMethod::Cash, &[("A", 2), ("B", 1)]))
        .await
        .unwrap();
    assert_eq!(cash.order.status, OrderStatus::Paid);
    assert_eq!(cash.order.total.amount_minor, 2_800);
    assert_eq!(cash.order.till.as_deref(), Some("收银台 2"));
    assert_eq!(cash.payment.unwrap().method.as_deref(), Some("cash"));
    assert!(!cash.waiting);

    // Test mode starts in this process so its checkout can take the QR.
    let test = shop
        .sell(&sale(SaleMethod::Test, &[("A", 2)]))
        .await
        .unwrap();
    assert!(test.waiting);
    assert_eq!(test.order.status, OrderStatus::AwaitingPayment);
    assert!(
        test.qr_payload
            .as_deref()
            .unwrap()
            .starts_with("http://127.0.0.1")
    );
    assert!(shop.payments().connected().contains(&ProviderKind::Test));
    // Nobody pays it: waiting gives up, withdraws it and the order expires.
    let ended = shop
        .wait_for_payment(test.order.id, Duration::from_millis(1_500))
        .await
        .unwrap();
    assert_eq!(ended.status, OrderStatus::Expired);

    let mut code = sale(SaleMethod::WechatCode, &[("A", 2)]);
    code.auth_code = Some(CODE.into());
    let paid = shop.sell(&code).await.unwrap();
    assert_eq!(paid.order.status, OrderStatus::Paid);
    assert_eq!(paid.order.till.as_deref(), Some("收银台 2"));
    assert_eq!(paid.payment.unwrap().amount.amount_minor, 2_500);
    assert!(!paid.waiting);
    let order = shop
        .wait_for_payment(paid.order.id, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(order.status, OrderStatus::Paid);
}

/// A cash sale stores its order, payment and stock in one transaction that reads nothing
/// back: what it takes must still be exactly what the lines say.
#[tokio::test]
async fn a_cash_sale_takes_counted_stock_once_and_leaves_uncounted_alone() {
    let (shop, _dir) = shop_with("CNY").await;
    let stocked = |sku: &str, stock: Option<i64>| ProductDraft {
        name: format!("茶 {sku}"),
        price: "10".into(),
        sku: Some(sku.into()),
        stock,
        ..Default::default()
    };
    let a = shop
        .create_product(&stocked("A", Some(5)))
        .await
        .unwrap()
        .id;
    let b = shop.create_product(&stocked("B", None)).await.unwrap().id;
    let c = shop
        .create_product(&stocked("C", Some(1)))
        .await
        .unwrap()
        .id;

    // A on two lines counts as three.
    let sold = shop
        .sell(&sale(SaleMethod::Cash, &[("A", 2), ("B", 4), ("A", 1)]))
        .await
        .unwrap();
    assert_eq!(sold.order.status, OrderStatus::Paid);
    let payment = sold.payment.unwrap();
    assert_eq!(payment.status, PaymentStatus::Paid);
    assert_eq!(payment.amount.amount_minor, 7_000);
    assert_eq!(
        payment.order_ref.as_deref(),
        Some(sold.order.order_ref.as_str())
    );
    assert_eq!(shop.product(a).await.unwrap().stock, Some(2));
    assert_eq!(shop.product(b).await.unwrap().stock, None, "not counted");
    let stored = shop.order(sold.order.id).await.unwrap();
    assert_eq!(stored.status, "paid");

    // The last C goes once; the next sale of it is refused and stores nothing.
    shop.sell(&sale(SaleMethod::Cash, &[("C", 1)]))
        .await
        .unwrap();
    assert_eq!(shop.product(c).await.unwrap().stock, Some(0));
    let error = shop
        .sell(&sale(SaleMethod::Cash, &[("B", 1), ("C", 1)]))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::SoldOut, "{error}");
    assert_eq!(count(&shop, "orders").await, 2);
    assert_eq!(count(&shop, "payments").await, 2);
    assert_eq!(count(&shop, "payment_events").await, 2);
    assert_eq!(shop.product(a).await.unwrap().stock, Some(2));

    // Marking the paid order again changes nothing.
    assert!(
        shop.mark_paid_manually(sold.order.id, "cash")
            .await
            .is_err()
    );
    assert_eq!(count(&shop, "payments").await, 2);
    assert_eq!(shop.product(a).await.unwrap().stock, Some(2));
}

#[tokio::test]
async fn sell_refuses_before_making_an_order() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    product_with_sku(&shop, "A", "12.50").await;
    let orders = || count(&shop, "orders");

    let error = shop
        .sell(&sale(SaleMethod::Cash, &[("A", 1), ("NOPE", 1)]))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::NotFound, "{error}");
    assert!(error.to_string().contains("NOPE"), "{error}");

    let mut wrong = sale(SaleMethod::AlipayCode, &[("A", 1)]);
    wrong.auth_code = Some(CODE.into());
    let error = shop.sell(&wrong).await.unwrap_err();
    assert!(
        matches!(
            error,
            CoreError::Validation {
                field: "authCode",
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains(
            "This is a WeChat Pay payment code, not Alipay's: choose --method wechat-code"
        ),
        "{error}"
    );

    let missing = sale(SaleMethod::WechatCode, &[("A", 1)]);
    let error = shop.sell(&missing).await.unwrap_err();
    assert!(
        matches!(
            error,
            CoreError::Validation {
                field: "authCode",
                ..
            }
        ),
        "{error}"
    );

    let mut long_till = sale(SaleMethod::Cash, &[("A", 1)]);
    long_till.till = Some("T".repeat(65));
    let error = shop.sell(&long_till).await.unwrap_err();
    assert!(
        matches!(error, CoreError::Validation { field: "till", .. }),
        "{error}"
    );

    // Stripe is not set up here.
    let error = shop
        .sell(&sale(SaleMethod::Stripe, &[("A", 1)]))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("Stripe is not set up"),
        "{error}"
    );

    assert_eq!(orders().await, 0);
    assert!(SaleMethod::parse("wechat-code").is_ok());
    assert!(SaleMethod::parse("bitcoin").is_err());
}

#[tokio::test]
async fn a_sale_without_wechat_pay_says_where_to_connect_it() {
    let (shop, _dir) = shop_with("CNY").await;
    product_with_sku(&shop, "A", "12.50").await;
    let mut code = sale(SaleMethod::WechatCode, &[("A", 1)]);
    code.auth_code = Some(CODE.into());
    let error = shop.sell(&code).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("WeChat Pay is not set up"), "{text}");
    assert!(text.contains("shopcast providers add wechat"), "{text}");
    assert_eq!(count(&shop, "orders").await, 0);
}

/// Alipay payment codes: 16–24 digits starting 25–30.
const ALIPAY_CODE: &str = "287654321098765432";
const ALIPAY_SLOW_CODE: &str = "287654321098765433";

/// What the Alipay stub was asked: (method, out_trade_no) in order.
type Calls = Arc<Mutex<Vec<(String, String)>>>;

/// An Alipay gateway in its documented signed reply shape, for payment codes: `trade.pay`
/// with [`ALIPAY_CODE`] is paid at once (10000), any other code waits for the customer
/// (10003); `trade.query` says TRADE_SUCCESS for paid trades and WAIT_BUYER_PAY for the rest;
/// `trade.cancel` closes.
async fn alipay_code_gateway() -> (String, Calls) {
    async fn answer(
        State(calls): State<Calls>,
        RawQuery(query): RawQuery,
        Form(form): Form<HashMap<String, String>>,
    ) -> String {
        // Protocol parameters come in the query string, the business content in the body.
        let method = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .find(|(name, _)| name == "method")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default();
        let biz: serde_json::Value =
            serde_json::from_str(form.get("biz_content").map_or("{}", String::as_str)).unwrap();
        let out_trade_no = biz["out_trade_no"].as_str().unwrap_or_default().to_string();
        let paid_at_once = |calls: &[(String, String)]| {
            calls
                .iter()
                .any(|(m, no)| m == "alipay.trade.pay:paid" && no == &out_trade_no)
        };
        let mut calls = calls.lock().unwrap();
        let object = match method.as_str() {
            "alipay.trade.pay" if biz["auth_code"] == ALIPAY_CODE => {
                calls.push(("alipay.trade.pay:paid".into(), out_trade_no.clone()));
                serde_json::json!({
                    "code": "10000", "msg": "Success", "out_trade_no": out_trade_no,
                    "trade_no": "2026120222001400001", "total_amount": "88.00",
                    "gmt_payment": "2026-12-02 13:01:02", "buyer_logon_id": "159****5620",
                })
            }
            "alipay.trade.pay" => serde_json::json!({
                "code": "10003", "msg": "order success pay inprocess",
                "out_trade_no": out_trade_no, "trade_no": "2026120222001400002",
                "total_amount": "88.00",
            }),
            "alipay.trade.query" if paid_at_once(&calls) => serde_json::json!({
                "code": "10000", "msg": "Success", "out_trade_no": out_trade_no,
                "trade_no": "2026120222001400001", "trade_status": "TRADE_SUCCESS",
                "total_amount": "88.00", "send_pay_date": "2026-12-02 13:01:02",
            }),
            "alipay.trade.query" => serde_json::json!({
                "code": "10000", "msg": "Success", "out_trade_no": out_trade_no,
                "trade_no": "2026120222001400002", "trade_status": "WAIT_BUYER_PAY",
                "total_amount": "88.00",
            }),
            "alipay.trade.cancel" => serde_json::json!({
                "code": "10000", "msg": "Success", "out_trade_no": out_trade_no,
                "trade_no": "2026120222001400002", "retry_flag": "N", "action": "close",
            }),
            other => panic!("the stub does not answer {other}"),
        };
        calls.push((method.clone(), out_trade_no));
        let content = object.to_string();
        let key = format!("{}_response", method.replace('.', "_"));
        format!(
            r#"{{"{key}":{content},"sign":"{}"}}"#,
            alipay_sign(&content)
        )
    }
    let calls = Calls::default();
    let app = Router::new()
        .route("/gateway.do", post(answer))
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/gateway.do", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

async fn alipay_code_shop(gateway: &str) -> (shopcast_core::Shop, tempfile::TempDir) {
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let (shop, dir) = shop_with("CNY").await;
    // The watcher looks once, then leaves the polling to the test.
    shop.payments().set_poll_interval(Duration::from_secs(600));
    shop.connect_alipay(APP_ID, gateway, APP_PRIVATE_KEY, ALIPAY_PUBLIC_KEY)
        .await
        .unwrap();
    (shop, dir)
}

#[tokio::test]
async fn an_alipay_code_paid_on_the_spot_is_recorded_once() {
    let (url, calls) = alipay_code_gateway().await;
    let (shop, _dir) = alipay_code_shop(&url).await;
    let order = cup_order(&shop).await;
    let paid = shop
        .charge_payment_code(order.id, ALIPAY_CODE)
        .await
        .unwrap();
    assert_eq!(paid.provider, ProviderKind::Alipay);
    assert!(paid.charge.charge_ref.ends_with(CODE_TRADE_SUFFIX));
    assert_eq!(paid.payment.unwrap().status, PaymentStatus::Paid);
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Paid
    );
    // Recorded under the id a query of the same trade gives it: a poll adds nothing.
    assert_eq!(
        event_ids(&shop).await,
        [shopcast_payments::alipay::state_event_id(
            &paid.charge.charge_ref,
            "TRADE_SUCCESS"
        )]
    );
    assert!(shop.poll_saved_providers_once().await.unwrap().is_empty());
    assert_eq!(count(&shop, "payments").await, 1);
    assert_eq!(count(&shop, "payment_events").await, 1);
    assert_code_not_kept(&shop, ALIPAY_CODE).await;
    assert!(
        calls
            .lock()
            .unwrap()
            .iter()
            .any(|(m, _)| m == "alipay.trade.pay")
    );
}

#[tokio::test]
async fn an_alipay_code_never_confirmed_is_cancelled_after_the_wait() {
    let (url, calls) = alipay_code_gateway().await;
    let (shop, _dir) = alipay_code_shop(&url).await;
    shop.payments().set_code_wait(Duration::from_millis(300));
    let order = cup_order(&shop).await;
    let waiting = shop
        .charge_payment_code(order.id, ALIPAY_SLOW_CODE)
        .await
        .unwrap();
    assert!(waiting.waiting);
    // Headless: waiting gives up after its limit (here the code's own wait runs out first).
    let ended = shop
        .wait_for_payment(order.id, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(ended.status, OrderStatus::Expired);
    let cancelled = calls
        .lock()
        .unwrap()
        .iter()
        .any(|(m, no)| m == "alipay.trade.cancel" && no == &waiting.charge.charge_ref);
    assert!(cancelled, "{:?}", calls.lock().unwrap());
    assert!(
        shop.list_payments(&Default::default())
            .await
            .unwrap()
            .iter()
            .all(|p| p.status != PaymentStatus::Paid)
    );
}

#[tokio::test]
async fn waiting_headless_gives_up_at_its_limit_and_reverses_the_code() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    gateway.set_code(CODE, CodeBehaviour::NeverConfirms);
    let order = cup_order(&shop).await;
    // The code itself would wait a minute; the command waits one second.
    let waiting = shop.charge_payment_code(order.id, CODE).await.unwrap();
    let started = std::time::Instant::now();
    let ended = shop
        .wait_for_payment(order.id, Duration::from_secs(1))
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(ended.status, OrderStatus::Expired);
    let trade = gateway.trade(&waiting.charge.charge_ref).unwrap();
    assert!(trade.reversed && !trade.closed, "{trade:?}");
    // Queried while waiting, once a second.
    assert!(trade.queries >= 1, "{trade:?}");
}

#[tokio::test]
async fn scanning_a_code_withdraws_the_qr_on_screen_first() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    let order = cup_order(&shop).await;
    let qr = shop
        .charge_order(order.id, ProviderKind::Wechat)
        .await
        .unwrap();
    // The customer would rather show their code.
    let paid = shop.charge_payment_code(order.id, CODE).await.unwrap();
    assert!(paid.payment.is_some());
    let shown = gateway.trade(&qr.charge_ref).unwrap();
    assert!(shown.closed && !shown.reversed, "a QR is closed: {shown:?}");
    assert_ne!(paid.charge.charge_ref, qr.charge_ref);
    let open: i64 = sqlx::query_scalar("SELECT count(*) FROM charges WHERE status = 'open'")
        .fetch_one(shop.pool())
        .await
        .unwrap();
    assert_eq!(open, 0);
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Paid
    );
}

/// Makes every new charge fail to be stored, as a full disk would.
async fn refuse_new_charges(shop: &shopcast_core::Shop) {
    crate::refuse_writes(shop, "charges", "INSERT", "database or disk is full").await;
}

#[tokio::test]
async fn a_code_the_shop_cannot_record_is_reversed_at_once_and_its_sale_cancelled() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    gateway.set_code(CODE, CodeBehaviour::NeverConfirms);
    product_with_sku(&shop, "A", "12.50").await;
    refuse_new_charges(&shop).await;
    let mut code = sale(SaleMethod::WechatCode, &[("A", 1)]);
    code.auth_code = Some(CODE.into());
    let error = shop.sell(&code).await.unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, CoreError::Conflict { field: "order", .. }),
        "{error:?}"
    );
    assert!(text.contains("database or disk is full"), "{text}");
    assert!(
        text.contains("was withdrawn at WeChat Pay, so nothing is charged"),
        "{text}"
    );
    // The trade was reversed at once (tried to store twice, then withdrawn).
    let trade = gateway
        .trade(&code_trade_no(&gateway))
        .expect("the code was charged");
    assert_eq!(trade.state, "REVOKED");
    // Nothing could be paid, so the sale is cancelled rather than left open.
    let status: String = sqlx::query_scalar("SELECT status FROM orders ORDER BY id DESC LIMIT 1")
        .fetch_one(shop.pool())
        .await
        .unwrap();
    assert_eq!(status, "cancelled");
}

#[tokio::test]
async fn a_paid_code_the_shop_cannot_record_says_it_is_live_and_keeps_its_order() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    product_with_sku(&shop, "A", "12.50").await;
    refuse_new_charges(&shop).await;
    let mut code = sale(SaleMethod::WechatCode, &[("A", 1)]);
    code.auth_code = Some(CODE.into());
    let error = shop.sell(&code).await.unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(
            error,
            CoreError::Conflict {
                field: "charge",
                ..
            }
        ),
        "{error:?}"
    );
    let order_ref = order_ref_of_last(&shop).await;
    assert!(
        text.contains(&format!("the charge for {order_ref}")) && text.contains("may still be live"),
        "{text}"
    );
    // The customer paid: the order is not cancelled behind the payment's back.
    let trade = gateway.trade(&code_trade_no(&gateway)).unwrap();
    assert_eq!(trade.state, "SUCCESS");
    let status: String = sqlx::query_scalar("SELECT status FROM orders WHERE ref = $1")
        .bind(&order_ref)
        .fetch_one(shop.pool())
        .await
        .unwrap();
    assert_eq!(status, "open");
}

#[tokio::test]
async fn a_sale_cancelled_while_its_code_is_sent_is_reversed_not_left_chargeable() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    gateway.set_code(CODE, CodeBehaviour::NeverConfirms);
    let order = cup_order(&shop).await;
    gateway.fail_next(shopcast_testkit::Fault::Slow { millis: 600 }, 1);
    let (charged, cancelled) = tokio::join!(shop.charge_payment_code(order.id, CODE), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        shop.cancel_order(order.id).await
    });
    assert_eq!(cancelled.unwrap().status, OrderStatus::Cancelled);
    let error = charged.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("closed while it was being charged"), "{text}");
    assert!(text.contains("withdrawn at WeChat Pay"), "{text}");
    let trade = gateway.trade(&code_trade_no(&gateway)).unwrap();
    assert_eq!(trade.state, "REVOKED");
    assert_eq!(count(&shop, "charges").await, 0);
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Cancelled
    );
}

/// The trade number of the (one) payment code sent to the gateway.
fn code_trade_no(gateway: &WechatGateway) -> String {
    let sent = gateway
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/codepay"))
        .expect("a codepay request");
    let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
    body["out_trade_no"].as_str().unwrap().to_string()
}

async fn order_ref_of_last(shop: &shopcast_core::Shop) -> String {
    sqlx::query_scalar("SELECT ref FROM orders ORDER BY id DESC LIMIT 1")
        .fetch_one(shop.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_qr_replaced_by_a_declined_code_leaves_the_order_open_to_charge_again() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    gateway.set_code(
        CODE,
        CodeBehaviour::Declined {
            code: "NOTENOUGH".into(),
            message: "用户余额不足".into(),
        },
    );
    let order = cup_order(&shop).await;
    let qr = shop
        .charge_order(order.id, ProviderKind::Wechat)
        .await
        .unwrap();
    assert_eq!(qr.order.status, OrderStatus::AwaitingPayment);
    shop.charge_payment_code(order.id, CODE).await.unwrap_err();
    assert!(gateway.trade(&qr.charge_ref).unwrap().closed);
    // Nothing can be paid any more: the order is open, not awaiting a payment forever.
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Open
    );
    let paid = shop.charge_payment_code(order.id, CODE_2).await.unwrap();
    assert!(paid.payment.is_some(), "{paid:?}");
}

#[tokio::test]
async fn a_qr_whose_provider_is_not_connected_stays_watched_and_no_code_is_charged() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    let order = cup_order(&shop).await;
    shop.payments()
        .start_test_mode("127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let qr = shop
        .charge_order(order.id, ProviderKind::Test)
        .await
        .unwrap();
    shop.payments().disconnect(ProviderKind::Test);
    let before = gateway.requests().len();
    let error = shop.charge_payment_code(order.id, CODE).await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("not connected here, so it cannot be withdrawn"),
        "{text}"
    );
    assert!(
        gateway.requests()[before..]
            .iter()
            .all(|r| !r.path.ends_with("/codepay")),
        "a code was charged while the QR could still be paid"
    );
    let status: String = sqlx::query_scalar("SELECT status FROM charges WHERE charge_ref = $1")
        .bind(&qr.charge_ref)
        .fetch_one(shop.pool())
        .await
        .unwrap();
    assert_eq!(status, "open");
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::AwaitingPayment
    );
}

/// A till selling in a burst reads the settings once a second, not once a sale: a change
/// saved through the same shop prices the next sale, one saved on another computer (another
/// `Shop` on the same database) the sales from a second later.
#[tokio::test]
async fn a_sale_prices_with_settings_saved_here_at_once_and_elsewhere_within_a_second() {
    let (shop, dir) = shop_with("CNY").await;
    shop.add_tax_rate("增值税 10 %", "10", true).await.unwrap();
    let a = product_with_sku(&shop, "A", "10").await;
    let total = |sale: shopcast_core::payments::sale::Sale| sale.order.total.amount_minor;
    let cash = || sale(SaleMethod::Cash, &[("A", 1)]);
    // The till screen's preview and its orders (QR sales) price by the same settings.
    let draft = shopcast_core::payments::till::OrderDraft {
        lines: vec![shopcast_core::payments::till::OrderLineDraft {
            product_id: a,
            quantity: 1,
            ..Default::default()
        }],
        ..Default::default()
    };
    let previewed = || async { shop.preview_order(&draft).await.unwrap().total.amount_minor };
    assert_eq!(total(shop.sell(&cash()).await.unwrap()), 1_000);
    assert_eq!(previewed().await, 1_000);

    shop.set_setting("shop.prices_include_tax", "false")
        .await
        .unwrap();
    assert_eq!(
        total(shop.sell(&cash()).await.unwrap()),
        1_100,
        "saved here: the next sale adds the tax"
    );
    assert_eq!(previewed().await, 1_100);

    let other = shopcast_core::Shop::open_with(dir.path(), shop.database().clone())
        .await
        .unwrap();
    other
        .set_setting("shop.prices_include_tax", "true")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        total(shop.sell(&cash()).await.unwrap()),
        1_000,
        "saved on another computer: a second later the tax is in the price again"
    );
    assert_eq!(previewed().await, 1_000);
    assert_eq!(
        shop.create_order(&draft).await.unwrap().total.amount_minor,
        1_000
    );
    other.close().await;
}

/// A cash sale is not read back after it is stored (on a server each read is a round trip):
/// what `sell` returns is what the shop then reads, whichever way it was written (one
/// statement when nothing is counted on PostgreSQL, a transaction otherwise), for a typed
/// amount, products with discounts and Chinese names, and a counted product.
#[tokio::test]
async fn a_cash_sale_returns_exactly_what_was_stored() {
    let (shop, _dir) = shop_with("CNY").await;
    shop.add_tax_rate("增值税 13 %", "13", true).await.unwrap();
    product_with_sku(&shop, "茶-1", "38.80").await;
    let cup = shop
        .create_product(&ProductDraft {
            name: "青花瓷杯 Blue cup".into(),
            price: "99".into(),
            sku: Some("CUP".into()),
            stock: Some(5),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut typed = sale(SaleMethod::Cash, &[]);
    typed.amount = Some("¥12.30".into());
    let mut discounted = sale(SaleMethod::Cash, &[("茶-1", 3)]);
    discounted.discount = Some("10%".into());
    discounted.discount_reason = Some("老顾客 regular".into());
    let counted = sale(SaleMethod::Cash, &[("茶-1", 1), ("CUP", 2)]);

    for request in [typed, discounted, counted] {
        let sold = shop.sell(&request).await.unwrap();
        assert_eq!(sold.order.status, OrderStatus::Paid);
        assert_eq!(
            shop.order(sold.order.id).await.unwrap(),
            sold.order,
            "{request:?}"
        );
        let payment = sold.payment.expect("paid on the spot");
        assert_eq!(
            shop.payment(payment.id).await.unwrap(),
            payment,
            "{request:?}"
        );
        assert_eq!(payment.order_id, Some(sold.order.id));
        assert_eq!(payment.amount, sold.order.total);
    }
    let cup = shop.product(cup.id).await.unwrap();
    assert_eq!(cup.stock, Some(3), "the counted cups left the shelf once");
    assert_eq!(count(&shop, "payments").await, 3);
    assert_eq!(count(&shop, "payment_events").await, 3);
}
