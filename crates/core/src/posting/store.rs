//! The posts table as the composer and the history screen see it: drafts filled in and
//! released, history, missed posts, post-now and skip. The worker's claims live in `outbox`.

use sqlx::{Row, SqlitePool};

use crate::error::{CoreError, Result};
use crate::infra::now_ms;
use crate::posting::outbox::{Post, PostStatus};

const POST_COLUMNS: &str = "p.id, p.account_id, a.network, a.handle, p.product_id, p.text, \
    p.link, p.status, p.scheduled_at, p.posted_at, p.attempts, p.next_attempt_at, p.remote_id, \
    p.url, p.error_code, p.error_message, p.error_raw";

fn post_from_row(row: &sqlx::sqlite::SqliteRow) -> Post {
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

pub async fn get(pool: &SqlitePool, id: i64) -> Result<Post> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {POST_COLUMNS} FROM posts p JOIN accounts a ON a.id = p.account_id WHERE p.id = ?"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| CoreError::not_found(format!("Post {id}")))?;
    Ok(post_from_row(&row))
}

/// Post history, newest first, for a product, an account, or everything.
pub async fn history(
    pool: &SqlitePool,
    product_id: Option<i64>,
    account_id: Option<i64>,
    limit: u32,
) -> Result<Vec<Post>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {POST_COLUMNS} FROM posts p JOIN accounts a ON a.id = p.account_id
         WHERE (?1 IS NULL OR p.product_id = ?1) AND (?2 IS NULL OR p.account_id = ?2)
         ORDER BY p.scheduled_at DESC, p.id DESC LIMIT ?3"
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
    pool: &SqlitePool,
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
         VALUES (?, ?, '', ?, ?, 'draft', ?, ?, ?, ?) RETURNING id",
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
pub(crate) async fn set_text(pool: &SqlitePool, id: i64, text: &str, link: &str) -> Result<()> {
    sqlx::query("UPDATE posts SET text = ?, link = ? WHERE id = ? AND status = 'draft'")
        .bind(text)
        .bind(link)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Releases drafts: they go to the outbox together, or (`keep` false) are deleted.
pub(crate) async fn release_drafts(pool: &SqlitePool, ids: &[i64], keep: bool) -> Result<()> {
    let mut tx = pool.begin().await?;
    for id in ids {
        let sql = if keep {
            "UPDATE posts SET status = 'queued' WHERE id = ? AND status = 'draft'"
        } else {
            "DELETE FROM posts WHERE id = ? AND status = 'draft'"
        };
        sqlx::query(sql).bind(id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Marks posts that were due while the app was closed as missed (the owner decides).
pub async fn mark_missed(pool: &SqlitePool, started_at: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "UPDATE posts SET status = 'missed', updated_at = ?1
         WHERE status = 'queued' AND attempts = 0 AND scheduled_at < ?1 - 60000
           AND scheduled_at > created_at + 60000
         RETURNING id",
    )
    .bind(started_at)
    .fetch_all(pool)
    .await?)
}

/// "Post now" for a missed or failed post (same idempotency key: never a duplicate).
pub async fn post_now(pool: &SqlitePool, id: i64) -> Result<()> {
    let changed = sqlx::query(
        "UPDATE posts SET status = 'queued', next_attempt_at = ?, updated_at = ?
         WHERE id = ? AND status IN ('missed', 'failed')",
    )
    .bind(now_ms())
    .bind(now_ms())
    .bind(id)
    .execute(pool)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(CoreError::Conflict {
            field: "post",
            message: "Only a missed or failed post can be sent now.".into(),
        });
    }
    Ok(())
}

pub async fn skip(pool: &SqlitePool, id: i64) -> Result<()> {
    let changed = sqlx::query(
        "UPDATE posts SET status = 'skipped', updated_at = ? WHERE id = ? AND status IN ('missed', 'queued', 'failed')",
    )
    .bind(now_ms())
    .bind(id)
    .execute(pool)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(CoreError::Conflict {
            field: "post",
            message: "This post was already sent.".into(),
        });
    }
    Ok(())
}
