//! EMV® QR Code Specification for Payment Systems (EMV QRCPS), merchant-presented mode.
//!
//! The payload is a run of data objects, each a 2-digit ID, a 2-digit length and the value;
//! lengths count characters, not bytes. Objects are written in ascending ID order, starting
//! with `00` (payload format indicator `01`) and ending with `63`, the CRC-16/CCITT-FALSE of
//! everything before it including the `6304` of the CRC object itself, as 4 upper-case hex
//! digits.
//!
//! | ID | object | rule here |
//! |---|---|---|
//! | 00 | payload format indicator | `01` |
//! | 01 | point of initiation | optional: `11` static, `12` dynamic |
//! | 02–25 | merchant account (network primitive) | ans ≤ 99 |
//! | 26–51 | merchant account template | sub-ID 00 GUI (≤ 32) + sub-IDs 01–99 |
//! | 52 | merchant category code | 4 digits (ISO 18245) |
//! | 53 | transaction currency | ISO 4217 numeric, 3 digits |
//! | 54 | transaction amount | optional, > 0, ≤ 13 characters, `.` as decimal mark |
//! | 58 | country code | ISO 3166-1 alpha-2 |
//! | 59 | merchant name | ans 1–25 |
//! | 60 | merchant city | ans 1–15 |
//! | 61 | postal code | optional, ans ≤ 10 |
//! | 62 | additional data template | sub-IDs 01–08, ans ≤ 25 each |
//! | 64 | merchant information – language template | optional; name/city in any script |
//! | 63 | CRC | 4 hex digits |
//!
//! "ans" is the EMV common character set: printable ASCII (space to `~`). Text outside it is
//! refused with [`PayloadError::CharacterNotAllowed`] rather than silently changed; only the
//! language template (64) carries other scripts.

use super::money::{Currency, check_amount};
use super::text::{chars, max_chars, no_controls};
use super::{PayloadError, crc16_ccitt_false};

/// Largest payload, in characters.
pub const MAX_PAYLOAD_CHARS: usize = 512;

const STANDARD: &str = "EMVCo merchant-presented QR";
const ANS_ONLY: &str =
    "EMVCo QR codes allow only plain ASCII letters, digits, spaces and punctuation there";

/// Point of initiation method (data object 01).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointOfInitiation {
    /// `11`: the same code is used for many payments (a sticker at the till).
    Static,
    /// `12`: a new code for each payment.
    Dynamic,
}

/// Merchant account information (data objects 02–51).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MerchantAccount {
    /// IDs 02–25, reserved for card networks, each with its own value format.
    Primitive { id: u8, value: String },
    /// IDs 26–51: a template holding a globally unique identifier (sub-ID 00: a reverse
    /// domain name, an AID or a UUID) and the scheme's own sub-objects (sub-IDs 01–99).
    Template {
        id: u8,
        gui: String,
        fields: Vec<(u8, String)>,
    },
}

impl MerchantAccount {
    fn id(&self) -> u8 {
        match self {
            MerchantAccount::Primitive { id, .. } | MerchantAccount::Template { id, .. } => *id,
        }
    }
}

/// Additional data field template (data object 62); each value ans, at most 25 characters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdditionalData {
    /// 01
    pub bill_number: Option<String>,
    /// 02
    pub mobile_number: Option<String>,
    /// 03
    pub store_label: Option<String>,
    /// 04
    pub loyalty_number: Option<String>,
    /// 05, the reference label (Pix puts its txid here).
    pub reference_label: Option<String>,
    /// 06
    pub customer_label: Option<String>,
    /// 07
    pub terminal_label: Option<String>,
    /// 08
    pub purpose: Option<String>,
}

