//! The catalog's tables (products, product_photos, products_fts): the only place they are
//! read or written; other rooms ask here for products and stock.

// Dynamic SQL here is assembled from constant fragments and `?` placeholders only; every
// value the owner typed is bound, never formatted in.
use sqlx::{AnyPool, AssertSqlSafe, FromRow};

use crate::catalog::photos::Photo;
use crate::catalog::product::*;
use crate::error::{CoreError, Result};
use crate::infra::now_ms;
use crate::infra::sql::{Flag, Sql};
use crate::infra::store::{Backend, backend};
use crate::money::Money;

#[derive(FromRow)]
pub(crate) struct ProductRow {
    pub id: i64,
    pub sku: Option<String>,
    pub name: String,
    pub description: String,
    pub price_minor: i64,
    pub currency: String,
    pub stock: Option<i64>,
    pub tags: String,
    #[sqlx(try_from = "Flag")]
    pub archived: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub tax_name: Option<String>,
    pub barcode: Option<String>,
    pub low_stock: Option<i64>,
}

/// A product row with its tax rate's name (`ProductRow`'s columns).
const PRODUCT_SELECT: &str = "SELECT p.*, t.name AS tax_name FROM products p
     LEFT JOIN tax_rates t ON t.id = p.tax_rate_id";

impl ProductRow {
    fn into_product(self, photos: Vec<Photo>) -> Product {
        Product {
            id: self.id,
            sku: self.sku,
            name: self.name,
            description: self.description,
            price: Money {
                amount_minor: self.price_minor,
                currency: self.currency,
            },
            stock: self.stock,
            tags: split_tags(&self.tags),
            archived: self.archived,
            photos,
            tax: self.tax_name,
            barcode: self.barcode,
            low_stock: self.low_stock,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Maps a UNIQUE violation on the SKU or the barcode to a sentence the owner understands.
pub(crate) fn sku_conflict(error: sqlx::Error, sku: Option<&str>) -> CoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() && db.message().contains("gtin") => {
            CoreError::Conflict {
                field: "barcode",
                message:
                    "Another product already has this barcode (look among archived products too)."
                        .to_string(),
            }
        }
        sqlx::Error::Database(db) if db.is_unique_violation() => CoreError::Conflict {
            field: "sku",
            message: format!(
                "Another product already has the SKU “{}”.",
                sku.unwrap_or_default()
            ),
        },
        _ => CoreError::Database(error),
    }
}

pub async fn get(pool: &AnyPool, id: i64) -> Result<Product> {
    let row: ProductRow =
        sqlx::query_as(AssertSqlSafe(format!("{PRODUCT_SELECT} WHERE p.id = $1")))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("Product {id}")))?;
    let photos = photos_of(pool, id).await?;
    Ok(row.into_product(photos))
}

/// A stored photo side (pixels, written from a `u32`).
fn dimension(pixels: i64) -> u32 {
    u32::try_from(pixels).unwrap_or(0)
}

async fn photos_of(pool: &AnyPool, product_id: i64) -> Result<Vec<Photo>> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT hash, mime, width, height FROM product_photos WHERE product_id = $1 ORDER BY position",
    )
    .bind(product_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(hash, mime, width, height)| Photo {
            hash,
            mime,
            width: dimension(width),
            height: dimension(height),
        })
        .collect())
}

pub(crate) async fn insert<'e, E>(executor: E, product: &ValidProduct, now: i64) -> Result<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let query = sqlx::query(
        "INSERT INTO products (sku, name, description, price_minor, currency, stock, tags,
                               tax_rate_id, barcode, gtin, low_stock, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    );
    let row = bind_product(query, product)
        .bind(now)
        .bind(now)
        .fetch_one(executor)
        .await
        .map_err(|e| sku_conflict(e, product.sku.as_deref()))?;
    Ok(sqlx::Row::get(&row, 0))
}

pub(crate) async fn overwrite<'e, E>(
    executor: E,
    id: i64,
    product: &ValidProduct,
    now: i64,
) -> Result<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let query = sqlx::query(
        "UPDATE products SET sku = $1, name = $2, description = $3, price_minor = $4, currency = $5, stock = $6,
                tags = $7, tax_rate_id = $8, barcode = $9, gtin = $10, low_stock = $11, updated_at = $12 WHERE id = $13",
    );
    let done = bind_product(query, product)
        .bind(now)
        .bind(id)
        .execute(executor)
        .await
        .map_err(|e| sku_conflict(e, product.sku.as_deref()))?;
    Ok(done.rows_affected() == 1)
}

