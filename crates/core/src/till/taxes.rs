//! The shop's named tax rates ("VAT 19 %", "增值税 13 %"), one of them the default for
//! products without their own; the tax_rates table is read and written only here.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Row};

use crate::Shop;
use crate::error::{CoreError, Result};
use crate::infra::now_ms;
use crate::till::tax::{PPM, parse_percent, percent_text};

/// Longest tax rate name, in characters.
pub const MAX_RATE_NAME_CHARS: usize = 40;

/// A named tax rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TaxRate {
    pub id: i64,
    pub name: String,
    /// Parts per million: 19 % is 190 000, 8.875 % is 88 750.
    pub rate_ppm: i64,
    /// The rate for people: "19", "8.875".
    pub percent: String,
    pub is_default: bool,
}

fn rate_of(row: &sqlx::any::AnyRow) -> TaxRate {
    let rate_ppm: i64 = row.get("rate_ppm");
    TaxRate {
        id: row.get("id"),
        name: row.get("name"),
        rate_ppm,
        percent: percent_text(rate_ppm),
        is_default: row.get::<crate::infra::sql::Flag, _>("is_default").0,
    }
}

/// Every rate, by name.
pub(crate) async fn all(pool: &AnyPool) -> Result<Vec<TaxRate>> {
    Ok(sqlx::query(
        "SELECT id, name, rate_ppm, is_default FROM tax_rates ORDER BY name COLLATE NOCASE",
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(rate_of)
    .collect())
}

/// Rate names (case folded, as the table compares them) to ids, for checking products.
pub(crate) async fn ids_by_name(pool: &AnyPool) -> Result<RateNames> {
    Ok(RateNames(
        all(pool)
            .await?
            .into_iter()
            .map(|r| (r.name.to_lowercase(), r.id))
            .collect(),
    ))
}

/// Tax rate names a product may name, case-insensitively.
#[derive(Debug, Clone, Default)]
pub(crate) struct RateNames(HashMap<String, i64>);

impl RateNames {
    /// The id of the rate called `name`; an unknown name is a validation error on `tax`.
    pub fn id_of(&self, name: &str) -> Result<i64> {
        self.0.get(&name.to_lowercase()).copied().ok_or_else(|| {
            CoreError::invalid(
                "tax",
                format!(
                    "There is no tax rate called “{name}”. Add it first: shopcast taxes add \"{name}\" PERCENT."
                ),
            )
        })
    }
}

fn checked_name(typed: &str) -> Result<String> {
    let name = typed.trim();
    if name.is_empty() {
        return Err(CoreError::invalid("name", "Give the tax rate a name."));
    }
    if name.chars().count() > MAX_RATE_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "name",
            format!("A tax rate name is one line of at most {MAX_RATE_NAME_CHARS} characters."),
        ));
    }
    Ok(name.to_string())
}

impl Shop {
    /// The shop's tax rates, by name.
    pub async fn tax_rates(&self) -> Result<Vec<TaxRate>> {
        all(self.pool()).await
    }

    /// Adds a tax rate ("VAT 19 %", "19"); `default` makes it the rate of products without
    /// their own (the previous default stops being one, in the same transaction).
    pub async fn add_tax_rate(&self, name: &str, percent: &str, default: bool) -> Result<TaxRate> {
        let name = checked_name(name)?;
        let typed = percent.trim().trim_end_matches(['%', '％']).trim();
        let rate_ppm = parse_percent(typed)
            .filter(|ppm| *ppm <= PPM)
            .ok_or_else(|| {
                CoreError::invalid(
                    "percent",
                    format!(
                        "“{}” is not a tax rate. Type a percentage from 0 to 100, for example 19 or 8.875.",
                        percent.trim()
                    ),
                )
            })?;
        // The table folds ASCII case only; "ÜST" and "üst" are one name too.
        let taken = || CoreError::Conflict {
            field: "name",
            message: format!("There is already a tax rate called “{name}”."),
        };
        if ids_by_name(self.pool()).await?.id_of(&name).is_ok() {
            return Err(taken());
        }
        let mut tx = self.pool().begin().await?;
        if default {
            sqlx::query("UPDATE tax_rates SET is_default = 0 WHERE is_default = 1")
                .execute(&mut *tx)
                .await?;
        }
        let row = sqlx::query(
            "INSERT INTO tax_rates (name, rate_ppm, is_default, created_at) VALUES ($1, $2, $3, $4)
             RETURNING id, name, rate_ppm, is_default",
        )
        .bind(&name)
        .bind(rate_ppm)
        .bind(i64::from(default))
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => taken(),
            _ => CoreError::Database(e),
        })?;
        let rate = rate_of(&row);
        tx.commit().await?;
        Ok(rate)
    }

    /// Makes the rate called `name` the shop's default.
    pub async fn set_default_tax_rate(&self, name: &str) -> Result<TaxRate> {
        let id = ids_by_name(self.pool()).await?.id_of(name)?;
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE tax_rates SET is_default = 0 WHERE is_default = 1")
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(
            "UPDATE tax_rates SET is_default = 1 WHERE id = $1 RETURNING id, name, rate_ppm, is_default",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rate_of(&row))
    }
}
