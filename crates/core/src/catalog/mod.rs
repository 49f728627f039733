//! The catalog room: products (price, currency, stock, tags), their photos in the media store,
//! and the catalog CSV import/export. Its store is the only code touching the product tables.

pub mod csv;
pub mod photos;
mod product;
pub mod public;
pub(crate) mod store;

use std::path::Path;

pub use csv::{ExportReport, ImportReport, RowError};
pub use product::*;
pub use public::{ShopFront, ShopPageIndex, ShopPageProduct, StockState};

use crate::Shop;
use crate::error::Result;

impl Shop {
    // Catalog

    pub async fn list_products(&self, query: &ProductQuery) -> Result<ProductPage> {
        store::list(&self.pool, query).await
    }

    pub async fn product(&self, id: i64) -> Result<Product> {
        store::get(&self.pool, id).await
    }

    /// The product on sale with this barcode, as a scanner types it (any GTIN length: a
    /// UPC-A finds the product stored with the same code as EAN-13).
    pub async fn product_by_barcode(&self, typed: &str) -> Result<Option<Product>> {
        let gtin = crate::catalog::product::check_barcode(typed)?;
        match store::id_by_gtin(&self.pool, gtin.value).await? {
            Some(id) => Ok(Some(store::get(&self.pool, id).await?)),
            None => Ok(None),
        }
    }

    pub async fn create_product(&self, draft: &ProductDraft) -> Result<Product> {
        let currency = self.settings().await?.currency;
        store::create(&self.pool, draft, &currency).await
    }

    pub async fn update_product(&self, id: i64, draft: &ProductDraft) -> Result<Product> {
        let currency = self.settings().await?.currency;
        store::update(&self.pool, id, draft, &currency).await
    }

    pub async fn set_archived(&self, id: i64, archived: bool) -> Result<Product> {
        store::set_archived(&self.pool, id, archived).await
    }

    pub async fn delete_product(&self, id: i64) -> Result<()> {
        store::delete(&self.pool, id).await
    }

    /// Validates and stores photo bytes (off the async runtime: decoding is CPU work), then
    /// attaches the photo to the product.
    pub async fn add_photo(&self, product_id: i64, bytes: Vec<u8>) -> Result<Product> {
        // A photo for a product that is not there must not land in the media folder.
        store::get(&self.pool, product_id).await?;
        let media = self.media.clone();
        let photo = tokio::task::spawn_blocking(move || media.ingest(&bytes))
            .await
            .expect("photo task panicked")?;
        store::attach_photo(&self.pool, product_id, &photo).await
    }

    pub async fn add_photo_file(&self, product_id: i64, path: &Path) -> Result<Product> {
        store::get(&self.pool, product_id).await?;
        let media = self.media.clone();
        let path = path.to_path_buf();
        let photo = tokio::task::spawn_blocking(move || media.ingest_file(&path))
            .await
            .expect("photo task panicked")?;
        store::attach_photo(&self.pool, product_id, &photo).await
    }

    pub async fn remove_photo(&self, product_id: i64, hash: &str) -> Result<Product> {
        store::detach_photo(&self.pool, product_id, hash).await
    }

    pub async fn import_catalog(&self, path: &Path, skip_invalid: bool) -> Result<ImportReport> {
        let currency = self.settings().await?.currency;
        csv::import(&self.pool, path, &currency, skip_invalid).await
    }

    pub async fn export_catalog(&self, path: &Path) -> Result<ExportReport> {
        csv::export(&self.pool, path).await
    }
}
