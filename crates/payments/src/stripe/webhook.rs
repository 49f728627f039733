//! Stripe webhooks: the `Stripe-Signature` header checked as Stripe's own libraries check it
//! (HMAC-SHA256 over `t.payload`), then the event read exactly as a polled one is.
//!
//! Stripe signs `"{t}.{payload}"` with the endpoint's signing secret (`whsec_…`, the whole
//! string is the key) and sends `t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=…]`: several `v1`
//! while a secret is being rolled, `v0` only for test events of old accounts (never trusted).
//! The event that comes out is the same [`ProviderEvent`] a poll of `GET /v1/events` gives
//! (same `event_id`), so the ledger records a payment seen both ways once.

use std::fmt;
use std::time::Duration;

use hmac::digest::CtOutput;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde_json::value::RawValue;
use sha2::Sha256;

use crate::provider::{ProviderEvent, UnreadableEvent};
use crate::stripe::events::{ListedEvent, fnv1a};

type HmacSha256 = Hmac<Sha256>;

/// How far a signature's time may be from ours, either way: Stripe's libraries' default
/// tolerance against replays, applied to clocks running ahead too.
pub const SIGNATURE_TOLERANCE: Duration = Duration::from_secs(300);

/// The largest payload read: Stripe events are a few kilobytes; more is not Stripe.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

/// The largest `Stripe-Signature` header read (Stripe's are about 200 bytes).
const MAX_HEADER_BYTES: usize = 8 * 1024;

/// Why a webhook delivery was refused. Nothing it carried may be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error(
        "the Stripe webhook signing secret must start with whsec_ (Stripe Dashboard → \
         Developers → Webhooks → your endpoint → Signing secret)"
    )]
    BadSecret,
    #[error("the request has no Stripe-Signature header, so it cannot be from Stripe")]
    NoHeader,
    #[error("the Stripe-Signature header cannot be read: {0}")]
    Malformed(String),
    #[error("the Stripe-Signature header carries no v1 signature")]
    NoSignature,
    #[error(
        "no signature in the Stripe-Signature header matches this payload with the signing \
         secret set (a forged or altered delivery, or the secret of another endpoint)"
    )]
    NoMatch,
    #[error("{}", stale_sentence(*skew_seconds))]
    Stale {
        /// Our time minus the signature's: positive when it is old, negative when ahead.
        skew_seconds: i64,
    },
    #[error("the payload is {bytes} bytes, more than the 1 MiB a Stripe event can be")]
    TooLarge { bytes: usize },
}

fn stale_sentence(skew: i64) -> String {
    let limit = SIGNATURE_TOLERANCE.as_secs();
    if skew >= 0 {
        format!(
            "the signature is {skew} s old, more than the {limit} s allowed (a replayed or \
             long-delayed delivery)"
        )
    } else {
        format!(
            "the signature is dated {} s ahead of this computer's clock, more than the {limit} s \
             allowed (check the clock)",
            skew.unsigned_abs()
        )
    }
}

impl WebhookError {
    /// A stable word for logs and tests.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::BadSecret => "bad_secret",
            WebhookError::NoHeader => "no_header",
            WebhookError::Malformed(_) => "malformed",
            WebhookError::NoSignature => "no_signature",
            WebhookError::NoMatch => "no_match",
            WebhookError::Stale { .. } => "stale",
            WebhookError::TooLarge { .. } => "too_large",
        }
    }
}

