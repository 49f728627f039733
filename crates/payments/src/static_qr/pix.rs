//! Pix static QR codes ("BR Code"), per the Banco Central do Brasil *Manual de Padrões para
//! Iniciação do Pix*: an EMVCo merchant-presented code with
//!
//! * merchant account template `26`: `00` = `br.gov.bcb.pix`, `01` = the Pix key,
//!   optional `02` = a message for the payer (the whole template at most 99 characters);
//! * `52` = `0000`, `53` = `986` (BRL), optional `54` amount, `58` = `BR`;
//! * `59` merchant name (≤ 25), `60` merchant city (≤ 15), both plain ASCII;
//! * `62` with `05` = the txid (1–25 letters and digits, or `***` for none);
//! * `63` CRC-16/CCITT-FALSE.
//!
//! No point-of-initiation object is written, as in the manual's static example.

use super::PayloadError;
use super::emvco::{AdditionalData, MerchantAccount, MerchantPresented, ans_required};

/// The globally unique identifier of Pix in merchant account template 26.
pub const GUI: &str = "br.gov.bcb.pix";

/// A static Pix charge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PixCharge {
    /// The receiver's Pix key: CPF, CNPJ (punctuation allowed), e-mail, `+55…` phone
    /// number, or random key (EVP); see [`PixKey::parse`].
    pub key: String,
    /// Receiver name, plain ASCII, at most 25 characters.
    pub name: String,
    /// Receiver city, plain ASCII, at most 15 characters.
    pub city: String,
    /// Amount in centavos; `None` lets the payer type it.
    pub amount_minor: Option<i64>,
    /// Transaction id for reconciliation, 1–25 letters and digits; `None` writes `***`.
    pub txid: Option<String>,
    /// Message shown to the payer (sub-object 02 of template 26).
    pub description: Option<String>,
}

impl PixCharge {
    /// Builds the BR Code text ("Pix copia e cola"), CRC included.
    pub fn to_payload(&self) -> Result<String, PayloadError> {
        let key = PixKey::parse(&self.key)?;
        let mut fields = vec![(1, key.as_str().to_string())];
        if let Some(d) = self.description.as_deref().filter(|d| !d.trim().is_empty()) {
            ans_required("description", d, 99)?;
            fields.push((2, d.to_string()));
        }
        let txid = match self.txid.as_deref().map(str::trim) {
            None | Some("") => "***".to_string(),
            Some(t) => validate_txid(t)?,
        };
        // The manual limits template 26 to 99 characters: 18 for the GUI, 4 + key, 4 + message.
        let template_len: usize = 18
            + fields
                .iter()
                .map(|f| 4 + f.1.chars().count())
                .sum::<usize>();
        if template_len > 99 {
            let key_part = 18 + 4 + key.as_str().len();
            return Err(PayloadError::TooLong {
                field: "description",
                max: 99usize.saturating_sub(key_part + 4),
                actual: template_len - key_part - 4,
            });
        }
        MerchantPresented {
            initiation: None,
            merchant_accounts: vec![MerchantAccount::Template {
                id: 26,
                gui: GUI.to_string(),
                fields,
            }],
            merchant_category_code: "0000".to_string(),
            currency: "BRL".to_string(),
            amount_minor: self.amount_minor,
            country_code: "BR".to_string(),
            merchant_name: self.name.clone(),
            merchant_city: self.city.clone(),
            postal_code: None,
            additional_data: AdditionalData {
                reference_label: Some(txid),
                ..AdditionalData::default()
            },
            language: None,
        }
        .to_payload()
    }
}

/// A validated Pix key, in the form the DICT stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PixKey {
    /// 11 digits.
    Cpf(String),
    /// 14 characters: 12 letters/digits (alphanumeric CNPJs from 2026 on) + 2 check digits.
    Cnpj(String),
    /// Lower-cased address, at most 77 characters.
    Email(String),
    /// `+55`, area code and number.
    Phone(String),
    /// Random key: a lower-case UUID.
    Evp(String),
}

