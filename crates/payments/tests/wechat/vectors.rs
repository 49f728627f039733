//! Our WeChat Pay crypto against the community SDK wechatpayv3 2.0.4, through
//! `tests/peers/wechat_vectors.py`: its real client (public-key mode) sends requests to a
//! capture server and our `authorization` must equal its Authorization header byte for byte;
//! it must accept replies our `sign_reply` signed and refuse forged ones; AES-GCM text from its
//! `cryptography` AESGCM opens here and ours opens there; its `callback` reads a notification
//! built here.
//!
//! The SDK lives in the shared test venv; without it these tests fail and say how to install
//! it (tests/peers/setup.sh). They never skip.

use serde_json::{Value, json};
use shopcast_payments::wechat::sign::{self, MerchantKey};

use crate::sign::{
    APIV3_KEY, APPID, MCHID, MERCHANT_SERIAL, PUBLIC_KEY_ID, apiv3_key, keys, merchant_key,
    notification_body, wechatpay_signer,
};

/// Runs one job through the SDK script.
fn sdk(mut job: Value) -> Value {
    job["mchid"] = MCHID.into();
    job["appid"] = APPID.into();
    job["merchant_private_key"] = keys().merchant.private_pem.clone().into();
    job["merchant_serial"] = MERCHANT_SERIAL.into();
    job["apiv3_key"] = APIV3_KEY.into();
    job["wechatpay_public_key"] = keys().wechatpay.public_pem.clone().into();
    job["public_key_id"] = PUBLIC_KEY_ID.into();
    crate::venv::run_peer_script("wechat_vectors.py", &job)
}

/// The `key="value"` fields of an Authorization header.
fn field<'a>(authorization: &'a str, name: &str) -> &'a str {
    let start = authorization
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {authorization}"))
        + name.len()
        + 2;
    let end = start + authorization[start..].find('"').unwrap();
    &authorization[start..end]
}

#[test]
fn requests_are_signed_exactly_as_the_sdk_signs_them() {
    let amount = json!({ "total": 8800, "currency": "CNY" });
    let description = "青花瓷杯 ×2 — ¥88 \"礼盒\" & 茶=好/";
    let calls = json!([
        { "call": "native", "args": { "description": description, "out_trade_no": "O-42_N1",
            "amount": amount, "time_expire": "2026-05-01T20:15:00+08:00", "attach": "till=1&src=sign" } },
        { "call": "codepay", "args": { "description": description, "out_trade_no": "O-42_C",
            "amount": amount, "payer": { "auth_code": "134567890123456789" },
            "scene_info": { "store_info": { "out_id": "till-1" } } } },
        { "call": "query", "args": { "out_trade_no": "O-42_N1" } },
        { "call": "close", "args": { "out_trade_no": "O-42_N1" } },
        { "call": "reverse", "args": { "out_trade_no": "O-42_C" } },
        { "call": "refund", "args": { "out_refund_no": "R-7_1", "out_trade_no": "O-42_C",
            "reason": "顾客退货：杯口有裂", "amount": { "refund": 1250, "total": 8800, "currency": "CNY" } } },
        { "call": "query_refund", "args": { "out_refund_no": "R-7_1" } },
    ]);
    let answer = sdk(json!({ "requests": calls }));
    let seen = answer["requests"].as_array().unwrap();
    assert_eq!(seen.len(), 7);
    let expected_paths = [
        ("POST", "/v3/pay/transactions/native".to_string()),
        ("POST", "/v3/pay/transactions/codepay".to_string()),
        (
            "GET",
            format!("/v3/pay/transactions/out-trade-no/O-42_N1?mchid={MCHID}"),
        ),
        (
            "POST",
            "/v3/pay/transactions/out-trade-no/O-42_N1/close".to_string(),
        ),
        (
            "POST",
            "/v3/pay/transactions/out-trade-no/O-42_C/reverse".to_string(),
        ),
        ("POST", "/v3/refund/domestic/refunds".to_string()),
        ("GET", "/v3/refund/domestic/refunds/R-7_1".to_string()),
    ];
    let key = merchant_key();
    for (request, (method, path)) in seen.iter().zip(expected_paths) {
        let method_seen = request["method"].as_str().unwrap();
        let path_seen = request["path"].as_str().unwrap();
        assert_eq!((method_seen, path_seen), (method, path.as_str()));
        let body = request["body"].as_str().unwrap();
        if method == "GET" {
            assert_eq!(body, "");
        }
        let theirs = request["authorization"].as_str().unwrap();
        let timestamp: i64 = field(theirs, "timestamp").parse().unwrap();
        let nonce = field(theirs, "nonce_str");
        let ours = sign::authorization(
            MCHID,
            MERCHANT_SERIAL,
            method,
            &path,
            timestamp,
            nonce,
            body,
            &key,
        );
        assert_eq!(ours, theirs, "{method} {path}");
        // In public-key mode the SDK names WeChat Pay's key it expects replies under.
        assert_eq!(request["wechatpay_serial"], PUBLIC_KEY_ID);
    }
    // The Chinese text reached the wire as the SDK escapes it (json.dumps, ASCII only), and
    // the signature covers those exact bytes.
    assert!(seen[0]["body"].as_str().unwrap().contains("\\u9752"));
}

