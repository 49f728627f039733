//! The till's "Scan customer's code" and `Shop::sell` against the local WeChat Pay gateway:
//! paid on the spot (recorded once), confirmed on the phone later, never confirmed (reversed,
//! order expired), declined (order open, scan again), codes of nobody or of a provider that
//! is not connected; whole sales by SKU with cash, test mode and a payment code.

use std::time::Duration;

use shopcast_core::payments::PaymentUpdate;
use shopcast_core::payments::sale::{SaleItem, SaleMethod, SaleRequest};
use shopcast_core::payments::till::OrderStatus;
use shopcast_core::{CoreError, ErrorCode, ProductDraft};
use shopcast_payments::{CODE_TRADE_SUFFIX, PaymentStatus, ProviderKind};
use shopcast_testkit::{CodeBehaviour, WechatGateway};

use crate::wechat::wechat_shop;
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
    // The charge is settled: a poll asks nothing and adds nothing.
    assert!(shop.poll_saved_providers_once().await.unwrap().is_empty());
    assert_eq!(count(&shop, "payments").await, 1);
    assert_eq!(count(&shop, "payment_events").await, 1);
    // The customer's code is not kept in the shop file.
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM charges WHERE qr_payload LIKE '%' || ? || '%'")
            .bind(CODE)
            .fetch_one(shop.pool())
            .await
            .unwrap();
    assert_eq!(stored, 0);
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
    let cup = product(&shop, "青花瓷杯", "88", None).await;
    let order = order_of(&shop, &[(cup, 1)]).await;
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
    let cup = product(&shop, "青花瓷杯", "88", None).await;
    let order = order_of(&shop, &[(cup, 1)]).await;
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
    let cup = product(&shop, "青花瓷杯", "88", None).await;
    let order = order_of(&shop, &[(cup, 1)]).await;
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
    assert!(text.contains("Alipay is not connected"), "{text}");
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
    assert!(error.to_string().contains("wechat-code"), "{error}");

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
