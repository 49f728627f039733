//! Which test-mode run made each test charge, and each run's heartbeat, so one process
//! never expires a test QR that another live process can still take payment for.

use shopcast_payments::ProviderKind;
use sqlx::AnyPool;

use crate::error::Result;

/// Says `run_id` is alive at `now_ms`.
pub(crate) async fn beat(pool: &AnyPool, run_id: &str, now_ms: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO test_checkout_runs (run_id, heartbeat_at) VALUES ($1, $2)
         ON CONFLICT (run_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
    )
    .bind(run_id)
    .bind(now_ms)
    .execute(pool)
    .await?;
    Ok(())
}

/// Says `run_id` stopped: its open charges can be expired by the next run at once.
pub(crate) async fn end(pool: &AnyPool, run_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM test_checkout_runs WHERE run_id = $1")
        .bind(run_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Open test charges no live run can take payment for: made by another run than `run_id`
/// (or by none) whose heartbeat is missing or older than `stale_before_ms`.
pub(crate) async fn orphaned_charges(
    pool: &AnyPool,
    run_id: &str,
    stale_before_ms: i64,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT c.charge_ref FROM charges c
         LEFT JOIN test_checkout_runs r ON r.run_id = c.test_run
         WHERE c.provider = $1 AND c.status = 'open'
           AND c.test_run IS DISTINCT FROM $2
           AND (r.heartbeat_at IS NULL OR r.heartbeat_at < $3)",
    )
    .bind(ProviderKind::Test.as_str())
    .bind(run_id)
    .bind(stale_before_ms)
    .fetch_all(pool)
    .await?)
}

/// Forgets runs that stopped beating long ago (their charges are expired by then).
pub(crate) async fn forget_stale(pool: &AnyPool, stale_before_ms: i64) -> Result<()> {
    sqlx::query("DELETE FROM test_checkout_runs WHERE heartbeat_at < $1")
        .bind(stale_before_ms)
        .execute(pool)
        .await?;
    Ok(())
}
