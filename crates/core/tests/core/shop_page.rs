//! The shop page's core on real shop files: what public views show and hide, the index search
//! and sitemap, the middle photo size, buying from a link through the real test checkout,
//! receipts and their share links, the share channel in reports, and bad or hostile input.

// A local server answering as Stripe documents (localstripe has no Checkout Sessions).
#[path = "../../../payments/tests/stripe/capture.rs"]
#[allow(dead_code)]
mod capture;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use shopcast_core::reports::{CSV_COLUMNS, CsvOptions, ReportFilter};
use shopcast_core::{
    BuyRequest, CoreError, ErrorCode, NextStep, Shop, StockState, Variant, WebCheckoutStart,
};

use crate::payments::wait_for;
use crate::{count, draft, shop_with};

const PUBLIC: &str = "https://shop.example.com";

/// A product with a SKU (and `stock`, if counted); its id.
async fn listed(shop: &Shop, sku: &str, name: &str, price: &str, stock: Option<i64>) -> i64 {
    let mut d = draft(name, price);
    d.sku = Some(sku.into());
    d.stock = stock;
    d.description = format!("{name}, made by hand");
    shop.create_product(&d).await.unwrap().id
}

/// A shop in CNY whose test mode runs mounted in the shop page at [`PUBLIC`].
async fn selling_shop() -> (Shop, tempfile::TempDir) {
    let (shop, dir) = shop_with("CNY").await;
    shop.payments().set_poll_interval(Duration::from_millis(50));
    shop.start_test_mode_for_shop_page(PUBLIC).await.unwrap();
    (shop, dir)
}

fn buy(sku: &str, quantity: u32, source: &[(&str, &str)]) -> BuyRequest {
    BuyRequest {
        sku: sku.into(),
        quantity,
        source: source
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        phone: true,
        public_url: PUBLIC.into(),
    }
}

/// Pays a started web checkout through the test checkout, as its Pay button does, and
/// waits until the watcher has recorded it.
async fn pay(shop: &Shop, started: &WebCheckoutStart) {
    let NextStep::TestCheckout(token) = &started.next else {
        panic!(
            "test mode sends the buyer to its checkout: {:?}",
            started.next
        );
    };
    assert_eq!(shop.payments().test_mode().settle(token, true), Ok("paid"));
    wait_for(|| async {
        shop.receipt(&started.receipt_token, PUBLIC)
            .await
            .unwrap()
            .is_some_and(|r| r.paid)
    })
    .await;
}

/// (channel, source_ref) of the order `order_ref`.
async fn attribution(shop: &Shop, order_ref: &str) -> (String, Option<String>) {
    sqlx::query_as("SELECT channel, source_ref FROM orders WHERE ref = $1")
        .bind(order_ref)
        .fetch_one(shop.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn public_views_hide_archived_and_sku_less_products_and_ids() {
    let (shop, _dir) = shop_with("CNY").await;
    let on_sale = listed(&shop, "CUP-1", "青花瓷杯", "88", Some(3)).await;
    let archived = listed(&shop, "BOWL-1", "青花瓷碗", "60", None).await;
    shop.set_archived(archived, true).await.unwrap();
    shop.create_product(&draft("青花瓷盘 without a SKU", "40"))
        .await
        .unwrap();

    let cup = shop.shop_page_product("CUP-1").await.unwrap().unwrap();
    assert_eq!(cup.name, "青花瓷杯");
    assert_eq!(cup.price.amount_minor, 8_800);
    assert_eq!(cup.price_text, cup.price.format_local("zh-CN"));
    assert!(cup.price_text.contains("88.00"), "{}", cup.price_text);
    assert_eq!(
        cup.updated_at,
        shop.product(on_sale).await.unwrap().updated_at
    );
    assert!(shop.shop_page_product("BOWL-1").await.unwrap().is_none());
    assert!(shop.shop_page_product("").await.unwrap().is_none());
    assert!(shop.shop_page_product("NOPE").await.unwrap().is_none());

    let index = shop.shop_page_index("", 1).await.unwrap();
    let skus: Vec<&str> = index.products.iter().map(|p| p.sku.as_str()).collect();
    assert_eq!(skus, ["CUP-1"]);
    assert!(!index.has_more);
    let searched = shop.shop_page_index("青花瓷", 1).await.unwrap();
    let skus: Vec<&str> = searched.products.iter().map(|p| p.sku.as_str()).collect();
    assert_eq!(
        skus,
        ["CUP-1"],
        "archived and SKU-less products stay hidden"
    );

    // Nothing a buyer does not need: no row ids, tags or archived flags.
    let json = serde_json::to_value(&cup).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    for private in ["id", "tags", "archived", "createdAt"] {
        assert!(!keys.iter().any(|k| *k == private), "{private} in {keys:?}");
    }
    let front = shop.shop_front().await.unwrap();
    assert_eq!(
        (
            front.name.as_str(),
            front.locale.as_str(),
            front.currency.as_str()
        ),
        ("小店 Test Shop", "zh-CN", "CNY")
    );
}

#[tokio::test]
async fn stock_states_follow_the_stock_count() {
    let (shop, _dir) = shop_with("CNY").await;
    listed(&shop, "UNCOUNTED", "Tea", "10", None).await;
    listed(&shop, "THREE", "Cup", "10", Some(3)).await;
    listed(&shop, "NONE", "Bowl", "10", Some(0)).await;
    let stock = |sku: &'static str| {
        let shop = shop.clone();
        async move { shop.shop_page_product(sku).await.unwrap().unwrap().stock }
    };
    assert_eq!(stock("UNCOUNTED").await, StockState::InStock { left: None });
    assert_eq!(stock("THREE").await, StockState::InStock { left: Some(3) });
    assert_eq!(stock("NONE").await, StockState::SoldOut);
}

#[tokio::test]
async fn the_index_search_finds_chinese_substrings_and_pages_by_24() {
    let (shop, _dir) = shop_with("CNY").await;
    listed(&shop, "CUP-1", "青花瓷杯", "88", None).await;
    listed(&shop, "TEA-1", "龙井绿茶", "120", None).await;
    listed(&shop, "VASE-1", "Blue vase", "300", None).await;
    let found = |search: &'static str| {
        let shop = shop.clone();
        async move {
            let mut skus: Vec<String> = shop
                .shop_page_index(search, 1)
                .await
                .unwrap()
                .products
                .into_iter()
                .map(|p| p.sku)
                .collect();
            skus.sort();
            skus
        }
    };
    // Two characters (too short for trigrams) and three or more (the FTS5 index).
    assert_eq!(found("青花").await, ["CUP-1"]);
    assert_eq!(found("花瓷杯").await, ["CUP-1"]);
    assert_eq!(found("绿茶").await, ["TEA-1"]);
    assert_eq!(found("井绿茶").await, ["TEA-1"]);
    assert_eq!(found("made by hand").await, ["CUP-1", "TEA-1", "VASE-1"]);
    assert_eq!(found("vase-1").await, ["VASE-1"]);
    assert!(found("咖啡").await.is_empty());
    // Search syntax is text, never FTS5 operators.
    assert!(found("\"杯 OR *").await.is_empty());

    for i in 0..27 {
        listed(
            &shop,
            &format!("MUG-{i:02}"),
            &format!("Mug {i}"),
            "5",
            None,
        )
        .await;
    }
    let first = shop.shop_page_index("", 1).await.unwrap();
    let second = shop.shop_page_index("", 2).await.unwrap();
    assert_eq!((first.products.len(), first.has_more), (24, true));
    assert_eq!((second.products.len(), second.has_more), (6, false));
    assert_eq!(shop.shop_page_index("", 0).await.unwrap(), first);
    let mugs = shop.shop_page_index("Mug", 2).await.unwrap();
    assert_eq!((mugs.products.len(), mugs.has_more), (3, false));
    assert!(
        shop.shop_page_index("", 999_999)
            .await
            .unwrap()
            .products
            .is_empty()
    );
}

