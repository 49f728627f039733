//! The WeChat Pay provider against the local gateway: Native QR paid and expired (closed),
//! payment codes paid, waiting, reversed and declined, refunds, and every way a reply can be
//! wrong (forged, tampered, stale, unknown serial, 429/500, garbage, another currency).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use shopcast_payments::poll::PollSchedule;
use shopcast_payments::wechat::{WechatConfig, WechatProvider, wire};
use shopcast_payments::{
    Charge, ChargeRequest, CodeCharge, OpenCharge, PaymentProvider, PaymentStatus, ProviderError,
    RefundRequest, WebCheckout,
};
use shopcast_testkit::{CodeBehaviour, Fault, WechatGateway};

/// Queries every open charge on every poll, so tests need not wait.
const EVERY_POLL: PollSchedule = PollSchedule {
    fast: Duration::ZERO,
    fast_for: Duration::ZERO,
    slow: Duration::ZERO,
};

/// A WeChat Pay payment code (18 digits starting 10–15).
const CODE: &str = "134567890123456789";

fn config(gateway: &WechatGateway) -> WechatConfig {
    WechatConfig {
        api_base: gateway.url.clone(),
        mchid: gateway.mchid.clone(),
        appid: gateway.appid.clone(),
        merchant_serial: gateway.merchant_serial.clone(),
        merchant_private_key: gateway.merchant_private_key_pem.clone(),
        apiv3_key: gateway.apiv3_key.clone(),
        wechatpay_public_key: Some(gateway.wechatpay_public_key_pem.clone()),
        wechatpay_public_key_id: Some(gateway.public_key_id.clone()),
        notify_url: Some("https://shop.example/hooks/wechat".to_string()),
    }
}

fn provider(gateway: &WechatGateway) -> WechatProvider {
    WechatProvider::new(config(gateway))
        .unwrap()
        .with_poll_schedule(EVERY_POLL)
}

fn request(order_ref: &str, amount_minor: i64) -> ChargeRequest {
    ChargeRequest {
        order_ref: order_ref.to_string(),
        amount_minor,
        currency: "CNY".to_string(),
        subject: "青花瓷杯 ×2".to_string(),
        lines: Vec::new(),
        expires_at: Timestamp::now() + SignedDuration::from_mins(5),
        source_tag: Some("till".to_string()),
        web: None,
    }
}

/// The same request, already past its expiry.
fn expired(mut request: ChargeRequest) -> ChargeRequest {
    request.expires_at = Timestamp::now() - SignedDuration::from_secs(1);
    request
}

fn open(charge: &Charge, request: &ChargeRequest) -> OpenCharge {
    OpenCharge {
        charge_ref: charge.charge_ref.clone(),
        order_ref: request.order_ref.clone(),
        amount_minor: request.amount_minor,
        currency: request.currency.clone(),
        expires_at: charge.expires_at,
    }
}

fn body_of(gateway: &WechatGateway, path: &str) -> Value {
    let request = gateway
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path == path)
        .unwrap_or_else(|| panic!("no request to {path}"));
    serde_json::from_str(&request.body).unwrap()
}

fn paths(gateway: &WechatGateway) -> Vec<String> {
    gateway.requests().into_iter().map(|r| r.path).collect()
}

