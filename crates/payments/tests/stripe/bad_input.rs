//! Hostile Stripe event feeds through the real poll over a real socket: an event we cannot
//! read is set aside with its reason while the rest still count; a page we cannot read is an error.

use serde_json::{Value, json};
use shopcast_payments::{PaymentProvider, ProviderError};

use crate::capture::{CaptureServer, Reply};
use crate::tally::{Tally, got};

const T0: i64 = 1_790_000_000;

/// A `payment_intent.succeeded` that reads fine.
fn good_event() -> Value {
    json!({
        "id": "evt_good", "object": "event", "created": T0, "type": "payment_intent.succeeded",
        "data": {"object": {
            "id": "pi_good", "object": "payment_intent", "amount": 1250, "amount_received": 1250,
            "currency": "cny", "metadata": {"order_ref": "O-1"}, "payment_method_types": ["card"]
        }}
    })
}

/// An event of `kind` whose `data.object` is `object` (raw JSON text).
fn event(id: &str, kind: &str, object: &str) -> String {
    format!(
        r#"{{"id":"{id}","object":"event","created":{},"type":"{kind}","data":{{"object":{object}}}}}"#,
        T0 + 1
    )
}

fn session(amount_total: &str, currency: &str) -> String {
    format!(
        r#"{{"id":"cs_1","object":"checkout.session","amount_total":{amount_total},"currency":{currency},"payment_intent":"pi_1","payment_status":"paid","metadata":{{"order_ref":"O-2"}}}}"#
    )
}

fn intent(amount: &str) -> String {
    format!(
        r#"{{"id":"pi_2","object":"payment_intent","amount":{amount},"amount_received":{amount},"currency":"cny","metadata":{{}}}}"#
    )
}

fn charge(amount: &str, refunded: &str) -> String {
    format!(
        r#"{{"id":"ch_1","object":"charge","amount":{amount},"amount_refunded":{refunded},"currency":"cny","payment_intent":"pi_1","metadata":{{}}}}"#
    )
}

