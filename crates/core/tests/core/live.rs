//! Live updates between two computers on one PostgreSQL shop: a payment recorded by one
//! reaches the other's subscribers (its window) within seconds. Skipped on a shop file.

use std::time::Duration;

use shopcast_core::payments::PaymentUpdate;
use shopcast_payments::{PaymentStatus, ProviderKind};

use crate::{event, ingest, shop_with};

#[tokio::test]
async fn a_payment_recorded_on_one_till_shows_on_the_other() {
    let (till_1, dir) = shop_with("CNY").await;
    if till_1.backend() != shopcast_core::Backend::Postgres {
        eprintln!(
            "skipped: live updates are for a shop on PostgreSQL (set SHOPCAST_TEST_POSTGRES)"
        );
        return;
    }
    // The second till: the same database, its own process state.
    let till_2 = shopcast_core::Shop::open_with(dir.path(), till_1.database().clone())
        .await
        .unwrap();
    let mut shown = till_2.payment_updates();
    till_2.start_live_updates();
    tokio::time::sleep(Duration::from_millis(500)).await; // listening

    let mut paid = event("evt_live_1", "pi_live_1", PaymentStatus::Paid, 4_200);
    paid.raw = "{}".into();
    ingest(&till_1, ProviderKind::Stripe, &[paid]).await;
    let update = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            if let Ok(PaymentUpdate::Payment { payment }) = shown.recv().await {
                return payment;
            }
        }
    })
    .await
    .expect("the other till hears of the payment within 3 s");
    assert_eq!(update.provider_ref, "pi_live_1");
    assert_eq!(update.amount.amount_minor, 4_200);

    // Its own records are not shown twice: only the first till's one came.
    let mut own = till_1.payment_updates();
    till_1.start_live_updates();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut again = event("evt_live_2", "pi_live_2", PaymentStatus::Paid, 100);
    again.raw = "{}".into();
    ingest(&till_1, ProviderKind::Stripe, &[again]).await;
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(update) = own.recv().await {
            if let PaymentUpdate::Payment { payment } = update {
                seen.push(payment.provider_ref);
            }
        }
    })
    .await;
    assert_eq!(seen, vec!["pi_live_2".to_string()], "once, from itself");
    till_2.close().await;
}
