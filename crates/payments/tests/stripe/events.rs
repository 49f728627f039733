//! Contract tests of polling `GET /v1/events`: paging in either list order, the cursor, and how
//! each event type (shaped as Stripe documents it) becomes a payment state.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};
use shopcast_payments::stripe::{EVENT_TYPES, StripeConfig, StripeProvider};
use shopcast_payments::{
    PaymentProvider, PaymentStatus, PollOutcome, ProviderError, ProviderEvent,
};

use crate::capture::{CaptureServer, Captured, Reply};
use crate::ids;

const T0: i64 = 1_790_000_000;

fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": created,
        "data": {"object": object},
        "livemode": false,
        "pending_webhooks": 0,
        "request": {"id": null, "idempotency_key": null},
        "type": kind
    })
}

fn payment_intent(id: &str, amount: i64, received: i64, order_ref: &str, status: &str) -> Value {
    json!({
        "id": id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": received,
        "currency": "cny",
        "latest_charge": format!("ch_{}", &id[3..]),
        "metadata": {"order_ref": order_ref},
        "payment_method_types": ["card"],
        "status": status
    })
}

fn session(id: &str, payment_intent: Value, status: &str, payment_status: &str) -> Value {
    json!({
        "id": id,
        "object": "checkout.session",
        "amount_subtotal": 1250,
        "amount_total": 1250,
        "client_reference_id": "till",
        "currency": "cny",
        "metadata": {"order_ref": "O-42"},
        "mode": "payment",
        "payment_intent": payment_intent,
        "payment_method_types": ["card", "alipay", "wechat_pay"],
        "payment_status": payment_status,
        "status": status,
        "url": null
    })
}

fn charge(id: &str, payment_intent: &str, amount: i64, refunded: i64) -> Value {
    json!({
        "id": id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": refunded,
        "currency": "cny",
        "metadata": {},
        "paid": true,
        "payment_intent": payment_intent,
        "payment_method_details": {"type": "alipay", "alipay": {}},
        "refunded": refunded == amount,
        "status": "succeeded"
    })
}

/// A feed with every kind of event Shopcast reads, some sharing a second, plus ones it skips.
fn sample_feed() -> Vec<Value> {
    vec![
        event(
            "evt_01",
            "payment_intent.created",
            T0,
            payment_intent("pi_A", 1250, 0, "O-42", "requires_payment_method"),
        ),
        event(
            "evt_02",
            "payment_intent.succeeded",
            T0 + 5,
            payment_intent("pi_A", 1250, 1250, "O-42", "succeeded"),
        ),
        event(
            "evt_03",
            "checkout.session.completed",
            T0 + 5,
            session("cs_A", json!("pi_A"), "complete", "paid"),
        ),
        event(
            "evt_04",
            "charge.succeeded",
            T0 + 5,
            charge("ch_A", "pi_A", 1250, 0),
        ),
        event(
            "evt_05",
            "payment_intent.payment_failed",
            T0 + 7,
            payment_intent("pi_B", 990, 0, "O-43", "requires_payment_method"),
        ),
        event(
            "evt_06",
            "checkout.session.expired",
            T0 + 9,
            session("cs_B", Value::Null, "expired", "unpaid"),
        ),
        event(
            "evt_07",
            "charge.refunded",
            T0 + 12,
            charge("ch_A", "pi_A", 1250, 250),
        ),
        event(
            "evt_08",
            "charge.refunded",
            T0 + 12,
            charge("ch_A", "pi_A", 1250, 1250),
        ),
        event(
            "evt_09",
            "product.created",
            T0 + 13,
            json!({"id": "prod_1", "object": "product"}),
        ),
    ]
}

