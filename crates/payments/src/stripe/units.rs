//! Stripe's amount units, which are not always ISO 4217's: our integer minor units converted to
//! what Stripe's API expects, and Stripe's amounts read back, refusing what Stripe cannot charge.
//!
//! The rules, from Stripe's currency guide (<https://docs.stripe.com/currencies>, sections
//! "Zero-decimal currencies", "Three-decimal currencies" and "Special cases"):
//! - Amounts are in the currency's smallest unit; most currencies have two decimals.
//! - Zero-decimal: BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF VND VUV XAF XOF XPF — the amount is
//!   whole units (¥500 → 500). All are zero-decimal in ISO 4217 too, except MGA (ISO: 2), so
//!   1 ariary is 100 of our minor units and 1 Stripe unit.
//! - ISK and UGX "became zero-decimal, but backwards compatibility requires you to represent
//!   [them] as a two-decimal value, where the decimal amount is always 00": 5 kr → 500, and an
//!   amount not divisible by 100 is refused (`invalid_charge_amount_no_decimal_compatible`).
//!   ISO 4217 gives both 0 decimals, so ours are multiplied by 100. (UGX also appears in the
//!   zero-decimal list; the special case is what the API does.)
//! - HUF and TWD are zero-decimal for payouts only; charges take two-decimal amounts, as ISO.
//! - Three-decimal: BHD JOD KWD OMR TND — three decimals as ISO, but the last digit must be 0
//!   (5.124 KWD must be rounded to 5.120 or 5.130).

use crate::provider::{ProviderError, ProviderKind};
use crate::static_qr::Currency;

/// Currencies Stripe counts in whole units.
const ZERO_DECIMAL: [&str; 15] = [
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "VND", "VUV", "XAF",
    "XOF", "XPF",
];
/// Whole units written with two decimals that are always 00.
const WHOLE_IN_TWO_DECIMALS: [&str; 2] = ["ISK", "UGX"];
/// Three decimals whose last digit must be 0.
const THREE_DECIMAL: [&str; 5] = ["BHD", "JOD", "KWD", "OMR", "TND"];

/// How Stripe writes amounts in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StripeUnits {
    /// Decimals of Stripe's integer amount (2 for EUR, 0 for JPY, 2 for ISK, 3 for KWD).
    pub digits: u32,
    /// Stripe only accepts multiples of this, in its own units (100 for ISK, 10 for KWD).
    pub step: i64,
    /// Decimals of our minor units (ISO 4217).
    pub iso_digits: u32,
}

impl StripeUnits {
    /// The rules for `currency` (ISO 4217 code, any case).
    pub fn of(currency: &str) -> StripeUnits {
        let code = currency.trim().to_ascii_uppercase();
        let iso_digits = Currency::from_code(&code)
            .map(|currency| u32::from(currency.minor_digits))
            .unwrap_or(2);
        let (digits, step) = if ZERO_DECIMAL.contains(&code.as_str()) {
            (0, 1)
        } else if WHOLE_IN_TWO_DECIMALS.contains(&code.as_str()) {
            (2, 100)
        } else if THREE_DECIMAL.contains(&code.as_str()) {
            (3, 10)
        } else {
            (2, 1)
        };
        StripeUnits {
            digits,
            step,
            iso_digits,
        }
    }
}

/// Our `amount_minor` in `currency` as the amount Stripe expects; what Stripe cannot charge
/// (a fraction of a currency it counts whole, a KWD amount whose last digit is not 0) is
/// [`ProviderError::Amount`] with a sentence that says what to change.
pub fn to_stripe(amount_minor: i64, currency: &str, what: &str) -> Result<i64, ProviderError> {
    let units = StripeUnits::of(currency);
    let code = currency.trim().to_ascii_uppercase();
    let shown = shown(amount_minor, &code);
    let amount = if units.digits >= units.iso_digits {
        amount_minor.checked_mul(10_i64.pow(units.digits - units.iso_digits))
    } else {
        let divisor = 10_i64.pow(units.iso_digits - units.digits);
        (amount_minor % divisor == 0).then(|| amount_minor / divisor)
    };
    let Some(amount) = amount else {
        return Err(refused(format!(
            "the {what} {shown} cannot be sent to Stripe: Stripe counts {code} in whole units. \
             Round the price to a whole amount."
        )));
    };
    if amount % units.step != 0 {
        let grain = shown_step(&code, units);
        return Err(refused(format!(
            "the {what} {shown} cannot be charged through Stripe: it only takes {code} amounts \
             in steps of {grain}. Round the price to a multiple of {grain}."
        )));
    }
    Ok(amount)
}

