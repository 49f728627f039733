//! Catalog CSV import and export (the columns of [`HEADER`], UTF-8, RFC 4180); cells a
//! spreadsheet would run as a formula get a leading apostrophe, removed on import.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;

use crate::catalog::store::{self};
use crate::catalog::{ProductDraft, split_tags};
use crate::error::{CoreError, Result};
use crate::money::Money;
use crate::till::taxes::RateNames;

pub const HEADER: [&str; 10] = [
    "sku",
    "name",
    "description",
    "price",
    "currency",
    "stock",
    "tags",
    "tax",
    "barcode",
    "low_stock",
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
    /// The first 100 invalid rows with their reasons.
    pub errors: Vec<RowError>,
    /// Invalid rows beyond those listed in `errors`.
    pub more_errors: u64,
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
pub async fn export(pool: &AnyPool, path: &Path) -> Result<ExportReport> {
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
                &neutralize_cell(row.tax_name.as_deref().unwrap_or("")),
                row.barcode.as_deref().unwrap_or(""),
                &row.low_stock.map(|s| s.to_string()).unwrap_or_default(),
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

/// The largest catalog CSV one import reads, and the most product rows it takes (README).
pub const MAX_IMPORT_BYTES: u64 = 50 * 1024 * 1024;
pub const MAX_IMPORT_ROWS: u64 = 200_000;
/// Row errors listed in a report; the rest are only counted (`more_errors`).
pub const MAX_REPORTED_ERRORS: usize = 100;

/// Rows the reader hands to the writer at a time: the file is written while it is read.
const HANDOVER_ROWS: usize = 2_000;

/// What reading the file gave: how many rows were fine and the rows refused, the first
/// [`MAX_REPORTED_ERRORS`] with their reason.
struct ParsedFile {
    valid: u64,
    errors: Vec<RowError>,
    invalid: u64,
}

impl ParsedFile {
    fn refuse(&mut self, error: RowError) {
        self.invalid += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(error);
        }
    }
}

type Handover = tokio::sync::mpsc::Sender<store::ImportBatch>;

/// Imports a catalog CSV. Rows whose SKU exists update that product; others are created.
/// With any invalid row nothing is written unless `skip_invalid` is set, in which case
/// the valid rows go in (in one transaction) and the invalid ones are reported.
pub async fn import(
    pool: &AnyPool,
    path: &Path,
    shop_currency: &str,
    skip_invalid: bool,
) -> Result<ImportReport> {
    let (path_buf, currency) = (path.to_path_buf(), shop_currency.to_string());
    let rates = crate::till::taxes::ids_by_name(pool).await?;
    let (handover, handovers) = tokio::sync::mpsc::channel(4);
    // Raised by the reader: nothing may be committed (see store::import_products).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Reading and checking 200,000 rows is CPU work: off the async threads, while the rows
    // read so far are written.
    let reader = crate::infra::blocking({
        let stop = stop.clone();
        move || {
            let parsed = parse_file(&path_buf, &currency, &rates, skip_invalid, &stop, handover);
            if parsed.is_err() {
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            parsed
        }
    });
    let writer = store::import_products(pool, handovers, &stop, crate::infra::now_ms());
    let (parsed, written) = tokio::join!(reader, writer);
    let (parsed, written) = (parsed?, written?);
    let mut report = ImportReport {
        valid: parsed.valid,
        skipped: parsed.invalid,
        more_errors: parsed.invalid - parsed.errors.len() as u64,
        errors: parsed.errors,
        ..Default::default()
    };
    match written {
        Some(written) => {
            report.created = written.created;
            report.updated = written.updated;
            report.applied = true;
        }
        None => report.skipped = 0,
    }
    Ok(report)
}

/// Reads and checks the file, handing valid rows over as it goes; a refused row raises
/// `stop` unless invalid rows are skipped (the rest is still read, to report every problem).
/// Only a file read to its end without `stop` gets `AllRead`, the writer's sign to commit.
fn parse_file(
    path: &Path,
    shop_currency: &str,
    rates: &RateNames,
    skip_invalid: bool,
    stop: &std::sync::atomic::AtomicBool,
    handover: Handover,
) -> Result<ParsedFile> {
    let file = std::fs::File::open(path).map_err(|e| CoreError::io("open", path, e))?;
    let size = file
        .metadata()
        .map_err(|e| CoreError::io("open", path, e))?
        .len();
    if size > MAX_IMPORT_BYTES {
        return Err(too_large(&format!(
            "The file is {:.1} MiB",
            size as f64 / (1024.0 * 1024.0)
        )));
    }
    // The cap holds even if the file grows while it is read.
    let reader = Capped::new(std::io::BufReader::new(file), MAX_IMPORT_BYTES);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let header = reader.headers().map_err(unreadable)?.clone();
    let columns = column_positions(&header)?;

    let mut parsed = ParsedFile {
        valid: 0,
        errors: Vec::new(),
        invalid: 0,
    };
    let mut batch = Vec::with_capacity(HANDOVER_ROWS);
    let hand_over = |batch: &mut Vec<_>, parsed: &ParsedFile| {
        if parsed.invalid > 0 && !skip_invalid {
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        if !stop.load(std::sync::atomic::Ordering::SeqCst) && !batch.is_empty() {
            // A writer that failed has gone: its error is the import's.
            let _ = handover.blocking_send(store::ImportBatch::Rows(std::mem::take(batch)));
        }
        batch.clear();
    };
    let mut seen_skus: HashMap<String, u64> = HashMap::new();
    let mut seen_barcodes: HashMap<i64, u64> = HashMap::new();
    let mut rows = 0u64;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    rows += 1;
                    parsed.refuse(RowError {
                        line,
                        field: None,
                        message: "This row is not valid UTF-8 text.".into(),
                    });
                    continue;
                }
                return Err(match unreadable(e) {
                    CoreError::CsvInvalid(why) => {
                        CoreError::CsvInvalid(format!("line {line}: {why}"))
                    }
                    other => other,
                });
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue; // blank line
        }
        rows += 1;
        if rows > MAX_IMPORT_ROWS {
            return Err(CoreError::CsvTooLarge(format!(
                "The file has more than {MAX_IMPORT_ROWS} product rows; one import takes at most {MAX_IMPORT_ROWS}. Split it into smaller files and import them one after another."
            )));
        }
        match row_to_product(&record, &columns, shop_currency, rates) {
            Ok(product) => {
                if let Some(sku) = &product.sku
                    && let Some(first) = seen_skus.insert(sku.clone(), line)
                {
                    parsed.refuse(RowError {
                        line,
                        field: Some("sku".into()),
                        message: format!("The SKU “{sku}” is also on line {first}."),
                    });
                    continue;
                }
                if let Some(gtin) = product.gtin
                    && let Some(first) = seen_barcodes.insert(gtin, line)
                {
                    parsed.refuse(RowError {
                        line,
                        field: Some("barcode".into()),
                        message: format!("This barcode is also on line {first}."),
                    });
                    continue;
                }
                parsed.valid += 1;
                batch.push((line, product));
                if batch.len() == HANDOVER_ROWS {
                    hand_over(&mut batch, &parsed);
                }
            }
            Err(e) => parsed.refuse(RowError {
                line,
                field: e.field().map(str::to_string),
                message: e.to_string(),
            }),
        }
    }
    hand_over(&mut batch, &parsed);
    if !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let _ = handover.blocking_send(store::ImportBatch::AllRead);
    }
    Ok(parsed)
}

