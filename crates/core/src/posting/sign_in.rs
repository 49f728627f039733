//! OAuth sign-ins for Mastodon (any instance; browser + loopback redirect, paste fallback)
//! and Weibo (the owner's app key/secret and registered callback; paste the address the
//! browser lands on). A sign-in is started, the shell opens its URL, and it is finished with
//! the code caught on 127.0.0.1 or pasted by the owner.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use shopcast_social::Network;
use shopcast_social::oauth::{self, Authorization, OAuthClient, OAuthError};

use crate::error::{CoreError, Result};

/// How long a started sign-in lasts: the loopback redirect waits this long for the browser,
/// and a pasted code for an older sign-in is refused.
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(600);

/// A started sign-in, as the UI sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SignInStart {
    pub flow_id: String,
    /// Open this in the browser.
    pub authorize_url: String,
    /// Whether the code can be caught on 127.0.0.1 (else the owner pastes the address).
    pub loopback: bool,
}

pub(crate) struct Pending {
    pub network: Network,
    pub service: String,
    pub client: OAuthClient,
    pub authorization: Authorization,
    pub caught: Option<tokio::task::JoinHandle<std::result::Result<String, OAuthError>>>,
    /// Network extras kept with the account (Weibo's secure domain).
    pub settings: serde_json::Value,
    started: Instant,
}

/// The sign-ins started and not finished, each for [`SIGN_IN_TIMEOUT`] (shorter in tests).
#[derive(Clone)]
pub(crate) struct SignIns {
    pending: Arc<Mutex<HashMap<String, Pending>>>,
    lifetime: Duration,
}

impl Default for SignIns {
    fn default() -> SignIns {
        SignIns::lasting(SIGN_IN_TIMEOUT)
    }
}

impl std::fmt::Debug for SignIns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignIns")
    }
}

pub(crate) fn oauth_error(error: OAuthError) -> CoreError {
    CoreError::Provider {
        code: error.code(),
        message: error.to_string(),
        raw: error.raw().map(str::to_string),
    }
}

impl SignIns {
    pub(crate) fn lasting(lifetime: Duration) -> SignIns {
        SignIns {
            pending: Default::default(),
            lifetime,
        }
    }

    /// Registers Shopcast on the instance with a loopback redirect and starts catching it.
    pub(crate) async fn start_mastodon(&self, instance: &str) -> Result<SignInStart> {
        let catcher = oauth::LoopbackCatcher::bind(0).await.map_err(oauth_error)?;
        let app = shopcast_social::mastodon::register_app(instance, catcher.redirect_uri())
            .await
            .map_err(oauth_error)?;
        let client = app.oauth_client();
        let authorization = client.start();
        let caught = tokio::spawn(catcher.wait_for_code(&authorization.state, self.lifetime));
        Ok(self.keep(
            Pending {
                network: Network::Mastodon,
                service: app.instance.clone(),
                client,
                authorization,
                caught: Some(caught),
                settings: serde_json::json!({}),
                started: Instant::now(),
            },
            true,
        ))
    }

    pub(crate) fn start_weibo(
        &self,
        api_base: &str,
        app_key: &str,
        app_secret: &str,
        redirect_uri: &str,
        secure_domain: &str,
    ) -> Result<SignInStart> {
        for (field, value) in [
            ("appKey", app_key),
            ("appSecret", app_secret),
            ("redirectUri", redirect_uri),
            ("secureDomain", secure_domain),
        ] {
            if value.trim().is_empty() {
                return Err(CoreError::invalid(
                    field,
                    "Fill in every field of your Weibo app.",
                ));
            }
        }
        let client = shopcast_social::weibo::oauth_client(
            api_base,
            app_key.trim(),
            app_secret.trim(),
            redirect_uri.trim(),
        );
        let authorization = client.start();
        Ok(self.keep(
            Pending {
                network: Network::Weibo,
                service: api_base.trim().trim_end_matches('/').to_string(),
                client,
                authorization,
                caught: None,
                settings: serde_json::json!({ "secureDomain": secure_domain.trim() }),
                started: Instant::now(),
            },
            false,
        ))
    }

    fn keep(&self, pending: Pending, loopback: bool) -> SignInStart {
        let flow_id = crate::infra::crockford_id(16);
        let start = SignInStart {
            flow_id: flow_id.clone(),
            authorize_url: pending.authorization.url.clone(),
            loopback,
        };
        let mut all = self.pending.lock().expect("lock");
        // Sign-ins nobody finished are dropped (their loopback catchers stop with them).
        all.retain(|_, p| {
            let live = p.started.elapsed() < self.lifetime;
            if !live && let Some(caught) = &p.caught {
                caught.abort();
            }
            live
        });
        all.insert(flow_id, pending);
        start
    }

    /// Waits for the caught code (or takes the pasted one) and trades it for a token.
    pub(crate) async fn finish(
        &self,
        flow_id: &str,
        pasted: Option<&str>,
    ) -> Result<(Pending, oauth::Token)> {
        let mut pending = self
            .pending
            .lock()
            .expect("lock")
            .remove(flow_id)
            .ok_or_else(|| CoreError::not_found("This sign-in"))?;
        if pending.started.elapsed() >= self.lifetime {
            if let Some(caught) = pending.caught.take() {
                caught.abort();
            }
            return Err(oauth_error(OAuthError::TimedOut(self.lifetime)));
        }
        let code = match (
            pasted.map(str::trim).filter(|p| !p.is_empty()),
            pending.caught.take(),
        ) {
            (Some(pasted), caught) => {
                if let Some(caught) = caught {
                    caught.abort();
                }
                oauth::code_from_paste(pasted, &pending.authorization.state).map_err(oauth_error)?
            }
            (None, Some(caught)) => caught
                .await
                .map_err(|_| CoreError::Report("the sign-in stopped".into()))?
                .map_err(oauth_error)?,
            (None, None) => {
                return Err(CoreError::invalid(
                    "code",
                    "Paste the address your browser ended on.",
                ));
            }
        };
        let token = pending
            .client
            .exchange_code(&code, &pending.authorization.pkce)
            .await
            .map_err(oauth_error)?;
        Ok((pending, token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sign_in_older_than_its_lifetime_is_refused_plainly() {
        let sign_ins = SignIns::lasting(Duration::from_millis(150));
        let start = |sign_ins: &SignIns| {
            sign_ins
                .start_weibo(
                    "http://127.0.0.1:1",
                    "key",
                    "secret",
                    "https://shop.example.com/weibo",
                    "shop.example.com",
                )
                .unwrap()
        };
        let old = start(&sign_ins);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let error = sign_ins
            .finish(&old.flow_id, Some("the-code"))
            .await
            .err()
            .expect("expired");
        assert_eq!(error.code().as_str(), "oauth_timed_out");
        assert!(
            error.to_string().contains("Start connecting again"),
            "{error}"
        );
        // Expired sign-ins nobody finished are dropped when the next one starts.
        let stale = start(&sign_ins);
        tokio::time::sleep(Duration::from_millis(200)).await;
        start(&sign_ins);
        let gone = sign_ins
            .finish(&stale.flow_id, Some("c"))
            .await
            .err()
            .unwrap();
        assert_eq!(gone.code().as_str(), "not_found");
    }
}
