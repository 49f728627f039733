//! Sales reports: the CSV export (one row per payment line, streamed in constant memory) and
//! the summary behind the dashboard and the PDF report (totals per currency, by local day,
//! product, payment method, channel and post). Both read the ledger through a read-only
//! SQLite connection of their own, in time order straight from the `payments_for_reports`
//! index, so they are exact whenever a refund or a late payment arrives: nothing is cached.
//!
//! A sale counts when its payment is paid (or refunded) and matches its order; test payments
//! only when asked. Days are the shop's local days (23 or 25 hours around DST changes).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::money::Money;

/// Longest period one report covers.
const MAX_DAYS: i32 = 3_700;
/// Rows between progress reports and cancel checks.
const PROGRESS_EVERY: u64 = 20_000;

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
];

/// What to report on. Dates are the shop's local dates, both included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct ReportFilter {
    /// "2026-11-01"
    pub from: String,
    /// "2026-11-30"
    pub to: String,
    pub provider: Option<String>,
    /// Only lines of this product.
    pub sku: Option<String>,
    pub channel: Option<String>,
    /// "paid" or "refunded" (fully); default both, i.e. every sale.
    pub status: Option<String>,
    pub include_test: bool,
}

/// A filter checked and turned into UTC bounds.
#[derive(Debug, Clone)]
pub struct Period {
    pub from: Date,
    pub to: Date,
    pub tz: TimeZone,
    pub tz_name: String,
    /// UTC unix ms, [start, end).
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Period {
    pub fn new(from: &str, to: &str, tz_name: &str) -> Result<Period> {
        let parse = |field: &'static str, text: &str| {
            text.trim().parse::<Date>().map_err(|_| {
                CoreError::invalid(field, format!("“{text}” is not a date like 2026-11-30."))
            })
        };
        let from = parse("from", from)?;
        let to = parse("to", to)?;
        if from > to {
            return Err(CoreError::invalid(
                "from",
                "The start date is after the end date.",
            ));
        }
        if (to - from).get_days() >= MAX_DAYS {
            return Err(CoreError::invalid(
                "to",
                "A report covers at most ten years.",
            ));
        }
        let tz = TimeZone::get(tz_name)
            .map_err(|_| CoreError::invalid("timezone", format!("Unknown time zone {tz_name}.")))?;
        let start_ms = day_start(from, &tz)?;
        let end_ms = day_start(
            to.tomorrow()
                .map_err(|e| CoreError::invalid("to", e.to_string()))?,
            &tz,
        )?;
        Ok(Period {
            from,
            to,
            tz,
            tz_name: tz_name.to_string(),
            start_ms,
            end_ms,
        })
    }

    /// Local dates of the period, in order.
    pub fn days(&self) -> Vec<Date> {
        let mut days = Vec::new();
        let mut day = self.from;
        while day <= self.to {
            days.push(day);
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        days
    }
}

/// Where a local day starts, as UTC ms (the first instant of that date in `tz`).
fn day_start(date: Date, tz: &TimeZone) -> Result<i64> {
    Ok(date
        .to_zoned_datetime(tz.clone())
        .map_err(|e| CoreError::invalid("from", e.to_string()))?
        .timestamp()
        .as_millisecond())
}

/// Maps instants (visited in time order) to local days without a time-zone lookup per row.
struct DayIndex {
    /// UTC ms where each day of the period starts, plus the end.
    bounds: Vec<i64>,
    days: Vec<Date>,
}

impl DayIndex {
    fn new(period: &Period) -> Result<DayIndex> {
        let days = period.days();
        let mut bounds = Vec::with_capacity(days.len() + 1);
        for day in &days {
            bounds.push(day_start(*day, &period.tz)?);
        }
        bounds.push(period.end_ms);
        Ok(DayIndex { bounds, days })
    }

