//! Contract tests of `refund`: the documented form, the Idempotency-Key that makes a retry
//! safe, and the running total read back from the charge.

use serde_json::json;
use shopcast_payments::{PaymentProvider, ProviderError, RefundRequest};

use crate::capture::{CaptureServer, Captured, Reply, SECRET_KEY};

fn request(provider_ref: &str) -> RefundRequest {
    RefundRequest {
        provider_ref: provider_ref.into(),
        charge_ref: Some("cs_test_a1".into()),
        amount_minor: 500,
        currency: "CNY".into(),
        refund_ref: "R-7".into(),
        reason: Some("杯子有裂纹".into()),
    }
}

/// Stripe's documented refund and charge replies; the charge reply fails when `charge_fails`.
fn stripe(charge_fails: bool) -> impl Fn(&Captured) -> Reply + Send + Sync {
    move |request| match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/v1/refunds") => Reply::json(
            200,
            json!({
                "id": "re_1Nispe2eZvKYlo2Cd31jOCgZ",
                "object": "refund",
                "amount": 500,
                "balance_transaction": "txn_1Nispe2eZvKYlo2CYezqFhEx",
                "charge": "ch_1NirD82eZvKYlo2CIvbtLWuY",
                "created": 1_692_942_318,
                "currency": "cny",
                "metadata": {"refund_ref": "R-7"},
                "payment_intent": "pi_1GszsK2eZvKYlo2CfhZyoZLp",
                "reason": null,
                "status": "succeeded"
            })
            .to_string(),
        ),
        ("GET", "/v1/charges/ch_1NirD82eZvKYlo2CIvbtLWuY") if !charge_fails => Reply::json(
            200,
            json!({
                "id": "ch_1NirD82eZvKYlo2CIvbtLWuY",
                "object": "charge",
                "amount": 1250,
                "amount_refunded": 750,
                "currency": "cny",
                "refunded": false
            })
            .to_string(),
        ),
        _ => Reply::json(500, r#"{"error": {"type": "api_error"}}"#),
    }
}

#[tokio::test]
async fn refund_is_keyed_for_retries_and_reads_back_the_total() {
    let server = CaptureServer::start(stripe(false)).await;
    let refund = server
        .provider()
        .refund(&request("pi_1GszsK2eZvKYlo2CfhZyoZLp"))
        .await
        .unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let post = &requests[0];
    assert_eq!(
        (post.method.as_str(), post.path.as_str()),
        ("POST", "/v1/refunds")
    );
    assert_eq!(post.header("idempotency-key"), Some("R-7"));
    assert_eq!(
        post.header("authorization"),
        Some(format!("Bearer {SECRET_KEY}").as_str())
    );
    assert_eq!(
        post.form,
        [
            ("payment_intent", "pi_1GszsK2eZvKYlo2CfhZyoZLp"),
            ("amount", "500"),
            ("metadata[refund_ref]", "R-7"),
            ("metadata[reason]", "杯子有裂纹"),
        ]
        .map(|(key, value)| (key.to_string(), value.to_string()))
    );
    assert_eq!(requests[1].path, "/v1/charges/ch_1NirD82eZvKYlo2CIvbtLWuY");

    assert_eq!(refund.refund_id, "re_1Nispe2eZvKYlo2Cd31jOCgZ");
    assert_eq!(refund.amount_minor, 500);
    assert_eq!(refund.refunded_total_minor, Some(750));
    assert!(refund.raw.contains("re_1Nispe2eZvKYlo2Cd31jOCgZ"));
}

#[tokio::test]
async fn a_payment_known_only_by_its_charge_is_refunded_by_charge() {
    let server = CaptureServer::start(stripe(false)).await;
    server
        .provider()
        .refund(&request("ch_1NirD82eZvKYlo2CIvbtLWuY"))
        .await
        .unwrap();
    let post = &server.requests()[0];
    assert_eq!(post.field("charge"), "ch_1NirD82eZvKYlo2CIvbtLWuY");
    assert!(post.form.iter().all(|(key, _)| key != "payment_intent"));
}

#[tokio::test]
async fn a_done_refund_stays_done_when_the_total_cannot_be_read() {
    let server = CaptureServer::start(stripe(true)).await;
    let refund = server
        .provider()
        .refund(&request("pi_1GszsK2eZvKYlo2CfhZyoZLp"))
        .await
        .unwrap();
    assert_eq!(refund.refund_id, "re_1Nispe2eZvKYlo2Cd31jOCgZ");
    assert_eq!(refund.refunded_total_minor, None);
}

#[tokio::test]
async fn a_refund_stripe_refuses_keeps_its_code() {
    let raw = r#"{"error": {"code": "charge_already_refunded", "message": "Charge ch_1NirD82eZvKYlo2CIvbtLWuY has already been refunded.", "type": "invalid_request_error"}}"#;
    let server = CaptureServer::always(Reply::json(400, raw)).await;
    let err = server
        .provider()
        .refund(&request("pi_1GszsK2eZvKYlo2CfhZyoZLp"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProviderError::Rejected { code, message, .. }
            if code == "charge_already_refunded" && message.contains("already been refunded")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_failed_refund_is_rejected() {
    let server = CaptureServer::always(Reply::json(
        200,
        r#"{"id": "re_F", "object": "refund", "amount": 500, "charge": "ch_F", "status": "failed", "failure_reason": "expired_or_canceled_card"}"#,
    ))
    .await;
    let err = server
        .provider()
        .refund(&request("pi_1GszsK2eZvKYlo2CfhZyoZLp"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProviderError::Rejected { code, message, .. }
            if code == "refund_failed" && message.contains("expired_or_canceled_card")),
        "{err:?}"
    );
}

/// A 1,000 kr refund is `amount=100000` at Stripe, and what Stripe states comes back in krónur.
#[tokio::test]
async fn an_isk_refund_is_converted_both_ways() {
    let server = CaptureServer::start(|request| match request.path.as_str() {
        "/v1/refunds" => Reply::json(
            200,
            json!({"id": "re_isk", "object": "refund", "amount": 100_000, "currency": "isk",
                   "charge": "ch_isk", "status": "succeeded"})
            .to_string(),
        ),
        _ => Reply::json(
            200,
            json!({"id": "ch_isk", "object": "charge", "amount": 500_000,
                   "amount_refunded": 300_000, "currency": "isk"})
            .to_string(),
        ),
    })
    .await;
    let mut isk = request("pi_isk");
    isk.currency = "ISK".into();
    isk.amount_minor = 1_000;
    let refund = server.provider().refund(&isk).await.unwrap();
    assert_eq!(server.requests()[0].field("amount"), "100000");
    assert_eq!(refund.amount_minor, 1_000);
    assert_eq!(refund.refunded_total_minor, Some(3_000));

    // Three-decimal currencies need a last digit of 0: refused before anything is sent.
    let mut kwd = request("pi_kwd");
    kwd.currency = "KWD".into();
    kwd.amount_minor = 1_005;
    let err = server.provider().refund(&kwd).await.unwrap_err();
    assert_eq!(err.code(), "provider_amount");
    assert_eq!(server.requests().len(), 2);
}
