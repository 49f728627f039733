//! The period summary behind the dashboard and the PDF report: totals per currency, by local
//! day, product, payment method, channel and post; nothing cached, so always exact.
//!
//! A sale counts when its payment is paid (or refunded) and matches its order; test payments
//! only when asked. Days are the shop's local days (23 or 25 hours around DST changes).

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::period::*;
use super::store::*;
use crate::error::Result;
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

pub(crate) fn text<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> Result<Option<&'r str>> {
    match row.get_ref(index).map_err(report_db)? {
        rusqlite::types::ValueRef::Text(bytes) => Ok(std::str::from_utf8(bytes).ok()),
        _ => Ok(None),
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

/// Computes the summary in one ordered pass over the period's sales: the same rows and the
/// same allocation as the CSV export, aggregated without allocating per row.
/// One order line of a payment as the summary reads it from the index.
struct LineFacts {
    product: Option<i64>,
    quantity: i64,
    line_minor: Option<i64>,
    discount: i64,
    tax: i64,
    rate: Option<usize>,
}

pub fn summary(
    db: &Path,
    filter: &ReportFilter,
    tz_name: &str,
    top: usize,
) -> Result<ReportSummary> {
    let period = Period::of(filter, tz_name)?;
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
    let mut rates = Interner::default();
    let mut by_rate: HashMap<(usize, usize), (i64, i64)> = HashMap::new();

    let mut current: Option<PaymentKey> = None;
    let mut lines: Vec<LineFacts> = Vec::new();
    let mut minors: Vec<Option<i64>> = Vec::new();
    let mut shares: Vec<(i64, i64)> = Vec::new();
    let mut flush = |payment: &PaymentKey, lines: &mut Vec<LineFacts>| {
        minors.clear();
        minors.extend(lines.iter().map(|l| l.line_minor));
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
        for (i, (line, (gross, refund))) in lines.iter().zip(&shares).enumerate() {
            let (product, quantity) = (&line.product, &line.quantity);
            let first = i == 0;
            let c = payment.currency;
            totals[c].add(*gross, *refund, *quantity, first);
            totals[c].discount += line.discount;
            totals[c].tax += line.tax;
            if let Some(rate) = line.rate {
                let sums = by_rate.entry((rate, c)).or_default();
                sums.0 += line.line_minor.unwrap_or(0);
                sums.1 += line.tax;
            }
            by_day[c][payment.day].add(*gross, *refund, *quantity, first);
            // A payment counts once for each product on it (twice-listed products once).
            let first_of_product = !lines[..i].iter().any(|l| &l.product == product);
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
        let quantity: Option<i64> = row.get(10).map_err(report_db)?;
        lines.push(LineFacts {
            product: row.get(9).map_err(report_db)?,
            quantity: quantity.unwrap_or(0),
            line_minor: row.get(11).map_err(report_db)?,
            discount: row
                .get::<_, Option<i64>>(13)
                .map_err(report_db)?
                .unwrap_or(0),
            tax: row
                .get::<_, Option<i64>>(14)
                .map_err(report_db)?
                .unwrap_or(0),
            rate: text(row, 15)?.map(|name| rates.id(name)),
        });
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
