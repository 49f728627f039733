//! The provider against the local gateway stub: charge, poll, expire, cancel, refund, and
//! every way a reply can be wrong.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use shopcast_payments::alipay::{AlipayConfig, AlipayProvider, Gateway, PollSchedule};
use shopcast_payments::{
    Charge, ChargeRequest, OpenCharge, PaymentProvider, PaymentStatus, ProviderError, RefundRequest,
};

use crate::keys::keys;
use crate::stub::{APP_ID, Fault, Stub, beijing_time};

/// Queries every open charge on every poll, so tests need not wait.
pub(crate) const EVERY_POLL: PollSchedule = PollSchedule {
    fast: Duration::ZERO,
    fast_for: Duration::ZERO,
    slow: Duration::ZERO,
};

pub(crate) fn config(stub: &Stub) -> AlipayConfig {
    AlipayConfig {
        gateway: Gateway::Custom(stub.url.clone()),
        app_id: APP_ID.to_string(),
        app_private_key: keys().app.private_pkcs8_pem(),
        alipay_public_key: keys().alipay.public_spki_base64(),
        notify_url: Some("https://shop.example/alipay/notify?till=1&x=y".to_string()),
    }
}

pub(crate) fn provider(stub: &Stub) -> AlipayProvider {
    AlipayProvider::new(config(stub))
        .unwrap()
        .with_poll_schedule(EVERY_POLL)
}

pub(crate) fn in_minutes(minutes: i64) -> Timestamp {
    Timestamp::now() + SignedDuration::from_mins(minutes)
}

pub(crate) fn request(order_ref: &str, amount_minor: i64) -> ChargeRequest {
    ChargeRequest {
        order_ref: order_ref.to_string(),
        amount_minor,
        currency: "CNY".to_string(),
        subject: "青花瓷杯 ×2 — ¥88".to_string(),
        lines: Vec::new(),
        expires_at: in_minutes(5),
        source_tag: Some("till".to_string()),
        web: None,
    }
}

pub(crate) fn open(charge: &Charge, request: &ChargeRequest) -> OpenCharge {
    OpenCharge {
        charge_ref: charge.charge_ref.clone(),
        order_ref: request.order_ref.clone(),
        amount_minor: request.amount_minor,
        currency: request.currency.clone(),
        expires_at: charge.expires_at,
    }
}

fn refund(provider_ref: &str, charge_ref: Option<&str>, amount: i64, id: &str) -> RefundRequest {
    RefundRequest {
        provider_ref: provider_ref.to_string(),
        charge_ref: charge_ref.map(str::to_string),
        amount_minor: amount,
        currency: "CNY".to_string(),
        refund_ref: id.to_string(),
        reason: Some("顾客退货：杯口有裂".to_string()),
    }
}

pub(crate) fn methods(calls: &[String]) -> Vec<&str> {
    calls
        .iter()
        .map(|m| m.trim_start_matches("alipay.trade."))
        .collect()
}