#[tokio::test]
async fn the_sitemap_lists_every_product_on_the_shop_page_with_its_update_time() {
    let (shop, _dir) = shop_with("CNY").await;
    let cup = listed(&shop, "CUP-1", "青花瓷杯", "88", None).await;
    let tea = listed(&shop, "TEA-1", "龙井绿茶", "120", Some(0)).await;
    let bowl = listed(&shop, "BOWL-1", "Bowl", "60", None).await;
    shop.set_archived(bowl, true).await.unwrap();
    shop.create_product(&draft("No SKU", "1")).await.unwrap();
    let mut rows = shop.shop_page_sitemap().await.unwrap();
    rows.sort();
    let updated = |id| {
        let shop = shop.clone();
        async move { shop.product(id).await.unwrap().updated_at }
    };
    assert_eq!(
        rows,
        [
            ("CUP-1".to_string(), updated(cup).await),
            ("TEA-1".to_string(), updated(tea).await),
        ]
    );
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The size of a photo's middle size as read from the media store (always a JPEG).
fn medium_size(shop: &Shop, hash: &str) -> (u32, u32) {
    let (bytes, mime) = shop.media().read(hash, Variant::Medium).unwrap();
    assert_eq!(mime, "image/jpeg");
    let medium = image::load_from_memory(&bytes).unwrap();
    (medium.width(), medium.height())
}

#[tokio::test]
async fn photos_get_a_middle_size_at_ingest_and_old_photos_get_one_once_on_first_read() {
    let (shop, _dir) = shop_with("CNY").await;
    let id = listed(&shop, "CUP-1", "Cup", "8", None).await;
    let photo = shop
        .add_photo(id, png(2_000, 1_000))
        .await
        .unwrap()
        .photos
        .remove(0);
    assert_eq!(photo.size_of(Variant::Medium), (800, 400));
    assert_eq!(photo.size_of(Variant::Thumb), (320, 160));
    assert_eq!(photo.size_of(Variant::Full), (2_000, 1_000));
    let medium_path = shop.media().path_of(&photo.hash, Variant::Medium).unwrap();
    assert!(medium_path.exists(), "made at ingest");
    assert_eq!(medium_size(&shop, &photo.hash), (800, 400));

    // A photo stored before middle sizes existed: made on the first read, then kept.
    std::fs::remove_file(&medium_path).unwrap();
    assert_eq!(medium_size(&shop, &photo.hash), (800, 400));
    let kept = std::fs::metadata(&medium_path).unwrap().modified().unwrap();
    shop.media().read(&photo.hash, Variant::Medium).unwrap();
    assert_eq!(
        std::fs::metadata(&medium_path).unwrap().modified().unwrap(),
        kept,
        "made once"
    );
    // Many first readers at once (a page of photos, several buyers): each gets the whole
    // picture, and one whole file is left.
    std::fs::remove_file(&medium_path).unwrap();
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let media = shop.media().clone();
            let hash = photo.hash.clone();
            std::thread::spawn(move || media.read(&hash, Variant::Medium).unwrap().0)
        })
        .collect();
    let read: Vec<Vec<u8>> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    assert!(read.iter().all(|bytes| *bytes == read[0]));
    assert_eq!(std::fs::read(&medium_path).unwrap(), read[0]);
    let leftovers: Vec<_> = std::fs::read_dir(medium_path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| !name.starts_with(&photo.hash))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files left: {leftovers:?}"
    );

    // Small photos are not scaled up.
    let small = shop
        .add_photo(id, png(300, 200))
        .await
        .unwrap()
        .photos
        .remove(1);
    assert_eq!(small.size_of(Variant::Medium), (300, 200));
    assert_eq!(medium_size(&shop, &small.hash), (300, 200));
    // Unknown and malformed hashes read nothing and make nothing.
    assert!(
        shop.media()
            .read(&"a".repeat(64), Variant::Medium)
            .is_none()
    );
    assert!(
        shop.media()
            .read("../../etc/passwd", Variant::Medium)
            .is_none()
    );
    assert_eq!(Variant::parse("medium"), Some(Variant::Medium));
    assert_eq!(Variant::parse("Medium"), None);
}

