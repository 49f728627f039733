//! Built-in test mode: a provider that needs no account. Each charge gets an unguessable
//! token and a small checkout page (see [`server`]) where "Pay (test)" or "Decline (test)"
//! settles it. Everything it produces is marked test in the ledger.
//!
//! State is in memory and bounded: events carry "<instance>:<sequence>" cursors (a cursor from
//! an earlier run reads from the start), events the engine has stored are dropped, and
//! settled charges are kept only for a while.

mod pages;
mod routes;
pub mod server;

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use tokio::sync::Notify;

use crate::provider::{
    Charge, ChargeRequest, OpenCharge, PaymentProvider, PaymentStatus, PollOutcome, ProviderError,
    ProviderEvent, ProviderKind, Refund, RefundRequest,
};

pub use pages::escape_html;
pub use server::{CheckoutLimits, CheckoutServer};

/// Formats an amount for the checkout page (the engine passes its locale-aware formatter).
pub type AmountFormatter = Arc<dyn Fn(i64, &str) -> String + Send + Sync>;

/// What a buy link's page shows before anything is bought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkProduct {
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
}

/// The shop behind `/p/<sku>` buy links. Showing a product reads only; an order is made
/// only when the customer presses Buy (a POST with a valid form token).
#[async_trait]
pub trait LinkSales: Send + Sync {
    /// The product sold under `sku`, or `None` when there is none for sale.
    async fn product_for_link(&self, sku: &str) -> Result<Option<LinkProduct>, String>;

    /// Creates the order for one `sku`, attributed to the sign or post in `query`
    /// (`src=qr&sign=S…`, `src=post&post=12`), and returns the test charge token to pay.
    async fn sale_for_link(
        &self,
        sku: &str,
        query: &HashMap<String, String>,
    ) -> Result<String, String>;
}

/// How long closed charges stay in memory: paid ones can still be refunded for a day;
/// declined and expired ones only answer their page for a while.
const KEEP_PAID: Duration = Duration::from_secs(24 * 3600);
const KEEP_CLOSED: Duration = Duration::from_secs(15 * 60);
/// Most closed charges kept at once, and most charges waiting to be paid.
const MAX_CLOSED: usize = 10_000;
const MAX_OPEN: usize = 10_000;
/// Events not yet confirmed stored are kept at most this long (a watcher that stopped).
const KEEP_EVENTS: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TestState {
    Open,
    Paid,
    Declined,
    Expired,
}

impl TestState {
    fn as_str(self) -> &'static str {
        match self {
            TestState::Open => "open",
            TestState::Paid => "paid",
            TestState::Declined => "declined",
            TestState::Expired => "expired",
        }
    }
}

#[derive(Debug, Clone)]
struct TestCharge {
    order_ref: String,
    subject: String,
    amount_minor: i64,
    currency: String,
    expires_at: Timestamp,
    state: TestState,
    refunded_minor: i64,
    /// When it stopped being open.
    closed_at: Option<Timestamp>,
    /// Where a buyer from the shop page goes back to once paid (its receipt).
    return_url: Option<String>,
}

#[derive(Default)]
struct Ledger {
    charges: HashMap<String, TestCharge>,
    /// Closed charge tokens, oldest first, paid apart from the rest: each is pruned after its
    /// own keeping time, so a declined charge closed after a paid one does not wait a day.
    closed_paid: VecDeque<String>,
    closed_other: VecDeque<String>,
    /// (sequence, event); the sequence is the poll cursor.
    events: VecDeque<(u64, ProviderEvent)>,
    next_seq: u64,
}

#[derive(Clone, Copy)]
enum Queue {
    Paid,
    Other,
}

impl Ledger {
    /// Notes that `token` closed in `state`, for pruning.
    fn close(&mut self, token: &str, state: TestState) {
        let queue = if state == TestState::Paid {
            Queue::Paid
        } else {
            Queue::Other
        };
        self.queue(queue).push_back(token.to_string());
    }

