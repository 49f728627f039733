//! The payments room at its providers' edges: against a Stripe-shaped local server (the
//! documented Checkout Session and event-list shapes; localstripe has no Checkout) amounts
//! cross in Stripe's units and the feed moves on past an event it cannot read; test mode keeps
//! every currency's own decimals; stored replies are bounded.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde_json::{Value, json};
use shopcast_core::Shop;
use shopcast_core::payments::ledger::PaymentFilter;
use shopcast_core::payments::till::OrderStatus;
use shopcast_payments::{PaymentStatus, ProviderKind};

use crate::{count, order_of, product, shop_with};

/// A form as posted, decoded, in order.
type Form = Vec<(String, String)>;

/// What the fake Stripe saw and what its event list holds.
#[derive(Clone, Default)]
struct Feed {
    /// Each Checkout Session form.
    sessions: Arc<Mutex<Vec<Form>>>,
    /// The events listed, oldest first (served newest first, as Stripe does).
    events: Arc<Mutex<Vec<Value>>>,
}

impl Feed {
    fn push(&self, id: &str, kind: &str, created: i64, object: Value) {
        self.events.lock().unwrap().push(json!({
            "id": id, "object": "event", "created": created, "type": kind,
            "data": {"object": object}, "livemode": false
        }));
    }

    fn session_field(&self, index: usize, name: &str) -> String {
        let sessions = self.sessions.lock().unwrap();
        let found: Vec<_> = sessions[index].iter().filter(|(k, _)| k == name).collect();
        assert_eq!(found.len(), 1, "{name} in {:?}", sessions[index]);
        found[0].1.clone()
    }
}

async fn create_session(State(feed): State<Feed>, body: String) -> axum::Json<Value> {
    let form: Form = url::form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let expires_at = form
        .iter()
        .find(|(k, _)| k == "expires_at")
        .map(|(_, v)| v.parse::<i64>().unwrap());
    let mut sessions = feed.sessions.lock().unwrap();
    sessions.push(form);
    let id = format!("cs_test_{}", sessions.len());
    axum::Json(json!({
        "id": id, "object": "checkout.session", "mode": "payment", "status": "open",
        "url": format!("https://checkout.stripe.com/c/pay/{id}"), "expires_at": expires_at
    }))
}

async fn list_events(State(feed): State<Feed>) -> axum::Json<Value> {
    let mut data = feed.events.lock().unwrap().clone();
    data.reverse();
    axum::Json(json!({"object": "list", "data": data, "has_more": false}))
}

async fn expire_session(Path(id): Path<String>) -> axum::Json<Value> {
    axum::Json(json!({"id": id, "object": "checkout.session", "status": "expired"}))
}

