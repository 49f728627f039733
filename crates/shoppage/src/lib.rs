//! The shop's public pages, served by the same engine as the app: product pages with Buy,
//! receipts with share links, the shop index and sitemap, and the providers' callbacks.
//!
//! It faces the internet: the shared hardened server (shopcast-net), single-use form tokens on
//! every POST, per-client limits on order creation, strict security headers on every answer,
//! every owner text escaped, no listing or admin endpoint, nothing private on any page.

mod client;
mod fresh;
mod headers;
mod hooks;
mod pages;
mod routes;
mod words;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shopcast_core::Shop;
use shopcast_net::server::{Server, ServerLimits};
use shopcast_payments::testmode::CheckoutLimits;
use tokio::net::TcpListener;

pub use client::is_phone;

/// Where and how the shop page listens.
#[derive(Debug, Clone)]
pub struct ShopPageOptions {
    pub listen: SocketAddr,
    /// The address buyers reach it at (`https://shop.example.com`), no trailing slash: the base
    /// of every absolute link (OpenGraph, sitemap, receipts, the test checkout).
    pub public_url: String,
    pub limits: ShopPageLimits,
    /// Behind a reverse proxy on this computer: the client is the last `X-Forwarded-For`
    /// address, and connections are not capped per client (they all come from the proxy).
    pub trust_proxy: bool,
}

/// How much the shop page lets any client take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopPageLimits {
    /// Open connections at most, and per client (an IPv4 address, an IPv6 /64).
    pub max_connections: usize,
    pub max_connections_per_client: usize,
    /// Headers must arrive within this; reading the body and answering within the other.
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    /// An answer the client stops taking must be sent within this; a connection lives at
    /// most the other, however busy (see shopcast-net's `ServerLimits`).
    pub send_timeout: Duration,
    pub max_connection_life: Duration,
    /// Largest form body (a Buy form is a few hundred bytes).
    pub max_form_bytes: usize,
    /// Largest provider callback body (a Stripe event is a few KiB).
    pub max_hook_bytes: usize,
    /// Orders one client may start at once, and per minute after that.
    pub orders_burst: u32,
    pub orders_per_minute: u32,
    /// Orders all clients together may start at once, and per minute after that: many
    /// addresses (a /48 of IPv6 is 65,536 clients) cannot make unbounded orders either.
    pub shop_orders_burst: u32,
    pub shop_orders_per_minute: u32,
}

impl Default for ShopPageLimits {
    fn default() -> Self {
        let server = ServerLimits::default();
        ShopPageLimits {
            max_connections: server.max_connections,
            // More than the test checkout's: buyers behind one carrier or office NAT share
            // an address, and a bench at 64 connections comes from one.
            max_connections_per_client: 128,
            header_timeout: server.header_timeout,
            request_timeout: server.request_timeout,
            send_timeout: server.send_timeout,
            max_connection_life: server.max_connection_life,
            max_form_bytes: 4 * 1024,
            max_hook_bytes: 256 * 1024,
            orders_burst: 5,
            orders_per_minute: 10,
            // Well above a real shop's rush (and the load tests' 250 at once), far below a
            // flood's: an hour of it is 7,500 orders at most.
            shop_orders_burst: 300,
            shop_orders_per_minute: 120,
        }
    }
}

/// What the owner sees of a running shop page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopPageStatus {
    /// The address it listens on ("127.0.0.1:8080").
    pub listening: String,
    pub public_url: String,
    /// When the last request came in, UTC ms.
    pub last_request_at: Option<i64>,
    /// Requests answered since it started.
    pub requests: u64,
}

/// Whether the public address reaches this very server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reachability {
    Reachable,
    /// The address answered, but not as this server (another site, an old tunnel).
    SomeoneElse {
        detail: String,
    },
    /// Nothing answered (DNS, TLS, refused, timed out).
    Unreachable {
        detail: String,
    },
}

/// Counts requests and notes which of its own reachability checks came back here.
#[derive(Default)]
pub(crate) struct Activity {
    requests: AtomicU64,
    /// UTC ms of the last request; 0 before the first.
    last_request_at: AtomicI64,
    /// Nonces of the checks under way, and whether each has arrived. Only nonces this server
    /// made are noted, so strangers' requests cannot crowd out the real one.
    pending: Mutex<HashMap<String, bool>>,
}

impl Activity {
    pub(crate) fn saw_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.last_request_at
            .store(jiff::Timestamp::now().as_millisecond(), Ordering::Relaxed);
    }

    /// A /healthz request carried `nonce`: noted when it is one of ours.
    pub(crate) fn heard_nonce(&self, nonce: &str) {
        if let Some(heard) = self.pending.lock().expect("lock").get_mut(nonce) {
            *heard = true;
        }
    }

    /// Starts waiting for `nonce`; the wait ends when the guard goes (also if the check is
    /// dropped midway), so the set holds only checks under way.
    fn expect_nonce(&self, nonce: &str) -> Expecting<'_> {
        self.pending
            .lock()
            .expect("lock")
            .insert(nonce.to_string(), false);
        Expecting {
            activity: self,
            nonce: nonce.to_string(),
        }
    }
}

/// A reachability check waiting for its nonce (see [`Activity::expect_nonce`]).
struct Expecting<'a> {
    activity: &'a Activity,
    nonce: String,
}

