//! The network edge: every remote client (payment providers, microblog networks) gets https unless
//! the peer is on this computer, no redirect to plain http elsewhere, replies read up to a cap;
//! every page Shopcast serves gets one hardened [`server`], [`rate`] limits, single-use
//! [`forms`] tokens and one [`html`] escape.

pub mod forms;
pub mod html;
pub mod rate;
pub mod server;

use reqwest::Url;

/// The most of a reply a client reads by default. Every reply the providers and networks send
/// is JSON of a few KiB (a page of 100 Stripe events stays well under it). Photos only go up
/// (Bluesky uploadBlob, Mastodon media) and the answers to those uploads are JSON too, so the
/// same cap holds for them; it bounds a hostile or broken server.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Redirects followed at most, as reqwest's default policy.
const MAX_REDIRECTS: usize = 10;

/// Why a reply body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Announced or found larger than the cap: refused at the cap, the rest is never read.
    #[error("the reply is larger than {} KiB", max_bytes / 1024)]
    TooLarge { max_bytes: usize },
    /// The connection failed while the body was read.
    #[error(transparent)]
    Transport(#[from] reqwest::Error),
}

/// Reads `response`'s body, at most `max_bytes`. Refused before reading when the length is
/// announced; counted chunk by chunk otherwise, so a server that lies about (or omits) its
/// length still stops at the cap.
pub async fn read_capped(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > max_bytes as u64)
    {
        return Err(BodyError::TooLarge { max_bytes });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > max_bytes {
            return Err(BodyError::TooLarge { max_bytes });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A URL that would send keys or tokens in clear across a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url} is neither https:// nor plain http:// on this computer")]
pub struct InsecureUrl {
    pub url: String,
}

/// https with a host anywhere; plain http only to this computer (127.0.0.0/8, ::1, localhost:
/// local test peers).
pub fn is_https_or_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" => !host.is_empty(),
        "http" => {
            host.eq_ignore_ascii_case("localhost")
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        _ => false,
    }
}

/// [`is_https_or_loopback`] as a check, for an address the owner or a setting gave.
pub fn require_https_or_loopback(url: &Url) -> Result<(), InsecureUrl> {
    if is_https_or_loopback(url) {
        Ok(())
    } else {
        Err(InsecureUrl {
            url: url.to_string(),
        })
    }
}

/// What a redirect refused by [`redirect_policy`] says (in the reqwest error's source).
const REFUSED_REDIRECT: &str = "a redirect to plain http:// outside this computer";

/// The one redirect policy: at most 10, never from https to plain http off this computer (a
/// token or key would follow in clear).
pub fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if is_https_or_loopback(attempt.url()) {
            attempt.follow()
        } else {
            attempt.error(REFUSED_REDIRECT)
        }
    })
}

/// For an error of a request refused by [`redirect_policy`], why it was refused, in words
/// ("a redirect to plain http:// outside this computer was not followed").
pub fn refused_redirect(error: &reqwest::Error) -> Option<String> {
    let why = std::error::Error::source(error)
        .map_or_else(|| "a redirect".to_string(), |source| source.to_string());
    error
        .is_redirect()
        .then(|| format!("{why} was not followed"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn client() -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .redirect(redirect_policy())
            .build()
            .unwrap()
    }

    /// A server that answers every request with `body_len` bytes of `x`, written in 64 KiB
    /// pieces (with `chunked`, as HTTP chunks with no length given).
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

    async fn fetch(url: &str) -> Result<Vec<u8>, BodyError> {
        let response = client().get(url).send().await?;
        read_capped(response, MAX_BODY_BYTES).await
    }

    #[tokio::test]
    async fn replies_over_one_mib_are_refused_with_or_without_a_length() {
        for chunked in [false, true] {
            let exact = serve(MAX_BODY_BYTES, chunked).await;
            assert_eq!(fetch(&exact).await.unwrap().len(), MAX_BODY_BYTES);
            let over = serve(MAX_BODY_BYTES + 1, chunked).await;
            let error = fetch(&over).await.expect_err("refused");
            assert!(
                matches!(error, BodyError::TooLarge { max_bytes } if max_bytes == MAX_BODY_BYTES),
                "chunked {chunked}: {error}"
            );
            assert_eq!(error.to_string(), "the reply is larger than 1024 KiB");
        }
        // A 64 MiB reply is refused without being read.
        let huge = serve(64 * 1024 * 1024, true).await;
        let started = std::time::Instant::now();
        assert!(matches!(
            fetch(&huge).await,
            Err(BodyError::TooLarge { .. })
        ));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn plain_http_is_only_for_this_computer() {
        let ok = |address: &str| require_https_or_loopback(&Url::parse(address).unwrap());
        for good in [
            "http://127.0.0.1:3000/",
            "http://127.1.2.3:3000",
            "http://[::1]:8420/v1",
            "http://LOCALHOST:12111",
            "https://example.social",
            "https://api.stripe.com",
        ] {
            assert!(ok(good).is_ok(), "{good}");
        }
        for bad in [
            "http://10.0.0.5",
            "http://example.social",
            "http://localhost.example.social",
            "http://127.0.0.1.example.com",
            "ftp://127.0.0.1",
            "file:///etc/passwd",
        ] {
            let refused = ok(bad).unwrap_err();
            assert!(refused.to_string().contains("https://"), "{refused}");
        }
    }

    /// A local server that redirects every request to `location`.
    async fn redirecting_to(location: &'static str) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let reply = format!(
                    "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n"
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            }
        });
        format!("http://{addr}/")
    }

    #[tokio::test]
    async fn a_redirect_to_plain_http_elsewhere_is_not_followed() {
        let url = redirecting_to("http://example.invalid/steal").await;
        let error = client().get(&url).send().await.expect_err("refused");
        assert!(error.is_redirect(), "{error:?}");
        assert_eq!(
            refused_redirect(&error).as_deref(),
            Some("a redirect to plain http:// outside this computer was not followed")
        );
    }
}
