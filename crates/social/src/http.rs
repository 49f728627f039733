//! HTTP plumbing shared by the network modules: one client configuration (https only, except
//! on this machine), replies read up to a cap, and one mapping of failures to [`PublishError`].

use std::time::Duration;

use crate::publisher::PublishError;

pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The most of a reply Shopcast reads. Every reply the networks send us is JSON (photos go
/// up, none come down), so 1 MiB is far above any real one and bounds a hostile server.
pub const MAX_REPLY_BYTES: usize = 1024 * 1024;

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("Shopcast/", env!("CARGO_PKG_VERSION")))
        // A redirect may not lead a token from https to plain http elsewhere.
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= 10 {
                attempt.error("too many redirects")
            } else if is_secure_or_local(attempt.url()) {
                attempt.follow()
            } else {
                attempt.error("a redirect to plain http:// outside this computer")
            }
        }))
        .build()
        .expect("HTTP client configuration is static")
}

/// https anywhere, http only to this computer (127.0.0.0/8, ::1, localhost: test peers).
pub fn is_secure_or_local(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// Checks a server address the owner typed (PDS, Mastodon instance) before any credential is
/// sent to it: a URL, https unless it is on this computer.
pub fn secure_base(what: &str, address: &str) -> Result<String, PublishError> {
    let trimmed = address.trim().trim_end_matches('/');
    let url = url::Url::parse(trimmed)
        .ok()
        .filter(|url| url.has_host() && matches!(url.scheme(), "http" | "https"))
        .ok_or_else(|| PublishError::Invalid(format!("“{address}” is not a {what} address.")))?;
    if !is_secure_or_local(&url) {
        return Err(PublishError::Invalid(format!(
            "“{address}” uses plain http://, which would send your password or token \
             unencrypted. Use the https:// address of the {what}."
        )));
    }
    Ok(trimmed.to_string())
}

/// The non-empty string field `name` of a JSON reply, if the reply has one.
pub(crate) fn json_text(json: Option<&serde_json::Value>, name: &str) -> Option<String> {
    json.and_then(|j| j.get(name))
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A count or code sent as a JSON number or as a string of digits (Weibo sends both).
pub(crate) fn json_u64(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub struct RawResponse {
    pub status: u16,
    pub body: Vec<u8>,
    pub headers: reqwest::header::HeaderMap,
}

impl RawResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `request`; transport errors → `Unreachable`, 429 → `RateLimited` (Retry-After or
/// RateLimit-Reset), 5xx → `Server`. Other statuses are for the network module to read.
pub async fn send(
    network: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<RawResponse, PublishError> {
    let mut response = request.send().await.map_err(|e| unreachable(network, &e))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let too_large = || PublishError::BadResponse {
        network,
        detail: format!(
            "the reply is larger than {} KiB, more than any real reply; Shopcast stopped reading it",
            MAX_REPLY_BYTES / 1024
        ),
    };
    if response
        .content_length()
        .is_some_and(|length| length > MAX_REPLY_BYTES as u64)
    {
        return Err(too_large());
    }
    // Read chunk by chunk: a server that lies about (or omits) its length still stops at the cap.
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| unreachable(network, &e))?
    {
        if body.len() + chunk.len() > MAX_REPLY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    match status {
        429 => Err(PublishError::RateLimited {
            network,
            retry_after: retry_after(&headers),
        }),
        500..=599 => Err(PublishError::Server {
            network,
            status,
            body: String::from_utf8_lossy(&body).chars().take(2_000).collect(),
        }),
        _ => Ok(RawResponse {
            status,
            body,
            headers,
        }),
    }
}

fn unreachable(network: &'static str, err: &reqwest::Error) -> PublishError {
    let detail = if err.is_timeout() {
        "timed out".to_string()
    } else if err.is_connect() {
        "connection failed".to_string()
    } else {
        "the connection broke".to_string()
    };
    PublishError::Unreachable { network, detail }
}

/// `Retry-After` (seconds or HTTP date), else `RateLimit-Reset` / `ratelimit-reset` (Bluesky
/// sends a unix time, Mastodon an ISO date; small numbers are taken as seconds to wait).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let now = jiff::Timestamp::now();
    let cap = |d: Duration| d.min(Duration::from_secs(3_600));
    if let Some(value) = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
    {
        if let Ok(seconds) = value.trim().parse::<u64>() {
            return Some(cap(Duration::from_secs(seconds)));
        }
        if let Ok(date) = jiff::fmt::rfc2822::parse(value.trim()) {
            let wait = date.timestamp().duration_since(now).as_secs().max(0) as u64;
            return Some(cap(Duration::from_secs(wait)));
        }
    }
    let reset = headers
        .get("ratelimit-reset")
        .or_else(|| headers.get("x-ratelimit-reset"))
        .and_then(|v| v.to_str().ok())?
        .trim()
        .to_string();
    if let Ok(number) = reset.parse::<i64>() {
        let wait = if number > 1_000_000_000 {
            number - now.as_second()
        } else {
            number
        };
        return Some(cap(Duration::from_secs(wait.max(0) as u64)));
    }
    let when: jiff::Timestamp = reset.parse().ok()?;
    Some(cap(Duration::from_secs(
        when.duration_since(now).as_secs().max(0) as u64,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that answers every request with `head` then `body_len` bytes of `x`, written in
    /// 64 KiB pieces (with `chunked`, as HTTP chunks with no length given).
    async fn serve(body_len: usize, chunked: bool) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    let _ = socket.read(&mut request).await;
                    let head = if chunked {
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_string()
                    } else {
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {body_len}\r\n\r\n"
                        )
                    };
                    if socket.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    let piece = vec![b'x'; 64 * 1024];
                    let mut left = body_len;
                    while left > 0 {
                        let n = left.min(piece.len());
                        let written = if chunked {
                            let mut framed = format!("{n:x}\r\n").into_bytes();
                            framed.extend_from_slice(&piece[..n]);
                            framed.extend_from_slice(b"\r\n");
                            socket.write_all(&framed).await
                        } else {
                            socket.write_all(&piece[..n]).await
                        };
                        if written.is_err() {
                            return; // the client stopped reading: what the cap is for
                        }
                        left -= n;
                    }
                    if chunked {
                        let _ = socket.write_all(b"0\r\n\r\n").await;
                    }
                });
            }
        });
        format!("http://{addr}/")
    }

    async fn fetch(url: &str) -> Result<RawResponse, PublishError> {
        send("mastodon", client().get(url)).await
    }

    #[tokio::test]
    async fn replies_over_one_mib_are_refused_with_or_without_a_length() {
        let small = serve(MAX_REPLY_BYTES, false).await;
        assert_eq!(fetch(&small).await.unwrap().body.len(), MAX_REPLY_BYTES);
        let small_chunked = serve(MAX_REPLY_BYTES, true).await;
        assert_eq!(
            fetch(&small_chunked).await.unwrap().body.len(),
            MAX_REPLY_BYTES
        );
        for chunked in [false, true] {
            let url = serve(MAX_REPLY_BYTES + 1, chunked).await;
            let error = fetch(&url).await.err().expect("refused");
            assert_eq!(error.code(), "network_bad_response", "chunked: {chunked}");
            assert!(
                error.to_string().contains("larger than 1024 KiB"),
                "{error}"
            );
        }
        // A 64 MiB reply is refused without being read.
        let huge = serve(64 * 1024 * 1024, true).await;
        let started = std::time::Instant::now();
        assert!(fetch(&huge).await.is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn plain_http_is_only_for_this_computer() {
        let ok = |address: &str| secure_base("Mastodon server", address);
        assert_eq!(
            ok("http://127.0.0.1:3000/").unwrap(),
            "http://127.0.0.1:3000"
        );
        assert!(ok("http://127.1.2.3:3000").is_ok());
        assert!(ok("https://example.social").is_ok());
        let refused = ok("http://example.social").unwrap_err();
        assert_eq!(refused.code(), "post_invalid");
        assert!(
            refused.to_string().contains("plain http://")
                && refused.to_string().contains("https://"),
            "{refused}"
        );
        for bad in [
            "http://10.0.0.5",
            "http://localhost.example.social",
            "file:///etc",
            "bsky",
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_redirect_to_plain_http_elsewhere_is_not_followed() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 302 Found\r\nlocation: http://example.social/steal\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        let error = fetch(&format!("http://{addr}/"))
            .await
            .err()
            .expect("refused");
        assert_eq!(error.code(), "network_unreachable", "{error}");
    }
}
