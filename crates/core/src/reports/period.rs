//! The period a report covers: local dates in the shop's time zone turned into a UTC
//! range, and the local day each instant falls on (23- or 25-hour days around DST).

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// Longest period one report covers.
pub(crate) const MAX_DAYS: i32 = 3_700;

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
    /// Only sales rung up at this till (its name).
    pub till: Option<String>,
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
    /// The period of `filter`, once its status is one the reports know: a mistyped status
    /// ("paidd") must not quietly report every sale.
    pub fn of(filter: &ReportFilter, tz_name: &str) -> Result<Period> {
        if let Some(status) = filter.status.as_deref().filter(|s| !s.is_empty())
            && !matches!(status, "paid" | "refunded")
        {
            return Err(CoreError::invalid(
                "status",
                format!("“{status}” is not a sale status: use paid or refunded."),
            ));
        }
        Period::new(&filter.from, &filter.to, tz_name)
    }

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
pub(crate) fn day_start(date: Date, tz: &TimeZone) -> Result<i64> {
    Ok(date
        .to_zoned_datetime(tz.clone())
        .map_err(|e| CoreError::invalid("from", e.to_string()))?
        .timestamp()
        .as_millisecond())
}

/// Maps instants (visited in time order) to local days without a time-zone lookup per row.
pub(crate) struct DayIndex {
    /// UTC ms where each day of the period starts, plus the end.
    pub(crate) bounds: Vec<i64>,
    pub(crate) days: Vec<Date>,
}

impl DayIndex {
    pub(crate) fn new(period: &Period) -> Result<DayIndex> {
        let days = period.days();
        let mut bounds = Vec::with_capacity(days.len() + 1);
        for day in &days {
            bounds.push(day_start(*day, &period.tz)?);
        }
        bounds.push(period.end_ms);
        Ok(DayIndex { bounds, days })
    }

    pub(crate) fn day_of(&self, ms: i64) -> usize {
        self.bounds[1..]
            .partition_point(|end| *end <= ms)
            .min(self.days.len() - 1)
    }
}
