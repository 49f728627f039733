//! Reports screen and dashboard: thin calls into the engine.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use shopcast_core::Dashboard;
use shopcast_core::reports::{
    CsvOptions, ExportOutcome, ReportFilter, ReportFormat, ReportSummary,
};
use tauri::State;
use tauri::ipc::Channel;

use crate::error::ApiResult;
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub async fn dashboard(state: State<'_, AppState>, include_test: bool) -> ApiResult<Dashboard> {
    Ok(state.shop.dashboard(include_test).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn report_summary(
    state: State<'_, AppState>,
    filter: ReportFilter,
) -> ApiResult<ReportSummary> {
    Ok(state.shop.report_summary(&filter, 50).await?)
}

/// Writes the report as CSV or PDF to `path`; `progress` receives rows written so far.
#[tauri::command]
#[specta::specta]
pub async fn export_report(
    state: State<'_, AppState>,
    filter: ReportFilter,
    format: ReportFormat,
    path: std::path::PathBuf,
    excel: bool,
    progress: Channel<u64>,
) -> ApiResult<ExportOutcome> {
    let path = state.files.check_write(&path)?;
    let cancel = Arc::new(AtomicBool::new(false));
    *state.export_cancel.lock().expect("lock") = cancel.clone();
    Ok(state
        .shop
        .export_report(
            &filter,
            format,
            CsvOptions { excel },
            &path,
            cancel,
            move |rows| {
                let _ = progress.send(rows);
            },
        )
        .await?)
}

/// Stops the running export; it leaves no file.
#[tauri::command]
#[specta::specta]
pub fn cancel_export(state: State<'_, AppState>) {
    state
        .export_cancel
        .lock()
        .expect("lock")
        .store(true, Ordering::Relaxed);
}
