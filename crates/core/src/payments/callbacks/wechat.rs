//! WeChat Pay notifications (`POST /hooks/wechat`): signature checked with WeChat Pay's keys,
//! resource decrypted with the APIv3 key, matched to the order, recorded as the poll records it.

use std::sync::Arc;

use shopcast_payments::wechat::WechatProvider;
use shopcast_payments::wechat::notify::read_notification;
use shopcast_payments::wechat::sign::{MAX_CLOCK_SKEW, SignedHeaders};
use shopcast_payments::wechat::wire::{self, Transaction};
use shopcast_payments::{ProviderError, ProviderKind};

use crate::Shop;
use crate::error::{CoreError, Result};
use crate::money::Money;
use crate::payments::callbacks::{CallbackOutcome, notified_order};
use crate::payments::providers;

/// The only notification that records a payment; refunds are followed by polling.
const PAID: &str = "TRANSACTION.SUCCESS";

fn refused(message: String) -> CoreError {
    super::refused(ProviderKind::Wechat, message)
}

impl Shop {
    /// Records one WeChat Pay notification: checked with the saved WeChat Pay public key (or
    /// platform certificates) and opened with the APIv3 key, then it must be for this shop's
    /// merchant and app, one of its charges and that order's amount, else it is
    /// `CallbackRefused` and nothing is stored. The event has the id the poll gives the same
    /// trade state, so retries and a poll that saw it add nothing. Other event types
    /// (REFUND.*) are acknowledged and not recorded. Any other error (the database) means
    /// "not recorded, retry": the server answers 204 only when this returned `Ok`.
    pub async fn record_wechat_notify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<CallbackOutcome> {
        let wechat = self.notified_wechat().await?;
        // A stale or future timestamp is refused before any certificate is fetched for it.
        let verified = SignedHeaders::from_headers(headers)
            .and_then(|signed| fresh(&signed, jiff::Timestamp::now()).map(|()| signed));
        // An account on platform certificates signs with a serial the saved keys may not
        // know yet: the provider fetches the certificates then (at most once a minute).
        let verified = match verified {
            Ok(signed) => match wechat.verifiers_for(&signed.serial).await {
                Ok(verifiers) => read_notification(
                    &signed,
                    body,
                    &verifiers,
                    wechat.apiv3_key(),
                    jiff::Timestamp::now(),
                ),
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        };
        let notification = verified.map_err(|error| {
            refused(format!(
                "This WeChat Pay notification was refused and nothing was recorded: {error}."
            ))
        })?;
        if notification.event_type != PAID {
            return Ok(CallbackOutcome {
                recorded: 0,
                ignored: 1,
            });
        }
        let transaction: Transaction =
            serde_json::from_str(&notification.resource).map_err(|error| {
                refused(format!(
                    "This WeChat Pay notification's payment could not be read ({error}); nothing \
                     was recorded."
                ))
            })?;
        let mchid = transaction.mchid.as_deref().unwrap_or_default();
        let appid = transaction.appid.as_deref().unwrap_or_default();
        if mchid != wechat.mchid() || appid != wechat.appid() {
            return Err(refused(format!(
                "This WeChat Pay notification is for merchant {mchid:?} (app {appid:?}), not \
                 this shop's merchant {} (app {}); nothing was recorded.",
                wechat.mchid(),
                wechat.appid(),
            )));
        }
        let amount = transaction.amount.as_ref();
        let (Some(out_trade_no), Some(total)) = (
            transaction
                .out_trade_no
                .as_deref()
                .filter(|n| !n.is_empty()),
            amount.and_then(|a| a.total),
        ) else {
            return Err(refused(
                "This WeChat Pay notification names no trade or amount; nothing was recorded."
                    .into(),
            ));
        };
        let paid = Money {
            amount_minor: total,
            // WeChat Pay's documented default (and the only currency the till charges in).
            currency: amount
                .and_then(|a| a.currency.clone())
                .unwrap_or_else(|| "CNY".into()),
        };
        let order = notified_order(&self.pool, ProviderKind::Wechat, out_trade_no, &paid).await?;
        let event = wire::transaction_event(
            &transaction,
            Some(order.order_ref.clone()),
            notification.resource,
        )
        .map_err(|error| {
            refused(format!(
                "This WeChat Pay notification was refused and nothing was recorded: {error}."
            ))
        })?;
        // None: not settled yet (NOTPAY, USERPAYING), nothing to record.
        self.record_notified(ProviderKind::Wechat, event).await
    }
}

impl Shop {
    /// The connected WeChat Pay provider (its certificates and their once-a-minute fetch
    /// limit); built from the keychain only when WeChat Pay is not connected here.
    async fn notified_wechat(&self) -> Result<Arc<WechatProvider>> {
        if let Some(connected) = self
            .payments
            .provider(ProviderKind::Wechat)
            .ok()
            .as_ref()
            .and_then(providers::wechat_instance)
        {
            return Ok(connected);
        }
        let settings = providers::load(&self.pool).await?;
        let public_url = self.settings().await?.public_url;
        providers::saved_wechat(&settings, &self.secrets, &public_url)
            .map(Arc::new)
            .ok_or_else(|| {
                refused(
                    "WeChat Pay is not set up here (or its keys are gone from the keychain), so \
                     no notification can be checked: connect WeChat Pay in Settings → Payments \
                     or with `shopcast providers add wechat`."
                        .into(),
                )
            })
    }
}

/// The notification's Wechatpay-Timestamp within [`MAX_CLOCK_SKEW`] of `now`, either way.
fn fresh(signed: &SignedHeaders, now: jiff::Timestamp) -> std::result::Result<(), ProviderError> {
    let skew = signed
        .timestamp
        .trim()
        .parse::<i64>()
        .ok()
        .map(|at| (now.as_second() - at).abs());
    match skew {
        Some(skew) if skew <= MAX_CLOCK_SKEW.as_secs() => Ok(()),
        _ => Err(ProviderError::BadSignature {
            provider: ProviderKind::Wechat,
            detail: format!(
                "its timestamp {:?} is more than 5 minutes from this computer's clock",
                signed.timestamp
            ),
        }),
    }
}
