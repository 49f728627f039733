//! WeChat Pay through the engine against the testkit's local WeChat Pay gateway (documented
//! wire format, signed replies): connecting checks the keys before anything is stored, a
//! Native QR is paid through the poll, a notification and the poll record one payment, a
//! forged notification records nothing, and the keys never reach the shop file.

use http::{HeaderMap, HeaderName, HeaderValue};
use shopcast_core::payments::providers::WechatConnect;
use shopcast_core::payments::till::OrderStatus;
use shopcast_core::{CoreError, ErrorCode, Shop};
use shopcast_payments::{PaymentStatus, ProviderKind};
use shopcast_testkit::WechatGateway;

use crate::{count, order_of, product, shop_with};

/// What the owner would paste for the gateway's merchant.
pub fn connect_form(gateway: &WechatGateway) -> WechatConnect {
    WechatConnect {
        mchid: gateway.mchid.clone(),
        appid: gateway.appid.clone(),
        merchant_serial: gateway.merchant_serial.clone(),
        merchant_private_key: gateway.merchant_private_key_pem.clone(),
        apiv3_key: gateway.apiv3_key.clone(),
        wechatpay_public_key: Some(gateway.wechatpay_public_key_pem.clone()),
        wechatpay_public_key_id: Some(gateway.public_key_id.clone()),
        api_base: Some(gateway.url.clone()),
    }
}

