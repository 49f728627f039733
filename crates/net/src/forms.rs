//! Single-use form tokens for every POST a public page takes: an HMAC over what the form does
//! (buy this SKU, pay this charge), when it was shown and a nonce, keyed per server.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a page's form stays usable.
const VALID_FOR: Duration = Duration::from_secs(3600);
/// Most used tokens remembered; a token leaves the set when it could no longer be used anyway.
/// Past this many used within the hour, forms are refused rather than the set growing.
const MAX_USED: usize = 100_000;

pub struct FormKey {
    secret: [u8; 32],
    /// Tokens already sent back, with when they were issued (to forget them on expiry).
    used: Mutex<HashMap<String, u64>>,
}

impl Default for FormKey {
    fn default() -> Self {
        FormKey::new()
    }
}

impl FormKey {
    /// A new random key: tokens issued by another server (or an earlier run) do not verify.
    pub fn new() -> FormKey {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the OS random source is available");
        FormKey {
            secret,
            used: Mutex::new(HashMap::new()),
        }
    }

    fn mac(&self, action: &str, target: &str, issued: u64, nonce: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("any key length");
        for part in [action, target, &issued.to_string(), nonce] {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        mac
    }

    /// The token to put in the form that does `action` on `target`. The nonce makes two
    /// pages shown in the same second carry different tokens.
    pub fn issue(&self, action: &str, target: &str) -> String {
        let issued = now_secs();
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).expect("the OS random source is available");
        let nonce = to_hex(&nonce);
        let tag = self
            .mac(action, target, issued, &nonce)
            .finalize()
            .into_bytes();
        format!("{issued}.{nonce}.{}", to_hex(&tag))
    }

    /// When `token` was issued, if this server issued it for `action` on `target`, recently.
    fn verify(&self, token: Option<&str>, action: &str, target: &str) -> Option<u64> {
        let mut parts = token?.splitn(3, '.');
        let (issued, nonce, hex) = (parts.next()?, parts.next()?, parts.next()?);
        let issued = issued.parse::<u64>().ok()?;
        let tag = decode_hex(hex)?;
        if nonce.len() != 16 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let now = now_secs();
        if issued > now + 60 || now.saturating_sub(issued) > VALID_FOR.as_secs() {
            return None;
        }
        // verify_slice compares in constant time.
        self.mac(action, target, issued, nonce)
            .verify_slice(&tag)
            .ok()
            .map(|()| issued)
    }

    /// Whether `token` is a live token for `action` on `target` (it stays unused).
    pub fn check(&self, token: Option<&str>, action: &str, target: &str) -> bool {
        self.verify(token, action, target).is_some()
    }

    /// Uses `token` up: true the first time a live token comes back, false ever after, so a
    /// replayed or double-submitted form does nothing twice.
    pub fn redeem(&self, token: Option<&str>, action: &str, target: &str) -> bool {
        let (Some(issued), Some(token)) = (self.verify(token, action, target), token) else {
            return false;
        };
        let now = now_secs();
        let mut used = self.used.lock().expect("lock");
        if used.contains_key(token) {
            return false;
        }
        if used.len() >= MAX_USED {
            used.retain(|_, issued| now.saturating_sub(*issued) <= VALID_FOR.as_secs());
            if used.len() >= MAX_USED {
                return false;
            }
        }
        used.insert(token.to_string(), issued);
        true
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}
