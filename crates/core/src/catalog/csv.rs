//! Catalog CSV import and export: `sku,name,description,price,currency,stock,tags`.
//! UTF-8, RFC 4180. Text cells that a spreadsheet would run as a formula are written with a
//! leading apostrophe and restored on import, so a round trip is exact.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use crate::catalog::store::{self};
use crate::catalog::{ProductDraft, split_tags};
use crate::error::{CoreError, Result};
use crate::money::Money;

pub const HEADER: [&str; 7] = [
    "sku",
    "name",
    "description",
    "price",
    "currency",
    "stock",
    "tags",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RowError {
    /// 1-based line number in the file where the record starts.
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// Rows that passed validation (whether or not they were written).
    pub valid: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub errors: Vec<RowError>,
    /// False when nothing was written because the file had invalid rows.
    pub applied: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ExportReport {
    pub rows: u64,
    pub path: String,
}

/// Characters that make Excel, LibreOffice or Sheets treat a cell as a formula.
const FORMULA_LEADS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Prefixes an apostrophe to cells that start like a formula, and to cells that already
/// start with one, so `restore_cell` can always undo it.
pub fn neutralize_cell(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some(c) if FORMULA_LEADS.contains(&c) || c == '\'' => format!("'{text}").into(),
        _ => text.into(),
    }
}

pub fn restore_cell(text: &str) -> &str {
    text.strip_prefix('\'').unwrap_or(text)
}

/// Streams the whole catalog (archived too) to `path`, through a temporary file renamed at
/// the end: a failed export never leaves a half-written file behind.
pub async fn export(pool: &SqlitePool, path: &Path) -> Result<ExportReport> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| CoreError::io("write", path, e))?;
    let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(tmp));
    let csv_err = |e: csv::Error| CoreError::io("write", path, std::io::Error::other(e));
    writer.write_record(HEADER).map_err(csv_err)?;
    let mut rows = store::every_row(pool);
    let mut count = 0u64;
    while let Some(row) = rows.try_next().await? {
        let price = Money {
            amount_minor: row.price_minor,
            currency: row.currency.clone(),
        }
        .to_decimal_string();
        let stock = row.stock.map(|s| s.to_string()).unwrap_or_default();
        let tags = split_tags(&row.tags)
            .iter()
            .map(|t| neutralize_cell(t).into_owned())
            .collect::<Vec<_>>()
            .join(";");
        writer
            .write_record([
                neutralize_cell(row.sku.as_deref().unwrap_or("")).as_ref(),
                &neutralize_cell(&row.name),
                &neutralize_cell(&row.description),
                &price,
                &row.currency,
                &stock,
                &tags,
            ])
            .map_err(csv_err)?;
        count += 1;
    }
    let buffered = writer
        .into_inner()
        .map_err(|e| CoreError::io("write", path, e.into_error()))?;
    let mut tmp = buffered
        .into_inner()
        .map_err(|e| CoreError::io("write", path, e.into_error()))?;
    tmp.flush().map_err(|e| CoreError::io("write", path, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| CoreError::io("write", path, e))?;
    tmp.persist(path)
        .map_err(|e| CoreError::io("write", path, e.error))?;
    Ok(ExportReport {
        rows: count,
        path: path.display().to_string(),
    })
}

/// A parsed, checked CSV row waiting to be written.
struct PlannedRow {
    line: u64,
    product: crate::catalog::ValidProduct,
}

