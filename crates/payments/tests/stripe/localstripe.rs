//! localstripe, a stateful fake of the Stripe API (PyPI), run per test through
//! `tests/peers/localstripe_server.py`: on 127.0.0.1, with its state in the test's temp dir, and
//! able to stop and come back on the same port with everything it had.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::Url;
use serde_json::Value;
use shopcast_payments::stripe::{StripeConfig, StripeProvider};

/// localstripe accepts any key that starts with "sk_".
pub const SECRET_KEY: &str = "sk_test_shopcast_localstripe";

pub struct LocalStripe {
    child: Option<Child>,
    port: u16,
    state: tempfile::TempDir,
}

impl LocalStripe {
    /// Starts a fresh localstripe on a free port. Fails (never skips) when the venv is missing.
    pub fn start() -> LocalStripe {
        let state = tempfile::tempdir().unwrap();
        let (child, port) = spawn(0, state.path());
        LocalStripe {
            child: Some(child),
            port,
            state,
        }
    }

    pub fn base(&self) -> Url {
        Url::parse(&format!("http://127.0.0.1:{}", self.port)).unwrap()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Shopcast's config for this peer. localstripe answers `types[]` with 400, so the event
    /// filter runs on our side only.
    pub fn config(&self) -> StripeConfig {
        StripeConfig {
            api_base: self.base(),
            filter_types_on_server: false,
            ..StripeConfig::new(SECRET_KEY)
        }
    }

    pub fn provider(&self) -> StripeProvider {
        StripeProvider::new(self.config()).unwrap()
    }

    /// Kills the server (like a crash or an outage); the state dir stays.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port with the same state.
    pub fn restart(&mut self) {
        self.stop();
        let (child, port) = spawn(self.port, self.state.path());
        assert_eq!(port, self.port);
        self.child = Some(child);
    }

    /// Calls localstripe directly, as the customer's phone or the Stripe Dashboard would (not
    /// through Shopcast): the HTTP status and the JSON reply.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, Value) {
        let url = self.base().join(path).unwrap();
        let reply = shopcast_payments::http::client()
            .request(method, url)
            .bearer_auth(SECRET_KEY)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = reply.status().as_u16();
        (status, reply.json().await.unwrap())
    }

    /// A customer pays `amount` for `order_ref` with one of Stripe's test payment methods
    /// (`pm_card_visa` succeeds, `pm_card_chargeCustomerFail` is declined with 402).
    pub async fn pay(
        &self,
        amount: i64,
        currency: &str,
        order_ref: &str,
        method: &str,
    ) -> (u16, Value) {
        let amount = amount.to_string();
        self.api(
            reqwest::Method::POST,
            "/v1/payment_intents",
            &[
                ("amount", &amount),
                ("currency", currency),
                ("metadata[order_ref]", order_ref),
                ("payment_method", method),
                ("confirm", "true"),
            ],
        )
        .await
    }

    /// A successful card payment; returns the PaymentIntent.
    pub async fn pay_by_card(&self, amount: i64, currency: &str, order_ref: &str) -> Value {
        let (status, intent) = self.pay(amount, currency, order_ref, "pm_card_visa").await;
        assert_eq!(status, 200, "{intent}");
        assert_eq!(intent["status"], "succeeded", "{intent}");
        intent
    }

    /// Every event's exact text, as Stripe would push each to a webhook endpoint.
    pub async fn raw_events(&self) -> Vec<String> {
        #[derive(serde::Deserialize)]
        struct Page {
            data: Vec<Box<serde_json::value::RawValue>>,
        }
        let text = shopcast_payments::http::client()
            .get(self.base().join("/v1/events?limit=100").unwrap())
            .bearer_auth(SECRET_KEY)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let page: Page = serde_json::from_str(&text).unwrap();
        page.data.iter().map(|raw| raw.get().to_string()).collect()
    }

    /// Every event localstripe holds, in its own (oldest-first) order.
    pub async fn all_events(&self) -> Vec<Value> {
        let (status, list) = self
            .api(reqwest::Method::GET, "/v1/events?limit=1000", &[])
            .await;
        assert_eq!(status, 200, "{list}");
        list["data"].as_array().unwrap().clone()
    }
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        self.stop();
    }
}

fn venv() -> PathBuf {
    match std::env::var_os("SHOPCAST_VENV") {
        Some(venv) => PathBuf::from(venv),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
            .join(".cache/shopcast-venv"),
    }
}

fn spawn(port: u16, state: &Path) -> (Child, u16) {
    let python = venv().join("bin/python");
    let script =
        // This file is shared by tests of several crates: look upwards for the repo's peers.
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|dir| dir.join("tests/peers/localstripe_server.py"))
            .find(|path| path.exists())
            .expect("tests/peers/localstripe_server.py above the crate");
    let log_path = state.join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(&python)
        .arg(&script)
        .arg(port.to_string())
        .arg(state)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "cannot run {} ({err}): localstripe is not installed; run tests/peers/setup.sh",
                python.display()
            )
        });

    // Read "PORT <n>" on a thread so a hung server cannot hang the test; keep draining after.
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = sender.send(lines.next());
        for _ in lines {}
    });
    let first = receiver.recv_timeout(Duration::from_secs(30));
    let port = match &first {
        Ok(Some(Ok(line))) => line
            .strip_prefix("PORT ")
            .and_then(|port| port.trim().parse().ok()),
        _ => None,
    };
    match port {
        Some(port) => (child, port),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!(
                "localstripe did not start (stdout: {first:?}); run tests/peers/setup.sh\n\
                 --- {} ---\n{log}",
                log_path.display()
            );
        }
    }
}
