//! Where the shop lives: `--data-dir`, else `SHOPCAST_DATA_DIR`, else the OS app-data dir;
//! its database: `--database`, else `SHOPCAST_DATABASE_URL`, else the saved choice, else its file.

use std::path::PathBuf;

/// Same identifier as tauri.conf.json, so headless runs and the window share one shop.
pub const IDENTIFIER: &str = "app.shopcast.desktop";

pub fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| {
        std::env::var_os("SHOPCAST_DATA_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
    .unwrap_or_else(|| {
        dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join(IDENTIFIER)
    })
}

/// Logs go beside the shop when its folder was chosen explicitly (tests, portable use),
/// else to the OS log location.
pub fn log_dir(data_dir: &std::path::Path) -> PathBuf {
    let default_data = dirs::data_dir().map(|d| d.join(IDENTIFIER));
    if default_data.as_deref() == Some(data_dir) {
        #[cfg(target_os = "macos")]
        if let Some(home) = dirs::home_dir() {
            return home.join("Library/Logs").join(IDENTIFIER);
        }
        return data_dir.join("logs");
    }
    data_dir.join("logs")
}

/// The shop's database: `flag`, else `SHOPCAST_DATABASE_URL`, else the server chosen in
/// Settings → Shop database, else the shop file in `data_dir`.
pub fn database(
    flag: Option<String>,
    data_dir: &std::path::Path,
) -> shopcast_core::Result<shopcast_core::Database> {
    let named = flag.or_else(|| {
        std::env::var("SHOPCAST_DATABASE_URL")
            .ok()
            .filter(|v| !v.trim().is_empty())
    });
    match named {
        Some(url) => shopcast_core::Database::parse(&url),
        None => shopcast_core::infra::location::chosen(data_dir),
    }
}
