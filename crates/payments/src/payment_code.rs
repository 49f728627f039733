//! Whose payment code (付款码) the cashier scanned: Alipay's start 25–30, WeChat Pay's 10–15
//! and are 18 digits; anything else gets a plain sentence.

use crate::provider::{ProviderError, ProviderKind};

/// Alipay: "25~30开头的长度为16~24位的数字" (alipay.trade.pay, `auth_code`).
const ALIPAY_PREFIXES: std::ops::RangeInclusive<u8> = 25..=30;
const ALIPAY_LENGTHS: std::ops::RangeInclusive<usize> = 16..=24;
/// WeChat Pay: "18位纯数字，前缀以10、11、12、13、14、15开头" (codepay, `auth_code`).
const WECHAT_PREFIXES: std::ops::RangeInclusive<u8> = 10..=15;
const WECHAT_LENGTH: usize = 18;

/// Why a scan is not a payment code. The text is one sentence for the cashier; it never
/// repeats the code itself (it is the customer's for the next minute or so).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentCodeError {
    #[error(
        "Nothing was scanned. Scan the payment code on the customer's phone, or type its digits."
    )]
    Empty,
    #[error(
        "This is not a payment code: it contains {found:?}, and payment codes are digits only. \
         Ask the customer to open the payment code (付款码) in Alipay or WeChat and scan it again."
    )]
    NotDigits { found: char },
    #[error(
        "This is not an Alipay or WeChat Pay payment code: it starts with {prefix}, and Alipay \
         codes start with 25 to 30, WeChat Pay codes with 10 to 15. Ask the customer to show \
         the payment code (付款码), not another barcode."
    )]
    UnknownPrefix { prefix: String },
    #[error(
        "This looks like {provider_name} payment code but has {digits} digits; \
         {provider_name} payment code has {expected}. Scan it again; if it keeps failing, ask \
         the customer to refresh the code on their phone."
    )]
    WrongLength {
        provider: ProviderKind,
        provider_name: &'static str,
        digits: usize,
        expected: &'static str,
    },
}

/// Trims what the scanner typed (spaces, a trailing Enter) and tells whose code it is:
/// Alipay: 16–24 digits starting 25–30; WeChat Pay: 18 digits starting 10–15.
///
/// Spaces anywhere are dropped (WeChat shows its code's digits in groups of four, and a
/// cashier typing it copies the gaps); full-width digits (０–９, typed with a Chinese input
/// method in full-width mode) are read as the same digits. Anything else is refused.
pub fn provider_of(typed: &str) -> Result<(ProviderKind, String), PaymentCodeError> {
    let mut digits = String::with_capacity(typed.len());
    for c in typed.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '０'..='９' => {
                let value = u32::from(c) - u32::from('０');
                digits.push(char::from_digit(value, 10).expect("a full-width digit is 0–9"));
            }
            // Enter/Tab from the scanner, spaces from a hand-typed code (also U+3000 and NBSP).
            c if c.is_whitespace() || c == '\u{feff}' => {}
            found => return Err(PaymentCodeError::NotDigits { found }),
        }
    }
    if digits.is_empty() {
        return Err(PaymentCodeError::Empty);
    }
    let prefix: u8 = digits
        .get(..2)
        .and_then(|two| two.parse().ok())
        .unwrap_or(u8::MAX);
    let length = digits.len();
    if ALIPAY_PREFIXES.contains(&prefix) {
        if !ALIPAY_LENGTHS.contains(&length) {
            return Err(wrong_length(ProviderKind::Alipay, length));
        }
        return Ok((ProviderKind::Alipay, digits));
    }
    if WECHAT_PREFIXES.contains(&prefix) {
        if length != WECHAT_LENGTH {
            return Err(wrong_length(ProviderKind::Wechat, length));
        }
        return Ok((ProviderKind::Wechat, digits));
    }
    Err(PaymentCodeError::UnknownPrefix {
        prefix: digits.chars().take(2).collect(),
    })
}

