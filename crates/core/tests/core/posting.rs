//! The posting room: accounts, sign-in, compose and the outbox.

#[path = "../../../social/tests/mastodon/mock.rs"]
#[allow(dead_code)]
mod mastodon_mock;

mod outbox {
    //! The posting outbox on real shop files, with a publisher that behaves as the networks do
    //! (idempotent on the post's key; scripted 429s and refusals). The real networks are tested
    //! in crates/social against their peers; this is the queue's logic: retries, Retry-After,
    //! schedules across DST, crash between "sent" and "stored", missed posts.

    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use async_trait::async_trait;
    use shopcast_core::posting::accounts::Account;
    use shopcast_core::posting::outbox::{CLAIM_LEASE, PublisherFactory};
    use shopcast_core::{ComposeRequest, Shop};
    use shopcast_social::{Network, NetworkLimits, PostRequest, Posted, PublishError, Publisher};

    use crate::{draft, shop_with};

    #[derive(Default)]
    struct Remote {
        /// idempotency key → post, as a network keeps them.
        posts: HashMap<String, Posted>,
        publishes: usize,
        /// Errors to answer before succeeding.
        script: Vec<PublishError>,
    }

    struct FakeNetwork(Arc<Mutex<Remote>>);

    #[async_trait]
    impl Publisher for FakeNetwork {
        fn network(&self) -> Network {
            Network::Bluesky
        }
        async fn limits(&self) -> Result<NetworkLimits, PublishError> {
            Ok(NetworkLimits {
                max_chars: 300,
                url_chars: None,
                max_images: 4,
                max_image_bytes: 1_000_000,
                max_image_side: 2_000,
            })
        }
        async fn publish(&self, request: &PostRequest) -> Result<Posted, PublishError> {
            let mut remote = self.0.lock().unwrap();
            remote.publishes += 1;
            if !remote.script.is_empty() {
                return Err(remote.script.remove(0));
            }
            let n = remote.posts.len() + 1;
            Ok(remote
                .posts
                .entry(request.idempotency_key.clone())
                .or_insert_with(|| Posted {
                    remote_id: format!("at://did:plc:x/app.bsky.feed.post/{n}"),
                    url: format!("https://bsky.app/profile/shop/post/{n}"),
                    raw: request.text.clone(),
                })
                .clone())
        }
    }

    struct Factory(Arc<Mutex<Remote>>);

    #[async_trait]
    impl PublisherFactory for Factory {
        async fn open(
            &self,
            _: &Account,
            credential: &str,
        ) -> Result<Arc<dyn Publisher>, PublishError> {
            if credential == "revoked" {
                return Err(PublishError::Reconnect {
                    network: "bluesky",
                    message: "AuthenticationRequired".into(),
                    raw: r#"{"error":"AuthenticationRequired"}"#.into(),
                });
            }
            Ok(Arc::new(FakeNetwork(self.0.clone())))
        }
    }

    async fn setup(timezone: &str) -> (Shop, tempfile::TempDir, Arc<Mutex<Remote>>, i64, i64) {
        unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
        let (shop, dir) = shop_with("CNY").await;
        shop.set_setting("shop.timezone", timezone).await.unwrap();
        let remote = Arc::new(Mutex::new(Remote::default()));
        shop.outbox().set_factory(Arc::new(Factory(remote.clone())));
        let account = shop
            .connect_account(
                Network::Bluesky,
                "http://127.0.0.1:1",
                "shop.example",
                "app-pass",
                serde_json::json!({}),
            )
            .await
            .unwrap();
        let mut cup = draft("青花瓷杯", "88");
        cup.sku = Some("CUP-1".into());
        cup.tags = vec!["茶".into(), "tea time".into()];
        let product = shop.create_product(&cup).await.unwrap().id;
        (shop, dir, remote, account.id, product)
    }

