//! Contract tests of what Shopcast asks Stripe to create — Checkout Sessions, Payment Links,
//! cancellations — against a capture server answering with Stripe's documented replies.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use shopcast_payments::stripe::{
    PaymentLinkProduct, SESSION_MAX_LIFETIME, SESSION_MIN_LIFETIME, StripeConfig, StripeProvider,
    TaggedLinkError, session_expiry, tagged_payment_link,
};
use shopcast_payments::{
    ChargeLine, ChargeRequest, OpenCharge, PaymentProvider, ProviderError, WebCheckout,
};

use crate::capture::{CaptureServer, Captured, Reply, SECRET_KEY};

fn cup_order(expires_in: Duration) -> ChargeRequest {
    ChargeRequest {
        order_ref: "O-42".into(),
        amount_minor: 1250,
        currency: "CNY".into(),
        subject: "青花瓷杯".into(),
        lines: vec![ChargeLine {
            name: "青花瓷杯".into(),
            quantity: 1,
            unit_amount_minor: 1250,
        }],
        expires_at: Timestamp::now() + SignedDuration::try_from(expires_in).unwrap(),
        source_tag: Some("till".into()),
        web: None,
    }
}

/// Stripe's documented Checkout Session reply for the session a request asked for.
fn session_reply(request: &Captured) -> Reply {
    let expires_at: i64 = request.field("expires_at").parse().unwrap();
    Reply::json(
        200,
        json!({
            "id": "cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY",
            "object": "checkout.session",
            "amount_subtotal": 1250,
            "amount_total": 1250,
            "client_reference_id": "till",
            "currency": "cny",
            "expires_at": expires_at,
            "livemode": false,
            "metadata": {"order_ref": "O-42"},
            "mode": "payment",
            "payment_intent": null,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": "https://shopcast.app/paid",
            "url": "https://checkout.stripe.com/c/pay/cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY#fidkdWxOYHwnPyd1blpxYHZxWjA0"
        })
        .to_string(),
    )
}

#[tokio::test]
async fn checkout_session_form_is_what_stripe_documents() {
    let server = CaptureServer::start(session_reply).await;
    let before = Timestamp::now();
    let charge = server
        .provider()
        .create_charge(&cup_order(Duration::from_secs(45 * 60)))
        .await
        .unwrap();

    let request = server.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/checkout/sessions");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {SECRET_KEY}").as_str())
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.header("stripe-version"), None);
    let expires_at: i64 = request.field("expires_at").parse().unwrap();
    let asked = (expires_at - before.as_second()) as u64;
    assert!(
        (45 * 60 - 2..=45 * 60 + 5).contains(&asked),
        "expires {asked} s after now"
    );
    let expires = expires_at.to_string();
    assert_eq!(
        request.form,
        [
            ("mode", "payment"),
            ("line_items[0][price_data][currency]", "cny"),
            ("line_items[0][price_data][unit_amount]", "1250"),
            ("line_items[0][price_data][product_data][name]", "青花瓷杯"),
            ("line_items[0][quantity]", "1"),
            ("client_reference_id", "till"),
            ("metadata[order_ref]", "O-42"),
            ("payment_intent_data[metadata][order_ref]", "O-42"),
            ("expires_at", expires.as_str()),
            ("success_url", "https://shopcast.app/paid"),
        ]
        .map(|(key, value)| (key.to_string(), value.to_string()))
    );

    // The documented reply: the session id is our charge, its url the QR.
    assert_eq!(
        charge.charge_ref,
        "cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY"
    );
    assert!(
        charge
            .qr_payload
            .starts_with("https://checkout.stripe.com/c/pay/cs_test_a1YS")
    );
    assert_eq!(charge.expires_at.as_second(), expires_at);
    assert_eq!(charge.raw, session_reply(&request).body);
}

