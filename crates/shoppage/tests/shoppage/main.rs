//! The shop page on real sockets against a real shop (a SQLite file in a temp folder, test
//! mode on), attacked as the internet would: prefetchers, forged and replayed forms, floods
//! from many addresses, idle and slow connections, oversized bodies, hostile owner text.

mod buy;
mod hooks;
mod pages;
mod server;

use std::net::SocketAddr;
use std::time::Duration;

use shopcast_core::{ProductDraft, Shop};
use shopcast_shoppage::{ShopPage, ShopPageLimits, ShopPageOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The owner's texts, hostile on purpose.
pub const SHOP_NAME: &str = "Lin's <Tea> \"House\" 茶馆";
pub const TEA_NAME: &str = "青花瓷杯 <script>alert(\"x\")</script> & 'cups'";
pub const TEA_DESCRIPTION: &str = "手工 <b>bold</b> \"quoted\"\nsecond line";

/// A shop page on 127.0.0.1 over a fresh shop with three products: TEA-1 (with a photo),
/// SOLD-1 (stock 0) and OLD-1 (archived).
pub struct Fixture {
    pub shop: Shop,
    pub page: ShopPage,
    pub base: String,
    pub photo_hash: String,
    _dir: tempfile::TempDir,
}

pub async fn start(locale: &str, limits: ShopPageLimits) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let shop = Shop::open(dir.path()).await.unwrap();
    shop.set_setting("shop.name", SHOP_NAME).await.unwrap();
    shop.set_setting("shop.currency", "CNY").await.unwrap();
    shop.set_setting("shop.locale", locale).await.unwrap();
    let tea = shop
        .create_product(&draft("TEA-1", TEA_NAME, TEA_DESCRIPTION, None))
        .await
        .unwrap();
    let tea = shop.add_photo(tea.id, png(1200, 900)).await.unwrap();
    let photo_hash = tea.photos[0].hash.clone();
    shop.create_product(&draft("SOLD-1", "Sold out mug", "", Some(0)))
        .await
        .unwrap();
    let old = shop
        .create_product(&draft("OLD-1", "Archived teapot", "", None))
        .await
        .unwrap();
    shop.set_archived(old.id, true).await.unwrap();
    let page = serve(&shop, limits).await;
    let base = format!("http://{}", page.addr);
    Fixture {
        shop,
        page,
        base,
        photo_hash,
        _dir: dir,
    }
}

/// Serves `shop` on a free loopback port whose address is also its public URL.
pub async fn serve(shop: &Shop, limits: ShopPageLimits) -> ShopPage {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen: SocketAddr = ([127, 0, 0, 1], port).into();
    shopcast_shoppage::serve(
        shop.clone(),
        ShopPageOptions {
            listen,
            public_url: format!("http://{listen}"),
            limits,
            trust_proxy: false,
        },
    )
    .await
    .unwrap()
}

pub fn draft(sku: &str, name: &str, description: &str, stock: Option<i64>) -> ProductDraft {
    ProductDraft {
        sku: Some(sku.into()),
        name: name.into(),
        description: description.into(),
        price: "88".into(),
        currency: None,
        stock,
        tags: vec![],
        ..Default::default()
    }
}

/// A PNG photo of `width`×`height`.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

/// How many orders the shop holds (ids count up from 1 and orders are never deleted).
pub async fn order_count(shop: &Shop) -> i64 {
    let mut count = 0;
    while shop.order(count + 1).await.is_ok() {
        count += 1;
    }
    count
}

/// A client that does not follow redirects (so a 303 can be seen).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

pub async fn page_text(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// The value of the form field `name` in `html` (as the pages write hidden fields).
pub fn field(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

pub fn location(reply: &reqwest::Response) -> String {
    reply
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Sends `request` byte for byte and reads until the server closes: (status, whole reply).
pub async fn send_raw(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let _ = socket.write_all(request).await;
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut reply)).await;
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, reply)
}

/// Buys `quantity` of `sku` from a fresh product page: the reply to the Buy POST.
pub async fn buy(
    client: &reqwest::Client,
    base: &str,
    sku: &str,
    query: &str,
) -> reqwest::Response {
    let page = page_text(client, format!("{base}/p/{sku}{query}")).await;
    let mut form = vec![("csrf", field(&page, "csrf").expect("a form token"))];
    for key in ["src", "sign", "post", "order"] {
        if let Some(value) = field(&page, key) {
            form.push((key, value));
        }
    }
    form.push(("quantity", "1".into()));
    client
        .post(format!("{base}/p/{sku}/buy"))
        .form(&form)
        .send()
        .await
        .unwrap()
}
