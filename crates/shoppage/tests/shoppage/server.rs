//! The shared hardened server under the shop page: idle floods and slow headers.

use std::time::{Duration, Instant};

use shopcast_shoppage::ShopPageLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use shopcast_net::server::raise_open_file_limit;

use crate::{http, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_idle_connections_do_not_stop_a_buyer() {
    // Both ends of each connection live in this process.
    assert!(
        raise_open_file_limit(8_192) >= 4_200,
        "too few file descriptors allowed"
    );
    let fixture = start("en", ShopPageLimits::default()).await;
    let mut idle = Vec::with_capacity(2_000);
    for _ in 0..2_000 {
        idle.push(TcpStream::connect(fixture.page.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let reply = http()
        .get(format!("{}/p/TEA-1", fixture.base))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(reply.status(), 200);
    assert!(reply.text().await.unwrap().contains("TEA-1"));
    assert!(took < Duration::from_secs(1), "answered in {took:?}");
    eprintln!("product page beside 2,000 idle connections in {took:?}");
    drop(idle);
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let limits = ShopPageLimits {
        header_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let fixture = start("en", limits).await;
    let mut socket = TcpStream::connect(fixture.page.addr).await.unwrap();
    socket.write_all(b"GET /p/TEA-1 HT").await.unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut rest))
        .await
        .expect("the server closed the connection");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(3),
        "closed after {took:?}"
    );
}

#[tokio::test]
async fn a_body_that_never_arrives_gets_408_with_the_headers() {
    let limits = ShopPageLimits {
        request_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let fixture = start("en", limits).await;
    let mut socket = TcpStream::connect(fixture.page.addr).await.unwrap();
    socket
        .write_all(b"POST /p/TEA-1/buy HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ncsrf=")
        .await
        .unwrap();
    let mut reply = vec![0u8; 2048];
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut reply))
        .await
        .expect("answered, not left hanging")
        .unwrap();
    let reply = String::from_utf8_lossy(&reply[..read]).to_lowercase();
    assert!(reply.starts_with("http/1.1 408"), "{reply}");
    assert!(
        reply.contains("content-security-policy: default-src 'none'"),
        "{reply}"
    );
    assert_eq!(crate::order_count(&fixture.shop).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_connections_from_one_address_are_all_answered() {
    // Buyers behind one NAT share an address: none of theirs is closed for another.
    let fixture = start("en", ShopPageLimits::default()).await;
    let mut sockets = Vec::new();
    for _ in 0..100 {
        sockets.push(TcpStream::connect(fixture.page.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut answered = 0;
    for mut socket in sockets {
        socket
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut reply = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut reply)).await;
        if reply.starts_with(b"HTTP/1.1 200 ") {
            answered += 1;
        }
    }
    assert_eq!(answered, 100);
}

#[tokio::test]
async fn a_port_in_use_leaves_test_mode_alone() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let before = fixture.shop.payments().test_mode().base_url();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap();
    let failed = shopcast_shoppage::serve(
        fixture.shop.clone(),
        shopcast_shoppage::ShopPageOptions {
            listen,
            public_url: format!("http://{listen}"),
            limits: ShopPageLimits::default(),
            trust_proxy: false,
        },
    )
    .await;
    assert!(failed.is_err());
    // The test checkout still sends buyers to the running shop page, not the failed one.
    assert_eq!(fixture.shop.payments().test_mode().base_url(), before);
    assert_eq!(before.as_deref(), Some(fixture.base.as_str()));
}
