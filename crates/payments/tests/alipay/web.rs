//! Web payments against the gateway stub: the signed `wap.pay` / `page.pay` address the
//! buyer's browser opens, polling a trade that exists only once the page is opened, closing
//! (not cancelling) expired ones, and a notification and a poll naming the same event.

use jiff::Timestamp;
use shopcast_payments::alipay::notify;
use shopcast_payments::alipay::sign::AlipayPublicKey;
use shopcast_payments::alipay::wire;
use shopcast_payments::{
    ChargeRequest, PaymentProvider, PaymentStatus, ProviderError, WebCheckout,
};

use crate::keys::keys;
use crate::provider::{in_minutes, methods, open, provider, request};
use crate::stub::{Stub, notify_body};

const RETURN_URL: &str = "https://shop.example.com/r/3f9a?x=1&y=二";
const NOTIFY_URL: &str = "https://shop.example.com/hooks/alipay";

fn web_request(order_ref: &str, amount: i64, phone: bool, notify: bool) -> ChargeRequest {
    let mut request = request(order_ref, amount);
    request.web = Some(WebCheckout {
        return_url: RETURN_URL.to_string(),
        notify_url: notify.then(|| NOTIFY_URL.to_string()),
        phone,
    });
    request
}

/// The query of a gateway address, decoded.
fn query(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The buyer's browser opening the address.
async fn open_page(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_phone_payment_is_a_signed_wap_pay_address_and_waits_until_the_buyer_opens_it() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let request = web_request("O-77", 8800, true, true);
    let charge = alipay.create_charge(&request).await.unwrap();

    // Nothing is sent to Alipay to make it: the address is the charge.
    assert_eq!(stub.requests(), 0);
    assert!(
        wire::is_web_trade(&charge.charge_ref),
        "{}",
        charge.charge_ref
    );
    assert!(charge.charge_ref.starts_with("O_77_"));
    assert!(charge.qr_payload.starts_with(stub.url.as_str()));
    let pairs = query(&charge.qr_payload);
    assert_eq!(param(&pairs, "method"), Some(wire::WAP_PAY));
    assert_eq!(param(&pairs, "return_url"), Some(RETURN_URL));
    assert_eq!(param(&pairs, "notify_url"), Some(NOTIFY_URL));
    let biz: serde_json::Value =
        serde_json::from_str(param(&pairs, "biz_content").unwrap()).unwrap();
    assert_eq!(biz["product_code"], "QUICK_WAP_WAY");
    assert_eq!(biz["total_amount"], "88.00");
    assert_eq!(biz["out_trade_no"], charge.charge_ref.as_str());

    // Not opened yet: Alipay has no such trade, and that means "still waiting".
    let open = [open(&charge, &request)];
    assert!(alipay.poll(None, &open).await.unwrap().events.is_empty());
    assert_eq!(methods(&stub.calls()), ["query"]);

    let (status, page) = open_page(&charge.qr_payload).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("支付宝收银台"), "{page}");
    let trade = stub.trade(&charge.charge_ref);
    assert_eq!(trade.web_method.as_deref(), Some(wire::WAP_PAY));
    assert_eq!(trade.return_url.as_deref(), Some(RETURN_URL));
    assert_eq!(trade.notify_url.as_deref(), Some(NOTIFY_URL));
    assert_eq!(trade.total_minor, 8800);

    stub.scan(&charge.charge_ref);
    assert!(alipay.poll(None, &open).await.unwrap().events.is_empty());
    stub.pay(&charge.charge_ref, "2026-05-01 20:01:02");
    let outcome = alipay.poll(None, &open).await.unwrap();
    let [polled] = outcome.events.as_slice() else {
        panic!("one event, got {:?}", outcome.events);
    };
    assert_eq!(polled.status, PaymentStatus::Paid);
    assert_eq!(polled.provider_ref, trade.trade_no);

    // Alipay's notification of the same payment names the same event and payment, so the
    // ledger keeps one of the two.
    let body = notify_body(
        &stub.notification(&charge.charge_ref),
        &keys().alipay.private,
    );
    let alipay_key = AlipayPublicKey::parse(&keys().alipay.public_spki_base64()).unwrap();
    let notified = notify::verify(body.as_bytes(), &alipay_key).unwrap();
    let event = notified.event(Some("O-77")).unwrap();
    assert_eq!(event.event_id, polled.event_id);
    assert_eq!(event.provider_ref, polled.provider_ref);
    assert_eq!(event.charge_ref, polled.charge_ref);
    assert_eq!(event.amount_minor, polled.amount_minor);
    assert_eq!(event.status, PaymentStatus::Paid);
    assert_eq!(event.occurred_at, polled.occurred_at);
    assert_eq!(event.order_ref.as_deref(), Some("O-77"));
}

