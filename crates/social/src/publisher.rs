//! The network-neutral shape of a post and of publishing it.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    Bluesky,
    Mastodon,
    Weibo,
}

impl Network {
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Bluesky => "bluesky",
            Network::Mastodon => "mastodon",
            Network::Weibo => "weibo",
        }
    }

    /// The network's name as people write it.
    pub fn display_name(self) -> &'static str {
        match self {
            Network::Bluesky => "Bluesky",
            Network::Mastodon => "Mastodon",
            Network::Weibo => "Weibo",
        }
    }

    /// Whether a post sent twice with the same idempotency key is made once (Mastodon's
    /// `Idempotency-Key`, Bluesky's record key from it). Weibo has no such key: a send that
    /// got no answer may have posted, and must not be sent again by itself.
    pub fn has_idempotent_posts(self) -> bool {
        match self {
            Network::Bluesky | Network::Mastodon => true,
            Network::Weibo => false,
        }
    }

    pub fn parse(text: &str) -> Option<Network> {
        [Network::Bluesky, Network::Mastodon, Network::Weibo]
            .into_iter()
            .find(|n| n.as_str() == text)
    }

    /// The limits the network's publisher uses when it cannot be asked (the offline post
    /// preview): the same constants the publishers use, so preview and publisher agree.
    /// Mastodon's are its 4.x defaults ([`crate::mastodon::FALLBACK_LIMITS`]); an instance
    /// may say otherwise once it is asked.
    pub fn fallback_limits(self) -> NetworkLimits {
        match self {
            Network::Bluesky => crate::bluesky::limits(),
            Network::Mastodon => crate::mastodon::FALLBACK_LIMITS,
            Network::Weibo => crate::weibo::LIMITS,
        }
    }
}

/// What a network accepts, for the composer's live preview and for fitting images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkLimits {
    /// Longest text, counted the network's way (see [`crate::text::count`]).
    pub max_chars: usize,
    /// Characters one URL counts as (Mastodon 23), `None` when URLs count as written.
    pub url_chars: Option<usize>,
    pub max_images: usize,
    /// Largest image file accepted, in bytes.
    pub max_image_bytes: usize,
    /// Longest image side the network keeps (larger is downscaled anyway).
    pub max_image_side: u32,
}

/// One photo to attach: the original bytes (PNG/JPEG/WebP) and its alt text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostImage {
    pub bytes: Vec<u8>,
    pub alt: String,
}

/// A post to publish to one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRequest {
    /// Final text (template already filled), including the tracked buy link.
    pub text: String,
    /// The tracked buy link inside `text` (made a link facet on Bluesky).
    pub link: Option<String>,
    pub images: Vec<PostImage>,
    /// Stable per outbox entry: a retry with the same key can never create a second post
    /// (Mastodon `Idempotency-Key`; Bluesky record key derived from it).
    pub idempotency_key: String,
    /// BCP 47 language tags of the text ("zh", "en").
    pub languages: Vec<String>,
}

/// What the network answered once the post exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posted {
    /// The network's id (AT URI, Mastodon status id, Weibo idstr).
    pub remote_id: String,
    /// Public web URL of the post.
    pub url: String,
    /// The reply exactly as received.
    pub raw: String,
}

/// Secrets an account needs; held in memory only (the engine keeps them in the keychain).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credentials {
    /// Bluesky: handle + app password; `session` is the last access/refresh JWT pair.
    AppPassword {
        service: String,
        handle: String,
        app_password: String,
    },
    /// Mastodon and Weibo: an OAuth2 bearer token.
    OAuth {
        instance: String,
        access_token: String,
        /// When the token lapses (Weibo), UTC unix seconds.
        expires_at: Option<i64>,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::AppPassword {
                service, handle, ..
            } => f
                .debug_struct("AppPassword")
                .field("service", service)
                .field("handle", handle)
                .finish_non_exhaustive(),
            Credentials::OAuth { instance, .. } => f
                .debug_struct("OAuth")
                .field("instance", instance)
                .finish_non_exhaustive(),
        }
    }
}

