//! Mastodon: registering Shopcast as an app on an instance (OAuth2, see [`crate::oauth`]) and
//! publishing statuses with photos through the instance's REST API, within its own limits.
//!
//! Retries are safe: the status is posted with `Idempotency-Key`, so a retry returns the first
//! status instead of a second one. Mastodon remembers a key for about an hour; photos uploaded
//! by an attempt that failed stay unattached and are cleaned up by the instance.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::http::{self, RawResponse};
use crate::images::{self, FittedImage};
use crate::oauth::{OAuthClient, OAuthError};
use crate::publisher::{Network, NetworkLimits, PostRequest, Posted, PublishError, Publisher};

const NETWORK: &str = "mastodon";

pub const CLIENT_NAME: &str = "Shopcast";
/// Read the account, upload photos, post statuses — nothing else.
pub const SCOPES: &str = "read write:media write:statuses";
pub const WEBSITE: &str = "https://shopcast.app";

/// Used when the instance does not say (Mastodon 4.x defaults).
pub const FALLBACK_LIMITS: NetworkLimits = NetworkLimits {
    max_chars: 500,
    url_chars: Some(23),
    max_images: 4,
    max_image_bytes: 16 * 1024 * 1024,
    max_image_side: 4096,
};

/// How long a photo may stay "processing" (202, `url: null`) before we give up for now.
pub const MEDIA_PROCESSING_TIMEOUT: Duration = Duration::from_secs(60);

/// Shopcast registered on one instance.
#[derive(Clone, PartialEq, Eq)]
pub struct App {
    /// `https://host`, no trailing slash.
    pub instance: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("instance", &self.instance)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The instance's OAuth endpoints for this app, asking for [`SCOPES`].
    pub fn oauth_client(&self) -> OAuthClient {
        OAuthClient {
            network: Network::Mastodon,
            authorize_endpoint: format!("{}/oauth/authorize", self.instance),
            token_endpoint: format!("{}/oauth/token", self.instance),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            redirect_uri: self.redirect_uri.clone(),
            scope: SCOPES.to_string(),
        }
    }
}

/// Registers Shopcast on `instance_url` (`POST /api/v1/apps`). Mastodon matches the redirect
/// URI exactly, port included: bind the [`crate::oauth::LoopbackCatcher`] first and pass its
/// URI (or [`crate::oauth::OOB_REDIRECT_URI`] for the paste fallback).
pub async fn register_app(instance_url: &str, redirect_uri: &str) -> Result<App, OAuthError> {
    let instance = instance_base(instance_url)?;
    let form = [
        ("client_name", CLIENT_NAME),
        ("redirect_uris", redirect_uri),
        ("scopes", SCOPES),
        ("website", WEBSITE),
    ];
    let request = http::client()
        .post(format!("{instance}/api/v1/apps"))
        .form(&form);
    let response = http::send(NETWORK, request).await?;
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    let field = |name: &str| http::json_text(json.as_ref(), name);
    match (field("client_id"), field("client_secret")) {
        (Some(client_id), Some(client_secret)) if response.status == 200 => Ok(App {
            instance,
            client_id,
            client_secret,
            redirect_uri: redirect_uri.to_string(),
        }),
        _ if response.status == 200 => Err(OAuthError::Http(PublishError::BadResponse {
            network: NETWORK,
            detail: "the app registration reply has no client_id".into(),
        })),
        _ => Err(OAuthError::Refused {
            network: NETWORK,
            status: response.status,
            message: error_text(&response),
            raw: response.text(),
        }),
    }
}

/// `mastodon.social`, `https://mastodon.social/` → `https://mastodon.social`; plain http only
/// on this computer.
pub fn instance_base(instance_url: &str) -> Result<String, PublishError> {
    let trimmed = instance_url.trim();
    if trimmed.contains("://") {
        http::secure_base("Mastodon server", trimmed)
    } else {
        http::secure_base("Mastodon server", &format!("https://{trimmed}"))
    }
}

