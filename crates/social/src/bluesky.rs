//! Bluesky: posts to the account's PDS over XRPC with an app password — photos as blobs, the
//! post as an `app.bsky.feed.post` record whose key is derived from the outbox key.

use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::http::{self, RawResponse};
use crate::images;
use crate::publisher::{
    Credentials, Network, NetworkLimits, PostRequest, Posted, PublishError, Publisher,
};
use crate::text::{self, FacetFeature};

const NETWORK: &str = "bluesky";
const POST: &str = "app.bsky.feed.post";
pub const MAX_GRAPHEMES: usize = 300;
/// The lexicon's second limit on `text`, which 300 long emoji sequences can break.
pub const MAX_TEXT_BYTES: usize = 3_000;
pub const MAX_IMAGE_BYTES: usize = 1_000_000;
pub const MAX_IMAGE_SIDE: u32 = 2_000;
/// `app.bsky.feed.post#langs` holds at most three tags.
const MAX_LANGS: usize = 3;

/// A signed-in session: who the account is, and its access/refresh JWT pair.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub did: String,
    pub handle: String,
    pub access_jwt: String,
    pub refresh_jwt: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

/// The handle and app password, kept to sign in again when the refresh token has lapsed.
struct Login {
    identifier: String,
    app_password: String,
}

/// One Bluesky account on its PDS.
pub struct BlueskyPublisher {
    client: reqwest::Client,
    /// PDS base URL without a trailing slash (`https://bsky.social`).
    service: String,
    login: Option<Login>,
    session: Mutex<Session>,
    /// Held while renewing, so concurrent posts refresh the session once, not each.
    renewing: tokio::sync::Mutex<()>,
}

impl BlueskyPublisher {
    /// Signs in with `com.atproto.server.createSession`. A wrong or revoked app password is
    /// [`PublishError::Reconnect`].
    pub async fn connect(
        service_url: &str,
        handle: &str,
        app_password: &str,
    ) -> Result<(BlueskyPublisher, Session), PublishError> {
        let service = service_base(service_url)?;
        let login = Login {
            identifier: handle.trim().trim_start_matches('@').to_string(),
            app_password: app_password.trim().to_string(),
        };
        let client = http::client();
        let session = create_session(&client, &service, &login).await?;
        let publisher = BlueskyPublisher {
            client,
            service,
            login: Some(login),
            session: Mutex::new(session.clone()),
            renewing: tokio::sync::Mutex::new(()),
        };
        Ok((publisher, session))
    }

    /// Signs in with the credentials the engine keeps in the keychain.
    pub async fn from_credentials(
        credentials: &Credentials,
    ) -> Result<BlueskyPublisher, PublishError> {
        match credentials {
            Credentials::AppPassword {
                service,
                handle,
                app_password,
            } => Ok(Self::connect(service, handle, app_password).await?.0),
            Credentials::OAuth { .. } => Err(PublishError::Invalid(
                "A Bluesky account connects with its handle and an app password.".into(),
            )),
        }
    }

    /// Picks up a saved session without signing in again. Without the app password, a
    /// refresh token that no longer works means [`PublishError::Reconnect`].
    pub fn resume(service_url: &str, session: Session) -> Result<BlueskyPublisher, PublishError> {
        Ok(BlueskyPublisher {
            client: http::client(),
            service: service_base(service_url)?,
            login: None,
            session: Mutex::new(session),
            renewing: tokio::sync::Mutex::new(()),
        })
    }

    pub fn did(&self) -> String {
        self.current().did
    }

    pub fn handle(&self) -> String {
        self.current().handle
    }

    /// The current session (tokens rotate on refresh), for saving.
    pub fn session(&self) -> Session {
        self.current()
    }

    fn current(&self) -> Session {
        self.session.lock().expect("session lock").clone()
    }

    fn xrpc(&self, nsid: &str) -> String {
        xrpc_url(&self.service, nsid)
    }

