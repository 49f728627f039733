//! Compose and post screens: thin calls into the engine.

use shopcast_core::posting::accounts::Account;
use shopcast_core::posting::outbox::Post;
use shopcast_core::{ComposeRequest, PostPreview};
use shopcast_social::Network;
use tauri::State;

use crate::error::ApiResult;
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub async fn list_accounts(state: State<'_, AppState>) -> ApiResult<Vec<Account>> {
    Ok(state.shop.accounts().await?)
}

/// Signs in with a handle and an app password (kept in the keychain, never shown again).
#[tauri::command]
#[specta::specta]
pub async fn connect_bluesky(
    state: State<'_, AppState>,
    service: String,
    handle: String,
    app_password: String,
) -> ApiResult<Account> {
    Ok(state
        .shop
        .connect_account(
            Network::Bluesky,
            &service,
            &handle,
            &app_password,
            serde_json::json!({}),
        )
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn disconnect_account(state: State<'_, AppState>, account_id: i64) -> ApiResult<()> {
    Ok(state.shop.disconnect_account(account_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn preview_post(
    state: State<'_, AppState>,
    request: ComposeRequest,
) -> ApiResult<Vec<PostPreview>> {
    Ok(state.shop.preview_post(&request).await?)
}

/// Queues the post for every chosen account, now or at the local time given.
#[tauri::command]
#[specta::specta]
pub async fn queue_posts(
    state: State<'_, AppState>,
    request: ComposeRequest,
) -> ApiResult<Vec<Post>> {
    Ok(state.shop.queue_posts(&request).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn post_history(
    state: State<'_, AppState>,
    product_id: Option<i64>,
    account_id: Option<i64>,
) -> ApiResult<Vec<Post>> {
    Ok(state.shop.post_history(product_id, account_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn post_now(state: State<'_, AppState>, post_id: i64) -> ApiResult<Post> {
    Ok(state.shop.post_now(post_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn skip_post(state: State<'_, AppState>, post_id: i64) -> ApiResult<Post> {
    Ok(state.shop.skip_post(post_id).await?)
}

/// Starts a Mastodon sign-in and opens the instance's authorize page in the browser; the
/// code comes back to 127.0.0.1 (or the owner pastes the address) → `finish_sign_in`.
#[tauri::command]
#[specta::specta]
pub async fn start_mastodon_sign_in(
    state: State<'_, AppState>,
    instance: String,
) -> ApiResult<shopcast_core::posting::sign_in::SignInStart> {
    let start = state.shop.start_mastodon_sign_in(&instance).await?;
    open_in_browser(&start.authorize_url);
    Ok(start)
}

/// Starts a Weibo sign-in with the owner's Weibo app and opens the authorize page.
#[tauri::command]
#[specta::specta]
pub async fn start_weibo_sign_in(
    state: State<'_, AppState>,
    app_key: String,
    app_secret: String,
    redirect_uri: String,
    secure_domain: String,
) -> ApiResult<shopcast_core::posting::sign_in::SignInStart> {
    let start = state.shop.start_weibo_sign_in(
        "https://api.weibo.com",
        &app_key,
        &app_secret,
        &redirect_uri,
        &secure_domain,
    )?;
    open_in_browser(&start.authorize_url);
    Ok(start)
}

/// Finishes a sign-in: waits for the browser's redirect, or uses what the owner pasted.
#[tauri::command]
#[specta::specta]
pub async fn finish_sign_in(
    state: State<'_, AppState>,
    flow_id: String,
    pasted: Option<String>,
) -> ApiResult<Account> {
    Ok(state
        .shop
        .finish_sign_in(&flow_id, pasted.as_deref())
        .await?)
}

fn open_in_browser(url: &str) {
    // If no browser opens, the UI shows the URL to copy.
    if let Err(error) = tauri_plugin_opener::open_url(url, None::<&str>) {
        tracing::warn!(%error, "could not open the browser for a sign-in");
    }
}