#[tokio::test]
async fn a_paid_charge_is_reported_once_with_its_amount() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let request = request("O-42", 8800);
    let charge = alipay.create_charge(&request).await.unwrap();

    assert!(
        charge.charge_ref.starts_with("O_42_"),
        "{}",
        charge.charge_ref
    );
    assert!(charge.qr_payload.starts_with("https://qr.alipay.com/"));
    assert_eq!(charge.expires_at, request.expires_at);
    assert!(charge.raw.contains("alipay_trade_precreate_response"));
    let trade = stub.trade(&charge.charge_ref);
    assert_eq!(trade.total_minor, 8800);
    assert_eq!(trade.subject, "青花瓷杯 ×2 — ¥88");
    let time_expire = beijing_time(trade.time_expire.as_deref().unwrap()).unwrap();
    assert_eq!(time_expire.as_second(), request.expires_at.as_second());

    let open = [open(&charge, &request)];
    // Not scanned yet (ACQ.TRADE_NOT_EXIST), then scanned but unpaid: nothing to report.
    assert!(alipay.poll(None, &open).await.unwrap().events.is_empty());
    stub.scan(&charge.charge_ref);
    assert!(alipay.poll(None, &open).await.unwrap().events.is_empty());

    stub.pay(&charge.charge_ref, "2026-05-01 20:01:02");
    let outcome = alipay.poll(None, &open).await.unwrap();
    assert_eq!(outcome.cursor, None);
    let [event] = outcome.events.as_slice() else {
        panic!("one event, got {:?}", outcome.events);
    };
    assert_eq!(event.status, PaymentStatus::Paid);
    assert_eq!(event.amount_minor, 8800);
    assert_eq!(event.currency, "CNY");
    assert_eq!(event.provider_ref, trade.trade_no);
    assert_eq!(
        event.charge_ref.as_deref(),
        Some(charge.charge_ref.as_str())
    );
    assert_eq!(event.order_ref.as_deref(), Some("O-42"));
    assert_eq!(
        event.event_id,
        format!("query:{}:TRADE_SUCCESS", charge.charge_ref)
    );
    assert_eq!(event.method.as_deref(), Some("alipay"));
    assert_eq!(event.occurred_at, "2026-05-01T12:01:02Z".parse().unwrap());
    assert!(event.raw.contains("\"trade_status\":\"TRADE_SUCCESS\""));
    assert_eq!(
        methods(&stub.calls()),
        ["precreate", "query", "query", "query"],
        "no cancel for a live charge"
    );
}

#[tokio::test]
async fn an_expired_charge_is_cancelled_at_alipay_and_reported_expired() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let unscanned_request = request("O-1", 1000);
    let scanned_request = request("O-2", 2000);
    let paid_request = request("O-3", 3000);
    let unscanned = alipay.create_charge(&unscanned_request).await.unwrap();
    let scanned = alipay.create_charge(&scanned_request).await.unwrap();
    let paid = alipay.create_charge(&paid_request).await.unwrap();
    stub.scan(&scanned.charge_ref);
    stub.pay(&paid.charge_ref, "2026-05-01 20:04:59");

    // The watcher's view after the QR's time ran out.
    let past = in_minutes(-1);
    let open: Vec<OpenCharge> = [
        (&unscanned, &unscanned_request),
        (&scanned, &scanned_request),
        (&paid, &paid_request),
    ]
    .into_iter()
    .map(|(charge, request)| OpenCharge {
        expires_at: past,
        ..open(charge, request)
    })
    .collect();
    let events = alipay.poll(None, &open).await.unwrap().events;

    assert_eq!(events.len(), 3, "{events:#?}");
    for (event, charge) in events.iter().zip([&unscanned, &scanned]) {
        assert_eq!(event.status, PaymentStatus::Expired);
        assert_eq!(event.event_id, format!("expired:{}", charge.charge_ref));
        assert_eq!(
            event.charge_ref.as_deref(),
            Some(charge.charge_ref.as_str())
        );
        assert_eq!(stub.trade(&charge.charge_ref).status, Some("TRADE_CLOSED"));
    }
    assert_eq!(events[0].amount_minor, 1000);
    // Paid just before expiry: paid, and not cancelled (cancel would refund the buyer).
    assert_eq!(events[2].status, PaymentStatus::Paid);
    assert_eq!(events[2].amount_minor, 3000);
    assert_eq!(stub.trade(&paid.charge_ref).status, Some("TRADE_SUCCESS"));
    assert_eq!(
        methods(&stub.calls())[3..],
        ["query", "cancel", "query", "cancel", "query"]
    );

    // Closed at Alipay (e.g. by its own time_expire) is expired too.
    let closed = OpenCharge {
        expires_at: in_minutes(5),
        ..open[1].clone()
    };
    let events = alipay.poll(None, &[closed]).await.unwrap().events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].status, PaymentStatus::Expired);
    assert_eq!(
        events[0].event_id,
        format!("query:{}:TRADE_CLOSED", scanned.charge_ref)
    );
}

