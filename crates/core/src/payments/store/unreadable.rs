//! Provider events the ledger could not read: each kept once (by provider and event id) for
//! review, and summed up for the provider's health.

use shopcast_payments::{ProviderKind, UnreadableEvent};
use sqlx::AnyPool;

use crate::infra::sql::Sql;

use crate::error::Result;
use crate::infra::now_ms;
use crate::payments::store::bounded_raw;

/// Rows per statement (5 values each).
const CHUNK: usize = 400;

/// How many unreadable events a provider sent, and the newest one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableSummary {
    pub count: i64,
    pub last_event_id: String,
    pub last_reason: String,
}

/// Keeps `events` from `provider`; ones already kept are left as they are. Returns how many
/// were new.
pub(crate) async fn keep(
    pool: &AnyPool,
    provider: ProviderKind,
    events: &[UnreadableEvent],
) -> Result<usize> {
    let received_at = now_ms();
    let mut kept = 0;
    for chunk in events.chunks(CHUNK) {
        let mut insert = Sql::new(
            "INSERT INTO unreadable_payment_events (provider, event_id, reason, raw, received_at) ",
        );
        insert.push_values(chunk, |mut row, event| {
            row.push_bind(provider.as_str())
                .push_bind(&event.event_id)
                .push_bind(&event.reason)
                .push_bind(bounded_raw(&event.raw))
                .push_bind(received_at);
        });
        insert.push(" ON CONFLICT (provider, event_id) DO NOTHING");
        kept += insert.build().execute(pool).await?.rows_affected() as usize;
    }
    Ok(kept)
}

/// The count and the newest unreadable event of `provider`, if it sent any.
pub(crate) async fn summary(
    pool: &AnyPool,
    provider: ProviderKind,
) -> Result<Option<UnreadableSummary>> {
    let row: Option<(i64, String, String)> = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM unreadable_payment_events WHERE provider = $1),
                event_id, reason
           FROM unreadable_payment_events WHERE provider = $1
          ORDER BY received_at DESC, event_id DESC LIMIT 1",
    )
    .bind(provider.as_str())
    .fetch_optional(pool)
    .await?;
    Ok(
        row.map(|(count, last_event_id, last_reason)| UnreadableSummary {
            count,
            last_event_id,
            last_reason,
        }),
    )
}