#[tokio::test]
async fn checkout_sells_several_lines_with_their_quantities() {
    let server = CaptureServer::start(session_reply).await;
    let order = ChargeRequest {
        amount_minor: 2 * 1250 + 800,
        subject: "青花瓷杯 ×2, 茶叶".into(),
        lines: vec![
            ChargeLine {
                name: "青花瓷杯".into(),
                quantity: 2,
                unit_amount_minor: 1250,
            },
            ChargeLine {
                name: "龙井茶 50 g".into(),
                quantity: 1,
                unit_amount_minor: 800,
            },
        ],
        ..cup_order(Duration::from_secs(3600))
    };
    server.provider().create_charge(&order).await.unwrap();
    let request = server.only_request();
    assert_eq!(request.field("line_items[0][quantity]"), "2");
    assert_eq!(
        request.field("line_items[0][price_data][unit_amount]"),
        "1250"
    );
    assert_eq!(
        request.field("line_items[1][price_data][product_data][name]"),
        "龙井茶 50 g"
    );
    assert_eq!(
        request.field("line_items[1][price_data][unit_amount]"),
        "800"
    );
    assert_eq!(request.field("line_items[1][price_data][currency]"), "cny");
    assert_eq!(request.field("line_items[1][quantity]"), "1");
}

#[tokio::test]
async fn checkout_without_matching_lines_sells_the_subject_for_the_total() {
    let server = CaptureServer::start(session_reply).await;
    let no_lines = ChargeRequest {
        lines: vec![],
        source_tag: None,
        web: None,
        ..cup_order(Duration::from_secs(3600))
    };
    // A discount: the lines add up to more than the customer pays.
    let discounted = ChargeRequest {
        amount_minor: 1000,
        ..cup_order(Duration::from_secs(3600))
    };
    let provider = server.provider();
    provider.create_charge(&no_lines).await.unwrap();
    provider.create_charge(&discounted).await.unwrap();

    let requests = server.requests();
    for (request, total) in requests.iter().zip(["1250", "1000"]) {
        let lines: Vec<_> = request
            .form
            .iter()
            .filter(|(key, _)| key.starts_with("line_items["))
            .collect();
        assert_eq!(lines.len(), 4, "one line: {lines:?}");
        assert_eq!(
            request.field("line_items[0][price_data][product_data][name]"),
            "青花瓷杯"
        );
        assert_eq!(
            request.field("line_items[0][price_data][unit_amount]"),
            total
        );
        assert_eq!(request.field("line_items[0][quantity]"), "1");
    }
    // Without a source tag the order itself is the client reference.
    assert_eq!(requests[0].field("client_reference_id"), "O-42");
}

#[tokio::test]
async fn checkout_expiry_is_moved_into_the_30_min_to_24_h_stripe_accepts() {
    let server = CaptureServer::start(session_reply).await;
    let provider = server.provider();
    let now = Timestamp::now().as_second();
    // A till QR for 5 minutes, and a sign left up for 3 days.
    let soon = provider
        .create_charge(&cup_order(Duration::from_secs(5 * 60)))
        .await
        .unwrap();
    let late = provider
        .create_charge(&cup_order(Duration::from_secs(3 * 86_400)))
        .await
        .unwrap();

    let asked: Vec<i64> = server
        .requests()
        .iter()
        .map(|request| request.field("expires_at").parse::<i64>().unwrap() - now)
        .collect();
    assert!((30 * 60..=32 * 60).contains(&asked[0]), "{asked:?}");
    assert!((23 * 3600..24 * 3600).contains(&asked[1]), "{asked:?}");
    // The charge states what Stripe confirmed, not what was asked.
    assert_eq!(soon.expires_at.as_second(), now + asked[0]);
    assert_eq!(late.expires_at.as_second(), now + asked[1]);
}

#[test]
fn session_expiry_keeps_times_inside_the_window() {
    let now = Timestamp::from_second(1_800_000_000).unwrap();
    let at = |seconds: i64| now + SignedDuration::from_secs(seconds);
    let min = SESSION_MIN_LIFETIME.as_secs() as i64;
    let max = SESSION_MAX_LIFETIME.as_secs() as i64;
    assert!(min > 30 * 60 && max < 24 * 3600);
    assert_eq!(session_expiry(at(-60), now), at(min));
    assert_eq!(session_expiry(at(60), now), at(min));
    assert_eq!(session_expiry(at(2 * 3600), now), at(2 * 3600));
    assert_eq!(session_expiry(at(30 * 86_400), now), at(max));
}

#[tokio::test]
async fn checkout_reply_without_a_url_is_a_bad_response() {
    // Embedded Checkout sessions have no URL: nothing to put in a QR.
    let server = CaptureServer::always(Reply::json(
        200,
        r#"{"id": "cs_test_embedded", "object": "checkout.session", "url": null}"#,
    ))
    .await;
    let err = server
        .provider()
        .create_charge(&cup_order(Duration::from_secs(3600)))
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::BadResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("cs_test_embedded"), "{err}");
}

