//! The posting outbox: one row per post per account, published by a worker with bounded
//! concurrency. queued → sending → posted | failed. A sender claims a post with a lease, so
//! the window and `shopcast posts send` never send the same post at once; and each post has
//! a fixed idempotency key, so a retry (after a crash between "sent" and "stored", once the
//! lease ended) finds the post the network already has instead of creating a second one.
//! Transient errors (429 with Retry-After, 5xx, timeouts) retry with backoff; permanent ones
//! stop with a plain sentence and the network's raw reply. On a network without idempotency
//! keys (Weibo) a send with no answer stops as "maybe posted": a retry could post twice.
//! Scheduled posts fire while the app runs; those missed while it was closed wait for the
//! owner to say "post now" or "skip".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use shopcast_social::{PostImage, PostRequest, PublishError, Publisher};
use sqlx::AnyPool;
use tokio::sync::{Notify, broadcast};

use crate::catalog::photos::{MediaStore, Variant};
use crate::error::Result;
use crate::infra::secrets::SecretStore;
use crate::posting::accounts::{self, Account, AccountStatus};
use crate::posting::store;

/// Posts sent at the same time.
pub const CONCURRENCY: usize = 4;
/// Attempts before a transient failure becomes permanent.
pub const MAX_ATTEMPTS: i64 = 8;
/// Longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// How long a claim on a post lasts. Another sender (the window beside `shopcast posts send`)
/// leaves a claimed post alone until then; a sender that crashed mid-send is replaced after it.
pub const CLAIM_LEASE: Duration = Duration::from_secs(10 * 60);
/// A send gives up before its lease ends, so a live sender's lease is never taken over.
const SEND_DEADLINE: Duration = Duration::from_secs(8 * 60);

/// Opens a publisher for an account with its credential (the real networks in the app;
/// tests may open the same real ones against local peers).
#[async_trait]
pub trait PublisherFactory: Send + Sync {
    async fn open(
        &self,
        account: &Account,
        credential: &str,
    ) -> std::result::Result<Arc<dyn Publisher>, PublishError>;
}

