//! UPI payment links (NPCI *UPI Linking Specifications*: "common URL specifications for deep
//! linking and proximity integration"), the text inside Indian UPI QR codes:
//!
//! `upi://pay?pa=<VPA>&pn=<name>[&am=<amount>]&cu=INR[&tn=<note>][&tr=<reference>]`
//!
//! Parameters are always written in this order. Values are percent-encoded per RFC 3986:
//! everything except the unreserved characters `A–Z a–z 0–9 - . _ ~` becomes `%XX` of its
//! UTF-8 bytes (so a space is `%20`, never `+`); the `@` of the VPA is kept as is, as in the
//! specification's examples (`pa=nadeem@npci`) and as RFC 3986 allows in a query.

use super::PayloadError;
use super::money::{self, Currency, check_amount};
use super::text::{optional, required};

/// Largest amount accepted: ₹99,999,999.99. The linking specification sets no maximum; real
/// per-payment limits are far lower and are enforced by the payer's bank.
pub const MAX_AMOUNT_MINOR: i64 = 9_999_999_999;

const STANDARD: &str = "UPI link";

/// A UPI payment request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpiPayment {
    /// Payee virtual payment address, `handle@psp`.
    pub vpa: String,
    /// Payee name (`pn`), at most 99 characters.
    pub name: String,
    /// Amount in paise; `None` lets the payer type it.
    pub amount_minor: Option<i64>,
    /// Transaction note (`tn`), at most 80 characters.
    pub note: Option<String>,
    /// Transaction reference such as an order number (`tr`), at most 35 characters.
    pub reference: Option<String>,
}

impl UpiPayment {
    /// Builds the `upi://pay?…` link.
    pub fn to_payload(&self) -> Result<String, PayloadError> {
        let vpa = validate_vpa(&self.vpa)?;
        required("payee name", &self.name, 99)?;
        let note = optional("transaction note", self.note.as_deref(), 80)?;
        let reference = optional("transaction reference", self.reference.as_deref(), 35)?;

        let mut out = format!("upi://pay?pa={vpa}&pn={}", encode(&self.name));
        if let Some(minor) = self.amount_minor {
            check_amount(minor, MAX_AMOUNT_MINOR, &Currency::INR)?;
            out.push_str("&am=");
            out.push_str(&Currency::INR.format_minor(minor));
        }
        out.push_str("&cu=INR");
        if let Some(n) = note {
            out.push_str("&tn=");
            out.push_str(&encode(n));
        }
        if let Some(r) = reference {
            out.push_str("&tr=");
            out.push_str(&encode(r));
        }
        Ok(out)
    }
}

/// Reads a link written by [`UpiPayment::to_payload`] (or any link with these parameters)
/// back, then re-validates it.
pub fn parse(link: &str) -> Result<UpiPayment, PayloadError> {
    let malformed = |detail: String| PayloadError::Malformed {
        standard: STANDARD,
        detail,
    };
    let query = link
        .strip_prefix("upi://pay?")
        .ok_or_else(|| malformed("it must start with upi://pay?".to_string()))?;
    let mut payment = UpiPayment::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(raw).ok_or_else(|| malformed(format!("bad %-escape in {key}")))?;
        match key {
            "pa" => payment.vpa = value,
            "pn" => payment.name = value,
            "am" => {
                payment.amount_minor = Some(
                    parse_amount(&value)
                        .ok_or_else(|| malformed(format!("am={value} is not an amount")))?,
                )
            }
            "cu" if value != "INR" => return Err(malformed(format!("cu={value} is not INR"))),
            "tn" => payment.note = Some(value),
            "tr" => payment.reference = Some(value),
            _ => {}
        }
    }
    payment.to_payload()?;
    Ok(payment)
}

/// Validates a VPA: a handle of 2–256 letters, digits, `.`, `-` or `_`, then `@`, then a PSP
/// handle of 2–64 letters or digits starting with a letter. Returns it unchanged.
pub fn validate_vpa(vpa: &str) -> Result<String, PayloadError> {
    let invalid = || PayloadError::UpiVpaInvalid {
        vpa: vpa.to_string(),
    };
    let (handle, psp) = vpa.split_once('@').ok_or_else(invalid)?;
    let handle_ok = (2..=256).contains(&handle.len())
        && handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    let psp_ok = (2..=64).contains(&psp.len())
        && psp.as_bytes()[0].is_ascii_alphabetic()
        && psp.bytes().all(|b| b.is_ascii_alphanumeric());
    if handle_ok && psp_ok {
        Ok(vpa.to_string())
    } else {
        Err(invalid())
    }
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn parse_amount(s: &str) -> Option<i64> {
    money::parse_hundredths(s, 12)
}