/// The whole way: a post's link → test checkout → paid receipt with share links → a friend
/// buys through the shared link → the report counts the share.
#[tokio::test]
async fn a_post_link_sale_pays_through_the_test_checkout_and_its_shared_link_sells_as_share() {
    let (shop, _dir) = selling_shop().await;
    listed(&shop, "CUP 1/蓝", "青花瓷杯", "88", Some(5)).await;

    let started = shop
        .buy_from_link(&buy("CUP 1/蓝", 2, &[("src", "post"), ("post", "12")]))
        .await
        .unwrap();
    assert_eq!(
        attribution(&shop, &started.order_ref).await,
        ("post".into(), Some("12".into()))
    );
    assert_eq!(started.receipt_token.len(), 32);
    let unpaid = shop
        .receipt(&started.receipt_token, PUBLIC)
        .await
        .unwrap()
        .unwrap();
    assert!(!unpaid.paid && unpaid.share.is_none() && unpaid.paid_at_text.is_none());
    let NextStep::TestCheckout(token) = &started.next else {
        panic!("{:?}", started.next)
    };
    assert!(shop.payments().test_mode().holds(token));

    pay(&shop, &started).await;
    let receipt = shop
        .receipt(&started.receipt_token, PUBLIC)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(receipt.order_ref, started.order_ref);
    assert_eq!(receipt.total.amount_minor, 17_600);
    assert_eq!(
        receipt.total_text,
        receipt.total.format_local("zh-CN"),
        "in the shop's locale"
    );
    assert_eq!(receipt.lines.len(), 1);
    assert_eq!(receipt.lines[0].quantity, 2);
    assert_eq!(receipt.lines[0].sku.as_deref(), Some("CUP 1/蓝"));
    assert!(receipt.lines[0].amount_text.contains("176.00"));
    // Paid at, in Shanghai time, written the Chinese way.
    let paid_at = receipt.paid_at.unwrap();
    let local = jiff::Timestamp::from_millisecond(paid_at)
        .unwrap()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap());
    assert_eq!(
        receipt.paid_at_text.as_deref(),
        Some(local.strftime("%Y年%-m月%-d日 %H:%M").to_string().as_str())
    );

    let share = receipt.share.expect("a paid receipt has share links");
    let url = url::Url::parse(&share.url).unwrap();
    assert_eq!(url.host_str(), Some("shop.example.com"));
    assert_eq!(url.path(), "/p/CUP%201%2F%E8%93%9D");
    assert_eq!(
        url.path_segments().unwrap().count(),
        2,
        "the SKU's slash stays inside its segment"
    );
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        HashMap::from([
            ("src".to_string(), "share".to_string()),
            ("order".to_string(), started.order_ref.clone()),
        ])
    );
    assert!(share.text.contains("青花瓷杯") && share.text.contains("小店 Test Shop"));
    let weibo = url::Url::parse(&share.weibo).unwrap();
    assert_eq!(weibo.host_str(), Some("service.weibo.com"));
    assert_eq!(weibo.path(), "/share/share.php");
    let weibo_query: HashMap<String, String> = weibo.query_pairs().into_owned().collect();
    assert_eq!(weibo_query["url"], share.url);
    assert_eq!(weibo_query["title"], share.text);
    let bluesky = url::Url::parse(&share.bluesky).unwrap();
    assert_eq!(
        (bluesky.host_str(), bluesky.path()),
        (Some("bsky.app"), "/intent/compose")
    );
    let bluesky_text = bluesky.query_pairs().find(|(k, _)| k == "text").unwrap().1;
    assert_eq!(bluesky_text, format!("{} {}", share.text, share.url));
    assert_eq!(share.mastodon_text, format!("{} {}", share.text, share.url));

    // A friend buys through the shared link.
    let shared = shop
        .buy_from_link(&BuyRequest {
            source: query.clone(),
            ..buy("CUP 1/蓝", 1, &[])
        })
        .await
        .unwrap();
    assert_eq!(
        attribution(&shop, &shared.order_ref).await,
        ("share".into(), Some(started.order_ref.clone()))
    );
    pay(&shop, &shared).await;
    assert_eq!(
        shop.shop_page_product("CUP 1/蓝")
            .await
            .unwrap()
            .unwrap()
            .stock,
        StockState::InStock { left: Some(5) },
        "test payments leave the stock alone"
    );

    let dashboard = shop.dashboard(true).await.unwrap();
    let channels: HashMap<String, (i64, i64)> = dashboard
        .today
        .by_channel
        .iter()
        .map(|row| (row.key.clone(), (row.payments, row.gross_minor)))
        .collect();
    assert_eq!(channels.get("share"), Some(&(1, 8_800)));
    assert_eq!(channels.get("post"), Some(&(1, 17_600)));

    let today = dashboard.today.from.clone();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sales.csv");
    shop.export_sales_csv(
        &ReportFilter {
            from: today.clone(),
            to: today,
            include_test: true,
            ..Default::default()
        },
        CsvOptions::default(),
        &out,
        Arc::new(AtomicBool::new(false)),
        |_| {},
    )
    .await
    .unwrap();
    let column = CSV_COLUMNS.iter().position(|c| *c == "channel").unwrap();
    let order_column = CSV_COLUMNS.iter().position(|c| *c == "order_id").unwrap();
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let rows: Vec<(String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[order_column].to_string(), r[column].to_string())
        })
        .collect();
    assert!(
        rows.contains(&(shared.order_ref.clone(), "share".to_string())),
        "{rows:?}"
    );
    assert!(rows.contains(&(started.order_ref.clone(), "post".to_string())));

    // The PDF report names the channel as the window does (the shop writes Chinese).
    let pdf = dir.path().join("report.pdf");
    shop.export_sales_pdf(
        &ReportFilter {
            from: dashboard.today.from.clone(),
            to: dashboard.today.to.clone(),
            include_test: true,
            ..Default::default()
        },
        &pdf,
    )
    .await
    .unwrap();
    let text = std::process::Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("分享链接") && text.contains("帖子"), "{text}");
}

