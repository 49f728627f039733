//! `shopcast sell` and `shopcast providers add wechat`, run as a cashier would: the real binary
//! on a temp shop, test mode's checkout paid over HTTP, WeChat Pay as the local test gateway.

// The test checkout page's hidden fields, read as the payments crate's tests read them.
#[path = "../../crates/payments/tests/support/form.rs"]
mod form;
mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use shopcast_testkit::{CodeBehaviour, WechatGateway};
use support::{failure, shop_with_products, shopcast, shopcast_command, stdout, tool};

/// A WeChat Pay payment code (18 digits from 10–15) and an Alipay one (25–30).
const WECHAT_CODE: &str = "134567890123456789";
const ALIPAY_CODE: &str = "284567890123456789";

/// A CNY shop selling A (12.50, 10 in stock) and B (88, 5 in stock).
fn tea_shop(data: &Path) {
    stdout(&shopcast(
        data,
        &["settings", "set", "shop.currency", "CNY"],
    ));
    shop_with_products(data, "A,Tea,,12.50,CNY,10,\nB,Cup,,88,CNY,5,\n");
}

/// The JSON lines a run printed.
fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

fn sell(data: &Path, args: &[&str]) -> Output {
    let mut all = vec!["sell"];
    all.extend(args);
    shopcast(data, &all)
}

/// What the shop file holds, through the sqlite3 tool: `SELECT count(*) FROM orders`.
fn orders_in_shop(data: &Path) -> u64 {
    let db = data.join("shopcast.sqlite");
    tool(
        "sqlite3",
        &[db.to_str().unwrap(), "SELECT count(*) FROM orders"],
    )
    .trim()
    .parse()
    .unwrap()
}

fn stock(data: &Path) -> Vec<(String, i64)> {
    let listed: Value =
        serde_json::from_str(&stdout(&shopcast(data, &["products", "list", "--json"]))).unwrap();
    let mut stock: Vec<(String, i64)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["sku"].as_str().unwrap().to_string(),
                p["stock"].as_i64().unwrap(),
            )
        })
        .collect();
    stock.sort();
    stock
}