impl AdditionalData {
    fn entries(&self) -> [(u8, &'static str, Option<&str>); 8] {
        [
            (1, "bill number", self.bill_number.as_deref()),
            (2, "mobile number", self.mobile_number.as_deref()),
            (3, "store label", self.store_label.as_deref()),
            (4, "loyalty number", self.loyalty_number.as_deref()),
            (5, "reference label", self.reference_label.as_deref()),
            (6, "customer label", self.customer_label.as_deref()),
            (7, "terminal label", self.terminal_label.as_deref()),
            (8, "purpose of transaction", self.purpose.as_deref()),
        ]
    }
}

/// Merchant information in another language and script (data object 64), e.g. the shop's
/// Chinese name next to its Latin one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageTemplate {
    /// ISO 639-1 two-letter code (sub-ID 00), e.g. `"zh"`.
    pub language: String,
    /// Merchant name in that language (sub-ID 01), at most 25 characters.
    pub name: String,
    /// Merchant city in that language (sub-ID 02), at most 15 characters.
    pub city: Option<String>,
}

/// A merchant-presented QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantPresented {
    pub initiation: Option<PointOfInitiation>,
    pub merchant_accounts: Vec<MerchantAccount>,
    /// ISO 18245 merchant category code, 4 digits (`"0000"` where a scheme has none).
    pub merchant_category_code: String,
    /// ISO 4217 code, alphabetic (`"BRL"`) or numeric (`"986"`).
    pub currency: String,
    /// Amount in minor units of `currency`; `None` lets the payer type it.
    pub amount_minor: Option<i64>,
    /// ISO 3166-1 alpha-2, e.g. `"BR"`.
    pub country_code: String,
    pub merchant_name: String,
    pub merchant_city: String,
    pub postal_code: Option<String>,
    pub additional_data: AdditionalData,
    pub language: Option<LanguageTemplate>,
}

impl MerchantPresented {
    /// Builds the payload, CRC included.
    pub fn to_payload(&self) -> Result<String, PayloadError> {
        let mut out = String::new();
        push(&mut out, 0, "01", "payload format indicator")?;
        if let Some(poi) = self.initiation {
            let v = match poi {
                PointOfInitiation::Static => "11",
                PointOfInitiation::Dynamic => "12",
            };
            push(&mut out, 1, v, "point of initiation")?;
        }

        if self.merchant_accounts.is_empty() {
            return Err(PayloadError::NoMerchantAccount);
        }
        let mut accounts: Vec<&MerchantAccount> = self.merchant_accounts.iter().collect();
        accounts.sort_by_key(|a| a.id());
        for pair in accounts.windows(2) {
            if pair[0].id() == pair[1].id() {
                return Err(PayloadError::DuplicateId {
                    what: "merchant account information",
                    id: pair[0].id(),
                });
            }
        }
        for account in accounts {
            match account {
                MerchantAccount::Primitive { id, value } => {
                    id_in(
                        *id,
                        2..=25,
                        "02 to 25",
                        "merchant account information of a card network",
                    )?;
                    ans_required("merchant account information", value, 99)?;
                    push(&mut out, *id, value, "merchant account information")?;
                }
                MerchantAccount::Template { id, gui, fields } => {
                    id_in(*id, 26..=51, "26 to 51", "merchant account template")?;
                    let template = account_template(gui, fields)?;
                    push(&mut out, *id, &template, "merchant account template")?;
                }
            }
        }

        let mcc = &self.merchant_category_code;
        if mcc.len() != 4 || !mcc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PayloadError::BadFormat {
                field: "merchant category code",
                expected: "4 digits (ISO 18245)",
                value: mcc.clone(),
            });
        }
        push(&mut out, 52, mcc, "merchant category code")?;

        let currency = Currency::from_code(&self.currency)?;
        push(
            &mut out,
            53,
            &currency.numeric_code(),
            "transaction currency",
        )?;

        if let Some(minor) = self.amount_minor {
            push(
                &mut out,
                54,
                &amount(minor, &currency)?,
                "transaction amount",
            )?;
        }

        let country = &self.country_code;
        two_letters(
            "country code",
            country,
            u8::is_ascii_uppercase,
            "two capital letters (ISO 3166-1 alpha-2, e.g. BR)",
        )?;
        push(&mut out, 58, country, "country code")?;

        ans_required("merchant name", &self.merchant_name, 25)?;
        push(&mut out, 59, &self.merchant_name, "merchant name")?;
        ans_required("merchant city", &self.merchant_city, 15)?;
        push(&mut out, 60, &self.merchant_city, "merchant city")?;
        if let Some(postal) = non_empty(self.postal_code.as_deref()) {
            ans_required("postal code", postal, 10)?;
            push(&mut out, 61, postal, "postal code")?;
        }

        let mut additional = String::new();
        for (id, field, value) in self.additional_data.entries() {
            if let Some(v) = non_empty(value) {
                ans_required(field, v, 25)?;
                push(&mut additional, id, v, field)?;
            }
        }
        if !additional.is_empty() {
            push(&mut out, 62, &additional, "additional data")?;
        }

        if let Some(lang) = &self.language {
            let mut template = String::new();
            let code = &lang.language;
            two_letters(
                "language",
                code,
                u8::is_ascii_alphabetic,
                "a two-letter ISO 639-1 code such as zh",
            )?;
            push(&mut template, 0, code, "language")?;
            string_required("merchant name in the other language", &lang.name, 25)?;
            push(&mut template, 1, &lang.name, "merchant name")?;
            if let Some(city) = non_empty(lang.city.as_deref()) {
                string_required("merchant city in the other language", city, 15)?;
                push(&mut template, 2, city, "merchant city")?;
            }
            push(
                &mut out,
                64,
                &template,
                "merchant information in another language",
            )?;
        }

        out.push_str("6304");
        let crc = crc16_ccitt_false(out.as_bytes());
        out.push_str(&format!("{crc:04X}"));

        let total = chars(&out);
        if total > MAX_PAYLOAD_CHARS {
            return Err(PayloadError::PayloadTooLong {
                standard: STANDARD,
                max: MAX_PAYLOAD_CHARS,
                actual: total,
                unit: "characters",
            });
        }
        Ok(out)
    }
}