    /// One post of `product` on `account`, due now.
    async fn queue_now(
        shop: &Shop,
        product: i64,
        account: i64,
    ) -> shopcast_core::posting::outbox::Post {
        let request = ComposeRequest {
            product_id: product,
            account_ids: vec![account],
            ..Default::default()
        };
        shop.queue_posts(&request).await.unwrap().remove(0)
    }

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    #[tokio::test]
    async fn each_post_gets_its_own_tracked_link_and_is_sent_once() {
        let (shop, _dir, remote, account, product) = setup("Asia/Shanghai").await;
        let request = ComposeRequest {
            product_id: product,
            account_ids: vec![account],
            template: "{name} {price} {link} {tags}".into(),
            at: None,
        };
        let preview = shop.preview_post(&request).await.unwrap();
        assert_eq!(preview[0].max_length, 300);
        assert!(preview[0].problem.is_none());
        let posts = shop.queue_posts(&request).await.unwrap();
        let post = &posts[0];
        let link = format!("https://shop.example.com/p/CUP-1?src=post&post={}", post.id);
        assert_eq!(post.text, format!("青花瓷杯 ¥88.00 {link} #茶 #teatime"));
        assert_eq!(post.link.as_deref(), Some(link.as_str()));
        let sent = shop.outbox().run_due(jiff::Timestamp::now()).await.unwrap();
        assert_eq!(sent[0].status, "posted");
        assert!(
            sent[0]
                .url
                .as_deref()
                .unwrap()
                .starts_with("https://bsky.app/")
        );
        assert_eq!(remote.lock().unwrap().posts.len(), 1);
        // Nothing left to send.
        assert!(
            shop.outbox()
                .run_due(jiff::Timestamp::now())
                .await
                .unwrap()
                .is_empty()
        );
        let history = shop.post_history(Some(product), None).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(
            shop.post_history(None, Some(account)).await.unwrap().len(),
            1
        );

        // Too long for the network: refused before sending, with the reason.
        let long = ComposeRequest {
            template: "x".repeat(400),
            ..request.clone()
        };
        let preview = shop.preview_post(&long).await.unwrap();
        assert!(
            preview[0]
                .problem
                .as_deref()
                .unwrap()
                .contains("limit is 300"),
            "{preview:?}"
        );
        shop.queue_posts(&long).await.unwrap();
        let failed = shop.outbox().run_due(jiff::Timestamp::now()).await.unwrap();
        assert_eq!(
            (failed[0].status.as_str(), failed[0].error_code.as_deref()),
            ("failed", Some("post_invalid"))
        );
        assert_eq!(remote.lock().unwrap().publishes, 1, "never sent");
    }

