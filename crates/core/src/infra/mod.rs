//! Shared infrastructure every room stands on: the shop file (open, migrate, back up), the
//! secret store, the clock, short ids, atomic file writes and blocking work off the runtime.

pub mod copy;
pub(crate) mod live;
pub mod location;
pub mod secrets;
pub mod sql;
pub mod store;
pub mod till_name;

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{CoreError, Result};

/// Now, as UTC milliseconds (what every table stores).
/// An instant (Unix ms) as the shop's clock shows it (`format` as strftime): the zone is the
/// shop's IANA name, and an unknown one is an error rather than UTC in silence.
pub(crate) fn shop_time(at_ms: i64, timezone: &str, format: &str) -> Result<String> {
    let tz = jiff::tz::TimeZone::get(timezone).map_err(|e| {
        CoreError::invalid("timezone", format!("Unknown time zone “{timezone}”: {e}"))
    })?;
    let at = jiff::Timestamp::from_millisecond(at_ms)
        .map_err(|e| CoreError::invalid("time", e.to_string()))?;
    Ok(at.to_zoned_datetime(tz).strftime(format).to_string())
}

pub(crate) fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// `len` (≤ 32) random-looking Crockford base32 characters: time, process and a counter
/// hashed, so ids made in the same millisecond still differ.
pub(crate) fn crockford_id(len: usize) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut hasher = Sha256::new();
    hasher.update(jiff::Timestamp::now().as_nanosecond().to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(
        COUNTER
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_le_bytes(),
    );
    hasher
        .finalize()
        .iter()
        .take(len)
        .map(|b| ALPHABET[(*b & 31) as usize] as char)
        .collect()
}

/// One of this computer's own choices kept beside the shop (`database.json`, `till.json`):
/// `None` when there is no file; one that cannot be read is an error saying how to `fix` it.
pub(crate) fn read_choice_file<T: serde::de::DeserializeOwned>(
    path: &Path,
    setting: &'static str,
    fix: &str,
) -> Result<Option<T>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CoreError::io("read", path, e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| CoreError::SettingsUnreadable {
            setting,
            message: format!("{} cannot be read ({e}); {fix}", path.display()),
        })
}

pub fn write_file_atomically(out: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| CoreError::io("write", out, e))?;
    tmp.write_all(bytes)
        .map_err(|e| CoreError::io("write", out, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| CoreError::io("write", out, e))?;
    tmp.persist(out)
        .map_err(|e| CoreError::io("write", out, e.error))?;
    Ok(())
}

/// Runs blocking engine work (reports read SQLite synchronously, rendering is CPU work) off
/// the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CoreError::Report(format!("the report task stopped: {e}")))?
}

/// A closed set of names stored as TEXT and sent to the UI as string unions: the enum, its
/// wire strings, the list of all of them, parsing, and comparison with a plain `&str`.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $text:literal,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}
pub(crate) use text_enum;
