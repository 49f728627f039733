//! The report queries: one ordered pass over the covering indexes (a read-only SQLite
//! connection, or the server's stream), and each payment split over its lines with exact integer math.

use std::sync::atomic::{AtomicBool, Ordering};

use super::csv::*;
use super::period::*;
use super::source::Row;
pub(crate) use super::source::{Param, ReportSource};
use crate::error::{CoreError, Result};
use crate::infra::store::Backend;

/// The SQL that reads sales with their lines, time-ordered; filters become bound parameters.
/// What a CSV row needs: the payment, its order's reference and total, each line's name.
pub(crate) const CSV_SELECT: &str = "SELECT p.id, p.occurred_at, o.ref, p.provider, p.provider_ref, \
     p.method, l.sku, l.name, l.quantity, l.gross_minor, o.total_minor, \
     p.amount_minor, p.refunded_minor, p.currency, p.status, p.channel, p.source_ref, p.test, \
     l.product_id, pa.network, po.url, l.discount_minor, l.tax_rate_name, l.tax_minor FROM payments p INDEXED BY payments_for_reports \
     LEFT JOIN orders o ON o.id = p.order_id LEFT JOIN order_lines l ON l.order_id = p.order_id \
     LEFT JOIN posts po ON p.channel = 'post' AND po.id = CAST(p.source_ref AS INTEGER) \
     LEFT JOIN accounts pa ON pa.id = po.account_id";

/// What the summary needs, read from the two covering indexes alone (no table lookups). The
/// order total (for splitting a payment over a subset of its lines) only when filtering by SKU.
pub(crate) const SUMMARY_SELECT: &str = "SELECT p.id, p.occurred_at, p.currency, p.amount_minor, \
     p.refunded_minor, p.provider, p.method, p.channel, p.source_ref, l.product_id, l.quantity, \
     l.gross_minor, NULL, l.discount_minor, l.tax_minor, l.tax_rate_name, l.id \
     FROM payments p INDEXED BY payments_for_reports \
     LEFT JOIN order_lines l INDEXED BY order_lines_for_reports ON l.order_id = p.order_id";

pub(crate) const SUMMARY_SELECT_BY_SKU: &str = "SELECT p.id, p.occurred_at, p.currency, p.amount_minor, \
     p.refunded_minor, p.provider, p.method, p.channel, p.source_ref, l.product_id, l.quantity, \
     l.gross_minor, o.total_minor, l.discount_minor, l.tax_minor, l.tax_rate_name, l.id \
     FROM payments p INDEXED BY payments_for_reports \
     LEFT JOIN orders o ON o.id = p.order_id LEFT JOIN order_lines l ON l.order_id = p.order_id";

/// The CSV's one exact order on every backend (a copied shop exports the same bytes).
pub(crate) const CSV_ORDER: &str = " ORDER BY p.occurred_at, p.id, l.id";

