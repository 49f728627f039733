//! What a product is: its fields, the draft the owner types, the page a search returns,
//! and the checks a draft passes before it is stored.

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use crate::catalog::photos::Photo;
use crate::error::{CoreError, Result};
use crate::money::{Money, normalize_currency, parse_price};

pub const MAX_NAME_GRAPHEMES: usize = 200;
pub const MAX_SKU_CHARS: usize = 64;
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
pub const MAX_TAG_CHARS: usize = 50;
pub const MAX_TAGS: usize = 30;
pub const MAX_PAGE: i64 = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: i64,
    pub sku: Option<String>,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: Option<i64>,
    pub tags: Vec<String>,
    pub archived: bool,
    pub photos: Vec<Photo>,
    /// The product's own tax rate by name; `None`: the shop's default rate.
    pub tax: Option<String>,
    /// Its GTIN/EAN/UPC barcode digits as typed (check digit valid).
    pub barcode: Option<String>,
    /// At or below this stock the product is shown as running low; `None`: no warning.
    pub low_stock: Option<i64>,
    /// Unix milliseconds, UTC.
    pub created_at: i64,
    pub updated_at: i64,
}

/// What the owner typed in the product form (or a CSV row): unchecked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProductDraft {
    pub sku: Option<String>,
    pub name: String,
    pub description: String,
    /// The price exactly as typed: "12.5", "12,50", "¥88".
    pub price: String,
    /// `None` means the shop's currency.
    pub currency: Option<String>,
    pub stock: Option<i64>,
    pub tags: Vec<String>,
    /// A tax rate's name; empty or `None`: the shop's default rate.
    #[serde(default)]
    pub tax: Option<String>,
    /// A GTIN-8, UPC-A, EAN-13 or GTIN-14 as typed or scanned (spaces and hyphens allowed).
    #[serde(default)]
    pub barcode: Option<String>,
    #[serde(default)]
    pub low_stock: Option<i64>,
}

/// A product's row in the catalog list: enough to draw it, nothing more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProductSummary {
    pub id: i64,
    pub sku: Option<String>,
    pub name: String,
    pub price: Money,
    pub stock: Option<i64>,
    pub tags: Vec<String>,
    pub archived: bool,
    /// Hash of the first photo, if any.
    pub thumb: Option<String>,
    pub barcode: Option<String>,
    pub low_stock: Option<i64>,
}

impl ProductSummary {
    /// Counted stock at or below the product's low-stock level.
    pub fn is_low(&self) -> bool {
        matches!((self.stock, self.low_stock), (Some(stock), Some(low)) if stock <= low)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProductQuery {
    pub search: Option<String>,
    pub include_archived: bool,
    pub offset: i64,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProductPage {
    pub items: Vec<ProductSummary>,
    pub total: i64,
    pub offset: i64,
}

/// A draft that passed validation, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ValidProduct {
    pub sku: Option<String>,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: Option<i64>,
    pub tags: Vec<String>,
    pub tax_rate_id: Option<i64>,
    pub barcode: Option<String>,
    /// The barcode's numeric GTIN value: one product per value.
    pub gtin: Option<i64>,
    pub low_stock: Option<i64>,
}

/// A typed barcode checked (GS1 check digit): its cleaned digits and numeric GTIN value.
pub fn check_barcode(typed: &str) -> Result<shopcast_print::barcode::Gtin> {
    shopcast_print::barcode::normalize_gtin(typed)
        .map_err(|e| CoreError::invalid("barcode", e.to_string()))
}

impl ProductDraft {
    pub(crate) fn validate(
        &self,
        shop_currency: &str,
        rates: &crate::till::taxes::RateNames,
    ) -> Result<ValidProduct> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(CoreError::invalid("name", "Give the product a name."));
        }
        let graphemes = name.graphemes(true).count();
        if graphemes > MAX_NAME_GRAPHEMES {
            return Err(CoreError::invalid(
                "name",
                format!(
                    "The name is {graphemes} characters long; the limit is {MAX_NAME_GRAPHEMES}."
                ),
            ));
        }
        // Control characters (NUL, terminal escapes) break PDF text, posts and the tools that
        // read exports; line breaks and tabs are text.
        let control = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
        if name.chars().any(control) {
            return Err(CoreError::invalid(
                "name",
                "The name cannot contain control characters.",
            ));
        }
        if self.description.chars().any(control) {
            return Err(CoreError::invalid(
                "description",
                "The description cannot contain control characters.",
            ));
        }
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(CoreError::invalid(
                "description",
                format!("The description can be {MAX_DESCRIPTION_CHARS} characters at most."),
            ));
        }
        let sku = self
            .sku
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if let Some(sku) = &sku
            && (sku.chars().count() > MAX_SKU_CHARS || sku.chars().any(char::is_control))
        {
            return Err(CoreError::invalid(
                "sku",
                format!("A SKU is up to {MAX_SKU_CHARS} characters, without line breaks."),
            ));
        }
        let currency = match self
            .currency
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(code) => normalize_currency(code)?,
            None => shop_currency.to_string(),
        };
        let price = parse_price(&self.price, &currency)?;
        if let Some(stock) = self.stock
            && !(-1_000_000_000..=1_000_000_000).contains(&stock)
        {
            return Err(CoreError::invalid(
                "stock",
                "Stock must be a whole number below a billion.",
            ));
        }
        let tags = normalize_tags(&self.tags)?;
        let tax_rate_id = match self.tax.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => Some(rates.id_of(name)?),
            _ => None,
        };
        let barcode = match self.barcode.as_deref().map(str::trim) {
            Some(typed) if !typed.is_empty() => Some(check_barcode(typed)?),
            _ => None,
        };
        if let Some(low) = self.low_stock
            && !(0..=1_000_000_000).contains(&low)
        {
            return Err(CoreError::invalid(
                "lowStock",
                "The low-stock level is a whole number from 0 to a billion.",
            ));
        }
        Ok(ValidProduct {
            sku,
            name: name.to_string(),
            description: self.description.clone(),
            price,
            stock: self.stock,
            tags,
            tax_rate_id,
            gtin: barcode.as_ref().map(|b| b.value),
            barcode: barcode.map(|b| b.digits),
            low_stock: self.low_stock,
        })
    }
}

fn normalize_tags(raw: &[String]) -> Result<Vec<String>> {
    let mut tags: Vec<String> = Vec::new();
    for tag in raw {
        let tag = tag.trim();
        if tag.is_empty() {
            continue;
        }
        if tag.contains(';') || tag.chars().any(char::is_control) {
            return Err(CoreError::invalid(
                "tags",
                format!("The tag “{tag}” cannot contain “;” or line breaks."),
            ));
        }
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err(CoreError::invalid(
                "tags",
                format!("A tag is {MAX_TAG_CHARS} characters at most."),
            ));
        }
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_string());
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(CoreError::invalid(
            "tags",
            format!("A product can have {MAX_TAGS} tags at most."),
        ));
    }
    Ok(tags)
}

pub(crate) fn join_tags(tags: &[String]) -> String {
    tags.join(";")
}

pub(crate) fn split_tags(joined: &str) -> Vec<String> {
    joined
        .split(';')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}