impl PixKey {
    /// Recognises and validates a key:
    ///
    /// * `+…` → phone: `+55`, a 2-digit area code (11–99), 8 or 9 digits;
    /// * contains `@` → e-mail (lower-cased);
    /// * 8-4-4-4-12 hex → random key (lower-cased);
    /// * 11 digits, or `000.000.000-00` → CPF with check digits;
    /// * 14 characters, or `00.000.000/0000-00` → CNPJ with check digits.
    pub fn parse(input: &str) -> Result<PixKey, PayloadError> {
        let key = input.trim();
        if key.starts_with('+') {
            return phone(key);
        }
        if key.contains('@') {
            return email(key);
        }
        if is_uuid(key) {
            return Ok(PixKey::Evp(key.to_ascii_lowercase()));
        }
        let stripped: String = if is_masked_cpf(key) || is_masked_cnpj(key) {
            key.chars()
                .filter(|c| !matches!(c, '.' | '-' | '/'))
                .collect()
        } else {
            key.to_string()
        };
        let upper = stripped.to_ascii_uppercase();
        if upper.len() == 11 && upper.bytes().all(|b| b.is_ascii_digit()) {
            return if cpf_is_valid(&upper) {
                Ok(PixKey::Cpf(upper))
            } else {
                Err(PayloadError::CpfCheckDigits {
                    cpf: key.to_string(),
                })
            };
        }
        if upper.len() == 14
            && upper[..12].bytes().all(|b| b.is_ascii_alphanumeric())
            && upper[12..].bytes().all(|b| b.is_ascii_digit())
        {
            return if cnpj_is_valid(&upper) {
                Ok(PixKey::Cnpj(upper))
            } else {
                Err(PayloadError::CnpjCheckDigits {
                    cnpj: key.to_string(),
                })
            };
        }
        Err(PayloadError::PixKeyUnrecognized {
            key: key.to_string(),
        })
    }

    /// The key as written in the payload.
    pub fn as_str(&self) -> &str {
        match self {
            PixKey::Cpf(k)
            | PixKey::Cnpj(k)
            | PixKey::Email(k)
            | PixKey::Phone(k)
            | PixKey::Evp(k) => k,
        }
    }
}

/// Validates a txid: 1–25 ASCII letters and digits, or `***`.
pub fn validate_txid(txid: &str) -> Result<String, PayloadError> {
    let ok = txid == "***"
        || ((1..=25).contains(&txid.len()) && txid.bytes().all(|b| b.is_ascii_alphanumeric()));
    if ok {
        Ok(txid.to_string())
    } else {
        Err(PayloadError::PixTxidInvalid {
            txid: txid.to_string(),
        })
    }
}

fn phone(key: &str) -> Result<PixKey, PayloadError> {
    let digits = &key[1..];
    let ok = digits.bytes().all(|b| b.is_ascii_digit())
        && digits.starts_with("55")
        && (digits.len() == 12 || digits.len() == 13)
        && digits.as_bytes()[2] != b'0'
        && digits.as_bytes()[3] != b'0';
    if ok {
        Ok(PixKey::Phone(key.to_string()))
    } else {
        Err(PayloadError::PixPhoneInvalid {
            key: key.to_string(),
        })
    }
}

fn email(key: &str) -> Result<PixKey, PayloadError> {
    let lower = key.to_ascii_lowercase();
    let invalid = || PayloadError::PixEmailInvalid {
        key: key.to_string(),
    };
    if lower.len() > 77 {
        return Err(invalid());
    }
    let Some((local, domain)) = lower.split_once('@') else {
        return Err(invalid());
    };
    let local_ok = !local.is_empty()
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if local_ok && domain_ok {
        Ok(PixKey::Email(lower))
    } else {
        Err(invalid())
    }
}

fn is_uuid(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn mask_matches(key: &str, mask: &str) -> bool {
    key.len() == mask.len()
        && key.bytes().zip(mask.bytes()).all(|(k, m)| match m {
            b'#' => k.is_ascii_alphanumeric(),
            _ => k == m,
        })
}

fn is_masked_cpf(key: &str) -> bool {
    mask_matches(key, "###.###.###-##")
}

fn is_masked_cnpj(key: &str) -> bool {
    mask_matches(key, "##.###.###/####-##")
}

/// Check digit by the Receita Federal's mod-11 rule over `values` with `weights`.
fn mod11_digit(values: &[u32], weights: &[u32]) -> u32 {
    let sum: u32 = values.iter().zip(weights).map(|(v, w)| v * w).sum();
    match sum % 11 {
        0 | 1 => 0,
        r => 11 - r,
    }
}

/// CPF: 9 digits + 2 mod-11 check digits; all-equal sequences are not issued.
fn cpf_is_valid(cpf: &str) -> bool {
    let d: Vec<u32> = cpf.bytes().map(|b| u32::from(b - b'0')).collect();
    if d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let first = mod11_digit(&d[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2]);
    let second = mod11_digit(&d[..10], &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
    d[9] == first && d[10] == second
}

/// CNPJ: 12 characters + 2 mod-11 check digits; each character counts as its ASCII code
/// minus 48, which gives digits their value and makes the 2026 alphanumeric CNPJs work.
fn cnpj_is_valid(cnpj: &str) -> bool {
    let v: Vec<u32> = cnpj.bytes().map(|b| u32::from(b) - 48).collect();
    if v.iter().all(|&x| x == v[0]) {
        return false;
    }
    let first = mod11_digit(&v[..12], &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
    let second = mod11_digit(&v[..13], &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
    v[12] == first && v[13] == second
}