/// One data object as read back from a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataObject {
    pub id: u8,
    pub value: String,
}

/// Splits a payload into its top-level data objects after checking that it starts with
/// `000201`, ends with the CRC object `63`, and that the CRC matches.
pub fn parse(payload: &str) -> Result<Vec<DataObject>, PayloadError> {
    let objects = parse_objects(payload)?;
    if objects.first().map(|o| (o.id, o.value.as_str())) != Some((0, "01")) {
        return Err(malformed(
            "it must start with the payload format indicator 000201",
        ));
    }
    let Some(last) = objects.last().filter(|o| o.id == 63 && o.value.len() == 4) else {
        return Err(malformed("it must end with the CRC data object 63"));
    };
    let body = &payload[..payload.len() - 4];
    let computed = format!("{:04X}", crc16_ccitt_false(body.as_bytes()));
    if !last.value.eq_ignore_ascii_case(&computed) {
        return Err(PayloadError::CrcMismatch {
            stated: last.value.clone(),
            computed,
        });
    }
    Ok(objects)
}

/// Splits a run of `ID LL value` data objects (a payload or a template's value); lengths are
/// counted in characters.
pub fn parse_objects(s: &str) -> Result<Vec<DataObject>, PayloadError> {
    let chars: Vec<char> = s.chars().collect();
    let mut objects = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let head: String = chars.get(i..i + 4).unwrap_or_default().iter().collect();
        if head.len() != 4 || !head.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed(&format!(
                "expected a 2-digit ID and 2-digit length at character {i}"
            )));
        }
        let id: u8 = head[..2].parse().unwrap_or_default();
        let len: usize = head[2..].parse().unwrap_or_default();
        let Some(value) = chars.get(i + 4..i + 4 + len) else {
            return Err(malformed(&format!(
                "data object {id:02} says {len} characters but the payload ends first"
            )));
        };
        objects.push(DataObject {
            id,
            value: value.iter().collect(),
        });
        i += 4 + len;
    }
    Ok(objects)
}

