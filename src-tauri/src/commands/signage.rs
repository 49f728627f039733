//! The Signage screen and the product QR dialog: templates, previews, printing and saving
//! QR images, each a call into the engine's signage room.

use std::path::PathBuf;

use shopcast_core::signage::payload::{QrImage, QrPayloadRequest, QrPreview};
use shopcast_core::signage::{self, SignagePreview, SignageReport, SignageRequest};
use tauri::State;

use crate::error::ApiResult;
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub fn signage_templates() -> Vec<String> {
    signage::templates()
}

#[tauri::command]
#[specta::specta]
pub async fn signage_preview(
    state: State<'_, AppState>,
    request: SignageRequest,
    page: u32,
) -> ApiResult<SignagePreview> {
    Ok(state.shop.preview_signage(&request, page).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn print_signage(
    state: State<'_, AppState>,
    request: SignageRequest,
    path: PathBuf,
) -> ApiResult<SignageReport> {
    let path = state.files.check_write(&path)?;
    Ok(state.shop.print_signage(&request, &path).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn last_signage_request(state: State<'_, AppState>) -> ApiResult<Option<SignageRequest>> {
    Ok(state.shop.last_signage_request().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn product_qr_preview(
    state: State<'_, AppState>,
    product_id: i64,
    payload: Option<QrPayloadRequest>,
) -> ApiResult<QrPreview> {
    Ok(state
        .shop
        .product_qr_preview(product_id, payload.as_ref())
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn save_product_qr(
    state: State<'_, AppState>,
    product_id: i64,
    payload: Option<QrPayloadRequest>,
    format: QrImage,
    path: PathBuf,
) -> ApiResult<QrPreview> {
    let path = state.files.check_write(&path)?;
    Ok(state
        .shop
        .save_product_qr(product_id, payload.as_ref(), format, &path)
        .await?)
}
