//! Till and payments screens: thin calls into the engine.

use std::time::Duration;

use serde::Serialize;
use shopcast_core::ledger::{CurrencyTotal, Payment, PaymentEventRecord, PaymentFilter};
use shopcast_core::payments::{ChargeView, ProviderHealth};
use shopcast_core::providers::PaymentSettings;
use shopcast_core::till::{Order, OrderDraft};
use shopcast_payments::ProviderKind;
use tauri::State;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn provider(name: &str) -> ApiResult<ProviderKind> {
    ProviderKind::parse(name)
        .ok_or_else(|| ApiError::invalid("provider", "Choose how the customer pays."))
}

#[tauri::command]
#[specta::specta]
pub async fn create_order(state: State<'_, AppState>, draft: OrderDraft) -> ApiResult<Order> {
    Ok(state.shop.create_order(&draft).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_order(state: State<'_, AppState>, order_id: i64) -> ApiResult<Order> {
    Ok(state.shop.order(order_id).await?)
}

/// Shows the QR for `order_id` at `provider` ("test", "stripe", "alipay").
#[tauri::command]
#[specta::specta]
pub async fn start_charge(
    state: State<'_, AppState>,
    order_id: i64,
    provider_name: String,
) -> ApiResult<ChargeView> {
    let minutes = state.shop.payment_settings().await?.qr_minutes;
    let lifetime = Duration::from_secs(u64::from(minutes) * 60);
    Ok(state
        .shop
        .start_charge(order_id, provider(&provider_name)?, lifetime)
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

#[derive(Debug, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetail {
    pub payment: Payment,
    pub order: Option<Order>,
    pub events: Vec<PaymentEventRecord>,
}

#[tauri::command]
#[specta::specta]
pub async fn payment_detail(
    state: State<'_, AppState>,
    payment_id: i64,
) -> ApiResult<PaymentDetail> {
    let payment = state.shop.payment(payment_id).await?;
    let order = match payment.order_id {
        Some(id) => Some(state.shop.order(id).await?),
        None => None,
    };
    let events = state.shop.payment_events(payment_id).await?;
    Ok(PaymentDetail {
        payment,
        order,
        events,
    })
}

/// Refunds `amount` as typed in the payment's currency, or everything left when empty.
#[tauri::command]
#[specta::specta]
pub async fn refund_payment(
    state: State<'_, AppState>,
    payment_id: i64,
    amount: Option<String>,
) -> ApiResult<Payment> {
    let payment = state.shop.payment(payment_id).await?;
    let minor = match amount.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(typed) => Some(
            shopcast_core::money::parse_price(typed, &payment.amount.currency)
                .map_err(|e| ApiError::invalid("amount", e.to_string()))?
                .amount_minor,
        ),
        None => None,
    };
    Ok(state.shop.refund_payment(payment_id, minor).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn today_totals(
    state: State<'_, AppState>,
    include_test: bool,
) -> ApiResult<Vec<CurrencyTotal>> {
    Ok(state.shop.today_totals(include_test).await?)
}

#[derive(Debug, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ProvidersView {
    pub settings: PaymentSettings,
    /// Providers being watched now.
    pub connected: Vec<String>,
    pub health: Vec<ProviderHealth>,
    /// Where the test checkout page is served, when test mode runs.
    pub test_checkout_url: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn payment_providers(state: State<'_, AppState>) -> ApiResult<ProvidersView> {
    let payments = state.shop.payments();
    Ok(ProvidersView {
        settings: state.shop.payment_settings().await?,
        connected: payments
            .connected()
            .iter()
            .map(|k| k.as_str().to_string())
            .collect(),
        health: payments.health(),
        test_checkout_url: payments.test_mode().base_url(),
    })
}

#[tauri::command]
#[specta::specta]
pub async fn save_payment_settings(
    state: State<'_, AppState>,
    settings: PaymentSettings,
) -> ApiResult<PaymentSettings> {
    Ok(state.shop.save_payment_settings(settings).await?)
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
