//! Bluesky XRPC plumbing: the PDS address, signing in (`createSession`), reading JSON
//! replies, and sorting XRPC error replies into reconnect, refresh or rejected.

use serde::Deserialize;
use serde_json::json;

use crate::http::{self, RawResponse};
use crate::publisher::PublishError;

use super::{Login, NETWORK, Session};

/// The PDS (or entryway) address: https, or http on this computer only.
pub(super) fn service_base(service_url: &str) -> Result<String, PublishError> {
    http::secure_base("Bluesky server", service_url).map_err(|e| match e {
        PublishError::Invalid(message) => PublishError::Invalid(format!(
            "{message} For most accounts it is https://bsky.social."
        )),
        other => other,
    })
}

pub(super) fn xrpc_url(service: &str, nsid: &str) -> String {
    format!("{service}/xrpc/{nsid}")
}

pub(super) async fn create_session(
    client: &reqwest::Client,
    service: &str,
    login: &Login,
) -> Result<Session, PublishError> {
    let response = http::send(
        NETWORK,
        client
            .post(xrpc_url(service, "com.atproto.server.createSession"))
            .json(&json!({"identifier": login.identifier, "password": login.app_password})),
    )
    .await?;
    if response.status != 200 {
        return Err(xrpc_error(&response));
    }
    parse_session(&response)
}

pub(super) fn parse_session(response: &RawResponse) -> Result<Session, PublishError> {
    read_json(response)
}

pub(super) fn read_json<T: serde::de::DeserializeOwned>(
    response: &RawResponse,
) -> Result<T, PublishError> {
    serde_json::from_slice(&response.body).map_err(|e| bad_response(&e.to_string()))
}

pub(super) fn bad_response(detail: &str) -> PublishError {
    PublishError::BadResponse {
        network: NETWORK,
        detail: detail.to_string(),
    }
}

#[derive(Deserialize)]
struct XrpcError {
    error: String,
    #[serde(default)]
    message: Option<String>,
}

pub(super) fn xrpc_error_code(response: &RawResponse) -> Option<String> {
    serde_json::from_slice::<XrpcError>(&response.body)
        .ok()
        .map(|e| e.error)
}

/// An access token the PDS will not take (the only case worth a refresh).
pub(super) fn token_rejected(response: &RawResponse) -> bool {
    matches!(response.status, 400 | 401)
        && matches!(
            xrpc_error_code(response).as_deref(),
            Some("ExpiredToken" | "InvalidToken")
        )
}

/// Sorts an XRPC error reply (`{error, message}`) into reconnect or rejected, keeping the
/// PDS's own words.
pub(super) fn xrpc_error(response: &RawResponse) -> PublishError {
    let raw = response.text();
    let (code, said) = match serde_json::from_slice::<XrpcError>(&response.body) {
        Ok(e) => (e.error, e.message.unwrap_or_default()),
        Err(_) => (
            format!("HTTP {}", response.status),
            raw.chars().take(300).collect(),
        ),
    };
    let reconnect = |advice: &str| PublishError::Reconnect {
        network: NETWORK,
        message: if said.is_empty() {
            advice.to_string()
        } else {
            format!("{advice} (Bluesky said: {said})")
        },
        raw: raw.clone(),
    };
    match code.as_str() {
        "AuthenticationRequired" | "AuthFactorTokenRequired" => reconnect(
            "the app password was not accepted — it may have been revoked. Make a new one in \
             Bluesky under Settings → Privacy and security → App passwords and reconnect",
        ),
        "ExpiredToken" | "InvalidToken" | "AuthMissing" | "AccountNotFound" => reconnect(
            "the saved sign-in has expired or was revoked. Reconnect the account with an app \
             password",
        ),
        "AccountTakedown" => {
            reconnect("the account has been suspended by its server. Reconnect once it is restored")
        }
        "AccountDeactivated" => {
            reconnect("the account is deactivated. Reactivate it in Bluesky, then reconnect")
        }
        _ if response.status == 401 => reconnect("Bluesky asked to sign in again. Reconnect"),
        _ => PublishError::Rejected {
            network: NETWORK,
            message: if said.is_empty() { code.clone() } else { said },
            code,
            raw,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_plain_http_server_elsewhere_is_refused_before_the_password_is_sent() {
        assert_eq!(
            service_base("https://bsky.social/").unwrap(),
            "https://bsky.social"
        );
        assert_eq!(
            service_base("http://127.0.0.1:2583").unwrap(),
            "http://127.0.0.1:2583"
        );
        // Nothing listens there: the refusal comes before any connection is tried.
        let error = super::super::BlueskyPublisher::connect("http://example.social", "shop", "pw")
            .await
            .err()
            .expect("refused");
        assert_eq!(error.code(), "post_invalid");
        let message = error.to_string();
        assert!(
            message.contains("plain http://") && message.contains("https://bsky.social"),
            "{message}"
        );
    }

    fn reply(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status,
            body: body.as_bytes().to_vec(),
            headers: Default::default(),
        }
    }

    #[test]
    fn xrpc_errors_sort_into_reconnect_and_rejected() {
        let wrong = xrpc_error(&reply(
            401,
            r#"{"error":"AuthenticationRequired","message":"Invalid identifier or password"}"#,
        ));
        assert!(matches!(wrong, PublishError::Reconnect { .. }), "{wrong:?}");
        assert!(wrong.to_string().contains("reconnect"));
        let long = xrpc_error(&reply(
            400,
            r#"{"error":"InvalidRequest","message":"Invalid app.bsky.feed.post record: grapheme too big (maximum 300, got 301) at $.record.text"}"#,
        ));
        match long {
            PublishError::Rejected { code, message, .. } => {
                assert_eq!(code, "InvalidRequest");
                assert!(message.contains("grapheme too big"));
            }
            other => panic!("{other:?}"),
        }
        let big = xrpc_error(&reply(
            413,
            r#"{"error":"PayloadTooLarge","message":"request entity too large"}"#,
        ));
        assert!(
            matches!(big, PublishError::Rejected { ref code, .. } if code == "PayloadTooLarge")
        );
        for code in [
            "AuthMissing",
            "ExpiredToken",
            "InvalidToken",
            "AccountTakedown",
        ] {
            let err = xrpc_error(&reply(400, &format!(r#"{{"error":"{code}"}}"#)));
            assert!(matches!(err, PublishError::Reconnect { .. }), "{code}");
        }
        assert!(token_rejected(&reply(400, r#"{"error":"ExpiredToken"}"#)));
        assert!(!token_rejected(&reply(
            400,
            r#"{"error":"InvalidRequest"}"#
        )));
    }
}
