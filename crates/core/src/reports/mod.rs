//! Sales reports: the CSV export, the period summary behind the dashboard and the PDF
//! report, each read through a read-only connection straight from covering indexes.

mod csv;
pub mod pdf;
mod period;
mod source;
mod store;
mod summary;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

pub use csv::{CSV_COLUMNS, CsvOptions, ExportOutcome, export_csv};
pub use period::{Period, ReportFilter};
pub use source::ReportSource;
pub use store::{sales_sql, sales_sql_for};
pub use summary::{CurrencySummary, DayRow, GroupRow, ReportSummary, money, summary};

use crate::Shop;
use crate::error::{CoreError, Result};
use crate::infra::{blocking, write_file_atomically};
impl Shop {
    // Reports

    /// Where reports read: the shop file (a read-only connection of their own) or the server.
    pub fn report_source(&self) -> ReportSource {
        match self.backend() {
            crate::Backend::Sqlite => ReportSource::File(self.database_path()),
            crate::Backend::Postgres => ReportSource::Server {
                pool: self.pool.clone(),
                runtime: tokio::runtime::Handle::current(),
            },
        }
    }

    /// Totals, days, products, methods, channels and posts for a period (top `top` per table).
    pub async fn report_summary(&self, filter: &ReportFilter, top: usize) -> Result<ReportSummary> {
        let timezone = self.settings().await?.timezone;
        let source = self.report_source();
        let filter = filter.clone();
        blocking(move || summary(&source, &filter, &timezone, top)).await
    }

    /// Streams the period's sales as CSV to `out`; `progress` gets the rows written so far,
    /// and setting `cancel` stops the export and leaves no file.
    pub async fn export_sales_csv(
        &self,
        filter: &ReportFilter,
        options: CsvOptions,
        out: &Path,
        cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
        progress: impl FnMut(u64) + Send + 'static,
    ) -> Result<ExportOutcome> {
        let timezone = self.settings().await?.timezone;
        let source = self.report_source();
        let filter = filter.clone();
        let out = out.to_path_buf();
        blocking(move || {
            export_csv(
                &source,
                &filter,
                &timezone,
                options,
                &out,
                Some(&cancel),
                progress,
            )
        })
        .await
    }
}

impl Shop {
    /// Writes the period's PDF sales report to `out` (atomically: no partial file).
    pub async fn export_sales_pdf(
        &self,
        filter: &ReportFilter,
        out: &Path,
    ) -> Result<ExportOutcome> {
        let settings = self.settings().await?;
        let source = self.report_source();
        let filter = filter.clone();
        let out = out.to_path_buf();
        blocking(move || {
            let summary = summary(&source, &filter, &settings.timezone, 50)?;
            let now = jiff::Timestamp::now().to_zoned_datetime(
                jiff::tz::TimeZone::get(&settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC),
            );
            let generated = now.strftime("%Y-%m-%d %H:%M").to_string();
            let doc = pdf::report_doc(
                &summary,
                &settings.name,
                &settings.locale,
                &generated,
                &|_| None,
            );
            let pdf = shopcast_print::report::render_report(&doc)?;
            write_file_atomically(&out, &pdf)?;
            Ok(ExportOutcome {
                rows: summary.by_day.iter().map(|d| d.payments as u64).sum(),
                bytes: pdf.len() as u64,
            })
        })
        .await
    }
}

/// The dashboard: today so far and the last 30 days, in the shop's time zone.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub today: ReportSummary,
    pub last_30_days: ReportSummary,
    /// Products on sale whose counted stock is at or below their low-stock level, lowest first.
    pub low_stock: Vec<crate::ProductSummary>,
}

impl Shop {
    /// The period filters for "today" and "the last 30 days" in the shop's time zone.
    pub async fn dashboard(&self, include_test: bool) -> Result<Dashboard> {
        let settings = self.settings().await?;
        let tz = jiff::tz::TimeZone::get(&settings.timezone)
            .map_err(|_| CoreError::invalid("timezone", "Unknown time zone."))?;
        let today = jiff::Timestamp::now().to_zoned_datetime(tz).date();
        let month_ago = today
            .checked_sub(jiff::Span::new().days(29))
            .map_err(|e| CoreError::Report(e.to_string()))?;
        let filter = |from: jiff::civil::Date| ReportFilter {
            from: from.to_string(),
            to: today.to_string(),
            include_test,
            ..Default::default()
        };
        Ok(Dashboard {
            today: self.report_summary(&filter(today), 5).await?,
            last_30_days: self.report_summary(&filter(month_ago), 10).await?,
            low_stock: crate::catalog::store::running_low(&self.pool, 20).await?,
        })
    }
}

crate::infra::text_enum! {
    /// What an export writes: the sales CSV or the PDF report.
    pub enum ReportFormat {
        Csv = "csv",
        Pdf = "pdf",
    }
}

impl Shop {
    /// Writes the period's sales in `format` to `out`: the window and `shopcast export` both
    /// come here. `progress` and `cancel` apply to the CSV (the PDF takes under a second).
    pub async fn export_report(
        &self,
        filter: &ReportFilter,
        format: ReportFormat,
        options: CsvOptions,
        out: &Path,
        cancel: Arc<AtomicBool>,
        progress: impl FnMut(u64) + Send + 'static,
    ) -> Result<ExportOutcome> {
        match format {
            ReportFormat::Csv => {
                self.export_sales_csv(filter, options, out, cancel, progress)
                    .await
            }
            ReportFormat::Pdf => self.export_sales_pdf(filter, out).await,
        }
    }
}
