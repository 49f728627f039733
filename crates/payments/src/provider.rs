//! The provider-neutral shape of a payment: what the till asks a provider for, and what a
//! provider reports back. Each provider module (`stripe`, `alipay`, `testmode`) implements
//! [`PaymentProvider`]; the engine (`shopcast-core`) decides what gets stored.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Which provider a payment came through. The string form is what the ledger stores.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Built-in test mode: a local checkout page, no account needed.
    Test,
    Stripe,
    /// Alipay face-to-face (当面付).
    Alipay,
    /// WeChat Pay APIv3, a directly connected merchant (Native QR and payment codes).
    Wechat,
    /// Cash or a static bank QR, marked paid by hand.
    Manual,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Test => "test",
            ProviderKind::Stripe => "stripe",
            ProviderKind::Alipay => "alipay",
            ProviderKind::Wechat => "wechat",
            ProviderKind::Manual => "manual",
        }
    }

    pub fn parse(text: &str) -> Option<ProviderKind> {
        [
            ProviderKind::Test,
            ProviderKind::Stripe,
            ProviderKind::Alipay,
            ProviderKind::Wechat,
            ProviderKind::Manual,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of what is being sold, for providers that show line items (Stripe Checkout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeLine {
    pub name: String,
    pub quantity: u32,
    pub unit_amount_minor: i64,
}

/// Ask a provider for a way to pay one order: a QR the customer scans at the till.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRequest {
    /// Our order reference (e.g. "O-42"); providers echo it back (metadata / out_trade_no).
    pub order_ref: String,
    pub amount_minor: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    /// What the buyer sees on their phone, any script ("青花瓷杯 ×2").
    pub subject: String,
    pub lines: Vec<ChargeLine>,
    pub expires_at: Timestamp,
    /// Attribution tag carried to the provider where it has a slot for one
    /// (Stripe `client_reference_id`), e.g. "till", "post:12", "sign:S1A2B3C4".
    pub source_tag: Option<String>,
    /// Set when the buyer pays in a browser (the shop page) rather than at the till.
    pub web: Option<WebCheckout>,
}

/// A buyer paying in their own browser: where the provider sends them and its notification
/// afterwards, and which kind of page suits their device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebCheckout {
    /// Where the buyer lands after paying (the shop page's receipt), absolute https or loopback.
    pub return_url: String,
    /// Where the provider posts its asynchronous notification (Alipay `notify_url`); `None`
    /// when the shop page is not reachable from the internet (polling then records the payment).
    pub notify_url: Option<String>,
    /// The buyer is on a phone (Alipay 手机网站支付 `wap.pay`) rather than a computer
    /// (电脑网站支付 `page.pay`).
    pub phone: bool,
}

/// What the provider created for a [`ChargeRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The provider's id for this payment attempt (Checkout Session id, Alipay out_trade_no,
    /// test-mode token). Used to poll, cancel and match events.
    pub charge_ref: String,
    /// The text to put in the QR code (a URL or the provider's own code); for a web checkout,
    /// the address to send the buyer's browser to.
    pub qr_payload: String,
    pub expires_at: Timestamp,
    /// The provider's reply exactly as received, for the payment detail view.
    pub raw: String,
}

/// What charging a customer's payment code (付款码) brought at once.
// One per scan at the till, moved straight into the ledger: boxing the event buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCharge {
    /// Paid on the spot (small amounts need no confirmation on the phone). `event` is the
    /// payment, with the same event id a later query of the trade would give.
    Paid {
        charge: Charge,
        event: ProviderEvent,
    },
    /// Not settled yet: the customer is confirming on the phone (Alipay `WAIT_BUYER_PAY`,
    /// WeChat `USERPAYING`), or the reply was uncertain (timeout, 5xx, `SYSTEMERROR`) so the
    /// trade may exist. The charge is open: it is polled like any other until paid, failed or
    /// expired, and withdrawn on expiry (Alipay `trade.cancel`, WeChat `reverse`), so no
    /// customer is charged for a sale the till gave up.
    Waiting { charge: Charge },
}

/// How a payment-code trade's number ends (`<order ref>_C`), telling it apart from QR and web
/// trades when it is withdrawn.
pub const CODE_TRADE_SUFFIX: &str = "_C";

/// A charge still waiting for the customer, passed to providers that must be asked about each
/// open charge (Alipay `trade.query`) rather than reading an event feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCharge {
    pub charge_ref: String,
    pub order_ref: String,
    pub amount_minor: i64,
    pub currency: String,
    pub expires_at: Timestamp,
}

