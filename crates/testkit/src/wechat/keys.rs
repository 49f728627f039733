//! Key material for the gateway, made with Debian's `openssl` at start: RSA 2048 key pairs
//! (PKCS#8 / SPKI PEM, as WeChat Pay hands them out) and a self-signed platform certificate.

use std::path::Path;
use std::process::Command;

/// A private key (PKCS#8 PEM) and its public half (SubjectPublicKeyInfo PEM).
pub struct KeyPair {
    /// PKCS#8 PEM.
    pub private_pem: String,
    /// SubjectPublicKeyInfo PEM.
    pub public_pem: String,
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl (Debian package `openssl`)");
    assert!(
        output.status.success(),
        "openssl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).expect("openssl wrote its output")
}

/// A new 2048-bit RSA key pair from `openssl genpkey` (blocking; fast).
pub fn generate_key_pair() -> KeyPair {
    let dir = tempfile::tempdir().expect("a temp dir for openssl");
    openssl(
        dir.path(),
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "key.pem",
        ],
    );
    openssl(
        dir.path(),
        &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
    );
    KeyPair {
        private_pem: read(dir.path(), "key.pem"),
        public_pem: read(dir.path(), "pub.pem"),
    }
}

/// A self-signed certificate for `key` with serial `serial_hex` (upper-case hex), valid from
/// now for five years, named like WeChat Pay's platform certificates.
pub fn platform_certificate(key: &KeyPair, serial_hex: &str) -> String {
    let dir = tempfile::tempdir().expect("a temp dir for openssl");
    std::fs::write(dir.path().join("key.pem"), &key.private_pem).unwrap();
    let serial = format!("0x{serial_hex}");
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "key.pem",
            "-sha256",
            "-days",
            "1825",
            "-set_serial",
            &serial,
            "-subj",
            "/C=CN/O=Tenpay.com/OU=Tenpay.com CA Center/CN=Tenpay.com Root CA",
            "-out",
            "cert.pem",
        ],
    );
    read(dir.path(), "cert.pem")
}