    fn day_of(&self, ms: i64) -> usize {
        self.bounds[1..]
            .partition_point(|end| *end <= ms)
            .min(self.days.len() - 1)
    }
}

/// The SQL that reads sales with their lines, time-ordered; filters become bound parameters.
/// What a CSV row needs: the payment, its order's reference and total, each line's name.
const CSV_SELECT: &str = "SELECT p.id, p.occurred_at, o.ref, p.provider, p.provider_ref, \
     p.method, l.sku, l.name, l.quantity, l.unit_price_minor * l.quantity, o.total_minor, \
     p.amount_minor, p.refunded_minor, p.currency, p.status, p.channel, p.source_ref, p.test, \
     l.product_id, pa.network, po.url FROM payments p INDEXED BY payments_for_reports \
     LEFT JOIN orders o ON o.id = p.order_id LEFT JOIN order_lines l ON l.order_id = p.order_id \
     LEFT JOIN posts po ON p.channel = 'post' AND po.id = CAST(p.source_ref AS INTEGER) \
     LEFT JOIN accounts pa ON pa.id = po.account_id";

/// What the summary needs, read from the two covering indexes alone (no table lookups). The
/// order total (for splitting a payment over a subset of its lines) only when filtering by SKU.
const SUMMARY_SELECT: &str = "SELECT p.id, p.occurred_at, p.currency, p.amount_minor, \
     p.refunded_minor, p.provider, p.method, p.channel, p.source_ref, l.product_id, l.quantity, \
     l.unit_price_minor * l.quantity, NULL FROM payments p INDEXED BY payments_for_reports \
     LEFT JOIN order_lines l INDEXED BY order_lines_for_reports ON l.order_id = p.order_id";
const SUMMARY_SELECT_BY_SKU: &str = "SELECT p.id, p.occurred_at, p.currency, p.amount_minor, \
     p.refunded_minor, p.provider, p.method, p.channel, p.source_ref, l.product_id, l.quantity, \
     l.unit_price_minor * l.quantity, o.total_minor FROM payments p INDEXED BY payments_for_reports \
     LEFT JOIN orders o ON o.id = p.order_id LEFT JOIN order_lines l ON l.order_id = p.order_id";

/// `select` plus the filter's conditions; ?1 and ?2 are the period's UTC bounds and the
/// filter's values follow as ?3… (SQLite numbers a bare `?` after the largest so far).
///
/// Rows come in time order, each payment's lines together: the payments index is the outer
/// loop of the join (a LEFT JOIN keeps it there), so no sort is needed.
fn sales_query(select: &str, filter: &ReportFilter) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut sql = String::from(select);
    sql.push_str(" WHERE p.occurred_at >= ?1 AND p.occurred_at < ?2 AND p.mismatch IS NULL");
    let mut params: Vec<Value> = Vec::new();
    match filter.status.as_deref() {
        Some(status @ ("paid" | "refunded")) => {
            sql.push_str(" AND p.status = ?");
            params.push(Value::Text(status.to_string()));
        }
        _ => sql.push_str(" AND p.status IN ('paid', 'refunded')"),
    }
    if !filter.include_test {
        sql.push_str(" AND p.test = 0");
    }
    if let Some(provider) = filter.provider.as_deref().filter(|p| !p.is_empty()) {
        sql.push_str(" AND p.provider = ?");
        params.push(Value::Text(provider.to_string()));
    }
    if let Some(channel) = filter.channel.as_deref().filter(|c| !c.is_empty()) {
        sql.push_str(" AND p.channel = ?");
        params.push(Value::Text(channel.to_string()));
    }
    if let Some(sku) = filter.sku.as_deref().filter(|s| !s.is_empty()) {
        sql.push_str(" AND l.sku = ?");
        params.push(Value::Text(sku.to_string()));
    }
    sql.push_str(" ORDER BY p.occurred_at");
    (sql, params)
}

/// The SQL the export and the summary run for `filter` (parameters ?1 = start, ?2 = end in UTC
/// ms, then the filter's values), for benchmarks against the sqlite3 shell.
pub fn sales_sql(filter: &ReportFilter) -> String {
    sales_query(CSV_SELECT, filter).0
}

