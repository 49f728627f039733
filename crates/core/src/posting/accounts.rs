//! Connected microblog accounts. The credential (Bluesky app password, Mastodon or Weibo
//! token) goes to the secret store; the database keeps the account and the secret's name.

use serde::{Deserialize, Serialize};
use shopcast_social::Network;
use sqlx::AnyPool;

use crate::error::{CoreError, Result};
use crate::infra::secrets::{SecretBackend, SecretStore};
use crate::posting::store;

pub use store::{account as get, accounts as list, set_account_status as set_status};

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
    pub(crate) fn with_expiry(mut self) -> Account {
        self.token_expires_at = self.settings.get("expiresAt").and_then(|e| e.as_i64());
        self
    }
}

/// Adds (or reconnects) an account and stores its credential.
pub async fn save(
    pool: &AnyPool,
    secrets: &SecretStore,
    network: Network,
    service: &str,
    handle: &str,
    credential: &str,
    settings: serde_json::Value,
) -> Result<Account> {
    let existing = store::secret_name_of_handle(pool, network, service, handle).await?;
    let secret_name =
        existing.unwrap_or_else(|| format!("account-{}", crate::infra::crockford_id(12)));
    let backend = secrets.set(&secret_name, credential)?;
    let id = store::upsert_account(
        pool,
        network,
        service,
        handle,
        &settings,
        &secret_name,
        backend,
    )
    .await?;
    get(pool, id).await
}

/// The account's credential from the secret store.
pub async fn credential(pool: &AnyPool, secrets: &SecretStore, id: i64) -> Result<String> {
    let name = store::secret_name(pool, id)
        .await?
        .ok_or_else(|| CoreError::not_found(format!("Account {id}")))?;
    secrets.get(&name)?.ok_or_else(|| CoreError::Conflict {
        field: "account",
        message: "This account's password or token is missing from the keychain: reconnect it."
            .into(),
    })
}

/// Disconnects an account: its credential is deleted; its post history stays.
pub async fn remove(pool: &AnyPool, secrets: &SecretStore, id: i64) -> Result<()> {
    let Some(name) = store::secret_name(pool, id).await? else {
        return Err(CoreError::not_found(format!("Account {id}")));
    };
    secrets.delete(&name)?;
    store::set_account_status(pool, id, AccountStatus::Disconnected).await
}
