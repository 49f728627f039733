//! `shopcast providers` and `shopcast payments` against a real fake Stripe (localstripe,
//! started by the test from tests/peers/): the real binary, a temp shop folder, kill -9.

#[path = "../../crates/payments/tests/stripe/localstripe.rs"]
#[allow(dead_code)]
mod localstripe;
// The test checkout page's hidden fields, read as the payments crate's tests read them.
#[path = "../../crates/payments/tests/support/form.rs"]
mod form;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod support;

use localstripe::{LocalStripe, SECRET_KEY};
use serde_json::Value;
use support::{Watch, qr_codes_on_first_page};

fn shopcast(data_dir: &Path) -> Command {
    support::shopcast_command(data_dir)
}

fn run(data_dir: &Path, args: &[&str]) -> Output {
    shopcast(data_dir)
        .args(args)
        .output()
        .expect("shopcast runs")
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn connect(data_dir: &Path, stripe: &LocalStripe) {
    let out = shopcast(data_dir)
        .args([
            "providers",
            "add",
            "stripe",
            "--api-base",
            stripe.base().as_str(),
        ])
        .env("SHOPCAST_STRIPE_KEY", SECRET_KEY)
        .output()
        .unwrap();
    assert_eq!(ok(out).trim(), "stripe connected");
}

fn listed(data_dir: &Path) -> Vec<Value> {
    let out = ok(run(
        data_dir,
        &["payments", "list", "--json", "--limit", "10000"],
    ));
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn stripe_payments_are_watched_once_each_even_after_kill_9_and_an_outage() {
    let mut stripe = LocalStripe::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    connect(data, &stripe);

    // The key is in the 0600 secrets file, nowhere in the database or its WAL.
    let secret_file = data.join("secrets/stripe.secret_key");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    for entry in std::fs::read_dir(data).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes
                    .windows(SECRET_KEY.len())
                    .any(|w| w == SECRET_KEY.as_bytes()),
                "the key leaked into {}",
                path.display()
            );
        }
    }
    let listed_providers = ok(run(data, &["providers", "list", "--json"]));
    assert!(!listed_providers.contains(SECRET_KEY));
    assert!(listed_providers.contains("…ripe"), "{listed_providers}");

    // A burst of 150 card payments; the watcher is killed as soon as it starts printing.
    let mut expected = HashSet::new();
    for i in 0..150 {
        let intent = stripe
            .pay_by_card(1_000 + i, "cny", &format!("O-BURST{i}"))
            .await;
        expected.insert(intent["id"].as_str().unwrap().to_string());
    }
    let watch = Watch::start(data, 250);
    let first = watch.next(Duration::from_secs(15));
    assert_eq!(first["status"], "paid");
    watch.kill();
    // Restart: one poll brings whatever was not stored; every payment exactly once.
    ok(run(
        data,
        &["payments", "watch", "--once", "--poll-ms", "250"],
    ));
    let stored = listed(data);
    let refs: Vec<&str> = stored
        .iter()
        .map(|p| p["providerRef"].as_str().unwrap())
        .collect();
    assert_eq!(refs.len(), 150, "each payment exactly once");
    assert_eq!(refs.iter().copied().collect::<HashSet<_>>().len(), 150);
    assert_eq!(
        refs.iter().map(|r| r.to_string()).collect::<HashSet<_>>(),
        expected
    );
    // Replaying the whole feed again records nothing new.
    let again = ok(run(data, &["payments", "watch", "--once"]));
    assert_eq!(again.trim(), "", "a second replay prints no new payment");
    assert_eq!(listed(data).len(), 150);

    // Live: a card payment shows within 1 s at a 250 ms poll; a decline shows as failed.
    let watch = Watch::start(data, 250);
    // The watcher killed above still held the Stripe lease (its next poll plus 2 s): the new
    // one takes over when it runs out.
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    let paid_at = Instant::now();
    let intent = stripe.pay_by_card(4_200, "eur", "O-LIVE").await;
    let line = watch.next(Duration::from_secs(3));
    let latency = paid_at.elapsed();
    assert_eq!(line["providerRef"], intent["id"]);
    assert_eq!(line["amount"]["amountMinor"], 4_200);
    assert_eq!(line["amount"]["currency"], "EUR");
    assert!(latency < Duration::from_secs(1), "took {latency:?}");
    let (status, _) = stripe
        .pay(999, "eur", "O-DECLINED", "pm_card_chargeCustomerFail")
        .await;
    assert_eq!(status, 402);
    let declined = watch.next(Duration::from_secs(3));
    assert_eq!(declined["status"], "failed");

    // Outage: localstripe down for 10 s, then back on the same port; nothing is lost.
    stripe.stop();
    tokio::time::sleep(Duration::from_secs(10)).await;
    stripe.restart();
    let after = stripe.pay_by_card(777, "usd", "O-AFTER").await;
    let recovered = watch.next(Duration::from_secs(40));
    assert_eq!(recovered["providerRef"], after["id"]);
    watch.kill();
    assert_eq!(listed(data).len(), 153);
}

