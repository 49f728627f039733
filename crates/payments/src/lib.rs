//! Shopcast payments.
//!
//! For now this crate holds [`static_qr`]: builders (and parsers, where they help) for the
//! text that goes inside a static payment QR code, each exact to its published standard:
//!
//! | module | standard |
//! |---|---|
//! | [`static_qr::epc`] | EPC069-12 SEPA credit transfer ("GiroCode"), versions 001 and 002 |
//! | [`static_qr::emvco`] | EMV® QR Code Specification for Payment Systems, merchant-presented mode |
//! | [`static_qr::pix`] | Banco Central do Brasil Pix "BR Code" (an EMVCo profile), static |
//! | [`static_qr::upi`] | NPCI UPI deep link `upi://pay?…` |
//!
//! Money always comes in as integer minor units (`i64`, cents) with an ISO 4217 code that is
//! either given or fixed by the standard; no floating point is used anywhere.
//! Every failure is a [`PayloadError`] whose message says in plain words what is wrong and
//! whose [`PayloadError::code`] is stable.

pub mod static_qr;

pub use static_qr::{PayloadError, crc16_ccitt_false};
