//! Payment codes (付款码) against the stub: `alipay.trade.pay` paid at once, waiting for the
//! customer and settled by queries, never confirmed and cancelled, refused, uncertain.

use jiff::Timestamp;
use shopcast_payments::alipay::wire;
use shopcast_payments::alipay::{AlipayConfig, AlipayProvider};
use shopcast_payments::{
    Charge, ChargeRequest, CodeCharge, OpenCharge, PaymentProvider, PaymentStatus, ProviderError,
    ProviderEvent,
};

use crate::keys::keys;
use crate::provider::{config, in_minutes, methods, open, provider, request};
use crate::stub::{CodeBehaviour, Fault, Stub, beijing_time};

/// An Alipay payment code as the customer's phone shows it (18 digits, starting 28).
const CODE: &str = "287654321098765432";

fn paid(outcome: Result<CodeCharge, ProviderError>) -> (Charge, ProviderEvent) {
    match outcome {
        Ok(CodeCharge::Paid { charge, event }) => (charge, event),
        other => panic!("expected Paid, got {other:?}"),
    }
}

fn waiting(outcome: Result<CodeCharge, ProviderError>) -> Charge {
    match outcome {
        Ok(CodeCharge::Waiting { charge }) => charge,
        other => panic!("expected Waiting, got {other:?}"),
    }
}

/// The one event a poll of `open` brings.
async fn polled(alipay: &AlipayProvider, open: &OpenCharge) -> ProviderEvent {
    let events = alipay
        .poll(None, std::slice::from_ref(open))
        .await
        .unwrap()
        .events;
    let [event] = <[ProviderEvent; 1]>::try_from(events)
        .unwrap_or_else(|events| panic!("one event, got {events:#?}"));
    event
}

#[tokio::test]
async fn a_code_paid_at_once_gives_the_event_a_later_query_would() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let sale = request("O-42", 8800);
    let (charge, event) = paid(alipay.charge_code(&sale, CODE).await);

    assert!(
        charge.charge_ref.starts_with("O_42_"),
        "{}",
        charge.charge_ref
    );
    assert!(
        charge
            .charge_ref
            .ends_with(shopcast_payments::CODE_TRADE_SUFFIX)
    );
    assert!(wire::is_code_trade(&charge.charge_ref));
    assert_eq!(charge.qr_payload, "");
    assert_eq!(charge.expires_at, sale.expires_at);
    assert!(
        charge.raw.contains("alipay_trade_pay_response"),
        "{}",
        charge.raw
    );
    assert!(!charge.raw.contains(CODE), "the code is not kept");

    let trade = stub.trade(&charge.charge_ref);
    assert_eq!(trade.auth_code.as_deref(), Some(CODE));
    assert_eq!(trade.product_code.as_deref(), Some("FACE_TO_FACE_PAYMENT"));
    assert_eq!(trade.total_minor, 8800);
    assert_eq!(trade.subject, "青花瓷杯 ×2 — ¥88");
    // Five minutes left, in trade.pay's relative form.
    assert_eq!(trade.timeout_express.as_deref(), Some("5m"));

    assert_eq!(event.status, PaymentStatus::Paid);
    assert_eq!(
        event.event_id,
        format!("query:{}:TRADE_SUCCESS", charge.charge_ref)
    );
    assert_eq!(event.provider_ref, trade.trade_no);
    assert_eq!(event.amount_minor, 8800);
    assert_eq!(event.currency, "CNY");
    assert_eq!(event.order_ref.as_deref(), Some("O-42"));
    assert_eq!(
        event.charge_ref.as_deref(),
        Some(charge.charge_ref.as_str())
    );
    assert_eq!(event.method.as_deref(), Some("alipay"));
    let paid_at = beijing_time(trade.send_pay_date.as_deref().unwrap()).unwrap();
    assert_eq!(
        event.occurred_at, paid_at,
        "gmt_payment is when it was paid"
    );
    assert!(event.raw.contains("\"gmt_payment\""));

    // The watcher asking about the same trade later reports the very same payment.
    let later = polled(&alipay, &open(&charge, &sale)).await;
    assert_eq!(later.event_id, event.event_id);
    assert_eq!(later.provider_ref, event.provider_ref);
    assert_eq!(later.amount_minor, event.amount_minor);
    assert_eq!(later.occurred_at, event.occurred_at);
    assert_eq!(methods(&stub.calls()), ["pay", "query"]);
}