#[test]
fn a_cash_sale_of_skus_is_one_order_at_its_till_and_takes_the_stock() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    tea_shop(data);
    let out = sell(
        data,
        &[
            "--sku", "A:2", "--sku", "B", "--till", "Till 2", "--method", "cash", "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "cash is done at once: {lines:?}");
    let sale = &lines[0];
    let order = &sale["order"];
    assert_eq!(order["status"], "paid");
    assert_eq!(order["till"], "Till 2");
    assert_eq!(order["channel"], "till");
    let sold: Vec<(&str, i64, i64)> = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap(),
                l["quantity"].as_i64().unwrap(),
                l["unitPrice"]["amountMinor"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(sold, [("A", 2, 1_250), ("B", 1, 8_800)]);
    assert_eq!(order["total"]["amountMinor"], 11_300);
    assert_eq!(order["total"]["currency"], "CNY");
    assert_eq!(sale["payment"]["status"], "paid");
    assert_eq!(sale["payment"]["method"], "cash");
    assert_eq!(sale["payment"]["amount"]["amountMinor"], 11_300);
    assert_eq!(sale["payment"]["orderRef"], order["orderRef"]);
    assert_eq!(sale["qrPayload"], Value::Null);
    assert_eq!(sale["waiting"], false);
    assert_eq!(stock(data), [("A".into(), 8), ("B".into(), 4)]);

    // As the cashier reads it: the order, its lines and total with the symbol, the till.
    let printed = stdout(&sell(
        data,
        &["--sku", "B", "--method", "cash", "--till", "Front"],
    ));
    let lines: Vec<&str> = printed.lines().collect();
    assert!(
        lines[0].starts_with("order O-") && lines[0].ends_with(" at Front"),
        "{printed}"
    );
    assert!(lines.contains(&"  1 × Cup (B)  ¥88.00"), "{printed}");
    assert!(lines.contains(&"total ¥88.00"), "{printed}");
    assert!(
        lines.last().unwrap().ends_with(": paid ¥88.00 by cash"),
        "{printed}"
    );

    // A typed amount in the shop's currency, no products.
    let typed = json_lines(&sell(
        data,
        &["--amount", "12.50", "--method", "cash", "--json"],
    ));
    assert_eq!(typed[0]["order"]["lines"], serde_json::json!([]));
    assert_eq!(typed[0]["order"]["total"]["amountMinor"], 1_250);
    assert_eq!(typed[0]["order"]["total"]["currency"], "CNY");
    assert_eq!(typed[0]["payment"]["status"], "paid");
    assert_eq!(stock(data), [("A".into(), 8), ("B".into(), 3)]);
    assert_eq!(orders_in_shop(data), 3);
}

#[test]
fn bad_sale_flags_are_refused_in_words_and_create_no_order() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    tea_shop(data);
    let refused: &[(&[&str], &str, &str)] = &[
        (
            &["--sku", "A:0", "--method", "cash"],
            "validation",
            "from 1 to 10000",
        ),
        (
            &["--sku", "A:10001", "--method", "cash"],
            "validation",
            "from 1 to 10000",
        ),
        (
            &["--sku", "A:x", "--method", "cash"],
            "validation",
            "whole number",
        ),
        (
            &["--sku", "A:", "--method", "cash"],
            "validation",
            "no quantity",
        ),
        (&["--sku", ":2", "--method", "cash"], "validation", "no SKU"),
        (&["--method", "cash"], "validation", "Nothing to sell"),
        (
            &["--sku", "A", "--amount", "5", "--method", "cash"],
            "validation",
            "not both",
        ),
        (
            &["--sku", "A", "--method", "cash", "--auth-code", WECHAT_CODE],
            "validation",
            "only taken with --method alipay-code or wechat-code",
        ),
        (
            &["--sku", "A", "--method", "wechat-code"],
            "validation",
            "(--auth-code)",
        ),
        (
            &["--sku", "A", "--method", "bitcoin"],
            "validation",
            "alipay-code",
        ),
        (&["--sku", "NOPE", "--method", "cash"], "not_found", "NOPE"),
    ];
    for (args, code, words) in refused {
        let reason = failure(&sell(data, args));
        assert!(
            reason.starts_with(&format!("error[{code}]: ")) && reason.contains(words),
            "{args:?}: {reason}"
        );
    }
    // With --json the reason is JSON and names the flag's field.
    let reason = failure(&sell(data, &["--sku", "A:0", "--method", "cash", "--json"]));
    let reason: Value = serde_json::from_str(reason.trim()).unwrap();
    assert_eq!(reason["error"]["code"], "validation");
    assert_eq!(reason["error"]["field"], "sku");
    let reason = failure(&sell(
        data,
        &["--sku", "A", "--method", "alipay-code", "--json"],
    ));
    let reason: Value = serde_json::from_str(reason.trim()).unwrap();
    assert_eq!(reason["error"]["field"], "authCode");

    assert_eq!(orders_in_shop(data), 0);
    assert_eq!(stock(data), [("A".into(), 10), ("B".into(), 5)]);
}

/// `shopcast sell` running in the background; its stdout lines arrive on a channel.
struct Selling {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Selling {
    fn start(data: &Path, args: &[&str]) -> Selling {
        let mut child = shopcast_command(data)
            .arg("sell")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        Selling { child, lines }
    }

    fn next_json(&self, within: Duration) -> Value {
        let line = self.lines.recv_timeout(within).expect("a line in time");
        serde_json::from_str(&line).expect("a JSON line")
    }

    /// Waits for the end: whether it succeeded, and its stderr.
    fn finish(self) -> (bool, String) {
        let output = self.child.wait_with_output().unwrap();
        (
            output.status.success(),
            String::from_utf8(output.stderr).unwrap(),
        )
    }
}

/// The phone's side of a test QR: opens the checkout page at `url`, then presses `button`
/// ("pay" or "decline") with the page's form token.
async fn press_on_test_checkout(url: &str, button: &str) {
    let http = shopcast_payments::http::client();
    let page = http.get(url).send().await.unwrap().text().await.unwrap();
    let csrf = form::field(&page, "csrf").expect("the checkout page has its form token");
    let pressed = http
        .post(format!("{url}/{button}"))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(pressed.status(), 200, "{button}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_sale_runs_its_checkout_in_the_process_and_ends_paid_or_declined() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    tea_shop(data);

    let selling = Selling::start(data, &["--sku", "A:2", "--method", "test", "--json"]);
    let started = selling.next_json(Duration::from_secs(30));
    assert_eq!(started["order"]["status"], "awaiting_payment");
    assert_eq!(started["charge"]["provider"], "test");
    let url = started["qrPayload"].as_str().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    press_on_test_checkout(&url, "pay").await;
    let ended = selling.next_json(Duration::from_secs(10));
    assert_eq!(ended["order"]["status"], "paid");
    assert_eq!(ended["order"]["orderRef"], started["order"]["orderRef"]);
    assert_eq!(ended["payment"]["status"], "paid");
    assert_eq!(ended["payment"]["test"], true);
    assert_eq!(ended["payment"]["amount"]["amountMinor"], 2_500);
    let (ok, stderr) = selling.finish();
    assert!(ok, "{stderr}");
    // Test payments take no stock.
    assert_eq!(stock(data), [("A".into(), 10), ("B".into(), 5)]);

    // Declined: the second line says so and the run fails with the reason.
    let selling = Selling::start(data, &["--sku", "B", "--method", "test", "--json"]);
    let started = selling.next_json(Duration::from_secs(30));
    press_on_test_checkout(started["qrPayload"].as_str().unwrap(), "decline").await;
    let ended = selling.next_json(Duration::from_secs(10));
    assert_eq!(ended["payment"]["status"], "failed");
    assert_ne!(ended["order"]["status"], "paid");
    let (ok, stderr) = selling.finish();
    assert!(!ok);
    let reason: Value = serde_json::from_str(stderr.trim().lines().last().unwrap()).unwrap();
    assert_eq!(reason["error"]["code"], "provider_rejected", "{stderr}");

    // Stopped while it waits (SIGTERM, as Ctrl-C): the order is cancelled, its QR withdrawn.
    let selling = Selling::start(data, &["--amount", "3", "--method", "test", "--json"]);
    let started = selling.next_json(Duration::from_secs(30));
    let url = started["qrPayload"].as_str().unwrap().to_string();
    tool("kill", &["-TERM", &selling.child.id().to_string()]);
    let (ok, stderr) = selling.finish();
    assert!(!ok);
    let reason: Value = serde_json::from_str(stderr.trim().lines().last().unwrap()).unwrap();
    assert_eq!(reason["error"]["code"], "cancelled", "{stderr}");
    let db = data.join("shopcast.sqlite");
    let id = started["order"]["id"].to_string();
    let status = tool(
        "sqlite3",
        &[
            db.to_str().unwrap(),
            &format!("SELECT status FROM orders WHERE id = {id}"),
        ],
    );
    assert_eq!(status.trim(), "cancelled");
    // Its checkout went with the run: nobody can pay that QR now.
    let http = shopcast_payments::http::client();
    assert!(http.get(&url).send().await.is_err(), "{url} still answers");
}

/// The gateway's keys as the owner has them: two PEM files in `dir`.
fn key_files(dir: &Path, gateway: &WechatGateway) -> (String, String) {
    let private = dir.join("apiclient_key.pem");
    let public = dir.join("pub_key.pem");
    std::fs::write(&private, &gateway.merchant_private_key_pem).unwrap();
    std::fs::write(&public, &gateway.wechatpay_public_key_pem).unwrap();
    (
        private.to_str().unwrap().to_string(),
        public.to_str().unwrap().to_string(),
    )
}

/// `providers add wechat` for `gateway`, the APIv3 key typed on stdin.
fn add_wechat(data: &Path, gateway: &WechatGateway, apiv3_key: &str) -> Output {
    let keys = data.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (private, public) = key_files(&keys, gateway);
    add_wechat_with(data, gateway, &private, &public, apiv3_key)
}

fn add_wechat_with(
    data: &Path,
    gateway: &WechatGateway,
    private: &str,
    public: &str,
    apiv3_key: &str,
) -> Output {
    let mut child = shopcast_command(data)
        .args([
            "providers",
            "add",
            "wechat",
            "--mchid",
            &gateway.mchid,
            "--appid",
            &gateway.appid,
            "--serial",
            &gateway.merchant_serial,
            "--private-key",
            private,
            "--wechatpay-public-key",
            public,
            "--wechatpay-public-key-id",
            &gateway.public_key_id,
            "--api-base",
            &gateway.url,
        ])
        .env_remove("SHOPCAST_WECHAT_APIV3_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{apiv3_key}").unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// Whether any file in the shop folder (database, WAL, settings; not `secrets/`) holds `text`.
fn shop_files_hold(data: &Path, text: &str) -> Option<String> {
    std::fs::read_dir(data)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .find(|p| {
            std::fs::read(p)
                .unwrap()
                .windows(text.len())
                .any(|w| w == text.as_bytes())
        })
        .map(|p| p.display().to_string())
}

/// The base64 body lines of a PEM, each long enough to be a telltale of the key.
fn pem_body_lines(pem: &str) -> Vec<&str> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 40)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn wechat_is_connected_from_files_and_stdin_and_never_shows_its_keys() {
    let gateway = WechatGateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    tea_shop(data);
    let out = add_wechat(data, &gateway, &gateway.apiv3_key);
    assert_eq!(stdout(&out).trim(), "wechat connected");

    let listed = stdout(&shopcast(data, &["providers", "list"]));
    let expected = format!(
        "wechat: mchid {} appid {} serial {} public key {} api {} (File)",
        gateway.mchid, gateway.appid, gateway.merchant_serial, gateway.public_key_id, gateway.url
    );
    assert!(listed.lines().any(|l| l == expected), "{listed}");
    let json = stdout(&shopcast(data, &["providers", "list", "--json"]));
    let settings: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(settings["wechat"]["mchid"], gateway.mchid.as_str());
    assert_eq!(
        settings["wechat"]["publicKeyId"],
        gateway.public_key_id.as_str()
    );
    assert!(!json.contains(&gateway.apiv3_key), "{json}");
    assert!(!json.contains("BEGIN"), "{json}");
    let pems = [
        &gateway.merchant_private_key_pem,
        &gateway.wechatpay_public_key_pem,
    ];
    for pem in pems {
        for line in pem_body_lines(pem) {
            assert!(!json.contains(line), "a key is in providers list: {json}");
            assert_eq!(
                shop_files_hold(data, line),
                None,
                "a key is in the shop file"
            );
        }
    }
    assert_eq!(shop_files_hold(data, &gateway.apiv3_key), None);

    // Removed: its keys go with it.
    assert_eq!(
        stdout(&shopcast(data, &["providers", "remove", "wechat"])).trim(),
        "wechat disconnected"
    );
    let json = stdout(&shopcast(data, &["providers", "list", "--json"]));
    assert_eq!(
        serde_json::from_str::<Value>(&json).unwrap()["wechat"],
        Value::Null
    );
    assert!(
        wechat_secrets(data).is_empty(),
        "{:?}",
        wechat_secrets(data)
    );
}

/// The secrets files kept for WeChat Pay.
fn wechat_secrets(data: &Path) -> Vec<String> {
    std::fs::read_dir(data.join("secrets"))
        .map(|dir| {
            dir.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with("wechat"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_wechat_setup_is_refused_in_words_and_stores_nothing() {
    let gateway = WechatGateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let nothing_stored = || {
        let json = stdout(&shopcast(data, &["providers", "list", "--json"]));
        assert_eq!(
            serde_json::from_str::<Value>(&json).unwrap()["wechat"],
            Value::Null
        );
        assert!(
            wechat_secrets(data).is_empty(),
            "{:?}",
            wechat_secrets(data)
        );
    };

    // An APIv3 key one character short.
    let short = &gateway.apiv3_key[1..];
    let reason = failure(&add_wechat(data, &gateway, short));
    // The engine's words, as a setup problem (provider_config) or under the key's field.
    assert!(
        reason.starts_with("error[provider_config]: ") || reason.starts_with("error[validation]: "),
        "{reason}"
    );
    assert!(reason.contains("APIv3"), "{reason}");
    assert!(!reason.contains(short), "the key is not echoed: {reason}");
    nothing_stored();

    // A key file that is not there: named, before any key is asked for.
    let keys = data.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (private, _) = key_files(&keys, &gateway);
    let missing = keys.join("no_such_pub_key.pem");
    let reason = failure(&add_wechat_with(
        data,
        &gateway,
        &private,
        missing.to_str().unwrap(),
        &gateway.apiv3_key,
    ));
    assert!(
        reason.starts_with("error[io]: ") && reason.contains("no_such_pub_key.pem"),
        "{reason}"
    );
    nothing_stored();

    // No APIv3 key anywhere.
    let out = shopcast_command(data)
        .args(["providers", "add", "wechat", "--mchid", &gateway.mchid])
        .args([
            "--appid",
            &gateway.appid,
            "--serial",
            &gateway.merchant_serial,
        ])
        .args([
            "--private-key",
            &private,
            "--wechatpay-public-key",
            &private,
        ])
        .args(["--wechatpay-public-key-id", &gateway.public_key_id])
        .args(["--api-base", &gateway.url])
        .env_remove("SHOPCAST_WECHAT_APIV3_KEY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(failure(&out).contains("SHOPCAST_WECHAT_APIV3_KEY"));
    nothing_stored();
}

#[tokio::test(flavor = "multi_thread")]
async fn wechat_sales_by_qr_and_by_payment_code() {
    let gateway = WechatGateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    tea_shop(data);
    let connected = shopcast_command(data)
        .args(["providers", "add", "wechat", "--mchid", &gateway.mchid])
        .args([
            "--appid",
            &gateway.appid,
            "--serial",
            &gateway.merchant_serial,
        ])
        .args(key_args(data, &gateway))
        .args(["--api-base", &gateway.url])
        .env("SHOPCAST_WECHAT_APIV3_KEY", &gateway.apiv3_key)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(stdout(&connected).trim(), "wechat connected");

    // Native: the code_url is printed and the run ends; `payments watch` records the payment.
    let out = sell(data, &["--sku", "A:2", "--method", "wechat", "--json"]);
    let lines = json_lines(&out);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines.len(), 1);
    let sale = &lines[0];
    let code_url = sale["qrPayload"].as_str().unwrap();
    assert!(
        code_url.starts_with("weixin://wxpay/bizpayurl"),
        "{code_url}"
    );
    assert_eq!(sale["order"]["status"], "awaiting_payment");
    let trade_no = sale["charge"]["chargeRef"].as_str().unwrap();
    let asked = gateway
        .requests()
        .into_iter()
        .find(|r| r.path == "/v3/pay/transactions/native")
        .expect("a Native order was placed");
    let asked: Value = serde_json::from_str(&asked.body).unwrap();
    assert_eq!(asked["out_trade_no"], trade_no);
    assert_eq!(asked["amount"]["total"], 2_500, "fen");
    assert_eq!(asked["amount"]["currency"], "CNY");
    // Human output: the payload alone on its line.
    let printed = stdout(&sell(data, &["--sku", "B", "--method", "wechat"]));
    assert!(
        printed
            .lines()
            .any(|l| l.starts_with("weixin://wxpay/bizpayurl") && !l.contains(' ')),
        "{printed}"
    );

    gateway.pay(trade_no);
    let watched = stdout(&shopcast(data, &["payments", "watch", "--once"]));
    let recorded: Vec<Value> = watched
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recorded.len(), 1, "{watched}");
    assert_eq!(recorded[0]["status"], "paid");
    assert_eq!(recorded[0]["provider"], "wechat");
    assert_eq!(recorded[0]["orderRef"], sale["order"]["orderRef"]);
    assert_eq!(recorded[0]["amount"]["amountMinor"], 2_500);
    assert_eq!(stock(data), [("A".into(), 8), ("B".into(), 5)]);

    // The customer's payment code, paid at once: done in one line, no waiting.
    let out = sell(
        data,
        &[
            "--sku",
            "B",
            "--method",
            "wechat-code",
            "--auth-code",
            WECHAT_CODE,
            "--till",
            "Till 1",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("waiting"));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    let paid = &lines[0];
    assert_eq!(paid["order"]["status"], "paid");
    assert_eq!(paid["order"]["till"], "Till 1");
    assert_eq!(paid["payment"]["status"], "paid");
    assert_eq!(paid["payment"]["provider"], "wechat");
    assert_eq!(paid["payment"]["amount"]["amountMinor"], 8_800);
    let order_ref = paid["order"]["orderRef"].as_str().unwrap();
    let codepay = gateway
        .requests()
        .into_iter()
        .find(|r| r.path == "/v3/pay/transactions/codepay")
        .expect("the code was charged");
    let codepay: Value = serde_json::from_str(&codepay.body).unwrap();
    assert_eq!(codepay["payer"]["auth_code"], WECHAT_CODE);
    let code_trade = paid["charge"]["chargeRef"].as_str().unwrap();
    assert_eq!(codepay["out_trade_no"], code_trade);
    assert!(
        code_trade.ends_with("_C"),
        "a payment-code trade: {code_trade}"
    );
    // A later poll of the same trade records nothing twice.
    stdout(&shopcast(data, &["payments", "watch", "--once"]));
    let payments: Value =
        serde_json::from_str(&stdout(&shopcast(data, &["payments", "list", "--json"]))).unwrap();
    let for_order = payments
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["orderRef"] == order_ref)
        .count();
    assert_eq!(for_order, 1);
    // And one event in the ledger for that trade, not a second from the poll's query.
    let events = tool(
        "sqlite3",
        &[
            data.join("shopcast.sqlite").to_str().unwrap(),
            &format!("SELECT event_id FROM payment_events WHERE event_id LIKE '%{code_trade}%'"),
        ],
    );
    assert_eq!(
        events.trim(),
        format!("query:{code_trade}:SUCCESS"),
        "one event, under the id a query gives"
    );

    // The customer confirms on the phone after a while: the run waits, then says paid.
    const SLOW_CODE: &str = "104567890123456789";
    gateway.set_code(
        SLOW_CODE,
        CodeBehaviour::UserPaying {
            confirm_after_queries: 2,
        },
    );
    let selling = Selling::start(
        data,
        &[
            "--amount",
            "5",
            "--method",
            "wechat-code",
            "--auth-code",
            SLOW_CODE,
            "--json",
        ],
    );
    let started = selling.next_json(Duration::from_secs(30));
    assert_eq!(started["waiting"], true);
    assert_eq!(started["payment"], Value::Null);
    let ended = selling.next_json(Duration::from_secs(30));
    assert_eq!(ended["order"]["status"], "paid");
    assert_eq!(ended["payment"]["amount"]["amountMinor"], 500);
    let (ok, stderr) = selling.finish();
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("waiting for the customer to confirm…"),
        "{stderr}"
    );

    // The other provider's code for the method: refused in words, nothing charged or made.
    let orders_before = orders_in_shop(data);
    let codes_charged = || {
        gateway
            .requests()
            .iter()
            .filter(|r| r.path == "/v3/pay/transactions/codepay")
            .count()
    };
    let charged_before = codes_charged();
    for (method, code, whose) in [
        ("alipay-code", WECHAT_CODE, "WeChat"),
        ("wechat-code", ALIPAY_CODE, "Alipay"),
    ] {
        let reason = failure(&sell(
            data,
            &["--sku", "A", "--method", method, "--auth-code", code],
        ));
        assert!(
            reason.starts_with("error[validation]: ") && reason.contains(whose),
            "{method} {code}: {reason}"
        );
    }
    assert_eq!(orders_in_shop(data), orders_before);
    assert_eq!(codes_charged(), charged_before);
}

/// A customer who never confirms on the phone: after the engine's wait (60 s) the trade is
/// reversed, the run says so and fails, and no payment exists.
#[tokio::test(flavor = "multi_thread")]
async fn a_payment_code_never_confirmed_is_reversed_and_the_sale_fails() {
    let gateway = WechatGateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    tea_shop(data);
    stdout(&add_wechat(data, &gateway, &gateway.apiv3_key));
    gateway.set_code(WECHAT_CODE, CodeBehaviour::NeverConfirms);
    let selling = Selling::start(
        data,
        &[
            "--sku",
            "A",
            "--method",
            "wechat-code",
            "--auth-code",
            WECHAT_CODE,
            "--json",
        ],
    );
    let started = selling.next_json(Duration::from_secs(30));
    assert_eq!(started["waiting"], true);
    let trade_no = started["charge"]["chargeRef"].as_str().unwrap().to_string();
    let ended = selling.next_json(Duration::from_secs(120));
    assert_eq!(ended["order"]["status"], "expired");
    // The ledger may keep the withdrawn trade as an expired payment; never a paid one.
    assert!(
        ended["payment"].is_null() || ended["payment"]["status"] == "expired",
        "{ended}"
    );
    let (ok, stderr) = selling.finish();
    assert!(!ok);
    assert!(
        stderr.contains("waiting for the customer to confirm…"),
        "{stderr}"
    );
    let reason: Value = serde_json::from_str(stderr.trim().lines().last().unwrap()).unwrap();
    assert_eq!(reason["error"]["code"], "cancelled", "{stderr}");
    assert!(
        reason["error"]["message"]
            .as_str()
            .unwrap()
            .contains("withdrew"),
        "{stderr}"
    );
    let trade = gateway.trade(&trade_no).expect("the trade");
    assert!(trade.reversed, "{trade:?}");
    let paid = stdout(&shopcast(
        data,
        &["payments", "list", "--json", "--status", "paid"],
    ));
    assert_eq!(paid.trim(), "[]");
    assert_eq!(stock(data), [("A".into(), 10), ("B".into(), 5)]);
}

/// The key flags for `gateway`, its PEM files written under `data/keys`.
fn key_args(data: &Path, gateway: &WechatGateway) -> Vec<String> {
    let keys = data.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (private, public) = key_files(&keys, gateway);
    vec![
        "--private-key".into(),
        private,
        "--wechatpay-public-key".into(),
        public,
        "--wechatpay-public-key-id".into(),
        gateway.public_key_id.clone(),
    ]
}

/// Ctrl-C/SIGTERM while the payment code is still being sent: the run lets the charge
/// finish, then cancels the order and reverses the code, so nothing is left chargeable.
#[tokio::test(flavor = "multi_thread")]
async fn stopped_while_the_code_is_sent_the_code_is_reversed_and_the_order_cancelled() {
    let gateway = WechatGateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    tea_shop(data);
    stdout(&add_wechat(data, &gateway, &gateway.apiv3_key));
    gateway.set_code(WECHAT_CODE, CodeBehaviour::NeverConfirms);
    gateway.fail_next(shopcast_testkit::Fault::Slow { millis: 2_000 }, 1);
    let before = gateway.requests().len();
    let selling = Selling::start(
        data,
        &[
            "--sku",
            "A",
            "--method",
            "wechat-code",
            "--auth-code",
            WECHAT_CODE,
            "--json",
        ],
    );
    // The code has reached WeChat Pay; its answer is held back.
    let sent = tokio::time::Instant::now();
    let trade_no = loop {
        let codepay = gateway.requests()[before..]
            .iter()
            .find(|r| r.path.ends_with("/codepay"))
            .map(|r| serde_json::from_str::<Value>(&r.body).unwrap());
        if let Some(body) = codepay {
            break body["out_trade_no"].as_str().unwrap().to_string();
        }
        assert!(sent.elapsed() < Duration::from_secs(60), "no codepay sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tool("kill", &["-TERM", &selling.child.id().to_string()]);
    let (ok, stderr) = selling.finish();
    assert!(!ok);
    let reason: Value = serde_json::from_str(stderr.trim().lines().last().unwrap()).unwrap();
    assert_eq!(reason["error"]["code"], "cancelled", "{stderr}");
    let trade = gateway.trade(&trade_no).expect("the trade");
    assert!(trade.reversed, "{trade:?}");
    let db = data.join("shopcast.sqlite");
    let status = tool(
        "sqlite3",
        &[
            db.to_str().unwrap(),
            "SELECT status FROM orders ORDER BY id DESC LIMIT 1",
        ],
    );
    assert_eq!(status.trim(), "cancelled");
}
