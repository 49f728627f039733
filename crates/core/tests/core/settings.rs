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