/// The connected account, as `verify_credentials` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    /// `user` on its own instance (`user@host` elsewhere).
    pub acct: String,
    pub username: String,
    pub display_name: String,
    /// The profile page.
    pub url: String,
}

/// Publishes to one account on one instance with an OAuth access token.
pub struct MastodonPublisher {
    instance: String,
    access_token: String,
    client: reqwest::Client,
    limits: OnceCell<NetworkLimits>,
    media_timeout: Duration,
}

impl std::fmt::Debug for MastodonPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MastodonPublisher")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl MastodonPublisher {
    /// Refuses an instance address that is not https (plain http only on this computer).
    pub fn new(instance: &str, access_token: &str) -> Result<MastodonPublisher, PublishError> {
        Ok(MastodonPublisher {
            instance: instance_base(instance)?,
            access_token: access_token.to_string(),
            client: http::client(),
            limits: OnceCell::new(),
            media_timeout: MEDIA_PROCESSING_TIMEOUT,
        })
    }

    /// Uses `limits` instead of asking the instance (e.g. limits the engine already stored).
    pub fn with_limits(self, limits: NetworkLimits) -> MastodonPublisher {
        MastodonPublisher {
            limits: OnceCell::new_with(Some(limits)),
            ..self
        }
    }

    /// How long to wait for an uploaded photo to finish processing (default 60 s).
    pub fn with_media_processing_timeout(self, timeout: Duration) -> MastodonPublisher {
        MastodonPublisher {
            media_timeout: timeout,
            ..self
        }
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The account the token belongs to. A revoked or unknown token → `Reconnect`.
    pub async fn verify_credentials(&self) -> Result<Account, PublishError> {
        let request = self
            .client
            .get(format!(
                "{}/api/v1/accounts/verify_credentials",
                self.instance
            ))
            .bearer_auth(&self.access_token);
        let response = http::send(NETWORK, request).await?;
        if response.status != 200 {
            return Err(refusal(&response, None));
        }
        let json = read_json(&response)?;
        let text = |name: &str| {
            json.get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let account = Account {
            id: text("id"),
            acct: text("acct"),
            username: text("username"),
            display_name: text("display_name"),
            url: text("url"),
        };
        if account.id.is_empty() || account.acct.is_empty() {
            return Err(bad_response("the account has no id or acct"));
        }
        Ok(account)
    }

    async fn fetch_limits(&self) -> Result<NetworkLimits, PublishError> {
        let mut response = None;
        // v2 since Mastodon 4.0; older instances only have v1 (same `configuration` block).
        for path in ["/api/v2/instance", "/api/v1/instance"] {
            let request = self.client.get(format!("{}{path}", self.instance));
            let reply = http::send(NETWORK, request).await?;
            if reply.status == 200 {
                response = Some(reply);
                break;
            }
        }
        let Some(json) = response.and_then(|r| serde_json::from_slice::<Value>(&r.body).ok())
        else {
            return Ok(FALLBACK_LIMITS);
        };
        let config = &json["configuration"];
        let number = |value: &Value| value.as_u64().map(|n| n as usize);
        let matrix = number(&config["media_attachments"]["image_matrix_limit"]);
        Ok(NetworkLimits {
            max_chars: number(&config["statuses"]["max_characters"])
                .unwrap_or(FALLBACK_LIMITS.max_chars),
            url_chars: number(&config["statuses"]["characters_reserved_per_url"])
                .or(FALLBACK_LIMITS.url_chars),
            max_images: number(&config["statuses"]["max_media_attachments"])
                .unwrap_or(FALLBACK_LIMITS.max_images),
            max_image_bytes: number(&config["media_attachments"]["image_size_limit"])
                .unwrap_or(FALLBACK_LIMITS.max_image_bytes),
            // The instance refuses more pixels than image_matrix_limit; a longest side of
            // √limit keeps any shape under it.
            max_image_side: matrix
                .map(|pixels| (pixels as f64).sqrt() as u32)
                .filter(|side| *side >= 256)
                .unwrap_or(FALLBACK_LIMITS.max_image_side),
        })
    }

    /// `POST /api/v2/media`; waits while the instance answers 202 (`url: null`).
    async fn upload_photo(
        &self,
        photo: FittedImage,
        alt: &str,
        position: usize,
    ) -> Result<String, PublishError> {
        let extension = match photo.mime {
            "image/png" => "png",
            "image/webp" => "webp",
            _ => "jpg",
        };
        let part = reqwest::multipart::Part::bytes(photo.bytes)
            .file_name(format!("photo-{position}.{extension}"))
            .mime_str(photo.mime)
            .map_err(|e| bad_response(&format!("photo type: {e}")))?;
        let mut form = reqwest::multipart::Form::new().part("file", part);
        if !alt.trim().is_empty() {
            form = form.text("description", alt.to_string());
        }
        let request = self
            .client
            .post(format!("{}/api/v2/media", self.instance))
            .bearer_auth(&self.access_token)
            .multipart(form);
        let response = http::send(NETWORK, request).await?;
        if !matches!(response.status, 200 | 202) {
            return Err(refusal(&response, Some(position)));
        }
        let json = read_json(&response)?;
        let id = json_id(&json).ok_or_else(|| bad_response("the photo reply has no id"))?;
        if response.status == 202 || json["url"].is_null() {
            self.wait_until_processed(&id, position).await?;
        }
        Ok(id)
    }

    /// Polls `GET /api/v1/media/:id` (206 or `url: null` = still processing) with backoff.
    async fn wait_until_processed(&self, id: &str, position: usize) -> Result<(), PublishError> {
        let deadline = Instant::now() + self.media_timeout;
        let mut delay = Duration::from_millis(250);
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(PublishError::Unreachable {
                    network: NETWORK,
                    detail: format!(
                        "the instance was still processing photo {position} after {} s",
                        self.media_timeout.as_secs()
                    ),
                });
            }
            tokio::time::sleep(delay.min(deadline - now)).await;
            delay = (delay * 2).min(Duration::from_secs(5));
            let request = self
                .client
                .get(format!("{}/api/v1/media/{id}", self.instance))
                .bearer_auth(&self.access_token);
            let response = http::send(NETWORK, request).await?;
            match response.status {
                200 if !read_json(&response)?["url"].is_null() => return Ok(()),
                200 | 206 => continue,
                _ => return Err(refusal(&response, Some(position))),
            }
        }
    }
}