type Statement<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds a product's columns in the order both statements above list them.
fn bind_product<'q>(query: Statement<'q>, product: &ValidProduct) -> Statement<'q> {
    query
        .bind(product.sku.clone())
        .bind(product.name.clone())
        .bind(product.description.clone())
        .bind(product.price.amount_minor)
        .bind(product.price.currency.clone())
        .bind(product.stock)
        .bind(join_tags(&product.tags))
        .bind(product.tax_rate_id)
        .bind(product.barcode.clone())
        .bind(product.gtin)
        .bind(product.low_stock)
}

pub async fn create(pool: &AnyPool, draft: &ProductDraft, shop_currency: &str) -> Result<Product> {
    let rates = crate::till::taxes::ids_by_name(pool).await?;
    let valid = draft.validate(shop_currency, &rates)?;
    let id = insert(pool, &valid, now_ms()).await?;
    get(pool, id).await
}

pub async fn update(
    pool: &AnyPool,
    id: i64,
    draft: &ProductDraft,
    shop_currency: &str,
) -> Result<Product> {
    let rates = crate::till::taxes::ids_by_name(pool).await?;
    let valid = draft.validate(shop_currency, &rates)?;
    if !overwrite(pool, id, &valid, now_ms()).await? {
        return Err(CoreError::not_found(format!("Product {id}")));
    }
    get(pool, id).await
}

pub async fn set_archived(pool: &AnyPool, id: i64, archived: bool) -> Result<Product> {
    let done = sqlx::query("UPDATE products SET archived = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(archived))
        .bind(now_ms())
        .bind(id)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(CoreError::not_found(format!("Product {id}")));
    }
    get(pool, id).await
}

/// Deletes a product that never sold; one with sales must be archived instead.
pub async fn delete(pool: &AnyPool, id: i64) -> Result<()> {
    let mut tx = pool.begin().await?;
    let has_sales = crate::payments::store::product_has_sales(&mut *tx, id).await?;
    if has_sales {
        return Err(CoreError::HasSales);
    }
    // order_lines.product_id is also ON DELETE RESTRICT, so the database guards this too.
    let done = sqlx::query("DELETE FROM products WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(CoreError::not_found(format!("Product {id}")));
    }
    tx.commit().await?;
    Ok(())
}

