//! Till orders, the ledger and the watcher, on real shop files. Test mode runs its real
//! checkout server and is paid over HTTP, as a phone would.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use shopcast_core::CoreError;
use shopcast_core::payments::PaymentUpdate;
use shopcast_core::payments::ledger::{PaymentFilter, SalesChannel};
use shopcast_core::payments::till::OrderDraft;
use shopcast_payments::{
    Charge, ChargeRequest, OpenCharge, PaymentProvider, PaymentStatus, PollOutcome, ProviderError,
    ProviderEvent, ProviderKind, Refund, RefundRequest,
};

use crate::form::field as form_field;
use crate::{count, draft, event, ingest, line, order_of, product, shop_with};

#[tokio::test]
async fn an_order_totals_its_lines_and_refuses_mixed_currencies_and_bad_amounts() {
    let (shop, _dir) = shop_with("CNY").await;
    let cup = product(&shop, "青花瓷杯", "88", None).await;
    let tea = product(&shop, "Longjing <b>tea</b>", "12.50", None).await;
    let order = shop
        .create_order(&OrderDraft {
            lines: vec![line(cup, 2), line(tea, 1)],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(order.total.amount_minor, 2 * 8800 + 1250);
    assert_eq!(order.total.currency, "CNY");
    assert_eq!(order.status, "open");
    assert!(order.order_ref.starts_with("O-") && order.order_ref.len() == 10);
    assert_eq!(order.subject(""), "青花瓷杯 ×2, Longjing <b>tea</b>");
    // Each line keeps its money as sold: gross = net = price × quantity while it has no
    // tax rate or discount.
    let stored: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT gross_minor, net_minor, tax_minor, discount_minor FROM order_lines
         WHERE order_id = $1 ORDER BY id",
    )
    .bind(order.id)
    .fetch_all(shop.pool())
    .await
    .unwrap();
    assert_eq!(stored, vec![(2 * 8800, 2 * 8800, 0, 0), (1250, 1250, 0, 0)]);

    let mut euro = draft("Mug", "9");
    euro.currency = Some("EUR".into());
    let euro = shop.create_product(&euro).await.unwrap().id;
    let mixed = shop
        .create_order(&OrderDraft {
            lines: vec![line(cup, 1), line(euro, 1)],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(mixed.field(), Some("lines"), "{mixed}");
    assert!(mixed.to_string().contains("EUR"), "{mixed}");

    let typed = shop
        .create_order(&OrderDraft {
            amount: Some("1.234,50 €".into()),
            currency: Some("EUR".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (typed.total.amount_minor, typed.total.currency.as_str()),
        (123_450, "EUR")
    );
    for bad in ["", "abc", "-5", "0", "12.3.4", "1e5"] {
        let error = shop
            .create_order(&OrderDraft {
                amount: Some(bad.into()),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(error.field(), Some("amount"), "{bad:?}: {error}");
    }
    let zero_quantity = shop
        .create_order(&OrderDraft {
            lines: vec![line(cup, 0)],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(zero_quantity.field(), Some("quantity"));
    assert_eq!(
        count(&shop, "orders").await,
        2,
        "refused orders store nothing"
    );
}

#[tokio::test]
async fn a_test_mode_sale_is_paid_over_http_and_announced_within_two_seconds() {
    let (shop, _dir) = shop_with("CNY").await;
    let cup = product(&shop, "青花瓷杯", "88", Some(5)).await;
    shop.payments().set_poll_interval(Duration::from_secs(1));
    shop.payments()
        .start_test_mode("127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let mut updates = shop.payments().subscribe();
    let order = order_of(&shop, &[(cup, 2)]).await;
    let charge = shop
        .start_charge(order.id, ProviderKind::Test, Duration::from_secs(300))
        .await
        .unwrap();
    assert!(charge.test);
    assert!(
        charge.qr_payload.starts_with("http://127.0.0.1:"),
        "{}",
        charge.qr_payload
    );
    assert!(charge.qr_svg.starts_with("<svg"));
    assert_eq!(charge.order.status, "awaiting_payment");

    let http = shopcast_payments::http::client();
    let page = http.get(&charge.qr_payload).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("TEST MODE") && page.contains("青花瓷杯 ×2"),
        "{page}"
    );
    assert!(page.contains("¥176.00"), "{page}");
    let csrf = form_field(&page, "csrf").expect("the pay form carries its token");

    let paid_at = Instant::now();
    let reply = http
        .post(format!("{}/pay", charge.qr_payload))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let payment = loop {
        let update = tokio::time::timeout(Duration::from_secs(2), updates.recv())
            .await
            .expect("paid within 2 s")
            .unwrap();
        if let PaymentUpdate::Payment { payment } = update {
            break payment;
        }
    };
    assert!(paid_at.elapsed() < Duration::from_secs(2));
    assert_eq!(payment.status, "paid");
    assert!(payment.test);
    assert_eq!(payment.order_ref.as_deref(), Some(order.order_ref.as_str()));
    assert_eq!(payment.amount.amount_minor, 17_600);
    assert_eq!(payment.channel, SalesChannel::Till);
    assert_eq!(shop.order(order.id).await.unwrap().status, "paid");
    assert_eq!(
        shop.product(cup).await.unwrap().stock,
        Some(5),
        "a test sale moves no goods"
    );

    // Pressing Pay again on the same form is refused (a form token works once) and records
    // nothing new; a reloaded page of a paid charge has no Pay button at all.
    let again = http
        .post(format!("{}/pay", charge.qr_payload))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 403);
    let reloaded = http.get(&charge.qr_payload).send().await.unwrap();
    assert_eq!(form_field(&reloaded.text().await.unwrap(), "csrf"), None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(&shop, "payments").await, 1);

    // A refund through test mode, partial then the rest.
    let partial = shop.refund_payment(payment.id, Some(8_800)).await.unwrap();
    assert_eq!(
        (partial.status.as_str(), partial.refunded_minor),
        ("paid", 8_800)
    );
    let full = shop.refund_payment(payment.id, None).await.unwrap();
    assert_eq!(
        (full.status.as_str(), full.refunded_minor),
        ("refunded", 17_600)
    );
    let over = shop.refund_payment(payment.id, Some(1)).await.unwrap_err();
    assert_eq!(over.code().as_str(), "conflict");
    let events = shop.payment_events(payment.id).await.unwrap();
    assert_eq!(events.len(), 3, "paid, refund, refund: {events:?}");
}

#[tokio::test]
async fn a_declined_test_payment_leaves_the_order_open_for_another_try() {
    let (shop, _dir) = shop_with("EUR").await;
    shop.payments()
        .start_test_mode("127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let order = shop
        .create_order(&OrderDraft {
            amount: Some("12,50".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let charge = shop
        .start_charge(order.id, ProviderKind::Test, Duration::from_secs(300))
        .await
        .unwrap();
    let token = charge.charge_ref.clone();
    assert_eq!(
        shop.payments().test_mode().settle(&token, false),
        Ok("declined")
    );
    wait_for(|| async { count(&shop, "payments").await == 1 }).await;
    let declined = shop.list_payments(&PaymentFilter::default()).await.unwrap();
    assert_eq!(declined[0].status, "failed");
    assert_eq!(
        shop.order(order.id).await.unwrap().status,
        "awaiting_payment"
    );
    // A second QR for the same order, paid this time.
    let second = shop
        .start_charge(order.id, ProviderKind::Test, Duration::from_secs(300))
        .await
        .unwrap();
    assert_ne!(second.charge_ref, token);
    shop.payments()
        .test_mode()
        .settle(&second.charge_ref, true)
        .unwrap();
    wait_for(|| async { shop.order(order.id).await.unwrap().status == "paid" }).await;
}

#[tokio::test]
async fn an_expired_test_qr_expires_the_order() {
    let (shop, _dir) = shop_with("USD").await;
    shop.payments()
        .set_poll_interval(Duration::from_millis(100));
    shop.payments()
        .start_test_mode("127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let order = shop
        .create_order(&OrderDraft {
            amount: Some("5".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let charge = shop
        .start_charge(order.id, ProviderKind::Test, Duration::from_millis(300))
        .await
        .unwrap();
    wait_for(|| async { shop.order(order.id).await.unwrap().status == "expired" }).await;
    assert_eq!(
        shop.payments().test_mode().settle(&charge.charge_ref, true),
        Err(shopcast_payments::testmode::SettleError::Closed)
    );
}

#[tokio::test]
async fn ingesting_the_same_events_twice_creates_nothing_new() {
    let (shop, _dir) = shop_with("CNY").await;
    let events: Vec<ProviderEvent> = (0..1_000)
        .map(|i| {
            event(
                &format!("evt_{i}"),
                &format!("pi_{}", i / 2),
                if i % 2 == 0 {
                    PaymentStatus::Pending
                } else {
                    PaymentStatus::Paid
                },
                100 + i / 2,
            )
        })
        .collect();
    let first = shop
        .payments()
        .ingest(ProviderKind::Stripe, &events, Some("42"))
        .await
        .unwrap();
    assert_eq!(first.new_events, 1_000);
    assert_eq!(first.changed.len(), 500);
    let second = shop
        .payments()
        .ingest(ProviderKind::Stripe, &events, Some("43"))
        .await
        .unwrap();
    assert_eq!(second.new_events, 0);
    assert!(second.changed.is_empty());
    assert_eq!(count(&shop, "payments").await, 500);
    assert_eq!(count(&shop, "payment_events").await, 1_000);
    let paid: i64 = sqlx::query_scalar("SELECT count(*) FROM payments WHERE status = 'paid'")
        .fetch_one(shop.pool())
        .await
        .unwrap();
    assert_eq!(paid, 500);
    assert_eq!(
        shopcast_core::payments::ledger::cursor(shop.pool(), ProviderKind::Stripe)
            .await
            .unwrap()
            .as_deref(),
        Some("43")
    );
    // The same event id from another provider is another event.
    ingest(&shop, ProviderKind::Alipay, &events[..1]).await;
    assert_eq!(count(&shop, "payment_events").await, 1_001);
}

#[tokio::test]
async fn a_late_failure_cannot_undo_a_sale_and_refunds_only_grow() {
    let (shop, _dir) = shop_with("CNY").await;
    let payments = shop.payments();
    payments
        .ingest(
            ProviderKind::Stripe,
            &[event("e1", "pi_1", PaymentStatus::Paid, 5_000)],
            None,
        )
        .await
        .unwrap();
    payments
        .ingest(
            ProviderKind::Stripe,
            &[event("e0", "pi_1", PaymentStatus::Failed, 5_000)],
            None,
        )
        .await
        .unwrap();
    let mut partial = event("e2", "pi_1", PaymentStatus::Paid, 5_000);
    partial.refunded_total_minor = Some(2_000);
    let mut stale = event("e3", "pi_1", PaymentStatus::Paid, 5_000);
    stale.refunded_total_minor = Some(1_000);
    payments
        .ingest(ProviderKind::Stripe, &[partial, stale], None)
        .await
        .unwrap();
    let all = shop.list_payments(&PaymentFilter::default()).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].status.as_str(), all[0].refunded_minor),
        ("paid", 2_000)
    );
    let mut full = event("e4", "pi_1", PaymentStatus::Refunded, 5_000);
    full.refunded_total_minor = Some(5_000);
    payments
        .ingest(ProviderKind::Stripe, &[full], None)
        .await
        .unwrap();
    let all = shop.list_payments(&PaymentFilter::default()).await.unwrap();
    assert_eq!(
        (all[0].status.as_str(), all[0].refunded_minor),
        ("refunded", 5_000)
    );
}

#[tokio::test]
async fn a_payment_that_does_not_match_its_order_is_held_for_review() {
    let (shop, _dir) = shop_with("CNY").await;
    let cup = product(&shop, "杯", "88", Some(3)).await;
    let order = order_of(&shop, &[(cup, 1)]).await;
    let mut short = event("evt_short", "pi_short", PaymentStatus::Paid, 100);
    short.order_ref = Some(order.order_ref.clone());
    let mut other_currency = event("evt_usd", "pi_usd", PaymentStatus::Paid, 8_800);
    other_currency.order_ref = Some(order.order_ref.clone());
    other_currency.currency = "USD".into();
    ingest(&shop, ProviderKind::Stripe, &[short, other_currency]).await;
    let review = shop
        .list_payments(&PaymentFilter {
            status: Some("review".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(review.len(), 2);
    for payment in &review {
        let why = payment.mismatch.as_deref().unwrap();
        assert!(why.contains("88.00 CNY"), "{why}");
    }
    assert_eq!(shop.order(order.id).await.unwrap().status, "review");
    assert_eq!(
        shop.product(cup).await.unwrap().stock,
        Some(3),
        "not sold until reviewed"
    );
}

#[tokio::test]
async fn attribution_comes_from_the_order_or_the_tag_the_provider_echoes() {
    let (shop, _dir) = shop_with("CNY").await;
    let mut from_sign = event("e1", "pi_sign", PaymentStatus::Paid, 100);
    from_sign.source_tag = Some("sign-S1A2B3C4".into());
    let mut from_post = event("e2", "pi_post", PaymentStatus::Paid, 100);
    from_post.source_tag = Some("post-17".into());
    let plain = event("e3", "pi_link", PaymentStatus::Paid, 100);
    ingest(&shop, ProviderKind::Stripe, &[from_sign, from_post, plain]).await;
    for (channel, source, count) in [
        ("signage", Some("S1A2B3C4"), 1),
        ("post", Some("17"), 1),
        ("link", None, 1),
    ] {
        let found = shop
            .list_payments(&PaymentFilter {
                channel: Some(channel.into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(found.len(), count, "{channel}");
        assert_eq!(found[0].source_ref.as_deref(), source);
    }
}

#[tokio::test]
async fn cash_sales_are_recorded_once_and_can_be_refunded() {
    let (shop, _dir) = shop_with("JPY").await;
    let order = shop
        .create_order(&OrderDraft {
            amount: Some("¥500".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let payment = shop.mark_paid_manually(order.id, "cash").await.unwrap();
    assert_eq!(
        (payment.provider.as_str(), payment.status.as_str()),
        ("manual", "paid")
    );
    assert_eq!(payment.amount.amount_minor, 500);
    assert!(!payment.test);
    let twice = shop.mark_paid_manually(order.id, "cash").await.unwrap_err();
    assert_eq!(twice.code().as_str(), "conflict");
    let bad = shop
        .mark_paid_manually(order.id, "bitcoin")
        .await
        .unwrap_err();
    assert_eq!(bad.field(), Some("method"));
    let refunded = shop.refund_payment(payment.id, Some(200)).await.unwrap();
    assert_eq!(refunded.refunded_minor, 200);
    let cancelled = shop.cancel_order(order.id).await.unwrap_err();
    assert!(matches!(cancelled, CoreError::Conflict { .. }));
}

/// A provider that fails a set number of polls in a row (as a network outage would), then
/// reports one payment. Exercises the watcher's backoff and recovery, not any remote API.
struct Flaky {
    failures_left: AtomicU32,
    polls: AtomicU32,
    rate_limited: bool,
}

#[async_trait]
impl PaymentProvider for Flaky {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Stripe
    }
    async fn create_charge(&self, _: &ChargeRequest) -> Result<Charge, ProviderError> {
        unreachable!()
    }
    async fn poll(&self, _: Option<&str>, _: &[OpenCharge]) -> Result<PollOutcome, ProviderError> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if self.failures_left.load(Ordering::SeqCst) > 0 {
            self.failures_left.fetch_sub(1, Ordering::SeqCst);
            return Err(if self.rate_limited {
                ProviderError::RateLimited {
                    provider: ProviderKind::Stripe,
                    retry_after: Some(Duration::from_millis(1_500)),
                }
            } else {
                ProviderError::Unreachable {
                    provider: ProviderKind::Stripe,
                    detail: "connection failed".into(),
                }
            });
        }
        Ok(PollOutcome {
            events: vec![event("evt_late", "pi_late", PaymentStatus::Paid, 999)],
            cursor: Some("7".into()),
            ..PollOutcome::default()
        })
    }
    async fn cancel(&self, _: &OpenCharge) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn refund(&self, _: &RefundRequest) -> Result<Refund, ProviderError> {
        unreachable!()
    }
}

#[tokio::test]
async fn the_watcher_backs_off_shows_it_and_recovers_without_losing_anything() {
    let (shop, _dir) = shop_with("CNY").await;
    shop.payments().set_poll_interval(Duration::from_millis(50));
    let mut updates = shop.payments().subscribe();
    let flaky = Arc::new(Flaky {
        failures_left: AtomicU32::new(3),
        polls: AtomicU32::new(0),
        rate_limited: false,
    });
    let started = Instant::now();
    shop.payments().connect(flaky.clone());
    let mut saw_failure = false;
    let recovered = loop {
        match tokio::time::timeout(Duration::from_secs(10), updates.recv())
            .await
            .unwrap()
            .unwrap()
        {
            PaymentUpdate::Health { health } if !health.ok => {
                saw_failure = true;
                assert_eq!(health.code.as_deref(), Some("provider_unreachable"));
                assert!(health.failing_since.is_some() && health.next_attempt_at.is_some());
            }
            PaymentUpdate::Health { health } if health.ok => break health,
            _ => {}
        }
    };
    assert!(saw_failure && recovered.ok);
    // Backoff doubles from the 50 ms interval: 100 + 200 + 400 ms before the fourth poll.
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
    wait_for(|| async { count(&shop, "payments").await == 1 }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        flaky.polls.load(Ordering::SeqCst) > 4,
        "keeps polling after recovery"
    );
    assert_eq!(
        count(&shop, "payments").await,
        1,
        "re-polled events add nothing"
    );
    shop.payments().disconnect(ProviderKind::Stripe);
}

#[tokio::test]
async fn the_watcher_waits_as_long_as_a_429_asks() {
    let (shop, _dir) = shop_with("CNY").await;
    shop.payments().set_poll_interval(Duration::from_millis(50));
    let flaky = Arc::new(Flaky {
        failures_left: AtomicU32::new(1),
        polls: AtomicU32::new(0),
        rate_limited: true,
    });
    shop.payments().connect(flaky.clone());
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(
        flaky.polls.load(Ordering::SeqCst),
        1,
        "no poll before Retry-After ends"
    );
    wait_for(|| async { count(&shop, "payments").await == 1 }).await;
    shop.payments().disconnect(ProviderKind::Stripe);
}

pub(crate) async fn wait_for<F, Fut>(mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition().await {
        assert!(Instant::now() < deadline, "condition not met within 5 s");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_sign_buy_link_on_test_mode_sells_the_product_attributed_to_the_sign() {
    let (shop, _dir) = shop_with("CNY").await;
    let mut tea = draft("龙井 tea", "88");
    tea.sku = Some("TEA-1".into());
    shop.create_product(&tea).await.unwrap();
    shop.payments()
        .start_test_mode("127.0.0.1:0".parse().unwrap(), None)
        .await
        .unwrap();
    let base = shop.payments().test_mode().base_url().unwrap();
    let http = shopcast_payments::http::client();
    // What a phone does with the QR on a printed sign: open the link (a link previewer
    // stops here: nothing is created), press Buy, land on the pay page, press Pay.
    let page = http
        .get(format!("{base}/p/TEA-1?src=qr&sign=S1A2B3C4"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let text = page.text().await.unwrap();
    assert!(
        text.contains("龙井 tea") && text.contains("¥88.00"),
        "{text}"
    );
    assert_eq!(count(&shop, "orders").await, 0, "a visit creates no order");
    let form = [
        ("csrf", form_field(&text, "csrf").unwrap()),
        ("src", form_field(&text, "src").unwrap()),
        ("sign", form_field(&text, "sign").unwrap()),
    ];
    let bought = http
        .post(format!("{base}/p/TEA-1"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let pay_url = bought.url().to_string();
    assert!(pay_url.starts_with(&format!("{base}/pay/")), "{pay_url}");
    let pay_page = bought.text().await.unwrap();
    http.post(format!("{pay_url}/pay"))
        .form(&[("csrf", form_field(&pay_page, "csrf").unwrap())])
        .send()
        .await
        .unwrap();
    wait_for(|| async { count(&shop, "payments").await == 1 }).await;
    let paid = shop.list_payments(&PaymentFilter::default()).await.unwrap();
    assert_eq!(paid[0].channel, SalesChannel::Signage);
    assert_eq!(paid[0].source_ref.as_deref(), Some("S1A2B3C4"));
    assert_eq!(paid[0].status, "paid");
    // An unknown SKU says so and creates nothing.
    let missing = http.get(format!("{base}/p/NOPE")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(count(&shop, "orders").await, 1);
}

/// Serves the three Stripe endpoints the link flow uses, in Stripe's documented shapes
/// (`GET /v1/events` list, `POST /v1/prices`, `POST /v1/payment_links`), counting calls.
async fn fake_stripe_links() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::routing::{get, post};
    let calls = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = calls.clone();
    let seen2 = calls.clone();
    let app = axum::Router::new()
        .route(
            "/v1/events",
            get(|| async {
                axum::Json(serde_json::json!({"object": "list", "data": [], "has_more": false}))
            }),
        )
        .route(
            "/v1/prices",
            post(move |body: String| {
                let seen = seen.clone();
                async move {
                    let mut calls = seen.lock().unwrap();
                    calls.push(format!("price {body}"));
                    let n = calls.len();
                    axum::Json(serde_json::json!({"id": format!("price_{n}"), "object": "price"}))
                }
            }),
        )
        .route(
            "/v1/payment_links",
            post(move |body: String| {
                let seen = seen2.clone();
                async move {
                    let mut calls = seen.lock().unwrap();
                    calls.push(format!("link {body}"));
                    let n = calls.len();
                    axum::Json(serde_json::json!({
                        "id": format!("plink_{n}"), "object": "payment_link",
                        "url": format!("https://buy.stripe.com/test_{n}")
                    }))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, calls)
}

#[tokio::test]
async fn with_stripe_connected_signs_carry_its_payment_links_tagged_with_the_batch() {
    // Keys go to the 0600 file here, never to the keychain of whoever runs the tests.
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let (shop, _dir) = shop_with("CNY").await;
    shop.set_setting("shop.buy_link_base", "").await.unwrap();
    let mut cup = draft("青花瓷杯", "88");
    cup.sku = Some("CUP-1".into());
    let cup = shop.create_product(&cup).await.unwrap();
    let mut tea = draft("Tea", "12.50");
    tea.sku = Some("TEA-1".into());
    shop.create_product(&tea).await.unwrap();
    let (base, calls) = fake_stripe_links().await;
    shop.connect_stripe(&base, "sk_test_links").await.unwrap();

    let batch = shop
        .plan_signage(&shopcast_core::signage::Selection::All, "a4-3x8", 1)
        .await
        .unwrap();
    for sign in &batch.signs {
        let expected_tag = format!("client_reference_id=sign-{}", batch.id);
        assert!(
            sign.qr_payload.starts_with("https://buy.stripe.com/test_"),
            "{}",
            sign.qr_payload
        );
        assert!(
            sign.qr_payload.ends_with(&expected_tag),
            "{}",
            sign.qr_payload
        );
    }
    {
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 4, "a price and a link per product: {calls:?}");
        assert!(
            calls
                .iter()
                .any(|c| c.contains("unit_amount=8800") && c.contains("currency=cny")),
            "{calls:?}"
        );
        assert!(
            calls.iter().any(|c| c.contains("metadata%5Bsku%5D=CUP-1")),
            "{calls:?}"
        );
    }
    // The next batch reuses the links; a new price makes a new one for that product only.
    let again = shop
        .plan_signage(&shopcast_core::signage::Selection::All, "a4-3x8", 1)
        .await
        .unwrap();
    assert_ne!(again.id, batch.id);
    assert_eq!(calls.lock().unwrap().len(), 4);
    let mut cheaper = draft("青花瓷杯", "80");
    cheaper.sku = Some("CUP-1".into());
    shop.update_product(cup.id, &cheaper).await.unwrap();
    shop.plan_signage(&shopcast_core::signage::Selection::All, "a4-3x8", 1)
        .await
        .unwrap();
    assert_eq!(calls.lock().unwrap().len(), 6);
    // A payment through the tagged link is attributed to the sign.
    let mut through_link = event("evt_link", "pi_link", PaymentStatus::Paid, 8_000);
    through_link.source_tag = Some(format!("sign-{}", batch.id));
    ingest(&shop, ProviderKind::Stripe, &[through_link]).await;
    let paid = shop
        .list_payments(&PaymentFilter {
            channel: Some("signage".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(paid[0].source_ref.as_deref(), Some(batch.id.as_str()));
    // Once the shop page has a public address, signs link there instead (it hands off to
    // Stripe Checkout itself and lets the buyer share), and Stripe is asked for nothing.
    shop.set_setting("shop.public_url", "https://shop.example.com")
        .await
        .unwrap();
    let to_page = shop
        .plan_signage(&shopcast_core::signage::Selection::All, "a4-3x8", 1)
        .await
        .unwrap();
    for sign in &to_page.signs {
        assert!(
            sign.qr_payload.starts_with("https://shop.example.com/p/")
                && sign
                    .qr_payload
                    .ends_with(&format!("?src=qr&sign={}", to_page.id)),
            "{}",
            sign.qr_payload
        );
    }
    assert_eq!(calls.lock().unwrap().len(), 6);
    shop.payments().disconnect(ProviderKind::Stripe);
}

#[tokio::test]
async fn a_refund_later_keeps_the_sale_on_the_day_it_was_paid() {
    let (shop, _dir) = shop_with("CNY").await;
    let mut paid = event("e-paid", "pi_jan", PaymentStatus::Paid, 10_000);
    paid.occurred_at = "2026-01-31T10:00:00Z".parse().unwrap();
    let mut refunded = event("e-refund", "pi_jan", PaymentStatus::Refunded, 10_000);
    refunded.refunded_total_minor = Some(10_000);
    refunded.occurred_at = "2026-03-03T10:00:00Z".parse().unwrap();
    ingest(&shop, ProviderKind::Stripe, &[paid.clone()]).await;
    ingest(&shop, ProviderKind::Stripe, &[refunded]).await;
    let all = shop.list_payments(&PaymentFilter::default()).await.unwrap();
    assert_eq!(all[0].status, "refunded");
    assert_eq!(
        all[0].occurred_at,
        paid.occurred_at.as_millisecond(),
        "still a January sale"
    );
}

#[tokio::test]
async fn a_second_payment_for_a_paid_order_or_a_foreign_order_is_held_for_review() {
    let (shop, _dir) = shop_with("CNY").await;
    let cup = product(&shop, "杯", "88", Some(5)).await;
    let order = order_of(&shop, &[(cup, 1)]).await;
    // The customer paid the Stripe QR, and the owner also marked the order paid in cash.
    let mut card = event("evt_card", "pi_card", PaymentStatus::Paid, 8_800);
    card.order_ref = Some(order.order_ref.clone());
    ingest(&shop, ProviderKind::Stripe, &[card]).await;
    assert_eq!(shop.order(order.id).await.unwrap().status, "paid");
    let mut cash = event("manual_cash", "order-cash", PaymentStatus::Paid, 8_800);
    cash.order_ref = Some(order.order_ref.clone());
    ingest(&shop, ProviderKind::Manual, &[cash]).await;
    let review = shop
        .list_payments(&PaymentFilter {
            status: Some("review".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(review.len(), 1);
    assert_eq!(review[0].provider, "manual");
    assert!(
        review[0]
            .mismatch
            .as_deref()
            .unwrap()
            .contains("already paid (stripe:pi_card)")
    );
    assert_eq!(shop.order(order.id).await.unwrap().status, "review");
    // A later refund event on the card payment does not take the goods off the shelf twice.
    let mut refund = event("evt_refund", "pi_card", PaymentStatus::Paid, 8_800);
    refund.refunded_total_minor = Some(100);
    ingest(&shop, ProviderKind::Stripe, &[refund]).await;
    assert_eq!(shop.product(cup).await.unwrap().stock, Some(4));
    // Another shop file's order on the same Stripe account is not this shop's sale.
    let mut foreign = event("evt_foreign", "pi_foreign", PaymentStatus::Paid, 500);
    foreign.order_ref = Some("O-NOTOURS1".into());
    ingest(&shop, ProviderKind::Stripe, &[foreign]).await;
    let flagged = shop
        .list_payments(&PaymentFilter {
            provider: Some("stripe".into()),
            status: Some("review".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        flagged[0]
            .mismatch
            .as_deref()
            .unwrap()
            .contains("O-NOTOURS1 is not in this shop")
    );
}

/// Opens the pay page at `url` as a phone would and presses Pay with the page's form token.
pub(crate) async fn pay_on_page(http: &reqwest::Client, url: &str) -> reqwest::StatusCode {
    let page = http.get(url).send().await.unwrap().text().await.unwrap();
    let csrf = form_field(&page, "csrf").unwrap_or_default();
    http.post(format!("{url}/pay"))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn after_a_restart_the_first_test_payment_is_recorded_and_old_qrs_expire() {
    let (shop, dir) = shop_with("CNY").await;
    let cup = product(&shop, "青花瓷杯", "88", Some(5)).await;
    shop.payments()
        .set_poll_interval(Duration::from_millis(100));
    shop.start_payments().await.unwrap();
    let http = shopcast_payments::http::client();
    let paid = order_of(&shop, &[(cup, 1)]).await;
    let charge = shop
        .start_charge(paid.id, ProviderKind::Test, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(pay_on_page(&http, &charge.qr_payload).await, 200);
    wait_for(|| async { count(&shop, "payments").await == 1 }).await;
    // A QR still on screen when test mode stops (its run ends: the next start expires it).
    let left_open = order_of(&shop, &[(cup, 1)]).await;
    shop.start_charge(left_open.id, ProviderKind::Test, Duration::from_secs(300))
        .await
        .unwrap();
    shop.payments().stop_test_mode().await;
    drop(shop);

    // The restart: the same shop file, a new test checkout numbering its events from 1.
    let shop = crate::open_shop(dir.path()).await;
    shop.payments()
        .set_poll_interval(Duration::from_millis(100));
    shop.start_payments().await.unwrap();
    assert_eq!(
        shop.order(left_open.id).await.unwrap().status,
        "expired",
        "nobody can pay a QR from before the restart"
    );
    let after = order_of(&shop, &[(cup, 2)]).await;
    let charge = shop
        .start_charge(after.id, ProviderKind::Test, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(pay_on_page(&http, &charge.qr_payload).await, 200);
    wait_for(|| async { shop.order(after.id).await.unwrap().status == "paid" }).await;
    assert_eq!(count(&shop, "payments").await, 2);
    assert_eq!(shop.product(cup).await.unwrap().stock, Some(5));
}

/// The window and `payments watch` on one shop file: the second to start test mode leaves the
/// first's open test QRs open and payable (a failed bind changes nothing at all); once the
/// first has stopped beating (a crash), the next start expires them.
#[tokio::test]
async fn a_second_test_run_leaves_the_first_runs_qrs_open_until_it_stops() {
    let (window, dir) = shop_with("CNY").await;
    let cup = product(&window, "青花瓷杯", "88", Some(5)).await;
    let any_port = "127.0.0.1:0".parse().unwrap();
    window
        .payments()
        .set_poll_interval(Duration::from_millis(100));
    window
        .payments()
        .start_test_mode(any_port, None)
        .await
        .unwrap();
    let http = shopcast_payments::http::client();
    let payable = order_of(&window, &[(cup, 1)]).await;
    let charge = window
        .start_charge(payable.id, ProviderKind::Test, Duration::from_secs(300))
        .await
        .unwrap();
    let left_open = order_of(&window, &[(cup, 1)]).await;
    window
        .start_charge(left_open.id, ProviderKind::Test, Duration::from_secs(300))
        .await
        .unwrap();

    let watch = crate::open_shop(dir.path()).await;
    watch
        .payments()
        .set_poll_interval(Duration::from_millis(100));
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    watch
        .payments()
        .start_test_mode(squatter.local_addr().unwrap(), None)
        .await
        .unwrap_err();
    watch
        .payments()
        .start_test_mode(any_port, None)
        .await
        .unwrap();
    // Several of both runs' polls.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for order in [&payable, &left_open] {
        assert_eq!(
            watch.order(order.id).await.unwrap().status,
            "awaiting_payment",
            "the window's QRs stay open beside `payments watch`"
        );
    }
    assert_eq!(pay_on_page(&http, &charge.qr_payload).await, 200);
    wait_for(|| async { window.order(payable.id).await.unwrap().status == "paid" }).await;
    watch.payments().stop_test_mode().await;

    // The window dies without stopping test mode: its heartbeat stops and goes stale.
    window.payments().disconnect(ProviderKind::Test);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        window.order(left_open.id).await.unwrap().status,
        "awaiting_payment"
    );
    sqlx::query("UPDATE test_checkout_runs SET heartbeat_at = heartbeat_at - 120000")
        .execute(window.pool())
        .await
        .unwrap();
    let restarted = crate::open_shop(dir.path()).await;
    restarted
        .payments()
        .start_test_mode(any_port, None)
        .await
        .unwrap();
    assert_eq!(
        restarted.order(left_open.id).await.unwrap().status,
        "expired",
        "nobody can pay a QR of a run that stopped"
    );
    assert_eq!(restarted.order(payable.id).await.unwrap().status, "paid");
}

#[tokio::test]
async fn a_busy_test_port_leaves_stripe_running_and_says_why() {
    use axum::routing::get;
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let polls = Arc::new(AtomicU32::new(0));
    let counted = polls.clone();
    let stripe = axum::Router::new().route(
        "/v1/events",
        get(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async {
                axum::Json(serde_json::json!({"object": "list", "data": [], "has_more": false}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stripe_base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, stripe).await.unwrap() });
    // Another program holds the test checkout's port.
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = squatter.local_addr().unwrap().port();

    let (shop, dir) = shop_with("CNY").await;
    shop.connect_stripe(&stripe_base, "sk_test_busy")
        .await
        .unwrap();
    let mut settings = shop.payment_settings().await.unwrap();
    settings.test_mode_port = port;
    settings.poll_ms = 100;
    let refused = shop.save_payment_settings(settings).await.unwrap_err();
    assert!(refused.to_string().contains(&port.to_string()), "{refused}");
    drop(shop);

    let shop = crate::open_shop(dir.path()).await;
    shop.start_payments().await.unwrap();
    assert_eq!(shop.payments().connected(), [ProviderKind::Stripe]);
    let before = polls.load(Ordering::SeqCst);
    wait_for(|| async { polls.load(Ordering::SeqCst) >= before + 2 }).await;
    let health = shop.payments().health();
    let test = health
        .iter()
        .find(|h| h.provider == ProviderKind::Test)
        .expect("test mode's health");
    assert!(!test.ok);
    let message = test.message.as_deref().unwrap();
    assert!(
        message.contains(&format!(
            "the test checkout could not listen on 127.0.0.1:{port}: address in use"
        )),
        "{message}"
    );
    drop(squatter);
}

#[tokio::test]
async fn real_sales_take_stock_and_test_sales_do_not() {
    let (shop, _dir) = shop_with("CNY").await;
    let cup = product(&shop, "杯", "88", Some(5)).await;
    let cash = order_of(&shop, &[(cup, 2)]).await;
    shop.mark_paid_manually(cash.id, "cash").await.unwrap();
    assert_eq!(shop.product(cup).await.unwrap().stock, Some(3), "cash sale");
    let test = order_of(&shop, &[(cup, 1)]).await;
    let mut paid = event("test:tok:settle:1", "tok", PaymentStatus::Paid, 8_800);
    paid.order_ref = Some(test.order_ref.clone());
    ingest(&shop, ProviderKind::Test, &[paid]).await;
    assert_eq!(shop.order(test.id).await.unwrap().status, "paid");
    assert_eq!(shop.product(cup).await.unwrap().stock, Some(3), "test sale");
}