/// The digits of a code the cashier scanned for `provider`; a code that is not a payment
/// code, or is another provider's, is refused before anything is sent
/// ([`ProviderError::Rejected`] code "INVALID_AUTH_CODE" with a sentence for the cashier).
pub fn require(provider: ProviderKind, typed: &str) -> Result<String, ProviderError> {
    let name = |kind: ProviderKind| match kind {
        ProviderKind::Wechat => "a WeChat Pay",
        ProviderKind::Alipay => "an Alipay",
        other => other.as_str(),
    };
    let message = match provider_of(typed) {
        Ok((kind, digits)) if kind == provider => return Ok(digits),
        Ok((kind, _)) => format!(
            "This is {} payment code, not {} one.",
            name(kind),
            name(provider)
        ),
        Err(err) => err.to_string(),
    };
    Err(ProviderError::Rejected {
        provider,
        code: "INVALID_AUTH_CODE".to_string(),
        message,
        raw: String::new(),
    })
}

/// What a provider's `charge_code` checks before sending anything: the code is `provider`'s
/// (its digits are returned) and the sale is at the till, not in a buyer's browser.
pub fn till_code(
    provider: ProviderKind,
    request: &crate::ChargeRequest,
    typed: &str,
) -> Result<String, ProviderError> {
    let digits = require(provider, typed)?;
    if request.web.is_some() {
        return Err(ProviderError::Unsupported {
            provider,
            what: "payment codes in the buyer's browser",
        });
    }
    Ok(digits)
}

/// The charge a payment code makes: trade `out_trade_no`, nothing to show (the customer's
/// phone is the screen), the provider's answer as `raw`.
pub fn code_charge(
    out_trade_no: &str,
    request: &crate::ChargeRequest,
    raw: String,
) -> crate::Charge {
    crate::Charge {
        charge_ref: out_trade_no.to_string(),
        qr_payload: String::new(),
        expires_at: request.expires_at,
        raw,
    }
}

