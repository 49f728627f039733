//! Webhook signatures against Stripe's own library: stripe-python's `WebhookSignature` signs
//! and verifies (through `tests/peers/stripe_webhooks.py`), and ours must agree with it both
//! ways; a verified delivery must read as the very event a poll reads.

use jiff::Timestamp;
use serde_json::{Value, json};
use shopcast_payments::stripe::{
    MAX_PAYLOAD_BYTES, WebhookError, WebhookEvent, WebhookSecret, read_webhook, signature_header,
    verify_signature,
};
use shopcast_payments::{PaymentProvider, PaymentStatus};

use crate::capture::{CaptureServer, Reply};
use crate::localstripe::LocalStripe;
use crate::venv::run_peer_script;

const SECRET: &str = "whsec_test_9Xc2LmQvR4kTnYp7Hd1sFe8Wb3Ua6Zo0";
const OTHER_SECRET: &str = "whsec_test_another_endpoint_000000000000";

fn secret() -> WebhookSecret {
    WebhookSecret::new(SECRET).unwrap()
}

fn now() -> i64 {
    Timestamp::now().as_second()
}

/// A `checkout.session.completed` delivery as Stripe documents it, with text in Chinese.
fn completed_event(id: &str) -> String {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": 1_790_000_000,
        "data": {"object": {
            "id": "cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY",
            "object": "checkout.session",
            "amount_subtotal": 1250,
            "amount_total": 1250,
            "client_reference_id": "post-12",
            "currency": "cny",
            "metadata": {"order_ref": "O-42", "note": "青花瓷杯 ×1 — 礼盒"},
            "mode": "payment",
            "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
            "payment_status": "paid",
            "status": "complete"
        }},
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": "checkout.session.completed"
    })
    .to_string()
}

/// One batch of jobs through stripe-python.
fn stripe_python(jobs: &[Value]) -> Vec<Value> {
    let answers = run_peer_script("stripe_webhooks.py", &Value::from(jobs.to_vec()));
    let answers = answers.as_array().expect("a list of answers").clone();
    assert_eq!(answers.len(), jobs.len());
    answers
}

fn python_sign(payload: &str, secret: &str, timestamp: i64) -> Value {
    json!({"sign": payload, "secret": secret, "timestamp": timestamp})
}

fn python_verify(payload: &str, header: &str, secret: &str) -> Value {
    json!({"verify": payload, "header": header, "secret": secret, "tolerance": 300})
}

fn header_of(answer: &Value) -> String {
    answer["header"].as_str().expect("a header").to_string()
}

/// stripe-python's verdict: Ok, or its error message.
fn verdict(answer: &Value) -> Result<(), String> {
    match answer["ok"].as_bool() {
        Some(true) => Ok(()),
        Some(false) => Err(answer["error"].as_str().unwrap().to_string()),
        None => panic!("not a verdict: {answer}"),
    }
}

fn ours(header: &str, payload: &str) -> Result<Timestamp, WebhookError> {
    verify_signature(&secret(), header, payload.as_bytes(), Timestamp::now())
}

