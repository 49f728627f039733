//! Stripe's event feed (`GET /v1/events`) read as [`ProviderEvent`]s: which event types matter,
//! how one page is read, and how each event's object maps to a payment state.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::provider::{PaymentStatus, ProviderEvent, UnreadableEvent};
use crate::stripe::units;

/// The event types that move a payment. Sent as `types[]` where the server supports it, and
/// always applied here too (localstripe rejects `types[]`, so it lists everything).
pub const EVENT_TYPES: [&str; 7] = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
];

/// One page of `GET /v1/events`. Events are kept as received so `raw` is Stripe's own text.
#[derive(Deserialize)]
pub(crate) struct EventPage {
    pub data: Vec<Box<RawValue>>,
    pub has_more: bool,
}

/// An event as listed: what is needed to page, sort and de-duplicate, plus its raw text.
pub(crate) struct ListedEvent {
    pub id: String,
    pub kind: String,
    pub created: i64,
    raw: Box<RawValue>,
}

#[derive(Deserialize)]
struct EventHead {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
}

impl ListedEvent {
    /// The event's head; one without id, type or time is kept aside as unreadable (under its
    /// id when it has one, else a name made from its text, so a replay keeps it once).
    pub fn read(raw: Box<RawValue>) -> Result<ListedEvent, UnreadableEvent> {
        match serde_json::from_str::<EventHead>(raw.get()) {
            Ok(head) => Ok(ListedEvent {
                id: head.id,
                kind: head.kind,
                created: head.created,
                raw,
            }),
            Err(err) => {
                #[derive(Deserialize)]
                struct IdOnly {
                    id: String,
                }
                let event_id = serde_json::from_str::<IdOnly>(raw.get())
                    .map(|only| only.id)
                    .unwrap_or_else(|_| format!("unnamed:{:016x}", fnv1a(raw.get())));
                Err(UnreadableEvent::new(
                    event_id,
                    format!("it has no usable id, type or created time ({err})"),
                    raw.get(),
                ))
            }
        }
    }

    /// The payment state this event reports, or `None` for event types Shopcast does not use.
    /// An event we cannot read comes back as [`UnreadableEvent`], to be kept and skipped.
    pub fn to_provider_event(&self) -> Result<Option<ProviderEvent>, UnreadableEvent> {
        self.read_payment()
            .map_err(|reason| UnreadableEvent::new(self.id.clone(), reason, self.raw.get()))
    }

    fn read_payment(&self) -> Result<Option<ProviderEvent>, String> {
        let Some(state) = self.payment_state()? else {
            return Ok(None);
        };
        let occurred_at = Timestamp::from_second(self.created)
            .map_err(|err| format!("its time {} is impossible ({err})", self.created))?;
        check_amounts(&state)?;
        let in_ours = |amount: i64| {
            units::from_stripe(amount, &state.currency).map_err(|_| {
                format!(
                    "its amount {amount} is not a whole number of our {} units",
                    state.currency.to_ascii_uppercase()
                )
            })
        };
        Ok(Some(ProviderEvent {
            event_id: self.id.clone(),
            amount_minor: in_ours(state.amount_minor)?,
            refunded_total_minor: state.refunded_total_minor.map(in_ours).transpose()?,
            currency: state.currency.to_ascii_uppercase(),
            provider_ref: state.provider_ref,
            order_ref: state.order_ref,
            charge_ref: state.charge_ref,
            status: state.status,
            method: state.method,
            source_tag: state.source_tag,
            occurred_at,
            raw: self.raw.get().to_string(),
        }))
    }

    fn payment_state(&self) -> Result<Option<PaymentState>, String> {
        let intent = |status| Ok::<_, String>(self.object::<PaymentIntent>()?.state(status));
        let session = |status| self.object::<CheckoutSession>()?.state(status);
        let state = match self.kind.as_str() {
            "payment_intent.succeeded" => intent(PaymentStatus::Paid)?,
            "payment_intent.payment_failed" => intent(PaymentStatus::Failed)?,
            "checkout.session.completed" => {
                let session: CheckoutSession = self.object()?;
                // Delayed methods (bank debits) complete the session before the money arrives;
                // `checkout.session.async_payment_succeeded` follows.
                let status = match session.payment_status.as_deref() {
                    Some("unpaid") => PaymentStatus::Pending,
                    _ => PaymentStatus::Paid,
                };
                session.state(status)?
            }
            "checkout.session.async_payment_succeeded" => session(PaymentStatus::Paid)?,
            "checkout.session.async_payment_failed" => session(PaymentStatus::Failed)?,
            "checkout.session.expired" => {
                let session: CheckoutSession = self.object()?;
                let mut state = session.state(PaymentStatus::Expired)?;
                // Nothing was paid, so the session itself is the payment's id.
                state.provider_ref = session.id;
                state
            }
            "charge.refunded" => self.object::<StripeCharge>()?.state(),
            _ => return Ok(None),
        };
        Ok(Some(state))
    }

    /// `data.object`, read as the type this event carries.
    fn object<T: DeserializeOwned>(&self) -> Result<T, String> {
        #[derive(Deserialize)]
        struct Envelope<T> {
            data: Data<T>,
        }
        #[derive(Deserialize)]
        struct Data<T> {
            object: T,
        }
        serde_json::from_str::<Envelope<T>>(self.raw.get())
            .map(|envelope| envelope.data.object)
            .map_err(|err| format!("its {} object could not be read ({err})", self.kind))
    }
}

/// What one event says about one payment, before it becomes a [`ProviderEvent`].
struct PaymentState {
    provider_ref: String,
    order_ref: Option<String>,
    charge_ref: Option<String>,
    status: PaymentStatus,
    amount_minor: i64,
    currency: String,
    refunded_total_minor: Option<i64>,
    method: Option<String>,
    source_tag: Option<String>,
}

