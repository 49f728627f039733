//! Which database a shop folder uses: its own SQLite file, or the server chosen in Settings →
//! Shop database (its address in `database.json` beside the shop, its password in the keychain).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::secrets::SecretStore;
use super::store::{self, Backend, Database};
use crate::error::{CoreError, Result};

/// The saved choice, beside the shop folder's other files (never inside a database).
pub const CHOICE_FILE: &str = "database.json";
const PASSWORD_SECRET: &str = "database.password";

#[derive(Debug, Serialize, Deserialize)]
struct Choice {
    /// The server's address without its password.
    url: String,
}

/// What a connection test found.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DatabaseCheck {
    /// The address as shown (no password).
    pub address: String,
    /// An empty database: Shopcast will set it up.
    pub empty: bool,
    /// Products already there (a shop's database), when it is one.
    pub products: Option<i64>,
}

/// The database `data_dir`'s shop uses when no `--database` / `SHOPCAST_DATABASE_URL`
/// names one: the saved server (with its password from the keychain), else the shop file.
pub fn chosen(data_dir: &Path) -> Result<Database> {
    let choice: Option<Choice> = super::read_choice_file(
        &data_dir.join(CHOICE_FILE),
        "database",
        "delete it to use the shop file.",
    )?;
    let Some(choice) = choice else {
        return Ok(Database::in_data_dir(data_dir));
    };
    let database = Database::parse(&choice.url)?;
    let password = SecretStore::new(data_dir).get(PASSWORD_SECRET)?;
    Ok(database.with_password(password.as_deref()))
}

/// Whether a saved server choice exists (shown in Settings → Shop database).
pub fn has_choice(data_dir: &Path) -> bool {
    data_dir.join(CHOICE_FILE).exists()
}

/// Tests `url` (with `password`, when the URL has none) without changing anything in it.
pub async fn test(data_dir: &Path, url: &str, password: Option<&str>) -> Result<DatabaseCheck> {
    let database = Database::parse(url)?.with_password(password.filter(|p| !p.is_empty()));
    store::probe(data_dir, &database).await
}

/// Tests, then saves `url` as this folder's shop database: the address in [`CHOICE_FILE`],
/// the password in the keychain. `sqlite:` (or an empty URL) goes back to the shop file.
pub async fn choose(data_dir: &Path, url: &str, password: Option<&str>) -> Result<DatabaseCheck> {
    let secrets = SecretStore::new(data_dir);
    let url = url.trim();
    if url.is_empty() || url == "sqlite:" {
        let path = data_dir.join(CHOICE_FILE);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(CoreError::io("remove", &path, e)),
        }
        secrets.delete(PASSWORD_SECRET)?;
        return store::probe(data_dir, &Database::in_data_dir(data_dir)).await;
    }
    let database = Database::parse(url)?;
    if database.backend() == Backend::Sqlite {
        return Err(CoreError::invalid(
            "database",
            "A shop file is chosen with --data-dir; here, give a postgres:// server address.",
        ));
    }
    // The password typed in the form wins over one written in the address; neither is saved in the file.
    let (bare, typed) = database.split_password();
    // No password typed for the server already saved: keep the one in the keychain.
    let kept = match chosen(data_dir) {
        Ok(saved) if saved.split_password().0 == bare => saved.split_password().1,
        _ => None,
    };
    let password = password
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .or(typed)
        .or(kept);
    let check = store::probe(data_dir, &bare.with_password(password.as_deref())).await?;
    match &password {
        Some(password) => {
            secrets.set(PASSWORD_SECRET, password)?;
        }
        None => secrets.delete(PASSWORD_SECRET)?,
    }
    let address = match &bare {
        Database::Server(address) => address.clone(),
        Database::File(_) => bare.display(),
    };
    let text = serde_json::to_string_pretty(&Choice { url: address })
        .map_err(|e| CoreError::Report(e.to_string()))?;
    super::write_file_atomically(&data_dir.join(CHOICE_FILE), text.as_bytes())?;
    Ok(check)
}