fn wrong_length(provider: ProviderKind, digits: usize) -> PaymentCodeError {
    let (provider_name, expected) = match provider {
        ProviderKind::Wechat => ("a WeChat Pay", "18"),
        _ => ("an Alipay", "16 to 24"),
    };
    PaymentCodeError::WrongLength {
        provider,
        provider_name,
        digits,
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `length` digits starting with `prefix`, the rest counting up.
    fn code(prefix: u8, length: usize) -> String {
        let mut text = format!("{prefix:02}");
        let mut next = 0u32;
        while text.len() < length {
            text.push(char::from_digit(next % 10, 10).unwrap());
            next += 7;
        }
        text
    }

    #[test]
    fn every_alipay_prefix_at_every_length_is_alipay() {
        for prefix in 25..=30 {
            for length in 16..=24 {
                let scanned = code(prefix, length);
                assert_eq!(
                    provider_of(&scanned),
                    Ok((ProviderKind::Alipay, scanned.clone())),
                    "{scanned}"
                );
            }
            for length in [2, 15, 25, 32] {
                let err = provider_of(&code(prefix, length)).unwrap_err();
                assert_eq!(
                    err,
                    wrong_length(ProviderKind::Alipay, length),
                    "{prefix} at {length}"
                );
                assert!(err.to_string().contains("16 to 24"), "{err}");
            }
        }
    }

    #[test]
    fn every_wechat_prefix_at_eighteen_digits_is_wechat() {
        for prefix in 10..=15 {
            let scanned = code(prefix, 18);
            assert_eq!(
                provider_of(&scanned),
                Ok((ProviderKind::Wechat, scanned.clone()))
            );
            // 17 and 19 digits look like WeChat's but are not: refused, never guessed.
            for length in [16, 17, 19, 20] {
                let err = provider_of(&code(prefix, length)).unwrap_err();
                assert_eq!(err, wrong_length(ProviderKind::Wechat, length));
                let sentence = err.to_string();
                assert!(sentence.contains("WeChat Pay"), "{sentence}");
                assert!(sentence.contains(&format!("{length} digits")), "{sentence}");
            }
        }
    }

    #[test]
    fn other_prefixes_are_not_payment_codes() {
        for prefix in (0..10).chain(16..25).chain(31..100) {
            for length in [16, 18, 24] {
                let err = provider_of(&code(prefix, length)).unwrap_err();
                assert_eq!(
                    err,
                    PaymentCodeError::UnknownPrefix {
                        prefix: format!("{prefix:02}")
                    }
                );
            }
        }
        // A product barcode (EAN-13) and a UnionPay QuickPass code (62…).
        let sentence = provider_of("6901234567892").unwrap_err().to_string();
        assert!(sentence.starts_with("This is not an Alipay or WeChat Pay payment code"));
        assert!(sentence.contains("starts with 69"), "{sentence}");
        assert!(matches!(
            provider_of("6222020200112233445"),
            Err(PaymentCodeError::UnknownPrefix { .. })
        ));
        // One digit: no prefix to read.
        assert_eq!(
            provider_of("2"),
            Err(PaymentCodeError::UnknownPrefix {
                prefix: "2".to_string()
            })
        );
    }

    #[test]
    fn the_scanners_enter_and_spaces_are_trimmed() {
        let alipay = "287634438256643940";
        for typed in [
            format!("{alipay}\n"),
            format!("{alipay}\r\n"),
            format!("{alipay}\t"),
            format!("  {alipay}  "),
            "2876 3443 8256 6439 40".to_string(),
            format!("\u{3000}{alipay}\u{a0}"),
        ] {
            assert_eq!(
                provider_of(&typed),
                Ok((ProviderKind::Alipay, alipay.to_string())),
                "{typed:?}"
            );
        }
        assert_eq!(
            provider_of("1345 6789 0123 456789\n"),
            Ok((ProviderKind::Wechat, "134567890123456789".to_string()))
        );
    }

    #[test]
    fn full_width_digits_are_read_as_digits() {
        assert_eq!(
            provider_of("２８７６３４４３８２５６６４３９４０"),
            Ok((ProviderKind::Alipay, "287634438256643940".to_string()))
        );
        assert_eq!(
            provider_of("１３４５６７８９０１２３４５６７８９"),
            Ok((ProviderKind::Wechat, "134567890123456789".to_string()))
        );
    }

    #[test]
    fn letters_and_other_digits_are_refused_with_the_character_named() {
        for (typed, found) in [
            ("28763443825664394a", 'a'),
            ("O2876344382566439", 'O'),
            ("2876-3443-8256-6439", '-'),
            ("https://qr.alipay.com/bax01234", 'h'),
            // Arabic-Indic digits are digits, but not a payment code's.
            ("٢٨٧٦٣٤٤٣٨٢٥٦٦٤٣٩٤", '٢'),
        ] {
            let err = provider_of(typed).unwrap_err();
            assert_eq!(err, PaymentCodeError::NotDigits { found }, "{typed}");
            let sentence = err.to_string();
            assert!(
                sentence.starts_with("This is not a payment code:"),
                "{sentence}"
            );
        }
    }

    #[test]
    fn nothing_scanned_says_so() {
        for typed in ["", "\n", "   \r\n", "\u{3000}"] {
            let err = provider_of(typed).unwrap_err();
            assert_eq!(err, PaymentCodeError::Empty);
            assert!(err.to_string().starts_with("Nothing was scanned."));
        }
    }

    #[test]
    fn sentences_never_repeat_the_code() {
        for typed in [
            "2876344382566439401234567",
            "13456789012345678",
            "99887766554433221100",
        ] {
            let sentence = provider_of(typed).unwrap_err().to_string();
            assert!(!sentence.contains(&typed[..8]), "{sentence}");
        }
    }

    #[test]
    fn require_takes_only_the_named_providers_codes() {
        let wechat = "1345 6789 0123 4567 89";
        let alipay = code(28, 18);
        assert_eq!(
            require(ProviderKind::Wechat, wechat).unwrap(),
            "134567890123456789"
        );
        assert_eq!(require(ProviderKind::Alipay, &alipay).unwrap(), alipay);
        for (kind, typed, says) in [
            (
                ProviderKind::Wechat,
                alipay.as_str(),
                "This is an Alipay payment code, not a WeChat Pay one.",
            ),
            (
                ProviderKind::Alipay,
                wechat,
                "This is a WeChat Pay payment code, not an Alipay one.",
            ),
            (
                ProviderKind::Wechat,
                "99",
                "not an Alipay or WeChat Pay payment code",
            ),
        ] {
            match require(kind, typed).unwrap_err() {
                ProviderError::Rejected {
                    provider,
                    code,
                    message,
                    ..
                } => {
                    assert_eq!((provider, code.as_str()), (kind, "INVALID_AUTH_CODE"));
                    assert!(message.contains(says), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