#[test]
fn bad_provider_input_is_refused_with_a_reason_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // No key anywhere.
    let out = shopcast(data)
        .args(["providers", "add", "stripe"])
        .env_remove("SHOPCAST_STRIPE_KEY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SHOPCAST_STRIPE_KEY"));
    // Nothing listens on this port: the key is not stored.
    let out = shopcast(data)
        .args([
            "providers",
            "add",
            "stripe",
            "--api-base",
            "http://127.0.0.1:9",
        ])
        .env("SHOPCAST_STRIPE_KEY", "sk_test_x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("could not reach stripe"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!data.join("secrets/stripe.secret_key").exists());
    // Watching with no provider says what to do.
    let out = run(data, &["payments", "watch", "--once"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("providers add"));
}

#[test]
fn the_stripe_webhook_signing_secret_is_checked_then_kept_out_of_the_shop_file() {
    const WEBHOOK_SECRET: &str = "whsec_test_cli_R7mK2pX9vQ4tL8nB1cY6";
    let stripe = LocalStripe::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let add = |webhook_secret: &str| {
        shopcast(data)
            .args([
                "providers",
                "add",
                "stripe",
                "--api-base",
                stripe.base().as_str(),
            ])
            .env("SHOPCAST_STRIPE_KEY", SECRET_KEY)
            .env("SHOPCAST_STRIPE_WEBHOOK_SECRET", webhook_secret)
            .output()
            .unwrap()
    };
    // Not a signing secret (the API key pasted twice): refused before anything is stored.
    let out = add(SECRET_KEY);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error[validation]"), "{stderr}");
    assert!(stderr.contains("whsec_"), "{stderr}");
    assert!(!data.join("secrets/stripe.secret_key").exists());

    assert_eq!(
        ok(add(WEBHOOK_SECRET)).trim(),
        "stripe connected\nstripe webhook signing secret set"
    );
    let listed = ok(run(data, &["providers", "list"]));
    assert!(listed.contains("webhook signing secret set"), "{listed}");
    let json = ok(run(data, &["providers", "list", "--json"]));
    assert!(json.contains(r#""webhookSecretSet":true"#), "{json}");
    assert!(!json.contains("whsec_"), "{json}");
    for file in ["shopcast.sqlite", "shopcast.sqlite-wal"] {
        let path = data.join(file);
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !bytes
                .windows(WEBHOOK_SECRET.len())
                .any(|w| w == WEBHOOK_SECRET.as_bytes()),
            "the signing secret leaked into {}",
            path.display()
        );
    }
    // A new key without the variable keeps the endpoint's secret.
    connect(data, &stripe);
    let listed = ok(run(data, &["providers", "list"]));
    assert!(listed.contains("webhook signing secret set"), "{listed}");
    ok(run(data, &["providers", "remove", "stripe"]));
    assert!(!data.join("secrets/stripe.webhook_secret").exists());
}

/// Serves the Stripe endpoints the Payment Link flow uses, in Stripe's documented shapes
/// (`GET /v1/events`, `POST /v1/prices`, `POST /v1/payment_links`); Payment Links are not
/// in localstripe. Runs on its own thread for the life of the test process.
fn fake_stripe_links() -> String {
    use axum::routing::{get, post};
    let made = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let made2 = made.clone();
    serve_on_own_thread(
        axum::Router::new()
            .route(
                "/v1/events",
                get(|| async {
                    axum::Json(serde_json::json!({"object": "list", "data": [], "has_more": false}))
                }),
            )
            .route(
                "/v1/prices",
                post(move || {
                    let n = made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    async move {
                        axum::Json(
                            serde_json::json!({"id": format!("price_{n}"), "object": "price"}),
                        )
                    }
                }),
            )
            .route(
                "/v1/payment_links",
                post(move || {
                    let n = made2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    async move {
                        axum::Json(serde_json::json!({
                            "id": format!("plink_{n}"), "object": "payment_link",
                            "url": format!("https://buy.stripe.com/test_{n}")
                        }))
                    }
                }),
            ),
    )
}

/// Serves `app` on 127.0.0.1 from its own thread for the life of the test process; its base.
fn serve_on_own_thread(app: axum::Router) -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("http://{}", listener.local_addr().unwrap()))
                .unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// A Stripe feed with another integration's setup-mode Checkout Session (amount_total and
/// currency null) before a payment: `payments watch --once` records the payment, keeps the
/// other aside, and `providers list` says so; a second pass keeps nothing twice.
#[test]
fn an_unreadable_stripe_event_is_skipped_and_listed_with_the_providers() {
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let feed = serde_json::json!({"object": "list", "has_more": false, "data": [
        {"id": "evt_paid", "object": "event", "type": "payment_intent.succeeded",
         "created": created + 1, "data": {"object": {
            "id": "pi_1", "object": "payment_intent", "amount": 1250, "amount_received": 1250,
            "currency": "eur", "metadata": {}}}},
        {"id": "evt_setup", "object": "event", "type": "checkout.session.completed",
         "created": created, "data": {"object": {
            "id": "cs_setup", "object": "checkout.session", "mode": "setup",
            "amount_total": null, "currency": null, "payment_intent": null,
            "payment_status": "no_payment_required", "metadata": {}}}}
    ]});
    let base = serve_on_own_thread(axum::Router::new().route(
        "/v1/events",
        axum::routing::get(move || {
            let feed = feed.clone();
            async move { axum::Json(feed) }
        }),
    ));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let out = shopcast(data)
        .args(["providers", "add", "stripe", "--api-base", base.as_str()])
        .env("SHOPCAST_STRIPE_KEY", SECRET_KEY)
        .output()
        .unwrap();
    assert_eq!(ok(out).trim(), "stripe connected");

    let expected = "stripe: 1 Stripe event could not be read (last: evt_setup: amount_total is \
                    null); it was skipped and kept for review.";
    for _ in 0..2 {
        let watched = ok(run(data, &["payments", "watch", "--once"]));
        assert_eq!(listed(data).len(), 1, "{watched}");
        let providers = ok(run(data, &["providers", "list"]));
        assert!(
            providers.lines().any(|line| line == expected),
            "{providers}"
        );
    }
}

/// The CLI loads the saved providers like the window does: with Stripe set up, printed signs
/// carry the products' Payment Links tagged with the batch, not the buy-link address.
#[test]
fn signage_with_stripe_saved_prints_its_payment_links() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(run(data, &["settings", "set", "shop.currency", "CNY"]));
    ok(run(
        data,
        &[
            "settings",
            "set",
            "shop.buy_link_base",
            "https://shop.example.com/p/",
        ],
    ));
    let csv = data.join("catalog.csv");
    std::fs::write(&csv, "sku,name,price\nCUP-1,青花瓷杯,88\nTEA-1,Tea,12.50\n").unwrap();
    ok(run(data, &["products", "import", csv.to_str().unwrap()]));
    let base = fake_stripe_links();
    let out = shopcast(data)
        .args(["providers", "add", "stripe", "--api-base", base.as_str()])
        .env("SHOPCAST_STRIPE_KEY", "sk_test_links")
        .output()
        .unwrap();
    assert_eq!(ok(out).trim(), "stripe connected");

    let pdf = data.join("signs.pdf");
    let printed = ok(run(
        data,
        &[
            "signage",
            "--template",
            "a4-3x8",
            "--all",
            "--out",
            pdf.to_str().unwrap(),
        ],
    ));
    let batch = printed
        .split_whitespace()
        .skip_while(|w| *w != "batch")
        .nth(1)
        .expect("batch id printed")
        .to_string();
    let codes = qr_codes_on_first_page(&pdf, data);
    assert_eq!(codes.len(), 2, "{codes:?}");
    for code in &codes {
        assert!(code.starts_with("https://buy.stripe.com/test_"), "{code}");
        assert!(
            code.ends_with(&format!("client_reference_id=sign-{batch}")),
            "{code}"
        );
    }
}