#[async_trait]
impl Publisher for MastodonPublisher {
    fn network(&self) -> Network {
        Network::Mastodon
    }

    /// The instance's limits (`GET /api/v2/instance`), asked once per publisher.
    async fn limits(&self) -> Result<NetworkLimits, PublishError> {
        self.limits
            .get_or_try_init(|| self.fetch_limits())
            .await
            .cloned()
    }

    /// The account's `acct` ([`MastodonPublisher::verify_credentials`]).
    async fn who_am_i(&self) -> Result<String, PublishError> {
        Ok(self.verify_credentials().await?.acct)
    }

    async fn publish(&self, request: &PostRequest) -> Result<Posted, PublishError> {
        let limits = self.limits().await?;
        self.validate(request, &limits)?;
        let mut media_ids = Vec::with_capacity(request.images.len());
        for (index, image) in request.images.iter().enumerate() {
            let photo = images::fit(&image.bytes, limits.max_image_bytes, limits.max_image_side)?;
            media_ids.push(self.upload_photo(photo, &image.alt, index + 1).await?);
        }

        let mut form: Vec<(&str, String)> = vec![
            ("status", request.text.clone()),
            ("visibility", "public".into()),
        ];
        form.extend(media_ids.into_iter().map(|id| ("media_ids[]", id)));
        if let Some(language) = request.languages.first().and_then(|l| language_code(l)) {
            form.push(("language", language));
        }
        let post = self
            .client
            .post(format!("{}/api/v1/statuses", self.instance))
            .bearer_auth(&self.access_token)
            .header("Idempotency-Key", &request.idempotency_key)
            .form(&form);
        let response = http::send(NETWORK, post).await?;
        if response.status != 200 {
            return Err(refusal(&response, None));
        }
        let json = read_json(&response)?;
        let remote_id = json_id(&json).ok_or_else(|| bad_response("the status has no id"))?;
        let url = ["url", "uri"]
            .iter()
            .find_map(|key| json[*key].as_str().filter(|u| !u.is_empty()))
            .ok_or_else(|| bad_response("the status has no url"))?
            .to_string();
        Ok(Posted {
            remote_id,
            url,
            raw: response.text(),
        })
    }
}