    /// Sends an authenticated request; on an expired (or unverifiable) access token renews
    /// the session once and sends it again.
    async fn authed(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<RawResponse, PublishError> {
        let access = self.current().access_jwt;
        let response = http::send(NETWORK, build().bearer_auth(&access)).await?;
        if !token_rejected(&response) {
            return Ok(response);
        }
        self.renew(&access).await?;
        let access = self.current().access_jwt;
        http::send(NETWORK, build().bearer_auth(&access)).await
    }

    /// `com.atproto.server.refreshSession`, else (refresh token revoked or lapsed) a fresh
    /// sign-in when the app password is known.
    async fn renew(&self, failed_access: &str) -> Result<(), PublishError> {
        let _renewing = self.renewing.lock().await;
        let current = self.current();
        if current.access_jwt != failed_access {
            return Ok(()); // another post renewed it meanwhile
        }
        let response = http::send(
            NETWORK,
            self.client
                .post(self.xrpc("com.atproto.server.refreshSession"))
                .bearer_auth(&current.refresh_jwt),
        )
        .await?;
        let renewed = if response.status == 200 {
            parse_session(&response)?
        } else if let Some(login) = &self.login {
            create_session(&self.client, &self.service, login).await?
        } else {
            return Err(xrpc_error(&response));
        };
        *self.session.lock().expect("session lock") = renewed;
        Ok(())
    }

    /// The post already stored under `rkey`, if any (`com.atproto.repo.getRecord`, public).
    async fn existing(&self, rkey: &str) -> Result<Option<Posted>, PublishError> {
        let did = self.did();
        let response = http::send(
            NETWORK,
            self.client
                .get(self.xrpc("com.atproto.repo.getRecord"))
                .query(&[("repo", did.as_str()), ("collection", POST), ("rkey", rkey)]),
        )
        .await?;
        if response.status == 200 {
            return self.posted(&response).map(Some);
        }
        match xrpc_error_code(&response).as_deref() {
            Some("RecordNotFound") => Ok(None),
            _ => Err(xrpc_error(&response)),
        }
    }

    /// `com.atproto.repo.uploadBlob`; returns the blob reference for the record.
    async fn upload_blob(&self, bytes: Vec<u8>, mime: &str) -> Result<Value, PublishError> {
        let url = self.xrpc("com.atproto.repo.uploadBlob");
        let response = self
            .authed(|| {
                self.client
                    .post(&url)
                    .header(reqwest::header::CONTENT_TYPE, mime)
                    .body(bytes.clone())
            })
            .await?;
        if response.status != 200 {
            return Err(xrpc_error(&response));
        }
        let mut reply: Value = read_json(&response)?;
        match reply.get_mut("blob").map(Value::take) {
            Some(blob @ Value::Object(_)) => Ok(blob),
            _ => Err(bad_response("uploadBlob reply has no blob")),
        }
    }

    /// `com.atproto.repo.createRecord` under our own `rkey`, with lexicon validation.
    async fn create_record(&self, rkey: &str, record: &Value) -> Result<Posted, PublishError> {
        let url = self.xrpc("com.atproto.repo.createRecord");
        let body = json!({
            "repo": self.did(),
            "collection": POST,
            "rkey": rkey,
            "validate": true,
            "record": record,
        });
        let response = self.authed(|| self.client.post(&url).json(&body)).await?;
        if response.status != 200 {
            return Err(xrpc_error(&response));
        }
        self.posted(&response)
    }

    /// A `Posted` from a createRecord or getRecord reply (both carry `uri`).
    fn posted(&self, response: &RawResponse) -> Result<Posted, PublishError> {
        #[derive(Deserialize)]
        struct Reply {
            uri: String,
        }
        let reply: Reply = read_json(response)?;
        let rkey = reply
            .uri
            .rsplit('/')
            .next()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| bad_response("the post's AT URI has no record key"))?;
        Ok(Posted {
            url: format!("https://bsky.app/profile/{}/post/{rkey}", self.handle()),
            remote_id: reply.uri,
            raw: response.text(),
        })
    }
}

#[async_trait]
impl Publisher for BlueskyPublisher {
    fn network(&self) -> Network {
        Network::Bluesky
    }

    async fn limits(&self) -> Result<NetworkLimits, PublishError> {
        Ok(limits())
    }

    fn validate(&self, request: &PostRequest, limits: &NetworkLimits) -> Result<(), PublishError> {
        text::validate(Network::Bluesky, request, limits)?;
        if request.text.len() > MAX_TEXT_BYTES {
            return Err(PublishError::Invalid(format!(
                "The text takes {} bytes and Bluesky keeps at most {MAX_TEXT_BYTES}: long emoji \
                 sequences count many times. Shorten it a little.",
                request.text.len()
            )));
        }
        Ok(())
    }