/// The EMVCo amount: `.` as decimal mark, the currency's minor digits (`"123.45"`, JPY
/// `"500"`), greater than zero and at most 13 characters.
fn amount(minor: i64, currency: &Currency) -> Result<String, PayloadError> {
    let max = if currency.minor_digits == 0 {
        9_999_999_999_999
    } else {
        999_999_999_999
    };
    check_amount(minor, max, currency)?;
    Ok(currency.format_minor(minor))
}

fn account_template(gui: &str, fields: &[(u8, String)]) -> Result<String, PayloadError> {
    let mut template = String::new();
    ans_required("globally unique identifier", gui, 32)?;
    push(&mut template, 0, gui, "globally unique identifier")?;
    let mut sorted: Vec<&(u8, String)> = fields.iter().collect();
    sorted.sort_by_key(|f| f.0);
    for pair in sorted.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(PayloadError::DuplicateId {
                what: "merchant account template",
                id: pair[0].0,
            });
        }
    }
    for (id, value) in sorted {
        id_in(
            *id,
            1..=99,
            "01 to 99",
            "merchant account template's own data",
        )?;
        ans_required("merchant account data", value, 99)?;
        push(&mut template, *id, value, "merchant account data")?;
    }
    Ok(template)
}

/// Appends one data object, refusing values longer than the 2-digit length allows.
fn push(out: &mut String, id: u8, value: &str, field: &'static str) -> Result<(), PayloadError> {
    let len = chars(value);
    if len > 99 {
        return Err(PayloadError::TooLong {
            field,
            max: 99,
            actual: len,
        });
    }
    out.push_str(&format!("{id:02}{len:02}"));
    out.push_str(value);
    Ok(())
}

/// A required "ans" value: printable ASCII, 1..=max characters.
pub(crate) fn ans_required(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<(), PayloadError> {
    if value.trim().is_empty() {
        return Err(PayloadError::Missing { field });
    }
    no_controls(field, value)?;
    if let Some(c) = value.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(PayloadError::CharacterNotAllowed {
            field,
            character: c,
            allowed: ANS_ONLY,
        });
    }
    max_chars(field, value, max)
}

/// A required "S" value: any Unicode text without control characters, 1..=max characters.
fn string_required(field: &'static str, value: &str, max: usize) -> Result<(), PayloadError> {
    if value.trim().is_empty() {
        return Err(PayloadError::Missing { field });
    }
    no_controls(field, value)?;
    max_chars(field, value, max)
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

fn malformed(detail: &str) -> PayloadError {
    PayloadError::Malformed {
        standard: STANDARD,
        detail: detail.to_string(),
    }
}

/// `id` lies in `range` (written out as `range_text` for the owner), else
/// [`PayloadError::IdOutOfRange`] naming `what`.
fn id_in(
    id: u8,
    range: std::ops::RangeInclusive<u8>,
    range_text: &'static str,
    what: &'static str,
) -> Result<(), PayloadError> {
    if range.contains(&id) {
        Ok(())
    } else {
        Err(PayloadError::IdOutOfRange {
            what,
            range: range_text,
            id,
        })
    }
}

/// `value` is exactly two letters that pass `letter`, else [`PayloadError::BadFormat`].
fn two_letters(
    field: &'static str,
    value: &str,
    letter: fn(&u8) -> bool,
    expected: &'static str,
) -> Result<(), PayloadError> {
    if value.len() == 2 && value.bytes().all(|b| letter(&b)) {
        Ok(())
    } else {
        Err(PayloadError::BadFormat {
            field,
            expected,
            value: value.to_string(),
        })
    }
}