#[tokio::test]
async fn bad_quantities_and_missing_stock_are_refused_without_an_order() {
    let (shop, _dir) = selling_shop().await;
    listed(&shop, "TWO", "青花瓷杯", "88", Some(2)).await;
    listed(&shop, "GONE", "龙井", "50", Some(0)).await;
    let archived = listed(&shop, "OLD", "Old", "5", None).await;
    shop.set_archived(archived, true).await.unwrap();

    for quantity in [0, 100, u32::MAX] {
        let error = shop
            .buy_from_link(&buy("TWO", quantity, &[]))
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::Validation, "{quantity}");
        assert_eq!(error.field(), Some("quantity"));
        assert_eq!(error.to_string(), "请选择 1 到 99 之间的数量。");
    }
    // The buyer reads these on the shop page: in the shop's language.
    let error = shop.buy_from_link(&buy("GONE", 1, &[])).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::SoldOut);
    assert_eq!(error.to_string(), "龙井已售罄。");
    let error = shop.buy_from_link(&buy("TWO", 3, &[])).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::SoldOut);
    assert_eq!(error.to_string(), "青花瓷杯只剩 2 件，请选择 2 件或更少。");
    shop.set_setting("shop.locale", "en").await.unwrap();
    let error = shop.buy_from_link(&buy("TWO", 3, &[])).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "Only 2 of 青花瓷杯 are left: choose 2 or fewer."
    );
    let error = shop.buy_from_link(&buy("GONE", 1, &[])).await.unwrap_err();
    assert_eq!(error.to_string(), "龙井 is sold out.");
    let error = shop.buy_from_link(&buy("TWO", 100, &[])).await.unwrap_err();
    assert_eq!(error.to_string(), "Choose a quantity from 1 to 99.");
    for sku in ["OLD", "NOPE", ""] {
        let error = shop.buy_from_link(&buy(sku, 1, &[])).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::NotFound, "{sku}");
    }
    // A stranger's SKU is not echoed unless it is plain text.
    let error = shop
        .buy_from_link(&buy("<script>\u{1b}[2J", 1, &[]))
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "This product was not found.");
    for public_url in [
        "javascript:alert(1)",
        "shop.example.com",
        "https://owner:secret@shop.example.com",
        "https://shop.example.com/?next=evil",
        "ftp://shop.example.com",
    ] {
        let error = shop
            .buy_from_link(&BuyRequest {
                public_url: public_url.into(),
                ..buy("TWO", 1, &[])
            })
            .await
            .unwrap_err();
        assert_eq!(error.field(), Some("publicUrl"), "{public_url}");
    }
    assert_eq!(count(&shop, "orders").await, 0);
    assert_eq!(count(&shop, "charges").await, 0);

    // Exactly what is left still sells.
    shop.buy_from_link(&buy("TWO", 2, &[])).await.unwrap();
    assert_eq!(count(&shop, "orders").await, 1);
}

#[tokio::test]
async fn without_a_provider_the_shop_page_says_how_to_take_payments() {
    let (shop, _dir) = shop_with("CNY").await;
    listed(&shop, "CUP", "Cup", "8", None).await;
    let error = shop.buy_from_link(&buy("CUP", 1, &[])).await.unwrap_err();
    assert!(matches!(
        &error,
        CoreError::Provider {
            code: "provider_config",
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "The shop page cannot take payments: connect Stripe or Alipay, or turn on test mode."
    );
    assert_eq!(count(&shop, "orders").await, 0);

    // Test mode stopped: no checkout, so no sale either.
    shop.start_test_mode_for_shop_page(PUBLIC).await.unwrap();
    shop.disconnect_provider(shopcast_payments::ProviderKind::Test)
        .await
        .unwrap();
    assert!(shop.payments().test_mode().base_url().is_none());
    assert!(shop.buy_from_link(&buy("CUP", 1, &[])).await.is_err());
    assert_eq!(count(&shop, "orders").await, 0);
}

#[tokio::test]
async fn receipts_are_found_only_by_their_token_which_is_not_stored_in_clear() {
    let (shop, _dir) = selling_shop().await;
    listed(&shop, "CUP", "Cup", "8", None).await;
    let started = shop.buy_from_link(&buy("CUP", 1, &[])).await.unwrap();
    let other = shop.buy_from_link(&buy("CUP", 1, &[])).await.unwrap();
    assert_ne!(started.receipt_token, other.receipt_token);

    let mut wrong = started.receipt_token.clone();
    wrong.replace_range(..1, if wrong.starts_with('0') { "1" } else { "0" });
    for unknown in [
        wrong.as_str(),
        "",
        "../../etc/passwd",
        &started.receipt_token.to_uppercase(),
        &format!("{} ", started.receipt_token),
        &started.order_ref,
    ] {
        assert!(
            shop.receipt(unknown, PUBLIC).await.unwrap().is_none(),
            "{unknown:?}"
        );
    }
    let found = shop
        .receipt(&started.receipt_token, PUBLIC)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.order_ref, started.order_ref);

    let stored: String = sqlx::query_scalar("SELECT receipt_hash FROM orders WHERE ref = $1")
        .bind(&started.order_ref)
        .fetch_one(shop.pool())
        .await
        .unwrap();
    use sha2::Digest;
    let digest = sha2::Sha256::digest(started.receipt_token.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(stored, hex);
    assert_not_stored(&shop, &started.receipt_token).await;
}

/// `secret` is in no column of any table of the shop's file.
async fn assert_not_stored(shop: &Shop, secret: &str) {
    for table in crate::shop_tables(shop).await {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM \"{table}\"")))
            .fetch_all(shop.pool())
            .await
            .unwrap();
        for row in rows {
            use sqlx::Row;
            for i in 0..row.len() {
                if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                    assert!(
                        !text.contains(secret),
                        "the receipt token is stored in clear in {table}: {text}"
                    );
                }
            }
        }
    }
}

/// A link's query, and the (channel, source_ref) its order should get.
type Query<'a> = &'a [(&'a str, &'a str)];
type Expected<'a> = (&'a str, Option<&'a str>);

#[tokio::test]
async fn a_hostile_link_query_gives_a_plain_link_sale_or_plain_values_only() {
    let (shop, _dir) = selling_shop().await;
    listed(&shop, "CUP", "Cup", "8", None).await;
    let long = "S".repeat(65);
    let cases: [(Query, Expected); 10] = [
        (
            &[("src", "qr"), ("sign", "S1A2B3C4")],
            ("signage", Some("S1A2B3C4")),
        ),
        (
            &[("src", "post"), ("post", "<script>alert(1)</script>")],
            ("link", None),
        ),
        (&[("src", "qr"), ("sign", &long)], ("link", None)),
        (&[("src", "post"), ("post", "12\u{0}")], ("link", None)),
        (
            &[("src", "post"), ("post", "12\r\nSet-Cookie: x")],
            ("link", None),
        ),
        (
            &[("src", "post"), ("post", "'; DROP TABLE orders; --")],
            ("link", None),
        ),
        (&[("src", "share"), ("order", "O-NOTREAL1")], ("link", None)),
        (&[("src", "<b>qr</b>"), ("sign", "S1")], ("link", None)),
        (&[("src", "qr")], ("link", None)),
        (&[("sign", "S1"), ("post", "12")], ("link", None)),
    ];
    for (query, (channel, source_ref)) in cases {
        let started = shop.buy_from_link(&buy("CUP", 1, query)).await.unwrap();
        assert_eq!(
            attribution(&shop, &started.order_ref).await,
            (channel.to_string(), source_ref.map(str::to_string)),
            "{query:?}"
        );
    }
    // A share link naming an order that exists but was never paid earns no credit.
    let unpaid = shop.buy_from_link(&buy("CUP", 1, &[])).await.unwrap();
    let started = shop
        .buy_from_link(&buy(
            "CUP",
            1,
            &[("src", "share"), ("order", &unpaid.order_ref)],
        ))
        .await
        .unwrap();
    assert_eq!(
        attribution(&shop, &started.order_ref).await,
        ("link".into(), None)
    );
    assert_eq!(count(&shop, "orders").await, 12);
}

