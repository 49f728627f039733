//! EPC069-12 "Quick Response Code: Guidelines to Enable Data Capture for the Initiation of a
//! SEPA Credit Transfer" (European Payments Council), known in Germany as GiroCode.
//!
//! The payload is up to twelve lines separated by LF:
//!
//! | line | content | rule |
//! |---|---|---|
//! | 1 | `BCD` | service tag |
//! | 2 | `001` or `002` | version |
//! | 3 | `1` (UTF-8) or `2` (ISO 8859-1) | character set |
//! | 4 | `SCT` | identification |
//! | 5 | BIC | 8 or 11; required in 001, optional in 002 for EEA accounts |
//! | 6 | beneficiary name | 1–70 |
//! | 7 | IBAN | |
//! | 8 | `EUR` + amount | optional, 0.01–999999999.99, `.` as decimal mark |
//! | 9 | purpose code | optional, 4 |
//! | 10 | structured remittance (creditor reference) | optional, ≤35 |
//! | 11 | unstructured remittance text | optional, ≤140; not with line 10 |
//! | 12 | beneficiary to originator information | optional, ≤70 |
//!
//! An absent element is an empty line; the last populated element is not followed by a line
//! feed. The whole payload is at most 331 bytes (QR version 13, error level M).

use super::iban;
use super::money::{self, Currency, check_amount};
use super::text::{compact_upper, optional, required};
use super::{PayloadError, iban::mod97};

/// Largest amount: EUR 999,999,999.99.
pub const MAX_AMOUNT_MINOR: i64 = 99_999_999_999;
/// Largest payload, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 331;

const STANDARD: &str = "EPC QR code";

/// Format version (line 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// `001`: the BIC is always required.
    V001,
    /// `002`: the BIC may be left out when the beneficiary's account is in the EEA.
    #[default]
    V002,
}

impl Version {
    fn as_str(self) -> &'static str {
        match self {
            Version::V001 => "001",
            Version::V002 => "002",
        }
    }
}

/// Character set (line 3). Of the eight sets EPC069-12 lists, these two are supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CharacterSet {
    /// `1`: UTF-8.
    #[default]
    Utf8,
    /// `2`: ISO 8859-1 (Latin-1); the payload bytes are then Latin-1, and text with any
    /// character outside it is refused.
    Latin1,
}

impl CharacterSet {
    fn as_str(self) -> &'static str {
        match self {
            CharacterSet::Utf8 => "1",
            CharacterSet::Latin1 => "2",
        }
    }
}

/// Remittance information: a structured creditor reference (line 10) or free text (line 11),
/// never both.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Remittance {
    /// Neither line.
    #[default]
    None,
    /// An ISO 11649 creditor reference such as `RF18 5390 0754 7034` (spaces are removed).
    Reference(String),
    /// Unstructured text, at most 140 characters.
    Text(String),
}

/// A SEPA credit transfer to encode as an EPC QR code.
///
/// Optional texts that are empty (or only spaces) count as absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreditTransfer {
    pub version: Version,
    pub character_set: CharacterSet,
    /// BIC of the beneficiary's bank (spaces removed, upper-cased).
    pub bic: Option<String>,
    /// Beneficiary name, 1–70 characters.
    pub name: String,
    /// Beneficiary IBAN, spaces allowed.
    pub iban: String,
    /// Amount in euro cents; `None` lets the payer type it (a shelf sign).
    pub amount_minor: Option<i64>,
    /// ISO 20022 purpose code, 4 letters or digits (e.g. `CHAR`, `GDDS`).
    pub purpose: Option<String>,
    pub remittance: Remittance,
    /// Beneficiary to originator information, at most 70 characters.
    pub information: Option<String>,
}

