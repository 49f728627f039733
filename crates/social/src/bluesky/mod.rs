//! Bluesky: posts to the account's PDS over XRPC with an app password — photos as blobs, the
//! post as an `app.bsky.feed.post` record whose key is derived from the outbox key.

use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::http::{self, RawResponse};
use crate::images;
use crate::publisher::{
    Credentials, Network, NetworkLimits, PostRequest, Posted, PublishError, Publisher,
};
use crate::text;

mod record;
mod xrpc;

use record::post_record;
pub use record::record_key;
use xrpc::{
    bad_response, create_session, parse_session, read_json, service_base, token_rejected,
    xrpc_error, xrpc_error_code, xrpc_url,
};

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

    /// The session's handle, as `com.atproto.server.getSession` tells it (the session is
    /// renewed first when its access token has lapsed).
    async fn who_am_i(&self) -> Result<String, PublishError> {
        #[derive(Deserialize)]
        struct Reply {
            handle: String,
        }
        let url = self.xrpc("com.atproto.server.getSession");
        let response = self.authed(|| self.client.get(&url)).await?;
        if response.status != 200 {
            return Err(xrpc_error(&response));
        }
        let reply: Reply = read_json(&response)?;
        Ok(reply.handle)
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
