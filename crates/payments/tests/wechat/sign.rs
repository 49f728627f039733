//! The pure WeChat Pay crypto pieces: key reading (and the sentences for a wrong paste),
//! request signatures, reply checks with their 5-minute rule, AES-256-GCM, notifications.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use jiff::{SignedDuration, Timestamp};
use rsa::pkcs1::{EncodeRsaPrivateKey as _, EncodeRsaPublicKey as _};
use rsa::pkcs8::{DecodePrivateKey as _, LineEnding};
use serde_json::json;
use shopcast_payments::ProviderError;
use shopcast_payments::wechat::notify::{MAX_NOTIFICATION_BYTES, read_notification};
use shopcast_payments::wechat::sign::{
    self, ApiV3Key, MerchantKey, PlatformCertificate, SIGNATURE_TYPE, SignedHeaders, Verifiers,
    WechatPayKey,
};
use shopcast_testkit::wechat::{KeyPair, generate_key_pair, platform_certificate};

/// Key material made once per test run with openssl: the merchant's pair, WeChat Pay's
/// public-key pair, a platform certificate's pair, and a stranger's.
pub struct Keys {
    pub merchant: KeyPair,
    pub wechatpay: KeyPair,
    pub platform: KeyPair,
    pub platform_certificate: String,
    pub stranger: KeyPair,
}

pub const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0119000001092026120200000000000042";
pub const PLATFORM_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
pub const MERCHANT_SERIAL: &str = "444F4864EA9B34415DB5BE8DB23A1FDB7F1F3B3D";
pub const MCHID: &str = "1900000109";
pub const APPID: &str = "wxd678efh567hg6787";
/// 32 ASCII characters, as the merchant platform takes it.
pub const APIV3_KEY: &str = "a12d3924fd499edac8a5efc5Z9b7c1ab";

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let platform = generate_key_pair();
        let platform_certificate = platform_certificate(&platform, PLATFORM_SERIAL);
        Keys {
            merchant: generate_key_pair(),
            wechatpay: generate_key_pair(),
            platform,
            platform_certificate,
            stranger: generate_key_pair(),
        }
    })
}

pub fn merchant_key() -> MerchantKey {
    MerchantKey::parse(&keys().merchant.private_pem).unwrap()
}

/// WeChat Pay's private key, used here the way WeChat Pay signs replies.
pub fn wechatpay_signer() -> MerchantKey {
    MerchantKey::parse(&keys().wechatpay.private_pem).unwrap()
}

pub fn verifiers() -> Verifiers {
    Verifiers::new(Some((
        PUBLIC_KEY_ID.to_string(),
        WechatPayKey::parse(&keys().wechatpay.public_pem).unwrap(),
    )))
}

pub fn apiv3_key() -> ApiV3Key {
    ApiV3Key::new(APIV3_KEY).unwrap()
}

pub fn now() -> Timestamp {
    "2026-05-01T12:00:00Z".parse().unwrap()
}

/// The Wechatpay-* headers WeChat Pay would send with `body` at `timestamp`.
pub fn signed(body: &str, timestamp: i64, serial: &str, key: &MerchantKey) -> SignedHeaders {
    let nonce = sign::new_nonce();
    SignedHeaders {
        timestamp: timestamp.to_string(),
        signature: sign::sign_reply(timestamp, &nonce, body, key),
        nonce,
        serial: serial.to_string(),
        signature_type: Some(SIGNATURE_TYPE.to_string()),
    }
}

fn config_detail(result: Result<impl std::fmt::Debug, ProviderError>) -> String {
    match result {
        Err(ProviderError::Config { detail, .. }) => detail,
        other => panic!("expected a Config sentence, got {other:?}"),
    }
}

fn refusal(result: Result<impl std::fmt::Debug, ProviderError>) -> String {
    match result {
        Err(ProviderError::BadSignature { detail, .. }) => detail,
        other => panic!("expected BadSignature, got {other:?}"),
    }
}

fn bad_response(result: Result<impl std::fmt::Debug, ProviderError>) -> String {
    match result {
        Err(ProviderError::BadResponse { detail, .. }) => detail,
        other => panic!("expected BadResponse, got {other:?}"),
    }
}

