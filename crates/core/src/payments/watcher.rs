//! The payments service: the providers the shop has connected, one watcher task per
//! provider that polls it and feeds the ledger, and a broadcast of what changed (the desktop
//! shell forwards it to the window as events; `shopcast payments watch` prints it).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shopcast_payments::testmode::{CheckoutServer, TestMode};
use shopcast_payments::{PaymentProvider, ProviderError, ProviderEvent, ProviderKind};
use sqlx::AnyPool;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::error::{CoreError, Result};
use crate::infra::now_ms;
use crate::money::Money;
use crate::payments::ledger::{self, IngestReport, Payment};
use crate::payments::store::{leases, test_runs, unreadable};
use crate::payments::till::{self, Order, OrderStatus};

/// Longest wait between polls of a provider that keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A test-mode run whose heartbeat is older than this has stopped (a live one beats on every
/// poll, at least every [`MAX_BACKOFF`]): its open test charges can no longer be paid.
const TEST_RUN_STALE_AFTER: Duration = Duration::from_secs(60);

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
        status: OrderStatus,
    },
    /// A provider became unreachable or recovered.
    Health { health: ProviderHealth },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProviderHealth {
    pub provider: ProviderKind,
    pub ok: bool,
    /// When it started failing (UTC ms), while it fails.
    pub failing_since: Option<i64>,
    /// The last error in plain words.
    pub message: Option<String>,
    /// Stable code of the last error.
    pub code: Option<String>,
    /// When the watcher tries again (UTC ms).
    pub next_attempt_at: Option<i64>,
    /// Events the provider listed that could not be read and were skipped (kept for review),
    /// in words; `None` when there were none.
    pub skipped_events: Option<String>,
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

/// Test mode's `/p/<sku>` buy links: a visit shows the product; pressing Buy creates an order
/// for it, attributed to the sign or post in the link, and a test charge for it.
struct BuyLinkSales {
    payments: std::sync::Weak<Inner>,
}

#[async_trait::async_trait]
impl shopcast_payments::testmode::LinkSales for BuyLinkSales {
    async fn product_for_link(
        &self,
        sku: &str,
    ) -> std::result::Result<Option<shopcast_payments::testmode::LinkProduct>, String> {
        let inner = self.payments.upgrade().ok_or("the shop is closing")?;
        let Some(id) = crate::catalog::store::id_by_sku(&inner.pool, sku, false)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let product = crate::catalog::store::get(&inner.pool, id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Some(shopcast_payments::testmode::LinkProduct {
            name: product.name,
            price_minor: product.price.amount_minor,
            currency: product.price.currency,
        }))
    }

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
                    ..Default::default()
                }],
                channel: Some(channel),
                source_ref,
                ..Default::default()
            },
            &settings,
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

pub(super) struct Watcher {
    task: JoinHandle<()>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(super) struct Inner {
    pub(super) pool: AnyPool,
    pub(super) providers: Mutex<HashMap<ProviderKind, Arc<dyn PaymentProvider>>>,
    pub(super) watchers: Mutex<HashMap<ProviderKind, Watcher>>,
    pub(super) health: Mutex<HashMap<ProviderKind, ProviderHealth>>,
    pub(super) updates: broadcast::Sender<PaymentUpdate>,
    pub(super) test_mode: TestMode,
    pub(super) checkout: Mutex<Option<CheckoutServer>>,
    /// Test mode runs mounted in the shop page (no listener of its own).
    pub(super) mounted_test_mode: Mutex<bool>,
    pub(super) poll_interval: Mutex<Duration>,
    /// How long a payment code waits for the customer ([`super::code::CODE_WAIT`]).
    pub(super) code_wait: Mutex<Duration>,
    /// This process, as the holder of watcher leases.
    pub(super) lease_holder: String,
}

/// Cheap to clone; all clones share the providers and watchers.
#[derive(Clone)]
pub struct Payments {
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments").finish_non_exhaustive()
    }
}