/// An endpoint's signing secret. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// `whsec_` and at least one more visible ASCII character; surrounding spaces (a paste)
    /// are dropped.
    pub fn new(text: &str) -> Result<WebhookSecret, WebhookError> {
        let text = text.trim();
        let rest = text.strip_prefix("whsec_").ok_or(WebhookError::BadSecret)?;
        if rest.is_empty() || !rest.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(WebhookError::BadSecret);
        }
        Ok(WebhookSecret(text.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Keyed with the whole secret string, as stripe-python, stripe-node and Stripe's
    /// documentation do (not the base64 after `whsec_`).
    fn mac(&self, timestamp: i64, payload: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(self.0.as_bytes()).expect("any key length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        mac
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(whsec_[redacted])")
    }
}

/// The `Stripe-Signature` value Stripe would send for `payload` signed at `timestamp` (Unix
/// seconds): `t=…,v1=…`. For tests and for replaying a stored event to ourselves.
pub fn signature_header(secret: &WebhookSecret, payload: &[u8], timestamp: i64) -> String {
    let tag = secret.mac(timestamp, payload).finalize().into_bytes();
    let hex: String = tag.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// Checks that `header` signs `payload` with `secret` within [`SIGNATURE_TOLERANCE`] of
/// `now`; returns the signature's time. Every `v1` is tried (a secret being rolled is sent
/// with both); each comparison takes the same time whatever the bytes.
pub fn verify_signature(
    secret: &WebhookSecret,
    header: &str,
    payload: &[u8],
    now: Timestamp,
) -> Result<Timestamp, WebhookError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(WebhookError::TooLarge {
            bytes: payload.len(),
        });
    }
    if header.trim().is_empty() {
        return Err(WebhookError::NoHeader);
    }
    let (timestamp, signatures) = parse_header(header)?;
    if signatures.is_empty() {
        return Err(WebhookError::NoSignature);
    }
    let expected: CtOutput<HmacSha256> = secret.mac(timestamp, payload).finalize();
    let matched = signatures
        .iter()
        .filter_map(|hex| decode_tag(hex))
        .fold(false, |found, tag| {
            found | (CtOutput::<HmacSha256>::new(tag.into()) == expected)
        });
    if !matched {
        return Err(WebhookError::NoMatch);
    }
    let skew_seconds = now.as_second().saturating_sub(timestamp);
    let limit = i64::try_from(SIGNATURE_TOLERANCE.as_secs()).expect("small");
    if skew_seconds.abs() > limit {
        return Err(WebhookError::Stale { skew_seconds });
    }
    Timestamp::from_second(timestamp)
        .map_err(|_| WebhookError::Malformed(format!("t={timestamp} is not a possible time")))
}

/// `t` (exactly one, Unix seconds) and every `v1` value; other schemes (`v0`) are ignored.
fn parse_header(header: &str) -> Result<(i64, Vec<&str>), WebhookError> {
    if header.len() > MAX_HEADER_BYTES {
        return Err(WebhookError::Malformed(format!(
            "it is {} bytes long, more than {MAX_HEADER_BYTES}",
            header.len()
        )));
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    // As Stripe's libraries read it: no spaces, items that are not `key=value` ignored.
    for item in header.split(',') {
        let Some((key, value)) = item.split_once('=') else {
            continue;
        };
        match key {
            "t" => {
                let parsed = (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| value.parse::<i64>().ok())
                    .flatten()
                    .ok_or_else(|| {
                        WebhookError::Malformed(format!(
                            "t={:?} is not a time in seconds",
                            crate::http::truncate(value, 40)
                        ))
                    })?;
                if timestamp.replace(parsed).is_some() {
                    return Err(WebhookError::Malformed("it has two times (t=)".into()));
                }
            }
            "v1" => signatures.push(value),
            _ => {}
        }
    }
    let timestamp =
        timestamp.ok_or_else(|| WebhookError::Malformed("it has no time (t=)".into()))?;
    Ok((timestamp, signatures))
}

/// A `v1` value as the 32 bytes of an HMAC-SHA256, in lower-case hex as Stripe sends it;
/// anything else can match nothing.
fn decode_tag(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let digit = |byte: u8| match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    };
    let mut tag = [0u8; 32];
    for (out, pair) in tag.iter_mut().zip(bytes.chunks_exact(2)) {
        *out = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(tag)
}

/// What a verified delivery carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    /// A payment event, exactly as a poll would report it.
    Payment(ProviderEvent),
    /// An event Shopcast does not use (another type, a session without payment…).
    Other { event_id: String, kind: String },
    /// Signed by Stripe but not readable: kept for review, like an unreadable polled event.
    Unreadable(UnreadableEvent),
}

/// Verifies the delivery (see [`verify_signature`]) and reads its event.
pub fn read_webhook(
    secret: &WebhookSecret,
    header: &str,
    payload: &[u8],
    now: Timestamp,
) -> Result<WebhookEvent, WebhookError> {
    verify_signature(secret, header, payload, now)?;
    let raw = match serde_json::from_slice::<Box<RawValue>>(payload) {
        Ok(raw) => raw,
        Err(err) => {
            let text = String::from_utf8_lossy(payload);
            return Ok(WebhookEvent::Unreadable(UnreadableEvent::new(
                format!("unnamed:{:016x}", fnv1a(&text)),
                format!("it is not JSON ({err})"),
                &text,
            )));
        }
    };
    let event = match ListedEvent::read(raw) {
        Ok(event) => event,
        Err(odd) => return Ok(WebhookEvent::Unreadable(odd)),
    };
    Ok(match event.to_provider_event() {
        Ok(Some(payment)) => WebhookEvent::Payment(payment),
        Ok(None) => WebhookEvent::Other {
            event_id: event.id,
            kind: event.kind,
        },
        Err(odd) => WebhookEvent::Unreadable(odd),
    })
}
