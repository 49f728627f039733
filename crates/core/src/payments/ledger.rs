//! The payment ledger: one row per payment at a provider (`UNIQUE(provider, provider_ref)`),
//! every state change appended to `payment_events` (`UNIQUE(provider, event_id)`).
//!
//! [`ingest`] is idempotent: an event already stored changes nothing, so a watcher may hand
//! the same events over again after a crash or an overlapping poll. A batch and the provider's
//! new cursor are committed in one transaction: after a kill -9 either both are on disk or
//! neither is, and the next poll fetches the batch again. Here: what a payment is and how an
//! event moves it (status only rises, refunds only grow); the SQL is in `store::ledger`.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use shopcast_payments::{PaymentStatus, ProviderEvent, ProviderKind};

use crate::error::Result;
use crate::money::Money;

pub use super::store::ledger::{
    by_provider_ref, cursor, events_of, get, get_many, ingest, list, totals,
};

/// How a sale reached the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SalesChannel {
    Till,
    Signage,
    Post,
    Link,
    /// A buyer's shared link from their receipt (source_ref: the shared order's ref).
    Share,
}

impl SalesChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            SalesChannel::Till => "till",
            SalesChannel::Signage => "signage",
            SalesChannel::Post => "post",
            SalesChannel::Link => "link",
            SalesChannel::Share => "share",
        }
    }

    pub fn parse(text: &str) -> Option<SalesChannel> {
        [
            SalesChannel::Till,
            SalesChannel::Signage,
            SalesChannel::Post,
            SalesChannel::Link,
            SalesChannel::Share,
        ]
        .into_iter()
        .find(|c| c.as_str() == text)
    }
}

/// Reads an attribution tag carried through a provider (Stripe `client_reference_id`):
/// "till", "sign-S1A2B3C4", "post-12", "share-O-7K3F9Q2M"; anything else is a plain link sale.
pub fn attribution_from_tag(tag: Option<&str>) -> (SalesChannel, Option<String>) {
    match tag {
        Some("till") => (SalesChannel::Till, None),
        Some(tag) => {
            if let Some(batch) = tag.strip_prefix("sign-").filter(|s| !s.is_empty()) {
                (SalesChannel::Signage, Some(batch.to_string()))
            } else if let Some(post) = tag.strip_prefix("post-").filter(|s| !s.is_empty()) {
                (SalesChannel::Post, Some(post.to_string()))
            } else if let Some(order) = tag.strip_prefix("share-").filter(|s| !s.is_empty()) {
                (SalesChannel::Share, Some(order.to_string()))
            } else {
                (SalesChannel::Link, None)
            }
        }
        None => (SalesChannel::Link, None),
    }
}

/// One payment as the owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub id: i64,
    pub provider: ProviderKind,
    pub provider_ref: String,
    pub order_id: Option<i64>,
    pub order_ref: Option<String>,
    pub status: PaymentStatus,
    pub amount: Money,
    pub refunded_minor: i64,
    pub method: Option<String>,
    pub channel: SalesChannel,
    /// The sign batch or post that brought it.
    pub source_ref: Option<String>,
    pub test: bool,
    /// Why it does not match its order, for the owner to review.
    pub mismatch: Option<String>,
    /// When the provider says it happened, UTC unix milliseconds.
    pub occurred_at: i64,
    pub updated_at: i64,
}

/// What one ingest changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Events not seen before.
    pub new_events: usize,
    /// Ids of payments created or changed, in the order their last event happened.
    pub changed: Vec<i64>,
    /// Orders whose status changed: (order id, new status).
    pub orders: Vec<(i64, String)>,
    /// Events the provider listed that could not be read, newly kept for review.
    pub unreadable_kept: usize,
    /// The payments as written, when they paid an order made in the same transaction (a
    /// till sale), so the till need not read them back; empty otherwise.
    pub written: Vec<Payment>,
}