#[tokio::test]
async fn cancel_withdraws_a_charge_whether_or_not_it_was_scanned() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let request = request("O-5", 500);
    let charge = alipay.create_charge(&request).await.unwrap();
    alipay.cancel(&open(&charge, &request)).await.unwrap();
    assert_eq!(stub.trade(&charge.charge_ref).status, Some("TRADE_CLOSED"));

    // A trade Alipay never heard of needs no cancelling.
    let unknown = OpenCharge {
        charge_ref: "O_5_neverprecreated".to_string(),
        ..open(&charge, &request)
    };
    alipay.cancel(&unknown).await.unwrap();
    assert_eq!(methods(&stub.calls()), ["precreate", "cancel", "cancel"]);
}

#[tokio::test]
async fn refunds_report_the_cumulative_total_and_are_never_doubled() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let request = request("O-7", 8800);
    let charge = alipay.create_charge(&request).await.unwrap();
    stub.pay(&charge.charge_ref, "2026-05-01 20:01:02");
    let paid = alipay.poll(None, &[open(&charge, &request)]).await.unwrap();
    let trade_no = paid.events[0].provider_ref.clone();

    let first = refund(&trade_no, Some(&charge.charge_ref), 1250, "R-1");
    let done = alipay.refund(&first).await.unwrap();
    assert_eq!(done.refund_id, "R-1");
    assert_eq!(done.amount_minor, 1250);
    assert_eq!(done.refunded_total_minor, Some(1250));
    assert!(done.raw.contains("\"fund_change\":\"Y\""));

    // The same refund sent again (say, after a timeout) moves no money.
    let again = alipay.refund(&first).await.unwrap();
    assert_eq!(again.refunded_total_minor, Some(1250));
    assert!(again.raw.contains("\"fund_change\":\"N\""));

    // The rest, by Alipay's trade number alone.
    let rest = alipay
        .refund(&refund(&trade_no, None, 7550, "R-2"))
        .await
        .unwrap();
    assert_eq!(rest.refunded_total_minor, Some(8800));
    let trade = stub.trade(&charge.charge_ref);
    assert_eq!(trade.refunded_minor, 8800);
    assert_eq!(trade.status, Some("TRADE_CLOSED"));

    match alipay.refund(&refund(&trade_no, None, 1, "R-3")).await {
        Err(err @ ProviderError::Rejected { .. }) => {
            assert!(!err.is_retryable());
            let ProviderError::Rejected { code, raw, .. } = err else {
                unreachable!()
            };
            assert_eq!(code, "ACQ.TRADE_STATUS_ERROR");
            assert!(raw.contains("alipay_trade_refund_response"));
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_refund_beyond_the_payment_is_rejected_with_alipays_words() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let request = request("O-8", 1000);
    let charge = alipay.create_charge(&request).await.unwrap();
    stub.pay(&charge.charge_ref, "2026-05-01 20:01:02");
    let too_much = refund(&charge.charge_ref, Some(&charge.charge_ref), 1001, "R-1");
    match alipay.refund(&too_much).await {
        Err(ProviderError::Rejected { code, message, .. }) => {
            assert_eq!(code, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
            assert_eq!(message, "退款金额超限");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn replies_with_a_wrong_or_missing_signature_are_refused() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let request = request("O-9", 8800);

    for fault in [
        Fault::Tampered,
        Fault::ForeignSignature,
        Fault::UnsignedSuccess,
    ] {
        stub.fault(fault);
        match alipay.create_charge(&request).await {
            Err(err @ ProviderError::BadSignature { .. }) => assert!(err.is_retryable()),
            other => panic!("{fault:?}: expected BadSignature, got {other:?}"),
        }
    }

    // A payment in a reply whose amount was changed after signing is never reported.
    let charge = alipay.create_charge(&request).await.unwrap();
    stub.pay(&charge.charge_ref, "2026-05-01 20:01:02");
    stub.fault(Fault::Tampered);
    let open = [open(&charge, &request)];
    match alipay.poll(None, &open).await {
        Err(ProviderError::BadSignature { .. }) => {}
        other => panic!("expected BadSignature, got {other:?}"),
    }
    assert_eq!(alipay.poll(None, &open).await.unwrap().events.len(), 1);

    // The app public key pasted where Alipay's belongs: every reply fails the check.
    let confused = AlipayProvider::new(AlipayConfig {
        alipay_public_key: keys().app.public_spki_pem(),
        ..config(&stub)
    })
    .unwrap();
    match confused.create_charge(&request).await {
        Err(ProviderError::BadSignature { detail, .. }) => {
            assert!(detail.contains("Alipay public key"), "{detail}");
        }
        other => panic!("expected BadSignature, got {other:?}"),
    }
}

#[tokio::test]
async fn server_errors_and_unreadable_replies_are_retryable() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let request = request("O-10", 100);

    stub.fault(Fault::ServerError);
    match alipay.create_charge(&request).await {
        Err(err @ ProviderError::Server { status: 500, .. }) => assert!(err.is_retryable()),
        other => panic!("expected Server, got {other:?}"),
    }
    stub.fault(Fault::Garbage);
    match alipay.create_charge(&request).await {
        Err(err @ ProviderError::BadResponse { .. }) => assert!(err.is_retryable()),
        other => panic!("expected BadResponse, got {other:?}"),
    }

    let charge = alipay.create_charge(&request).await.unwrap();
    let open = [open(&charge, &request)];
    stub.fault(Fault::Garbage);
    assert!(matches!(
        alipay.poll(None, &open).await,
        Err(ProviderError::BadResponse { .. })
    ));

    // Nobody listening at all (a fresh client, so no pooled connection survives).
    let config = config(&stub);
    drop(stub);
    let alipay = AlipayProvider::new(config).unwrap();
    match alipay.poll(None, &open).await {
        Err(err @ ProviderError::Unreachable { .. }) => assert!(err.is_retryable()),
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn one_failing_query_does_not_hide_another_charges_payment() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let first_request = request("O-11", 100);
    let second_request = request("O-12", 200);
    let first = alipay.create_charge(&first_request).await.unwrap();
    let second = alipay.create_charge(&second_request).await.unwrap();
    stub.pay(&second.charge_ref, "2026-05-01 20:01:02");
    let open = [open(&first, &first_request), open(&second, &second_request)];

    stub.fault(Fault::ServerError);
    let events = alipay.poll(None, &open).await.unwrap().events;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].charge_ref.as_deref(),
        Some(second.charge_ref.as_str())
    );

    // Every query failing is an error, the first one.
    stub.fault(Fault::ServerError);
    stub.fault(Fault::Garbage);
    assert!(matches!(
        alipay.poll(None, &open).await,
        Err(ProviderError::Server { .. })
    ));
}

#[tokio::test]
async fn non_yuan_payments_are_refused_before_anything_is_sent() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let euros = ChargeRequest {
        currency: "EUR".to_string(),
        ..request("O-13", 1000)
    };
    match alipay.create_charge(&euros).await {
        Err(ProviderError::Config { detail, .. }) => {
            assert!(detail.contains("CNY") && detail.contains("EUR"), "{detail}");
        }
        other => panic!("expected Config, got {other:?}"),
    }
    let dollars = RefundRequest {
        currency: "USD".to_string(),
        ..refund("2026050122001000000000000001", None, 100, "R-1")
    };
    assert!(matches!(
        alipay.refund(&dollars).await,
        Err(ProviderError::Config { .. })
    ));
    for amount in [0, -5, 10_000_000_001] {
        assert!(matches!(
            alipay.create_charge(&request("O-14", amount)).await,
            Err(ProviderError::Config { .. })
        ));
    }
    assert_eq!(stub.requests(), 0);
}

#[tokio::test]
async fn the_gateway_refuses_a_request_signed_with_the_wrong_key() {
    let stub = Stub::start().await;
    let wrong_key = AlipayProvider::new(AlipayConfig {
        app_private_key: keys().alipay.private_pkcs8_pem(),
        ..config(&stub)
    })
    .unwrap();
    match wrong_key.create_charge(&request("O-15", 100)).await {
        Err(err @ ProviderError::Rejected { .. }) => {
            assert!(!err.is_retryable());
            let ProviderError::Rejected { code, .. } = err else {
                unreachable!()
            };
            assert_eq!(code, "isv.invalid-signature");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(stub.with(|g| g.bad_signatures), 1);
    assert!(stub.calls().is_empty());

    let wrong_app = AlipayProvider::new(AlipayConfig {
        app_id: "2021000000000000".to_string(),
        ..config(&stub)
    })
    .unwrap();
    match wrong_app.create_charge(&request("O-15", 100)).await {
        Err(ProviderError::Rejected { code, message, .. }) => {
            assert_eq!(code, "isv.invalid-app-id");
            assert_eq!(message, "无效的AppID参数");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn keys_work_end_to_end_in_every_accepted_form() {
    let stub = Stub::start().await;
    let (app, alipay) = (&keys().app, &keys().alipay);
    let private_forms = [
        app.private_pkcs8_pem(),
        app.private_pkcs8_base64(),
        app.private_pkcs1_pem(),
        app.private_pkcs1_base64(),
    ];
    let public_forms = [
        alipay.public_spki_pem(),
        alipay.public_spki_base64(),
        alipay.public_pkcs1_pem(),
        alipay.public_pkcs1_base64(),
    ];
    for (private, public) in private_forms.into_iter().zip(public_forms) {
        let provider = AlipayProvider::new(AlipayConfig {
            app_private_key: private,
            alipay_public_key: public,
            ..config(&stub)
        })
        .unwrap();
        provider.create_charge(&request("O-16", 100)).await.unwrap();
    }
    assert_eq!(stub.calls().len(), 4);
    assert_eq!(stub.with(|g| g.bad_signatures), 0);
}

#[tokio::test]
async fn subjects_are_made_acceptable_and_a_retried_order_gets_a_new_trade() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let awkward = ChargeRequest {
        subject: format!("杯/碟 & 壶 = 套 {}", "瓷".repeat(300)),
        ..request("O-17", 100)
    };
    let first = alipay.create_charge(&awkward).await.unwrap();
    let second = alipay.create_charge(&awkward).await.unwrap();
    assert_ne!(first.charge_ref, second.charge_ref);
    let subject = stub.trade(&first.charge_ref).subject;
    assert!(subject.starts_with("杯／碟 ＆ 壶 ＝ 套 瓷"), "{subject}");
    assert_eq!(subject.chars().count(), 256);
}

#[tokio::test]
async fn each_charge_is_queried_at_most_once_a_second_at_first() {
    let stub = Stub::start().await;
    let alipay = AlipayProvider::new(config(&stub)).unwrap();
    let request = request("O-18", 100);
    let charge = alipay.create_charge(&request).await.unwrap();
    let open = [open(&charge, &request)];
    for _ in 0..4 {
        alipay.poll(None, &open).await.unwrap();
    }
    assert_eq!(methods(&stub.calls()), ["precreate", "query"]);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    alipay.poll(None, &open).await.unwrap();
    alipay.poll(None, &open).await.unwrap();
    assert_eq!(methods(&stub.calls()), ["precreate", "query", "query"]);

    // An expired charge is looked at straight away, once, whatever the schedule says.
    let expired = OpenCharge {
        expires_at: in_minutes(-1),
        ..open[0].clone()
    };
    let expired = [expired];
    let events = alipay.poll(None, &expired).await.unwrap().events;
    assert_eq!(events[0].status, PaymentStatus::Expired);
    let again = alipay.poll(None, &expired).await.unwrap().events;
    assert!(again.is_empty());
    assert_eq!(
        methods(&stub.calls()),
        ["precreate", "query", "query", "query", "cancel"]
    );
}

#[tokio::test]
async fn debug_output_never_shows_the_keys() {
    let stub = Stub::start().await;
    let config = config(&stub);
    let provider = AlipayProvider::new(config.clone()).unwrap();
    let private = keys().app.private_pkcs8_base64();
    let public = keys().alipay.public_spki_base64();
    for shown in [format!("{config:?}"), format!("{provider:?}")] {
        assert!(shown.contains("redacted"), "{shown}");
        assert!(shown.contains(APP_ID));
        for secret in [&private, &public] {
            assert!(!shown.contains(&secret[100..120]), "{shown}");
        }
    }
}

#[test]
fn the_gateways_are_alipays_documented_urls() {
    assert_eq!(
        Gateway::Production.url().as_str(),
        "https://openapi.alipay.com/gateway.do"
    );
    assert_eq!(
        Gateway::Sandbox.url().as_str(),
        "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
    );
}

#[test]
fn an_empty_app_id_is_a_config_error() {
    let config = AlipayConfig {
        gateway: Gateway::Sandbox,
        app_id: " ".to_string(),
        app_private_key: keys().app.private_pkcs8_pem(),
        alipay_public_key: keys().alipay.public_spki_base64(),
        notify_url: None,
    };
    assert!(matches!(
        AlipayProvider::new(config),
        Err(ProviderError::Config { .. })
    ));
}

/// Only Alipay's signed word may expire a charge: a forged, unsigned ACQ.TRADE_NOT_EXIST
/// answer to a query must not start the automatic cancel, nor report the charge expired.
#[tokio::test]
async fn a_forged_unsigned_trade_not_exist_does_not_cancel_anything() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let paid_request = request("O-40", 4000);
    let charge = alipay.create_charge(&paid_request).await.unwrap();
    let overdue = [OpenCharge {
        expires_at: in_minutes(-1),
        ..open(&charge, &paid_request)
    }];
    stub.pay(&charge.charge_ref, "2026-05-01 20:04:59");

    stub.fault(Fault::ForgedNotExist);
    match alipay.poll(None, &overdue).await {
        Err(err @ ProviderError::BadSignature { .. }) => {
            assert!(err.to_string().contains("ACQ.TRADE_NOT_EXIST"), "{err}");
        }
        other => panic!("expected BadSignature, got {other:?}"),
    }
    assert_eq!(methods(&stub.calls()), ["precreate"], "no cancel was sent");
    assert_eq!(stub.trade(&charge.charge_ref).status, Some("TRADE_SUCCESS"));

    // The next, genuine answer: the buyer paid, and is not refunded by a cancel.
    let events = alipay.poll(None, &overdue).await.unwrap().events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].status, PaymentStatus::Paid);

    // A signed "no such trade" (QR never scanned) still expires and cancels it.
    let unscanned_request = request("O-41", 100);
    let unscanned = alipay.create_charge(&unscanned_request).await.unwrap();
    let events = alipay
        .poll(
            None,
            &[OpenCharge {
                expires_at: in_minutes(-1),
                ..open(&unscanned, &unscanned_request)
            }],
        )
        .await
        .unwrap()
        .events;
    assert_eq!(events[0].status, PaymentStatus::Expired);
    assert_eq!(methods(&stub.calls())[3..], ["query", "cancel"]);
}

/// Withdrawing a QR: an unsigned refusal is no proof that it is gone.
#[tokio::test]
async fn an_unsigned_answer_to_cancel_is_not_taken_as_withdrawn() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let request = request("O-42", 4200);
    let charge = alipay.create_charge(&request).await.unwrap();
    stub.fault(Fault::ForgedNotExist);
    match alipay.cancel(&open(&charge, &request)).await {
        Err(err @ ProviderError::BadSignature { .. }) => assert!(err.is_retryable()),
        other => panic!("expected BadSignature, got {other:?}"),
    }
    assert_eq!(stub.trade(&charge.charge_ref).status, None, "still open");
}

/// A signed answer about another trade changes nothing: a clear error, no event.
#[tokio::test]
async fn an_answer_about_another_trade_is_refused() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let sale = request("O-43", 4300);

    stub.fault(Fault::OtherTrade);
    match alipay.create_charge(&sale).await {
        Err(ProviderError::BadResponse { detail, .. }) => {
            assert!(detail.contains("SOMEONE_ELSES_TRADE"), "{detail}");
        }
        other => panic!("expected BadResponse, got {other:?}"),
    }

    let charge = alipay.create_charge(&sale).await.unwrap();
    stub.pay(&charge.charge_ref, "2026-05-01 20:04:59");
    let open_charge = open;
    let open = [open_charge(&charge, &sale)];
    stub.fault(Fault::OtherTrade);
    match alipay.poll(None, &open).await {
        Err(ProviderError::BadResponse { detail, .. }) => {
            assert!(detail.contains(&charge.charge_ref), "{detail}");
            assert!(detail.contains("SOMEONE_ELSES_TRADE"), "{detail}");
        }
        other => panic!("expected BadResponse, got {other:?}"),
    }
    stub.fault(Fault::OtherTrade);
    let trade_no = stub.trade(&charge.charge_ref).trade_no;
    let refund_request = refund(&trade_no, Some(&charge.charge_ref), 100, "R-43");
    match alipay.refund(&refund_request).await {
        Err(ProviderError::BadResponse { .. }) => {}
        other => panic!("expected BadResponse, got {other:?}"),
    }
    // The genuine answer afterwards: paid, once.
    let events = alipay.poll(None, &open).await.unwrap().events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].amount_minor, 4300);

    let unpaid_request = request("O-45", 100);
    let unpaid = alipay.create_charge(&unpaid_request).await.unwrap();
    stub.fault(Fault::OtherTrade);
    assert!(matches!(
        alipay.cancel(&open_charge(&unpaid, &unpaid_request)).await,
        Err(ProviderError::BadResponse { .. })
    ));
}

