//! Provider callbacks refused without a valid signature, and the owner's status and
//! reachability check.

use shopcast_shoppage::{Reachability, ShopPageLimits};

use crate::{http, start};

#[tokio::test]
async fn callbacks_without_a_valid_signature_are_refused_and_record_nothing() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let client = http();
    let event = r#"{"id":"evt_1","type":"checkout.session.completed","data":{"object":{"id":"cs_1","client_reference_id":"O-1","amount_total":8800,"currency":"cny","payment_status":"paid"}}}"#;
    for signature in [
        None,
        Some("t=1,v1=00"),
        Some(&*format!(
            "t={},v1={}",
            jiff::Timestamp::now().as_second(),
            "ab".repeat(32)
        )),
    ] {
        let mut request = client
            .post(format!("{}/hooks/stripe", fixture.base))
            .header("content-type", "application/json")
            .body(event);
        if let Some(signature) = signature {
            request = request.header("stripe-signature", signature);
        }
        let reply = request.send().await.unwrap();
        assert_eq!(reply.status(), 400, "{signature:?}");
        assert_eq!(reply.headers()["cache-control"], "no-store");
    }
    let notify = "notify_id=1&trade_status=TRADE_SUCCESS&out_trade_no=O-1&total_amount=88.00&sign_type=RSA2&sign=AAAA";
    let reply = client
        .post(format!("{}/hooks/alipay", fixture.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(notify)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.text().await.unwrap(), "fail");
    let payments = fixture
        .shop
        .list_payments(&Default::default())
        .await
        .unwrap();
    assert!(payments.is_empty(), "{payments:?}");
}

#[tokio::test]
async fn the_owner_sees_requests_and_whether_the_public_address_reaches_this_server() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let status = fixture.page.status();
    assert_eq!(status.requests, 0);
    assert_eq!(status.last_request_at, None);
    assert_eq!(status.listening, fixture.page.addr.to_string());
    assert_eq!(status.public_url, fixture.base);
    let _ = http()
        .get(format!("{}/", fixture.base))
        .send()
        .await
        .unwrap();
    let status = fixture.page.status();
    assert_eq!(status.requests, 1);
    let at = status.last_request_at.expect("a request time");
    assert!((jiff::Timestamp::now().as_millisecond() - at).abs() < 10_000);
    assert_eq!(
        fixture.page.check_reachable().await,
        Reachability::Reachable
    );

    // Another shop page at the public address answers /healthz too, but not as this one.
    let other = start("en", ShopPageLimits::default()).await;
    let pointed_elsewhere = shopcast_shoppage::serve(
        other.shop.clone(),
        shopcast_shoppage::ShopPageOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: fixture.base.clone(),
            limits: ShopPageLimits::default(),
            trust_proxy: false,
        },
    )
    .await
    .unwrap();
    assert!(
        matches!(
            pointed_elsewhere.check_reachable().await,
            Reachability::SomeoneElse { .. }
        ),
        "another server's answer counted as this one's"
    );
    // Nothing listening at the public address.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let nowhere = shopcast_shoppage::serve(
        other.shop.clone(),
        shopcast_shoppage::ShopPageOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: format!("http://{closed}"),
            limits: ShopPageLimits::default(),
            trust_proxy: false,
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        nowhere.check_reachable().await,
        Reachability::Unreachable { .. }
    ));
}
