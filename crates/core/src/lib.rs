//! Shopcast's engine: the `Shop` handle over one shop file, and one folder ("room") per
//! domain that both the desktop shell and the headless commands call. Knows nothing of Tauri.
//!
//! Rooms: `catalog` (products, photos, catalog CSV), `signage` (printed batches, product QR,
//! payload QR), `payments` (till orders and charges, ledger, providers, watchers), `posting`
//! (accounts, sign-in, compose, outbox), `reports` (summary, CSV, PDF), `settings`; shared
//! infrastructure (shop file, secrets, clock, blocking work) in `infra`.

pub mod catalog;
pub mod error;
pub mod infra;
pub mod money;
pub mod payments;
pub mod posting;
pub mod reports;
pub mod settings;
pub mod signage;
pub mod till;

use std::path::{Path, PathBuf};

use sqlx::AnyPool;

pub use infra::store::{Backend, Database};

pub use catalog::csv::{ExportReport, ImportReport, RowError};
pub use catalog::photos::{MediaStore, Photo, Variant};
pub use catalog::{
    Product, ProductDraft, ProductPage, ProductQuery, ProductSummary, ShopFront, ShopPageIndex,
    ShopPageProduct, StockState,
};
pub use error::{CoreError, DatabaseProblem, ErrorCode, Result};
pub use money::Money;
pub use payments::web::{BuyRequest, NextStep, Receipt, ReceiptLine, ShareLinks, WebCheckoutStart};
pub use posting::{ComposeRequest, DEFAULT_POST_TEMPLATE, PostPreview};
pub use reports::Dashboard;
pub use settings::ShopSettings;

use infra::{secrets, store};

/// An open shop: its data folder, database and media store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Shop {
    data_dir: PathBuf,
    database: Database,
    pool: AnyPool,
    media: MediaStore,
    payments: payments::Payments,
    secrets: secrets::SecretStore,
    outbox: posting::outbox::Outbox,
    sign_ins: posting::sign_in::SignIns,
    recent_settings: settings::RecentSettings,
}

impl Shop {
    /// Opens the shop in `data_dir`, creating and migrating its file as needed.
    pub async fn open(data_dir: impl AsRef<Path>) -> Result<Shop> {
        let data_dir = data_dir.as_ref();
        Shop::open_with(data_dir, Database::in_data_dir(data_dir)).await
    }

    /// Opens the shop whose records are in `database`; its photos and the secrets' fallback
    /// file stay in `data_dir`.
    pub async fn open_with(data_dir: impl AsRef<Path>, database: Database) -> Result<Shop> {
        let data_dir = data_dir.as_ref().to_path_buf();
        let (pool, _backup) = store::open_database(&data_dir, &database).await?;
        let media = MediaStore::new(&data_dir);
        let payments = payments::Payments::new(pool.clone());
        let secrets = secrets::SecretStore::new(&data_dir);
        let outbox = posting::outbox::Outbox::new(
            pool.clone(),
            secrets.clone(),
            media.clone(),
            std::sync::Arc::new(posting::outbox::SocialFactory),
        );
        Ok(Shop {
            data_dir,
            database,
            pool,
            media,
            payments,
            secrets,
            outbox,
            sign_ins: Default::default(),
            recent_settings: Default::default(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The shop file, when the shop is on SQLite.
    pub fn database_path(&self) -> PathBuf {
        match &self.database {
            Database::File(path) => path.clone(),
            Database::Server(_) => self.data_dir.join(store::DATABASE_FILE),
        }
    }

    /// Where the shop's records are.
    pub fn database(&self) -> &Database {
        &self.database
    }

    pub fn backend(&self) -> Backend {
        self.database.backend()
    }

    pub fn media(&self) -> &MediaStore {
        &self.media
    }

    /// The raw pool, for tests and for engine modules added by later features.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// On a PostgreSQL shop, shows in this process what the shop's other computers record
    /// (payments, orders, posts) as they announce it: the window calls this once at start.
    /// Lost connections are taken up again; on a shop file there is nobody else to hear.
    pub fn start_live_updates(&self) {
        let Database::Server(url) = &self.database else {
            return;
        };
        let (url, shop) = (url.clone(), self.clone());
        tokio::spawn(async move {
            loop {
                if let Err(error) = shop.listen_for_changes(&url).await {
                    tracing::warn!(%error, "live updates from other tills stopped; listening again");
                }
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
        });
    }

    /// Whether the shop's database answers within two seconds (a shop file always does). The
    /// window asks every two seconds, so it says at once when the server goes away and when it
    /// is back.
    pub async fn database_answers(&self) -> bool {
        if self.backend() != Backend::Postgres {
            return true;
        }
        let probe = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(
            tokio::time::timeout(std::time::Duration::from_secs(2), probe).await,
            Ok(Ok(_))
        )
    }

    async fn listen_for_changes(&self, url: &str) -> Result<()> {
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(infra::live::CHANNEL).await?;
        loop {
            let note = listener.recv().await?;
            let Ok(changes) = serde_json::from_str::<infra::live::Changes>(note.payload()) else {
                continue;
            };
            if changes.from == self.payments.instance_id() || changes.from == self.outbox.owner() {
                continue; // our own: already shown
            }
            self.payments
                .relay(&changes.payments, &changes.orders)
                .await?;
            self.outbox.relay(&changes.posts).await?;
        }
    }

    /// Stops the payment watchers, then closes the shop file (a poll in flight would
    /// otherwise fail on the closed file and say so).
    pub async fn close(&self) {
        self.payments.stop_watchers();
        self.payments.release_leases().await;
        self.pool.close().await;
    }
}
