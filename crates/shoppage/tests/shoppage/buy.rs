//! Buying: never on GET, only with a fresh form token of this server, within the per-client
//! limit; then the test checkout, the receipt and its share links.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use shopcast_shoppage::ShopPageLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{buy, field, http, location, order_count, page_text, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_gets_create_no_order() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let client = http();
    let paths = [
        "/p/TEA-1?src=post&post=1",
        "/p/TEA-1/buy",
        "/",
        "/p/SOLD-1?src=qr&sign=S1A2B3C4",
        "/r/0123456789abcdef0123456789abcdef",
    ];
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let client = client.clone();
        let base = fixture.base.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..625 {
                let path = paths[(worker + i) % paths.len()];
                let reply = client.get(format!("{base}{path}")).send().await.unwrap();
                assert!(
                    [200, 404, 405].contains(&reply.status().as_u16()),
                    "{path}: {}",
                    reply.status()
                );
                let _ = reply.bytes().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    eprintln!("10,000 GETs in {:?}", started.elapsed());
    // HEAD (link previewers) neither.
    let head = client
        .head(format!("{}/p/TEA-1", fixture.base))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        order_count(&fixture.shop).await,
        0,
        "a GET created an order"
    );
    assert_eq!(fixture.page.status().requests, 10_001);
}

