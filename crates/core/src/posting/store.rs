//! The posting room's tables: accounts (the secret's name, never the secret), and posts as
//! the composer, the history screen and the outbox worker use them.

use sqlx::{AnyPool, Row};

use crate::error::{CoreError, Result};
use crate::infra::now_ms;
use shopcast_social::Network;

use crate::infra::secrets::SecretBackend;
use crate::posting::accounts::{Account, AccountStatus};
use crate::posting::outbox::{Post, PostStatus};

const POST_COLUMNS: &str = "p.id, p.account_id, a.network, a.handle, p.product_id, p.text, \
    p.link, p.status, p.scheduled_at, p.posted_at, p.attempts, p.next_attempt_at, p.remote_id, \
    p.url, p.error_code, p.error_message, p.error_raw";

fn post_from_row(row: &sqlx::any::AnyRow) -> Post {
    Post {
        id: row.get("id"),
        account_id: row.get("account_id"),
        network: shopcast_social::Network::parse(row.get("network"))
            .unwrap_or(shopcast_social::Network::Bluesky),
        handle: row.get("handle"),
        product_id: row.get("product_id"),
        text: row.get("text"),
        link: row.get("link"),
        status: PostStatus::parse(row.get("status")).unwrap_or(PostStatus::Failed),
        scheduled_at: row.get("scheduled_at"),
        posted_at: row.get("posted_at"),
        attempts: row.get("attempts"),
        next_attempt_at: row.get("next_attempt_at"),
        remote_id: row.get("remote_id"),
        url: row.get("url"),
        error_code: row.get("error_code"),
        error_message: row.get("error_message"),
        error_raw: row.get("error_raw"),
    }
}

pub async fn get(pool: &AnyPool, id: i64) -> Result<Post> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {POST_COLUMNS} FROM posts p JOIN accounts a ON a.id = p.account_id WHERE p.id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| CoreError::not_found(format!("Post {id}")))?;
    Ok(post_from_row(&row))
}

/// Post history, newest first, for a product, an account, or everything.
pub async fn history(
    pool: &AnyPool,
    product_id: Option<i64>,
    account_id: Option<i64>,
    limit: u32,
) -> Result<Vec<Post>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {POST_COLUMNS} FROM posts p JOIN accounts a ON a.id = p.account_id
         WHERE ($1 IS NULL OR p.product_id = $1) AND ($2 IS NULL OR p.account_id = $2)
         ORDER BY p.scheduled_at DESC, p.id DESC LIMIT $3"
    )))
    .bind(product_id)
    .bind(account_id)
    .bind(i64::from(limit.min(10_000)))
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(post_from_row).collect())
}

/// A new post row for `account_id` at `scheduled_at`; returns its id (the text is set once
/// the post's own tracked link is known).
pub(crate) async fn insert(
    pool: &AnyPool,
    account_id: i64,
    product_id: Option<i64>,
    photos: &[String],
    scheduled_at: i64,
) -> Result<i64> {
    let now = now_ms();
    let key = format!("shopcast-{}", crate::infra::crockford_id(20));
    Ok(sqlx::query_scalar(
        "INSERT INTO posts (account_id, product_id, text, photos, idempotency_key, status,
                            scheduled_at, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, '', $3, $4, 'draft', $5, $6, $7, $8) RETURNING id",
    )
    .bind(account_id)
    .bind(product_id)
    .bind(serde_json::to_string(photos).expect("strings serialize"))
    .bind(key)
    .bind(scheduled_at)
    .bind(scheduled_at)
    .bind(now)
    .bind(now)
    .fetch_one(pool)
    .await?)
}

