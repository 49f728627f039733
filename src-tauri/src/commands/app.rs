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
        database_path: state.shop.database_path().display().to_string(),
    })
}
