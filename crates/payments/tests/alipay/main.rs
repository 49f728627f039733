//! Integration tests of `shopcast_payments::alipay` (face-to-face, 当面付).
//!
//! `vectors` checks our signing byte for byte against the official Python SDK; `provider`
//! drives the provider against `stub`, a local gateway that follows Alipay's wire format and
//! checks our signatures, and `code` charges payment codes (trade.pay) there; `web` drives
//! the web payments (wap.pay / page.pay) and `notify` the asynchronous notifications; `sign`
//! and `wire` cover the pure pieces.

mod bad_input;
mod code;
mod keys;
mod notify;
mod provider;
mod sign;
mod stub;
#[path = "../support/tally.rs"]
mod tally;
mod vectors;
#[path = "../support/venv.rs"]
mod venv;
mod web;
mod wire;
