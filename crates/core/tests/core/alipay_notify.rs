//! Alipay's asynchronous notifications through `Shop::record_alipay_notify`: a notify for a
//! real web charge records its payment once (retries, and a poll of the same trade, add
//! nothing); one for another app, another amount or trade, or badly signed, stores nothing.
//!
//! The keys in `fixtures/` are test-only RSA pairs made with `openssl genpkey` for these
//! tests. The gateway here answers `alipay.trade.query` in Alipay's documented reply shape,
//! signed with the test "Alipay" key (the payments crate's tests check the wire in depth).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, State};
use axum::routing::post;
use shopcast_core::payments::PaymentUpdate;
use shopcast_core::payments::till::{self, Order};
use shopcast_core::{CoreError, Shop};
use shopcast_payments::alipay::sign::{AppPrivateKey, notification_sign_string, sign_bytes};
use shopcast_payments::alipay::{AlipayConfig, AlipayProvider, Gateway};
use shopcast_payments::{
    Charge, ChargeRequest, PaymentProvider, PaymentStatus, ProviderKind, WebCheckout,
};

use crate::{count, order_of, product, shop_with};

pub const APP_ID: &str = "2021000149600001";
pub const APP_PRIVATE_KEY: &str = include_str!("fixtures/alipay-test-app-private.pem");
const ALIPAY_PRIVATE_KEY: &str = include_str!("fixtures/alipay-test-alipay-private.pem");
pub const ALIPAY_PUBLIC_KEY: &str = include_str!("fixtures/alipay-test-alipay-public.pem");

/// Trades the gateway reports paid (¥88.00): out_trade_no → Alipay's trade_no.
type Paid = Arc<Mutex<HashMap<String, String>>>;

pub fn alipay_sign(content: &str) -> String {
    sign_bytes(
        content.as_bytes(),
        &AppPrivateKey::parse(ALIPAY_PRIVATE_KEY).unwrap(),
    )
    .unwrap()
}

