//! Integration tests of the engine on real SQLite files in temporary folders.

//! One file per room of the engine (`crates/core/src/<room>/`), with the fixtures they share.

mod catalog;
mod infra;
mod money;
mod payments;
mod posting;
mod reports;
mod settings;
mod signage;

use shopcast_core::{ProductDraft, Shop, ShopSettings};

/// A shop in a fresh temporary folder, set up with `currency`.
pub async fn shop_with(currency: &str) -> (Shop, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let shop = Shop::open(dir.path()).await.unwrap();
    shop.save_settings(ShopSettings {
        name: "小店 Test Shop".into(),
        currency: currency.into(),
        timezone: "Asia/Shanghai".into(),
        locale: "zh-CN".into(),
        buy_link_base: "https://shop.example.com/p/".into(),
    })
    .await
    .unwrap();
    (shop, dir)
}

pub fn draft(name: &str, price: &str) -> ProductDraft {
    ProductDraft {
        name: name.into(),
        price: price.into(),
        ..Default::default()
    }
}
