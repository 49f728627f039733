//! Races and wrong answers the gateway cannot stage on its own, from a peer that plays back
//! scripted replies signed with "WeChat Pay's" key: a QR paid between the query and the close,
//! and signed answers about another trade, merchant or AppID (refused, nothing recorded).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::sign::{APPID, MCHID, keys};
use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use shopcast_payments::poll::PollSchedule;
use shopcast_payments::wechat::sign::{self, MerchantKey};
use shopcast_payments::wechat::{WechatConfig, WechatProvider, wire};
use shopcast_payments::{
    ChargeRequest, CodeCharge, OpenCharge, PaymentProvider, PaymentStatus, ProviderError,
    RefundRequest,
};

const KEY_ID: &str = "PUB_KEY_ID_0119000001092026SCRIPTED";

/// Replies played back in order, each signed except 401s (a refused request signature may
/// come back unsigned); every request's path is kept.
struct Peer {
    url: String,
    private_pem: String,
    public_pem: String,
    script: Arc<Mutex<VecDeque<(u16, String)>>>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Peer {
    async fn start(script: Vec<(u16, serde_json::Value)>) -> Peer {
        let pair = &keys().wechatpay;
        let (private_pem, public_pem) = (pair.private_pem.clone(), pair.public_pem.clone());
        let key = Arc::new(MerchantKey::parse(&private_pem).unwrap());
        let script = Arc::new(Mutex::new(
            script
                .into_iter()
                .map(|(status, body)| {
                    let text = if status == 204 {
                        String::new()
                    } else {
                        body.to_string()
                    };
                    (status, text)
                })
                .collect::<VecDeque<_>>(),
        ));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (replies, paths) = (script.clone(), seen.clone());
        let app = Router::new().fallback(move |uri: Uri| {
            let (replies, paths, key) = (replies.clone(), paths.clone(), key.clone());
            async move {
                paths.lock().unwrap().push(uri.to_string());
                let (status, body) = replies.lock().unwrap().pop_front().unwrap_or((
                    500,
                    r#"{"code":"SYSTEM_ERROR","message":"script over"}"#.into(),
                ));
                if status == 401 {
                    return (StatusCode::UNAUTHORIZED, body).into_response();
                }
                let timestamp = Timestamp::now().as_second();
                let nonce = sign::new_nonce();
                let signature = sign::sign_reply(timestamp, &nonce, &body, &key);
                let mut response: Response =
                    (StatusCode::from_u16(status).unwrap(), body.clone()).into_response();
                let headers = response.headers_mut();
                for (name, value) in [
                    ("Wechatpay-Timestamp", timestamp.to_string()),
                    ("Wechatpay-Nonce", nonce),
                    ("Wechatpay-Signature", signature),
                    ("Wechatpay-Serial", KEY_ID.to_string()),
                    ("Wechatpay-Signature-Type", sign::SIGNATURE_TYPE.to_string()),
                    ("Content-Type", "application/json".to_string()),
                ] {
                    headers.insert(name, value.parse().unwrap());
                }
                response
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Peer {
            url,
            private_pem,
            public_pem,
            script,
            seen,
        }
    }

    fn config(&self) -> WechatConfig {
        WechatConfig {
            api_base: self.url.clone(),
            mchid: MCHID.to_string(),
            appid: APPID.to_string(),
            merchant_serial: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1".to_string(),
            merchant_private_key: self.private_pem.clone(),
            apiv3_key: "0123456789ABCDEFGHIJKLMNOPQRSTUV".to_string(),
            wechatpay_public_key: Some(self.public_pem.clone()),
            wechatpay_public_key_id: Some(KEY_ID.to_string()),
            notify_url: None,
        }
    }

    fn provider(&self) -> WechatProvider {
        WechatProvider::new(self.config())
            .unwrap()
            .with_poll_schedule(PollSchedule {
                fast: Duration::ZERO,
                fast_for: Duration::ZERO,
                slow: Duration::ZERO,
            })
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    fn left(&self) -> usize {
        self.script.lock().unwrap().len()
    }
}

fn transaction(out_trade_no: &str, state: &str) -> serde_json::Value {
    let mut value = json!({
        "appid": APPID,
        "mchid": MCHID,
        "out_trade_no": out_trade_no,
        "trade_type": "NATIVE",
        "trade_state": state,
        "trade_state_desc": state,
        "amount": { "total": 600, "currency": "CNY" },
    });
    if state == "SUCCESS" {
        value["transaction_id"] = json!("4200000001202605010000000001");
        value["success_time"] = json!("2026-05-01T20:00:00+08:00");
        value["amount"]["payer_total"] = json!(600);
    }
    value
}

fn open(charge_ref: &str, expired: bool) -> OpenCharge {
    let shift = SignedDuration::from_mins(5);
    OpenCharge {
        charge_ref: charge_ref.to_string(),
        order_ref: "O-100".to_string(),
        amount_minor: 600,
        currency: "CNY".to_string(),
        expires_at: if expired {
            Timestamp::now() - shift
        } else {
            Timestamp::now() + shift
        },
    }
}

#[tokio::test]
async fn a_qr_paid_between_the_query_and_the_close_is_reported_paid() {
    let number = "O_100_race";
    let peer = Peer::start(vec![
        (200, transaction(number, "NOTPAY")),
        (
            400,
            json!({ "code": "ORDERPAID", "message": "订单已支付，不能关闭" }),
        ),
        (200, transaction(number, "SUCCESS")),
    ])
    .await;
    let outcome = peer
        .provider()
        .poll(None, &[open(number, true)])
        .await
        .unwrap();
    assert_eq!(outcome.events.len(), 1, "{:?}", outcome.events);
    let event = &outcome.events[0];
    assert_eq!(event.status, PaymentStatus::Paid);
    assert_eq!(event.amount_minor, 600);
    assert_eq!(event.provider_ref, "4200000001202605010000000001");
    assert_eq!(event.event_id, wire::state_event_id(number, "SUCCESS"));
    assert_eq!(peer.left(), 0);
    assert!(peer.seen()[1].ends_with("/close"));
}

#[tokio::test]
async fn signed_answers_about_another_trade_merchant_or_app_are_refused() {
    let number = "O_100_mine";
    let mut other_mchid = transaction(number, "SUCCESS");
    other_mchid["mchid"] = json!("1230000109");
    let mut other_appid = transaction(number, "SUCCESS");
    other_appid["appid"] = json!("wx0000000000000000");
    for (what, reply) in [
        ("trade", transaction("O_999_theirs", "SUCCESS")),
        ("merchant", other_mchid),
        ("app", other_appid),
    ] {
        let peer = Peer::start(vec![(200, reply)]).await;
        let err = peer
            .provider()
            .poll(None, &[open(number, false)])
            .await
            .unwrap_err();
        assert!(
            matches!(err, ProviderError::BadResponse { .. }),
            "{what}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_codepay_answer_about_another_trade_leaves_the_charge_waiting() {
    let peer = Peer::start(vec![(200, transaction("O_999_theirs", "SUCCESS"))]).await;
    let request = ChargeRequest {
        order_ref: "O-101".to_string(),
        amount_minor: 600,
        currency: "CNY".to_string(),
        subject: "茶".to_string(),
        lines: Vec::new(),
        expires_at: Timestamp::now() + SignedDuration::from_mins(1),
        source_tag: None,
        web: None,
    };
    // The codepay was sent: our trade may exist, so it is queried and reversed on expiry,
    // never dropped on the word of an answer about someone else's trade.
    let reply = peer
        .provider()
        .charge_code(&request, "134567890123456789")
        .await
        .unwrap();
    let CodeCharge::Waiting { charge } = reply else {
        panic!("expected waiting, got {reply:?}");
    };
    assert!(wire::is_code_trade(&charge.charge_ref));
    // An unreadable 200 likewise waits.
    let peer = Peer::start(vec![(200, json!({ "trade_state": 7 }))]).await;
    let reply = peer
        .provider()
        .charge_code(&request, "134567890123456789")
        .await
        .unwrap();
    assert!(matches!(reply, CodeCharge::Waiting { .. }), "{reply:?}");
}

#[tokio::test]
async fn an_unsigned_401_is_the_key_sentence_and_its_words_are_not_believed() {
    let not_exist = json!({ "code": "ORDER_NOT_EXIST", "message": "订单不存在" });
    let peer = Peer::start(vec![(401, not_exist.clone())]).await;
    let err = peer.provider().check_credentials().await.unwrap_err();
    match err {
        ProviderError::Config { detail, .. } => assert!(
            detail.contains("the merchant key or its serial number is wrong"),
            "{detail}"
        ),
        other => panic!("expected Config, got {other:?}"),
    }
    // Nor may it expire a charge.
    let peer = Peer::start(vec![(401, not_exist)]).await;
    let err = peer
        .provider()
        .poll(None, &[open("O_100_forged", true)])
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::Config { .. }), "{err:?}");
    assert_eq!(peer.seen().len(), 1, "no close after an unsigned word");
}

#[tokio::test]
async fn a_refused_reverse_or_close_keeps_the_charge_open_and_is_retryable() {
    let refusals = [
        json!({ "code": "INVALID_REQUEST", "message": "交易成功后15秒内不能撤销" }),
        json!({ "code": "SYSTEMERROR", "message": "系统错误" }),
    ];
    for refusal in refusals {
        // Expired code: the query says USERPAYING, the reverse is refused.
        let peer = Peer::start(vec![
            (200, transaction("O_100_code_C", "USERPAYING")),
            (403, refusal.clone()),
        ])
        .await;
        let err = peer
            .provider()
            .poll(None, &[open("O_100_code_C", true)])
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "{err:?}");
        assert!(!matches!(err, ProviderError::Rejected { .. }), "{err:?}");
        // Cancelled at the till: asked first (unpaid), then the reverse is refused.
        let peer = Peer::start(vec![
            (200, transaction("O_100_code_C", "USERPAYING")),
            (403, refusal.clone()),
        ])
        .await;
        let err = peer
            .provider()
            .cancel(&open("O_100_code_C", false))
            .await
            .unwrap_err();
        assert!(
            err.is_retryable() && !matches!(err, ProviderError::Rejected { .. }),
            "{err:?}"
        );
        // Cancelled at the till, and even the query before the reverse is refused.
        let peer = Peer::start(vec![(403, refusal.clone())]).await;
        let err = peer
            .provider()
            .cancel(&open("O_100_code_C", false))
            .await
            .unwrap_err();
        assert!(
            err.is_retryable() && !matches!(err, ProviderError::Rejected { .. }),
            "{err:?}"
        );
        assert_eq!(peer.seen().len(), 1, "not reversed without knowing");
        // A QR's close refused the same way.
        let peer = Peer::start(vec![(403, refusal.clone())]).await;
        let err = peer
            .provider()
            .cancel(&open("O_100_qr", false))
            .await
            .unwrap_err();
        assert!(
            err.is_retryable() && !matches!(err, ProviderError::Rejected { .. }),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn an_expired_code_is_reversed_once_without_asking_twice() {
    let number = "O_100_wait_C";
    let peer = Peer::start(vec![
        (200, transaction(number, "USERPAYING")),
        (
            200,
            json!({ "appid": APPID, "mchid": MCHID, "out_trade_no": number }),
        ),
    ])
    .await;
    let outcome = peer
        .provider()
        .poll(None, &[open(number, true)])
        .await
        .unwrap();
    assert_eq!(outcome.events.len(), 1);
    assert_eq!(outcome.events[0].status, PaymentStatus::Expired);
    assert_eq!(
        outcome.events[0].event_id,
        wire::state_event_id(number, "REVOKED")
    );
    let seen = peer.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[1].ends_with("/reverse"), "{seen:?}");
}

#[tokio::test]
async fn a_code_wechat_pay_never_heard_of_is_still_reversed_before_it_expires() {
    let number = "O_100_lost_C";
    let not_exist = json!({ "code": "ORDER_NOT_EXIST", "message": "订单不存在" });
    let peer = Peer::start(vec![(404, not_exist.clone()), (404, not_exist)]).await;
    let outcome = peer
        .provider()
        .poll(None, &[open(number, true)])
        .await
        .unwrap();
    assert_eq!(outcome.events.len(), 1);
    assert_eq!(outcome.events[0].status, PaymentStatus::Expired);
    let seen = peer.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[1].ends_with(&format!("{number}/reverse")), "{seen:?}");
    // Not yet expired: it waits, nothing reversed.
    let peer = Peer::start(vec![(
        404,
        json!({ "code": "ORDER_NOT_EXIST", "message": "订单不存在" }),
    )])
    .await;
    let outcome = peer
        .provider()
        .poll(None, &[open(number, false)])
        .await
        .unwrap();
    assert!(outcome.events.is_empty());
    assert_eq!(peer.seen().len(), 1);
}

fn refund_reply(status: &str) -> serde_json::Value {
    json!({
        "refund_id": "50000000382019052709732678859",
        "out_refund_no": "R_100_1",
        "out_trade_no": "O_100_paid",
        "status": status,
        "amount": { "refund": 200, "total": 600, "currency": "CNY" },
    })
}

fn refund_request() -> RefundRequest {
    RefundRequest {
        provider_ref: "4200000001202605010000000001".to_string(),
        charge_ref: Some("O_100_paid".to_string()),
        amount_minor: 200,
        currency: "CNY".to_string(),
        refund_ref: "R_100_1".to_string(),
        reason: None,
    }
}

#[tokio::test]
async fn a_refund_still_processing_is_a_retryable_error_naming_the_same_refund_number() {
    let mut script = vec![
        (200, transaction("O_100_paid", "SUCCESS")),
        (200, refund_reply("PROCESSING")),
    ];
    script.extend(std::iter::repeat_n((200, refund_reply("PROCESSING")), 10));
    let peer = Peer::start(script).await;
    let err = peer
        .provider()
        .with_refund_wait(Duration::from_millis(700))
        .refund(&refund_request())
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("R_100_1") && text.contains("same refund number"),
        "{text}"
    );
    assert!(peer.seen()[2].ends_with("/v3/refund/domestic/refunds/R_100_1"));
}

#[tokio::test]
async fn a_closed_or_abnormal_refund_is_rejected() {
    for status in ["CLOSED", "ABNORMAL"] {
        let peer = Peer::start(vec![
            (200, transaction("O_100_paid", "SUCCESS")),
            (200, refund_reply("PROCESSING")),
            (200, refund_reply(status)),
        ])
        .await;
        let err = peer.provider().refund(&refund_request()).await.unwrap_err();
        assert!(
            matches!(err, ProviderError::Rejected { ref code, .. } if code == status),
            "{status}: {err:?}"
        );
    }
}

/// A peer that reads the request and hangs up without answering: the request may have
/// arrived (a lost answer), unlike a connection that was never made.
async fn hang_up_peer() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buffer = [0u8; 4096];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buffer).await;
            drop(socket);
        }
    });
    url
}

