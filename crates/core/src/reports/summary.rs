//! The period summary behind the dashboard and the PDF report: totals per currency, by local
//! day, product, payment method, channel and post; nothing cached, so always exact.
//!
//! A sale counts when its payment is paid (or refunded) and matches its order; test payments
//! only when asked. Days are the shop's local days (23 or 25 hours around DST changes).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::period::*;
use super::source::Reader;
use super::store::*;
use crate::error::Result;
use crate::infra::store::Backend;
use crate::money::Money;

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
    /// What discounts took off the lines sold (gross terms); gross + discounts is the sales
    /// before discounts.
    pub discount_minor: i64,
    pub before_discounts_minor: i64,
    /// Tax on the lines sold, all rates.
    pub tax_minor: i64,
}

/// Tax of one rate in one currency over the period: the sum of the lines sold at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TaxRow {
    pub currency: String,
    /// The rate's name as sold ("VAT 19 %").
    pub name: String,
    /// The lines' gross (what customers paid for them) and the tax in it.
    pub gross_minor: i64,
    pub tax_minor: i64,
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
    /// Tax per rate and currency, by currency then name.
    pub taxes: Vec<TaxRow>,
}

#[derive(Default, Clone)]
pub(crate) struct Sums {
    pub(crate) gross: i64,
    pub(crate) refunded: i64,
    pub(crate) quantity: i64,
    pub(crate) payments: i64,
    pub(crate) discount: i64,
    pub(crate) tax: i64,
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
pub(crate) struct Interner {
    pub(crate) ids: HashMap<String, usize>,
    pub(crate) names: Vec<String>,
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

pub(crate) fn group_rows<K>(
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
pub(crate) struct PaymentKey {
    pub(crate) id: i64,
    pub(crate) day: usize,
    pub(crate) currency: usize,
    pub(crate) amount: i64,
    pub(crate) refunded: i64,
    pub(crate) order_total: Option<i64>,
    pub(crate) method: usize,
    pub(crate) channel: usize,
    pub(crate) post: Option<usize>,
}

/// One order line of a payment as the summary reads it from the index.
struct LineFacts {
    /// The line's id: a payment's lines are allocated in id order, as the CSV export does.
    id: Option<i64>,
    product: Option<i64>,
    quantity: i64,
    line_minor: Option<i64>,
    discount: i64,
    tax: i64,
    rate: Option<usize>,
}

/// Lines the server added up for one group of payments that need no splitting (one line, or
/// none): every payment's whole amount belongs to its one product.
struct LineGroup {
    currency: usize,
    method: usize,
    channel: usize,
    post: Option<usize>,
    product: Option<i64>,
    rate: Option<usize>,
    quantity: i64,
    discount: i64,
    tax: i64,
    line_minor: i64,
    gross: i64,
    refunded: i64,
    payments: i64,
}

/// Everything a summary adds up, whichever way its rows arrive: one payment at a time with
/// its lines, or groups the server has already added up.
struct Tally {
    days: usize,
    currencies: Interner,
    methods: Interner,
    channels: Interner,
    posts: Interner,
    rates: Interner,
    totals: Vec<Sums>,
    by_day: Vec<Vec<Sums>>,
    by_product: HashMap<(i64, usize), Sums>,
    by_method: HashMap<(usize, usize), Sums>,
    by_channel: HashMap<(usize, usize), Sums>,
    by_post: HashMap<(usize, usize), Sums>,
    by_rate: HashMap<(usize, usize), (i64, i64)>,
    minors: Vec<Option<i64>>,
    shares: Vec<(i64, i64)>,
}

impl Tally {
    fn new(days: usize) -> Tally {
        Tally {
            days,
            currencies: Interner::default(),
            methods: Interner::default(),
            channels: Interner::default(),
            posts: Interner::default(),
            rates: Interner::default(),
            totals: Vec::new(),
            by_day: Vec::new(),
            by_product: HashMap::new(),
            by_method: HashMap::new(),
            by_channel: HashMap::new(),
            by_post: HashMap::new(),
            by_rate: HashMap::new(),
            minors: Vec::new(),
            shares: Vec::new(),
        }
    }

    fn currency(&mut self, code: &str) -> usize {
        let c = self.currencies.id(code);
        if self.totals.len() <= c {
            self.totals.resize(c + 1, Sums::default());
            self.by_day.resize(c + 1, vec![Sums::default(); self.days]);
        }
        c
    }

    /// "stripe · card": how the payments-by-method table names a method.
    fn method(&mut self, provider: Option<&str>, method: Option<&str>) -> usize {
        let (provider, method) = (provider.unwrap_or(""), method.unwrap_or("—"));
        let mut key = String::with_capacity(provider.len() + method.len() + 3);
        key.push_str(provider);
        key.push_str(" · ");
        key.push_str(method);
        self.methods.id(&key)
    }

    fn channel(
        &mut self,
        channel: Option<&str>,
        source_ref: Option<&str>,
    ) -> (usize, Option<usize>) {
        let channel = channel.unwrap_or("link");
        let post = match (channel, source_ref) {
            ("post", Some(post)) => Some(self.posts.id(post)),
            _ => None,
        };
        (self.channels.id(channel), post)
    }

    /// One payment and its lines, split over them as the CSV splits it. `with_day`: also its
    /// day and its currency's gross, refunds and count (unless the server counted those).
    fn payment(&mut self, payment: &PaymentKey, lines: &mut [LineFacts], with_day: bool) {
        // The backends give a payment's lines in their own order (SQLite's index, PostgreSQL's
        // join); the rounding remainder goes to the last by id on both, as in the CSV.
        lines.sort_unstable_by_key(|l| l.id);
        self.minors.clear();
        self.minors.extend(lines.iter().map(|l| l.line_minor));
        allocate_into(
            &mut self.shares,
            payment.amount,
            payment.refunded,
            payment.order_total,
            &self.minors,
        );
        let c = payment.currency;
        for (i, line) in lines.iter().enumerate().take(self.shares.len()) {
            let (gross, refund) = self.shares[i];
            let first = i == 0;
            if with_day {
                self.totals[c].add(gross, refund, line.quantity, first);
                self.by_day[c][payment.day].add(gross, refund, line.quantity, first);
            }
            self.taxes(
                c,
                line.rate,
                line.line_minor.unwrap_or(0),
                line.discount,
                line.tax,
            );
            // A payment counts once for each product on it (twice-listed products once).
            let first_of_product = !lines[..i].iter().any(|l| l.product == line.product);
            let sold = Sold {
                product: line.product,
                method: payment.method,
                channel: payment.channel,
                post: payment.post,
            };
            let share = Sums {
                gross,
                refunded: refund,
                quantity: line.quantity,
                payments: i64::from(first),
                ..Sums::default()
            };
            self.attribute(c, sold, &share, i64::from(first_of_product));
        }
    }

    /// A line's discount, tax and taxed amount, to the totals and its rate.
    fn taxes(&mut self, c: usize, rate: Option<usize>, line_minor: i64, discount: i64, tax: i64) {
        self.totals[c].discount += discount;
        self.totals[c].tax += tax;
        if let Some(rate) = rate {
            let sums = self.by_rate.entry((rate, c)).or_default();
            sums.0 += line_minor;
            sums.1 += tax;
        }
    }

    /// `share` of sales to the product, method, channel and post they were sold by; the
    /// product counts `product_payments` payments (a product twice on one payment, once).
    fn attribute(&mut self, c: usize, sold: Sold, share: &Sums, product_payments: i64) {
        let add = |sums: &mut Sums, payments: i64| {
            sums.gross += share.gross;
            sums.refunded += share.refunded;
            sums.quantity += share.quantity;
            sums.payments += payments;
        };
        let product = self
            .by_product
            .entry((sold.product.unwrap_or(-1), c))
            .or_default();
        add(product, product_payments);
        add(
            self.by_method.entry((sold.method, c)).or_default(),
            share.payments,
        );
        add(
            self.by_channel.entry((sold.channel, c)).or_default(),
            share.payments,
        );
        if let Some(post) = sold.post {
            add(self.by_post.entry((post, c)).or_default(), share.payments);
        }
    }

    /// A day's payments in one currency, as the server counted them.
    fn day(&mut self, currency: usize, day: usize, gross: i64, refunded: i64, payments: i64) {
        let day = day.min(self.days.saturating_sub(1));
        for sums in [&mut self.totals[currency], &mut self.by_day[currency][day]] {
            sums.gross += gross;
            sums.refunded += refunded;
            sums.payments += payments;
        }
    }

    /// Payments of one line or none, as the server added them up (see [`LineGroup`]).
    fn lines(&mut self, g: &LineGroup) {
        let c = g.currency;
        self.taxes(c, g.rate, g.line_minor, g.discount, g.tax);
        let sold = Sold {
            product: g.product,
            method: g.method,
            channel: g.channel,
            post: g.post,
        };
        let share = Sums {
            gross: g.gross,
            refunded: g.refunded,
            quantity: g.quantity,
            payments: g.payments,
            ..Sums::default()
        };
        self.attribute(c, sold, &share, g.payments);
    }
}

/// What a sale was sold by: its product, payment method, channel and post.
#[derive(Clone, Copy)]
struct Sold {
    product: Option<i64>,
    method: usize,
    channel: usize,
    post: Option<usize>,
}

/// Reads rows of [`SUMMARY_SELECT`] (or its by-SKU form) in time order and adds each payment
/// with its lines to `tally`.
fn add_payments(
    tally: &mut Tally,
    reader: &Reader,
    days: &DayIndex,
    (sql, params): (&str, &[Param]),
    with_day: bool,
) -> Result<()> {
    let mut current: Option<PaymentKey> = None;
    let mut lines: Vec<LineFacts> = Vec::new();
    reader.each_row(sql, params, |row| {
        let id: i64 = row.int(0)?;
        if let Some(payment) = current.filter(|p| p.id != id) {
            tally.payment(&payment, &mut lines, with_day);
            lines.clear();
            current = None;
        }
        if current.is_none() {
            let (channel, post) = tally.channel(row.text(7)?, row.text(8)?);
            current = Some(PaymentKey {
                id,
                day: days.day_of(row.int(1)?),
                currency: tally.currency(row.text(2)?.unwrap_or("")),
                amount: row.int(3)?,
                refunded: row.int(4)?,
                order_total: row.opt_int(12)?,
                method: tally.method(row.text(5)?, row.text(6)?),
                channel,
                post,
            });
        }
        let quantity: Option<i64> = row.opt_int(10)?;
        lines.push(LineFacts {
            id: row.opt_int(16)?,
            product: row.opt_int(9)?,
            quantity: quantity.unwrap_or(0),
            line_minor: row.opt_int(11)?,
            discount: row.opt_int(13)?.unwrap_or(0),
            tax: row.opt_int(14)?.unwrap_or(0),
            rate: row.text(15)?.map(|name| tally.rates.id(name)),
        });
        Ok(())
    })?;
    if let Some(payment) = current {
        tally.payment(&payment, &mut lines, with_day);
    }
    Ok(())
}

const DAY_MS: i64 = 86_400_000;

/// The period's local day of `p.occurred_at` (0 = the first) in SQL, from the days' UTC
/// starts: a run of 24-hour days is one division, a 23- or 25-hour day (DST) a branch of its own.
fn day_of_sql(bounds: &[i64]) -> String {
    use std::fmt::Write as _;
    let days = bounds.len().saturating_sub(1);
    let mut sql = String::from("CASE");
    let mut k = 0;
    while k < days {
        let mut end = k + 1;
        if bounds[k + 1] - bounds[k] == DAY_MS {
            while end < days && bounds[end + 1] - bounds[end] == DAY_MS {
                end += 1;
            }
            let _ = write!(
                sql,
                " WHEN p.occurred_at < {} THEN {k} + (p.occurred_at - {}) / {DAY_MS}",
                bounds[end], bounds[k]
            );
        } else {
            let _ = write!(sql, " WHEN p.occurred_at < {} THEN {k}", bounds[end]);
        }
        k = end;
    }
    let _ = write!(sql, " ELSE {} END", days.saturating_sub(1));
    sql
}

/// The summary added up by the server, so a year's million rows never cross the wire: days
/// from the payments alone, then the payments of one line (or none) grouped with their lines,
/// and only orders of several lines read payment by payment to split them exactly as the CSV.
fn add_on_server(
    tally: &mut Tally,
    source: &ReportSource,
    reader: &Reader,
    filter: &ReportFilter,
    period: &Period,
    days: &DayIndex,
) -> Result<()> {
    let bounds = (period.start_ms, period.end_ms);
    let (mut days_sql, days_params) = sales_query(
        &format!(
            "SELECT p.currency, {}, CAST(sum(p.amount_minor) AS BIGINT), \
             CAST(sum(p.refunded_minor) AS BIGINT), count(*) FROM payments p",
            day_of_sql(&days.bounds)
        ),
        filter,
        bounds,
        Backend::Postgres,
    );
    days_sql.push_str(" GROUP BY 1, 2");
    // One snapshot for every query, as the one pass on SQLite: a payment or refund recorded
    // meanwhile is in all of the summary's tables or in none.
    tune_for_summary(reader)?;
    reader.each_row(
        "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
        &[],
        |_| Ok(()),
    )?;
    let mut snapshot = String::new();
    reader.each_row("SELECT pg_export_snapshot()", &[], |row| {
        snapshot = row.string(0)?.unwrap_or_default();
        Ok(())
    })?;
    if snapshot.is_empty() || !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(crate::error::CoreError::Report(format!(
            "the server gave an unexpected snapshot id “{snapshot}”"
        )));
    }
    // The days on a second connection in the same snapshot while this one adds up the
    // lines: the server works on both at once.
    std::thread::scope(|scope| {
        let by_day = scope.spawn(|| {
            let reader = source.open()?;
            tune_for_summary(&reader)?;
            reader.each_row(
                "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                &[],
                |_| Ok(()),
            )?;
            reader.each_row(
                &format!("SET TRANSACTION SNAPSHOT '{snapshot}'"),
                &[],
                |_| Ok(()),
            )?;
            let mut rows: Vec<(String, i64, [i64; 3])> = Vec::new();
            reader.each_row(&days_sql, &days_params, |row| {
                let sums = [row.int(2)?, row.int(3)?, row.int(4)?];
                rows.push((row.string(0)?.unwrap_or_default(), row.int(1)?, sums));
                Ok(())
            })?;
            Ok::<_, crate::error::CoreError>(rows)
        });
        add_lines_on_server(tally, reader, filter, bounds, days)?;
        let rows = by_day.join().unwrap_or_else(|_| {
            Err(crate::error::CoreError::Report(
                "the summary's days could not be added up".into(),
            ))
        })?;
        for (currency, day, [gross, refunded, payments]) in rows {
            let c = tally.currency(&currency);
            tally.day(
                c,
                usize::try_from(day).unwrap_or(0),
                gross,
                refunded,
                payments,
            );
        }
        Ok(())
    })
}

/// The summary's connection is its own. A merge join over the two order_id indexes reads
/// both sides in order instead of hashing a year of payments; compiling the few aggregates
/// (JIT) costs more than it saves.
fn tune_for_summary(reader: &Reader) -> Result<()> {
    for setting in [
        "SET jit = off",
        "SET work_mem = '64MB'",
        "SET enable_hashjoin = off",
    ] {
        reader.each_row(setting, &[], |_| Ok(()))?;
    }
    Ok(())
}

/// Payments of one line (or none) grouped with their lines, then the orders of several lines
/// split payment by payment.
fn add_lines_on_server(
    tally: &mut Tally,
    reader: &Reader,
    filter: &ReportFilter,
    bounds: (i64, i64),
    days: &DayIndex,
) -> Result<()> {
    let (mut sql, params) = sales_query(
        "SELECT p.currency, p.provider, p.method, p.channel, p.source_ref, l.product_id, \
         l.tax_rate_name, CAST(sum(l.quantity) AS BIGINT), CAST(sum(l.discount_minor) AS BIGINT), \
         CAST(sum(l.tax_minor) AS BIGINT), CAST(sum(l.gross_minor) AS BIGINT), \
         CAST(sum(p.amount_minor) AS BIGINT), CAST(sum(p.refunded_minor) AS BIGINT), count(*) \
         FROM payments p LEFT JOIN order_lines l ON l.order_id = p.order_id",
        filter,
        bounds,
        Backend::Postgres,
    );
    sql.push_str(" AND (l.order_id IS NULL OR l.lines_in_order = 1) GROUP BY 1, 2, 3, 4, 5, 6, 7");
    reader.each_row(&sql, &params, |row| {
        let currency = tally.currency(row.text(0)?.unwrap_or(""));
        let method = tally.method(row.text(1)?, row.text(2)?);
        let (channel, post) = tally.channel(row.text(3)?, row.text(4)?);
        let group = LineGroup {
            currency,
            method,
            channel,
            post,
            product: row.opt_int(5)?,
            rate: row.text(6)?.map(|name| tally.rates.id(name)),
            quantity: row.opt_int(7)?.unwrap_or(0),
            discount: row.opt_int(8)?.unwrap_or(0),
            tax: row.opt_int(9)?.unwrap_or(0),
            line_minor: row.opt_int(10)?.unwrap_or(0),
            gross: row.int(11)?,
            refunded: row.int(12)?,
            payments: row.int(13)?,
        };
        tally.lines(&group);
        Ok(())
    })?;

    let (mut sql, params) = sales_query(SUMMARY_SELECT, filter, bounds, Backend::Postgres);
    sql.push_str(" AND l.lines_in_order <> 1 ORDER BY p.occurred_at, p.id");
    add_payments(tally, reader, days, (&sql, &params), false)
}

/// Computes the summary in one ordered pass over the period's sales: the same rows and the
/// same allocation as the CSV export, aggregated without allocating per row (on a server,
/// mostly added up there).
pub fn summary(
    source: &ReportSource,
    filter: &ReportFilter,
    tz_name: &str,
    top: usize,
) -> Result<ReportSummary> {
    let period = Period::of(filter, tz_name)?;
    let days = DayIndex::new(&period)?;
    // Filtering by SKU or till needs the orders joined (and a SKU's share of its order total).
    let by_sku = filter.sku.as_deref().is_some_and(|s| !s.is_empty())
        || filter.till.as_deref().and_then(till_of).is_some();
    let reader = source.open()?;
    let mut tally = Tally::new(days.days.len());
    match reader.backend() {
        Backend::Postgres if !by_sku => {
            add_on_server(&mut tally, source, &reader, filter, &period, &days)?
        }
        backend => {
            let select = if by_sku {
                SUMMARY_SELECT_BY_SKU
            } else {
                SUMMARY_SELECT
            };
            let (mut sql, params) =
                sales_query(select, filter, (period.start_ms, period.end_ms), backend);
            sql.push_str(match backend {
                Backend::Sqlite => " ORDER BY p.occurred_at",
                Backend::Postgres => " ORDER BY p.occurred_at, p.id",
            });
            add_payments(&mut tally, &reader, &days, (&sql, &params), true)?;
        }
    }
    let Tally {
        currencies,
        methods,
        channels,
        posts,
        rates,
        totals,
        by_day,
        by_product,
        by_method,
        by_channel,
        by_post,
        by_rate,
        ..
    } = tally;

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
                discount_minor: s.discount,
                before_discounts_minor: s.gross + s.discount,
                tax_minor: s.tax,
            }
        })
        .collect();
    let mut taxes: Vec<TaxRow> = by_rate
        .into_iter()
        .map(|((rate, c), (gross, tax))| TaxRow {
            currency: currencies.names[c].clone(),
            name: rates.names[rate].clone(),
            gross_minor: gross,
            tax_minor: tax,
        })
        .collect();
    taxes.sort_by(|a, b| a.currency.cmp(&b.currency).then(a.name.cmp(&b.name)));
    Ok(ReportSummary {
        from: period.from.to_string(),
        to: period.to.to_string(),
        timezone: period.tz_name.clone(),
        totals: totals_out,
        taxes,
        by_day: day_rows,
        by_product: {
            // Names as sold (the latest line), looked up for the products shown only.
            let mut rows = group_rows(by_product, &currencies, |id| (id.to_string(), None), top);
            for row in &mut rows {
                let id: i64 = row.key.parse().unwrap_or(-1);
                let mut found = None;
                reader.each_row(
                    "SELECT name, sku FROM order_lines WHERE product_id = $1 ORDER BY id DESC LIMIT 1",
                    &[Param::Int(id)],
                    |r| {
                        found = Some((r.string(0)?.unwrap_or_default(), r.string(1)?));
                        Ok(())
                    },
                )?;
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
            for row in &mut rows {
                // A post's id is digits; anything else names no post.
                let Ok(post_id) = row.key.parse::<i64>() else {
                    continue;
                };
                let mut found = None;
                reader.each_row(
                    "SELECT a.network, a.handle, p.url FROM posts p JOIN accounts a ON a.id = p.account_id
                     WHERE p.id = $1",
                    &[Param::Int(post_id)],
                    |r| {
                        found = Some((
                            r.string(0)?.unwrap_or_default(),
                            r.string(1)?.unwrap_or_default(),
                            r.string(2)?,
                        ));
                        Ok(())
                    },
                )?;
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
