//! Provider callbacks refused without a valid signature, and the owner's status and
//! reachability check.

use shopcast_shoppage::{Reachability, ShopPageLimits};

use crate::{http, start};

#[tokio::test]
async fn stripe_deliveries_without_a_valid_signature_are_refused_for_it_and_record_nothing() {
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let fixture = start("en", ShopPageLimits::default()).await;
    // Set up as a real shop is, so a refusal can only be for the signature.
    fixture
        .shop
        .connect_stripe(&stripe_api().await, "sk_test_shoppage")
        .await
        .unwrap();
    let secret = "whsec_shoppage_refusals_0123456789abcdef";
    fixture
        .shop
        .set_stripe_webhook_secret(Some(secret))
        .await
        .unwrap();
    let client = http();
    let now = jiff::Timestamp::now().as_second();
    let event = format!(
        r#"{{"id":"evt_refused_1","object":"event","type":"checkout.session.completed","created":{now},"data":{{"object":{{"id":"cs_1","object":"checkout.session","payment_intent":"pi_1","client_reference_id":"O-1","metadata":{{}},"amount_total":8800,"currency":"cny","payment_status":"paid"}}}}}}"#
    );
    let deliver = |signature: Option<String>| {
        let mut request = client
            .post(format!("{}/hooks/stripe", fixture.base))
            .header("content-type", "application/json")
            .body(event.clone());
        if let Some(signature) = signature {
            request = request.header("stripe-signature", signature);
        }
        request.send()
    };
    for signature in [
        None,
        Some("t=1,v1=00".to_string()),
        Some(format!("t={now},v1={}", "ab".repeat(32))),
        Some(stripe_signature("whsec_another_endpoint", now, &event)),
    ] {
        let reply = deliver(signature.clone()).await.unwrap();
        assert_eq!(reply.status(), 400, "{signature:?}");
        assert_eq!(reply.headers()["cache-control"], "no-store");
        assert_eq!(reply.text().await.unwrap(), "refused", "{signature:?}");
        let payments = fixture
            .shop
            .list_payments(&Default::default())
            .await
            .unwrap();
        assert!(payments.is_empty(), "{signature:?}: {payments:?}");
        // The engine says why: the signature (the body above is the same for every refusal).
        let why = fixture
            .shop
            .record_stripe_webhook(signature.as_deref().unwrap_or(""), event.as_bytes())
            .await
            .unwrap_err()
            .to_string();
        assert!(why.contains("ignature"), "{signature:?}: {why}");
    }
    // The very same delivery signed with the secret gets in: the signature was the reason.
    let reply = deliver(Some(stripe_signature(secret, now, &event)))
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}