/// Where a payment stands at the provider.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Paid,
    Failed,
    Expired,
    /// Fully refunded. A partial refund keeps `Paid` with `refunded_total_minor` > 0.
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Expired => "expired",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn parse(text: &str) -> Option<PaymentStatus> {
        [
            PaymentStatus::Pending,
            PaymentStatus::Paid,
            PaymentStatus::Failed,
            PaymentStatus::Expired,
            PaymentStatus::Refunded,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// One thing a provider told us about one payment. Ingesting the same event twice must change
/// nothing: `event_id` is unique per provider and the ledger keys on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// Unique per provider (Stripe `evt_…`; for polled providers a stable id built from the
    /// trade and its state, e.g. "query:2026…:TRADE_SUCCESS").
    pub event_id: String,
    /// The payment's id at the provider (Stripe PaymentIntent id, Alipay trade_no or
    /// out_trade_no, test-mode token). The ledger keeps one payment per (provider, provider_ref).
    pub provider_ref: String,
    /// Our order reference, when the provider echoes it.
    pub order_ref: Option<String>,
    /// The charge (session / trade) this belongs to, when known.
    pub charge_ref: Option<String>,
    pub status: PaymentStatus,
    /// Amount of the payment as the provider states it.
    pub amount_minor: i64,
    pub currency: String,
    /// Total refunded so far, when the provider states it (cumulative, not a delta).
    pub refunded_total_minor: Option<i64>,
    /// Payment method in the provider's words ("card", "alipay", "test").
    pub method: Option<String>,
    /// Attribution tag echoed back by the provider (Stripe `client_reference_id`).
    pub source_tag: Option<String>,
    pub occurred_at: Timestamp,
    /// The provider's event exactly as received.
    pub raw: String,
}

/// What one poll brought: new events (possibly some seen before) and where to resume.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollOutcome {
    pub events: Vec<ProviderEvent>,
    /// Opaque resume point to persist; `None` keeps the previous one.
    pub cursor: Option<String>,
    /// Events in the feed we could not read: kept for review and skipped, so that one odd
    /// event (another integration's setup-mode session) never stops the payments after it.
    pub unreadable: Vec<UnreadableEvent>,
}

/// The most of an unreadable event's text that is kept for review.
pub const UNREADABLE_RAW_MAX_BYTES: usize = 16 * 1024;

/// A provider event we could not read, kept as received (cut to a bounded size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableEvent {
    /// The provider's id for the event (Stripe `evt_…`), or a name made from its text.
    pub event_id: String,
    /// Why, in words ("amount_total is null").
    pub reason: String,
    /// The event's text, at most [`UNREADABLE_RAW_MAX_BYTES`] and a marker.
    pub raw: String,
}

impl UnreadableEvent {
    pub fn new(event_id: String, reason: String, raw: &str) -> UnreadableEvent {
        UnreadableEvent {
            event_id,
            reason,
            raw: crate::http::cut(raw, UNREADABLE_RAW_MAX_BYTES).into_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// The payment's id at the provider.
    pub provider_ref: String,
    /// The charge it came from (Alipay needs out_trade_no).
    pub charge_ref: Option<String>,
    /// Amount to refund now (a delta, not the total).
    pub amount_minor: i64,
    pub currency: String,
    /// Our id for this refund, so a retried request cannot refund twice
    /// (Stripe Idempotency-Key, Alipay out_request_no).
    pub refund_ref: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The provider's id for the refund.
    pub refund_id: String,
    pub amount_minor: i64,
    /// Total refunded on the payment after this one, when the provider says.
    pub refunded_total_minor: Option<i64>,
    pub raw: String,
}

/// Why a provider call failed. [`ProviderError::is_retryable`] tells the watcher whether to
/// back off and try again or to stop and show the owner.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("could not reach {provider}: {detail}")]
    Unreachable {
        provider: ProviderKind,
        detail: String,
    },
    #[error("{provider} is rate limiting us")]
    RateLimited {
        provider: ProviderKind,
        retry_after: Option<Duration>,
    },
    #[error("{provider} had a server error (HTTP {status})")]
    Server {
        provider: ProviderKind,
        status: u16,
        body: String,
    },
    #[error("{provider} sent a reply we could not read: {detail}")]
    BadResponse {
        provider: ProviderKind,
        detail: String,
    },
    #[error("{provider} refused: {message}")]
    Rejected {
        provider: ProviderKind,
        /// The provider's own error code (Stripe `error.code`, Alipay `sub_code`).
        code: String,
        message: String,
        raw: String,
    },
    /// Asked to withdraw a charge the customer has already paid: nothing was withdrawn, and
    /// the payment is recorded by the next poll. Not "withdrawn" (the charge must stay
    /// watched, or the payment would be lost) and not worth retrying.
    #[error("{provider}: the customer has already paid this; it is recorded by the next poll")]
    Paid { provider: ProviderKind },
    #[error("{provider} reply failed signature verification: {detail}")]
    BadSignature {
        provider: ProviderKind,
        detail: String,
    },
    #[error("{provider} is not set up correctly: {detail}")]
    Config {
        provider: ProviderKind,
        detail: String,
    },
    /// An amount the provider cannot charge in that currency (Stripe counts ISK in whole
    /// krónur, KWD in steps of 0.010); refused before anything is sent.
    #[error("{provider} cannot take this amount: {detail}")]
    Amount {
        provider: ProviderKind,
        detail: String,
    },
    #[error("{provider} does not support {what}")]
    Unsupported {
        provider: ProviderKind,
        what: &'static str,
    },
}

impl ProviderError {
    /// Every code [`Self::code`] can return (the engine maps each into its vocabulary).
    pub const CODES: &'static [&'static str] = &[
        "provider_unreachable",
        "provider_rate_limited",
        "provider_server_error",
        "provider_bad_response",
        "provider_rejected",
        "provider_bad_signature",
        "provider_config",
        "provider_unsupported",
        "provider_amount",
    ];

