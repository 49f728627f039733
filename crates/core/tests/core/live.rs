//! Live updates between two computers on one PostgreSQL shop: a payment recorded by one
//! reaches the other's subscribers (its window) within seconds. Skipped on a shop file.

use std::time::Duration;

use shopcast_core::payments::PaymentUpdate;
use shopcast_payments::{PaymentStatus, ProviderKind};

use crate::{event, ingest, shop_with};

#[tokio::test]
async fn a_payment_recorded_on_one_till_shows_on_the_other() {
    let (till_1, dir) = shop_with("CNY").await;
    let Some((till_2, mut shown)) = second_till(&till_1, &dir).await else {
        return;
    };

    let mut paid = event("evt_live_1", "pi_live_1", PaymentStatus::Paid, 4_200);
    paid.raw = "{}".into();
    ingest(&till_1, ProviderKind::Stripe, &[paid]).await;
    let update = next_payment(&mut shown).await;
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

/// A cash sale records its payment and tells the other tills in one transaction: they hear
/// of a sale that was made, and nothing of one refused (sold out).
#[tokio::test]
async fn a_cash_sale_on_one_till_shows_on_the_other_and_a_refused_one_says_nothing() {
    use shopcast_core::catalog::ProductDraft;
    use shopcast_core::payments::sale::{SaleItem, SaleMethod, SaleRequest};

    let (till_1, dir) = shop_with("CNY").await;
    let Some((till_2, mut shown)) = second_till(&till_1, &dir).await else {
        return;
    };
    till_1
        .create_product(&ProductDraft {
            name: "最后一个 The last one".into(),
            price: "8.80".into(),
            sku: Some("LAST".into()),
            stock: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();

    let cash = |sku: &str| SaleRequest {
        items: vec![SaleItem {
            sku: sku.into(),
            quantity: 1,
        }],
        amount: None,
        currency: None,
        method: SaleMethod::Cash,
        till: Some("till 1".into()),
        auth_code: None,
        discount: None,
        discount_reason: None,
    };
    till_1
        .create_product(&ProductDraft {
            name: "茶 Tea, not counted".into(),
            price: "2.50".into(),
            sku: Some("TEA".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    // Not counted (one statement, its NOTIFY in it), then the last counted one (a transaction
    // that locks it).
    for (sku, amount_minor) in [("TEA", 250), ("LAST", 880)] {
        let sold = till_1.sell(&cash(sku)).await.unwrap();
        let paid = sold.payment.expect("cash is paid on the spot");
        let heard = next_payment(&mut shown).await;
        assert_eq!(heard.id, paid.id, "{sku}");
        assert_eq!(heard.amount.amount_minor, amount_minor);
        assert_eq!(heard.order_id, Some(sold.order.id));
    }

    let refused = till_1.sell(&cash("LAST")).await.unwrap_err();
    assert_eq!(
        refused.code(),
        shopcast_core::ErrorCode::SoldOut,
        "{refused}"
    );
    let mut more = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while let Ok(update) = shown.recv().await {
            more.push(format!("{update:?}"));
        }
    })
    .await;
    assert!(
        more.iter().all(|u| !u.starts_with("Payment")),
        "nothing is said of a refused sale: {more:?}"
    );
    till_2.close().await;
}

/// A second till on `till_1`'s database (its own process state), listening, and what its
/// window is shown; `None` on a shop file.
async fn second_till(
    till_1: &shopcast_core::Shop,
    dir: &tempfile::TempDir,
) -> Option<(
    shopcast_core::Shop,
    tokio::sync::broadcast::Receiver<PaymentUpdate>,
)> {
    if till_1.backend() != shopcast_core::Backend::Postgres {
        eprintln!(
            "skipped: live updates are for a shop on PostgreSQL (set SHOPCAST_TEST_POSTGRES)"
        );
        return None;
    }
    let till_2 = shopcast_core::Shop::open_with(dir.path(), till_1.database().clone())
        .await
        .unwrap();
    let shown = till_2.payment_updates();
    till_2.start_live_updates();
    tokio::time::sleep(Duration::from_millis(500)).await; // listening
    Some((till_2, shown))
}

/// The next payment `shown`, within 3 s.
async fn next_payment(
    shown: &mut tokio::sync::broadcast::Receiver<PaymentUpdate>,
) -> shopcast_core::payments::ledger::Payment {
    tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            if let Ok(PaymentUpdate::Payment { payment }) = shown.recv().await {
                return payment;
            }
        }
    })
    .await
    .expect("the other till hears of the payment within 3 s")
}

/// A TCP relay in front of the test server that can be "unplugged": its listener and every
/// relayed connection dropped (refused, like a server that went away), then plugged in again
/// on the same port.
struct Cable {
    port: u16,
    target: std::net::SocketAddr,
    relay: Option<tokio::task::JoinHandle<()>>,
}

impl Cable {
    async fn to(target: std::net::SocketAddr) -> Cable {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut cable = Cable {
            port,
            target,
            relay: None,
        };
        cable.relay = Some(tokio::spawn(Cable::relay(listener, target)));
        cable
    }

    async fn relay(listener: tokio::net::TcpListener, target: std::net::SocketAddr) {
        let mut set = tokio::task::JoinSet::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            set.spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    }

    fn unplug(&mut self) {
        // Aborting the relay drops its listener and, with the JoinSet, every connection.
        self.relay.take().expect("plugged").abort();
    }

    async fn plug_in(&mut self) {
        let listener = loop {
            match tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        self.relay = Some(tokio::spawn(Cable::relay(listener, self.target)));
    }
}

#[tokio::test]
async fn the_window_hears_at_once_when_the_server_goes_away_and_comes_back() {
    let (shop, dir) = shop_with("CNY").await;
    let shopcast_core::Database::Server(url) = shop.database().clone() else {
        // A shop file is on this computer: it always answers.
        assert!(shop.database_answers().await);
        return;
    };
    let address = url
        .split('@')
        .nth(1)
        .expect("user@host")
        .split('/')
        .next()
        .unwrap();
    let target = tokio::net::lookup_host(address)
        .await
        .unwrap()
        .next()
        .unwrap();
    let mut cable = Cable::to(target).await;
    let relayed = url.replacen(address, &format!("127.0.0.1:{}", cable.port), 1);
    let till = shopcast_core::Shop::open_with(dir.path(), shopcast_core::Database::Server(relayed))
        .await
        .unwrap();
    assert!(till.database_answers().await, "plugged in");

    cable.unplug();
    let started = std::time::Instant::now();
    assert!(!till.database_answers().await, "unplugged: no answer");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "said within the probe's 2 s"
    );
    // What the till does meanwhile fails plainly and stores nothing.
    let err = till.settings().await.expect_err("server gone");
    assert_eq!(err.code().as_str(), "database_unreachable", "{err}");

    cable.plug_in().await;
    let back = tokio::time::timeout(Duration::from_secs(10), async {
        while !till.database_answers().await {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(back.is_ok(), "answers again once the server is back");
    assert!(till.settings().await.is_ok(), "and work goes on");
    till.close().await;
}
