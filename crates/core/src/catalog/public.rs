//! What the public shop page may show of the catalog: products on sale that have a SKU (the
//! address a buyer uses), with price text in the shop's locale and a stock state, never ids.

use serde::{Deserialize, Serialize};

use crate::Shop;
use crate::catalog::photos::Photo;
use crate::catalog::store;
use crate::error::Result;
use crate::money::Money;

/// Products on one page of the shop page's index.
pub const SHOP_PAGE_SIZE: u32 = 24;
/// Most rows of the sitemap (one sitemap file holds 50,000 addresses).
pub const SITEMAP_MAX: u32 = 50_000;
/// Longest search text the index takes (longer text is cut, not refused).
const MAX_SEARCH_CHARS: usize = 100;
/// Deepest index page: past it nothing is shown (no crawler walks the whole table by offset).
const MAX_INDEX_PAGE: u32 = 1_000;

/// Whether a buyer can buy now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum StockState {
    /// On sale; `left` is the stock count when the shop counts it (`None`: not counted).
    InStock {
        left: Option<i64>,
    },
    SoldOut,
}

impl StockState {
    pub(crate) fn of(stock: Option<i64>) -> StockState {
        match stock {
            Some(left) if left <= 0 => StockState::SoldOut,
            left => StockState::InStock { left },
        }
    }
}

/// One product as a public page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopPageProduct {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    /// In the shop's locale ("¥88.00", "€12,50").
    pub price_text: String,
    pub stock: StockState,
    /// The first is the main one.
    pub photos: Vec<Photo>,
    /// UTC ms (sitemap lastmod, ETag input).
    pub updated_at: i64,
}

/// One page of the index (newest first; with a search, best matches first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopPageIndex {
    pub products: Vec<ShopPageProduct>,
    pub has_more: bool,
}

/// The shop as its public pages name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopFront {
    pub name: String,
    /// "en", "zh-CN", …: the language of the pages.
    pub locale: String,
    pub currency: String,
    pub logo: Option<Photo>,
    /// False when tax is added at checkout (the pages then say "plus tax" by the price).
    pub prices_include_tax: bool,
}

impl Shop {
    pub async fn shop_front(&self) -> Result<ShopFront> {
        let settings = self.settings().await?;
        Ok(ShopFront {
            name: settings.name,
            locale: settings.locale,
            currency: settings.currency,
            prices_include_tax: settings.prices_include_tax,
            logo: self.logo().await?,
        })
    }

    /// The product with this SKU if it is on the shop page (on sale, with a SKU).
    pub async fn shop_page_product(&self, sku: &str) -> Result<Option<ShopPageProduct>> {
        let locale = self.settings().await?.locale;
        let Some(product) = store::public_by_sku(&self.pool, sku).await? else {
            return Ok(None);
        };
        Ok(Some(shown(product, &locale)))
    }

    /// Substring search over name/description/SKU (the catalog's index, so Chinese
    /// substrings match; never the owner's tags), 24 a page; `page` counts from 1 (0 is read as 1).
    pub async fn shop_page_index(&self, search: &str, page: u32) -> Result<ShopPageIndex> {
        let locale = self.settings().await?.locale;
        let page = page.max(1);
        if page > MAX_INDEX_PAGE {
            return Ok(ShopPageIndex {
                products: Vec::new(),
                has_more: false,
            });
        }
        let search: String = search.chars().take(MAX_SEARCH_CHARS).collect();
        let offset = i64::from(page - 1) * i64::from(SHOP_PAGE_SIZE);
        let (products, has_more) =
            store::public_page(&self.pool, &search, offset, i64::from(SHOP_PAGE_SIZE)).await?;
        Ok(ShopPageIndex {
            products: products.into_iter().map(|p| shown(p, &locale)).collect(),
            has_more: has_more && page < MAX_INDEX_PAGE,
        })
    }

    /// Whether the shop page may serve this photo: one of a shown product's, or the logo.
    pub async fn shop_page_shows_photo(&self, hash: &str) -> Result<bool> {
        if store::public_photo(&self.pool, hash).await? {
            return Ok(true);
        }
        Ok(self.logo().await?.is_some_and(|logo| logo.hash == hash))
    }

    /// (sku, updated_at) of every product on the shop page, at most 50,000, newest first.
    pub async fn shop_page_sitemap(&self) -> Result<Vec<(String, i64)>> {
        store::public_sitemap(&self.pool, i64::from(SITEMAP_MAX)).await
    }
}

fn shown(product: crate::Product, locale: &str) -> ShopPageProduct {
    ShopPageProduct {
        sku: product.sku.unwrap_or_default(),
        name: product.name,
        description: product.description,
        price_text: product.price.format_local(locale),
        price: product.price,
        stock: StockState::of(product.stock),
        photos: product.photos,
        updated_at: product.updated_at,
    }
}
