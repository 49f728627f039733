//! A local Weibo that follows the documented wire format of `POST /2/statuses/share.json`,
//! `GET /2/account/get_uid.json` and `POST /oauth2/access_token` exactly, and answers with
//! Weibo's documented JSON.
//!
//! share.json: multipart/form-data, `status` URL-encoded and linking to the app's secure
//! domain, at most one `pic` (JPEG/GIF/PNG, < 5 MB), header `Authorization: OAuth2 <token>`.
//! get_uid.json: the same header, answered `{"uid": <number>}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub const TOKEN: &str = "2.00WeiboShopToken";
pub const SECURE_DOMAIN: &str = "shop.example.com";
pub const APP_KEY: &str = "3012345678";
pub const APP_SECRET: &str = "weibo-app-secret";
pub const CODE: &str = "weibo-auth-code";
pub const UID: &str = "1404376560";
pub const STATUS_ID: &str = "4978123456789012";
/// "< 5M" on the share.json page.
pub const MAX_PIC: usize = 5 * 1024 * 1024;

/// How late [`Answer::Slow`] answers.
pub const SLOW_ANSWER: std::time::Duration = std::time::Duration::from_secs(3);

/// How the stub answers a well-formed share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Success,
    /// Success, but only after [`SLOW_ANSWER`]: the post is made, the answer comes late.
    Slow,
    ExpiredToken,
    RepeatedContent,
    TextTooLong,
    ServerError,
    Garbage,
}

/// One share.json request as the stub read it.
#[derive(Debug, Clone)]
pub struct Share {
    pub authorization: Option<String>,
    /// The `status` field as sent (URL-encoded) and decoded.
    pub raw_status: String,
    pub status: String,
    pub pic: Option<Pic>,
}

#[derive(Debug, Clone)]
pub struct Pic {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub file_name: String,
}

struct Inner {
    answer: Mutex<Answer>,
    shares: Mutex<Vec<Share>>,
    token_requests: Mutex<Vec<HashMap<String, String>>>,
    uid_requests: Mutex<Vec<Option<String>>>,
}

pub struct WeiboStub {
    base: String,
    inner: Arc<Inner>,
}

impl WeiboStub {
    pub async fn start(answer: Answer) -> WeiboStub {
        let inner = Arc::new(Inner {
            answer: Mutex::new(answer),
            shares: Mutex::default(),
            token_requests: Mutex::default(),
            uid_requests: Mutex::default(),
        });
        let app = Router::new()
            .route("/2/statuses/share.json", post(share))
            .route("/2/account/get_uid.json", get(get_uid))
            .route("/oauth2/access_token", post(access_token))
            // Take big uploads whole, so an oversized pic meets Weibo's 20006, not a cut stream.
            .layer(DefaultBodyLimit::max(32 * 1024 * 1024))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        WeiboStub { base, inner }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn answer(&self, answer: Answer) {
        *self.inner.answer.lock().unwrap() = answer;
    }

    /// Every share.json request that reached the stub, well-formed or not.
    pub fn shares(&self) -> Vec<Share> {
        self.inner.shares.lock().unwrap().clone()
    }

    pub fn token_requests(&self) -> Vec<HashMap<String, String>> {
        self.inner.token_requests.lock().unwrap().clone()
    }

    /// The `Authorization` header of every get_uid.json request.
    pub fn uid_requests(&self) -> Vec<Option<String>> {
        self.inner.uid_requests.lock().unwrap().clone()
    }
}

fn error(status: StatusCode, code: u32, message: &str, request: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": message, "error_code": code, "request": request})),
    )
        .into_response()
}

fn share_error(status: StatusCode, code: u32, message: &str) -> Response {
    error(status, code, message, "/2/statuses/share.json")
}

