//! The Settings screen: shop settings, time zones and the shop logo, each a call into the
//! engine's settings room.

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

#[tauri::command]
#[specta::specta]
pub async fn shop_logo(state: State<'_, AppState>) -> ApiResult<Option<shopcast_core::Photo>> {
    Ok(state.shop.logo().await?)
}

/// A logo read by the page from a file input (PNG, JPEG or WebP).
#[tauri::command]
#[specta::specta]
pub async fn set_shop_logo(
    state: State<'_, AppState>,
    data_base64: String,
) -> ApiResult<shopcast_core::Photo> {
    let bytes = crate::commands::decode_base64(&data_base64)?;
    Ok(state.shop.set_logo(bytes).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn clear_shop_logo(state: State<'_, AppState>) -> ApiResult<()> {
    Ok(state.shop.clear_logo().await?)
}
