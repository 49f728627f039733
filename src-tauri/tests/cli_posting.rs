//! `shopcast accounts` / `post` / `posts` against the reference Bluesky PDS (started from
//! tests/peers/pds): a real post read back from the PDS, and the process killed between
//! "sent" and "stored" — the retry (once the dead sender's lease ended) finds the post instead
//! of making a second one; two `posts send` at once, with mastodon-mock too: each post once.

#[path = "../../crates/social/tests/mastodon/mock.rs"]
#[allow(dead_code)]
mod mastodon_mock;
#[path = "../../crates/social/tests/bluesky/pds.rs"]
#[allow(dead_code)]
mod pds;

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::{shop_with_products, shopcast_command};

fn shopcast(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = shopcast_command(data_dir);
    command.args(args).envs(env.iter().copied());
    command.output().expect("shopcast runs")
}

/// `shopcast accounts add bluesky` for `account` on the test PDS.
fn add_bluesky(data_dir: &Path, pds: &pds::Pds, account: &pds::Account, password: &str) -> Output {
    shopcast(
        data_dir,
        &[
            "accounts",
            "add",
            "bluesky",
            "--service",
            &pds.url,
            "--handle",
            &account.handle,
        ],
        &[("SHOPCAST_APP_PASSWORD", password)],
    )
}

/// Lets the claims' leases end, as ten minutes would (the sqlite3 shell, from scripts/setup.sh).
fn expire_leases(data_dir: &Path) {
    let status = Command::new("sqlite3")
        .arg(data_dir.join("shopcast.sqlite"))
        .arg("UPDATE posts SET lease_expires_at = 0 WHERE status = 'sending';")
        .status()
        .expect("sqlite3 runs");
    assert!(status.success());
}

