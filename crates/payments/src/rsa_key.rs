//! RSA keys as shop owners paste them (PEM of any label or bare base64; PKCS#8, PKCS#1 or
//! SubjectPublicKeyInfo), and SHA256withRSA PKCS#1 v1.5 — shared by Alipay RSA2 and WeChat Pay.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::pkcs1::{DecodeRsaPrivateKey as _, DecodeRsaPublicKey as _};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use rsa::sha2::Sha256;
use rsa::{PrivateKey, PublicKey};

use crate::provider::{ProviderError, ProviderKind};

/// Which settings field a key came from, so a refusal names the field and where to fix it.
pub(crate) struct KeyField {
    pub provider: ProviderKind,
    /// e.g. "app private key (应用私钥)".
    pub name: &'static str,
    /// e.g. "Alipay settings".
    pub settings: &'static str,
    /// How to get the key without a passphrase, e.g. "(Alipay's key tool does this by default)".
    pub unprotected_hint: &'static str,
}

impl KeyField {
    pub fn config(&self, detail: impl Into<String>) -> ProviderError {
        ProviderError::Config {
            provider: self.provider,
            detail: detail.into(),
        }
    }

    /// The DER bytes of a key pasted as PEM (any label) or as bare base64, whitespace anywhere.
    pub fn der(&self, text: &str) -> Result<Vec<u8>, ProviderError> {
        let what = self.name;
        let text = text.trim();
        if text.is_empty() {
            return Err(self.config(format!(
                "The {what} is empty. Paste it in {}.",
                self.settings
            )));
        }
        let body = if text.contains("-----BEGIN") {
            if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
                return Err(self.config(format!(
                    "The {what} is protected by a passphrase. Export it without a passphrase \
                     {} and paste it again.",
                    self.unprotected_hint
                )));
            }
            pem_body(text).ok_or_else(|| {
                self.config(format!(
                    "The {what} looks like PEM but has no matching BEGIN/END lines. Copy the \
                     whole key again, or paste just the base64 text."
                ))
            })?
        } else {
            text
        };
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        BASE64.decode(compact.as_bytes()).map_err(|_| {
            self.config(format!(
                "The {what} is not valid base64 text. Copy it again without extra characters."
            ))
        })
    }
}

pub(crate) fn private_key_from_der(der: &[u8]) -> Option<PrivateKey> {
    PrivateKey::from_pkcs8_der(der)
        .ok()
        .or_else(|| PrivateKey::from_pkcs1_der(der).ok())
}

pub(crate) fn public_key_from_der(der: &[u8]) -> Option<PublicKey> {
    PublicKey::from_public_key_der(der)
        .ok()
        .or_else(|| PublicKey::from_pkcs1_der(der).ok())
}

/// Text between the first `-----BEGIN …-----` marker and the next `-----END`, so a PEM that
/// lost its line breaks when pasted still reads.
pub(crate) fn pem_body(text: &str) -> Option<&str> {
    let label = text.find("-----BEGIN")? + "-----BEGIN".len();
    let start = label + text[label..].find("-----")? + "-----".len();
    let end = start + text[start..].find("-----END")?;
    Some(&text[start..end])
}

/// Base64 of the SHA256withRSA (PKCS#1 v1.5) signature over `message`.
pub(crate) fn sign_sha256(key: &PrivateKey, message: &[u8]) -> Result<String, rsa::Error> {
    Ok(BASE64.encode(key.pkcs1v15_sign::<Sha256>(message)?))
}

/// Whether `signature` (base64, whitespace ignored) is a SHA256withRSA signature over exactly
/// `message`.
pub(crate) fn verify_sha256(key: &PublicKey, message: &[u8], signature: &str) -> bool {
    let compact: String = signature.chars().filter(|c| !c.is_whitespace()).collect();
    let Ok(signature) = BASE64.decode(compact.as_bytes()) else {
        return false;
    };
    key.pkcs1v15_verify::<Sha256>(message, &signature).is_ok()
}
