//! Built-in test mode: a provider that needs no account. Each charge gets an unguessable
//! token and a small mobile checkout page served by [`TestMode::serve`], where "Pay (test)"
//! or "Decline (test)" settles it. Everything it produces is marked test in the ledger.
//!
//! State is in memory: events carry a sequence number and the engine keeps the last one it
//! stored as its cursor, so a poll after a failed ingest returns the same events again.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use tokio::sync::Notify;

use crate::provider::{
    Charge, ChargeRequest, OpenCharge, PaymentProvider, PaymentStatus, PollOutcome, ProviderError,
    ProviderEvent, ProviderKind, Refund, RefundRequest,
};

/// Formats an amount for the checkout page (the engine passes its locale-aware formatter).
pub type AmountFormatter = Arc<dyn Fn(i64, &str) -> String + Send + Sync>;

/// Turns a visit to a product's buy link (`/p/<sku>?src=qr&sign=S…`) into a test charge:
/// the engine creates the order, attributed to the sign or post in the query, and returns the
/// charge token to pay.
#[async_trait]
pub trait LinkSales: Send + Sync {
    async fn sale_for_link(
        &self,
        sku: &str,
        query: &HashMap<String, String>,
    ) -> Result<String, String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TestState {
    Open,
    Paid,
    Declined,
    Expired,
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
}

#[derive(Default)]
struct Ledger {
    charges: HashMap<String, TestCharge>,
    /// (sequence, event); the sequence is the poll cursor.
    events: Vec<(u64, ProviderEvent)>,
    next_seq: u64,
}

struct Inner {
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

/// A running checkout server; dropping it stops the server.
pub struct CheckoutServer {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for CheckoutServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl TestMode {
    pub fn new(format_amount: AmountFormatter) -> TestMode {
        TestMode {
            inner: Arc::new(Inner {
                ledger: Mutex::new(Ledger::default()),
                settled: Notify::new(),
                base_url: Mutex::new(None),
                format_amount,
                link_sales: Mutex::new(None),
            }),
        }
    }

    /// Lets `/p/<sku>` buy links start a sale through `handler`.
    pub fn set_link_sales(&self, handler: Arc<dyn LinkSales>) {
        *self.inner.link_sales.lock().expect("lock") = Some(handler);
    }

    /// The checkout page's base URL once [`TestMode::serve`] runs.
    pub fn base_url(&self) -> Option<String> {
        self.inner.base_url.lock().expect("lock").clone()
    }

    /// Resolves when a customer settles a charge on the checkout page.
    pub async fn settled(&self) {
        self.inner.settled.notified().await
    }

    /// Serves the checkout pages on `bind` (127.0.0.1:0 by default; a LAN address when the
    /// owner opts in). `public_host` is the host put into QR URLs (the LAN IP for a phone).
    pub async fn serve(
        &self,
        bind: SocketAddr,
        public_host: Option<&str>,
    ) -> std::io::Result<CheckoutServer> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let host = public_host
            .map(str::to_string)
            .unwrap_or_else(|| addr.ip().to_string());
        *self.inner.base_url.lock().expect("lock") =
            Some(format!("http://{host}:{port}", port = addr.port()));
        let app = axum::Router::new()
            .route("/pay/{token}", get(checkout_page))
            .route("/pay/{token}/pay", post(pay))
            .route("/pay/{token}/decline", post(decline))
            .route("/pay/{token}/status", get(status))
            .route("/p/{sku}", get(buy_link))
            .with_state(self.clone());
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(CheckoutServer {
            addr,
            shutdown: Some(shutdown),
        })
    }

    /// Settles a charge as the checkout page's buttons do. Returns the new state's name.
    pub fn settle(&self, token: &str, pay: bool) -> Result<&'static str, SettleError> {
        let mut ledger = self.inner.ledger.lock().expect("lock");
        let now = Timestamp::now();
        let charge = ledger
            .charges
            .get_mut(token)
            .ok_or(SettleError::UnknownCharge)?;
        if charge.state == TestState::Open && now >= charge.expires_at {
            charge.state = TestState::Expired;
        }
        match charge.state {
            TestState::Open => {}
            TestState::Paid => return Err(SettleError::AlreadyPaid),
            TestState::Declined | TestState::Expired => return Err(SettleError::Closed),
        }
        charge.state = if pay {
            TestState::Paid
        } else {
            TestState::Declined
        };
        let status = if pay {
            PaymentStatus::Paid
        } else {
            PaymentStatus::Failed
        };
        let charge = charge.clone();
        push_event(&mut ledger, token, &charge, status, "settle", now);
        drop(ledger);
        self.inner.settled.notify_one();
        Ok(if pay { "paid" } else { "declined" })
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
            let charge = charge.clone();
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