crate::infra::text_enum! {
    /// Where a post stands: a draft being filled in, queued, being sent, posted, failed for
    /// good, missed while the app was closed (waits for the owner), or skipped.
    pub enum PostStatus {
        Draft = "draft",
        Queued = "queued",
        Sending = "sending",
        Posted = "posted",
        Failed = "failed",
        Missed = "missed",
        Skipped = "skipped",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Post {
    pub id: i64,
    pub account_id: i64,
    pub network: shopcast_social::Network,
    pub handle: String,
    pub product_id: Option<i64>,
    pub text: String,
    pub link: Option<String>,
    pub status: PostStatus,
    /// UTC ms.
    pub scheduled_at: i64,
    pub posted_at: Option<i64>,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub remote_id: Option<String>,
    pub url: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub error_raw: Option<String>,
}

/// The outbox service: publishers per account, the worker, and post updates for the UI.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<OutboxInner>,
}

struct OutboxInner {
    pool: AnyPool,
    /// This outbox's name on its claims (random: one per process and shop).
    owner: String,
    secrets: SecretStore,
    media: MediaStore,
    factory: Mutex<Arc<dyn PublisherFactory>>,
    publishers: Mutex<HashMap<i64, Arc<dyn Publisher>>>,
    updates: broadcast::Sender<Post>,
    wake: Notify,
    worker: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

impl Outbox {
    pub(crate) fn new(
        pool: AnyPool,
        secrets: SecretStore,
        media: MediaStore,
        factory: Arc<dyn PublisherFactory>,
    ) -> Outbox {
        let (updates, _) = broadcast::channel(256);
        Outbox {
            inner: Arc::new(OutboxInner {
                pool,
                owner: format!("outbox-{}", crate::infra::crockford_id(16)),
                secrets,
                media,
                factory: Mutex::new(factory),
                publishers: Mutex::new(HashMap::new()),
                updates,
                wake: Notify::new(),
                worker: Mutex::new(None),
            }),
        }
    }

    pub fn factory(&self) -> Arc<dyn PublisherFactory> {
        self.inner.factory.lock().expect("lock").clone()
    }

    pub fn set_factory(&self, factory: Arc<dyn PublisherFactory>) {
        *self.inner.factory.lock().expect("lock") = factory;
        self.inner.publishers.lock().expect("lock").clear();
    }

    /// Forgets an account's open publisher (after reconnecting or disconnecting it).
    pub fn forget(&self, account_id: i64) {
        self.inner
            .publishers
            .lock()
            .expect("lock")
            .remove(&account_id);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Post> {
        self.inner.updates.subscribe()
    }

    /// Wakes the worker (a post was queued or set to "post now").
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Starts the background worker: due posts are sent every second, or at once when woken.
    pub fn start(&self) {
        let outbox = self.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Err(error) = outbox.run_due(jiff::Timestamp::now()).await {
                    tracing::warn!(code = error.code().as_str(), "outbox run failed");
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = outbox.inner.wake.notified() => {}
                }
            }
        });
        if let Some(old) = self.inner.worker.lock().expect("lock").replace(task) {
            old.abort();
        }
    }

    pub fn stop(&self) {
        if let Some(task) = self.inner.worker.lock().expect("lock").take() {
            task.abort();
        }
    }

    /// Sends every post due at `now` (at most [`CONCURRENCY`] at once); returns the posts this
    /// outbox claimed, as they ended (those another sender holds are left to it).
    pub async fn run_due(&self, now: jiff::Timestamp) -> Result<Vec<Post>> {
        let due = store::due(&self.inner.pool, now.as_millisecond()).await?;
        use futures_util::StreamExt;
        let results: Vec<Result<Option<Post>>> = futures_util::stream::iter(due)
            .map(|id| self.send_one(id, now))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut changed = Vec::new();
        for result in results {
            if let Some(post) = result? {
                let _ = self.inner.updates.send(post.clone());
                changed.push(post);
            }
        }
        self.tell_others(changed.iter().map(|p| p.id).collect())
            .await;
        Ok(changed)
    }

    /// Tells the window a post changed outside the worker (post now, skip, missed).
    pub fn announce(&self, post: &Post) {
        let _ = self.inner.updates.send(post.clone());
    }

    /// This sender's id in post claims and live updates.
    pub(crate) fn owner(&self) -> &str {
        &self.inner.owner
    }

    /// Tells the shop's other computers which posts changed here.
    async fn tell_others(&self, posts: Vec<i64>) {
        crate::infra::live::announce(
            &self.inner.pool,
            crate::infra::live::Changes {
                from: self.inner.owner.clone(),
                posts,
                ..Default::default()
            },
        )
        .await;
    }

    /// Shows posts another computer changed (its announcement) to this process's subscribers.
    pub(crate) async fn relay(&self, posts: &[i64]) -> Result<()> {
        for id in posts {
            let _ = self
                .inner
                .updates
                .send(store::get(&self.inner.pool, *id).await?);
        }
        Ok(())
    }

    /// The account's open publisher (one sign-in, reused by previews and sends).
    pub async fn publisher(
        &self,
        account: &Account,
    ) -> std::result::Result<Arc<dyn Publisher>, PublishError> {
        if let Some(open) = self.inner.publishers.lock().expect("lock").get(&account.id) {
            return Ok(open.clone());
        }
        let credential = accounts::credential(&self.inner.pool, &self.inner.secrets, account.id)
            .await
            .map_err(|e| PublishError::Reconnect {
                network: "the network",
                message: e.to_string(),
                raw: String::new(),
            })?;
        let factory = self.inner.factory.lock().expect("lock").clone();
        let publisher = factory.open(account, &credential).await?;
        self.inner
            .publishers
            .lock()
            .expect("lock")
            .insert(account.id, publisher.clone());
        Ok(publisher)
    }

    async fn request_for(&self, id: i64, post: &Post) -> Result<PostRequest> {
        let (hashes, idempotency_key) = store::photos_and_key(&self.inner.pool, id).await?;
        let alt: String = match post.product_id {
            Some(product) => crate::catalog::store::name_of(&self.inner.pool, product)
                .await?
                .unwrap_or_default(),
            None => String::new(),
        };
        let mut images = Vec::new();
        for hash in hashes.iter().take(4) {
            // A photo removed from the media folder since is left out rather than failing.
            if let Some((bytes, _)) = self.inner.media.read(hash, Variant::Full) {
                images.push(PostImage {
                    bytes,
                    alt: alt.clone(),
                });
            }
        }
        Ok(PostRequest {
            text: post.text.clone(),
            link: post.link.clone(),
            images,
            idempotency_key,
            languages: Vec::new(),
        })
    }

    async fn send_one(&self, id: i64, now: jiff::Timestamp) -> Result<Option<Post>> {
        let pool = &self.inner.pool;
        let owner = self.inner.owner.as_str();
        let lease_ends = now.as_millisecond() + CLAIM_LEASE.as_millis() as i64;
        let Some(claim) = store::claim(pool, id, owner, now.as_millisecond(), lease_ends).await?
        else {
            return Ok(None);
        };
        let post = store::get(pool, id).await?;
        let account = accounts::get(pool, post.account_id).await?;
        // A sender that died mid-send may have posted: where a retry cannot find that post by
        // its key (Weibo), the owner checks instead of a second post going out.
        if claim == store::Claim::TakenOver && !account.network.has_idempotent_posts() {
            let error = PublishError::MaybePosted {
                network: account.network,
                detail: "its sender stopped mid-send".into(),
            };
            store::mark_unsent(
                pool,
                id,
                owner,
                PostStatus::Failed,
                now.as_millisecond(),
                &error,
            )
            .await?;
            return store::get(pool, id).await.map(Some);
        }
        let outcome = async {
            if account.status != AccountStatus::Ok {
                return Err(PublishError::Reconnect {
                    network: "the network",
                    message: "the account must be connected again".into(),
                    raw: String::new(),
                });
            }
            let request = self
                .request_for(id, &post)
                .await
                .map_err(|e| PublishError::Invalid(e.to_string()))?;
            let publisher = self.publisher(&account).await?;
            let limits = publisher.limits().await?;
            // More photos than the network takes: send the first ones (Weibo takes one).
            let mut request = request;
            request.images.truncate(limits.max_images);
            publisher.validate(&request, &limits)?;
            // No answer after sending is retried only where the retry cannot post twice;
            // on Weibo it stops as "maybe posted" for the owner to check.
            tokio::time::timeout(SEND_DEADLINE, publisher.publish(&request))
                .await
                .unwrap_or_else(|_| {
                    Err(PublishError::NoAnswer {
                        network: "the network",
                        detail: format!("no answer within {} s", SEND_DEADLINE.as_secs()),
                    })
                })
                .map_err(|error| error.after_sending(publisher.network()))
        }
        .await;
        match outcome {
            Ok(posted) => {
                // Test hook for "killed between sent and stored": the retry must not duplicate.
                if std::env::var("SHOPCAST_FAULT").is_ok_and(|f| f == "after_publish") {
                    std::process::abort();
                }
                if !store::mark_posted(pool, id, owner, &posted.remote_id, &posted.url).await? {
                    tracing::warn!(
                        post = id,
                        "claim lost while sending; outcome left to the new sender"
                    );
                }
            }
            Err(error) => {
                let retry = error.is_retryable() && post.attempts < MAX_ATTEMPTS;
                let delay = error.retry_after().unwrap_or_else(|| {
                    Duration::from_secs(5)
                        .saturating_mul(
                            2u32.saturating_pow((post.attempts - 1).clamp(0, 16) as u32),
                        )
                        .min(MAX_BACKOFF)
                });
                if matches!(error, PublishError::Reconnect { .. }) {
                    accounts::set_status(pool, account.id, AccountStatus::Reconnect).await?;
                    self.forget(account.id);
                }
                tracing::warn!(post = id, code = error.code(), retry, "post not sent");
                let next = if retry {
                    PostStatus::Queued
                } else {
                    PostStatus::Failed
                };
                let next_attempt_at = now.as_millisecond() + delay.as_millis() as i64;
                if !store::mark_unsent(pool, id, owner, next, next_attempt_at, &error).await? {
                    tracing::warn!(
                        post = id,
                        "claim lost while sending; outcome left to the new sender"
                    );
                }
            }
        }
        store::get(pool, id).await.map(Some)
    }
}