#[tokio::test]
async fn api_version_and_cancel_url_are_sent_when_configured() {
    let server = CaptureServer::start(session_reply).await;
    let provider = StripeProvider::new(StripeConfig {
        api_version: Some("2026-01-28.clover".into()),
        cancel_url: Some("https://shop.example/till?cancelled=1".parse().unwrap()),
        ..server.config()
    })
    .unwrap();
    provider
        .create_charge(&cup_order(Duration::from_secs(3600)))
        .await
        .unwrap();
    let request = server.only_request();
    assert_eq!(request.header("stripe-version"), Some("2026-01-28.clover"));
    assert_eq!(
        request.field("cancel_url"),
        "https://shop.example/till?cancelled=1"
    );
}

#[tokio::test]
async fn a_web_checkout_returns_the_buyer_to_the_shop_page() {
    let server = CaptureServer::start(session_reply).await;
    // A configured till cancel address must not send a web buyer to the till.
    let provider = StripeProvider::new(StripeConfig {
        cancel_url: Some("https://shop.example/till?cancelled=1".parse().unwrap()),
        ..server.config()
    })
    .unwrap();
    let receipt = "https://shop.example.com/r/Zm9vYmFyYmF6cXV4cXV1eA?lang=zh-CN";
    let order = ChargeRequest {
        web: Some(WebCheckout {
            return_url: receipt.into(),
            notify_url: Some("https://shop.example.com/hooks/stripe".into()),
            phone: true,
        }),
        ..cup_order(Duration::from_secs(3600))
    };
    let charge = provider.create_charge(&order).await.unwrap();

    let request = server.only_request();
    let till = {
        let till = server.provider();
        till.create_charge(&cup_order(Duration::from_secs(3600)))
            .await
            .unwrap();
        server.requests().pop().unwrap()
    };
    // Stripe's documented parameters, the till's form except where the buyer goes after.
    let names = |request: &Captured| -> Vec<String> {
        request.form.iter().map(|(name, _)| name.clone()).collect()
    };
    let mut expected = names(&till);
    expected.push("cancel_url".into());
    assert_eq!(names(&request), expected);
    assert_eq!(request.field("success_url"), receipt);
    assert_eq!(request.field("cancel_url"), receipt);
    for (name, value) in &till.form {
        if !["success_url", "expires_at"].contains(&name.as_str()) {
            assert_eq!(request.field(name), value, "{name}");
        }
    }
    // The session URL is where the shop page sends the browser.
    assert!(
        charge
            .qr_payload
            .starts_with("https://checkout.stripe.com/c/pay/cs_test_a1YS")
    );
}

#[tokio::test]
async fn a_web_checkout_without_an_absolute_return_address_is_not_sent() {
    let server = CaptureServer::start(session_reply).await;
    for bad in [
        "/r/abc",
        "shop.example.com/r/abc",
        "javascript:alert(1)",
        "",
    ] {
        let order = ChargeRequest {
            web: Some(WebCheckout {
                return_url: bad.into(),
                notify_url: None,
                phone: false,
            }),
            ..cup_order(Duration::from_secs(3600))
        };
        let err = server.provider().create_charge(&order).await.unwrap_err();
        assert!(
            matches!(err, ProviderError::Config { .. }),
            "{bad:?}: {err:?}"
        );
        assert!(err.to_string().contains("return the buyer"), "{err}");
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn payment_link_creates_a_price_then_the_link() {
    let server = CaptureServer::start(|request| match request.path.as_str() {
        "/v1/prices" => Reply::json(
            200,
            json!({
                "id": "price_1MoBy5LkdIwHu7ixZhnattbh",
                "object": "price",
                "active": true,
                "currency": "cny",
                "product": "prod_NZKdYqrwEYx6iK",
                "type": "one_time",
                "unit_amount": 1250
            })
            .to_string(),
        ),
        "/v1/payment_links" => Reply::json(
            200,
            json!({
                "id": "plink_1MoC3ULkdIwHu7ixZjtGpVl2",
                "object": "payment_link",
                "active": true,
                "livemode": false,
                "metadata": {"sku": "CUP-BLUE"},
                "url": "https://buy.stripe.com/test_cN25nr0iZ7bUa7meUY"
            })
            .to_string(),
        ),
        _ => Reply::json(404, "{}"),
    })
    .await;

    let link = server
        .provider()
        .create_payment_link(&PaymentLinkProduct {
            name: "青花瓷杯".into(),
            unit_amount_minor: 1250,
            currency: "CNY".into(),
            sku: "CUP-BLUE".into(),
        })
        .await
        .unwrap();

    let requests = server.requests();
    let paths: Vec<_> = requests
        .iter()
        .map(|request| request.path.as_str())
        .collect();
    assert_eq!(paths, ["/v1/prices", "/v1/payment_links"]);
    let pairs = |request: &Captured| -> Vec<(String, String)> { request.form.clone() };
    let expect = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    };
    assert_eq!(
        pairs(&requests[0]),
        expect(&[
            ("currency", "cny"),
            ("unit_amount", "1250"),
            ("product_data[name]", "青花瓷杯")
        ])
    );
    assert_eq!(
        pairs(&requests[1]),
        expect(&[
            ("line_items[0][price]", "price_1MoBy5LkdIwHu7ixZhnattbh"),
            ("line_items[0][quantity]", "1"),
            ("metadata[sku]", "CUP-BLUE"),
        ])
    );
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {SECRET_KEY}").as_str())
        );
    }
    assert_eq!(link.id, "plink_1MoC3ULkdIwHu7ixZjtGpVl2");
    assert_eq!(link.url, "https://buy.stripe.com/test_cN25nr0iZ7bUa7meUY");
    assert!(link.raw.contains("plink_1MoC3ULkdIwHu7ixZjtGpVl2"));
}