fn pem_base64(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

#[test]
fn the_merchant_key_reads_as_pkcs8_pkcs1_or_bare_base64_and_signs_the_same() {
    let pem = &keys().merchant.private_pem;
    let pkcs1 = rsa::PrivateKey::from_pkcs8_pem(pem)
        .unwrap()
        .to_pkcs1_pem(LineEnding::CRLF)
        .unwrap()
        .to_string();
    // A PEM that lost its line breaks in a paste still reads.
    let one_line = pem.replace('\n', " ");
    let message = sign::request_message("GET", "/v3/certificates", 1_777_636_800, "N", "");
    let reference = sign::sign(&message, &merchant_key());
    for text in [pkcs1, pem_base64(pem), one_line] {
        let key = MerchantKey::parse(&text).unwrap();
        assert_eq!(sign::sign(&message, &key), reference);
        assert_eq!(key.bits(), 2048);
    }
    assert_eq!(
        format!("{:?}", merchant_key()),
        "MerchantKey(<2048-bit RSA, redacted>)"
    );
}

#[test]
fn a_wrong_paste_in_the_merchant_key_field_is_named() {
    let k = keys();
    assert!(config_detail(MerchantKey::parse(&k.platform_certificate)).contains("certificate"));
    let bare_certificate = pem_base64(&k.platform_certificate);
    assert!(config_detail(MerchantKey::parse(&bare_certificate)).contains("certificate"));
    assert!(config_detail(MerchantKey::parse(&k.merchant.public_pem)).contains("public key"));
    assert!(config_detail(MerchantKey::parse("  \n")).contains("is empty"));
    let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG\n-----END ENCRYPTED PRIVATE KEY-----";
    assert!(config_detail(MerchantKey::parse(encrypted)).contains("passphrase"));
    assert!(config_detail(MerchantKey::parse("not base64 at all!")).contains("base64"));
    let cut = &k.merchant.private_pem[..k.merchant.private_pem.len() - 30];
    assert!(config_detail(MerchantKey::parse(cut)).contains("BEGIN/END"));
    let small = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
        ])
        .output()
        .unwrap()
        .stdout;
    let detail = config_detail(MerchantKey::parse(std::str::from_utf8(&small).unwrap()));
    assert!(
        detail.contains("1024-bit") && detail.contains("2048"),
        "{detail}"
    );
}

#[test]
fn the_wechatpay_public_key_reads_as_spki_pkcs1_or_bare_base64_and_refuses_other_things() {
    let k = keys();
    let pkcs1 = rsa::PrivateKey::from_pkcs8_pem(&k.wechatpay.private_pem)
        .unwrap()
        .to_public_key()
        .to_pkcs1_pem(LineEnding::LF)
        .unwrap();
    let body = "{}";
    let headers = signed(body, now().as_second(), PUBLIC_KEY_ID, &wechatpay_signer());
    for text in [
        k.wechatpay.public_pem.clone(),
        pkcs1,
        pem_base64(&k.wechatpay.public_pem),
    ] {
        let verifiers = Verifiers::new(Some((
            PUBLIC_KEY_ID.to_string(),
            WechatPayKey::parse(&text).unwrap(),
        )));
        sign::verify(&headers, body.as_bytes(), &verifiers, now()).unwrap();
    }
    let detail = config_detail(WechatPayKey::parse(&k.wechatpay.private_pem));
    assert!(detail.contains("private key"), "{detail}");
    let detail = config_detail(WechatPayKey::parse(&k.platform_certificate));
    assert!(detail.contains("certificate"), "{detail}");
    assert!(config_detail(WechatPayKey::parse("")).contains("is empty"));
}

#[test]
fn the_apiv3_key_must_be_32_plain_characters() {
    apiv3_key();
    assert!(config_detail(ApiV3Key::new("short")).contains("5 characters"));
    assert!(config_detail(ApiV3Key::new("")).contains("empty"));
    assert!(
        config_detail(ApiV3Key::new("密钥密钥密钥密钥密钥密钥密钥密钥密钥密钥密"))
            .contains("plain")
    );
    assert_eq!(format!("{:?}", apiv3_key()), "ApiV3Key(<redacted>)");
}

