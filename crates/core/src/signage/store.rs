//! The signage tables (signage_batches, signage_items): the only place they are read or
//! written; a printed batch is recorded here so its QR codes can be attributed later.

use sqlx::AnyPool;

use crate::error::{CoreError, Result};
use crate::infra::now_ms;
use crate::signage::batch::SignageBatch;

/// Records a printed batch so its QR codes can be attributed later.
pub(crate) async fn record(pool: &AnyPool, batch: &SignageBatch, payload_kind: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO signage_batches (id, template, payload_kind, copies, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&batch.id)
        .bind(&batch.template)
        .bind(payload_kind)
        .bind(i64::from(batch.copies))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    for sign in &batch.signs {
        sqlx::query(
            "INSERT INTO signage_items (batch_id, product_id, payload) VALUES ($1, $2, $3)",
        )
        .bind(&batch.id)
        .bind(sign.product_id)
        .bind(&sign.qr_payload)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The batch a printed sign id belongs to, with the products on it (for attribution).
pub async fn batch_products(pool: &AnyPool, batch_id: &str) -> Result<Vec<(Option<i64>, String)>> {
    let rows: Vec<(Option<i64>, String)> = sqlx::query_as(
        "SELECT product_id, payload FROM signage_items WHERE batch_id = $1 ORDER BY id",
    )
    .bind(batch_id)
    .fetch_all(pool)
    .await?;
    if rows.is_empty() {
        return Err(CoreError::not_found(format!("Signage batch {batch_id}")));
    }
    Ok(rows)
}