pub async fn attach_photo(pool: &AnyPool, product_id: i64, photo: &Photo) -> Result<Product> {
    let mut tx = pool.begin().await?;
    let Flag(exists) = sqlx::query_scalar::<_, crate::infra::sql::Flag>(
        "SELECT EXISTS (SELECT 1 FROM products WHERE id = $1)",
    )
    .bind(product_id)
    .fetch_one(&mut *tx)
    .await?;
    if !exists {
        return Err(CoreError::not_found(format!("Product {product_id}")));
    }
    sqlx::query(
        "INSERT INTO product_photos (product_id, hash, mime, width, height, position)
         VALUES ($1, $2, $3, $4, $5, (SELECT coalesce(max(position), -1) + 1 FROM product_photos WHERE product_id = $6))
         ON CONFLICT (product_id, hash) DO NOTHING",
    )
    .bind(product_id)
    .bind(&photo.hash)
    .bind(&photo.mime)
    .bind(i64::from(photo.width))
    .bind(i64::from(photo.height))
    .bind(product_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE products SET updated_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(product_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    get(pool, product_id).await
}

pub async fn detach_photo(pool: &AnyPool, product_id: i64, hash: &str) -> Result<Product> {
    sqlx::query("DELETE FROM product_photos WHERE product_id = $1 AND hash = $2")
        .bind(product_id)
        .bind(hash)
        .execute(pool)
        .await?;
    get(pool, product_id).await
}

/// One page of the catalog, newest first; with a search, best matches first.
pub async fn list(pool: &AnyPool, query: &ProductQuery) -> Result<ProductPage> {
    let limit = query.limit.clamp(1, MAX_PAGE);
    let offset = query.offset.max(0);
    let archived_filter = if query.include_archived {
        ""
    } else {
        "AND p.archived = 0"
    };
    let search = SearchPlan::new(backend(pool), query.search.as_deref().unwrap_or(""));
    let select = "SELECT p.id, p.sku, p.name, p.price_minor, p.currency, p.stock, p.tags, p.archived,
                p.barcode, p.low_stock,
                (SELECT hash FROM product_photos ph WHERE ph.product_id = p.id ORDER BY position LIMIT 1) AS thumb";

    let (items, total) = match search {
        None => {
            let items: Vec<SummaryRow> = sqlx::query_as(AssertSqlSafe(format!(
                "{select}, 0 AS total FROM products p WHERE 1 = 1 {archived_filter}
                 ORDER BY p.archived, p.updated_at DESC, p.id DESC LIMIT $1 OFFSET $2"
            )))
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
            let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT count(*) FROM products p WHERE 1 = 1 {archived_filter}"
            )))
            .fetch_one(pool)
            .await?;
            (items, total)
        }
        Some(plan) => {
            // One pass: the window count gives the total of all hits alongside the page.
            let items = plan
                .query(select, archived_filter, true, Some((limit, offset)))
                .build_query_as::<SummaryRow>()
                .fetch_all(pool)
                .await?;
            let total = match items.first() {
                Some(first) => first.total,
                // Past the end (or no hits): count without the page.
                None if offset > 0 => {
                    plan.query("SELECT p.id", archived_filter, false, None)
                        .wrap("SELECT count(*) FROM (", ") AS counted")
                        .build_query_scalar::<i64>()
                        .fetch_one(pool)
                        .await?
                }
                None => 0,
            };
            (items, total)
        }
    };
    Ok(ProductPage {
        items: items.into_iter().map(SummaryRow::into_summary).collect(),
        total,
        offset,
    })
}

#[derive(FromRow)]
struct SummaryRow {
    id: i64,
    sku: Option<String>,
    name: String,
    price_minor: i64,
    currency: String,
    stock: Option<i64>,
    tags: String,
    #[sqlx(try_from = "Flag")]
    archived: bool,
    thumb: Option<String>,
    barcode: Option<String>,
    low_stock: Option<i64>,
    /// Number of rows in the whole result (search only).
    total: i64,
}

impl SummaryRow {
    fn into_summary(self) -> ProductSummary {
        ProductSummary {
            id: self.id,
            sku: self.sku,
            name: self.name,
            price: Money {
                amount_minor: self.price_minor,
                currency: self.currency,
            },
            stock: self.stock,
            tags: split_tags(&self.tags),
            archived: self.archived,
            thumb: self.thumb,
            barcode: self.barcode,
            low_stock: self.low_stock,
        }
    }
}

/// How a search box text becomes SQL. On SQLite, words of three or more characters go
/// through the FTS5 trigram index (MATCH, ranked by bm25); shorter words (two Chinese
/// characters are a whole word, which trigrams cannot index) are matched with LIKE on the
/// product columns of the rows left. On PostgreSQL every word is a LIKE on the lowercased
/// columns, which the `pg_trgm` GIN index serves. Every word must match.
struct SearchPlan {
    backend: Backend,
    fts_expr: Option<String>,
    /// LIKE patterns: the short words on SQLite, every word on PostgreSQL.
    patterns: Vec<String>,
    columns: &'static [&'static str],
    /// The columns as one folded text, as the PostgreSQL trigram index has it.
    joined: &'static str,
}

/// What the owner's catalog search looks in.
const SEARCHED_COLUMNS: [&str; 4] = ["p.name", "p.description", "coalesce(p.sku, '')", "p.tags"];
/// The same, folded, as PostgreSQL stores it for its trigram index (`products.search_text`).
const SEARCHED_TEXT: &str = "p.search_text";
/// What the public shop page's search looks in: tags are the owner's own words (they may be
/// private), so a stranger cannot find a product by one.
const PUBLIC_SEARCHED_COLUMNS: [&str; 3] = ["p.name", "p.description", "coalesce(p.sku, '')"];
/// The same on PostgreSQL (`products.public_search_text`).
const PUBLIC_SEARCHED_TEXT: &str = "p.public_search_text";
/// The same, as an FTS5 column filter.
const PUBLIC_FTS_COLUMNS: &str = "{name description sku}";

