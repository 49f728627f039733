//! Arbitrary bytes through the reply readers (shape parser, transaction reading, signature
//! check): never a panic, and a garbled reply is always an error, never an event.

use proptest::prelude::*;
use shopcast_payments::ProviderError;
use shopcast_payments::wechat::sign::{SignedHeaders, verify};
use shopcast_payments::wechat::wire::{self, RefundReply, Transaction, transaction_event};

use crate::sign::{PUBLIC_KEY_ID, verifiers};

/// A signed-looking paid transaction, to mutate.
const PAID: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1900000109","out_trade_no":"O_1_abc","transaction_id":"4200000001","trade_type":"NATIVE","trade_state":"SUCCESS","trade_state_desc":"支付成功","success_time":"2026-05-01T20:00:00+08:00","amount":{"total":8800,"payer_total":8800,"currency":"CNY"}}"#;

/// What the readers make of a reply body: the event, if it reads as one.
fn read(body: &[u8]) -> Result<Option<shopcast_payments::ProviderEvent>, ProviderError> {
    let _ = wire::parse::<RefundReply>(body, "refund");
    let transaction: Transaction = wire::parse(body, "query")?;
    transaction_event(
        &transaction,
        None,
        String::from_utf8_lossy(body).into_owned(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_bytes_are_read_without_panic(body in proptest::collection::vec(any::<u8>(), 0..600)) {
        // Random bytes are never a transaction with a trade number and a known state.
        let result = read(&body);
        prop_assert!(!matches!(result, Ok(Some(_))), "{:?}", result);
    }

    #[test]
    fn a_mutated_paid_reply_never_panics(cut in 0usize..PAID.len(), byte in any::<u8>(), at in 0usize..PAID.len()) {
        let mut body = PAID.as_bytes().to_vec();
        body[at] = byte;
        // A one-byte change either breaks the reply (an error) or is still a reply that
        // says exactly what its bytes say: never an event made up from garbage.
        if let Ok(Some(event)) = read(&body) {
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            prop_assert_eq!(Some(event.amount_minor), json["amount"]["total"].as_i64());
            prop_assert_eq!(event.charge_ref.as_deref(), json["out_trade_no"].as_str());
            prop_assert_eq!(event.raw.as_bytes(), body.as_slice());
        }
        // Cut short, it is never JSON: always an error.
        let result = read(&PAID.as_bytes()[..cut]);
        prop_assert!(result.is_err(), "{:?}", result);
    }

    #[test]
    fn random_signatures_never_verify(
        body in proptest::collection::vec(any::<u8>(), 0..200),
        signature in "[A-Za-z0-9+/=]{0,400}",
        nonce in "[A-Z0-9]{0,40}",
    ) {
        let headers = SignedHeaders {
            timestamp: jiff::Timestamp::now().as_second().to_string(),
            nonce,
            signature,
            serial: PUBLIC_KEY_ID.to_string(),
            signature_type: None,
        };
        let result = verify(&headers, &body, &verifiers(), jiff::Timestamp::now());
        let refused = matches!(result, Err(ProviderError::BadSignature { .. }));
        prop_assert!(refused, "{:?}", result);
    }
}

#[test]
fn unknown_states_and_missing_fields_are_errors_not_events() {
    let cases = [
        r#"{"out_trade_no":"O_1_abc","trade_state":"SUCCESS"}"#,
        r#"{"out_trade_no":"O_1_abc","trade_state":"SUCCESS","transaction_id":"42","amount":{"currency":"USD","total":1}}"#,
        r#"{"out_trade_no":"O_1_abc","trade_state":"MAYBE"}"#,
        r#"{"trade_state":"SUCCESS","transaction_id":"42","amount":{"total":1}}"#,
        r#"{"out_trade_no":"O_1_abc","trade_state":"SUCCESS","transaction_id":"42","amount":{"total":-5}}"#,
        r#"[]"#,
        r#""SUCCESS""#,
        r#"{"out_trade_no":7}"#,
    ];
    for case in cases {
        let err = read(case.as_bytes()).expect_err(case);
        assert_eq!(err.code(), "provider_bad_response", "{case}: {err}");
    }
    read(PAID.as_bytes()).unwrap();
}

#[test]
fn a_refunded_trade_is_still_the_payment_under_the_success_event_id() {
    let refunded = PAID.replace("\"SUCCESS\"", "\"REFUND\"");
    let transaction: Transaction = wire::parse(refunded.as_bytes(), "query").unwrap();
    let event = transaction_event(&transaction, None, refunded.clone())
        .unwrap()
        .unwrap();
    assert_eq!(event.status, shopcast_payments::PaymentStatus::Paid);
    assert_eq!(event.amount_minor, 8_800);
    assert_eq!(event.event_id, wire::state_event_id("O_1_abc", "SUCCESS"));
}