/// Serves `events` like `GET /v1/events`: `created[gte]`, `types[]`, `limit` and
/// `starting_after` applied, newest first (real Stripe) or oldest first (localstripe).
fn feed(events: Vec<Value>, newest_first: bool) -> impl Fn(&Captured) -> Reply + Send + Sync {
    let events = Arc::new(events);
    move |request| {
        assert_eq!(request.path, "/v1/events");
        let gte: i64 = request
            .query_value("created[gte]")
            .map_or(i64::MIN, |v| v.parse().unwrap());
        let types = request.query_values("types[]");
        let mut listed: Vec<&Value> = events
            .iter()
            .filter(|event| event["created"].as_i64().unwrap() >= gte)
            .filter(|event| types.is_empty() || types.contains(&event["type"].as_str().unwrap()))
            .collect();
        if newest_first {
            // Stripe: newest first; within one second, the later-created first.
            listed.reverse();
        }
        let start = match request.query_value("starting_after") {
            Some(after) => {
                listed
                    .iter()
                    .position(|event| event["id"] == after)
                    .unwrap()
                    + 1
            }
            None => 0,
        };
        let limit: usize = request.query_value("limit").unwrap().parse().unwrap();
        let page: Vec<&Value> = listed.iter().skip(start).take(limit).copied().collect();
        let has_more = listed.len() > start + limit;
        Reply::json(
            200,
            json!({"object": "list", "url": "/v1/events", "has_more": has_more, "data": page})
                .to_string(),
        )
    }
}

fn provider_for(server: &CaptureServer, page_limit: u32) -> StripeProvider {
    StripeProvider::new(StripeConfig {
        page_limit,
        ..server.config()
    })
    .unwrap()
}

#[tokio::test]
async fn newest_first_and_oldest_first_feeds_poll_the_same() {
    let newest_first = CaptureServer::start(feed(sample_feed(), true)).await;
    let oldest_first = CaptureServer::start(feed(sample_feed(), false)).await;
    let mut outcomes = Vec::new();
    for server in [&newest_first, &oldest_first] {
        // Pages of 2 over the 6 events the server lists (it filters by type): 3 pages.
        let outcome = provider_for(server, 2).poll(None, &[]).await.unwrap();
        assert_eq!(server.requests().len(), 3);
        outcomes.push(outcome);
    }
    assert_eq!(outcomes[0], outcomes[1]);
    let outcome = &outcomes[0];
    assert_eq!(
        ids(outcome),
        ["evt_02", "evt_03", "evt_05", "evt_06", "evt_07", "evt_08"]
    );
    assert_eq!(
        outcome.cursor.as_deref(),
        Some((T0 + 12).to_string().as_str())
    );

    // Each page continues after the last event of the one before, whichever way it runs.
    let requests = newest_first.requests();
    let after: Vec<_> = requests
        .iter()
        .map(|request| request.query_value("starting_after"))
        .collect();
    assert_eq!(after, [None, Some("evt_07"), Some("evt_05")]);
    let requests = oldest_first.requests();
    let after: Vec<_> = requests
        .iter()
        .map(|request| request.query_value("starting_after"))
        .collect();
    assert_eq!(after, [None, Some("evt_03"), Some("evt_06")]);
}

#[tokio::test]
async fn without_the_server_filter_other_events_are_listed_and_skipped() {
    let server = CaptureServer::start(feed(sample_feed(), true)).await;
    let provider = StripeProvider::new(StripeConfig {
        filter_types_on_server: false,
        page_limit: 4,
        ..server.config()
    })
    .unwrap();
    let outcome = provider.poll(None, &[]).await.unwrap();
    assert_eq!(
        ids(&outcome),
        ["evt_02", "evt_03", "evt_05", "evt_06", "evt_07", "evt_08"]
    );
    // The skipped product.created is the newest event seen: the cursor moves past it.
    assert_eq!(outcome.cursor, Some((T0 + 13).to_string()));
    assert!(
        server
            .requests()
            .iter()
            .all(|request| request.query_values("types[]").is_empty())
    );
}

