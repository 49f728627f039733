//! The till's charges through the connected providers: a QR per sale, cancelling, cash and
//! bank-QR sales marked by hand, refunds, and the reusable links printed on signs and posts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use shopcast_payments::{
    ChargeLine, ChargeRequest, PaymentProvider, PaymentStatus, ProviderEvent, ProviderKind,
    RefundRequest, WebCheckout,
};

use super::ledger::{self, Payment};
use super::store::orders;
use super::till::{self, Order};
use super::watcher::{ChargeView, Payments, provider_error, withdrawn};
use crate::error::{CoreError, Result};
use crate::money::Money;

/// The field of the conflict reported for a charge made at the provider that may still be
/// payable although Shopcast could not record it (its order must not be cancelled blindly).
pub(crate) const CHARGE_LIVE: &str = "charge";

impl Payments {
    /// Each product's reusable link at the connected link provider (untagged), made on first
    /// use and kept for as long as the product's name and price stay the same.
    pub async fn reusable_links(
        &self,
        provider: Option<Arc<dyn PaymentProvider>>,
        products: &[crate::Product],
    ) -> Result<(HashMap<i64, String>, Option<Arc<dyn PaymentProvider>>)> {
        let Some(provider) = provider else {
            return Ok((HashMap::new(), None));
        };
        let pool = &self.inner.pool;
        let kind = provider.kind();
        let mut links = HashMap::new();
        for product in products {
            let cached = super::store::cached_link(pool, product, kind).await?;
            if let Some(url) = cached {
                links.insert(product.id, url);
                continue;
            }
            let request = shopcast_payments::stripe::PaymentLinkProduct {
                name: product.name.clone(),
                unit_amount_minor: product.price.amount_minor,
                currency: product.price.currency.clone(),
                sku: product
                    .sku
                    .clone()
                    .unwrap_or_else(|| format!("id-{}", product.id)),
            };
            let Some(link) = provider
                .reusable_link(&request)
                .await
                .map_err(provider_error)?
            else {
                return Ok((HashMap::new(), None));
            };
            super::store::keep_link(pool, product, kind, &link.id, &link.url).await?;
            links.insert(product.id, link.url);
        }
        Ok((links, Some(provider)))
    }

    /// Asks `kind` for a QR for `order` and records the charge.
    pub async fn start_charge(
        &self,
        order_id: i64,
        kind: ProviderKind,
        shop_name: &str,
        lifetime: Duration,
    ) -> Result<ChargeView> {
        self.charge(order_id, kind, shop_name, lifetime, None).await
    }

    /// Like [`Payments::start_charge`], for a buyer on the shop page: the provider's page
    /// sends them back to `web.return_url` (the charge's `qr_payload` is where to send them).
    pub async fn start_web_charge(
        &self,
        order_id: i64,
        kind: ProviderKind,
        shop_name: &str,
        lifetime: Duration,
        web: WebCheckout,
    ) -> Result<ChargeView> {
        self.charge(order_id, kind, shop_name, lifetime, Some(web))
            .await
    }

    async fn charge(
        &self,
        order_id: i64,
        kind: ProviderKind,
        shop_name: &str,
        lifetime: Duration,
        web: Option<WebCheckout>,
    ) -> Result<ChargeView> {
        let (order, provider) = self.ready_to_charge(order_id, kind).await?;
        let request = charge_request(&order, shop_name, expires_in(lifetime), web);
        let charge = provider
            .create_charge(&request)
            .await
            .map_err(provider_error)?;
        // The return address opens the buyer's receipt, and the shop keeps only its token's
        // hash: the provider's echo of it (a Checkout Session's success_url, the return_url
        // inside a signed Alipay address) is not stored. The buyer is sent to the real one.
        // (`raw` is cleaned the same way when it is stored.)
        let stored = shopcast_payments::Charge {
            qr_payload: super::web::without_receipt_tokens(&charge.qr_payload).into_owned(),
            ..charge.clone()
        };
        self.keep_new_charge(&order, provider.as_ref(), &stored)
            .await?;
        self.charge_view(order_id, kind, &charge).await
    }

