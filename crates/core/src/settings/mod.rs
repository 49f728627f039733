//! Shop settings (name, currency, time zone, locale, buy-link base), stored as validated
//! key/value rows so a new key never needs a migration.

use serde::{Deserialize, Serialize};

use crate::Shop;
use crate::catalog::photos::Photo;
use crate::error::{CoreError, Result};
use crate::money::normalize_currency;

mod store;

pub(crate) use store::{get_extra, set_extra};
pub use store::{load, save, set_one};

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
        if self.name.chars().any(char::is_control) {
            return Err(CoreError::invalid(
                "name",
                "The shop name cannot contain line breaks or control characters.",
            ));
        }
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

/// All IANA time zone names this build knows, sorted.
pub fn timezones() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_string())
        .collect();
    names.sort();
    names
}
impl Shop {
    // Settings

    pub async fn settings(&self) -> Result<ShopSettings> {
        store::load(&self.pool).await
    }

    pub async fn save_settings(&self, new: ShopSettings) -> Result<ShopSettings> {
        store::save(&self.pool, new).await
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<ShopSettings> {
        store::set_one(&self.pool, key, value).await
    }

    // Shop logo (printed on signage): a photo in the media store, referenced by hash.

    pub async fn logo(&self) -> Result<Option<Photo>> {
        let Some(json) = store::get_extra(&self.pool, LOGO_KEY).await? else {
            return Ok(None);
        };
        Ok(serde_json::from_str(&json).ok())
    }

    pub async fn set_logo(&self, bytes: Vec<u8>) -> Result<Photo> {
        let media = self.media.clone();
        let photo = tokio::task::spawn_blocking(move || media.ingest(&bytes))
            .await
            .expect("logo task panicked")?;
        let json = serde_json::to_string(&photo).expect("a photo serializes");
        store::set_extra(&self.pool, LOGO_KEY, Some(&json)).await?;
        Ok(photo)
    }

    pub async fn clear_logo(&self) -> Result<()> {
        store::set_extra(&self.pool, LOGO_KEY, None).await
    }
}
const LOGO_KEY: &str = "shop.logo";