#[tokio::test]
async fn alipay_notifies_without_a_valid_sign_are_refused_for_it_and_record_nothing() {
    let fixture = alipay_shop("en").await;
    let client = http();
    let (_, out_trade_no) = alipay_order(&client, &fixture.base).await;
    let post = |body: String| {
        client
            .post(format!("{}/hooks/alipay", fixture.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let signed = alipay_notify(&out_trade_no, false);
    let (unsigned, sign) = signed.rsplit_once("&sign=").unwrap();
    let forged = format!("{unsigned}&sign=AAAA");
    // Signed with the app's key, not Alipay's: the right shape, the wrong signer.
    let wrong_signer = {
        use shopcast_payments::alipay::sign::{AppPrivateKey, sign_bytes};
        let key = AppPrivateKey::parse(APP_PRIVATE_KEY).unwrap();
        let content = url::form_urlencoded::parse(unsigned.as_bytes())
            .filter(|(k, _)| k != "sign_type")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect::<Vec<_>>();
        let content = shopcast_payments::alipay::sign::notification_sign_string(
            content.iter().map(|(k, v)| (k.as_str(), v)),
        );
        let other = sign_bytes(content.as_bytes(), &key).unwrap();
        let other: String = url::form_urlencoded::byte_serialize(other.as_bytes()).collect();
        assert_ne!(other, sign);
        format!("{unsigned}&sign={other}")
    };
    for body in [unsigned.to_string(), forged, wrong_signer] {
        let reply = post(body.clone()).await.unwrap();
        assert_eq!(reply.status(), 200);
        assert_eq!(reply.text().await.unwrap(), "fail", "{body}");
        let payments = fixture
            .shop
            .list_payments(&Default::default())
            .await
            .unwrap();
        assert!(payments.is_empty(), "{body}: {payments:?}");
    }
    // The very same notify with Alipay's sign is taken: the sign was the reason.
    let reply = post(signed).await.unwrap();
    assert_eq!(reply.text().await.unwrap(), "success");
    let payments = fixture
        .shop
        .list_payments(&Default::default())
        .await
        .unwrap();
    assert_eq!(payments.len(), 1, "{payments:?}");
}

/// A shop page with Alipay connected. Keys go to the 0600 file in the shop's folder, never to
/// the keychain of whoever runs this; nothing answers at the gateway (Buy only builds its
/// address, and the watcher's polls fail).
async fn alipay_shop(locale: &str) -> crate::Fixture {
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let fixture = start(locale, ShopPageLimits::default()).await;
    fixture
        .shop
        .connect_alipay(
            APP_ID,
            "http://127.0.0.1:1/gateway.do",
            APP_PRIVATE_KEY,
            ALIPAY_PUBLIC_KEY,
        )
        .await
        .unwrap();
    fixture
}

/// Buys TEA-1 on a phone with Alipay connected: the query of the wap.pay address the buyer
/// is sent to, and the order's `out_trade_no` from it.
async fn alipay_order(
    client: &reqwest::Client,
    base: &str,
) -> (std::collections::HashMap<String, String>, String) {
    let page = crate::page_text(client, format!("{base}/p/TEA-1")).await;
    let token = crate::field(&page, "csrf").unwrap();
    let bought = client
        .post(format!("{base}/p/TEA-1/buy"))
        .header(
            "user-agent",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
        )
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(bought.status(), 303);
    let to = url::Url::parse(&crate::location(&bought)).unwrap();
    let query: std::collections::HashMap<String, String> = to.query_pairs().into_owned().collect();
    let out_trade_no = query["biz_content"]
        .split(r#""out_trade_no":""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("an out_trade_no")
        .to_string();
    (query, out_trade_no)
}

#[tokio::test]
async fn the_owner_sees_requests_and_whether_the_public_address_reaches_this_server() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let status = fixture.page.status();
    assert_eq!(status.requests, 0);
    assert_eq!(status.last_request_at, None);
    assert_eq!(status.listening, fixture.page.addr.to_string());
    assert_eq!(status.public_url, fixture.base);
    let _ = http()
        .get(format!("{}/", fixture.base))
        .send()
        .await
        .unwrap();
    let status = fixture.page.status();
    assert_eq!(status.requests, 1);
    let at = status.last_request_at.expect("a request time");
    assert!((jiff::Timestamp::now().as_millisecond() - at).abs() < 10_000);
    assert_eq!(
        fixture.page.check_reachable().await,
        Reachability::Reachable
    );

    // Another shop page at the public address answers /healthz too, but not as this one.
    let other = start("en", ShopPageLimits::default()).await;
    let pointed_elsewhere = shopcast_shoppage::serve(
        other.shop.clone(),
        shopcast_shoppage::ShopPageOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: fixture.base.clone(),
            limits: ShopPageLimits::default(),
            trust_proxy: false,
        },
    )
    .await
    .unwrap();
    assert!(
        matches!(
            pointed_elsewhere.check_reachable().await,
            Reachability::SomeoneElse { .. }
        ),
        "another server's answer counted as this one's"
    );
    // Nothing listening at the public address.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let nowhere = shopcast_shoppage::serve(
        other.shop.clone(),
        shopcast_shoppage::ShopPageOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: format!("http://{closed}"),
            limits: ShopPageLimits::default(),
            trust_proxy: false,
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        nowhere.check_reachable().await,
        Reachability::Unreachable { .. }
    ));
}

/// A proxy in front of `upstream` that, after passing a /healthz on and before handing its
/// answer back, sends twenty of its own with made-up nonces, as strangers could at any time.
async fn crowding_proxy(upstream: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/healthz",
        axum::routing::get(
            move |axum::extract::RawQuery(query): axum::extract::RawQuery| {
                let upstream = upstream.clone();
                async move {
                    let client = http();
                    let reply = client
                        .get(format!("{upstream}/healthz?{}", query.unwrap_or_default()))
                        .send()
                        .await
                        .unwrap();
                    for n in 0..20 {
                        let _ = client
                            .get(format!("{upstream}/healthz?nonce=stranger{n}"))
                            .send()
                            .await;
                    }
                    reply.text().await.unwrap()
                }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test]
async fn strangers_asking_healthz_cannot_crowd_out_the_real_check() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let proxy = crowding_proxy(fixture.base.clone()).await;
    let page = shopcast_shoppage::serve(
        fixture.shop.clone(),
        shopcast_shoppage::ShopPageOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: proxy.clone(),
            limits: ShopPageLimits::default(),
            trust_proxy: false,
        },
    )
    .await
    .unwrap();
    // The proxy leads to the fixture's server, not this one: someone else, crowded or not.
    assert!(matches!(
        page.check_reachable().await,
        Reachability::SomeoneElse { .. }
    ));
    // Pointed through the proxy at itself: reachable, whatever strangers sent first.
    assert_eq!(self_through_proxy(&fixture).await, Reachability::Reachable);
}

