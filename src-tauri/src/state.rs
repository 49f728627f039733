//! What every window command can reach: the open shop, the log folder, the running export's
//! cancel flag, the shop page the window serves and the start time for first paint.

use std::path::PathBuf;
use std::time::Instant;

use shopcast_core::Shop;

/// What every command can reach: the open shop and where logs go.
pub struct AppState {
    pub shop: Shop,
    /// The database was named by `--database` or `SHOPCAST_DATABASE_URL` (it wins over Settings).
    pub database_named_at_start: bool,
    /// The files the commands may use: chosen in a dialog this run, or the shop's photos.
    pub files: crate::file_access::FileAccess,
    /// Started by the end-to-end tests: they may answer the file dialogs.
    pub e2e_dialogs: bool,
    pub log_dir: PathBuf,
    /// When the process started, for the first-paint measurement.
    pub started: Instant,
    /// Set to stop the export that is running.
    pub export_cancel: std::sync::Mutex<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// The shop page served from the window (Settings → Shop page); shared with the start-up
    /// task that starts it once payments run.
    pub shop_page: std::sync::Arc<tokio::sync::Mutex<crate::shop_page::ShopPageHost>>,
}

impl AppState {
    /// The till a window command acts for: the one it names, else this computer's
    /// (Settings → This till), so every sale and till day the window makes carries it.
    pub fn till_or_this(&self, named: Option<String>) -> shopcast_core::Result<Option<String>> {
        match named {
            Some(name) => Ok(Some(name)),
            None => shopcast_core::infra::till_name::this_till(self.shop.data_dir()),
        }
    }
}