/// Strict percent-decoding: the text must arrive URL-encoded (no raw spaces or non-ASCII).
fn url_decode(encoded: &str) -> Option<String> {
    let ok = encoded
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.~%+*".contains(c));
    if !ok {
        return None;
    }
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn authorization(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `GET /2/account/get_uid.json`: `{"uid": N}` for a good token; an expired one (when the
/// stub is told to answer so) is 21327, an unknown one 21301.
async fn get_uid(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let authorization = authorization(&headers);
    inner
        .uid_requests
        .lock()
        .unwrap()
        .push(authorization.clone());
    let request = "/2/account/get_uid.json";
    if authorization.as_deref() != Some(&format!("OAuth2 {TOKEN}")) {
        return error(StatusCode::UNAUTHORIZED, 21301, "auth faild!", request);
    }
    if *inner.answer.lock().unwrap() == Answer::ExpiredToken {
        return error(StatusCode::UNAUTHORIZED, 21327, "expired_token", request);
    }
    let uid: u64 = UID.parse().unwrap();
    (StatusCode::OK, axum::Json(json!({"uid": uid}))).into_response()
}

async fn share(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let authorization = authorization(&headers);
    let mut raw_status = None;
    let mut pic: Option<Pic> = None;
    let mut unexpected = Vec::new();
    while let Some(field) = multipart.next_field().await.unwrap() {
        match field.name().unwrap_or_default() {
            "status" => raw_status = Some(field.text().await.unwrap()),
            "pic" if pic.is_none() => {
                pic = Some(Pic {
                    content_type: field.content_type().unwrap_or_default().to_string(),
                    file_name: field.file_name().unwrap_or_default().to_string(),
                    bytes: field.bytes().await.unwrap().to_vec(),
                })
            }
            other => unexpected.push(other.to_string()),
        }
    }
    let raw_status = raw_status.unwrap_or_default();
    let status = url_decode(&raw_status);
    inner.shares.lock().unwrap().push(Share {
        authorization: authorization.clone(),
        raw_status: raw_status.clone(),
        status: status.clone().unwrap_or_default(),
        pic: pic.clone(),
    });

    if authorization.as_deref() != Some(&format!("OAuth2 {TOKEN}")) {
        return share_error(StatusCode::UNAUTHORIZED, 21301, "auth faild!");
    }
    if !unexpected.is_empty() {
        return share_error(
            StatusCode::BAD_REQUEST,
            10008,
            &format!("param error, see doc for more info: {unexpected:?}"),
        );
    }
    let Some(status) = status.filter(|s| !s.is_empty()) else {
        return share_error(
            StatusCode::BAD_REQUEST,
            10017,
            "parameter (status)'s value invalid, expect (URL-encoded text)",
        );
    };
    let secure_link = [
        format!("http://{SECURE_DOMAIN}"),
        format!("https://{SECURE_DOMAIN}"),
    ];
    if !secure_link
        .iter()
        .any(|link| status.contains(link.as_str()))
    {
        return share_error(
            StatusCode::BAD_REQUEST,
            10017,
            "parameter (status)'s value invalid, expect (a url of the app's secure domain)",
        );
    }
    if let Some(pic) = &pic {
        if pic.bytes.len() >= MAX_PIC {
            return share_error(StatusCode::BAD_REQUEST, 20006, "image size too large");
        }
        if !["image/jpeg", "image/png", "image/gif"].contains(&pic.content_type.as_str()) {
            return share_error(StatusCode::BAD_REQUEST, 20005, "unsupported image type");
        }
    }

    let answer = *inner.answer.lock().unwrap();
    match answer {
        Answer::Success | Answer::Slow => {
            if answer == Answer::Slow {
                tokio::time::sleep(SLOW_ANSWER).await;
            }
            let id: u64 = STATUS_ID.parse().unwrap();
            let uid: u64 = UID.parse().unwrap();
            (
                StatusCode::OK,
                axum::Json(json!({
                    "created_at": "Wed Nov 25 17:40:00 +0800 2026",
                    "id": id,
                    "idstr": STATUS_ID,
                    "mid": STATUS_ID,
                    "text": status,
                    "source": "<a href=\"https://shop.example.com\" rel=\"nofollow\">Shopcast</a>",
                    "user": {"id": uid, "idstr": UID, "screen_name": "青花茶铺",
                             "profile_url": format!("u/{UID}")},
                })),
            )
                .into_response()
        }
        Answer::ExpiredToken => share_error(StatusCode::UNAUTHORIZED, 21327, "expired_token"),
        Answer::RepeatedContent => share_error(StatusCode::BAD_REQUEST, 20019, "repeat content!"),
        Answer::TextTooLong => share_error(
            StatusCode::BAD_REQUEST,
            20012,
            "Text too long, please input text less than 140 characters!",
        ),
        Answer::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "<html><body>500 Internal Server Error</body></html>",
        )
            .into_response(),
        Answer::Garbage => (StatusCode::OK, "<html>请稍后再试").into_response(),
    }
}

/// `POST /oauth2/access_token` (authorization_code): access_token, expires_in, uid.
async fn access_token(
    State(inner): State<Arc<Inner>>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    inner.token_requests.lock().unwrap().push(form.clone());
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if field("client_id") != APP_KEY || field("client_secret") != APP_SECRET {
        return error(
            StatusCode::BAD_REQUEST,
            21324,
            "invalid_client",
            "/oauth2/access_token",
        );
    }
    if field("grant_type") != "authorization_code" || field("code") != CODE {
        let body: Value = json!({
            "error": "invalid_grant", "error_code": 21325, "request": "/oauth2/access_token",
            "error_uri": "/oauth2/access_token",
            "error_description": format!("invalid authorization code:{}", field("code")),
        });
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    (
        StatusCode::OK,
        axum::Json(json!({
            "access_token": TOKEN, "remind_in": "157679999", "expires_in": 157679999,
            "uid": UID, "isRealName": "true",
        })),
    )
        .into_response()
}