    fn page(&self, token: &str) -> Option<(TestCharge, String)> {
        let ledger = self.inner.ledger.lock().expect("lock");
        let charge = ledger.charges.get(token)?.clone();
        let amount = (self.inner.format_amount)(charge.amount_minor, &charge.currency);
        Some((charge, amount))
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
    ledger.events.push((
        seq,
        ProviderEvent {
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

fn new_token() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes.iter().fold(String::with_capacity(32), |mut hex, b| {
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
        let token = new_token();
        let charge = TestCharge {
            order_ref: request.order_ref.clone(),
            subject: request.subject.clone(),
            amount_minor: request.amount_minor,
            currency: request.currency.clone(),
            expires_at: request.expires_at,
            state: TestState::Open,
            refunded_minor: 0,
        };
        self.inner
            .ledger
            .lock()
            .expect("lock")
            .charges
            .insert(token.clone(), charge);
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
        self.expire_overdue(Timestamp::now());
        let after: u64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
        let ledger = self.inner.ledger.lock().expect("lock");
        let events: Vec<ProviderEvent> = ledger
            .events
            .iter()
            .filter(|(seq, _)| *seq > after)
            .map(|(_, event)| event.clone())
            .collect();
        let cursor = ledger.events.last().map(|(seq, _)| seq.to_string());
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
            .ok_or_else(|| rejected("no such test payment"))?;
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

// The checkout page: plain HTML forms, no script, every dynamic value escaped.

async fn checkout_page(State(mode): State<TestMode>, Path(token): Path<String>) -> Response {
    let Some((charge, amount)) = mode.page(&token) else {
        return (
            StatusCode::NOT_FOUND,
            page("Not found", "<p>No such test payment.</p>"),
        )
            .into_response();
    };
    let open = charge.state == TestState::Open && Timestamp::now() < charge.expires_at;
    let body = if open {
        format!(
            r#"<p class="subject">{subject}</p><p class="amount" id="amount">{amount}</p>
<form method="post" action="/pay/{token}/pay"><button id="pay" class="pay">Pay (test)</button></form>
<form method="post" action="/pay/{token}/decline"><button id="decline" class="decline">Decline (test)</button></form>"#,
            subject = escape_html(&charge.subject),
            amount = escape_html(&amount),
            token = escape_html(&token),
        )
    } else {
        let state = match charge.state {
            TestState::Paid => "Paid ✓",
            TestState::Declined => "Declined",
            _ => "Expired",
        };
        format!(
            r#"<p class="subject">{}</p><p class="amount">{}</p><p id="state">{state}</p>"#,
            escape_html(&charge.subject),
            escape_html(&amount),
        )
    };
    page("Test checkout", &body).into_response()
}

async fn buy_link(
    State(mode): State<TestMode>,
    Path(sku): Path<String>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let handler = mode.inner.link_sales.lock().expect("lock").clone();
    let Some(handler) = handler else {
        return (
            StatusCode::NOT_FOUND,
            page("Not found", "<p>Buy links are not on.</p>"),
        )
            .into_response();
    };
    match handler.sale_for_link(&sku, &query).await {
        Ok(token) => axum::response::Redirect::to(&format!("/pay/{token}")).into_response(),
        Err(message) => (
            StatusCode::NOT_FOUND,
            page("Not found", &format!("<p>{}</p>", escape_html(&message))),
        )
            .into_response(),
    }
}

async fn pay(State(mode): State<TestMode>, Path(token): Path<String>) -> Response {
    settle_response(mode.settle(&token, true))
}

async fn decline(State(mode): State<TestMode>, Path(token): Path<String>) -> Response {
    settle_response(mode.settle(&token, false))
}

async fn status(State(mode): State<TestMode>, Path(token): Path<String>) -> Response {
    match mode.page(&token) {
        Some((charge, _)) => {
            let state = match charge.state {
                TestState::Open => "open",
                TestState::Paid => "paid",
                TestState::Declined => "declined",
                TestState::Expired => "expired",
            };
            (
                [(header::CONTENT_TYPE, "application/json")],
                format!(r#"{{"state":"{state}"}}"#),
            )
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn settle_response(result: Result<&'static str, SettleError>) -> Response {
    match result {
        Ok("paid") => page("Paid", r#"<p id="state">Paid ✓ (test)</p>"#).into_response(),
        Ok(_) => page("Declined", r#"<p id="state">Declined (test)</p>"#).into_response(),
        Err(SettleError::UnknownCharge) => (
            StatusCode::NOT_FOUND,
            page("Not found", "<p>No such test payment.</p>"),
        )
            .into_response(),
        Err(err) => (
            StatusCode::CONFLICT,
            page(
                "Closed",
                &format!(r#"<p id="state">{}</p>"#, escape_html(&err.to_string())),
            ),
        )
            .into_response(),
    }
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — TEST</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;text-align:center}}
.banner{{background:#b45309;color:#fff;font-weight:700;padding:.5rem;border-radius:.5rem}}
.amount{{font-size:2.5rem;font-weight:700}}button{{font-size:1.25rem;width:100%;padding:1rem;margin:.5rem 0;border-radius:.75rem;border:0}}
.pay{{background:#15803d;color:#fff}}.decline{{background:#e5e7eb}}</style></head>
<body><div class="banner">TEST MODE — no real money moves</div>{body}</body></html>"#,
        title = escape_html(title),
    ))
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