#[tokio::test]
async fn poll_asks_from_the_cursor_minus_the_overlap_with_the_type_filter() {
    let server = CaptureServer::start(feed(sample_feed(), true)).await;
    let provider = server.provider();

    let outcome = provider
        .poll(Some(&(T0 + 65).to_string()), &[])
        .await
        .unwrap();
    let request = server.only_request();
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.query_value("created[gte]"),
        Some((T0 + 5).to_string().as_str())
    );
    assert_eq!(request.query_value("limit"), Some("100"));
    assert_eq!(request.query_values("types[]"), EVENT_TYPES);
    assert_eq!(request.query_value("starting_after"), None);
    assert!(request.form.is_empty());
    // Events inside the overlap come back (the ledger has them); nothing newer than the
    // cursor, so the cursor stays.
    assert_eq!(
        ids(&outcome),
        ["evt_02", "evt_03", "evt_05", "evt_06", "evt_07", "evt_08"]
    );
    assert_eq!(outcome.cursor, None);

    let later = provider
        .poll(Some(&(T0 + 1_000).to_string()), &[])
        .await
        .unwrap();
    assert_eq!(later, PollOutcome::default());
}

#[tokio::test]
async fn every_payment_event_maps_to_a_payment_state() {
    let server = CaptureServer::start(feed(sample_feed(), true)).await;
    let outcome = server.provider().poll(None, &[]).await.unwrap();
    let at = |offset: i64| Timestamp::from_second(T0 + offset).unwrap();
    let expected = |event_id: &str, provider_ref: &str, status, offset| ProviderEvent {
        event_id: event_id.into(),
        provider_ref: provider_ref.into(),
        order_ref: Some("O-42".into()),
        charge_ref: None,
        status,
        amount_minor: 1250,
        currency: "CNY".into(),
        refunded_total_minor: None,
        method: None,
        source_tag: None,
        occurred_at: at(offset),
        raw: String::new(),
    };
    let mut events = outcome.events.clone();
    for event in &mut events {
        let raw: Value = serde_json::from_str(&event.raw).unwrap();
        assert_eq!(raw["id"], event.event_id.as_str());
        event.raw.clear();
    }
    assert_eq!(
        events,
        [
            ProviderEvent {
                method: Some("card".into()),
                ..expected("evt_02", "pi_A", PaymentStatus::Paid, 5)
            },
            ProviderEvent {
                charge_ref: Some("cs_A".into()),
                source_tag: Some("till".into()),
                ..expected("evt_03", "pi_A", PaymentStatus::Paid, 5)
            },
            ProviderEvent {
                order_ref: Some("O-43".into()),
                amount_minor: 990,
                method: Some("card".into()),
                ..expected("evt_05", "pi_B", PaymentStatus::Failed, 7)
            },
            // Nothing was paid: the session is the payment's id.
            ProviderEvent {
                charge_ref: Some("cs_B".into()),
                source_tag: Some("till".into()),
                ..expected("evt_06", "cs_B", PaymentStatus::Expired, 9)
            },
            // Charges do not carry the PaymentIntent's metadata.
            ProviderEvent {
                order_ref: None,
                refunded_total_minor: Some(250),
                method: Some("alipay".into()),
                ..expected("evt_07", "pi_A", PaymentStatus::Paid, 12)
            },
            ProviderEvent {
                order_ref: None,
                refunded_total_minor: Some(1250),
                method: Some("alipay".into()),
                ..expected("evt_08", "pi_A", PaymentStatus::Refunded, 12)
            },
        ]
    );
}

