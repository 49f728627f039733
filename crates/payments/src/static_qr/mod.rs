//! Static payment-QR payloads, one submodule per standard.
//!
//! Each builder validates every field against its standard and returns the exact payload to
//! encode in the QR symbol (rendering the symbol itself is left to the caller).

mod crc;
mod error;
mod money;
mod text;

pub mod emvco;
pub mod epc;
pub mod iban;
pub mod pix;
pub mod upi;

pub use crc::crc16_ccitt_false;
pub use error::PayloadError;
pub use money::Currency;
