//! Sharing to Weibo through the stub: what goes on the wire, and how each reply is read.

use std::io::Cursor;

use shopcast_social::weibo::{self, WeiboPublisher};
use shopcast_social::{Network, PostImage, PostRequest, PublishError, Publisher};

use crate::stub::{self, Answer, WeiboStub};

const TEXT: &str = "青花瓷杯 ¥88，限量 20 只 https://shop.example.com/p/CUP-1?src=weibo&post=7 #茶";

fn request(text: &str) -> PostRequest {
    PostRequest {
        text: text.to_string(),
        link: Some("https://shop.example.com/p/CUP-1?src=weibo&post=7".into()),
        images: Vec::new(),
        idempotency_key: "outbox-9".into(),
        languages: vec!["zh".into()],
    }
}

fn publisher(stub: &WeiboStub) -> WeiboPublisher {
    WeiboPublisher::new(stub.base(), stub::TOKEN, stub::SECURE_DOMAIN)
}

fn encode(image: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn small_png() -> Vec<u8> {
    let image = image::RgbImage::from_fn(80, 60, |x, y| image::Rgb([x as u8 * 3, y as u8 * 4, 90]));
    encode(
        image::DynamicImage::ImageRgb8(image),
        image::ImageFormat::Png,
    )
}

/// A camera-sized photo over 6 MB: noise (xorshift, fixed seed) does not compress.
fn six_megabyte_png() -> Vec<u8> {
    let mut seed: u32 = 0x9e37_79b9;
    let image = image::RgbImage::from_fn(1800, 1200, |_, _| {
        let mut channel = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as u8
        };
        image::Rgb([channel(), channel(), channel()])
    });
    encode(
        image::DynamicImage::ImageRgb8(image),
        image::ImageFormat::Png,
    )
}

#[tokio::test]
async fn shares_text_and_one_photo_in_the_documented_format() {
    let stub = WeiboStub::start(Answer::Success).await;
    let mut post = request(TEXT);
    post.images = vec![PostImage {
        bytes: small_png(),
        alt: "cup".into(),
    }];
    let posted = publisher(&stub).publish(&post).await.unwrap();

    assert_eq!(posted.remote_id, stub::STATUS_ID);
    assert_eq!(
        posted.url,
        format!("https://weibo.com/{}/{}", stub::UID, stub::STATUS_ID)
    );
    assert!(posted.raw.contains("\"idstr\""), "{}", posted.raw);

    let shares = stub.shares();
    assert_eq!(shares.len(), 1);
    let share = &shares[0];
    assert_eq!(
        share.authorization.as_deref(),
        Some(format!("OAuth2 {}", stub::TOKEN).as_str())
    );
    assert_eq!(share.status, TEXT, "decoded back to the exact text");
    assert!(share.raw_status.is_ascii() && !share.raw_status.contains(' '));
    assert_eq!(share.raw_status, weibo::encode_status(TEXT));
    let pic = share.pic.as_ref().unwrap();
    assert_eq!(pic.bytes, small_png(), "a photo that fits goes as it is");
    assert_eq!(pic.content_type, "image/png");
    assert_eq!(pic.file_name, "photo.png");
}

#[tokio::test]
async fn text_without_a_photo_is_shared_too() {
    let stub = WeiboStub::start(Answer::Success).await;
    let posted = publisher(&stub).publish(&request(TEXT)).await.unwrap();
    assert_eq!(posted.remote_id, stub::STATUS_ID);
    assert!(stub.shares()[0].pic.is_none());
}

#[tokio::test]
async fn a_six_megabyte_photo_is_shrunk_below_five_before_sending() {
    let stub = WeiboStub::start(Answer::Success).await;
    let original = six_megabyte_png();
    assert!(original.len() > 6_000_000, "{} bytes", original.len());
    let mut post = request(TEXT);
    post.images = vec![PostImage {
        bytes: original,
        alt: "cup".into(),
    }];
    publisher(&stub).publish(&post).await.unwrap();

    let pic = stub.shares()[0].pic.clone().unwrap();
    assert!(pic.bytes.len() < stub::MAX_PIC, "{} bytes", pic.bytes.len());
    assert_eq!(pic.content_type, "image/jpeg");
    let sent = image::load_from_memory(&pic.bytes).unwrap();
    assert!(sent.width().max(sent.height()) <= 2048);
}

