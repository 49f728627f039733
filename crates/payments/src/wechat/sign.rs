//! WeChat Pay APIv3 cryptography: request signatures, reply and notification verification,
//! AEAD_AES_256_GCM decryption of notification resources.
//!
//! Pure functions, public so the SDK vector tests (wechatpayv3) can check them byte for byte,
//! and so the test gateway can sign its replies the way WeChat Pay does.

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use jiff::{SignedDuration, Timestamp};
use rsa::traits::PublicKeyParts as _;
use rsa::{PrivateKey, PublicKey};
use x509_cert::Certificate;
use x509_cert::der::{Decode as _, DecodePem as _, Encode as _};

use crate::provider::{ProviderError, ProviderKind};
use crate::rsa_key::{self, KeyField, private_key_from_der, public_key_from_der};

/// The only signature scheme APIv3 uses (`Wechatpay-Signature-Type`, Authorization prefix).
pub const SIGNATURE_TYPE: &str = "WECHATPAY2-SHA256-RSA2048";
/// Replies and notifications older or newer than this are refused (WeChat Pay's own rule),
/// so a captured reply cannot be replayed later.
pub const MAX_CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

const PRIVATE_KEY: KeyField = KeyField {
    provider: ProviderKind::Wechat,
    name: "merchant API private key (商户API私钥, apiclient_key.pem)",
    settings: "WeChat Pay settings",
    unprotected_hint: "(WeChat Pay's certificate tool saves apiclient_key.pem without one)",
};

const PUBLIC_KEY: KeyField = KeyField {
    provider: ProviderKind::Wechat,
    name: "WeChat Pay public key (微信支付公钥, pub_key.pem)",
    settings: "WeChat Pay settings",
    unprotected_hint: "(it is a public key and never has one)",
};

fn config(detail: impl Into<String>) -> ProviderError {
    ProviderError::Config {
        provider: ProviderKind::Wechat,
        detail: detail.into(),
    }
}

fn bad_signature(detail: impl Into<String>) -> ProviderError {
    ProviderError::BadSignature {
        provider: ProviderKind::Wechat,
        detail: detail.into(),
    }
}

fn is_certificate(text: &str) -> bool {
    text.contains("BEGIN CERTIFICATE")
}

/// The merchant's API private key (商户API私钥, apiclient_key.pem), which signs our requests.
/// Never printed.
#[derive(Clone)]
pub struct MerchantKey(PrivateKey);

impl MerchantKey {
    /// Reads the key as PEM (PKCS#8, as WeChat Pay's tool saves it, or PKCS#1) or bare base64.
    pub fn parse(text: &str) -> Result<MerchantKey, ProviderError> {
        if is_certificate(text) {
            return Err(config(
                "The merchant API private key field holds a certificate (apiclient_cert.pem). \
                 Paste apiclient_key.pem, the private key saved next to it by WeChat Pay's \
                 certificate tool.",
            ));
        }
        let der = PRIVATE_KEY.der(text)?;
        let Some(key) = private_key_from_der(&der) else {
            if public_key_from_der(&der).is_some() {
                return Err(config(
                    "The merchant API private key field holds a public key. Paste \
                     apiclient_key.pem, the merchant's private key, not a public key.",
                ));
            }
            if is_certificate_der(&der) {
                return Err(config(
                    "The merchant API private key field holds a certificate. Paste \
                     apiclient_key.pem, the private key saved next to apiclient_cert.pem.",
                ));
            }
            return Err(config(format!(
                "The {} could not be read as an RSA private key. Paste apiclient_key.pem \
                 from WeChat Pay's certificate tool, as PEM or as the bare base64 text.",
                PRIVATE_KEY.name
            )));
        };
        let key = MerchantKey(key);
        if key.bits() < 2048 {
            return Err(config(format!(
                "The merchant API private key is a {}-bit RSA key; WeChat Pay uses 2048-bit \
                 keys. Paste apiclient_key.pem from WeChat Pay's certificate tool.",
                key.bits()
            )));
        }
        Ok(key)
    }

    /// The key's size in bits (2048 for keys WeChat Pay issues).
    pub fn bits(&self) -> usize {
        self.0.size() * 8
    }

