//! The till's "Scan customer's code": the payment code (付款码) on the customer's phone, read
//! by the scanner, charged at the provider its prefix names, recorded paid or watched until it settles.

use std::time::Duration;

use serde::Serialize;
use shopcast_payments::{Charge, CodeCharge, ProviderError, ProviderEvent, ProviderKind};

use super::charges::{charge_request, expires_in};
use super::ledger::{self, Payment};
use super::store::orders;
use super::till::{self, Order};
use super::watcher::{ChargeView, Payments, PollError, provider_error, provider_name, withdrawn};
use crate::Shop;
use crate::error::{CoreError, Result};

/// How long a customer has to confirm a payment code on the phone before the till gives up
/// and the provider withdraws it (Alipay `trade.cancel`, WeChat Pay `reverse`).
pub const CODE_WAIT: Duration = Duration::from_secs(60);

/// How long a headless wait keeps polling a charge paid just as it gave up, to record it.
const JUST_PAID_GRACE: Duration = Duration::from_secs(15);

/// What scanning a customer's payment code did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CodePayment {
    pub provider: ProviderKind,
    /// The open (or just paid) charge, with its order; no QR.
    pub charge: ChargeView,
    /// The payment, when the customer paid on the spot.
    pub payment: Option<Payment>,
    /// The customer is confirming on the phone: the payment arrives as a live update, or
    /// the charge is withdrawn after [`CODE_WAIT`].
    pub waiting: bool,
}

/// Whose payment code `typed` is, and its digits; a plain sentence (field `authCode`) when
/// it is nobody's.
pub(crate) fn code_provider(typed: &str) -> Result<(ProviderKind, String)> {
    shopcast_payments::payment_code::provider_of(typed)
        .map_err(|error| CoreError::invalid("authCode", error.to_string()))
}

impl Payments {
    /// How long a payment code waits for the customer (tests shorten it).
    pub fn set_code_wait(&self, wait: Duration) {
        *self.inner.code_wait.lock().expect("lock") = wait;
    }

    fn code_wait(&self) -> Duration {
        *self.inner.code_wait.lock().expect("lock")
    }

    /// Charges the payment code `auth_code` (digits, `kind`'s) for the order.
    pub async fn charge_code(
        &self,
        order_id: i64,
        kind: ProviderKind,
        auth_code: &str,
        shop_name: &str,
    ) -> Result<CodePayment> {
        if self.provider(kind).is_err() {
            return Err(CoreError::invalid(
                "authCode",
                format!(
                    "This is {a_code}, but {name} is not connected: connect it in Settings → \
                     Payments (or `shopcast providers add {kind}`), or choose another way to pay.",
                    a_code = a_code_of(kind),
                    name = provider_name(kind),
                ),
            ));
        }
        let (order, provider) = self.ready_to_charge(order_id, kind).await?;
        let request = charge_request(&order, shop_name, expires_in(self.code_wait()), None);
        let outcome = provider
            .charge_code(&request, auth_code)
            .await
            .map_err(|error| declined(kind, error))?;
        let (charge, event) = match outcome {
            CodeCharge::Paid { charge, event } => (charge, Some(event)),
            CodeCharge::Waiting { charge } => (charge, None),
        };
        // The customer's code is never kept, even where a reply echoes it.
        let event = event.map(|event| ProviderEvent {
            raw: without_code(&event.raw, auth_code),
            ..event
        });
        // Open until the ledger records its payment, so a failure below leaves it watched.
        let stored = Charge {
            qr_payload: String::new(),
            raw: without_code(&charge.raw, auth_code),
            ..charge
        };
        self.keep_new_charge(&order, provider.as_ref(), &stored)
            .await?;
        let payment = match event {
            Some(event) => Some(self.record_paid_code(&order, kind, event).await?),
            None => None,
        };
        Ok(CodePayment {
            provider: kind,
            charge: self.charge_view(order_id, kind, &stored).await?,
            waiting: payment.is_none(),
            payment,
        })
    }

    /// Records a code paid on the spot, trying twice; if that fails its charge stays open and
    /// watched, so the next poll records the payment (under the same event id).
    async fn record_paid_code(
        &self,
        order: &Order,
        kind: ProviderKind,
        event: ProviderEvent,
    ) -> Result<Payment> {
        let error = match self.paid_on_the_spot(kind, event.clone()).await {
            Ok(payment) => return Ok(payment),
            Err(error) => error,
        };
        tracing::warn!(%error, order = %order.order_ref, "a code's payment was not recorded; trying again");
        self.paid_on_the_spot(kind, event)
            .await
            .map_err(|error| CoreError::Conflict {
                field: super::charges::CHARGE_LIVE,
                message: format!(
                    "The customer paid {order_ref} with {a_code}, but Shopcast could not record \
                     it yet ({error}); it stays watched and is recorded by the next poll.",
                    order_ref = order.order_ref,
                    a_code = a_code_of(kind),
                ),
            })
    }