#[tokio::test]
async fn test_checkout_pages_are_served_under_the_shop_pages_address() {
    let (shop, _dir) = shop_with("CNY").await;
    shop.start_test_mode_for_shop_page("http://127.0.0.1:8080/")
        .await
        .unwrap();
    listed(&shop, "CUP", "Cup", "8", None).await;
    assert_eq!(
        shop.payments().test_mode().base_url().as_deref(),
        Some("http://127.0.0.1:8080"),
        "test checkout pages are served by the shop page"
    );
    let started = shop
        .buy_from_link(&BuyRequest {
            public_url: "http://127.0.0.1:8080".into(),
            ..buy("CUP", 1, &[])
        })
        .await
        .unwrap();
    let NextStep::TestCheckout(token) = &started.next else {
        panic!("{:?}", started.next)
    };
    let payload: String =
        sqlx::query_scalar("SELECT qr_payload FROM charges WHERE charge_ref = $1")
            .bind(token)
            .fetch_one(shop.pool())
            .await
            .unwrap();
    assert_eq!(payload, format!("http://127.0.0.1:8080/pay/{token}"));
}

#[tokio::test]
async fn stripe_takes_shop_page_payments_first_and_its_echo_of_the_receipt_address_is_not_kept() {
    let (shop, _dir) = selling_shop().await;
    // Stripe echoes the session's success_url (the receipt's address) in its reply; this
    // one puts it in the address to pay at too, as an Alipay gateway address does.
    let stripe = capture::CaptureServer::start(|request| {
        if request.path == "/v1/checkout/sessions" {
            let pay_at = url::Url::parse_with_params(
                "https://checkout.stripe.com/c/pay/cs_test_a1ShopPage",
                [("back", request.field("success_url"))],
            )
            .unwrap();
            let session = serde_json::json!({
                "id": "cs_test_a1ShopPage",
                "object": "checkout.session",
                "url": pay_at.as_str(),
                "success_url": request.field("success_url"),
                "cancel_url": request.field("cancel_url"),
                "expires_at": jiff::Timestamp::now().as_second() + 1_800,
                "status": "open",
            });
            capture::Reply::json(200, session.to_string())
        } else {
            capture::Reply::json(200, r#"{"object":"list","data":[],"has_more":false}"#)
        }
    })
    .await;
    shop.payments().connect(Arc::new(stripe.provider()));
    listed(&shop, "CUP", "青花瓷杯", "88", None).await;

    let started = shop
        .buy_from_link(&buy("CUP", 1, &[("src", "qr"), ("sign", "S1A2B3C4")]))
        .await
        .unwrap();
    let session = stripe
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1/checkout/sessions")
        .unwrap();
    let receipt = format!("{PUBLIC}/r/{}", started.receipt_token);
    assert_eq!(session.field("success_url"), receipt);
    let NextStep::Redirect(address) = &started.next else {
        panic!("Stripe comes before test mode: {:?}", started.next);
    };
    let back: HashMap<String, String> = url::Url::parse(address)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(back["back"], receipt, "the buyer gets the whole address");
    let (provider, payload, raw): (String, String, String) = sqlx::query_as(
        "SELECT c.provider, c.qr_payload, coalesce(c.raw, '') FROM charges c
         JOIN orders o ON o.id = c.order_id WHERE o.ref = $1",
    )
    .bind(&started.order_ref)
    .fetch_one(shop.pool())
    .await
    .unwrap();
    assert_eq!(provider, "stripe");
    assert!(raw.contains("cs_test_a1ShopPage"), "{raw}");
    assert!(
        payload.starts_with("https://checkout.stripe.com/c/pay/cs_test_a1ShopPage?back=")
            && !payload.contains(&started.receipt_token),
        "{payload}"
    );
    assert!(
        !raw.contains(&started.receipt_token),
        "the session's success_url is kept without the receipt token: {raw}"
    );
    assert_eq!(
        attribution(&shop, &started.order_ref).await,
        ("signage".into(), Some("S1A2B3C4".into()))
    );

    // Without Stripe the test checkout takes over.
    shop.payments()
        .disconnect(shopcast_payments::ProviderKind::Stripe);
    let fallback = shop.buy_from_link(&buy("CUP", 1, &[])).await.unwrap();
    assert!(matches!(fallback.next, NextStep::TestCheckout(_)));
}

/// The test-only RSA pairs the Alipay notification tests use (`fixtures/`).
const ALIPAY_APP_ID: &str = "2021000149600001";
const ALIPAY_APP_KEY: &str = include_str!("fixtures/alipay-test-app-private.pem");
const ALIPAY_PUBLIC_KEY: &str = include_str!("fixtures/alipay-test-alipay-public.pem");

#[tokio::test]
async fn alipay_gets_the_receipt_address_and_a_notify_address_only_for_an_https_shop_page() {
    let (shop, _dir) = selling_shop().await;
    // A web charge is a signed gateway address: nothing is sent to the gateway for it.
    let alipay =
        shopcast_payments::alipay::AlipayProvider::new(shopcast_payments::alipay::AlipayConfig {
            gateway: shopcast_payments::alipay::Gateway::Custom(
                "http://127.0.0.1:9/gateway.do".parse().unwrap(),
            ),
            app_id: ALIPAY_APP_ID.into(),
            app_private_key: ALIPAY_APP_KEY.into(),
            alipay_public_key: ALIPAY_PUBLIC_KEY.into(),
            notify_url: None,
        })
        .unwrap();
    shop.payments().connect(Arc::new(alipay));
    listed(&shop, "CUP", "青花瓷杯", "88", None).await;
    let gateway_query = |next: &NextStep| {
        let NextStep::Redirect(address) = next else {
            panic!("Alipay comes before test mode: {next:?}");
        };
        let url = url::Url::parse(address).unwrap();
        assert_eq!(url.path(), "/gateway.do");
        url.query_pairs()
            .into_owned()
            .collect::<HashMap<String, String>>()
    };

    let on_phone = shop.buy_from_link(&buy("CUP", 2, &[])).await.unwrap();
    let query = gateway_query(&on_phone.next);
    assert_eq!(query["method"], "alipay.trade.wap.pay");
    assert_eq!(
        query["return_url"],
        format!("{PUBLIC}/r/{}", on_phone.receipt_token)
    );
    assert_eq!(query["notify_url"], format!("{PUBLIC}/hooks/alipay"));
    let biz: serde_json::Value = serde_json::from_str(&query["biz_content"]).unwrap();
    assert_eq!(biz["total_amount"], "176.00");

    let local = "http://127.0.0.1:8080";
    let on_computer = shop
        .buy_from_link(&BuyRequest {
            phone: false,
            public_url: local.into(),
            ..buy("CUP", 1, &[])
        })
        .await
        .unwrap();
    let query = gateway_query(&on_computer.next);
    assert_eq!(query["method"], "alipay.trade.page.pay");
    assert_eq!(
        query["return_url"],
        format!("{local}/r/{}", on_computer.receipt_token)
    );
    assert!(
        !query.contains_key("notify_url"),
        "Alipay cannot reach a loopback shop page: polling records the payment"
    );

    // The stored charges keep neither receipt token.
    let stored: Vec<(String, String)> =
        sqlx::query_as("SELECT qr_payload, coalesce(raw, '') FROM charges")
            .fetch_all(shop.pool())
            .await
            .unwrap();
    assert_eq!(stored.len(), 2);
    for (payload, raw) in stored {
        for token in [&on_phone.receipt_token, &on_computer.receipt_token] {
            assert!(!payload.contains(token.as_str()) && !raw.contains(token.as_str()));
        }
    }
}

#[tokio::test]
async fn share_links_carry_awkward_names_exactly_and_only_while_the_product_is_on_sale() {
    let (shop, _dir) = selling_shop().await;
    shop.set_setting("shop.locale", "en").await.unwrap();
    shop.set_setting("shop.name", "Kettle & Co. #1")
        .await
        .unwrap();
    let id = listed(&shop, "A&B=1#x", "Tea & Cups #1 +50% 茶 ?a=b", "12.5", None).await;
    let started = shop.buy_from_link(&buy("A&B=1#x", 1, &[])).await.unwrap();
    pay(&shop, &started).await;
    let receipt = shop
        .receipt(&started.receipt_token, PUBLIC)
        .await
        .unwrap()
        .unwrap();
    let share = receipt.share.unwrap();
    assert_eq!(
        share.text,
        "I just bought Tea & Cups #1 +50% 茶 ?a=b at Kettle & Co. #1 — ¥12.50"
    );
    let url = url::Url::parse(&share.url).unwrap();
    let sku = url.path_segments().unwrap().nth(1).unwrap().to_string();
    assert_eq!(
        percent_decode(&sku),
        "A&B=1#x",
        "the SKU is one path segment"
    );
    assert!(url.fragment().is_none(), "{}", share.url);
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        [
            ("src".to_string(), "share".to_string()),
            ("order".to_string(), started.order_ref.clone())
        ]
    );
    for intent in [&share.weibo, &share.bluesky] {
        let parsed = url::Url::parse(intent).unwrap();
        assert!(parsed.fragment().is_none(), "{intent}");
        let pairs: HashMap<String, String> = parsed.query_pairs().into_owned().collect();
        let carried = pairs
            .get("title")
            .or(pairs.get("text"))
            .unwrap()
            .to_string();
        assert!(carried.starts_with(&share.text), "{carried}");
    }

    // Archived since: the receipt still shows, without links to a page that is gone.
    shop.set_archived(id, true).await.unwrap();
    let receipt = shop
        .receipt(&started.receipt_token, PUBLIC)
        .await
        .unwrap()
        .unwrap();
    assert!(receipt.paid && receipt.share.is_none());
}