    fn queue(&mut self, queue: Queue) -> &mut VecDeque<String> {
        match queue {
            Queue::Paid => &mut self.closed_paid,
            Queue::Other => &mut self.closed_other,
        }
    }

    fn closed_count(&self) -> usize {
        self.closed_paid.len() + self.closed_other.len()
    }

    /// Drops the charges in `queue` closed at least `keep` before `now`.
    fn prune_closed(&mut self, queue: Queue, now: Timestamp, keep: jiff::SignedDuration) {
        while let Some(token) = self.queue(queue).front().cloned() {
            let closed_at = self
                .charges
                .get(&token)
                .and_then(|charge| charge.closed_at)
                .unwrap_or(now);
            if self.charges.contains_key(&token) && now.duration_since(closed_at) < keep {
                break;
            }
            self.queue(queue).pop_front();
            self.charges.remove(&token);
        }
    }
}

struct Inner {
    /// Random per run: a saved cursor from an earlier run must not skip this run's events.
    instance: String,
    ledger: Mutex<Ledger>,
    /// Woken when the customer pays, so the watcher does not wait for its next tick.
    settled: Notify,
    base_url: Mutex<Option<String>>,
    format_amount: AmountFormatter,
    link_sales: Mutex<Option<Arc<dyn LinkSales>>>,
}

/// The test-mode provider; clones share state.
#[derive(Clone)]
pub struct TestMode {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TestMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestMode")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

/// A charge as its checkout page shows it.
pub(crate) struct ChargePage {
    pub subject: String,
    pub amount: String,
    pub state: &'static str,
    pub return_url: Option<String>,
}

impl TestMode {
    pub fn new(format_amount: AmountFormatter) -> TestMode {
        TestMode {
            inner: Arc::new(Inner {
                instance: random_hex(8),
                ledger: Mutex::new(Ledger::default()),
                settled: Notify::new(),
                base_url: Mutex::new(None),
                format_amount,
                link_sales: Mutex::new(None),
            }),
        }
    }

    /// This run's random id: it prefixes the poll cursors, and the engine records it with each
    /// test charge so another process knows whose checkout can still take it.
    pub fn run_id(&self) -> &str {
        &self.inner.instance
    }

    /// Lets `/p/<sku>` buy links show products and start sales through `handler`.
    pub fn set_link_sales(&self, handler: Arc<dyn LinkSales>) {
        *self.inner.link_sales.lock().expect("lock") = Some(handler);
    }

    pub(crate) fn link_sales(&self) -> Option<Arc<dyn LinkSales>> {
        self.inner.link_sales.lock().expect("lock").clone()
    }

    /// The checkout page's base URL once [`TestMode::serve`] runs.
    pub fn base_url(&self) -> Option<String> {
        self.inner.base_url.lock().expect("lock").clone()
    }

    /// Sets where checkout pages are reached: [`TestMode::serve`] does it for its own
    /// listener; the shop page sets its public address when it mounts the checkout.
    pub fn set_base_url(&self, url: Option<String>) {
        *self.inner.base_url.lock().expect("lock") = url;
    }

    pub(crate) fn format_amount(&self, minor: i64, currency: &str) -> String {
        (self.inner.format_amount)(minor, currency)
    }

    /// Resolves when a customer settles a charge on the checkout page.
    pub async fn settled(&self) {
        self.inner.settled.notified().await
    }

    /// Whether this run knows the charge `token` (an open charge from before a restart is
    /// not known: nobody can pay it any more).
    pub fn holds(&self, token: &str) -> bool {
        self.inner
            .ledger
            .lock()
            .expect("lock")
            .charges
            .contains_key(token)
    }

    /// How many charges and events are held in memory (pruning keeps both bounded).
    pub fn held(&self) -> (usize, usize) {
        let ledger = self.inner.ledger.lock().expect("lock");
        (ledger.charges.len(), ledger.events.len())
    }

