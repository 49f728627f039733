//! Outbox throughput: 100 product posts (each with a photo) queued for one Bluesky account
//! and published to the reference PDS (started from tests/peers/pds) by the outbox worker
//! with its bounded concurrency. Run: `cargo bench -p shopcast-core --bench outbox`
//! (SHOPCAST_BENCH_POSTS to change the count). Needs `tests/peers/setup.sh` to have run.

#[path = "../../social/tests/bluesky/pds.rs"]
#[allow(dead_code)]
mod pds;

use std::time::Instant;

use shopcast_core::{ComposeRequest, ProductDraft, Shop, ShopSettings};
use shopcast_social::Network;

fn photo() -> Vec<u8> {
    let image = image::RgbImage::from_fn(800, 600, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

fn main() {
    let count: usize = std::env::var("SHOPCAST_BENCH_POSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    // Keys go to the 0600 file in the temp shop, never to a keychain.
    unsafe { std::env::set_var("SHOPCAST_SECRETS", "file") };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let pds = pds::Pds::start();
        let account = pds.create_account("bench.test").await;
        let password = pds.create_app_password(&account, "bench").await;
        let dir = tempfile::tempdir().unwrap();
        let shop = Shop::open(dir.path()).await.unwrap();
        shop.save_settings(ShopSettings {
            name: "Bench 小店".into(),
            currency: "CNY".into(),
            timezone: "Asia/Shanghai".into(),
            locale: "zh-CN".into(),
            buy_link_base: "https://shop.example.com/p/".into(),
            public_url: String::new(),
            ..Default::default()
        })
        .await
        .unwrap();
        let linked = shop
            .connect_account(Network::Bluesky, &pds.url, &account.handle, &password, serde_json::json!({}))
            .await
            .unwrap();
        let product = shop
            .create_product(&ProductDraft { name: "青花瓷杯".into(), price: "88".into(), sku: Some("CUP-1".into()), ..Default::default() })
            .await
            .unwrap();
        shop.add_photo(product.id, photo()).await.unwrap();
        for _ in 0..count {
            shop.queue_posts(&ComposeRequest { product_id: product.id, account_ids: vec![linked.id], ..Default::default() })
                .await
                .unwrap();
        }
        let started = Instant::now();
        let mut posted = 0;
        while posted < count {
            posted += shop
                .outbox()
                .run_due(jiff::Timestamp::now())
                .await
                .unwrap()
                .iter()
                .filter(|p| p.status == "posted")
                .count();
        }
        let elapsed = started.elapsed();
        assert_eq!(pds.posts(&account.did).await.len(), count);
        println!(
            "outbox: {count} posts with a photo to the local PDS in {:.2} s = {:.1} posts/s (concurrency {})",
            elapsed.as_secs_f64(),
            count as f64 / elapsed.as_secs_f64(),
            shopcast_core::posting::outbox::CONCURRENCY
        );
        shop.close().await;
    });
}