/// Fills a draft's text and link; the worker never sees a draft.
pub(crate) async fn set_text(pool: &AnyPool, id: i64, text: &str, link: &str) -> Result<()> {
    sqlx::query("UPDATE posts SET text = $1, link = $2 WHERE id = $3 AND status = 'draft'")
        .bind(text)
        .bind(link)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Releases drafts: they go to the outbox together, or (`keep` false) are deleted.
pub(crate) async fn release_drafts(pool: &AnyPool, ids: &[i64], keep: bool) -> Result<()> {
    let mut tx = pool.begin().await?;
    for id in ids {
        let sql = if keep {
            "UPDATE posts SET status = 'queued' WHERE id = $1 AND status = 'draft'"
        } else {
            "DELETE FROM posts WHERE id = $1 AND status = 'draft'"
        };
        sqlx::query(sql).bind(id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Marks posts that were due while the app was closed as missed (the owner decides).
pub async fn mark_missed(pool: &AnyPool, started_at: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "UPDATE posts SET status = 'missed', updated_at = $1
         WHERE status = 'queued' AND attempts = 0 AND scheduled_at < $1 - 60000
           AND scheduled_at > created_at + 60000
         RETURNING id",
    )
    .bind(started_at)
    .fetch_all(pool)
    .await?)
}

/// "Post now" for a missed or failed post (same idempotency key: never a duplicate).
pub async fn post_now(pool: &AnyPool, id: i64) -> Result<()> {
    let now = now_ms();
    let query = sqlx::query(
        "UPDATE posts SET status = 'queued', next_attempt_at = $1, updated_at = $2
         WHERE id = $3 AND status IN ('missed', 'failed')",
    )
    .bind(now)
    .bind(now)
    .bind(id);
    moved_or(pool, query, "Only a missed or failed post can be sent now.").await
}

pub async fn skip(pool: &AnyPool, id: i64) -> Result<()> {
    let query = sqlx::query(
        "UPDATE posts SET status = 'skipped', updated_at = $1 WHERE id = $2 AND status IN ('missed', 'queued', 'failed')",
    )
    .bind(now_ms())
    .bind(id);
    moved_or(pool, query, "This post was already sent.").await
}

/// Runs an owner's status change; when it changed no post, says why as a conflict.
async fn moved_or(
    pool: &AnyPool,
    query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    refusal: &str,
) -> Result<()> {
    if query.execute(pool).await?.rows_affected() == 0 {
        return Err(CoreError::Conflict {
            field: "post",
            message: refusal.into(),
        });
    }
    Ok(())
}

fn account_from_row(row: &sqlx::any::AnyRow) -> Account {
    Account {
        id: row.get("id"),
        // A network this build does not know cannot come from its own tables.
        network: Network::parse(row.get("network")).unwrap_or(Network::Bluesky),
        service: row.get("service"),
        handle: row.get("handle"),
        status: AccountStatus::parse(row.get("status")).unwrap_or(AccountStatus::Reconnect),
        secret_backend: if row.get::<&str, _>("secret_backend") == "keychain" {
            SecretBackend::Keychain
        } else {
            SecretBackend::File
        },
        settings: serde_json::from_str(row.get::<&str, _>("settings")).unwrap_or_default(),
        token_expires_at: None,
    }
    .with_expiry()
}

pub async fn accounts(pool: &AnyPool) -> Result<Vec<Account>> {
    let rows = sqlx::query("SELECT * FROM accounts ORDER BY network, handle")
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(account_from_row).collect())
}

pub async fn account(pool: &AnyPool, id: i64) -> Result<Account> {
    let row = sqlx::query("SELECT * FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| CoreError::not_found(format!("Account {id}")))?;
    Ok(account_from_row(&row))
}

/// The secret's name of the account already kept for this handle, if any.
pub(crate) async fn secret_name_of_handle(
    pool: &AnyPool,
    network: Network,
    service: &str,
    handle: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT secret_name FROM accounts WHERE network = $1 AND service = $2 AND handle = $3",
    )
    .bind(network.as_str())
    .bind(service)
    .bind(handle)
    .fetch_optional(pool)
    .await?)
}

pub(crate) async fn secret_name(pool: &AnyPool, id: i64) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT secret_name FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?,
    )
}

/// Adds an account or reconnects the one with the same handle (status back to ok).
pub(crate) async fn upsert_account(
    pool: &AnyPool,
    network: Network,
    service: &str,
    handle: &str,
    settings: &serde_json::Value,
    secret_name: &str,
    backend: SecretBackend,
) -> Result<i64> {
    let backend = match backend {
        SecretBackend::Keychain => "keychain",
        SecretBackend::File => "file",
    };
    Ok(sqlx::query_scalar(
        "INSERT INTO accounts (network, service, handle, settings, secret_name, secret_backend, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'ok', $7)
         ON CONFLICT (network, service, handle) DO UPDATE SET settings = excluded.settings,
             secret_backend = excluded.secret_backend, status = 'ok'
         RETURNING id",
    )
    .bind(network.as_str())
    .bind(service)
    .bind(handle)
    .bind(settings.to_string())
    .bind(secret_name)
    .bind(backend)
    .bind(now_ms())
    .fetch_one(pool)
    .await?)
}