impl Payments {
    pub(crate) fn new(pool: AnyPool) -> Payments {
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
                mounted_test_mode: Mutex::new(false),
                poll_interval: Mutex::new(Duration::from_secs(1)),
                code_wait: Mutex::new(super::code::CODE_WAIT),
                lease_holder: format!("{}-{}", std::process::id(), crate::infra::crockford_id(10)),
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

    /// Starts test mode: its checkout page on `bind` and its watcher. A failure to listen is
    /// also test mode's health, in words, so the settings screen says why, and changes nothing
    /// else (another process's test QRs stay open).
    pub async fn start_test_mode(
        &self,
        bind: SocketAddr,
        public_host: Option<&str>,
    ) -> Result<SocketAddr> {
        let server = match self.inner.test_mode.serve(bind, public_host).await {
            Ok(server) => server,
            Err(source) => {
                self.set_health(ProviderKind::Test, checkout_unavailable(bind, &source));
                return Err(CoreError::io(
                    "start the test checkout page on",
                    bind.to_string(),
                    source,
                ));
            }
        };
        let addr = server.addr;
        *self.inner.checkout.lock().expect("lock") = Some(server);
        self.keep_test_run_alive().await?;
        self.inner.test_mode.set_link_sales(Arc::new(BuyLinkSales {
            payments: Arc::downgrade(&self.inner),
        }));
        self.connect(Arc::new(self.inner.test_mode.clone()));
        Ok(addr)
    }

    /// Starts test mode without a listener of its own: a server mounts its checkout and
    /// charges send buyers to `base_url` (unless its own checkout already listens, whose
    /// address stays). Heartbeat and watcher as [`Payments::start_test_mode`].
    pub async fn start_test_mode_mounted(&self, base_url: &str) -> Result<()> {
        let listening = self.inner.checkout.lock().expect("lock").is_some();
        if !listening {
            self.inner
                .test_mode
                .set_base_url(Some(base_url.to_string()));
        }
        self.keep_test_run_alive().await?;
        *self.inner.mounted_test_mode.lock().expect("lock") = true;
        self.connect(Arc::new(self.inner.test_mode.clone()));
        Ok(())
    }

    /// Refreshes this run's heartbeat, then expires the open test charges (and their orders)
    /// of runs that stopped: their checkout lived in that run's memory, so nobody can pay
    /// them. Charges of a live run (the window beside `payments watch`) stay open.
    async fn keep_test_run_alive(&self) -> Result<()> {
        let pool = &self.inner.pool;
        let run_id = self.inner.test_mode.run_id();
        let now = now_ms();
        test_runs::beat(pool, run_id, now).await?;
        let stale_before = now - TEST_RUN_STALE_AFTER.as_millis() as i64;
        let forgotten = test_runs::orphaned_charges(pool, run_id, stale_before).await?;
        if !forgotten.is_empty() {
            let expired = crate::payments::store::orders::expire_charges(
                pool,
                ProviderKind::Test,
                &forgotten,
            )
            .await?;
            for order_id in expired {
                if let Ok(order) = till::get_order(pool, order_id).await {
                    self.publish_order(&order);
                }
            }
        }
        test_runs::forget_stale(pool, stale_before).await
    }

    /// Stops test mode; its open charges become another run's to expire at once.
    pub async fn stop_test_mode(&self) {
        self.disconnect(ProviderKind::Test);
        let listened = self.inner.checkout.lock().expect("lock").take().is_some();
        let mounted = std::mem::take(&mut *self.inner.mounted_test_mode.lock().expect("lock"));
        if mounted && !listened {
            // No new test charge may point at a shop page that no longer serves the checkout.
            self.inner.test_mode.set_base_url(None);
        }
        if (listened || mounted)
            && let Err(error) =
                test_runs::end(&self.inner.pool, self.inner.test_mode.run_id()).await
        {
            tracing::warn!(%error, "could not record that test mode stopped");
        }
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

    /// Stops every watcher (the shop is closing); the providers stay for calls in flight.
    pub(crate) fn stop_watchers(&self) {
        let stopped = std::mem::take(&mut *self.inner.watchers.lock().expect("lock"));
        drop(stopped);
    }

    /// Hands this process's watcher leases over (after [`Self::stop_watchers`]): another
    /// till standing by takes over at once instead of after the lease runs out.
    pub(crate) async fn release_leases(&self) {
        if let Err(error) =
            super::store::leases::release(&self.inner.pool, &self.inner.lease_holder).await
        {
            tracing::warn!(%error, "watcher leases were not handed over; they run out by themselves");
        }
    }

    /// This process's id in watcher leases and live updates.
    pub(crate) fn instance_id(&self) -> &str {
        &self.inner.lease_holder
    }

    /// Shows a change another computer made (its announcement) to this process's subscribers.
    pub(crate) async fn relay(&self, payments: &[i64], orders: &[i64]) -> Result<()> {
        for payment in ledger::get_many(&self.inner.pool, payments).await? {
            let _ = self.inner.updates.send(PaymentUpdate::Payment { payment });
        }
        for order_id in orders {
            if let Ok(order) = till::get_order(&self.inner.pool, *order_id).await {
                self.publish_order(&order);
            }
        }
        Ok(())
    }

    /// Whether this process is the one watching `kind` (another till may be).
    pub async fn watching(&self, kind: ProviderKind) -> Result<bool> {
        Ok(
            super::store::leases::holder(&self.inner.pool, kind.as_str())
                .await?
                .is_some_and(|(holder, until)| {
                    holder == self.inner.lease_holder && until > now_ms()
                }),
        )
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
        all.sort_by(|a, b| a.provider.as_str().cmp(b.provider.as_str()));
        all
    }

    pub(super) fn provider(&self, kind: ProviderKind) -> Result<Arc<dyn PaymentProvider>> {
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

    /// Stores events and tells subscribers what changed.
    pub async fn ingest(
        &self,
        kind: ProviderKind,
        events: &[ProviderEvent],
        cursor: Option<&str>,
    ) -> Result<IngestReport> {
        let report = ledger::ingest(&self.inner.pool, kind, events, cursor).await?;
        self.ingested(&report).await?;
        Ok(report)
    }

    /// Tells the other tills (NOTIFY) and this process's subscribers what an ingest changed.
    pub(super) async fn ingested(&self, report: &IngestReport) -> Result<()> {
        crate::infra::live::announce(&self.inner.pool, self.changes(report)).await;
        self.published(report).await
    }

    /// What `report` changed, as the other tills are told it.
    pub(super) fn changes(&self, report: &IngestReport) -> crate::infra::live::Changes {
        changes_of(&self.inner.lease_holder, report)
    }

    /// Who this process is when it tells the other tills of a change.
    pub(super) fn announcer(&self) -> &str {
        &self.inner.lease_holder
    }

    /// Tells this process's subscribers what an ingest changed (the other tills were told
    /// in its transaction).
    pub(super) async fn published(&self, report: &IngestReport) -> Result<()> {
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
        Ok(())
    }

    pub(super) fn publish_order(&self, order: &Order) {
        let _ = self.inner.updates.send(PaymentUpdate::Order {
            order_id: order.id,
            order_ref: order.order_ref.clone(),
            status: order.status,
        });
    }

    fn set_health(&self, kind: ProviderKind, health: ProviderHealth) {
        let changed = {
            let mut all = self.inner.health.lock().expect("lock");
            let before = all.insert(kind, health.clone());
            before
                .as_ref()
                .map(|b| (b.ok, &b.message, &b.skipped_events))
                != Some((health.ok, &health.message, &health.skipped_events))
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
        // Kept before the cursor moves past them; a replay keeps nothing twice.
        let unreadable_kept = unreadable::keep(&self.inner.pool, kind, &outcome.unreadable).await?;
        let mut report = self
            .ingest(kind, &outcome.events, outcome.cursor.as_deref())
            .await?;
        report.unreadable_kept = unreadable_kept;
        Ok((report, next))
    }

    /// What `kind` listed that could not be read, in words, e.g. "2 Stripe events could not
    /// be read (last: evt_1: amount_total is null); they were skipped."
    pub async fn skipped_events(&self, kind: ProviderKind) -> Result<Option<String>> {
        Ok(unreadable::summary(&self.inner.pool, kind)
            .await?
            .map(|summary| skipped_sentence(kind, &summary)))
    }
}

/// The provider's name in the owner's words.
pub(crate) fn provider_name(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Stripe => "Stripe",
        ProviderKind::Alipay => "Alipay",
        ProviderKind::Wechat => "WeChat Pay",
        ProviderKind::Test => "test-mode",
        ProviderKind::Manual => "manual",
    }
}

fn skipped_sentence(kind: ProviderKind, summary: &unreadable::UnreadableSummary) -> String {
    let name = provider_name(kind);
    let (events, they) = if summary.count == 1 {
        ("event", "it was")
    } else {
        ("events", "they were")
    };
    format!(
        "{count} {name} {events} could not be read (last: {id}: {reason}); {they} skipped and \
         kept for review.",
        count = summary.count,
        id = summary.last_event_id,
        reason = summary.last_reason,
    )
}

/// Test mode's health when its checkout page cannot listen, in the owner's words.
fn checkout_unavailable(bind: SocketAddr, error: &std::io::Error) -> ProviderHealth {
    let why = match error.kind() {
        std::io::ErrorKind::AddrInUse => "address in use (another program has this port)".into(),
        std::io::ErrorKind::AddrNotAvailable => "this computer has no such address".into(),
        std::io::ErrorKind::PermissionDenied => {
            "permission denied (ports below 1024 need administrator rights)".into()
        }
        _ => error.to_string(),
    };
    ProviderHealth {
        provider: ProviderKind::Test,
        ok: false,
        failing_since: Some(now_ms()),
        message: Some(format!(
            "the test checkout could not listen on {bind}: {why}. Choose another port in Settings → Payments."
        )),
        code: Some("provider_config".into()),
        next_attempt_at: None,
        skipped_events: None,
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
/// A charge the customer has just paid ([`ProviderError::Paid`]) stays open and watched, so
/// the next poll records its payment: [`JUST_PAID`] says so.
pub(super) fn withdrawn(result: std::result::Result<(), ProviderError>) -> Result<()> {
    match result {
        Ok(()) | Err(ProviderError::Rejected { .. }) => Ok(()),
        Err(ProviderError::Paid { .. }) => Err(CoreError::Conflict {
            field: JUST_PAID,
            message: "The customer has just paid this, so it was not withdrawn; the payment is \
                      being recorded and the sale will show paid in a moment."
                .to_string(),
        }),
        Err(error) => Err(withdraw_error(error)),
    }
}

/// The field of the conflict [`withdrawn`] reports for a charge paid as it was withdrawn.
pub(crate) const JUST_PAID: &str = "payment";

pub(super) fn withdraw_error(error: ProviderError) -> CoreError {
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

/// How long a watcher's lease outlives its next poll: a till that stops renewing it (killed,
/// off the network) is replaced within this and one [`STANDBY_LOOK`].
const LEASE_MS: i64 = 2_000;
/// How often a standing-by watcher looks whether the lease is free.
const STANDBY_LOOK: Duration = Duration::from_millis(500);

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
    let mut skipped = payments.skipped_events(kind).await.ok().flatten();
    let pool = payments.inner.pool.clone();
    let holder = payments.inner.lease_holder.clone();
    loop {
        // One till watches each provider: the others stand by, looking twice a second, and
        // take over once the watching one's lease runs out (it stopped, crashed or lost the
        // database). Test mode is this process's own checkout: no lease.
        if kind != ProviderKind::Test {
            let now = now_ms();
            match leases::claim(&pool, kind.as_str(), &holder, now, now + LEASE_MS).await {
                Ok(true) => {}
                Ok(false) => {
                    tokio::time::sleep(STANDBY_LOOK).await;
                    continue;
                }
                Err(error) => {
                    tracing::warn!(provider = %kind, %error, "the watcher lease could not be checked");
                    tokio::time::sleep(STANDBY_LOOK).await;
                    continue;
                }
            }
            // The cursor another till moved on while this one stood by.
            if let Ok(Some(stored)) = ledger::cursor(&pool, kind).await {
                cursor = Some(stored);
            }
        }
        let delay = match payments
            .poll_once(provider.as_ref(), cursor.as_deref())
            .await
        {
            Ok((report, next)) => {
                cursor = next;
                if report.unreadable_kept > 0 {
                    skipped = payments.skipped_events(kind).await.ok().flatten();
                    tracing::warn!(provider = %kind, kept = report.unreadable_kept, "skipped events we could not read");
                }
                failures = 0;
                if failing_since.take().is_some() {
                    tracing::info!(provider = %kind, "provider reachable again");
                }
                payments.set_health(
                    kind,
                    ProviderHealth {
                        provider: kind,
                        ok: true,
                        failing_since: None,
                        message: None,
                        code: None,
                        next_attempt_at: None,
                        skipped_events: skipped.clone(),
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
                        provider: kind,
                        ok: false,
                        failing_since: Some(since),
                        message: Some(message),
                        code: Some(code.into()),
                        next_attempt_at: Some(now_ms() + delay.as_millis() as i64),
                        skipped_events: skipped.clone(),
                    },
                );
                delay
            }
        };
        if kind != ProviderKind::Test {
            // Held through the wait before the next poll, and a little after it.
            let now = now_ms();
            let until = now + delay.as_millis() as i64 + LEASE_MS;
            if let Err(error) = leases::claim(&pool, kind.as_str(), &holder, now, until).await {
                tracing::warn!(provider = %kind, %error, "the watcher lease was not renewed");
            }
        }
        if kind == ProviderKind::Test {
            if let Err(error) = payments.keep_test_run_alive().await {
                tracing::warn!(%error, "test mode's heartbeat was not recorded");
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = payments.inner.test_mode.settled() => {}
            }
        } else {
            tokio::time::sleep(delay).await;
        }
    }
}

/// What `report` changed, as the process `from` tells the other tills.
pub(super) fn changes_of(from: &str, report: &IngestReport) -> crate::infra::live::Changes {
    crate::infra::live::Changes {
        from: from.to_string(),
        payments: report.changed.clone(),
        orders: report.orders.iter().map(|(id, _)| *id).collect(),
        posts: Vec::new(),
    }
}
