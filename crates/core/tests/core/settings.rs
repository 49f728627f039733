use shopcast_core::{Shop, ShopSettings};

#[tokio::test]
async fn settings_are_validated_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let shop = crate::open_shop(dir.path()).await;
    let fresh = shop.settings().await.unwrap();
    assert_eq!(fresh.name, "", "a new shop is not set up yet");

    shop.set_setting("shop.name", "  茶叶铺 Tea 🍵 ")
        .await
        .unwrap();
    shop.set_setting("shop.currency", "cny").await.unwrap();
    shop.set_setting("shop.timezone", "Europe/Berlin")
        .await
        .unwrap();
    shop.set_setting("shop.locale", "zh-CN").await.unwrap();
    shop.set_setting("shop.buy_link_base", "https://shop.example.com/p/")
        .await
        .unwrap();

    for (key, bad) in [
        ("shop.currency", "EURO"),
        ("shop.timezone", "Mars/Olympus"),
        ("shop.locale", "<script>"),
        ("shop.buy_link_base", "javascript:alert(1)"),
        ("shop.nonsense", "x"),
    ] {
        let err = shop.set_setting(key, bad).await.expect_err(key);
        assert_eq!(err.code().as_str(), "validation", "{key}");
    }
    shop.close().await;

    let reopened = crate::open_shop(dir.path()).await;
    assert_eq!(
        reopened.settings().await.unwrap(),
        ShopSettings {
            name: "茶叶铺 Tea 🍵".into(),
            currency: "CNY".into(),
            timezone: "Europe/Berlin".into(),
            locale: "zh-CN".into(),
            buy_link_base: "https://shop.example.com/p/".into(),
            public_url: String::new(),
            ..Default::default()
        }
    );
}

#[test]
fn time_zone_list_has_the_usual_names() {
    let zones = shopcast_core::settings::timezones();
    for zone in ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"] {
        assert!(zones.iter().any(|z| z == zone), "{zone} missing");
    }
}