/// Why publishing failed. [`PublishError::is_retryable`] tells the outbox whether to try
/// again later or stop and show the owner.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("could not reach {network}: {detail}")]
    Unreachable {
        network: &'static str,
        detail: String,
    },
    /// The request went out but no answer came (timed out, connection broken): the network
    /// may have acted on it. Retried only where a retry cannot duplicate (see
    /// [`PublishError::after_sending`]).
    #[error("no answer from {network}: {detail}")]
    NoAnswer {
        network: &'static str,
        detail: String,
    },
    /// A post sent to a network without idempotent posts got no answer: it may be online.
    #[error(
        "{} did not answer after the post was sent ({detail}): it may have been posted. \
         Check {} before retrying.",
        network.display_name(),
        network.display_name()
    )]
    MaybePosted { network: Network, detail: String },
    #[error("{network} asks us to slow down")]
    RateLimited {
        network: &'static str,
        retry_after: Option<Duration>,
    },
    #[error("{network} had a server error (HTTP {status})")]
    Server {
        network: &'static str,
        status: u16,
        body: String,
    },
    #[error("{network} sent a reply we could not read: {detail}")]
    BadResponse {
        network: &'static str,
        detail: String,
    },
    /// The account must be connected again (revoked app password, expired token).
    #[error("{network} needs you to reconnect the account: {message}")]
    Reconnect {
        network: &'static str,
        message: String,
        raw: String,
    },
    /// The network refused this post (too long, image rejected, duplicate…).
    #[error("{network} refused the post: {message}")]
    Rejected {
        network: &'static str,
        code: String,
        message: String,
        raw: String,
    },
    /// Caught before sending: the post breaks the network's rules.
    #[error("{0}")]
    Invalid(String),
}

impl PublishError {
    /// Every code [`Self::code`] can return (the engine maps each into its vocabulary).
    pub const CODES: &'static [&'static str] = &[
        "network_unreachable",
        "network_rate_limited",
        "network_server_error",
        "network_bad_response",
        "account_reconnect",
        "post_rejected",
        "post_invalid",
        "post_maybe_posted",
    ];

    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            PublishError::Unreachable { .. }
                | PublishError::NoAnswer { .. }
                | PublishError::RateLimited { .. }
                | PublishError::Server { .. }
                | PublishError::BadResponse { .. }
        )
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PublishError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            PublishError::Unreachable { .. } | PublishError::NoAnswer { .. } => {
                "network_unreachable"
            }
            PublishError::RateLimited { .. } => "network_rate_limited",
            PublishError::Server { .. } => "network_server_error",
            PublishError::BadResponse { .. } => "network_bad_response",
            PublishError::Reconnect { .. } => "account_reconnect",
            PublishError::Rejected { .. } => "post_rejected",
            PublishError::Invalid(_) => "post_invalid",
            PublishError::MaybePosted { .. } => "post_maybe_posted",
        }
    }

    /// This error as the outcome of publishing on `network`: no answer to a post on a network
    /// without idempotent posts is [`PublishError::MaybePosted`] (sending again could post
    /// twice); everything else is unchanged.
    pub fn after_sending(self, network: Network) -> PublishError {
        match self {
            PublishError::NoAnswer { detail, .. } if !network.has_idempotent_posts() => {
                PublishError::MaybePosted { network, detail }
            }
            other => other,
        }
    }

    /// The network's raw reply, for the owner's "details".
    pub fn raw(&self) -> Option<&str> {
        match self {
            PublishError::Reconnect { raw, .. } | PublishError::Rejected { raw, .. } => Some(raw),
            PublishError::Server { body, .. } => Some(body),
            _ => None,
        }
    }
}

/// One connected account on one network.
#[async_trait]
pub trait Publisher: Send + Sync {
    fn network(&self) -> Network;

    /// The account's limits (Mastodon reads them from the instance).
    async fn limits(&self) -> Result<NetworkLimits, PublishError>;

    /// Checks the post against the limits before anything is sent.
    fn validate(&self, request: &PostRequest, limits: &NetworkLimits) -> Result<(), PublishError> {
        crate::text::validate(self.network(), request, limits)
    }