/// `select` plus the filter's conditions, for `backend`; $1 and $2 are the period's UTC bounds
/// and the filter's values follow as $3… The caller adds its ORDER BY or GROUP BY.
///
/// Ordered by time, rows come with each payment's lines together: the payments index is the
/// outer loop of the join (a LEFT JOIN keeps it there), so no sort is needed on SQLite.
pub(crate) fn sales_query(
    select: &str,
    filter: &ReportFilter,
    (start_ms, end_ms): (i64, i64),
    backend: Backend,
) -> (String, Vec<Param>) {
    let mut sql = match backend {
        Backend::Sqlite => select.to_string(),
        // PostgreSQL plans its own index use; a post's id is read only from digits.
        Backend::Postgres => select
            .replace(" INDEXED BY payments_for_reports", "")
            .replace(" INDEXED BY order_lines_for_reports", "")
            .replace(
                "CAST(p.source_ref AS INTEGER)",
                "(CASE WHEN p.source_ref ~ '^[0-9]{1,18}$' THEN CAST(p.source_ref AS BIGINT) END)",
            ),
    };
    sql.push_str(" WHERE p.occurred_at >= $1 AND p.occurred_at < $2 AND p.mismatch IS NULL");
    let mut params = vec![Param::Int(start_ms), Param::Int(end_ms)];
    let mut condition = |sql: &mut String, column: &str, value: &str| {
        params.push(Param::Text(value.to_string()));
        sql.push_str(&format!(" AND {column} = ${}", params.len()));
    };
    match filter.status.as_deref() {
        Some(status @ ("paid" | "refunded")) => condition(&mut sql, "p.status", status),
        _ => sql.push_str(" AND p.status IN ('paid', 'refunded')"),
    }
    if !filter.include_test {
        sql.push_str(" AND p.test = 0");
    }
    if let Some(provider) = filter.provider.as_deref().filter(|p| !p.is_empty()) {
        condition(&mut sql, "p.provider", provider);
    }
    if let Some(channel) = filter.channel.as_deref().filter(|c| !c.is_empty()) {
        condition(&mut sql, "p.channel", channel);
    }
    if let Some(sku) = filter.sku.as_deref().filter(|s| !s.is_empty()) {
        condition(&mut sql, "l.sku", sku);
    }
    if let Some(till) = filter.till.as_deref().and_then(till_of) {
        condition(&mut sql, "o.till", till);
    }
    (sql, params)
}

/// The till a filter names, if any (blank names none).
pub(crate) fn till_of(till: &str) -> Option<&str> {
    Some(till.trim()).filter(|t| !t.is_empty())
}

/// The SQL the export and the summary run for `filter` on SQLite (parameters $1 = start,
/// $2 = end in UTC ms, then the filter's values), for benchmarks against the sqlite3 shell.
pub fn sales_sql(filter: &ReportFilter) -> String {
    sales_sql_for(filter, Backend::Sqlite)
}

/// The same for `backend` (benchmarks against psql).
pub fn sales_sql_for(filter: &ReportFilter, backend: Backend) -> String {
    sales_query(CSV_SELECT, filter, (0, 0), backend).0 + CSV_ORDER
}

/// One line of a sale, with its share of the payment.
#[derive(Debug, Clone, Default)]
pub(crate) struct SaleLine {
    pub(crate) payment_id: i64,
    pub(crate) occurred_at: i64,
    pub(crate) order_ref: Option<String>,
    pub(crate) provider: String,
    pub(crate) provider_ref: String,
    pub(crate) method: Option<String>,
    pub(crate) sku: Option<String>,
    pub(crate) product: Option<String>,
    pub(crate) quantity: Option<i64>,
    /// What the customer paid for the line, after discounts (None for a payment without lines).
    pub(crate) line_minor: Option<i64>,
    pub(crate) order_total: Option<i64>,
    pub(crate) amount_minor: i64,
    pub(crate) refunded_minor: i64,
    pub(crate) currency: String,
    pub(crate) status: String,
    pub(crate) channel: String,
    pub(crate) source_ref: Option<String>,
    pub(crate) test: bool,
    /// The post that brought the sale, when it was a post.
    pub(crate) post_network: Option<String>,
    pub(crate) post_url: Option<String>,
    /// The line's discounts (gross terms), its tax rate's name and its tax, as sold.
    pub(crate) discount_minor: Option<i64>,
    pub(crate) tax_rate: Option<String>,
    pub(crate) tax_minor: Option<i64>,
}

