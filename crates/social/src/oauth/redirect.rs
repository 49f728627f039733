//! Catching the end of an OAuth2 sign-in: the browser's redirect on a loopback port, or
//! the code (or whole address) the owner pastes back; both check `state`.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use tokio::sync::{mpsc, oneshot};

use super::{CALLBACK_PATH, OAuthError};

/// The page for a callback whose `state` belongs to another (or no) sign-in.
const NOT_THIS_SIGN_IN: &str = "This sign-in link is not for this sign-in. Nothing was connected. \
    Go back to Shopcast and use the browser tab it opened, or start connecting again.";

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
    /// returns the code. A callback with another `state` (a stale tab, a link someone else
    /// sent) is answered "not for this sign-in" and ignored: the wait goes on. The first
    /// callback with the right state decides (its code, or the `error` it carries).
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
                    Err(OAuthError::StateMismatch) => {
                        return (StatusCode::BAD_REQUEST, Html(page(NOT_THIS_SIGN_IN)));
                    }
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
    use crate::http;

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
    async fn loopback_catcher_ignores_a_foreign_state_and_reports_denial() {
        let catcher = LoopbackCatcher::bind(0).await.unwrap();
        let redirect = catcher.redirect_uri().to_string();
        let waiting = tokio::spawn(catcher.wait_for_code("mine", Duration::from_secs(10)));
        for foreign in [
            format!("{redirect}?code=their-code&state=theirs"),
            format!("{redirect}?code=no-state"),
            format!("{redirect}?error=access_denied&state=theirs"),
        ] {
            let (status, body) = get(&foreign).await;
            assert_eq!(status, 400);
            assert!(body.contains("not for this sign-in"), "{body}");
        }
        assert!(!waiting.is_finished(), "still waiting for the right state");
        let (status, _) = get(&format!("{redirect}?code=my-code&state=mine")).await;
        assert_eq!(status, 200);
        assert_eq!(waiting.await.unwrap().unwrap(), "my-code");

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