    /// The public half, as WeChat Pay (or the test gateway) checks our signatures with it.
    pub fn public_key(&self) -> WechatPayKey {
        WechatPayKey(self.0.to_public_key())
    }
}

impl fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MerchantKey(<{}-bit RSA, redacted>)", self.bits())
    }
}

/// An RSA public key that checks WeChat Pay's signatures: WeChat Pay's public key
/// (微信支付公钥) or the key inside a platform certificate.
#[derive(Clone)]
pub struct WechatPayKey(PublicKey);

impl WechatPayKey {
    /// Reads the key as SubjectPublicKeyInfo PEM (pub_key.pem), PKCS#1 PEM or bare base64.
    pub fn parse(text: &str) -> Result<WechatPayKey, ProviderError> {
        if is_certificate(text) {
            return Err(config(
                "The WeChat Pay public key field holds a certificate. Paste WeChat Pay's \
                 public key (微信支付公钥, pub_key.pem from the merchant platform's API \
                 security page) with its id PUB_KEY_ID_….",
            ));
        }
        let der = PUBLIC_KEY.der(text)?;
        if let Some(key) = public_key_from_der(&der) {
            return Ok(WechatPayKey(key));
        }
        if private_key_from_der(&der).is_some() {
            return Err(config(
                "The WeChat Pay public key field holds a private key. Paste WeChat Pay's \
                 public key (微信支付公钥, pub_key.pem), and keep the merchant private key \
                 in its own field.",
            ));
        }
        Err(config(format!(
            "The {} could not be read as an RSA public key. Download pub_key.pem again from \
             the merchant platform's API security page and paste it as PEM or bare base64.",
            PUBLIC_KEY.name
        )))
    }

    /// The key's size in bits (2048 for keys WeChat Pay issues).
    pub fn bits(&self) -> usize {
        self.0.size() * 8
    }
}

impl fmt::Debug for WechatPayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WechatPayKey(<{}-bit RSA>)", self.bits())
    }
}

/// Whether `der` is an X.509 certificate (to name the mistake when one is pasted as base64).
fn is_certificate_der(der: &[u8]) -> bool {
    Certificate::from_der(der).is_ok()
}

/// A WeChat Pay platform certificate (平台证书), as /v3/certificates hands it out: the key
/// that signs replies carrying its serial, valid between its two dates.
#[derive(Clone, Debug)]
pub struct PlatformCertificate {
    /// Upper-case hex without leading zeros, as in `Wechatpay-Serial`.
    pub serial: String,
    /// The public key that checks replies under `serial`.
    pub key: WechatPayKey,
    /// Valid from.
    pub not_before: Timestamp,
    /// Valid until.
    pub not_after: Timestamp,
}

impl PlatformCertificate {
    /// Reads a certificate PEM (as decrypted from /v3/certificates): serial, RSA key,
    /// validity; anything else is a [`ProviderError::Config`] sentence.
    pub fn parse_pem(pem: &str) -> Result<PlatformCertificate, ProviderError> {
        let unreadable = |why: String| {
            config(format!(
                "A WeChat Pay platform certificate could not be read ({why}). Fetch the \
                 platform certificates again."
            ))
        };
        let certificate = Certificate::from_pem(pem.trim().as_bytes())
            .map_err(|err| unreadable(err.to_string()))?;
        let tbs = certificate.tbs_certificate();
        let spki = tbs
            .subject_public_key_info()
            .to_der()
            .map_err(|err| unreadable(err.to_string()))?;
        let key = public_key_from_der(&spki)
            .ok_or_else(|| unreadable("its public key is not an RSA key".to_string()))?;
        let time = |t: x509_cert::time::Time| {
            let since = t.to_unix_duration();
            Timestamp::from_second(since.as_secs() as i64)
                .map_err(|err| unreadable(err.to_string()))
        };
        Ok(PlatformCertificate {
            serial: serial_hex(tbs.serial_number().as_bytes()),
            key: WechatPayKey(key),
            not_before: time(tbs.validity().not_before)?,
            not_after: time(tbs.validity().not_after)?,
        })
    }
}

