//! Stripe webhooks through the engine on a real shop file: a signed delivery records its
//! order's payment once, whatever the retries, replays, concurrent deliveries or polls of the
//! same event; anything unverifiable is refused and leaves the file as it was.

#[path = "../../../payments/tests/stripe/localstripe.rs"]
#[allow(dead_code)]
mod localstripe;

use serde_json::json;
use shopcast_core::payments::PaymentUpdate;
use shopcast_core::payments::callbacks::CallbackOutcome;
use shopcast_core::payments::ledger::PaymentFilter;
use shopcast_core::payments::till::{Order, OrderStatus};
use shopcast_core::{CoreError, ErrorCode, Shop};
use shopcast_payments::PaymentStatus;
use shopcast_payments::stripe::{WebhookSecret, signature_header};

use crate::{count, order_of, product, shop_with};
use localstripe::LocalStripe;

const SECRET: &str = "whsec_test_Jq8vN2cXr5LmT0yKa7Hw3Pd9Fs6Ub1Ze";

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A shop selling one 青花瓷杯 at ¥88, Stripe connected (localstripe) with the webhook secret.
async fn stripe_shop() -> (Shop, tempfile::TempDir, LocalStripe, Order) {
    // Keys go to the 0600 file here, never to the keychain of whoever runs the tests.
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let (shop, dir) = shop_with("CNY").await;
    let stripe = LocalStripe::start();
    // These tests record by webhook and by their own polls; the watcher looks once, at
    // connect, and not again for an hour, so it cannot record a payment first on a slow run.
    shop.payments()
        .set_poll_interval(std::time::Duration::from_secs(3600));
    shop.connect_stripe(stripe.base().as_str(), localstripe::SECRET_KEY)
        .await
        .unwrap();
    let watched = std::time::Instant::now();
    while !shop
        .payments()
        .health()
        .iter()
        .any(|health| health.provider == shopcast_payments::ProviderKind::Stripe)
    {
        assert!(
            watched.elapsed() < std::time::Duration::from_secs(10),
            "the Stripe watcher never polled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    shop.set_stripe_webhook_secret(Some(SECRET)).await.unwrap();
    let cup = product(&shop, "青花瓷杯", "88", Some(5)).await;
    let order = order_of(&shop, &[(cup, 1)]).await;
    (shop, dir, stripe, order)
}

/// `checkout.session.completed` for `order`, paid, as Stripe documents the event.
fn completed(event_id: &str, order: &Order) -> String {
    json!({
        "id": event_id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": now(),
        "data": {"object": {
            "id": format!("cs_test_{}", order.order_ref.replace('-', "")),
            "object": "checkout.session",
            "amount_total": order.total.amount_minor,
            "currency": order.total.currency.to_ascii_lowercase(),
            "client_reference_id": "link",
            "metadata": {"order_ref": order.order_ref},
            "mode": "payment",
            "payment_intent": format!("pi_web_{}", order.order_ref.replace('-', "")),
            "payment_status": "paid",
            "status": "complete"
        }},
        "livemode": false,
        "pending_webhooks": 1,
        "type": "checkout.session.completed"
    })
    .to_string()
}

fn signed(payload: &str) -> String {
    signature_header(
        &WebhookSecret::new(SECRET).unwrap(),
        payload.as_bytes(),
        now(),
    )
}

/// Rows the ledger holds: payments, their events, unreadable events, Stripe's poll cursor.
async fn ledger_rows(shop: &Shop) -> (i64, i64, i64, i64) {
    let cursors: i64 =
        sqlx::query_scalar("SELECT count(*) FROM provider_cursors WHERE provider = 'stripe'")
            .fetch_one(shop.pool())
            .await
            .unwrap();
    (
        count(shop, "payments").await,
        count(shop, "payment_events").await,
        count(shop, "unreadable_payment_events").await,
        cursors,
    )
}

#[tokio::test]
async fn a_signed_checkout_completed_records_the_order_paid_once() {
    let (shop, _dir, _stripe, order) = stripe_shop().await;
    let mut updates = shop.payment_updates();
    let payload = completed("evt_1WebPaid", &order);

    let outcome = shop
        .record_stripe_webhook(&signed(&payload), payload.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        outcome,
        CallbackOutcome {
            recorded: 1,
            ignored: 0
        }
    );
    let payments = shop.list_payments(&PaymentFilter::default()).await.unwrap();
    assert_eq!(payments.len(), 1, "{payments:#?}");
    assert_eq!(payments[0].status, PaymentStatus::Paid);
    assert_eq!(payments[0].order_id, Some(order.id));
    assert_eq!(payments[0].amount.amount_minor, 8800);
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Paid
    );
    // The window hears of it as it hears of a polled payment.
    let mut heard_payment = false;
    while let Ok(update) = updates.try_recv() {
        heard_payment |=
            matches!(update, PaymentUpdate::Payment { payment } if payment.id == payments[0].id);
    }
    assert!(heard_payment);

    // Stripe retries (a slow 200, a lost reply): nothing more.
    for _ in 0..3 {
        let again = shop
            .record_stripe_webhook(&signed(&payload), payload.as_bytes())
            .await
            .unwrap();
        assert_eq!(again.recorded, 0);
    }
    // One payment, one event, and the poll cursor untouched (the watcher still catches up).
    assert_eq!(ledger_rows(&shop).await, (1, 1, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_deliveries_of_one_event_record_one_payment() {
    let (shop, _dir, _stripe, order) = stripe_shop().await;
    let payload = completed("evt_1WebBurst", &order);
    let header = signed(&payload);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (shop, header, payload) = (shop.clone(), header.clone(), payload.clone());
            tokio::spawn(async move {
                shop.record_stripe_webhook(&header, payload.as_bytes())
                    .await
            })
        })
        .collect();
    let mut recorded = 0;
    for task in tasks {
        recorded += task.await.unwrap().unwrap().recorded;
    }
    assert_eq!(recorded, 1);
    assert_eq!(ledger_rows(&shop).await, (1, 1, 0, 0));
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Paid
    );
}

#[tokio::test]
async fn a_payment_seen_by_a_poll_and_a_webhook_is_recorded_once_either_way() {
    let (shop, _dir, stripe, order) = stripe_shop().await;
    // Paid at Stripe (localstripe), polled first, then the delivery arrives late.
    stripe.pay_by_card(8800, "cny", &order.order_ref).await;
    let polled = shop.poll_saved_providers_once().await.unwrap();
    assert_eq!(polled.len(), 1);
    assert_eq!(polled[0].order_id, Some(order.id));
    let before = ledger_rows(&shop).await;
    let events = stripe.raw_events().await;
    assert!(!events.is_empty());
    for payload in &events {
        let outcome = shop
            .record_stripe_webhook(&signed(payload), payload.as_bytes())
            .await
            .unwrap();
        assert_eq!(outcome.recorded, 0, "{payload}");
    }
    assert_eq!(ledger_rows(&shop).await, before);

    // The other way round: a second order's delivery first, then the poll finds nothing new.
    let cup = shop.order(order.id).await.unwrap().lines[0]
        .product_id
        .unwrap();
    let second = order_of(&shop, &[(cup, 2)]).await;
    stripe.pay_by_card(17_600, "cny", &second.order_ref).await;
    let fresh: Vec<String> = stripe
        .raw_events()
        .await
        .into_iter()
        .filter(|payload| !events.contains(payload))
        .collect();
    let mut recorded = 0;
    for payload in &fresh {
        recorded += shop
            .record_stripe_webhook(&signed(payload), payload.as_bytes())
            .await
            .unwrap()
            .recorded;
    }
    assert_eq!(recorded, 1);
    assert_eq!(
        shop.order(second.id).await.unwrap().status,
        OrderStatus::Paid
    );
    let after_webhook = ledger_rows(&shop).await;
    // The poll reads the same events: nothing more, only its cursor moves.
    let polled = shop.poll_saved_providers_once().await.unwrap();
    assert!(polled.is_empty(), "{polled:#?}");
    let after_poll = ledger_rows(&shop).await;
    assert_eq!(
        (after_poll.0, after_poll.1, after_poll.2),
        (after_webhook.0, after_webhook.1, after_webhook.2)
    );
    assert_eq!(after_poll.0, 2);
}

fn refused_code(result: shopcast_core::Result<CallbackOutcome>) -> String {
    match result {
        Err(error @ CoreError::CallbackRefused { .. }) => {
            assert_eq!(error.code(), ErrorCode::CallbackRefused);
            error.to_string()
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[tokio::test]
async fn unverifiable_deliveries_are_refused_and_store_nothing() {
    let (shop, _dir, _stripe, order) = stripe_shop().await;
    let payload = completed("evt_1WebForged", &order);
    let good = signed(&payload);
    let other = WebhookSecret::new("whsec_test_someone_elses_endpoint_0000").unwrap();
    let at = now();
    let secret = WebhookSecret::new(SECRET).unwrap();
    let tampered = payload.replace("8800", "1");
    let cases: Vec<(String, String, &str)> = vec![
        (good.clone(), tampered.clone(), "matches"),
        (
            signature_header(&other, payload.as_bytes(), at),
            payload.clone(),
            "matches",
        ),
        (
            signature_header(&secret, payload.as_bytes(), at - 400),
            payload.clone(),
            "old",
        ),
        (
            signature_header(&secret, payload.as_bytes(), at + 400),
            payload.clone(),
            "ahead",
        ),
        (String::new(), payload.clone(), "no Stripe-Signature"),
        ("t=abc,v1=00".into(), payload.clone(), "cannot be read"),
    ];
    for (header, body, says) in &cases {
        let message = refused_code(shop.record_stripe_webhook(header, body.as_bytes()).await);
        assert!(message.contains(says), "{header:?}: {message}");
        assert!(message.contains("nothing was recorded"), "{message}");
    }
    let big = vec![b' '; 1024 * 1024 + 1];
    let message = refused_code(
        shop.record_stripe_webhook(&signature_header(&secret, &big, at), &big)
            .await,
    );
    assert!(message.contains("1 MiB"), "{message}");

    assert_eq!(ledger_rows(&shop).await, (0, 0, 0, 0));
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        OrderStatus::Open
    );
    // The genuine delivery still counts afterwards.
    let outcome = shop
        .record_stripe_webhook(&good, payload.as_bytes())
        .await
        .unwrap();
    assert_eq!(outcome.recorded, 1);
}

#[tokio::test]
async fn the_signing_secret_lives_in_the_keychain_and_must_be_set_to_take_webhooks() {
    let (shop, _dir, _stripe, order) = stripe_shop().await;
    let setup = shop.payment_settings().await.unwrap().stripe.unwrap();
    assert!(setup.webhook_secret_set);
    // Not in the shop's database (the file after a checkpoint, or every row on a server),
    // nor in what the window is sent.
    let (file, _) = crate::stored_bytes(&shop).await;
    let holds = |text: &str| file.windows(text.len()).any(|w| w == text.as_bytes());
    assert!(
        holds(&order.order_ref),
        "the scan sees what the shop just wrote"
    );
    assert!(
        !holds(SECRET),
        "the signing secret leaked into the shop file"
    );
    let view = serde_json::to_string(&shop.providers_view().await.unwrap()).unwrap();
    assert!(!view.contains("whsec_"), "{view}");

    // Not a Stripe signing secret: refused, the old one kept.
    let error = shop
        .set_stripe_webhook_secret(Some("sk_test_oops"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Validation);
    assert!(error.to_string().contains("whsec_"), "{error}");
    let payload = completed("evt_1WebSecret", &order);
    assert_eq!(
        shop.record_stripe_webhook(&signed(&payload), payload.as_bytes())
            .await
            .unwrap()
            .recorded,
        1
    );

    // Removed: every delivery is refused with how to set it.
    shop.set_stripe_webhook_secret(None).await.unwrap();
    assert!(
        !shop
            .payment_settings()
            .await
            .unwrap()
            .stripe
            .unwrap()
            .webhook_secret_set
    );
    let message = refused_code(
        shop.record_stripe_webhook(&signed(&payload), payload.as_bytes())
            .await,
    );
    assert!(message.contains("Settings → Payments"), "{message}");
    assert!(
        message.contains("SHOPCAST_STRIPE_WEBHOOK_SECRET"),
        "{message}"
    );

    // Set again, then Stripe disconnected: the secret goes with the key.
    shop.set_stripe_webhook_secret(Some(SECRET)).await.unwrap();
    shop.disconnect_provider(shopcast_payments::ProviderKind::Stripe)
        .await
        .unwrap();
    refused_code(
        shop.record_stripe_webhook(&signed(&payload), payload.as_bytes())
            .await,
    );
    let error = shop
        .set_stripe_webhook_secret(Some(SECRET))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("Connect Stripe first"),
        "{error}"
    );
}

#[tokio::test]
async fn verified_events_we_cannot_use_are_acknowledged_and_unreadable_ones_kept() {
    let (shop, _dir, _stripe, order) = stripe_shop().await;
    let customer = r#"{"id":"evt_1Customer","object":"event","type":"customer.created","created":1790000000,"data":{"object":{"id":"cus_1"}}}"#;
    let outcome = shop
        .record_stripe_webhook(&signed(customer), customer.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        outcome,
        CallbackOutcome {
            recorded: 0,
            ignored: 1
        }
    );
    assert_eq!(ledger_rows(&shop).await, (0, 0, 0, 0));

    // Another integration's setup-mode session: Stripe's, but no payment to read.
    let setup =
        completed("evt_1Setup", &order).replace(r#""amount_total":8800"#, r#""amount_total":null"#);
    assert!(setup.contains("null"));
    for _ in 0..2 {
        let outcome = shop
            .record_stripe_webhook(&signed(&setup), setup.as_bytes())
            .await
            .unwrap();
        assert_eq!(outcome.ignored, 1);
    }
    assert_eq!(ledger_rows(&shop).await, (0, 0, 1, 0));
    let skipped = shop
        .payments()
        .skipped_events(shopcast_payments::ProviderKind::Stripe)
        .await
        .unwrap()
        .unwrap();
    assert!(skipped.contains("evt_1Setup"), "{skipped}");
}

#[tokio::test]
async fn a_signed_event_paying_another_amount_or_currency_puts_the_order_to_review() {
    let (shop, _dir, _stripe, order) = stripe_shop().await;
    let cup = shop.order(order.id).await.unwrap().lines[0]
        .product_id
        .unwrap();
    let other = order_of(&shop, &[(cup, 1)]).await;
    for (event_id, order, amount, currency, why) in [
        (
            "evt_1Short",
            &order,
            8000,
            "cny",
            "paid 80.00 CNY but the order is 88.00 CNY",
        ),
        (
            "evt_1Dollars",
            &other,
            8800,
            "usd",
            "paid 88.00 USD but the order is 88.00 CNY",
        ),
    ] {
        let mut event: serde_json::Value =
            serde_json::from_str(&completed(event_id, order)).unwrap();
        event["data"]["object"]["amount_total"] = json!(amount);
        event["data"]["object"]["currency"] = json!(currency);
        let payload = event.to_string();
        let outcome = shop
            .record_stripe_webhook(&signed(&payload), payload.as_bytes())
            .await
            .unwrap();
        assert_eq!(outcome.recorded, 1, "kept, for the owner to look at");
        let now = shop.order(order.id).await.unwrap();
        assert_eq!(now.status, OrderStatus::Review, "{event_id}: not paid");
        let payments = shop.list_payments(&PaymentFilter::default()).await.unwrap();
        let payment = payments
            .iter()
            .find(|p| p.order_id == Some(order.id))
            .unwrap();
        assert_eq!(payment.mismatch.as_deref(), Some(why));
        assert_eq!(payment.amount.amount_minor, amount);
    }
    // Goods leave the stock only for a sale that matches (5 cups, none taken).
    let stock: i64 = sqlx::query_scalar("SELECT stock FROM products WHERE id = $1")
        .bind(cup)
        .fetch_one(shop.pool())
        .await
        .unwrap();
    assert_eq!(stock, 5);
}
