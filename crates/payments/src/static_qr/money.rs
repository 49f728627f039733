//! Amounts as the payment standards write them: ISO 4217 currencies (alphabetic, numeric,
//! minor digits) and typed amounts parsed into minor units.

use super::PayloadError;

/// An ISO 4217 currency: alphabetic code, numeric code and number of minor-unit digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    /// Three-letter code, e.g. `"EUR"`.
    pub code: &'static str,
    /// Numeric code, e.g. `978` (written with three digits in payloads: `"978"`, `"032"`).
    pub numeric: u16,
    /// Digits after the decimal mark, e.g. 2 for EUR, 0 for JPY, 3 for KWD.
    pub minor_digits: u8,
}

impl Currency {
    /// Euro, the only currency of EPC069-12 credit transfers.
    pub const EUR: Currency = Currency {
        code: "EUR",
        numeric: 978,
        minor_digits: 2,
    };
    /// Brazilian real, the only currency of Pix.
    pub const BRL: Currency = Currency {
        code: "BRL",
        numeric: 986,
        minor_digits: 2,
    };
    /// Indian rupee, the only currency of UPI.
    pub const INR: Currency = Currency {
        code: "INR",
        numeric: 356,
        minor_digits: 2,
    };

    /// Looks a currency up by its alphabetic (`"BRL"`, any case) or numeric (`"986"`) code.
    pub fn from_code(code: &str) -> Result<Currency, PayloadError> {
        let trimmed = code.trim();
        let found = if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            trimmed
                .parse::<u16>()
                .ok()
                .and_then(|n| CURRENCIES.iter().find(|c| c.1 == n))
        } else {
            CURRENCIES
                .iter()
                .find(|c| c.0.eq_ignore_ascii_case(trimmed))
        };
        found
            .map(|&(code, numeric, minor_digits)| Currency {
                code,
                numeric,
                minor_digits,
            })
            .ok_or_else(|| PayloadError::UnknownCurrency {
                code: code.to_string(),
            })
    }

    /// The numeric code as the three digits EMVCo data object 53 carries (`"032"`).
    pub fn numeric_code(&self) -> String {
        format!("{:03}", self.numeric)
    }

    /// Formats an amount in minor units as a plain decimal (`1250` → `"12.50"` for EUR,
    /// `500` → `"500"` for JPY), with `.` as the decimal mark and no grouping.
    pub fn format_minor(&self, minor: i64) -> String {
        format_minor(minor, self.minor_digits)
    }

    /// `"EUR 12.50"`, for messages.
    pub(crate) fn display(&self, minor: i64) -> String {
        format!("{} {}", self.code, self.format_minor(minor))
    }
}

/// `minor` as a decimal with `digits` fraction digits, exact (no floating point).
pub(crate) fn format_minor(minor: i64, digits: u8) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if digits == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u64.pow(u32::from(digits));
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = usize::from(digits)
    )
}

/// `"12.3"` → 1230: a plain decimal with at most `max_int_digits` integer digits and at
/// most two fraction digits, in hundredths (cents, paise). No sign, no grouping.
pub(crate) fn parse_hundredths(s: &str, max_int_digits: usize) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty()
        || int.len() > max_int_digits
        || frac.len() > 2
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let hundredths = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse::<i64>().ok()?,
    };
    Some(int.parse::<i64>().ok()? * 100 + hundredths)
}

/// Checks `0 < minor <= max_minor`.
pub(crate) fn check_amount(
    minor: i64,
    max_minor: i64,
    currency: &Currency,
) -> Result<(), PayloadError> {
    if minor <= 0 {
        return Err(PayloadError::AmountNotPositive {
            amount: currency.display(minor),
        });
    }
    if minor > max_minor {
        return Err(PayloadError::AmountTooLarge {
            max: currency.display(max_minor),
            amount: currency.display(minor),
        });
    }
    Ok(())
}