/// A certificate serial as WeChat Pay writes it: the number in upper-case hex, no leading zeros.
fn serial_hex(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Which keys may have signed a reply: WeChat Pay's public key by its id (PUB_KEY_ID_…), and
/// platform certificates by serial (accounts switching modes have both for a while).
#[derive(Clone, Default)]
pub struct Verifiers {
    public_key: Option<(String, WechatPayKey)>,
    certificates: BTreeMap<String, PlatformCertificate>,
}

impl Verifiers {
    /// Starts with WeChat Pay's public key by its id (PUB_KEY_ID_…), if the account has one,
    /// and no platform certificates.
    pub fn new(public_key: Option<(String, WechatPayKey)>) -> Verifiers {
        Verifiers {
            public_key,
            certificates: BTreeMap::new(),
        }
    }

    /// Adds a platform certificate, replacing one with the same serial.
    pub fn add_certificate(&mut self, certificate: PlatformCertificate) {
        self.certificates
            .insert(certificate.serial.to_ascii_uppercase(), certificate);
    }

    /// Whether a reply signed under `serial` (a public key id or a certificate serial) can be
    /// checked; an unknown serial means the platform certificates should be fetched again.
    pub fn knows(&self, serial: &str) -> bool {
        self.key_for(serial).is_some()
    }

    /// The serials of the platform certificates held, in order.
    pub fn certificate_serials(&self) -> Vec<String> {
        self.certificates.keys().cloned().collect()
    }

    fn key_for(&self, serial: &str) -> Option<(&WechatPayKey, Option<&PlatformCertificate>)> {
        if let Some((id, key)) = &self.public_key
            && id == serial
        {
            return Some((key, None));
        }
        self.certificates
            .get(&serial.to_ascii_uppercase())
            .map(|certificate| (&certificate.key, Some(certificate)))
    }
}

impl fmt::Debug for Verifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifiers")
            .field("public_key_id", &self.public_key.as_ref().map(|(id, _)| id))
            .field("certificates", &self.certificate_serials())
            .finish()
    }
}

/// The APIv3 key (APIv3密钥) that encrypts notification resources and platform certificates.
/// Never printed.
#[derive(Clone)]
pub struct ApiV3Key([u8; 32]);

impl ApiV3Key {
    /// Exactly 32 ASCII characters, as set on the merchant platform.
    pub fn new(text: &str) -> Result<ApiV3Key, ProviderError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(config(
                "The APIv3 key (APIv3密钥) is empty. Paste the 32-character key set on the \
                 merchant platform's API security page.",
            ));
        }
        if !text.is_ascii() {
            return Err(config(
                "The APIv3 key (APIv3密钥) has characters that are not plain letters, digits \
                 or symbols. Paste the 32-character key again.",
            ));
        }
        let bytes: [u8; 32] = text.as_bytes().try_into().map_err(|_| {
            config(format!(
                "The APIv3 key (APIv3密钥) is {} characters long; WeChat Pay's is exactly \
                 32. Paste the key set on the merchant platform's API security page (not the \
                 old APIv2 key).",
                text.len()
            ))
        })?;
        Ok(ApiV3Key(bytes))
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new_from_slice(&self.0).expect("an APIv3 key is 32 bytes")
    }
}

impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV3Key(<redacted>)")
    }
}

/// 32 upper-case letters and digits from the OS's randomness (the `nonce_str` of a request).
pub fn new_nonce() -> String {
    const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut out = String::with_capacity(32);
    while out.len() < 32 {
        let mut bytes = [0u8; 48];
        getrandom::fill(&mut bytes).expect("the OS has randomness");
        // 252 = 7 × 36: bytes above it are dropped so every character is equally likely.
        for b in bytes.iter().filter(|b| **b < 252) {
            if out.len() == 32 {
                break;
            }
            out.push(ALPHABET[usize::from(*b % 36)] as char);
        }
    }
    out
}

/// "METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n" — URL is the path with its query, body "" for GET.
pub fn request_message(method: &str, url: &str, timestamp: i64, nonce: &str, body: &str) -> String {
    format!("{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n")
}