/// Imports a catalog CSV. Rows whose SKU exists update that product; others are created.
/// With any invalid row nothing is written unless `skip_invalid` is set, in which case
/// the valid rows go in (in one transaction) and the invalid ones are reported.
pub async fn import(
    pool: &SqlitePool,
    path: &Path,
    shop_currency: &str,
    skip_invalid: bool,
) -> Result<ImportReport> {
    let file = std::fs::File::open(path).map_err(|e| CoreError::io("open", path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));
    let header = reader
        .headers()
        .map_err(|e| CoreError::CsvInvalid(e.to_string()))?
        .clone();
    let columns = column_positions(&header)?;

    let mut planned = Vec::new();
    let mut errors = Vec::new();
    let mut seen_skus: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    errors.push(RowError {
                        line,
                        field: None,
                        message: "This row is not valid UTF-8 text.".into(),
                    });
                    continue;
                }
                return Err(CoreError::CsvInvalid(format!("line {line}: {e}")));
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue; // blank line
        }
        match row_to_product(&record, &columns, shop_currency) {
            Ok(product) => {
                if let Some(sku) = &product.sku
                    && let Some(first) = seen_skus.insert(sku.clone(), line)
                {
                    errors.push(RowError {
                        line,
                        field: Some("sku".into()),
                        message: format!("The SKU “{sku}” is also on line {first}."),
                    });
                    continue;
                }
                planned.push(PlannedRow { line, product });
            }
            Err(e) => errors.push(RowError {
                line,
                field: e.field().map(str::to_string),
                message: e.to_string(),
            }),
        }
    }

    let mut report = ImportReport {
        valid: planned.len() as u64,
        skipped: errors.len() as u64,
        errors,
        ..Default::default()
    };
    if !report.errors.is_empty() && !skip_invalid {
        report.skipped = 0;
        return Ok(report);
    }
    let mut tx = pool.begin().await?;
    let now = crate::infra::now_ms();
    for row in &planned {
        let existing: Option<i64> = match &row.product.sku {
            Some(sku) => store::id_with_sku(&mut *tx, sku).await?,
            None => None,
        };
        let outcome = match existing {
            Some(id) => store::overwrite(&mut *tx, id, &row.product, now)
                .await
                .map(|_| false),
            None => store::insert(&mut *tx, &row.product, now)
                .await
                .map(|_| true),
        };
        match outcome {
            Ok(true) => report.created += 1,
            Ok(false) => report.updated += 1,
            Err(e) => {
                // Rolls back the whole import: nothing half-imported.
                return Err(CoreError::CsvInvalid(format!("line {}: {e}", row.line)));
            }
        }
    }
    tx.commit().await?;
    report.applied = true;
    Ok(report)
}

/// Where each known column is in this file; `name` and `price` are required.
fn column_positions(header: &csv::StringRecord) -> Result<HashMap<&'static str, usize>> {
    let mut positions = HashMap::new();
    for (index, title) in header.iter().enumerate() {
        let title = title
            .trim_start_matches('\u{feff}')
            .trim()
            .to_ascii_lowercase();
        if let Some(known) = HEADER.iter().find(|h| **h == title) {
            positions.insert(*known, index);
        }
    }
    for required in ["name", "price"] {
        if !positions.contains_key(required) {
            return Err(CoreError::CsvInvalid(format!(
                "the first line must name the columns; “{required}” is missing. Expected: {}.",
                HEADER.join(",")
            )));
        }
    }
    Ok(positions)
}

fn row_to_product(
    record: &csv::StringRecord,
    columns: &HashMap<&'static str, usize>,
    shop_currency: &str,
) -> Result<crate::catalog::ValidProduct> {
    let cell = |name: &str| columns.get(name).and_then(|i| record.get(*i)).unwrap_or("");
    let stock = match cell("stock").trim() {
        "" => None,
        text => Some(text.parse::<i64>().map_err(|_| {
            CoreError::invalid("stock", format!("Stock “{text}” is not a whole number."))
        })?),
    };
    let draft = ProductDraft {
        sku: Some(restore_cell(cell("sku")).to_string()),
        name: restore_cell(cell("name")).to_string(),
        description: restore_cell(cell("description")).to_string(),
        price: cell("price").to_string(),
        currency: Some(cell("currency").to_string()),
        stock,
        tags: cell("tags")
            .split(';')
            .map(|t| restore_cell(t).to_string())
            .collect(),
    };
    draft.validate(shop_currency)
}
