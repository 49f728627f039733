//! Alipay's asynchronous notification (异步通知): the form Alipay posts to `notify_url`, read
//! strictly, checked RSA2 over the notification sign string, and turned into a ledger event.
//!
//! The event for a trade state has the same id as the one the poll builds for that state
//! (see [`super::state_event_id`]), so a notify and a poll of one payment record it once.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::sign::{self, AlipayPublicKey};
use super::wire;
use crate::provider::{PaymentStatus, ProviderEvent};

/// The largest notification read; Alipay's are a few KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The most parameters read; Alipay documents about thirty.
pub const MAX_PARAMS: usize = 100;

/// Why a notification was not taken. Each says what was wrong in a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    #[error(
        "The notification is {0} bytes, more than the {MAX_BODY_BYTES} a genuine Alipay notification ever needs."
    )]
    TooLarge(usize),
    #[error("The notification has more than {MAX_PARAMS} parameters; Alipay sends about thirty.")]
    TooManyParams,
    #[error("The notification is not a well-formed form body: {0}.")]
    Malformed(String),
    #[error(
        "The notification is in charset {0:?}; Shopcast reads only UTF-8 notifications (choose UTF-8 for the app in the Alipay console)."
    )]
    Charset(String),
    #[error("The notification is signed with {0:?}; Shopcast accepts only RSA2 (SHA256withRSA).")]
    SignType(String),
    #[error(
        "The notification's signature does not match the Alipay public key (支付宝公钥) in settings, so it is not from Alipay or was changed on the way."
    )]
    BadSignature,
    #[error("The notification has no {0}.")]
    Missing(&'static str),
    #[error("The notification's {field} {value:?} cannot be read.")]
    Unreadable { field: &'static str, value: String },
}

/// The trade states a notification can report.
const STATES: [&str; 4] = [
    "WAIT_BUYER_PAY",
    "TRADE_SUCCESS",
    "TRADE_FINISHED",
    "TRADE_CLOSED",
];

/// A notification whose signature checked out: the facts the ledger takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub app_id: String,
    /// Our trade number (the charge).
    pub out_trade_no: String,
    /// Alipay's trade number (the payment).
    pub trade_no: String,
    pub trade_status: String,
    pub total_amount_minor: i64,
    /// Refunded so far, in fen, when the notification is about a refund.
    pub refund_fee_minor: Option<i64>,
    pub gmt_payment: Option<Timestamp>,
    pub gmt_refund: Option<Timestamp>,
    pub gmt_close: Option<Timestamp>,
    pub notify_time: Option<Timestamp>,
    pub notify_id: String,
    /// The form body exactly as received.
    pub raw: String,
}

/// Reads a form body strictly: visible ASCII only, `key=value` pairs joined by `&`, valid
/// `%XX` escapes and `+` for space, UTF-8 once decoded, no key twice.
pub fn parse_form(body: &[u8]) -> Result<BTreeMap<String, String>, NotifyError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(NotifyError::TooLarge(body.len()));
    }
    let malformed = |why: String| NotifyError::Malformed(why);
    if body.is_empty() {
        return Err(malformed("it is empty".into()));
    }
    if let Some(at) = body.iter().position(|b| !(0x21..=0x7e).contains(b)) {
        return Err(malformed(format!(
            "byte {at} is not printable ASCII (a form body is percent-encoded)"
        )));
    }
    let mut params = BTreeMap::new();
    for (index, pair) in body.split(|&b| b == b'&').enumerate() {
        if index >= MAX_PARAMS {
            return Err(NotifyError::TooManyParams);
        }
        let Some(eq) = pair.iter().position(|&b| b == b'=') else {
            return Err(malformed(format!("parameter {} has no '='", index + 1)));
        };
        let key = decode(&pair[..eq]).map_err(&malformed)?;
        let value = decode(&pair[eq + 1..]).map_err(&malformed)?;
        if key.is_empty() {
            return Err(malformed(format!("parameter {} has no name", index + 1)));
        }
        if params.contains_key(&key) {
            return Err(malformed(format!("parameter {key} appears twice")));
        }
        params.insert(key, value);
    }
    Ok(params)
}

/// One form-encoded name or value, decoded.
fn decode(text: &[u8]) -> Result<String, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    while at < text.len() {
        match text[at] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text
                    .get(at + 1..at + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .ok_or_else(|| "a '%' is not followed by two hex digits".to_string())?;
                out.push(u8::from_str_radix(hex, 16).expect("two hex digits"));
                at += 2;
            }
            byte => out.push(byte),
        }
        at += 1;
    }
    String::from_utf8(out).map_err(|_| "a value is not UTF-8 once decoded".to_string())
}