impl SearchPlan {
    /// The owner's search (every column, tags included).
    fn new(backend: Backend, text: &str) -> Option<SearchPlan> {
        SearchPlan::over(backend, text, &SEARCHED_COLUMNS, SEARCHED_TEXT, None)
    }

    /// The shop page's search (name, description, SKU).
    fn public(backend: Backend, text: &str) -> Option<SearchPlan> {
        SearchPlan::over(
            backend,
            text,
            &PUBLIC_SEARCHED_COLUMNS,
            PUBLIC_SEARCHED_TEXT,
            Some(PUBLIC_FTS_COLUMNS),
        )
    }

    fn over(
        backend: Backend,
        text: &str,
        columns: &'static [&'static str],
        joined: &'static str,
        fts_columns: Option<&str>,
    ) -> Option<SearchPlan> {
        let words: Vec<&str> = text.split_whitespace().take(16).collect();
        if words.is_empty() {
            return None;
        }
        if backend == Backend::Postgres {
            return Some(SearchPlan {
                backend,
                fts_expr: None,
                patterns: words
                    .iter()
                    .map(|w| like_pattern(&w.to_lowercase()))
                    .collect(),
                columns,
                joined,
            });
        }
        let (long, short): (Vec<&str>, Vec<&str>) =
            words.into_iter().partition(|w| w.chars().count() >= 3);
        // Each word is one quoted FTS5 string: user text never reaches the query syntax.
        let fts_expr = (!long.is_empty()).then(|| {
            long.iter()
                .map(|w| {
                    let phrase = format!("\"{}\"", w.replace('"', "\"\""));
                    match fts_columns {
                        Some(columns) => format!("{columns} : {phrase}"),
                        None => phrase,
                    }
                })
                .collect::<Vec<_>>()
                .join(" AND ")
        });
        Some(SearchPlan {
            backend,
            fts_expr,
            patterns: short.iter().map(|w| like_pattern(w)).collect(),
            columns,
            joined,
        })
    }

    /// The hits as `select` columns (plus `total`, the count of every hit, `with_total`:
    /// counting costs a pass over every hit), one page of them when `page` is (limit, offset).
    fn query(&self, select: &str, filter: &str, with_total: bool, page: Option<(i64, i64)>) -> Sql {
        let total = if with_total {
            ", count(*) OVER () AS total"
        } else {
            ""
        };
        let mut sql = Sql::new("");
        let order = match &self.fts_expr {
            Some(expr) => {
                // MATERIALIZED keeps SQLite from re-running the MATCH once per product row.
                sql.push("WITH hits AS MATERIALIZED (SELECT rowid AS id, bm25(products_fts) AS rank FROM products_fts WHERE products_fts MATCH ");
                sql.push_bind(expr.clone());
                sql.push(format_args!(
                    ") {select}{total} FROM hits JOIN products p ON p.id = hits.id WHERE 1 = 1 {filter}"
                ));
                "hits.rank, p.updated_at DESC, p.id DESC"
            }
            None => {
                sql.push(format_args!(
                    "{select}{total} FROM products p WHERE 1 = 1 {filter}"
                ));
                "p.archived, p.updated_at DESC, p.id DESC"
            }
        };
        for pattern in &self.patterns {
            let placeholder = sql.bind(pattern.clone());
            match self.backend {
                Backend::Postgres => {
                    sql.push(format_args!(
                        " AND {} LIKE shop_search_text({placeholder}) ESCAPE '\\'",
                        self.joined
                    ));
                }
                Backend::Sqlite => {
                    let any_column = self
                        .columns
                        .iter()
                        .map(|c| format!("{c} LIKE {placeholder} ESCAPE '\\'"))
                        .collect::<Vec<_>>()
                        .join(" OR ");
                    sql.push(format_args!(" AND ({any_column})"));
                }
            }
        }
        sql.push(format_args!(" ORDER BY {order}"));
        if let Some((limit, offset)) = page {
            sql.push(" LIMIT ").push_bind(limit);
            sql.push(" OFFSET ").push_bind(offset);
        }
        sql
    }
}

