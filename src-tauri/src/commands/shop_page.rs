//! Settings → Shop page: the switch, port and public address of the shop page the window
//! serves, its status and the reachability check; the running server is in AppState.

use serde::Serialize;
use tauri::State;

use crate::error::ApiResult;
use crate::state::AppState;

/// What the Shop page section shows.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ShopPageView {
    pub settings: shopcast_core::settings::ShopPageSettings,
    /// shop.public_url as saved; empty when none.
    pub public_url: String,
    /// Set while the shop page runs.
    pub running: Option<ShopPageRunning>,
    /// Why it is not running although switched on (a busy port), in the owner's words.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ShopPageRunning {
    /// e.g. "127.0.0.1:8080".
    pub listening: String,
    /// The address buy links use now.
    pub public_url: String,
    /// UTC ms of the last request answered.
    pub last_request_at: Option<i64>,
    /// Requests answered since it started (far below 2^53).
    pub requests: u64,
}

/// The reachability check's answer, with a sentence for the owner.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ShopPageReachability {
    pub reachable: bool,
    pub message: String,
}

#[tauri::command]
#[specta::specta]
pub async fn shop_page_status(state: State<'_, AppState>) -> ApiResult<ShopPageView> {
    state.shop_page.lock().await.view(&state.shop).await
}

/// Saves the switch, port, proxy trust and public address, then starts, restarts or stops
/// the page.
#[tauri::command]
#[specta::specta]
pub async fn save_shop_page(
    state: State<'_, AppState>,
    settings: shopcast_core::settings::ShopPageSettings,
    public_url: String,
) -> ApiResult<ShopPageView> {
    let mut host = state.shop_page.lock().await;
    host.save(&state.shop, settings, &public_url).await?;
    host.view(&state.shop).await
}

#[tauri::command]
#[specta::specta]
pub async fn check_shop_page_reachable(
    state: State<'_, AppState>,
) -> ApiResult<ShopPageReachability> {
    state.shop_page.lock().await.check_reachable().await
}