/// Alipay face-to-face settles yuan only, and amounts are read as yuan with two decimals:
/// an open charge in another currency is refused, never read with the wrong decimals.
#[tokio::test]
async fn an_open_charge_in_another_currency_is_refused_not_misread() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let request = request("O-44", 500);
    let charge = alipay.create_charge(&request).await.unwrap();
    let in_yen = OpenCharge {
        currency: "JPY".to_string(),
        ..open(&charge, &request)
    };
    match alipay.poll(None, &[in_yen]).await {
        Err(ProviderError::Config { detail, .. }) => {
            assert!(detail.contains("CNY") && detail.contains("JPY"), "{detail}");
        }
        other => panic!("expected Config, got {other:?}"),
    }
    assert_eq!(methods(&stub.calls()), ["precreate"], "nothing asked");
}

/// The gateway must be https; plain http only on this computer (the test stub).
#[test]
fn the_gateway_must_be_https_unless_it_is_this_computer() {
    let at = |url: &str| {
        AlipayProvider::new(AlipayConfig {
            gateway: Gateway::Custom(reqwest::Url::parse(url).unwrap()),
            app_id: APP_ID.to_string(),
            app_private_key: keys().app.private_pkcs8_pem(),
            alipay_public_key: keys().alipay.public_spki_base64(),
            notify_url: None,
        })
    };
    match at("http://example.com/gateway.do") {
        Err(ProviderError::Config { detail, .. }) => {
            assert!(
                detail.contains("Alipay gateway") && detail.contains("https://"),
                "{detail}"
            );
        }
        other => panic!("expected Config, got {other:?}"),
    }
    assert!(at("http://127.0.0.1:9/gateway.do").is_ok());
    assert!(at("https://openapi.alipay.com/gateway.do").is_ok());
}
