//! Secrets (provider keys, tokens) live in the OS keychain; when there is none (a headless
//! box, no Secret Service on D-Bus) they go to a file readable only by the owner (0600) in
//! the data folder, and the UI says so. SQLite keeps only the secret's name and where it is.
//!
//! Which copy is newer: a keychain write leaves `secrets/<name>.keychain-at` (the write time
//! in UTC milliseconds, no secret) and removes the file copy; a file copy whose modification
//! time is not older than that stamp (or with no stamp at all) was written after the keychain
//! entry — the keychain did not answer then — so it wins over the keychain's stale value.

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

/// The keychain behind the store: the OS's, none (`SHOPCAST_SECRETS=file`), or, in unit
/// tests, one in memory that can be told to stop answering.
#[derive(Debug, Clone)]
enum Keychain {
    Os,
    None,
    #[cfg(test)]
    Memory(std::sync::Arc<memory::MemoryKeychain>),
}

#[derive(Debug, Clone)]
pub struct SecretStore {
    dir: PathBuf,
    keychain: Keychain,
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
        // `SHOPCAST_SECRETS=file` (tests, headless servers): never touch the keychain.
        let file_only = std::env::var("SHOPCAST_SECRETS").is_ok_and(|v| v == "file");
        SecretStore {
            dir: data_dir.join("secrets"),
            keychain: if file_only {
                Keychain::None
            } else {
                Keychain::Os
            },
            scope,
        }
    }

    fn account(&self, name: &str) -> String {
        format!("{}:{name}", self.scope)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn stamp_file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.keychain-at"))
    }

    fn keychain_set(&self, name: &str, value: &str) -> bool {
        match &self.keychain {
            Keychain::Os => keyring::Entry::new(SERVICE, &self.account(name))
                .and_then(|entry| entry.set_password(value))
                .is_ok(),
            Keychain::None => false,
            #[cfg(test)]
            Keychain::Memory(memory) => memory.set(&self.account(name), value),
        }
    }

    fn keychain_get(&self, name: &str) -> Option<String> {
        match &self.keychain {
            Keychain::Os => keyring::Entry::new(SERVICE, &self.account(name))
                .and_then(|entry| entry.get_password())
                .ok(),
            Keychain::None => None,
            #[cfg(test)]
            Keychain::Memory(memory) => memory.get(&self.account(name)),
        }
    }

    fn keychain_delete(&self, name: &str) {
        match &self.keychain {
            Keychain::Os => {
                if let Ok(entry) = keyring::Entry::new(SERVICE, &self.account(name)) {
                    let _ = entry.delete_credential();
                }
            }
            Keychain::None => {}
            #[cfg(test)]
            Keychain::Memory(memory) => memory.delete(&self.account(name)),
        }
    }

    /// Stores `value` under `name`, in the keychain when one answers.
    pub fn set(&self, name: &str, value: &str) -> Result<SecretBackend> {
        check_name(name)?;
        if self.keychain_set(name, value) {
            // The stamp says when the keychain copy was written; a stale fallback copy must
            // not outlive the keychain entry.
            self.write_private(&self.stamp_file(name), &crate::infra::now_ms().to_string())?;
            remove_if_present(&self.file(name), "remove the old secret file")?;
            return Ok(SecretBackend::Keychain);
        }
        self.write_private(&self.file(name), value)?;
        Ok(SecretBackend::File)
    }

    pub fn get(&self, name: &str) -> Result<Option<String>> {
        check_name(name)?;
        let file = self.file(name);
        // The link itself, not where it leads: a link is refused when read below.
        let file_written = match std::fs::symlink_metadata(&file) {
            Ok(meta) => Some(modified_ms(&meta)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(CoreError::io("read the secret", file, e)),
        };
        let file_is_newer = file_written.is_some_and(|at| {
            self.keychain_written(name)
                .is_none_or(|keychain_at| at >= keychain_at)
        });
        if !file_is_newer && let Some(value) = self.keychain_get(name) {
            return Ok(Some(value));
        }
        if file_written.is_none() {
            return Ok(None);
        }
        read_private(&file).map(Some)
    }

    /// When the keychain copy was last written (UTC ms), from its stamp beside the secrets.
    fn keychain_written(&self, name: &str) -> Option<i64> {
        std::fs::read_to_string(self.stamp_file(name))
            .ok()
            .and_then(|text| text.trim().parse().ok())
    }

    /// Removes the secret from wherever it is.
    pub fn delete(&self, name: &str) -> Result<()> {
        check_name(name)?;
        self.keychain_delete(name);
        remove_if_present(&self.stamp_file(name), "remove the secret's stamp")?;
        remove_if_present(&self.file(name), "remove the secret")
    }

    /// Writes `value` to `path` readable by the owner only: a fresh temp file created 0600
    /// (never an existing one, which could already be open to others), checked, then renamed.
    fn write_private(&self, path: &Path, value: &str) -> Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir).map_err(|e| CoreError::io("create", &self.dir, e))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            options.mode(0o600);
            let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700));
        }
        let file_name = path.file_name().unwrap_or_default().to_string_lossy();
        let temp = self.dir.join(format!(
            ".{file_name}.{}.tmp",
            crate::infra::crockford_id(8)
        ));
        let written = options
            .open(&temp)
            .and_then(|mut file| {
                file.write_all(value.as_bytes())?;
                file.sync_all()
            })
            .map_err(|e| CoreError::io("write the secret", &temp, e))
            .and_then(|()| read_private(&temp).map(drop))
            .and_then(|()| {
                std::fs::rename(&temp, path).map_err(|e| CoreError::io("write the secret", path, e))
            });
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written
    }
}

