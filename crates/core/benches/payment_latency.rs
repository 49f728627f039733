//! Latency from a provider confirming a payment to the engine announcing it (the broadcast
//! the desktop shell forwards to the window as `payment-update`), against localstripe
//! started from tests/peers/, at 250 ms and 1 s polls.
//! Run: `cargo bench -p shopcast-core --bench payment_latency` (SHOPCAST_BENCH_SAMPLES,
//! default 40 per interval). Needs `tests/peers/setup.sh` to have run.

#[path = "../../payments/tests/stripe/localstripe.rs"]
#[allow(dead_code)]
mod localstripe;

use std::sync::Arc;
use std::time::{Duration, Instant};

use shopcast_core::Shop;
use shopcast_core::payments::PaymentUpdate;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}

fn main() {
    let samples: usize = std::env::var("SHOPCAST_BENCH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let stripe = localstripe::LocalStripe::start();
        for interval in [Duration::from_millis(250), Duration::from_secs(1)] {
            let dir = tempfile::tempdir().unwrap();
            let shop = Shop::open(dir.path()).await.unwrap();
            shop.payments().set_poll_interval(interval);
            let mut updates = shop.payments().subscribe();
            shop.payments().connect(Arc::new(stripe.provider()));
            tokio::time::sleep(Duration::from_millis(300)).await;
            let mut latencies = Vec::with_capacity(samples);
            for i in 0..samples {
                // Customers pay at any moment of the poll cycle: wait a quasi-random fraction
                // of it (golden-ratio sequence) after the previous announcement.
                let fraction = (i as f64 * 0.618_033_988_75).fract();
                tokio::time::sleep(interval.mul_f64(fraction)).await;
                let intent = stripe.pay_by_card(1_000 + i as i64, "cny", "O-BENCH").await;
                let confirmed = Instant::now();
                let id = intent["id"].as_str().unwrap().to_string();
                loop {
                    let update = tokio::time::timeout(Duration::from_secs(10), updates.recv())
                        .await
                        .expect("announced")
                        .unwrap();
                    if let PaymentUpdate::Payment { payment } = update
                        && payment.provider_ref == id
                    {
                        latencies.push(confirmed.elapsed());
                        break;
                    }
                }
            }
            latencies.sort();
            println!(
                "poll {:>4} ms: confirmation → event median {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} payments; goal median < {} ms)",
                interval.as_millis(),
                percentile(&latencies, 0.5).as_secs_f64() * 1e3,
                percentile(&latencies, 0.99).as_secs_f64() * 1e3,
                latencies.last().unwrap().as_secs_f64() * 1e3,
                samples,
                interval.as_millis() + 100,
            );
            shop.payments().disconnect(shopcast_payments::ProviderKind::Stripe);
            shop.close().await;
        }
    });
}
