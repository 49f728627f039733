//! Money as integer minor units plus an ISO 4217 code, and the parser that turns what a
//! shop owner types ("12.5", "12,50", "¥88", "1.234,56 €") into it without floats.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// Largest amount accepted, in minor units: far above any shop price, far below i64 and
/// 2^53 (so the UI can hold it in a JS number exactly).
pub const MAX_MINOR: i64 = 1_000_000_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Money {
    /// Integer amount in the currency's minor unit (cents, fen; yen for JPY).
    pub amount_minor: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
}

impl Money {
    /// The amount as a plain decimal string in major units: "12.50", JPY "500".
    pub fn to_decimal_string(&self) -> String {
        format_minor(self.amount_minor, exponent(&self.currency))
    }
}

/// How a locale writes an amount: where the symbol goes and which separators it uses.
struct LocaleStyle {
    decimal: char,
    group: &'static str,
    symbol_after: bool,
    /// Text between the symbol and the number.
    gap: &'static str,
}

fn locale_style(locale: &str) -> LocaleStyle {
    let language = locale
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let prefix = |decimal, group, gap| LocaleStyle {
        decimal,
        group,
        symbol_after: false,
        gap,
    };
    let suffix = |decimal, group| LocaleStyle {
        decimal,
        group,
        symbol_after: true,
        gap: "\u{a0}",
    };
    match language.as_str() {
        "de" | "es" | "it" | "pt" | "da" | "id" | "tr" | "el" | "ro" | "hr" | "sl" | "sr" => {
            suffix(',', ".")
        }
        "fr" | "cs" | "sk" | "pl" | "ru" | "uk" | "fi" | "sv" | "nb" | "no" | "hu" | "bg"
        | "lt" | "lv" | "et" => suffix(',', "\u{202f}"),
        "nl" => prefix(',', ".", "\u{a0}"),
        _ => prefix('.', ",", ""), // en, zh, ja, ko, th, hi … and anything unknown
    }
}

/// The short symbol a shop shows next to its own prices; the ISO code where none is usual.
pub fn narrow_symbol(currency: &str) -> &str {
    match currency {
        "CNY" | "JPY" => "¥",
        "USD" | "AUD" | "CAD" | "HKD" | "TWD" | "SGD" | "NZD" | "MXN" | "ARS" | "CLP" | "COP" => {
            "$"
        }
        "EUR" => "€",
        "GBP" => "£",
        "KRW" => "₩",
        "INR" => "₹",
        "BRL" => "R$",
        "RUB" => "₽",
        "VND" => "₫",
        "THB" => "฿",
        "PHP" => "₱",
        "ILS" => "₪",
        "NGN" => "₦",
        "UAH" => "₴",
        "TRY" => "₺",
        "PLN" => "zł",
        other => other,
    }
}

impl Money {
    /// The amount as a shop in `locale` prints it: "¥88.00", "12,50 €", "$5.00", JPY "¥500".
    pub fn format_local(&self, locale: &str) -> String {
        let style = locale_style(locale);
        let exp = exponent(&self.currency);
        let plain = format_minor(self.amount_minor.abs(), exp);
        let (int_part, frac_part) = plain.split_once('.').unwrap_or((&plain, ""));
        let mut grouped = String::new();
        for (i, digit) in int_part.chars().enumerate() {
            if i > 0 && (int_part.len() - i) % 3 == 0 {
                grouped.push_str(style.group);
            }
            grouped.push(digit);
        }
        if !frac_part.is_empty() {
            grouped.push(style.decimal);
            grouped.push_str(frac_part);
        }
        let symbol = narrow_symbol(&self.currency);
        // A bare ISO code always gets a space so it never runs into the digits.
        let gap = if symbol.len() == 3 && symbol.bytes().all(|b| b.is_ascii_uppercase()) {
            "\u{a0}"
        } else {
            style.gap
        };
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        if style.symbol_after {
            format!("{sign}{grouped}{gap}{symbol}")
        } else {
            format!("{sign}{symbol}{gap}{grouped}")
        }
    }
}

/// Number of minor-unit digits for an ISO 4217 currency code (ISO 4217 "E" column).
pub fn exponent(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Active ISO 4217 currency codes (2026), excluding funds, metals and test codes.
pub const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN",
    "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
    "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP",
    "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD",
    "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY",
    "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD",
    "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK",
    "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG",
    "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS",
    "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VES",
    "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

/// Checks an ISO 4217 code against the active list and returns it upper-cased.
pub fn normalize_currency(code: &str) -> Result<String> {
    let code = code.trim().to_ascii_uppercase();
    if ISO_4217.binary_search(&code.as_str()).is_ok() {
        Ok(code)
    } else {
        Err(CoreError::invalid(
            "currency",
            format!(
                "“{code}” is not a currency code. Use an ISO 4217 code such as CNY, EUR or USD."
            ),
        ))
    }
}

pub(crate) fn format_minor(amount_minor: i64, exponent: u32) -> String {
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u64.pow(exponent);
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = exponent as usize
    )
}