/// Refuses a secret file that other users may read or write (a umask, a copy, a chmod).
/// Reads a secret file through one handle: opened without following a link, then that same
/// handle's mode and owner checked, so the file checked is the file read.
fn read_private(path: &Path) -> Result<String> {
    use std::io::Read;
    let failed = |e| CoreError::io("read the secret", path, e);
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return failed(std::io::Error::other(
                "it is a link; Shopcast reads only the file it wrote there. Delete the link and save the key again",
            ));
        }
        failed(e)
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = file.metadata().map_err(failed)?;
        if !meta.is_file() {
            return Err(failed(std::io::Error::other("it is not a plain file")));
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(failed(std::io::Error::other(format!(
                "it belongs to another user (uid {}), not to the one running Shopcast (uid {me})",
                meta.uid()
            ))));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CoreError::SecretFileExposed {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    let mut value = String::new();
    file.read_to_string(&mut value).map_err(failed)?;
    Ok(value)
}

fn modified_ms(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64)
}

fn remove_if_present(path: &Path, action: &'static str) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CoreError::io(action, path, e)),
        _ => Ok(()),
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

#[cfg(test)]
mod memory {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A keychain in memory that can stop answering, as a locked Secret Service does.
    #[derive(Debug, Default)]
    pub struct MemoryKeychain {
        entries: Mutex<HashMap<String, String>>,
        pub down: AtomicBool,
    }

    impl MemoryKeychain {
        pub fn set(&self, account: &str, value: &str) -> bool {
            if self.down.load(Ordering::Relaxed) {
                return false;
            }
            self.entries
                .lock()
                .unwrap()
                .insert(account.into(), value.into());
            true
        }

        pub fn get(&self, account: &str) -> Option<String> {
            if self.down.load(Ordering::Relaxed) {
                return None;
            }
            self.entries.lock().unwrap().get(account).cloned()
        }

        pub fn delete(&self, account: &str) {
            self.entries.lock().unwrap().remove(account);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use super::*;

    fn file_store(dir: &Path) -> SecretStore {
        SecretStore {
            keychain: Keychain::None,
            ..SecretStore::new(dir)
        }
    }

    fn mode_of(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_file_secret_is_written_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = file_store(dir.path());
        assert_eq!(
            store.set("stripe", "sk_test_1").unwrap(),
            SecretBackend::File
        );
        assert_eq!(mode_of(&dir.path().join("secrets/stripe")), 0o600);
        assert_eq!(store.get("stripe").unwrap().as_deref(), Some("sk_test_1"));
        // Overwriting goes through a fresh temp file too: still 0600, no temp left behind.
        store.set("stripe", "sk_test_2").unwrap();
        assert_eq!(store.get("stripe").unwrap().as_deref(), Some("sk_test_2"));
        let names: Vec<_> = std::fs::read_dir(dir.path().join("secrets"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["stripe"]);
    }

    #[test]
    fn a_secret_file_others_can_read_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let store = file_store(dir.path());
        store.set("stripe", "sk_test_1").unwrap();
        let path = dir.path().join("secrets/stripe");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = store.get("stripe").unwrap_err();
        assert_eq!(error.code(), crate::ErrorCode::SecretFileExposed);
        let sentence = error.to_string();
        assert!(
            sentence.contains(&format!("chmod 600 {}", path.display())),
            "{sentence}"
        );
        // After the fix the secret reads again.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(store.get("stripe").unwrap().as_deref(), Some("sk_test_1"));
    }

    #[test]
    fn a_secret_file_that_is_a_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = file_store(dir.path());
        store.set("stripe", "sk_test_1").unwrap();
        // A private file elsewhere (mode 0600, ours): checked by path it would pass.
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, "sk_live_not_ours").unwrap();
        std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o600)).unwrap();
        let path = dir.path().join("secrets/stripe");
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        let error = store.get("stripe").unwrap_err();
        assert_eq!(error.code(), crate::ErrorCode::Io);
        assert!(error.to_string().contains("it is a link"), "{error}");
        // A link to nothing is refused too, not taken for "no secret".
        std::fs::remove_file(&elsewhere).unwrap();
        assert!(store.get("stripe").is_err());
    }

    #[test]
    fn a_newer_file_copy_beats_a_stale_keychain_entry() {
        let dir = tempfile::tempdir().unwrap();
        let keychain = Arc::new(memory::MemoryKeychain::default());
        let store = SecretStore {
            keychain: Keychain::Memory(keychain.clone()),
            ..SecretStore::new(dir.path())
        };
        assert_eq!(store.set("stripe", "old").unwrap(), SecretBackend::Keychain);
        assert!(!dir.path().join("secrets/stripe").exists());
        // The keychain stops answering for a while: the new key goes to the file.
        keychain.down.store(true, Ordering::Relaxed);
        assert_eq!(store.set("stripe", "new").unwrap(), SecretBackend::File);
        keychain.down.store(false, Ordering::Relaxed);
        assert_eq!(store.get("stripe").unwrap().as_deref(), Some("new"));
        // A later keychain write wins again and removes the stale file copy.
        assert_eq!(
            store.set("stripe", "newest").unwrap(),
            SecretBackend::Keychain
        );
        assert!(!dir.path().join("secrets/stripe").exists());
        assert_eq!(store.get("stripe").unwrap().as_deref(), Some("newest"));
        store.delete("stripe").unwrap();
        assert_eq!(store.get("stripe").unwrap(), None);
        assert!(!dir.path().join("secrets/stripe.keychain-at").exists());
    }

    #[test]
    fn an_older_file_copy_loses_to_the_keychain() {
        let dir = tempfile::tempdir().unwrap();
        let keychain = Arc::new(memory::MemoryKeychain::default());
        let store = SecretStore {
            keychain: Keychain::Memory(keychain),
            ..SecretStore::new(dir.path())
        };
        store.set("stripe", "keychain").unwrap();
        // A file copy the keychain write could not remove, older than the stamp.
        let path = dir.path().join("secrets/stripe");
        file_store(dir.path()).set("stripe", "stale").unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert_eq!(store.get("stripe").unwrap().as_deref(), Some("keychain"));
    }
}
