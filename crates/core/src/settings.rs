//! Shop settings (name, currency, time zone, locale, buy-link base), stored as validated
//! key/value rows so a new key never needs a migration.

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use crate::error::{CoreError, Result};
use crate::money::normalize_currency;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ShopSettings {
    /// Empty until the owner has set up the shop.
    pub name: String,
    pub currency: String,
    /// IANA time zone, e.g. "Asia/Shanghai".
    pub timezone: String,
    /// BCP 47 locale of the UI and documents, e.g. "en" or "zh-CN".
    pub locale: String,
    /// Base of product buy links, e.g. "https://shop.example.com/p/"; may be empty.
    pub buy_link_base: String,
}

/// The keys scripts use with `shopcast settings get|set`.
pub const KEYS: &[&str] = &[
    "shop.name",
    "shop.currency",
    "shop.timezone",
    "shop.locale",
    "shop.buy_link_base",
];

impl ShopSettings {
    fn defaults() -> Self {
        let timezone = jiff::tz::TimeZone::system()
            .iana_name()
            .unwrap_or("UTC")
            .to_string();
        ShopSettings {
            name: String::new(),
            currency: "USD".into(),
            timezone,
            locale: "en".into(),
            buy_link_base: String::new(),
        }
    }

    pub fn get(&self, key: &str) -> Result<&str> {
        Ok(match key {
            "shop.name" => &self.name,
            "shop.currency" => &self.currency,
            "shop.timezone" => &self.timezone,
            "shop.locale" => &self.locale,
            "shop.buy_link_base" => &self.buy_link_base,
            _ => return Err(unknown_key(key)),
        })
    }

    fn set(&mut self, key: &str, value: String) -> Result<()> {
        let slot = match key {
            "shop.name" => &mut self.name,
            "shop.currency" => &mut self.currency,
            "shop.timezone" => &mut self.timezone,
            "shop.locale" => &mut self.locale,
            "shop.buy_link_base" => &mut self.buy_link_base,
            _ => return Err(unknown_key(key)),
        };
        *slot = value;
        Ok(())
    }

    /// Checks and normalises every field.
    pub fn validated(mut self) -> Result<Self> {
        self.name = self.name.trim().to_string();
        if self.name.chars().count() > 200 {
            return Err(CoreError::invalid(
                "name",
                "The shop name can be 200 characters at most.",
            ));
        }
        self.currency = normalize_currency(&self.currency)?;
        self.timezone = self.timezone.trim().to_string();
        if jiff::tz::TimeZone::get(&self.timezone).is_err() {
            return Err(CoreError::invalid(
                "timezone",
                format!(
                    "“{}” is not a known time zone. Use a name such as Asia/Shanghai or Europe/Berlin.",
                    self.timezone
                ),
            ));
        }
        self.locale = self.locale.trim().to_string();
        let locale_ok = !self.locale.is_empty()
            && self.locale.len() <= 35
            && self
                .locale
                .split('-')
                .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()));
        if !locale_ok {
            return Err(CoreError::invalid(
                "locale",
                format!("“{}” is not a locale such as en or zh-CN.", self.locale),
            ));
        }
        self.buy_link_base = self.buy_link_base.trim().to_string();
        if !self.buy_link_base.is_empty() {
            let parsed = url::Url::parse(&self.buy_link_base)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"));
            if parsed.is_none() {
                return Err(CoreError::invalid(
                    "buyLinkBase",
                    "The buy-link base must be a web address such as https://shop.example.com/p/.",
                ));
            }
        }
        Ok(self)
    }
}

fn unknown_key(key: &str) -> CoreError {
    CoreError::invalid(
        "key",
        format!(
            "Unknown setting “{key}”. Known settings: {}.",
            KEYS.join(", ")
        ),
    )
}

pub async fn load(pool: &SqlitePool) -> Result<ShopSettings> {
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

pub async fn save(pool: &SqlitePool, settings: ShopSettings) -> Result<ShopSettings> {
    let settings = settings.validated()?;
    let mut tx = pool.begin().await?;
    for key in KEYS {
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(settings.get(key)?)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(settings)
}

pub async fn set_one(pool: &SqlitePool, key: &str, value: &str) -> Result<ShopSettings> {
    let mut settings = load(pool).await?;
    settings.set(key, value.to_string())?;
    save(pool, settings).await
}

/// All IANA time zone names this build knows, sorted.
pub fn timezones() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_string())
        .collect();
    names.sort();
    names
}

/// Settings stored beside the shop settings but not edited in the same form (the logo).
pub(crate) async fn get_extra(pool: &SqlitePool, key: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(pool)
            .await?,
    )
}

pub(crate) async fn set_extra(pool: &SqlitePool, key: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(value) => {
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(pool)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM settings WHERE key = ?")
                .bind(key)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}