/// Orders of status: a later event may raise a payment's status, never lower it
/// (a `payment_failed` arriving after `succeeded` must not undo a sale).
pub(super) fn rank(status: PaymentStatus) -> u8 {
    match status {
        PaymentStatus::Pending => 0,
        PaymentStatus::Failed | PaymentStatus::Expired => 1,
        PaymentStatus::Paid => 2,
        PaymentStatus::Refunded => 3,
    }
}

#[derive(Debug, Clone)]
pub(super) struct PaymentState {
    pub(super) order_id: Option<i64>,
    pub(super) charge_id: Option<i64>,
    pub(super) status: PaymentStatus,
    pub(super) amount_minor: i64,
    pub(super) currency: String,
    pub(super) refunded_minor: i64,
    pub(super) method: Option<String>,
    pub(super) channel: SalesChannel,
    pub(super) source_ref: Option<String>,
    pub(super) mismatch: Option<String>,
    pub(super) occurred_at: i64,
}

#[derive(Debug, Clone)]
pub(super) struct OrderInfo {
    pub(super) id: i64,
    pub(super) total_minor: i64,
    pub(super) currency: String,
    pub(super) channel: SalesChannel,
    pub(super) source_ref: Option<String>,
    pub(super) status: String,
    /// "provider:ref" of a matching payment that already paid this order.
    pub(super) paid_by: Option<String>,
}

pub(super) fn dedup<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    items.filter(|item| seen.insert(*item)).collect()
}

pub(super) fn new_state(event: &ProviderEvent, order: Option<&OrderInfo>) -> PaymentState {
    let (channel, source_ref) = match order {
        Some(order) => (order.channel, order.source_ref.clone()),
        None => attribution_from_tag(event.source_tag.as_deref()),
    };
    PaymentState {
        order_id: order.map(|o| o.id),
        charge_id: None,
        status: PaymentStatus::Pending,
        amount_minor: event.amount_minor,
        currency: event.currency.clone(),
        refunded_minor: 0,
        method: event.method.clone(),
        channel,
        source_ref,
        mismatch: None,
        occurred_at: event.occurred_at.as_millisecond(),
    }
}

/// The status a payment in `state` gives its order, if it moves it: paid, review (paid but
/// not as the order says), or expired.
pub(super) fn order_status_after(state: &PaymentState) -> Option<&'static str> {
    match (state.status, &state.mismatch) {
        (PaymentStatus::Paid | PaymentStatus::Refunded, Some(_)) => Some("review"),
        (PaymentStatus::Paid | PaymentStatus::Refunded, None) => Some("paid"),
        // A declined card or an expired QR leaves the order open for another try,
        // unless nothing else is still waiting for the customer.
        (PaymentStatus::Expired, _) => Some("expired"),
        _ => None,
    }
}

/// The payment `event` from `provider`, the first about `order`, makes when it leaves the
/// order paid with its goods sold: what a sale paid on the spot (cash) can be stored as at
/// once, by the same rules that ingesting the event applies afterwards.
pub(super) fn pays_at_once(
    provider: ProviderKind,
    event: &ProviderEvent,
    order: &OrderInfo,
) -> Option<PaymentState> {
    let mut state = new_state(event, Some(order));
    let key = format!("{}:{}", provider.as_str(), event.provider_ref);
    apply(&mut state, event, Some(order), None, &key);
    (provider != ProviderKind::Test && order_status_after(&state) == Some("paid")).then_some(state)
}