#[tokio::test]
async fn session_variants_map_as_stripe_documents_them() {
    let mut with_object = session(
        "cs_C",
        json!({"id": "pi_C", "object": "payment_intent"}),
        "complete",
        "paid",
    );
    with_object["metadata"] = json!({});
    with_object["client_reference_id"] = json!("O-77");
    let feed_events = vec![
        // payment_intent expanded, and no metadata: the client reference names the order.
        event("evt_11", "checkout.session.completed", T0, with_object),
        // A bank debit: completed but not paid yet, then paid, or failed.
        event(
            "evt_12",
            "checkout.session.completed",
            T0 + 1,
            session("cs_D", json!("pi_D"), "complete", "unpaid"),
        ),
        event(
            "evt_13",
            "checkout.session.async_payment_succeeded",
            T0 + 2,
            session("cs_D", json!("pi_D"), "complete", "paid"),
        ),
        event(
            "evt_14",
            "checkout.session.async_payment_failed",
            T0 + 3,
            session("cs_E", json!("pi_E"), "complete", "unpaid"),
        ),
        // A PaymentIntent offered several methods: which one was used is unknown.
        event("evt_15", "payment_intent.succeeded", T0 + 4, {
            let mut intent = payment_intent("pi_F", 1250, 1250, "O-44", "succeeded");
            intent["payment_method_types"] = json!(["card", "alipay"]);
            intent
        }),
    ];
    let server = CaptureServer::start(feed(feed_events, true)).await;
    let outcome = server.provider().poll(None, &[]).await.unwrap();
    let summary: Vec<_> = outcome
        .events
        .iter()
        .map(|event| {
            (
                event.event_id.as_str(),
                event.provider_ref.as_str(),
                event.order_ref.as_deref(),
                event.status,
                event.method.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("evt_11", "pi_C", Some("O-77"), PaymentStatus::Paid, None),
            ("evt_12", "pi_D", Some("O-42"), PaymentStatus::Pending, None),
            ("evt_13", "pi_D", Some("O-42"), PaymentStatus::Paid, None),
            ("evt_14", "pi_E", Some("O-42"), PaymentStatus::Failed, None),
            ("evt_15", "pi_F", Some("O-44"), PaymentStatus::Paid, None),
        ]
    );
}

#[tokio::test]
async fn raw_is_the_event_text_as_received() {
    // Key order and spacing as a server might send them; re-serialising would change both.
    let raw_event = r#"{"type":"payment_intent.succeeded",   "id":"evt_raw","created":1790000000,
        "data":{"object":{"metadata":{"order_ref":"O-9"},"id":"pi_raw","currency":"usd","amount":500}}}"#;
    let body = format!(r#"{{"object":"list","has_more":false,"data":[{raw_event}]}}"#);
    let server = CaptureServer::always(Reply::json(200, body)).await;
    let outcome = server.provider().poll(None, &[]).await.unwrap();
    assert_eq!(outcome.events.len(), 1);
    let event = &outcome.events[0];
    assert_eq!(event.raw, raw_event);
    assert_eq!((event.amount_minor, event.currency.as_str()), (500, "USD"));
}

#[tokio::test]
async fn a_known_event_stripe_did_not_fill_in_is_kept_aside_and_skipped() {
    let broken = event(
        "evt_bad",
        "payment_intent.succeeded",
        T0,
        json!({"id": "pi_X", "currency": "cny"}),
    );
    let good = event(
        "evt_good",
        "payment_intent.succeeded",
        T0 + 1,
        payment_intent("pi_A", 1250, 1250, "O-42", "succeeded"),
    );
    let server = CaptureServer::start(feed(vec![broken, good], true)).await;
    let outcome = server.provider().poll(None, &[]).await.unwrap();
    assert_eq!(ids(&outcome), ["evt_good"]);
    assert_eq!(outcome.cursor, Some((T0 + 1).to_string()));
    assert_eq!(outcome.unreadable.len(), 1, "{:#?}", outcome.unreadable);
    let odd = &outcome.unreadable[0];
    assert_eq!(odd.event_id, "evt_bad");
    assert!(odd.reason.contains("amount"), "{}", odd.reason);
    assert_eq!(
        serde_json::from_str::<Value>(&odd.raw).unwrap()["id"],
        "evt_bad"
    );
}

/// A setup-mode Checkout Session (another integration on the same account) has
/// `amount_total` and `currency` null, as Stripe documents: the payments around it still count.
#[tokio::test]
async fn a_setup_mode_session_between_two_payments_does_not_stop_them() {
    let mut setup = session("cs_SETUP", Value::Null, "complete", "no_payment_required");
    setup["mode"] = json!("setup");
    setup["amount_total"] = Value::Null;
    setup["amount_subtotal"] = Value::Null;
    setup["currency"] = Value::Null;
    let feed_events = vec![
        event(
            "evt_first",
            "payment_intent.succeeded",
            T0,
            payment_intent("pi_1", 1250, 1250, "O-1", "succeeded"),
        ),
        event("evt_setup", "checkout.session.completed", T0 + 1, setup),
        event(
            "evt_last",
            "payment_intent.succeeded",
            T0 + 2,
            payment_intent("pi_2", 990, 990, "O-2", "succeeded"),
        ),
    ];
    let server = CaptureServer::start(feed(feed_events, true)).await;
    let outcome = server.provider().poll(None, &[]).await.unwrap();
    assert_eq!(ids(&outcome), ["evt_first", "evt_last"]);
    assert_eq!(outcome.cursor, Some((T0 + 2).to_string()));
    let odd: Vec<_> = outcome
        .unreadable
        .iter()
        .map(|odd| (odd.event_id.as_str(), odd.reason.as_str()))
        .collect();
    assert_eq!(odd, [("evt_setup", "amount_total is null")]);
}

#[tokio::test]
async fn an_event_without_an_id_is_kept_under_a_name_made_from_its_text() {
    let body = json!({"object": "list", "has_more": false, "data": [
        {"object": "event", "type": "payment_intent.succeeded"},
        event("evt_ok", "payment_intent.succeeded", T0,
              payment_intent("pi_1", 500, 500, "O-1", "succeeded")),
    ]})
    .to_string();
    let server = CaptureServer::always(Reply::json(200, body)).await;
    let first = server.provider().poll(None, &[]).await.unwrap();
    let again = server.provider().poll(None, &[]).await.unwrap();
    assert_eq!(ids(&first), ["evt_ok"]);
    assert_eq!(first.unreadable.len(), 1);
    assert!(first.unreadable[0].event_id.starts_with("unnamed:"));
    // The same text gets the same name, so the engine keeps it once.
    assert_eq!(first.unreadable, again.unreadable);
}

#[tokio::test]
async fn an_unreadable_event_is_kept_cut_to_a_bounded_size() {
    let mut huge = payment_intent("pi_big", 500, 500, "O-1", "succeeded");
    huge["amount"] = Value::Null;
    huge["description"] = json!("x".repeat(100_000));
    let body = json!({"object": "list", "has_more": false, "data": [
        event("evt_big", "payment_intent.succeeded", T0, huge)
    ]})
    .to_string();
    let server = CaptureServer::always(Reply::json(200, body)).await;
    let outcome = server.provider().poll(None, &[]).await.unwrap();
    let odd = &outcome.unreadable[0];
    assert!(
        odd.raw.len() <= shopcast_payments::provider::UNREADABLE_RAW_MAX_BYTES + 100,
        "{}",
        odd.raw.len()
    );
    assert!(
        odd.raw.ends_with("bytes in all]"),
        "{}",
        &odd.raw[odd.raw.len() - 60..]
    );
}

/// Stripe states ISK in two-decimal units (5,000 kr = 500000) and MGA in whole ariary; the
/// events come back in ISO 4217 minor units.
#[tokio::test]
async fn event_amounts_come_back_in_iso_minor_units() {
    let mut isk = session("cs_ISK", json!("pi_ISK"), "complete", "paid");
    isk["amount_total"] = json!(500_000);
    isk["currency"] = json!("isk");
    let mut refunded = charge("ch_ISK", "pi_ISK", 500_000, 100_000);
    refunded["currency"] = json!("isk");
    let mut mga = payment_intent("pi_MGA", 500, 500, "O-MGA", "succeeded");
    mga["currency"] = json!("mga");
    let mut fractional = payment_intent("pi_OLD", 4_010, 4_010, "O-OLD", "succeeded");
    fractional["currency"] = json!("isk");
    let server = CaptureServer::start(feed(
        vec![
            event("evt_isk", "checkout.session.completed", T0, isk),
            event("evt_ref", "charge.refunded", T0 + 1, refunded),
            event("evt_mga", "payment_intent.succeeded", T0 + 2, mga),
            event("evt_old", "payment_intent.succeeded", T0 + 3, fractional),
        ],
        true,
    ))
    .await;
    let outcome = server.provider().poll(None, &[]).await.unwrap();
    let amounts: Vec<_> = outcome
        .events
        .iter()
        .map(|e| {
            (
                e.event_id.as_str(),
                e.amount_minor,
                e.refunded_total_minor,
                e.currency.as_str(),
            )
        })
        .collect();
    assert_eq!(
        amounts,
        [
            ("evt_isk", 5_000, None, "ISK"),
            ("evt_ref", 5_000, Some(1_000), "ISK"),
            ("evt_mga", 50_000, None, "MGA"),
        ]
    );
    // 40.10 kr cannot be written in whole krónur: kept aside, not rounded.
    assert_eq!(outcome.unreadable.len(), 1);
    assert_eq!(outcome.unreadable[0].event_id, "evt_old");
    assert!(
        outcome.unreadable[0].reason.contains("ISK"),
        "{}",
        outcome.unreadable[0].reason
    );
}

#[tokio::test]
async fn a_list_that_repeats_itself_is_not_paged_forever() {
    let body = json!({"object": "list", "has_more": true, "data": [
        event("evt_1", "product.created", T0, json!({"id": "prod_1"}))
    ]})
    .to_string();
    let server = CaptureServer::always(Reply::json(200, body)).await;
    let err = server.provider().poll(None, &[]).await.unwrap_err();
    assert!(matches!(err, ProviderError::BadResponse { .. }), "{err:?}");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_saved_cursor_that_is_not_a_time_is_a_config_error() {
    let server = CaptureServer::start(feed(sample_feed(), true)).await;
    let err = server
        .provider()
        .poll(Some("evt_02"), &[])
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::Config { .. }), "{err:?}");
    assert!(server.requests().is_empty());
}