fn like_pattern(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Products the public shop page shows: on sale, with a SKU.
const ON_SHOP_PAGE: &str = "AND p.archived = 0 AND p.sku IS NOT NULL AND p.sku <> ''";
const PUBLIC_COLUMNS: &str = "SELECT p.id, p.sku, p.name, p.description, p.price_minor, p.currency,
                p.stock, p.tags, p.archived, p.created_at, p.updated_at,
                NULL AS tax_name, NULL AS barcode, NULL AS low_stock";

/// The product on the shop page with this SKU.
pub(crate) async fn public_by_sku(pool: &AnyPool, sku: &str) -> Result<Option<Product>> {
    let row: Option<ProductRow> = sqlx::query_as(AssertSqlSafe(format!(
        "{PUBLIC_COLUMNS} FROM products p WHERE p.sku = $1 {ON_SHOP_PAGE}"
    )))
    .bind(sku)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let photos = photos_of(pool, row.id).await?;
    Ok(Some(row.into_product(photos)))
}

/// One page of the shop page's products (newest first; with a search, best matches first,
/// through the same index as the catalog's search), and whether more follow.
pub(crate) async fn public_page(
    pool: &AnyPool,
    search: &str,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Product>, bool)> {
    // One more than asked tells whether another page follows.
    let wanted = limit + 1;
    let mut rows: Vec<ProductRow> = match SearchPlan::public(backend(pool), search) {
        None => {
            sqlx::query_as(AssertSqlSafe(format!(
                "{PUBLIC_COLUMNS} FROM products p WHERE 1 = 1 {ON_SHOP_PAGE}
                 ORDER BY p.updated_at DESC, p.id DESC LIMIT $1 OFFSET $2"
            )))
            .bind(wanted)
            .bind(offset)
            .fetch_all(pool)
            .await?
        }
        Some(plan) => {
            plan.query(PUBLIC_COLUMNS, ON_SHOP_PAGE, false, Some((wanted, offset)))
                .build_query_as::<ProductRow>()
                .fetch_all(pool)
                .await?
        }
    };
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut photos = photos_of_many(pool, &ids).await?;
    let products = rows
        .into_iter()
        .map(|row| {
            let own = photos.remove(&row.id).unwrap_or_default();
            row.into_product(own)
        })
        .collect();
    Ok((products, has_more))
}

/// Photos of several products in one query, each product's in order.
async fn photos_of_many(
    pool: &AnyPool,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<Photo>>> {
    let mut all: std::collections::HashMap<i64, Vec<Photo>> = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(all);
    }
    let sql = format!(
        "SELECT ph.product_id, ph.hash, ph.mime, ph.width, ph.height
         FROM {} AS j JOIN product_photos ph ON ph.product_id = CAST(j.value AS BIGINT)
         ORDER BY ph.product_id, ph.position",
        backend(pool).json_values(1)
    );
    let rows: Vec<(i64, String, String, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(serde_json::to_string(ids).expect("numbers serialize"))
        .fetch_all(pool)
        .await?;
    for (id, hash, mime, width, height) in rows {
        all.entry(id).or_default().push(Photo {
            hash,
            mime,
            width: dimension(width),
            height: dimension(height),
        });
    }
    Ok(all)
}

/// Whether a photo belongs to a product on the shop page (archived and SKU-less products'
/// photos stay private even though their files remain in the media store).
pub(crate) async fn public_photo(pool: &AnyPool, hash: &str) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, Flag>(AssertSqlSafe(format!(
        "SELECT EXISTS (SELECT 1 FROM product_photos pp JOIN products p ON p.id = pp.product_id
         WHERE pp.hash = $1 {ON_SHOP_PAGE})"
    )))
    .bind(hash)
    .fetch_one(pool)
    .await?
    .0)
}

/// (sku, updated_at) of the shop page's products, newest first, at most `limit`.
pub(crate) async fn public_sitemap(pool: &AnyPool, limit: i64) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "SELECT p.sku, p.updated_at FROM products p WHERE 1 = 1 {ON_SHOP_PAGE}
         ORDER BY p.updated_at DESC, p.id DESC LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Every product still on sale, by name.
