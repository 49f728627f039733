//! Weibo: sharing a post with one photo through `POST /2/statuses/share.json`, the API Weibo
//! opens to third-party apps, whose text must link to the app's registered secure domain.
//!
//! Wire format (open.weibo.com, statuses/share): multipart/form-data with `status` (the text,
//! URL-encoded) and an optional single `pic` (JPEG/GIF/PNG under 5 MB), header
//! `Authorization: OAuth2 <access_token>`. Success is the status JSON (`idstr`, `user.idstr`);
//! failure is `{"error": …, "error_code": N, "request": "/2/statuses/share.json"}`.
//!
//! Weibo has no idempotency key. A retry after a post that did go through is caught by Weibo's
//! own repeated-content check (error 20019): that is reported as `Rejected` with the raw reply,
//! because Weibo does not say which post it matched, so the owner checks the account.
//!
//! Sign-in is OAuth2 ([`oauth_client`]); the token lives `expires_in` seconds and Weibo gives
//! no refresh token, so an expired token means authorizing again.

use async_trait::async_trait;
use serde_json::Value;

use crate::http::{self, RawResponse};
use crate::images;
use crate::oauth::OAuthClient;
use crate::publisher::{Network, NetworkLimits, PostRequest, Posted, PublishError, Publisher};
use crate::text;

const NETWORK: &str = "weibo";

pub const API_BASE: &str = "https://api.weibo.com";
pub const SHARE_PATH: &str = "/2/statuses/share.json";
/// `GET /2/account/get_uid.json` (header `Authorization: OAuth2 <token>`) → `{"uid": N}`:
/// the account the token belongs to.
pub const GET_UID_PATH: &str = "/2/account/get_uid.json";

/// Weibo's rules for a shared post (characters counted as [`text::count`] does for Weibo):
/// share.json documents `status` as "不超过140个汉字" (two ASCII characters count as one).
pub const LIMITS: NetworkLimits = NetworkLimits {
    max_chars: 140,
    url_chars: None,
    max_images: 1,
    // "pic … < 5M": strictly below 5 MiB.
    max_image_bytes: 5 * 1024 * 1024 - 1,
    max_image_side: 2048,
};

/// Error codes that mean the token is no longer good (expired, revoked, invalid).
const TOKEN_ERRORS: [u64; 8] = [21301, 21314, 21315, 21316, 21317, 21319, 21327, 21332];
/// "Out of rate limit" for IP / user / user per API, and "posting too fast".
const RATE_LIMIT_ERRORS: [u64; 4] = [10022, 10023, 10024, 20016];
/// Weibo's own trouble (system error, service unavailable, remote service error, busy).
const SERVER_ERRORS: [u64; 5] = [10001, 10002, 10003, 10009, 10010];
/// Repeated content: the same text was posted before.
const REPEATED_ERRORS: [u64; 2] = [20017, 20019];

/// The callback page Weibo hosts for apps without a web server of their own: the browser
/// lands on it with `?code=…` in the address, which the owner pastes back
/// ([`crate::oauth::code_from_paste`]).
pub const DEFAULT_REDIRECT_URI: &str = "https://api.weibo.com/oauth2/default.html";

/// The Weibo OAuth2 endpoints for an app (`app_key` is the client id). `redirect_uri` must
/// match the app's registered callback page (授权回调页) — a random loopback port cannot, so
/// Weibo uses [`DEFAULT_REDIRECT_URI`] or the shop's own page, and the paste fallback.
pub fn oauth_client(
    api_base: &str,
    app_key: &str,
    app_secret: &str,
    redirect_uri: &str,
) -> OAuthClient {
    let base = api_base.trim().trim_end_matches('/');
    OAuthClient {
        network: Network::Weibo,
        authorize_endpoint: format!("{base}/oauth2/authorize"),
        token_endpoint: format!("{base}/oauth2/access_token"),
        client_id: app_key.to_string(),
        client_secret: app_secret.to_string(),
        redirect_uri: redirect_uri.to_string(),
        scope: String::new(),
    }
}