/// A reply our `sign_reply` signed as WeChat Pay would, for the SDK's capture server.
fn reply(body: &str, edit: impl FnOnce(&mut Vec<(String, String)>, &mut String)) -> Value {
    reply_signed_by(body, &wechatpay_signer(), edit)
}

fn reply_signed_by(
    body: &str,
    key: &MerchantKey,
    edit: impl FnOnce(&mut Vec<(String, String)>, &mut String),
) -> Value {
    let timestamp = jiff::Timestamp::now().as_second();
    let nonce = sign::new_nonce();
    let mut headers = vec![
        ("Wechatpay-Timestamp".to_string(), timestamp.to_string()),
        ("Wechatpay-Nonce".to_string(), nonce.clone()),
        (
            "Wechatpay-Signature".to_string(),
            sign::sign_reply(timestamp, &nonce, body, key),
        ),
        ("Wechatpay-Serial".to_string(), PUBLIC_KEY_ID.to_string()),
        (
            "Wechatpay-Signature-Type".to_string(),
            sign::SIGNATURE_TYPE.to_string(),
        ),
    ];
    let mut body = body.to_string();
    edit(&mut headers, &mut body);
    let headers: serde_json::Map<String, Value> = headers
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    json!({ "status": 200, "headers": headers, "body": body })
}

fn set(headers: &mut [(String, String)], name: &str, value: &str) {
    for (n, v) in headers.iter_mut() {
        if n == name {
            *v = value.to_string();
        }
    }
}