#[tokio::test]
async fn a_computer_payment_is_page_pay_and_leaves_out_a_missing_notify_address() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let request = web_request("O-78", 1250, false, false);
    let charge = alipay.create_charge(&request).await.unwrap();
    let pairs = query(&charge.qr_payload);
    assert_eq!(param(&pairs, "method"), Some(wire::PAGE_PAY));
    // The web checkout's notify address (none here) replaces the till's configured one.
    assert_eq!(param(&pairs, "notify_url"), None);
    let biz: serde_json::Value =
        serde_json::from_str(param(&pairs, "biz_content").unwrap()).unwrap();
    assert_eq!(biz["product_code"], "FAST_INSTANT_TRADE_PAY");
    let (status, page) = open_page(&charge.qr_payload).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        stub.trade(&charge.charge_ref).web_method.as_deref(),
        Some(wire::PAGE_PAY)
    );

    // The gateway checks the signature over exactly these bytes: one changed value fails.
    let tampered = charge.qr_payload.replacen("12.50", "1.25", 1);
    assert_ne!(tampered, charge.qr_payload);
    let (status, page) = open_page(&tampered).await;
    assert_eq!(status, 400);
    assert!(page.contains("isv.invalid-signature"), "{page}");
}

#[tokio::test]
async fn an_expired_web_payment_is_closed_not_cancelled() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);

    // Never opened: trade.query and trade.close both say it does not exist; expired.
    let mut never = web_request("O-79", 500, true, true);
    never.expires_at = Timestamp::now() - jiff::SignedDuration::from_secs(1);
    let charge = alipay.create_charge(&never).await.unwrap();
    let outcome = alipay.poll(None, &[open(&charge, &never)]).await.unwrap();
    let [event] = outcome.events.as_slice() else {
        panic!("one event, got {:?}", outcome.events);
    };
    assert_eq!(event.status, PaymentStatus::Expired);
    assert_eq!(event.event_id, format!("expired:{}", charge.charge_ref));
    assert_eq!(methods(&stub.calls()), ["query", "close"]);

    // Opened and left unpaid: closed at Alipay, so the page can no longer take money.
    let mut left = web_request("O-80", 500, false, true);
    left.expires_at = in_minutes(5);
    let charge = alipay.create_charge(&left).await.unwrap();
    assert_eq!(open_page(&charge.qr_payload).await.0, 200);
    stub.scan(&charge.charge_ref);
    let mut open_charge = open(&charge, &left);
    open_charge.expires_at = Timestamp::now() - jiff::SignedDuration::from_secs(1);
    let outcome = alipay.poll(None, &[open_charge.clone()]).await.unwrap();
    assert_eq!(outcome.events.len(), 1);
    assert_eq!(outcome.events[0].status, PaymentStatus::Expired);
    assert_eq!(stub.trade(&charge.charge_ref).status, Some("TRADE_CLOSED"));
    let calls = stub.calls();
    assert_eq!(methods(&calls[2..]), ["page.pay", "query", "close"]);

    // Paid at the last moment: close refuses and nothing is refunded; the cancel says it is
    // paid (not "withdrawn", so the charge stays watched) and the next query records it.
    let late = web_request("O-81", 500, true, true);
    let charge = alipay.create_charge(&late).await.unwrap();
    assert_eq!(open_page(&charge.qr_payload).await.0, 200);
    stub.pay(&charge.charge_ref, "2026-05-01 20:14:59");
    let err = alipay.cancel(&open(&charge, &late)).await.unwrap_err();
    assert!(
        matches!(&err, ProviderError::Paid { .. }) && !err.is_retryable(),
        "{err:?}"
    );
    let trade = stub.trade(&charge.charge_ref);
    assert_eq!(trade.status, Some("TRADE_SUCCESS"));
    assert_eq!(trade.refunded_minor, 0);
    assert!(!methods(&stub.calls()).contains(&"cancel"));
    let outcome = alipay.poll(None, &[open(&charge, &late)]).await.unwrap();
    assert_eq!(outcome.events[0].status, PaymentStatus::Paid);
}

#[tokio::test]
async fn a_till_qr_still_expires_with_cancel() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let mut till = request("O-82", 500);
    till.expires_at = Timestamp::now() - jiff::SignedDuration::from_secs(1);
    let charge = alipay.create_charge(&till).await.unwrap();
    assert!(!wire::is_web_trade(&charge.charge_ref));
    let outcome = alipay.poll(None, &[open(&charge, &till)]).await.unwrap();
    assert_eq!(outcome.events[0].status, PaymentStatus::Expired);
    assert_eq!(methods(&stub.calls()), ["precreate", "query", "cancel"]);
}

#[tokio::test]
async fn a_web_payment_needs_https_addresses_and_yuan() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let mut plain = web_request("O-83", 500, true, true);
    plain.web.as_mut().unwrap().return_url = "http://shop.example.com/r/1".into();
    let err = alipay.create_charge(&plain).await.unwrap_err();
    assert!(
        matches!(&err, ProviderError::Config { detail, .. } if detail.contains("return address")),
        "{err:?}"
    );
    let mut notify = web_request("O-83", 500, true, true);
    notify.web.as_mut().unwrap().notify_url = Some("not a url".into());
    assert!(matches!(
        alipay.create_charge(&notify).await,
        Err(ProviderError::Config { .. })
    ));
    let mut euros = web_request("O-83", 500, false, true);
    euros.currency = "EUR".into();
    assert!(matches!(
        alipay.create_charge(&euros).await,
        Err(ProviderError::Config { .. })
    ));
    assert_eq!(stub.requests(), 0);
}
