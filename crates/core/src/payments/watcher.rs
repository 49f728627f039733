//! The payments service: the providers the shop has connected, one watcher task per
//! provider that polls it and feeds the ledger, and a broadcast of what changed (the desktop
//! shell forwards it to the window as events; `shopcast payments watch` prints it).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shopcast_payments::testmode::{CheckoutServer, TestMode};
use shopcast_payments::{
    ChargeLine, ChargeRequest, PaymentProvider, PaymentStatus, ProviderError, ProviderEvent,
    ProviderKind, RefundRequest,
};
use sqlx::SqlitePool;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::error::{CoreError, Result};
use crate::infra::now_ms;
use crate::money::Money;
use crate::payments::ledger::{self, IngestReport, Payment};
use crate::payments::till::{self, Order};

/// Longest wait between polls of a provider that keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Something the owner should see now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum PaymentUpdate {
    /// A payment was recorded or changed.
    Payment { payment: Payment },
    /// An order changed status (paid, review, expired…).
    Order {
        order_id: i64,
        order_ref: String,
        status: String,
    },
    /// A provider became unreachable or recovered.
    Health { health: ProviderHealth },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProviderHealth {
    pub provider: String,
    pub ok: bool,
    /// When it started failing (UTC ms), while it fails.
    pub failing_since: Option<i64>,
    /// The last error in plain words.
    pub message: Option<String>,
    /// Stable code of the last error.
    pub code: Option<String>,
    /// When the watcher tries again (UTC ms).
    pub next_attempt_at: Option<i64>,
}

/// What the till shows while the customer pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ChargeView {
    pub order: Order,
    pub provider: String,
    pub charge_ref: String,
    /// The text inside the QR code.
    pub qr_payload: String,
    /// The QR as SVG, ready to show large.
    pub qr_svg: String,
    /// UTC ms.
    pub expires_at: i64,
    pub test: bool,
}

/// Test mode's `/p/<sku>` buy links: a visit creates an order for the product, attributed to
/// the sign or post in the link, and a test charge for it.
struct BuyLinkSales {
    payments: std::sync::Weak<Inner>,
}

#[async_trait::async_trait]
impl shopcast_payments::testmode::LinkSales for BuyLinkSales {
    async fn sale_for_link(
        &self,
        sku: &str,
        query: &HashMap<String, String>,
    ) -> std::result::Result<String, String> {
        let inner = self.payments.upgrade().ok_or("the shop is closing")?;
        let payments = Payments { inner };
        let pool = &payments.inner.pool;
        let product = crate::catalog::store::id_by_sku(pool, sku, false)
            .await
            .map_err(|e| e.to_string())?;
        let product = product.ok_or_else(|| format!("No product {sku} is for sale."))?;
        let (channel, source_ref) = match (query.get("src").map(String::as_str), query) {
            (Some("qr"), q) if q.contains_key("sign") => {
                (ledger::SalesChannel::Signage, q.get("sign").cloned())
            }
            (Some("post"), q) if q.contains_key("post") => {
                (ledger::SalesChannel::Post, q.get("post").cloned())
            }
            _ => (ledger::SalesChannel::Link, None),
        };
        let settings = crate::settings::load(pool)
            .await
            .map_err(|e| e.to_string())?;
        let minutes = crate::payments::providers::load(pool)
            .await
            .map(|p| p.qr_minutes)
            .unwrap_or(15);
        let order = till::create_order(
            pool,
            &till::OrderDraft {
                lines: vec![till::OrderLineDraft {
                    product_id: product,
                    quantity: 1,
                }],
                channel: Some(channel),
                source_ref,
                ..Default::default()
            },
            &settings.currency,
        )
        .await
        .map_err(|e| e.to_string())?;
        let charge = payments
            .start_charge(
                order.id,
                ProviderKind::Test,
                &settings.name,
                Duration::from_secs(u64::from(minutes) * 60),
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(charge.charge_ref)
    }
}

struct Watcher {
    task: JoinHandle<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Inner {
    pool: SqlitePool,
    providers: Mutex<HashMap<ProviderKind, Arc<dyn PaymentProvider>>>,
    watchers: Mutex<HashMap<ProviderKind, Watcher>>,
    health: Mutex<HashMap<ProviderKind, ProviderHealth>>,
    updates: broadcast::Sender<PaymentUpdate>,
    test_mode: TestMode,
    checkout: Mutex<Option<CheckoutServer>>,
    poll_interval: Mutex<Duration>,
}

/// Cheap to clone; all clones share the providers and watchers.
#[derive(Clone)]
pub struct Payments {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments").finish_non_exhaustive()
    }
}

impl Payments {
    pub(crate) fn new(pool: SqlitePool) -> Payments {
        let (updates, _) = broadcast::channel(1024);
        let format_amount = Arc::new(|minor: i64, currency: &str| {
            Money {
                amount_minor: minor,
                currency: currency.to_string(),
            }
            .format_local("en")
        });
        Payments {
            inner: Arc::new(Inner {
                pool,
                providers: Mutex::new(HashMap::new()),
                watchers: Mutex::new(HashMap::new()),
                health: Mutex::new(HashMap::new()),
                updates,
                test_mode: TestMode::new(format_amount),
                checkout: Mutex::new(None),
                poll_interval: Mutex::new(Duration::from_secs(1)),
            }),
        }
    }