    /// The order, if it can still be paid, and the provider to charge it at; any QR still
    /// on screen for it is withdrawn first (a new charge replaces it).
    pub(super) async fn ready_to_charge(
        &self,
        order_id: i64,
        kind: ProviderKind,
    ) -> Result<(Order, Arc<dyn PaymentProvider>)> {
        let pool = &self.inner.pool;
        let order = till::get_order(pool, order_id).await?;
        if !matches!(
            order.status.as_str(),
            "open" | "awaiting_payment" | "expired"
        ) {
            return Err(CoreError::Conflict {
                field: "order",
                message: format!("This order is {}; start a new sale.", order.status),
            });
        }
        let provider = self.provider(kind)?;
        if let Some((old_kind, open)) = till::open_charge_of(pool, order_id).await? {
            // A QR whose provider is not connected here cannot be withdrawn: it stays open
            // and watched (a customer may still pay it), and no second charge is made.
            let old = self.provider(old_kind).map_err(|_| CoreError::Conflict {
                field: "order",
                message: format!(
                    "This order's QR is still payable at {name}, which is not connected here, \
                     so it cannot be withdrawn: connect {name} again (or wait until the QR \
                     expires) before charging the order another way.",
                    name = super::watcher::provider_name(old_kind)
                ),
            })?;
            withdrawn(old.cancel(&open).await)?;
            orders::withdraw_charge(pool, old_kind, &open.charge_ref).await?;
        }
        Ok((order, provider))
    }

    /// Stores `charge` as the order's open charge (watched until paid, failed or expired).
    pub(super) async fn record_open_charge(
        &self,
        order: &Order,
        kind: ProviderKind,
        charge: &shopcast_payments::Charge,
    ) -> Result<()> {
        // A test charge belongs to this run's checkout (no other process can take it).
        let test_run = (kind == ProviderKind::Test).then(|| self.inner.test_mode.run_id());
        till::record_charge(
            &self.inner.pool,
            order.id,
            kind,
            &order.total,
            charge,
            test_run,
        )
        .await?;
        Ok(())
    }