/// The value of the hidden form field `name` on a test checkout page.
fn form_field(page: &str, name: &str) -> String {
    form::field(page, name).expect("the field is on the page")
}

#[tokio::test(flavor = "multi_thread")]
async fn headless_watch_runs_the_test_checkout_where_asked_and_records_its_sales() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let csv = data.join("tea.csv");
    std::fs::write(
        &csv,
        "sku,name,price,currency,stock\nTEA-1,龙井绿茶,88,CNY,12\n",
    )
    .unwrap();
    ok(run(data, &["settings", "set", "shop.currency", "CNY"]));
    ok(run(data, &["products", "import", csv.to_str().unwrap()]));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");

    // Test mode is on for a new shop: no other provider is needed.
    let mut child = shopcast(data)
        .args([
            "payments",
            "watch",
            "--poll-ms",
            "100",
            "--test-listen",
            &listen,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (said, heard) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = said.send(line);
        }
    });
    let announced = heard
        .recv_timeout(Duration::from_secs(20))
        .expect("watch says where the test checkout listens");
    assert_eq!(
        announced,
        format!("test checkout listening on http://{listen}")
    );
    let stdout = child.stdout.take().unwrap();
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });

    // A phone opens a sign's buy link (nothing is created), presses Buy, then Pay.
    let http = shopcast_payments::http::client();
    let base = format!("http://{listen}");
    let product = http
        .get(format!("{base}/p/TEA-1?src=qr&sign=S1A2B3C4"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(product.contains("龙井绿茶"), "{product}");
    let pay_page = http
        .post(format!("{base}/p/TEA-1"))
        .form(&[
            ("csrf", form_field(&product, "csrf")),
            ("src", form_field(&product, "src")),
            ("sign", form_field(&product, "sign")),
        ])
        .send()
        .await
        .unwrap();
    let pay_url = pay_page.url().to_string();
    assert!(pay_url.starts_with(&format!("{base}/pay/")), "{pay_url}");
    let pay_page = pay_page.text().await.unwrap();
    let forged = http.post(format!("{pay_url}/pay")).send().await.unwrap();
    assert_eq!(forged.status(), 403, "no form token, no payment");
    let paid = http
        .post(format!("{pay_url}/pay"))
        .form(&[("csrf", form_field(&pay_page, "csrf"))])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);

    let line: Value = serde_json::from_str(
        &lines
            .recv_timeout(Duration::from_secs(5))
            .expect("the payment is printed"),
    )
    .unwrap();
    assert_eq!(line["status"], "paid");
    assert_eq!(line["test"], true);
    assert_eq!(line["provider"], "test");
    assert_eq!(line["channel"], "signage");
    assert_eq!(line["sourceRef"], "S1A2B3C4");
    assert_eq!(line["amount"]["amountMinor"], 8_800);
    let _ = child.kill();
    let _ = child.wait();
    let stored = listed(data);
    assert_eq!(stored.len(), 1);
    let products: Value =
        serde_json::from_str(&ok(run(data, &["products", "list", "--json"]))).unwrap();
    let stock = &products.as_array().unwrap()[0]["stock"];
    assert_eq!(stock, 12, "a test sale leaves the stock alone: {products}");

    // A busy address asked for is refused in words.
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = squatter.local_addr().unwrap().to_string();
    let refused = run(data, &["payments", "watch", "--test-listen", &busy]);
    assert!(!refused.status.success());
    let reason = String::from_utf8_lossy(&refused.stderr);
    assert!(
        reason.starts_with("error[") && reason.contains(&busy),
        "{reason}"
    );

    // An every-interface address cannot go into a QR: refused before anything starts,
    // asking for the LAN address.
    for everywhere in ["0.0.0.0:8787", "[::]:8787"] {
        let refused = run(data, &["payments", "watch", "--test-listen", everywhere]);
        assert!(!refused.status.success());
        let reason = String::from_utf8_lossy(&refused.stderr);
        assert!(
            reason.starts_with("error[validation]: --test-listen ")
                && reason.contains("no phone can reach: give this computer's LAN address"),
            "{reason}"
        );
    }

    // --test-listen needs test mode on.
    ok(run(data, &["providers", "remove", "test"]));
    let refused = run(data, &["payments", "watch", "--test-listen", &listen]);
    assert!(!refused.status.success());
    let reason = String::from_utf8_lossy(&refused.stderr);
    assert!(reason.contains("Test mode is off"), "{reason}");
}