/// Changes an account's status; a disconnected one stays disconnected (only `Disconnected`
/// itself is written over anything).
pub async fn set_account_status(pool: &AnyPool, id: i64, status: AccountStatus) -> Result<()> {
    let sql = if status == AccountStatus::Disconnected {
        "UPDATE accounts SET status = $1 WHERE id = $2"
    } else {
        "UPDATE accounts SET status = $1 WHERE id = $2 AND status <> 'disconnected'"
    };
    sqlx::query(sql)
        .bind(status.as_str())
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Posts the worker should send at `now_ms`: queued ones that are due, and "sending" ones
/// whose sender's lease ended (it crashed or hung) without an outcome.
pub(crate) async fn due(pool: &AnyPool, now_ms: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM posts
         WHERE (status = 'queued' AND next_attempt_at <= $1)
            OR (status = 'sending' AND lease_expires_at <= $1)
         ORDER BY next_attempt_at, id LIMIT 256",
    )
    .bind(now_ms)
    .fetch_all(pool)
    .await?)
}

/// The photos (media hashes) and the fixed idempotency key of a post.
pub(crate) async fn photos_and_key(pool: &AnyPool, id: i64) -> Result<(Vec<String>, String)> {
    let row = sqlx::query("SELECT photos, idempotency_key FROM posts WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await?;
    let hashes = serde_json::from_str(row.get::<&str, _>("photos")).unwrap_or_default();
    Ok((hashes, row.get("idempotency_key")))
}

/// How a sender came to hold a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// A queued post, due now.
    Due,
    /// A post another sender was sending when its lease ended (it crashed or hung): the
    /// network may already have it.
    TakenOver,
}

/// Claims post `id` for `owner` until `lease_expires_at`: a due queued post, or a "sending"
/// one whose lease ended. None when another sender holds it or it is not due. Two single
/// UPDATEs, so two senders on one file never both win and the caller knows which it was.
pub(crate) async fn claim(
    pool: &AnyPool,
    id: i64,
    owner: &str,
    now: i64,
    lease_expires_at: i64,
) -> Result<Option<Claim>> {
    for (claim, condition) in [
        (Claim::Due, "status = 'queued' AND next_attempt_at <= $5"),
        (
            Claim::TakenOver,
            "status = 'sending' AND lease_expires_at <= $5",
        ),
    ] {
        let sql = format!(
            "UPDATE posts SET status = 'sending', attempts = attempts + 1, claimed_by = $1,
                 lease_expires_at = $2, updated_at = $3
             WHERE id = $4 AND {condition}"
        );
        let claimed = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(lease_expires_at)
            .bind(now_ms())
            .bind(id)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected();
        if claimed > 0 {
            return Ok(Some(claim));
        }
    }
    Ok(None)
}

/// Keeps what the network answered for a post `owner` is sending; false (nothing written)
/// when `owner` lost its claim meanwhile.
pub(crate) async fn mark_posted(
    pool: &AnyPool,
    id: i64,
    owner: &str,
    remote_id: &str,
    url: &str,
) -> Result<bool> {
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE posts SET status = 'posted', remote_id = $1, url = $2, posted_at = $3,
             error_code = NULL, error_message = NULL, error_raw = NULL, updated_at = $4,
             claimed_by = NULL, lease_expires_at = NULL
         WHERE id = $5 AND status = 'sending' AND claimed_by = $6",
    )
    .bind(remote_id)
    .bind(url)
    .bind(now)
    .bind(now)
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A post `owner` is sending that did not go: queued again at `next_attempt_at`, or failed
/// for good, with the error's code, sentence and the network's raw reply. False (nothing
/// written) when `owner` lost its claim meanwhile.
pub(crate) async fn mark_unsent(
    pool: &AnyPool,
    id: i64,
    owner: &str,
    status: PostStatus,
    next_attempt_at: i64,
    error: &shopcast_social::PublishError,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE posts SET status = $1, next_attempt_at = $2, error_code = $3,
             error_message = $4, error_raw = $5, updated_at = $6,
             claimed_by = NULL, lease_expires_at = NULL
         WHERE id = $7 AND status = 'sending' AND claimed_by = $8",
    )
    .bind(status.as_str())
    .bind(next_attempt_at)
    .bind(error.code())
    .bind(error.to_string())
    // The network's reply is kept for "details", bounded as the ledger bounds providers'.
    .bind(error.raw().map(crate::payments::store::bounded_raw))
    .bind(now_ms())
    .bind(id)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}