/// Currency symbols and codes an owner may type around the number, with the currencies
/// they can stand for (¥ is both yuan and yen).
const SYMBOLS: &[(&str, &[&str])] = &[
    ("US$", &["USD"]),
    ("HK$", &["HKD"]),
    ("NT$", &["TWD"]),
    ("S$", &["SGD"]),
    ("A$", &["AUD"]),
    ("C$", &["CAD"]),
    ("R$", &["BRL"]),
    ("RMB", &["CNY"]),
    ("元", &["CNY"]),
    ("円", &["JPY"]),
    ("¥", &["CNY", "JPY"]),
    ("￥", &["CNY", "JPY"]),
    ("€", &["EUR"]),
    ("£", &["GBP"]),
    ("₩", &["KRW"]),
    ("₹", &["INR"]),
    ("₽", &["RUB"]),
    ("₫", &["VND"]),
    ("฿", &["THB"]),
    (
        "$",
        &["USD", "AUD", "CAD", "HKD", "SGD", "TWD", "NZD", "MXN"],
    ),
];

/// [`parse_price`] for another form field: its errors name `field` ("amount", "float").
pub fn parse_amount(input: &str, currency: &str, field: &'static str) -> Result<Money> {
    parse_price(input, currency).map_err(|e| match e {
        CoreError::Validation { message, .. } => CoreError::invalid(field, message),
        other => other,
    })
}

/// Parses a price as typed by a shop owner into minor units of `currency`.
///
/// Accepts "12.5", "12,50", "1,234.56", "1.234,56", "1 234,56", "¥88", "€ 12,50", "12.50 EUR".
/// A single separator followed by exactly three digits is read as a thousands separator
/// ("1,234" = 1234), except when the currency itself has three decimals. Rejects negative
/// amounts, more decimals than the currency has (JPY has none) and absurd sizes.
pub fn parse_price(input: &str, currency: &str) -> Result<Money> {
    let currency = normalize_currency(currency)?;
    let field = "price";
    let original = input.trim();
    if original.is_empty() {
        return Err(CoreError::invalid(
            field,
            "Enter a price, for example 12.50.",
        ));
    }
    let number = strip_currency_marks(original, &currency)?;
    if number.starts_with('-') {
        return Err(CoreError::invalid(field, "A price cannot be negative."));
    }
    let number = number.strip_prefix('+').unwrap_or(&number).to_string();
    // Spaces (incl. no-break and thin spaces) and apostrophes only ever group thousands.
    let compact: String = number
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '\'' | '’'))
        .collect();
    if compact.is_empty()
        || !compact
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return Err(CoreError::invalid(
            field,
            format!("“{original}” is not a price. Type digits, for example 12.50 or 12,50."),
        ));
    }
    let exp = exponent(&currency);
    let (int_part, frac_part) = split_decimal(&compact, exp).ok_or_else(|| {
        CoreError::invalid(
            field,
            format!("“{original}” is not a price: check the separators."),
        )
    })?;
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(CoreError::invalid(
            field,
            format!("“{original}” is not a price."),
        ));
    }
    if frac_part.len() > exp as usize {
        let message = if exp == 0 {
            format!("{currency} has no minor unit: type a whole amount such as 500.")
        } else {
            format!(
                "{currency} has {exp} decimals at most; “{original}” has {}.",
                frac_part.len()
            )
        };
        return Err(CoreError::invalid(field, message));
    }
    let too_large = || CoreError::invalid(field, format!("“{original}” is too large for a price."));
    let mut minor: i64 = 0;
    let padded = format!("{frac_part:0<width$}", width = exp as usize);
    for digit in int_part.chars().chain(padded.chars()) {
        let d = i64::from(digit.to_digit(10).expect("digits checked above"));
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(d))
            .ok_or_else(too_large)?;
        if minor > MAX_MINOR {
            return Err(too_large());
        }
    }
    Ok(Money {
        amount_minor: minor,
        currency,
    })
}