    /// Ingests a code's immediate payment as a poll would (same event id), and returns it.
    async fn paid_on_the_spot(&self, kind: ProviderKind, event: ProviderEvent) -> Result<Payment> {
        let provider_ref = event.provider_ref.clone();
        let report = self.ingest(kind, &[event], None).await?;
        match report.changed.first() {
            Some(id) => ledger::get(&self.inner.pool, *id).await,
            None => ledger::by_provider_ref(&self.inner.pool, kind, &provider_ref)
                .await?
                .ok_or_else(|| CoreError::not_found(format!("The payment {provider_ref}"))),
        }
    }

    /// Withdraws an order's open charge at its provider and marks it expired (the till gave
    /// up waiting); the order expires unless something else still waits to be paid.
    pub(super) async fn give_up(&self, order_id: i64) -> Result<()> {
        let pool = &self.inner.pool;
        let Some((kind, open)) = till::open_charge_of(pool, order_id).await? else {
            return Ok(());
        };
        // Never expired here while it may still be live at the provider.
        withdrawn(self.provider(kind)?.cancel(&open).await)?;
        for id in orders::expire_charges(pool, kind, std::slice::from_ref(&open.charge_ref)).await?
        {
            self.publish_order(&till::get_order(pool, id).await?);
        }
        Ok(())
    }
}

/// A provider reply with the customer's payment code blanked out (as the shop page does
/// with receipt tokens): a code read off a phone is a one-time bearer credential.
fn without_code(raw: &str, auth_code: &str) -> String {
    raw.replace(auth_code, "[payment code]")
}

/// "an Alipay payment code", "a WeChat Pay payment code".
pub(crate) fn a_code_of(kind: ProviderKind) -> String {
    let name = provider_name(kind);
    let article = if name.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name} payment code")
}

/// A code the provider refused outright (expired code, not enough balance) in the cashier's
/// words; other errors as any provider error.
fn declined(kind: ProviderKind, error: ProviderError) -> CoreError {
    match error {
        ProviderError::Rejected { message, raw, .. } => CoreError::Provider {
            code: "provider_rejected",
            message: format!(
                "{name} declined this payment code: {message}. Nothing was charged; scan the \
                 code again (the customer can refresh it) or choose another way to pay.",
                name = provider_name(kind),
                message = message.trim_end_matches(['.', '。']),
            ),
            raw: Some(raw),
        },
        other => provider_error(other),
    }
}

impl Shop {
    /// Detects the provider by the code's prefix (a plain sentence when neither, or when that
    /// provider is not connected), charges it, records an immediate payment; waiting → the
    /// open charge is watched like a QR (a [`super::PaymentUpdate`] when it settles) and
    /// withdrawn (cancel/reverse) after [`CODE_WAIT`].
    pub async fn charge_payment_code(&self, order_id: i64, auth_code: &str) -> Result<CodePayment> {
        let (kind, digits) = code_provider(auth_code)?;
        let settings = self.settings().await?;
        self.payments
            .charge_code(order_id, kind, &digits, &settings.name)
            .await
    }

    /// For headless use: polls the order's open charge once a second until it is paid,
    /// failed or expired (withdrawing it when `limit` is up); returns the order as it ends.
    pub async fn wait_for_payment(&self, order_id: i64, limit: Duration) -> Result<Order> {
        let mut deadline = tokio::time::Instant::now() + limit;
        let mut paid_late = false;
        loop {
            let Some((kind, _)) = till::open_charge_of(&self.pool, order_id).await? else {
                return self.order(order_id).await;
            };
            let provider = self.provider_for_sale(kind).await?;
            if tokio::time::Instant::now() >= deadline {
                match self.payments.give_up(order_id).await {
                    // Paid as the till gave up: keep polling a little until it is recorded.
                    Err(CoreError::Conflict { field, .. })
                        if field == super::watcher::JUST_PAID && !paid_late =>
                    {
                        paid_late = true;
                        deadline = tokio::time::Instant::now() + JUST_PAID_GRACE;
                        continue;
                    }
                    outcome => outcome?,
                }
                return self.order(order_id).await;
            }
            let cursor = ledger::cursor(&self.pool, kind).await?;
            match self
                .payments
                .poll_once(provider.as_ref(), cursor.as_deref())
                .await
            {
                Ok(_) => {}
                // The provider is having a bad moment: ask again next second.
                Err(PollError::Provider(error)) if error.is_retryable() => {
                    tracing::warn!(%error, provider = %kind, "poll failed while waiting for a payment");
                }
                Err(PollError::Provider(error)) => return Err(provider_error(error)),
                Err(PollError::Store(error)) => return Err(error),
            }
            if till::open_charge_of(&self.pool, order_id).await?.is_none() {
                return self.order(order_id).await;
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            tokio::time::sleep(left.min(Duration::from_secs(1))).await;
        }
    }
}