/// A path segment's percent-escapes read back (UTF-8).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_buys_each_make_one_order_with_its_own_receipt() {
    let (shop, _dir) = selling_shop().await;
    listed(&shop, "CUP", "青花瓷杯", "88", None).await;
    let started = std::time::Instant::now();
    let buys: Vec<_> = (0..200)
        .map(|i| {
            let shop = shop.clone();
            tokio::spawn(async move {
                let post = format!("{}", i % 7);
                shop.buy_from_link(&buy("CUP", 1 + i % 3, &[("src", "post"), ("post", &post)]))
                    .await
            })
        })
        .collect();
    let mut receipts = std::collections::HashSet::new();
    let mut orders = std::collections::HashSet::new();
    for buy in buys {
        let started = buy.await.unwrap().expect("every buy succeeds");
        assert!(receipts.insert(started.receipt_token));
        assert!(orders.insert(started.order_ref));
    }
    let took = started.elapsed();
    println!("200 concurrent buys: {took:?}");
    assert_eq!(count(&shop, "orders").await, 200);
    assert_eq!(count(&shop, "charges").await, 200);
    let with_receipts: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT receipt_hash) FROM orders WHERE channel = 'post' AND status = 'awaiting_payment'",
    )
    .fetch_one(shop.pool())
    .await
    .unwrap();
    assert_eq!(with_receipts, 200);
}