    /// Settles a charge as the checkout page's buttons do. Returns the new state's name.
    pub fn settle(&self, token: &str, pay: bool) -> Result<&'static str, SettleError> {
        let mut ledger = self.inner.ledger.lock().expect("lock");
        let now = Timestamp::now();
        let charge = ledger
            .charges
            .get_mut(token)
            .ok_or(SettleError::UnknownCharge)?;
        let overdue = charge.state == TestState::Open && now >= charge.expires_at;
        match charge.state {
            TestState::Open if !overdue => {}
            TestState::Paid => return Err(SettleError::AlreadyPaid),
            _ => {
                drop(ledger);
                self.expire_overdue(now);
                return Err(SettleError::Closed);
            }
        }
        let (state, status) = if pay {
            (TestState::Paid, PaymentStatus::Paid)
        } else {
            (TestState::Declined, PaymentStatus::Failed)
        };
        charge.state = state;
        charge.closed_at = Some(now);
        let charge = charge.clone();
        ledger.close(token, state);
        push_event(&mut ledger, token, &charge, status, "settle", now);
        drop(ledger);
        self.inner.settled.notify_one();
        Ok(state.as_str())
    }

    fn expire_overdue(&self, now: Timestamp) {
        let mut ledger = self.inner.ledger.lock().expect("lock");
        let overdue: Vec<String> = ledger
            .charges
            .iter()
            .filter(|(_, c)| c.state == TestState::Open && now >= c.expires_at)
            .map(|(token, _)| token.clone())
            .collect();
        for token in overdue {
            let charge = ledger.charges.get_mut(&token).expect("listed above");
            charge.state = TestState::Expired;
            charge.closed_at = Some(now);
            let charge = charge.clone();
            ledger.close(&token, TestState::Expired);
            push_event(
                &mut ledger,
                &token,
                &charge,
                PaymentStatus::Expired,
                "expire",
                now,
            );
        }
    }

    /// Drops what nobody needs any more: events the engine stored (`stored_up_to`) or that
    /// are old, and closed charges past their keeping time or beyond the cap.
    fn prune(&self, stored_up_to: u64, now: Timestamp) {
        let mut ledger = self.inner.ledger.lock().expect("lock");
        let too_old = now - jiff::SignedDuration::try_from(KEEP_EVENTS).unwrap_or_default();
        while ledger
            .events
            .front()
            .is_some_and(|(seq, event)| *seq <= stored_up_to || event.occurred_at < too_old)
        {
            ledger.events.pop_front();
        }
        let keep = |time: Duration| jiff::SignedDuration::try_from(time).unwrap_or_default();
        ledger.prune_closed(Queue::Paid, now, keep(KEEP_PAID));
        ledger.prune_closed(Queue::Other, now, keep(KEEP_CLOSED));
        // Beyond the cap the oldest go first, declined and expired ones before paid ones.
        while ledger.closed_count() > MAX_CLOSED {
            let queue = if ledger.closed_other.is_empty() {
                Queue::Paid
            } else {
                Queue::Other
            };
            if let Some(token) = ledger.queue(queue).pop_front() {
                ledger.charges.remove(&token);
            }
        }
    }

    pub(crate) fn page(&self, token: &str) -> Option<ChargePage> {
        let now = Timestamp::now();
        let ledger = self.inner.ledger.lock().expect("lock");
        let charge = ledger.charges.get(token)?;
        let state = if charge.state == TestState::Open && now >= charge.expires_at {
            TestState::Expired
        } else {
            charge.state
        };
        Some(ChargePage {
            subject: charge.subject.clone(),
            amount: self.format_amount(charge.amount_minor, &charge.currency),
            state: state.as_str(),
            return_url: charge.return_url.clone(),
        })
    }