/// Checks a notification body as Alipay documents it and reads its facts: UTF-8 charset,
/// `sign_type` RSA2, and Alipay's signature over [`sign::notification_sign_string`].
pub fn verify(body: &[u8], alipay_key: &AlipayPublicKey) -> Result<Notification, NotifyError> {
    let params = parse_form(body)?;
    let get = |name: &'static str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let charset = get("charset").ok_or(NotifyError::Missing("charset"))?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return Err(NotifyError::Charset(charset.to_string()));
    }
    // Not covered by the signature, so checked on its own: nobody may pick a weaker one.
    let sign_type = get("sign_type").ok_or(NotifyError::Missing("sign_type"))?;
    if sign_type != "RSA2" {
        return Err(NotifyError::SignType(sign_type.to_string()));
    }
    let signature = get("sign").ok_or(NotifyError::Missing("sign"))?;
    let content = sign::notification_sign_string(&params);
    if !sign::verify(content.as_bytes(), signature, alipay_key) {
        return Err(NotifyError::BadSignature);
    }
    let required = |name: &'static str| {
        get(name)
            .map(str::to_string)
            .ok_or(NotifyError::Missing(name))
    };
    let amount = |name: &'static str| -> Result<Option<i64>, NotifyError> {
        get(name)
            .map(|text| {
                wire::parse_yuan(text).ok_or_else(|| NotifyError::Unreadable {
                    field: name,
                    value: text.to_string(),
                })
            })
            .transpose()
    };
    let time = |name: &'static str| -> Result<Option<Timestamp>, NotifyError> {
        get(name)
            .map(|text| {
                // gmt_refund carries milliseconds ("2026-05-01 20:30:00.123").
                let seconds = text.split_once('.').map_or(text, |(whole, _)| whole);
                wire::parse_time(seconds).ok_or_else(|| NotifyError::Unreadable {
                    field: name,
                    value: text.to_string(),
                })
            })
            .transpose()
    };
    let trade_status = required("trade_status")?;
    if !STATES.contains(&trade_status.as_str()) {
        return Err(NotifyError::Unreadable {
            field: "trade_status",
            value: trade_status,
        });
    }
    Ok(Notification {
        app_id: required("app_id")?,
        out_trade_no: required("out_trade_no")?,
        trade_no: required("trade_no")?,
        trade_status,
        total_amount_minor: amount("total_amount")?.ok_or(NotifyError::Missing("total_amount"))?,
        refund_fee_minor: amount("refund_fee")?,
        gmt_payment: time("gmt_payment")?,
        gmt_refund: time("gmt_refund")?,
        gmt_close: time("gmt_close")?,
        notify_time: time("notify_time")?,
        notify_id: required("notify_id")?,
        raw: String::from_utf8_lossy(body).into_owned(),
    })
}

impl Notification {
    /// The ledger event for this notification about `order_ref`'s charge; `None` for a
    /// state that records nothing (`WAIT_BUYER_PAY`: the buyer opened the page).
    ///
    /// A paid or closed trade gets the id the poll gives that state; a refund gets one made
    /// from the refunded total, so a repeated notification of it is the same event.
    pub fn event(&self, order_ref: Option<&str>) -> Option<ProviderEvent> {
        let out = &self.out_trade_no;
        let refunded = self.refund_fee_minor.filter(|fee| *fee > 0);
        let (event_id, status, refunded_total_minor, at) =
            match (self.trade_status.as_str(), refunded) {
                ("WAIT_BUYER_PAY", _) => return None,
                (paid @ ("TRADE_SUCCESS" | "TRADE_FINISHED"), None) => (
                    super::state_event_id(out, paid),
                    PaymentStatus::Paid,
                    None,
                    self.gmt_payment,
                ),
                (_, Some(fee)) => (
                    format!("notify:{out}:refunded:{fee}"),
                    if fee >= self.total_amount_minor {
                        PaymentStatus::Refunded
                    } else {
                        PaymentStatus::Paid
                    },
                    Some(fee),
                    self.gmt_refund,
                ),
                (_, None) => (
                    super::state_event_id(out, "TRADE_CLOSED"),
                    PaymentStatus::Expired,
                    None,
                    self.gmt_close,
                ),
            };
        Some(ProviderEvent {
            event_id,
            provider_ref: self.trade_no.clone(),
            order_ref: order_ref.map(str::to_string),
            charge_ref: Some(out.clone()),
            status,
            amount_minor: self.total_amount_minor,
            currency: "CNY".to_string(),
            refunded_total_minor,
            method: Some("alipay".to_string()),
            source_tag: None,
            occurred_at: at.or(self.notify_time).unwrap_or_else(Timestamp::now),
            raw: self.raw.clone(),
        })
    }
}
