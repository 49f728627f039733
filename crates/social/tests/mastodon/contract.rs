//! Mastodon's documented replies that mastodon-mock never gives, from a local server: a photo
//! still processing (202 `url: null`, then 206 while polling), 422 on a photo, 429 with
//! Retry-After, a revoked token (401), and an instance that does not describe its limits.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use shopcast_social::mastodon::{FALLBACK_LIMITS, MastodonPublisher};
use shopcast_social::{PostImage, PostRequest, PublishError, Publisher};

use crate::photos;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    /// Photos answer 202 `url: null`; the first polls say 206, then 200 with a URL.
    ProcessingThenReady { polls_until_ready: usize },
    /// Photos stay processing forever.
    NeverReady,
    /// Photos are refused with 422.
    PhotoRefused,
    /// Statuses answer 429 with Retry-After.
    RateLimited,
    /// Every authenticated call answers 401.
    TokenRevoked,
    /// Neither /api/v2/instance nor /api/v1/instance exists.
    NoInstanceInfo,
}

struct Upload {
    content_type: String,
    file_name: String,
    bytes: usize,
    description: Option<String>,
}

#[derive(Default)]
struct Seen {
    instance_requests: usize,
    uploads: Vec<Upload>,
    polls: usize,
    statuses: Vec<(HeaderMap, Vec<(String, String)>)>,
}

struct Server {
    script: Script,
    seen: Mutex<Seen>,
}

type Shared = Arc<Server>;

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn media(url: Option<&str>) -> Value {
    json!({"id": "77", "type": "image", "url": url, "preview_url": url, "description": "alt"})
}

async fn instance(State(server): State<Shared>) -> Response {
    server.seen.lock().unwrap().instance_requests += 1;
    if server.script == Script::NoInstanceInfo {
        return reply(StatusCode::NOT_FOUND, json!({"error": "Not Found"}));
    }
    reply(
        StatusCode::OK,
        json!({"configuration": {
            "statuses": {"max_characters": 1000, "max_media_attachments": 4,
                          "characters_reserved_per_url": 23},
            "media_attachments": {"image_size_limit": 16_777_216, "image_matrix_limit": 33_177_600}
        }}),
    )
}

async fn verify_credentials(State(server): State<Shared>) -> Response {
    if server.script == Script::TokenRevoked {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": "The access token is invalid"}),
        );
    }
    reply(
        StatusCode::OK,
        json!({"id": "1", "acct": "shop", "username": "shop", "display_name": "Shop",
               "url": "https://social.example/@shop"}),
    )
}

async fn upload(State(server): State<Shared>, mut multipart: Multipart) -> Response {
    let mut upload = Upload {
        content_type: String::new(),
        file_name: String::new(),
        bytes: 0,
        description: None,
    };
    while let Some(field) = multipart.next_field().await.unwrap() {
        match field.name() {
            Some("file") => {
                upload.content_type = field.content_type().unwrap_or_default().to_string();
                upload.file_name = field.file_name().unwrap_or_default().to_string();
                upload.bytes = field.bytes().await.unwrap().len();
            }
            Some("description") => upload.description = Some(field.text().await.unwrap()),
            other => panic!("unexpected media field {other:?}"),
        }
    }
    server.seen.lock().unwrap().uploads.push(upload);
    match server.script {
        Script::PhotoRefused => reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": "Validation failed: File content type is invalid"}),
        ),
        Script::TokenRevoked => reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": "The access token is invalid"}),
        ),
        _ => reply(StatusCode::ACCEPTED, media(None)),
    }
}

async fn poll(State(server): State<Shared>, Path(id): Path<String>) -> Response {
    assert_eq!(id, "77");
    let polls = {
        let mut seen = server.seen.lock().unwrap();
        seen.polls += 1;
        seen.polls
    };
    match server.script {
        Script::ProcessingThenReady { polls_until_ready } if polls >= polls_until_ready => {
            reply(StatusCode::OK, media(Some("https://files.example/77.png")))
        }
        _ => reply(StatusCode::PARTIAL_CONTENT, media(None)),
    }
}

async fn status(
    State(server): State<Shared>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> Response {
    server
        .seen
        .lock()
        .unwrap()
        .statuses
        .push((headers, form.clone()));
    match server.script {
        Script::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "120")],
            axum::Json(json!({"error": "Too many requests"})),
        )
            .into_response(),
        Script::TokenRevoked => reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": "The access token is invalid"}),
        ),
        _ => reply(
            StatusCode::OK,
            json!({"id": "103", "url": "https://social.example/@shop/103",
                   "uri": "https://social.example/users/shop/statuses/103",
                   "content": "<p>ok</p>"}),
        ),
    }
}

/// Serves `script` on 127.0.0.1; returns its base URL and what it saw.
async fn serve(script: Script) -> (String, Shared) {
    let server = Arc::new(Server {
        script,
        seen: Mutex::default(),
    });
    let app = Router::new()
        .route("/api/v2/instance", get(instance))
        .route(
            "/api/v1/instance",
            get(|| async { reply(StatusCode::NOT_FOUND, json!({"error": "Not Found"})) }),
        )
        .route(
            "/api/v1/accounts/verify_credentials",
            get(verify_credentials),
        )
        .route("/api/v2/media", post(upload))
        .route("/api/v1/media/{id}", get(poll))
        .route("/api/v1/statuses", post(status))
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, server)
}

fn post_with_photo() -> PostRequest {
    PostRequest {
        text: "青花瓷杯 ¥88 https://shop.example.com/p/CUP-1".into(),
        link: Some("https://shop.example.com/p/CUP-1".into()),
        images: vec![PostImage {
            bytes: photos::png(40, 30),
            alt: "A blue-and-white cup".into(),
        }],
        idempotency_key: "outbox-7".into(),
        languages: vec!["zh-CN".into(), "en".into()],
    }
}