    /// Where the buyer of charge `token` goes back to, when it came from the shop page.
    pub(crate) fn return_url(&self, token: &str) -> Option<String> {
        let ledger = self.inner.ledger.lock().expect("lock");
        ledger.charges.get(token)?.return_url.clone()
    }

    /// The cursor position `cursor` stands for in this run (0 for another run's cursor).
    fn position(&self, cursor: Option<&str>) -> u64 {
        cursor
            .and_then(|c| c.split_once(':'))
            .filter(|(instance, _)| *instance == self.inner.instance)
            .and_then(|(_, seq)| seq.parse().ok())
            .unwrap_or(0)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettleError {
    #[error("no such test payment")]
    UnknownCharge,
    #[error("this test payment is already paid")]
    AlreadyPaid,
    #[error("this test payment is closed (declined or expired)")]
    Closed,
}

fn push_event(
    ledger: &mut Ledger,
    token: &str,
    charge: &TestCharge,
    status: PaymentStatus,
    what: &str,
    now: Timestamp,
) {
    let seq = ledger.next_seq + 1;
    ledger.next_seq = seq;
    let raw = serde_json::json!({
        "seq": seq,
        "token": token,
        "order_ref": charge.order_ref,
        "status": status.as_str(),
        "amount_minor": charge.amount_minor,
        "currency": charge.currency,
        "refunded_minor": charge.refunded_minor,
        "at": now.to_string(),
    })
    .to_string();
    ledger.events.push_back((
        seq,
        ProviderEvent {
            // The token is unique per charge and run, so ids never repeat across restarts.
            event_id: format!("test:{token}:{what}:{seq}"),
            provider_ref: token.to_string(),
            order_ref: Some(charge.order_ref.clone()),
            charge_ref: Some(token.to_string()),
            status,
            amount_minor: charge.amount_minor,
            currency: charge.currency.clone(),
            refunded_total_minor: Some(charge.refunded_minor),
            method: Some("test".into()),
            source_tag: None,
            occurred_at: now,
            raw,
        },
    ));
}

/// `bytes` random bytes from the OS as lower-case hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the OS random source is available");
    buffer
        .iter()
        .fold(String::with_capacity(bytes * 2), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

fn not_set_up() -> ProviderError {
    ProviderError::Config {
        provider: ProviderKind::Test,
        detail: "the test checkout page is not running".into(),
    }
}

#[async_trait]
impl PaymentProvider for TestMode {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Test
    }

    async fn create_charge(&self, request: &ChargeRequest) -> Result<Charge, ProviderError> {
        let base = self.base_url().ok_or_else(not_set_up)?;
        let token = random_hex(16);
        let charge = TestCharge {
            order_ref: request.order_ref.clone(),
            subject: request.subject.clone(),
            amount_minor: request.amount_minor,
            currency: request.currency.clone(),
            expires_at: request.expires_at,
            state: TestState::Open,
            refunded_minor: 0,
            closed_at: None,
            return_url: request.web.as_ref().map(|web| web.return_url.clone()),
        };
        {
            let mut ledger = self.inner.ledger.lock().expect("lock");
            let open = ledger.charges.len() - ledger.closed_count().min(ledger.charges.len());
            if open >= MAX_OPEN {
                return Err(ProviderError::Rejected {
                    provider: ProviderKind::Test,
                    code: "too_many_open".into(),
                    message: "too many test payments are waiting; let some expire first".into(),
                    raw: String::new(),
                });
            }
            ledger.charges.insert(token.clone(), charge);
        }
        let url = format!("{base}/pay/{token}");
        let raw = serde_json::json!({ "token": token, "url": url }).to_string();
        Ok(Charge {
            charge_ref: token,
            qr_payload: url,
            expires_at: request.expires_at,
            raw,
        })
    }

    async fn poll(
        &self,
        cursor: Option<&str>,
        _open: &[OpenCharge],
    ) -> Result<PollOutcome, ProviderError> {
        let now = Timestamp::now();
        let after = self.position(cursor);
        // Everything up to the cursor the engine passes back is stored.
        self.prune(after, now);
        self.expire_overdue(now);
        let ledger = self.inner.ledger.lock().expect("lock");
        let events: Vec<ProviderEvent> = ledger
            .events
            .iter()
            .filter(|(seq, _)| *seq > after)
            .map(|(_, event)| event.clone())
            .collect();
        let cursor = Some(format!("{}:{}", self.inner.instance, ledger.next_seq));
        Ok(PollOutcome {
            events,
            cursor,
            ..PollOutcome::default()
        })
    }

    async fn cancel(&self, charge: &OpenCharge) -> Result<(), ProviderError> {
        let mut ledger = self.inner.ledger.lock().expect("lock");
        if let Some(test_charge) = ledger.charges.get_mut(&charge.charge_ref)
            && test_charge.state == TestState::Open
        {
            test_charge.state = TestState::Expired;
            test_charge.closed_at = Some(Timestamp::now());
            ledger.close(&charge.charge_ref, TestState::Expired);
        }
        Ok(())
    }

    async fn refund(&self, request: &RefundRequest) -> Result<Refund, ProviderError> {
        let mut ledger = self.inner.ledger.lock().expect("lock");
        let rejected = |message: &str| ProviderError::Rejected {
            provider: ProviderKind::Test,
            code: "refund_refused".into(),
            message: message.into(),
            raw: String::new(),
        };
        let charge = ledger
            .charges
            .get_mut(&request.provider_ref)
            .ok_or_else(|| rejected("no such test payment (test payments can be refunded for a day, until the app restarts)"))?;
        if charge.state != TestState::Paid {
            return Err(rejected("only a paid test payment can be refunded"));
        }
        if request.amount_minor <= 0
            || charge.refunded_minor + request.amount_minor > charge.amount_minor
        {
            return Err(rejected("the refund is more than what is left to refund"));
        }
        charge.refunded_minor += request.amount_minor;
        let status = if charge.refunded_minor == charge.amount_minor {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::Paid
        };
        let charge = charge.clone();
        let total = charge.refunded_minor;
        push_event(
            &mut ledger,
            &request.provider_ref,
            &charge,
            status,
            "refund",
            Timestamp::now(),
        );
        Ok(Refund {
            refund_id: format!("test-refund:{}", request.refund_ref),
            amount_minor: request.amount_minor,
            refunded_total_minor: Some(total),
            raw: serde_json::json!({ "refunded_minor": total }).to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn charge(mode: &TestMode, order: &str) -> String {
        let request = ChargeRequest {
            order_ref: order.into(),
            amount_minor: 100,
            currency: "EUR".into(),
            subject: "Tea".into(),
            lines: Vec::new(),
            expires_at: Timestamp::now() + jiff::SignedDuration::from_secs(600),
            source_tag: None,
            web: None,
        };
        mode.create_charge(&request).await.unwrap().charge_ref
    }

    #[tokio::test]
    async fn a_declined_charge_closed_after_a_paid_one_is_pruned_after_fifteen_minutes() {
        let mode = TestMode::new(Arc::new(|minor, currency| format!("{minor} {currency}")));
        mode.set_base_url(Some("http://127.0.0.1:1".into()));
        let paid = charge(&mode, "O-PAID0001").await;
        let declined = charge(&mode, "O-DECL0001").await;
        mode.settle(&paid, true).unwrap();
        mode.settle(&declined, false).unwrap();
        let later = Timestamp::now() + jiff::SignedDuration::from_mins(16);
        mode.prune(0, later);
        assert!(mode.holds(&paid), "a paid charge can be refunded for a day");
        assert!(
            !mode.holds(&declined),
            "a declined one is gone after 15 minutes"
        );
        mode.prune(0, later + jiff::SignedDuration::from_hours(24));
        assert!(!mode.holds(&paid));
    }
}
