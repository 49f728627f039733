//! The providers' callbacks: Stripe's webhook and Alipay's asynchronous notify, handed to the
//! engine as received. The engine verifies and records; this only turns its answer into the
//! reply each provider expects (Stripe: 400 refused, 500 retry; Alipay: `success` or `fail`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shopcast_core::{CoreError, Shop};

/// Hands a Stripe webhook delivery to the engine.
async fn record_stripe(shop: &Shop, signature: &str, payload: &[u8]) -> Result<(), CoreError> {
    shop.record_stripe_webhook(signature, payload)
        .await
        .map(|_| ())
}

/// Hands an Alipay notify to the engine.
async fn record_alipay(shop: &Shop, form_body: &[u8]) -> Result<(), CoreError> {
    shop.record_alipay_notify(form_body).await.map(|_| ())
}

pub(crate) async fn stripe(State(shop): State<Shop>, headers: HeaderMap, body: Bytes) -> Response {
    let signature = headers
        .get("stripe-signature")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let plain = |status: StatusCode, text: &str| {
        (
            status,
            [(header::CACHE_CONTROL, "no-store")],
            text.to_string(),
        )
            .into_response()
    };
    match record_stripe(&shop, signature, &body).await {
        Ok(()) => plain(StatusCode::OK, "ok"),
        // Why stays in the owner's log: a stranger probing the hook learns nothing.
        Err(CoreError::CallbackRefused { message, .. }) => {
            tracing::warn!(%message, "a Stripe webhook was refused");
            plain(StatusCode::BAD_REQUEST, "refused")
        }
        Err(error) => {
            tracing::warn!(%error, "a Stripe webhook could not be recorded; Stripe will retry");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "not recorded, retry later",
            )
        }
    }
}

pub(crate) async fn alipay(State(shop): State<Shop>, body: Bytes) -> Response {
    // Alipay reads the body: `success` stops its retries, anything else asks for them.
    let reply = match record_alipay(&shop, &body).await {
        Ok(()) => "success",
        Err(CoreError::CallbackRefused { message, .. }) => {
            tracing::warn!(%message, "an Alipay notify was refused");
            "fail"
        }
        Err(error) => {
            tracing::warn!(%error, "an Alipay notify could not be recorded; Alipay will retry");
            "fail"
        }
    };
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        reply,
    )
        .into_response()
}
