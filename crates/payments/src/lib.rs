//! Shopcast payments.
//!
//! Payment providers behind one [`PaymentProvider`] trait (see [`provider`]):
//! [`testmode`] (built in, no account), [`stripe`], [`alipay`] (face-to-face, 当面付) and
//! [`wechat`] (WeChat Pay APIv3); [`payment_code`] tells whose payment code (付款码) was scanned.
//! They speak HTTP and sign/verify; they keep no durable state — the engine stores cursors,
//! open charges and the ledger.
//!
//! And [`static_qr`]: builders (and parsers, where they help) for the text that goes inside a
//! static payment QR code, each exact to its published standard:
//!
//! | module | standard |
//! |---|---|
//! | [`static_qr::epc`] | EPC069-12 SEPA credit transfer ("GiroCode"), versions 001 and 002 |
//! | [`static_qr::emvco`] | EMV® QR Code Specification for Payment Systems, merchant-presented mode |
//! | [`static_qr::pix`] | Banco Central do Brasil Pix "BR Code" (an EMVCo profile), static |
//! | [`static_qr::upi`] | NPCI UPI deep link `upi://pay?…` |
//!
//! Money always comes in as integer minor units (`i64`, cents) with an ISO 4217 code; no
//! floating point is used anywhere.

pub mod alipay;
pub mod china;
pub mod http;
pub mod payment_code;
pub mod poll;
pub mod provider;
mod rsa_key;
pub mod static_qr;
pub mod stripe;
pub mod testmode;
pub mod trade_number;
pub mod wechat;

pub use provider::{
    CODE_TRADE_SUFFIX, Charge, ChargeLine, ChargeRequest, CodeCharge, OpenCharge, PaymentProvider,
    PaymentStatus, PollOutcome, ProviderError, ProviderEvent, ProviderKind, Refund, RefundRequest,
    UnreadableEvent, WebCheckout,
};
pub use static_qr::{PayloadError, crc16_ccitt_false};
