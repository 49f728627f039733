use shopcast_core::ShopSettings;
use tauri::State;

use crate::error::ApiResult;
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub async fn get_settings(state: State<'_, AppState>) -> ApiResult<ShopSettings> {
    Ok(state.shop.settings().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn save_settings(
    state: State<'_, AppState>,
    settings: ShopSettings,
) -> ApiResult<ShopSettings> {
    Ok(state.shop.save_settings(settings).await?)
}

#[tauri::command]
#[specta::specta]
pub fn list_timezones() -> Vec<String> {
    shopcast_core::settings::timezones()
}
