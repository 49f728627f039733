//! The period summary behind the dashboard and the PDF report: totals per currency, by local
//! day, product, payment method, channel and post; nothing cached, so always exact.
//!
//! A sale counts when its payment is paid (or refunded) and matches its order; test payments
//! only when asked. Days are the shop's local days (23 or 25 hours around DST changes).

use std::collections::HashMap;

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

/// Computes the summary in one ordered pass over the period's sales: the same rows and the
/// same allocation as the CSV export, aggregated without allocating per row.
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
        || filter.till.as_deref().is_some_and(|t| !t.trim().is_empty());
    let select = if by_sku {
        SUMMARY_SELECT_BY_SKU
    } else {
        SUMMARY_SELECT
    };
    let reader = source.open()?;
    let (sql, params) = sales_query(
        select,
        filter,
        (period.start_ms, period.end_ms),
        reader.backend(),
    );

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
        // The backends give a payment's lines in their own order (SQLite's index, PostgreSQL's
        // join); the rounding remainder goes to the last by id on both, as in the CSV.
        lines.sort_unstable_by_key(|l| l.id);
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
    reader.each_row(&sql, &params, |row| {
        let id: i64 = row.int(0)?;
        if current.is_some_and(|p| p.id != id) {
            flush(current.as_ref().expect("checked"), &mut lines);
            current = None;
        }
        if current.is_none() {
            let occurred_at: i64 = row.int(1)?;
            let provider = row.text(5)?.unwrap_or("");
            let method = row.text(6)?.unwrap_or("—");
            let channel = row.text(7)?.unwrap_or("link");
            let post = match (channel, row.text(8)?) {
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
                currency: currencies.id(row.text(2)?.unwrap_or("")),
                amount: row.int(3)?,
                refunded: row.int(4)?,
                order_total: row.opt_int(12)?,
                method: method_key,
                channel: channels.id(channel),
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
            rate: row.text(15)?.map(|name| rates.id(name)),
        });
        Ok(())
    })?;
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
