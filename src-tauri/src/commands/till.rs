//! Till screen and settings: tax rates, receipts (PDF and printer) and the till's day; thin
//! calls into the engine.

use shopcast_core::till::day::{TillDay, TillReport};
use shopcast_core::till::receipt::PrintedReceipt;
use shopcast_core::till::taxes::TaxRate;
use tauri::State;

use crate::error::ApiResult;
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub async fn list_tax_rates(state: State<'_, AppState>) -> ApiResult<Vec<TaxRate>> {
    Ok(state.shop.tax_rates().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn add_tax_rate(
    state: State<'_, AppState>,
    name: String,
    percent: String,
    is_default: bool,
) -> ApiResult<TaxRate> {
    Ok(state.shop.add_tax_rate(&name, &percent, is_default).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_default_tax_rate(state: State<'_, AppState>, name: String) -> ApiResult<TaxRate> {
    Ok(state.shop.set_default_tax_rate(&name).await?)
}

/// Prints the order's receipt on the shop's receipt printer (or `printer`).
#[tauri::command]
#[specta::specta]
pub async fn print_receipt(
    state: State<'_, AppState>,
    order_id: i64,
    printer: Option<String>,
) -> ApiResult<PrintedReceipt> {
    Ok(state
        .shop
        .print_receipt(order_id, printer.as_deref())
        .await?)
}

/// Prints the receipt when the shop prints one after every sale; `None` when it does not.
#[tauri::command]
#[specta::specta]
pub async fn auto_print_receipt(
    state: State<'_, AppState>,
    order_id: i64,
) -> ApiResult<Option<PrintedReceipt>> {
    Ok(state.shop.auto_print_receipt(order_id).await?)
}

/// Writes the order's receipt as a PDF to `path` (chosen in the save dialog).
#[tauri::command]
#[specta::specta]
pub async fn save_receipt_pdf(
    state: State<'_, AppState>,
    order_id: i64,
    paper: Option<String>,
    path: std::path::PathBuf,
) -> ApiResult<()> {
    let path = state.files.check_write(&path)?;
    let pdf = state.shop.receipt_pdf(order_id, paper.as_deref()).await?;
    shopcast_core::infra::write_file_atomically(&path, &pdf)?;
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn till_days(
    state: State<'_, AppState>,
    till: Option<String>,
) -> ApiResult<Vec<TillDay>> {
    Ok(state
        .shop
        .till_days(state.till_or_this(till)?.as_deref())
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn open_till(
    state: State<'_, AppState>,
    till: Option<String>,
    float: String,
) -> ApiResult<TillDay> {
    Ok(state
        .shop
        .open_till(state.till_or_this(till)?.as_deref(), &float)
        .await?)
}

/// The X report: the open day so far (writes nothing).
#[tauri::command]
#[specta::specta]
pub async fn till_x_report(
    state: State<'_, AppState>,
    till: Option<String>,
) -> ApiResult<TillReport> {
    Ok(state
        .shop
        .till_report(state.till_or_this(till)?.as_deref())
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn close_till(
    state: State<'_, AppState>,
    till: Option<String>,
    counted: String,
) -> ApiResult<TillReport> {
    Ok(state
        .shop
        .close_till(state.till_or_this(till)?.as_deref(), &counted)
        .await?)
}

/// Writes a closed day's Z report (`day_id`), or the open day's X report as it is now, as a
/// PDF to `path`; the figures come from the shop file, never from the window.
#[tauri::command]
#[specta::specta]
pub async fn save_till_report_pdf(
    state: State<'_, AppState>,
    till: Option<String>,
    day_id: Option<i64>,
    path: std::path::PathBuf,
) -> ApiResult<()> {
    let path = state.files.check_write(&path)?;
    let report = match day_id {
        Some(id) => state.shop.z_report(id).await?,
        None => {
            state
                .shop
                .till_report(state.till_or_this(till)?.as_deref())
                .await?
        }
    };
    let pdf = state.shop.till_report_pdf(&report, None).await?;
    shopcast_core::infra::write_file_atomically(&path, &pdf)?;
    Ok(())
}

/// Every till the shop has seen, by name, for the till filters.
#[tauri::command]
#[specta::specta]
pub async fn known_tills(state: State<'_, AppState>) -> ApiResult<Vec<String>> {
    Ok(state.shop.known_tills().await?)
}