#[test]
fn tagged_payment_link_adds_client_reference_id() {
    let link = "https://buy.stripe.com/test_cN25nr0iZ7bUa7meUY";
    assert_eq!(
        tagged_payment_link(link, "post-12").unwrap(),
        "https://buy.stripe.com/test_cN25nr0iZ7bUa7meUY?client_reference_id=post-12"
    );
    // Other parameters stay; an old tag is replaced, not repeated.
    assert_eq!(
        tagged_payment_link(
            &format!("{link}?locale=zh&client_reference_id=old"),
            "sign_S1A2B3C4"
        )
        .unwrap(),
        format!("{link}?locale=zh&client_reference_id=sign_S1A2B3C4")
    );
    assert!(tagged_payment_link(link, &"a".repeat(200)).is_ok());
}

#[test]
fn tagged_payment_link_refuses_tags_stripe_would_drop() {
    let link = "https://buy.stripe.com/test_cN25nr0iZ7bUa7meUY";
    for tag in [
        "",
        "post:12",
        "sign S1",
        "标签",
        "a/b",
        "x?y=1",
        &"a".repeat(201),
    ] {
        assert_eq!(
            tagged_payment_link(link, tag),
            Err(TaggedLinkError::Tag(tag.to_string())),
            "{tag:?}"
        );
    }
    assert!(matches!(
        tagged_payment_link("buy.stripe.com/x", "till"),
        Err(TaggedLinkError::Url(_))
    ));
    let message = tagged_payment_link(link, "post:12")
        .unwrap_err()
        .to_string();
    assert!(message.contains("letters, digits, '-' or '_'"), "{message}");
}

fn open_charge(charge_ref: &str) -> OpenCharge {
    OpenCharge {
        charge_ref: charge_ref.into(),
        order_ref: "O-42".into(),
        amount_minor: 1250,
        currency: "CNY".into(),
        expires_at: Timestamp::now(),
    }
}

#[tokio::test]
async fn cancel_expires_a_session_or_cancels_a_payment_intent() {
    let server =
        CaptureServer::always(Reply::json(200, r#"{"id": "x", "status": "expired"}"#)).await;
    let provider = server.provider();
    provider
        .cancel(&open_charge("cs_test_a1YS1URl"))
        .await
        .unwrap();
    provider
        .cancel(&open_charge("pi_3MtwBwLkdIwHu7ix28a3tqPa"))
        .await
        .unwrap();
    let err = provider.cancel(&open_charge("O-42")).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unsupported { .. }), "{err:?}");

    let requests = server.requests();
    let calls: Vec<_> = requests
        .iter()
        .map(|request| (request.method.as_str(), request.path.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("POST", "/v1/checkout/sessions/cs_test_a1YS1URl/expire"),
            (
                "POST",
                "/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa/cancel"
            ),
        ]
    );
}

