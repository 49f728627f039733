//! `shopcast serve`: the shop page (products, Buy, receipts, provider callbacks) served
//! headless from the shop file, with the saved providers watched, until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use shopcast_core::Shop;

use super::Failure;
use crate::shop_page::{self, StartError};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on, e.g. 127.0.0.1:8080 behind a reverse proxy or tunnel.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Where buyers reach the shop page, e.g. https://shop.example.com; saved as
    /// shop.public_url (buy links on posts and signs use it).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Take the buyer's address from X-Forwarded-For, sent by a reverse proxy or tunnel on
    /// this computer (for the per-buyer limits); needs a loopback --listen.
    #[arg(long)]
    pub trust_proxy: bool,
}

impl From<StartError> for Failure {
    fn from(error: StartError) -> Self {
        Failure {
            code: error.code(),
            message: error.message(),
            field: None,
        }
    }
}

pub async fn run(shop: &Shop, args: ServeArgs) -> Result<(), Failure> {
    let listen: SocketAddr = args.listen.trim().parse().map_err(|_| {
        Failure::usage(format!(
            "--listen {} is not an address and port such as 127.0.0.1:8080",
            args.listen
        ))
    })?;
    // The address given now, else the one saved by an earlier run or in the window.
    let has_public_url = match &args.public_url {
        Some(url) => !url.trim().is_empty(),
        None => !shop.settings().await?.public_url.is_empty(),
    };
    if listen.ip().is_unspecified() && !has_public_url {
        // Links, receipts and payment returns are built on the public address; "0.0.0.0"
        // is where we listen, not an address any buyer can open.
        return Err(Failure::usage(format!(
            "--listen {listen} listens on every network this computer is on, so there is no single address to put in buy links: add --public-url with the address buyers use (e.g. https://shop.example.com; it is saved for next time), or listen on 127.0.0.1 behind a reverse proxy or tunnel"
        )));
    }
    if args.trust_proxy && !listen.ip().is_loopback() {
        // Only a proxy on this computer can reach a loopback listener; elsewhere any client
        // could send X-Forwarded-For and take another buyer's address for the limits.
        return Err(Failure::usage(format!(
            "--trust-proxy needs --listen on 127.0.0.1 or [::1] (a reverse proxy or tunnel on this computer), not {listen}: otherwise any client could claim any address"
        )));
    }
    if let Some(url) = &args.public_url {
        let saved = shop.set_setting("shop.public_url", url).await?;
        println!("saved shop.public_url = {}", saved.public_url);
    }
    let settings = shop.settings().await?;
    let public_url = shop_page::public_url_or(&settings, listen);
    watch_saved_providers(shop).await?;
    let options = shopcast_shoppage::ShopPageOptions {
        listen,
        public_url: public_url.clone(),
        limits: Default::default(),
        trust_proxy: args.trust_proxy,
    };
    let running = shop_page::start(shop, options).await?;
    // Listening for SIGTERM before saying so: a service manager may stop it at once.
    let stop = crate::cli::stopped();
    println!("shop page listening on http://{}", running.addr);
    println!("public address: {public_url}");
    if settings.public_url.is_empty() {
        eprintln!(
            "shopcast: no public address saved: links point at {public_url}; give --public-url for buyers on the internet"
        );
    }
    stop.await;
    drop(running);
    println!("shop page stopped");
    Ok(())
}

/// The saved providers' watchers, as `payments watch` runs them (test mode is the shop
/// page's own: it serves the test checkout); without any, the pages still show.
async fn watch_saved_providers(shop: &Shop) -> Result<(), Failure> {
    let settings = shop.payment_settings().await?;
    let providers = shop.saved_payment_providers().await?;
    if providers.is_empty() && !settings.test_mode {
        eprintln!(
            "shopcast: no payment provider is set up: the pages show, and Buy says the shop cannot take payments yet (`shopcast providers add`, or turn test mode on)"
        );
    }
    let payments = shop.payments();
    payments.set_poll_interval(Duration::from_millis(u64::from(settings.poll_ms)));
    for provider in providers {
        payments.connect(provider);
    }
    Ok(())
}
