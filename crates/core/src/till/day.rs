//! The till's days: opened with a float, closed with the counted cash; the X report mid-day
//! and the Z report, kept unchanged once the day is closed.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Row};

use crate::Shop;
use crate::error::{CoreError, Result};
use crate::infra::now_ms;
use crate::money::parse_amount;

/// One till's day: opened with a float at `opened_at`, closed (if it is) with the cash counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TillDay {
    /// The day's number, which is also its Z report's number.
    pub id: i64,
    /// The till's name; "" for the till without a name.
    pub till: String,
    pub currency: String,
    pub float_minor: i64,
    pub opened_at_ms: i64,
    /// When it was opened, in the shop's time zone ("2026-12-02 09:00").
    pub opened_at: String,
    pub closed_at_ms: Option<i64>,
    pub closed_at: Option<String>,
    pub counted_minor: Option<i64>,
}

/// Sales of one payment method in the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MethodSales {
    pub method: String,
    pub count: i64,
    pub amount_minor: i64,
}

/// Tax of one rate in the day's sales, as the lines were priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TaxSum {
    pub name: Option<String>,
    pub rate_ppm: i64,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub gross_minor: i64,
}

/// The X report (the open day so far) or the Z report (the closed day, stored once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TillReport {
    /// "X" or "Z".
    pub kind: String,
    /// The day's id: the Z number.
    pub day_id: i64,
    pub till: String,
    pub currency: String,
    pub opened_at_ms: i64,
    pub opened_at: String,
    /// The end of the figures: closing time for a Z, the time of the report for an X.
    pub until_ms: i64,
    pub closed_at: Option<String>,
    pub sales: Vec<MethodSales>,
    pub sales_count: i64,
    pub sales_minor: i64,
    pub refunds_count: i64,
    pub refunds_minor: i64,
    pub taxes: Vec<TaxSum>,
    pub discounts_minor: i64,
    pub float_minor: i64,
    pub cash_sales_minor: i64,
    pub cash_refunds_minor: i64,
    /// float + cash sales − cash refunds.
    pub expected_cash_minor: i64,
    pub counted_minor: Option<i64>,
    /// counted − expected (negative: cash missing).
    pub difference_minor: Option<i64>,
}

/// The till's name as stored on its days: "" for the till without a name.
fn till_name(till: Option<&str>) -> Result<String> {
    Ok(crate::payments::till::till_name(till)?.unwrap_or_default())
}

fn shown(till: &str) -> String {
    if till.is_empty() {
        "The till".to_string()
    } else {
        format!("Till '{till}'")
    }
}

fn amount(text: &str, currency: &str, field: &'static str) -> Result<i64> {
    Ok(parse_amount(text, currency, field)?.amount_minor)
}

fn local_time(ms: i64, zone: &str) -> Result<String> {
    crate::infra::shop_time(ms, zone, "%Y-%m-%d %H:%M:%S")
}

fn day_of(row: &sqlx::any::AnyRow, zone: &str) -> Result<TillDay> {
    let opened: i64 = row.get("opened_at");
    let closed: Option<i64> = row.get("closed_at");
    Ok(TillDay {
        id: row.get("id"),
        till: row.get("till"),
        currency: row.get("currency"),
        float_minor: row.get("float_minor"),
        opened_at_ms: opened,
        opened_at: local_time(opened, zone)?,
        closed_at_ms: closed,
        closed_at: closed.map(|c| local_time(c, zone)).transpose()?,
        counted_minor: row.get("counted_minor"),
    })
}

const DAY_COLUMNS: &str = "id, till, currency, float_minor, opened_at, closed_at, counted_minor";

async fn open_day(pool: &AnyPool, till: &str, zone: &str) -> Result<TillDay> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {DAY_COLUMNS} FROM till_days WHERE till = $1 AND closed_at IS NULL"
    )))
    .bind(till)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => day_of(&row, zone),
        None => Err(CoreError::Conflict {
            field: "till",
            message: format!(
                "{} has no open day. Open it first: shopcast till open --float AMOUNT.",
                shown(till)
            ),
        }),
    }
}