/// The account's uid in the OAuth `access_token` reply (`{"access_token": …, "uid": …}`),
/// sent as a number or a string; `None` when the reply has none.
pub fn uid_from_token_reply(raw: &str) -> Option<String> {
    let json: Value = serde_json::from_str(raw).ok()?;
    id_text(&json["uid"])
}

/// A Weibo id sent as a number or a non-empty string.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// Publishes to one Weibo account through one app.
pub struct WeiboPublisher {
    api_base: String,
    access_token: String,
    secure_domain: String,
    expires_at: Option<i64>,
    /// How long a share may take before it counts as unanswered.
    timeout: std::time::Duration,
    client: reqwest::Client,
}

impl std::fmt::Debug for WeiboPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeiboPublisher")
            .field("api_base", &self.api_base)
            .field("secure_domain", &self.secure_domain)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl WeiboPublisher {
    /// `secure_domain` is the app's 安全域名 (`shop.example.com`; a scheme or path is ignored).
    pub fn new(api_base: &str, access_token: &str, secure_domain: &str) -> WeiboPublisher {
        WeiboPublisher {
            api_base: api_base.trim().trim_end_matches('/').to_string(),
            access_token: access_token.to_string(),
            secure_domain: domain_of(secure_domain),
            expires_at: None,
            timeout: http::REQUEST_TIMEOUT,
            client: http::client(),
        }
    }

    /// When the token lapses (UTC unix seconds): past it, publishing asks to re-authorize
    /// without sending.
    pub fn with_expires_at(self, expires_at: Option<i64>) -> WeiboPublisher {
        WeiboPublisher { expires_at, ..self }
    }

    /// How long a share may take (default [`http::REQUEST_TIMEOUT`]); past it the post may or
    /// may not be on Weibo ([`PublishError::NoAnswer`]).
    pub fn with_request_timeout(self, timeout: std::time::Duration) -> WeiboPublisher {
        WeiboPublisher { timeout, ..self }
    }

    /// `Authorization: OAuth2 <access_token>`, as every Weibo API call wants it.
    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header(
            reqwest::header::AUTHORIZATION,
            format!("OAuth2 {}", self.access_token),
        )
    }

    /// Weibo only shares posts that link to the app's secure domain (or a subdomain of it).
    pub fn check_secure_link(&self, text: &str) -> Result<(), PublishError> {
        let on_domain = text::find_urls(text).into_iter().any(|(start, end)| {
            url::Url::parse(&text[start..end])
                .ok()
                .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
                .is_some_and(|host| {
                    host == self.secure_domain
                        || host.ends_with(&format!(".{}", self.secure_domain))
                })
        });
        if on_domain {
            Ok(())
        } else {
            Err(PublishError::Invalid(format!(
                "Weibo only shares posts that link to your app's secure domain ({}). \
                 Add the product's buy link on {} to the text.",
                self.secure_domain, self.secure_domain
            )))
        }
    }
}