/// Active ISO 4217 currencies (funds, precious metals and testing codes left out):
/// alphabetic code, numeric code, minor-unit digits.
const CURRENCIES: &[(&str, u16, u8)] = &[
    ("AED", 784, 2),
    ("AFN", 971, 2),
    ("ALL", 8, 2),
    ("AMD", 51, 2),
    ("AOA", 973, 2),
    ("ARS", 32, 2),
    ("AUD", 36, 2),
    ("AWG", 533, 2),
    ("AZN", 944, 2),
    ("BAM", 977, 2),
    ("BBD", 52, 2),
    ("BDT", 50, 2),
    ("BHD", 48, 3),
    ("BIF", 108, 0),
    ("BMD", 60, 2),
    ("BND", 96, 2),
    ("BOB", 68, 2),
    ("BRL", 986, 2),
    ("BSD", 44, 2),
    ("BTN", 64, 2),
    ("BWP", 72, 2),
    ("BYN", 933, 2),
    ("BZD", 84, 2),
    ("CAD", 124, 2),
    ("CDF", 976, 2),
    ("CHF", 756, 2),
    ("CLP", 152, 0),
    ("CNY", 156, 2),
    ("COP", 170, 2),
    ("CRC", 188, 2),
    ("CUP", 192, 2),
    ("CVE", 132, 2),
    ("CZK", 203, 2),
    ("DJF", 262, 0),
    ("DKK", 208, 2),
    ("DOP", 214, 2),
    ("DZD", 12, 2),
    ("EGP", 818, 2),
    ("ERN", 232, 2),
    ("ETB", 230, 2),
    ("EUR", 978, 2),
    ("FJD", 242, 2),
    ("FKP", 238, 2),
    ("GBP", 826, 2),
    ("GEL", 981, 2),
    ("GHS", 936, 2),
    ("GIP", 292, 2),
    ("GMD", 270, 2),
    ("GNF", 324, 0),
    ("GTQ", 320, 2),
    ("GYD", 328, 2),
    ("HKD", 344, 2),
    ("HNL", 340, 2),
    ("HTG", 332, 2),
    ("HUF", 348, 2),
    ("IDR", 360, 2),
    ("ILS", 376, 2),
    ("INR", 356, 2),
    ("IQD", 368, 3),
    ("IRR", 364, 2),
    ("ISK", 352, 0),
    ("JMD", 388, 2),
    ("JOD", 400, 3),
    ("JPY", 392, 0),
    ("KES", 404, 2),
    ("KGS", 417, 2),
    ("KHR", 116, 2),
    ("KMF", 174, 0),
    ("KPW", 408, 2),
    ("KRW", 410, 0),
    ("KWD", 414, 3),
    ("KYD", 136, 2),
    ("KZT", 398, 2),
    ("LAK", 418, 2),
    ("LBP", 422, 2),
    ("LKR", 144, 2),
    ("LRD", 430, 2),
    ("LSL", 426, 2),
    ("LYD", 434, 3),
    ("MAD", 504, 2),
    ("MDL", 498, 2),
    ("MGA", 969, 2),
    ("MKD", 807, 2),
    ("MMK", 104, 2),
    ("MNT", 496, 2),
    ("MOP", 446, 2),
    ("MRU", 929, 2),
    ("MUR", 480, 2),
    ("MVR", 462, 2),
    ("MWK", 454, 2),
    ("MXN", 484, 2),
    ("MYR", 458, 2),
    ("MZN", 943, 2),
    ("NAD", 516, 2),
    ("NGN", 566, 2),
    ("NIO", 558, 2),
    ("NOK", 578, 2),
    ("NPR", 524, 2),
    ("NZD", 554, 2),
    ("OMR", 512, 3),
    ("PAB", 590, 2),
    ("PEN", 604, 2),
    ("PGK", 598, 2),
    ("PHP", 608, 2),
    ("PKR", 586, 2),
    ("PLN", 985, 2),
    ("PYG", 600, 0),
    ("QAR", 634, 2),
    ("RON", 946, 2),
    ("RSD", 941, 2),
    ("RUB", 643, 2),
    ("RWF", 646, 0),
    ("SAR", 682, 2),
    ("SBD", 90, 2),
    ("SCR", 690, 2),
    ("SDG", 938, 2),
    ("SEK", 752, 2),
    ("SGD", 702, 2),
    ("SHP", 654, 2),
    ("SLE", 925, 2),
    ("SOS", 706, 2),
    ("SRD", 968, 2),
    ("SSP", 728, 2),
    ("STN", 930, 2),
    ("SVC", 222, 2),
    ("SYP", 760, 2),
    ("SZL", 748, 2),
    ("THB", 764, 2),
    ("TJS", 972, 2),
    ("TMT", 934, 2),
    ("TND", 788, 3),
    ("TOP", 776, 2),
    ("TRY", 949, 2),
    ("TTD", 780, 2),
    ("TWD", 901, 2),
    ("TZS", 834, 2),
    ("UAH", 980, 2),
    ("UGX", 800, 0),
    ("USD", 840, 2),
    ("UYU", 858, 2),
    ("UZS", 860, 2),
    ("VED", 926, 2),
    ("VES", 928, 2),
    ("VND", 704, 0),
    ("VUV", 548, 0),
    ("WST", 882, 2),
    ("XAF", 950, 0),
    ("XCD", 951, 2),
    ("XCG", 532, 2),
    ("XOF", 952, 0),
    ("XPF", 953, 0),
    ("YER", 886, 2),
    ("ZAR", 710, 2),
    ("ZMW", 967, 2),
    ("ZWG", 924, 2),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_exactly() {
        assert_eq!(format_minor(1250, 2), "12.50");
        assert_eq!(format_minor(5, 2), "0.05");
        assert_eq!(format_minor(-5, 2), "-0.05");
        assert_eq!(format_minor(500, 0), "500");
        assert_eq!(format_minor(1234, 3), "1.234");
        assert_eq!(format_minor(i64::MIN, 2), "-92233720368547758.08");
    }

    #[test]
    fn looks_up_both_codes() {
        assert_eq!(Currency::from_code("brl").unwrap(), Currency::BRL);
        assert_eq!(Currency::from_code("986").unwrap(), Currency::BRL);
        assert_eq!(Currency::from_code("032").unwrap().code, "ARS");
        assert_eq!(Currency::from_code("ARS").unwrap().numeric_code(), "032");
        assert_eq!(Currency::from_code("JPY").unwrap().minor_digits, 0);
        assert_eq!(
            Currency::from_code("XYZ").unwrap_err().code(),
            "unknown_currency"
        );
        for (code, numeric, _) in CURRENCIES {
            assert_eq!(Currency::from_code(code).unwrap().numeric, *numeric);
        }
    }
}