/// A CNY shop with WeChat Pay connected to `gateway`. Its watcher looks once at the start and
/// then not for ten minutes: the tests poll by hand (`poll_saved_providers_once`).
pub async fn wechat_shop(gateway: &WechatGateway) -> (Shop, tempfile::TempDir) {
    // Keys go to the 0600 file here, never to the keychain of whoever runs the tests.
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let (shop, dir) = shop_with("CNY").await;
    shop.payments()
        .set_poll_interval(std::time::Duration::from_secs(600));
    shop.connect_wechat(&connect_form(gateway)).await.unwrap();
    // Its one look done before the test goes on: on a loaded machine the watcher's first poll
    // could otherwise come late and record a payment the test means to record itself.
    let watched = std::time::Instant::now();
    while !shop
        .payments()
        .health()
        .iter()
        .any(|health| health.provider == ProviderKind::Wechat)
    {
        assert!(
            watched.elapsed() < std::time::Duration::from_secs(10),
            "the WeChat Pay watcher never polled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    (shop, dir)
}

/// A one-cup order (青花瓷杯, ¥88, no stock kept) in a WeChat shop.
pub async fn cup_order(shop: &Shop) -> shopcast_core::payments::till::Order {
    let cup = product(shop, "青花瓷杯", "88", None).await;
    order_of(shop, &[(cup, 1)]).await
}

pub fn header_map(headers: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

#[tokio::test]
async fn connecting_with_bad_keys_says_which_and_stores_nothing() {
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let gateway = WechatGateway::start().await;
    let other = WechatGateway::start().await;
    let (shop, dir) = shop_with("CNY").await;
    let mut cases: Vec<(WechatConnect, Option<&str>)> = Vec::new();
    let mut form = connect_form(&gateway);
    form.merchant_private_key = gateway.wechatpay_public_key_pem.clone();
    cases.push((form, Some("merchantPrivateKey")));
    let mut form = connect_form(&gateway);
    form.apiv3_key = "too short".into();
    cases.push((form, Some("apiv3Key")));
    let mut form = connect_form(&gateway);
    form.wechatpay_public_key =
        Some("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----".into());
    cases.push((form, Some("wechatpayPublicKey")));
    let mut form = connect_form(&gateway);
    form.api_base = Some("not an address".into());
    cases.push((form, Some("apiBase")));
    let mut form = connect_form(&gateway);
    form.mchid = "19000x".into();
    cases.push((form, Some("mchid")));
    // A well-formed key that is not this merchant's: only WeChat Pay can tell (SIGN_ERROR).
    let mut form = connect_form(&gateway);
    form.merchant_private_key = other.merchant_private_key_pem.clone();
    cases.push((form, None));
    for (form, field) in cases {
        let error = shop.connect_wechat(&form).await.unwrap_err();
        assert_eq!(error.field(), field, "{error}");
        assert!(error.to_string().len() > 20, "a sentence: {error}");
        if field.is_none() {
            assert_eq!(
                error.code(),
                ErrorCode::from_leaf("provider_config"),
                "{error}"
            );
        }
        assert!(shop.payment_settings().await.unwrap().wechat.is_none());
        assert!(shop.saved_payment_providers().await.unwrap().is_empty());
        assert!(!shop.payments().connected().contains(&ProviderKind::Wechat));
    }
    // Nothing of any key was written anywhere in the shop's folder.
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&gateway.apiv3_key), "{}", entry.display());
    }
    // The good keys connect.
    shop.connect_wechat(&connect_form(&gateway)).await.unwrap();
    let saved = shop.payment_settings().await.unwrap().wechat.unwrap();
    assert_eq!(saved.mchid, gateway.mchid);
    assert_eq!(
        saved.public_key_id.as_deref(),
        Some(gateway.public_key_id.as_str())
    );
    assert!(shop.payments().connected().contains(&ProviderKind::Wechat));
    // Disconnecting stops it and forgets the keys: it is not rebuilt at the next start.
    shop.disconnect_provider(ProviderKind::Wechat)
        .await
        .unwrap();
    assert!(shop.payment_settings().await.unwrap().wechat.is_none());
    assert!(shop.saved_payment_providers().await.unwrap().is_empty());
    assert!(!shop.payments().connected().contains(&ProviderKind::Wechat));
    for entry in walk(dir.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        assert!(!text.contains(&gateway.apiv3_key), "{}", entry.display());
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn the_keys_stay_out_of_the_shop_file() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    let private_body: String = gateway
        .merchant_private_key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .take(1)
        .collect();
    // Everything written so far (the file itself after a checkpoint, or every row on a server).
    let (bytes, database) = crate::stored_bytes(&shop).await;
    let text = String::from_utf8_lossy(&bytes);
    // What was read is where the settings went: it names the merchant's serial.
    assert!(
        text.contains(&gateway.merchant_serial),
        "{database} holds the WeChat Pay settings"
    );
    assert!(
        !text.contains(&gateway.apiv3_key),
        "APIv3 key in {database}"
    );
    assert!(!text.contains(&private_body), "private key in {database}");
    // The settings name where the keys are, and the ids.
    let saved = shop.payment_settings().await.unwrap().wechat.unwrap();
    assert_eq!(saved.merchant_serial, gateway.merchant_serial);
}

#[tokio::test]
async fn a_native_qr_is_paid_through_the_poll() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    let cup = product(&shop, "青花瓷杯", "88", Some(5)).await;
    let order = order_of(&shop, &[(cup, 2)]).await;
    let charge = shop
        .charge_order(order.id, ProviderKind::Wechat)
        .await
        .unwrap();
    assert!(
        charge.qr_payload.starts_with("weixin://"),
        "{}",
        charge.qr_payload
    );
    assert!(charge.qr_svg.contains("<svg"));
    assert_eq!(charge.order.status, OrderStatus::AwaitingPayment);
    let trade = gateway.trade(&charge.charge_ref).unwrap();
    assert_eq!(
        (trade.trade_type.as_str(), trade.amount_total),
        ("NATIVE", 17_600)
    );
    // Not paid yet: the poll records nothing.
    assert!(shop.poll_saved_providers_once().await.unwrap().is_empty());
    gateway.pay(&charge.charge_ref);
    let changed = shop.poll_saved_providers_once().await.unwrap();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].status, PaymentStatus::Paid);
    assert_eq!(changed[0].amount.amount_minor, 17_600);
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Paid
    );
    // Asked again: nothing new.
    assert!(shop.poll_saved_providers_once().await.unwrap().is_empty());
    assert_eq!(count(&shop, "payments").await, 1);
}

#[tokio::test]
async fn a_notification_and_the_poll_record_one_payment() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    let order = cup_order(&shop).await;
    let charge = shop
        .charge_order(order.id, ProviderKind::Wechat)
        .await
        .unwrap();
    gateway.pay(&charge.charge_ref);
    let (headers, body) = gateway.notification(&charge.charge_ref);
    let outcome = shop
        .record_wechat_notify(&header_map(&headers), body.as_bytes())
        .await
        .unwrap();
    assert_eq!(outcome.recorded, 1);
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Paid
    );
    // WeChat Pay retries; the poll sees the same trade: nothing more.
    let again = shop
        .record_wechat_notify(&header_map(&headers), body.as_bytes())
        .await
        .unwrap();
    assert_eq!(again.recorded, 0);
    assert!(shop.poll_saved_providers_once().await.unwrap().is_empty());
    assert_eq!(count(&shop, "payments").await, 1);
    assert_eq!(count(&shop, "payment_events").await, 1);
}

