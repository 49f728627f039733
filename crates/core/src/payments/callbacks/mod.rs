//! Provider callbacks that reach the shop page (Stripe webhooks, Alipay notify): verified by
//! the provider's adapter, then fed to the same idempotent ingest as the watchers' polls.

mod alipay;
mod stripe;
mod wechat;

use shopcast_payments::{ProviderEvent, ProviderKind};
use sqlx::AnyPool;

use crate::Shop;
use crate::error::{CoreError, Result};
use crate::money::Money;
use crate::payments::store::orders;
use crate::payments::till::{self, Order};
use crate::payments::watcher::provider_name;

/// What one verified callback did to the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackOutcome {
    /// Payments it recorded or moved on (0 for a retry or a replay).
    pub recorded: usize,
    /// Events it carried that concern no order of ours or no payment (acknowledged, kept out).
    pub ignored: usize,
}

/// The order whose `kind` trade `out_trade_no` a notification is about, when it charged
/// exactly `paid` (CNY fen for Alipay and WeChat Pay); otherwise `CallbackRefused` in words.
/// Found whatever the charge's status now: a notification may come after it expired.
pub(crate) async fn notified_order(
    pool: &AnyPool,
    kind: ProviderKind,
    out_trade_no: &str,
    paid: &Money,
) -> Result<Order> {
    let name = provider_name(kind);
    let refused = |message: String| refused(kind, message);
    let order_id = orders::order_of_charge(pool, kind, out_trade_no)
        .await?
        .ok_or_else(|| {
            refused(format!(
                "This {name} notification is about trade {out_trade_no}, which no order of \
                 this shop has; nothing was recorded."
            ))
        })?;
    let order = till::get_order(pool, order_id).await?;
    if order.total != *paid {
        return Err(refused(format!(
            "This {name} notification says trade {out_trade_no} is for {}, but order {} is for \
             {} {}; nothing was recorded.",
            match paid.currency.as_str() {
                "CNY" => format!("¥{}", paid.to_decimal_string()),
                other => format!("{} {other}", paid.to_decimal_string()),
            },
            order.order_ref,
            order.total.to_decimal_string(),
            order.total.currency,
        )));
    }
    Ok(order)
}

/// A notification refused in words: nothing was recorded, the provider is told it failed.
pub(crate) fn refused(kind: ProviderKind, message: String) -> CoreError {
    CoreError::CallbackRefused {
        provider: kind.as_str(),
        message,
    }
}

impl Shop {
    /// The end of every verified callback: its event (none when the trade has not settled)
    /// ingested as a poll would, which publishes the live update; no cursor moves (these
    /// providers are polled per charge).
    pub(crate) async fn record_notified(
        &self,
        kind: ProviderKind,
        event: Option<ProviderEvent>,
    ) -> Result<CallbackOutcome> {
        let Some(event) = event else {
            return Ok(CallbackOutcome {
                recorded: 0,
                ignored: 1,
            });
        };
        let report = self.payments.ingest(kind, &[event], None).await?;
        Ok(CallbackOutcome {
            recorded: report.changed.len(),
            ignored: 0,
        })
    }
}
