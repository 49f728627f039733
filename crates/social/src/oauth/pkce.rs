//! PKCE (RFC 7636) and `state` values for OAuth2 sign-ins: fresh secrets from OS
//! randomness, base64url without padding, S256 challenges.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A PKCE pair (RFC 7636): the secret `code_verifier` and its S256 `code_challenge`.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkce {
    verifier: String,
    challenge: String,
}

impl Pkce {
    /// A fresh verifier: 32 bytes of OS randomness, base64url → 43 unreserved characters.
    pub fn generate() -> Pkce {
        Pkce::from_verifier_bytes(&random_bytes::<32>())
    }

    /// The verifier for `bytes` (RFC 7636 §4.1: base64url of the octets, no padding).
    pub fn from_verifier_bytes(bytes: &[u8; 32]) -> Pkce {
        let verifier = URL_SAFE_NO_PAD.encode(bytes);
        Pkce {
            challenge: code_challenge(&verifier),
            verifier,
        }
    }

    pub fn verifier(&self) -> &str {
        &self.verifier
    }

    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

/// S256: base64url (no padding) of SHA-256 over the ASCII verifier.
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A fresh `state` value: 16 bytes of OS randomness, base64url (URL-safe as is).
pub fn new_state() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<16>())
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // Without OS randomness a sign-in cannot be made safe; there is nothing to fall back to.
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B, byte for byte.
    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        let octets = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let pkce = Pkce::from_verifier_bytes(&octets);
        assert_eq!(
            pkce.verifier(),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
        assert_eq!(
            pkce.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_verifiers_are_unreserved_43_to_128_and_fresh() {
        let a = Pkce::generate();
        let b = Pkce::generate();
        assert_ne!(a.verifier(), b.verifier());
        for pkce in [&a, &b] {
            let v = pkce.verifier();
            assert!((43..=128).contains(&v.len()), "{v}");
            assert!(
                v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)),
                "{v}"
            );
            assert_eq!(pkce.challenge(), code_challenge(v));
        }
        assert!(!format!("{a:?}").contains(a.verifier()));
        assert_ne!(new_state(), new_state());
    }
}
