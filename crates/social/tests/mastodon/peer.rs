//! Against mastodon-mock: registering the app, the browser sign-in end to end, and real posts.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use shopcast_social::mastodon::{self, FALLBACK_LIMITS, MastodonPublisher};
use shopcast_social::oauth::{self, LoopbackCatcher};
use shopcast_social::{NetworkLimits, PostImage, PostRequest, PublishError, Publisher};

use crate::mock::{MastodonMock, hidden_inputs};
use crate::photos;

fn post(text: &str, key: &str) -> PostRequest {
    PostRequest {
        text: text.to_string(),
        link: None,
        images: Vec::new(),
        idempotency_key: key.to_string(),
        languages: vec!["en-GB".into()],
    }
}

/// The `<input type="hidden" name=… value=…>` fields of mastodon-mock's account picker.
#[tokio::test]
async fn registers_shopcast_with_its_name_scopes_and_redirect() {
    let mock = MastodonMock::start().await;
    let redirect = "http://127.0.0.1:45678/callback";
    let app = mastodon::register_app(&format!("{}/", mock.base()), redirect)
        .await
        .unwrap();
    assert_eq!(app.instance, mock.base());
    assert_eq!(app.redirect_uri, redirect);
    assert!(!app.client_id.is_empty() && !app.client_secret.is_empty());

    // What the instance now knows about the app, asked with an app token.
    let token: Value = mock
        .http()
        .post(format!("{}/oauth/token", mock.base()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let registered = mock
        .get_json(
            token["access_token"].as_str().unwrap(),
            "/api/v1/apps/verify_credentials",
        )
        .await;
    assert_eq!(registered["name"], "Shopcast");
    assert_eq!(registered["website"], mastodon::WEBSITE);
    assert_eq!(
        registered["scopes"],
        serde_json::json!(["read", "write:media", "write:statuses"])
    );
}

#[tokio::test]
async fn browser_sign_in_reaches_the_loopback_catcher_and_yields_a_working_token() {
    let mock = MastodonMock::start().await;
    let owner = mock.create_account("teashop").await;

    // Bind first: the redirect URI, port included, is what the app is registered with.
    let catcher = LoopbackCatcher::bind(0).await.unwrap();
    let redirect_uri = catcher.redirect_uri().to_string();
    let app = mastodon::register_app(mock.base(), &redirect_uri)
        .await
        .unwrap();
    let client = app.oauth_client();
    let sign_in = client.start();
    let authorize = url::Url::parse(&sign_in.url).unwrap();
    assert_eq!(authorize.path(), "/oauth/authorize");
    let query: HashMap<String, String> = authorize.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge"], sign_in.pkce.challenge());
    assert_eq!(query["scope"], mastodon::SCOPES);
    let waiting =
        tokio::spawn(catcher.wait_for_code(&sign_in.state.clone(), Duration::from_secs(30)));

    // The browser opens the authorize URL: mastodon-mock answers with an account picker.
    let picker = mock
        .http()
        .get(&sign_in.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(picker.contains("(@teashop)"), "{picker}");
    let mut form = hidden_inputs(&picker);
    assert_eq!(form["state"], sign_in.state);
    assert_eq!(form["redirect_uri"], redirect_uri);
    assert_eq!(form["client_id"], app.client_id);

    // The owner picks the account; the instance redirects the browser back to Shopcast.
    form.insert("username".into(), "teashop".into());
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let picked = browser
        .post(format!("{}/oauth/authorize", mock.base()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(picked.status(), 302);
    let location = picked.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&format!("{redirect_uri}?code=")),
        "{location}"
    );
    let thanks = browser.get(&location).send().await.unwrap();
    assert_eq!(thanks.status(), 200);
    assert!(
        thanks
            .text()
            .await
            .unwrap()
            .contains("You can close this window")
    );
    let code = waiting.await.unwrap().unwrap();

    // Pasting the address the browser shows gives the same code (the fallback).
    assert_eq!(
        oauth::code_from_paste(&location, &sign_in.state).unwrap(),
        code
    );

    let token = client.exchange_code(&code, &sign_in.pkce).await.unwrap();
    assert_eq!(token.expires_at, None, "Mastodon tokens do not lapse");
    let publisher = MastodonPublisher::new(&app.instance, &token.access_token).unwrap();
    let account = publisher.verify_credentials().await.unwrap();
    assert_eq!(account.id, owner.id);
    assert_eq!(account.acct, owner.username);
    assert!(account.url.ends_with("/@teashop"), "{}", account.url);
    assert!(matches!(
        token.credentials(&app.instance),
        shopcast_social::Credentials::OAuth { instance, expires_at: None, .. } if instance == app.instance
    ));
}

#[tokio::test]
async fn unknown_token_asks_to_reconnect() {
    let mock = MastodonMock::start().await;
    let publisher = MastodonPublisher::new(mock.base(), "revoked-token").unwrap();
    let err = publisher.verify_credentials().await.unwrap_err();
    assert!(
        matches!(&err, PublishError::Reconnect { message, .. } if message.contains("Connect the account again")),
        "{err:?}"
    );
    let err = publisher
        .publish(&post("Hello https://shop.example.com/p/1", "k-401"))
        .await
        .unwrap_err();
    assert!(matches!(err, PublishError::Reconnect { .. }), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn who_am_i_is_the_acct_the_token_belongs_to() {
    let mock = MastodonMock::start().await;
    let owner = mock.create_account("whoami").await;
    let publisher = MastodonPublisher::new(mock.base(), &owner.token).unwrap();
    assert_eq!(publisher.who_am_i().await.unwrap(), owner.username);
    let stranger = MastodonPublisher::new(mock.base(), "revoked-token").unwrap();
    let err = stranger.who_am_i().await.unwrap_err();
    assert!(matches!(err, PublishError::Reconnect { .. }), "{err:?}");
}

#[tokio::test]
async fn limits_are_read_from_the_instance() {
    let mock = MastodonMock::start().await;
    let owner = mock.create_account("limits").await;
    let limits = MastodonPublisher::new(mock.base(), &owner.token)
        .unwrap()
        .limits()
        .await
        .unwrap();
    assert_eq!(
        limits,
        NetworkLimits {
            max_chars: 500,
            url_chars: Some(23),
            max_images: 4,
            max_image_bytes: 10 * 1024 * 1024,
            max_image_side: 4096,
        }
    );
}

#[tokio::test]
async fn publishes_a_status_with_photos_alt_text_and_language() {
    let mock = MastodonMock::start().await;
    let owner = mock.create_account("potter").await;
    let publisher = MastodonPublisher::new(mock.base(), &owner.token).unwrap();
    let mut request = post(
        "Blue teacup, ¥88 https://shop.example.com/p/CUP-1?src=mastodon #tea",
        "outbox-1",
    );
    request.images = vec![
        PostImage {
            bytes: photos::png(64, 48),
            alt: "A blue teacup on a wooden table".into(),
        },
        // Wider than the instance takes (4096 px a side): fitted before upload.
        PostImage {
            bytes: photos::png(4500, 300),
            alt: "The cup's pattern, unrolled".into(),
        },
    ];
    let posted = publisher.publish(&request).await.unwrap();

    let status = mock
        .get_json(
            &owner.token,
            &format!("/api/v1/statuses/{}", posted.remote_id),
        )
        .await;
    assert_eq!(status["id"], posted.remote_id.as_str());
    assert_eq!(status["url"], posted.url.as_str());
    assert_eq!(status["visibility"], "public");
    assert_eq!(status["language"], "en");
    assert!(
        status["content"].as_str().unwrap().contains("Blue teacup"),
        "{status}"
    );
    let raw: Value = serde_json::from_str(&posted.raw).unwrap();
    assert_eq!(raw["id"], status["id"]);

    let media = status["media_attachments"].as_array().unwrap();
    assert_eq!(media.len(), 2);
    assert_eq!(media[0]["description"], "A blue teacup on a wooden table");
    assert_eq!(media[1]["description"], "The cup's pattern, unrolled");
    let second = mock
        .http()
        .get(media[1]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(photos::dimensions(&second), (4096, 273));
    let first = mock
        .http()
        .get(media[0]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        first.as_ref(),
        photos::png(64, 48).as_slice(),
        "a photo that fits is sent untouched"
    );
}

#[tokio::test]
async fn the_same_idempotency_key_twice_makes_one_status() {
    let mock = MastodonMock::start().await;
    let owner = mock.create_account("retry").await;
    let publisher = MastodonPublisher::new(mock.base(), &owner.token).unwrap();
    let mut request = post(
        "New in: jasmine tea https://shop.example.com/p/T-9",
        "outbox-42",
    );
    request.images = vec![PostImage {
        bytes: photos::png(32, 32),
        alt: "Jasmine tea".into(),
    }];

    let first = publisher.publish(&request).await.unwrap();
    // The outbox retries, e.g. after the first reply was lost on the way back.
    let again = publisher.publish(&request).await.unwrap();
    assert_eq!(again.remote_id, first.remote_id);
    assert_eq!(again.url, first.url);
    let statuses = mock.statuses_of(&owner).await;
    assert_eq!(statuses.len(), 1, "{statuses:?}");

    // Another outbox entry (another key) with the same text is another status.
    let other = publisher
        .publish(&PostRequest {
            idempotency_key: "outbox-43".into(),
            ..request.clone()
        })
        .await
        .unwrap();
    assert_ne!(other.remote_id, first.remote_id);
    assert_eq!(mock.statuses_of(&owner).await.len(), 2);
}

#[tokio::test]
async fn text_over_the_instance_limit_is_refused_before_sending() {
    let mock = MastodonMock::start().await;
    let owner = mock.create_account("wordy").await;
    let publisher = MastodonPublisher::new(mock.base(), &owner.token).unwrap();
    let err = publisher
        .publish(&post(&"茶".repeat(501), "long-1"))
        .await
        .unwrap_err();
    match &err {
        PublishError::Invalid(why) => {
            assert!(why.contains("501") && why.contains("500"), "{why}")
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    // A URL counts as 23 characters whatever its length: 476 + 1 + 23 = 500 fits.
    let long_link = format!(
        "{} https://shop.example.com/p/{}",
        "a".repeat(476),
        "x".repeat(10)
    );
    assert!(long_link.chars().count() > 500);
    let limits = publisher.limits().await.unwrap();
    assert!(publisher.validate(&post(&long_link, "k"), &limits).is_ok());
    assert!(mock.statuses_of(&owner).await.is_empty());
}

#[tokio::test]
async fn the_instance_refuses_long_text_with_its_own_422_message() {
    let mock = MastodonMock::start().await;
    let owner = mock.create_account("bypass").await;
    // Limits that let the text through our check, so the instance itself must refuse it.
    let publisher = MastodonPublisher::new(mock.base(), &owner.token)
        .unwrap()
        .with_limits(NetworkLimits {
            max_chars: 5_000,
            ..FALLBACK_LIMITS
        });
    let err = publisher
        .publish(&post(&"a".repeat(501), "long-2"))
        .await
        .unwrap_err();
    match &err {
        PublishError::Rejected {
            code, message, raw, ..
        } => {
            assert_eq!(code, "422");
            assert_eq!(
                message,
                "Validation failed: Text is too long (maximum is 500 characters)"
            );
            assert!(raw.contains("\"error\""), "{raw}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert!(mock.statuses_of(&owner).await.is_empty());
}