/// One line of a sale, with its share of the payment.
#[derive(Debug, Clone)]
struct SaleLine {
    payment_id: i64,
    occurred_at: i64,
    order_ref: Option<String>,
    provider: String,
    provider_ref: String,
    method: Option<String>,
    sku: Option<String>,
    product: Option<String>,
    quantity: Option<i64>,
    /// Line price × quantity (None for a payment without lines).
    line_minor: Option<i64>,
    order_total: Option<i64>,
    amount_minor: i64,
    refunded_minor: i64,
    currency: String,
    status: String,
    channel: String,
    source_ref: Option<String>,
    test: bool,
    /// The post that brought the sale, when it was a post.
    post_network: Option<String>,
    post_url: Option<String>,
}

/// Splits a payment's amount and refund over its lines in proportion to their prices
/// (`line_minors`: price × quantity per line, `None` for a payment without lines). When all of
/// the order's lines are present, the last one takes the rounding remainder so the lines add up
/// to the payment exactly; a payment without lines is one row with everything.
fn allocate_into(
    out: &mut Vec<(i64, i64)>,
    amount_minor: i64,
    refunded_minor: i64,
    order_total: Option<i64>,
    line_minors: &[Option<i64>],
) {
    out.clear();
    let amount = i128::from(amount_minor);
    let refunded = i128::from(refunded_minor);
    let line_sum: i128 = line_minors.iter().map(|l| i128::from(l.unwrap_or(0))).sum();
    if line_sum <= 0 {
        out.resize(line_minors.len(), (0, 0));
        if let Some(first) = out.first_mut() {
            *first = (amount_minor, refunded_minor);
        }
        return;
    }
    let denominator = order_total
        .map(i128::from)
        .filter(|t| *t > 0)
        .unwrap_or(line_sum);
    let complete = line_sum == denominator;
    let (mut gross_left, mut refund_left) = (amount, refunded);
    for (i, line) in line_minors.iter().enumerate() {
        let (gross, refund) = if complete && i + 1 == line_minors.len() {
            (gross_left, refund_left)
        } else {
            let share = i128::from(line.unwrap_or(0));
            (amount * share / denominator, refunded * share / denominator)
        };
        gross_left -= gross;
        refund_left -= refund;
        out.push((gross as i64, refund as i64));
    }
}

fn allocate(lines: &[SaleLine]) -> Vec<(i64, i64)> {
    let mut out = Vec::with_capacity(lines.len());
    if let Some(first) = lines.first() {
        let minors: Vec<Option<i64>> = lines.iter().map(|l| l.line_minor).collect();
        allocate_into(
            &mut out,
            first.amount_minor,
            first.refunded_minor,
            first.order_total,
            &minors,
        );
    }
    out
}

