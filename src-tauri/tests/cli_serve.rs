//! `shopcast serve`: the real binary on a temp shop serves the shop page, saves its public
//! address, takes a test-mode Buy through to a recorded sale, refuses bad flags and busy ports.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod support;

use serde_json::Value;
use support::{print_signs, shop_with_products, shopcast, shopcast_command, stdout};

/// A port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The lines `reader` gives, as they arrive.
fn lines_of(reader: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    lines
}

/// `shopcast serve <args>` running, with its stdout and stderr lines as they arrive.
fn serve(
    data_dir: &Path,
    args: &[&str],
) -> (Child, mpsc::Receiver<String>, mpsc::Receiver<String>) {
    let mut child = shopcast_command(data_dir)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines_of(child.stdout.take().unwrap());
    let err = lines_of(child.stderr.take().unwrap());
    (child, out, err)
}

/// The next stdout line, waiting as long as a cold start may take.
fn next_line(lines: &mpsc::Receiver<String>) -> String {
    lines
        .recv_timeout(Duration::from_secs(30))
        .expect("serve printed a line")
}

/// Asks the server to stop as a service manager does, and waits for a clean exit.
fn terminate(mut child: Child, lines: &mpsc::Receiver<String>) {
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "SIGTERM is a clean stop: {status}");
    assert_eq!(next_line(lines), "shop page stopped");
}

