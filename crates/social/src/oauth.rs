//! OAuth2 sign-in shared by Mastodon and Weibo: PKCE, the authorize URL, catching the browser's
//! redirect on a loopback port (or reading a pasted code), and exchanging the code for a token.
//!
//! A connect runs: [`OAuthClient::start`] → open [`Authorization::url`] in the browser →
//! [`LoopbackCatcher::wait_for_code`] (or [`code_from_paste`]) → [`OAuthClient::exchange_code`].

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::http;
use crate::publisher::{Credentials, Network, PublishError};

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

/// A PKCE pair (RFC 7636): the secret `code_verifier` and its S256 `code_challenge`.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkce {
    verifier: String,
    challenge: String,
}

impl Pkce {
    /// A fresh verifier: 32 bytes of OS randomness, base64url → 43 unreserved characters.
    pub fn generate() -> Pkce {
        Pkce::from_verifier_bytes(&random_bytes::<32>())
    }

    /// The verifier for `bytes` (RFC 7636 §4.1: base64url of the octets, no padding).
    pub fn from_verifier_bytes(bytes: &[u8; 32]) -> Pkce {
        let verifier = URL_SAFE_NO_PAD.encode(bytes);
        Pkce {
            challenge: code_challenge(&verifier),
            verifier,
        }
    }