/// The import's error for a file past the byte cap; `what` says how it was found out.
fn too_large(what: &str) -> CoreError {
    CoreError::CsvTooLarge(format!(
        "{what}; one import reads at most {} MiB. Split it into smaller files and import them one after another.",
        MAX_IMPORT_BYTES / (1024 * 1024)
    ))
}

/// A reading error of the csv crate: the byte cap is `csv_too_large`, the rest `csv_invalid`.
fn unreadable(error: csv::Error) -> CoreError {
    if let csv::ErrorKind::Io(io) = error.kind()
        && io.get_ref().is_some_and(|inner| inner.is::<PastCap>())
    {
        return too_large("The file grew while it was read");
    }
    CoreError::CsvInvalid(error.to_string())
}

/// Reads at most `left` bytes; one byte more is an error, not the end of the file: a file
/// that grows after its size was checked is refused, never imported with its last row cut.
struct Capped<R> {
    inner: R,
    left: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("the file is larger than the import's byte cap")]
struct PastCap;

impl<R> Capped<R> {
    fn new(inner: R, cap: u64) -> Capped<R> {
        Capped { inner, left: cap }
    }
}

impl<R: std::io::Read> std::io::Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Room for one byte past the cap, so a file of exactly the cap still reads to its end.
        let room = buf
            .len()
            .min(usize::try_from(self.left + 1).unwrap_or(usize::MAX));
        let read = self.inner.read(&mut buf[..room])?;
        if read as u64 > self.left {
            return Err(std::io::Error::other(PastCap));
        }
        self.left -= read as u64;
        Ok(read)
    }
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
    rates: &RateNames,
) -> Result<crate::catalog::ValidProduct> {
    let cell = |name: &str| columns.get(name).and_then(|i| record.get(*i)).unwrap_or("");
    let stock = match cell("stock").trim() {
        "" => None,
        text => Some(text.parse::<i64>().map_err(|_| {
            CoreError::invalid("stock", format!("Stock “{text}” is not a whole number."))
        })?),
    };
    let low_stock = match cell("low_stock").trim() {
        "" => None,
        text => Some(text.parse::<i64>().map_err(|_| {
            CoreError::invalid(
                "lowStock",
                format!("The low-stock level “{text}” is not a whole number."),
            )
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
        tax: Some(restore_cell(cell("tax")).to_string()),
        barcode: Some(cell("barcode").to_string()),
        low_stock,
    };
    draft.validate(shop_currency, rates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog_of(bytes: usize) -> Vec<u8> {
        let mut file = b"sku,name,price\n".to_vec();
        while file.len() < bytes {
            file.extend_from_slice(b"T-1,Tea,1.00\n");
        }
        file.truncate(bytes);
        file
    }

    fn read_all(file: &[u8], cap: u64) -> std::result::Result<Vec<csv::StringRecord>, CoreError> {
        let mut reader = csv::Reader::from_reader(Capped::new(file, cap));
        reader.records().map(|r| r.map_err(unreadable)).collect()
    }

    #[test]
    fn a_file_of_exactly_the_cap_reads_to_its_end() {
        let file = catalog_of(15 + 13 * 100);
        assert_eq!(read_all(&file, file.len() as u64).unwrap().len(), 100);
    }

    #[test]
    fn a_file_past_the_cap_is_too_large_not_cut_short() {
        // One byte past the cap: with `take` the last row read as "T-1,Tea,1.0".
        let file = catalog_of(15 + 13 * 100);
        let error = read_all(&file, file.len() as u64 - 1).unwrap_err();
        assert_eq!(error.code(), crate::ErrorCode::CsvTooLarge);
        assert!(
            error.to_string().contains("grew while it was read"),
            "{error}"
        );
        // Reading in small pieces does not slip past it either.
        let mut capped = Capped::new(&file[..], 20);
        let mut piece = [0u8; 7];
        let mut total = 0;
        let error = loop {
            match std::io::Read::read(&mut capped, &mut piece) {
                Ok(read) => total += read,
                Err(error) => break error,
            }
        };
        assert!(total <= 20, "{total}");
        assert!(error.get_ref().is_some_and(|e| e.is::<PastCap>()));
    }
}
