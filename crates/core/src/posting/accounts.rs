//! Connected microblog accounts. The credential (Bluesky app password, Mastodon or Weibo
//! token) goes to the secret store; the database keeps the account and the secret's name.

use serde::{Deserialize, Serialize};
use shopcast_social::Network;
use sqlx::{Row, SqlitePool};

use crate::error::{CoreError, Result};
use crate::infra::now_ms;
use crate::infra::secrets::{SecretBackend, SecretStore};

crate::infra::text_enum! {
    /// Whether the account can post: ok, reconnect (the network refused the saved
    /// credential), disconnected (removed by the owner; its history stays).
    pub enum AccountStatus {
        Ok = "ok",
        Reconnect = "reconnect",
        Disconnected = "disconnected",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: i64,
    pub network: Network,
    /// PDS, instance or API base URL.
    pub service: String,
    pub handle: String,
    pub status: AccountStatus,
    /// Where the credential is kept (never the credential itself).
    pub secret_backend: SecretBackend,
    /// When the token lapses (Weibo), UTC unix seconds: the owner re-authorizes before then.
    pub token_expires_at: Option<i64>,
    /// Network extras kept with the account (Weibo's secure domain, token expiry).
    #[serde(skip)]
    pub settings: serde_json::Value,
}

impl Account {
    fn with_expiry(mut self) -> Account {
        self.token_expires_at = self.settings.get("expiresAt").and_then(|e| e.as_i64());
        self
    }
}

fn from_row(row: &sqlx::sqlite::SqliteRow) -> Account {
    Account {
        id: row.get("id"),
        // A network this build does not know cannot come from its own tables.
        network: Network::parse(row.get("network")).unwrap_or(Network::Bluesky),
        service: row.get("service"),
        handle: row.get("handle"),
        status: AccountStatus::parse(row.get("status")).unwrap_or(AccountStatus::Reconnect),
        secret_backend: if row.get::<&str, _>("secret_backend") == "keychain" {
            SecretBackend::Keychain
        } else {
            SecretBackend::File
        },
        settings: serde_json::from_str(row.get::<&str, _>("settings")).unwrap_or_default(),
        token_expires_at: None,
    }
    .with_expiry()
}

/// Adds (or reconnects) an account and stores its credential.
pub async fn save(
    pool: &SqlitePool,
    secrets: &SecretStore,
    network: Network,
    service: &str,
    handle: &str,
    credential: &str,
    settings: serde_json::Value,
) -> Result<Account> {
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT secret_name FROM accounts WHERE network = ? AND service = ? AND handle = ?",
    )
    .bind(network.as_str())
    .bind(service)
    .bind(handle)
    .fetch_optional(pool)
    .await?;
    let secret_name =
        existing.unwrap_or_else(|| format!("account-{}", crate::infra::crockford_id(12)));
    let backend = secrets.set(&secret_name, credential)?;
    let backend_text = match backend {
        SecretBackend::Keychain => "keychain",
        SecretBackend::File => "file",
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO accounts (network, service, handle, settings, secret_name, secret_backend, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'ok', ?)
         ON CONFLICT (network, service, handle) DO UPDATE SET settings = excluded.settings,
             secret_backend = excluded.secret_backend, status = 'ok'
         RETURNING id",
    )
    .bind(network.as_str())
    .bind(service)
    .bind(handle)
    .bind(settings.to_string())
    .bind(&secret_name)
    .bind(backend_text)
    .bind(now_ms())
    .fetch_one(pool)
    .await?;
    get(pool, id).await
}

pub async fn list(pool: &SqlitePool) -> Result<Vec<Account>> {
    let rows = sqlx::query("SELECT * FROM accounts ORDER BY network, handle")
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn get(pool: &SqlitePool, id: i64) -> Result<Account> {
    let row = sqlx::query("SELECT * FROM accounts WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| CoreError::not_found(format!("Account {id}")))?;
    Ok(from_row(&row))
}

/// The account's credential from the secret store.
pub async fn credential(pool: &SqlitePool, secrets: &SecretStore, id: i64) -> Result<String> {
    let name: String = sqlx::query_scalar("SELECT secret_name FROM accounts WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| CoreError::not_found(format!("Account {id}")))?;
    secrets.get(&name)?.ok_or_else(|| CoreError::Conflict {
        field: "account",
        message: "This account's password or token is missing from the keychain: reconnect it."
            .into(),
    })
}

/// Changes a connected account's status (a disconnected one stays disconnected).
pub async fn set_status(pool: &SqlitePool, id: i64, status: AccountStatus) -> Result<()> {
    sqlx::query("UPDATE accounts SET status = ? WHERE id = ? AND status <> 'disconnected'")
        .bind(status.as_str())
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Disconnects an account: its credential is deleted; its post history stays.
pub async fn remove(pool: &SqlitePool, secrets: &SecretStore, id: i64) -> Result<()> {
    let name: Option<String> = sqlx::query_scalar("SELECT secret_name FROM accounts WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    let Some(name) = name else {
        return Err(CoreError::not_found(format!("Account {id}")));
    };
    secrets.delete(&name)?;
    sqlx::query("UPDATE accounts SET status = 'disconnected' WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