/// Reads sales in time order and hands each payment's lines, allocated, to `visit`.
fn for_each_sale(
    db: &Path,
    filter: &ReportFilter,
    period: &Period,
    cancel: Option<&AtomicBool>,
    mut visit: impl FnMut(&SaleLine, i64, i64) -> Result<()>,
) -> Result<u64> {
    let conn = rusqlite::Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(report_db)?;
    let (sql, extra) = sales_query(CSV_SELECT, filter);
    let mut statement = conn.prepare(&sql).map_err(report_db)?;
    let mut params: Vec<rusqlite::types::Value> = vec![
        rusqlite::types::Value::Integer(period.start_ms),
        rusqlite::types::Value::Integer(period.end_ms),
    ];
    params.extend(extra);
    let mut rows = statement
        .query(rusqlite::params_from_iter(params))
        .map_err(report_db)?;
    let mut pending: Vec<SaleLine> = Vec::new();
    let mut written: u64 = 0;
    let mut flush = |pending: &mut Vec<SaleLine>, written: &mut u64| -> Result<()> {
        let shares = allocate(pending);
        for (line, (gross, refund)) in pending.iter().zip(shares) {
            visit(line, gross, refund)?;
            *written += 1;
            if (*written).is_multiple_of(PROGRESS_EVERY)
                && let Some(cancel) = cancel
                && cancel.load(Ordering::Relaxed)
            {
                return Err(CoreError::Cancelled);
            }
        }
        pending.clear();
        Ok(())
    };
    while let Some(row) = rows.next().map_err(report_db)? {
        let line = SaleLine {
            payment_id: row.get(0).map_err(report_db)?,
            occurred_at: row.get(1).map_err(report_db)?,
            order_ref: row.get(2).map_err(report_db)?,
            provider: row.get(3).map_err(report_db)?,
            provider_ref: row.get(4).map_err(report_db)?,
            method: row.get(5).map_err(report_db)?,
            sku: row.get(6).map_err(report_db)?,
            product: row.get(7).map_err(report_db)?,
            quantity: row.get(8).map_err(report_db)?,
            line_minor: row.get(9).map_err(report_db)?,
            order_total: row.get(10).map_err(report_db)?,
            amount_minor: row.get(11).map_err(report_db)?,
            refunded_minor: row.get(12).map_err(report_db)?,
            currency: row.get(13).map_err(report_db)?,
            status: row.get(14).map_err(report_db)?,
            channel: row.get(15).map_err(report_db)?,
            source_ref: row.get(16).map_err(report_db)?,
            test: row.get(17).map_err(report_db)?,
            post_network: row.get(19).map_err(report_db)?,
            post_url: row.get(20).map_err(report_db)?,
        };
        if pending
            .first()
            .is_some_and(|p| p.payment_id != line.payment_id)
        {
            flush(&mut pending, &mut written)?;
        }
        pending.push(line);
    }
    flush(&mut pending, &mut written)?;
    Ok(written)
}