/// Mastodon takes one ISO 639 code per status: "zh-Hans-CN" → "zh".
fn language_code(tag: &str) -> Option<String> {
    let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
    (2..=3)
        .contains(&primary.len())
        .then_some(primary)
        .filter(|p| p.chars().all(|c| c.is_ascii_lowercase()))
}

/// A non-success reply: 401/403 → reconnect, anything else → the instance refused it, with
/// its own words (`{"error": "Validation failed: …"}`).
fn refusal(response: &RawResponse, photo: Option<usize>) -> PublishError {
    let error = error_text(response);
    match response.status {
        401 | 403 => PublishError::Reconnect {
            network: NETWORK,
            message: format!(
                "The instance no longer accepts Shopcast's access ({error}). Connect the account again."
            ),
            raw: response.text(),
        },
        status => PublishError::Rejected {
            network: NETWORK,
            code: status.to_string(),
            message: match photo {
                Some(position) => format!("photo {position} was refused: {error}"),
                None => error,
            },
            raw: response.text(),
        },
    }
}

fn error_text(response: &RawResponse) -> String {
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    json.as_ref()
        .and_then(|j| {
            ["error_description", "error", "detail"]
                .iter()
                .find_map(|key| j.get(*key).and_then(Value::as_str))
        })
        .map(str::to_string)
        .unwrap_or_else(|| {
            let text = response.text();
            let text = text.trim();
            if text.is_empty() || text.starts_with('<') {
                format!("HTTP {}", response.status)
            } else {
                text.chars().take(300).collect()
            }
        })
}

fn read_json(response: &RawResponse) -> Result<Value, PublishError> {
    serde_json::from_slice(&response.body).map_err(|e| bad_response(&format!("not JSON ({e})")))
}

fn json_id(json: &Value) -> Option<String> {
    match &json["id"] {
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

fn bad_response(detail: &str) -> PublishError {
    PublishError::BadResponse {
        network: NETWORK,
        detail: detail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_addresses_are_normalised_and_plain_http_stays_on_this_computer() {
        let base = |address: &str| instance_base(address).map_err(|e| e.to_string());
        assert_eq!(base("mastodon.social").unwrap(), "https://mastodon.social");
        assert_eq!(
            base(" https://mastodon.social/ ").unwrap(),
            "https://mastodon.social"
        );
        assert_eq!(
            base("http://127.0.0.1:3000").unwrap(),
            "http://127.0.0.1:3000"
        );
        assert_eq!(base("http://[::1]:3000").unwrap(), "http://[::1]:3000");
        assert_eq!(
            base("http://localhost:3000").unwrap(),
            "http://localhost:3000"
        );
        let refused = base("http://example.social").unwrap_err();
        assert!(refused.contains("plain http://"), "{refused}");
        assert!(base("http://127.0.0.1.example.social").is_err());
        assert!(base("ftp://example.social").is_err());
        assert!(MastodonPublisher::new("http://example.social", "t").is_err());
    }

    #[test]
    fn one_iso_639_code_per_status() {
        assert_eq!(language_code("zh-Hans-CN").as_deref(), Some("zh"));
        assert_eq!(language_code("EN_us").as_deref(), Some("en"));
        assert_eq!(language_code("yue").as_deref(), Some("yue"));
        assert_eq!(language_code(""), None);
        assert_eq!(language_code("x-private"), None);
    }
}
