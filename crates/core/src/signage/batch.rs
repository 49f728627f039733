//! Signage batches: which products were printed, with which QR payloads, when. The batch id
//! travels in each printed buy link so sales can later be attributed to the sign.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sqlx::AnyPool;

use crate::catalog::{self, Product};
use crate::error::{CoreError, Result};
use crate::infra::{crockford_id, write_file_atomically};
use crate::settings::ShopSettings;

/// Which products a batch is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", tag = "kind", content = "value")]
pub enum Selection {
    All,
    Skus(Vec<String>),
    Ids(Vec<i64>),
}

/// What one printed sign shows, ready for the renderer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SignContent {
    pub product_id: i64,
    pub shop_name: String,
    pub product_name: String,
    /// Formatted for the shop's locale: "¥88.00", "12,50 €".
    pub price_text: String,
    pub qr_payload: String,
    /// The product's barcode as the 13 digits of an EAN-13 (UPC-A with a leading 0), drawn
    /// beside the QR where the template has room; `None` without one (or for GTIN-8/14).
    #[serde(default)]
    pub barcode: Option<String>,
}

/// A batch about to be printed: its id and one sign per product (copies are the renderer's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SignageBatch {
    pub id: String,
    pub template: String,
    pub copies: u32,
    pub signs: Vec<SignContent>,
}

/// The product's buy link tagged with where the visit came from, e.g.
/// `https://shop.example.com/p/SKU-1?src=qr&sign=S7K2QXAB`, on the typed buy-link base or
/// else the shop page's. Products without a SKU use their id on the owner's own base, but
/// are refused on the shop page: it finds products by SKU only, so `/p/<id>` would be a
/// 404 or, worse, another product whose SKU happens to be that number.
pub fn tracked_buy_link(
    settings: &ShopSettings,
    product: &Product,
    params: &[(&str, &str)],
) -> Result<String> {
    let base = settings.effective_buy_link_base();
    if base.is_empty() {
        return Err(CoreError::invalid(
            "buyLinkBase",
            "Buy links need an address: turn on the shop page with its public address (Settings → Shop page, or `shopcast serve --public-url`), or type a buy-link base in Settings (for example https://shop.example.com/p/).",
        ));
    }
    let mut url = url::Url::parse(&base).map_err(|_| {
        CoreError::invalid(
            "buyLinkBase",
            "The buy-link base in Settings is not a web address.",
        )
    })?;
    let key = match &product.sku {
        Some(sku) => sku.clone(),
        None if settings.buy_links_on_shop_page() => {
            return Err(CoreError::invalid(
                "sku",
                format!(
                    "“{}” has no SKU; the shop page sells products by SKU. Give it a SKU in the catalog.",
                    product.name
                ),
            ));
        }
        None => product.id.to_string(),
    };
    {
        let mut segments = url.path_segments_mut().map_err(|_| {
            CoreError::invalid(
                "buyLinkBase",
                "The buy-link base in Settings cannot hold a path.",
            )
        })?;
        segments.pop_if_empty().push(&key);
    }
    if !params.is_empty() {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
    }
    Ok(url.into())
}

/// A short id for printing: 8 characters of Crockford base32, unambiguous when read aloud.
pub fn new_batch_id() -> String {
    format!("S{}", crockford_id(7))
}

pub(crate) async fn products_for(pool: &AnyPool, selection: &Selection) -> Result<Vec<Product>> {
    let ids: Vec<i64> = match selection {
        Selection::All => catalog::store::active_ids(pool).await?,
        Selection::Ids(ids) => ids.clone(),
        Selection::Skus(skus) => {
            let mut ids = Vec::with_capacity(skus.len());
            let mut missing = Vec::new();
            for sku in skus {
                match catalog::store::id_by_sku(pool, sku.trim(), true).await? {
                    Some(id) => ids.push(id),
                    None => missing.push(sku.as_str()),
                }
            }
            if !missing.is_empty() {
                return Err(CoreError::invalid(
                    "sku",
                    format!("No product has the SKU {}.", missing.join(", ")),
                ));
            }
            ids
        }
    };
    if ids.is_empty() {
        return Err(CoreError::invalid(
            "products",
            "Choose at least one product to print.",
        ));
    }
    let mut products = Vec::with_capacity(ids.len());
    for id in ids {
        products.push(catalog::store::get(pool, id).await?);
    }
    Ok(products)
}