#[tokio::test]
async fn a_webp_photo_is_sent_as_jpeg() {
    let stub = WeiboStub::start(Answer::Success).await;
    let webp = encode(
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            50,
            40,
            image::Rgb([10, 90, 200]),
        )),
        image::ImageFormat::WebP,
    );
    let mut post = request(TEXT);
    post.images = vec![PostImage {
        bytes: webp,
        alt: String::new(),
    }];
    publisher(&stub).publish(&post).await.unwrap();
    let pic = stub.shares()[0].pic.clone().unwrap();
    assert_eq!(pic.content_type, "image/jpeg");
    assert_eq!(
        image::guess_format(&pic.bytes).unwrap(),
        image::ImageFormat::Jpeg
    );
}

#[tokio::test]
async fn a_post_without_a_secure_domain_link_is_refused_before_sending() {
    let stub = WeiboStub::start(Answer::Success).await;
    let publisher = publisher(&stub);
    for text in [
        "青花瓷杯 ¥88，到店自取",
        "青花瓷杯 https://other.example.org/p/CUP-1",
        "青花瓷杯 https://evilshop.example.com/p/CUP-1",
    ] {
        let err = publisher.publish(&request(text)).await.unwrap_err();
        match &err {
            PublishError::Invalid(why) => {
                assert!(why.contains(stub::SECURE_DOMAIN), "{why}")
            }
            other => panic!("{text}: expected Invalid, got {other:?}"),
        }
    }
    assert!(stub.shares().is_empty(), "the stub saw no request");
}

#[tokio::test]
async fn weibo_rules_are_checked_before_sending() {
    let stub = WeiboStub::start(Answer::Success).await;
    let publisher = publisher(&stub);
    let limits = publisher.limits().await.unwrap();
    assert_eq!(limits, weibo::LIMITS);
    assert_eq!((limits.max_chars, limits.max_images), (140, 1));

    let mut two_photos = request(TEXT);
    two_photos.images = vec![
        PostImage {
            bytes: small_png(),
            alt: String::new(),
        };
        2
    ];
    assert!(matches!(
        publisher.publish(&two_photos).await,
        Err(PublishError::Invalid(_))
    ));
    // 141 as Weibo counts (Chinese characters 1, ASCII half): over share.json's 140.
    let long = format!("{} https://shop.example.com/p/1", "茶".repeat(126));
    assert!(matches!(
        publisher.publish(&request(&long)).await,
        Err(PublishError::Invalid(why)) if why.contains("140")
    ));
    let fits = format!("{} https://shop.example.com/p/1", "茶".repeat(125));
    assert_eq!(
        shopcast_social::text::count(
            shopcast_social::Network::Weibo,
            &fits,
            &shopcast_social::weibo::LIMITS
        ),
        140
    );
    // A token known to have lapsed: re-authorize, without asking Weibo.
    let lapsed = WeiboPublisher::new(stub.base(), stub::TOKEN, stub::SECURE_DOMAIN)
        .with_expires_at(Some(jiff::Timestamp::now().as_second() - 60));
    assert!(matches!(
        lapsed.publish(&request(TEXT)).await,
        Err(PublishError::Reconnect { message, .. }) if message.contains("re-authorize")
    ));
    assert!(stub.shares().is_empty());
}

#[tokio::test]
async fn an_expired_token_asks_to_reauthorize() {
    let stub = WeiboStub::start(Answer::ExpiredToken).await;
    let err = publisher(&stub).publish(&request(TEXT)).await.unwrap_err();
    match &err {
        PublishError::Reconnect { message, raw, .. } => {
            assert!(message.contains("re-authorize"), "{message}");
            assert!(raw.contains("21327"), "{raw}");
        }
        other => panic!("expected Reconnect, got {other:?}"),
    }
    assert!(!err.is_retryable());

    // A wrong token is refused by the stub's header check the same way.
    let stub = WeiboStub::start(Answer::Success).await;
    let err = WeiboPublisher::new(stub.base(), "revoked", stub::SECURE_DOMAIN)
        .publish(&request(TEXT))
        .await
        .unwrap_err();
    assert!(matches!(err, PublishError::Reconnect { .. }), "{err:?}");
}