#[tokio::test]
async fn a_native_qr_waits_while_notpay_and_reports_the_payment_once_paid() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    let request = request("O-42", 8_800);
    let charge = provider.create_charge(&request).await.unwrap();
    assert!(
        charge
            .qr_payload
            .starts_with("weixin://wxpay/bizpayurl?pr=")
    );
    assert!(
        charge.charge_ref.starts_with("O_42_"),
        "{}",
        charge.charge_ref
    );
    assert!(charge.charge_ref.len() <= 32);

    let sent = body_of(&gateway, wire::NATIVE);
    assert_eq!(sent["amount"]["total"], 8_800);
    assert_eq!(sent["amount"]["currency"], "CNY");
    assert_eq!(sent["out_trade_no"], charge.charge_ref.as_str());
    assert_eq!(sent["mchid"], gateway.mchid.as_str());
    assert_eq!(sent["notify_url"], "https://shop.example/hooks/wechat");
    let expire = sent["time_expire"].as_str().unwrap();
    assert!(expire.ends_with("+08:00"), "{expire}");
    assert_eq!(
        expire.parse::<Timestamp>().unwrap().as_second(),
        request.expires_at.as_second()
    );
    assert!(gateway.requests().iter().all(|r| r.signature_ok));

    let open = [open(&charge, &request)];
    let outcome = provider.poll(None, &open).await.unwrap();
    assert!(outcome.events.is_empty(), "{:?}", outcome.events);
    assert_eq!(gateway.trade(&charge.charge_ref).unwrap().state, "NOTPAY");

    gateway.pay(&charge.charge_ref);
    let outcome = provider.poll(None, &open).await.unwrap();
    assert_eq!(outcome.events.len(), 1);
    let event = &outcome.events[0];
    let trade = gateway.trade(&charge.charge_ref).unwrap();
    assert_eq!(event.status, PaymentStatus::Paid);
    assert_eq!(event.amount_minor, 8_800);
    assert_eq!(event.currency, "CNY");
    assert_eq!(Some(&event.provider_ref), trade.transaction_id.as_ref());
    assert_eq!(event.order_ref.as_deref(), Some("O-42"));
    assert_eq!(
        event.charge_ref.as_deref(),
        Some(charge.charge_ref.as_str())
    );
    assert_eq!(
        event.event_id,
        wire::state_event_id(&charge.charge_ref, "SUCCESS")
    );
}

#[tokio::test]
async fn a_new_qr_for_the_same_order_gets_a_new_trade_number() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    let first = provider.create_charge(&request("O-7", 100)).await.unwrap();
    let second = provider.create_charge(&request("O-7", 100)).await.unwrap();
    assert_ne!(first.charge_ref, second.charge_ref);
}

#[tokio::test]
async fn an_expired_qr_is_closed_at_wechat_pay_and_reported_expired() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    let request = expired(request("O-43", 500));
    let charge = provider.create_charge(&request).await.unwrap();
    let outcome = provider
        .poll(None, &[open(&charge, &request)])
        .await
        .unwrap();
    assert_eq!(outcome.events.len(), 1);
    assert_eq!(outcome.events[0].status, PaymentStatus::Expired);
    assert_eq!(outcome.events[0].amount_minor, 500);
    let trade = gateway.trade(&charge.charge_ref).unwrap();
    assert!(trade.closed);
    assert_eq!(trade.state, "CLOSED");
    let close = format!(
        "/v3/pay/transactions/out-trade-no/{}/close",
        charge.charge_ref
    );
    assert_eq!(body_of(&gateway, &close)["mchid"], gateway.mchid.as_str());
}

