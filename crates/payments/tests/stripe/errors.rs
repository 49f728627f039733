//! How Stripe's failures reach the watcher and the owner: retry (429, 5xx, unreadable, no
//! connection) or stop and say what to do (4xx with Stripe's error object).

use std::time::Duration;

use jiff::Timestamp;
use shopcast_payments::stripe::{StripeConfig, StripeProvider};
use shopcast_payments::{ChargeRequest, PaymentProvider, ProviderError, ProviderKind};

use crate::capture::{CaptureServer, Reply};

fn order() -> ChargeRequest {
    ChargeRequest {
        order_ref: "O-1".into(),
        amount_minor: 500,
        currency: "EUR".into(),
        subject: "Mug".into(),
        lines: vec![],
        expires_at: Timestamp::now(),
        source_tag: None,
        web: None,
    }
}

#[tokio::test]
async fn rate_limit_429_waits_as_long_as_stripe_asks() {
    let server = CaptureServer::always(
        Reply::json(
            429,
            r#"{"error": {"code": "rate_limit", "message": "Too many requests hit the API too quickly.", "type": "invalid_request_error"}}"#,
        )
        .with_header("retry-after", "3"),
    )
    .await;
    let err = server.provider().poll(None, &[]).await.unwrap_err();
    assert!(
        matches!(
            err,
            ProviderError::RateLimited {
                provider: ProviderKind::Stripe,
                retry_after: Some(wait),
            } if wait == Duration::from_secs(3)
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn server_error_500_is_retried() {
    let server = CaptureServer::always(Reply::json(
        500,
        r#"{"error": {"message": "An unknown error occurred", "type": "api_error"}}"#,
    ))
    .await;
    let err = server.provider().create_charge(&order()).await.unwrap_err();
    assert!(
        matches!(&err, ProviderError::Server { status: 500, body, .. } if body.contains("api_error")),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn garbage_200_is_a_bad_response() {
    let server = CaptureServer::always(Reply {
        status: 200,
        headers: vec![("content-type", "text/html".into())],
        body: "<html>captive portal: please log in</html>".into(),
    })
    .await;
    let provider = server.provider();
    let polled = provider.poll(None, &[]).await.unwrap_err();
    let created = provider.create_charge(&order()).await.unwrap_err();
    for err in [polled, created] {
        assert!(matches!(err, ProviderError::BadResponse { .. }), "{err:?}");
        assert!(err.is_retryable());
        assert!(err.to_string().contains("captive portal"), "{err}");
    }
}

#[tokio::test]
async fn wrong_key_401_is_rejected_with_a_plain_sentence() {
    // Stripe's documented reply to a bad key: no `code`, only a message.
    let raw = r#"{"error": {"message": "Invalid API Key provided: sk_test_********************ogLe", "type": "invalid_request_error"}}"#;
    let server = CaptureServer::always(Reply::json(401, raw)).await;
    let err = server.provider().poll(None, &[]).await.unwrap_err();
    let ProviderError::Rejected {
        provider,
        code,
        message,
        raw: kept,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(*provider, ProviderKind::Stripe);
    assert_eq!(code, "authentication_required");
    assert!(
        message.starts_with("Stripe rejected the secret key."),
        "{message}"
    );
    assert!(message.contains("Invalid API Key provided"), "{message}");
    assert_eq!(kept, raw);
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn stripe_error_code_and_message_are_kept() {
    let raw = r#"{"error": {"code": "amount_too_small", "doc_url": "https://stripe.com/docs/error-codes/amount-too-small", "message": "Amount must be at least ¥4.00 cny", "param": "line_items[0][price_data][unit_amount]", "type": "invalid_request_error"}}"#;
    let server = CaptureServer::always(Reply::json(400, raw)).await;
    let err = server.provider().create_charge(&order()).await.unwrap_err();
    assert!(
        matches!(
            &err,
            ProviderError::Rejected { code, message, raw: kept, .. }
                if code == "amount_too_small" && message == "Amount must be at least ¥4.00 cny" && kept == raw
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn nothing_listening_is_unreachable_and_retried() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let provider = StripeProvider::new(StripeConfig {
        api_base: format!("http://127.0.0.1:{closed}").parse().unwrap(),
        ..StripeConfig::new("sk_test_x")
    })
    .unwrap();
    let err = provider.poll(None, &[]).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unreachable { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(!err.to_string().contains("sk_test_x"));
}

fn provider_at(base: &str) -> Result<StripeProvider, ProviderError> {
    StripeProvider::new(StripeConfig {
        api_base: reqwest::Url::parse(base).unwrap(),
        ..StripeConfig::new("sk_test_edges")
    })
}

/// A reply bigger than any Stripe sends stops being read at 1 MiB: refused whole, with a
/// sentence, whether its length is announced or not.
#[tokio::test]
async fn a_reply_over_1_mib_is_refused_unread() {
    let huge = format!(
        r#"{{"object":"list","has_more":false,"data":[],"pad":"{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let server = CaptureServer::always(Reply::json(200, huge.clone())).await;
    let err = server.provider().poll(None, &[]).await.unwrap_err();
    assert!(matches!(err, ProviderError::BadResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("larger than 1024 KiB"), "{err}");

    // The poll asked again for smaller pages (100, 50, … 1) before giving up.
    let limits: Vec<_> = server
        .requests()
        .iter()
        .map(|request| request.query_value("limit").unwrap().to_string())
        .collect();
    assert_eq!(limits, ["100", "50", "25", "12", "6", "3", "1"]);

    // No Content-Length: the body ends when the connection closes, read chunk by chunk.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let most_sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = most_sent.clone();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
            socket.write_all(head.as_bytes()).await.unwrap();
            // 64 MiB on offer; the client must hang up long before.
            let chunk = vec![b' '; 64 * 1024];
            let mut sent = 0;
            for _ in 0..1024 {
                if socket.write_all(&chunk).await.is_err() {
                    break;
                }
                sent += chunk.len();
            }
            counter.fetch_max(sent, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let err = provider_at(&base)
        .unwrap()
        .poll(None, &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("larger than 1024 KiB"), "{err}");
    let sent = most_sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        sent < 16 * 1024 * 1024,
        "{sent} bytes went out before the client hung up"
    );
}

/// A full page of events heavy with metadata may pass 1 MiB: the poll asks for fewer per
/// page instead of stalling, and every event still arrives.
#[tokio::test]
async fn a_page_too_big_for_the_cap_is_asked_for_again_in_smaller_pages() {
    let events: Vec<String> = (0..40)
        .map(|n| {
            format!(
                r#"{{"id":"evt_{n:02}","object":"event","type":"payment_intent.succeeded","created":{},"data":{{"object":{{"id":"pi_{n}","object":"payment_intent","amount":100,"amount_received":100,"currency":"eur","metadata":{{"note":"{}"}}}}}}}}"#,
                1_790_000_000 + n,
                "m".repeat(40 * 1024)
            )
        })
        .collect();
    let server = CaptureServer::start(move |request| {
        let limit: usize = request.query_value("limit").unwrap().parse().unwrap();
        let start = match request.query_value("starting_after") {
            Some(after) => {
                events
                    .iter()
                    .position(|e| e.contains(&format!(r#""id":"{after}""#)))
                    .unwrap()
                    + 1
            }
            None => 0,
        };
        let page: Vec<&str> = events
            .iter()
            .skip(start)
            .take(limit)
            .map(String::as_str)
            .collect();
        let has_more = start + page.len() < events.len();
        Reply::json(
            200,
            format!(
                r#"{{"object":"list","has_more":{has_more},"data":[{}]}}"#,
                page.join(",")
            ),
        )
    })
    .await;
    let outcome = server.provider().poll(None, &[]).await.unwrap();
    assert_eq!(outcome.events.len(), 40);
    assert!(outcome.unreadable.is_empty());
}

/// Keys and payments never cross a network in clear: plain http is for this computer only.
#[test]
fn the_api_base_must_be_https_unless_it_is_this_computer() {
    for refused in [
        "http://example.com",
        "http://api.stripe.com",
        "http://10.0.0.5:12111",
        "http://localhost.example.com",
        "ftp://127.0.0.1",
    ] {
        match provider_at(refused) {
            Err(ProviderError::Config { detail, .. }) => {
                assert!(detail.contains("https://"), "{refused}: {detail}");
            }
            other => panic!("{refused}: {other:?}"),
        }
    }
    for allowed in [
        "https://api.stripe.com",
        "http://127.0.0.1:12111",
        "http://localhost:12111",
        "http://[::1]:12111",
    ] {
        provider_at(allowed).unwrap_or_else(|err| panic!("{allowed}: {err}"));
    }
}

#[tokio::test]
async fn a_redirect_to_plain_http_elsewhere_is_not_followed() {
    let server = CaptureServer::always(
        Reply::json(302, "").with_header("location", "http://example.invalid/v1/events"),
    )
    .await;
    let err = server.provider().poll(None, &[]).await.unwrap_err();
    assert_eq!(err.code(), "provider_unreachable", "{err:?}");
    assert!(
        err.to_string()
            .contains("a redirect to plain http:// outside this computer was not followed"),
        "{err}"
    );
    // Stripe was asked once; example.invalid never (it does not resolve: a follow would say so).
    assert_eq!(server.requests().len(), 1);
}
