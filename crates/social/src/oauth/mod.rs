//! OAuth2 sign-in shared by Mastodon and Weibo: PKCE, the authorize URL, catching the browser's
//! redirect on a loopback port (or reading a pasted code), and exchanging the code for a token.
//!
//! A connect runs: [`OAuthClient::start`] → open [`Authorization::url`] in the browser →
//! [`LoopbackCatcher::wait_for_code`] (or [`code_from_paste`]) → [`OAuthClient::exchange_code`].

mod pkce;
mod redirect;

use std::time::Duration;

use serde_json::Value;

use crate::http;
use crate::publisher::{Credentials, Network, PublishError};

pub use pkce::{Pkce, code_challenge, new_state};
pub use redirect::{LoopbackCatcher, code_from_paste};

/// Where the loopback catcher expects the browser: `http://127.0.0.1:<port>/callback`.
pub const CALLBACK_PATH: &str = "/callback";

/// The "show me the code" redirect URI for the paste fallback (Mastodon prints the code).
pub const OOB_REDIRECT_URI: &str = "urn:ietf:wg:oauth:2.0:oob";

/// Why connecting an account failed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("The sign-in was cancelled or refused ({0}). Start connecting again.")]
    Denied(String),
    #[error(
        "The sign-in reply does not belong to this sign-in (state mismatch). Start connecting again."
    )]
    StateMismatch,
    #[error("No sign-in reply arrived within {} s. Start connecting again.", .0.as_secs())]
    TimedOut(Duration),
    #[error(
        "No sign-in code found in {0:?}. Paste the code or the whole address the browser shows."
    )]
    NoCode(String),
    #[error("Shopcast could not listen for the sign-in reply on {addr}: {detail}")]
    Listen { addr: String, detail: String },
    /// The network's OAuth endpoint said no (bad code, unknown app, redirect not registered…).
    #[error("{network} refused the sign-in: {message}")]
    Refused {
        network: &'static str,
        status: u16,
        message: String,
        raw: String,
    },
    /// Transport, rate limit, 5xx or an unreadable reply — trying again may work.
    #[error(transparent)]
    Http(#[from] PublishError),
}

impl OAuthError {
    /// Every code [`Self::code`] can return besides those of [`PublishError::CODES`].
    pub const CODES: &'static [&'static str] = &[
        "oauth_denied",
        "oauth_state_mismatch",
        "oauth_timed_out",
        "oauth_no_code",
        "oauth_listen_failed",
        "oauth_refused",
    ];

    /// Machine-readable, for the UI's messages.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::Denied(_) => "oauth_denied",
            OAuthError::StateMismatch => "oauth_state_mismatch",
            OAuthError::TimedOut(_) => "oauth_timed_out",
            OAuthError::NoCode(_) => "oauth_no_code",
            OAuthError::Listen { .. } => "oauth_listen_failed",
            OAuthError::Refused { .. } => "oauth_refused",
            OAuthError::Http(inner) => inner.code(),
        }
    }

    /// The network's raw reply, for the owner's "details".
    pub fn raw(&self) -> Option<&str> {
        match self {
            OAuthError::Refused { raw, .. } => Some(raw),
            OAuthError::Http(inner) => inner.raw(),
            _ => None,
        }
    }
}

/// One OAuth2 app on one network: its endpoints and the app's id and secret.
#[derive(Clone)]
pub struct OAuthClient {
    pub network: Network,
    pub authorize_endpoint: String,
    pub token_endpoint: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    /// Space-separated; left out of the authorize URL when empty (Weibo needs none to post).
    pub scope: String,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("network", &self.network)
            .field("authorize_endpoint", &self.authorize_endpoint)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// A sign-in in progress: the URL to open, and what checks and finishes the reply.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub pkce: Pkce,
}

/// What the token endpoint granted.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub access_token: String,
    /// Seconds the token lives, when the network says (Weibo does; Mastodon tokens don't lapse).
    pub expires_in: Option<u64>,
    /// `expires_in` turned into UTC unix seconds at the moment the reply arrived.
    pub expires_at: Option<i64>,
    /// The reply exactly as received (Weibo adds `uid`).
    pub raw: String,
}

