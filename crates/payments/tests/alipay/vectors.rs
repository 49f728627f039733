//! Our requests and reply checks against the official Alipay Python SDK
//! (`alipay-sdk-python`), through `tests/peers/alipay_vectors.py`: the same parameters must
//! give the same sign string and the same signature byte for byte, and each side must accept
//! the other's signed replies and refuse tampered ones. Web payment addresses equal the SDK's
//! `page_execute(…, "GET")`, and SDK-signed notifications verify here (and ours there).
//!
//! The SDK lives in the shared test venv; without it these tests fail and say how to install
//! it (tests/peers/setup.sh). They never skip.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Value, json};
use shopcast_payments::alipay::notify;
use shopcast_payments::alipay::sign::{
    AlipayPublicKey, AppPrivateKey, notification_sign_string, request_sign_string, sign_bytes,
    sign_request,
};
use shopcast_payments::alipay::wire::{self, BizContent};
use shopcast_payments::alipay::{AlipayConfig, AlipayProvider, Gateway, read_reply};
use shopcast_payments::{ChargeRequest, ProviderError, RefundRequest, WebCheckout};

use crate::keys::keys;
use crate::stub::{self, APP_ID};

const NOTIFY_URL: &str = "https://shop.example/alipay/notify?till=1&sig=a=b";

/// Runs one job through the SDK script and returns its answer.
fn sdk(mut job: Value) -> Value {
    job["app_id"] = APP_ID.into();
    job["app_private_key"] = keys().app.private_pkcs1_base64().into();
    job["alipay_private_key"] = keys().alipay.private_pkcs1_base64().into();
    job["alipay_public_key"] = keys().alipay.public_spki_base64().into();
    crate::venv::run_peer_script("alipay_vectors.py", &job)
}

fn provider() -> AlipayProvider {
    AlipayProvider::new(AlipayConfig {
        gateway: Gateway::Production,
        app_id: APP_ID.to_string(),
        // Not the SDK's PKCS#1 form: reading either form must sign the same.
        app_private_key: keys().app.private_pkcs8_pem(),
        alipay_public_key: keys().alipay.public_spki_pem(),
        notify_url: Some(NOTIFY_URL.to_string()),
    })
    .unwrap()
}

/// Order O-42, ¥88.00, expiring 2026-05-01 20:15 Beijing time.
fn charge(subject: &str) -> ChargeRequest {
    ChargeRequest {
        order_ref: "O-42".to_string(),
        amount_minor: 8800,
        currency: "CNY".to_string(),
        subject: subject.to_string(),
        lines: Vec::new(),
        expires_at: "2026-05-01T12:15:00Z".parse().unwrap(),
        source_tag: None,
        web: None,
    }
}

#[test]
fn requests_are_signed_exactly_as_the_official_sdk_signs_them() {
    let at: Timestamp = "2026-05-01T12:00:00Z".parse().unwrap();
    let sent_at = "2026-05-01 20:00:00";
    let charge = charge("青花瓷杯 ×2 — ¥88 \"礼盒\" & 茶=好/");
    let out_trade_no = wire::trade_number(&charge.order_ref);
    let refund = RefundRequest {
        provider_ref: "2026050122001412345678901234".to_string(),
        charge_ref: Some(out_trade_no.clone()),
        amount_minor: 1250,
        currency: "CNY".to_string(),
        refund_ref: "R-7".to_string(),
        reason: Some("顾客退货：杯口有裂 & \"不满意\" = 退\\款".to_string()),
    };
    // What each request must carry, written out by hand; the SDK builds its request from it.
    let cases: [(&str, BizContent, Value); 4] = [
        (
            wire::PRECREATE,
            wire::precreate_content(&charge, &out_trade_no).unwrap(),
            json!({
                "out_trade_no": out_trade_no,
                "total_amount": "88.00",
                "subject": "青花瓷杯 ×2 — ¥88 \"礼盒\" ＆ 茶＝好／",
                "time_expire": "2026-05-01 20:15:00",
            }),
        ),
        (
            wire::QUERY,
            wire::trade_content(&out_trade_no),
            json!({ "out_trade_no": out_trade_no }),
        ),
        (
            wire::CANCEL,
            wire::trade_content(&out_trade_no),
            json!({ "out_trade_no": out_trade_no }),
        ),
        (
            wire::REFUND,
            wire::refund_content(&refund).unwrap(),
            json!({
                "out_trade_no": out_trade_no,
                "trade_no": "2026050122001412345678901234",
                "refund_amount": "12.50",
                "out_request_no": "R-7",
                "refund_reason": "顾客退货：杯口有裂 & \"不满意\" = 退\\款",
            }),
        ),
    ];
    signed_like_the_sdk(&cases, at, sent_at);
}

