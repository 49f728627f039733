//! A counted corpus of hostile requests to the test checkout, sent byte for byte on a real
//! socket: bad methods, path tricks, forged forms, oversized and malformed requests. Each gets
//! a 4xx (with a sentence where the checkout itself answers) and no order or charge is made.

use std::sync::atomic::Ordering;

use shopcast_payments::testmode::CheckoutLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::tally::Tally;
use crate::{addr, checkout, field, http, page_text};

/// Sends `request` as written and reads the reply until the server closes: (status, body).
/// A server that closes without a reply gives status 0.
async fn send(base: &str, request: &[u8]) -> (u16, String) {
    let mut socket = TcpStream::connect(addr(base)).await.unwrap();
    // The server may stop reading (and close) before an oversized request is all written.
    let _ = socket.write_all(request).await;
    let mut reply = Vec::new();
    let _ = socket.read_to_end(&mut reply).await;
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = reply
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
}

fn post(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn method(verb: &str, path: &str) -> Vec<u8> {
    format!("{verb} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        .into_bytes()
}

/// Whether the refusal must carry the checkout's own sentence (the HTTP layer's own refusals,
/// such as 431 or a malformed request line, have no page).
#[derive(Clone, Copy, PartialEq)]
enum Says {
    Sentence,
    Status,
}

#[tokio::test]
async fn hostile_checkout_requests_are_refused_and_create_nothing() {
    let (mode, _server, shop, base) = checkout(CheckoutLimits::default()).await;
    let token = field(&page_text(&http(), format!("{base}/p/TEA-1")).await, "csrf").unwrap();
    let huge_header = format!(
        "GET /p/TEA-1 HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(100_000)
    );
    let many_headers = format!(
        "GET /p/TEA-1 HTTP/1.1\r\nHost: x\r\n{}Connection: close\r\n\r\n",
        (0..500)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );
    let smuggled = "POST /p/TEA-1 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: \
                    chunked\r\nConnection: close\r\n\r\nzz\r\n";
    let long_path = format!("/p/{}", "A".repeat(10_000));
    let cases: Vec<(&str, Vec<u8>, Says)> = vec![
        ("DELETE a product", method("DELETE", "/p/TEA-1"), Says::Status),
        ("PUT a product", method("PUT", "/p/TEA-1"), Says::Status),
        ("PATCH a product", method("PATCH", "/p/TEA-1"), Says::Status),
        ("TRACE", method("TRACE", "/p/TEA-1"), Says::Status),
        ("GET the pay action", get("/pay/abc/pay"), Says::Status),
        ("GET the decline action", get("/pay/abc/decline"), Says::Status),
        ("unknown verb", method("BREW", "/p/TEA-1"), Says::Status),
        ("buy without a form token", post("/p/TEA-1", ""), Says::Sentence),
        ("buy with an empty token", post("/p/TEA-1", "csrf="), Says::Sentence),
        ("buy with a forged token", post("/p/TEA-1", "csrf=1.abcdef"), Says::Sentence),
        ("buy with a token of more bytes", post("/p/TEA-1", &format!("csrf={token}00")), Says::Sentence),
        ("buy another product with this token", post("/p/OTHER", &format!("csrf={token}")), Says::Sentence),
        ("buy with JSON", b"POST /p/TEA-1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}".to_vec(), Says::Status),
        ("pay an unknown charge", post("/pay/nope/pay", &format!("csrf={token}")), Says::Status),
        ("decline an unknown charge", post("/pay/nope/decline", "csrf=x"), Says::Status),
        ("unknown product page", get("/p/NOPE"), Says::Sentence),
        ("dot-dot path", get("/p/../../etc/passwd"), Says::Status),
        ("encoded dot-dot", get("/p/..%2F..%2Fetc%2Fpasswd"), Says::Status),
        ("double slash", get("//p/TEA-1/../../admin"), Says::Status),
        ("NUL in the SKU", get("/p/TEA-1%00"), Says::Status),
        ("invalid UTF-8 SKU", get("/p/%FF%FE"), Says::Status),
        ("a 10,000-character path", get(&long_path), Says::Status),
        ("script in the SKU", get("/p/%3Cscript%3Ealert(1)%3C%2Fscript%3E"), Says::Status),
        ("pay page path trick", get("/pay/..%2F..%2F"), Says::Status),
        ("a 100 KB header", huge_header.into_bytes(), Says::Status),
        ("500 headers", many_headers.into_bytes(), Says::Status),
        ("both lengths (smuggling)", smuggled.as_bytes().to_vec(), Says::Status),
        ("garbage request line", b"GARBAGE\r\n\r\n".to_vec(), Says::Status),
        ("HTTP/9.9", b"GET /p/TEA-1 HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(), Says::Status),
        ("header without a colon", b"GET /p/TEA-1 HTTP/1.1\r\nHost x\r\n\r\n".to_vec(), Says::Status),
        ("NUL in the request line", b"GET /p/TEA\0-1 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), Says::Status),
        ("negative Content-Length", b"POST /p/TEA-1 HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_vec(), Says::Status),
        ("body longer than a form", post("/p/TEA-1", &format!("csrf={token}&pad={}", "x".repeat(200_000))), Says::Status),
    ];
    let mut tally = Tally::new("test checkout requests");
    for (name, request, says) in cases {
        let before = (shop.orders.load(Ordering::SeqCst), mode.held());
        let (status, body) = send(&base, &request).await;
        let refused = (400..500).contains(&status) || (status == 0 && says == Says::Status);
        let explained = says == Says::Status || !body.trim().is_empty();
        tally.check(name, refused && explained, || {
            format!("status {status}: {body:.200}")
        });
        tally.also(
            name,
            !body.contains("root:") && !body.contains("<script>alert"),
            || format!("the page echoes the attack: {body:.200}"),
        );
        let after = (shop.orders.load(Ordering::SeqCst), mode.held());
        tally.also(name, after == before, || {
            format!("orders and held charges went from {before:?} to {after:?}")
        });
    }
    let tried = tally.finish();
    assert!(tried >= 30, "{tried}");
}