/// The payment settings row as stored, read straight from the shop file.
async fn payment_settings_row(shop: &Shop, key: &str) -> Option<String> {
    sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(shop.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn unreadable_payment_settings_are_reported_and_never_saved_over() {
    let dir = tempfile::tempdir().unwrap();
    let shop = crate::open_shop(dir.path()).await;
    // A Stripe setup whose poll interval was mangled (a hand edit, a newer version's format).
    let garbage = r#"{"testMode":false,"pollMs":"fast","stripe":{"apiBase":"https://api.stripe.com","secretBackend":"file","keyHint":"…4242"}}"#;
    sqlx::query("INSERT INTO settings (key, value) VALUES ('payments.settings', $1)")
        .bind(garbage)
        .execute(shop.pool())
        .await
        .unwrap();
    shop.close().await;

    let shop = crate::open_shop(dir.path()).await;
    let error = shop.providers_view().await.unwrap_err();
    assert_eq!(error.code().as_str(), "settings_unreadable");
    let sentence = error.to_string();
    assert!(sentence.contains("payments.settings"), "{sentence}");
    assert!(sentence.contains("shopcast providers reset"), "{sentence}");

    // Saving other options, or disconnecting test mode, would write the defaults over the
    // Stripe setup: refused, and the row is exactly as it was.
    let other = shopcast_core::payments::providers::PaymentSettings {
        poll_ms: 2_000,
        ..Default::default()
    };
    let refused = shop.save_payment_settings(other.clone()).await.unwrap_err();
    assert_eq!(refused.code().as_str(), "settings_unreadable");
    let refused = shop
        .disconnect_provider(shopcast_payments::ProviderKind::Test)
        .await
        .unwrap_err();
    assert_eq!(refused.code().as_str(), "settings_unreadable");
    assert_eq!(
        payment_settings_row(&shop, "payments.settings")
            .await
            .as_deref(),
        Some(garbage)
    );

    // Replacing on purpose keeps the unreadable text beside the new defaults.
    assert!(shop.replace_unreadable_payment_settings().await.unwrap());
    assert_eq!(
        payment_settings_row(&shop, "payments.settings.unreadable")
            .await
            .as_deref(),
        Some(garbage)
    );
    assert_eq!(
        shop.save_payment_settings(other).await.unwrap().poll_ms,
        2_000
    );
    // Readable settings are never replaced.
    assert!(!shop.replace_unreadable_payment_settings().await.unwrap());
    assert_eq!(shop.payment_settings().await.unwrap().poll_ms, 2_000);
}

#[tokio::test]
async fn the_public_url_is_normalised_and_becomes_the_buy_link_base() {
    use shopcast_core::ProductDraft;
    let dir = tempfile::tempdir().unwrap();
    let shop = crate::open_shop(dir.path()).await;
    // Neither address: signs cannot be planned, and the sentence says how to fix it.
    let tea = shop
        .create_product(&ProductDraft {
            sku: Some("TEA-1".into()),
            name: "龙井".into(),
            price: "88".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let selection = shopcast_core::signage::Selection::Ids(vec![tea.id]);
    let refused = shop
        .plan_signage(&selection, "a4-3x8", 1)
        .await
        .unwrap_err();
    assert_eq!(refused.field(), Some("buyLinkBase"));
    assert!(refused.to_string().contains("Shop page"), "{refused}");

    // https anywhere; http only on this computer or the shop's LAN; trailing slash trimmed,
    // host lower-cased, default port dropped.
    for (typed, stored) in [
        ("  https://Shop.Example.com/ ", "https://shop.example.com"),
        ("https://shop.example.com:443", "https://shop.example.com"),
        (
            "https://shop.example.com:8443/",
            "https://shop.example.com:8443",
        ),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://192.168.1.20:8080", "http://192.168.1.20:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("", ""),
    ] {
        let saved = shop.set_setting("shop.public_url", typed).await.unwrap();
        assert_eq!(saved.public_url, stored, "{typed:?}");
        assert_eq!(
            shop.settings()
                .await
                .unwrap()
                .get("shop.public_url")
                .unwrap(),
            stored
        );
    }
    for bad in [
        "http://shop.example.com",
        "http://8.8.8.8",
        "https://shop.example.com/shop",
        "https://shop.example.com/#top",
        "https://a:b@shop.example.com",
        "ftp://shop.example.com",
        "shop.example.com",
    ] {
        let err = shop.set_setting("shop.public_url", bad).await.unwrap_err();
        assert_eq!(err.field(), Some("publicUrl"), "{bad}");
        assert!(err.to_string().contains(bad), "{bad}: {err}");
    }
    assert_eq!(
        shop.settings().await.unwrap().public_url,
        "",
        "refusals kept nothing"
    );

    // The public URL alone makes signs and posts work: `{public_url}/p/SKU?…`.
    shop.set_setting("shop.public_url", "https://shop.example.com/")
        .await
        .unwrap();
    let settings = shop.settings().await.unwrap();
    assert_eq!(
        settings.effective_buy_link_base(),
        "https://shop.example.com/p/"
    );
    let batch = shop.plan_signage(&selection, "a4-3x8", 1).await.unwrap();
    assert_eq!(
        batch.signs[0].qr_payload,
        format!("https://shop.example.com/p/TEA-1?src=qr&sign={}", batch.id)
    );

    // A typed buy-link base still wins for the address.
    shop.set_setting("shop.buy_link_base", "https://elsewhere.example/buy/")
        .await
        .unwrap();
    let batch = shop.plan_signage(&selection, "a4-3x8", 1).await.unwrap();
    assert!(
        batch.signs[0]
            .qr_payload
            .starts_with("https://elsewhere.example/buy/TEA-1?src=qr&sign="),
        "{}",
        batch.signs[0].qr_payload
    );
}

#[tokio::test]
async fn the_shop_page_switch_and_port_are_kept_and_checked() {
    use shopcast_core::settings::ShopPageSettings;
    let dir = tempfile::tempdir().unwrap();
    let shop = crate::open_shop(dir.path()).await;
    assert_eq!(
        shop.shop_page_settings().await.unwrap(),
        ShopPageSettings {
            enabled: false,
            port: 8080,
            trust_proxy: false,
        },
        "off until the owner turns it on, and X-Forwarded-For not trusted"
    );
    let on = ShopPageSettings {
        enabled: true,
        port: 8181,
        trust_proxy: true,
    };
    shop.save_shop_page_settings(on).await.unwrap();
    let err = shop
        .save_shop_page_settings(ShopPageSettings {
            enabled: true,
            port: 80,
            trust_proxy: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("port"));
    shop.close().await;

    let shop = crate::open_shop(dir.path()).await;
    assert_eq!(shop.shop_page_settings().await.unwrap(), on);
    // A row saved before the proxy switch existed reads as not trusting the header.
    sqlx::query(
        "UPDATE settings SET value = '{\"enabled\":true,\"port\":8181}' WHERE key = 'shop_page.settings'",
    )
    .execute(shop.pool())
    .await
    .unwrap();
    assert!(!shop.shop_page_settings().await.unwrap().trust_proxy);
    assert!(shop.shop_page_settings().await.unwrap().enabled);
    // A damaged row reads as off: it never opens a port by itself.
    sqlx::query("UPDATE settings SET value = 'garbage' WHERE key = 'shop_page.settings'")
        .execute(shop.pool())
        .await
        .unwrap();
    assert!(!shop.shop_page_settings().await.unwrap().enabled);
}