#[tokio::test]
async fn headers_signed_by_stripe_python_verify_and_read_as_the_polled_event() {
    let payload = completed_event("evt_1NG8Du2eZvKYlo2CUI79vXWy");
    let at = now();
    let answers = stripe_python(&[
        python_sign(&payload, SECRET, at),
        python_sign(&payload, SECRET, at - 120),
    ]);
    for answer in &answers {
        assert!(ours(&header_of(answer), &payload).is_ok(), "{answer}");
    }
    assert_eq!(
        ours(&header_of(&answers[0]), &payload).unwrap().as_second(),
        at
    );

    let WebhookEvent::Payment(pushed) = read_webhook(
        &secret(),
        &header_of(&answers[0]),
        payload.as_bytes(),
        Timestamp::now(),
    )
    .unwrap() else {
        panic!("a payment event");
    };
    assert_eq!(pushed.event_id, "evt_1NG8Du2eZvKYlo2CUI79vXWy");
    assert_eq!(pushed.status, PaymentStatus::Paid);
    assert_eq!(pushed.order_ref.as_deref(), Some("O-42"));
    assert_eq!(pushed.provider_ref, "pi_3MtwBwLkdIwHu7ix28a3tqPa");
    assert_eq!(
        (pushed.amount_minor, pushed.currency.as_str()),
        (1250, "CNY")
    );
    assert_eq!(pushed.raw, payload);

    // The same event listed by GET /v1/events: exactly the same ProviderEvent.
    let page = format!(r#"{{"object":"list","data":[{payload}],"has_more":false}}"#);
    let server = CaptureServer::always(Reply::json(200, page)).await;
    let polled = server.provider().poll(None, &[]).await.unwrap();
    assert_eq!(polled.events, vec![pushed]);
}

#[test]
fn headers_we_sign_verify_with_stripe_python() {
    let payload = completed_event("evt_ours");
    let at = now();
    let header = signature_header(&secret(), payload.as_bytes(), at);
    assert!(header.starts_with(&format!("t={at},v1=")), "{header}");
    let tampered = payload.replace("1250", "1");
    let answers = stripe_python(&[
        python_verify(&payload, &header, SECRET),
        python_verify(&tampered, &header, SECRET),
        python_verify(&payload, &header, OTHER_SECRET),
        python_sign(&payload, SECRET, at),
    ]);
    assert_eq!(verdict(&answers[0]), Ok(()));
    for refused in &answers[1..3] {
        let error = verdict(refused).unwrap_err();
        assert!(error.contains("No signatures found matching"), "{error}");
    }
    // Byte for byte the header Stripe's library makes.
    assert_eq!(header, header_of(&answers[3]));
    assert_eq!(ours(&header, &tampered), Err(WebhookError::NoMatch));
}

#[test]
fn a_bad_signature_or_the_wrong_secret_is_refused_by_both() {
    let payload = completed_event("evt_bad");
    let at = now();
    let answers = stripe_python(&[
        python_sign(&payload, SECRET, at),
        python_sign(&payload, OTHER_SECRET, at),
    ]);
    let good = header_of(&answers[0]);
    // One hex digit changed at the end of the signature.
    let mut flipped = good.clone();
    let last = flipped.pop().unwrap();
    flipped.push(if last == '0' { '1' } else { '0' });
    let other_endpoint = header_of(&answers[1]);
    // The same signature over another time.
    let moved = good.replacen(&format!("t={at}"), &format!("t={}", at - 1), 1);

    let checks = stripe_python(&[
        python_verify(&payload, &flipped, SECRET),
        python_verify(&payload, &other_endpoint, SECRET),
        python_verify(&payload, &moved, SECRET),
    ]);
    for (header, python) in [flipped, other_endpoint, moved].iter().zip(&checks) {
        assert_eq!(
            ours(header, &payload),
            Err(WebhookError::NoMatch),
            "{header}"
        );
        assert!(verdict(python).is_err(), "stripe-python accepted {header}");
    }
}

#[test]
fn old_signatures_are_refused_by_both_and_future_ones_by_us() {
    let payload = completed_event("evt_clock");
    let at = now();
    let times = [
        at - 310,
        at - 3600,
        at - 280,
        at + 280,
        at + 310,
        at + 86_400,
    ];
    let signed: Vec<Value> = times
        .iter()
        .map(|&t| python_sign(&payload, SECRET, t))
        .collect();
    let headers: Vec<String> = stripe_python(&signed).iter().map(header_of).collect();
    let verified = stripe_python(
        &headers
            .iter()
            .map(|header| python_verify(&payload, header, SECRET))
            .collect::<Vec<_>>(),
    );

    // Older than 5 minutes: both refuse.
    for i in 0..2 {
        let error = verdict(&verified[i]).unwrap_err();
        assert!(
            error.contains("Timestamp outside the tolerance zone"),
            "{error}"
        );
        match ours(&headers[i], &payload) {
            Err(WebhookError::Stale { skew_seconds }) => assert!(skew_seconds >= 301),
            other => panic!("{other:?}"),
        }
    }
    // Within 5 minutes either way: both accept.
    for i in 2..4 {
        assert_eq!(verdict(&verified[i]), Ok(()));
        assert!(ours(&headers[i], &payload).is_ok());
    }
    // Ahead by more than 5 minutes: stripe-python checks only the past; we refuse, so a
    // captured delivery cannot be dated ahead to be replayable for longer.
    for i in 4..6 {
        assert_eq!(verdict(&verified[i]), Ok(()));
        let error = ours(&headers[i], &payload).unwrap_err();
        match &error {
            WebhookError::Stale { skew_seconds } => assert!(*skew_seconds < -300),
            other => panic!("{other:?}"),
        }
        assert!(error.to_string().contains("ahead"), "{error}");
    }
}

#[test]
fn malformed_headers_are_refused_by_both() {
    let payload = completed_event("evt_malformed");
    let at = now();
    let good = signature_header(&secret(), payload.as_bytes(), at);
    let v1 = good.split_once(",v1=").unwrap().1.to_string();
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "no_header"),
        ("   ".into(), "no_header"),
        ("garbage".into(), "malformed"),
        (format!("v1={v1}"), "malformed"),
        (format!("t=soon,v1={v1}"), "malformed"),
        (format!("t=-{at},v1={v1}"), "malformed"),
        (format!("t={at}"), "no_signature"),
        (format!("t={at},v0={v1}"), "no_signature"),
        (format!("t={at},v1="), "no_match"),
        (format!("t={at},v1=zz{}", &v1[2..]), "no_match"),
        (format!("t={at},v1={}", &v1[..63]), "no_match"),
    ];
    let python = stripe_python(
        &cases
            .iter()
            .map(|(header, _)| python_verify(&payload, header, SECRET))
            .collect::<Vec<_>>(),
    );
    for ((header, code), python) in cases.iter().zip(&python) {
        let error = ours(header, &payload).unwrap_err();
        assert_eq!(error.code(), *code, "{header:?}: {error}");
        assert!(
            verdict(python).is_err(),
            "stripe-python accepted {header:?}"
        );
    }
    // Two times in one header: which one was signed is unclear, so it is refused outright.
    let twice = format!("t={at},t={},v1={v1}", at + 1);
    assert_eq!(ours(&twice, &payload).unwrap_err().code(), "malformed");
    let long = format!("t={at},v1={v1},{}", "v0=00,".repeat(2_000));
    assert_eq!(ours(&long, &payload).unwrap_err().code(), "malformed");
}

