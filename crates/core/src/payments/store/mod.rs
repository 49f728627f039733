//! The payments room's tables: the ledger (`ledger`), orders and charges (`orders`), test-mode
//! runs (`test_runs`), unread events (`unreadable`), watcher leases (`leases`), the link cache and
//! other rooms' lookups.

pub(crate) mod leases;
pub(crate) mod ledger;
pub(crate) mod orders;
pub(crate) mod paid_sale;
pub(crate) mod test_runs;
pub(crate) mod unreadable;

use shopcast_payments::ProviderKind;
use sqlx::{AnyExecutor, AnyPool};

use crate::catalog::Product;
use crate::error::Result;
use crate::infra::now_ms;

/// The most of a provider's reply kept in the shop's database (events, charges): a reply can
/// be as large as the provider likes, the ledger row should not be.
pub const RAW_MAX_BYTES: usize = 64 * 1024;

/// `raw` without receipt tokens (a provider's echo of the receipt address), cut to
/// [`RAW_MAX_BYTES`] with a marker saying how long it was. Every raw reply and event the
/// payments room stores goes through here.
pub(crate) fn bounded_raw(raw: &str) -> String {
    bounded_raw_text(raw).into_owned()
}

fn bounded_raw_text(raw: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    match crate::payments::web::without_receipt_tokens(raw) {
        Cow::Borrowed(raw) => shopcast_payments::http::cut(raw, RAW_MAX_BYTES),
        Cow::Owned(raw) => {
            Cow::Owned(shopcast_payments::http::cut(&raw, RAW_MAX_BYTES).into_owned())
        }
    }
}

/// Whether any order ever sold this product (such a product is archived, not deleted).
pub(crate) async fn product_has_sales<'e>(
    executor: impl AnyExecutor<'e>,
    product_id: i64,
) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, crate::infra::sql::Flag>(
        "SELECT EXISTS (SELECT 1 FROM order_lines WHERE product_id = $1)",
    )
    .bind(product_id)
    .fetch_one(executor)
    .await?
    .0)
}

/// The product's reusable link at `provider`, if one was made for its current name and price.
pub(crate) async fn cached_link(
    pool: &AnyPool,
    product: &Product,
    provider: ProviderKind,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT url FROM payment_links WHERE product_id = $1 AND provider = $2
           AND name = $3 AND price_minor = $4 AND currency = $5",
    )
    .bind(product.id)
    .bind(provider.as_str())
    .bind(&product.name)
    .bind(product.price.amount_minor)
    .bind(&product.price.currency)
    .fetch_optional(pool)
    .await?)
}

/// Keeps the link made for the product's current name and price (replacing an older one).
pub(crate) async fn keep_link(
    pool: &AnyPool,
    product: &Product,
    provider: ProviderKind,
    link_id: &str,
    url: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO payment_links (product_id, provider, name, price_minor, currency, link_id, url, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (product_id, provider) DO UPDATE SET name = excluded.name,
             price_minor = excluded.price_minor, currency = excluded.currency,
             link_id = excluded.link_id, url = excluded.url, created_at = excluded.created_at",
    )
    .bind(product.id)
    .bind(provider.as_str())
    .bind(&product.name)
    .bind(product.price.amount_minor)
    .bind(&product.price.currency)
    .bind(link_id)
    .bind(url)
    .bind(now_ms())
    .execute(pool)
    .await?;
    Ok(())
}