/// Has the SDK build and sign each request from its hand-written `biz_content` (with the
/// SDK's model class where the script has one) at `sent_at`, and checks ours signed at `at`
/// equals it: the sign string, then every parameter, sign included.
fn signed_like_the_sdk(cases: &[(&str, BizContent, Value)], at: Timestamp, sent_at: &str) {
    let job = json!({
        "requests": cases.iter().map(|(method, _, biz)| json!({
            "method": method,
            "biz": biz,
            "notify_url": NOTIFY_URL,
            "timestamp": sent_at,
        })).collect::<Vec<_>>(),
    });
    let answer = sdk(job);

    let provider = provider();
    let references = answer["requests"].as_array().unwrap();
    assert_eq!(references.len(), cases.len());
    for ((method, content, _), reference) in cases.iter().zip(references) {
        let ours = provider.request_params(method, content, at).unwrap();
        let theirs: BTreeMap<String, String> =
            serde_json::from_value(reference["params"].clone()).unwrap();
        assert_eq!(ours["timestamp"], sent_at);
        assert_eq!(ours["method"], *method);
        assert_eq!(
            request_sign_string(&ours),
            reference["sign_content"].as_str().unwrap(),
            "{method}: sign string"
        );
        assert_eq!(ours, theirs, "{method}: every parameter, sign included");
    }
}

#[test]
fn payment_code_charges_are_signed_as_the_sdks_trade_pay_model_signs_them() {
    let at: Timestamp = "2026-05-01T12:00:00Z".parse().unwrap();
    let charge = charge("青花瓷杯 ×2 — ¥88 \"礼盒\" & 茶=好/");
    let out_trade_no = wire::code_trade_number(&charge.order_ref);
    let auth_code = "287654321098765432";
    let cases = [
        (
            wire::PAY,
            wire::code_pay_content(&charge, &out_trade_no, auth_code, at).unwrap(),
            json!({
                "out_trade_no": out_trade_no,
                "scene": "bar_code",
                "auth_code": auth_code,
                "product_code": "FACE_TO_FACE_PAYMENT",
                "subject": "青花瓷杯 ×2 — ¥88 \"礼盒\" ＆ 茶＝好／",
                "total_amount": "88.00",
                // The charge expires at 20:15 Beijing time, a quarter of an hour on.
                "timeout_express": "15m",
            }),
        ),
        // Withdrawing it: trade.cancel, as for a till QR.
        (
            wire::CANCEL,
            wire::trade_content(&out_trade_no),
            json!({ "out_trade_no": out_trade_no }),
        ),
    ];
    signed_like_the_sdk(&cases, at, "2026-05-01 20:00:00");
}

