//! Against localstripe: customers pay (PaymentIntents confirmed with Stripe's test cards, as
//! their phones would), and Shopcast finds out by polling the event feed, refunds, survives an
//! outage. localstripe has no Checkout Sessions, Prices or Payment Links; those are covered by
//! the contract tests.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;
use shopcast_payments::stripe::{StripeConfig, StripeProvider};
use shopcast_payments::{
    OpenCharge, PaymentProvider, PaymentStatus, PollOutcome, ProviderError, ProviderEvent,
    RefundRequest,
};

use crate::ids;
use crate::localstripe::LocalStripe;

fn only_event<'a>(outcome: &'a PollOutcome, provider_ref: &str) -> &'a ProviderEvent {
    let found: Vec<_> = outcome
        .events
        .iter()
        .filter(|event| event.provider_ref == provider_ref)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "events for {provider_ref}: {:#?}",
        outcome.events
    );
    found[0]
}

fn refund_request(provider_ref: &str, amount_minor: i64, refund_ref: &str) -> RefundRequest {
    RefundRequest {
        provider_ref: provider_ref.into(),
        charge_ref: None,
        amount_minor,
        currency: "CNY".into(),
        refund_ref: refund_ref.into(),
        reason: Some("customer changed their mind".into()),
    }
}

#[tokio::test]
async fn a_card_payment_is_polled_as_paid() {
    let stripe = LocalStripe::start();
    let intent = stripe.pay_by_card(1250, "cny", "O-1").await;
    let pi = intent["id"].as_str().unwrap();

    let outcome = stripe.provider().poll(None, &[]).await.unwrap();
    assert_eq!(outcome.events.len(), 1, "{:#?}", outcome.events);
    let event = only_event(&outcome, pi);
    assert_eq!(event.status, PaymentStatus::Paid);
    assert_eq!(event.order_ref.as_deref(), Some("O-1"));
    assert_eq!((event.amount_minor, event.currency.as_str()), (1250, "CNY"));
    assert_eq!(
        (event.charge_ref.as_ref(), event.source_tag.as_ref()),
        (None, None)
    );
    assert_eq!(event.refunded_total_minor, None);

    // The event as localstripe lists it: same id, type, time; raw is its text.
    let listed = stripe.all_events().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["type"], "payment_intent.succeeded");
    assert_eq!(event.event_id, listed[0]["id"].as_str().unwrap());
    assert_eq!(
        event.occurred_at.as_second(),
        listed[0]["created"].as_i64().unwrap()
    );
    assert_eq!(
        serde_json::from_str::<Value>(&event.raw).unwrap(),
        listed[0]
    );
    assert_eq!(outcome.cursor, Some(listed[0]["created"].to_string()));
}

#[tokio::test]
async fn a_declined_card_is_polled_as_failed() {
    let stripe = LocalStripe::start();
    let (status, reply) = stripe
        .pay(990, "cny", "O-2", "pm_card_chargeCustomerFail")
        .await;
    assert_eq!(status, 402, "{reply}");
    assert_eq!(reply["error"]["code"], "card_declined");

    // localstripe lists exactly one event for it: payment_intent.payment_failed.
    let listed = stripe.all_events().await;
    let kinds: Vec<_> = listed
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["payment_intent.payment_failed"]);
    let pi = listed[0]["data"]["object"]["id"].as_str().unwrap();

    let outcome = stripe.provider().poll(None, &[]).await.unwrap();
    let event = only_event(&outcome, pi);
    assert_eq!(event.status, PaymentStatus::Failed);
    assert_eq!(event.order_ref.as_deref(), Some("O-2"));
    assert_eq!((event.amount_minor, event.currency.as_str()), (990, "CNY"));
}

