use shopcast_core::{Shop, ShopSettings};

#[tokio::test]
async fn settings_are_validated_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let shop = Shop::open(dir.path()).await.unwrap();
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

    let reopened = Shop::open(dir.path()).await.unwrap();
    assert_eq!(
        reopened.settings().await.unwrap(),
        ShopSettings {
            name: "茶叶铺 Tea 🍵".into(),
            currency: "CNY".into(),
            timezone: "Europe/Berlin".into(),
            locale: "zh-CN".into(),
            buy_link_base: "https://shop.example.com/p/".into(),
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
    sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
        .bind(key)
        .fetch_optional(shop.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn unreadable_payment_settings_are_reported_and_never_saved_over() {
    let dir = tempfile::tempdir().unwrap();
    let shop = Shop::open(dir.path()).await.unwrap();
    // A Stripe setup whose poll interval was mangled (a hand edit, a newer version's format).
    let garbage = r#"{"testMode":false,"pollMs":"fast","stripe":{"apiBase":"https://api.stripe.com","secretBackend":"file","keyHint":"…4242"}}"#;
    sqlx::query("INSERT INTO settings (key, value) VALUES ('payments.settings', ?)")
        .bind(garbage)
        .execute(shop.pool())
        .await
        .unwrap();
    shop.close().await;

    let shop = Shop::open(dir.path()).await.unwrap();
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
