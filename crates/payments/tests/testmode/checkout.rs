//! Buy links and checkout pages: GET shows, POST with a valid form token acts, floods get 429.

use std::sync::atomic::Ordering;

use shopcast_payments::PaymentProvider;
use shopcast_payments::testmode::CheckoutLimits;

use crate::{checkout, field, http, page_text, post_form, request};

#[tokio::test]
async fn fifty_visits_to_a_buy_link_create_no_order() {
    let (_mode, _server, shop, base) = checkout(CheckoutLimits::default()).await;
    let client = http();
    for _ in 0..50 {
        let page = client
            .get(format!("{base}/p/TEA-1?src=qr&sign=S1A2B3C4"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let text = page.text().await.unwrap();
        // Shown escaped, with the price formatted and a Buy form that posts.
        assert!(
            text.contains("龙井 &lt;tea&gt; &amp; &quot;cups&quot;"),
            "{text}"
        );
        assert!(text.contains("CNY 88.00"), "{text}");
        assert!(
            text.contains(r#"<form method="post" action="/p/TEA-1">"#),
            "{text}"
        );
        assert_eq!(field(&text, "sign").as_deref(), Some("S1A2B3C4"));
    }
    // A HEAD (some previewers) creates nothing either.
    let head = client.head(format!("{base}/p/TEA-1")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(shop.orders.load(Ordering::SeqCst), 0, "GET created orders");
}

#[tokio::test]
async fn buying_needs_the_form_token_of_that_product() {
    let (_mode, _server, shop, base) = checkout(CheckoutLimits::default()).await;
    let client = http();
    let page = page_text(
        &client,
        format!("{base}/p/TEA-1?src=qr&sign=S1A2B3C4&evil=%22%3E%3Cscript%3E"),
    )
    .await;
    assert!(
        !page.contains("<script>") && !page.contains("evil"),
        "{page}"
    );
    let token = field(&page, "csrf").expect("a form token");

    let forged: [Vec<(&str, String)>; 4] = [
        vec![],
        vec![("csrf", String::new())],
        vec![("csrf", format!("{token}0"))],
        vec![("csrf", "1.".to_string() + &"ab".repeat(32))],
    ];
    for form in &forged {
        let reply = post_form(&client, format!("{base}/p/TEA-1"), form).await;
        assert_eq!(reply.status(), 403, "{form:?}");
        let text = reply.text().await.unwrap();
        assert!(text.contains("did not come from this checkout"), "{text}");
    }
    // A token shown for another product does not buy this one.
    let other = post_form(
        &client,
        format!("{base}/p/OTHER"),
        &[("csrf", token.as_str())],
    )
    .await;
    assert_eq!(other.status(), 403);
    assert_eq!(
        shop.orders.load(Ordering::SeqCst),
        0,
        "a forged form bought"
    );

    let bought = post_form(
        &client,
        format!("{base}/p/TEA-1"),
        &[
            ("csrf", token.as_str()),
            ("src", "qr"),
            ("sign", "S1A2B3C4"),
            ("post", "<b>12</b>"),
        ],
    )
    .await;
    assert_eq!(bought.status(), 303);
    let location = bought.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/pay/"), "{location}");
    assert_eq!(shop.orders.load(Ordering::SeqCst), 1);
    let carried = shop.attributions.lock().unwrap()[0].clone();
    assert_eq!(carried.get("sign").map(String::as_str), Some("S1A2B3C4"));
    assert_eq!(carried.get("src").map(String::as_str), Some("qr"));
    assert!(
        !carried.contains_key("post"),
        "markup is not attribution: {carried:?}"
    );
}

#[tokio::test]
async fn orders_beyond_the_limit_get_429_with_retry_after() {
    let limits = CheckoutLimits {
        orders_burst: 3,
        orders_per_minute: 1,
        ..Default::default()
    };
    let (_mode, _server, shop, base) = checkout(limits).await;
    let client = http();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let page = page_text(&client, format!("{base}/p/TEA-1")).await;
        let reply = post_form(
            &client,
            format!("{base}/p/TEA-1"),
            &[("csrf", field(&page, "csrf").unwrap())],
        )
        .await;
        statuses.push(reply.status().as_u16());
        if reply.status() == 429 {
            let wait: u64 = reply.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&wait), "Retry-After {wait}");
            assert!(reply.text().await.unwrap().contains("Too many tries"));
        }
    }
    assert_eq!(statuses, [303, 303, 303, 429, 429, 429]);
    assert_eq!(shop.orders.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn pay_and_decline_need_their_form_token_and_are_rate_limited() {
    let limits = CheckoutLimits {
        settle_burst: 1,
        settle_per_minute: 1,
        ..Default::default()
    };
    let (mode, _server, _shop, _base) = checkout(limits).await;
    let client = http();
    let charge = mode.create_charge(&request("O-1", 1_250)).await.unwrap();
    let other = mode.create_charge(&request("O-2", 990)).await.unwrap();
    let page = page_text(&client, &charge.qr_payload).await;
    assert!(page.contains("CNY 12.50"), "{page}");
    let token = field(&page, "csrf").unwrap();

    let bare = client
        .post(format!("{}/pay", charge.qr_payload))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 403, "no form token");
    // The token of one charge's page does not pay another.
    let crossed = post_form(
        &client,
        format!("{}/pay", other.qr_payload),
        &[("csrf", token.as_str())],
    )
    .await;
    assert_eq!(crossed.status(), 403);
    let status = page_text(&client, format!("{}/status", charge.qr_payload)).await;
    assert_eq!(
        status, r#"{"state":"open"}"#,
        "refused forms settle nothing"
    );

    let paid = post_form(
        &client,
        format!("{}/pay", charge.qr_payload),
        &[("csrf", token.as_str())],
    )
    .await;
    assert_eq!(paid.status(), 200);
    assert!(paid.text().await.unwrap().contains("Paid ✓"));
    // Refused forms used no try; the one real press did, so the next from this device waits.
    let other_page = page_text(&client, &other.qr_payload).await;
    let flood = post_form(
        &client,
        format!("{}/decline", other.qr_payload),
        &[("csrf", field(&other_page, "csrf").unwrap())],
    )
    .await;
    assert_eq!(flood.status(), 429);
    assert!(flood.headers().contains_key("retry-after"));
    let outcome = mode.poll(None, &[]).await.unwrap();
    assert_eq!(outcome.events.len(), 1, "only the real press counted");
}

#[tokio::test]
async fn a_form_token_works_once() {
    let (mode, _server, shop, base) = checkout(CheckoutLimits::default()).await;
    let client = http();
    let page = page_text(&client, format!("{base}/p/TEA-1")).await;
    let token = field(&page, "csrf").unwrap();
    let buy = async || post_form(&client, format!("{base}/p/TEA-1"), &[("csrf", &token)]).await;
    assert_eq!(buy().await.status(), 303);
    let again = buy().await;
    assert_eq!(again.status(), 403, "a resent form buys nothing");
    assert!(again.text().await.unwrap().contains("reload the page"));
    assert_eq!(shop.orders.load(Ordering::SeqCst), 1);
    // Two pages shown in the same second carry different tokens, each good once.
    let (a, b) = (
        page_text(&client, format!("{base}/p/TEA-1")).await,
        page_text(&client, format!("{base}/p/TEA-1")).await,
    );
    assert_ne!(field(&a, "csrf"), field(&b, "csrf"));

    let charge = mode.create_charge(&request("O-9", 500)).await.unwrap();
    let token = field(&page_text(&client, &charge.qr_payload).await, "csrf").unwrap();
    let pay = async || {
        post_form(
            &client,
            format!("{}/pay", charge.qr_payload),
            &[("csrf", &token)],
        )
        .await
    };
    assert_eq!(pay().await.status(), 200);
    assert_eq!(pay().await.status(), 403, "a replayed Pay does nothing");
    let outcome = mode.poll(None, &[]).await.unwrap();
    let paid: Vec<_> = outcome
        .events
        .iter()
        .filter(|e| e.provider_ref == charge.charge_ref)
        .collect();
    assert_eq!(paid.len(), 1, "one payment event");
}