    /// Transient: worth retrying with backoff (network, 429, 5xx, unreadable reply).
    /// A failed signature is retried too (the next reply may be genuine) but never recorded.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ProviderError::Unreachable { .. }
                | ProviderError::RateLimited { .. }
                | ProviderError::Server { .. }
                | ProviderError::BadResponse { .. }
                | ProviderError::BadSignature { .. }
        )
    }

    /// How long the provider asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Stable code for the UI and logs.
    pub fn code(&self) -> &'static str {
        match self {
            ProviderError::Unreachable { .. } => "provider_unreachable",
            ProviderError::RateLimited { .. } => "provider_rate_limited",
            ProviderError::Server { .. } => "provider_server_error",
            ProviderError::BadResponse { .. } => "provider_bad_response",
            ProviderError::Rejected { .. } | ProviderError::Paid { .. } => "provider_rejected",
            ProviderError::BadSignature { .. } => "provider_bad_signature",
            ProviderError::Config { .. } => "provider_config",
            ProviderError::Unsupported { .. } => "provider_unsupported",
            ProviderError::Amount { .. } => "provider_amount",
        }
    }
}

/// One payment provider. Implementations hold their own credentials and HTTP client; they
/// keep no durable state (the engine persists cursors and open charges).
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    fn kind(&self) -> ProviderKind;

    /// Creates a way to pay `request` and returns what to show as the QR.
    async fn create_charge(&self, request: &ChargeRequest) -> Result<Charge, ProviderError>;

    /// Fetches what happened since `cursor`. Feed-based providers (Stripe) read their event
    /// list and may return events seen before (the ledger de-duplicates); per-charge providers
    /// (Alipay) ask about each of `open` and report the ones that settled or expired.
    async fn poll(
        &self,
        cursor: Option<&str>,
        open: &[OpenCharge],
    ) -> Result<PollOutcome, ProviderError>;

    /// Charges the payment code (付款码) the cashier scanned from the customer's phone
    /// (`auth_code`, digits only, already checked to belong to this provider). The charge's
    /// `charge_ref` is the trade number, which ends in [`CODE_TRADE_SUFFIX`] so that
    /// [`PaymentProvider::cancel`] knows to cancel/reverse rather than close it. A code the
    /// provider refuses outright (expired code, insufficient balance) is
    /// [`ProviderError::Rejected`] with the provider's words.
    async fn charge_code(
        &self,
        _request: &ChargeRequest,
        _auth_code: &str,
    ) -> Result<CodeCharge, ProviderError> {
        Err(ProviderError::Unsupported {
            provider: self.kind(),
            what: "payment codes",
        })
    }

    /// Withdraws a charge that was not paid (expired or abandoned at the till).
    async fn cancel(&self, charge: &OpenCharge) -> Result<(), ProviderError>;

    /// Refunds part or all of a payment.
    async fn refund(&self, request: &RefundRequest) -> Result<Refund, ProviderError>;

    /// Creates a reusable link that sells one `product` (Stripe Payment Link), for signs and
    /// posts; `None` when the provider has no such links.
    async fn reusable_link(
        &self,
        _product: &crate::stripe::PaymentLinkProduct,
    ) -> Result<Option<crate::stripe::PaymentLink>, ProviderError> {
        Ok(None)
    }

    /// `url` (a reusable link) tagged with where it is shown ("sign-S1A2B3C4", "post-12"),
    /// so payments through it are attributed; `None` if the provider cannot carry the tag.
    fn tag_link(&self, _url: &str, _tag: &str) -> Option<String> {
        None
    }
}

impl std::fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ProviderKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<&str> for PaymentStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
