//! Ledger ingest benchmark: 100,000 provider events (a replayed Stripe feed: 50,000 payments,
//! each created then paid, with some refunds), ingested in poll-sized batches into a fresh
//! shop file, then the whole feed replayed (must add 0 rows).
//! Run: `cargo bench -p shopcast-core --bench ledger` (SHOPCAST_BENCH_EVENTS to change the
//! size, SHOPCAST_BENCH_BATCH for the events per ingest, default 1,000).

use std::time::Instant;

use shopcast_core::Shop;
use shopcast_payments::{PaymentStatus, ProviderEvent, ProviderKind};

fn events(count: usize) -> Vec<ProviderEvent> {
    let start = jiff::Timestamp::from_second(1_790_000_000).unwrap();
    (0..count)
        .map(|i| {
            let payment = i / 2;
            let (status, refunded) = match (i % 2, payment % 10) {
                (0, _) => (PaymentStatus::Pending, None),
                (_, 0) => (PaymentStatus::Paid, Some(500)),
                _ => (PaymentStatus::Paid, None),
            };
            ProviderEvent {
                event_id: format!("evt_{i:08}"),
                provider_ref: format!("pi_{payment:08}"),
                order_ref: None,
                charge_ref: None,
                status,
                amount_minor: 1_000 + (payment as i64 % 9_000),
                currency: if payment % 3 == 0 { "EUR" } else { "CNY" }.into(),
                refunded_total_minor: refunded,
                method: Some("card".into()),
                source_tag: Some(if payment % 4 == 0 { "post-12" } else { "till" }.into()),
                occurred_at: start
                    .checked_add(jiff::SignedDuration::from_millis(i as i64 * 250))
                    .unwrap(),
                raw: format!(
                    r#"{{"id":"evt_{i:08}","type":"payment_intent.succeeded","data":{{"object":{{"id":"pi_{payment:08}"}}}}}}"#
                ),
            }
        })
        .collect()
}

fn main() {
    let count: usize = std::env::var("SHOPCAST_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let batch: usize = std::env::var("SHOPCAST_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let shop = Shop::open(dir.path()).await.unwrap();
        let feed = events(count);

        let started = Instant::now();
        let mut new_events = 0;
        for (n, chunk) in feed.chunks(batch).enumerate() {
            let report = shop
                .payments()
                .ingest(ProviderKind::Stripe, chunk, Some(&n.to_string()))
                .await
                .unwrap();
            new_events += report.new_events;
        }
        let first = started.elapsed();
        assert_eq!(new_events, count);

        let started = Instant::now();
        let mut replayed = 0;
        for chunk in feed.chunks(batch) {
            replayed += shop
                .payments()
                .ingest(ProviderKind::Stripe, chunk, None)
                .await
                .unwrap()
                .new_events;
        }
        let replay = started.elapsed();
        let rows: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM payment_events) + (SELECT count(*) FROM payments)",
        )
        .fetch_one(shop.pool())
        .await
        .unwrap();
        println!(
            "ingest {count} events in batches of {batch}: {:.0} ms, {:.0} events/s ({} payments)",
            first.as_secs_f64() * 1e3,
            count as f64 / first.as_secs_f64(),
            count / 2
        );
        println!(
            "replay of the same {count} events: {:.0} ms, {:.0} events/s, {replayed} new rows (ledger rows {rows})",
            replay.as_secs_f64() * 1e3,
            count as f64 / replay.as_secs_f64(),
        );
        assert_eq!(replayed, 0);
        shop.close().await;
    });
}
