//! Who is asking: the client address rate limits count (the peer, or behind a trusted proxy
//! the address it forwarded) and whether the browser is on a phone (Alipay wap vs page).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// Whether a User-Agent is a phone's (Alipay 手机网站支付 rather than 电脑网站支付).
/// iPads and Android tablets count as phones: they get the touch checkout too.
pub fn is_phone(user_agent: &str) -> bool {
    [
        "Mobi",
        "Android",
        "iPhone",
        "iPad",
        "iPod",
        "HarmonyOS",
        "AlipayClient",
        "MicroMessenger",
    ]
    .iter()
    .any(|word| user_agent.contains(word))
}

/// The client a request counts for: the peer, or with `trust_proxy` the last address in the
/// last `X-Forwarded-For` (the one the proxy added; those before it are the client's own
/// claims). When that entry is not a plain IP address, the peer: never an earlier entry.
pub(crate) fn client_ip(peer: SocketAddr, headers: &HeaderMap, trust_proxy: bool) -> IpAddr {
    if !trust_proxy {
        return peer.ip();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.rsplit(',').next())
        .and_then(|last| last.trim().parse::<IpAddr>().ok())
        .unwrap_or(peer.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_and_computers() {
        assert!(is_phone(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
        ));
        assert!(is_phone(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36"
        ));
        assert!(!is_phone(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537.36"
        ));
        assert!(!is_phone(""));
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.9".parse().unwrap());
        assert_eq!(client_ip(peer, &headers, false), peer.ip());
        assert_eq!(
            client_ip(peer, &headers, true),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(peer, &HeaderMap::new(), true), peer.ip());
    }

    #[test]
    fn only_the_last_forwarded_entry_counts_else_the_peer() {
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let forwarded = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("x-forwarded-for", value.parse().unwrap());
            client_ip(peer, &headers, true)
        };
        // The client's own claim before an entry the proxy could not name is not taken.
        assert_eq!(forwarded("1.2.3.4, unknown"), peer.ip());
        assert_eq!(forwarded("1.2.3.4, 5.6.7.8:1234"), peer.ip());
        assert_eq!(forwarded("1.2.3.4,"), peer.ip());
        assert_eq!(
            forwarded("1.2.3.4, 2001:db8::1"),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        // Two headers: the proxy's is the last one.
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", "9.9.9.9".parse().unwrap());
        headers.append("x-forwarded-for", "1.2.3.4, junk".parse().unwrap());
        assert_eq!(client_ip(peer, &headers, true), peer.ip());
        headers.append("x-forwarded-for", "203.0.113.7".parse().unwrap());
        assert_eq!(
            client_ip(peer, &headers, true),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
    }
}
