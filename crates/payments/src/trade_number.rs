//! Trade numbers (out_trade_no) for Alipay and WeChat Pay: the order reference and a short
//! time-based suffix, so a second QR for one order gets a new number; marks tell kinds apart.

use std::sync::atomic::{AtomicU32, Ordering};

use jiff::Timestamp;

use crate::provider::CODE_TRADE_SUFFIX;

/// A new trade number of at most `max_chars`: the order reference (only ASCII letters and
/// digits survive, the rest becomes `_`), `_`, a base-36 time and sequence, then `mark`.
/// Providers keep a number for good once used, so each QR or scan gets a new one.
pub fn numbered(order_ref: &str, mark: &str, max_chars: usize) -> String {
    static SEQUENCE: AtomicU32 = AtomicU32::new(0);
    let millis = u64::try_from(Timestamp::now().as_millisecond()).unwrap_or_default();
    let sequence = u64::from(SEQUENCE.fetch_add(1, Ordering::Relaxed) % (36 * 36));
    let suffix = format!("{}{:0>2}", base36(millis), base36(sequence));
    let stem: String = order_ref
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(max_chars.saturating_sub(1 + suffix.len() + mark.len()))
        .collect();
    format!("{stem}_{suffix}{mark}")
}

/// Whether a trade number is a payment code's (ends in [`CODE_TRADE_SUFFIX`]): withdrawn
/// with cancel / reverse, never merely closed.
pub fn is_code_trade(out_trade_no: &str) -> bool {
    out_trade_no.ends_with(CODE_TRADE_SUFFIX)
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("base36 digits are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_fit_are_new_each_time_and_keep_their_mark() {
        let long = "O-".repeat(40);
        let a = numbered(&long, CODE_TRADE_SUFFIX, 32);
        let b = numbered(&long, CODE_TRADE_SUFFIX, 32);
        assert!(a.len() <= 32 && b.len() <= 32, "{a} {b}");
        assert_ne!(a, b);
        assert!(is_code_trade(&a));
        assert!(!is_code_trade(&numbered("O-1", "", 64)));
        assert!(numbered("O-1", "", 64).starts_with("O_1_"));
    }
}