type Metadata = Option<BTreeMap<String, serde_json::Value>>;

fn order_ref(metadata: &Metadata) -> Option<String> {
    match metadata.as_ref()?.get("order_ref")? {
        serde_json::Value::String(text) if !text.is_empty() => Some(text.clone()),
        _ => None,
    }
}

/// A field Stripe returns either as an id or, when expanded, as the object.
#[derive(Deserialize)]
#[serde(untagged)]
enum Expandable<T> {
    Id(String),
    Object(T),
}

#[derive(Deserialize)]
struct WithId {
    id: String,
}

impl Expandable<WithId> {
    fn id(self) -> String {
        match self {
            Expandable::Id(id) | Expandable::Object(WithId { id }) => id,
        }
    }
}

#[derive(Deserialize)]
struct PaymentIntent {
    id: String,
    amount: i64,
    amount_received: Option<i64>,
    currency: String,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    payment_method_types: Option<Vec<String>>,
    #[serde(default)]
    latest_charge: Option<Expandable<ChargeMethod>>,
}

#[derive(Deserialize)]
struct ChargeMethod {
    payment_method_details: Option<MethodDetails>,
}

#[derive(Deserialize)]
struct MethodDetails {
    #[serde(rename = "type")]
    kind: Option<String>,
}

impl PaymentIntent {
    fn state(self, status: PaymentStatus) -> PaymentState {
        let amount_minor = match status {
            PaymentStatus::Paid => self.amount_received.filter(|&received| received > 0),
            _ => None,
        }
        .unwrap_or(self.amount);
        PaymentState {
            order_ref: order_ref(&self.metadata),
            method: self.method(),
            provider_ref: self.id,
            charge_ref: None,
            status,
            amount_minor,
            currency: self.currency,
            refunded_total_minor: None,
            source_tag: None,
        }
    }

    /// The method actually used when the charge is expanded; otherwise the only method offered.
    /// With several offered (Checkout shows card, Alipay, WeChat Pay…) the first is not
    /// necessarily the one the customer chose, so it is left unknown.
    fn method(&self) -> Option<String> {
        if let Some(Expandable::Object(charge)) = &self.latest_charge
            && let Some(kind) = charge
                .payment_method_details
                .as_ref()
                .and_then(|details| details.kind.clone())
        {
            return Some(kind);
        }
        match self.payment_method_types.as_deref() {
            Some([only]) => Some(only.clone()),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct CheckoutSession {
    id: String,
    payment_intent: Option<Expandable<WithId>>,
    client_reference_id: Option<String>,
    #[serde(default)]
    metadata: Metadata,
    /// Null for sessions that take no payment (setup mode), e.g. another integration's.
    amount_total: Option<i64>,
    currency: Option<String>,
    payment_status: Option<String>,
}

impl CheckoutSession {
    fn state(&self, status: PaymentStatus) -> Result<PaymentState, String> {
        let Some(amount_minor) = self.amount_total else {
            return Err("amount_total is null".to_string());
        };
        let Some(currency) = self.currency.clone().filter(|c| !c.is_empty()) else {
            return Err("currency is null".to_string());
        };
        let source_tag = self
            .client_reference_id
            .clone()
            .filter(|tag| !tag.is_empty());
        let provider_ref = match &self.payment_intent {
            Some(Expandable::Id(id)) | Some(Expandable::Object(WithId { id })) => id.clone(),
            None => self.id.clone(),
        };
        Ok(PaymentState {
            provider_ref,
            // Sessions we create carry metadata[order_ref]; Payment Links only carry the tag.
            order_ref: order_ref(&self.metadata).or_else(|| source_tag.clone()),
            charge_ref: Some(self.id.clone()),
            status,
            amount_minor,
            currency,
            refunded_total_minor: None,
            method: None,
            source_tag,
        })
    }
}

#[derive(Deserialize)]
struct StripeCharge {
    id: String,
    amount: i64,
    amount_refunded: i64,
    currency: String,
    payment_intent: Option<Expandable<WithId>>,
    #[serde(default)]
    metadata: Metadata,
    payment_method_details: Option<MethodDetails>,
}

impl StripeCharge {
    fn state(self) -> PaymentState {
        let status = if self.amount_refunded >= self.amount {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::Paid
        };
        PaymentState {
            order_ref: order_ref(&self.metadata),
            provider_ref: self.payment_intent.map_or(self.id, Expandable::id),
            charge_ref: None,
            status,
            amount_minor: self.amount,
            currency: self.currency,
            refunded_total_minor: Some(self.amount_refunded),
            method: self.payment_method_details.and_then(|details| details.kind),
            source_tag: None,
        }
    }
}

/// What no payment can be: a currency ISO 4217 does not know, a negative amount, more
/// refunded than was paid. Such an event is set aside rather than recorded.
fn check_amounts(state: &PaymentState) -> Result<(), String> {
    if crate::static_qr::Currency::from_code(&state.currency).is_err() {
        return Err(format!(
            "its currency {:?} is not an ISO 4217 code",
            state.currency
        ));
    }
    if state.amount_minor < 0 {
        return Err(format!("its amount {} is negative", state.amount_minor));
    }
    match state.refunded_total_minor {
        Some(refunded) if !(0..=state.amount_minor).contains(&refunded) => Err(format!(
            "it says {refunded} was refunded of a payment of {}",
            state.amount_minor
        )),
        _ => Ok(()),
    }
}

/// FNV-1a, to name an event that has no id by its text.
pub(crate) fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
