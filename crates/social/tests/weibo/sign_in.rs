//! Connecting a Weibo account: authorize URL, the code pasted back from Weibo's callback page,
//! and the token exchange that surfaces when the token lapses.

use std::collections::HashMap;

use shopcast_social::oauth::{self, OAuthError};
use shopcast_social::weibo::{self, WeiboPublisher};
use shopcast_social::{Credentials, PublishError, Publisher};

use crate::stub::{self, Answer, WeiboStub};

/// The stub's app, signing in through Weibo's own callback page.
fn oauth_client(stub: &WeiboStub) -> oauth::OAuthClient {
    weibo::oauth_client(
        stub.base(),
        stub::APP_KEY,
        stub::APP_SECRET,
        weibo::DEFAULT_REDIRECT_URI,
    )
}

#[tokio::test]
async fn the_pasted_code_is_exchanged_for_a_token_with_its_expiry() {
    let stub = WeiboStub::start(Answer::Success).await;
    let client = oauth_client(&stub);
    let sign_in = client.start();
    assert!(
        sign_in
            .url
            .starts_with(&format!("{}/oauth2/authorize?", stub.base())),
        "{}",
        sign_in.url
    );
    let authorize = url::Url::parse(&sign_in.url).unwrap();
    let query: HashMap<String, String> = authorize.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], stub::APP_KEY);
    assert_eq!(query["redirect_uri"], weibo::DEFAULT_REDIRECT_URI);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["state"], sign_in.state);
    assert!(!query.contains_key("scope"), "posting needs no extra scope");

    // Weibo's callback page shows the code in its address; the owner pastes it.
    let pasted = format!(
        "{}?state={}&code={}",
        weibo::DEFAULT_REDIRECT_URI,
        sign_in.state,
        stub::CODE
    );
    let code = oauth::code_from_paste(&pasted, &sign_in.state).unwrap();
    let before = jiff::Timestamp::now().as_second();
    let token = client.exchange_code(&code, &sign_in.pkce).await.unwrap();
    assert_eq!(token.access_token, stub::TOKEN);
    assert_eq!(token.expires_in, Some(157_679_999));
    let expires_at = token.expires_at.unwrap();
    assert!((before + 157_679_999..=before + 157_679_999 + 5).contains(&expires_at));
    assert!(token.raw.contains(stub::UID), "the raw reply keeps uid");
    assert!(
        !format!("{token:?}").contains(stub::TOKEN),
        "Debug hides the token"
    );
    match token.credentials(weibo::API_BASE) {
        Credentials::OAuth {
            instance,
            access_token,
            expires_at: at,
        } => {
            assert_eq!(instance, weibo::API_BASE);
            assert_eq!(access_token, stub::TOKEN);
            assert_eq!(at, Some(expires_at));
        }
        other => panic!("{other:?}"),
    }

    let sent = &stub.token_requests()[0];
    assert_eq!(sent["grant_type"], "authorization_code");
    assert_eq!(sent["code"], stub::CODE);
    assert_eq!(sent["redirect_uri"], weibo::DEFAULT_REDIRECT_URI);
    assert_eq!(sent["client_secret"], stub::APP_SECRET);
    assert_eq!(sent["code_verifier"], sign_in.pkce.verifier());
}

#[tokio::test]
async fn a_wrong_code_is_refused_with_weibo_words() {
    let stub = WeiboStub::start(Answer::Success).await;
    let client = oauth_client(&stub);
    let sign_in = client.start();
    let err = client
        .exchange_code("stale-code", &sign_in.pkce)
        .await
        .unwrap_err();
    match &err {
        OAuthError::Refused {
            status,
            message,
            raw,
            ..
        } => {
            assert_eq!(*status, 400);
            assert_eq!(message, "invalid authorization code:stale-code");
            assert!(raw.contains("21325"));
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    assert_eq!(err.code(), "oauth_refused");
}

#[tokio::test]
async fn the_token_reply_and_get_uid_name_the_same_account() {
    let stub = WeiboStub::start(Answer::Success).await;
    let client = oauth_client(&stub);
    let sign_in = client.start();
    let token = client
        .exchange_code(stub::CODE, &sign_in.pkce)
        .await
        .unwrap();
    assert_eq!(
        weibo::uid_from_token_reply(&token.raw).as_deref(),
        Some(stub::UID)
    );

    let publisher = WeiboPublisher::new(stub.base(), &token.access_token, stub::SECURE_DOMAIN);
    assert_eq!(publisher.who_am_i().await.unwrap(), stub::UID);
    assert_eq!(
        stub.uid_requests(),
        vec![Some(format!("OAuth2 {}", stub::TOKEN))]
    );
}

#[tokio::test]
async fn get_uid_with_a_lapsed_or_unknown_token_asks_to_reauthorize() {
    let stub = WeiboStub::start(Answer::ExpiredToken).await;
    let lapsed = WeiboPublisher::new(stub.base(), stub::TOKEN, stub::SECURE_DOMAIN);
    let err = lapsed.who_am_i().await.unwrap_err();
    assert!(
        matches!(&err, PublishError::Reconnect { raw, .. } if raw.contains("21327")),
        "{err:?}"
    );
    let unknown = WeiboPublisher::new(stub.base(), "2.00Unknown", stub::SECURE_DOMAIN);
    let err = unknown.who_am_i().await.unwrap_err();
    assert!(
        matches!(&err, PublishError::Reconnect { raw, .. } if raw.contains("21301")),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}
