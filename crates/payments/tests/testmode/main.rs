//! The test checkout server on real sockets, attacked as a client on the shop's Wi-Fi could:
//! prefetched links, forged forms, floods, slow and oversized requests, path tricks.

mod bad_input;
mod checkout;
mod provider;
mod server;
// Only its counting is used here.
#[path = "../support/form.rs"]
mod form;
#[allow(dead_code)]
#[path = "../support/tally.rs"]
mod tally;

pub use form::field;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use shopcast_payments::testmode::{
    CheckoutLimits, CheckoutServer, LinkProduct, LinkSales, TestMode,
};
use shopcast_payments::{ChargeRequest, PaymentProvider};

/// The shop behind the buy links: one product, "TEA-1", and a count of the orders made.
#[derive(Default)]
pub struct Shop {
    pub mode: Mutex<Option<TestMode>>,
    pub orders: AtomicUsize,
    pub attributions: Mutex<Vec<HashMap<String, String>>>,
}

#[async_trait]
impl LinkSales for Shop {
    async fn product_for_link(&self, sku: &str) -> Result<Option<LinkProduct>, String> {
        Ok((sku == "TEA-1").then(|| LinkProduct {
            name: "龙井 <tea> & \"cups\"".into(),
            price_minor: 8_800,
            currency: "CNY".into(),
        }))
    }

    async fn sale_for_link(
        &self,
        sku: &str,
        query: &HashMap<String, String>,
    ) -> Result<String, String> {
        if sku != "TEA-1" {
            return Err("No such product.".into());
        }
        let number = self.orders.fetch_add(1, Ordering::SeqCst) + 1;
        self.attributions.lock().unwrap().push(query.clone());
        let mode = self.mode.lock().unwrap().clone().unwrap();
        let charge = mode
            .create_charge(&request(&format!("O-{number}"), 8_800))
            .await
            .map_err(|e| e.to_string())?;
        Ok(charge.charge_ref)
    }
}

pub fn request(order_ref: &str, amount_minor: i64) -> ChargeRequest {
    ChargeRequest {
        order_ref: order_ref.into(),
        amount_minor,
        currency: "CNY".into(),
        subject: "青花瓷杯 ×2".into(),
        lines: vec![],
        expires_at: Timestamp::now() + jiff::SignedDuration::from_mins(10),
        source_tag: None,
        web: None,
    }
}

pub fn test_mode() -> TestMode {
    TestMode::new(Arc::new(|minor: i64, currency: &str| {
        format!("{currency} {}.{:02}", minor / 100, minor % 100)
    }))
}

/// A checkout server on 127.0.0.1 with `limits`, selling through a counting [`Shop`].
pub async fn checkout(limits: CheckoutLimits) -> (TestMode, CheckoutServer, Arc<Shop>, String) {
    let mode = test_mode();
    let shop = Arc::new(Shop::default());
    *shop.mode.lock().unwrap() = Some(mode.clone());
    mode.set_link_sales(shop.clone());
    let server = mode
        .serve_with("127.0.0.1:0".parse().unwrap(), None, limits)
        .await
        .unwrap();
    let base = format!("http://{}", server.addr);
    (mode, server, shop, base)
}

/// A client that does not follow redirects (so a 303 can be seen).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The page at `url` as text.
pub async fn page_text(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// Posts `form` to `url` as a browser submits a form.
pub async fn post_form(
    client: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    form: &(impl serde::Serialize + ?Sized),
) -> reqwest::Response {
    client.post(url).form(form).send().await.unwrap()
}

pub fn addr(base: &str) -> SocketAddr {
    base.trim_start_matches("http://").parse().unwrap()
}