#[tokio::test]
async fn a_customer_confirming_on_the_phone_is_recorded_by_the_next_queries() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    stub.set_code(
        CODE,
        CodeBehaviour::WaitsForBuyer {
            confirm_after_queries: 2,
        },
    );
    let sale = request("O-43", 30_000);
    let charge = waiting(alipay.charge_code(&sale, CODE).await);
    assert!(charge.raw.contains("\"code\":\"10003\""), "{}", charge.raw);
    assert_eq!(
        stub.trade(&charge.charge_ref).status,
        Some("WAIT_BUYER_PAY")
    );

    let open = [open(&charge, &sale)];
    assert!(alipay.poll(None, &open).await.unwrap().events.is_empty());
    let event = polled(&alipay, &open[0]).await;
    assert_eq!(event.status, PaymentStatus::Paid);
    assert_eq!(event.amount_minor, 30_000);
    assert_eq!(
        event.event_id,
        format!("query:{}:TRADE_SUCCESS", charge.charge_ref)
    );
    assert_eq!(methods(&stub.calls()), ["pay", "query", "query"]);
}

#[tokio::test]
async fn a_code_never_confirmed_is_cancelled_after_expiry_and_reported_expired() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    stub.set_code(CODE, CodeBehaviour::NeverConfirms);
    let sale = ChargeRequest {
        expires_at: Timestamp::now() + std::time::Duration::from_secs(60),
        ..request("O-44", 1200)
    };
    let charge = waiting(alipay.charge_code(&sale, CODE).await);
    assert_eq!(
        stub.trade(&charge.charge_ref).timeout_express.as_deref(),
        Some("1m")
    );
    let live = open(&charge, &sale);
    assert!(
        alipay
            .poll(None, std::slice::from_ref(&live))
            .await
            .unwrap()
            .events
            .is_empty()
    );

    // The till's minute is up.
    let expired = OpenCharge {
        expires_at: in_minutes(-1),
        ..live
    };
    let event = polled(&alipay, &expired).await;
    assert_eq!(event.status, PaymentStatus::Expired);
    assert_eq!(event.event_id, format!("expired:{}", charge.charge_ref));
    assert!(
        event.raw.contains("alipay_trade_cancel_response"),
        "{}",
        event.raw
    );
    assert!(event.raw.contains("\"action\":\"close\""), "{}", event.raw);
    assert_eq!(stub.trade(&charge.charge_ref).status, Some("TRADE_CLOSED"));
    assert_eq!(stub.trade(&charge.charge_ref).refunded_minor, 0);
    // Cancelled (which stops a late confirmation), never merely closed.
    assert_eq!(methods(&stub.calls()), ["pay", "query", "query", "cancel"]);
}

#[tokio::test]
async fn a_till_giving_up_cancels_the_code_and_a_late_confirmation_is_refunded() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    stub.set_code(CODE, CodeBehaviour::NeverConfirms);
    let sale = request("O-45", 5000);
    let charge = waiting(alipay.charge_code(&sale, CODE).await);
    // The customer confirms just as the cashier gives up on the sale.
    stub.pay(&charge.charge_ref, "2026-05-01 20:01:02");
    alipay.cancel(&open(&charge, &sale)).await.unwrap();

    let trade = stub.trade(&charge.charge_ref);
    assert_eq!(trade.status, Some("TRADE_CLOSED"));
    assert_eq!(
        trade.refunded_minor, 5000,
        "trade.cancel refunds a paid trade"
    );
    assert_eq!(methods(&stub.calls()), ["pay", "cancel"]);
}

#[tokio::test]
async fn a_refused_code_is_rejected_with_alipays_words_and_nothing_is_kept() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    for (sub_code, sub_msg) in [
        (
            "ACQ.PAYMENT_AUTH_CODE_INVALID",
            "支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款",
        ),
        ("ACQ.BUYER_BALANCE_NOT_ENOUGH", "买家余额不足"),
    ] {
        stub.set_code(CODE, CodeBehaviour::Refused { sub_code, sub_msg });
        match alipay.charge_code(&request("O-46", 100), CODE).await {
            Err(err @ ProviderError::Rejected { .. }) => {
                assert!(!err.is_retryable());
                assert!(err.to_string().contains(sub_msg), "{err}");
                let ProviderError::Rejected {
                    code, message, raw, ..
                } = err
                else {
                    unreachable!()
                };
                assert_eq!(code, sub_code);
                assert_eq!(message, sub_msg);
                assert!(raw.contains("alipay_trade_pay_response"));
            }
            other => panic!("{sub_code}: expected Rejected, got {other:?}"),
        }
    }
    assert!(stub.with(|g| g.trades.is_empty()));
    assert_eq!(methods(&stub.calls()), ["pay", "pay"]);
}

