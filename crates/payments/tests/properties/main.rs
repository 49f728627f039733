//! Property tests of the payment parsers on arbitrary input: Stripe's event feed (over a real
//! socket), Alipay's reply reader, amounts, and the test checkout page's HTML escaping.

// Only its server is used here.
#[allow(dead_code)]
#[path = "../stripe/capture.rs"]
mod capture;

use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};
use shopcast_payments::PaymentProvider;
use shopcast_payments::alipay::read_reply;
use shopcast_payments::alipay::sign::AlipayPublicKey;
use shopcast_payments::alipay::wire::{self, format_yuan, parse_yuan};
use shopcast_payments::stripe::EVENT_TYPES;
use shopcast_payments::testmode::escape_html;

use capture::{CaptureServer, Reply};

/// The names Stripe's objects use, so arbitrary objects often look almost right.
const FIELDS: &[&str] = &[
    "id",
    "type",
    "created",
    "data",
    "object",
    "amount",
    "amount_total",
    "amount_received",
    "amount_refunded",
    "currency",
    "metadata",
    "order_ref",
    "payment_intent",
    "payment_status",
    "client_reference_id",
    "latest_charge",
    "payment_method_types",
    "payment_method_details",
];

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::num::f64::NORMAL.prop_map(Value::from),
        prop::sample::select(vec![
            "cny", "ISK", "", "pi_1", "cs_1", "paid", "unpaid", "\u{0}"
        ])
        .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(FIELDS), inner), 0..6).prop_map(|pairs| {
                Value::Object(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// An event of a type Shopcast reads, with an arbitrary object; or anything at all.
fn event() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (
            prop::sample::select(EVENT_TYPES.to_vec()),
            any::<i64>(),
            "[a-z0-9_]{0,12}",
            json(),
        )
            .prop_map(|(kind, created, id, object)| {
                serde_json::json!({"id": format!("evt_{id}"), "type": kind, "created": created,
                                   "data": {"object": object}})
            }),
        1 => json(),
    ]
}

#[test]
fn the_stripe_poll_never_panics_on_arbitrary_events() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let page = Arc::new(Mutex::new(String::new()));
    let server = runtime.block_on(CaptureServer::start({
        let page = page.clone();
        move |_| Reply::json(200, page.lock().unwrap().clone())
    }));
    let provider = server.provider();
    let mut runner = TestRunner::new(Config {
        cases: 256,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(event(), 0..5), |events| {
            let body = serde_json::json!({"object": "list", "has_more": false, "data": events});
            *page.lock().unwrap() = body.to_string();
            match runtime.block_on(provider.poll(None, &[])) {
                Ok(outcome) => {
                    prop_assert!(outcome.events.len() + outcome.unreadable.len() <= events.len());
                    for odd in &outcome.unreadable {
                        prop_assert!(!odd.reason.trim().is_empty());
                    }
                    for paid in &outcome.events {
                        prop_assert!(paid.amount_minor >= 0, "{:?}", paid);
                        prop_assert!(paid.currency.len() == 3, "{:?}", paid);
                    }
                }
                Err(error) => prop_assert!(!error.to_string().trim().is_empty()),
            }
            Ok(())
        })
        .unwrap();
}

fn alipay_key() -> AlipayPublicKey {
    // Any valid RSA public key: nothing arbitrary can carry a signature it verifies.
    const SPKI: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmwIDAQAB";
    AlipayPublicKey::parse(SPKI).unwrap()
}

proptest! {
    #![proptest_config(Config { cases: 512, ..Config::default() })]

    /// Bytes of any kind: a reply, or a refusal with a sentence; never a panic. Nothing
    /// arbitrary is ever read as a success.
    #[test]
    fn alipay_replies_never_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Err(error) = read_reply(wire::QUERY, &body, &alipay_key()) {
            prop_assert!(!error.to_string().trim().is_empty());
        }
    }

    #[test]
    fn alipay_json_replies_are_never_a_success_unsigned(object in json(), sign in any::<Option<String>>()) {
        let mut top = Map::new();
        top.insert(wire::response_key(wire::QUERY), object);
        if let Some(sign) = sign {
            top.insert("sign".into(), Value::from(sign));
        }
        let body = Value::Object(top).to_string();
        match read_reply(wire::QUERY, body.as_bytes(), &alipay_key()) {
            Ok(reply) => prop_assert!(!reply.is_success(), "{}", body),
            Err(error) => prop_assert!(!error.to_string().trim().is_empty()),
        }
    }

    /// Fen to yuan text and back is exact; any text reads as fen or not at all.
    #[test]
    fn yuan_round_trips(fen in 0i64..=999_999_999_999_999, text in any::<String>()) {
        let printed = format_yuan(fen).unwrap();
        prop_assert_eq!(parse_yuan(&printed), Some(fen));
        if let Some(read) = parse_yuan(&text) {
            prop_assert!(read >= 0);
        }
    }

    /// The test checkout prints product names and prices into HTML: escaped text has no
    /// markup left and reads back exactly.
    #[test]
    fn checkout_text_is_escaped(text in any::<String>()) {
        let escaped = escape_html(&text);
        prop_assert!(!escaped.contains(['<', '>', '"', '\'']));
        let back = escaped
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        prop_assert_eq!(back, text);
    }
}