#[tokio::test]
async fn cancelling_a_qr_closes_it_and_a_paid_one_stays_paid() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    let request = request("O-44", 300);
    let charge = provider.create_charge(&request).await.unwrap();
    provider.cancel(&open(&charge, &request)).await.unwrap();
    assert!(gateway.trade(&charge.charge_ref).unwrap().closed);

    let paid = provider.create_charge(&request).await.unwrap();
    gateway.pay(&paid.charge_ref);
    let err = provider.cancel(&open(&paid, &request)).await.unwrap_err();
    // Not Rejected: the engine takes a refusal as "withdrawn" and would stop watching it.
    assert!(matches!(err, ProviderError::Paid { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(err.code(), "provider_rejected");
    assert_eq!(gateway.trade(&paid.charge_ref).unwrap().state, "SUCCESS");
    let outcome = provider.poll(None, &[open(&paid, &request)]).await.unwrap();
    assert_eq!(outcome.events[0].status, PaymentStatus::Paid);
}

#[tokio::test]
async fn cancelling_a_code_the_customer_has_just_confirmed_is_paid_and_the_next_poll_says_so() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    gateway.set_code(CODE, CodeBehaviour::NeverConfirms);
    let request = request("O-45", 800);
    let CodeCharge::Waiting { charge } = provider.charge_code(&request, CODE).await.unwrap() else {
        panic!("expected waiting");
    };
    // The customer enters the password just as the cashier cancels the sale.
    gateway.pay(&charge.charge_ref);
    let err = provider.cancel(&open(&charge, &request)).await.unwrap_err();
    assert!(matches!(err, ProviderError::Paid { .. }), "{err:?}");
    let trade = gateway.trade(&charge.charge_ref).unwrap();
    assert_eq!(trade.state, "SUCCESS");
    assert!(
        !trade.reversed,
        "a paid code is never reversed (that would refund it)"
    );
    let outcome = provider
        .poll(None, &[open(&charge, &request)])
        .await
        .unwrap();
    assert_eq!(outcome.events.len(), 1);
    assert_eq!(outcome.events[0].status, PaymentStatus::Paid);
    assert_eq!(outcome.events[0].amount_minor, 800);
}

#[tokio::test]
async fn another_providers_code_is_refused_before_anything_is_sent() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    let err = provider
        .charge_code(&request("O-46", 100), "285678901234567890")
        .await
        .unwrap_err();
    match err {
        ProviderError::Rejected { code, message, .. } => {
            assert_eq!(code, "INVALID_AUTH_CODE");
            assert_eq!(
                message,
                "This is an Alipay payment code, not a WeChat Pay one."
            );
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(gateway.requests().is_empty(), "{:?}", paths(&gateway));
}

#[tokio::test]
async fn a_payment_code_paid_at_once_is_paid_with_the_event_a_query_would_give() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    let request = request("O-50", 1_250);
    let CodeCharge::Paid { charge, event } = provider.charge_code(&request, CODE).await.unwrap()
    else {
        panic!("expected paid at once");
    };
    assert!(
        charge
            .charge_ref
            .ends_with(shopcast_payments::CODE_TRADE_SUFFIX)
    );
    assert_eq!(event.status, PaymentStatus::Paid);
    assert_eq!(event.amount_minor, 1_250);
    assert_eq!(event.order_ref.as_deref(), Some("O-50"));
    assert_eq!(
        event.event_id,
        wire::state_event_id(&charge.charge_ref, "SUCCESS")
    );
    let sent = body_of(&gateway, wire::CODEPAY);
    assert_eq!(sent["payer"]["auth_code"], CODE);
    assert_eq!(sent["amount"]["total"], 1_250);
    assert_eq!(sent["scene_info"]["store_info"]["out_id"], "till");
    assert_eq!(sent["appid"], gateway.appid.as_str());
}

#[tokio::test]
async fn a_payment_code_waiting_for_the_password_is_paid_when_a_query_says_so() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    gateway.set_code(
        CODE,
        CodeBehaviour::UserPaying {
            confirm_after_queries: 2,
        },
    );
    let request = request("O-51", 9_900);
    let CodeCharge::Waiting { charge } = provider.charge_code(&request, CODE).await.unwrap() else {
        panic!("expected waiting");
    };
    assert_eq!(
        gateway.trade(&charge.charge_ref).unwrap().state,
        "USERPAYING"
    );
    let open = [open(&charge, &request)];
    assert!(provider.poll(None, &open).await.unwrap().events.is_empty());
    let outcome = provider.poll(None, &open).await.unwrap();
    assert_eq!(outcome.events.len(), 1);
    assert_eq!(outcome.events[0].status, PaymentStatus::Paid);
    assert_eq!(outcome.events[0].amount_minor, 9_900);
}

#[tokio::test]
async fn a_payment_code_never_confirmed_is_reversed_after_expiry() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    gateway.set_code(CODE, CodeBehaviour::NeverConfirms);
    let request = expired(request("O-52", 700));
    let CodeCharge::Waiting { charge } = provider.charge_code(&request, CODE).await.unwrap() else {
        panic!("expected waiting");
    };
    let outcome = provider
        .poll(None, &[open(&charge, &request)])
        .await
        .unwrap();
    assert_eq!(outcome.events.len(), 1);
    assert_eq!(outcome.events[0].status, PaymentStatus::Expired);
    let trade = gateway.trade(&charge.charge_ref).unwrap();
    assert_eq!(trade.state, "REVOKED");
    assert!(trade.reversed);
    assert!(!trade.closed, "a payment code is reversed, never closed");
    assert_eq!(trade.refunded, 0);
}