#[tokio::test]
async fn a_system_error_waits_and_the_query_finds_the_payment() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    stub.set_code(CODE, CodeBehaviour::SystemError);
    let sale = request("O-47", 4700);
    let charge = waiting(alipay.charge_code(&sale, CODE).await);
    assert!(charge.raw.contains("ACQ.SYSTEM_ERROR"), "{}", charge.raw);
    // The customer paid although the answer said "unknown": the query records it.
    let event = polled(&alipay, &open(&charge, &sale)).await;
    assert_eq!(event.status, PaymentStatus::Paid);
    assert_eq!(event.amount_minor, 4700);
}

#[tokio::test]
async fn lost_or_unreadable_answers_wait_and_the_queries_settle_them() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let sale = request("O-48", 4800);

    // Nothing reached Alipay's trade (its gateway failed first): nothing to find, and the
    // charge is cancelled once it expires.
    for fault in [Fault::ServerError, Fault::Garbage] {
        stub.fault(fault);
        let charge = waiting(alipay.charge_code(&sale, CODE).await);
        assert!(charge.raw.contains("outcome_unknown"), "{}", charge.raw);
        assert!(!charge.raw.contains(CODE), "the code is not kept");
        let live = open(&charge, &sale);
        assert!(
            alipay
                .poll(None, std::slice::from_ref(&live))
                .await
                .unwrap()
                .events
                .is_empty()
        );
        let expired = OpenCharge {
            expires_at: in_minutes(-1),
            ..live
        };
        assert_eq!(
            polled(&alipay, &expired).await.status,
            PaymentStatus::Expired
        );
    }

    // A signed answer about someone else's trade is not taken for ours: the query is.
    stub.fault(Fault::OtherTrade);
    let charge = waiting(alipay.charge_code(&sale, CODE).await);
    assert!(charge.raw.contains("SOMEONE_ELSES_TRADE"), "{}", charge.raw);
    let event = polled(&alipay, &open(&charge, &sale)).await;
    assert_eq!(event.status, PaymentStatus::Paid);
    assert_eq!(
        event.charge_ref.as_deref(),
        Some(charge.charge_ref.as_str())
    );
}

#[tokio::test]
async fn a_connection_lost_after_sending_waits_and_one_never_made_is_an_error() {
    // A gateway that reads the request and hangs up without answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hang_up = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = vec![0u8; 64 * 1024];
            let _ = socket.read(&mut buffer).await;
        }
    });
    let stub = Stub::start().await;
    let gateway = |url: &str| {
        AlipayProvider::new(AlipayConfig {
            gateway: shopcast_payments::alipay::Gateway::Custom(url.parse().unwrap()),
            ..config(&stub)
        })
        .unwrap()
    };
    let sale = request("O-49", 100);
    let charge = waiting(
        gateway(&format!("http://{addr}/gateway.do"))
            .charge_code(&sale, CODE)
            .await,
    );
    assert!(charge.raw.contains("outcome_unknown"), "{}", charge.raw);
    hang_up.abort();

    // Nothing listening: the request never left, so the cashier hears it now.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nobody = closed.local_addr().unwrap();
    drop(closed);
    match gateway(&format!("http://{nobody}/gateway.do"))
        .charge_code(&sale, CODE)
        .await
    {
        Err(ProviderError::Unreachable { .. }) => {}
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_forged_success_is_refused_and_the_trade_cancelled_so_no_customer_pays() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    for (order, fault) in [("O-50", Fault::UnsignedSuccess), ("O-51", Fault::Tampered)] {
        stub.fault(fault);
        let sale = request(order, 5000);
        match alipay.charge_code(&sale, CODE).await {
            Err(err @ ProviderError::BadSignature { .. }) => {
                assert!(err.to_string().contains("cancelled"), "{err}");
            }
            other => panic!("{fault:?}: expected BadSignature, got {other:?}"),
        }
        // The payment had gone through at Alipay; the cancel gave the money back.
        let trade = stub.with(|g| {
            g.trades
                .values()
                .find(|t| {
                    t.out_trade_no
                        .starts_with(&format!("{}_", order.replace('-', "_")))
                })
                .cloned()
                .unwrap()
        });
        assert_eq!(trade.status, Some("TRADE_CLOSED"));
        assert_eq!(trade.refunded_minor, 5000);
    }
    assert_eq!(methods(&stub.calls()), ["pay", "cancel", "pay", "cancel"]);

    // The cancel's answer forged too: the charge waits, and the watcher's signed query
    // finds the truth (here: cancelled and refunded after all).
    stub.fault(Fault::UnsignedSuccess);
    stub.fault(Fault::UnsignedSuccess);
    let sale = request("O-52", 5200);
    let charge = waiting(alipay.charge_code(&sale, CODE).await);
    let event = polled(&alipay, &open(&charge, &sale)).await;
    assert_eq!(event.status, PaymentStatus::Expired);
    assert_eq!(
        event.event_id,
        format!("query:{}:TRADE_CLOSED", charge.charge_ref)
    );
    assert_eq!(stub.trade(&charge.charge_ref).refunded_minor, 5200);
}