#[test]
fn the_request_message_and_authorization_have_the_documented_shape() {
    let body = r#"{"mchid":"1900000109","amount":{"total":1}}"#;
    let message = sign::request_message(
        "POST",
        "/v3/pay/transactions/native",
        1554208460,
        "593BEC0C930BF1AFEB40B4A08C8FB242",
        body,
    );
    assert_eq!(
        message,
        format!(
            "POST\n/v3/pay/transactions/native\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{body}\n"
        )
    );
    let key = merchant_key();
    let auth = sign::authorization(
        MCHID,
        MERCHANT_SERIAL,
        "POST",
        "/v3/pay/transactions/native",
        1554208460,
        "593BEC0C930BF1AFEB40B4A08C8FB242",
        body,
        &key,
    );
    let signature = sign::sign(&message, &key);
    assert_eq!(
        auth,
        format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{MCHID}\",nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\",\
             signature=\"{signature}\",timestamp=\"1554208460\",serial_no=\"{MERCHANT_SERIAL}\""
        )
    );
    // What the signature checks out against: the merchant's public key over that message.
    let public = WechatPayKey::parse(&keys().merchant.public_pem).unwrap();
    assert!(sign::verify_signature(&message, &signature, &public));
    assert!(!sign::verify_signature(
        &message.replace("total\":1", "total\":2"),
        &signature,
        &public
    ));
    assert_eq!(BASE64.decode(&signature).unwrap().len(), 256);
}

#[test]
fn nonces_are_32_upper_case_letters_and_digits_and_never_repeat() {
    let a = sign::new_nonce();
    let b = sign::new_nonce();
    assert_eq!(a.len(), 32);
    assert!(
        a.bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
        "{a}"
    );
    assert_ne!(a, b);
}

#[test]
fn a_signed_reply_passes_and_a_changed_one_is_refused() {
    let body = r#"{"trade_state":"SUCCESS","amount":{"total":8800}}"#;
    let at = now().as_second();
    let headers = signed(body, at, PUBLIC_KEY_ID, &wechatpay_signer());
    sign::verify(&headers, body.as_bytes(), &verifiers(), now()).unwrap();

    let tampered = body.replace("8800", "1");
    assert!(
        refusal(sign::verify(
            &headers,
            tampered.as_bytes(),
            &verifiers(),
            now()
        ))
        .contains("does not match")
    );

    let mut wrong_serial = headers.clone();
    wrong_serial.serial = "PUB_KEY_ID_0000000000000000000000000000000000".into();
    assert!(
        refusal(sign::verify(
            &wrong_serial,
            body.as_bytes(),
            &verifiers(),
            now()
        ))
        .contains("neither")
    );

    let mut other_type = headers.clone();
    other_type.signature_type = Some("WECHATPAY2-SM2-WITH-SM3".into());
    assert!(
        refusal(sign::verify(
            &other_type,
            body.as_bytes(),
            &verifiers(),
            now()
        ))
        .contains("SM2")
    );

    let stranger = MerchantKey::parse(&keys().stranger.private_pem).unwrap();
    let forged = signed(body, at, PUBLIC_KEY_ID, &stranger);
    refusal(sign::verify(&forged, body.as_bytes(), &verifiers(), now()));

    // The signature over another nonce does not fit this one.
    let mut other_nonce = headers.clone();
    other_nonce.nonce = sign::new_nonce();
    refusal(sign::verify(
        &other_nonce,
        body.as_bytes(),
        &verifiers(),
        now(),
    ));

    // WeChat Pay's probe signatures (WECHATPAY/SIGNTEST/…) never verify.
    let mut probe = headers;
    probe.signature = "WECHATPAY/SIGNTEST/ZmFrZQ==".into();
    refusal(sign::verify(&probe, body.as_bytes(), &verifiers(), now()));
}

#[test]
fn replies_more_than_five_minutes_old_or_ahead_are_refused() {
    let body = "{}";
    let signer = wechatpay_signer();
    let at = |offset: i64| signed(body, now().as_second() + offset, PUBLIC_KEY_ID, &signer);
    for edge in [-300, 300, 0] {
        sign::verify(&at(edge), body.as_bytes(), &verifiers(), now()).unwrap();
    }
    let stale = refusal(sign::verify(
        &at(-301),
        body.as_bytes(),
        &verifiers(),
        now(),
    ));
    assert!(stale.contains("behind"), "{stale}");
    let future = refusal(sign::verify(&at(360), body.as_bytes(), &verifiers(), now()));
    assert!(future.contains("ahead"), "{future}");
    let mut not_a_number = at(0);
    not_a_number.timestamp = "yesterday".into();
    refusal(sign::verify(
        &not_a_number,
        body.as_bytes(),
        &verifiers(),
        now(),
    ));
    assert_eq!(sign::MAX_CLOCK_SKEW, SignedDuration::from_mins(5));
}