#[tokio::test]
async fn a_photo_still_processing_is_polled_until_its_url_is_set() {
    let (base, server) = serve(Script::ProcessingThenReady {
        polls_until_ready: 2,
    })
    .await;
    let publisher = MastodonPublisher::new(&base, "tok-1").unwrap();
    let posted = publisher.publish(&post_with_photo()).await.unwrap();
    assert_eq!(posted.remote_id, "103");
    assert_eq!(posted.url, "https://social.example/@shop/103");

    let seen = server.seen.lock().unwrap();
    assert_eq!(seen.polls, 2, "one 206, then 200 with a url");
    let upload = &seen.uploads[0];
    assert_eq!(upload.content_type, "image/png");
    assert!(upload.file_name.ends_with(".png"), "{}", upload.file_name);
    assert_eq!(upload.bytes, photos::png(40, 30).len());
    assert_eq!(upload.description.as_deref(), Some("A blue-and-white cup"));

    let (headers, form) = &seen.statuses[0];
    assert_eq!(headers["idempotency-key"], "outbox-7");
    assert_eq!(headers["authorization"], "Bearer tok-1");
    let field = |name: &str| {
        form.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        field("status"),
        ["青花瓷杯 ¥88 https://shop.example.com/p/CUP-1"]
    );
    assert_eq!(field("media_ids[]"), ["77"]);
    assert_eq!(field("visibility"), ["public"]);
    assert_eq!(field("language"), ["zh"]);
}

#[tokio::test]
async fn a_photo_that_never_finishes_processing_is_worth_retrying_later() {
    let (base, server) = serve(Script::NeverReady).await;
    let publisher = MastodonPublisher::new(&base, "tok")
        .unwrap()
        .with_media_processing_timeout(Duration::from_millis(1_200));
    let err = publisher.publish(&post_with_photo()).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        err.to_string().contains("still processing photo 1"),
        "{err}"
    );
    let seen = server.seen.lock().unwrap();
    assert!(seen.polls >= 2, "polled {} times", seen.polls);
    assert!(seen.statuses.is_empty(), "no status without its photo");
}

#[tokio::test]
async fn a_refused_photo_keeps_the_instance_words() {
    let (base, server) = serve(Script::PhotoRefused).await;
    let err = MastodonPublisher::new(&base, "tok")
        .unwrap()
        .publish(&post_with_photo())
        .await
        .unwrap_err();
    match &err {
        PublishError::Rejected {
            code, message, raw, ..
        } => {
            assert_eq!(code, "422");
            assert_eq!(
                message,
                "photo 1 was refused: Validation failed: File content type is invalid"
            );
            assert!(raw.contains("File content type is invalid"));
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert!(server.seen.lock().unwrap().statuses.is_empty());
}

#[tokio::test]
async fn too_many_requests_carries_retry_after() {
    let (base, _server) = serve(Script::RateLimited).await;
    let mut request = post_with_photo();
    request.images.clear();
    let err = MastodonPublisher::new(&base, "tok")
        .unwrap()
        .publish(&request)
        .await
        .unwrap_err();
    assert!(matches!(err, PublishError::RateLimited { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
}

#[tokio::test]
async fn a_revoked_token_asks_to_reconnect() {
    let (base, server) = serve(Script::TokenRevoked).await;
    let publisher = MastodonPublisher::new(&base, "tok").unwrap();
    let err = publisher.verify_credentials().await.unwrap_err();
    assert!(matches!(err, PublishError::Reconnect { .. }), "{err:?}");

    let err = publisher.publish(&post_with_photo()).await.unwrap_err();
    match &err {
        PublishError::Reconnect { message, raw, .. } => {
            assert!(message.contains("The access token is invalid"), "{message}");
            assert!(raw.contains("The access token is invalid"));
        }
        other => panic!("expected Reconnect, got {other:?}"),
    }
    assert_eq!(err.code(), "account_reconnect");
    assert!(server.seen.lock().unwrap().statuses.is_empty());
}

#[tokio::test]
async fn who_am_i_reads_acct_and_a_revoked_token_asks_to_reconnect() {
    let (base, _) = serve(Script::ProcessingThenReady {
        polls_until_ready: 1,
    })
    .await;
    let publisher = MastodonPublisher::new(&base, "tok").unwrap();
    assert_eq!(publisher.who_am_i().await.unwrap(), "shop");

    let (base, _) = serve(Script::TokenRevoked).await;
    let err = MastodonPublisher::new(&base, "tok")
        .unwrap()
        .who_am_i()
        .await
        .unwrap_err();
    assert!(matches!(err, PublishError::Reconnect { .. }), "{err:?}");
}

#[tokio::test]
async fn instance_limits_are_asked_once_and_have_fallbacks() {
    let (base, server) = serve(Script::ProcessingThenReady {
        polls_until_ready: 1,
    })
    .await;
    let publisher = MastodonPublisher::new(&base, "tok").unwrap();
    let limits = publisher.limits().await.unwrap();
    assert_eq!(limits.max_chars, 1000);
    assert_eq!(limits.max_image_bytes, 16_777_216);
    assert_eq!(limits.max_image_side, 5760, "√33177600");
    publisher.publish(&post_with_photo()).await.unwrap();
    publisher.publish(&post_with_photo()).await.unwrap();
    assert_eq!(server.seen.lock().unwrap().instance_requests, 1);

    let (base, _server) = serve(Script::NoInstanceInfo).await;
    let limits = MastodonPublisher::new(&base, "tok")
        .unwrap()
        .limits()
        .await
        .unwrap();
    assert_eq!(limits, FALLBACK_LIMITS);
}
