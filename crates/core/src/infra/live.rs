//! Live updates between computers sharing a PostgreSQL shop: each process announces what it
//! changed (payments, orders, posts) with NOTIFY; the others' windows LISTEN and show it.

use serde::{Deserialize, Serialize};
use sqlx::AnyPool;

use super::store::{Backend, backend};

/// The PostgreSQL channel every Shopcast process of a shop shares.
pub(crate) const CHANNEL: &str = "shopcast_changes";

/// What one process changed, by id; `from` tells a process its own announcements apart.
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

impl Changes {
    fn is_empty(&self) -> bool {
        self.payments.is_empty() && self.orders.is_empty() && self.posts.is_empty()
    }
}

/// Tells the shop's other processes about `changes` (PostgreSQL only; a shop file has one
/// window). Ids beyond a NOTIFY payload's 8,000 bytes are sent in further notifications.
pub(crate) async fn announce(pool: &AnyPool, changes: Changes) {
    if backend(pool) != Backend::Postgres || changes.is_empty() {
        return;
    }
    const PER_NOTE: usize = 500;
    let pieces = changes
        .payments
        .len()
        .max(changes.orders.len())
        .max(changes.posts.len())
        .div_ceil(PER_NOTE);
    for i in 0..pieces {
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
        let payload = serde_json::to_string(&note).expect("ids serialize");
        if let Err(error) = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(pool)
            .await
        {
            // The change is stored; other windows see it on their next refresh.
            tracing::warn!(%error, "other tills were not told of a change");
        }
    }
}
