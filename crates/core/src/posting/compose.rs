//! Composing a post: the template filled with the product, and the owner's local time read
//! in the shop's time zone (DST gaps move forward, folds take the first).

use crate::error::{CoreError, Result};

/// Fills a post template: {name} {price} {link} {tags} {description}.
pub fn fill_template(
    template: &str,
    name: &str,
    price: &str,
    link: &str,
    tags: &[String],
    description: &str,
) -> String {
    let hashtags: Vec<String> = tags
        .iter()
        .map(|t| {
            let clean: String = t
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            format!("#{clean}")
        })
        .filter(|t| t.len() > 1)
        .collect();
    template
        .replace("{name}", name)
        .replace("{price}", price)
        .replace("{link}", link)
        .replace("{tags}", &hashtags.join(" "))
        .replace("{description}", description)
        .trim()
        .to_string()
}

/// Turns what the owner typed as a time ("2026-03-29 02:30", "2026-11-25T18:00", or an
/// RFC 3339 instant) into a UTC instant, in the shop's time zone. A local time that does not
/// exist (DST gap) moves forward; one that happens twice (DST fold) is the first.
pub fn parse_local_time(text: &str, timezone: &str) -> Result<jiff::Timestamp> {
    let text = text.trim();
    if let Ok(instant) = text.parse::<jiff::Timestamp>() {
        return Ok(instant);
    }
    // A time naming its own zone ("…[Europe/Berlin]") is read in that zone; an unknown zone
    // there is refused, not silently replaced by the shop's.
    if text.contains('[') {
        return text
            .parse::<jiff::ZonedDateTime>()
            .map(|zoned| zoned.timestamp())
            .map_err(|e| CoreError::invalid("at", format!("“{text}” is not a time: {e}.")));
    }
    let tz = jiff::tz::TimeZone::get(timezone)
        .map_err(|_| CoreError::invalid("at", format!("Unknown time zone {timezone}.")))?;
    let civil: jiff::civil::DateTime = text.replace(' ', "T").parse().map_err(|_| {
        CoreError::invalid(
            "at",
            format!("“{text}” is not a time like 2026-11-25 18:00."),
        )
    })?;
    Ok(civil
        .to_zoned_datetime(tz)
        .map_err(|e| CoreError::invalid("at", e.to_string()))?
        .timestamp())
}

/// What the composer sends: one product, a template, the accounts, now or at a local time.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct ComposeRequest {
    pub product_id: i64,
    pub account_ids: Vec<i64>,
    /// With {name} {price} {link} {tags} {description}.
    pub template: String,
    /// Local time in the shop's time zone ("2026-11-25 18:00"); now when empty.
    pub at: Option<String>,
}

/// One account's view of a composed post, counted the network's way.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PostPreview {
    pub account_id: i64,
    pub network: shopcast_social::Network,
    pub text: String,
    pub length: u32,
    pub max_length: u32,
    pub images: u32,
    pub max_images: u32,
    /// Why it cannot be sent as is, in plain words.
    pub problem: Option<String>,
}

pub const DEFAULT_POST_TEMPLATE: &str = "{name} — {price}\n{description}\n{link}\n{tags}";