    /// On the shop page products are found by SKU: a SKU-less product's post would link to
    /// `/p/<id>`, a 404 or another product whose SKU is that number.
    #[tokio::test]
    async fn on_the_shop_page_a_post_of_a_product_without_a_sku_is_refused() {
        let (shop, _dir, remote, account, _cup) = setup("Asia/Shanghai").await;
        shop.create_product(&draft("Teapot", "120")).await.unwrap();
        let mut bowl = draft("Bowl", "20");
        bowl.sku = Some("12".into());
        shop.create_product(&bowl).await.unwrap();
        let mut plate = shop.create_product(&draft("Plate", "30")).await.unwrap();
        while plate.id < 12 {
            plate = shop.create_product(&draft("Plate", "30")).await.unwrap();
        }
        let request = ComposeRequest {
            product_id: plate.id,
            account_ids: vec![account],
            ..Default::default()
        };
        // The owner's own base keeps the id.
        assert!(
            shop.preview_post(&request).await.unwrap()[0]
                .text
                .contains("https://shop.example.com/p/12?src=post&post=")
        );

        shop.set_setting("shop.buy_link_base", "").await.unwrap();
        shop.set_setting("shop.public_url", "https://shop.example.com")
            .await
            .unwrap();
        let sentence = "“Plate” has no SKU; the shop page sells products by SKU. Give it a SKU in the catalog.";
        let err = shop.preview_post(&request).await.unwrap_err();
        assert_eq!(
            (err.field(), err.to_string().as_str()),
            (Some("sku"), sentence)
        );
        let err = shop.queue_posts(&request).await.unwrap_err();
        assert_eq!(
            (err.field(), err.to_string().as_str()),
            (Some("sku"), sentence)
        );
        assert!(
            shop.post_history(Some(plate.id), None)
                .await
                .unwrap()
                .is_empty(),
            "nothing queued"
        );
        assert!(
            shop.outbox()
                .run_due(jiff::Timestamp::now())
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(remote.lock().unwrap().publishes, 0);
    }

    #[tokio::test]
    async fn a_429_is_retried_no_sooner_than_retry_after() {
        let (shop, _dir, remote, account, product) = setup("Asia/Shanghai").await;
        remote
            .lock()
            .unwrap()
            .script
            .push(PublishError::RateLimited {
                network: "bluesky",
                retry_after: Some(Duration::from_secs(30)),
            });
        queue_now(&shop, product, account).await;
        let now = jiff::Timestamp::now();
        let first = shop.outbox().run_due(now).await.unwrap();
        assert_eq!(first[0].status, "queued");
        assert_eq!(first[0].error_code.as_deref(), Some("network_rate_limited"));
        assert_eq!(first[0].next_attempt_at, now.as_millisecond() + 30_000);
        let later = |s: i64| now.checked_add(jiff::SignedDuration::from_secs(s)).unwrap();
        assert!(
            shop.outbox().run_due(later(29)).await.unwrap().is_empty(),
            "not before Retry-After"
        );
        let sent = shop.outbox().run_due(later(30)).await.unwrap();
        assert_eq!(sent[0].status, "posted");
        assert_eq!(sent[0].attempts, 2);
        assert_eq!(remote.lock().unwrap().posts.len(), 1);
    }

    /// Bluesky keeps one post per key: a send that got no answer is retried (and the retry
    /// finds the post rather than making a second).
    #[tokio::test]
    async fn a_bluesky_post_with_no_answer_is_retried() {
        let (shop, _dir, remote, account, product) = setup("Asia/Shanghai").await;
        remote.lock().unwrap().script.push(PublishError::NoAnswer {
            network: "bluesky",
            detail: "timed out".into(),
        });
        queue_now(&shop, product, account).await;
        let now = jiff::Timestamp::now();
        let first = shop.outbox().run_due(now).await.unwrap();
        assert_eq!(first[0].status, "queued");
        assert_eq!(first[0].error_code.as_deref(), Some("network_unreachable"));
        let later = now.checked_add(jiff::SignedDuration::from_mins(1)).unwrap();
        let sent = shop.outbox().run_due(later).await.unwrap();
        assert_eq!(sent[0].status, "posted");
        assert_eq!(remote.lock().unwrap().posts.len(), 1);
    }

    #[tokio::test]
    async fn scheduled_posts_fire_at_the_local_time_across_dst() {
        let (shop, _dir, remote, account, product) = setup("Europe/Berlin").await;
        for (local, utc) in [
            // 02:30 does not exist on 29 March in Berlin: it fires at 03:30 CEST.
            ("2026-03-29 02:30", "2026-03-29T01:30:00Z"),
            // 02:30 happens twice on 25 October: the first one (CEST).
            ("2026-10-25 02:30", "2026-10-25T00:30:00Z"),
            ("2026-10-26T09:00", "2026-10-26T08:00:00Z"),
        ] {
            let posts = shop
                .queue_posts(&ComposeRequest {
                    product_id: product,
                    account_ids: vec![account],
                    at: Some(local.into()),
                    ..Default::default()
                })
                .await
                .unwrap();
            let due = at(utc);
            assert_eq!(posts[0].scheduled_at, due.as_millisecond(), "{local}");
            let before = due.checked_sub(jiff::SignedDuration::from_secs(1)).unwrap();
            assert!(
                shop.outbox().run_due(before).await.unwrap().is_empty(),
                "{local} fired early"
            );
            assert_eq!(
                shop.outbox().run_due(due).await.unwrap()[0].status,
                "posted",
                "{local}"
            );
        }
        assert_eq!(remote.lock().unwrap().posts.len(), 3);
        let bad = shop
            .queue_posts(&ComposeRequest {
                product_id: product,
                account_ids: vec![account],
                at: Some("tomorrow-ish".into()),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(bad.field(), Some("at"));
    }

    #[tokio::test]
    async fn a_crash_between_sent_and_stored_is_retried_after_its_lease_without_a_duplicate() {
        let (shop, _dir, remote, account, product) = setup("Asia/Shanghai").await;
        let id = queue_now(&shop, product, account).await.id;
        // The network got the post, then the app died before storing the answer: the row is
        // still "sending" under the dead sender's claim (what the worker writes first).
        let now = jiff::Timestamp::now();
        shop.outbox().run_due(now).await.unwrap();
        let lease_ends = now.as_millisecond() + CLAIM_LEASE.as_millis() as i64;
        sqlx::query(
            "UPDATE posts SET status = 'sending', remote_id = NULL, url = NULL,
                 claimed_by = 'outbox-dead', lease_expires_at = $1 WHERE id = $2",
        )
        .bind(lease_ends)
        .bind(id)
        .execute(shop.pool())
        .await
        .unwrap();
        let before = now
            .checked_add(CLAIM_LEASE - Duration::from_secs(1))
            .unwrap();
        assert!(
            shop.outbox().run_due(before).await.unwrap().is_empty(),
            "not while the lease lasts"
        );
        let retried = shop
            .outbox()
            .run_due(now.checked_add(CLAIM_LEASE).unwrap())
            .await
            .unwrap();
        assert_eq!(retried[0].status, "posted");
        let remote = remote.lock().unwrap();
        assert_eq!(remote.publishes, 2, "published twice…");
        assert_eq!(remote.posts.len(), 1, "…but one post exists");
    }

    /// A network that holds each publish until the test lets it go, then answers `posted`
    /// (or refuses the post when there is none).
    #[derive(Clone, Default)]
    struct Held {
        keys: Arc<Mutex<Vec<String>>>,
        entered: Arc<tokio::sync::Notify>,
        release: Arc<tokio::sync::Notify>,
        posted: Option<Posted>,
    }

    #[async_trait]
    impl PublisherFactory for Held {
        async fn open(&self, _: &Account, _: &str) -> Result<Arc<dyn Publisher>, PublishError> {
            Ok(Arc::new(self.clone()))
        }
    }

    #[async_trait]
    impl Publisher for Held {
        fn network(&self) -> Network {
            Network::Bluesky
        }
        async fn limits(&self) -> Result<NetworkLimits, PublishError> {
            FakeNetwork(Default::default()).limits().await
        }
        async fn publish(&self, request: &PostRequest) -> Result<Posted, PublishError> {
            self.keys
                .lock()
                .unwrap()
                .push(request.idempotency_key.clone());
            self.entered.notify_one();
            self.release.notified().await;
            self.posted.clone().ok_or_else(|| PublishError::Rejected {
                network: "bluesky",
                code: "InvalidRequest".into(),
                message: "late refusal".into(),
                raw: "{}".into(),
            })
        }
    }

    #[tokio::test]
    async fn a_live_claim_is_left_alone_an_expired_one_is_taken_over_and_the_old_sender_ignored() {
        let (window, dir, _, account, product) = setup("Asia/Shanghai").await;
        let hung = Held::default();
        window.outbox().set_factory(Arc::new(hung.clone()));
        // `shopcast posts send` beside the window: a second Shop on the same file.
        let cli = crate::open_shop(dir.path()).await;
        let slow = Held {
            posted: Some(Posted {
                remote_id: "at://did:plc:x/app.bsky.feed.post/1".into(),
                url: "https://bsky.app/profile/shop/post/1".into(),
                raw: "{}".into(),
            }),
            ..Held::default()
        };
        cli.outbox().set_factory(Arc::new(slow.clone()));
        let post = queue_now(&window, product, account).await;
        let now = jiff::Timestamp::now();
        let later = move |d: Duration| now.checked_add(d).unwrap();
        let stored = |shop: &Shop| {
            let shop = shop.clone();
            async move { shop.post_history(None, None).await.unwrap().remove(0) }
        };
        let window_sending = tokio::spawn({
            let window = window.clone();
            async move { window.outbox().run_due(now).await }
        });
        hung.entered.notified().await;
        assert!(
            cli.outbox()
                .run_due(later(Duration::from_secs(60)))
                .await
                .unwrap()
                .is_empty(),
            "the window's live claim is left alone"
        );
        assert!(
            slow.keys.lock().unwrap().is_empty(),
            "nothing sent by the CLI"
        );
        // The window hangs past its lease: the CLI takes the post over, with the same key.
        let cli_sending = tokio::spawn({
            let cli = cli.clone();
            let at = later(CLAIM_LEASE);
            async move { cli.outbox().run_due(at).await }
        });
        slow.entered.notified().await;
        assert_eq!(
            *slow.keys.lock().unwrap(),
            *hung.keys.lock().unwrap(),
            "same key"
        );
        // The window's late refusal comes from a sender that lost its claim: ignored.
        hung.release.notify_one();
        window_sending.await.unwrap().unwrap();
        let now_stored = stored(&window).await;
        assert_eq!(
            (now_stored.status.as_str(), now_stored.error_code.as_deref()),
            ("sending", None),
            "still the CLI's: {now_stored:?}"
        );
        slow.release.notify_one();
        let taken = cli_sending.await.unwrap().unwrap();
        assert_eq!((taken.len(), taken[0].status.as_str()), (1, "posted"));
        let done = stored(&window).await;
        assert_eq!(
            (done.id, done.status.as_str(), done.attempts),
            (post.id, "posted", 2)
        );
        assert_eq!(done.error_code, None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_outboxes_on_one_file_send_each_post_once() {
        let (window, dir, remote, account, product) = setup("Asia/Shanghai").await;
        let cli = crate::open_shop(dir.path()).await;
        cli.outbox().set_factory(Arc::new(Factory(remote.clone())));
        for _ in 0..12 {
            queue_now(&window, product, account).await;
        }
        let now = jiff::Timestamp::now();
        let (a, b) = tokio::join!(window.outbox().run_due(now), cli.outbox().run_due(now));
        let (a, b) = (a.unwrap(), b.unwrap());
        let mut ids: Vec<i64> = a.iter().chain(&b).map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(
            (a.len() + b.len(), ids.len()),
            (12, 12),
            "each post by one sender"
        );
        assert_eq!(
            remote.lock().unwrap().publishes,
            12,
            "each post published once"
        );
        assert!(
            a.iter()
                .chain(&b)
                .all(|p| p.status == "posted" && p.attempts == 1)
        );
    }

    #[tokio::test]
    async fn refusals_stop_with_the_networks_words_and_revoked_accounts_ask_to_reconnect() {
        let (shop, _dir, remote, account, product) = setup("Asia/Shanghai").await;
        remote.lock().unwrap().script.push(PublishError::Rejected {
            network: "bluesky",
            code: "InvalidRequest".into(),
            message: "Invalid app.bsky.feed.post record".into(),
            raw: r#"{"error":"InvalidRequest"}"#.into(),
        });
        let request = ComposeRequest {
            product_id: product,
            account_ids: vec![account],
            ..Default::default()
        };
        shop.queue_posts(&request).await.unwrap();
        let failed = shop.outbox().run_due(jiff::Timestamp::now()).await.unwrap();
        assert_eq!(failed[0].status, "failed");
        assert!(
            failed[0]
                .error_message
                .as_deref()
                .unwrap()
                .contains("Invalid app.bsky.feed.post record")
        );
        assert_eq!(
            failed[0].error_raw.as_deref(),
            Some(r#"{"error":"InvalidRequest"}"#)
        );
        // A huge refusal (an HTML error page) is kept cut to 64 KiB, saying how long it was.
        remote.lock().unwrap().script.push(PublishError::Rejected {
            network: "bluesky",
            code: "InvalidRequest".into(),
            message: "refused".into(),
            raw: "<p>茶</p>".repeat(40_000),
        });
        queue_now(&shop, product, account).await;
        let huge = shop.outbox().run_due(jiff::Timestamp::now()).await.unwrap();
        let raw = huge[0].error_raw.as_deref().unwrap();
        assert!(raw.len() <= 64 * 1024 + 100, "{} bytes kept", raw.len());
        assert!(
            raw.starts_with("<p>茶</p>") && raw.ends_with("400000 bytes in all]"),
            "{}",
            &raw[raw.len() - 60..]
        );
        // "Post now" retries the same post (same key).
        let again = shop.post_now(failed[0].id).await.unwrap();
        assert_eq!(again.status, "queued");
        assert_eq!(
            shop.outbox().run_due(jiff::Timestamp::now()).await.unwrap()[0].status,
            "posted"
        );

        remote.lock().unwrap().script.push(PublishError::Reconnect {
            network: "bluesky",
            message: "Token has been revoked".into(),
            raw: "{}".into(),
        });
        shop.queue_posts(&request).await.unwrap();
        let revoked = shop.outbox().run_due(jiff::Timestamp::now()).await.unwrap();
        assert_eq!(revoked[0].error_code.as_deref(), Some("account_reconnect"));
        assert_eq!(shop.accounts().await.unwrap()[0].status, "reconnect");
    }

    #[tokio::test]
    async fn posts_due_while_closed_wait_for_post_now_or_skip() {
        let (shop, _dir, remote, account, product) = setup("Asia/Shanghai").await;
        let mut ids = Vec::new();
        for _ in 0..2 {
            let posts = shop
                .queue_posts(&ComposeRequest {
                    product_id: product,
                    account_ids: vec![account],
                    at: Some("2030-01-01 09:00".into()),
                    ..Default::default()
                })
                .await
                .unwrap();
            ids.push(posts[0].id);
        }
        // The app was closed through the scheduled time: pretend the schedule is in the past.
        sqlx::query("UPDATE posts SET scheduled_at = $1, next_attempt_at = $2, created_at = $3")
            .bind(jiff::Timestamp::now().as_millisecond() - 3_600_000)
            .bind(jiff::Timestamp::now().as_millisecond() - 3_600_000)
            .bind(jiff::Timestamp::now().as_millisecond() - 86_400_000)
            .execute(shop.pool())
            .await
            .unwrap();
        let missed = shop.start_outbox().await.unwrap();
        assert_eq!(missed.len(), 2);
        assert!(missed.iter().all(|p| p.status == "missed"));
        shop.outbox().stop();
        assert!(
            shop.outbox()
                .run_due(jiff::Timestamp::now())
                .await
                .unwrap()
                .is_empty(),
            "missed posts wait"
        );
        shop.post_now(ids[0]).await.unwrap();
        assert_eq!(shop.skip_post(ids[1]).await.unwrap().status, "skipped");
        let sent = shop.outbox().run_due(jiff::Timestamp::now()).await.unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].id, ids[0]);
        assert_eq!(remote.lock().unwrap().posts.len(), 1);
    }

    #[tokio::test]
    async fn posting_to_several_accounts_is_all_or_nothing() {
        let (shop, _dir, remote, account, product) = setup("Asia/Shanghai").await;
        let other = shop
            .connect_account(
                Network::Bluesky,
                "http://127.0.0.1:1",
                "second.example",
                "app-pass",
                serde_json::json!({}),
            )
            .await
            .unwrap();
        shop.disconnect_account(other.id).await.unwrap();
        let error = shop
            .queue_posts(&ComposeRequest {
                product_id: product,
                account_ids: vec![account, other.id],
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(error.field(), Some("accounts"));
        let count: i64 = crate::count(&shop, "posts").await;
        assert_eq!(count, 0, "nothing queued for the first account either");
        assert!(
            shop.outbox()
                .run_due(jiff::Timestamp::now())
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(remote.lock().unwrap().publishes, 0);
    }
}

mod sign_in {
    //! A Mastodon account connected the way the owner does it (register the app, browser
    //! sign-in, code caught on 127.0.0.1), then a product posted through the outbox — all against
    //! mastodon-mock (tests/peers/), through the engine's own API.

    use super::mastodon_mock as mock;
    use shopcast_core::ComposeRequest;

    use crate::{draft, shop_with};

    #[tokio::test(flavor = "multi_thread")]
    async fn a_mastodon_account_signs_in_through_the_browser_and_posts_a_product() {
        unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
        let mock = mock::MastodonMock::start().await;
        mock.create_account("teashop").await;
        let (shop, dir) = shop_with("CNY").await;
        let mut cup = draft("青花瓷杯", "88");
        cup.sku = Some("CUP-1".into());
        let product = shop.create_product(&cup).await.unwrap().id;

        let start = shop.start_mastodon_sign_in(mock.base()).await.unwrap();
        assert!(start.loopback);
        // The browser: the instance's account picker, then the redirect back to 127.0.0.1.
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let picker = browser
            .get(&start.authorize_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut form = mock::hidden_inputs(&picker);
        form.insert("username".into(), "teashop".into());
        let picked = browser
            .post(format!("{}/oauth/authorize", mock.base()))
            .form(&form)
            .send()
            .await
            .unwrap();
        let location = picked.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with("http://127.0.0.1:"), "{location}");
        // A callback with another sign-in's state first: refused, and the sign-in waits on.
        let (callback, query) = location.split_once('?').unwrap();
        let foreign = browser
            .get(format!("{callback}?code=someone-elses-code&state=not-ours"))
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status(), 400);
        assert!(
            foreign
                .text()
                .await
                .unwrap()
                .contains("not for this sign-in")
        );
        assert!(query.contains("state="), "{location}");
        browser.get(&location).send().await.unwrap();
        let account = shop.finish_sign_in(&start.flow_id, None).await.unwrap();
        assert_eq!(
            (account.network.as_str(), account.handle.as_str()),
            ("mastodon", "teashop")
        );
        // The token is in the secrets folder, not in the database.
        let (db, _) = crate::stored_bytes(&shop).await;
        let secrets: Vec<_> = std::fs::read_dir(dir.path().join("secrets"))
            .unwrap()
            .collect();
        assert_eq!(secrets.len(), 1);
        let token = std::fs::read(secrets[0].as_ref().unwrap().path()).unwrap();
        assert!(!db.windows(token.len()).any(|w| w == token.as_slice()));

        let preview = shop
            .preview_post(&ComposeRequest {
                product_id: product,
                account_ids: vec![account.id],
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(preview[0].max_length, 500, "the instance's own limit");
        let posts = shop
            .queue_posts(&ComposeRequest {
                product_id: product,
                account_ids: vec![account.id],
                template: "{name} {price} {link}".into(),
                at: None,
            })
            .await
            .unwrap();
        let sent = shop.outbox().run_due(jiff::Timestamp::now()).await.unwrap();
        assert_eq!(sent[0].status, "posted", "{:?}", sent[0].error_message);
        let url = sent[0].url.clone().unwrap();
        assert!(url.contains("/@teashop/"), "{url}");
        // Read it back from the instance with the account's own token.
        let status = mock
            .get_json(
                std::str::from_utf8(&token).unwrap().trim(),
                &format!("/api/v1/statuses/{}", sent[0].remote_id.as_deref().unwrap()),
            )
            .await;
        let content = status["content"].as_str().unwrap_or_default().to_string()
            + status["text"].as_str().unwrap_or_default();
        let link = format!(
            "https://shop.example.com/p/CUP-1?src=post&amp;post={}",
            posts[0].id
        );
        let plain = format!(
            "https://shop.example.com/p/CUP-1?src=post&post={}",
            posts[0].id
        );
        assert!(
            content.contains("青花瓷杯") && (content.contains(&link) || content.contains(&plain)),
            "{status}"
        );
        // A pasted address for an unknown sign-in is refused plainly.
        let unknown = shop
            .finish_sign_in("nope", Some("http://127.0.0.1:1/callback?code=x&state=y"))
            .await
            .unwrap_err();
        assert_eq!(unknown.code().as_str(), "not_found");
    }
}

mod compose {
    //! The composer's preview when the network cannot be asked: it counts with the same
    //! limits the network's publisher enforces (crates/social), so it never accepts a text
    //! the network will refuse.

    use std::sync::Arc;

    use async_trait::async_trait;
    use shopcast_core::ComposeRequest;
    use shopcast_core::posting::accounts::Account;
    use shopcast_core::posting::outbox::PublisherFactory;
    use shopcast_social::weibo::WeiboPublisher;
    use shopcast_social::{Network, PublishError, Publisher};

    use crate::{draft, shop_with};

    /// Opens real Weibo publishers (their limits need no network), or none when offline.
    struct Weibo {
        offline: bool,
    }

    #[async_trait]
    impl PublisherFactory for Weibo {
        async fn open(
            &self,
            _: &Account,
            credential: &str,
        ) -> Result<Arc<dyn Publisher>, PublishError> {
            if self.offline {
                return Err(PublishError::Unreachable {
                    network: "weibo",
                    detail: "offline".into(),
                });
            }
            Ok(Arc::new(WeiboPublisher::new(
                "http://127.0.0.1:1",
                credential,
                "shop.example.com",
            )))
        }
    }

    #[tokio::test]
    async fn the_offline_weibo_preview_counts_against_140() {
        unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
        let (shop, _dir) = shop_with("CNY").await;
        shop.outbox()
            .set_factory(Arc::new(Weibo { offline: false }));
        let account = shop
            .connect_account(
                Network::Weibo,
                "http://127.0.0.1:1",
                "1234567",
                "weibo-token",
                serde_json::json!({"secureDomain": "shop.example.com"}),
            )
            .await
            .unwrap();
        // From now on the network cannot be asked: the preview uses the fallback limits.
        shop.outbox().set_factory(Arc::new(Weibo { offline: true }));
        let preview = |name: String, description: &str| {
            let shop = shop.clone();
            let mut product = draft(&name, "88");
            product.description = description.into();
            async move {
                let product = shop.create_product(&product).await.unwrap();
                shop.preview_post(&ComposeRequest {
                    product_id: product.id,
                    account_ids: vec![account.id],
                    template: "{name}{description}".into(),
                    at: None,
                })
                .await
                .unwrap()
                .remove(0)
            }
        };
        let fits = preview("茶".repeat(140), "").await;
        assert_eq!((fits.length, fits.max_length), (140, 140));
        assert!(fits.problem.is_none(), "{:?}", fits.problem);
        let too_long = preview("茶".repeat(141), "").await;
        assert_eq!((too_long.length, too_long.max_length), (141, 140));
        assert!(too_long.problem.is_some());
        // ASCII counts as half a character on Weibo: 280 letters fit, 282 do not.
        let latin = preview("a".repeat(200), &"b".repeat(80)).await;
        assert_eq!(latin.length, 140);
        assert!(latin.problem.is_none(), "{:?}", latin.problem);
    }
}

mod no_answer {
    //! A post that went out but got no answer in time: retried where the network keeps one
    //! post per key (Bluesky, Mastodon), stopped as "maybe posted" on Weibo (no key: a retry
    //! could post twice), against the real Weibo publisher and a Weibo that answers too late.

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use async_trait::async_trait;
    use shopcast_core::ComposeRequest;
    use shopcast_core::posting::accounts::Account;
    use shopcast_core::posting::outbox::PublisherFactory;
    use shopcast_social::weibo::WeiboPublisher;
    use shopcast_social::{Network, PublishError, Publisher};

    use crate::{draft, shop_with};

    /// A Weibo whose share.json takes the post and answers after 5 s; counts the shares.
    async fn late_weibo() -> (String, Arc<AtomicUsize>) {
        let shares = Arc::new(AtomicUsize::new(0));
        let counted = shares.clone();
        let app = axum::Router::new().route(
            "/2/statuses/share.json",
            axum::routing::post(move || {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    r#"{"idstr":"4978123456789012","user":{"idstr":"1404376560"}}"#
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (base, shares)
    }

    /// Opens the real Weibo publisher on `base`, giving up on a share after 300 ms.
    struct Impatient {
        base: String,
    }

    #[async_trait]
    impl PublisherFactory for Impatient {
        async fn open(&self, _: &Account, token: &str) -> Result<Arc<dyn Publisher>, PublishError> {
            let publisher = WeiboPublisher::new(&self.base, token, "shop.example.com")
                .with_request_timeout(Duration::from_millis(300));
            Ok(Arc::new(publisher))
        }
    }

    async fn queue_on(base: &str) -> (shopcast_core::Shop, tempfile::TempDir) {
        unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
        let (shop, dir) = shop_with("CNY").await;
        shop.outbox().set_factory(Arc::new(Impatient {
            base: base.to_string(),
        }));
        let account = shop
            .connect_account(
                Network::Weibo,
                base,
                "1404376560",
                "weibo-token",
                serde_json::json!({"secureDomain": "shop.example.com"}),
            )
            .await
            .unwrap();
        let product = shop.create_product(&draft("青花瓷杯", "88")).await.unwrap();
        let request = ComposeRequest {
            product_id: product.id,
            account_ids: vec![account.id],
            ..Default::default()
        };
        shop.queue_posts(&request).await.unwrap();
        (shop, dir)
    }

    #[tokio::test]
    async fn a_weibo_post_with_no_answer_fails_as_maybe_posted_and_is_not_sent_again() {
        let (base, shares) = late_weibo().await;
        let (shop, _dir) = queue_on(&base).await;
        let now = jiff::Timestamp::now();
        let ended = shop.outbox().run_due(now).await.unwrap();
        assert_eq!(ended.len(), 1);
        let post = &ended[0];
        assert_eq!(post.status, "failed", "{post:?}");
        assert_eq!(post.error_code.as_deref(), Some("post_maybe_posted"));
        let sentence = post.error_message.as_deref().unwrap_or_default();
        assert!(
            sentence.contains("it may have been posted")
                && sentence.contains("Check Weibo before retrying"),
            "{sentence}"
        );
        // Hours later nothing is sent again by itself.
        let later = now
            .checked_add(jiff::SignedDuration::from_hours(3))
            .unwrap();
        assert!(shop.outbox().run_due(later).await.unwrap().is_empty());
        assert_eq!(shares.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_weibo_post_whose_sender_died_mid_send_is_not_sent_again() {
        let (base, shares) = late_weibo().await;
        let (shop, _dir) = queue_on(&base).await;
        let now = jiff::Timestamp::now();
        // Another process claimed it, sent it maybe, and died: its lease has ended.
        sqlx::query(
            "UPDATE posts SET status = 'sending', claimed_by = 'crashed', attempts = 1,
                 lease_expires_at = $1",
        )
        .bind(now.as_millisecond() - 1)
        .execute(shop.pool())
        .await
        .unwrap();
        let ended = shop.outbox().run_due(now).await.unwrap();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].status, "failed", "{:?}", ended[0]);
        assert_eq!(ended[0].error_code.as_deref(), Some("post_maybe_posted"));
        assert_eq!(shares.load(Ordering::SeqCst), 0, "nothing sent again");
    }

    #[tokio::test]
    async fn a_weibo_that_cannot_be_reached_is_retried() {
        let (shop, _dir) = queue_on("http://127.0.0.1:1").await;
        let ended = shop.outbox().run_due(jiff::Timestamp::now()).await.unwrap();
        assert_eq!(ended[0].status, "queued", "{:?}", ended[0]);
        assert_eq!(ended[0].error_code.as_deref(), Some("network_unreachable"));
    }
}
