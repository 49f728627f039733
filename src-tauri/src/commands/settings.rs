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

/// Settings → Shop database: which database the shop is using now.
#[derive(Debug, serde::Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseInfo {
    /// `sqlite:/…/shopcast.sqlite` or `postgres://shop@host/shop` (never a password).
    pub address: String,
    pub server: bool,
    /// A server saved in Settings (else the shop file, or one named at start).
    pub chosen_in_settings: bool,
    /// Named by `--database` or `SHOPCAST_DATABASE_URL`: that wins over Settings.
    pub named_at_start: bool,
}

#[tauri::command]
#[specta::specta]
pub fn database_info(state: State<'_, AppState>) -> DatabaseInfo {
    DatabaseInfo {
        address: state.shop.database().display(),
        server: state.shop.backend() == shopcast_core::Backend::Postgres,
        chosen_in_settings: shopcast_core::infra::location::has_choice(state.shop.data_dir()),
        named_at_start: state.database_named_at_start,
    }
}

/// Tries a server without changing it or the shop: the answer says what is wrong, or what is there.
#[tauri::command]
#[specta::specta]
pub async fn test_database(
    state: State<'_, AppState>,
    url: String,
    password: Option<String>,
) -> ApiResult<shopcast_core::infra::location::DatabaseCheck> {
    Ok(
        shopcast_core::infra::location::test(state.shop.data_dir(), &url, password.as_deref())
            .await?,
    )
}

/// Tests, then saves the server for this shop folder (its password in the keychain); the
/// app uses it from its next start. An empty address goes back to the shop file.
#[tauri::command]
#[specta::specta]
pub async fn choose_database(
    state: State<'_, AppState>,
    url: String,
    password: Option<String>,
) -> ApiResult<shopcast_core::infra::location::DatabaseCheck> {
    Ok(
        shopcast_core::infra::location::choose(state.shop.data_dir(), &url, password.as_deref())
            .await?,
    )
}

/// Starts Shopcast again (after choosing another database).
#[tauri::command]
#[specta::specta]
pub fn restart_app(app: tauri::AppHandle) {
    app.restart();
}

/// This computer's till name (Settings → This till); `None` when none is saved.
#[tauri::command]
#[specta::specta]
pub async fn till_name(state: State<'_, AppState>) -> ApiResult<Option<String>> {
    Ok(shopcast_core::infra::till_name::this_till(
        state.shop.data_dir(),
    )?)
}

/// Saves (or, when empty, forgets) this computer's till name; returns it as stored.
#[tauri::command]
#[specta::specta]
pub async fn set_till_name(
    state: State<'_, AppState>,
    name: Option<String>,
) -> ApiResult<Option<String>> {
    Ok(shopcast_core::infra::till_name::set_this_till(
        state.shop.data_dir(),
        name.as_deref(),
    )?)
}