pub(crate) async fn active_ids(pool: &AnyPool) -> Result<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM products WHERE archived = 0 ORDER BY name, id")
            .fetch_all(pool)
            .await?,
    )
}

/// The product with this SKU (archived ones too when `with_archived`).
pub(crate) async fn id_by_sku(
    pool: &AnyPool,
    sku: &str,
    with_archived: bool,
) -> Result<Option<i64>> {
    let sql = if with_archived {
        "SELECT id FROM products WHERE sku = $1"
    } else {
        "SELECT id FROM products WHERE sku = $1 AND archived = 0"
    };
    Ok(sqlx::query_scalar(sql)
        .bind(sku)
        .fetch_optional(pool)
        .await?)
}

/// Products on sale at or below their low-stock level, lowest stock first (at most `limit`).
pub(crate) async fn running_low(pool: &AnyPool, limit: i64) -> Result<Vec<ProductSummary>> {
    let rows: Vec<SummaryRow> = sqlx::query_as(
        "SELECT p.id, p.sku, p.name, p.price_minor, p.currency, p.stock, p.tags, p.archived,
                p.barcode, p.low_stock,
                (SELECT hash FROM product_photos ph WHERE ph.product_id = p.id ORDER BY position LIMIT 1) AS thumb,
                0 AS total
         FROM products p
         WHERE p.archived = 0 AND p.stock IS NOT NULL AND p.low_stock IS NOT NULL AND p.stock <= p.low_stock
         ORDER BY p.stock, p.name LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(SummaryRow::into_summary).collect())
}

/// The product on sale with this GTIN value.
pub(crate) async fn id_by_gtin(pool: &AnyPool, gtin: i64) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM products WHERE gtin = $1 AND archived = 0")
            .bind(gtin)
            .fetch_optional(pool)
            .await?,
    )
}

/// What a sale copies from each product, in one query: name, SKU, price and the tax rate it
/// is sold at — its own, else the shop's default, else none (id → facts). Archived products
/// too (an old till screen may still show one); products that no longer exist are missing.
pub(crate) async fn sale_facts_of(
    pool: &AnyPool,
    products: SaleProducts<'_>,
) -> Result<std::collections::HashMap<i64, SaleFacts>> {
    let mut query = Sql::new(
        "SELECT p.id, p.name, p.sku, p.price_minor, p.currency, t.name, t.rate_ppm, p.stock FROM products p
         LEFT JOIN tax_rates t ON t.id = coalesce(p.tax_rate_id,
             (SELECT d.id FROM tax_rates d WHERE d.is_default = 1))
         WHERE ",
    );
    match products {
        SaleProducts::Ids([]) | SaleProducts::Skus([]) => return Ok(Default::default()),
        SaleProducts::Ids(ids) => {
            query.push("p.id IN (");
            let mut list = query.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            list.push_unseparated(")");
        }
        SaleProducts::Skus(skus) => {
            query.push("p.archived = 0 AND p.sku IN (");
            let mut list = query.separated(", ");
            for sku in skus {
                list.push_bind(sku.to_string());
            }
            list.push_unseparated(")");
        }
    }
    type FactsRow = (
        i64,
        String,
        Option<String>,
        i64,
        String,
        Option<String>,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<FactsRow> = query.build_query_as().fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, sku, amount_minor, currency, rate_name, rate_ppm, stock)| {
                let price = Money {
                    amount_minor,
                    currency,
                };
                (
                    id,
                    SaleFacts {
                        name,
                        sku,
                        price,
                        rate: rate_name.zip(rate_ppm),
                        counted: stock.is_some(),
                    },
                )
            },
        )
        .collect())
}

/// Which products a sale names: by id (the till screen), or by SKU (a script's `sell`: on
/// sale only).
#[derive(Clone, Copy)]
pub(crate) enum SaleProducts<'a> {
    Ids(&'a [i64]),
    Skus(&'a [&'a str]),
}

/// A product as a sale line needs it.
pub(crate) struct SaleFacts {
    pub name: String,
    pub sku: Option<String>,
    pub price: Money,
    /// The rate's name and parts per million.
    pub rate: Option<(String, i64)>,
    /// Its stock is counted (as read, outside the sale's transaction).
    pub counted: bool,
}

