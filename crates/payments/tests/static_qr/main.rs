//! Integration tests of `shopcast_payments::static_qr`, one module per standard.
//!
//! Published examples are matched byte for byte; each test names its source.

mod crc;
mod emvco;
mod epc;
mod generated;
mod iban;
mod pix;
mod upi;