#[tokio::test]
async fn an_id_cannot_change_the_path() {
    let server = CaptureServer::always(Reply::json(200, "{}")).await;
    server
        .provider()
        .cancel(&open_charge("cs_x/../../refunds"))
        .await
        .unwrap();
    assert_eq!(
        server.only_request().path,
        "/v1/checkout/sessions/cs_x%2F..%2F..%2Frefunds/expire"
    );
}

#[test]
fn secret_key_never_shows_in_debug() {
    let config = StripeConfig::new("sk_live_51SecretPartThatMustNotLeak");
    let provider = StripeProvider::new(config.clone()).unwrap();
    for text in [format!("{config:?}"), format!("{provider:?}")] {
        assert!(!text.contains("SecretPart"), "{text}");
        assert!(text.contains("sk_live_[redacted]"), "{text}");
    }
}

#[test]
fn unusable_settings_are_refused_up_front() {
    for config in [
        StripeConfig::new(""),
        StripeConfig::new("sk_test_abc def"),
        StripeConfig {
            page_limit: 101,
            ..StripeConfig::new("sk_test_abc")
        },
        StripeConfig {
            api_base: "mailto:stripe@example.com".parse().unwrap(),
            ..StripeConfig::new("sk_test_abc")
        },
    ] {
        let err = StripeProvider::new(config).unwrap_err();
        assert!(matches!(err, ProviderError::Config { .. }), "{err:?}");
    }
}

/// Stripe writes ISK with two decimals that are always 00 (docs.stripe.com/currencies,
/// special cases): a 5,000 kr sale is `unit_amount=500000`, not a 50 kr session.
#[tokio::test]
async fn an_isk_sale_is_sent_in_stripes_two_decimal_units() {
    let server = CaptureServer::start(session_reply).await;
    let mut order = cup_order(Duration::from_secs(3600));
    order.currency = "ISK".into();
    order.amount_minor = 5_000;
    order.lines = vec![
        ChargeLine {
            name: "Lopapeysa".into(),
            quantity: 1,
            unit_amount_minor: 4_000,
        },
        ChargeLine {
            name: "Kaffi".into(),
            quantity: 2,
            unit_amount_minor: 500,
        },
    ];
    server.provider().create_charge(&order).await.unwrap();
    let request = server.only_request();
    assert_eq!(request.field("line_items[0][price_data][currency]"), "isk");
    assert_eq!(
        request.field("line_items[0][price_data][unit_amount]"),
        "400000"
    );
    assert_eq!(
        request.field("line_items[1][price_data][unit_amount]"),
        "50000"
    );
}

#[tokio::test]
async fn an_amount_stripe_cannot_charge_is_refused_before_sending() {
    let server = CaptureServer::start(session_reply).await;
    let mut order = cup_order(Duration::from_secs(3600));
    order.currency = "KWD".into();
    order.amount_minor = 5_124;
    order.lines[0].unit_amount_minor = 5_124;
    let err = server.provider().create_charge(&order).await.unwrap_err();
    assert_eq!(err.code(), "provider_amount", "{err:?}");
    let sentence = err.to_string();
    assert!(sentence.contains("5.124 KWD"), "{sentence}");
    assert!(sentence.contains("0.010 KWD"), "{sentence}");
    assert!(server.requests().is_empty());

    // A price Stripe cannot show (MGA is whole ariary there) makes no Payment Link either.
    let err = server
        .provider()
        .create_payment_link(&PaymentLinkProduct {
            name: "Vanille".into(),
            unit_amount_minor: 12_345,
            currency: "MGA".into(),
            sku: "VAN-1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "provider_amount", "{err:?}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn an_isk_payment_link_price_is_in_stripes_units() {
    let server = CaptureServer::start(|request| match request.path.as_str() {
        "/v1/prices" => Reply::json(200, r#"{"id": "price_isk", "object": "price"}"#),
        _ => Reply::json(
            200,
            r#"{"id": "plink_isk", "object": "payment_link", "url": "https://buy.stripe.com/test_isk"}"#,
        ),
    })
    .await;
    server
        .provider()
        .create_payment_link(&PaymentLinkProduct {
            name: "Lopapeysa".into(),
            unit_amount_minor: 25_900,
            currency: "ISK".into(),
            sku: "LOPI".into(),
        })
        .await
        .unwrap();
    let prices = &server.requests()[0];
    assert_eq!(prices.field("unit_amount"), "2590000");
    assert_eq!(prices.field("currency"), "isk");
}