#[tokio::test]
async fn a_forged_notification_is_refused_and_records_nothing() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    let cup = product(&shop, "青花瓷杯", "88", None).await;
    let order = order_of(&shop, &[(cup, 1)]).await;
    let charge = shop
        .charge_order(order.id, ProviderKind::Wechat)
        .await
        .unwrap();
    gateway.pay(&charge.charge_ref);
    let (headers, body) = gateway.notification(&charge.charge_ref);
    let tampered = body.replacen("\"id\":\"", "\"id\":\"X", 1);
    assert_ne!(tampered, body);
    let unsigned: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("wechatpay-signature"))
        .cloned()
        .collect();
    let other_shop = WechatGateway::start().await;
    let (foreign_headers, foreign_body) = {
        // A genuine notification, but signed by another merchant's WeChat Pay key.
        let (other, _dir) = wechat_shop(&other_shop).await;
        let cup = product(&other, "Tea", "88", None).await;
        let order = order_of(&other, &[(cup, 1)]).await;
        let charge = other
            .charge_order(order.id, ProviderKind::Wechat)
            .await
            .unwrap();
        other_shop.pay(&charge.charge_ref);
        other_shop.notification(&charge.charge_ref)
    };
    for (headers, body) in [
        (headers.clone(), tampered),
        (unsigned, body.clone()),
        (foreign_headers, foreign_body),
    ] {
        let error = shop
            .record_wechat_notify(&header_map(&headers), body.as_bytes())
            .await
            .unwrap_err();
        assert!(
            matches!(error, CoreError::CallbackRefused { .. }),
            "{error}"
        );
        assert!(
            error.to_string().contains("nothing was recorded"),
            "{error}"
        );
        assert_eq!(count(&shop, "payments").await, 0);
    }
    // The genuine one gets in: the refusals were for the forgery.
    let outcome = shop
        .record_wechat_notify(&header_map(&headers), body.as_bytes())
        .await
        .unwrap();
    assert_eq!(outcome.recorded, 1);
}

#[tokio::test]
async fn a_qr_paid_as_the_sale_is_cancelled_stays_open_and_its_payment_is_recorded() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    let order = cup_order(&shop).await;
    let charge = shop
        .charge_order(order.id, ProviderKind::Wechat)
        .await
        .unwrap();
    // The customer pays just as the cashier presses Cancel: the sale is not cancelled (the
    // money was taken) and the QR stays watched.
    gateway.pay(&charge.charge_ref);
    let error = shop.cancel_order(order.id).await.unwrap_err();
    assert!(
        matches!(
            error,
            CoreError::Conflict {
                field: "payment",
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("just paid"), "{error}");
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::AwaitingPayment
    );
    assert_eq!(gateway.trade(&charge.charge_ref).unwrap().state, "SUCCESS");
    // The next poll records it (this one, or the watcher's if it looked first); the
    // notification of the same trade adds nothing.
    shop.poll_saved_providers_once().await.unwrap();
    assert_eq!(count(&shop, "payments").await, 1);
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Paid
    );
    let (headers, body) = gateway.notification(&charge.charge_ref);
    let outcome = shop
        .record_wechat_notify(&header_map(&headers), body.as_bytes())
        .await
        .unwrap();
    assert_eq!(outcome.recorded, 0);
    assert_eq!(count(&shop, "payments").await, 1);
}

#[tokio::test]
async fn payment_settings_saved_before_wechat_pay_still_read() {
    let (shop, _dir) = shop_with("CNY").await;
    // As an older build saved them: Alipay set up, no `wechat` key at all.
    let old = r#"{"testMode":false,"testModeLan":false,"testModePort":0,"pollMs":2000,"qrMinutes":10,"stripe":null,"alipay":{"appId":"2021000149600001","gateway":"sandbox","secretBackend":"file"}}"#;
    sqlx::query("INSERT INTO settings (key, value) VALUES ('payments.settings', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(old)
        .execute(shop.pool())
        .await
        .unwrap();
    let settings = shop.payment_settings().await.unwrap();
    assert!(settings.wechat.is_none());
    assert_eq!(settings.poll_ms, 2_000);
    assert_eq!(settings.alipay.unwrap().app_id, "2021000149600001");
}

#[tokio::test]
async fn wechat_pay_is_told_to_notify_the_shop_page_only_over_https() {
    let gateway = WechatGateway::start().await;
    for (public_url, notify) in [
        (
            "https://shop.example.com/",
            Some("https://shop.example.com/hooks/wechat"),
        ),
        ("http://192.168.1.20:8080", None),
    ] {
        unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
        let (shop, _dir) = shop_with("CNY").await;
        shop.set_setting("shop.public_url", public_url)
            .await
            .unwrap();
        shop.payments()
            .set_poll_interval(std::time::Duration::from_secs(600));
        shop.connect_wechat(&connect_form(&gateway)).await.unwrap();
        let cup = product(&shop, "青花瓷杯", "88", None).await;
        let order = order_of(&shop, &[(cup, 1)]).await;
        let charge = shop
            .charge_order(order.id, ProviderKind::Wechat)
            .await
            .unwrap();
        let request = gateway
            .requests()
            .into_iter()
            .rev()
            .find(|r| r.path.ends_with("/native") && r.body.contains(&charge.charge_ref))
            .unwrap();
        let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
        let sent = body["notify_url"].as_str().unwrap();
        match notify {
            Some(url) => assert_eq!(sent, url),
            None => assert!(!sent.contains("192.168.1.20"), "{sent}"),
        }
    }
}

/// `headers` with one header's value replaced.
fn with_header(headers: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            let v = if n.eq_ignore_ascii_case(name) {
                value.to_string()
            } else {
                v.clone()
            };
            (n.clone(), v)
        })
        .collect()
}