#[test]
fn sign_strings_match_the_sdk_for_awkward_values() {
    let cases = [
        BTreeMap::from([
            ("subject", "青花瓷杯 ×2 — ¥88"),
            ("quote", "他说\"好\"'的'"),
            ("amp", "a&b=c&d"),
            ("percent", "100% + 空格 %20"),
            ("newline", "line1\nline2\ttab"),
            ("emoji", "🍵☕"),
            ("empty", ""),
            ("sign", "ignored"),
            ("Zed", "capital sorts first"),
        ]),
        BTreeMap::from([("biz_content", r#"{"a":"{}","b":"\\\""}"#), ("a", "1")]),
    ];
    let job = json!({
        "sign_strings": cases.iter().map(|params| json!({ "params": params })).collect::<Vec<_>>(),
    });
    let answer = sdk(job);
    let key = AppPrivateKey::parse(&keys().app.private_pkcs1_base64()).unwrap();
    for (params, reference) in cases.iter().zip(answer["sign_strings"].as_array().unwrap()) {
        assert_eq!(
            request_sign_string(params),
            reference["content"].as_str().unwrap()
        );
        assert_eq!(
            sign_request(params, &key).unwrap(),
            reference["sign"].as_str().unwrap()
        );
    }
}

/// A reply object with everything that trips naive parsers: Chinese, escaped quotes, braces
/// and even the text of a sign member inside strings.
fn tricky_object() -> String {
    r#"{"code":"10000","msg":"Success","out_trade_no":"O_42_x","trade_no":"2026050122001400000000000001","trade_status":"TRADE_SUCCESS","total_amount":"88.00","subject":"青花瓷杯 {×2} \"礼盒\" \\","memo":"},\"sign\":\"fake"}"#.to_string()
}

#[test]
fn the_sdk_accepts_replies_our_stub_signs_and_refuses_tampered_ones() {
    let key = "alipay_trade_query_response";
    let object = tricky_object();
    let signature = stub::sign(&keys().alipay.private, &object);
    let genuine = stub::signed_body(key, &object, &signature);
    let tampered = stub::signed_body(key, &stub::tamper(&object), &signature);
    assert!(tampered.contains("\"total_amount\":\"98.00\""));
    let answer = sdk(json!({ "verify": [{ "body": genuine }, { "body": tampered }] }));
    let verdicts = answer["verify"].as_array().unwrap();
    assert_eq!(verdicts[0]["ok"], true, "{}", verdicts[0]);
    assert_eq!(verdicts[0]["content"].as_str(), Some(object.as_str()));
    assert_eq!(verdicts[1]["ok"], false, "{}", verdicts[1]);
    // Refused by the signature check itself, not by some other failure.
    let reason = verdicts[1]["error"].as_str().unwrap();
    assert!(reason.contains("sign verify failed"), "{reason}");

    // And our own reader agrees on both.
    let alipay_key = AlipayPublicKey::parse(&keys().alipay.public_spki_base64()).unwrap();
    let reply = read_reply(wire::QUERY, genuine.as_bytes(), &alipay_key).unwrap();
    assert_eq!(reply.object, object);
    assert!(matches!(
        read_reply(wire::QUERY, tampered.as_bytes(), &alipay_key),
        Err(ProviderError::BadSignature { .. })
    ));
}

#[test]
fn we_accept_replies_the_sdk_signs_and_refuse_tampered_ones() {
    let object: Value = serde_json::from_str(&tricky_object()).unwrap();
    let answer = sdk(json!({
        "sign_responses": [
            // Exact text, compact.
            { "method": wire::QUERY, "content": tricky_object() },
            // Python's own serialisation: spaces after separators, Chinese raw.
            { "method": wire::QUERY, "object": object },
            // ...and with every non-ASCII character escaped as \uXXXX.
            { "method": wire::QUERY, "object": object, "ensure_ascii": true },
        ],
    }));
    let alipay_key = AlipayPublicKey::parse(&keys().alipay.public_pkcs1_pem()).unwrap();
    for signed in answer["sign_responses"].as_array().unwrap() {
        let body = signed["body"].as_str().unwrap();
        let reply = read_reply(wire::QUERY, body.as_bytes(), &alipay_key)
            .unwrap_or_else(|err| panic!("{err}: {body}"));
        // Checked over the bytes as sent, not a re-serialisation.
        assert_eq!(reply.object, signed["content"].as_str().unwrap());
        assert_eq!(reply.fields.total_amount.as_deref(), Some("88.00"));
        assert_eq!(reply.fields.trade_status.as_deref(), Some("TRADE_SUCCESS"));

        let tampered = body.replacen("88.00", "98.00", 1);
        assert_ne!(tampered, body);
        assert!(matches!(
            read_reply(wire::QUERY, tampered.as_bytes(), &alipay_key),
            Err(ProviderError::BadSignature { .. })
        ));
    }
}

#[test]
fn web_payment_addresses_are_the_official_sdks_page_execute_get_byte_for_byte() {
    let at: Timestamp = "2026-05-01T12:00:00Z".parse().unwrap();
    let sent_at = "2026-05-01 20:00:00";
    // Characters Python's quote_plus and a URL library encode differently: space, ~ and *.
    let charge = charge("青花瓷杯 ×2 *限量* ~新品~ \"礼盒\" & 茶=好/");
    let out_trade_no = wire::web_trade_number(&charge.order_ref);
    let return_url = "https://shop.example.com/r/AbC_-.~*?lang=zh-CN&x=1+2";
    let cases = [(true, true), (false, true), (true, false), (false, false)];
    let webs: Vec<WebCheckout> = cases
        .iter()
        .map(|&(phone, notify)| WebCheckout {
            return_url: return_url.to_string(),
            notify_url: notify.then(|| NOTIFY_URL.to_string()),
            phone,
        })
        .collect();
    let job = json!({
        "page_urls": webs.iter().map(|web| json!({
            "method": if web.phone { wire::WAP_PAY } else { wire::PAGE_PAY },
            "biz": {
                "out_trade_no": out_trade_no,
                "total_amount": "88.00",
                "subject": "青花瓷杯 ×2 *限量* ~新品~ \"礼盒\" ＆ 茶＝好／",
                "time_expire": "2026-05-01 20:15:00",
                "product_code": if web.phone { "QUICK_WAP_WAY" } else { "FAST_INSTANT_TRADE_PAY" },
            },
            "notify_url": web.notify_url,
            "return_url": web.return_url,
            "timestamp": sent_at,
        })).collect::<Vec<_>>(),
    });
    let answer = sdk(job);
    let provider = provider();
    for (web, reference) in webs.iter().zip(answer["page_urls"].as_array().unwrap()) {
        let ours = provider
            .web_pay_url(&charge, web, &out_trade_no, at)
            .unwrap();
        assert_eq!(ours, reference["url"].as_str().unwrap(), "{web:?}");
    }
}

#[test]
fn notifications_the_sdk_signs_verify_and_the_sdk_accepts_what_we_check() {
    let params: BTreeMap<String, String> = crate::notify::paid_params("O_42_abc_W", "88.00")
        .into_iter()
        .collect();
    let answer = sdk(json!({ "notifies": [{ "params": params }] }));
    let signed = &answer["notifies"][0];
    let body = signed["body"].as_str().unwrap();
    let alipay_key = AlipayPublicKey::parse(&keys().alipay.public_spki_base64()).unwrap();
    let notified =
        notify::verify(body.as_bytes(), &alipay_key).unwrap_or_else(|err| panic!("{err}: {body}"));
    assert_eq!(notified.total_amount_minor, 8800);
    assert_eq!(notified.out_trade_no, "O_42_abc_W");

    // The same content on both sides, from the body as received.
    let received = notify::parse_form(body.as_bytes()).unwrap();
    let ours = notification_sign_string(&received);
    assert_eq!(ours, signed["content"].as_str().unwrap());

    // The SDK's verify accepts our content under a signature we made, and refuses it changed.
    let alipay_private = AppPrivateKey::parse(&keys().alipay.private_pkcs1_base64()).unwrap();
    let signature = sign_bytes(ours.as_bytes(), &alipay_private).unwrap();
    let changed = ours.replacen("total_amount=88.00", "total_amount=8.80", 1);
    assert_ne!(changed, ours);
    let answer = sdk(json!({ "verify_notifies": [
        { "content": ours, "sign": signature },
        { "content": changed, "sign": signature },
    ] }));
    let verdicts = answer["verify_notifies"].as_array().unwrap();
    assert_eq!(verdicts[0]["ok"], true, "{}", verdicts[0]);
    assert_eq!(verdicts[1]["ok"], false, "{}", verdicts[1]);

    // An SDK-signed body with its amount changed is refused here.
    let tampered = body.replacen("total_amount=88.00", "total_amount=8.80", 1);
    assert_ne!(tampered, body);
    assert_eq!(
        notify::verify(tampered.as_bytes(), &alipay_key),
        Err(notify::NotifyError::BadSignature)
    );
}