#[tokio::test]
async fn repeated_content_is_rejected_with_the_raw_reply() {
    let stub = WeiboStub::start(Answer::RepeatedContent).await;
    let err = publisher(&stub).publish(&request(TEXT)).await.unwrap_err();
    match &err {
        PublishError::Rejected {
            code, message, raw, ..
        } => {
            assert_eq!(code, "20019");
            assert!(
                message.starts_with("Weibo refuses repeated content"),
                "{message}"
            );
            assert!(
                raw.contains("repeat content!") && raw.contains("20019"),
                "{raw}"
            );
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(!err.is_retryable(), "retrying cannot help");
}

#[tokio::test]
async fn text_weibo_finds_too_long_is_rejected() {
    let stub = WeiboStub::start(Answer::TextTooLong).await;
    let err = publisher(&stub).publish(&request(TEXT)).await.unwrap_err();
    assert!(
        matches!(&err, PublishError::Rejected { code, message, .. }
            if code == "20012" && message.contains("too long")),
        "{err:?}"
    );
}

#[tokio::test]
async fn server_errors_and_garbage_are_worth_retrying() {
    let stub = WeiboStub::start(Answer::ServerError).await;
    let err = publisher(&stub).publish(&request(TEXT)).await.unwrap_err();
    assert!(
        matches!(err, PublishError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());

    stub.answer(Answer::Garbage);
    let err = publisher(&stub).publish(&request(TEXT)).await.unwrap_err();
    assert!(matches!(err, PublishError::BadResponse { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(stub.shares().len(), 2);
}

/// Weibo has no idempotency key: a share that went out but got no answer in time may be on
/// Weibo, so it is "maybe posted" (not retried by itself); one that never left is retryable.
#[tokio::test]
async fn a_share_without_an_answer_may_have_been_posted() {
    let stub = WeiboStub::start(Answer::Slow).await;
    let impatient = publisher(&stub).with_request_timeout(stub::SLOW_ANSWER / 6);
    let err = impatient.publish(&request(TEXT)).await.unwrap_err();
    assert!(matches!(err, PublishError::NoAnswer { .. }), "{err:?}");
    let err = err.after_sending(Network::Weibo);
    assert_eq!(err.code(), "post_maybe_posted", "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "Weibo did not answer after the post was sent (timed out): it may have been posted. \
         Check Weibo before retrying."
    );
    // The stub did get it: exactly why it must not be sent again by itself.
    assert_eq!(stub.shares().len(), 1);

    let nowhere = WeiboPublisher::new("http://127.0.0.1:1", stub::TOKEN, stub::SECURE_DOMAIN);
    let err = nowhere.publish(&request(TEXT)).await.unwrap_err();
    let err = err.after_sending(Network::Weibo);
    assert_eq!(err.code(), "network_unreachable", "{err:?}");
    assert!(err.is_retryable(), "never sent: safe to retry");
}

/// The stub refuses what Weibo refuses, so the tests above prove something.
#[tokio::test]
async fn the_stub_holds_to_the_wire_format() {
    let stub = WeiboStub::start(Answer::Success).await;
    let http = shopcast_social::http::client();
    let send = |form: reqwest::multipart::Form| {
        http.post(format!("{}/2/statuses/share.json", stub.base()))
            .header("Authorization", format!("OAuth2 {}", stub::TOKEN))
            .multipart(form)
            .send()
    };
    let raw_text = send(reqwest::multipart::Form::new().text("status", TEXT))
        .await
        .unwrap();
    assert_eq!(raw_text.status(), 400);
    assert!(
        raw_text.text().await.unwrap().contains("10017"),
        "not URL-encoded"
    );

    let big = reqwest::multipart::Part::bytes(six_megabyte_png())
        .file_name("big.png")
        .mime_str("image/png")
        .unwrap();
    let oversized = send(
        reqwest::multipart::Form::new()
            .text("status", weibo::encode_status(TEXT))
            .part("pic", big),
    )
    .await
    .unwrap();
    assert_eq!(oversized.status(), 400);
    assert!(oversized.text().await.unwrap().contains("20006"));
}
