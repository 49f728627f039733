//! A Mastodon account connected the way the owner does it (register the app, browser
//! sign-in, code caught on 127.0.0.1), then a product posted through the outbox — all against
//! mastodon-mock (tests/peers/), through the engine's own API.

#[path = "../../../social/tests/mastodon/mock.rs"]
#[allow(dead_code)]
mod mock;

use shopcast_core::ComposeRequest;

use crate::{draft, shop_with};

#[tokio::test(flavor = "multi_thread")]
async fn a_mastodon_account_signs_in_through_the_browser_and_posts_a_product() {
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let mock = mock::MastodonMock::start().await;
    mock.create_account("teashop").await;
    let (shop, dir) = shop_with("CNY").await;
    let mut cup = draft("青花瓷杯", "88");
    cup.sku = Some("CUP-1".into());
    let product = shop.create_product(&cup).await.unwrap().id;

    let start = shop.start_mastodon_sign_in(mock.base()).await.unwrap();
    assert!(start.loopback);
    // The browser: the instance's account picker, then the redirect back to 127.0.0.1.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let picker = browser
        .get(&start.authorize_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut form = mock::hidden_inputs(&picker);
    form.insert("username".into(), "teashop".into());
    let picked = browser
        .post(format!("{}/oauth/authorize", mock.base()))
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = picked.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("http://127.0.0.1:"), "{location}");
    browser.get(&location).send().await.unwrap();
    let account = shop.finish_sign_in(&start.flow_id, None).await.unwrap();
    assert_eq!(
        (account.network.as_str(), account.handle.as_str()),
        ("mastodon", "teashop")
    );
    // The token is in the secrets folder, not in the database.
    let db = std::fs::read(dir.path().join("shopcast.sqlite")).unwrap();
    let secrets: Vec<_> = std::fs::read_dir(dir.path().join("secrets"))
        .unwrap()
        .collect();
    assert_eq!(secrets.len(), 1);
    let token = std::fs::read(secrets[0].as_ref().unwrap().path()).unwrap();
    assert!(!db.windows(token.len()).any(|w| w == token.as_slice()));

    let preview = shop
        .preview_post(&ComposeRequest {
            product_id: product,
            account_ids: vec![account.id],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(preview[0].max_length, 500, "the instance's own limit");
    let posts = shop
        .queue_posts(&ComposeRequest {
            product_id: product,
            account_ids: vec![account.id],
            template: "{name} {price} {link}".into(),
            at: None,
        })
        .await
        .unwrap();
    let sent = shop.outbox().run_due(jiff::Timestamp::now()).await.unwrap();
    assert_eq!(sent[0].status, "posted", "{:?}", sent[0].error_message);
    let url = sent[0].url.clone().unwrap();
    assert!(url.contains("/@teashop/"), "{url}");
    // Read it back from the instance with the account's own token.
    let status = mock
        .get_json(
            std::str::from_utf8(&token).unwrap().trim(),
            &format!("/api/v1/statuses/{}", sent[0].remote_id.as_deref().unwrap()),
        )
        .await;
    let content = status["content"].as_str().unwrap_or_default().to_string()
        + status["text"].as_str().unwrap_or_default();
    let link = format!(
        "https://shop.example.com/p/CUP-1?src=post&amp;post={}",
        posts[0].id
    );
    let plain = format!(
        "https://shop.example.com/p/CUP-1?src=post&post={}",
        posts[0].id
    );
    assert!(
        content.contains("青花瓷杯") && (content.contains(&link) || content.contains(&plain)),
        "{status}"
    );
    // A pasted address for an unknown sign-in is refused plainly.
    let unknown = shop
        .finish_sign_in("nope", Some("http://127.0.0.1:1/callback?code=x&state=y"))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), "not_found");
}