/// An event whose head cannot be read (`created` and `type` of the wrong type), with `id`.
fn headless(id: &str) -> Value {
    json!({"id": id, "object": "event", "created": "soon", "type": null, "data": {}})
}

/// Serves `pages` in turn: page n answers the request continuing from the last id of page n-1.
fn pages(pages: Vec<(Vec<Value>, bool)>) -> impl Fn(&Captured) -> Reply + Send + Sync {
    move |request| {
        let index = match request.query_value("starting_after") {
            None => 0,
            Some(after) => {
                1 + pages
                    .iter()
                    .position(|(data, _)| data.last().is_some_and(|event| event["id"] == after))
                    .unwrap_or_else(|| panic!("starting_after={after} is no page's last id"))
            }
        };
        let (data, has_more) = &pages[index];
        Reply::json(
            200,
            json!({"object": "list", "url": "/v1/events", "has_more": has_more, "data": data})
                .to_string(),
        )
    }
}

#[tokio::test]
async fn a_page_of_only_unreadable_events_does_not_end_the_list() {
    let paid = event(
        "evt_paid",
        "payment_intent.succeeded",
        T0,
        payment_intent("pi_A", 1250, 1250, "O-42", "succeeded"),
    );
    let server = CaptureServer::start(pages(vec![
        (vec![headless("evt_odd1"), headless("evt_odd2")], true),
        (vec![paid], false),
    ]))
    .await;
    let outcome = provider_for(&server, 2).poll(None, &[]).await.unwrap();
    assert_eq!(ids(&outcome), ["evt_paid"]);
    assert_eq!(outcome.events[0].order_ref.as_deref(), Some("O-42"));
    let odd: Vec<_> = outcome
        .unreadable
        .iter()
        .map(|e| e.event_id.as_str())
        .collect();
    assert_eq!(odd, ["evt_odd1", "evt_odd2"]);
    let after: Vec<_> = server
        .requests()
        .iter()
        .map(|request| request.query_value("starting_after").map(str::to_string))
        .collect();
    assert_eq!(after, [None, Some("evt_odd2".to_string())]);
}

#[tokio::test]
async fn more_pages_but_no_id_to_continue_from_is_a_retryable_error() {
    let nameless = json!({"object": "event", "created": T0, "type": "payment_intent.succeeded"});
    let server = CaptureServer::start(pages(vec![(vec![nameless], true)])).await;
    let err = provider_for(&server, 2).poll(None, &[]).await.unwrap_err();
    assert_eq!(err.code(), "provider_bad_response", "{err:?}");
    assert!(err.is_retryable());
    assert!(
        err.to_string().contains("no event on the page has an id"),
        "{err}"
    );
}