/// Splits a payment's amount and refund over its lines in proportion to what they cost
/// (`line_minors`: each line's gross after discounts, `None` for a payment without lines). When all of
/// the order's lines are present, the last one takes the rounding remainder so the lines add up
/// to the payment exactly; a payment without lines is one row with everything.
pub(crate) fn allocate_into(
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

impl SaleLine {
    /// Reads a row of [`CSV_SELECT`] into this line, reusing its strings' buffers: a year's
    /// million rows allocate almost nothing.
    fn read(&mut self, row: &Row<'_>) -> Result<()> {
        fn text(to: &mut String, from: Option<&str>) {
            to.clear();
            to.push_str(from.unwrap_or_default());
        }
        fn opt_text(to: &mut Option<String>, from: Option<&str>) {
            match (to.as_mut(), from) {
                (Some(to), Some(from)) => {
                    to.clear();
                    to.push_str(from);
                }
                (_, from) => *to = from.map(str::to_string),
            }
        }
        self.payment_id = row.int(0)?;
        self.occurred_at = row.int(1)?;
        opt_text(&mut self.order_ref, row.text(2)?);
        text(&mut self.provider, row.text(3)?);
        text(&mut self.provider_ref, row.text(4)?);
        opt_text(&mut self.method, row.text(5)?);
        opt_text(&mut self.sku, row.text(6)?);
        opt_text(&mut self.product, row.text(7)?);
        self.quantity = row.opt_int(8)?;
        self.line_minor = row.opt_int(9)?;
        self.order_total = row.opt_int(10)?;
        self.amount_minor = row.int(11)?;
        self.refunded_minor = row.int(12)?;
        text(&mut self.currency, row.text(13)?);
        text(&mut self.status, row.text(14)?);
        text(&mut self.channel, row.text(15)?);
        opt_text(&mut self.source_ref, row.text(16)?);
        self.test = row.int(17)? != 0;
        opt_text(&mut self.post_network, row.text(19)?);
        opt_text(&mut self.post_url, row.text(20)?);
        self.discount_minor = row.opt_int(21)?;
        opt_text(&mut self.tax_rate, row.text(22)?);
        self.tax_minor = row.opt_int(23)?;
        Ok(())
    }
}

/// Reads sales in time order and hands each payment's lines, allocated, to `visit`.
pub(crate) fn for_each_sale(
    source: &ReportSource,
    filter: &ReportFilter,
    period: &Period,
    cancel: Option<&AtomicBool>,
    mut visit: impl FnMut(&SaleLine, i64, i64) -> Result<()>,
) -> Result<u64> {
    let reader = source.open()?;
    let (mut sql, params) = sales_query(
        CSV_SELECT,
        filter,
        (period.start_ms, period.end_ms),
        reader.backend(),
    );
    sql.push_str(CSV_ORDER);
    // The payment being read: its lines are the first `used` of `pending` (kept between
    // payments, so their buffers are reused).
    let mut pending: Vec<SaleLine> = Vec::new();
    let mut used = 0;
    let mut minors: Vec<Option<i64>> = Vec::new();
    let mut shares: Vec<(i64, i64)> = Vec::new();
    let mut written: u64 = 0;
    let mut flush = |lines: &[SaleLine], written: &mut u64| -> Result<()> {
        let Some(first) = lines.first() else {
            return Ok(());
        };
        minors.clear();
        minors.extend(lines.iter().map(|l| l.line_minor));
        allocate_into(
            &mut shares,
            first.amount_minor,
            first.refunded_minor,
            first.order_total,
            &minors,
        );
        for (line, (gross, refund)) in lines.iter().zip(&shares) {
            visit(line, *gross, *refund)?;
            *written += 1;
            if (*written).is_multiple_of(PROGRESS_EVERY)
                && let Some(cancel) = cancel
                && cancel.load(Ordering::Relaxed)
            {
                return Err(CoreError::Cancelled);
            }
        }
        Ok(())
    };
    reader.each_row(&sql, &params, |row: &Row<'_>| {
        if used > 0 && pending[0].payment_id != row.int(0)? {
            flush(&pending[..used], &mut written)?;
            used = 0;
        }
        if used == pending.len() {
            pending.push(SaleLine::default());
        }
        pending[used].read(row)?;
        used += 1;
        Ok(())
    })?;
    flush(&pending[..used], &mut written)?;
    Ok(written)
}