/// Base64 SHA256withRSA (PKCS#1 v1.5) signature over `message`.
pub fn sign(message: &str, key: &MerchantKey) -> String {
    // Cannot fail: MerchantKey::parse admits only RSA keys of 2048 bits or more, which fit a
    // SHA-256 DigestInfo.
    rsa_key::sign_sha256(&key.0, message.as_bytes()).expect("a 2048-bit RSA key signs SHA-256")
}

/// `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…"`
#[allow(clippy::too_many_arguments)]
pub fn authorization(
    mchid: &str,
    serial_no: &str,
    method: &str,
    url: &str,
    timestamp: i64,
    nonce: &str,
    body: &str,
    key: &MerchantKey,
) -> String {
    let signature = sign(&request_message(method, url, timestamp, nonce, body), key);
    format!(
        "{SIGNATURE_TYPE} mchid=\"{mchid}\",nonce_str=\"{nonce}\",signature=\"{signature}\",\
         timestamp=\"{timestamp}\",serial_no=\"{serial_no}\""
    )
}

/// The Wechatpay-* headers of a reply or notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `Wechatpay-Timestamp`: Unix seconds when it was signed.
    pub timestamp: String,
    /// `Wechatpay-Nonce`.
    pub nonce: String,
    /// `Wechatpay-Signature`: base64 SHA256withRSA.
    pub signature: String,
    /// `Wechatpay-Serial`: the public key id or platform certificate serial that signed it.
    pub serial: String,
    /// `Wechatpay-Signature-Type`, when sent (only WECHATPAY2-SHA256-RSA2048 is accepted).
    pub signature_type: Option<String>,
}

impl SignedHeaders {
    /// Reads the headers; a reply without one of the four is unsigned and refused.
    pub fn from_headers(
        headers: &reqwest::header::HeaderMap,
    ) -> Result<SignedHeaders, ProviderError> {
        let get = |name: &str| -> Result<Option<String>, ProviderError> {
            match headers.get(name) {
                None => Ok(None),
                Some(value) => value
                    .to_str()
                    .map(|v| Some(v.trim().to_string()))
                    .map_err(|_| bad_signature(format!("the {name} header is not plain text"))),
            }
        };
        let required = |name: &str| -> Result<String, ProviderError> {
            get(name)?
                .filter(|v| !v.is_empty())
                .ok_or_else(|| bad_signature(format!("the reply has no {name} header")))
        };
        Ok(SignedHeaders {
            timestamp: required("Wechatpay-Timestamp")?,
            nonce: required("Wechatpay-Nonce")?,
            signature: required("Wechatpay-Signature")?,
            serial: required("Wechatpay-Serial")?,
            signature_type: get("Wechatpay-Signature-Type")?,
        })
    }
}