/// Prepares a batch: a new id and, for each product, its sign with a buy link tagged with
/// the batch: the product's reusable payment link when the shop has one (`paid_links`, with
/// `tag` adding the batch), else the tracked link on the shop's own buy-link address.
pub(crate) fn plan(
    settings: &ShopSettings,
    products: &[Product],
    template: &str,
    copies: u32,
    paid_links: &std::collections::HashMap<i64, String>,
    tag: &dyn Fn(&str, &str) -> Option<String>,
) -> Result<SignageBatch> {
    let id = new_batch_id();
    let sign_tag = format!("sign-{id}");
    let signs = products
        .iter()
        .map(|product| {
            Ok(SignContent {
                product_id: product.id,
                shop_name: settings.name.clone(),
                product_name: product.name.clone(),
                price_text: product.price.format_local(&settings.locale),
                qr_payload: match paid_links
                    .get(&product.id)
                    .and_then(|url| tag(url, &sign_tag))
                {
                    Some(link) => link,
                    None => tracked_buy_link(settings, product, &[("src", "qr"), ("sign", &id)])?,
                },
                barcode: product
                    .barcode
                    .as_deref()
                    .and_then(|b| shopcast_print::barcode::normalize_gtin(b).ok())
                    .and_then(|gtin| gtin.ean13()),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(SignageBatch {
        id,
        template: template.to_string(),
        copies,
        signs,
    })
}

/// Paper for a custom label grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum Paper {
    A4,
    Letter,
}

/// The owner's own label paper: rows × columns of labels of one size, in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CustomGrid {
    pub paper: Paper,
    pub columns: u32,
    pub rows: u32,
    pub label_width_mm: f32,
    pub label_height_mm: f32,
    /// None centres the grid.
    pub margin_left_mm: Option<f32>,
    pub margin_top_mm: Option<f32>,
    pub gap_x_mm: f32,
    pub gap_y_mm: f32,
}

/// Name of the template that uses [`SignageRequest::custom_grid`].
pub const CUSTOM_TEMPLATE: &str = "custom";

/// What the owner asks to print.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SignageRequest {
    pub selection: Selection,
    /// A preset name (see [`templates`]) or "custom" with `custom_grid`.
    pub template: String,
    #[serde(default)]
    pub custom_grid: Option<CustomGrid>,
    pub copies: u32,
    /// "Scan to buy", "扫码购买"…; none prints no call to action.
    pub call_to_action: Option<String>,
}

/// What was printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SignageReport {
    pub batch_id: String,
    pub signs: u32,
    pub copies: u32,
    pub bytes: u64,
    pub path: String,
}

/// Page `page` (0-based) of what `render` would print, as SVG, with the page count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SignagePreview {
    pub svg: String,
    pub page: u32,
    pub pages: u32,
    pub signs: u32,
}

/// The built-in templates, by name.
pub fn templates() -> Vec<String> {
    shopcast_print::Template::PRESETS
        .iter()
        .map(|name| name.to_string())
        .collect()
}

/// The print template a request names: a preset, or the owner's custom grid.
pub fn template_for(request: &SignageRequest) -> Result<shopcast_print::Template> {
    if request.template != CUSTOM_TEMPLATE {
        return Ok(shopcast_print::Template::preset(&request.template)?);
    }
    let grid = request.custom_grid.ok_or_else(|| {
        CoreError::invalid(
            "customGrid",
            "Give the rows, columns and label size of your label paper.",
        )
    })?;
    Ok(shopcast_print::Template::custom(
        shopcast_print::GridSpec {
            page: match grid.paper {
                Paper::A4 => shopcast_print::PageSize::A4,
                Paper::Letter => shopcast_print::PageSize::Letter,
            },
            columns: grid.columns,
            rows: grid.rows,
            label_width_mm: grid.label_width_mm,
            label_height_mm: grid.label_height_mm,
            margin_left_mm: grid.margin_left_mm,
            margin_top_mm: grid.margin_top_mm,
            gap_x_mm: grid.gap_x_mm,
            gap_y_mm: grid.gap_y_mm,
        },
    )?)
}

