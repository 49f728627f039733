//! Till and payments screens: thin calls into the engine.

use shopcast_core::payments::code::CodePayment;
use shopcast_core::payments::ledger::{CurrencyTotal, Payment, PaymentFilter};
use shopcast_core::payments::providers::{PaymentSettings, WechatConnect};
use shopcast_core::payments::till::{Order, OrderDraft};
use shopcast_core::payments::{ChargeView, PaymentDetail, ProvidersView};
use shopcast_payments::ProviderKind;
use tauri::State;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn provider(name: &str) -> ApiResult<ProviderKind> {
    ProviderKind::parse(name)
        .ok_or_else(|| ApiError::invalid("provider", "Choose how the customer pays."))
}

/// The sale as the till has it, priced by the engine (tax, discounts); nothing is stored.
#[tauri::command]
#[specta::specta]
pub async fn preview_order(state: State<'_, AppState>, draft: OrderDraft) -> ApiResult<Order> {
    Ok(state.shop.preview_order(&draft).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn create_order(state: State<'_, AppState>, draft: OrderDraft) -> ApiResult<Order> {
    let mut draft = draft;
    draft.till = state.till_or_this(draft.till.take())?;
    Ok(state.shop.create_order(&draft).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_order(state: State<'_, AppState>, order_id: i64) -> ApiResult<Order> {
    Ok(state.shop.order(order_id).await?)
}

/// Shows the QR for `order_id` at `provider` ("test", "stripe", "alipay", "wechat").
#[tauri::command]
#[specta::specta]
pub async fn start_charge(
    state: State<'_, AppState>,
    order_id: i64,
    provider_name: String,
) -> ApiResult<ChargeView> {
    Ok(state
        .shop
        .charge_order(order_id, provider(&provider_name)?)
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_order(state: State<'_, AppState>, order_id: i64) -> ApiResult<Order> {
    Ok(state.shop.cancel_order(order_id).await?)
}

/// Cash, or a static bank QR the owner checked in the banking app.
#[tauri::command]
#[specta::specta]
pub async fn mark_paid(
    state: State<'_, AppState>,
    order_id: i64,
    method: String,
) -> ApiResult<Payment> {
    Ok(state.shop.mark_paid_manually(order_id, &method).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn list_payments(
    state: State<'_, AppState>,
    filter: PaymentFilter,
) -> ApiResult<Vec<Payment>> {
    Ok(state.shop.list_payments(&filter).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn payment_detail(
    state: State<'_, AppState>,
    payment_id: i64,
) -> ApiResult<PaymentDetail> {
    Ok(state.shop.payment_detail(payment_id).await?)
}

/// Refunds `amount` as typed in the payment's currency, or everything left when empty.
#[tauri::command]
#[specta::specta]
pub async fn refund_payment(
    state: State<'_, AppState>,
    payment_id: i64,
    amount: Option<String>,
) -> ApiResult<Payment> {
    Ok(state
        .shop
        .refund_typed(payment_id, amount.as_deref())
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn today_totals(
    state: State<'_, AppState>,
    include_test: bool,
) -> ApiResult<Vec<CurrencyTotal>> {
    Ok(state.shop.today_totals(include_test).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn payment_providers(state: State<'_, AppState>) -> ApiResult<ProvidersView> {
    Ok(state.shop.providers_view().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn save_payment_settings(
    state: State<'_, AppState>,
    settings: PaymentSettings,
) -> ApiResult<PaymentSettings> {
    let test_mode_was = state.shop.payment_settings().await?.test_mode;
    let saved = state.shop.save_payment_settings(settings).await?;
    if saved.test_mode != test_mode_was {
        // The shop page serves test mode's checkout only if test mode was on when it started.
        state.shop_page.lock().await.refresh(&state.shop).await;
    }
    Ok(saved)
}

/// The key goes to the OS keychain; it is never sent back to the page.
#[tauri::command]
#[specta::specta]
pub async fn connect_stripe(
    state: State<'_, AppState>,
    api_base: String,
    secret_key: String,
) -> ApiResult<()> {
    Ok(state.shop.connect_stripe(&api_base, &secret_key).await?)
}

/// Stores the Stripe webhook signing secret (whsec_…) in the keychain; empty removes it.
/// The page only ever learns whether one is set.
#[tauri::command]
#[specta::specta]
pub async fn set_stripe_webhook_secret(
    state: State<'_, AppState>,
    secret: String,
) -> ApiResult<()> {
    Ok(state
        .shop
        .set_stripe_webhook_secret(Some(secret.as_str()))
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn connect_alipay(
    state: State<'_, AppState>,
    app_id: String,
    gateway: String,
    app_private_key: String,
    alipay_public_key: String,
) -> ApiResult<()> {
    Ok(state
        .shop
        .connect_alipay(&app_id, &gateway, &app_private_key, &alipay_public_key)
        .await?)
}

/// The ids and keys are proven with one signed request first; the keys then go to the OS
/// keychain and never come back to the page.
#[tauri::command]
#[specta::specta]
pub async fn connect_wechat(state: State<'_, AppState>, setup: WechatConnect) -> ApiResult<()> {
    Ok(state.shop.connect_wechat(&setup).await?)
}

/// "Scan customer's code" at the till: the payment code (付款码) as the scanner typed it.
#[tauri::command]
#[specta::specta]
pub async fn charge_payment_code(
    state: State<'_, AppState>,
    order_id: i64,
    auth_code: String,
) -> ApiResult<CodePayment> {
    Ok(state.shop.charge_payment_code(order_id, &auth_code).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn disconnect_provider(
    state: State<'_, AppState>,
    provider_name: String,
) -> ApiResult<()> {
    Ok(state
        .shop
        .disconnect_provider(provider(&provider_name)?)
        .await?)
}