#[tokio::test]
async fn buying_needs_a_fresh_form_token_of_this_server() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let base = &fixture.base;
    let client = http();
    let page = page_text(&client, format!("{base}/p/TEA-1")).await;
    let token = field(&page, "csrf").unwrap();
    // Another server's key: its tokens look right and are worth nothing here.
    let other = crate::serve(&fixture.shop, ShopPageLimits::default()).await;
    let foreign_page = page_text(&client, format!("http://{}/p/TEA-1", other.addr)).await;
    let foreign = field(&foreign_page, "csrf").unwrap();
    let forged: Vec<Vec<(&str, String)>> = vec![
        vec![],
        vec![("csrf", String::new())],
        vec![("csrf", format!("{token}0"))],
        vec![("csrf", "1.".to_string() + &"ab".repeat(32))],
        vec![("csrf", foreign)],
    ];
    for form in &forged {
        let reply = client
            .post(format!("{base}/p/TEA-1/buy"))
            .form(form)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 403, "{form:?}");
        assert!(
            reply
                .text()
                .await
                .unwrap()
                .contains("did not come from this shop")
        );
    }
    // The token of one product does not buy another.
    let reply = client
        .post(format!("{base}/p/SOLD-1/buy"))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 403);
    // A quantity out of range is refused before the token is used up.
    for quantity in ["0", "100", "-1", "x"] {
        let reply = client
            .post(format!("{base}/p/TEA-1/buy"))
            .form(&[("csrf", token.as_str()), ("quantity", quantity)])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 400, "{quantity}");
    }
    assert_eq!(order_count(&fixture.shop).await, 0, "a forged form bought");
    let good = client
        .post(format!("{base}/p/TEA-1/buy"))
        .form(&[("csrf", token.as_str()), ("quantity", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 303);
    assert!(location(&good).starts_with("/pay/"), "{}", location(&good));
    // The same form again (a double tap, a replay): refused, still one order.
    let replay = client
        .post(format!("{base}/p/TEA-1/buy"))
        .form(&[("csrf", token.as_str()), ("quantity", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 403);
    assert_eq!(order_count(&fixture.shop).await, 1);
    assert_eq!(fixture.shop.order(1).await.unwrap().lines[0].quantity, 2);
}

#[tokio::test]
async fn a_kept_page_gives_every_visitor_their_own_token_and_the_links_own_tag() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let base = &fixture.base;
    let client = http();
    // Within a second the page is the kept copy: still a token each, each good once.
    let first = page_text(&client, format!("{base}/p/TEA-1?src=post&post=7")).await;
    let second = page_text(&client, format!("{base}/p/TEA-1?src=post&post=7")).await;
    let other_link = page_text(&client, format!("{base}/p/TEA-1?src=qr&sign=S1")).await;
    let tokens: Vec<String> = [&first, &second, &other_link]
        .iter()
        .map(|page| field(page, "csrf").unwrap())
        .collect();
    assert_ne!(tokens[0], tokens[1]);
    assert_ne!(tokens[1], tokens[2]);
    assert!(!first.contains("SHOPCASTFORMTOKENSLOT"));
    assert_eq!(field(&second, "post").as_deref(), Some("7"));
    assert_eq!(field(&other_link, "sign").as_deref(), Some("S1"));
    assert_eq!(
        field(&other_link, "post"),
        None,
        "another link's tag leaked"
    );
    for token in &tokens[..2] {
        let reply = client
            .post(format!("{base}/p/TEA-1/buy"))
            .form(&[("csrf", token.as_str()), ("src", "post"), ("post", "7")])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 303);
    }
    assert_eq!(order_count(&fixture.shop).await, 2);
}

#[tokio::test]
async fn a_body_over_the_cap_gets_413_and_creates_nothing() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let client = http();
    let page = page_text(&client, format!("{}/p/TEA-1", fixture.base)).await;
    let token = field(&page, "csrf").unwrap();
    let big = format!("csrf={token}&quantity=1&pad={}", "a".repeat(100_000));
    let reply = client
        .post(format!("{}/p/TEA-1/buy", fixture.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 413);
    // Chunked, with no length announced: cut off at the cap too.
    let mut socket = tokio::net::TcpStream::connect(fixture.page.addr)
        .await
        .unwrap();
    socket
        .write_all(b"POST /p/TEA-1/buy HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    for chunk in big.as_bytes().chunks(1_000) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if socket.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    let mut head = vec![0u8; 12];
    socket.read_exact(&mut head).await.unwrap();
    assert_eq!(&head[9..12], b"413", "{}", String::from_utf8_lossy(&head));
    assert_eq!(order_count(&fixture.shop).await, 0);
    // The token was good: the form without the padding buys.
    let bought = client
        .post(format!("{}/p/TEA-1/buy", fixture.base))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(bought.status(), 303);
    assert_eq!(order_count(&fixture.shop).await, 1);
}

/// A client whose connections come from the loopback address `source`.
fn client_from(source: [u8; 4]) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::from(source))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_buys_from_fifty_clients_create_what_the_limit_allows_once_each() {
    // The default burst; refilled once a minute so a slow run cannot earn an extra one.
    let limits = ShopPageLimits {
        orders_per_minute: 1,
        ..Default::default()
    };
    let burst = limits.orders_burst as usize;
    let fixture = start("en", limits).await;
    // Each client first loads ten product pages (ten live tokens) …
    let mut clients = Vec::new();
    for n in 0..50u8 {
        let client = client_from([127, 0, 0, 2 + n]);
        let mut tokens = Vec::new();
        for _ in 0..10 {
            let page =
                page_text(&client, format!("{}/p/TEA-1?src=post&post=7", fixture.base)).await;
            tokens.push(field(&page, "csrf").unwrap());
        }
        clients.push((client, tokens));
    }
    // … then all 500 Buys go at once.
    let mut tasks = Vec::new();
    for (client, tokens) in clients {
        for token in tokens {
            let client = client.clone();
            let url = format!("{}/p/TEA-1/buy", fixture.base);
            tasks.push(tokio::spawn(async move {
                let reply = client
                    .post(url)
                    .form(&[("csrf", token.as_str()), ("src", "post"), ("post", "7")])
                    .send()
                    .await
                    .unwrap();
                (reply.status().as_u16(), location(&reply))
            }));
        }
    }
    let mut bought = HashSet::new();
    let mut slowed = 0;
    for task in tasks {
        match task.await.unwrap() {
            (303, to) => assert!(bought.insert(to), "one checkout for two Buys"),
            (429, _) => slowed += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(bought.len(), 50 * burst, "{slowed} slowed down");
    assert_eq!(slowed, 500 - 50 * burst);
    assert_eq!(order_count(&fixture.shop).await, (50 * burst) as i64);
}

/// Pays the test checkout at `pay_path` as the buyer would and returns where it sends them.
async fn pay(client: &reqwest::Client, base: &str, pay_path: &str) -> String {
    let checkout = page_text(client, format!("{base}{pay_path}")).await;
    let token = field(&checkout, "csrf").expect("the checkout's form token");
    // Styled by a file, so the shop page's CSP (style-src 'self') lets it show as designed.
    assert!(
        checkout.contains(r#"<link rel="stylesheet" href="/pay/assets/checkout.css">"#),
        "{checkout}"
    );
    assert!(!checkout.contains("<style"), "{checkout}");
    let css = client
        .get(format!("{base}/pay/assets/checkout.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let paid = client
        .post(format!("{base}{pay_path}/pay"))
        .form(&[("csrf", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 303, "{}", paid.text().await.unwrap());
    location(&paid)
}

#[tokio::test]
async fn a_paid_buyer_gets_a_receipt_with_share_links_and_nothing_of_other_orders() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let base = &fixture.base;
    let client = http();
    let first = buy(&client, base, "TEA-1", "?src=post&post=3").await;
    assert_eq!(first.status(), 303);
    let second = buy(&client, base, "TEA-1", "").await;
    let second_pay = location(&second);
    // The test checkout is mounted under the same address; paying goes back to the receipt.
    let receipt_path = pay(&client, base, &location(&first)).await;
    let receipt_path = receipt_path.trim_start_matches(base.as_str()).to_string();
    assert!(receipt_path.starts_with("/r/"), "{receipt_path}");
    // Unpaid until the watcher records the payment: the page refreshes itself.
    let mut html = String::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        let reply = client
            .get(format!("{base}{receipt_path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        assert_eq!(reply.headers()["cache-control"], "no-store");
        assert_eq!(reply.headers()["referrer-policy"], "no-referrer");
        html = reply.text().await.unwrap();
        if html.contains(r#"id="share-weibo""#) {
            break;
        }
        assert!(
            html.contains(r#"<meta http-equiv="refresh" content="3">"#),
            "{html}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(html.contains("Paid — thank you!"), "{html}");
    assert!(!html.contains("http-equiv=\"refresh\""), "{html}");
    let first_order = fixture.shop.order(1).await.unwrap();
    assert!(html.contains(&first_order.order_ref), "{html}");
    for id in [
        "share-weibo",
        "share-bluesky",
        "share-mastodon",
        "share-link",
    ] {
        assert!(html.contains(&format!(r#"id="{id}""#)), "{id}: {html}");
    }
    assert!(
        html.contains("https://service.weibo.com/share/share.php?"),
        "{html}"
    );
    assert!(
        html.contains("https://bsky.app/intent/compose?text="),
        "{html}"
    );
    assert!(html.contains("href=\"/share/mastodon?text="), "{html}");
    assert!(html.contains("src=share&amp;order="), "{html}");
    // Nothing of the other order, nothing of the charge behind it.
    let second_order = fixture.shop.order(2).await.unwrap();
    assert!(!html.contains(&second_order.order_ref), "{html}");
    assert!(
        !html.contains(second_pay.trim_start_matches("/pay/")),
        "{html}"
    );
    assert!(
        !html.contains(location(&first).trim_start_matches("/pay/")),
        "{html}"
    );
    // An unknown or malformed receipt: 404, uncached, no referrer.
    for token in ["0123456789abcdef0123456789abcdef", "x", "%3Cscript%3E"] {
        let reply = client
            .get(format!("{base}/r/{token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 404, "{token}");
        assert_eq!(reply.headers()["cache-control"], "no-store");
        assert_eq!(reply.headers()["referrer-policy"], "no-referrer");
        assert!(
            reply
                .text()
                .await
                .unwrap()
                .contains("There is no such receipt")
        );
    }
    // The product page shows no order at all.
    let product = page_text(&client, format!("{base}/p/TEA-1")).await;
    assert!(
        !product.contains(&first_order.order_ref) && !product.contains(&second_order.order_ref)
    );
}

#[tokio::test]
async fn a_client_from_another_address_is_not_slowed_by_a_flood() {
    let limits = ShopPageLimits {
        orders_burst: 2,
        ..Default::default()
    };
    let fixture = start("en", limits).await;
    let flood = client_from([127, 0, 0, 60]);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            buy(&flood, &fixture.base, "TEA-1", "")
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [303, 303, 429, 429]);
    let reply = buy(&client_from([127, 0, 0, 61]), &fixture.base, "TEA-1", "").await;
    assert_eq!(reply.status(), 303);
    assert!(reply.headers().get("retry-after").is_none());
}

/// A second shop page over `fixture`'s shop, as behind a reverse proxy (trusting
/// X-Forwarded-For): it and its base URL.
async fn behind_a_proxy(
    fixture: &crate::Fixture,
    limits: ShopPageLimits,
) -> (shopcast_shoppage::ShopPage, String) {
    let page = shopcast_shoppage::serve(
        fixture.shop.clone(),
        shopcast_shoppage::ShopPageOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: fixture.base.clone(),
            limits,
            trust_proxy: true,
        },
    )
    .await
    .unwrap();
    let base = format!("http://{}", page.addr);
    (page, base)
}

/// Buys TEA-1 from a fresh page, the proxy's X-Forwarded-For being `forwarded`.
async fn buy_forwarded(client: &reqwest::Client, base: &str, forwarded: &str) -> reqwest::Response {
    let html = page_text(client, format!("{base}/p/TEA-1")).await;
    let token = field(&html, "csrf").unwrap();
    client
        .post(format!("{base}/p/TEA-1/buy"))
        // What the client claims comes first; the proxy appends the address it saw.
        .header("x-forwarded-for", forwarded)
        .form(&[("csrf", token)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let limits = ShopPageLimits {
        orders_burst: 1,
        orders_per_minute: 1,
        ..Default::default()
    };
    let (_page, base) = behind_a_proxy(&fixture, limits).await;
    let client = http();
    let buy_as = async |forwarded: &str| {
        buy_forwarded(&client, &base, forwarded)
            .await
            .status()
            .as_u16()
    };
    assert_eq!(buy_as("203.0.113.1").await, 303);
    assert_eq!(buy_as("203.0.113.1").await, 429);
    // Another buyer behind the same proxy is not slowed down by the first …
    assert_eq!(buy_as("203.0.113.2").await, 303);
    // … and a client cannot pick its own address by sending the header itself.
    assert_eq!(buy_as("198.51.100.7, 203.0.113.1").await, 429);
}

#[tokio::test]
async fn many_addresses_together_stop_at_the_shop_wide_limit() {
    let fixture = start("en", ShopPageLimits::default()).await;
    let limits = ShopPageLimits {
        shop_orders_burst: 3,
        shop_orders_per_minute: 1,
        ..Default::default()
    };
    let (_page, base) = behind_a_proxy(&fixture, limits).await;
    let client = http();
    // Six /64s of one /48: six clients, each well within its own limit.
    let mut statuses = Vec::new();
    let mut last = String::new();
    for n in 0..6 {
        let reply = buy_forwarded(&client, &base, &format!("2001:db8:7:{n}::1")).await;
        statuses.push(reply.status().as_u16());
        if reply.status() == 429 {
            assert!(reply.headers().contains_key("retry-after"));
        }
        last = reply.text().await.unwrap();
    }
    assert_eq!(statuses, [303, 303, 303, 429, 429, 429]);
    assert!(
        last.contains("The shop is taking a great many orders"),
        "{last}"
    );
    assert_eq!(order_count(&fixture.shop).await, 3);
}