/// A signage request with everything resolved, ready to render (CPU work: run it off the
/// async runtime).
pub struct PreparedSignage {
    pub template: shopcast_print::Template,
    pub batch: SignageBatch,
    pub call_to_action: Option<String>,
    /// The shop logo's image bytes.
    pub logo: Option<Vec<u8>>,
}

impl PreparedSignage {
    fn with_options<T>(
        &self,
        draw: impl FnOnce(&[shopcast_print::Sign], &shopcast_print::RenderOptions) -> Result<T>,
    ) -> Result<T> {
        let logo = self
            .logo
            .as_deref()
            .map(shopcast_print::Logo::from_image_bytes)
            .transpose()?;
        let options = shopcast_print::RenderOptions {
            logo: logo.as_ref(),
        };
        draw(
            &print_signs(&self.batch, self.call_to_action.as_deref()),
            &options,
        )
    }

    pub fn render(&self) -> Result<Vec<u8>> {
        self.with_options(|signs, options| {
            Ok(shopcast_print::render_with(
                &self.template,
                signs,
                self.batch.copies,
                options,
            )?)
        })
    }

    /// Page `page` as SVG, from the same layout as the PDF.
    pub fn preview(&self, page: u32) -> Result<SignagePreview> {
        self.with_options(|signs, options| {
            let (svg, pages) = shopcast_print::preview_svg_with(
                &self.template,
                signs,
                self.batch.copies,
                page as usize,
                options,
            )?;
            Ok(SignagePreview {
                svg,
                page: page.min(pages as u32 - 1),
                pages: pages as u32,
                signs: self.batch.signs.len() as u32,
            })
        })
    }
}

fn print_signs(batch: &SignageBatch, call_to_action: Option<&str>) -> Vec<shopcast_print::Sign> {
    batch
        .signs
        .iter()
        .map(|sign| shopcast_print::Sign {
            shop_name: sign.shop_name.clone(),
            product_name: sign.product_name.clone(),
            price_text: sign.price_text.clone(),
            qr_payload: sign.qr_payload.clone(),
            call_to_action: call_to_action.map(str::to_string),
            barcode: sign.barcode.clone(),
        })
        .collect()
}

const LAST_REQUEST_KEY: &str = "signage.last_request";

/// The settings of the last printed batch, so the screen opens as the owner left it.
pub(crate) async fn last_request(pool: &AnyPool) -> Result<Option<SignageRequest>> {
    let stored = crate::settings::get_extra(pool, LAST_REQUEST_KEY).await?;
    // An unreadable value (an older format) is simply forgotten.
    Ok(stored.and_then(|json| serde_json::from_str(&json).ok()))
}

pub(crate) async fn remember_request(pool: &AnyPool, request: &SignageRequest) -> Result<()> {
    let json = serde_json::to_string(request).expect("a request serializes");
    crate::settings::set_extra(pool, LAST_REQUEST_KEY, Some(&json)).await
}

/// Writes the PDF next to its final name, renames it into place, then records the batch;
/// if recording fails the file is removed again, so a file on disk always has its record.
pub(crate) async fn print_to(
    pool: &AnyPool,
    batch: &SignageBatch,
    pdf: &[u8],
    out: &Path,
) -> Result<SignageReport> {
    write_file_atomically(out, pdf)?;
    if let Err(error) = super::store::record(pool, batch, "buy_link").await {
        let _ = std::fs::remove_file(out);
        return Err(error);
    }
    Ok(SignageReport {
        batch_id: batch.id.clone(),
        signs: batch.signs.len() as u32,
        copies: batch.copies,
        bytes: pdf.len() as u64,
        path: out.display().to_string(),
    })
}
