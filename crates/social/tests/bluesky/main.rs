//! The Bluesky publisher against the reference PDS (`@atproto/pds`, started per test from
//! `tests/peers/pds`): what it stores is read back with `com.atproto.repo.*` and
//! `com.atproto.sync.getBlob`, never taken from our own replies.

mod bad_input;
#[path = "../support/garbage.rs"]
mod garbage;
mod pds;
mod photos;
#[path = "../../../payments/tests/support/tally.rs"]
mod tally;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use shopcast_social::bluesky::{BlueskyPublisher, Session};
use shopcast_social::{PostImage, PostRequest, PublishError, Publisher};

use pds::{Account, Pds};

const LINK: &str = "https://shop.example.com/p/CUP-1?src=post&post=42";

/// A fresh PDS, an account on it, and the publisher connected with an app password.
async fn connected(handle: &str) -> (Pds, Account, BlueskyPublisher) {
    let pds = Pds::start();
    let account = pds.create_account(handle).await;
    let app_password = pds.create_app_password(&account, "shopcast").await;
    let (publisher, session) = BlueskyPublisher::connect(&pds.url, handle, &app_password)
        .await
        .expect("connects with an app password");
    assert_eq!(session.did, account.did);
    assert_eq!(publisher.handle(), account.handle);
    (pds, account, publisher)
}

fn post(text: &str, key: &str) -> PostRequest {
    PostRequest {
        text: text.to_string(),
        link: None,
        images: vec![],
        idempotency_key: key.to_string(),
        languages: vec!["zh".into()],
    }
}

fn byte_range(facet: &Value) -> std::ops::Range<usize> {
    let index = &facet["index"];
    index["byteStart"].as_u64().unwrap() as usize..index["byteEnd"].as_u64().unwrap() as usize
}

