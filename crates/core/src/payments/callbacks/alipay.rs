//! Alipay asynchronous notifications (`POST /hooks/alipay`): RSA2-verified, matched to the
//! order (app_id, out_trade_no, amount), recorded; the reply `success` only after the commit.

use shopcast_payments::ProviderKind;
use shopcast_payments::alipay::notify;
use shopcast_payments::alipay::sign::AlipayPublicKey;

use crate::Shop;
use crate::error::{CoreError, Result};
use crate::money::Money;
use crate::payments::callbacks::{CallbackOutcome, notified_order};
use crate::payments::providers;

fn refused(message: String) -> CoreError {
    super::refused(ProviderKind::Alipay, message)
}

impl Shop {
    /// Records one Alipay notification: checked with the saved Alipay public key, then it
    /// must be for this shop's app, one of its charges and that order's amount, else it is
    /// `CallbackRefused` and nothing is stored. The event has the id the poll gives the same
    /// trade state, so retries, replays and a poll that saw it add nothing; the watcher keeps
    /// polling as the fallback. Any other error (the database) means "not recorded, retry":
    /// the server answers Alipay `success` only when this returned `Ok`.
    pub async fn record_alipay_notify(&self, form_body: &[u8]) -> Result<CallbackOutcome> {
        let settings = providers::load(&self.pool).await?;
        let saved = providers::saved_alipay_notify_key(&settings, &self.secrets)?;
        let (app_id, key_text) = saved.ok_or_else(|| {
            refused(
                "Alipay is not set up here (or its public key is gone from the keychain), \
                     so no notification can be checked: connect Alipay in Settings → Payments \
                     or with `shopcast providers add alipay`."
                    .into(),
            )
        })?;
        let alipay_key = AlipayPublicKey::parse(&key_text).map_err(|error| {
            refused(format!(
                "The saved Alipay public key cannot check notifications: {error}"
            ))
        })?;
        let notified = notify::verify(form_body, &alipay_key).map_err(|error| {
            refused(format!(
                "This Alipay notification was refused and nothing was recorded: {error}"
            ))
        })?;
        if notified.app_id != app_id {
            return Err(refused(format!(
                "This Alipay notification is for app {}, not this shop's app {app_id}; nothing \
                 was recorded.",
                notified.app_id
            )));
        }
        let paid = Money {
            amount_minor: notified.total_amount_minor,
            currency: "CNY".into(),
        };
        let order = notified_order(
            &self.pool,
            ProviderKind::Alipay,
            &notified.out_trade_no,
            &paid,
        )
        .await?;
        // None: the buyer opened the payment page, nothing to record yet.
        let event = notified.event(Some(&order.order_ref));
        self.record_notified(ProviderKind::Alipay, event).await
    }
}