    pub fn verifier(&self) -> &str {
        &self.verifier
    }

    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

/// S256: base64url (no padding) of SHA-256 over the ASCII verifier.
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A fresh `state` value: 16 bytes of OS randomness, base64url (URL-safe as is).
pub fn new_state() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<16>())
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // Without OS randomness a sign-in cannot be made safe; there is nothing to fall back to.
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
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
        let access_token = json
            .as_ref()
            .and_then(|j| j.get("access_token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty());
        match access_token {
            Some(access_token) if (200..300).contains(&response.status) => {
                // Weibo has sent expires_in both as a number and as a string.
                let expires_in = json
                    .as_ref()
                    .and_then(|j| j.get("expires_in"))
                    .and_then(|v| match v {
                        Value::Number(n) => n.as_u64(),
                        Value::String(s) => s.trim().parse().ok(),
                        _ => None,
                    });
                let expires_at =
                    expires_in.map(|seconds| jiff::Timestamp::now().as_second() + seconds as i64);
                Ok(Token {
                    access_token: access_token.to_string(),
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
                let field = |name: &str| {
                    json.as_ref()
                        .and_then(|j| j.get(name))
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                };
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

/// Listens on 127.0.0.1 for the one browser redirect that ends a sign-in.
pub struct LoopbackCatcher {
    listener: tokio::net::TcpListener,
    redirect_uri: String,
}

impl LoopbackCatcher {
    /// Binds 127.0.0.1:`port` (0 = any free port). Bind before registering the redirect URI:
    /// networks match it exactly, port included.
    pub async fn bind(port: u16) -> Result<LoopbackCatcher, OAuthError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let listener =
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| OAuthError::Listen {
                    addr: addr.to_string(),
                    detail: e.to_string(),
                })?;
        let port = listener
            .local_addr()
            .map_err(|e| OAuthError::Listen {
                addr: addr.to_string(),
                detail: e.to_string(),
            })?
            .port();
        Ok(LoopbackCatcher {
            listener,
            redirect_uri: format!("http://127.0.0.1:{port}{CALLBACK_PATH}"),
        })
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for `GET /callback?code=…&state=…`, answers the browser with a short page, and
    /// returns the code. The first callback decides: a wrong `state` or an `error` ends the wait.
    /// The future owns what it needs, so it can be spawned while the browser is opened.
    pub fn wait_for_code(
        self,
        expected_state: &str,
        timeout: Duration,
    ) -> impl Future<Output = Result<String, OAuthError>> + Send + 'static {
        let expected_state = expected_state.to_string();
        self.serve_until_callback(expected_state, timeout)
    }

    async fn serve_until_callback(
        self,
        expected_state: String,
        timeout: Duration,
    ) -> Result<String, OAuthError> {
        let (outcome_tx, mut outcome_rx) = mpsc::channel::<Result<String, OAuthError>>(1);
        let callback = move |Query(params): Query<HashMap<String, String>>| {
            let outcome_tx = outcome_tx.clone();
            let expected_state = expected_state.clone();
            async move {
                let outcome = read_callback(&params, Some(&expected_state));
                let reply = match &outcome {
                    Ok(_) => (
                        StatusCode::OK,
                        Html(page("Shopcast is connected. You can close this window.")),
                    ),
                    Err(e) => (
                        StatusCode::BAD_REQUEST,
                        Html(page(&format!(
                            "Shopcast could not finish connecting. {e} You can close this window."
                        ))),
                    ),
                };
                // Only the first callback counts; later ones get the same page and are ignored.
                let _ = outcome_tx.try_send(outcome);
                reply
            }
        };
        let app = Router::new().route(CALLBACK_PATH, get(callback));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let mut server = tokio::spawn(async move {
            axum::serve(self.listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await
        });
        let outcome = tokio::time::timeout(timeout, outcome_rx.recv()).await;
        // Graceful: the page already being written still reaches the browser.
        let _ = stop_tx.send(());
        if tokio::time::timeout(Duration::from_secs(2), &mut server)
            .await
            .is_err()
        {
            server.abort();
        }
        match outcome {
            Ok(Some(outcome)) => outcome,
            Ok(None) | Err(_) => Err(OAuthError::TimedOut(timeout)),
        }
    }
}

/// The paste fallback: accepts the bare code, or the whole address the browser was sent to
/// (`https://…/callback?code=…&state=…`, also `?code=…` or `code=…&state=…`). A `state` in
/// a pasted address must match; a bare code has none to check.
pub fn code_from_paste(pasted: &str, expected_state: &str) -> Result<String, OAuthError> {
    let text = pasted.trim();
    let query = if let Ok(url) = url::Url::parse(text)
        && url.has_host()
    {
        // Some providers answer in the fragment; the query wins when both are there.
        let mut pairs: HashMap<String, String> = url
            .fragment()
            .map(|f| {
                url::form_urlencoded::parse(f.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        pairs.extend(url.query_pairs().into_owned());
        Some(pairs)
    } else if text.starts_with('?') || text.contains("code=") {
        Some(
            url::form_urlencoded::parse(text.trim_start_matches('?').as_bytes())
                .into_owned()
                .collect(),
        )
    } else {
        None
    };
    match query {
        Some(params) => {
            let state = params.get("state").map(|_| expected_state);
            read_callback(&params, state).map_err(|e| match e {
                OAuthError::NoCode(_) => OAuthError::NoCode(text.to_string()),
                other => other,
            })
        }
        None if !text.is_empty() && !text.contains(char::is_whitespace) => Ok(text.to_string()),
        None => Err(OAuthError::NoCode(text.to_string())),
    }
}

/// The redirect's parameters → the code. `expected_state: None` skips the state check.
fn read_callback(
    params: &HashMap<String, String>,
    expected_state: Option<&str>,
) -> Result<String, OAuthError> {
    if let Some(expected) = expected_state
        && params.get("state").map(String::as_str) != Some(expected)
    {
        return Err(OAuthError::StateMismatch);
    }
    if let Some(error) = params.get("error") {
        let detail = params
            .get("error_description")
            .filter(|d| !d.is_empty())
            .unwrap_or(error);
        return Err(OAuthError::Denied(detail.clone()));
    }
    match params.get("code") {
        Some(code) if !code.trim().is_empty() => Ok(code.trim().to_string()),
        _ => Err(OAuthError::NoCode(String::new())),
    }
}

fn page(message: &str) -> String {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Shopcast</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><p>{escaped}</p></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B, byte for byte.
    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        let octets = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let pkce = Pkce::from_verifier_bytes(&octets);
        assert_eq!(
            pkce.verifier(),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
        assert_eq!(
            pkce.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_verifiers_are_unreserved_43_to_128_and_fresh() {
        let a = Pkce::generate();
        let b = Pkce::generate();
        assert_ne!(a.verifier(), b.verifier());
        for pkce in [&a, &b] {
            let v = pkce.verifier();
            assert!((43..=128).contains(&v.len()), "{v}");
            assert!(
                v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)),
                "{v}"
            );
            assert_eq!(pkce.challenge(), code_challenge(v));
        }
        assert!(!format!("{a:?}").contains(a.verifier()));
        assert_ne!(new_state(), new_state());
    }

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

    #[test]
    fn paste_accepts_a_bare_code_or_the_redirected_address() {
        assert_eq!(code_from_paste("  abc123 \n", "st").unwrap(), "abc123");
        assert_eq!(
            code_from_paste("http://127.0.0.1:4000/callback?code=abc%2B1&state=st", "st").unwrap(),
            "abc+1"
        );
        assert_eq!(
            code_from_paste("https://shop.example.com/weibo?state=st&code=xyz", "st").unwrap(),
            "xyz"
        );
        assert_eq!(code_from_paste("?code=q1", "st").unwrap(), "q1");
        assert!(matches!(
            code_from_paste("https://x.example/cb?code=abc&state=other", "st"),
            Err(OAuthError::StateMismatch)
        ));
        assert!(matches!(
            code_from_paste("https://x.example/cb?error=access_denied&state=st", "st"),
            Err(OAuthError::Denied(d)) if d == "access_denied"
        ));
        assert!(matches!(
            code_from_paste("https://x.example/cb?state=st", "st"),
            Err(OAuthError::NoCode(_))
        ));
        assert!(matches!(
            code_from_paste("two words", "st"),
            Err(OAuthError::NoCode(_))
        ));
        assert!(matches!(
            code_from_paste("", "st"),
            Err(OAuthError::NoCode(_))
        ));
    }

    async fn get(url: &str) -> (u16, String) {
        let response = http::client().get(url).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    #[tokio::test]
    async fn loopback_catcher_returns_the_code_and_thanks_the_browser() {
        let catcher = LoopbackCatcher::bind(0).await.unwrap();
        let redirect = catcher.redirect_uri().to_string();
        assert!(redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"));
        let waiting = tokio::spawn(catcher.wait_for_code("st-9", Duration::from_secs(10)));
        let (status, body) = get(&redirect.replace("/callback", "/favicon.ico")).await;
        assert_eq!(status, 404, "{body}");
        let (status, body) = get(&format!("{redirect}?code=the-code&state=st-9")).await;
        assert_eq!(status, 200);
        assert!(body.contains("You can close this window"), "{body}");
        assert_eq!(waiting.await.unwrap().unwrap(), "the-code");
        // The port is closed again afterwards.
        assert!(http::client().get(&redirect).send().await.is_err());
    }

    #[tokio::test]
    async fn loopback_catcher_refuses_a_foreign_state_and_reports_denial() {
        let catcher = LoopbackCatcher::bind(0).await.unwrap();
        let redirect = catcher.redirect_uri().to_string();
        let waiting = tokio::spawn(catcher.wait_for_code("mine", Duration::from_secs(10)));
        let (status, body) = get(&format!("{redirect}?code=c&state=theirs")).await;
        assert_eq!(status, 400);
        assert!(body.contains("state mismatch"), "{body}");
        assert!(matches!(
            waiting.await.unwrap(),
            Err(OAuthError::StateMismatch)
        ));

        let catcher = LoopbackCatcher::bind(0).await.unwrap();
        let redirect = catcher.redirect_uri().to_string();
        let waiting = tokio::spawn(catcher.wait_for_code("mine", Duration::from_secs(10)));
        let (_, body) = get(&format!(
            "{redirect}?error=access_denied&error_description=%3Cb%3Eno%3C%2Fb%3E&state=mine"
        ))
        .await;
        assert!(body.contains("&lt;b&gt;no"), "escaped: {body}");
        assert!(matches!(
            waiting.await.unwrap(),
            Err(OAuthError::Denied(d)) if d == "<b>no</b>"
        ));
    }

    #[tokio::test]
    async fn loopback_catcher_gives_up_after_the_timeout() {
        let catcher = LoopbackCatcher::bind(0).await.unwrap();
        let started = std::time::Instant::now();
        let outcome = catcher.wait_for_code("s", Duration::from_millis(200)).await;
        assert!(matches!(outcome, Err(OAuthError::TimedOut(_))));
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