    /// Live updates: payments recorded, orders paid, provider health.
    pub fn subscribe(&self) -> broadcast::Receiver<PaymentUpdate> {
        self.inner.updates.subscribe()
    }

    pub fn set_poll_interval(&self, interval: Duration) {
        *self.inner.poll_interval.lock().expect("lock") = interval.max(Duration::from_millis(50));
    }

    fn poll_interval(&self) -> Duration {
        *self.inner.poll_interval.lock().expect("lock")
    }

    pub fn test_mode(&self) -> &TestMode {
        &self.inner.test_mode
    }

    /// Starts test mode: its checkout page on `bind` and its watcher.
    pub async fn start_test_mode(
        &self,
        bind: SocketAddr,
        public_host: Option<&str>,
    ) -> Result<SocketAddr> {
        let server = self
            .inner
            .test_mode
            .serve(bind, public_host)
            .await
            .map_err(|source| {
                CoreError::io("start the test checkout page on", bind.to_string(), source)
            })?;
        let addr = server.addr;
        *self.inner.checkout.lock().expect("lock") = Some(server);
        self.inner.test_mode.set_link_sales(Arc::new(BuyLinkSales {
            payments: Arc::downgrade(&self.inner),
        }));
        self.connect(Arc::new(self.inner.test_mode.clone()));
        Ok(addr)
    }

    pub fn stop_test_mode(&self) {
        self.disconnect(ProviderKind::Test);
        self.inner.checkout.lock().expect("lock").take();
    }

    /// Connects (or replaces) a provider and starts watching it.
    pub fn connect(&self, provider: Arc<dyn PaymentProvider>) {
        let kind = provider.kind();
        self.inner
            .providers
            .lock()
            .expect("lock")
            .insert(kind, provider.clone());
        let task = tokio::spawn(watch(self.clone(), provider));
        self.inner
            .watchers
            .lock()
            .expect("lock")
            .insert(kind, Watcher { task });
    }

    pub fn disconnect(&self, kind: ProviderKind) {
        self.inner.watchers.lock().expect("lock").remove(&kind);
        self.inner.providers.lock().expect("lock").remove(&kind);
        self.inner.health.lock().expect("lock").remove(&kind);
    }

    pub fn connected(&self) -> Vec<ProviderKind> {
        let mut kinds: Vec<ProviderKind> = self
            .inner
            .providers
            .lock()
            .expect("lock")
            .keys()
            .copied()
            .collect();
        kinds.sort_by_key(|k| k.as_str());
        kinds
    }

    pub fn health(&self) -> Vec<ProviderHealth> {
        let mut all: Vec<ProviderHealth> = self
            .inner
            .health
            .lock()
            .expect("lock")
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.provider.cmp(&b.provider));
        all
    }

    fn provider(&self, kind: ProviderKind) -> Result<Arc<dyn PaymentProvider>> {
        self.inner
            .providers
            .lock()
            .expect("lock")
            .get(&kind)
            .cloned()
            .ok_or_else(|| CoreError::invalid("provider", format!("{kind} is not connected.")))
    }