#[tokio::test]
async fn a_declined_payment_code_is_rejected_with_wechat_pays_words() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    gateway.set_code(
        CODE,
        CodeBehaviour::Declined {
            code: "NOTENOUGH".to_string(),
            message: "用户余额不足".to_string(),
        },
    );
    let err = provider
        .charge_code(&request("O-53", 100), CODE)
        .await
        .unwrap_err();
    match err {
        ProviderError::Rejected { code, message, .. } => {
            assert_eq!(code, "NOTENOUGH");
            assert_eq!(message, "用户余额不足");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn an_uncertain_codepay_reply_leaves_the_charge_waiting() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    gateway.fail_next(Fault::status(500), 1);
    let reply = provider
        .charge_code(&request("O-54", 100), CODE)
        .await
        .unwrap();
    assert!(matches!(reply, CodeCharge::Waiting { .. }), "{reply:?}");
    gateway.fail_next(Fault::Unsigned, 1);
    let reply = provider
        .charge_code(&request("O-54", 100), "134567890123456780")
        .await
        .unwrap();
    let CodeCharge::Waiting { charge } = reply else {
        panic!("an unsigned paid reply must not count as paid: {reply:?}");
    };
    // The trade did go through: the next (signed) query reports it.
    let open = OpenCharge {
        charge_ref: charge.charge_ref.clone(),
        order_ref: "O-54".to_string(),
        amount_minor: 100,
        currency: "CNY".to_string(),
        expires_at: charge.expires_at,
    };
    let outcome = provider.poll(None, &[open]).await.unwrap();
    assert_eq!(outcome.events[0].status, PaymentStatus::Paid);
}

async fn paid_code(provider: &WechatProvider, order_ref: &str, amount: i64) -> (Charge, String) {
    match provider
        .charge_code(&request(order_ref, amount), CODE)
        .await
        .unwrap()
    {
        CodeCharge::Paid { charge, event } => (charge, event.provider_ref),
        other => panic!("expected paid, got {other:?}"),
    }
}

fn refund(charge: &Charge, provider_ref: &str, amount: i64, id: &str) -> RefundRequest {
    RefundRequest {
        provider_ref: provider_ref.to_string(),
        charge_ref: Some(charge.charge_ref.clone()),
        amount_minor: amount,
        currency: "CNY".to_string(),
        refund_ref: id.to_string(),
        reason: Some("顾客退货".to_string()),
    }
}

#[tokio::test]
async fn a_full_refund_is_followed_from_processing_to_success() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    let (charge, transaction_id) = paid_code(&provider, "O-60", 4_200).await;
    let done = provider
        .refund(&refund(&charge, &transaction_id, 4_200, "R_60_1"))
        .await
        .unwrap();
    assert_eq!(done.amount_minor, 4_200);
    assert!(done.raw.contains("\"SUCCESS\""), "{}", done.raw);
    let sent = body_of(&gateway, wire::REFUNDS);
    assert_eq!(sent["out_refund_no"], "R_60_1");
    assert_eq!(sent["amount"]["refund"], 4_200);
    assert_eq!(sent["amount"]["total"], 4_200);
    assert_eq!(sent["amount"]["currency"], "CNY");
    assert!(paths(&gateway).contains(&"/v3/refund/domestic/refunds/R_60_1".to_string()));
    assert_eq!(gateway.trade(&charge.charge_ref).unwrap().refunded, 4_200);
}

