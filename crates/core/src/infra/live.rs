//! Live updates between computers sharing a PostgreSQL shop: each process announces what it
//! changed (payments, orders, posts) with NOTIFY; the others' windows LISTEN and show it.

use serde::{Deserialize, Serialize};
use sqlx::AnyPool;

use super::store::{Backend, backend};
use crate::error::Result;

/// The PostgreSQL channel every Shopcast process of a shop shares.
pub(crate) const CHANNEL: &str = "shopcast_changes";

/// What one process changed, by id; `from` tells a process its own announcements apart.
/// (A cash sale on PostgreSQL builds this JSON in its own statement: `payments::store::paid_sale`.)
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Changes {
    pub from: String,
    #[serde(default)]
    pub payments: Vec<i64>,
    #[serde(default)]
    pub orders: Vec<i64>,
    #[serde(default)]
    pub posts: Vec<i64>,
}

/// Tells the shop's other processes about `changes` (PostgreSQL only; a shop file has one
/// window). Ids beyond a NOTIFY payload's 8,000 bytes are sent in further notifications.
pub(crate) async fn announce(pool: &AnyPool, changes: Changes) {
    if backend(pool) != Backend::Postgres {
        return;
    }
    for payload in notes(&changes) {
        if let Err(error) = notify(pool, payload).await {
            // The change is stored; other windows see it on their next refresh.
            tracing::warn!(%error, "other tills were not told of a change");
        }
    }
}

/// [`announce`] inside the caller's transaction, which is one round trip fewer and tells the
/// others only if it commits (PostgreSQL queues a NOTIFY until then). An error here fails
/// the transaction, as it would on commit: only a NOTIFY queue of 8 GB left unread does that.
pub(crate) async fn announce_in(conn: &mut sqlx::AnyConnection, changes: Changes) -> Result<()> {
    if Backend::of_connection(conn) != Backend::Postgres {
        return Ok(());
    }
    for payload in notes(&changes) {
        notify(&mut *conn, payload).await?;
    }
    Ok(())
}

async fn notify<'c>(
    conn: impl sqlx::Executor<'c, Database = sqlx::Any>,
    payload: String,
) -> std::result::Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(conn)
        .await
        .map(drop)
}

/// The payloads that say `changes`, at most 500 ids of each kind apiece.
fn notes(changes: &Changes) -> Vec<String> {
    const PER_NOTE: usize = 500;
    let pieces = changes
        .payments
        .len()
        .max(changes.orders.len())
        .max(changes.posts.len())
        .div_ceil(PER_NOTE);
    (0..pieces)
        .map(|i| {
            let part = |ids: &[i64]| -> Vec<i64> {
                ids.iter()
                    .skip(i * PER_NOTE)
                    .take(PER_NOTE)
                    .copied()
                    .collect()
            };
            let note = Changes {
                from: changes.from.clone(),
                payments: part(&changes.payments),
                orders: part(&changes.orders),
                posts: part(&changes.posts),
            };
            serde_json::to_string(&note).expect("ids serialize")
        })
        .collect()
}