/// An amount Stripe states in `currency` as our minor units; one that does not fit them (a
/// fractional ISK amount from before Stripe made it whole) is a reply we cannot read.
pub fn from_stripe(amount: i64, currency: &str) -> Result<i64, ProviderError> {
    let units = StripeUnits::of(currency);
    let converted = if units.digits >= units.iso_digits {
        let divisor = 10_i64.pow(units.digits - units.iso_digits);
        (amount % divisor == 0).then(|| amount / divisor)
    } else {
        amount.checked_mul(10_i64.pow(units.iso_digits - units.digits))
    };
    converted.ok_or_else(|| ProviderError::BadResponse {
        provider: ProviderKind::Stripe,
        detail: format!(
            "Stripe stated an amount of {amount} in {}, which is not a whole number of our \
             units for that currency",
            currency.to_ascii_uppercase()
        ),
    })
}

/// `amount_minor` as the owner reads it ("5.124 KWD", "123.45 MGA").
fn shown(amount_minor: i64, code: &str) -> String {
    match Currency::from_code(code) {
        Ok(currency) => format!("{} {code}", currency.format_minor(amount_minor)),
        Err(_) => format!("{amount_minor} {code}"),
    }
}

/// The smallest amount Stripe accepts, as the owner reads it ("1 ISK", "0.010 KWD").
fn shown_step(code: &str, units: StripeUnits) -> String {
    let step_minor = if units.digits >= units.iso_digits {
        units.step / 10_i64.pow(units.digits - units.iso_digits)
    } else {
        units.step * 10_i64.pow(units.iso_digits - units.digits)
    };
    shown(step_minor.max(1), code)
}

fn refused(detail: String) -> ProviderError {
    ProviderError::Amount {
        provider: ProviderKind::Stripe,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both_ways(minor: i64, currency: &str, stripe: i64) {
        assert_eq!(
            to_stripe(minor, currency, "price").unwrap(),
            stripe,
            "{currency} out"
        );
        assert_eq!(
            from_stripe(stripe, currency).unwrap(),
            minor,
            "{currency} in"
        );
        let lower = currency.to_ascii_lowercase();
        assert_eq!(from_stripe(stripe, &lower).unwrap(), minor, "{lower} in");
    }

    fn refused_with(minor: i64, currency: &str) -> String {
        match to_stripe(minor, currency, "price") {
            Err(error @ ProviderError::Amount { .. }) => {
                assert_eq!(error.code(), "provider_amount");
                assert!(!error.is_retryable());
                error.to_string()
            }
            other => panic!("{minor} {currency}: {other:?}"),
        }
    }

    #[test]
    fn two_decimal_currencies_pass_unchanged() {
        both_ways(1250, "EUR", 1250);
        both_ways(1250, "cny", 1250);
        both_ways(1, "USD", 1);
    }

    #[test]
    fn isk_and_ugx_are_whole_units_written_with_two_zero_decimals() {
        // A 5,000 kr sale: ISO minor units 5000, Stripe 500000.
        both_ways(5_000, "ISK", 500_000);
        both_ways(60_000, "UGX", 6_000_000);
        // Stripe never states a fraction of a króna now; an old one cannot be read as ours.
        assert!(matches!(
            from_stripe(4_010, "isk"),
            Err(ProviderError::BadResponse { .. })
        ));
        assert!(from_stripe(150, "UGX").is_err());
    }

    #[test]
    fn huf_and_twd_charge_two_decimal_amounts_as_iso() {
        both_ways(123_456, "HUF", 123_456);
        both_ways(10_050, "TWD", 10_050);
    }

    #[test]
    fn three_decimal_currencies_need_a_last_digit_of_zero() {
        for code in THREE_DECIMAL {
            both_ways(5_120, code, 5_120);
            let sentence = refused_with(5_124, code);
            assert!(sentence.contains(&format!("5.124 {code}")), "{sentence}");
            assert!(sentence.contains(&format!("0.010 {code}")), "{sentence}");
        }
    }

    #[test]
    fn zero_decimal_currencies_are_whole_units() {
        for code in ZERO_DECIMAL {
            if code == "MGA" {
                continue;
            }
            both_ways(500, code, 500);
        }
        // MGA has two decimals in ISO 4217 but none at Stripe.
        both_ways(50_000, "MGA", 500);
        let sentence = refused_with(12_345, "MGA");
        assert!(sentence.contains("123.45 MGA"), "{sentence}");
        assert!(sentence.contains("whole"), "{sentence}");
    }

    #[test]
    fn every_special_currency_agrees_with_iso_4217() {
        // The rules assume these ISO decimals; a table change must be looked at here.
        let iso = |code: &str| StripeUnits::of(code).iso_digits;
        for code in ZERO_DECIMAL.iter().chain(&WHOLE_IN_TWO_DECIMALS) {
            assert_eq!(iso(code), if *code == "MGA" { 2 } else { 0 }, "{code}");
        }
        for code in THREE_DECIMAL {
            assert_eq!(iso(code), 3, "{code}");
        }
        assert_eq!((iso("HUF"), iso("TWD")), (2, 2));
    }

    #[test]
    fn overflow_is_refused_not_wrapped() {
        assert!(to_stripe(i64::MAX, "ISK", "price").is_err());
        assert!(from_stripe(i64::MAX, "MGA").is_err());
    }
}