/// The day's figures from the ledger: what settled (and was refunded) since the till's
/// previous close — on its first day, since it opened — up to `until` (one past the last
/// millisecond counted). A payment counts when the shop learnt it was paid, so one reported
/// after a close is on the next Z, never on none.
async fn figures(pool: &AnyPool, day: &TillDay, until: i64) -> Result<TillReport> {
    let previous_close: Option<i64> = sqlx::query_scalar(
        "SELECT max(closed_at) FROM till_days WHERE till = $1 AND id <> $2 AND closed_at <= $3",
    )
    .bind(&day.till)
    .bind(day.id)
    .bind(day.opened_at_ms)
    .fetch_one(pool)
    .await?;
    let from = previous_close.map_or(day.opened_at_ms, |closed| closed + 1);
    // The day's sales: payments of this till's orders settled in the window.
    let rows = sqlx::query(
        "SELECT coalesce(p.method, 'other') AS method, p.amount_minor, p.order_id
         FROM payments p JOIN orders o ON o.id = p.order_id
         WHERE o.channel = 'till' AND coalesce(o.till, '') = $1
           AND p.status IN ('paid', 'refunded') AND p.currency = $2
           AND coalesce(p.settled_at, p.occurred_at) >= $3
           AND coalesce(p.settled_at, p.occurred_at) < $4",
    )
    .bind(&day.till)
    .bind(&day.currency)
    .bind(from)
    .bind(until)
    .fetch_all(pool)
    .await?;
    let mut by_method: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut orders: Vec<i64> = Vec::new();
    for row in &rows {
        let entry = by_method.entry(row.get("method")).or_default();
        entry.0 += 1;
        entry.1 += row.get::<i64, _>("amount_minor");
        orders.push(row.get("order_id"));
    }
    let sales: Vec<MethodSales> = by_method
        .into_iter()
        .map(|(method, (count, amount_minor))| MethodSales {
            method,
            count,
            amount_minor,
        })
        .collect();
    let cash_sales_minor = sales
        .iter()
        .filter(|s| s.method == "cash")
        .map(|s| s.amount_minor)
        .sum();

    // Refunds received in the window, on any payment of this till's orders: each event's
    // refunded total minus the largest total that payment had before it.
    let events = sqlx::query(
        "SELECT p.id, coalesce(p.method, 'other') AS method, e.refunded_total_minor, e.received_at
         FROM payment_events e
         JOIN payments p ON p.provider = e.provider AND p.provider_ref = e.provider_ref
         JOIN orders o ON o.id = p.order_id
         WHERE o.channel = 'till' AND coalesce(o.till, '') = $1 AND p.currency = $2
           AND e.refunded_total_minor IS NOT NULL AND e.received_at < $3
         ORDER BY e.received_at, e.id",
    )
    .bind(&day.till)
    .bind(&day.currency)
    .bind(until)
    .fetch_all(pool)
    .await?;
    let mut so_far: HashMap<i64, i64> = HashMap::new();
    let (mut refunds_count, mut refunds_minor, mut cash_refunds_minor) = (0, 0, 0);
    for row in &events {
        let total: i64 = row.get("refunded_total_minor");
        let before = so_far.entry(row.get("id")).or_insert(0);
        let delta = (total - *before).max(0);
        *before = (*before).max(total);
        if delta > 0 && row.get::<i64, _>("received_at") >= from {
            refunds_count += 1;
            refunds_minor += delta;
            if row.get::<String, _>("method") == "cash" {
                cash_refunds_minor += delta;
            }
        }
    }

    // Tax per rate and discounts of the lines the day's sales paid for.
    let mut taxes: BTreeMap<(Option<String>, i64), (i64, i64, i64)> = BTreeMap::new();
    let mut discounts_minor = 0;
    orders.sort_unstable();
    orders.dedup();
    for chunk in orders.chunks(500) {
        let mut query = crate::infra::sql::Sql::new(
            "SELECT tax_rate_name, tax_rate_ppm, net_minor, tax_minor, gross_minor, discount_minor
             FROM order_lines WHERE order_id IN (",
        );
        let mut list = query.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        query.push(")");
        for row in query.build().fetch_all(pool).await? {
            let entry = taxes
                .entry((row.get("tax_rate_name"), row.get("tax_rate_ppm")))
                .or_default();
            entry.0 += row.get::<i64, _>("net_minor");
            entry.1 += row.get::<i64, _>("tax_minor");
            entry.2 += row.get::<i64, _>("gross_minor");
            discounts_minor += row.get::<i64, _>("discount_minor");
        }
    }
    let taxes = taxes
        .into_iter()
        .map(
            |((name, rate_ppm), (net_minor, tax_minor, gross_minor))| TaxSum {
                name,
                rate_ppm,
                net_minor,
                tax_minor,
                gross_minor,
            },
        )
        .collect();
    let expected_cash_minor = day.float_minor + cash_sales_minor - cash_refunds_minor;
    Ok(TillReport {
        kind: "X".into(),
        day_id: day.id,
        till: day.till.clone(),
        currency: day.currency.clone(),
        opened_at_ms: day.opened_at_ms,
        opened_at: day.opened_at.clone(),
        until_ms: until - 1,
        closed_at: None,
        sales_count: sales.iter().map(|s| s.count).sum(),
        sales_minor: sales.iter().map(|s| s.amount_minor).sum(),
        sales,
        refunds_count,
        refunds_minor,
        taxes,
        discounts_minor,
        float_minor: day.float_minor,
        cash_sales_minor,
        cash_refunds_minor,
        expected_cash_minor,
        counted_minor: None,
        difference_minor: None,
    })
}

impl Shop {
    /// Opens `till`'s day with a float in the shop's currency; refused while a day is open.
    pub async fn open_till(&self, till: Option<&str>, float: &str) -> Result<TillDay> {
        let settings = self.settings().await?;
        let till = till_name(till)?;
        let float_minor = amount(float, &settings.currency, "float")?;
        let pool = self.pool();
        if open_day(pool, &till, &settings.timezone).await.is_ok() {
            return Err(CoreError::Conflict {
                field: "till",
                message: format!(
                    "{} already has an open day. Close it first: shopcast till close --counted AMOUNT.",
                    shown(&till)
                ),
            });
        }
        // A day covers [opened_at, closed_at] to the millisecond: it starts after the till's
        // last close, so nothing recorded at that instant counts on both days.
        let inserted = sqlx::query(
            "INSERT INTO till_days (till, currency, float_minor, opened_at)
             VALUES ($1, $2, $3, (SELECT CASE WHEN $4 > floor THEN $4 ELSE floor END FROM (SELECT coalesce(max(closed_at) + 1, 0) AS floor FROM till_days WHERE till = $1) AS after_close))",
        )
        .bind(&till)
        .bind(&settings.currency)
        .bind(float_minor)
        .bind(now_ms())
        .execute(pool)
        .await;
        match inserted {
            Ok(_) => open_day(pool, &till, &settings.timezone).await,
            // Another window opened the same till meanwhile (one open day per till).
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(CoreError::Conflict {
                field: "till",
                message: format!("{} already has an open day.", shown(&till)),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The X report: the open day's figures so far. Writes nothing.
    pub async fn till_report(&self, till: Option<&str>) -> Result<TillReport> {
        let settings = self.settings().await?;
        let till = till_name(till)?;
        let day = open_day(self.pool(), &till, &settings.timezone).await?;
        // Everything recorded up to this millisecond is in.
        figures(self.pool(), &day, now_ms() + 1).await
    }

    /// The Z report: closes the open day with the cash counted; its figures are written once
    /// with the close, and [`Shop::z_report`] rereads them unchanged.
    pub async fn close_till(&self, till: Option<&str>, counted: &str) -> Result<TillReport> {
        let settings = self.settings().await?;
        let till = till_name(till)?;
        let pool = self.pool();
        let day = open_day(pool, &till, &settings.timezone).await?;
        let counted_minor = amount(counted, &day.currency, "counted")?;
        let closed_at = now_ms();
        let mut report = figures(pool, &day, closed_at + 1).await?;
        report.kind = "Z".into();
        report.closed_at = Some(local_time(closed_at, &settings.timezone)?);
        report.counted_minor = Some(counted_minor);
        report.difference_minor = Some(counted_minor - report.expected_cash_minor);
        let json = serde_json::to_string(&report).map_err(|e| {
            CoreError::invalid("till", format!("The Z report could not be written: {e}"))
        })?;
        let done = sqlx::query(
            "UPDATE till_days SET closed_at = $1, counted_minor = $2, z_report = $3
             WHERE id = $4 AND closed_at IS NULL",
        )
        .bind(closed_at)
        .bind(counted_minor)
        .bind(&json)
        .bind(day.id)
        .execute(pool)
        .await?;
        if done.rows_affected() != 1 {
            return Err(CoreError::Conflict {
                field: "till",
                message: format!("{} was closed meanwhile.", shown(&till)),
            });
        }
        Ok(report)
    }

    /// The stored Z report of closed day `day_id`.
    pub async fn z_report(&self, day_id: i64) -> Result<TillReport> {
        let stored: Option<Option<String>> =
            sqlx::query_scalar("SELECT z_report FROM till_days WHERE id = $1")
                .bind(day_id)
                .fetch_optional(self.pool())
                .await?;
        match stored {
            None => Err(CoreError::NotFound {
                what: format!("Till day {day_id}"),
            }),
            Some(None) => Err(CoreError::Conflict {
                field: "till",
                message: format!(
                    "Till day {day_id} is still open; its Z report is written when it closes."
                ),
            }),
            Some(Some(json)) => serde_json::from_str(&json).map_err(|e| {
                CoreError::invalid("till", format!("The stored Z report cannot be read: {e}"))
            }),
        }
    }

    /// The tills this shop has seen (their names), for the screens' till filters: every till
    /// that rang up a sale or kept a day, by name.
    pub async fn known_tills(&self) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT till FROM orders WHERE till IS NOT NULL \
             UNION SELECT till FROM till_days WHERE till <> ''",
        )
        .fetch_all(self.pool())
        .await?;
        // Sorted here: the two backends' collations order names differently.
        let mut tills = rows
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        tills.sort();
        Ok(tills)
    }

    /// The till's days, newest first.
    pub async fn till_days(&self, till: Option<&str>) -> Result<Vec<TillDay>> {
        let settings = self.settings().await?;
        let till = till_name(till)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DAY_COLUMNS} FROM till_days WHERE till = $1 ORDER BY id DESC"
        )))
        .bind(&till)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| day_of(r, &settings.timezone)).collect()
    }
}