#[tokio::test]
async fn refunds_report_the_running_total() {
    let stripe = LocalStripe::start();
    let provider = stripe.provider();
    let intent = stripe.pay_by_card(1000, "cny", "O-3").await;
    let pi = intent["id"].as_str().unwrap();

    let partial = provider
        .refund(&refund_request(pi, 400, "R-1"))
        .await
        .unwrap();
    assert!(partial.refund_id.starts_with("re_"), "{partial:?}");
    assert_eq!(
        (partial.amount_minor, partial.refunded_total_minor),
        (400, Some(400))
    );
    let rest = provider
        .refund(&refund_request(pi, 600, "R-2"))
        .await
        .unwrap();
    assert_eq!(
        (rest.amount_minor, rest.refunded_total_minor),
        (600, Some(1000))
    );
    assert_ne!(partial.refund_id, rest.refund_id);

    // Our reference and reason travel in the refund's metadata.
    let (status, refund) = stripe
        .api(
            Method::GET,
            &format!("/v1/refunds/{}", partial.refund_id),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    assert_eq!(refund["metadata"]["refund_ref"], "R-1");
    assert_eq!(refund["metadata"]["reason"], "customer changed their mind");

    // localstripe emits no charge.refunded event (real Stripe does; the mapping is covered by
    // the contract tests): the feed still holds only the payment.
    let outcome = provider.poll(None, &[]).await.unwrap();
    let kinds: Vec<_> = outcome.events.iter().map(|event| event.status).collect();
    assert_eq!(kinds, [PaymentStatus::Paid]);
}

#[tokio::test]
async fn refunding_a_declined_payment_is_rejected() {
    let stripe = LocalStripe::start();
    stripe
        .pay(990, "cny", "O-4", "pm_card_chargeCustomerFail")
        .await;
    let listed = stripe.all_events().await;
    let pi = listed[0]["data"]["object"]["id"].as_str().unwrap();

    let err = stripe
        .provider()
        .refund(&refund_request(pi, 990, "R-3"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProviderError::Rejected { message, .. } if message == "Cannot refund a failed payment."),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn polling_again_from_the_same_or_an_older_cursor_finds_nothing_new() {
    let stripe = LocalStripe::start();
    let provider = stripe.provider();
    stripe.pay_by_card(100, "cny", "O-5").await;
    stripe.pay_by_card(200, "cny", "O-6").await;
    stripe
        .pay(300, "cny", "O-7", "pm_card_chargeCustomerFail")
        .await;

    let first = provider.poll(None, &[]).await.unwrap();
    assert_eq!(first.events.len(), 3);
    let cursor = first
        .cursor
        .clone()
        .expect("a first poll with events sets the cursor");
    let older = (cursor.parse::<i64>().unwrap() - 3_600).to_string();
    for from in [cursor.as_str(), older.as_str()] {
        let again = provider.poll(Some(from), &[]).await.unwrap();
        assert_eq!(ids(&again), ids(&first), "from {from}");
        // Nothing newer than the saved cursor: keep it.
        assert_eq!(
            again.cursor.as_deref(),
            if from == cursor {
                None
            } else {
                Some(cursor.as_str())
            }
        );
    }

    // Without an overlap, starting at the cursor itself still includes its own second.
    let no_overlap = StripeProvider::new(StripeConfig {
        poll_overlap: std::time::Duration::ZERO,
        ..stripe.config()
    })
    .unwrap();
    let again = no_overlap.poll(Some(&cursor), &[]).await.unwrap();
    assert_eq!(ids(&again), ids(&first));
}

#[tokio::test]
async fn every_event_is_found_across_many_small_pages() {
    let stripe = LocalStripe::start();
    let mut paid = BTreeSet::new();
    for n in 0..8 {
        let intent = stripe.pay_by_card(100 + n, "cny", &format!("O-{n}")).await;
        paid.insert(intent["id"].as_str().unwrap().to_string());
    }
    stripe
        .pay(999, "cny", "O-declined", "pm_card_chargeCustomerFail")
        .await;
    // An event Shopcast does not read, in the middle of the feed.
    let (status, product) = stripe
        .api(Method::POST, "/v1/products", &[("name", "Mug")])
        .await;
    assert_eq!(status, 200, "{product}");
    stripe.pay_by_card(500, "cny", "O-last").await;
    assert_eq!(stripe.all_events().await.len(), 11);

    let provider = StripeProvider::new(StripeConfig {
        page_limit: 3,
        ..stripe.config()
    })
    .unwrap();
    let outcome = provider.poll(None, &[]).await.unwrap();
    assert_eq!(outcome.events.len(), 10, "{:#?}", ids(&outcome));
    let unique: BTreeSet<_> = ids(&outcome).into_iter().collect();
    assert_eq!(unique.len(), 10);
    let polled_paid: BTreeSet<_> = outcome
        .events
        .iter()
        .filter(|event| {
            event.status == PaymentStatus::Paid && event.order_ref.as_deref() != Some("O-last")
        })
        .map(|event| event.provider_ref.clone())
        .collect();
    assert_eq!(polled_paid, paid);
    let failed: Vec<_> = outcome
        .events
        .iter()
        .filter(|event| event.status == PaymentStatus::Failed)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].order_ref.as_deref(), Some("O-declined"));
    // Oldest first, by (time, id).
    let order: Vec<_> = outcome
        .events
        .iter()
        .map(|event| (event.occurred_at, event.event_id.clone()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    // The same as one big page.
    let one_page = stripe.provider().poll(None, &[]).await.unwrap();
    assert_eq!(one_page, outcome);
}

#[tokio::test]
async fn an_outage_is_retried_and_a_restart_on_the_same_port_loses_nothing() {
    let mut stripe = LocalStripe::start();
    let provider = stripe.provider();
    let port = stripe.port();
    let before = stripe.pay_by_card(700, "cny", "O-8").await;
    let first = provider.poll(None, &[]).await.unwrap();
    let cursor = first.cursor.clone().unwrap();

    stripe.stop();
    let err = provider.poll(Some(&cursor), &[]).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unreachable { .. }), "{err:?}");
    assert!(err.is_retryable());

    stripe.restart();
    assert_eq!(stripe.port(), port);
    let after = stripe.pay_by_card(800, "cny", "O-9").await;
    let outcome = provider.poll(Some(&cursor), &[]).await.unwrap();
    let refs: Vec<_> = outcome
        .events
        .iter()
        .map(|event| event.provider_ref.as_str())
        .collect();
    assert!(refs.contains(&before["id"].as_str().unwrap()), "{refs:?}");
    assert!(refs.contains(&after["id"].as_str().unwrap()), "{refs:?}");
    // What was polled before the outage comes back unchanged.
    assert!(
        outcome.events.contains(&first.events[0]),
        "{:#?}",
        outcome.events
    );
}

#[tokio::test]
async fn cancel_withdraws_an_unconfirmed_payment_intent() {
    let stripe = LocalStripe::start();
    let (status, intent) = stripe
        .api(
            Method::POST,
            "/v1/payment_intents",
            &[
                ("amount", "1250"),
                ("currency", "cny"),
                ("metadata[order_ref]", "O-10"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{intent}");
    let pi = intent["id"].as_str().unwrap();
    let charge = OpenCharge {
        charge_ref: pi.into(),
        order_ref: "O-10".into(),
        amount_minor: 1250,
        currency: "CNY".into(),
        expires_at: jiff::Timestamp::now(),
    };
    stripe.provider().cancel(&charge).await.unwrap();
    let (_, intent) = stripe
        .api(Method::GET, &format!("/v1/payment_intents/{pi}"), &[])
        .await;
    assert_eq!(intent["status"], "canceled");

    // Cancelling twice: Stripe refuses, and says so.
    let err = stripe.provider().cancel(&charge).await.unwrap_err();
    assert!(matches!(err, ProviderError::Rejected { .. }), "{err:?}");
}

#[tokio::test]
async fn a_wrong_secret_key_is_rejected_not_retried() {
    let stripe = LocalStripe::start();
    let provider = StripeProvider::new(StripeConfig {
        // A well-formed key localstripe does not accept (it takes only "sk_" keys).
        secret_key: "rk_test_not_accepted_here".into(),
        ..stripe.config()
    })
    .unwrap();
    let err = provider.poll(None, &[]).await.unwrap_err();
    assert!(
        matches!(&err, ProviderError::Rejected { code, message, .. }
            if code == "authentication_required" && message.starts_with("Stripe rejected the secret key.")),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn localstripe_refuses_the_types_filter_real_stripe_takes() {
    // Why LocalStripe::config turns `filter_types_on_server` off.
    let stripe = LocalStripe::start();
    let provider = StripeProvider::new(StripeConfig {
        filter_types_on_server: true,
        ..stripe.config()
    })
    .unwrap();
    let err = provider.poll(None, &[]).await.unwrap_err();
    assert!(
        matches!(&err, ProviderError::Rejected { message, .. } if message == "Unexpected types"),
        "{err:?}"
    );
}