/// `https://Shop.Example.com/x` → `shop.example.com`.
fn domain_of(input: &str) -> String {
    let input = input.trim();
    let without_scheme = input.split_once("://").map_or(input, |(_, rest)| rest);
    without_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// `status` is sent URL-encoded, as the share.json documentation requires ("必须做URLencode"),
/// with spaces as `%20` so both percent- and form-decoding read the same text.
pub fn encode_status(text: &str) -> String {
    // byte_serialize writes a space as '+' and a literal '+' as %2B: every '+' is a space.
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[async_trait]
impl Publisher for WeiboPublisher {
    fn network(&self) -> Network {
        Network::Weibo
    }

    async fn limits(&self) -> Result<NetworkLimits, PublishError> {
        Ok(LIMITS)
    }

    async fn publish(&self, request: &PostRequest) -> Result<Posted, PublishError> {
        let limits = self.limits().await?;
        self.validate(request, &limits)?;
        self.check_secure_link(&request.text)?;
        if let Some(expires_at) = self.expires_at
            && expires_at <= jiff::Timestamp::now().as_second()
        {
            return Err(PublishError::Reconnect {
                network: NETWORK,
                message: "Weibo's authorization has expired: re-authorize the account.".into(),
                raw: String::new(),
            });
        }

        let mut form = reqwest::multipart::Form::new().text("status", encode_status(&request.text));
        if let Some(image) = request.images.first() {
            let photo = images::fit(&image.bytes, limits.max_image_bytes, limits.max_image_side)?;
            // Weibo takes JPEG, GIF and PNG only; fit() keeps a small WebP as it is.
            let photo = if photo.mime == "image/webp" {
                let jpeg = webp_as_jpeg(&photo.bytes)?;
                images::fit(&jpeg, limits.max_image_bytes, limits.max_image_side)?
            } else {
                photo
            };
            let extension = if photo.mime == "image/png" {
                "png"
            } else {
                "jpg"
            };
            let part = reqwest::multipart::Part::bytes(photo.bytes)
                .file_name(format!("photo.{extension}"))
                .mime_str(photo.mime)
                .map_err(|e| PublishError::BadResponse {
                    network: NETWORK,
                    detail: format!("photo type: {e}"),
                })?;
            form = form.part("pic", part);
        }
        let post = self
            .authorized(self.client.post(format!("{}{SHARE_PATH}", self.api_base)))
            .timeout(self.timeout)
            .multipart(form);
        let response = http::send(NETWORK, post).await?;
        read_share_reply(&response)
    }

    /// The uid the token belongs to (`GET /2/account/get_uid.json`).
    async fn who_am_i(&self) -> Result<String, PublishError> {
        let request = self.authorized(self.client.get(format!("{}{GET_UID_PATH}", self.api_base)));
        let response = http::send(NETWORK, request).await?;
        read_reply(&response, "the reply has no uid", |json| {
            id_text(&json["uid"])
        })
    }
}

fn webp_as_jpeg(webp: &[u8]) -> Result<Vec<u8>, PublishError> {
    let unreadable = |e: image::ImageError| {
        PublishError::Invalid(format!("The photo could not be converted for Weibo: {e}"))
    };
    let rgb = image::load_from_memory(webp).map_err(unreadable)?.to_rgb8();
    let mut jpeg = Vec::new();
    rgb.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut jpeg, 90,
    ))
    .map_err(unreadable)?;
    Ok(jpeg)
}

