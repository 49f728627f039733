//! WeChat Pay APIv3 for a directly connected merchant: Native QR at the till, payment codes
//! (付款码), refunds. Every request signed, every reply's signature checked ([`sign`]).

pub mod notify;
pub mod sign;