pub(super) fn apply(
    state: &mut PaymentState,
    event: &ProviderEvent,
    order: Option<&OrderInfo>,
    charge_id: Option<i64>,
    key: &str,
) {
    if state.order_id.is_none()
        && let Some(order) = order
    {
        state.order_id = Some(order.id);
        state.channel = order.channel;
        state.source_ref = order.source_ref.clone();
    }
    if state.charge_id.is_none() {
        state.charge_id = charge_id;
    }
    if state.method.is_none() {
        state.method = event.method.clone();
    }
    // The amount of record is the one the provider states when money moves.
    if matches!(event.status, PaymentStatus::Paid) || state.status == PaymentStatus::Pending {
        state.amount_minor = event.amount_minor;
        state.currency = event.currency.clone();
    }
    if rank(event.status) > rank(state.status) {
        // A sale stays on the day it was paid: a later refund changes its status, not its date.
        if !matches!(state.status, PaymentStatus::Paid | PaymentStatus::Refunded) {
            state.occurred_at = event.occurred_at.as_millisecond();
        }
        state.status = event.status;
    }
    if let Some(total) = event.refunded_total_minor {
        state.refunded_minor = state.refunded_minor.max(total);
    }
    if state.refunded_minor > 0
        && state.refunded_minor >= state.amount_minor
        && state.status == PaymentStatus::Paid
    {
        state.status = PaymentStatus::Refunded;
    }
    let money_moved = matches!(state.status, PaymentStatus::Paid | PaymentStatus::Refunded);
    state.mismatch = match order {
        Some(order) if money_moved && order.status == "cancelled" => {
            Some("paid after the order was cancelled: keep it or refund it".to_string())
        }
        Some(order)
            if money_moved && order.paid_by.as_deref().is_some_and(|other| other != key) =>
        {
            Some(format!(
                "the order was already paid ({}): refund one of the two",
                order.paid_by.as_deref().unwrap_or_default()
            ))
        }
        Some(order)
            if money_moved
                && (order.total_minor != state.amount_minor
                    || order.currency != state.currency) =>
        {
            Some(format!(
                "paid {} {} but the order is {} {}",
                Money {
                    amount_minor: state.amount_minor,
                    currency: state.currency.clone()
                }
                .to_decimal_string(),
                state.currency,
                Money {
                    amount_minor: order.total_minor,
                    currency: order.currency.clone()
                }
                .to_decimal_string(),
                order.currency,
            ))
        }
        Some(_) => None,
        // Our own order reference that this shop file does not know (another shop file on
        // the same provider account): not this shop's sale until the owner says so.
        None if state.order_id.is_none()
            && event
                .order_ref
                .as_deref()
                .is_some_and(|r| r.starts_with("O-")) =>
        {
            Some(format!(
                "order {} is not in this shop",
                event.order_ref.as_deref().unwrap_or_default()
            ))
        }
        None => state.mismatch.take(),
    };
}

/// Filters for the payments screen and `payments list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct PaymentFilter {
    /// UTC unix ms, inclusive.
    pub from: Option<i64>,
    /// UTC unix ms, exclusive.
    pub to: Option<i64>,
    pub provider: Option<String>,
    pub status: Option<String>,
    pub channel: Option<String>,
    pub product_id: Option<i64>,
    /// Only the payments of this order.
    pub order_id: Option<i64>,
    /// Only sales rung up at this till (its name).
    pub till: Option<String>,
    /// Newest first, at most this many (default 200).
    pub limit: Option<u32>,
}

/// One stored event of a payment, raw as received, for the detail view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PaymentEventRecord {
    pub event_id: String,
    pub status: String,
    pub occurred_at: i64,
    pub received_at: i64,
    pub raw: String,
}

/// Takings in one currency over a period (currencies are never added together).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CurrencyTotal {
    pub currency: String,
    pub gross_minor: i64,
    pub refunded_minor: i64,
    pub net_minor: i64,
    pub payments: i64,
}

/// Today in the shop's time zone, as a UTC [start, end) in ms (23 or 25 hours on DST days).
pub fn local_day_range(timezone: &str, at: jiff::Timestamp) -> Result<(i64, i64)> {
    let tz = jiff::tz::TimeZone::get(timezone).map_err(|_| {
        crate::CoreError::invalid("timezone", format!("Unknown time zone {timezone}."))
    })?;
    let date = at.to_zoned_datetime(tz.clone()).date();
    let start = date
        .to_zoned_datetime(tz.clone())
        .map_err(|e| crate::CoreError::invalid("timezone", e.to_string()))?;
    let end = date
        .tomorrow()
        .and_then(|d| d.to_zoned_datetime(tz))
        .map_err(|e| crate::CoreError::invalid("timezone", e.to_string()))?;
    Ok((
        start.timestamp().as_millisecond(),
        end.timestamp().as_millisecond(),
    ))
}