fn code_request() -> ChargeRequest {
    ChargeRequest {
        order_ref: "O-102".to_string(),
        amount_minor: 600,
        currency: "CNY".to_string(),
        subject: "茶".to_string(),
        lines: Vec::new(),
        expires_at: Timestamp::now() + SignedDuration::from_mins(1),
        source_tag: None,
        web: None,
    }
}

#[tokio::test]
async fn a_lost_answer_is_retryable_and_leaves_a_payment_code_waiting() {
    let peer = Peer::start(Vec::new()).await;
    let url = hang_up_peer().await;
    let provider = WechatProvider::new(WechatConfig {
        api_base: url,
        ..peer.config()
    })
    .unwrap();
    let err = provider
        .poll(None, &[open("O_100_lost", false)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProviderError::Unreachable { .. }) && err.is_retryable(),
        "{err:?}"
    );
    let reply = provider
        .charge_code(&code_request(), "134567890123456789")
        .await
        .unwrap();
    assert!(matches!(reply, CodeCharge::Waiting { .. }), "{reply:?}");
}

#[tokio::test]
async fn a_payment_code_that_never_left_the_computer_is_an_error() {
    let peer = Peer::start(Vec::new()).await;
    // A port nobody listens on any more: the connection is refused.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let provider = WechatProvider::new(WechatConfig {
        api_base: url,
        ..peer.config()
    })
    .unwrap();
    let err = provider
        .charge_code(&code_request(), "134567890123456789")
        .await
        .unwrap_err();
    assert!(shopcast_payments::http::never_sent(&err), "{err:?}");
}
