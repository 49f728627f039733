//! Form tokens for the test checkout: an HMAC over what the form does (buy this SKU, pay
//! this charge) and when it was shown, keyed by a secret made fresh for each server.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a page's form stays usable.
const VALID_FOR: Duration = Duration::from_secs(3600);

pub(crate) struct FormKey {
    secret: [u8; 32],
}

impl FormKey {
    pub(crate) fn new() -> FormKey {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the OS random source is available");
        FormKey { secret }
    }

    fn mac(&self, action: &str, target: &str, issued: u64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("any key length");
        for part in [action.as_bytes(), b"\0", target.as_bytes(), b"\0"] {
            mac.update(part);
        }
        mac.update(issued.to_string().as_bytes());
        mac
    }

    /// The token to put in the form that does `action` on `target`.
    pub(crate) fn issue(&self, action: &str, target: &str) -> String {
        let issued = now_secs();
        let tag = self.mac(action, target, issued).finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("{issued}.{hex}")
    }

    /// Whether `token` was issued by this server for `action` on `target`, recently.
    pub(crate) fn check(&self, token: Option<&str>, action: &str, target: &str) -> bool {
        let Some((issued, hex)) = token.and_then(|t| t.split_once('.')) else {
            return false;
        };
        let (Ok(issued), Some(tag)) = (issued.parse::<u64>(), decode_hex(hex)) else {
            return false;
        };
        let now = now_secs();
        if issued > now + 60 || now.saturating_sub(issued) > VALID_FOR.as_secs() {
            return false;
        }
        // verify_slice compares in constant time.
        self.mac(action, target, issued).verify_slice(&tag).is_ok()
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
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
