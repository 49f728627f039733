//! Test keys, generated once per test run: the shop's app key pair and "Alipay's" key pair,
//! exported in each form an owner might paste.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::pkcs1::{EncodeRsaPrivateKey as _, EncodeRsaPublicKey as _};
use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use rsa::{PrivateKey, PublicKey};

pub struct KeyPair {
    pub private: PrivateKey,
}

impl KeyPair {
    fn generate() -> Self {
        let private = PrivateKey::new(&mut os_rng::SysRng, 2048).expect("RSA key generation");
        Self { private }
    }

    pub fn public(&self) -> PublicKey {
        self.private.to_public_key()
    }

    pub fn private_pkcs8_pem(&self) -> String {
        self.private
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap()
            .to_string()
    }

    pub fn private_pkcs8_base64(&self) -> String {
        BASE64.encode(self.private.to_pkcs8_der().unwrap().as_bytes())
    }

    pub fn private_pkcs1_pem(&self) -> String {
        self.private
            .to_pkcs1_pem(LineEnding::CRLF)
            .unwrap()
            .to_string()
    }

    /// The form the official SDKs and Alipay's key tool use.
    pub fn private_pkcs1_base64(&self) -> String {
        BASE64.encode(self.private.to_pkcs1_der().unwrap().as_bytes())
    }

    pub fn public_spki_pem(&self) -> String {
        self.public().to_public_key_pem(LineEnding::LF).unwrap()
    }

    /// The form the Alipay console shows.
    pub fn public_spki_base64(&self) -> String {
        BASE64.encode(self.public().to_public_key_der().unwrap().as_bytes())
    }

    pub fn public_pkcs1_pem(&self) -> String {
        self.public().to_pkcs1_pem(LineEnding::LF).unwrap()
    }

    pub fn public_pkcs1_base64(&self) -> String {
        BASE64.encode(self.public().to_pkcs1_der().unwrap().as_bytes())
    }
}

pub struct Keys {
    /// The shop's app key pair: we sign with the private half, the gateway checks with the
    /// public half.
    pub app: KeyPair,
    /// Alipay's key pair: the gateway signs replies, we check with the public half.
    pub alipay: KeyPair,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        app: KeyPair::generate(),
        alipay: KeyPair::generate(),
    })
}