/// `buyers` concurrent buys of `quantity` of `sku`: (orders made, refusals as sold out).
async fn race(shop: &Shop, sku: &str, quantity: u32, buyers: usize) -> (usize, Vec<String>) {
    let buys: Vec<_> = (0..buyers)
        .map(|_| {
            let shop = shop.clone();
            let sku = sku.to_string();
            tokio::spawn(async move { shop.buy_from_link(&buy(&sku, quantity, &[])).await })
        })
        .collect();
    let (mut sold, mut refused) = (0, Vec::new());
    for buy in buys {
        match buy.await.unwrap() {
            Ok(_) => sold += 1,
            Err(error) => {
                assert_eq!(error.code(), ErrorCode::SoldOut, "{error}");
                refused.push(error.to_string());
            }
        }
    }
    (sold, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_buyers_get_exactly_what_is_left_and_an_expired_checkout_frees_it() {
    let (shop, _dir) = selling_shop().await;
    let last = listed(&shop, "LAST", "青花瓷杯", "88", Some(1)).await;
    listed(&shop, "THREE", "龙井", "50", Some(3)).await;

    let (sold, refused) = race(&shop, "LAST", 1, 20).await;
    assert_eq!(
        (sold, refused.len()),
        (1, 19),
        "one buyer gets the last cup"
    );
    assert!(
        refused.iter().all(|r| r == "青花瓷杯已售罄。"),
        "{refused:?}"
    );

    // 3 left, 2 each: one buyer gets 2, the others are told 1 is left, and 1 still sells.
    let (sold, refused) = race(&shop, "THREE", 2, 20).await;
    assert_eq!((sold, refused.len()), (1, 19));
    assert!(
        refused
            .iter()
            .all(|r| r == "龙井只剩 1 件，请选择 1 件或更少。"),
        "{refused:?}"
    );
    assert_eq!(race(&shop, "THREE", 1, 5).await.0, 1);
    assert_eq!(count(&shop, "orders").await, 3);
    // Nothing is taken out of stock until a payment comes.
    let stock: i64 = sqlx::query_scalar("SELECT stock FROM products WHERE id = $1")
        .bind(last)
        .fetch_one(shop.pool())
        .await
        .unwrap();
    assert_eq!(stock, 1);

    // The buyer who held the last cup walked away: once the checkout expires it sells again.
    sqlx::query(
        "UPDATE charges SET expires_at = $1 WHERE order_id IN (
           SELECT order_id FROM order_lines WHERE product_id = $2)",
    )
    .bind(jiff::Timestamp::now().as_millisecond() - 1)
    .bind(last)
    .execute(shop.pool())
    .await
    .unwrap();
    shop.buy_from_link(&buy("LAST", 1, &[])).await.unwrap();
    let error = shop.buy_from_link(&buy("LAST", 1, &[])).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::SoldOut);
}

/// A Stripe stand-in that takes `delay` to answer a checkout, then opens it or fails.
struct SlowCheckout {
    delay: Duration,
    fails: bool,
}

#[async_trait::async_trait]
impl shopcast_payments::PaymentProvider for SlowCheckout {
    fn kind(&self) -> shopcast_payments::ProviderKind {
        shopcast_payments::ProviderKind::Stripe
    }
    async fn create_charge(
        &self,
        request: &shopcast_payments::ChargeRequest,
    ) -> Result<shopcast_payments::Charge, shopcast_payments::ProviderError> {
        tokio::time::sleep(self.delay).await;
        if self.fails {
            return Err(shopcast_payments::ProviderError::Unreachable {
                provider: shopcast_payments::ProviderKind::Stripe,
                detail: "connection reset".into(),
            });
        }
        Ok(shopcast_payments::Charge {
            charge_ref: format!("cs_slow_{}", request.order_ref),
            qr_payload: "https://checkout.stripe.com/c/pay/cs_slow".into(),
            expires_at: request.expires_at,
            raw: "{}".into(),
        })
    }
    async fn poll(
        &self,
        _: Option<&str>,
        _: &[shopcast_payments::OpenCharge],
    ) -> Result<shopcast_payments::PollOutcome, shopcast_payments::ProviderError> {
        Ok(Default::default())
    }
    async fn cancel(
        &self,
        _: &shopcast_payments::OpenCharge,
    ) -> Result<(), shopcast_payments::ProviderError> {
        Ok(())
    }
    async fn refund(
        &self,
        _: &shopcast_payments::RefundRequest,
    ) -> Result<shopcast_payments::Refund, shopcast_payments::ProviderError> {
        unreachable!()
    }
}

/// Orders still open or awaiting payment that have no charge.
async fn open_without_charge(shop: &Shop) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM orders o WHERE o.status IN ('open', 'awaiting_payment')
         AND NOT EXISTS (SELECT 1 FROM charges c WHERE c.order_id = o.id)",
    )
    .fetch_one(shop.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_buy_dropped_midway_leaves_its_order_with_a_checkout_or_cancelled() {
    let (shop, _dir) = selling_shop().await;
    listed(&shop, "CUP", "Cup", "8", Some(1)).await;
    for (made, fails) in [(1, true), (2, false)] {
        shop.payments().connect(Arc::new(SlowCheckout {
            delay: Duration::from_millis(400),
            fails,
        }));
        // The server's deadline gives up on the buyer while the provider is still answering.
        let gave_up = tokio::time::timeout(
            Duration::from_millis(50),
            shop.buy_from_link(&buy("CUP", 1, &[])),
        )
        .await;
        assert!(gave_up.is_err(), "the checkout was still being made");
        wait_for(|| async {
            count(&shop, "orders").await == made && open_without_charge(&shop).await == 0
        })
        .await;
    }
    let (awaiting, cancelled): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'awaiting_payment'), count(*) FILTER (WHERE status = 'cancelled') FROM orders",
    )
    .fetch_one(shop.pool())
    .await
    .unwrap();
    assert_eq!(
        (awaiting, cancelled),
        (1, 1),
        "one got its checkout, the failed one was closed"
    );
    // The checkout that opened holds the only cup; the cancelled order holds nothing.
    let error = shop.buy_from_link(&buy("CUP", 1, &[])).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::SoldOut);
}

/// A Stripe event as its feed and webhooks carry it, about the Checkout Session `session`.
fn stripe_event(id: &str, kind: &str, session: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": jiff::Timestamp::now().as_second(),
        "data": {"object": session},
        "livemode": false,
        "pending_webhooks": 1,
        "type": kind,
    })
}