#[test]
fn several_v1_signatures_with_one_good_are_accepted_by_both() {
    let payload = completed_event("evt_rolling");
    let at = now();
    // While a secret is rolled Stripe signs with both: the old one first, here.
    let old = signature_header(
        &WebhookSecret::new(OTHER_SECRET).unwrap(),
        payload.as_bytes(),
        at,
    );
    let new = signature_header(&secret(), payload.as_bytes(), at);
    let old_v1 = old.split_once(",v1=").unwrap().1;
    let new_v1 = new.split_once(",v1=").unwrap().1;
    let v0 = "6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39";
    let accepted = [
        format!("t={at},v1={old_v1},v1={new_v1}"),
        format!("t={at},v1={new_v1},v1={old_v1},v0={v0}"),
        format!("v1={old_v1},t={at},v1={new_v1},extra"),
    ];
    // Read as Stripe reads it: spaces are part of the name, upper-case hex is another value.
    let refused = [
        format!("t={at}, v1={new_v1}"),
        format!("t={at},v1={}", new_v1.to_ascii_uppercase()),
        old.clone(),
    ];
    let python = stripe_python(
        &accepted
            .iter()
            .chain(&refused)
            .map(|header| python_verify(&payload, header, SECRET))
            .collect::<Vec<_>>(),
    );
    for (header, answer) in accepted.iter().zip(&python) {
        assert_eq!(verdict(answer), Ok(()), "{header}");
        assert!(ours(header, &payload).is_ok(), "{header}");
    }
    for (header, answer) in refused.iter().zip(&python[accepted.len()..]) {
        assert!(verdict(answer).is_err(), "{header}");
        assert!(ours(header, &payload).is_err(), "{header}");
    }
}

#[test]
fn signing_secrets_must_be_stripes_and_never_show() {
    for text in ["", "whsec_", "sk_test_123", "whsec_has space", " whsec "] {
        assert_eq!(
            WebhookSecret::new(text),
            Err(WebhookError::BadSecret),
            "{text:?}"
        );
    }
    let pasted = WebhookSecret::new(&format!("  {SECRET}\n")).unwrap();
    assert_eq!(pasted.expose(), SECRET);
    let shown = format!("{pasted:?}");
    assert!(!shown.contains("9Xc2"), "{shown}");
    assert!(WebhookError::BadSecret.to_string().contains("whsec_"));
}

