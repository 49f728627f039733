//! The watcher_leases table: which process watches each provider for every till sharing the
//! shop's database. Taking, renewing and handing over a lease is one atomic upsert.

use sqlx::AnyPool;

use crate::error::Result;

/// Takes or renews `provider`'s lease for `holder` until `until_ms`, when it is free, expired
/// (`now_ms` past it) or already `holder`'s; whether `holder` holds it now.
pub(crate) async fn claim(
    pool: &AnyPool,
    provider: &str,
    holder: &str,
    now_ms: i64,
    until_ms: i64,
) -> Result<bool> {
    let held: Option<String> = sqlx::query_scalar(
        "INSERT INTO watcher_leases (provider, holder, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (provider) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE watcher_leases.holder = excluded.holder OR watcher_leases.expires_at <= $4
         RETURNING holder",
    )
    .bind(provider)
    .bind(holder)
    .bind(until_ms)
    .bind(now_ms)
    .fetch_optional(pool)
    .await?;
    Ok(held.is_some())
}

/// Gives up `holder`'s leases (the watcher stops), so a standing-by till takes over at once.
pub(crate) async fn release(pool: &AnyPool, holder: &str) -> Result<()> {
    sqlx::query("DELETE FROM watcher_leases WHERE holder = $1")
        .bind(holder)
        .execute(pool)
        .await?;
    Ok(())
}

/// Who holds `provider`'s lease and until when, if anyone.
pub(crate) async fn holder(pool: &AnyPool, provider: &str) -> Result<Option<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT holder, expires_at FROM watcher_leases WHERE provider = $1")
            .bind(provider)
            .fetch_optional(pool)
            .await?,
    )
}