    async fn publish(&self, request: &PostRequest) -> Result<Posted, PublishError> {
        self.validate(request, &limits())?;
        let rkey = record_key(&request.idempotency_key);
        // An earlier attempt may have landed even though its reply never came back.
        if let Some(posted) = self.existing(&rkey).await? {
            return Ok(posted);
        }
        let mut embedded = Vec::with_capacity(request.images.len());
        for image in &request.images {
            let original = image.bytes.clone();
            let fitted = tokio::task::spawn_blocking(move || {
                images::fit(&original, MAX_IMAGE_BYTES, MAX_IMAGE_SIDE)
            })
            .await
            .map_err(|e| {
                PublishError::Invalid(format!("The photo could not be prepared: {e}"))
            })??;
            let blob = self.upload_blob(fitted.bytes, fitted.mime).await?;
            embedded.push(json!({
                "alt": image.alt,
                "image": blob,
                "aspectRatio": {"width": fitted.width.max(1), "height": fitted.height.max(1)},
            }));
        }
        let record = post_record(request, embedded, jiff::Timestamp::now());
        match self.create_record(&rkey, &record).await {
            Ok(posted) => Ok(posted),
            // The PDS answers a key that is already taken with a 500, and a timeout can hide
            // a success: look before reporting a failure.
            Err(err) if !matches!(err, PublishError::Reconnect { .. }) => {
                match self.existing(&rkey).await {
                    Ok(Some(posted)) => Ok(posted),
                    _ => Err(err),
                }
            }
            Err(err) => Err(err),
        }
    }
}

pub fn limits() -> NetworkLimits {
    NetworkLimits {
        max_chars: MAX_GRAPHEMES,
        url_chars: None,
        max_images: 4,
        max_image_bytes: MAX_IMAGE_BYTES,
        max_image_side: MAX_IMAGE_SIDE,
    }
}

/// The record key for a post: a TID (what `app.bsky.feed.post` requires) computed from the
/// outbox's idempotency key, so every retry writes to the same key and can never duplicate.
///
/// A TID is a microsecond timestamp and a 10-bit clock id in sortable base32. The outbox key
/// carries no time, so both parts come from a hash; the timestamp is kept inside the first
/// 203 days of 2023 (before any Shopcast post) rather than anywhere up to the year 2255.
pub fn record_key(idempotency_key: &str) -> String {
    const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    const BASE_MICROS: u64 = 1_672_531_200_000_000; // 2023-01-01T00:00:00Z
    let digest = Sha256::new()
        .chain_update(b"shopcast bluesky record key\0")
        .chain_update(idempotency_key.as_bytes())
        .finalize();
    let bits = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    let micros = BASE_MICROS + (bits >> 20); // 44 bits of spread
    let clock_id = bits & 0x3ff;
    let tid = (micros << 10) | clock_id; // top bit stays 0 until the year 2255
    (0..13)
        .map(|i| ALPHABET[((tid >> (60 - 5 * i)) & 31) as usize] as char)
        .collect()
}

/// The `app.bsky.feed.post` record: text, time, languages, link and tag facets, photos.
fn post_record(request: &PostRequest, images: Vec<Value>, now: jiff::Timestamp) -> Value {
    let mut record = json!({
        "$type": POST,
        "text": request.text,
        "createdAt": now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
    });
    let langs: Vec<&str> = request
        .languages
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .take(MAX_LANGS)
        .collect();
    if !langs.is_empty() {
        record["langs"] = json!(langs);
    }
    let facets = facets(&request.text, request.link.as_deref());
    if !facets.is_empty() {
        record["facets"] = Value::Array(facets);
    }
    if !images.is_empty() {
        record["embed"] = json!({"$type": "app.bsky.embed.images", "images": images});
    }
    record
}

/// `app.bsky.richtext.facet`s by UTF-8 byte offsets. The tracked buy link is linked exactly
/// as given, even where the plain URL scan would have cut it short.
fn facets(text: &str, link: Option<&str>) -> Vec<Value> {
    let mut found = text::facets(text);
    if let Some(link) = link.filter(|l| !l.is_empty())
        && let Some(start) = text.find(link)
    {
        let end = start + link.len();
        found.retain(|f| f.byte_end <= start || f.byte_start >= end);
        found.push(text::Facet {
            byte_start: start,
            byte_end: end,
            feature: FacetFeature::Link(link.to_string()),
        });
        found.sort_by_key(|f| f.byte_start);
    }
    found
        .into_iter()
        .map(|facet| {
            let feature = match facet.feature {
                FacetFeature::Link(uri) => {
                    json!({"$type": "app.bsky.richtext.facet#link", "uri": uri})
                }
                FacetFeature::Tag(tag) => {
                    json!({"$type": "app.bsky.richtext.facet#tag", "tag": tag})
                }
            };
            json!({
                "index": {"byteStart": facet.byte_start, "byteEnd": facet.byte_end},
                "features": [feature],
            })
        })
        .collect()
}