fn report_db(error: rusqlite::Error) -> CoreError {
    CoreError::Report(error.to_string())
}

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
fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
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
    db: &Path,
    filter: &ReportFilter,
    tz_name: &str,
    options: CsvOptions,
    out: &Path,
    cancel: Option<&AtomicBool>,
    mut progress: impl FnMut(u64),
) -> Result<ExportOutcome> {
    let period = Period::new(&filter.from, &filter.to, tz_name)?;
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
    let mut time_buf = String::with_capacity(32);
    let mut amount_buf = [String::new(), String::new(), String::new()];
    let mut visited: u64 = 0;
    let rows = for_each_sale(db, filter, &period, cancel, |line, gross, refund| {
        visited += 1;
        if visited.is_multiple_of(PROGRESS_EVERY) {
            progress(visited);
        }
        let day = days.days[days.day_of(line.occurred_at)];
        let local = jiff::Timestamp::from_millisecond(line.occurred_at)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned_datetime(period.tz.clone());
        time_buf.clear();
        use std::fmt::Write as _;
        let _ = write!(
            time_buf,
            "{:02}:{:02}:{:02}",
            local.hour(),
            local.minute(),
            local.second()
        );
        let exponent = crate::money::exponent(&line.currency);
        for (buf, value) in amount_buf.iter_mut().zip([gross, refund, gross - refund]) {
            buf.clear();
            buf.push_str(&crate::money::format_minor(value, exponent));
        }
        let quantity = line.quantity.map(|q| q.to_string()).unwrap_or_default();
        let signage = if line.channel == "signage" {
            line.source_ref.as_deref()
        } else {
            None
        };
        writer
            .write_record([
                day.to_string().as_str(),
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CurrencySummary {
    pub currency: String,
    pub gross_minor: i64,
    pub refunded_minor: i64,
    pub net_minor: i64,
    /// Payments (one per order).
    pub payments: i64,
    /// Gross per payment, rounded half up.
    pub average_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DayRow {
    pub date: String,
    pub currency: String,
    pub gross_minor: i64,
    pub refunded_minor: i64,
    pub net_minor: i64,
    pub payments: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct GroupRow {
    /// Product name, payment method, channel or post, as fits the table.
    pub key: String,
    /// SKU for products; the provider for methods; the post's URL for posts.
    pub detail: Option<String>,
    pub currency: String,
    pub quantity: i64,
    pub gross_minor: i64,
    pub net_minor: i64,
    pub payments: i64,
}

/// Everything the dashboard and the PDF report show for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ReportSummary {
    pub from: String,
    pub to: String,
    pub timezone: String,
    pub totals: Vec<CurrencySummary>,
    /// Every day of the period for every currency sold, zero days included.
    pub by_day: Vec<DayRow>,
    /// Best sellers first (by net, then quantity).
    pub by_product: Vec<GroupRow>,
    pub by_method: Vec<GroupRow>,
    pub by_channel: Vec<GroupRow>,
    pub top_posts: Vec<GroupRow>,
}

#[derive(Default, Clone)]
struct Sums {
    gross: i64,
    refunded: i64,
    quantity: i64,
    payments: i64,
}

impl Sums {
    fn add(&mut self, gross: i64, refunded: i64, quantity: i64, counts_payment: bool) {
        self.gross += gross;
        self.refunded += refunded;
        self.quantity += quantity;
        self.payments += i64::from(counts_payment);
    }
}

/// Gives each distinct text a small number, so a million rows allocate no strings.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, usize>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, text: &str) -> usize {
        if let Some(id) = self.ids.get(text) {
            return *id;
        }
        self.names.push(text.to_string());
        self.ids.insert(text.to_string(), self.names.len() - 1);
        self.names.len() - 1
    }
}

fn text<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> Result<Option<&'r str>> {
    match row.get_ref(index).map_err(report_db)? {
        rusqlite::types::ValueRef::Text(bytes) => Ok(std::str::from_utf8(bytes).ok()),
        _ => Ok(None),
    }
}

fn group_rows<K>(
    groups: HashMap<(K, usize), Sums>,
    currencies: &Interner,
    label: impl Fn(&K) -> (String, Option<String>),
    limit: usize,
) -> Vec<GroupRow> {
    let mut rows: Vec<GroupRow> = groups
        .into_iter()
        .map(|((key, currency), s)| {
            let (key, detail) = label(&key);
            GroupRow {
                key,
                detail,
                currency: currencies.names[currency].clone(),
                quantity: s.quantity,
                gross_minor: s.gross,
                net_minor: s.gross - s.refunded,
                payments: s.payments,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.net_minor
            .cmp(&a.net_minor)
            .then(b.quantity.cmp(&a.quantity))
            .then(a.key.cmp(&b.key))
            .then(a.currency.cmp(&b.currency))
    });
    rows.truncate(limit);
    rows
}

/// Payment-level fields of the payment whose lines are being read.
#[derive(Clone, Copy)]
struct PaymentKey {
    id: i64,
    day: usize,
    currency: usize,
    amount: i64,
    refunded: i64,
    order_total: Option<i64>,
    method: usize,
    channel: usize,
    post: Option<usize>,
}

/// Computes the summary in one ordered pass over the period's sales: the same rows and the
/// same allocation as the CSV export, aggregated without allocating per row.
pub fn summary(
    db: &Path,
    filter: &ReportFilter,
    tz_name: &str,
    top: usize,
) -> Result<ReportSummary> {
    let period = Period::new(&filter.from, &filter.to, tz_name)?;
    let days = DayIndex::new(&period)?;
    let conn = rusqlite::Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(report_db)?;
    let by_sku = filter.sku.as_deref().is_some_and(|s| !s.is_empty());
    let select = if by_sku {
        SUMMARY_SELECT_BY_SKU
    } else {
        SUMMARY_SELECT
    };
    let (sql, extra) = sales_query(select, filter);
    let mut statement = conn.prepare(&sql).map_err(report_db)?;
    let mut params = vec![
        rusqlite::types::Value::Integer(period.start_ms),
        rusqlite::types::Value::Integer(period.end_ms),
    ];
    params.extend(extra);
    let mut rows = statement
        .query(rusqlite::params_from_iter(params))
        .map_err(report_db)?;

    let mut currencies = Interner::default();
    let mut methods = Interner::default();
    let mut channels = Interner::default();
    let mut posts = Interner::default();
    let mut totals: Vec<Sums> = Vec::new();
    let mut by_day: Vec<Vec<Sums>> = Vec::new();
    let mut by_product: HashMap<(i64, usize), Sums> = HashMap::new();
    let mut by_method: HashMap<(usize, usize), Sums> = HashMap::new();
    let mut by_channel: HashMap<(usize, usize), Sums> = HashMap::new();
    let mut by_post: HashMap<(usize, usize), Sums> = HashMap::new();

    let mut current: Option<PaymentKey> = None;
    let mut lines: Vec<(Option<i64>, i64, Option<i64>)> = Vec::new(); // (product, quantity, line_minor)
    let mut minors: Vec<Option<i64>> = Vec::new();
    let mut shares: Vec<(i64, i64)> = Vec::new();
    let mut flush = |payment: &PaymentKey, lines: &mut Vec<(Option<i64>, i64, Option<i64>)>| {
        minors.clear();
        minors.extend(lines.iter().map(|l| l.2));
        allocate_into(
            &mut shares,
            payment.amount,
            payment.refunded,
            payment.order_total,
            &minors,
        );
        if totals.len() <= payment.currency {
            totals.resize(payment.currency + 1, Sums::default());
            by_day.resize(payment.currency + 1, vec![Sums::default(); days.days.len()]);
        }
        for (i, ((product, quantity, _), (gross, refund))) in lines.iter().zip(&shares).enumerate()
        {
            let first = i == 0;
            let c = payment.currency;
            totals[c].add(*gross, *refund, *quantity, first);
            by_day[c][payment.day].add(*gross, *refund, *quantity, first);
            // A payment counts once for each product on it (twice-listed products once).
            let first_of_product = !lines[..i].iter().any(|(p, _, _)| p == product);
            by_product
                .entry((product.unwrap_or(-1), c))
                .or_default()
                .add(*gross, *refund, *quantity, first_of_product);
            by_method
                .entry((payment.method, c))
                .or_default()
                .add(*gross, *refund, *quantity, first);
            by_channel
                .entry((payment.channel, c))
                .or_default()
                .add(*gross, *refund, *quantity, first);
            if let Some(post) = payment.post {
                by_post
                    .entry((post, c))
                    .or_default()
                    .add(*gross, *refund, *quantity, first);
            }
        }
        lines.clear();
    };
    while let Some(row) = rows.next().map_err(report_db)? {
        let id: i64 = row.get(0).map_err(report_db)?;
        if current.is_some_and(|p| p.id != id) {
            flush(current.as_ref().expect("checked"), &mut lines);
            current = None;
        }
        if current.is_none() {
            let occurred_at: i64 = row.get(1).map_err(report_db)?;
            let provider = text(row, 5)?.unwrap_or("");
            let method = text(row, 6)?.unwrap_or("—");
            let channel = text(row, 7)?.unwrap_or("link");
            let post = match (channel, text(row, 8)?) {
                ("post", Some(post)) => Some(posts.id(post)),
                _ => None,
            };
            let method_key = {
                let mut key = String::with_capacity(provider.len() + method.len() + 3);
                key.push_str(provider);
                key.push_str(" · ");
                key.push_str(method);
                methods.id(&key)
            };
            current = Some(PaymentKey {
                id,
                day: days.day_of(occurred_at),
                currency: currencies.id(text(row, 2)?.unwrap_or("")),
                amount: row.get(3).map_err(report_db)?,
                refunded: row.get(4).map_err(report_db)?,
                order_total: row.get(12).map_err(report_db)?,
                method: method_key,
                channel: channels.id(channel),
                post,
            });
        }
        let product: Option<i64> = row.get(9).map_err(report_db)?;
        let quantity: Option<i64> = row.get(10).map_err(report_db)?;
        lines.push((
            product,
            quantity.unwrap_or(0),
            row.get(11).map_err(report_db)?,
        ));
    }
    if let Some(payment) = current {
        flush(&payment, &mut lines);
    }

    let mut order: Vec<usize> = (0..currencies.names.len()).collect();
    order.sort_by(|a, b| currencies.names[*a].cmp(&currencies.names[*b]));
    let mut day_rows = Vec::with_capacity(days.days.len() * order.len());
    for (i, date) in days.days.iter().enumerate() {
        for c in &order {
            let s = &by_day[*c][i];
            day_rows.push(DayRow {
                date: date.to_string(),
                currency: currencies.names[*c].clone(),
                gross_minor: s.gross,
                refunded_minor: s.refunded,
                net_minor: s.gross - s.refunded,
                payments: s.payments,
            });
        }
    }
    let totals_out = order
        .iter()
        .map(|c| {
            let s = &totals[*c];
            CurrencySummary {
                currency: currencies.names[*c].clone(),
                gross_minor: s.gross,
                refunded_minor: s.refunded,
                net_minor: s.gross - s.refunded,
                payments: s.payments,
                average_minor: if s.payments > 0 {
                    (s.gross + s.payments / 2) / s.payments
                } else {
                    0
                },
            }
        })
        .collect();
    Ok(ReportSummary {
        from: period.from.to_string(),
        to: period.to.to_string(),
        timezone: period.tz_name.clone(),
        totals: totals_out,
        by_day: day_rows,
        by_product: {
            // Names as sold (the latest line), looked up for the products shown only.
            let mut rows = group_rows(by_product, &currencies, |id| (id.to_string(), None), top);
            let mut lookup = conn
                .prepare_cached(
                    "SELECT name, sku FROM order_lines WHERE product_id = ? ORDER BY id DESC LIMIT 1",
                )
                .map_err(report_db)?;
            for row in &mut rows {
                let id: i64 = row.key.parse().unwrap_or(-1);
                let found = lookup
                    .query_row([id], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                    })
                    .ok();
                (row.key, row.detail) = found.unwrap_or_else(|| ("—".to_string(), None));
            }
            rows
        },
        by_method: group_rows(
            by_method,
            &currencies,
            |m| (methods.names[*m].clone(), None),
            top,
        ),
        by_channel: group_rows(
            by_channel,
            &currencies,
            |c| (channels.names[*c].clone(), None),
            top,
        ),
        top_posts: {
            // "Bluesky @shop #12" and the post's public URL, for the posts shown only.
            let mut rows = group_rows(
                by_post,
                &currencies,
                |p| (posts.names[*p].clone(), None),
                top,
            );
            let mut lookup = conn
                .prepare_cached(
                    "SELECT a.network, a.handle, p.url FROM posts p JOIN accounts a ON a.id = p.account_id
                     WHERE p.id = CAST(? AS INTEGER)",
                )
                .map_err(report_db)?;
            for row in &mut rows {
                let found = lookup
                    .query_row([&row.key], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Option<String>>(2)?,
                        ))
                    })
                    .ok();
                if let Some((network, handle, url)) = found {
                    let network = shopcast_social::Network::parse(&network)
                        .map(|n| n.display_name().to_string())
                        .unwrap_or(network);
                    row.key = format!("{network} @{handle} #{}", row.key);
                    row.detail = url;
                }
            }
            rows
        },
    })
}

/// Formats a summary amount for people (used by the PDF and the CLI).
pub fn money(minor: i64, currency: &str, locale: &str) -> String {
    Money {
        amount_minor: minor,
        currency: currency.to_string(),
    }
    .format_local(locale)
}
