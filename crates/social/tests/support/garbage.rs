//! A local HTTP server (real socket) that answers every request with one scripted reply:
//! the HTML error pages, garbage and wrong types a broken or hostile network may send.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use shopcast_social::PostRequest;

/// A text post with a link, what every network client is asked to publish.
pub fn post() -> PostRequest {
    PostRequest {
        text: "新茶 New tea https://shop.example.com/p/1".into(),
        link: Some("https://shop.example.com/p/1".into()),
        images: Vec::new(),
        idempotency_key: "bad-input-1".into(),
        languages: vec!["zh".into()],
    }
}

/// One scripted reply: status, content type, body.
#[derive(Debug, Clone)]
pub struct Garbage {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Garbage {
    pub fn json(status: u16, body: &str) -> Garbage {
        Garbage {
            status,
            content_type: "application/json",
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn html(status: u16, body: &str) -> Garbage {
        Garbage {
            status,
            content_type: "text/html; charset=utf-8",
            body: body.as_bytes().to_vec(),
        }
    }
}

pub const ERROR_PAGE: &str = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";

/// The replies every network client must survive, with the error code each must give.
pub fn replies(bad: &'static str) -> Vec<(&'static str, Garbage, &'static str)> {
    vec![
        (
            "401 HTML",
            Garbage::html(401, ERROR_PAGE),
            "account_reconnect",
        ),
        (
            "HTML error page, 502",
            Garbage::html(502, ERROR_PAGE),
            "network_server_error",
        ),
        (
            "HTML error page, 503",
            Garbage::html(503, "<h1>Maintenance</h1>"),
            "network_server_error",
        ),
        (
            "HTML login page, 200",
            Garbage::html(200, "<html><form action=/login></form></html>"),
            bad,
        ),
        (
            "captive portal, 200",
            Garbage::html(
                200,
                "<meta http-equiv=refresh content='0;url=http://wifi.login/'>",
            ),
            bad,
        ),
        ("200 empty", Garbage::json(200, ""), bad),
        (
            "200 truncated JSON",
            Garbage::json(200, r#"{"id":"1","url":"#),
            bad,
        ),
        ("200 JSON null", Garbage::json(200, "null"), bad),
        ("200 JSON array", Garbage::json(200, "[]"), bad),
        ("200 JSON number", Garbage::json(200, "42"), bad),
        ("200 JSON string", Garbage::json(200, "\"ok\""), bad),
        ("200 empty object", Garbage::json(200, "{}"), bad),
        (
            "200 binary",
            Garbage {
                status: 200,
                content_type: "application/octet-stream",
                body: vec![0, 159, 146, 150, 255],
            },
            bad,
        ),
        (
            "200 over the 1 MiB cap",
            Garbage::json(200, &format!("{{\"pad\":\"{}\"}}", "x".repeat(2 << 20))),
            bad,
        ),
        (
            "200 nested 10,000 deep",
            Garbage::json(
                200,
                &format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
            ),
            bad,
        ),
        (
            "500 garbage",
            Garbage::json(500, "\u{0}\u{0}"),
            "network_server_error",
        ),
        (
            "429 HTML",
            Garbage::html(429, "<h1>Too Many Requests</h1>"),
            "network_rate_limited",
        ),
    ]
}

/// Starts the server on 127.0.0.1; its base URL. It stops with the test's runtime.
pub async fn serve(reply: Garbage) -> String {
    let app = axum::Router::new().fallback(move || {
        let reply = reply.clone();
        async move {
            let mut response: Response =
                (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
            response.headers_mut().insert(
                HeaderName::from_static("content-type"),
                HeaderValue::from_static(reply.content_type),
            );
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}