fn service_base(service_url: &str) -> Result<String, PublishError> {
    let trimmed = service_url.trim().trim_end_matches('/');
    match url::Url::parse(trimmed) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(trimmed.to_string()),
        _ => Err(PublishError::Invalid(format!(
            "“{service_url}” is not a Bluesky server address; for most accounts it is \
             https://bsky.social."
        ))),
    }
}

fn xrpc_url(service: &str, nsid: &str) -> String {
    format!("{service}/xrpc/{nsid}")
}

async fn create_session(
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

fn parse_session(response: &RawResponse) -> Result<Session, PublishError> {
    read_json(response)
}

fn read_json<T: serde::de::DeserializeOwned>(response: &RawResponse) -> Result<T, PublishError> {
    serde_json::from_slice(&response.body).map_err(|e| bad_response(&e.to_string()))
}

fn bad_response(detail: &str) -> PublishError {
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

fn xrpc_error_code(response: &RawResponse) -> Option<String> {
    serde_json::from_slice::<XrpcError>(&response.body)
        .ok()
        .map(|e| e.error)
}

/// An access token the PDS will not take (the only case worth a refresh).
fn token_rejected(response: &RawResponse) -> bool {
    matches!(response.status, 400 | 401)
        && matches!(
            xrpc_error_code(response).as_deref(),
            Some("ExpiredToken" | "InvalidToken")
        )
}

/// Sorts an XRPC error reply (`{error, message}`) into reconnect or rejected, keeping the
/// PDS's own words.
fn xrpc_error(response: &RawResponse) -> PublishError {
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

    fn reply(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status,
            body: body.as_bytes().to_vec(),
            headers: Default::default(),
        }
    }

    #[test]
    fn record_keys_are_stable_distinct_valid_tids() {
        let key = record_key("shopcast-7Q2M0ZP4KX9D1B3C5V8N");
        assert_eq!(key, record_key("shopcast-7Q2M0ZP4KX9D1B3C5V8N"));
        assert_ne!(key, record_key("shopcast-7Q2M0ZP4KX9D1B3C5V8M"));
        for seed in 0..500 {
            let key = record_key(&format!("post-{seed}"));
            assert_eq!(key.len(), 13);
            assert!(
                key.bytes()
                    .all(|b| b"234567abcdefghijklmnopqrstuvwxyz".contains(&b))
            );
            // The TID syntax: the first character holds the zero top bit.
            assert!(b"234567abcdefghij".contains(&key.as_bytes()[0]), "{key}");
            // Inside 2023-01-01 … 2023-07-23: in the past, far from the year 2255.
            assert!(
                key.as_str() >= "3jl7442uk2222" && key.as_str() <= "3k37442ujzzzz",
                "{key}"
            );
        }
    }

    #[test]
    fn facets_link_the_whole_tracked_link_and_tags() {
        let link = "https://shop.example.com/p/CUP-1?src=post&post=42";
        // No space after the link: a plain URL scan would run on into 立即购买.
        let text = format!("青花瓷杯 🍵 ¥88 {link}立即购买 #茶");
        let facets = facets(&text, Some(link));
        let start = facets[0]["index"]["byteStart"].as_u64().unwrap() as usize;
        let end = facets[0]["index"]["byteEnd"].as_u64().unwrap() as usize;
        assert_eq!(&text.as_bytes()[start..end], link.as_bytes());
        assert_eq!(facets[0]["features"][0]["uri"], link);
        assert_eq!(facets[1]["features"][0]["tag"], "茶");
        assert_eq!(facets.len(), 2);
    }

    #[test]
    fn record_carries_time_langs_and_photos() {
        let request = PostRequest {
            text: "hi".into(),
            link: None,
            images: vec![],
            idempotency_key: "k".into(),
            languages: vec!["zh".into(), "en".into(), "ja".into(), "ko".into()],
        };
        let at: jiff::Timestamp = "2025-03-04T05:06:07.891234Z".parse().unwrap();
        let record = post_record(&request, vec![json!({"alt": "a"})], at);
        assert_eq!(record["createdAt"], "2025-03-04T05:06:07.891Z");
        assert_eq!(record["langs"], json!(["zh", "en", "ja"]));
        assert_eq!(record["embed"]["$type"], "app.bsky.embed.images");
        assert!(record.get("facets").is_none());
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