    /// The provider whose reusable links sell products on signs and posts (Stripe Payment
    /// Links), if one is connected.
    pub fn link_provider(&self) -> Option<Arc<dyn PaymentProvider>> {
        self.inner
            .providers
            .lock()
            .expect("lock")
            .get(&ProviderKind::Stripe)
            .cloned()
    }

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
        // A new QR replaces the one on screen: withdraw the old one first.
        if let Some((old_kind, open)) = till::open_charge_of(pool, order_id).await? {
            // If the old QR cannot be withdrawn it stays watched: a customer may still pay it.
            if let Ok(old) = self.provider(old_kind) {
                withdrawn(old.cancel(&open).await)?;
            }
            sqlx::query(
                "UPDATE charges SET status = 'cancelled' WHERE charge_ref = ? AND provider = ?",
            )
            .bind(&open.charge_ref)
            .bind(old_kind.as_str())
            .execute(pool)
            .await?;
        }
        let expires_at = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::try_from(lifetime).unwrap_or_default())
            .unwrap_or_else(|_| jiff::Timestamp::now());
        let request = ChargeRequest {
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
                _ => "till".to_string(),
            }),
        };
        let charge = provider
            .create_charge(&request)
            .await
            .map_err(provider_error)?;
        till::record_charge(pool, order_id, kind, &order.total, &charge).await?;
        let matrix = shopcast_print::qr::QrCode::encode(
            charge.qr_payload.as_bytes(),
            shopcast_print::qr::EcLevel::M,
        )?;
        let qr_svg = shopcast_print::qr::to_svg(&matrix, 4);
        Ok(ChargeView {
            order: till::get_order(pool, order_id).await?,
            provider: kind.as_str().to_string(),
            charge_ref: charge.charge_ref,
            qr_payload: charge.qr_payload,
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
        let method = match method {
            "cash" | "bank_transfer" | "bank_qr" | "card_terminal" | "other" => method,
            _ => {
                return Err(CoreError::invalid(
                    "method",
                    "Choose how the customer paid.",
                ));
            }
        };
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
            sqlx::query(
                "UPDATE charges SET status = 'cancelled' WHERE order_id = ? AND status = 'open'",
            )
            .bind(order_id)
            .execute(pool)
            .await?;
        }
        let now = jiff::Timestamp::now();
        let event = ProviderEvent {
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
        };
        let report = self.ingest(ProviderKind::Manual, &[event], None).await?;
        let id = *report.changed.first().ok_or_else(|| CoreError::Conflict {
            field: "order",
            message: "This order was already marked paid.".into(),
        })?;
        ledger::get(pool, id).await
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
        let kind = ProviderKind::parse(&payment.provider).ok_or_else(|| CoreError::NotFound {
            what: format!("Provider {}", payment.provider),
        })?;
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
            let charge_ref: Option<String> = sqlx::query_scalar(
                "SELECT c.charge_ref FROM payments p JOIN charges c ON c.id = p.charge_id WHERE p.id = ?",
            )
            .bind(payment.id)
            .fetch_optional(pool)
            .await?;
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

    /// Stores events and tells subscribers what changed.
    pub async fn ingest(
        &self,
        kind: ProviderKind,
        events: &[ProviderEvent],
        cursor: Option<&str>,
    ) -> Result<IngestReport> {
        let report = ledger::ingest(&self.inner.pool, kind, events, cursor).await?;
        if self.inner.updates.receiver_count() > 0 {
            for payment in ledger::get_many(&self.inner.pool, &report.changed).await? {
                let _ = self.inner.updates.send(PaymentUpdate::Payment { payment });
            }
            for (order_id, _) in &report.orders {
                if let Ok(order) = till::get_order(&self.inner.pool, *order_id).await {
                    self.publish_order(&order);
                }
            }
        }
        Ok(report)
    }

    fn publish_order(&self, order: &Order) {
        let _ = self.inner.updates.send(PaymentUpdate::Order {
            order_id: order.id,
            order_ref: order.order_ref.clone(),
            status: order.status.clone(),
        });
    }

    fn set_health(&self, kind: ProviderKind, health: ProviderHealth) {
        let changed = {
            let mut all = self.inner.health.lock().expect("lock");
            let before = all.insert(kind, health.clone());
            before.as_ref().map(|b| (b.ok, &b.message)) != Some((health.ok, &health.message))
        };
        if changed {
            let _ = self.inner.updates.send(PaymentUpdate::Health { health });
        }
    }

    /// One poll of one provider: fetch, store, publish. Used by the watcher and by
    /// `payments watch --once`.
    pub async fn poll_once(
        &self,
        provider: &dyn PaymentProvider,
        cursor: Option<&str>,
    ) -> std::result::Result<(IngestReport, Option<String>), PollError> {
        let kind = provider.kind();
        let open = till::open_charges(&self.inner.pool, kind).await?;
        let outcome = provider.poll(cursor, &open).await?;
        let next = outcome
            .cursor
            .clone()
            .or_else(|| cursor.map(str::to_string));
        let report = self
            .ingest(kind, &outcome.events, outcome.cursor.as_deref())
            .await?;
        Ok((report, next))
    }
}