#[tokio::test]
async fn partial_refunds_state_the_whole_payment_and_a_retry_never_refunds_twice() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    let (charge, transaction_id) = paid_code(&provider, "O-61", 1_000).await;
    provider
        .refund(&refund(&charge, &transaction_id, 300, "R_61_1"))
        .await
        .unwrap();
    assert_eq!(body_of(&gateway, wire::REFUNDS)["amount"]["total"], 1_000);
    // The same refund again (a retry after a lost answer): nothing more goes back.
    provider
        .refund(&refund(&charge, &transaction_id, 300, "R_61_1"))
        .await
        .unwrap();
    assert_eq!(gateway.trade(&charge.charge_ref).unwrap().refunded, 300);
    provider
        .refund(&refund(&charge, &transaction_id, 700, "R_61_2"))
        .await
        .unwrap();
    assert_eq!(gateway.trade(&charge.charge_ref).unwrap().refunded, 1_000);
    let err = provider
        .refund(&refund(&charge, &transaction_id, 1, "R_61_3"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProviderError::Rejected { ref code, .. } if code == "NOT_ENOUGH"),
        "{err}"
    );
}

#[tokio::test]
async fn forged_tampered_stale_and_unknown_serial_replies_record_nothing() {
    for fault in [
        Fault::Unsigned,
        Fault::TamperedBody,
        Fault::StaleTimestamp,
        Fault::WrongSerial,
    ] {
        let gateway = WechatGateway::start().await;
        let provider = provider(&gateway);
        let request = request("O-70", 100);
        let charge = provider.create_charge(&request).await.unwrap();
        gateway.pay(&charge.charge_ref);
        let open = [open(&charge, &request)];
        gateway.fail_next(fault.clone(), 1);
        let err = provider.poll(None, &open).await.unwrap_err();
        assert!(
            matches!(err, ProviderError::BadSignature { .. }),
            "{fault:?}: {err:?}"
        );
        assert!(err.is_retryable());
        // The genuine answer after it is recorded.
        let outcome = provider.poll(None, &open).await.unwrap();
        assert_eq!(outcome.events.len(), 1, "{fault:?}");
        if fault == Fault::WrongSerial {
            assert!(
                paths(&gateway).contains(&wire::CERTIFICATES.to_string()),
                "an unknown serial fetches the platform certificates once"
            );
        }
    }
}

#[tokio::test]
async fn a_forged_qr_reply_is_refused_and_no_charge_made() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    gateway.fail_next(Fault::TamperedBody, 1);
    let err = provider
        .create_charge(&request("O-71", 100))
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::BadSignature { .. }), "{err:?}");
}

#[tokio::test]
async fn rate_limits_server_errors_and_garbage_are_retryable() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    let request = request("O-72", 100);
    let charge = provider.create_charge(&request).await.unwrap();
    let open = [open(&charge, &request)];
    gateway.fail_next(Fault::status(429), 1);
    let err = provider.poll(None, &open).await.unwrap_err();
    assert!(matches!(err, ProviderError::RateLimited { .. }), "{err:?}");
    gateway.fail_next(Fault::status(500), 1);
    let err = provider.poll(None, &open).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Server { status: 500, .. }),
        "{err:?}"
    );
    gateway.fail_next(Fault::Garbage, 1);
    let err = provider.poll(None, &open).await.unwrap_err();
    assert!(matches!(err, ProviderError::BadResponse { .. }), "{err:?}");
    gateway.fail_next(Fault::status(429), 1);
    assert!(provider.poll(None, &open).await.unwrap_err().is_retryable());
    gateway.fail_next(Fault::status(502), 1);
    assert!(provider.poll(None, &open).await.unwrap_err().is_retryable());
    // Nothing was lost: the next poll works.
    assert!(provider.poll(None, &open).await.unwrap().events.is_empty());
}

#[tokio::test]
async fn a_refused_request_signature_is_a_sentence_about_the_key_or_serial() {
    let gateway = WechatGateway::start().await;
    provider(&gateway).check_credentials().await.unwrap();
    let mut wrong = config(&gateway);
    wrong.merchant_serial = "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C".to_string();
    let err = WechatProvider::new(wrong)
        .unwrap()
        .check_credentials()
        .await
        .unwrap_err();
    match err {
        ProviderError::Config { detail, .. } => {
            assert!(
                detail.contains("the merchant key or its serial number is wrong"),
                "{detail}"
            )
        }
        other => panic!("expected Config, got {other:?}"),
    }
}