impl CreditTransfer {
    /// Builds the payload bytes (UTF-8 or ISO 8859-1, per [`CreditTransfer::character_set`]).
    pub fn to_payload(&self) -> Result<Vec<u8>, PayloadError> {
        let iban = iban::validate(&self.iban)?;

        let bic = match self.bic.as_deref().map(compact_upper) {
            Some(b) if !b.is_empty() => Some(validate_bic(&b)?),
            _ => None,
        };
        if bic.is_none() {
            if self.version == Version::V001 {
                return Err(PayloadError::BicRequired {
                    reason: "version 001 codes always carry it",
                });
            }
            if iban::is_eea(&iban) != Some(true) {
                return Err(PayloadError::BicRequired {
                    reason: "the account is outside the European Economic Area",
                });
            }
        }

        required("beneficiary name", &self.name, 70)?;

        let amount = match self.amount_minor {
            Some(minor) => {
                check_amount(minor, MAX_AMOUNT_MINOR, &Currency::EUR)?;
                format!("EUR{}", epc_amount(minor))
            }
            None => String::new(),
        };

        let purpose = match self.purpose.as_deref().map(compact_upper) {
            Some(p) if !p.is_empty() => {
                if p.len() != 4 || !p.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(PayloadError::BadFormat {
                        field: "purpose code",
                        expected: "4 letters or digits (an ISO 20022 purpose code such as CHAR or GDDS)",
                        value: self.purpose.clone().unwrap_or_default(),
                    });
                }
                p
            }
            _ => String::new(),
        };

        let (reference, text) = match &self.remittance {
            Remittance::None => (String::new(), String::new()),
            Remittance::Reference(r) => {
                let r = compact_upper(r);
                if r.is_empty() {
                    (String::new(), String::new())
                } else {
                    (validate_creditor_reference(&r)?, String::new())
                }
            }
            Remittance::Text(t) => (
                String::new(),
                optional("remittance text", Some(t), 140)?
                    .unwrap_or_default()
                    .to_string(),
            ),
        };

        let information = optional("information for the payer", self.information.as_deref(), 70)?
            .unwrap_or_default();

        let mut lines: Vec<&str> = vec![
            "BCD",
            self.version.as_str(),
            self.character_set.as_str(),
            "SCT",
            bic.as_deref().unwrap_or(""),
            &self.name,
            &iban,
            &amount,
            &purpose,
            &reference,
            &text,
            information,
        ];
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        let joined = lines.join("\n");

        let bytes = match self.character_set {
            CharacterSet::Utf8 => joined.into_bytes(),
            CharacterSet::Latin1 => {
                to_latin1("beneficiary name", &self.name)?;
                to_latin1("remittance text", &text)?;
                to_latin1("information for the payer", information)?;
                to_latin1("payload", &joined)?
            }
        };
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(PayloadError::PayloadTooLong {
                standard: STANDARD,
                max: MAX_PAYLOAD_BYTES,
                actual: bytes.len(),
                unit: "bytes",
            });
        }
        Ok(bytes)
    }
}

/// Reads an EPC QR payload back (LF or CR LF line ends) and re-validates it by building it
/// again. Useful for tests and for checking codes from elsewhere.
pub fn parse(payload: &[u8]) -> Result<CreditTransfer, PayloadError> {
    let malformed = |detail: &str| PayloadError::Malformed {
        standard: STANDARD,
        detail: detail.to_string(),
    };
    // Line 3 says how to decode the rest; the first four lines are ASCII either way.
    let charset = match payload.split(|&b| b == b'\n').nth(2) {
        Some(b"1") | Some(b"1\r") => CharacterSet::Utf8,
        Some(b"2") | Some(b"2\r") => CharacterSet::Latin1,
        _ => return Err(malformed("line 3 must be character set 1 or 2")),
    };
    let text = match charset {
        CharacterSet::Utf8 => String::from_utf8(payload.to_vec())
            .map_err(|_| malformed("character set 1 says UTF-8 but the bytes are not"))?,
        CharacterSet::Latin1 => payload.iter().map(|&b| char::from(b)).collect(),
    };
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    if lines.len() < 7 || lines.len() > 12 {
        return Err(malformed("it must have 7 to 12 lines"));
    }
    if lines[0] != "BCD" {
        return Err(malformed("line 1 must be BCD"));
    }
    let version = match lines[1] {
        "001" => Version::V001,
        "002" => Version::V002,
        _ => return Err(malformed("line 2 must be version 001 or 002")),
    };
    if lines[3] != "SCT" {
        return Err(malformed("line 4 must be SCT"));
    }
    let line = |i: usize| lines.get(i).copied().unwrap_or("");
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let amount_minor = match line(7) {
        "" => None,
        a => Some(
            a.strip_prefix("EUR")
                .and_then(parse_epc_amount)
                .ok_or_else(|| malformed("line 8 must be EUR and an amount such as EUR12.3"))?,
        ),
    };
    let remittance = match (line(9), line(10)) {
        ("", "") => Remittance::None,
        (r, "") => Remittance::Reference(r.to_string()),
        ("", t) => Remittance::Text(t.to_string()),
        _ => return Err(malformed("lines 10 and 11 cannot both be filled")),
    };
    let transfer = CreditTransfer {
        version,
        character_set: charset,
        bic: some(line(4)),
        name: line(5).to_string(),
        iban: line(6).to_string(),
        amount_minor,
        purpose: some(line(8)),
        remittance,
        information: some(line(11)),
    };
    transfer.to_payload()?;
    Ok(transfer)
}