#[test]
fn a_reply_without_its_wechatpay_headers_is_unsigned() {
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in [
        ("Wechatpay-Timestamp", "1777636800"),
        ("Wechatpay-Nonce", "N"),
        ("Wechatpay-Serial", PUBLIC_KEY_ID),
    ] {
        map.insert(name, value.parse().unwrap());
    }
    assert!(refusal(SignedHeaders::from_headers(&map)).contains("Wechatpay-Signature"));
    map.insert("Wechatpay-Signature", "c2ln".parse().unwrap());
    let headers = SignedHeaders::from_headers(&map).unwrap();
    assert_eq!(headers.signature_type, None);
    assert_eq!(headers.serial, PUBLIC_KEY_ID);
}

#[test]
fn platform_certificates_check_replies_by_serial_within_their_dates() {
    let certificate = PlatformCertificate::parse_pem(&keys().platform_certificate).unwrap();
    assert_eq!(certificate.serial, PLATFORM_SERIAL);
    assert!(certificate.not_after > certificate.not_before);
    let signer = MerchantKey::parse(&keys().platform.private_pem).unwrap();
    let mut both = verifiers();
    assert!(!both.knows(PLATFORM_SERIAL));
    both.add_certificate(certificate.clone());
    assert!(both.knows(PLATFORM_SERIAL) && both.knows(&PLATFORM_SERIAL.to_lowercase()));
    assert!(both.knows(PUBLIC_KEY_ID));
    let body = r#"{"code_url":"weixin://wxpay/bizpayurl?pr=abc"}"#;
    let inside = certificate.not_before + SignedDuration::from_hours(1);
    let headers = signed(body, inside.as_second(), PLATFORM_SERIAL, &signer);
    sign::verify(&headers, body.as_bytes(), &both, inside).unwrap();
    // The public key's signer cannot pass as the certificate, nor the reverse.
    let crossed = signed(
        body,
        inside.as_second(),
        PLATFORM_SERIAL,
        &wechatpay_signer(),
    );
    refusal(sign::verify(&crossed, body.as_bytes(), &both, inside));
    // After the certificate's end it checks nothing.
    let later = certificate.not_after + SignedDuration::from_hours(1);
    let expired = signed(body, later.as_second(), PLATFORM_SERIAL, &signer);
    assert!(refusal(sign::verify(&expired, body.as_bytes(), &both, later)).contains("valid only"));
    // Adding a certificate with the same serial replaces it.
    both.add_certificate(certificate);
    assert_eq!(both.certificate_serials(), [PLATFORM_SERIAL]);
    let detail = config_detail(PlatformCertificate::parse_pem(
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
    ));
    assert!(detail.contains("platform certificate"), "{detail}");
}

#[test]
fn aes_gcm_round_trips_and_refuses_a_wrong_key_or_changed_text() {
    let plain = r#"{"out_trade_no":"O-42_N1","trade_state":"SUCCESS","payer":{"openid":"o-测试"}}"#;
    let sealed = sign::encrypt(&apiv3_key(), "fdasflkja484", "transaction", plain);
    assert_eq!(
        sign::decrypt(&apiv3_key(), "fdasflkja484", "transaction", &sealed).unwrap(),
        plain
    );
    let wrong = ApiV3Key::new("Z12d3924fd499edac8a5efc5Z9b7c1ab").unwrap();
    assert!(
        refusal(sign::decrypt(
            &wrong,
            "fdasflkja484",
            "transaction",
            &sealed
        ))
        .contains("APIv3 key")
    );
    refusal(sign::decrypt(
        &apiv3_key(),
        "fdasflkja484",
        "certificate",
        &sealed,
    ));
    refusal(sign::decrypt(
        &apiv3_key(),
        "fdasflkja485",
        "transaction",
        &sealed,
    ));
    let mut bytes = BASE64.decode(&sealed).unwrap();
    bytes[3] ^= 1;
    refusal(sign::decrypt(
        &apiv3_key(),
        "fdasflkja484",
        "transaction",
        &BASE64.encode(&bytes),
    ));
    assert!(refusal(sign::decrypt(&apiv3_key(), "short", "transaction", &sealed)).contains("12"));
    assert!(
        refusal(sign::decrypt(
            &apiv3_key(),
            "fdasflkja484",
            "transaction",
            "***"
        ))
        .contains("base64")
    );
}