#[tokio::test]
async fn other_currencies_and_web_checkouts_are_refused_before_anything_is_sent() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    let mut dollars = request("O-80", 100);
    dollars.currency = "USD".to_string();
    let err = provider.create_charge(&dollars).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Config { ref detail, .. } if detail.contains("CNY")),
        "{err}"
    );
    let err = provider.charge_code(&dollars, CODE).await.unwrap_err();
    assert_eq!(err.code(), "provider_config");
    let err = provider
        .refund(&RefundRequest {
            provider_ref: "4200".to_string(),
            charge_ref: Some("O_80_x".to_string()),
            amount_minor: 100,
            currency: "USD".to_string(),
            refund_ref: "R_80_1".to_string(),
            reason: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "provider_config");
    let mut web = request("O-81", 100);
    web.web = Some(WebCheckout {
        return_url: "https://shop.example/r".to_string(),
        notify_url: None,
        phone: true,
    });
    let err = provider.create_charge(&web).await.unwrap_err();
    assert_eq!(err.code(), "provider_unsupported");
    assert!(gateway.requests().is_empty(), "{:?}", paths(&gateway));
}

#[tokio::test]
async fn platform_certificate_replies_are_checked_after_fetching_the_certificates() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    let files = gateway.use_platform_certificate();
    let request = request("O-90", 100);
    let charge = provider.create_charge(&request).await.unwrap();
    assert!(provider.verifiers().knows(&files.serial));
    gateway.pay(&charge.charge_ref);
    let outcome = provider
        .poll(None, &[open(&charge, &request)])
        .await
        .unwrap();
    assert_eq!(outcome.events.len(), 1);
    let fetched = paths(&gateway)
        .iter()
        .filter(|p| *p == wire::CERTIFICATES)
        .count();
    assert_eq!(fetched, 1, "certificates are fetched once, then kept");
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_under_an_unknown_serial_fetch_the_certificates_at_most_once_a_minute() {
    let gateway = WechatGateway::start().await;
    let provider = provider(&gateway);
    let files = tokio::task::block_in_place(|| gateway.use_platform_certificate());
    assert!(!provider.verifiers().knows(&files.serial));
    let verifiers = provider.verifiers_for(&files.serial).await.unwrap();
    assert!(verifiers.knows(&files.serial));
    let fetched = || {
        paths(&gateway)
            .iter()
            .filter(|p| *p == wire::CERTIFICATES)
            .count()
    };
    assert_eq!(fetched(), 1);
    // Known now: no download. A made-up serial within the minute: no download either.
    provider.verifiers_for(&files.serial).await.unwrap();
    let made_up = provider.verifiers_for("1234567890ABCDEF").await.unwrap();
    assert!(!made_up.knows("1234567890ABCDEF"));
    provider.verifiers_for("FEDCBA0987654321").await.unwrap();
    assert_eq!(fetched(), 1);
}

/// One change to working settings.
type Change = Box<dyn Fn(&mut WechatConfig)>;

#[tokio::test]
async fn settings_that_cannot_work_are_sentences() {
    let gateway = WechatGateway::start().await;
    let cases: Vec<(&str, Change)> = vec![
        ("mchid", Box::new(|c| c.mchid = " ".to_string())),
        ("apiv3", Box::new(|c| c.apiv3_key = "short".to_string())),
        (
            "key",
            Box::new(|c| c.merchant_private_key = "not a key".to_string()),
        ),
        ("key id", Box::new(|c| c.wechatpay_public_key_id = None)),
        (
            "base",
            Box::new(|c| c.api_base = "http://example.com".to_string()),
        ),
        (
            "notify",
            Box::new(|c| c.notify_url = Some("http://shop.example/hooks".to_string())),
        ),
    ];
    for (name, change) in cases {
        let mut config = config(&gateway);
        change(&mut config);
        let err = WechatProvider::new(config).unwrap_err();
        assert_eq!(err.code(), "provider_config", "{name}: {err}");
    }
    let debug = format!("{:?}", config(&gateway));
    assert!(!debug.contains(&gateway.apiv3_key));
    assert!(!debug.contains("PRIVATE KEY"));
}
