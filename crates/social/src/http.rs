//! HTTP plumbing shared by the network modules: one client configuration (https only, except
//! on this machine), replies read up to a cap, and one mapping of failures to [`PublishError`].

use std::time::Duration;

use crate::publisher::PublishError;

pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The most of a reply Shopcast reads. Every reply the networks send us is JSON (photos go
/// up to Bluesky's uploadBlob and Mastodon's media, and their answers are JSON too), so
/// [`shopcast_net::MAX_BODY_BYTES`] (1 MiB) is far above any real one.
pub const MAX_REPLY_BYTES: usize = shopcast_net::MAX_BODY_BYTES;

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("Shopcast/", env!("CARGO_PKG_VERSION")))
        // A redirect may not lead a token from https to plain http elsewhere.
        .redirect(shopcast_net::redirect_policy())
        .build()
        .expect("HTTP client configuration is static")
}

/// Checks a server address the owner typed (PDS, Mastodon instance) before any credential is
/// sent to it: a URL, https unless it is on this computer.
pub fn secure_base(what: &str, address: &str) -> Result<String, PublishError> {
    let trimmed = address.trim().trim_end_matches('/');
    let url = url::Url::parse(trimmed)
        .ok()
        .filter(|url| url.has_host() && matches!(url.scheme(), "http" | "https"))
        .ok_or_else(|| PublishError::Invalid(format!("“{address}” is not a {what} address.")))?;
    if shopcast_net::require_https_or_loopback(&url).is_err() {
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
    let response = request.send().await.map_err(|e| unreachable(network, &e))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = shopcast_net::read_capped(response, MAX_REPLY_BYTES)
        .await
        .map_err(|error| match error {
            shopcast_net::BodyError::TooLarge { max_bytes } => PublishError::BadResponse {
                network,
                detail: format!(
                    "the reply is larger than {} KiB, more than any real reply; Shopcast \
                     stopped reading it",
                    max_bytes / 1024
                ),
            },
            shopcast_net::BodyError::Transport(err) => unreachable(network, &err),
        })?;
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

/// A transport failure: before the request left (no connection, a refused redirect) it is
/// `Unreachable`; after (timed out, connection broken) it is `NoAnswer`, as the network may
/// have acted on it.
fn unreachable(network: &'static str, err: &reqwest::Error) -> PublishError {
    let before = |detail: String| PublishError::Unreachable { network, detail };
    // A connect timeout is a connect error too: checked first, it is "before".
    if err.is_connect() {
        before("connection failed".to_string())
    } else if let Some(refused) = shopcast_net::refused_redirect(err) {
        before(refused)
    } else if err.is_builder() {
        before("the request could not be made".to_string())
    } else {
        let detail = if err.is_timeout() {
            "timed out"
        } else {
            "the connection broke"
        };
        PublishError::NoAnswer {
            network,
            detail: detail.to_string(),
        }
    }
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

    /// A local server answering every request with `head` and `body_len` bytes of `x`.
    async fn answering(head: &'static str, body_len: usize) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let _ = socket.read(&mut [0u8; 4096]).await;
                let reply = format!("{head}content-length: {body_len}\r\n\r\n");
                let _ = socket.write_all(reply.as_bytes()).await;
                let _ = socket.write_all(&vec![b'x'; body_len]).await;
            }
        });
        format!("http://{addr}/")
    }

    /// The shared edge (shopcast-net) in this crate's words: over the cap is a bad response,
    /// a refused redirect is unreachable.
    #[tokio::test]
    async fn the_shared_edge_reads_as_network_errors() {
        let big = answering("HTTP/1.1 200 OK\r\n", MAX_REPLY_BYTES + 1).await;
        let error = send("mastodon", client().get(big)).await.err().unwrap();
        assert_eq!(error.code(), "network_bad_response", "{error}");
        assert!(
            error.to_string().contains("larger than 1024 KiB"),
            "{error}"
        );
        let away = answering(
            "HTTP/1.1 302 Found\r\nlocation: http://example.social/\r\n",
            0,
        );
        let error = send("mastodon", client().get(away.await))
            .await
            .err()
            .unwrap();
        assert_eq!(error.code(), "network_unreachable", "{error}");
    }
}
