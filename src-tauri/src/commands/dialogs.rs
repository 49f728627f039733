//! The native open and save dialogs, opened from Rust so the path the owner chose is granted
//! to the file commands for this run (see `file_access`); the page never names a path itself.

use std::path::PathBuf;

use serde::Deserialize;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, specta::Type)]
pub struct FileFilter {
    pub name: String,
    pub extensions: Vec<String>,
}

#[derive(Debug, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DialogOptions {
    /// The suggested file name (save) or folder.
    pub default_path: Option<String>,
    pub filters: Vec<FileFilter>,
}

fn file_dialog(
    app: &AppHandle,
    options: &DialogOptions,
) -> tauri_plugin_dialog::FileDialogBuilder<tauri::Wry> {
    let mut dialog = app.dialog().file();
    for filter in &options.filters {
        let extensions: Vec<&str> = filter.extensions.iter().map(String::as_str).collect();
        dialog = dialog.add_filter(&filter.name, &extensions);
    }
    if let Some(suggested) = options.default_path.as_deref().map(std::path::Path::new) {
        if let Some(folder) = suggested.parent().filter(|p| p.is_dir()) {
            dialog = dialog.set_directory(folder);
        }
        if let Some(name) = suggested.file_name() {
            dialog = dialog.set_file_name(name.to_string_lossy());
        }
    }
    dialog
}

/// Opens the dialog and waits for the owner: the path they chose, granted for this run, or
/// None when they closed it.
async fn ask(
    app: &AppHandle,
    state: &AppState,
    options: &DialogOptions,
    to_write: bool,
) -> ApiResult<Option<String>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let answer = move |path| {
        let _ = tx.send(path);
    };
    let dialog = file_dialog(app, options);
    if to_write {
        dialog.save_file(answer);
    } else {
        dialog.pick_file(answer);
    }
    let Some(picked) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    let path: PathBuf = picked.into_path().map_err(|e| ApiError {
        code: shopcast_core::ErrorCode::Io,
        message: format!("The dialog returned a location Shopcast cannot use: {e}"),
        field: None,
    })?;
    state.files.grant(&path);
    Ok(Some(path.display().to_string()))
}

/// Asks the owner for a file to read (the catalog CSV).
#[tauri::command]
#[specta::specta]
pub async fn pick_open_file(
    app: AppHandle,
    state: State<'_, AppState>,
    options: DialogOptions,
) -> ApiResult<Option<String>> {
    ask(&app, &state, &options, false).await
}

/// Asks the owner where to write a file (exports, signs, QR images).
#[tauri::command]
#[specta::specta]
pub async fn pick_save_file(
    app: AppHandle,
    state: State<'_, AppState>,
    options: DialogOptions,
) -> ApiResult<Option<String>> {
    ask(&app, &state, &options, true).await
}

/// The end-to-end tests' stand-in for a dialog (WebDriver cannot reach a GTK dialog): grants
/// `path` as if the owner had chosen it. Refused unless the app was started with
/// `SHOPCAST_E2E_DIALOGS=1` (tests/e2e/run.sh), which a page cannot set.
#[tauri::command]
#[specta::specta]
pub fn answer_dialog_for_e2e(state: State<'_, AppState>, path: String) -> ApiResult<()> {
    if !state.e2e_dialogs {
        return Err(ApiError {
            code: shopcast_core::ErrorCode::PathNotAllowed,
            message: "Dialog answers are only taken from the end-to-end tests.".into(),
            field: None,
        });
    }
    state.files.grant(std::path::Path::new(&path));
    Ok(())
}
