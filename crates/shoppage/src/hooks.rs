//! The providers' callbacks: Stripe's webhook, Alipay's and WeChat Pay's notifications, handed
//! to the engine as received. The engine verifies and records; this only turns its answer into
//! the reply each provider expects (Stripe: 400 refused, 500 retry; Alipay: `success` or
//! `fail`; WeChat Pay: 204, or an error status with `{"code":"FAIL","message":…}`).

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
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

/// WeChat Pay's notification: 204 with no body once recorded (or acknowledged); any other
/// answer makes WeChat Pay send it again, so a refusal is 400 and a store failure 500, each
/// with the JSON it documents for failures. The body is capped at
/// [`shopcast_payments::wechat::notify::MAX_NOTIFICATION_BYTES`] by the route.
pub(crate) async fn wechat(
    State(shop): State<Shop>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // The messages are fixed words, never the reason (nothing to escape, nothing to learn).
    let fail = |status: StatusCode, message: &'static str| {
        let body = format!(r#"{{"code":"FAIL","message":"{message}"}}"#);
        (
            status,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response()
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return fail(rejection.status(), "unreadable body"),
    };
    match shop.record_wechat_notify(&headers, &body).await {
        Ok(_) => (
            StatusCode::NO_CONTENT,
            [(header::CACHE_CONTROL, "no-store")],
        )
            .into_response(),
        // Why stays in the owner's log: a stranger probing the hook learns nothing.
        Err(CoreError::CallbackRefused { message, .. }) => {
            tracing::warn!(%message, "a WeChat Pay notification was refused");
            fail(StatusCode::BAD_REQUEST, "refused")
        }
        Err(error) => {
            tracing::warn!(%error, "a WeChat Pay notification could not be recorded; WeChat Pay will retry");
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "not recorded, retry later",
            )
        }
    }
}