/// A TRANSACTION.SUCCESS notification as WeChat Pay sends it, with `resource` changed by `edit`.
pub fn notification_body(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let resource = json!({ "appid": APPID, "mchid": MCHID, "out_trade_no": "O-42_N1",
        "transaction_id": "4200000000202605011234567890", "trade_type": "NATIVE",
        "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
        "success_time": "2026-05-01T20:00:00+08:00",
        "amount": { "total": 8800, "payer_total": 8800, "currency": "CNY", "payer_currency": "CNY" },
        "payer": { "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" } })
    .to_string();
    let mut body = json!({
        "id": "EV-2018022511223320873",
        "create_time": "2026-05-01T20:00:01+08:00",
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": sign::encrypt(&apiv3_key(), "5K8264ILTKCH", "transaction", &resource),
            "associated_data": "transaction",
            "nonce": "5K8264ILTKCH",
        },
    });
    edit(&mut body);
    body.to_string()
}

fn read(body: &str) -> Result<shopcast_payments::wechat::notify::Notification, ProviderError> {
    let headers = signed(body, now().as_second(), PUBLIC_KEY_ID, &wechatpay_signer());
    read_notification(&headers, body.as_bytes(), &verifiers(), &apiv3_key(), now())
}

#[test]
fn a_signed_notification_is_read_and_its_resource_opened() {
    let notification = read(&notification_body(|_| {})).unwrap();
    assert_eq!(notification.id, "EV-2018022511223320873");
    assert_eq!(notification.event_type, "TRANSACTION.SUCCESS");
    assert_eq!(notification.resource_type, "encrypt-resource");
    assert_eq!(notification.summary.as_deref(), Some("支付成功"));
    let resource: serde_json::Value = serde_json::from_str(&notification.resource).unwrap();
    assert_eq!(resource["amount"]["total"], 8800);
}

#[test]
fn a_notification_that_is_off_in_any_way_is_refused() {
    let body = notification_body(|_| {});
    // Signature and clock first, same rules as replies.
    let headers = signed(
        &body,
        now().as_second() - 600,
        PUBLIC_KEY_ID,
        &wechatpay_signer(),
    );
    refusal(read_notification(
        &headers,
        body.as_bytes(),
        &verifiers(),
        &apiv3_key(),
        now(),
    ));
    let headers = signed(&body, now().as_second(), PUBLIC_KEY_ID, &wechatpay_signer());
    let changed = body.replace("TRANSACTION.SUCCESS", "REFUND.SUCCESS");
    refusal(read_notification(
        &headers,
        changed.as_bytes(),
        &verifiers(),
        &apiv3_key(),
        now(),
    ));
    let wrong_key = ApiV3Key::new("Z12d3924fd499edac8a5efc5Z9b7c1ab").unwrap();
    refusal(read_notification(
        &headers,
        body.as_bytes(),
        &verifiers(),
        &wrong_key,
        now(),
    ));

    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(MAX_NOTIFICATION_BYTES));
    assert!(bad_response(read(&huge)).contains("bytes"));
    assert!(bad_response(read("<xml>not json</xml>")).contains("not the JSON"));
    let plain = notification_body(|b| b["resource_type"] = json!("plain-resource"));
    assert!(bad_response(read(&plain)).contains("resource_type"));
    let sm4 = notification_body(|b| b["resource"]["algorithm"] = json!("AEAD_SM4_GCM"));
    assert!(bad_response(read(&sm4)).contains("AEAD_SM4_GCM"));
    let missing = notification_body(|b| {
        b["resource"].as_object_mut().unwrap().remove("nonce");
    });
    bad_response(read(&missing));
    let not_json_inside = notification_body(|b| {
        b["resource"]["ciphertext"] = json!(sign::encrypt(
            &apiv3_key(),
            "5K8264ILTKCH",
            "transaction",
            "paid!"
        ));
    });
    assert!(bad_response(read(&not_json_inside)).contains("not JSON"));
}