#[test]
fn oversized_payloads_are_refused_before_anything_is_read() {
    let at = now();
    let big = vec![b' '; MAX_PAYLOAD_BYTES + 1];
    let header = signature_header(&secret(), &big, at);
    let error = verify_signature(&secret(), &header, &big, Timestamp::now()).unwrap_err();
    assert_eq!(
        error,
        WebhookError::TooLarge {
            bytes: MAX_PAYLOAD_BYTES + 1
        }
    );
    assert!(error.to_string().contains("1 MiB"), "{error}");
    // At the cap exactly it is still checked (and here refused only for what it says).
    let most = vec![b' '; MAX_PAYLOAD_BYTES];
    let header = signature_header(&secret(), &most, at);
    assert!(verify_signature(&secret(), &header, &most, Timestamp::now()).is_ok());
}

#[test]
fn verified_events_we_do_not_use_or_cannot_read_are_told_apart() {
    let at = now();
    let read = |payload: &str| {
        let header = signature_header(&secret(), payload.as_bytes(), at);
        read_webhook(&secret(), &header, payload.as_bytes(), Timestamp::now()).unwrap()
    };
    let customer = r#"{"id":"evt_cus","object":"event","type":"customer.created","created":1790000000,"data":{"object":{"id":"cus_1"}}}"#;
    assert_eq!(
        read(customer),
        WebhookEvent::Other {
            event_id: "evt_cus".into(),
            kind: "customer.created".into()
        }
    );
    // A setup-mode session (another integration's): no amount.
    let setup =
        completed_event("evt_setup").replace(r#""amount_total":1250"#, r#""amount_total":null"#);
    match read(&setup) {
        WebhookEvent::Unreadable(odd) => {
            assert_eq!(odd.event_id, "evt_setup");
            assert!(
                odd.reason.contains("amount_total is null"),
                "{}",
                odd.reason
            );
        }
        other => panic!("{other:?}"),
    }
    match read("not json at all") {
        WebhookEvent::Unreadable(odd) => {
            assert!(odd.event_id.starts_with("unnamed:"), "{}", odd.event_id);
            assert_eq!(odd.raw, "not json at all");
        }
        other => panic!("{other:?}"),
    }
    // Unverified, nothing is read at all.
    assert_eq!(
        read_webhook(
            &secret(),
            "t=1,v1=00",
            customer.as_bytes(),
            Timestamp::now()
        ),
        Err(WebhookError::NoMatch)
    );
}

#[tokio::test]
async fn a_localstripe_payment_pushed_as_a_webhook_is_the_polled_event() {
    let stripe = LocalStripe::start();
    let intent = stripe.pay_by_card(8800, "cny", "O-7").await;
    let polled = stripe.provider().poll(None, &[]).await.unwrap();
    assert_eq!(polled.events.len(), 1, "{:#?}", polled.events);

    // The feed as Stripe would push it: each event's exact text, signed.
    let mut pushed = Vec::new();
    for raw in stripe.raw_events().await {
        let payload = raw.as_bytes();
        let header = signature_header(&secret(), payload, now());
        if let WebhookEvent::Payment(event) =
            read_webhook(&secret(), &header, payload, Timestamp::now()).unwrap()
        {
            pushed.push(event);
        }
    }
    assert_eq!(pushed, polled.events);
    assert_eq!(pushed[0].provider_ref, intent["id"].as_str().unwrap());
    assert_eq!(pushed[0].order_ref.as_deref(), Some("O-7"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Any header text: never a panic, never accepted.
    #[test]
    fn no_header_text_verifies_without_the_secret(header in ".{0,300}", payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        proptest::prop_assert!(verify_signature(&secret(), &header, &payload, Timestamp::now()).is_err());
    }

    /// What we sign verifies; any one byte of the payload changed does not.
    #[test]
    fn one_changed_byte_breaks_the_signature(payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..500), at in 0usize..500, flip in 1u8..=255) {
        let header = signature_header(&secret(), &payload, now());
        proptest::prop_assert!(verify_signature(&secret(), &header, &payload, Timestamp::now()).is_ok());
        let mut changed = payload.clone();
        let at = at % changed.len();
        changed[at] ^= flip;
        proptest::prop_assert_eq!(
            verify_signature(&secret(), &header, &changed, Timestamp::now()),
            Err(WebhookError::NoMatch)
        );
    }
}
