//! `shopcast products`: import, export and list the catalog, and add photos, from a script.

use std::path::PathBuf;

use clap::Subcommand;
use shopcast_core::{CoreError, ProductQuery, Shop};

use super::Failure;

#[derive(Debug, Subcommand)]
pub enum ProductsCommand {
    /// Import a catalog CSV (sku,name,description,price,currency,stock,tags,tax,barcode,low_stock).
    Import {
        file: PathBuf,
        /// Import the valid rows even if some rows are invalid.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Export the whole catalog as CSV.
    Export { file: PathBuf },
    /// Add photos (PNG, JPEG, WebP) to the product with this SKU; the first one is its main photo.
    Photo {
        #[arg(long)]
        sku: String,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List products.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// Only products matching this search.
        #[arg(long)]
        search: Option<String>,
        /// Include archived products.
        #[arg(long)]
        archived: bool,
    },
}

pub(crate) async fn run_products(shop: &Shop, command: ProductsCommand) -> Result<(), Failure> {
    match command {
        ProductsCommand::Import { file, skip_invalid } => {
            let report = shop.import_catalog(&file, skip_invalid).await?;
            for error in &report.errors {
                let field = error
                    .field
                    .as_deref()
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default();
                eprintln!(
                    "{}:{}{field}: {}",
                    file.display(),
                    error.line,
                    error.message
                );
            }
            if report.more_errors > 0 {
                eprintln!("…and {} more invalid row(s)", report.more_errors);
            }
            if !report.applied {
                return Err(Failure::usage(format!(
                    "nothing imported: {} invalid row(s); fix them or pass --skip-invalid to import the valid rows",
                    report.errors.len() as u64 + report.more_errors
                )));
            }
            println!(
                "imported {} new, {} updated, {} skipped",
                report.created, report.updated, report.skipped
            );
        }
        ProductsCommand::Export { file } => {
            let report = shop.export_catalog(&file).await?;
            println!("exported {} products to {}", report.rows, report.path);
        }
        ProductsCommand::Photo { sku, files } => {
            let id = product_id_of(shop, &sku).await?;
            let mut product = None;
            for file in &files {
                product = Some(shop.add_photo_file(id, file).await?);
            }
            let photos = product.map(|p| p.photos.len()).unwrap_or_default();
            println!("{sku}: {photos} photo(s)");
        }
        ProductsCommand::List {
            json,
            search,
            archived,
        } => {
            let mut query = ProductQuery {
                search,
                include_archived: archived,
                offset: 0,
                limit: 500,
            };
            let mut all = Vec::new();
            loop {
                let page = shop.list_products(&query).await?;
                let done = page.items.len() < query.limit as usize;
                all.extend(page.items);
                if done {
                    break;
                }
                query.offset += query.limit;
            }
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&all).expect("products serialize")
                );
            } else {
                for p in all {
                    let stock = p.stock.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
                    let archived = if p.archived { "\tarchived" } else { "" };
                    println!(
                        "{}\t{}\t{}\t{} {}\t{stock}{archived}",
                        p.id,
                        p.sku.as_deref().unwrap_or("-"),
                        p.name.replace(['\n', '\t'], " "),
                        p.price.to_decimal_string(),
                        p.price.currency
                    );
                }
            }
        }
    }
    Ok(())
}

/// The id of the product with exactly this SKU (archived ones too: a photo may go on first).
async fn product_id_of(shop: &Shop, sku: &str) -> Result<i64, Failure> {
    let query = ProductQuery {
        search: Some(sku.to_string()),
        include_archived: true,
        offset: 0,
        limit: 500,
    };
    let page = shop.list_products(&query).await?;
    page.items
        .into_iter()
        .find(|p| p.sku.as_deref() == Some(sku))
        .map(|p| p.id)
        .ok_or_else(|| {
            Failure::from(CoreError::NotFound {
                what: format!("A product with the SKU {sku:?}"),
            })
        })
}