#[tokio::test]
async fn codes_are_charged_in_yuan_only_and_nothing_is_sent_otherwise() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    let dollars = ChargeRequest {
        currency: "USD".to_string(),
        ..request("O-53", 1000)
    };
    match alipay.charge_code(&dollars, CODE).await {
        Err(ProviderError::Config { detail, .. }) => {
            assert!(detail.contains("CNY"), "{detail}");
        }
        other => panic!("expected Config, got {other:?}"),
    }
    assert_eq!(stub.requests(), 0);
}

#[tokio::test]
async fn a_code_that_is_not_alipays_is_refused_before_anything_is_sent() {
    let stub = Stub::start().await;
    let alipay = provider(&stub);
    for (code, words) in [
        (
            "134567890123456789",
            "WeChat Pay payment code, not an Alipay one",
        ),
        ("6901234567892", "not an Alipay or WeChat Pay payment code"),
        ("2876543210", "16 to 24"),
    ] {
        match alipay.charge_code(&request("O-54", 100), code).await {
            Err(ProviderError::Rejected { message, .. }) => {
                assert!(message.contains(words), "{code}: {message}");
            }
            other => panic!("{code}: expected Rejected, got {other:?}"),
        }
    }
    assert_eq!(stub.requests(), 0);
    // What the scanner typed, Enter included, is charged as its digits.
    let (charge, _) = paid(
        alipay
            .charge_code(&request("O-55", 100), &format!("{CODE}\r\n"))
            .await,
    );
    assert_eq!(
        stub.trade(&charge.charge_ref).auth_code.as_deref(),
        Some(CODE)
    );
}

#[tokio::test]
async fn a_request_the_gateway_cannot_verify_is_rejected_not_left_waiting() {
    let stub = Stub::start().await;
    let wrong_key = AlipayProvider::new(AlipayConfig {
        app_private_key: keys().alipay.private_pkcs8_pem(),
        ..config(&stub)
    })
    .unwrap();
    match wrong_key.charge_code(&request("O-56", 100), CODE).await {
        Err(ProviderError::Rejected { code, .. }) => assert_eq!(code, "isv.invalid-signature"),
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(stub.calls().is_empty());
}

#[test]
fn timeout_express_covers_the_charges_expiry_in_whole_minutes() {
    let at: Timestamp = "2026-05-01T12:00:00Z".parse().unwrap();
    for (seconds, expected) in [
        (60, "1m"),
        (61, "2m"),
        (1, "1m"),
        (-30, "1m"),
        (300, "5m"),
        (3 * 3600, "180m"),
        (40 * 86_400, "21600m"),
    ] {
        let sale = ChargeRequest {
            expires_at: at + jiff::SignedDuration::from_secs(seconds),
            ..request("O-57", 100)
        };
        let content = wire::code_pay_content(&sale, "O_57_x_C", CODE, at).unwrap();
        assert_eq!(
            content.get("timeout_express"),
            Some(expected),
            "{seconds} s"
        );
        assert_eq!(content.get("scene"), Some("bar_code"));
        assert_eq!(content.get("product_code"), Some("FACE_TO_FACE_PAYMENT"));
        assert_eq!(content.get("auth_code"), Some(CODE));
        assert_eq!(content.get("total_amount"), Some("1.00"));
    }
}
