//! The HTTP plumbing every provider shares: one client configuration, and one mapping from
//! transport failures and HTTP statuses to [`ProviderError`], so that 429/5xx/timeouts mean
//! the same thing whichever provider returned them.

use std::time::Duration;

use crate::provider::{ProviderError, ProviderKind};

/// Per-request timeout: a till should not hang on a provider.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The largest reply body read from a provider (see [`shopcast_net::MAX_BODY_BYTES`]).
pub const MAX_BODY_BYTES: usize = shopcast_net::MAX_BODY_BYTES;

/// Checks that `url` (a provider's API base or gateway, named `what` in the sentence) is
/// https, or plain http on this computer only (127.0.0.1, ::1, localhost: local test
/// peers). Anything else would send keys and payments in clear across a network.
pub fn check_remote_url(
    provider: ProviderKind,
    what: &str,
    url: &reqwest::Url,
) -> Result<(), ProviderError> {
    shopcast_net::require_https_or_loopback(url).map_err(|_| ProviderError::Config {
        provider,
        detail: format!(
            "The {what} {url} must start with https:// (plain http:// is only allowed for \
             this computer: 127.0.0.1, ::1 or localhost)."
        ),
    })
}

/// Builds the HTTP client providers use (rustls on ring, a timeout, a user agent).
pub fn client() -> reqwest::Client {
    // reqwest is built without a default crypto provider; installing ring twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("Shopcast/", env!("CARGO_PKG_VERSION")))
        // A redirect may not lead a key from https to plain http elsewhere.
        .redirect(shopcast_net::redirect_policy())
        .build()
        .expect("HTTP client configuration is static")
}

/// A response body as raw bytes, with its status, after transport errors were mapped.
pub struct RawResponse {
    /// The HTTP status.
    pub status: u16,
    /// The reply's headers (WeChat Pay signs replies in `Wechatpay-*` headers).
    pub headers: reqwest::header::HeaderMap,
    /// The body exactly as received (signatures are checked over these bytes).
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body as text (invalid UTF-8 replaced), for messages and raw records.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `request` and reads the body, at most [`MAX_BODY_BYTES`]. Transport failures become
/// `Unreachable`; 429 becomes `RateLimited` (with Retry-After when given, in seconds or as an
/// HTTP date); 5xx becomes `Server`; a body over the cap is `BadResponse`. Other statuses are
/// returned for the provider to interpret.
pub async fn send(
    provider: ProviderKind,
    request: reqwest::RequestBuilder,
) -> Result<RawResponse, ProviderError> {
    let response = request
        .send()
        .await
        .map_err(|err| unreachable(provider, &err))?;
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let headers = response.headers().clone();
    let body = shopcast_net::read_capped(response, MAX_BODY_BYTES)
        .await
        .map_err(|error| match error {
            shopcast_net::BodyError::TooLarge { max_bytes } => ProviderError::BadResponse {
                provider,
                detail: format!(
                    "the reply (HTTP {status}) is larger than {} KiB, far more than {provider} \
                     sends; {OVER_CAP}",
                    max_bytes / 1024
                ),
            },
            shopcast_net::BodyError::Transport(err) => unreachable(provider, &err),
        })?;
    match status {
        429 => Err(ProviderError::RateLimited {
            provider,
            retry_after,
        }),
        500..=599 => Err(ProviderError::Server {
            provider,
            status,
            body: truncate(&String::from_utf8_lossy(&body), 2_000),
        }),
        _ => Ok(RawResponse {
            status,
            headers,
            body,
        }),
    }
}

/// How a reply over the cap ends its sentence (see [`is_over_cap`]).
const OVER_CAP: &str = "Shopcast stopped reading it";

/// Whether `error` is a reply refused for being over the body cap, so a caller that can ask
/// for less (a smaller page) may do so.
pub fn is_over_cap(error: &ProviderError) -> bool {
    matches!(error, ProviderError::BadResponse { detail, .. } if detail.ends_with(OVER_CAP))
}

/// The detail of an `Unreachable` whose connection was never made (see [`never_sent`]).
const NEVER_SENT: &str = "connection failed";

/// Whether `error` means the request never left this computer (refused connection, DNS,
/// TLS): no trade can exist at the provider. A timeout or a dropped answer may have arrived.
pub fn never_sent(error: &ProviderError) -> bool {
    matches!(error, ProviderError::Unreachable { detail, .. } if detail == NEVER_SENT)
}

fn unreachable(provider: ProviderKind, err: &reqwest::Error) -> ProviderError {
    let detail = if err.is_timeout() {
        "timed out".to_string()
    } else if err.is_connect() {
        NEVER_SENT.to_string()
    } else if let Some(refused) = shopcast_net::refused_redirect(err) {
        refused
    } else {
        // Without the URL: it may carry query parameters we do not want in logs.
        err.without_url_ref().to_string()
    };
    ProviderError::Unreachable { provider, detail }
}

trait WithoutUrlRef {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut text = self.to_string();
        if let Some(url) = self.url() {
            text = text.replace(url.as_str(), "<url>");
        }
        text
    }
}

/// Parses `Retry-After` (delta seconds or HTTP date) and Stripe/Mastodon-style
/// `RateLimit-Reset` seconds.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)
        .or_else(|| headers.get("ratelimit-reset"))?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds.min(3_600)));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = when.duration_since(jiff::Timestamp::now());
    Some(Duration::from_secs(wait.as_secs().clamp(0, 3_600) as u64))
}

/// `text` cut to at most `max_bytes` (on a character boundary) plus a marker saying how long
/// it was, for provider replies kept in the shop's database.
pub fn cut(text: &str, max_bytes: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max_bytes {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!(
        "{}…[cut by Shopcast: {} bytes in all]",
        &text[..end],
        text.len()
    ))
}

/// Shortens provider text kept in errors (bodies can be large HTML pages).
pub fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
