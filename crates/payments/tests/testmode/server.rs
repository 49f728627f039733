//! The server itself on raw sockets: idle floods, slow headers, big bodies, odd paths.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use shopcast_payments::testmode::CheckoutLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::{addr, checkout, field, http, page_text, post_form};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_idle_connections_do_not_stop_a_customer() {
    // Both ends of each connection live in this process.
    assert!(
        shopcast_net::server::raise_open_file_limit(8_192) >= 4_200,
        "too few file descriptors allowed"
    );
    let (_mode, server, _shop, base) = checkout(CheckoutLimits::default()).await;
    let mut idle = Vec::with_capacity(2_000);
    for _ in 0..2_000 {
        idle.push(TcpStream::connect(addr(&base)).await.unwrap());
    }
    // Let the server accept them all.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        server.open_connections() <= CheckoutLimits::default().max_connections,
        "{} connections held",
        server.open_connections()
    );
    let started = Instant::now();
    let reply = http().get(format!("{base}/p/TEA-1")).send().await.unwrap();
    let took = started.elapsed();
    assert_eq!(reply.status(), 200);
    assert!(took < Duration::from_secs(1), "answered in {took:?}");
    eprintln!("answered beside 2,000 idle connections in {took:?}");
    drop(idle);
}

#[tokio::test]
async fn past_the_cap_the_longest_idle_connection_makes_room() {
    let limits = CheckoutLimits {
        max_connections: 8,
        ..Default::default()
    };
    let (_mode, server, _shop, base) = checkout(limits).await;
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(TcpStream::connect(addr(&base)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        server.open_connections() <= 8,
        "{}",
        server.open_connections()
    );
    // The first ones were closed by the server: reading gives end-of-file.
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(1), idle[0].read(&mut byte))
        .await
        .expect("closed, not left hanging");
    assert_eq!(read.unwrap(), 0);
    let reply = http().get(format!("{base}/p/TEA-1")).send().await.unwrap();
    assert_eq!(reply.status(), 200);
}

#[tokio::test]
async fn a_slow_loris_is_cut_off_after_the_header_timeout() {
    let limits = CheckoutLimits {
        header_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let (_mode, _server, _shop, base) = checkout(limits).await;
    let mut socket = TcpStream::connect(addr(&base)).await.unwrap();
    socket.write_all(b"GET /p/TEA-1 HT").await.unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut rest))
        .await
        .expect("the server closed the connection");
    let took = started.elapsed();
    drop(read);
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(3),
        "closed after {took:?}"
    );
    // A connection that says nothing at all is closed the same way.
    let mut silent = TcpStream::connect(addr(&base)).await.unwrap();
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(3), silent.read(&mut byte))
        .await
        .expect("a silent connection is closed");
    assert!(matches!(read, Ok(0) | Err(_)));
}

#[tokio::test]
async fn an_oversized_body_gets_413_and_creates_nothing() {
    let (_mode, _server, shop, base) = checkout(CheckoutLimits::default()).await;
    let client = http();
    // A real form, padded past the cap: only the cap can stop it.
    let token = field(&page_text(&client, format!("{base}/p/TEA-1")).await, "csrf").unwrap();
    let big = format!("csrf={token}&pad={}", "a".repeat(100_000));
    let declared = client
        .post(format!("{base}/p/TEA-1"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), 413);
    // The same without a Content-Length (chunked) is cut off at the cap too.
    let mut socket = TcpStream::connect(addr(&base)).await.unwrap();
    socket
        .write_all(
            b"POST /p/TEA-1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .await
        .unwrap();
    for chunk in big.as_bytes().chunks(1_000) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        // The server may answer and close before all is sent.
        if socket.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    let mut reply = vec![0u8; 12];
    socket.read_exact(&mut reply).await.unwrap();
    assert_eq!(&reply[9..12], b"413", "{}", String::from_utf8_lossy(&reply));
    assert_eq!(shop.orders.load(Ordering::SeqCst), 0);
    // The token itself was good: the same form without the padding buys.
    let bought = post_form(&client, format!("{base}/p/TEA-1"), &[("csrf", token)]).await;
    assert_eq!(bought.status(), 303);
    assert_eq!(shop.orders.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn headers_beyond_16_kib_get_431_or_a_reset() {
    let (_mode, _server, _shop, base) = checkout(CheckoutLimits::default()).await;
    let mut socket = TcpStream::connect(addr(&base)).await.unwrap();
    let request = format!(
        "GET /p/TEA-1 HTTP/1.1\r\nHost: x\r\nX-Junk: {}\r\n\r\n",
        "j".repeat(40_000)
    );
    // The server may refuse and close before all is sent.
    let _ = socket.write_all(request.as_bytes()).await;
    let mut reply = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut reply))
        .await
        .expect("answered, not left hanging");
    match read {
        Ok(_) => assert!(
            reply.starts_with(b"HTTP/1.1 431 "),
            "{}",
            String::from_utf8_lossy(&reply)
        ),
        Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}"),
    }
}