/// Opens the real networks: Bluesky (handle + app password), Mastodon (instance + token),
/// Weibo (token + the app's secure domain in the account settings).
pub struct SocialFactory;

#[async_trait]
impl PublisherFactory for SocialFactory {
    async fn open(
        &self,
        account: &Account,
        credential: &str,
    ) -> std::result::Result<Arc<dyn Publisher>, PublishError> {
        use shopcast_social::{bluesky, mastodon, weibo};
        match account.network.as_str() {
            "bluesky" => {
                let (publisher, _) = bluesky::BlueskyPublisher::connect(
                    &account.service,
                    &account.handle,
                    credential,
                )
                .await?;
                Ok(Arc::new(publisher))
            }
            "mastodon" => Ok(Arc::new(mastodon::MastodonPublisher::new(
                &account.service,
                credential,
            )?)),
            "weibo" => {
                let domain = account
                    .settings
                    .get("secureDomain")
                    .and_then(|d| d.as_str())
                    .unwrap_or_default();
                let expires_at = account.settings.get("expiresAt").and_then(|e| e.as_i64());
                Ok(Arc::new(
                    weibo::WeiboPublisher::new(&account.service, credential, domain)
                        .with_expires_at(expires_at),
                ))
            }
            other => Err(PublishError::Invalid(format!("Unknown network {other}."))),
        }
    }
}