#[test]
fn the_sdk_accepts_replies_we_sign_and_refuses_forged_ones() {
    let body = json!({ "appid": APPID, "mchid": MCHID, "out_trade_no": "O-42_N1",
        "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "amount": { "total": 8800 } })
    .to_string();
    let stranger = MerchantKey::parse(&keys().stranger.private_pem).unwrap();
    let cases = [
        ("signed by us as WeChat Pay", reply(&body, |_, _| {}), true),
        ("empty body (204-like) signed", reply("", |_, _| {}), true),
        (
            "body changed after signing",
            reply(&body, |_, b| *b = b.replace("8800", "8801")),
            false,
        ),
        (
            "unknown serial",
            reply(&body, |h, _| {
                set(
                    h,
                    "Wechatpay-Serial",
                    "PUB_KEY_ID_0000000000000000000000000000000000",
                )
            }),
            false,
        ),
        (
            "another signature type",
            reply(&body, |h, _| {
                set(h, "Wechatpay-Signature-Type", "WECHATPAY2-SM2-WITH-SM3")
            }),
            false,
        ),
        (
            "signed by a stranger",
            reply_signed_by(&body, &stranger, |_, _| {}),
            false,
        ),
        (
            "other nonce",
            reply(&body, |h, _| set(h, "Wechatpay-Nonce", "ABC")),
            false,
        ),
    ];
    let replies: Vec<Value> = cases.iter().map(|(_, r, _)| r.clone()).collect();
    let answer = sdk(json!({ "replies": replies }));
    let verdicts = answer["replies"].as_array().unwrap();
    for ((what, _, accepted), verdict) in cases.iter().zip(verdicts) {
        assert_eq!(
            verdict["accepted"].as_bool(),
            Some(*accepted),
            "{what}: {verdict}"
        );
    }
    // And our own check agrees on every case.
    for (what, case, accepted) in &cases {
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in case["headers"].as_object().unwrap() {
            map.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.as_str().unwrap().parse().unwrap(),
            );
        }
        let ours = sign::SignedHeaders::from_headers(&map).and_then(|h| {
            sign::verify(
                &h,
                case["body"].as_str().unwrap().as_bytes(),
                &crate::sign::verifiers(),
                jiff::Timestamp::now(),
            )
        });
        assert_eq!(ours.is_ok(), *accepted, "{what}: {ours:?}");
    }
}

#[test]
fn aes_gcm_text_from_the_sdk_opens_here_and_ours_opens_there() {
    let cases = [
        (
            "transaction",
            "5K8264ILTKCH",
            r#"{"out_trade_no":"O-42_N1","trade_state":"SUCCESS","payer":{"openid":"o-测试"}}"#,
        ),
        (
            "certificate",
            "a1b2c3d4e5f6",
            "-----BEGIN CERTIFICATE-----\nMIID\n-----END CERTIFICATE-----\n",
        ),
        ("", "000000000000", "{}"),
    ];
    let encrypt: Vec<Value> = cases
        .iter()
        .map(|(ad, nonce, plain)| json!({ "associated_data": ad, "nonce": nonce, "plaintext": plain }))
        .collect();
    let ours: Vec<String> = cases
        .iter()
        .map(|(ad, nonce, plain)| sign::encrypt(&apiv3_key(), nonce, ad, plain))
        .collect();
    let mut decrypt: Vec<Value> = cases
        .iter()
        .zip(&ours)
        .map(|((ad, nonce, _), sealed)| json!({ "associated_data": ad, "nonce": nonce, "ciphertext": sealed }))
        .collect();
    // Tampered: the SDK must refuse it too (null).
    let mut tampered = base64_bytes(&ours[0]);
    tampered[5] ^= 0x80;
    decrypt.push(
        json!({ "associated_data": "transaction", "nonce": "5K8264ILTKCH",
        "ciphertext": base64_text(&tampered) }),
    );
    let answer = sdk(json!({ "encrypt": encrypt, "decrypt": decrypt }));
    for (((ad, nonce, plain), theirs), mine) in cases
        .iter()
        .zip(answer["encrypt"].as_array().unwrap())
        .zip(&ours)
    {
        let theirs = theirs.as_str().unwrap();
        // AES-GCM is deterministic for a key, nonce and associated data.
        assert_eq!(theirs, mine);
        assert_eq!(
            sign::decrypt(&apiv3_key(), nonce, ad, theirs).unwrap(),
            *plain
        );
    }
    let opened = answer["decrypt"].as_array().unwrap();
    for ((_, _, plain), theirs) in cases.iter().zip(opened) {
        assert_eq!(theirs.as_str(), Some(*plain));
    }
    assert!(
        opened[3].is_null(),
        "the SDK opened tampered text: {}",
        opened[3]
    );
    assert!(
        sign::decrypt(
            &apiv3_key(),
            "5K8264ILTKCH",
            "transaction",
            &base64_text(&tampered)
        )
        .is_err()
    );
}

fn base64_bytes(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn base64_text(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn the_sdk_reads_a_notification_built_and_signed_here() {
    let body = notification_body(|_| {});
    let good = reply(&body, |_, _| {});
    let tampered = reply(&body, |_, b| {
        *b = b.replace("TRANSACTION.SUCCESS", "REFUND.SUCCESS")
    });
    let wrong_key = {
        let sealed = sign::encrypt(
            &sign::ApiV3Key::new("Z12d3924fd499edac8a5efc5Z9b7c1ab").unwrap(),
            "5K8264ILTKCH",
            "transaction",
            "{}",
        );
        let body = notification_body(|b| b["resource"]["ciphertext"] = json!(sealed));
        reply(&body, |_, _| {})
    };
    let callbacks: Vec<Value> = [good, tampered, wrong_key]
        .iter()
        .map(|r| json!({ "headers": r["headers"], "body": r["body"] }))
        .collect();
    let answer = sdk(json!({ "callbacks": callbacks }));
    let results = answer["callbacks"].as_array().unwrap();
    let read = &results[0]["result"];
    assert_eq!(read["event_type"], "TRANSACTION.SUCCESS");
    assert_eq!(read["resource"]["out_trade_no"], "O-42_N1");
    assert_eq!(read["resource"]["amount"]["total"], 8800);
    assert!(
        results[1]["result"].is_null(),
        "the SDK read a tampered notification: {}",
        results[1]
    );
    assert!(
        results[2]["result"].is_null(),
        "the SDK opened text under another key: {}",
        results[2]
    );
}