/// Validates an ISO 11649 creditor reference (`RF` + 2 check digits + 1–21 letters/digits,
/// mod 97 = 1) and returns it without spaces, upper-cased.
pub fn validate_creditor_reference(input: &str) -> Result<String, PayloadError> {
    let r = compact_upper(input);
    let b = r.as_bytes();
    let shaped = (5..=25).contains(&b.len())
        && r.starts_with("RF")
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric);
    if !shaped {
        return Err(PayloadError::CreditorReferenceInvalid {
            reference: input.trim().to_string(),
        });
    }
    if mod97(&r) != 1 {
        return Err(PayloadError::CreditorReferenceChecksum { reference: r });
    }
    Ok(r)
}

/// Validates a BIC (ISO 9362): 4 letters, 2 letters, 2 letters/digits, optionally 3 more.
pub fn validate_bic(input: &str) -> Result<String, PayloadError> {
    let bic = compact_upper(input);
    let b = bic.as_bytes();
    let ok = (b.len() == 8 || b.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && b[6..].iter().all(u8::is_ascii_alphanumeric);
    if !ok {
        return Err(PayloadError::BicInvalid {
            bic: input.trim().to_string(),
        });
    }
    Ok(bic)
}

/// The EPC amount: euros with `.` and only the decimals needed (`1250` → `12.5`, `100` → `1`),
/// as in the guidelines' examples (`EUR12.3`, `EUR1`).
fn epc_amount(minor: i64) -> String {
    let (euros, cents) = (minor / 100, minor % 100);
    match cents {
        0 => euros.to_string(),
        c if c % 10 == 0 => format!("{euros}.{}", c / 10),
        c => format!("{euros}.{c:02}"),
    }
}

fn parse_epc_amount(s: &str) -> Option<i64> {
    money::parse_hundredths(s, 9)
}

/// Encodes to ISO 8859-1, naming the field of the first character it cannot hold.
fn to_latin1(field: &'static str, s: &str) -> Result<Vec<u8>, PayloadError> {
    s.chars()
        .map(|c| {
            u8::try_from(u32::from(c)).map_err(|_| PayloadError::NotInCharacterSet {
                field,
                character: c,
                charset: "ISO 8859-1 (EPC character set 2)",
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_use_only_needed_decimals() {
        assert_eq!(epc_amount(1230), "12.3");
        assert_eq!(epc_amount(100), "1");
        assert_eq!(epc_amount(1), "0.01");
        assert_eq!(epc_amount(99_999_999_999), "999999999.99");
        assert_eq!(parse_epc_amount("12.3"), Some(1230));
        assert_eq!(parse_epc_amount("12.30"), Some(1230));
        assert_eq!(parse_epc_amount("1"), Some(100));
        assert_eq!(parse_epc_amount("1."), Some(100));
        assert_eq!(parse_epc_amount("1.234"), None);
        assert_eq!(parse_epc_amount("-1"), None);
    }
}