/// A shop page whose public address is a crowding proxy in front of itself.
async fn self_through_proxy(fixture: &crate::Fixture) -> Reachability {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let proxy = crowding_proxy(format!("http://{listen}")).await;
    let page = shopcast_shoppage::serve(
        fixture.shop.clone(),
        shopcast_shoppage::ShopPageOptions {
            listen,
            public_url: proxy,
            limits: ShopPageLimits::default(),
            trust_proxy: false,
        },
    )
    .await
    .unwrap();
    page.check_reachable().await
}

const APP_ID: &str = "2021000149600001";
// Test-only RSA pairs (the core tests' fixtures, made with `openssl genpkey`).
const APP_PRIVATE_KEY: &str =
    include_str!("../../../core/tests/core/fixtures/alipay-test-app-private.pem");
const ALIPAY_PRIVATE_KEY: &str =
    include_str!("../../../core/tests/core/fixtures/alipay-test-alipay-private.pem");
const ALIPAY_PUBLIC_KEY: &str =
    include_str!("../../../core/tests/core/fixtures/alipay-test-alipay-public.pem");

/// The notify Alipay posts when `out_trade_no` is paid, signed with the "Alipay" test key;
/// `amount` is changed after signing when `tamper` is set.
fn alipay_notify(out_trade_no: &str, tamper: bool) -> String {
    use shopcast_payments::alipay::sign::{AppPrivateKey, notification_sign_string, sign_bytes};
    let mut params: Vec<(&str, String)> = vec![
        ("notify_time", "2026-05-01 20:01:05".into()),
        ("notify_type", "trade_status_sync".into()),
        ("notify_id", "ac05099524730693a8b330c5ecf72da9786".into()),
        ("charset", "utf-8".into()),
        ("version", "1.0".into()),
        ("sign_type", "RSA2".into()),
        ("app_id", APP_ID.into()),
        ("trade_no", "2026050122001400000000000077".into()),
        ("out_trade_no", out_trade_no.into()),
        ("trade_status", "TRADE_SUCCESS".into()),
        ("total_amount", "88.00".into()),
        ("gmt_payment", "2026-05-01 20:01:02".into()),
    ];
    let content = notification_sign_string(params.iter().map(|(k, v)| (*k, v)));
    let key = AppPrivateKey::parse(ALIPAY_PRIVATE_KEY).unwrap();
    let sign = sign_bytes(content.as_bytes(), &key).unwrap();
    if tamper {
        params.retain(|(k, _)| *k != "total_amount");
        params.push(("total_amount", "0.01".into()));
    }
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .append_pair("sign", &sign)
        .finish()
}