    /// Records a charge the provider has just made. When it cannot be stored (tried twice,
    /// unless the order has closed meanwhile) it is withdrawn at the provider at once, so no
    /// payable charge goes unwatched; the error says whether that worked ([`CHARGE_LIVE`]
    /// when it may still be paid).
    pub(super) async fn keep_new_charge(
        &self,
        order: &Order,
        provider: &dyn PaymentProvider,
        charge: &shopcast_payments::Charge,
    ) -> Result<()> {
        let kind = provider.kind();
        let mut error = match self.record_open_charge(order, kind, charge).await {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        if !matches!(error, CoreError::Conflict { .. }) {
            tracing::warn!(%error, order = %order.order_ref, "a new charge was not stored; trying again");
            error = match self.record_open_charge(order, kind, charge).await {
                Ok(()) => return Ok(()),
                Err(error) => error,
            };
        }
        let open = shopcast_payments::OpenCharge {
            charge_ref: charge.charge_ref.clone(),
            order_ref: order.order_ref.clone(),
            amount_minor: order.total.amount_minor,
            currency: order.total.currency.clone(),
            expires_at: charge.expires_at,
        };
        let name = super::watcher::provider_name(kind);
        let why = match &error {
            CoreError::Conflict { message, .. } => message.trim_end_matches('.').to_string(),
            other => format!("Shopcast could not save it ({other})"),
        };
        Err(match provider.cancel(&open).await {
            Ok(()) | Err(shopcast_payments::ProviderError::Rejected { .. }) => {
                CoreError::Conflict {
                    field: "order",
                    message: format!(
                        "{why}: the charge for {order_ref} was withdrawn at {name}, so nothing is charged.",
                        order_ref = order.order_ref
                    ),
                }
            }
            Err(withdrawal) => CoreError::Conflict {
                field: CHARGE_LIVE,
                message: format!(
                    "{why}, and withdrawing it at {name} failed ({withdrawal}): the charge for \
                     {order_ref} ({charge_ref}) may still be live. Check it at {name} and refund \
                     or withdraw it there.",
                    order_ref = order.order_ref,
                    charge_ref = charge.charge_ref,
                ),
            },
        })
    }

    /// What the till shows for `charge` of the order: the QR, large (none for a scanned
    /// payment code), and when it expires.
    pub(super) async fn charge_view(
        &self,
        order_id: i64,
        kind: ProviderKind,
        charge: &shopcast_payments::Charge,
    ) -> Result<ChargeView> {
        let qr_svg = if charge.qr_payload.is_empty() {
            String::new()
        } else {
            let matrix = shopcast_print::qr::QrCode::encode(
                charge.qr_payload.as_bytes(),
                shopcast_print::qr::EcLevel::M,
            )?;
            shopcast_print::qr::to_svg(&matrix, 4)
        };
        Ok(ChargeView {
            order: till::get_order(&self.inner.pool, order_id).await?,
            provider: kind.as_str().to_string(),
            charge_ref: charge.charge_ref.clone(),
            qr_payload: charge.qr_payload.clone(),
            qr_svg,
            expires_at: charge.expires_at.as_millisecond(),
            test: kind == ProviderKind::Test,
        })
    }

    /// Withdraws the order's QR and cancels the order.
    pub async fn cancel_order(&self, order_id: i64) -> Result<Order> {
        if let Some((kind, open)) = till::open_charge_of(&self.inner.pool, order_id).await?
            && let Ok(provider) = self.provider(kind)
        {
            // Not cancelled while the QR is still live at the provider: a customer who scanned
            // it could pay an order that says "cancelled", and the payment would be missed.
            withdrawn(provider.cancel(&open).await)?;
        }
        let order = till::cancel_order(&self.inner.pool, order_id).await?;
        self.publish_order(&order);
        Ok(order)
    }

    /// Records an order as paid in cash or by a static bank QR the owner has checked.
    pub async fn mark_paid_manually(&self, order_id: i64, method: &str) -> Result<Payment> {
        let method = manual_method(method)?;
        let pool = &self.inner.pool;
        let order = till::get_order(pool, order_id).await?;
        if matches!(order.status.as_str(), "paid" | "review" | "cancelled") {
            return Err(CoreError::Conflict {
                field: "order",
                message: format!("This order is already {}.", order.status),
            });
        }
        // Withdraw any QR still on screen so it cannot be paid a second time.
        if let Some((kind, open)) = till::open_charge_of(pool, order_id).await?
            && let Ok(provider) = self.provider(kind)
        {
            withdrawn(provider.cancel(&open).await)?;
            orders::withdraw_open_charges(pool, order_id).await?;
        }
        let report = self
            .ingest(ProviderKind::Manual, &[manual_event(&order, method)], None)
            .await?;
        let id = *report.changed.first().ok_or_else(|| CoreError::Conflict {
            field: "order",
            message: "This order was already marked paid.".into(),
        })?;
        ledger::get(pool, id).await
    }

    /// A till sale paid on the spot (`method` as [`Payments::mark_paid_manually`] takes it):
    /// the order, its payment and the stock it takes are one transaction, and no one else
    /// can have put a QR on an order that did not exist.
    pub(crate) async fn sell_paid_manually(
        &self,
        draft: &till::OrderDraft,
        settings: &crate::settings::ShopSettings,
        known: Option<&till::ProductFacts>,
        method: &str,
    ) -> Result<(Order, Payment)> {
        let method = manual_method(method)?;
        let pool = &self.inner.pool;
        let (order, report) = till::create_paid_order(
            pool,
            draft,
            settings,
            known,
            &|order| manual_event(order, method),
            self.announcer(),
        )
        .await?;
        self.published(&report).await?;
        let id = *report.changed.first().ok_or_else(|| CoreError::Conflict {
            field: "order",
            message: "This order was already marked paid.".into(),
        })?;
        let payment = match report.written.into_iter().find(|p| p.id == id) {
            Some(payment) => payment,
            None => ledger::get(pool, id).await?,
        };
        Ok((order, payment))
    }

    /// Refunds `amount_minor` of a payment (all that is left when `None`).
    pub async fn refund(&self, payment_id: i64, amount_minor: Option<i64>) -> Result<Payment> {
        let pool = &self.inner.pool;
        let payment = ledger::get(pool, payment_id).await?;
        let left = payment.amount.amount_minor - payment.refunded_minor;
        if payment.status != "paid" || left <= 0 {
            return Err(CoreError::Conflict {
                field: "amount",
                message: "Only a paid payment with something left to refund can be refunded."
                    .into(),
            });
        }
        let amount = amount_minor.unwrap_or(left);
        if amount <= 0 || amount > left {
            return Err(CoreError::invalid(
                "amount",
                format!(
                    "Refund between {} and {}.",
                    Money {
                        amount_minor: 1.min(left),
                        currency: payment.amount.currency.clone()
                    }
                    .to_decimal_string(),
                    Money {
                        amount_minor: left,
                        currency: payment.amount.currency.clone()
                    }
                    .to_decimal_string()
                ),
            ));
        }
        let kind = payment.provider;
        // Our refund id: stable for this payment and refunded-so-far, so a retried click
        // cannot refund twice (the provider de-duplicates on it).
        let refund_ref = format!("R-{}-{}", payment.id, payment.refunded_minor);
        let (refund_id, total, raw) = if kind == ProviderKind::Manual {
            let total = payment.refunded_minor + amount;
            (
                refund_ref.clone(),
                total,
                serde_json::json!({ "refunded_minor": total }).to_string(),
            )
        } else {
            let charge_ref = orders::charge_ref_of_payment(pool, payment.id).await?;
            let refund = self
                .provider(kind)?
                .refund(&RefundRequest {
                    provider_ref: payment.provider_ref.clone(),
                    charge_ref,
                    amount_minor: amount,
                    currency: payment.amount.currency.clone(),
                    refund_ref: refund_ref.clone(),
                    reason: None,
                })
                .await
                .map_err(provider_error)?;
            let total = refund
                .refunded_total_minor
                .unwrap_or(payment.refunded_minor + refund.amount_minor);
            (refund.refund_id, total, refund.raw)
        };
        let status = if total >= payment.amount.amount_minor {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::Paid
        };
        let event = ProviderEvent {
            event_id: format!("refund:{refund_id}"),
            provider_ref: payment.provider_ref.clone(),
            order_ref: None,
            charge_ref: None,
            status,
            amount_minor: payment.amount.amount_minor,
            currency: payment.amount.currency.clone(),
            refunded_total_minor: Some(total),
            method: None,
            source_tag: None,
            occurred_at: jiff::Timestamp::now(),
            raw,
        };
        self.ingest(kind, &[event], None).await?;
        ledger::get(pool, payment_id).await
    }
}

/// `lifetime` from now.
pub(super) fn expires_in(lifetime: Duration) -> jiff::Timestamp {
    jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::try_from(lifetime).unwrap_or_default())
        .unwrap_or_else(|_| jiff::Timestamp::now())
}

