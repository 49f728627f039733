//! This computer's till name (Settings → This till), in `till.json` beside the shop's other files:
//! several tills share one database, so the name is per computer and never in the `settings` table.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::payments::till::till_name as checked_till_name;

/// The file in the data folder, beside `database.json`.
pub const TILL_FILE: &str = "till.json";

#[derive(Debug, Serialize, Deserialize)]
struct TillFile {
    name: String,
}

/// This computer's till name; `None` when none was saved (orders then carry no till).
pub fn this_till(data_dir: &Path) -> Result<Option<String>> {
    let file: Option<TillFile> = super::read_choice_file(
        &data_dir.join(TILL_FILE),
        "till",
        "save the till name again in Settings → This till.",
    )?;
    let Some(file) = file else {
        return Ok(None);
    };
    checked_till_name(Some(&file.name))
}

/// Saves (or, with `None` or blank, forgets) this computer's till name; returns it as stored.
pub fn set_this_till(data_dir: &Path, name: Option<&str>) -> Result<Option<String>> {
    let path = data_dir.join(TILL_FILE);
    let Some(name) = checked_till_name(name)? else {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(CoreError::io("remove", &path, e)),
        }
        return Ok(None);
    };
    let text = serde_json::to_string_pretty(&TillFile { name: name.clone() })
        .map_err(|e| CoreError::Report(e.to_string()))?;
    super::write_file_atomically(&path, text.as_bytes())?;
    Ok(Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_no_till() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(this_till(dir.path()).expect("read"), None);
    }

    #[test]
    fn round_trip_and_forget() {
        let dir = tempfile::tempdir().expect("temp dir");
        let saved = set_this_till(dir.path(), Some("  收银台 1 ")).expect("save");
        assert_eq!(saved.as_deref(), Some("收银台 1"));
        assert_eq!(
            this_till(dir.path()).expect("read").as_deref(),
            Some("收银台 1")
        );
        assert_eq!(
            set_this_till(dir.path(), Some("   ")).expect("forget"),
            None
        );
        assert!(!dir.path().join(TILL_FILE).exists());
        assert_eq!(this_till(dir.path()).expect("read"), None);
    }

    #[test]
    fn bad_names_are_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let long = "x".repeat(65);
        let err = set_this_till(dir.path(), Some(&long)).expect_err("too long");
        assert!(err.to_string().contains("at most 64"), "{err}");
        let err = set_this_till(dir.path(), Some("Front\ntill")).expect_err("control char");
        assert!(err.to_string().contains("one line"), "{err}");
        assert!(!dir.path().join(TILL_FILE).exists());
    }

    #[test]
    fn unreadable_file_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(TILL_FILE), "not json").expect("write");
        let err = this_till(dir.path()).expect_err("unreadable");
        assert!(err.to_string().contains("till.json"), "{err}");
    }
}
