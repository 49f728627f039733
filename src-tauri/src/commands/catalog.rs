//! The Catalog screen: products, photos and the catalog CSV, each a call into the engine's
//! catalog room.

use std::path::PathBuf;

use shopcast_core::{
    ExportReport, ImportReport, Money, Product, ProductDraft, ProductPage, ProductQuery,
};
use tauri::State;

use crate::error::ApiResult;
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub async fn list_products(
    state: State<'_, AppState>,
    query: ProductQuery,
) -> ApiResult<ProductPage> {
    Ok(state.shop.list_products(&query).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_product(state: State<'_, AppState>, id: i64) -> ApiResult<Product> {
    Ok(state.shop.product(id).await?)
}

/// The product a scanner's barcode names (the till's search), if one is on sale.
#[tauri::command]
#[specta::specta]
pub async fn product_by_barcode(
    state: State<'_, AppState>,
    barcode: String,
) -> ApiResult<Option<Product>> {
    Ok(state.shop.product_by_barcode(&barcode).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn create_product(state: State<'_, AppState>, draft: ProductDraft) -> ApiResult<Product> {
    Ok(state.shop.create_product(&draft).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn update_product(
    state: State<'_, AppState>,
    id: i64,
    draft: ProductDraft,
) -> ApiResult<Product> {
    Ok(state.shop.update_product(id, &draft).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_archived(
    state: State<'_, AppState>,
    id: i64,
    archived: bool,
) -> ApiResult<Product> {
    Ok(state.shop.set_archived(id, archived).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_product(state: State<'_, AppState>, id: i64) -> ApiResult<()> {
    Ok(state.shop.delete_product(id).await?)
}

/// A photo dropped on the window or picked in the native dialog.
#[tauri::command]
#[specta::specta]
pub async fn add_photo_from_path(
    state: State<'_, AppState>,
    product_id: i64,
    path: PathBuf,
) -> ApiResult<Product> {
    let path = state.files.check_read(&path)?;
    Ok(state.shop.add_photo_file(product_id, &path).await?)
}

/// A photo read by the page from a file input.
#[tauri::command]
#[specta::specta]
pub async fn add_photo_from_bytes(
    state: State<'_, AppState>,
    product_id: i64,
    data_base64: String,
) -> ApiResult<Product> {
    let bytes = crate::commands::decode_base64(&data_base64)?;
    Ok(state.shop.add_photo(product_id, bytes).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn remove_photo(
    state: State<'_, AppState>,
    product_id: i64,
    hash: String,
) -> ApiResult<Product> {
    Ok(state.shop.remove_photo(product_id, &hash).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn import_catalog(
    state: State<'_, AppState>,
    path: PathBuf,
    skip_invalid: bool,
) -> ApiResult<ImportReport> {
    let path = state.files.check_read(&path)?;
    Ok(state.shop.import_catalog(&path, skip_invalid).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn export_catalog(state: State<'_, AppState>, path: PathBuf) -> ApiResult<ExportReport> {
    let path = state.files.check_write(&path)?;
    Ok(state.shop.export_catalog(&path).await?)
}

/// Live check of a typed price, so the form shows the amount it will store.
#[tauri::command]
#[specta::specta]
pub fn parse_price(price: String, currency: String) -> ApiResult<Money> {
    Ok(shopcast_core::money::parse_price(&price, &currency)?)
}