impl Token {
    /// The account's credentials on `instance` (the Mastodon instance, or Weibo's API base).
    pub fn credentials(&self, instance: &str) -> Credentials {
        Credentials::OAuth {
            instance: instance.to_string(),
            access_token: self.access_token.clone(),
            expires_at: self.expires_at,
        }
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("expires_in", &self.expires_in)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl OAuthClient {
    /// The authorize URL for `state` and `pkce` (response_type=code, S256).
    pub fn authorize_url(&self, state: &str, pkce: &Pkce) -> String {
        let mut url = self.authorize_endpoint.clone();
        url.push(if url.contains('?') { '&' } else { '?' });
        let mut query = url::form_urlencoded::Serializer::new(url);
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri);
        if !self.scope.is_empty() {
            query.append_pair("scope", &self.scope);
        }
        query
            .append_pair("state", state)
            .append_pair("code_challenge", pkce.challenge())
            .append_pair("code_challenge_method", "S256");
        query.finish()
    }

    /// Starts a sign-in with a fresh `state` and PKCE pair.
    pub fn start(&self) -> Authorization {
        let state = new_state();
        let pkce = Pkce::generate();
        Authorization {
            url: self.authorize_url(&state, &pkce),
            state,
            pkce,
        }
    }

    /// Trades the code from the redirect for an access token (`grant_type=authorization_code`).
    pub async fn exchange_code(&self, code: &str, pkce: &Pkce) -> Result<Token, OAuthError> {
        let network = self.network.as_str();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.redirect_uri),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("code_verifier", pkce.verifier()),
        ];
        let request = http::client().post(&self.token_endpoint).form(&form);
        let response = http::send(network, request).await?;
        let raw = response.text();
        let json: Option<Value> = serde_json::from_slice(&response.body).ok();
        let access_token = http::json_text(json.as_ref(), "access_token");
        match access_token {
            Some(access_token) if (200..300).contains(&response.status) => {
                // Weibo has sent expires_in both as a number and as a string.
                let expires_in = json
                    .as_ref()
                    .and_then(|j| j.get("expires_in"))
                    .and_then(http::json_u64);
                let expires_at =
                    expires_in.map(|seconds| jiff::Timestamp::now().as_second() + seconds as i64);
                Ok(Token {
                    access_token,
                    expires_in,
                    expires_at,
                    raw,
                })
            }
            _ if (200..300).contains(&response.status) => {
                Err(OAuthError::Http(PublishError::BadResponse {
                    network,
                    detail: "the token reply has no access_token".into(),
                }))
            }
            _ => {
                let field = |name: &str| http::json_text(json.as_ref(), name);
                let message = field("error_description")
                    .or_else(|| field("error"))
                    .unwrap_or_else(|| format!("HTTP {}", response.status));
                Err(OAuthError::Refused {
                    network,
                    status: response.status,
                    message,
                    raw,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn client() -> OAuthClient {
        OAuthClient {
            network: Network::Mastodon,
            authorize_endpoint: "https://social.example/oauth/authorize".into(),
            token_endpoint: "https://social.example/oauth/token".into(),
            client_id: "cid".into(),
            client_secret: "secret".into(),
            redirect_uri: "http://127.0.0.1:5555/callback".into(),
            scope: "read write:media".into(),
        }
    }

    #[test]
    fn authorize_url_carries_every_parameter() {
        let pkce = Pkce::from_verifier_bytes(&[7; 32]);
        let url = url::Url::parse(&client().authorize_url("st-1", &pkce)).unwrap();
        let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(url.path(), "/oauth/authorize");
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], "cid");
        assert_eq!(query["redirect_uri"], "http://127.0.0.1:5555/callback");
        assert_eq!(query["scope"], "read write:media");
        assert_eq!(query["state"], "st-1");
        assert_eq!(query["code_challenge"], pkce.challenge());
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query.len(), 7);

        let no_scope = OAuthClient {
            scope: String::new(),
            ..client()
        };
        assert!(!no_scope.authorize_url("s", &pkce).contains("scope="));
    }
}