/// Removes one currency symbol or code before or after the number; errors when it names
/// a different currency than the product's.
fn strip_currency_marks(text: &str, currency: &str) -> Result<String> {
    let mut rest = text.to_string();
    // An ISO code typed before or after: "EUR 12,50", "12.50 usd".
    let ends = [
        (true, text.get(..3)),
        (false, text.get(text.len().saturating_sub(3)..)),
    ];
    for (is_prefix, candidate) in ends {
        let Some(candidate) = candidate else { continue };
        let code = candidate.to_ascii_uppercase();
        if ISO_4217.binary_search(&code.as_str()).is_ok() {
            if code != currency {
                return Err(CoreError::invalid(
                    "price",
                    format!("The price says {code} but the product's currency is {currency}."),
                ));
            }
            let number = if is_prefix {
                &text[3..]
            } else {
                &text[..text.len() - 3]
            };
            return Ok(number.trim().to_string());
        }
    }
    for (symbol, currencies) in SYMBOLS {
        let stripped = rest
            .strip_prefix(symbol)
            .or_else(|| rest.strip_suffix(symbol));
        if let Some(stripped) = stripped {
            if !currencies.contains(&currency) && *symbol != narrow_symbol(currency) {
                return Err(CoreError::invalid(
                    "price",
                    format!("“{symbol}” is not a symbol of {currency}, the product's currency."),
                ));
            }
            return Ok(stripped.trim().to_string());
        }
    }
    // The symbol the shop itself prints for this currency always reads back ("₪0.00").
    let own = narrow_symbol(currency);
    if own != currency
        && let Some(stripped) = rest.strip_prefix(own).or_else(|| rest.strip_suffix(own))
    {
        rest = stripped.trim().to_string();
    }
    Ok(rest)
}

/// Splits "1.234,56" into ("1234", "56") deciding which separator is the decimal mark.
fn split_decimal(text: &str, exponent: u32) -> Option<(String, String)> {
    let last_dot = text.rfind('.');
    let last_comma = text.rfind(',');
    let decimal_at = match (last_dot, last_comma) {
        (None, None) => None,
        (Some(d), Some(c)) => Some(d.max(c)),
        (Some(only), None) | (None, Some(only)) => {
            let sep = text.as_bytes()[only] as char;
            let occurrences = text.matches(sep).count();
            let digits_after = text.len() - only - 1;
            let leading_zero = text[..only].trim_start_matches('0').is_empty();
            if occurrences > 1 || (digits_after == 3 && exponent != 3 && !leading_zero) {
                None // a thousands separator
            } else {
                Some(only)
            }
        }
    };
    let (int_raw, frac) = match decimal_at {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    };
    if frac.contains(['.', ',']) {
        return None;
    }
    // Grouping separators must split the integer part into groups of three.
    let groups: Vec<&str> = int_raw.split(['.', ',']).collect();
    if groups.len() > 1
        && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3))
    {
        return None;
    }
    Some((groups.concat(), frac.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minor(input: &str, currency: &str) -> i64 {
        parse_price(input, currency)
            .unwrap_or_else(|e| panic!("{input}: {e}"))
            .amount_minor
    }

    #[test]
    fn decimal_strings_use_the_currency_exponent() {
        assert_eq!(
            Money {
                amount_minor: 1250,
                currency: "EUR".into()
            }
            .to_decimal_string(),
            "12.50"
        );
        assert_eq!(
            Money {
                amount_minor: 500,
                currency: "JPY".into()
            }
            .to_decimal_string(),
            "500"
        );
        assert_eq!(
            Money {
                amount_minor: 5,
                currency: "KWD".into()
            }
            .to_decimal_string(),
            "0.005"
        );
    }

    #[test]
    fn currency_list_is_sorted_for_binary_search() {
        assert!(ISO_4217.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn local_formats() {
        let m = |minor: i64, cur: &str| Money {
            amount_minor: minor,
            currency: cur.into(),
        };
        assert_eq!(m(8800, "CNY").format_local("zh-CN"), "¥88.00");
        assert_eq!(m(8800, "CNY").format_local("en"), "¥88.00");
        assert_eq!(m(500, "JPY").format_local("ja"), "¥500");
        assert_eq!(m(500, "USD").format_local("en-US"), "$5.00");
        assert_eq!(m(1250, "EUR").format_local("de-DE"), "12,50\u{a0}€");
        assert_eq!(m(1250, "EUR").format_local("nl"), "€\u{a0}12,50");
        assert_eq!(m(1250, "EUR").format_local("en"), "€12.50");
        assert_eq!(
            m(123_456_789, "EUR").format_local("de"),
            "1.234.567,89\u{a0}€"
        );
        assert_eq!(
            m(123_456_789, "EUR").format_local("fr"),
            "1\u{202f}234\u{202f}567,89\u{a0}€"
        );
        assert_eq!(m(123_456, "USD").format_local("en"), "$1,234.56");
        assert_eq!(m(1_000_000, "JPY").format_local("ja"), "¥1,000,000");
        assert_eq!(m(1234, "KWD").format_local("en"), "KWD\u{a0}1.234");
        assert_eq!(m(-250, "USD").format_local("en"), "-$2.50");
    }

    #[test]
    fn separators() {
        assert_eq!(minor("1,234", "USD"), 123_400);
        assert_eq!(minor("0,500", "KWD"), 500);
        assert!(parse_price("1,2,3", "USD").is_err());
        assert!(parse_price("12..5", "USD").is_err());
    }
}
