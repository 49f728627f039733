//! The pure signing pieces: the sign string rules, key reading and redaction.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::sha2::Sha256;
use shopcast_payments::ProviderError;
use shopcast_payments::alipay::sign::{
    AlipayPublicKey, AppPrivateKey, request_sign_string, sign_bytes, sign_request, verify,
};

use crate::keys::keys;

#[test]
fn sign_string_sorts_drops_sign_and_empty_values_and_keeps_values_raw() {
    let params = [
        ("timestamp", "2026-05-01 20:00:00"),
        ("sign", "must-not-appear"),
        ("app_id", "2021000149600001"),
        ("notify_url", ""),
        (
            "biz_content",
            r#"{"subject":"青花瓷杯 ×2 & 碟=1","total_amount":"88.00"}"#,
        ),
        ("charset", "utf-8"),
    ];
    assert_eq!(
        request_sign_string(params),
        "app_id=2021000149600001\
         &biz_content={\"subject\":\"青花瓷杯 ×2 & 碟=1\",\"total_amount\":\"88.00\"}\
         &charset=utf-8&timestamp=2026-05-01 20:00:00"
    );
}

#[test]
fn sign_string_orders_keys_by_bytes_not_by_length_or_case() {
    let params = BTreeMap::from([
        ("b", "2"),
        ("B", "1"),
        ("a_b", "4"),
        ("ab", "5"),
        ("a", "3"),
    ]);
    assert_eq!(request_sign_string(&params), "B=1&a=3&a_b=4&ab=5&b=2");
}

#[test]
fn signatures_are_rsa2_pkcs1_v15_over_the_request_sign_string() {
    let key = AppPrivateKey::parse(&keys().app.private_pkcs8_pem()).unwrap();
    let params = [("method", "alipay.trade.query"), ("app_id", "1")];
    let signature = sign_request(params, &key).unwrap();
    // PKCS#1 v1.5 is deterministic: the same input always gives the same signature.
    assert_eq!(signature, sign_request(params, &key).unwrap());
    let raw = BASE64.decode(&signature).unwrap();
    assert_eq!(raw.len(), 256, "a 2048-bit key gives a 256-byte signature");
    keys()
        .app
        .public()
        .pkcs1v15_verify::<Sha256>(b"app_id=1&method=alipay.trade.query", &raw)
        .expect("verifies over the sign string with SHA-256");
}

#[test]
fn verify_accepts_only_the_exact_bytes() {
    let signer = AppPrivateKey::parse(&keys().alipay.private_pkcs1_base64()).unwrap();
    let checker = AlipayPublicKey::parse(&keys().alipay.public_spki_base64()).unwrap();
    let message = r#"{"code":"10000","total_amount":"88.00"}"#;
    let signature = sign_bytes(message.as_bytes(), &signer).unwrap();
    assert!(verify(message.as_bytes(), &signature, &checker));
    assert!(!verify(
        br#"{"code":"10000","total_amount":"98.00"}"#,
        &signature,
        &checker
    ));
    assert!(!verify(
        br#"{"code": "10000","total_amount":"88.00"}"#,
        &signature,
        &checker
    ));
    assert!(!verify(message.as_bytes(), "not base64!", &checker));
    let other = AlipayPublicKey::parse(&keys().app.public_spki_base64()).unwrap();
    assert!(!verify(message.as_bytes(), &signature, &other));
}

#[test]
fn keys_are_read_in_every_form_an_owner_may_paste() {
    let app = &keys().app;
    let one_line_pem = app.private_pkcs8_pem().replace('\n', "");
    let wrapped_base64 = app
        .private_pkcs1_base64()
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n");
    for text in [
        app.private_pkcs8_pem(),
        app.private_pkcs8_base64(),
        app.private_pkcs1_pem(),
        app.private_pkcs1_base64(),
        one_line_pem,
        wrapped_base64,
        format!("  {}\n\n", app.private_pkcs1_base64()),
    ] {
        let key = AppPrivateKey::parse(&text).unwrap_or_else(|e| panic!("{e}: {text:.40}"));
        assert_eq!(key.bits(), 2048);
    }
    for text in [
        app.public_spki_pem(),
        app.public_spki_base64(),
        app.public_pkcs1_pem(),
        app.public_pkcs1_base64(),
    ] {
        let key = AlipayPublicKey::parse(&text).unwrap_or_else(|e| panic!("{e}: {text:.40}"));
        assert_eq!(key.bits(), 2048);
    }
}

fn config_detail(result: Result<impl std::fmt::Debug, ProviderError>) -> String {
    match result {
        Err(ProviderError::Config { detail, .. }) => {
            assert!(detail.ends_with('.'), "a sentence: {detail}");
            detail
        }
        other => panic!("expected a Config error, got {other:?}"),
    }
}

#[test]
fn unusable_keys_are_config_errors_that_say_what_to_paste() {
    let app = &keys().app;
    assert!(config_detail(AppPrivateKey::parse("  ")).contains("is empty"));
    assert!(config_detail(AppPrivateKey::parse("not a key at all")).contains("base64"));
    assert!(config_detail(AppPrivateKey::parse("aGVsbG8gd29ybGQ=")).contains("Paste"));
    assert!(config_detail(AppPrivateKey::parse(&app.public_spki_base64())).contains("public key"));
    assert!(
        config_detail(AlipayPublicKey::parse(&app.private_pkcs8_pem())).contains("private key")
    );
    let encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----";
    assert!(config_detail(AppPrivateKey::parse(encrypted)).contains("passphrase"));
    let cut = app
        .private_pkcs8_pem()
        .replace("-----END PRIVATE KEY-----", "");
    assert!(config_detail(AppPrivateKey::parse(&cut)).contains("BEGIN/END"));
}

#[test]
fn debug_output_of_keys_is_redacted() {
    let app = &keys().app;
    let private = AppPrivateKey::parse(&app.private_pkcs1_base64()).unwrap();
    let public = AlipayPublicKey::parse(&app.public_spki_base64()).unwrap();
    for shown in [format!("{private:?}"), format!("{public:?}")] {
        assert!(shown.contains("redacted"), "{shown}");
        assert!(!shown.contains(&app.private_pkcs1_base64()[40..60]));
        assert!(!shown.contains(&app.public_spki_base64()[40..60]));
    }
}