#[tokio::test]
async fn notifications_under_an_unknown_serial_fetch_certificates_once_and_stale_ones_never() {
    let gateway = WechatGateway::start().await;
    let (shop, _dir) = wechat_shop(&gateway).await;
    let order = cup_order(&shop).await;
    let charge = shop
        .charge_order(order.id, ProviderKind::Wechat)
        .await
        .unwrap();
    gateway.pay(&charge.charge_ref);
    let (headers, body) = gateway.notification(&charge.charge_ref);
    let fetches = || {
        gateway
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/v3/certificates"))
            .count()
    };
    // Ten minutes old, under a serial nobody knows: refused before anything is fetched.
    let stale = (jiff::Timestamp::now().as_second() - 600).to_string();
    let old = with_header(&headers, "wechatpay-timestamp", &stale);
    let old = with_header(&old, "wechatpay-serial", "5157F09EFDC096DE15EBE81A47057A72");
    let error = shop
        .record_wechat_notify(&header_map(&old), body.as_bytes())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("more than 5 minutes"), "{error}");
    assert_eq!(fetches(), 0);
    // Fresh, under unknown serials: the connected provider fetches the certificates once,
    // not once per notification.
    for serial in [
        "5157F09EFDC096DE15EBE81A47057A72",
        "6157F09EFDC096DE15EBE81A47057A73",
    ] {
        let unknown = with_header(&headers, "wechatpay-serial", serial);
        shop.record_wechat_notify(&header_map(&unknown), body.as_bytes())
            .await
            .unwrap_err();
    }
    assert_eq!(fetches(), 1);
    // The genuine one still gets in.
    let outcome = shop
        .record_wechat_notify(&header_map(&headers), body.as_bytes())
        .await
        .unwrap();
    assert_eq!(outcome.recorded, 1);
}

#[tokio::test]
async fn a_new_wechat_setup_that_cannot_be_saved_leaves_the_previous_one_whole() {
    let gateway = WechatGateway::start().await;
    let other = WechatGateway::start().await;
    let (shop, dir) = wechat_shop(&gateway).await;
    for event in ["INSERT", "UPDATE"] {
        crate::refuse_writes(&shop, "settings", event, "database or disk is full").await;
    }
    let error = shop
        .connect_wechat(&connect_form(&other))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("disk is full"), "{error}");
    // The keychain holds the previous merchant's keys, not a mix of old and new.
    let secret = |name: &str| {
        let path = walk(dir.path())
            .into_iter()
            .find(|p| p.file_name().and_then(|n| n.to_str()) == Some(name))
            .unwrap_or_else(|| panic!("{name} is kept"));
        std::fs::read_to_string(path).unwrap()
    };
    let line = |pem: &str| pem.lines().nth(1).unwrap().to_string();
    let private = secret("wechat.merchant_private_key");
    assert!(private.contains(&line(&gateway.merchant_private_key_pem)));
    assert!(!private.contains(&line(&other.merchant_private_key_pem)));
    let public = secret("wechat.wechatpay_public_key");
    assert!(public.contains(&line(&gateway.wechatpay_public_key_pem)));
    assert!(!public.contains(&line(&other.wechatpay_public_key_pem)));
    let apiv3 = secret("wechat.apiv3_key");
    assert!(apiv3.contains(&gateway.apiv3_key));
    assert!(!apiv3.contains(&other.apiv3_key));
    // Rebuilt from the keychain, the previous setup still works.
    assert_eq!(shop.saved_payment_providers().await.unwrap().len(), 1);
}