/// The name of a product, if it still exists.
pub(crate) async fn name_of(pool: &AnyPool, id: i64) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT name FROM products WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?,
    )
}

/// Locks the counted ones of these products (ids in ascending order, so two sales locking
/// the same ones never deadlock) inside the caller's write transaction and says their stock
/// (id → stock); products without a count are neither locked nor returned.
pub(crate) async fn lock_stock(
    conn: &mut sqlx::AnyConnection,
    products: &[i64],
) -> Result<std::collections::HashMap<i64, i64>> {
    if products.is_empty() {
        return Ok(Default::default());
    }
    let backend = Backend::of_connection(conn);
    let mut query = Sql::new("SELECT id, stock FROM products WHERE stock IS NOT NULL AND id IN (");
    let mut list = query.separated(", ");
    for id in products {
        list.push_bind(*id);
    }
    list.push_unseparated(") ORDER BY id");
    query.push(backend.for_update());
    let rows: Vec<(i64, i64)> = query.build_query_as().fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().collect())
}

/// Takes sold goods out of stock, inside the caller's transaction (products without a
/// stock count are left alone; stock never goes below zero). One statement for the whole
/// sale: on a server each statement is a round trip while the rows stay locked.
pub(crate) async fn take_stock(conn: &mut sqlx::AnyConnection, sold: &[(i64, i64)]) -> Result<()> {
    if sold.is_empty() {
        return Ok(());
    }
    let mut update = Sql::new("UPDATE products SET stock = CASE");
    for (id, quantity) in sold {
        let (id, quantity) = (update.bind(*id), update.bind(*quantity));
        update.push(format!(
            " WHEN id = {id} THEN CASE WHEN stock > {quantity} THEN stock - {quantity} ELSE 0 END"
        ));
    }
    update.push(" ELSE stock END WHERE stock IS NOT NULL AND id IN (");
    let mut list = update.separated(", ");
    for (id, _) in sold {
        list.push_bind(*id);
    }
    list.push_unseparated(")");
    update.build().execute(&mut *conn).await?;
    Ok(())
}

/// Products per multi-row statement of the CSV import (13 values each, far below SQLite's
/// 32,766 variables; larger chunks gain nothing measurable).
const IMPORT_CHUNK: usize = 500;

/// What a CSV import wrote.
#[derive(Default)]
pub(crate) struct ImportCounts {
    pub created: u64,
    pub updated: u64,
}

/// What the CSV reader hands the writer: checked rows (with their line numbers), then, only
/// when the whole file was read and may be applied, `AllRead`.
pub(crate) enum ImportBatch {
    Rows(Vec<(u64, ValidProduct)>),
    AllRead,
}

/// Writes checked CSV rows as the reader hands them over, all in one transaction: rows whose
/// SKU exists (archived or not) overwrite that product, the others are created. Each
/// handover's SKUs are looked up in one query and rows are written by the hundred (row by
/// row, 100,000 rows took 14 s). Commits only on `AllRead`: a reader that raised `stop` or
/// went away without it (a cap, an unreadable file) leaves nothing written: None.
pub(crate) async fn import_products(
    pool: &AnyPool,
    mut handovers: tokio::sync::mpsc::Receiver<ImportBatch>,
    stop: &std::sync::atomic::AtomicBool,
    now: i64,
) -> Result<Option<ImportCounts>> {
    let stopped = || stop.load(std::sync::atomic::Ordering::SeqCst);
    let mut tx = pool.begin().await?;
    let mut counts = ImportCounts::default();
    // Rolled back as the transaction drops on every early return.
    loop {
        match handovers.recv().await {
            _ if stopped() => return Ok(None),
            Some(ImportBatch::Rows(rows)) => {
                write_imported(&mut tx, &rows, now, &mut counts).await?
            }
            Some(ImportBatch::AllRead) => break,
            None => return Ok(None),
        }
    }
    tx.commit().await?;
    Ok(Some(counts))
}