/// Starts the fake Stripe on 127.0.0.1; its base URL.
async fn fake_stripe(feed: Feed) -> String {
    let app = axum::Router::new()
        .route("/v1/checkout/sessions", post(create_session))
        .route("/v1/checkout/sessions/{id}/expire", post(expire_session))
        .route("/v1/events", get(list_events))
        .with_state(feed);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

async fn connected(currency: &str, feed: &Feed) -> (Shop, tempfile::TempDir) {
    // Keys go to the 0600 file here, never to the keychain of whoever runs the tests.
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let (shop, dir) = shop_with(currency).await;
    shop.payments().set_poll_interval(Duration::from_millis(50));
    let base = fake_stripe(feed.clone()).await;
    shop.connect_stripe(&base, "sk_test_units").await.unwrap();
    (shop, dir)
}

async fn until<F: AsyncFn() -> bool>(what: &str, condition: F) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition().await {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// ISO 4217 gives ISK no decimals; Stripe writes it with two that are always 00. A 5,000 kr
/// sale must ask Stripe for 500000, and Stripe's 500000 must pay the 5,000 kr order in full.
#[tokio::test]
async fn a_5000_kr_sale_is_500000_at_stripe_and_500000_pays_it_in_full() {
    let feed = Feed::default();
    let (shop, _dir) = connected("ISK", &feed).await;
    let sweater = product(&shop, "Lopapeysa", "5000", None).await;
    let order = order_of(&shop, &[(sweater, 1)]).await;
    assert_eq!(order.total.amount_minor, 5_000);

    let charge = shop
        .charge_order(order.id, ProviderKind::Stripe)
        .await
        .unwrap();
    assert_eq!(
        feed.session_field(0, "line_items[0][price_data][unit_amount]"),
        "500000"
    );
    assert_eq!(
        feed.session_field(0, "line_items[0][price_data][currency]"),
        "isk"
    );

    feed.push(
        "evt_isk_paid",
        "checkout.session.completed",
        now(),
        json!({
            "id": charge.charge_ref, "object": "checkout.session", "mode": "payment",
            "amount_total": 500_000, "currency": "isk", "payment_status": "paid",
            "payment_intent": "pi_isk", "client_reference_id": order.order_ref,
            "metadata": {"order_ref": order.order_ref}
        }),
    );
    until("the order is paid", async || {
        shop.order(order.id).await.unwrap().status == OrderStatus::Paid
    })
    .await;
    let payments = shop.list_payments(&PaymentFilter::default()).await.unwrap();
    assert_eq!(payments.len(), 1);
    let paid = &payments[0];
    assert_eq!(paid.status, PaymentStatus::Paid);
    assert_eq!(
        (paid.amount.amount_minor, paid.amount.currency.as_str()),
        (5_000, "ISK")
    );
    assert_eq!(paid.mismatch, None);
    shop.payments().disconnect(ProviderKind::Stripe);
}

/// Another integration's setup-mode Checkout Session has `amount_total` and `currency` null.
/// It is kept for review and counted in Stripe's health; the payments on either side of it
/// are recorded and the cursor moves past all three. Re-reading the feed keeps nothing twice.
#[tokio::test]
async fn an_unreadable_event_between_two_payments_is_kept_counted_and_skipped() {
    let feed = Feed::default();
    let (shop, _dir) = connected("CNY", &feed).await;
    let cup = product(&shop, "青花瓷杯", "12.50", None).await;
    let tea = product(&shop, "Tea", "9.90", None).await;
    let first = order_of(&shop, &[(cup, 1)]).await;
    let second = order_of(&shop, &[(tea, 1)]).await;
    let intent = |id: &str, amount: i64, order_ref: &str| {
        json!({"id": id, "object": "payment_intent", "amount": amount,
               "amount_received": amount, "currency": "cny", "status": "succeeded",
               "metadata": {"order_ref": order_ref}})
    };
    let t = now();
    feed.push(
        "evt_first",
        "payment_intent.succeeded",
        t,
        intent("pi_first", 1_250, &first.order_ref),
    );
    feed.push(
        "evt_setup",
        "checkout.session.completed",
        t + 1,
        json!({"id": "cs_setup", "object": "checkout.session", "mode": "setup",
               "amount_total": null, "amount_subtotal": null, "currency": null,
               "payment_status": "no_payment_required", "payment_intent": null,
               "setup_intent": "seti_1", "metadata": {}}),
    );
    feed.push(
        "evt_last",
        "payment_intent.succeeded",
        t + 2,
        intent("pi_last", 990, &second.order_ref),
    );

    until("both payments are recorded", async || {
        count(&shop, "payments").await == 2
    })
    .await;
    for order in [&first, &second] {
        assert_eq!(
            shop.order(order.id).await.unwrap().status,
            OrderStatus::Paid
        );
    }
    let cursor = shopcast_core::payments::ledger::cursor(shop.pool(), ProviderKind::Stripe)
        .await
        .unwrap();
    assert_eq!(cursor, Some((t + 2).to_string()));
    assert_eq!(count(&shop, "unreadable_payment_events").await, 1);
    let (id, reason, raw): (String, String, String) = sqlx::query_as(
        "SELECT event_id, reason, raw FROM unreadable_payment_events WHERE provider = 'stripe'",
    )
    .fetch_one(shop.pool())
    .await
    .unwrap();
    assert_eq!(
        (id.as_str(), reason.as_str()),
        ("evt_setup", "amount_total is null")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&raw).unwrap()["id"],
        "evt_setup"
    );

    let expected = "1 Stripe event could not be read (last: evt_setup: amount_total is null); \
                    it was skipped and kept for review.";
    until("health says so", async || {
        shop.payments().health().iter().any(|h| {
            h.provider == ProviderKind::Stripe
                && h.ok
                && h.skipped_events.as_deref() == Some(expected)
        })
    })
    .await;
    assert_eq!(
        shop.payments()
            .skipped_events(ProviderKind::Stripe)
            .await
            .unwrap()
            .as_deref(),
        Some(expected)
    );

    // Every poll re-reads a minute of overlap: the same three events, nothing new stored.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(count(&shop, "unreadable_payment_events").await, 1);
    assert_eq!(count(&shop, "payment_events").await, 2);
    assert_eq!(count(&shop, "payments").await, 2);
    shop.payments().disconnect(ProviderKind::Stripe);
}

/// A provider may send as much as it likes (up to the 1 MiB reply cap); the ledger keeps at
/// most 64 KiB of it per event, cut on a character boundary with a marker.
#[tokio::test]
async fn raw_replies_are_stored_cut_to_a_bounded_size() {
    let (shop, _dir) = shop_with("CNY").await;
    let mut big = crate::event("evt_big", "pi_big", PaymentStatus::Paid, 1_250);
    big.raw = format!(r#"{{"id":"evt_big","note":"{}"}}"#, "青".repeat(100_000));
    crate::ingest(&shop, ProviderKind::Stripe, &[big]).await;
    let raw: String =
        sqlx::query_scalar("SELECT raw FROM payment_events WHERE event_id = 'evt_big'")
            .fetch_one(shop.pool())
            .await
            .unwrap();
    assert!(raw.len() <= 64 * 1024 + 64, "{} bytes kept", raw.len());
    assert!(raw.starts_with(r#"{"id":"evt_big""#));
    assert!(raw.ends_with("bytes in all]"), "{}", &raw[raw.len() - 60..]);
}

/// Test mode keeps our minor units as they are, whatever the currency's decimals: a 5,000 kr
/// and a 1.235 KWD sale are shown with their own decimals, paid over HTTP and recorded in full.
#[tokio::test]
async fn test_mode_keeps_each_currencys_own_decimals() {
    for (currency, price, minor) in [("ISK", "5000", 5_000), ("KWD", "1.235", 1_235)] {
        let (shop, _dir) = shop_with(currency).await;
        let item = product(&shop, "Item", price, None).await;
        shop.payments()
            .start_test_mode("127.0.0.1:0".parse().unwrap(), None)
            .await
            .unwrap();
        let order = order_of(&shop, &[(item, 1)]).await;
        let charge = shop
            .start_charge(order.id, ProviderKind::Test, Duration::from_secs(300))
            .await
            .unwrap();
        let http = shopcast_payments::http::client();
        let page = http.get(&charge.qr_payload).send().await.unwrap();
        let page = page.text().await.unwrap();
        let shown = shopcast_core::money::Money {
            amount_minor: minor,
            currency: currency.into(),
        }
        .format_local("en");
        assert!(page.contains(&shown), "{currency}: {shown} not on {page}");
        assert_eq!(
            crate::payments::pay_on_page(&http, &charge.qr_payload).await,
            200
        );
        until("the order is paid", async || {
            shop.order(order.id).await.unwrap().status == OrderStatus::Paid
        })
        .await;
        let payments = shop.list_payments(&PaymentFilter::default()).await.unwrap();
        assert_eq!(
            (
                payments[0].amount.amount_minor,
                payments[0].amount.currency.as_str()
            ),
            (minor, currency)
        );
        assert_eq!(payments[0].mismatch, None);
        shop.payments().stop_test_mode().await;
    }
}

/// A price Stripe cannot charge (KWD needs a last digit of 0) is refused with its code and a
/// sentence before anything is sent; no charge is stored and the order stays open to pay
/// another way.
#[tokio::test]
async fn a_price_stripe_cannot_charge_is_refused_and_changes_nothing() {
    let feed = Feed::default();
    let (shop, _dir) = connected("KWD", &feed).await;
    let item = product(&shop, "Dallah", "1.235", None).await;
    let order = order_of(&shop, &[(item, 1)]).await;
    let err = shop
        .charge_order(order.id, ProviderKind::Stripe)
        .await
        .unwrap_err();
    assert_eq!(err.code(), shopcast_core::error::ErrorCode::ProviderAmount);
    let sentence = err.to_string();
    assert!(
        sentence.contains("1.235 KWD") && sentence.contains("0.010 KWD"),
        "{sentence}"
    );
    assert!(feed.sessions.lock().unwrap().is_empty());
    assert_eq!(count(&shop, "charges").await, 0);
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Open
    );
    shop.payments().disconnect(ProviderKind::Stripe);
}