/// Why a poll did not complete.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Store(#[from] CoreError),
}

impl From<sqlx::Error> for PollError {
    fn from(error: sqlx::Error) -> Self {
        PollError::Store(error.into())
    }
}

/// Whether a QR is gone at the provider. A refusal means it is already closed there (expired
/// or completed — a completed one's payment still arrives and is recorded); an unreachable
/// provider means it may still be live, so nothing is changed and the owner tries again.
fn withdrawn(result: std::result::Result<(), ProviderError>) -> Result<()> {
    match result {
        Ok(()) | Err(ProviderError::Rejected { .. }) => Ok(()),
        Err(error) => Err(withdraw_error(error)),
    }
}

fn withdraw_error(error: ProviderError) -> CoreError {
    CoreError::Provider {
        code: error.code(),
        message: format!(
            "The QR on screen could not be withdrawn, so the customer could still pay it ({error}). Try again in a moment."
        ),
        raw: None,
    }
}

pub(crate) fn provider_error(error: ProviderError) -> CoreError {
    CoreError::Provider {
        code: error.code(),
        message: error.to_string(),
        raw: match &error {
            ProviderError::Rejected { raw, .. } => Some(raw.clone()),
            ProviderError::Server { body, .. } => Some(body.clone()),
            _ => None,
        },
    }
}

/// Polls `provider` until the watcher is dropped: at the poll interval while it answers,
/// backing off (doubling, at most 30 s, or as long as it asks) while it fails.
async fn watch(payments: Payments, provider: Arc<dyn PaymentProvider>) {
    let kind = provider.kind();
    let mut cursor = ledger::cursor(&payments.inner.pool, kind)
        .await
        .ok()
        .flatten();
    let mut failures: u32 = 0;
    let mut failing_since: Option<i64> = None;
    loop {
        let delay = match payments
            .poll_once(provider.as_ref(), cursor.as_deref())
            .await
        {
            Ok((_, next)) => {
                cursor = next;
                failures = 0;
                if failing_since.take().is_some() {
                    tracing::info!(provider = %kind, "provider reachable again");
                }
                payments.set_health(
                    kind,
                    ProviderHealth {
                        provider: kind.as_str().into(),
                        ok: true,
                        failing_since: None,
                        message: None,
                        code: None,
                        next_attempt_at: None,
                    },
                );
                payments.poll_interval()
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                let since = *failing_since.get_or_insert_with(now_ms);
                let (code, message, asked) = match &error {
                    PollError::Provider(e) => (e.code(), e.to_string(), e.retry_after()),
                    PollError::Store(e) => (e.code().as_str(), e.to_string(), None),
                };
                let backoff = payments
                    .poll_interval()
                    .saturating_mul(2u32.saturating_pow(failures.min(8)))
                    .min(MAX_BACKOFF);
                let delay = asked.unwrap_or(backoff).max(payments.poll_interval());
                tracing::warn!(provider = %kind, code, failures, "poll failed; retrying in {delay:?}");
                payments.set_health(
                    kind,
                    ProviderHealth {
                        provider: kind.as_str().into(),
                        ok: false,
                        failing_since: Some(since),
                        message: Some(message),
                        code: Some(code.into()),
                        next_attempt_at: Some(now_ms() + delay.as_millis() as i64),
                    },
                );
                delay
            }
        };
        if kind == ProviderKind::Test {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = payments.inner.test_mode.settled() => {}
            }
        } else {
            tokio::time::sleep(delay).await;
        }
    }
}