/// `alipay.trade.query` answered in Alipay's signed reply shape: TRADE_SUCCESS for the paid
/// trades, ACQ.TRADE_NOT_EXIST for the rest (a payment page nobody opened).
async fn gateway() -> (String, Paid) {
    async fn answer(State(paid): State<Paid>, Form(form): Form<HashMap<String, String>>) -> String {
        let biz: serde_json::Value =
            serde_json::from_str(form.get("biz_content").map_or("{}", String::as_str)).unwrap();
        let out_trade_no = biz["out_trade_no"].as_str().unwrap_or_default().to_string();
        let object = match paid.lock().unwrap().get(&out_trade_no) {
            Some(trade_no) => serde_json::json!({
                "code": "10000", "msg": "Success", "out_trade_no": out_trade_no,
                "trade_no": trade_no, "trade_status": "TRADE_SUCCESS", "total_amount": "88.00",
                "send_pay_date": "2026-05-01 20:01:02",
            }),
            None => serde_json::json!({
                "code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST",
                "sub_msg": "交易不存在", "out_trade_no": out_trade_no,
            }),
        };
        let content = object.to_string();
        format!(
            r#"{{"alipay_trade_query_response":{content},"sign":"{}"}}"#,
            alipay_sign(&content)
        )
    }
    let paid = Paid::default();
    let app = Router::new()
        .route("/gateway.do", post(answer))
        .with_state(paid.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/gateway.do", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, paid)
}

/// A CNY shop with Alipay set up against `gateway` (not watched: the tests poll by hand).
async fn alipay_shop(gateway: &str) -> (Shop, tempfile::TempDir) {
    // Keys go to the 0600 file here, never to the keychain of whoever runs the tests.
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let (shop, dir) = shop_with("CNY").await;
    shop.connect_alipay(APP_ID, gateway, APP_PRIVATE_KEY, ALIPAY_PUBLIC_KEY)
        .await
        .unwrap();
    shop.payments().disconnect(ProviderKind::Alipay);
    (shop, dir)
}

fn provider(gateway: &str) -> AlipayProvider {
    AlipayProvider::new(AlipayConfig {
        gateway: Gateway::Custom(gateway.parse().unwrap()),
        app_id: APP_ID.into(),
        app_private_key: APP_PRIVATE_KEY.into(),
        alipay_public_key: ALIPAY_PUBLIC_KEY.into(),
        notify_url: None,
    })
    .unwrap()
}

/// An order for a ¥88 cup with an Alipay phone payment page, recorded as the shop records
/// a charge; the charge (its out_trade_no is what Alipay notifies about).
async fn web_order(shop: &Shop, gateway: &str) -> (Order, Charge) {
    let cup = product(shop, "青花瓷杯", "88", Some(5)).await;
    let order = order_of(shop, &[(cup, 1)]).await;
    let charge = provider(gateway)
        .create_charge(&ChargeRequest {
            order_ref: order.order_ref.clone(),
            amount_minor: order.total.amount_minor,
            currency: order.total.currency.clone(),
            subject: "青花瓷杯".into(),
            lines: Vec::new(),
            expires_at: jiff::Timestamp::now() + jiff::SignedDuration::from_mins(15),
            source_tag: None,
            web: Some(WebCheckout {
                return_url: "https://shop.example.com/r/receipt".into(),
                notify_url: Some("https://shop.example.com/hooks/alipay".into()),
                phone: true,
            }),
        })
        .await
        .unwrap();
    till::record_charge(
        shop.pool(),
        order.id,
        ProviderKind::Alipay,
        &order.total,
        &charge,
        None,
    )
    .await
    .unwrap();
    (order, charge)
}

/// The notification Alipay posts when `out_trade_no` is paid as `trade_no`, `change`
/// applied before signing (so it is genuinely signed), form-encoded.
fn notification(
    out_trade_no: &str,
    trade_no: &str,
    change: impl FnOnce(&mut Vec<(&str, String)>),
) -> Vec<u8> {
    let mut params: Vec<(&str, String)> = vec![
        ("notify_time", "2026-05-01 20:01:05".into()),
        ("notify_type", "trade_status_sync".into()),
        ("notify_id", "ac05099524730693a8b330c5ecf72da9786".into()),
        ("charset", "utf-8".into()),
        ("version", "1.0".into()),
        ("sign_type", "RSA2".into()),
        ("app_id", APP_ID.into()),
        ("trade_no", trade_no.into()),
        ("out_trade_no", out_trade_no.into()),
        ("trade_status", "TRADE_SUCCESS".into()),
        ("total_amount", "88.00".into()),
        ("subject", "青花瓷杯".into()),
        ("gmt_payment", "2026-05-01 20:01:02".into()),
    ];
    change(&mut params);
    let sign = alipay_sign(&notification_sign_string(
        params.iter().map(|(k, v)| (*k, v)),
    ));
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .append_pair("sign", &sign)
        .finish()
        .into_bytes()
}

fn set(params: &mut [(&str, String)], name: &str, value: &str) {
    params.iter_mut().find(|(k, _)| *k == name).unwrap().1 = value.into();
}

const TRADE_NO: &str = "2026050122001400000000000042";

#[tokio::test]
async fn a_notification_records_a_web_order_once_however_often_it_comes() {
    let (url, _) = gateway().await;
    let (shop, _dir) = alipay_shop(&url).await;
    let (order, charge) = web_order(&shop, &url).await;
    let mut updates = shop.payment_updates();
    let body = notification(&charge.charge_ref, TRADE_NO, |_| {});

    let outcome = shop.record_alipay_notify(&body).await.unwrap();
    assert_eq!((outcome.recorded, outcome.ignored), (1, 0));
    assert_eq!(shop.order(order.id).await.unwrap().status.as_str(), "paid");
    let payments = shop.list_payments(&Default::default()).await.unwrap();
    let [payment] = payments.as_slice() else {
        panic!("one payment, got {payments:?}");
    };
    assert_eq!(payment.provider, ProviderKind::Alipay);
    assert_eq!(payment.provider_ref, TRADE_NO);
    assert_eq!(payment.status, PaymentStatus::Paid);
    assert_eq!(payment.amount.amount_minor, 8800);
    assert_eq!(payment.order_ref.as_deref(), Some(order.order_ref.as_str()));
    assert_eq!(payment.mismatch, None);
    // The window hears of it at once.
    let update = tokio::time::timeout(std::time::Duration::from_secs(2), updates.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(update, PaymentUpdate::Payment { .. }),
        "{update:?}"
    );

    // Alipay retries until it reads `success`, and a replay is the same bytes: nothing new.
    for _ in 0..3 {
        let again = shop.record_alipay_notify(&body).await.unwrap();
        assert_eq!(again.recorded, 0);
    }
    assert_eq!(count(&shop, "payments").await, 1);
    assert_eq!(count(&shop, "payment_events").await, 1);
}

#[tokio::test]
async fn a_notification_and_a_poll_of_the_same_trade_record_one_payment() {
    let (url, paid) = gateway().await;
    let (shop, _dir) = alipay_shop(&url).await;

    // Notified first; then a poll that was already under way sees the same paid trade.
    let (first, charge) = web_order(&shop, &url).await;
    let open = shopcast_payments::OpenCharge {
        charge_ref: charge.charge_ref.clone(),
        order_ref: first.order_ref.clone(),
        amount_minor: 8800,
        currency: "CNY".into(),
        expires_at: charge.expires_at,
    };
    let outcome = shop
        .record_alipay_notify(&notification(
            &charge.charge_ref,
            "2026050122001400000000000001",
            |_| {},
        ))
        .await
        .unwrap();
    assert_eq!(outcome.recorded, 1);
    paid.lock().unwrap().insert(
        charge.charge_ref.clone(),
        "2026050122001400000000000001".into(),
    );
    let polled = provider(&url).poll(None, &[open]).await.unwrap();
    assert_eq!(polled.events.len(), 1);
    let report = shop
        .payments()
        .ingest(ProviderKind::Alipay, &polled.events, None)
        .await
        .unwrap();
    assert_eq!((report.new_events, report.changed.len()), (0, 0));
    assert_eq!(count(&shop, "payments").await, 1);
    assert_eq!(count(&shop, "payment_events").await, 1);
    assert_eq!(shop.order(first.id).await.unwrap().status.as_str(), "paid");

    // Polled first (the notification came late), then notified: the notify adds nothing.
    let (second, charge) = web_order(&shop, &url).await;
    // Nobody opened the payment page yet: the poll waits and records nothing.
    assert!(shop.poll_saved_providers_once().await.unwrap().is_empty());
    paid.lock().unwrap().insert(
        charge.charge_ref.clone(),
        "2026050122001400000000000002".into(),
    );
    let changed = shop.poll_saved_providers_once().await.unwrap();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(shop.order(second.id).await.unwrap().status.as_str(), "paid");
    let outcome = shop
        .record_alipay_notify(&notification(
            &charge.charge_ref,
            "2026050122001400000000000002",
            |_| {},
        ))
        .await
        .unwrap();
    assert_eq!(outcome.recorded, 0);
    assert_eq!(count(&shop, "payments").await, 2);
    assert_eq!(count(&shop, "payment_events").await, 2);
}

#[tokio::test]
async fn a_notification_for_another_app_amount_or_trade_is_refused_and_stores_nothing() {
    let (url, _) = gateway().await;
    let (shop, _dir) = alipay_shop(&url).await;
    let (order, charge) = web_order(&shop, &url).await;
    let trade = charge.charge_ref.as_str();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "another app",
            notification(trade, TRADE_NO, |p| set(p, "app_id", "2021000000000009")),
            "app 2021000000000009",
        ),
        (
            "a wrong amount",
            notification(trade, TRADE_NO, |p| set(p, "total_amount", "0.01")),
            "¥0.01",
        ),
        (
            "another trade",
            notification(trade, TRADE_NO, |p| {
                set(p, "out_trade_no", "O_SOMEONE_ELSE_W")
            }),
            "O_SOMEONE_ELSE_W",
        ),
        (
            "a changed amount",
            String::from_utf8(notification(trade, TRADE_NO, |_| {}))
                .unwrap()
                .replacen("total_amount=88.00", "total_amount=8.80", 1)
                .into_bytes(),
            "signature",
        ),
        (
            "RSA instead of RSA2",
            notification(trade, TRADE_NO, |p| set(p, "sign_type", "RSA")),
            "RSA2",
        ),
        (
            "a GBK body",
            notification(trade, TRADE_NO, |p| set(p, "charset", "GBK")),
            "UTF-8",
        ),
        ("garbage", b"%%%".to_vec(), "form body"),
    ];
    for (name, body, says) in cases {
        match shop.record_alipay_notify(&body).await {
            Err(CoreError::CallbackRefused { provider, message }) => {
                assert_eq!(provider, "alipay", "{name}");
                assert!(message.contains(says), "{name}: {message}");
                assert!(
                    message.contains("nothing was recorded"),
                    "{name}: {message}"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(count(&shop, "payments").await, 0);
    assert_eq!(count(&shop, "payment_events").await, 0);
    assert_eq!(
        shop.order(order.id).await.unwrap().status.as_str(),
        "awaiting_payment"
    );

    // A shop without Alipay set up cannot check anything.
    let (bare, _bare_dir) = shop_with("CNY").await;
    let refused = bare
        .record_alipay_notify(&notification(trade, TRADE_NO, |_| {}))
        .await
        .unwrap_err();
    assert_eq!(refused.code().as_str(), "callback_refused");
    assert!(refused.to_string().contains("not set up"), "{refused}");
}