#[tokio::test]
async fn a_signed_alipay_notify_for_a_shop_page_order_is_recorded_once() {
    let fixture = alipay_shop("zh-CN").await;
    let client = http();
    let (query, out_trade_no) = alipay_order(&client, &fixture.base).await;
    // A phone goes to 手机网站支付, which brings the buyer back to the receipt.
    assert_eq!(query["method"], "alipay.trade.wap.pay", "{query:?}");
    let receipt = query["return_url"].clone();
    assert!(
        receipt.starts_with(&format!("{}/r/", fixture.base)),
        "{receipt}"
    );

    let post = |body: String| {
        client
            .post(format!("{}/hooks/alipay", fixture.base))
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(body)
            .send()
    };
    let tampered = post(alipay_notify(&out_trade_no, true)).await.unwrap();
    assert_eq!(tampered.text().await.unwrap(), "fail");
    let payments = fixture
        .shop
        .list_payments(&Default::default())
        .await
        .unwrap();
    assert!(payments.is_empty(), "{payments:?}");
    // Alipay retries until it reads `success`: three deliveries, one payment.
    for _ in 0..3 {
        let reply = post(alipay_notify(&out_trade_no, false)).await.unwrap();
        assert_eq!(reply.status(), 200);
        assert_eq!(reply.text().await.unwrap(), "success");
    }
    let payments = fixture
        .shop
        .list_payments(&Default::default())
        .await
        .unwrap();
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(payments[0].amount.amount_minor, 8800);
    let html = crate::page_text(&client, &receipt).await;
    assert!(
        html.contains("已付款，谢谢！") && html.contains(r#"id="share-weibo""#),
        "{html}"
    );
}

/// A `Stripe-Signature` header as Stripe writes it: HMAC-SHA256 over `{t}.{payload}` keyed
/// with the whole signing secret, hex.
fn stripe_signature(secret: &str, timestamp: i64, payload: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{payload}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

/// A server answering as Stripe documents: a Checkout Session for each POST (its address
/// carries the success_url back, so the test knows the receipt), an empty page of events else.
async fn stripe_api() -> String {
    async fn session(
        axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
    ) -> impl axum::response::IntoResponse {
        let back = form.get("success_url").cloned().unwrap_or_default();
        let url = url::Url::parse_with_params(
            "https://checkout.stripe.com/c/pay/cs_test_shoppage",
            [("back", back.as_str())],
        )
        .unwrap();
        let expires = jiff::Timestamp::now().as_second() + 1_800;
        (
            [("content-type", "application/json")],
            format!(
                r#"{{"id":"cs_test_shoppage","object":"checkout.session","url":"{url}","expires_at":{expires},"status":"open"}}"#
            ),
        )
    }
    let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", api.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/v1/checkout/sessions", axum::routing::post(session))
        .fallback(|| async {
            (
                [("content-type", "application/json")],
                r#"{"object":"list","data":[],"has_more":false,"url":"/v1/events"}"#,
            )
        });
    tokio::spawn(async move { axum::serve(api, app).await.unwrap() });
    base
}

#[tokio::test]
async fn a_signed_stripe_webhook_for_a_shop_page_order_is_recorded_once() {
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let fixture = start("en", ShopPageLimits::default()).await;
    // The key is checked with a poll of the events when Stripe is connected.
    fixture
        .shop
        .connect_stripe(&stripe_api().await, "sk_test_shoppage")
        .await
        .unwrap();
    let secret = "whsec_shoppage_test_0123456789abcdef";
    fixture
        .shop
        .set_stripe_webhook_secret(Some(secret))
        .await
        .unwrap();
    let client = http();
    let bought = crate::buy(&client, &fixture.base, "TEA-1", "?src=post&post=9").await;
    assert_eq!(bought.status(), 303);
    let to = url::Url::parse(&crate::location(&bought)).unwrap();
    assert_eq!(to.host_str(), Some("checkout.stripe.com"));
    let receipt: String = to
        .query_pairs()
        .find(|(k, _)| k == "back")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(
        receipt.starts_with(&format!("{}/r/", fixture.base)),
        "{receipt}"
    );
    let order_ref = fixture.shop.order(1).await.unwrap().order_ref;

    let now = jiff::Timestamp::now().as_second();
    let completed = format!(
        r#"{{"id":"evt_shoppage_1","object":"event","type":"checkout.session.completed","created":{now},"data":{{"object":{{"id":"cs_test_shoppage","object":"checkout.session","payment_intent":"pi_test_shoppage","client_reference_id":null,"metadata":{{"order_ref":"{order_ref}"}},"amount_total":8800,"currency":"cny","payment_status":"paid"}}}}}}"#
    );
    let deliver = |signature: String, body: String| {
        client
            .post(format!("{}/hooks/stripe", fixture.base))
            .header("content-type", "application/json")
            .header("stripe-signature", signature)
            .body(body)
            .send()
    };
    // Another secret, a stale time, a changed body: 400, and nothing recorded.
    for (signature, body) in [
        (
            stripe_signature("whsec_other", now, &completed),
            completed.clone(),
        ),
        (
            stripe_signature(secret, now - 3600, &completed),
            completed.clone(),
        ),
        (
            stripe_signature(secret, now, &completed),
            completed.replace("8800", "1"),
        ),
    ] {
        let reply = deliver(signature, body).await.unwrap();
        assert_eq!(reply.status(), 400);
        assert_eq!(reply.headers()["cache-control"], "no-store");
        assert_eq!(reply.text().await.unwrap(), "refused");
    }
    let payments = fixture
        .shop
        .list_payments(&Default::default())
        .await
        .unwrap();
    assert!(payments.is_empty(), "{payments:?}");
    // Signed as Stripe signs, delivered three times (Stripe retries): one payment.
    for _ in 0..3 {
        let reply = deliver(stripe_signature(secret, now, &completed), completed.clone())
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
    }
    let payments = fixture
        .shop
        .list_payments(&Default::default())
        .await
        .unwrap();
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(payments[0].amount.amount_minor, 8800);
    assert_eq!(payments[0].order_ref.as_deref(), Some(order_ref.as_str()));
    let html = crate::page_text(&client, &receipt).await;
    assert!(
        html.contains("Paid — thank you!") && html.contains(&order_ref),
        "{html}"
    );
    // No page shows a key, the signing secret or the charge behind the order.
    for url in [
        receipt.clone(),
        format!("{}/", fixture.base),
        format!("{}/p/TEA-1", fixture.base),
        format!("{}/p/NOPE", fixture.base),
        format!("{}/sitemap.xml", fixture.base),
    ] {
        let text = crate::page_text(&client, &url).await;
        for secret_text in [
            "sk_test_shoppage",
            "whsec_",
            "cs_test_shoppage",
            "pi_test_shoppage",
        ] {
            assert!(!text.contains(secret_text), "{url} shows {secret_text}");
        }
    }
    // An event the shop does not use is acknowledged, so Stripe stops sending it.
    let other = r#"{"id":"evt_shoppage_2","object":"event","type":"customer.created","created":1767225600,"data":{"object":{"id":"cus_1","object":"customer"}}}"#;
    let reply = deliver(stripe_signature(secret, now, other), other.to_string())
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}

/// WeChat Pay's notify over real HTTP: a forged, unsigned or oversized delivery is refused
/// with WeChat's failure JSON and records nothing; the genuine one is 204 with no body,
/// records the payment once however often it is sent.
#[tokio::test]
async fn wechat_notifications_are_recorded_once_and_forgeries_refused() {
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let gateway = shopcast_testkit::WechatGateway::start().await;
    let fixture = start("en", ShopPageLimits::default()).await;
    let shop = &fixture.shop;
    // The tests poll nothing: the watcher looks once and then waits.
    shop.payments()
        .set_poll_interval(std::time::Duration::from_secs(600));
    shop.connect_wechat(&shopcast_core::payments::providers::WechatConnect {
        mchid: gateway.mchid.clone(),
        appid: gateway.appid.clone(),
        merchant_serial: gateway.merchant_serial.clone(),
        merchant_private_key: gateway.merchant_private_key_pem.clone(),
        apiv3_key: gateway.apiv3_key.clone(),
        wechatpay_public_key: Some(gateway.wechatpay_public_key_pem.clone()),
        wechatpay_public_key_id: Some(gateway.public_key_id.clone()),
        api_base: Some(gateway.url.clone()),
    })
    .await
    .unwrap();
    let tea = shop
        .list_products(&shopcast_core::ProductQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|p| p.sku.as_deref() == Some("TEA-1"))
        .unwrap();
    let order = shop
        .create_order(&shopcast_core::payments::till::OrderDraft {
            lines: vec![shopcast_core::payments::till::OrderLineDraft {
                product_id: tea.id,
                quantity: 1,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let charge = shop
        .charge_order(order.id, shopcast_payments::ProviderKind::Wechat)
        .await
        .unwrap();
    gateway.pay(&charge.charge_ref);
    let (headers, body) = gateway.notification(&charge.charge_ref);
    let client = http();
    let deliver = |headers: Vec<(String, String)>, body: String| {
        let mut request = client
            .post(format!("{}/hooks/wechat", fixture.base))
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    let unsigned: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| !name.to_ascii_lowercase().starts_with("wechatpay-"))
        .cloned()
        .collect();
    let tampered = body.replacen("\"id\":\"", "\"id\":\"X", 1);
    assert_ne!(tampered, body);
    let oversized = format!("{body}{}", " ".repeat(64 * 1024));
    for (name, headers, body, status) in [
        ("tampered", headers.clone(), tampered, 400),
        ("unsigned", unsigned, body.clone(), 400),
        ("oversized", headers.clone(), oversized, 413),
    ] {
        let reply = deliver(headers, body).await.unwrap();
        assert_eq!(reply.status(), status, "{name}");
        assert_eq!(
            reply.headers()["content-type"],
            "application/json",
            "{name}"
        );
        let answer = reply.text().await.unwrap();
        assert!(
            answer.starts_with(r#"{"code":"FAIL","message":""#),
            "{name}: {answer}"
        );
        let payments = shop.list_payments(&Default::default()).await.unwrap();
        assert!(payments.is_empty(), "{name}: {payments:?}");
    }
    // The genuine delivery, and WeChat Pay's retry of it: recorded once.
    for _ in 0..2 {
        let reply = deliver(headers.clone(), body.clone()).await.unwrap();
        assert_eq!(reply.status(), 204);
        assert!(reply.text().await.unwrap().is_empty());
    }
    let payments = shop.list_payments(&Default::default()).await.unwrap();
    assert_eq!(payments.len(), 1);
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        shopcast_core::payments::till::OrderStatus::Paid
    );
}