/// A share.json reply → the post, or what went wrong in the owner's words.
fn read_share_reply(response: &RawResponse) -> Result<Posted, PublishError> {
    read_reply(response, "the reply has no post id", |json| {
        let id = match (&json["idstr"], &json["id"]) {
            (Value::String(s), _) if !s.is_empty() => Some(s.clone()),
            (_, Value::Number(n)) => Some(n.to_string()),
            (_, Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }?;
        Some(Posted {
            url: post_url(json, &id),
            remote_id: id,
            raw: response.text(),
        })
    })
}

/// A Weibo API reply → what `pick` finds in its JSON, or what went wrong in the owner's
/// words (`missing` when a success reply lacks it).
fn read_reply<T>(
    response: &RawResponse,
    missing: &str,
    pick: impl FnOnce(&Value) -> Option<T>,
) -> Result<T, PublishError> {
    let raw = response.text();
    let Ok(json) = serde_json::from_slice::<Value>(&response.body) else {
        return Err(match response.status {
            401 | 403 => reconnect(raw),
            200..=299 => PublishError::BadResponse {
                network: NETWORK,
                detail: "the reply is not JSON".into(),
            },
            status => PublishError::Rejected {
                network: NETWORK,
                code: status.to_string(),
                message: format!("HTTP {status}"),
                raw,
            },
        });
    };
    if let Some(code) = http::json_u64(&json["error_code"]) {
        return Err(weibo_error(code, &json, raw));
    }
    match pick(&json) {
        Some(found) if (200..300).contains(&response.status) => Ok(found),
        _ if json.get("error").is_some() || response.status >= 400 => Err(match response.status {
            401 | 403 => reconnect(raw),
            status => PublishError::Rejected {
                network: NETWORK,
                code: status.to_string(),
                message: json["error"].as_str().unwrap_or("refused").to_string(),
                raw,
            },
        }),
        _ => Err(PublishError::BadResponse {
            network: NETWORK,
            detail: missing.into(),
        }),
    }
}

/// `https://weibo.com/<user idstr>/<status idstr>`: weibo.com opens a post by its numeric id
/// under its author's uid (and redirects to the short base62 form). Without a user in the
/// reply, the mobile site's `https://m.weibo.cn/status/<idstr>` needs no uid.
fn post_url(json: &Value, id: &str) -> String {
    let user = &json["user"];
    let uid = match (&user["idstr"], &user["id"]) {
        (Value::String(s), _) if !s.is_empty() => Some(s.clone()),
        (_, Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match uid {
        Some(uid) => format!("https://weibo.com/{uid}/{id}"),
        None => format!("https://m.weibo.cn/status/{id}"),
    }
}

fn weibo_error(code: u64, json: &Value, raw: String) -> PublishError {
    let said = json["error"].as_str().unwrap_or_default();
    let rejected = |message: String| PublishError::Rejected {
        network: NETWORK,
        code: code.to_string(),
        message,
        raw: raw.clone(),
    };
    if TOKEN_ERRORS.contains(&code) {
        reconnect(raw)
    } else if REPEATED_ERRORS.contains(&code) {
        rejected(
            "Weibo refuses repeated content: this text was posted before (perhaps by an earlier \
             try). Check the account, or change the text."
                .into(),
        )
    } else if RATE_LIMIT_ERRORS.contains(&code) {
        PublishError::RateLimited {
            network: NETWORK,
            retry_after: None,
        }
    } else if SERVER_ERRORS.contains(&code) {
        PublishError::Server {
            network: NETWORK,
            status: 500,
            body: raw,
        }
    } else if code == 20012 {
        rejected(format!("Weibo says the text is too long ({said})."))
    } else {
        rejected(format!("Weibo error {code}: {said}"))
    }
}

fn reconnect(raw: String) -> PublishError {
    PublishError::Reconnect {
        network: NETWORK,
        message: "Weibo's authorization has expired or was withdrawn: re-authorize the account."
            .into(),
        raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_percent_encoded_with_spaces_as_20() {
        assert_eq!(
            encode_status("青花 a+b https://s.example/p?x=1&y=2"),
            "%E9%9D%92%E8%8A%B1%20a%2Bb%20https%3A%2F%2Fs.example%2Fp%3Fx%3D1%26y%3D2"
        );
    }

    #[test]
    fn the_uid_is_read_from_the_token_reply_as_number_or_string() {
        let number = r#"{"access_token":"2.00x","expires_in":157679999,"uid":1404376560}"#;
        assert_eq!(uid_from_token_reply(number).as_deref(), Some("1404376560"));
        let string = r#"{"access_token":"2.00x","remind_in":"157679999","uid":"1404376560"}"#;
        assert_eq!(uid_from_token_reply(string).as_deref(), Some("1404376560"));
        assert_eq!(uid_from_token_reply(r#"{"access_token":"2.00x"}"#), None);
        assert_eq!(uid_from_token_reply(r#"{"uid":""}"#), None);
        assert_eq!(uid_from_token_reply(r#"{"uid":null}"#), None);
        assert_eq!(uid_from_token_reply("<html>"), None);
    }

    #[test]
    fn secure_domain_allows_itself_and_subdomains_only() {
        let weibo = WeiboPublisher::new(API_BASE, "t", "https://Shop.Example.com/");
        assert!(
            weibo
                .check_secure_link("买 https://shop.example.com/p/1")
                .is_ok()
        );
        assert!(
            weibo
                .check_secure_link("买 https://www.shop.example.com/p/1")
                .is_ok()
        );
        assert!(
            weibo
                .check_secure_link("买 https://evilshop.example.com/p/1")
                .is_err()
        );
        assert!(
            weibo
                .check_secure_link("买 https://shop.example.com.evil.io/p")
                .is_err()
        );
        assert!(weibo.check_secure_link("买 shop.example.com").is_err());
    }
}
