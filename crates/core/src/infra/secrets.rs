//! Secrets (provider keys, tokens) live in the OS keychain; when there is none (a headless
//! box, no Secret Service on D-Bus) they go to a file readable only by the owner (0600) in
//! the data folder, and the UI says so. SQLite keeps only the secret's name and where it is.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

const SERVICE: &str = "app.shopcast.desktop";

/// Where a secret was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SecretBackend {
    Keychain,
    /// `secrets/<name>` in the data folder, mode 0600.
    File,
}

#[derive(Debug, Clone)]
pub struct SecretStore {
    dir: PathBuf,
    /// Set by `SHOPCAST_SECRETS=file` (tests, headless servers): never touch the keychain.
    file_only: bool,
    /// Keys are per shop folder, so two shops on one machine do not share secrets.
    scope: String,
}

impl SecretStore {
    pub fn new(data_dir: &Path) -> SecretStore {
        let scope = {
            use sha2::{Digest, Sha256};
            let digest = Sha256::digest(data_dir.to_string_lossy().as_bytes());
            digest[..6].iter().map(|b| format!("{b:02x}")).collect()
        };
        SecretStore {
            dir: data_dir.join("secrets"),
            file_only: std::env::var("SHOPCAST_SECRETS").is_ok_and(|v| v == "file"),
            scope,
        }
    }

    fn account(&self, name: &str) -> String {
        format!("{}:{name}", self.scope)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Stores `value` under `name`, in the keychain when one answers.
    pub fn set(&self, name: &str, value: &str) -> Result<SecretBackend> {
        check_name(name)?;
        if !self.file_only
            && let Ok(entry) = keyring::Entry::new(SERVICE, &self.account(name))
            && entry.set_password(value).is_ok()
        {
            // A stale fallback copy must not outlive the keychain entry.
            let _ = std::fs::remove_file(self.file(name));
            return Ok(SecretBackend::Keychain);
        }
        self.write_file(name, value)?;
        Ok(SecretBackend::File)
    }

    pub fn get(&self, name: &str) -> Result<Option<String>> {
        check_name(name)?;
        if !self.file_only
            && let Ok(entry) = keyring::Entry::new(SERVICE, &self.account(name))
            && let Ok(value) = entry.get_password()
        {
            return Ok(Some(value));
        }
        match std::fs::read_to_string(self.file(name)) {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CoreError::io("read the secret", self.file(name), e)),
        }
    }

    /// Removes the secret from wherever it is.
    pub fn delete(&self, name: &str) -> Result<()> {
        check_name(name)?;
        if !self.file_only
            && let Ok(entry) = keyring::Entry::new(SERVICE, &self.account(name))
        {
            let _ = entry.delete_credential();
        }
        match std::fs::remove_file(self.file(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(CoreError::io("remove the secret", self.file(name), e))
            }
            _ => Ok(()),
        }
    }

    fn write_file(&self, name: &str, value: &str) -> Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir).map_err(|e| CoreError::io("create", &self.dir, e))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            options.mode(0o600);
            let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700));
        }
        let temp = self.dir.join(format!(".{name}.tmp"));
        let mut file = options
            .open(&temp)
            .map_err(|e| CoreError::io("write the secret", &temp, e))?;
        file.write_all(value.as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(|e| CoreError::io("write the secret", &temp, e))?;
        std::fs::rename(&temp, self.file(name))
            .map_err(|e| CoreError::io("write the secret", self.file(name), e))
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(CoreError::invalid("secret", "Bad secret name."));
    }
    Ok(())
}