/// The hidden fields of the page's Buy form, as a browser would send them back.
fn buy_form_fields(page: &str) -> Vec<(String, String)> {
    let form = &page[page.find(r#"<form class="buy""#).expect("a Buy form")..];
    let form = &form[..form.find("</form>").unwrap()];
    form.split("<input ")
        .skip(1)
        .filter(|input| input.starts_with(r#"type="hidden""#))
        .map(|input| {
            let attr = |name: &str| {
                let marker = format!(r#"{name}=""#);
                let start = input.find(&marker).unwrap() + marker.len();
                let end = input[start..].find('"').unwrap();
                input[start..start + end].replace("&amp;", "&")
            };
            (attr("name"), attr("value"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_product_pages_saves_the_public_url_and_sells_in_test_mode() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    shop_with_products(data, "TEA-1,龙井绿茶,Spring tea,88,CNY,12,\n");
    stdout(&shopcast(
        data,
        &["settings", "set", "shop.buy_link_base", ""],
    ));
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let public = format!("http://127.0.0.1:{port}/");

    // Test mode is on for a new shop: the shop page takes its payments.
    let (child, lines, _) = serve(data, &["--listen", &listen, "--public-url", &public]);
    let public = public.trim_end_matches('/');
    assert_eq!(
        next_line(&lines),
        format!("saved shop.public_url = {public}")
    );
    assert_eq!(
        next_line(&lines),
        format!("shop page listening on http://{listen}")
    );
    assert_eq!(next_line(&lines), format!("public address: {public}"));
    let saved = stdout(&shopcast(data, &["settings", "get", "shop.public_url"]));
    assert_eq!(saved.trim(), public);

    // With no buy-link base typed, a sign printed now carries this server's address.
    let (batch, codes) = print_signs(data, &["--sku", "TEA-1"]);
    let link = format!("{public}/p/TEA-1?src=qr&sign={batch}");
    assert!(
        !codes.is_empty() && codes.iter().all(|c| *c == link),
        "{codes:?}"
    );

    // A phone scans it: the product page, then Buy.
    let http = shopcast_payments::http::client();
    let page = http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("龙井绿茶"), "{page}");
    let missing = http
        .get(format!("{public}/p/NO-SUCH"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Buy → the test checkout mounted on the shop page → Pay → the sale, from its sign.
    let mut form = buy_form_fields(&page);
    form.push(("quantity".into(), "2".into()));
    let checkout = http
        .post(format!("{public}/p/TEA-1/buy"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let pay_url = checkout.url().to_string();
    assert!(pay_url.starts_with(&format!("{public}/pay/")), "{pay_url}");
    let checkout = checkout.text().await.unwrap();
    let token = checkout
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the checkout's form token");
    let paid = http
        .post(format!("{pay_url}/pay"))
        .form(&[("csrf", token)])
        .send()
        .await
        .unwrap();
    assert!(paid.status().is_success(), "{}", paid.status());

    let mut sale = Value::Null;
    for _ in 0..100 {
        let listed: Value = serde_json::from_str(&stdout(&shopcast(
            data,
            &["payments", "list", "--json", "--status", "paid"],
        )))
        .unwrap();
        if let Some(first) = listed.as_array().and_then(|rows| rows.first()) {
            sale = first.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sale["channel"], "signage", "{sale}");
    assert_eq!(sale["sourceRef"], batch.as_str());
    assert_eq!(sale["amount"]["amountMinor"], 17_600);
    assert_eq!(sale["test"], true);

    terminate(child, &lines);
}

#[test]
fn bad_flags_are_refused_with_a_reason_and_save_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    for (args, expected) in [
        (
            vec!["--listen", "localhost"],
            "error[validation]: --listen localhost is not an address and port such as 127.0.0.1:8080",
        ),
        (
            vec!["--listen", "0.0.0.0:8080"],
            "error[validation]: --listen 0.0.0.0:8080 listens on every network",
        ),
        (
            vec!["--listen", "[::]:8080"],
            "error[validation]: --listen [::]:8080 listens on every network",
        ),
        (
            vec![
                "--listen",
                "0.0.0.0:8080",
                "--public-url",
                "https://shop.example.com",
                "--trust-proxy",
            ],
            "error[validation]: --trust-proxy needs --listen on 127.0.0.1 or [::1]",
        ),
        (
            vec!["--public-url", "http://shop.example.com"],
            "error[validation]: “http://shop.example.com” cannot be the shop page's public address: plain http://",
        ),
        (
            vec!["--public-url", "https://shop.example.com/p/"],
            "error[validation]: “https://shop.example.com/p/” cannot be the shop page's public address",
        ),
    ] {
        let mut all = vec!["serve"];
        all.extend(&args);
        let run = shopcast(data, &all);
        assert!(!run.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(stderr.starts_with(expected), "{args:?}: {stderr}");
    }
    let saved = stdout(&shopcast(data, &["settings", "get", "shop.public_url"]));
    assert_eq!(saved.trim(), "", "a refused address is not saved");
}

#[test]
fn every_network_is_fine_once_a_public_address_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    stdout(&shopcast(
        data,
        &[
            "settings",
            "set",
            "shop.public_url",
            "https://shop.example.com",
        ],
    ));
    let listen = format!("0.0.0.0:{}", free_port());
    let (child, lines, _) = serve(data, &["--listen", &listen]);
    assert_eq!(
        next_line(&lines),
        format!("shop page listening on http://{listen}")
    );
    assert_eq!(
        next_line(&lines),
        "public address: https://shop.example.com"
    );
    terminate(child, &lines);

    // Emptied by --public-url "": no address to put in links again.
    let run = shopcast(data, &["serve", "--listen", &listen, "--public-url", ""]);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("listens on every network"), "{stderr}");
    let saved = stdout(&shopcast(data, &["settings", "get", "shop.public_url"]));
    assert_eq!(saved.trim(), "https://shop.example.com", "nothing changed");
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let run = shopcast(dir.path(), &["serve", "--listen", &listen]);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        stderr.trim().lines().last().unwrap_or_default(),
        format!(
            "error[io]: The shop page could not listen on {listen}: another program is using this port: stop it or choose another port."
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_provider_the_pages_show_and_buy_says_it_cannot_take_payments() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    shop_with_products(data, "TEA-1,龙井绿茶,Spring tea,88,CNY,12,\n");
    stdout(&shopcast(data, &["providers", "remove", "test"]));
    let listen = format!("127.0.0.1:{}", free_port());
    let (child, lines, errors) = serve(data, &["--listen", &listen]);
    let warned = (0..10)
        .filter_map(|_| errors.recv_timeout(Duration::from_secs(30)).ok())
        .find(|line| line.starts_with("shopcast: no payment provider is set up"));
    assert!(warned.is_some(), "serve says why Buy cannot work yet");
    assert_eq!(
        next_line(&lines),
        format!("shop page listening on http://{listen}")
    );
    // No saved address: links point at where it listens.
    assert_eq!(
        next_line(&lines),
        format!("public address: http://{listen}")
    );

    let http = shopcast_payments::http::client();
    let page = http
        .get(format!("http://{listen}/p/TEA-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let mut form = buy_form_fields(&page);
    form.push(("quantity".into(), "1".into()));
    let refused = http
        .post(format!("http://{listen}/p/TEA-1/buy"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    let listed = stdout(&shopcast(data, &["payments", "list", "--json"]));
    assert_eq!(listed.trim(), "[]", "nothing was charged");
    terminate(child, &lines);
}
