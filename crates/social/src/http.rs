//! HTTP plumbing shared by the network modules: one client configuration and one mapping of
//! transport failures, 429 and 5xx to [`PublishError`].

use std::time::Duration;

use crate::publisher::PublishError;

pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("Shopcast/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("HTTP client configuration is static")
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
    let body = response
        .bytes()
        .await
        .map_err(|e| unreachable(network, &e))?
        .to_vec();
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
