//! Stripe webhook ingest benchmark: signed `checkout.session.completed` deliveries for real
//! orders of a shop file holding a 100,000-product catalog, verified and recorded through
//! `Shop::record_stripe_webhook` one at a time and 16 at once (as a server would), then all
//! delivered again (Stripe's retries: must add nothing). Goal: ≥ 1,000 events/s.
//! Run: `cargo bench -p shopcast-core --bench webhook_ingest` (SHOPCAST_BENCH_PRODUCTS for
//! the catalog, SHOPCAST_BENCH_EVENTS for the deliveries, default 4,000).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use shopcast_core::Shop;
use shopcast_core::payments::till::{OrderDraft, OrderLineDraft};
use shopcast_payments::stripe::{WebhookSecret, signature_header};

#[path = "support/catalog_csv.rs"]
mod catalog_csv;

const SECRET: &str = "whsec_bench_4kQ9zT2mW7xV1cN8rB5yH3pL6dF0sJ";
/// Deliveries handled at once in the concurrent run.
const AT_ONCE: usize = 16;

fn main() {
    // Keys go to the 0600 file, never to the keychain of whoever runs the bench.
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let products = catalog_csv::bench_size();
    let events: usize = std::env::var("SHOPCAST_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4_000);
    catalog_csv::runtime().block_on(run(products, events));
}

/// A Stripe API that lists no events: enough for `connect_stripe` to check the key.
async fn empty_stripe() -> String {
    let app = axum::Router::new().fallback(|| async {
        axum::Json(serde_json::json!({"object": "list", "data": [], "has_more": false}))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// `count` open orders of one to three of a product each; their (ref, total, currency).
async fn orders(shop: &Shop, count: usize) -> Vec<(String, i64, String)> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM products ORDER BY id LIMIT $1")
        .bind(count as i64)
        .fetch_all(shop.pool())
        .await
        .unwrap();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let order = shop
            .create_order(&OrderDraft {
                lines: vec![OrderLineDraft {
                    product_id: ids[i % ids.len()],
                    quantity: 1 + (i % 3) as u32,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        out.push((
            order.order_ref,
            order.total.amount_minor,
            order.total.currency,
        ));
    }
    out
}

/// One signed delivery per order: (Stripe-Signature, body).
fn deliveries(orders: &[(String, i64, String)], first_event: usize) -> Vec<(String, String)> {
    let secret = WebhookSecret::new(SECRET).unwrap();
    let now = jiff::Timestamp::now().as_second();
    orders
        .iter()
        .enumerate()
        .map(|(i, (order_ref, total, currency))| {
            let n = first_event + i;
            let body = serde_json::json!({
                "id": format!("evt_bench{n:08}"),
                "object": "event",
                "api_version": "2025-03-31.basil",
                "created": now,
                "data": {"object": {
                    "id": format!("cs_test_bench{n:08}"),
                    "object": "checkout.session",
                    "amount_total": total,
                    "currency": currency.to_ascii_lowercase(),
                    "client_reference_id": if n.is_multiple_of(4) { "post-12" } else { "link" },
                    "metadata": {"order_ref": order_ref, "note": "青花瓷杯 手工制作"},
                    "mode": "payment",
                    "payment_intent": format!("pi_bench{n:08}"),
                    "payment_status": "paid",
                    "status": "complete"
                }},
                "livemode": false,
                "pending_webhooks": 1,
                "type": "checkout.session.completed"
            })
            .to_string();
            (signature_header(&secret, body.as_bytes(), now), body)
        })
        .collect()
}

/// Feeds every delivery with `at_once` workers; returns (payments recorded, time taken).
async fn deliver(
    shop: &Shop,
    all: Arc<Vec<(String, String)>>,
    at_once: usize,
) -> (usize, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..at_once)
        .map(|_| {
            let (shop, all, next) = (shop.clone(), all.clone(), next.clone());
            tokio::spawn(async move {
                let mut recorded = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((header, body)) = all.get(i) else {
                        return recorded;
                    };
                    recorded += shop
                        .record_stripe_webhook(header, body.as_bytes())
                        .await
                        .unwrap()
                        .recorded;
                }
            })
        })
        .collect();
    let mut recorded = 0;
    for worker in workers {
        recorded += worker.await.unwrap();
    }
    (recorded, started.elapsed())
}

fn line(what: &str, count: usize, took: Duration, recorded: usize) {
    println!(
        "{what}: {count} deliveries in {:.0} ms, {:.0} events/s, {recorded} payments recorded",
        took.as_secs_f64() * 1e3,
        count as f64 / took.as_secs_f64()
    );
}

async fn run(products: usize, events: usize) {
    let files = tempfile::tempdir().unwrap();
    let csv = files.path().join("catalog.csv");
    catalog_csv::write_catalog(&csv, products, 0);
    let dir = tempfile::tempdir().unwrap();
    let shop = Shop::open(dir.path()).await.unwrap();
    shop.set_setting("shop.currency", "CNY").await.unwrap();
    shop.import_catalog(&csv, false).await.unwrap();
    shop.connect_stripe(&empty_stripe().await, "sk_test_bench")
        .await
        .unwrap();
    shop.set_stripe_webhook_secret(Some(SECRET)).await.unwrap();

    // Half the orders paid one delivery at a time, the other half 16 at once.
    let orders = orders(&shop, events).await;
    let (one, many) = orders.split_at(events / 2);
    let one_by_one = Arc::new(deliveries(one, 0));
    let concurrent = Arc::new(deliveries(many, one.len()));
    println!("shop file: {products} products, {events} open orders");

    let (recorded, took) = deliver(&shop, one_by_one.clone(), 1).await;
    assert_eq!(recorded, one.len());
    line("webhook ingest, one at a time", one.len(), took, recorded);
    let first = one.len() as f64 / took.as_secs_f64();

    let (recorded, took) = deliver(&shop, concurrent.clone(), AT_ONCE).await;
    assert_eq!(recorded, many.len());
    line(
        &format!("webhook ingest, {AT_ONCE} at once"),
        many.len(),
        took,
        recorded,
    );
    let second = many.len() as f64 / took.as_secs_f64();

    let replay: Vec<(String, String)> = one_by_one
        .iter()
        .chain(concurrent.iter())
        .cloned()
        .collect();
    let (recorded, took) = deliver(&shop, Arc::new(replay), AT_ONCE).await;
    assert_eq!(recorded, 0, "a retried delivery recorded something");
    line(
        &format!("the same deliveries again ({AT_ONCE} at once)"),
        events,
        took,
        recorded,
    );

    let payments: i64 = sqlx::query_scalar("SELECT count(*) FROM payments")
        .fetch_one(shop.pool())
        .await
        .unwrap();
    assert_eq!(payments as usize, events);
    let goal = 1_000.0;
    println!(
        "goal ≥ {goal:.0} events/s: one at a time {first:.0} ({}), {AT_ONCE} at once {second:.0} ({})",
        if first >= goal { "met" } else { "NOT met" },
        if second >= goal { "met" } else { "NOT met" },
    );
    shop.close().await;
}