/// The report as headed sections of (label, amount) rows in the shop's locale: what the CLI
/// prints and the PDF lays out.
pub fn report_sections(report: &TillReport, locale: &str) -> Vec<(String, Vec<(String, String)>)> {
    let zh = locale.starts_with("zh");
    let t = |en: &str, cn: &str| if zh { cn.to_string() } else { en.to_string() };
    let money = |minor: i64| crate::reports::money(minor, &report.currency, locale);
    let mut sections = Vec::new();
    let mut day = vec![
        (t("Till", "收银台"), shown(&report.till)),
        (t("Opened", "开始"), report.opened_at.clone()),
    ];
    if let Some(closed) = &report.closed_at {
        day.push((t("Closed", "结束"), closed.clone()));
    }
    sections.push((t("Day", "营业日"), day));
    let mut sales: Vec<(String, String)> = report
        .sales
        .iter()
        .map(|s| (format!("{} ×{}", s.method, s.count), money(s.amount_minor)))
        .collect();
    sales.push((
        format!("{} ×{}", t("Total", "合计"), report.sales_count),
        money(report.sales_minor),
    ));
    sections.push((t("Sales by method", "按支付方式"), sales));
    sections.push((
        t("Refunds", "退款"),
        vec![(
            format!("{} ×{}", t("Refunds", "退款"), report.refunds_count),
            format!("-{}", money(report.refunds_minor)),
        )],
    ));
    let mut taxes: Vec<(String, String)> = Vec::new();
    for tax in &report.taxes {
        let name = match &tax.name {
            Some(name) => format!(
                "{} ({} {})",
                crate::till::tax::rate_label(name, tax.rate_ppm),
                t("on", "含税额"),
                money(tax.gross_minor)
            ),
            None => format!("{} ({})", t("No tax", "免税"), money(tax.gross_minor)),
        };
        taxes.push((name, money(tax.tax_minor)));
    }
    taxes.push((
        t("Discounts", "折扣"),
        format!("-{}", money(report.discounts_minor)),
    ));
    sections.push((t("Tax and discounts", "税额与折扣"), taxes));
    let mut cash = vec![
        (t("Float", "备用金"), money(report.float_minor)),
        (t("Cash sales", "现金销售"), money(report.cash_sales_minor)),
        (
            t("Cash refunds", "现金退款"),
            format!("-{}", money(report.cash_refunds_minor)),
        ),
        (
            t("Expected in drawer", "应有现金"),
            money(report.expected_cash_minor),
        ),
    ];
    if let Some(counted) = report.counted_minor {
        cash.push((t("Counted", "实点现金"), money(counted)));
    }
    if let Some(difference) = report.difference_minor {
        cash.push((t("Difference", "差额"), money(difference)));
    }
    sections.push((t("Cash drawer", "钱箱"), cash));
    sections
}