/// A connection to `server` from the loopback address `source` (another client).
async fn connect_from(source: [u8; 4], server: std::net::SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind((std::net::Ipv4Addr::from(source), 0).into())
        .unwrap();
    socket.connect(server).await.unwrap()
}

/// Opens `count` connections from `source`, each sending a form whose body never arrives.
async fn slow_bodies(
    source: [u8; 4],
    server: std::net::SocketAddr,
    count: usize,
) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        let mut socket = connect_from(source, server).await;
        socket
            .write_all(
                b"POST /p/TEA-1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncsrf=",
            )
            .await
            .unwrap();
        held.push(socket);
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_from_one_client_do_not_lock_out_another() {
    let limits = CheckoutLimits {
        max_connections: 40,
        // The slow bodies stay busy for the whole test.
        request_timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let per_client = limits.max_connections_per_client;
    let (_mode, server, _shop, base) = checkout(limits).await;
    let target = addr(&base);
    let _one = slow_bodies([127, 0, 0, 1], target, 100).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        server.open_connections() <= per_client,
        "one client holds {} connections",
        server.open_connections()
    );
    // A second client's slow bodies fill the server: the oldest busy ones make room.
    let _two = slow_bodies([127, 0, 0, 3], target, 20).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        server.open_connections() <= 40,
        "{}",
        server.open_connections()
    );

    let started = Instant::now();
    let mut customer = connect_from([127, 0, 0, 2], target).await;
    customer
        .write_all(b"GET /p/TEA-1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(1), customer.read_to_end(&mut reply))
        .await
        .expect("the customer is answered within 1 s")
        .unwrap();
    assert!(
        reply.starts_with(b"HTTP/1.1 200 "),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    eprintln!("answered beside 120 slow bodies in {:?}", started.elapsed());
}

#[tokio::test]
async fn path_tricks_get_a_plain_404_or_400() {
    let (_mode, _server, shop, base) = checkout(CheckoutLimits::default()).await;
    let long = "A".repeat(300);
    let cases = [
        ("/p/..%2F..%2Fetc%2Fpasswd", 404),
        ("/p/../../etc/passwd", 404),
        (&format!("/p/{long}") as &str, 400),
        ("/p/%00", 400),
        ("/p/%FF%FE", 400),
        ("/pay/..%2F..", 404),
        ("/etc/passwd", 404),
        ("/p/", 404),
    ];
    for (path, expected) in cases {
        // Sent as written, byte for byte (a client library would normalise it).
        let mut socket = TcpStream::connect(addr(&base)).await.unwrap();
        socket
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
            )
            .await
            .unwrap();
        let mut reply = Vec::new();
        socket.read_to_end(&mut reply).await.unwrap();
        let reply = String::from_utf8_lossy(&reply).to_string();
        let status: u16 = reply[9..12].parse().unwrap();
        assert_eq!(status, expected, "{path}: {reply}");
    }
    assert_eq!(shop.orders.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_body_that_never_arrives_gets_408_after_the_request_deadline() {
    let limits = CheckoutLimits {
        request_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let (_mode, _server, shop, base) = checkout(limits).await;
    let mut socket = TcpStream::connect(addr(&base)).await.unwrap();
    socket
        .write_all(
            b"POST /p/TEA-1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ncsrf=",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut reply = vec![0u8; 12];
    tokio::time::timeout(Duration::from_secs(5), socket.read_exact(&mut reply))
        .await
        .expect("answered, not left hanging")
        .unwrap();
    assert_eq!(&reply[9..12], b"408", "{}", String::from_utf8_lossy(&reply));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(shop.orders.load(Ordering::SeqCst), 0);
}