fn ok(output: Output) -> String {
    support::stdout(&output)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_survives_a_kill_between_sent_and_stored_without_a_duplicate() {
    let pds = pds::Pds::start();
    let account = pds.create_account("teashop.test").await;
    let app_password = pds.create_app_password(&account, "shopcast").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    shop_with_products(data, "CUP-1,青花瓷杯 🍵,,88.00,CNY,3,茶\n");
    let connected = ok(add_bluesky(data, &pds, &account, &app_password));
    assert!(connected.contains("teashop.test"), "{connected}");
    // The app password is only in the 0600 secrets file.
    let db = std::fs::read(data.join("shopcast.sqlite")).unwrap();
    assert!(
        !db.windows(app_password.len())
            .any(|w| w == app_password.as_bytes())
    );

    // Killed right after the PDS accepted the post, before the answer was stored.
    let killed = shopcast(
        data,
        &[
            "post",
            "--sku",
            "CUP-1",
            "--account",
            "1",
            "--text",
            "{name} {price} {link} {tags}",
        ],
        &[("SHOPCAST_FAULT", "after_publish")],
    );
    assert!(
        !killed.status.success(),
        "the fault hook aborts the process"
    );
    assert_eq!(
        pds.posts(&account.did).await.len(),
        1,
        "the PDS has the post"
    );
    let listed: serde_json::Value =
        serde_json::from_str(&ok(shopcast(data, &["posts", "list", "--json"], &[]))).unwrap();
    assert_eq!(
        listed[0]["status"], "sending",
        "the answer was never stored"
    );
    // The dead sender's claim still has its lease: nobody sends the post meanwhile.
    assert_eq!(ok(shopcast(data, &["posts", "send"], &[])), "");
    assert_eq!(pds.posts(&account.did).await.len(), 1);
    expire_leases(data);

    // The retry (same idempotency key → same record key) finds the post; still one post.
    let sent = ok(shopcast(data, &["posts", "send"], &[]));
    let (uri, url) = sent.trim().split_once('\t').expect("uri and url");
    assert!(
        uri.starts_with(&format!("at://{}/app.bsky.feed.post/", account.did)),
        "{sent}"
    );
    assert!(
        url.starts_with("https://bsky.app/profile/teashop.test/post/"),
        "{sent}"
    );
    let posts = pds.posts(&account.did).await;
    assert_eq!(posts.len(), 1, "no duplicate: {posts:?}");
    let text = posts[0]["value"]["text"].as_str().unwrap();
    let post_id = listed[0]["id"].as_i64().unwrap();
    assert!(
        text.contains(&format!(
            "https://shop.example.com/p/CUP-1?src=post&post={post_id}"
        )),
        "{text}"
    );
    assert!(text.starts_with("青花瓷杯 🍵 ¥88.00"), "{text}");

    // A normal post prints its URI and URL; a second post is a second record.
    let printed = ok(shopcast(
        data,
        &["post", "--sku", "CUP-1", "--account", "1"],
        &[],
    ));
    assert!(printed.starts_with("at://"), "{printed}");
    assert_eq!(pds.posts(&account.did).await.len(), 2);
    // A wrong app password is refused and nothing is stored.
    let refused = add_bluesky(data, &pds, &account, "wrong-pass-word");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("reconnect"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

/// Products posted on both accounts in the two-sender race (20: one page of an account's
/// statuses on Mastodon, so all are read back at once).
const PRODUCTS: usize = 20;

#[tokio::test(flavor = "multi_thread")]
async fn two_senders_at_once_publish_each_post_once_on_each_network() {
    two_senders_race(PRODUCTS, true).await;
}

/// 50 posts to the real PDS from two senders at once (on the shared PostgreSQL database in
/// scripts/test.sh's server run): exactly one record each.
#[tokio::test(flavor = "multi_thread")]
async fn two_senders_at_once_make_one_bluesky_record_for_each_of_50_posts() {
    two_senders_race(50, false).await;
}

/// `products` products posted to Bluesky (and Mastodon, `with_mastodon`) by two `posts send`
/// started at the same moment: each post sent once, by one of them.
async fn two_senders_race(products: usize, with_mastodon: bool) {
    let pds = pds::Pds::start();
    let mastodon = mastodon_mock::MastodonMock::start().await;
    let bluesky = pds.create_account("teashop.test").await;
    let app_password = pds.create_app_password(&bluesky, "shopcast").await;
    let toots = mastodon.create_account("teashop").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // Enough due posts that the second sender starts long before the first could finish.
    let skus: Vec<String> = (1..=products).map(|n| format!("TEA-{n:02}")).collect();
    let rows: String = skus
        .iter()
        .map(|sku| format!("{sku},龙井 {sku},,120.00,CNY,9,茶\n"))
        .collect();
    shop_with_products(data, &rows);
    ok(add_bluesky(data, &pds, &bluesky, &app_password));
    if with_mastodon {
        ok(shopcast(
            data,
            &["accounts", "add", "mastodon", "--instance", mastodon.base()],
            &[("SHOPCAST_ACCESS_TOKEN", &toots.token)],
        ));
    }
    // Every product on every account, all due (their time has passed), none sent yet.
    let accounts: usize = if with_mastodon { 2 } else { 1 };
    for sku in &skus {
        let mut args = vec!["post", "--sku", sku, "--account", "1"];
        if with_mastodon {
            args.extend(["--account", "2"]);
        }
        args.extend(["--at", "2020-01-01 09:00"]);
        ok(shopcast(data, &args, &[]));
    }
    // Two senders at the same moment on the same shop file.
    let spawn = || {
        shopcast_command(data)
            .args(["posts", "send"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("shopcast runs")
    };
    let (first, second) = (spawn(), spawn());
    let per_sender: Vec<Vec<String>> = [first, second]
        .into_iter()
        .map(|child| {
            ok(child.wait_with_output().unwrap())
                .lines()
                .map(str::to_string)
                .collect()
        })
        .collect();
    // Both sent some: they really ran at the same time, so "once each" was tested.
    assert!(
        per_sender.iter().all(|sent| !sent.is_empty()),
        "one sender did all the work, the race was not run: {:?}",
        per_sender.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let printed = per_sender.concat();
    let mut distinct = printed.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        (printed.len(), distinct.len()),
        (accounts * products, accounts * products),
        "each post sent by one of the two: {printed:#?}"
    );
    assert_eq!(pds.posts(&bluesky.did).await.len(), products, "records");
    if with_mastodon {
        assert_eq!(
            mastodon.statuses_of(&toots).await.len(),
            products,
            "statuses"
        );
    }
    let listed: serde_json::Value =
        serde_json::from_str(&ok(shopcast(data, &["posts", "list", "--json"], &[]))).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), accounts * products);
    for post in listed {
        assert_eq!(
            (post["status"].as_str(), post["attempts"].as_i64()),
            (Some("posted"), Some(1)),
            "claimed once: {post}"
        );
    }
}
