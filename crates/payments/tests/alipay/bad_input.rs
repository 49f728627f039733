//! Hostile Alipay gateway replies through the real reader (`read_reply`), amounts through
//! `parse_yuan`, and pasted keys through the key parsers: each refused with a code and a sentence.

use shopcast_payments::ProviderError;
use shopcast_payments::alipay::read_reply;
use shopcast_payments::alipay::sign::{AlipayPublicKey, AppPrivateKey, sign_bytes};
use shopcast_payments::alipay::wire::{self, parse_yuan};

use crate::keys::keys;
use crate::tally::{Tally, got};

const KEY: &str = "alipay_trade_query_response";

/// Signs `object` as Alipay would (with "Alipay's" key) and wraps it in a reply body.
fn signed(object: &str) -> String {
    let key = AppPrivateKey::parse(&keys().alipay.private_pkcs8_base64()).unwrap();
    let signature = sign_bytes(object.as_bytes(), &key).unwrap();
    format!(r#"{{"{KEY}":{object},"sign":"{signature}"}}"#)
}

fn signed_by_app_key(object: &str) -> String {
    let key = AppPrivateKey::parse(&keys().app.private_pkcs8_base64()).unwrap();
    let signature = sign_bytes(object.as_bytes(), &key).unwrap();
    format!(r#"{{"{KEY}":{object},"sign":"{signature}"}}"#)
}

const PAID: &str = r#"{"code":"10000","msg":"Success","out_trade_no":"O_1","trade_no":"2026","trade_status":"TRADE_SUCCESS","total_amount":"88.00"}"#;

fn replies() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let bad = "provider_bad_response";
    let forged = "provider_bad_signature";
    let genuine = signed(PAID);
    let signature = genuine
        .rsplit_once("\"sign\":\"")
        .unwrap()
        .1
        .trim_end_matches("\"}")
        .to_string();
    let deep = format!("{{\"{KEY}\":{}{}}}", "[".repeat(5_000), "]".repeat(5_000));
    vec![
        ("empty", Vec::new(), bad),
        (
            "not UTF-8",
            b"{\"alipay_trade_query_response\":{\"msg\":\"\xff\xfe\"}}".to_vec(),
            bad,
        ),
        (
            "truncated",
            genuine.as_bytes()[..genuine.len() / 2].to_vec(),
            bad,
        ),
        (
            "HTML error page",
            b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
            bad,
        ),
        (
            "GBK error page",
            b"<html>\xcf\xb5\xcd\xb3\xc3\xa6</html>".to_vec(),
            bad,
        ),
        ("JSON null", b"null".to_vec(), bad),
        ("JSON array", b"[]".to_vec(), bad),
        ("JSON string", b"\"10000\"".to_vec(), bad),
        (
            "no reply object",
            br#"{"other_response":{"code":"10000"}}"#.to_vec(),
            bad,
        ),
        (
            "reply object a string",
            format!(r#"{{"{KEY}":"{{\"code\":\"10000\"}}"}}"#).into_bytes(),
            bad,
        ),
        (
            "reply object null",
            format!(r#"{{"{KEY}":null}}"#).into_bytes(),
            bad,
        ),
        ("nested 5,000 deep", deep.into_bytes(), bad),
        (
            "signed, code a number",
            signed(r#"{"code":10000,"msg":"Success"}"#).into_bytes(),
            bad,
        ),
        (
            "signed, total_amount a number",
            signed(r#"{"code":"10000","total_amount":88.0}"#).into_bytes(),
            bad,
        ),
        (
            "signed, trade_status an array",
            signed(r#"{"code":"10000","trade_status":["TRADE_SUCCESS"]}"#).into_bytes(),
            bad,
        ),
        (
            "signed, out_trade_no an object",
            signed(r#"{"code":"10000","out_trade_no":{}}"#).into_bytes(),
            bad,
        ),
        (
            "signed, duplicate code",
            signed(r#"{"code":"40004","code":"10000"}"#).into_bytes(),
            bad,
        ),
        (
            "signed, duplicate total_amount",
            signed(r#"{"code":"10000","total_amount":"0.01","total_amount":"88.00"}"#).into_bytes(),
            bad,
        ),
        (
            "unsigned success",
            format!(r#"{{"{KEY}":{PAID}}}"#).into_bytes(),
            forged,
        ),
        (
            "sign a number",
            format!(r#"{{"{KEY}":{PAID},"sign":12345}}"#).into_bytes(),
            forged,
        ),
        (
            "sign null",
            format!(r#"{{"{KEY}":{PAID},"sign":null}}"#).into_bytes(),
            forged,
        ),
        (
            "sign empty",
            format!(r#"{{"{KEY}":{PAID},"sign":""}}"#).into_bytes(),
            forged,
        ),
        (
            "sign not base64",
            format!(r#"{{"{KEY}":{PAID},"sign":"!!!not base64!!!"}}"#).into_bytes(),
            forged,
        ),
        (
            "sign of another reply",
            format!(
                r#"{{"{KEY}":{},"sign":"{signature}"}}"#,
                PAID.replace("88.00", "8.00")
            )
            .into_bytes(),
            forged,
        ),
        (
            "amount changed after signing",
            genuine.replacen("88.00", "98.00", 1).into_bytes(),
            forged,
        ),
        (
            "whitespace added after signing",
            genuine.replacen("\"code\":", "\"code\": ", 1).into_bytes(),
            forged,
        ),
        (
            "signed with the app's key",
            signed_by_app_key(PAID).into_bytes(),
            forged,
        ),
        (
            "forged copy before the signed one",
            format!(
                r#"{{"{KEY}":{},"{KEY}":{PAID},"sign":"{signature}"}}"#,
                PAID.replace("88.00", "0.01")
            )
            .into_bytes(),
            forged,
        ),
        (
            "huge signature",
            format!(r#"{{"{KEY}":{PAID},"sign":"{}"}}"#, "A".repeat(1 << 20)).into_bytes(),
            forged,
        ),
    ]
}

#[test]
fn hostile_gateway_replies_are_refused() {
    let alipay_key = AlipayPublicKey::parse(&keys().alipay.public_spki_base64()).unwrap();
    // The genuine reply reads: the refusals below are about what was changed.
    assert!(read_reply(wire::QUERY, signed(PAID).as_bytes(), &alipay_key).is_ok());
    let mut tally = Tally::new("Alipay replies");
    for (name, body, code) in replies() {
        let result = read_reply(wire::QUERY, &body, &alipay_key);
        tally.refused(name, got(&result, ProviderError::code), code);
    }
    let tried = tally.finish();
    assert!(tried >= 25, "{tried}");
}

#[test]
fn hostile_amounts_in_replies_are_not_read_as_money() {
    let amounts = [
        "",
        ".",
        "1.",
        ".5",
        "1.234",
        "-1",
        "+1",
        "1e3",
        "NaN",
        "Infinity",
        "１２",
        "1,000.00",
        " 12",
        "12 ",
        "0x10",
        "12\0",
        "1.2.3",
        "9999999999999999",
        "99999999999999999999.99",
        "¥12",
        "12.5 CNY",
        "1_000",
    ];
    let mut tally = Tally::new("Alipay amounts");
    for amount in amounts {
        let read = parse_yuan(amount);
        tally.check(&format!("{amount:?}"), read.is_none(), || {
            format!("read as {read:?}")
        });
    }
    tally.finish();
}

#[test]
fn hostile_pasted_keys_are_refused_with_a_sentence() {
    let app = &keys().app;
    let cases = [
        ("empty", String::new()),
        ("spaces", "   \n\t ".into()),
        ("words", "my alipay key".into()),
        (
            "truncated base64",
            app.public_spki_base64()[..40].to_string(),
        ),
        (
            "PEM without a body",
            "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----".into(),
        ),
        (
            "PEM of a certificate",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----".into(),
        ),
        ("base64 of text", "aGVsbG8gd29ybGQ=".into()),
        ("a 1 MB paste", "A".repeat(1 << 20)),
        ("NUL bytes", "\0\0\0\0".into()),
    ];
    let mut tally = Tally::new("Alipay keys");
    for (name, text) in &cases {
        let public = AlipayPublicKey::parse(text).map(|_| ());
        let private = AppPrivateKey::parse(text).map(|_| ());
        tally.refused(
            &format!("public key: {name}"),
            got(&public, ProviderError::code),
            "provider_config",
        );
        tally.refused(
            &format!("private key: {name}"),
            got(&private, ProviderError::code),
            "provider_config",
        );
    }
    // Each key in the other's field.
    let swapped = AlipayPublicKey::parse(&app.private_pkcs8_base64()).map(|_| ());
    tally.refused(
        "a private key as Alipay's public key",
        got(&swapped, ProviderError::code),
        "provider_config",
    );
    let swapped = AppPrivateKey::parse(&app.public_spki_base64()).map(|_| ());
    tally.refused(
        "a public key as the app private key",
        got(&swapped, ProviderError::code),
        "provider_config",
    );
    tally.finish();
}
