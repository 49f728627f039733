//! EAN-13 (and UPC-A as EAN-13 with a leading zero) barcodes: check digits and the bar
//! pattern, drawn as vector bars on labels.
//!
//! A code typed at the till or printed on a product (GTIN-8, UPC-A, EAN-13, GTIN-14) is
//! cleaned and checked by [`normalize_gtin`]; [`Gtin::value`] is the same number for
//! the same product whichever length it was typed in, so lookups can compare values.

/// A barcode number that passed its check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Gtin {
    /// The digits as typed, spaces and hyphens removed (8, 12, 13 or 14 of them).
    pub digits: String,
    /// The digits as a number: UPC-A `036000291452` and EAN-13 `0036000291452` are equal.
    pub value: i64,
}

impl Gtin {
    /// The 13 digits printed as an EAN-13 barcode: UPC-A gets a leading 0, EAN-13 is kept,
    /// a GTIN-14 starting with 0 drops it; GTIN-8 and other GTIN-14s have no EAN-13.
    pub fn ean13(&self) -> Option<String> {
        match self.digits.len() {
            12 => Some(format!("0{}", self.digits)),
            13 => Some(self.digits.clone()),
            14 if self.digits.starts_with('0') => Some(self.digits[1..].to_string()),
            _ => None,
        }
    }
}

/// Why a typed barcode is not a valid GTIN; the messages say what to check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    /// Not 8, 12, 13 or 14 digits (or, for an EAN-13 bar pattern, not 13).
    #[error("A barcode has {expected} digits; this has {len}.")]
    WrongLength { len: usize, expected: &'static str },
    /// Something other than digits, spaces and hyphens.
    #[error("A barcode has only digits; \"{found}\" is not one.")]
    NotDigits { found: char },
    /// The last digit does not match the others.
    #[error("The check digit should be {expected}, not {found}: check the code.")]
    BadCheckDigit { expected: u8, found: u8 },
}

impl BarcodeError {
    /// Stable snake_case identifier of the error kind.
    pub fn code(&self) -> &'static str {
        match self {
            BarcodeError::WrongLength { .. } => "barcode_wrong_length",
            BarcodeError::NotDigits { .. } => "barcode_not_digits",
            BarcodeError::BadCheckDigit { .. } => "barcode_bad_check_digit",
        }
    }
}

const GTIN_LENGTHS: &str = "8, 12, 13 or 14";

/// The GS1 check digit of `digits_without_check` (weights 3, 1, 3, … from the right);
/// `None` when it is empty or holds anything but ASCII digits.
pub fn gs1_check_digit(digits_without_check: &str) -> Option<u8> {
    if digits_without_check.is_empty() {
        return None;
    }
    let mut sum = 0u32;
    for (i, b) in digits_without_check.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = u32::from(b - b'0');
        sum += if i % 2 == 0 { 3 * d } else { d };
    }
    Some(((10 - sum % 10) % 10) as u8)
}

/// Clean (drop spaces and hyphens) and check a typed GTIN-8, UPC-A, EAN-13 or GTIN-14.
pub fn normalize_gtin(typed: &str) -> Result<Gtin, BarcodeError> {
    let mut digits = String::with_capacity(typed.len());
    for ch in typed.chars() {
        match ch {
            '0'..='9' => digits.push(ch),
            ' ' | '-' | '\u{a0}' => {}
            found => return Err(BarcodeError::NotDigits { found }),
        }
    }
    if ![8, 12, 13, 14].contains(&digits.len()) {
        return Err(BarcodeError::WrongLength {
            len: digits.len(),
            expected: GTIN_LENGTHS,
        });
    }
    check(&digits)?;
    let value = digits
        .parse::<i64>()
        .map_err(|_| BarcodeError::WrongLength {
            len: digits.len(),
            expected: GTIN_LENGTHS,
        })?;
    Ok(Gtin { digits, value })
}

/// The last digit of `digits` (ASCII digits only) is its GS1 check digit.
fn check(digits: &str) -> Result<(), BarcodeError> {
    let (body, last) = digits.split_at(digits.len() - 1);
    let found = last.as_bytes()[0] - b'0';
    let expected = gs1_check_digit(body).unwrap_or(0);
    if expected == found {
        Ok(())
    } else {
        Err(BarcodeError::BadCheckDigit { expected, found })
    }
}

/// Modules (bar = `true`) of one EAN-13 symbol, without its quiet zones.
pub const EAN13_MODULES: usize = 95;

/// Left-hand odd-parity (set A) patterns, 7 modules per digit; set C (right) is their
/// complement and set B (left, even parity) the complement reversed.
const L_CODES: [u8; 10] = [
    0b0001101, 0b0011001, 0b0010011, 0b0111101, 0b0100011, 0b0110001, 0b0101111, 0b0111011,
    0b0110111, 0b0001011,
];

/// Which of the six left digits use set B (bit 5 = first left digit), by the first digit.
const PARITY: [u8; 10] = [
    0b000000, 0b001011, 0b001101, 0b001110, 0b010011, 0b011001, 0b011100, 0b010101, 0b010110,
    0b011010,
];