/// The Checkout Session of a shop-page order as Stripe echoes it, receipt address included.
fn paid_session(order_ref: &str, amount: Option<i64>, token: &str) -> serde_json::Value {
    serde_json::json!({
        "id": format!("cs_test_{}", order_ref.replace('-', "")),
        "object": "checkout.session",
        "amount_total": amount,
        "currency": "cny",
        "client_reference_id": "link",
        "metadata": {"order_ref": order_ref},
        "mode": "payment",
        "payment_intent": format!("pi_web_{}", order_ref.replace('-', "")),
        "payment_status": "paid",
        "status": "complete",
        "success_url": format!("{PUBLIC}/r/{token}"),
        "cancel_url": format!("{PUBLIC}/r/{token}?cancelled=1"),
    })
}

#[tokio::test]
async fn stripe_events_echoing_the_receipt_address_are_stored_without_its_token() {
    // Keys go to the 0600 file here, never to the keychain of whoever runs the tests.
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let (shop, dir) = selling_shop().await;
    const WHSEC: &str = "whsec_test_Jq8vN2cXr5LmT0yKa7Hw3Pd9Fs6Ub1Ze";
    let feed: Arc<std::sync::Mutex<Vec<serde_json::Value>>> = Default::default();
    let listed_events = feed.clone();
    let stripe = capture::CaptureServer::start(move |request| {
        if request.path == "/v1/checkout/sessions" {
            let session = serde_json::json!({
                "id": format!("cs_test_{}", request.field("metadata[order_ref]").replace('-', "")),
                "object": "checkout.session",
                "url": "https://checkout.stripe.com/c/pay/cs_test_echo",
                "success_url": request.field("success_url"),
                "expires_at": jiff::Timestamp::now().as_second() + 1_800,
                "status": "open",
            });
            capture::Reply::json(200, session.to_string())
        } else if request.path == "/v1/events" {
            let data = listed_events.lock().unwrap().clone();
            capture::Reply::json(
                200,
                serde_json::json!({"object": "list", "data": data, "has_more": false}).to_string(),
            )
        } else {
            capture::Reply::json(200, r#"{"object":"list","data":[],"has_more":false}"#)
        }
    })
    .await;
    shop.connect_stripe(stripe.base.as_str(), capture::SECRET_KEY)
        .await
        .unwrap();
    shop.set_stripe_webhook_secret(Some(WHSEC)).await.unwrap();
    listed(&shop, "CUP", "青花瓷杯", "88", None).await;
    let by_webhook = shop.buy_from_link(&buy("CUP", 1, &[])).await.unwrap();
    let by_poll = shop.buy_from_link(&buy("CUP", 1, &[])).await.unwrap();

    // Signed deliveries: the payment, and one Stripe sent that cannot be read (kept for review).
    let header = |payload: &str| {
        shopcast_payments::stripe::signature_header(
            &shopcast_payments::stripe::WebhookSecret::new(WHSEC).unwrap(),
            payload.as_bytes(),
            jiff::Timestamp::now().as_second(),
        )
    };
    for (id, amount) in [("evt_1HookPaid", Some(8800)), ("evt_1HookOdd", None)] {
        let payload = stripe_event(
            id,
            "checkout.session.completed",
            paid_session(&by_webhook.order_ref, amount, &by_webhook.receipt_token),
        )
        .to_string();
        shop.record_stripe_webhook(&header(&payload), payload.as_bytes())
            .await
            .unwrap();
    }
    // The event feed the watcher polls: the same two kinds for the other order.
    feed.lock().unwrap().extend([
        stripe_event(
            "evt_1PollPaid",
            "checkout.session.completed",
            paid_session(&by_poll.order_ref, Some(8800), &by_poll.receipt_token),
        ),
        stripe_event(
            "evt_1PollOdd",
            "checkout.session.completed",
            paid_session(&by_poll.order_ref, None, &by_poll.receipt_token),
        ),
    ]);
    wait_for(|| async {
        shop.receipt(&by_poll.receipt_token, PUBLIC)
            .await
            .unwrap()
            .is_some_and(|r| r.paid)
    })
    .await;
    assert!(
        shop.receipt(&by_webhook.receipt_token, PUBLIC)
            .await
            .unwrap()
            .unwrap()
            .paid
    );
    assert_eq!(count(&shop, "payment_events").await, 2);
    assert_eq!(count(&shop, "unreadable_payment_events").await, 2);
    // What is kept is still Stripe's text, with the address's token taken out.
    let raws: Vec<String> = sqlx::query_scalar(
        "SELECT raw FROM payment_events UNION ALL SELECT raw FROM unreadable_payment_events",
    )
    .fetch_all(shop.pool())
    .await
    .unwrap();
    for raw in &raws {
        assert!(
            raw.contains(&format!("{PUBLIC}/r/(receipt)")) && raw.contains("checkout.session"),
            "{raw}"
        );
    }
    for token in [&by_webhook.receipt_token, &by_poll.receipt_token] {
        assert_not_stored(&shop, token).await;
    }
    // Nor in the file's bytes, journal included.
    shop.close().await;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for token in [&by_webhook.receipt_token, &by_poll.receipt_token] {
            assert!(
                !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                "the receipt token is in {}",
                path.display()
            );
        }
    }
}

#[tokio::test]
async fn the_shop_page_search_never_matches_the_owners_tags() {
    let (shop, _dir) = shop_with("CNY").await;
    let mut cup = draft("青花瓷杯", "88");
    cup.sku = Some("CUP-1".into());
    cup.description = "Painted by hand".into();
    // The owner's own words: a supplier, a margin note, a two-letter code.
    cup.tags = vec!["supplierjingdezhen".into(), "低利润".into(), "zq".into()];
    let cup = shop.create_product(&cup).await.unwrap().id;
    for tag in ["supplierjingdezhen", "jingdezhen", "低利润", "利润", "zq"] {
        let public = shop.shop_page_index(tag, 1).await.unwrap();
        assert!(public.products.is_empty(), "{tag} found {public:?}");
        let owner = shop
            .list_products(&shopcast_core::ProductQuery {
                search: Some(tag.into()),
                limit: 50,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            owner.items.iter().map(|p| p.id).collect::<Vec<_>>(),
            [cup],
            "the owner's catalog still finds {tag}"
        );
    }
    // Name, description and SKU still find it, words of any length together.
    for search in ["瓷杯", "青花瓷", "painted hand", "cup-1", "by 青花瓷杯"] {
        let found = shop.shop_page_index(search, 1).await.unwrap();
        assert_eq!(found.products.len(), 1, "{search}");
    }
}
