//! The sales CSV export: one row per payment line, exact decimal money, formula cells
//! neutralised, streamed in constant memory to a temp file renamed into place.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use super::period::*;
use super::store::*;
use crate::error::{CoreError, Result};

/// Rows between progress reports and cancel checks.
pub(crate) const PROGRESS_EVERY: u64 = 20_000;

/// The stable CSV columns, in order (documented in README.md).
pub const CSV_COLUMNS: &[&str] = &[
    "local_date",
    "local_time",
    "order_id",
    "provider",
    "provider_ref",
    "method",
    "sku",
    "product",
    "quantity",
    "gross",
    "refunded",
    "net",
    "currency",
    "status",
    "channel",
    "post_network",
    "post_url",
    "signage_id",
    "test",
    "discount",
    "tax_rate",
    "tax",
];

/// Options of the CSV export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct CsvOptions {
    /// Start with a UTF-8 byte-order mark so Excel reads Chinese correctly.
    pub excel: bool,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ExportOutcome {
    pub rows: u64,
    pub bytes: u64,
}

/// Cells a spreadsheet would run as a formula get a leading apostrophe.
pub(crate) fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Streams the sales of `filter` as CSV into `out` (written to a temporary file beside it and
/// renamed at the end: a failed or cancelled export leaves no file). `progress` gets the rows
/// written so far.
pub fn export_csv(
    source: &ReportSource,
    filter: &ReportFilter,
    tz_name: &str,
    options: CsvOptions,
    out: &Path,
    cancel: Option<&AtomicBool>,
    mut progress: impl FnMut(u64),
) -> Result<ExportOutcome> {
    let period = Period::of(filter, tz_name)?;
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = tempfile::Builder::new()
        .prefix(".shopcast-export")
        .tempfile_in(dir)
        .map_err(|e| CoreError::io("write the export to", out, e))?;
    let mut buffered = std::io::BufWriter::with_capacity(256 * 1024, temp.as_file());
    if options.excel {
        buffered
            .write_all("\u{feff}".as_bytes())
            .map_err(|e| CoreError::io("write the export to", out, e))?;
    }
    let mut writer = csv::WriterBuilder::new().from_writer(buffered);
    let write_error = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(io) => CoreError::io("write the export to", out, io),
        other => CoreError::Report(format!("{other:?}")),
    };
    writer.write_record(CSV_COLUMNS).map_err(write_error)?;
    let days = DayIndex::new(&period)?;
    let day_names: Vec<String> = days.days.iter().map(|d| d.to_string()).collect();
    let mut time_buf = String::with_capacity(32);
    let mut quantity = String::with_capacity(8);
    let mut amount_buf = [
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ];
    let mut visited: u64 = 0;
    let rows = for_each_sale(source, filter, &period, cancel, |line, gross, refund| {
        visited += 1;
        if visited.is_multiple_of(PROGRESS_EVERY) {
            progress(visited);
        }
        let day = &day_names[days.day_of(line.occurred_at)];
        // The local clock time is UTC plus the zone's offset at that instant (DST-safe), which
        // is far cheaper per row than a full zoned date-time.
        let offset = period
            .tz
            .to_offset(
                jiff::Timestamp::from_millisecond(line.occurred_at)
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
            )
            .seconds();
        let clock = (line.occurred_at.div_euclid(1000) + i64::from(offset)).rem_euclid(86_400);
        time_buf.clear();
        use std::fmt::Write as _;
        let _ = write!(
            time_buf,
            "{:02}:{:02}:{:02}",
            clock / 3600,
            clock / 60 % 60,
            clock % 60
        );
        let exponent = crate::money::exponent(&line.currency);
        let line_money = [
            Some(gross),
            Some(refund),
            Some(gross - refund),
            line.discount_minor,
            line.tax_minor.filter(|_| line.tax_rate.is_some()),
        ];
        for (buf, value) in amount_buf.iter_mut().zip(line_money) {
            buf.clear();
            if let Some(value) = value {
                buf.push_str(&crate::money::format_minor(value, exponent));
            }
        }
        quantity.clear();
        if let Some(q) = line.quantity {
            let _ = write!(quantity, "{q}");
        }
        let signage = if line.channel == "signage" {
            line.source_ref.as_deref()
        } else {
            None
        };
        writer
            .write_record([
                day.as_str(),
                &time_buf,
                &neutralise(line.order_ref.as_deref().unwrap_or("")),
                &line.provider,
                &neutralise(&line.provider_ref),
                &neutralise(line.method.as_deref().unwrap_or("")),
                &neutralise(line.sku.as_deref().unwrap_or("")),
                &neutralise(line.product.as_deref().unwrap_or("")),
                &quantity,
                &amount_buf[0],
                &amount_buf[1],
                &amount_buf[2],
                &line.currency,
                &line.status,
                &line.channel,
                line.post_network.as_deref().unwrap_or(""),
                &neutralise(line.post_url.as_deref().unwrap_or("")),
                &neutralise(signage.unwrap_or("")),
                if line.test { "yes" } else { "no" },
                &amount_buf[3],
                &neutralise(line.tax_rate.as_deref().unwrap_or("")),
                &amount_buf[4],
            ])
            .map_err(write_error)?;
        Ok(())
    })
    .inspect(|rows| progress(*rows))?;
    let buffered = writer
        .into_inner()
        .map_err(|e| CoreError::io("write the export to", out, e.into_error()))?;
    buffered
        .into_inner()
        .map_err(|e| CoreError::io("write the export to", out, e.into_error()))?
        .sync_all()
        .map_err(|e| CoreError::io("write the export to", out, e))?;
    let bytes = temp.as_file().metadata().map(|m| m.len()).unwrap_or(0);
    temp.persist(out)
        .map_err(|e| CoreError::io("write the export to", out, e.error))?;
    Ok(ExportOutcome { rows, bytes })
}
