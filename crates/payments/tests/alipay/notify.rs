//! Alipay's asynchronous notifications: what a genuine one carries into the ledger event,
//! every way a changed one is refused, and the strict form reading (caps, escapes, charset).

use shopcast_payments::PaymentStatus;
use shopcast_payments::alipay::notify::{self, MAX_BODY_BYTES, MAX_PARAMS, NotifyError};
use shopcast_payments::alipay::sign::{
    AlipayPublicKey, notification_sign_string, request_sign_string,
};
use shopcast_payments::alipay::state_event_id;

use crate::keys::keys;
use crate::stub::{APP_ID, form_body, notify_body};

/// A paid trade's notification parameters, with the awkward characters a subject can hold.
pub(crate) fn paid_params(out_trade_no: &str, total: &str) -> Vec<(String, String)> {
    [
        ("notify_time", "2026-05-01 20:01:05"),
        ("notify_type", "trade_status_sync"),
        ("notify_id", "ac05099524730693a8b330c5ecf72da9786"),
        ("charset", "utf-8"),
        ("version", "1.0"),
        ("sign_type", "RSA2"),
        ("auth_app_id", APP_ID),
        ("app_id", APP_ID),
        ("trade_no", "2026050122001400000000000007"),
        ("out_trade_no", out_trade_no),
        ("trade_status", "TRADE_SUCCESS"),
        ("total_amount", total),
        ("receipt_amount", total),
        ("subject", "青花瓷杯 ×2 + 茶=好 & \"礼盒\" 100%"),
        ("gmt_create", "2026-05-01 20:00:30"),
        ("gmt_payment", "2026-05-01 20:01:02"),
        (
            "fund_bill_list",
            r#"[{"amount":"88.00","fundChannel":"ALIPAYACCOUNT"}]"#,
        ),
        ("passback_params", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn alipay_key() -> AlipayPublicKey {
    AlipayPublicKey::parse(&keys().alipay.public_spki_pem()).unwrap()
}

fn genuine(params: &[(String, String)]) -> String {
    notify_body(params, &keys().alipay.private)
}

/// `body` with parameter `name` set to `value` (added when missing), its sign kept.
fn with(body: &str, name: &str, value: &str) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    match pairs.iter_mut().find(|(k, _)| k == name) {
        Some(pair) => pair.1 = value.to_string(),
        None => pairs.push((name.to_string(), value.to_string())),
    }
    form_body(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

#[test]
fn a_genuine_notification_reads_into_the_event_the_poll_would_record() {
    let body = genuine(&paid_params("O_42_abc_W", "88.00"));
    let notified = notify::verify(body.as_bytes(), &alipay_key()).unwrap();
    assert_eq!(notified.app_id, APP_ID);
    assert_eq!(notified.out_trade_no, "O_42_abc_W");
    assert_eq!(notified.trade_no, "2026050122001400000000000007");
    assert_eq!(notified.total_amount_minor, 8800);
    assert_eq!(notified.notify_id, "ac05099524730693a8b330c5ecf72da9786");
    assert_eq!(notified.raw, body);
    let event = notified.event(Some("O-42")).unwrap();
    assert_eq!(
        event.event_id,
        state_event_id("O_42_abc_W", "TRADE_SUCCESS")
    );
    assert_eq!(event.provider_ref, "2026050122001400000000000007");
    assert_eq!(event.charge_ref.as_deref(), Some("O_42_abc_W"));
    assert_eq!(event.status, PaymentStatus::Paid);
    assert_eq!(event.amount_minor, 8800);
    assert_eq!(event.currency, "CNY");
    assert_eq!(event.refunded_total_minor, None);
    assert_eq!(event.occurred_at.to_string(), "2026-05-01T12:01:02Z");
}

#[test]
fn refunds_and_closes_are_events_of_their_own_and_an_opened_page_is_none() {
    let mut params = paid_params("O_42_abc_W", "88.00");
    params.push(("refund_fee".into(), "12.50".into()));
    params.push(("gmt_refund".into(), "2026-05-01 20:30:00.123".into()));
    let event = notify::verify(genuine(&params).as_bytes(), &alipay_key())
        .unwrap()
        .event(None)
        .unwrap();
    assert_eq!(event.status, PaymentStatus::Paid);
    assert_eq!(event.refunded_total_minor, Some(1250));
    assert_eq!(event.event_id, "notify:O_42_abc_W:refunded:1250");
    assert_eq!(event.occurred_at.to_string(), "2026-05-01T12:30:00Z");

    let set = |params: &mut Vec<(String, String)>, name: &str, value: &str| {
        params.iter_mut().find(|(k, _)| k == name).unwrap().1 = value.into();
    };
    set(&mut params, "refund_fee", "88.00");
    set(&mut params, "trade_status", "TRADE_CLOSED");
    let event = notify::verify(genuine(&params).as_bytes(), &alipay_key())
        .unwrap()
        .event(None)
        .unwrap();
    assert_eq!(event.status, PaymentStatus::Refunded);
    assert_eq!(event.refunded_total_minor, Some(8800));

    let mut closed = paid_params("O_43_abc_W", "88.00");
    set(&mut closed, "trade_status", "TRADE_CLOSED");
    let event = notify::verify(genuine(&closed).as_bytes(), &alipay_key())
        .unwrap()
        .event(None)
        .unwrap();
    assert_eq!(event.status, PaymentStatus::Expired);
    assert_eq!(event.event_id, state_event_id("O_43_abc_W", "TRADE_CLOSED"));

    let mut waiting = paid_params("O_44_abc_W", "88.00");
    set(&mut waiting, "trade_status", "WAIT_BUYER_PAY");
    let notified = notify::verify(genuine(&waiting).as_bytes(), &alipay_key()).unwrap();
    assert_eq!(notified.event(None), None);

    set(&mut waiting, "trade_status", "TRADE_PENDING");
    assert!(matches!(
        notify::verify(genuine(&waiting).as_bytes(), &alipay_key()),
        Err(NotifyError::Unreadable {
            field: "trade_status",
            ..
        })
    ));
}

#[test]
fn a_changed_notification_is_refused() {
    let body = genuine(&paid_params("O_42_abc_W", "88.00"));
    let key = alipay_key();
    for (name, value) in [
        ("total_amount", "0.01"),
        ("out_trade_no", "O_99_abc_W"),
        ("app_id", "2021000000000000"),
        ("trade_status", "TRADE_FINISHED"),
        ("gmt_payment", "2026-05-01 20:01:03"),
        // An extra parameter is part of the signed content too.
        ("refund_fee", "88.00"),
    ] {
        let changed = with(&body, name, value);
        assert_eq!(
            notify::verify(changed.as_bytes(), &key),
            Err(NotifyError::BadSignature),
            "{name}={value}"
        );
    }
    // Signed with another key (the app's own, say).
    let foreign = notify_body(&paid_params("O_42_abc_W", "88.00"), &keys().app.private);
    assert_eq!(
        notify::verify(foreign.as_bytes(), &key),
        Err(NotifyError::BadSignature)
    );
    // sign_type is outside the signature, so it is checked on its own.
    assert_eq!(
        notify::verify(with(&body, "sign_type", "RSA").as_bytes(), &key),
        Err(NotifyError::SignType("RSA".into()))
    );
    let unsigned = form_body(
        url::form_urlencoded::parse(body.as_bytes())
            .filter(|(k, _)| k != "sign")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect::<Vec<_>>()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    assert_eq!(
        notify::verify(unsigned.as_bytes(), &key),
        Err(NotifyError::Missing("sign"))
    );
    // A GBK notification, even genuinely signed, is not read.
    let mut gbk = paid_params("O_42_abc_W", "88.00");
    gbk.iter_mut().find(|(k, _)| k == "charset").unwrap().1 = "GBK".into();
    assert_eq!(
        notify::verify(genuine(&gbk).as_bytes(), &key),
        Err(NotifyError::Charset("GBK".into()))
    );
}

#[test]
fn the_notification_sign_string_leaves_out_sign_type_and_the_request_one_keeps_it() {
    let params = [
        ("b", "2"),
        ("sign_type", "RSA2"),
        ("sign", "xyz"),
        ("a", "1 + 1"),
        ("empty", ""),
    ];
    assert_eq!(notification_sign_string(params), "a=1 + 1&b=2");
    assert_eq!(request_sign_string(params), "a=1 + 1&b=2&sign_type=RSA2");
}

#[test]
fn a_badly_formed_body_is_refused_with_a_reason() {
    let key = alipay_key();
    let malformed = |body: &[u8]| match notify::verify(body, &key) {
        Err(NotifyError::Malformed(why)) => why,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
    };
    assert!(malformed(b"").contains("empty"));
    assert!(malformed(b"a=1&b").contains("no '='"));
    assert!(malformed(b"a=1&=2").contains("no name"));
    assert!(malformed(b"a=1&a=2").contains("twice"));
    assert!(malformed(b"a=%zz").contains("hex"));
    assert!(malformed(b"a=%4").contains("hex"));
    assert!(malformed(b"a=%FF%FE").contains("UTF-8"));
    assert!(malformed("a=青".as_bytes()).contains("ASCII"));
    assert!(malformed(b"a=1 2").contains("ASCII"));
    assert!(malformed(b"a=1&&b=2").contains("no '='"));

    let big = vec![b'a'; MAX_BODY_BYTES + 1];
    assert_eq!(
        notify::verify(&big, &key),
        Err(NotifyError::TooLarge(MAX_BODY_BYTES + 1))
    );
    let many: Vec<String> = (0..=MAX_PARAMS).map(|i| format!("p{i}=1")).collect();
    assert_eq!(
        notify::verify(many.join("&").as_bytes(), &key),
        Err(NotifyError::TooManyParams)
    );
    // Each refusal says what was wrong in words.
    let sentence = NotifyError::Charset("GBK".into()).to_string();
    assert!(sentence.contains("UTF-8"), "{sentence}");
}