/// The 95 modules of the EAN-13 symbol for `ean13` (13 digits, check digit valid): start
/// guard, six left digits (sets A/B chosen by the first digit), centre guard, six right
/// digits (set C), end guard.
pub fn ean13_modules(ean13: &str) -> Result<Vec<bool>, BarcodeError> {
    if let Some(found) = ean13.chars().find(|c| !c.is_ascii_digit()) {
        return Err(BarcodeError::NotDigits { found });
    }
    if ean13.len() != 13 {
        return Err(BarcodeError::WrongLength {
            len: ean13.len(),
            expected: "13",
        });
    }
    check(ean13)?;
    let d: Vec<usize> = ean13.bytes().map(|b| usize::from(b - b'0')).collect();
    let mut out = Vec::with_capacity(EAN13_MODULES);
    let push = |out: &mut Vec<bool>, bits: u8| {
        for i in (0..7).rev() {
            out.push(bits >> i & 1 == 1);
        }
    };
    out.extend([true, false, true]);
    for (i, &digit) in d[1..7].iter().enumerate() {
        let even = PARITY[d[0]] >> (5 - i) & 1 == 1;
        let a = L_CODES[digit];
        let bits = if even {
            // set B: the set-C pattern (complement) read backwards
            (!a & 0x7f).reverse_bits() >> 1
        } else {
            a
        };
        push(&mut out, bits);
    }
    out.extend([false, true, false, true, false]);
    for &digit in &d[7..] {
        push(&mut out, !L_CODES[digit] & 0x7f);
    }
    out.extend([true, false, true]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(s: &str) -> Vec<bool> {
        s.chars().map(|c| c == '1').collect()
    }

    #[test]
    fn check_digits_of_known_codes() {
        assert_eq!(gs1_check_digit("400638133393"), Some(1));
        assert_eq!(gs1_check_digit("03600029145"), Some(2));
        assert_eq!(gs1_check_digit("9638507"), Some(4));
        assert_eq!(gs1_check_digit("1001234567890"), Some(2));
        assert_eq!(gs1_check_digit(""), None);
        assert_eq!(gs1_check_digit("12a4"), None);
    }

    #[test]
    fn known_codes_normalize() {
        let ean = normalize_gtin("4006381333931").unwrap();
        assert_eq!(ean.value, 4_006_381_333_931);
        assert_eq!(ean.ean13().as_deref(), Some("4006381333931"));

        let upc = normalize_gtin("0 36000-29145 2").unwrap();
        assert_eq!(upc.digits, "036000291452");
        assert_eq!(upc.ean13().as_deref(), Some("0036000291452"));
        let same = normalize_gtin("0036000291452").unwrap();
        assert_eq!(upc.value, same.value);
        assert_eq!(upc.value, 36_000_291_452);

        let short = normalize_gtin("96385074").unwrap();
        assert_eq!(short.value, 96_385_074);
        assert_eq!(short.ean13(), None);

        let case = normalize_gtin("10012345678902").unwrap();
        assert_eq!(case.ean13(), None, "indicator digit 1: no EAN-13");
        let padded = normalize_gtin("04006381333931").unwrap();
        assert_eq!(padded.ean13().as_deref(), Some("4006381333931"));
        assert_eq!(padded.value, ean.value);
    }

    #[test]
    fn wrong_codes_say_what_is_wrong() {
        let err = normalize_gtin("12345678901").unwrap_err();
        assert_eq!(
            err.to_string(),
            "A barcode has 8, 12, 13 or 14 digits; this has 11."
        );
        assert_eq!(err.code(), "barcode_wrong_length");
        let err = normalize_gtin("4006381333933").unwrap_err();
        assert_eq!(
            err,
            BarcodeError::BadCheckDigit {
                expected: 1,
                found: 3
            }
        );
        assert_eq!(
            err.to_string(),
            "The check digit should be 1, not 3: check the code."
        );
        assert_eq!(
            normalize_gtin("036000291457").unwrap_err().to_string(),
            "The check digit should be 2, not 7: check the code."
        );
        assert!(normalize_gtin("96385075").is_err());
        let err = normalize_gtin("40063813339x1").unwrap_err();
        assert_eq!(err, BarcodeError::NotDigits { found: 'x' });
        assert_eq!(
            normalize_gtin("").unwrap_err().code(),
            "barcode_wrong_length"
        );
    }

    #[test]
    fn ean13_pattern() {
        let m = ean13_modules("4006381333931").unwrap();
        assert_eq!(m.len(), EAN13_MODULES);
        assert_eq!(&m[..3], &bits("101")[..]);
        assert_eq!(&m[45..50], &bits("01010")[..]);
        assert_eq!(&m[92..], &bits("101")[..]);
        // first digit 4 → parity L G L L G G: the left digits 0 0 6 3 8 1
        let left = [
            "0001101", // 0 L
            "0100111", // 0 G
            "0101111", // 6 L
            "0111101", // 3 L
            "0001001", // 8 G
            "0110011", // 1 G
        ]
        .concat();
        assert_eq!(&m[3..45], &bits(&left)[..]);
        // right digits 3 3 3 9 3 1 in set C
        let right = [
            "1000010", "1000010", "1000010", "1110100", "1000010", "1100110",
        ]
        .concat();
        assert_eq!(&m[50..92], &bits(&right)[..]);
        // every digit has two bars and two spaces: 30 bars in all (3 guards + 12 × 2)
        let bars = m.windows(2).filter(|w| w[0] && !w[1]).count() + usize::from(m[94]);
        assert_eq!(bars, 30);
    }

    #[test]
    fn ean13_pattern_rejects_bad_input() {
        assert_eq!(
            ean13_modules("036000291452").unwrap_err().to_string(),
            "A barcode has 13 digits; this has 12."
        );
        assert_eq!(
            ean13_modules("4006381333932").unwrap_err().code(),
            "barcode_bad_check_digit"
        );
        assert!(ean13_modules("4006381333 31").is_err());
    }
}