    /// Publishes `request`. Must be idempotent on `request.idempotency_key`: if a previous
    /// attempt reached the network, return that post instead of creating another.
    async fn publish(&self, request: &PostRequest) -> Result<Posted, PublishError>;

    /// Who the account is, asked of the network with the account's credentials: the handle
    /// to show and keep (Bluesky: the session's handle; Mastodon: `acct`; Weibo: the uid).
    /// A credential the network no longer takes is [`PublishError::Reconnect`].
    ///
    /// The default says the publisher cannot tell (for publishers without such a call).
    async fn who_am_i(&self) -> Result<String, PublishError> {
        Err(PublishError::Invalid(format!(
            "Shopcast cannot ask {} which account this is.",
            self.network().display_name()
        )))
    }
}

impl PartialEq<&str> for Network {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bluesky::BlueskyPublisher;
    use crate::bluesky::Session;

    #[test]
    fn no_answer_is_maybe_posted_only_where_a_retry_could_post_twice() {
        let no_answer = || PublishError::NoAnswer {
            network: "x",
            detail: "timed out".into(),
        };
        for network in [Network::Bluesky, Network::Mastodon] {
            let error = no_answer().after_sending(network);
            assert!(error.is_retryable(), "{network:?}: {error}");
            assert_eq!(error.code(), "network_unreachable");
        }
        let weibo = no_answer().after_sending(Network::Weibo);
        assert!(!weibo.is_retryable());
        assert_eq!(weibo.code(), "post_maybe_posted");
        let refused = PublishError::Unreachable {
            network: "weibo",
            detail: "connection failed".into(),
        };
        assert!(refused.after_sending(Network::Weibo).is_retryable());
    }
    use crate::weibo::WeiboPublisher;

    async fn publisher_limits(publisher: &dyn Publisher) -> NetworkLimits {
        publisher.limits().await.unwrap()
    }

    #[tokio::test]
    async fn fallback_limits_are_the_publishers_own() {
        let weibo = WeiboPublisher::new(crate::weibo::API_BASE, "t", "shop.example.com");
        assert_eq!(Network::Weibo.fallback_limits().max_chars, 140);
        assert_eq!(
            Network::Weibo.fallback_limits(),
            publisher_limits(&weibo).await
        );

        let session = Session {
            did: "did:plc:shop".into(),
            handle: "shop.test".into(),
            access_jwt: "a".into(),
            refresh_jwt: "r".into(),
        };
        let bluesky = BlueskyPublisher::resume("https://bsky.social", session).unwrap();
        assert_eq!(Network::Bluesky.fallback_limits().max_chars, 300);
        assert_eq!(
            Network::Bluesky.fallback_limits(),
            publisher_limits(&bluesky).await
        );

        let mastodon = crate::mastodon::MastodonPublisher::new("social.example", "t")
            .unwrap()
            .with_limits(crate::mastodon::FALLBACK_LIMITS);
        assert_eq!(
            Network::Mastodon.fallback_limits(),
            NetworkLimits {
                max_chars: 500,
                url_chars: Some(23),
                max_images: 4,
                max_image_bytes: 16 * 1024 * 1024,
                max_image_side: 4096,
            }
        );
        assert_eq!(
            Network::Mastodon.fallback_limits(),
            publisher_limits(&mastodon).await
        );
    }

    struct Silent;

    #[async_trait]
    impl Publisher for Silent {
        fn network(&self) -> Network {
            Network::Mastodon
        }
        async fn limits(&self) -> Result<NetworkLimits, PublishError> {
            Ok(Network::Mastodon.fallback_limits())
        }
        async fn publish(&self, _: &PostRequest) -> Result<Posted, PublishError> {
            Err(PublishError::Invalid("no".into()))
        }
    }

    #[tokio::test]
    async fn who_am_i_defaults_to_saying_it_cannot_tell() {
        let err = Silent.who_am_i().await.unwrap_err();
        assert_eq!(err.code(), "post_invalid");
        assert!(err.to_string().contains("Mastodon"), "{err}");
    }
}