/// Events that are JSON but not what Stripe documents: each must be kept aside, unread.
fn unreadable_events() -> Vec<(&'static str, String)> {
    let completed = "checkout.session.completed";
    let succeeded = "payment_intent.succeeded";
    let refunded = "charge.refunded";
    vec![
        (
            "session amount_total null",
            event("evt_b1", completed, &session("null", "\"cny\"")),
        ),
        (
            "session currency null",
            event("evt_b2", completed, &session("1250", "null")),
        ),
        (
            "session amount as a string",
            event("evt_b3", completed, &session("\"1250\"", "\"cny\"")),
        ),
        (
            "session amount a float",
            event("evt_b4", completed, &session("12.5", "\"cny\"")),
        ),
        (
            "session amount 1e30",
            event("evt_b5", completed, &session("1e30", "\"cny\"")),
        ),
        (
            "session amount past i64",
            event(
                "evt_b6",
                completed,
                &session("99999999999999999999", "\"cny\""),
            ),
        ),
        (
            "session currency a number",
            event("evt_b8", completed, &session("1250", "156")),
        ),
        (
            "session currency empty",
            event("evt_b10", completed, &session("1250", "\"\"")),
        ),
        (
            "intent amount null",
            event("evt_b11", succeeded, &intent("null")),
        ),
        (
            "intent amount true",
            event("evt_b12", succeeded, &intent("true")),
        ),
        (
            "intent amount an object",
            event("evt_b13", succeeded, &intent("{}")),
        ),
        (
            "intent amount an array",
            event("evt_b14", succeeded, &intent("[1250]")),
        ),
        (
            "intent amount past i64",
            event("evt_b15", succeeded, &intent("18446744073709551616")),
        ),
        (
            "intent without id",
            event("evt_b17", succeeded, r#"{"amount":1,"currency":"cny"}"#),
        ),
        (
            "intent id a number",
            event(
                "evt_b18",
                succeeded,
                r#"{"id":7,"amount":1,"currency":"cny"}"#,
            ),
        ),
        (
            "intent metadata a string",
            event(
                "evt_b19",
                succeeded,
                r#"{"id":"pi_3","amount":1,"currency":"cny","metadata":"O-1"}"#,
            ),
        ),
        (
            "intent duplicate amount",
            event(
                "evt_b20",
                succeeded,
                r#"{"id":"pi_4","amount":1,"amount":100000,"currency":"cny"}"#,
            ),
        ),
        (
            "intent duplicate currency",
            event(
                "evt_b21",
                succeeded,
                r#"{"id":"pi_5","amount":1,"currency":"cny","currency":"jpy"}"#,
            ),
        ),
        ("object null", event("evt_b22", succeeded, "null")),
        ("object a string", event("evt_b23", succeeded, "\"pi_6\"")),
        ("object an array", event("evt_b24", succeeded, "[]")),
        (
            "charge refunded null",
            event("evt_b25", refunded, &charge("1250", "null")),
        ),
        (
            "charge amount a string",
            event("evt_b26", refunded, &charge("\"1250\"", "0")),
        ),
        (
            "charge refunded past i64",
            event("evt_b27", refunded, &charge("1250", "9223372036854775808")),
        ),
        (
            "no data",
            format!(r#"{{"id":"evt_b30","created":{T0},"type":"{succeeded}"}}"#),
        ),
        (
            "data without object",
            format!(r#"{{"id":"evt_b31","created":{T0},"type":"{succeeded}","data":{{}}}}"#),
        ),
        (
            "data a string",
            format!(r#"{{"id":"evt_b32","created":{T0},"type":"{succeeded}","data":"x"}}"#),
        ),
        (
            "no id",
            format!(
                r#"{{"created":{T0},"type":"{succeeded}","data":{{"object":{}}}}}"#,
                intent("1")
            ),
        ),
        (
            "id null",
            format!(
                r#"{{"id":null,"created":{T0},"type":"{succeeded}","data":{{"object":{}}}}}"#,
                intent("1")
            ),
        ),
        (
            "no type",
            format!(
                r#"{{"id":"evt_b35","created":{T0},"data":{{"object":{}}}}}"#,
                intent("1")
            ),
        ),
        (
            "type a number",
            format!(r#"{{"id":"evt_b36","created":{T0},"type":1,"data":{{}}}}"#),
        ),
        (
            "created a string",
            format!(r#"{{"id":"evt_b37","created":"{T0}","type":"{succeeded}","data":{{}}}}"#),
        ),
        (
            "created past year 9999",
            format!(
                r#"{{"id":"evt_b38","created":999999999999,"type":"{succeeded}","data":{{"object":{}}}}}"#,
                intent("1")
            ),
        ),
        (
            "created i64::MIN",
            format!(
                r#"{{"id":"evt_b39","created":-9223372036854775808,"type":"{succeeded}","data":{{"object":{}}}}}"#,
                intent("1")
            ),
        ),
        (
            "created a float",
            format!(r#"{{"id":"evt_b40","created":1.5,"type":"{succeeded}","data":{{}}}}"#),
        ),
        (
            "duplicate id",
            format!(
                r#"{{"id":"evt_b41","id":"evt_good","created":{T0},"type":"{succeeded}","data":{{}}}}"#
            ),
        ),
        (
            "lone surrogate in the id",
            format!(r#"{{"id":"evt_\ud800","created":{T0},"type":"{succeeded}","data":{{}}}}"#),
        ),
        ("event a string", "\"evt_garbage\"".into()),
        ("event a number", "42".into()),
        ("event null", "null".into()),
        ("event an empty object", "{}".into()),
        ("event an array", "[1,2,3]".into()),
        (
            "event nested 10,000 deep",
            format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)),
        ),
    ]
}

/// JSON of the right shape with amounts no payment can have: set aside too, never a payment.
fn impossible_events() -> Vec<(&'static str, String)> {
    let completed = "checkout.session.completed";
    let succeeded = "payment_intent.succeeded";
    let refunded = "charge.refunded";
    vec![
        (
            "session amount negative",
            event("evt_b7", completed, &session("-1250", "\"cny\"")),
        ),
        (
            "session currency unknown",
            event("evt_b9", completed, &session("1250", "\"zzz\"")),
        ),
        (
            "intent amount negative",
            event("evt_b16", succeeded, &intent("-5")),
        ),
        (
            "charge refunded negative",
            event("evt_b28", refunded, &charge("1250", "-1")),
        ),
        (
            "charge refunded above amount",
            event("evt_b29", refunded, &charge("1250", "99999")),
        ),
    ]
}

/// Replies where the page itself cannot be read: the poll fails with a code and a sentence.
fn unreadable_pages() -> Vec<(&'static str, Reply, &'static str)> {
    let bad = "provider_bad_response";
    let html =
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    vec![
        (
            "truncated JSON",
            Reply::json(200, r#"{"object":"list","data":[{"id":"evt_1","#),
            bad,
        ),
        ("empty body", Reply::json(200, ""), bad),
        ("HTML with 200", Reply::json(200, html), bad),
        ("plain OK", Reply::json(200, "OK"), bad),
        ("JSON null", Reply::json(200, "null"), bad),
        ("JSON array", Reply::json(200, "[]"), bad),
        (
            "data not a list",
            Reply::json(200, r#"{"object":"list","data":{},"has_more":false}"#),
            bad,
        ),
        (
            "data null",
            Reply::json(200, r#"{"object":"list","data":null,"has_more":false}"#),
            bad,
        ),
        (
            "has_more a string",
            Reply::json(200, r#"{"object":"list","data":[],"has_more":"no"}"#),
            bad,
        ),
        (
            "no has_more",
            Reply::json(200, r#"{"object":"list","data":[]}"#),
            bad,
        ),
        (
            "raw control character in a string",
            Reply::json(
                200,
                "{\"object\":\"list\",\"has_more\":false,\"data\":[\"\u{1}\"]}",
            ),
            bad,
        ),
        (
            "HTML with 502",
            Reply::json(502, html),
            "provider_server_error",
        ),
        (
            "500 garbage",
            Reply::json(500, "\0\0\0"),
            "provider_server_error",
        ),
        (
            "429 without Retry-After",
            Reply::json(429, "{}"),
            "provider_rate_limited",
        ),
        (
            "429 with a silly Retry-After",
            Reply::json(429, "{}").with_header("retry-after", "forever"),
            "provider_rate_limited",
        ),
        ("401 HTML", Reply::json(401, html), "provider_rejected"),
        (
            "has_more forever with no new events",
            Reply::json(
                200,
                json!({"object":"list","has_more":true,"data":[good_event()]}).to_string(),
            ),
            bad,
        ),
    ]
}

/// Polls a feed of the good event and each of `cases`: the good one must count, the hostile
/// one be set aside with a reason and its raw text, and the cursor move on.
async fn set_aside(area: &'static str, cases: Vec<(&'static str, String)>) -> usize {
    let mut tally = Tally::new(area);
    for (name, hostile) in cases {
        let body = format!(
            r#"{{"object":"list","url":"/v1/events","has_more":false,"data":[{},{hostile}]}}"#,
            good_event()
        );
        let server = CaptureServer::always(Reply::json(200, body)).await;
        let outcome = server.provider().poll(None, &[]).await;
        let ok = match &outcome {
            Ok(outcome) => {
                outcome.events.iter().any(|e| e.event_id == "evt_good")
                    && outcome.events.len() == 1
                    && outcome.unreadable.len() == 1
                    && outcome
                        .unreadable
                        .iter()
                        .all(|odd| !odd.reason.trim().is_empty() && !odd.raw.is_empty())
                    && outcome.cursor.is_some()
            }
            Err(_) => false,
        };
        tally.check(name, ok, || format!("{outcome:?}"));
    }
    tally.finish()
}

#[tokio::test]
async fn one_unreadable_event_is_set_aside_with_its_reason_and_the_rest_count() {
    let tried = set_aside("Stripe events", unreadable_events()).await;
    assert!(tried >= 40, "{tried}");
}

#[tokio::test]
async fn events_with_impossible_amounts_are_set_aside_too() {
    set_aside("Stripe impossible amounts", impossible_events()).await;
}

/// Remote bodies are capped (1 MiB): a bigger page is refused, not read into memory.
#[tokio::test]
async fn a_page_over_the_body_cap_is_refused() {
    let mut tally = Tally::new("Stripe body cap");
    let padded = format!(
        r#"{{"object":"list","has_more":false,"data":[],"pad":"{}"}}"#,
        "x".repeat(2 << 20)
    );
    let server = CaptureServer::always(Reply::json(200, padded)).await;
    let outcome = server.provider().poll(None, &[]).await;
    tally.refused(
        "a 2 MiB page",
        got(&outcome, ProviderError::code),
        "provider_bad_response",
    );
    tally.finish();
}

#[tokio::test]
async fn an_unreadable_page_fails_the_poll_with_a_code_and_a_sentence() {
    let mut tally = Tally::new("Stripe pages");
    for (name, reply, code) in unreadable_pages() {
        let server = CaptureServer::always(reply).await;
        let outcome = server.provider().poll(None, &[]).await;
        tally.refused(name, got(&outcome, ProviderError::code), code);
    }
    tally.finish();
}