async fn write_imported(
    conn: &mut sqlx::AnyConnection,
    rows: &[(u64, ValidProduct)],
    now: i64,
    counts: &mut ImportCounts,
) -> Result<()> {
    let skus: Vec<&str> = rows.iter().filter_map(|(_, p)| p.sku.as_deref()).collect();
    let backend = Backend::of_connection(conn);
    let existing: std::collections::HashMap<String, i64> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT p.sku, p.id FROM {} AS j JOIN products p ON p.sku = j.value",
            backend.json_values(1)
        )))
        .bind(serde_json::to_string(&skus).expect("strings serialize"))
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
    let (updates, inserts): (Vec<_>, Vec<_>) = rows.iter().partition(|(_, p)| {
        p.sku
            .as_deref()
            .is_some_and(|sku| existing.contains_key(sku))
    });
    let failed = |chunk: &[&(u64, ValidProduct)], error: CoreError| {
        let (first, last) = (chunk[0].0, chunk[chunk.len() - 1].0);
        CoreError::CsvInvalid(format!("lines {first}–{last}: {error}"))
    };
    // Barcodes move with the file: the rows updated let go of theirs first, so two products
    // may swap barcodes, and a new row may take one an updated row gives up (the unique index
    // is checked row by row).
    if !updates.is_empty() {
        let ids: Vec<i64> = updates
            .iter()
            .filter_map(|(_, p)| p.sku.as_deref().map(|sku| existing[sku]))
            .collect();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE products SET gtin = NULL WHERE id IN (SELECT CAST(value AS BIGINT) FROM {})",
            backend.json_values(1)
        )))
        .bind(serde_json::to_string(&ids).expect("ids serialize"))
        .execute(&mut *conn)
        .await?;
    }
    for chunk in updates.chunks(IMPORT_CHUNK) {
        // VALUES names its columns column1…column13 in SQLite.
        let mut update = crate::infra::sql::Sql::new(
            "UPDATE products SET sku = v.column2, name = v.column3, description = v.column4,
                price_minor = v.column5, currency = v.column6, stock = v.column7, tags = v.column8,
                tax_rate_id = v.column9, barcode = v.column10, gtin = v.column11,
                low_stock = v.column12, updated_at = v.column13
             FROM (",
        );
        update.push_values(chunk, |mut values, (_, product)| {
            let id = product.sku.as_deref().map(|sku| existing[sku]);
            values.push_bind(id);
            push_product(&mut values, product);
            values.push_bind(now);
        });
        update.push(") AS v WHERE products.id = v.column1");
        update
            .build()
            .execute(&mut *conn)
            .await
            .map_err(|e| failed(chunk, e.into()))?;
    }
    for chunk in inserts.chunks(IMPORT_CHUNK) {
        let mut insert = crate::infra::sql::Sql::new(
            "INSERT INTO products (sku, name, description, price_minor, currency, stock, tags,
                                   tax_rate_id, barcode, gtin, low_stock, created_at, updated_at) ",
        );
        insert.push_values(chunk, |mut values, (_, product)| {
            push_product(&mut values, product);
            values.push_bind(now).push_bind(now);
        });
        insert
            .build()
            .execute(&mut *conn)
            .await
            .map_err(|e| failed(chunk, e.into()))?;
    }
    counts.created += inserts.len() as u64;
    counts.updated += updates.len() as u64;
    Ok(())
}

/// A product's columns in the order [`bind_product`] binds them, for multi-row statements.
fn push_product(values: &mut crate::infra::sql::Separated<'_>, product: &ValidProduct) {
    values
        .push_bind(product.sku.clone())
        .push_bind(product.name.clone())
        .push_bind(product.description.clone())
        .push_bind(product.price.amount_minor)
        .push_bind(product.price.currency.clone())
        .push_bind(product.stock)
        .push_bind(join_tags(&product.tags))
        .push_bind(product.tax_rate_id)
        .push_bind(product.barcode.clone())
        .push_bind(product.gtin)
        .push_bind(product.low_stock);
}

/// Every product row in id order, streamed (the catalog CSV export).
pub(crate) fn every_row(
    pool: &AnyPool,
) -> futures_util::stream::BoxStream<'_, std::result::Result<ProductRow, sqlx::Error>> {
    sqlx::query_as::<_, ProductRow>(AssertSqlSafe(format!("{PRODUCT_SELECT} ORDER BY p.id")))
        .fetch(pool)
}
