//! The generated catalog CSV the catalog benches import: mixed Latin and Chinese names,
//! descriptions with commas, prices, stock and two tags per row, from a fixed seed.

use std::io::Write;

pub const WORDS: &[&str] = &[
    "tea",
    "cup",
    "vase",
    "scarf",
    "candle",
    "bowl",
    "notebook",
    "soap",
    "linen",
    "ceramic",
    "wool",
    "oak",
    "龙井",
    "绿茶",
    "青花瓷",
    "丝巾",
    "蜡烛",
    "陶瓷",
    "笔记本",
    "手工",
    "香皂",
    "木碗",
];

/// Products per bench run: SHOPCAST_BENCH_PRODUCTS, 100,000 unless set.
pub fn bench_size() -> usize {
    std::env::var("SHOPCAST_BENCH_PRODUCTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// A runtime like the app's (several worker threads).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Writes `count` rows with SKUs `SKU-<first>` … to `path`.
pub fn write_catalog(path: &std::path::Path, count: usize, first: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(file, "sku,name,description,price,currency,stock,tags").unwrap();
    let mut seed: u64 = 0x5eed;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in first..first + count {
        let a = WORDS[(next() % WORDS.len() as u64) as usize];
        let b = WORDS[(next() % WORDS.len() as u64) as usize];
        let c = WORDS[(next() % WORDS.len() as u64) as usize];
        let price = next() % 100_000;
        writeln!(
            file,
            "SKU-{i:07},{a} {b} {i},\"Handmade {c}, {b} and {a} — 手工制作\",{}.{:02},CNY,{},{a};{c}",
            price / 100,
            price % 100,
            next() % 500
        )
        .unwrap();
    }
}