/// "TIMESTAMP\nNONCE\nBODY\n" over the raw body bytes.
fn reply_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    message.extend_from_slice(timestamp.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(nonce.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(body);
    message.push(b'\n');
    message
}

/// Checks "TIMESTAMP\nNONCE\nBODY\n" over the raw body bytes with the key the serial names; a
/// timestamp more than MAX_CLOCK_SKEW from `now` (either way), an unknown serial, another
/// signature type or a bad signature → ProviderError::BadSignature { provider: Wechat, detail: sentence }.
pub fn verify(
    headers: &SignedHeaders,
    body: &[u8],
    verifiers: &Verifiers,
    now: Timestamp,
) -> Result<(), ProviderError> {
    if let Some(kind) = &headers.signature_type
        && kind != SIGNATURE_TYPE
    {
        return Err(bad_signature(format!(
            "it is signed with {kind}, not {SIGNATURE_TYPE}"
        )));
    }
    let timestamp: i64 = headers.timestamp.parse().map_err(|_| {
        bad_signature(format!(
            "its timestamp {:?} is not a number of seconds",
            headers.timestamp
        ))
    })?;
    let signed_at = Timestamp::from_second(timestamp)
        .map_err(|_| bad_signature(format!("its timestamp {timestamp} is out of range")))?;
    let skew = now.duration_since(signed_at);
    if skew.abs() > MAX_CLOCK_SKEW {
        let (minutes, way) = if skew.is_negative() {
            (-skew.as_secs() / 60, "ahead of")
        } else {
            (skew.as_secs() / 60, "behind")
        };
        return Err(bad_signature(format!(
            "it was signed at {signed_at}, {minutes} minutes {way} this computer's clock (at \
             most 5 minutes allowed); check the computer's clock if this repeats"
        )));
    }
    let Some((key, certificate)) = verifiers.key_for(&headers.serial) else {
        return Err(bad_signature(format!(
            "it is signed under serial {:?}, which is neither the WeChat Pay public key id nor \
             a known platform certificate",
            headers.serial
        )));
    };
    if let Some(certificate) = certificate
        && (now < certificate.not_before || now > certificate.not_after)
    {
        return Err(bad_signature(format!(
            "platform certificate {} is valid only from {} to {}",
            certificate.serial, certificate.not_before, certificate.not_after
        )));
    }
    let message = reply_message(&headers.timestamp, &headers.nonce, body);
    if !rsa_key::verify_sha256(&key.0, &message, &headers.signature) {
        return Err(bad_signature(format!(
            "the Wechatpay-Signature does not match the body under serial {}",
            headers.serial
        )));
    }
    Ok(())
}

/// WeChat Pay's side of a request check (the test gateway uses it): whether `signature`
/// (base64) is the merchant's SHA256withRSA signature over exactly `message`.
pub fn verify_signature(message: &str, signature: &str, key: &WechatPayKey) -> bool {
    rsa_key::verify_sha256(&key.0, message.as_bytes(), signature)
}

/// WeChat Pay's side of the same (the test gateway signs its replies with it): base64
/// signature over "TIMESTAMP\nNONCE\nBODY\n".
pub fn sign_reply(timestamp: i64, nonce: &str, body: &str, key: &MerchantKey) -> String {
    let message = reply_message(&timestamp.to_string(), nonce, body.as_bytes());
    rsa_key::sign_sha256(&key.0, &message).expect("a 2048-bit RSA key signs SHA-256")
}

fn gcm_nonce(nonce: &str) -> Result<&Nonce<aes_gcm::aead::consts::U12>, ProviderError> {
    <&Nonce<_>>::try_from(nonce.as_bytes()).map_err(|_| {
        bad_signature(format!(
            "the AEAD_AES_256_GCM nonce is {} bytes long, not 12",
            nonce.len()
        ))
    })
}

/// AEAD_AES_256_GCM with the APIv3 key, nonce (the text's bytes), associated data; ciphertext
/// is base64 of ciphertext||tag. Wrong key or tampered text → ProviderError::BadSignature.
pub fn decrypt(
    key: &ApiV3Key,
    nonce: &str,
    associated_data: &str,
    ciphertext: &str,
) -> Result<String, ProviderError> {
    let nonce = gcm_nonce(nonce)?;
    let compact: String = ciphertext.chars().filter(|c| !c.is_whitespace()).collect();
    let sealed = BASE64
        .decode(compact.as_bytes())
        .map_err(|_| bad_signature("the encrypted resource is not base64"))?;
    let plain = key
        .cipher()
        .decrypt(
            nonce,
            Payload {
                msg: &sealed,
                aad: associated_data.as_bytes(),
            },
        )
        .map_err(|_| {
            bad_signature(
                "the encrypted resource does not open with the APIv3 key: the key in WeChat \
                 Pay settings is wrong, or the text was changed on the way",
            )
        })?;
    String::from_utf8(plain).map_err(|_| bad_signature("the decrypted resource is not UTF-8 text"))
}

/// The inverse of [`decrypt`] (the test gateway encrypts notifications with it). A nonce that
/// is not 12 bytes is a caller's bug.
pub fn encrypt(key: &ApiV3Key, nonce: &str, associated_data: &str, plaintext: &str) -> String {
    let nonce = gcm_nonce(nonce).expect("an AEAD_AES_256_GCM nonce is 12 bytes");
    let sealed = key
        .cipher()
        .encrypt(
            nonce,
            Payload {
                msg: plaintext.as_bytes(),
                aad: associated_data.as_bytes(),
            },
        )
        .expect("AES-GCM encrypts any text shorter than 64 GiB");
    BASE64.encode(sealed)
}
