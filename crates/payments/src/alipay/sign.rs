//! Alipay RSA2 (SHA256withRSA, PKCS#1 v1.5): the two keys in whatever form the owner pastes
//! them, the request and the notification sign strings, signing and checking signatures.
//!
//! Pure functions, public so the SDK vector tests can check them byte for byte.

use std::fmt;

use rsa::traits::PublicKeyParts as _;
use rsa::{PrivateKey, PublicKey};

use crate::provider::{ProviderError, ProviderKind};
use crate::rsa_key::{self, KeyField, private_key_from_der, public_key_from_der};

const PRIVATE_KEY: KeyField = KeyField {
    provider: ProviderKind::Alipay,
    name: "app private key (应用私钥)",
    settings: "Alipay settings",
    unprotected_hint: "(Alipay's key tool does this by default)",
};

const PUBLIC_KEY: KeyField = KeyField {
    provider: ProviderKind::Alipay,
    name: "Alipay public key (支付宝公钥)",
    settings: "Alipay settings",
    unprotected_hint: "(Alipay's key tool does this by default)",
};

/// The shop's app private key (应用私钥), which signs our requests. Never printed.
#[derive(Clone)]
pub struct AppPrivateKey(PrivateKey);

/// Alipay's public key (支付宝公钥), which checks the gateway's replies.
#[derive(Clone)]
pub struct AlipayPublicKey(PublicKey);

impl AppPrivateKey {
    /// Reads a private key as PEM or bare base64 (Alipay's key tool gives bare base64), in
    /// PKCS#8 or PKCS#1 form.
    pub fn parse(text: &str) -> Result<Self, ProviderError> {
        let der = PRIVATE_KEY.der(text)?;
        if let Some(key) = private_key_from_der(&der) {
            return Ok(Self(key));
        }
        if public_key_from_der(&der).is_some() {
            return Err(config(
                "The app private key field holds a public key. Paste the app private key \
                 (应用私钥) that Alipay's key tool generated, not a public key.",
            ));
        }
        Err(config(format!(
            "The {} could not be read as an RSA private key. Paste the private key from \
             Alipay's key tool, as PEM or as the bare base64 text.",
            PRIVATE_KEY.name
        )))
    }

    /// Size of the modulus in bits (Alipay RSA2 keys are 2048).
    pub fn bits(&self) -> usize {
        self.0.size() * 8
    }
}

impl AlipayPublicKey {
    /// Reads a public key as PEM or bare base64 (the Alipay console shows bare base64), in
    /// SubjectPublicKeyInfo or PKCS#1 form.
    pub fn parse(text: &str) -> Result<Self, ProviderError> {
        let der = PUBLIC_KEY.der(text)?;
        if let Some(key) = public_key_from_der(&der) {
            return Ok(Self(key));
        }
        if private_key_from_der(&der).is_some() {
            return Err(config(
                "The Alipay public key field holds a private key. Paste the Alipay public key \
                 (支付宝公钥) shown in the Alipay open platform console, and keep private keys \
                 out of that field.",
            ));
        }
        Err(config(format!(
            "The {} could not be read as an RSA public key. Copy it again from the \
             Alipay open platform console, as PEM or as the bare base64 text.",
            PUBLIC_KEY.name
        )))
    }

    pub fn bits(&self) -> usize {
        self.0.size() * 8
    }
}

impl fmt::Debug for AppPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppPrivateKey(<{}-bit RSA, redacted>)", self.bits())
    }
}

impl fmt::Debug for AlipayPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AlipayPublicKey(<{}-bit RSA, redacted>)", self.bits())
    }
}

fn config(detail: impl Into<String>) -> ProviderError {
    ProviderError::Config {
        provider: ProviderKind::Alipay,
        detail: detail.into(),
    }
}

/// The text we sign for a request: every parameter except `sign`, empty values dropped,
/// sorted by key, `key=value` joined by `&`, values raw (not URL-encoded). `sign_type` is
/// signed: a request says which algorithm it used under its own signature.
pub fn request_sign_string<I, K, V>(params: I) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    joined(params, &["sign"])
}

/// The text Alipay signs in an asynchronous notification (异步通知验签): every parameter
/// except `sign` and `sign_type`, URL-decoded, empty values dropped, sorted, joined as for a
/// request. Unlike a request, `sign_type` is left out, so the receiver must check it by itself.
/// Empty values dropped as Alipay's own Java SDK does (`AlipaySignature.getSignCheckContentV1`,
/// `StringUtils.areNotEmpty(key, value)`); the Python SDK has no notification check of its own.
pub fn notification_sign_string<I, K, V>(params: I) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    joined(params, &["sign", "sign_type"])
}

fn joined<I, K, V>(params: I, unsigned: &[&str]) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut pairs: Vec<(K, V)> = params
        .into_iter()
        .filter(|(key, value)| !unsigned.contains(&key.as_ref()) && !value.as_ref().is_empty())
        .collect();
    // Byte order of UTF-8 keys equals code-point order, which is what the SDKs sort by.
    pairs.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
    let mut out = String::new();
    for (key, value) in &pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(key.as_ref());
        out.push('=');
        out.push_str(value.as_ref());
    }
    out
}

/// The `sign` parameter for a request: base64 of the RSA2 signature over
/// [`request_sign_string`].
pub fn sign_request<I, K, V>(params: I, key: &AppPrivateKey) -> Result<String, ProviderError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    sign_bytes(request_sign_string(params).as_bytes(), key)
}

/// Base64 of the RSA2 signature over `message` (UTF-8 bytes, as Alipay signs them).
pub fn sign_bytes(message: &[u8], key: &AppPrivateKey) -> Result<String, ProviderError> {
    rsa_key::sign_sha256(&key.0, message).map_err(|err| {
        config(format!(
            "Signing the request with the app private key failed ({err}). Check the key in \
             Alipay settings."
        ))
    })
}

/// Whether `signature` (base64) is Alipay's RSA2 signature over exactly `message`.
pub fn verify(message: &[u8], signature: &str, key: &AlipayPublicKey) -> bool {
    rsa_key::verify_sha256(&key.0, message, signature)
}