/// The access token the PDS would have issued two hours ago: same claims, already expired,
/// signed with the test PDS's JWT secret.
fn expired(access_jwt: &str) -> String {
    let payload = access_jwt.split('.').nth(1).expect("a JWT");
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let now = jiff::Timestamp::now().as_second();
    claims["iat"] = (now - 7_300).into();
    claims["exp"] = (now - 100).into();
    let head = URL_SAFE_NO_PAD.encode(br#"{"typ":"at+jwt","alg":"HS256"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(pds::JWT_SECRET.as_bytes()).unwrap();
    mac.update(format!("{head}.{body}").as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{head}.{body}.{signature}")
}

#[tokio::test]
async fn a_product_post_keeps_its_text_link_tag_languages_and_photo() {
    let (pds, account, publisher) = connected("alice.test").await;
    let photo = photos::jpeg(800, 600, 90, 24, 1);
    let text = format!("青花瓷杯 🍵 ¥88 手工绘制，限量十只 {LINK} #茶具 #teaware");
    let request = PostRequest {
        text: text.clone(),
        link: Some(LINK.to_string()),
        images: vec![PostImage {
            bytes: photo.clone(),
            alt: "白底青花的瓷杯，杯身绘有缠枝莲".to_string(),
        }],
        idempotency_key: "shopcast-CUP1POST42".to_string(),
        languages: vec!["zh".into(), "en".into()],
    };

    let posted = publisher.publish(&request).await.expect("posted");

    let rkey = posted.remote_id.rsplit('/').next().unwrap();
    assert_eq!(
        posted.remote_id,
        format!("at://{}/app.bsky.feed.post/{rkey}", account.did)
    );
    assert_eq!(
        posted.url,
        format!("https://bsky.app/profile/alice.test/post/{rkey}")
    );
    let reply: Value = serde_json::from_str(&posted.raw).expect("raw is the PDS reply");
    assert_eq!(reply["uri"], posted.remote_id.as_str());

    let stored = pds.get_post(&posted.remote_id).await;
    let record = &stored["value"];
    assert_eq!(record["text"], text.as_str());
    assert_eq!(record["langs"], serde_json::json!(["zh", "en"]));
    let facets = record["facets"].as_array().expect("facets");
    assert_eq!(facets.len(), 3, "{facets:?}");
    let bytes = text.as_bytes();
    assert_eq!(&bytes[byte_range(&facets[0])], LINK.as_bytes());
    assert_eq!(
        facets[0]["features"][0]["$type"],
        "app.bsky.richtext.facet#link"
    );
    assert_eq!(facets[0]["features"][0]["uri"], LINK);
    assert_eq!(&bytes[byte_range(&facets[1])], "#茶具".as_bytes());
    assert_eq!(
        facets[1]["features"][0]["$type"],
        "app.bsky.richtext.facet#tag"
    );
    assert_eq!(facets[1]["features"][0]["tag"], "茶具");
    assert_eq!(&bytes[byte_range(&facets[2])], b"#teaware");
    let created: jiff::Timestamp = record["createdAt"].as_str().unwrap().parse().unwrap();
    assert!((jiff::Timestamp::now() - created).as_secs().abs() < 60);

    let embed = &record["embed"];
    assert_eq!(embed["$type"], "app.bsky.embed.images");
    let image = &embed["images"][0];
    assert_eq!(image["alt"], "白底青花的瓷杯，杯身绘有缠枝莲");
    assert_eq!(
        image["aspectRatio"],
        serde_json::json!({"width": 800, "height": 600})
    );
    assert_eq!(image["image"]["mimeType"], "image/jpeg");
    let cid = image["image"]["ref"]["$link"].as_str().unwrap();
    let blob = pds.blob(&account.did, cid).await;
    // Small enough already: uploaded exactly as the owner took it.
    assert_eq!(blob, photo);
    assert!(blob.len() <= 1_000_000);
    assert_eq!(
        image::guess_format(&blob).unwrap(),
        image::ImageFormat::Jpeg
    );
}

#[tokio::test]
async fn text_over_300_graphemes_is_refused_before_sending() {
    let (pds, account, publisher) = connected("bob.test").await;
    // Mixed CJK, emoji with skin tone (one grapheme, 8 bytes), accented letters.
    let graphemes = ["茶", "🍵", "👍🏽", "é", "杯", "🇨🇳", "a"];
    let text_of = |n: usize| -> String { graphemes.iter().cycle().take(n).copied().collect() };

    let err = publisher
        .publish(&post(&text_of(301), "k-301"))
        .await
        .unwrap_err();
    assert!(matches!(err, PublishError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("301"), "{err}");
    assert!(
        pds.posts(&account.did).await.is_empty(),
        "nothing reached the PDS"
    );

    // 300 graphemes fit even though they are 300+ chars and ~1,300 bytes.
    let text = text_of(300);
    assert!(text.chars().count() > 300);
    let posted = publisher
        .publish(&post(&text, "k-300"))
        .await
        .expect("300 fit");
    assert_eq!(
        pds.get_post(&posted.remote_id).await["value"]["text"],
        text.as_str()
    );

    // 300 family emoji are 300 graphemes but 7,500 bytes: over the lexicon's 3,000.
    let families = "👨‍👩‍👧‍👦".repeat(300);
    let err = publisher
        .publish(&post(&families, "k-bytes"))
        .await
        .unwrap_err();
    assert!(matches!(err, PublishError::Invalid(_)), "{err:?}");
    assert_eq!(pds.posts(&account.did).await.len(), 1);
}

#[tokio::test]
async fn a_3_mb_photo_is_shrunk_under_1_mb_before_upload() {
    let (pds, account, publisher) = connected("carol.test").await;
    let photo = photos::jpeg(3000, 3000, 95, 10, 7);
    assert!(
        photo.len() > 2_500_000,
        "the test photo is {} bytes",
        photo.len()
    );
    let request = PostRequest {
        images: vec![PostImage {
            bytes: photo,
            alt: "Teapot, top view".into(),
        }],
        ..post("新到的茶壶 🫖", "k-big-photo")
    };

    let posted = publisher.publish(&request).await.expect("posted");

    let image = &pds.get_post(&posted.remote_id).await["value"]["embed"]["images"][0];
    let size = image["image"]["size"].as_u64().unwrap();
    assert!(size <= 1_000_000, "blob is {size} bytes");
    let blob = pds
        .blob(
            &account.did,
            image["image"]["ref"]["$link"].as_str().unwrap(),
        )
        .await;
    assert_eq!(blob.len() as u64, size);
    let decoded =
        image::load_from_memory_with_format(&blob, image::ImageFormat::Jpeg).expect("a valid JPEG");
    assert_eq!((decoded.width(), decoded.height()), (2000, 2000));
    assert_eq!(
        image["aspectRatio"],
        serde_json::json!({"width": 2000, "height": 2000})
    );
}

#[tokio::test]
async fn a_retry_with_the_same_key_never_posts_twice() {
    let (pds, account, publisher) = connected("dave.test").await;
    let request = post(&format!("白茶饼 ¥120 {LINK}"), "shopcast-RETRY0001");

    let first = publisher.publish(&request).await.expect("first attempt");
    // The reply was lost, so the outbox sends the same post again.
    let again = publisher.publish(&request).await.expect("retry");
    assert_eq!(again.remote_id, first.remote_id);
    assert_eq!(again.url, first.url);
    assert_eq!(pds.posts(&account.did).await.len(), 1);

    // Two workers sending the same post at once: both land on one record.
    let twin = post("同一条帖子，两次发送", "shopcast-RETRY0002");
    let (a, b) = tokio::join!(publisher.publish(&twin), publisher.publish(&twin));
    assert_eq!(a.expect("a").remote_id, b.expect("b").remote_id);
    assert_eq!(pds.posts(&account.did).await.len(), 2);

    // Another outbox entry is another post.
    let other = publisher
        .publish(&post(&format!("白茶饼 ¥120 {LINK}"), "shopcast-RETRY0003"))
        .await
        .expect("a second post");
    assert_ne!(other.remote_id, first.remote_id);
    assert_eq!(pds.posts(&account.did).await.len(), 3);
}

#[tokio::test]
async fn a_revoked_app_password_asks_to_reconnect() {
    let pds = Pds::start();
    let account = pds.create_account("erin.test").await;
    let app_password = pds.create_app_password(&account, "shopcast").await;
    let (publisher, saved) = BlueskyPublisher::connect(&pds.url, "erin.test", &app_password)
        .await
        .expect("connects before the revoke");
    publisher
        .publish(&post("撤销前的帖子", "k-before"))
        .await
        .expect("posts before the revoke");
    pds.revoke_app_password(&account, "shopcast").await;

    // Signing in again (as at the next start) fails in words the owner can act on.
    let err = BlueskyPublisher::connect(&pds.url, "erin.test", &app_password)
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, PublishError::Reconnect { .. }), "{err:?}");
    assert!(err.to_string().contains("reconnect"), "{err}");

    // The saved session dies with the app password: once the access token lapses, the
    // refresh is refused and so is the post.
    let lapsed = Session {
        access_jwt: expired(&saved.access_jwt),
        ..saved
    };
    let resumed = BlueskyPublisher::resume(&pds.url, lapsed).unwrap();
    let err = resumed
        .publish(&post("不会发出去", "k-revoked"))
        .await
        .unwrap_err();
    match &err {
        PublishError::Reconnect { message, raw, .. } => {
            assert!(message.contains("Reconnect"), "{message}");
            assert!(raw.contains("ExpiredToken"), "{raw}");
        }
        other => panic!("expected reconnect, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(err.code(), "account_reconnect");
    assert_eq!(
        pds.posts(&account.did).await.len(),
        1,
        "only the post from before"
    );
}

#[tokio::test]
async fn a_wrong_app_password_asks_to_reconnect() {
    let pds = Pds::start();
    pds.create_account("frank.test").await;
    let err = BlueskyPublisher::connect(&pds.url, "@frank.test", "aaaa-bbbb-cccc-dddd")
        .await
        .err()
        .expect("refused");
    match err {
        PublishError::Reconnect { raw, .. } => assert!(raw.contains("AuthenticationRequired")),
        other => panic!("expected reconnect, got {other:?}"),
    }
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_and_the_post_goes_out() {
    let (pds, account, publisher) = connected("grace.test").await;
    let saved = publisher.session();
    let stale = Session {
        access_jwt: expired(&saved.access_jwt),
        ..saved.clone()
    };
    let resumed = BlueskyPublisher::resume(&pds.url, stale.clone()).unwrap();

    let posted = resumed
        .publish(&post("龙井新茶到店 🍃", "k-refresh"))
        .await
        .expect("posted after a refresh");

    assert!(
        posted
            .remote_id
            .starts_with(&format!("at://{}/", account.did))
    );
    let renewed = resumed.session();
    assert_ne!(renewed.access_jwt, stale.access_jwt);
    assert_ne!(
        renewed.refresh_jwt, saved.refresh_jwt,
        "refresh tokens rotate"
    );
    assert_eq!(renewed.did, account.did);
    assert_eq!(pds.posts(&account.did).await.len(), 1);
}

#[tokio::test]
async fn who_am_i_is_the_session_handle_even_after_the_access_token_lapsed() {
    let (pds, account, publisher) = connected("dora.test").await;
    assert_eq!(publisher.who_am_i().await.unwrap(), account.handle);

    let saved = publisher.session();
    let stale = Session {
        access_jwt: expired(&saved.access_jwt),
        ..saved
    };
    let lapsed = stale.access_jwt.clone();
    let resumed = BlueskyPublisher::resume(&pds.url, stale).unwrap();
    assert_eq!(resumed.who_am_i().await.unwrap(), account.handle);
    assert_ne!(resumed.session().access_jwt, lapsed, "renewed on the way");
}

#[tokio::test]
async fn the_pds_words_reach_the_owner_when_it_refuses_a_post() {
    let (pds, account, publisher) = connected("heidi.test").await;
    let request = PostRequest {
        languages: vec!["not a language".into()],
        ..post("茶", "k-bad-lang")
    };
    let err = publisher.publish(&request).await.unwrap_err();
    match &err {
        PublishError::Rejected {
            code, message, raw, ..
        } => {
            assert_eq!(code, "InvalidRequest");
            assert!(message.contains("langs"), "{message}");
            let reply: Value = serde_json::from_str(raw).expect("raw is the PDS reply");
            assert_eq!(reply["message"], message.as_str(), "the PDS's own words");
        }
        other => panic!("expected rejected, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert!(pds.posts(&account.did).await.is_empty());
}