impl Expecting<'_> {
    fn heard(&self) -> bool {
        let pending = self.activity.pending.lock().expect("lock");
        pending.get(&self.nonce).copied().unwrap_or(false)
    }
}

impl Drop for Expecting<'_> {
    fn drop(&mut self) {
        self.activity
            .pending
            .lock()
            .expect("lock")
            .remove(&self.nonce);
    }
}

/// A running shop page; dropping it stops the server and closes its connections.
pub struct ShopPage {
    pub addr: SocketAddr,
    public_url: String,
    activity: Arc<Activity>,
    _server: Server,
}

/// Starts the shop page on `options.listen`. With test mode on, the test checkout's `/pay/*`
/// pages are served here too, under the public address.
pub async fn serve(shop: Shop, options: ShopPageOptions) -> std::io::Result<ShopPage> {
    let public_url = options.public_url.trim_end_matches('/').to_string();
    let limits = options.limits.clone();
    // Listening first: a port in use must leave test mode's checkout where it was, not
    // pointed at a shop page that never started.
    let listener = TcpListener::bind(options.listen).await?;
    let addr = listener.local_addr()?;
    let checkout = match shop.payment_settings().await {
        Ok(settings) if settings.test_mode => {
            let mode = shop
                .start_test_mode_for_shop_page(&public_url)
                .await
                .map_err(std::io::Error::other)?;
            let checkout_limits = CheckoutLimits {
                max_body_bytes: limits.max_form_bytes,
                ..CheckoutLimits::default()
            };
            Some(mode.checkout_router(&checkout_limits))
        }
        Ok(_) => None,
        Err(error) => return Err(std::io::Error::other(error)),
    };
    // Every connection is a descriptor, and SQLite and the media store need some too.
    let wanted = limits.max_connections as u64 + 256;
    if shopcast_net::server::raise_open_file_limit(wanted) < wanted {
        tracing::warn!(
            wanted,
            "the open-file limit is below what the connection cap needs"
        );
    }
    let activity = Arc::new(Activity::default());
    let router = routes::router(
        shop,
        routes::Settings {
            public_url: public_url.clone(),
            trust_proxy: options.trust_proxy,
            limits: limits.clone(),
        },
        activity.clone(),
        checkout,
    );
    let server_limits = ServerLimits {
        max_connections: limits.max_connections,
        // Behind a proxy every connection comes from it: only the total is capped.
        max_connections_per_client: if options.trust_proxy {
            limits.max_connections
        } else {
            limits.max_connections_per_client
        },
        header_timeout: limits.header_timeout,
        request_timeout: limits.request_timeout,
        send_timeout: limits.send_timeout,
        max_connection_life: limits.max_connection_life,
        max_body_bytes: limits.max_hook_bytes.max(limits.max_form_bytes),
    };
    let server = shopcast_net::server::serve(
        listener,
        router,
        server_limits,
        Arc::new(routes::server_refusal(public_url.starts_with("https://"))),
    )?;
    Ok(ShopPage {
        addr,
        public_url,
        activity,
        _server: server,
    })
}

impl ShopPage {
    /// Stops serving and returns once the port is free for a page started next.
    pub async fn stop(self) {
        self._server.stop().await;
    }

    pub fn status(&self) -> ShopPageStatus {
        let at = self.activity.last_request_at.load(Ordering::Relaxed);
        ShopPageStatus {
            listening: self.addr.to_string(),
            public_url: self.public_url.clone(),
            last_request_at: (at > 0).then_some(at),
            requests: self.activity.requests.load(Ordering::Relaxed),
        }
    }

    /// Fetches `{public_url}/healthz?nonce=…` and checks that the nonce came back and that
    /// this server is the one that was asked.
    pub async fn check_reachable(&self) -> Reachability {
        let nonce = random_hex(16);
        let url = format!("{}/healthz?nonce={nonce}", self.public_url);
        let expecting = self.activity.expect_nonce(&nonce);
        let outcome = fetch_nonce(&url, &nonce).await;
        let heard = expecting.heard();
        drop(expecting);
        match outcome {
            Ok(()) if heard => Reachability::Reachable,
            Ok(()) => Reachability::SomeoneElse {
                detail: format!("{url} answered with the nonce, but not from this shop page"),
            },
            Err(reachability) => reachability,
        }
    }
}

/// Fetches `url`: Ok when it answered 2xx with `nonce`.
async fn fetch_nonce(url: &str, nonce: &str) -> Result<(), Reachability> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = match reqwest::Client::builder()
        .redirect(shopcast_net::redirect_policy())
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            return Err(Reachability::Unreachable {
                detail: error.to_string(),
            });
        }
    };
    let reply = match client.get(url).send().await {
        Ok(reply) => reply,
        Err(error) => {
            return Err(Reachability::Unreachable {
                detail: format!("{url}: {error}"),
            });
        }
    };
    let status = reply.status();
    let body = shopcast_net::read_capped(reply, 4096)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    if status.is_success() && body.trim() == nonce {
        Ok(())
    } else {
        Err(Reachability::SomeoneElse {
            detail: format!("{url} answered {status}, not as this shop page"),
        })
    }
}

/// `bytes` random bytes from the OS as lower-case hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the OS random source is available");
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}
