//! The settings table: validated shop settings and the extras stored beside them (logo,
//! last signage request, payment options), as key/value rows.

use sqlx::{AnyExecutor, AnyPool};

use super::{KEYS, ShopSettings};
use crate::error::Result;

pub async fn load(pool: &AnyPool) -> Result<ShopSettings> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM settings")
        .fetch_all(pool)
        .await?;
    let mut settings = ShopSettings::defaults();
    for (key, value) in rows {
        if KEYS.contains(&key.as_str()) {
            settings.set(&key, value)?;
        }
    }
    Ok(settings)
}

pub async fn save(pool: &AnyPool, settings: ShopSettings) -> Result<ShopSettings> {
    let settings = settings.validated()?;
    let mut tx = pool.begin().await?;
    for key in KEYS {
        upsert(&mut *tx, key, &settings.get(key)?).await?;
    }
    tx.commit().await?;
    Ok(settings)
}

pub async fn set_one(pool: &AnyPool, key: &str, value: &str) -> Result<ShopSettings> {
    let mut settings = load(pool).await?;
    settings.set(key, value.to_string())?;
    save(pool, settings).await
}

/// Settings stored beside the shop settings but not edited in the same form (the logo).
pub(crate) async fn get_extra(pool: &AnyPool, key: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?,
    )
}

pub(crate) async fn set_extra(pool: &AnyPool, key: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(value) => upsert(pool, key, value).await,
        None => {
            sqlx::query("DELETE FROM settings WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await?;
            Ok(())
        }
    }
}

async fn upsert<'e>(executor: impl AnyExecutor<'e>, key: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(executor)
    .await?;
    Ok(())
}