impl Shop {
    /// The X or Z report as a PDF on `paper` ("58mm", "80mm", "a4"; the receipt paper when
    /// `None`).
    pub async fn till_report_pdf(
        &self,
        report: &TillReport,
        paper: Option<&str>,
    ) -> Result<Vec<u8>> {
        let settings = self.settings().await?;
        let paper = crate::till::receipt::paper_of(paper.unwrap_or(&settings.receipt_paper))?;
        let zh = settings.locale.starts_with("zh");
        let title = match (report.kind.as_str(), zh) {
            ("Z", false) => format!("Z report {}", report.day_id),
            ("Z", true) => format!("Z 报表 {}", report.day_id),
            (_, false) => "X report".to_string(),
            (_, true) => "X 报表".to_string(),
        };
        let until = crate::infra::shop_time(report.until_ms, &settings.timezone, "%Y-%m-%d %H:%M")?;
        let doc = shopcast_print::till_report::TillReportDoc {
            title,
            shop_name: settings.name.clone(),
            till: shown(&report.till),
            period: format!("{} – {until}", report.opened_at),
            sections: report_sections(report, &settings.locale),
            generated_at: crate::infra::shop_time(now_ms(), &settings.timezone, "%Y-%m-%d %H:%M")?,
            paper,
        };
        crate::infra::blocking(move || {
            shopcast_print::till_report::render_till_report(&doc).map_err(CoreError::from)
        })
        .await
    }
}