/// What a provider is asked to charge for `order`: its total, lines, subject and where the
/// sale came from.
pub(super) fn charge_request(
    order: &Order,
    shop_name: &str,
    expires_at: jiff::Timestamp,
    web: Option<WebCheckout>,
) -> ChargeRequest {
    ChargeRequest {
        order_ref: order.order_ref.clone(),
        amount_minor: order.total.amount_minor,
        currency: order.total.currency.clone(),
        subject: order.subject(shop_name),
        lines: order
            .lines
            .iter()
            .map(|l| ChargeLine {
                name: l.name.clone(),
                quantity: u32::try_from(l.quantity).unwrap_or(1),
                unit_amount_minor: l.unit_price.amount_minor,
            })
            .collect(),
        expires_at,
        source_tag: Some(match (&order.channel, &order.source_ref) {
            (ledger::SalesChannel::Signage, Some(batch)) => format!("sign-{batch}"),
            (ledger::SalesChannel::Post, Some(post)) => format!("post-{post}"),
            (ledger::SalesChannel::Share, Some(order)) => format!("share-{order}"),
            (ledger::SalesChannel::Till, _) => "till".to_string(),
            _ => "link".to_string(),
        }),
        web,
    }
}

/// The ways the owner takes a payment in person.
fn manual_method(method: &str) -> Result<&str> {
    match method {
        "cash" | "bank_transfer" | "bank_qr" | "card_terminal" | "other" => Ok(method),
        _ => Err(CoreError::invalid(
            "method",
            "Choose how the customer paid.",
        )),
    }
}

/// The event of an order paid in person, in full, now.
fn manual_event(order: &Order, method: &str) -> ProviderEvent {
    let now = jiff::Timestamp::now();
    ProviderEvent {
        event_id: format!("manual:{}:paid", order.order_ref),
        provider_ref: format!("order-{}", order.order_ref),
        order_ref: Some(order.order_ref.clone()),
        charge_ref: None,
        status: PaymentStatus::Paid,
        amount_minor: order.total.amount_minor,
        currency: order.total.currency.clone(),
        refunded_total_minor: None,
        method: Some(method.to_string()),
        source_tag: None,
        occurred_at: now,
        raw: serde_json::json!({ "method": method, "marked_at": now.to_string() }).to_string(),
    }
}
