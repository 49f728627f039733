//! Window-wide commands: the shop's folders, opening and showing files Shopcast wrote, and
//! share intents (only Weibo, Bluesky and Mastodon).

use serde::Serialize;
use tauri::State;

use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub log_dir: String,
    pub database_path: String,
}

#[tauri::command]
#[specta::specta]
pub async fn app_info(state: State<'_, AppState>) -> ApiResult<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        data_dir: state.shop.data_dir().display().to_string(),
        log_dir: state.log_dir.display().to_string(),
        // The shop file's path, or the server's address (never its password).
        database_path: match state.shop.database() {
            shopcast_core::Database::File(path) => path.display().to_string(),
            server => server.display(),
        },
    })
}

/// Called by the page once its first screen is painted: logs the time since the process
/// started, and prints it when SHOPCAST_REPORT_STARTUP is set (the startup benchmark).
#[tauri::command]
#[specta::specta]
pub fn report_first_paint(state: State<'_, AppState>) {
    let ms = state.started.elapsed().as_millis();
    tracing::info!(ms, "first paint");
    if std::env::var_os("SHOPCAST_REPORT_STARTUP").is_some() {
        println!("first_paint_ms={ms}");
    }
}

/// Shows a file or folder (the shop's data folder, an export) in the system file manager.
#[tauri::command]
#[specta::specta]
pub fn show_in_folder(state: State<'_, AppState>, path: std::path::PathBuf) -> ApiResult<()> {
    let path = state.files.check_show(&path)?;
    tauri_plugin_opener::reveal_item_in_dir(&path).map_err(|e| crate::error::ApiError {
        code: shopcast_core::ErrorCode::Io,
        message: format!("Could not show {} in the file manager: {e}", path.display()),
        field: None,
    })
}

/// Opens a file Shopcast wrote (a PDF, an export) in the system's viewer.
#[tauri::command]
#[specta::specta]
pub fn open_path(state: State<'_, AppState>, path: std::path::PathBuf) -> ApiResult<()> {
    let path = state.files.check_open(&path)?;
    tauri_plugin_opener::open_path(&path, None::<&str>).map_err(|e| crate::error::ApiError {
        code: shopcast_core::ErrorCode::Io,
        message: format!("Could not open {}: {e}", path.display()),
        field: None,
    })
}

/// Sites the receipt's share buttons may open; the page cannot open any other address.
const SHARE_HOSTS: &[&str] = &["service.weibo.com", "bsky.app", "mastodonshare.com"];

/// Opens a share intent (Weibo, Bluesky, Mastodon) in the system browser.
#[tauri::command]
#[specta::specta]
pub fn open_share_link(url: String) -> ApiResult<()> {
    let allowed = url::Url::parse(&url).ok().filter(|u| {
        u.scheme() == "https" && u.host_str().is_some_and(|h| SHARE_HOSTS.contains(&h))
    });
    let Some(url) = allowed else {
        return Err(crate::error::ApiError::invalid(
            "url",
            "Only Weibo, Bluesky and Mastodon share links can be opened.",
        ));
    };
    tauri_plugin_opener::open_url(url.as_str(), None::<&str>).map_err(|e| crate::error::ApiError {
        code: shopcast_core::ErrorCode::Io,
        message: format!("Could not open the browser: {e}"),
        field: None,
    })
}
