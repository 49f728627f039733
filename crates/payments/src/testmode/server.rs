//! The test checkout's HTTP server, built to face a shop's Wi-Fi: the shared hardened server
//! (shopcast-net) with the checkout's limits, on its own listener or mounted in the shop page.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use shopcast_net::server::{Server, ServerLimits};
use tokio::net::TcpListener;

use super::TestMode;
use super::routes;

/// How much the checkout server lets any client take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutLimits {
    /// Open connections at most; past it the oldest idle one is closed for the newcomer (none
    /// idle: the newcomer is refused).
    pub max_connections: usize,
    /// Open connections one client (an IPv4 address, an IPv6 /64) may hold; past it that
    /// client's oldest idle one is closed, so one client cannot fill the server.
    pub max_connections_per_client: usize,
    /// A request's headers must arrive within this (slow-loris clients are cut off).
    pub header_timeout: Duration,
    /// Reading the body and answering must finish within this.
    pub request_timeout: Duration,
    /// Largest request body (forms are a few hundred bytes).
    pub max_body_bytes: usize,
    /// Orders one device may start at once, and per minute after that.
    pub orders_burst: u32,
    pub orders_per_minute: u32,
    /// Pay/Decline presses one device may make at once, and per minute after that.
    pub settle_burst: u32,
    pub settle_per_minute: u32,
}

impl Default for CheckoutLimits {
    fn default() -> Self {
        CheckoutLimits {
            max_connections: 1024,
            max_connections_per_client: 32,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(15),
            max_body_bytes: 4 * 1024,
            orders_burst: 5,
            orders_per_minute: 10,
            settle_burst: 10,
            settle_per_minute: 30,
        }
    }
}

impl CheckoutLimits {
    /// The limits the shared server enforces.
    pub(crate) fn server(&self) -> ServerLimits {
        ServerLimits {
            max_connections: self.max_connections,
            max_connections_per_client: self.max_connections_per_client,
            header_timeout: self.header_timeout,
            request_timeout: self.request_timeout,
            max_body_bytes: self.max_body_bytes,
            // The send deadline and the cap on a connection's life: the shared server's.
            ..ServerLimits::default()
        }
    }
}

/// A running checkout server; dropping it stops the server and closes its connections.
pub struct CheckoutServer {
    pub addr: SocketAddr,
    server: Server,
}

impl CheckoutServer {
    /// Connections open now (for tests of the cap).
    pub fn open_connections(&self) -> usize {
        self.server.open_connections()
    }
}

impl TestMode {
    /// Serves the checkout pages on `bind` (127.0.0.1:0 by default; the LAN address when the
    /// owner opts in). `public_host` is the host put into QR URLs (the LAN IP for a phone).
    pub async fn serve(
        &self,
        bind: SocketAddr,
        public_host: Option<&str>,
    ) -> std::io::Result<CheckoutServer> {
        self.serve_with(bind, public_host, CheckoutLimits::default())
            .await
    }

    /// [`TestMode::serve`] with other limits (tests use small ones).
    pub async fn serve_with(
        &self,
        bind: SocketAddr,
        public_host: Option<&str>,
        limits: CheckoutLimits,
    ) -> std::io::Result<CheckoutServer> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let host = match public_host {
            Some(host) => host.to_string(),
            None if addr.is_ipv6() => format!("[{}]", addr.ip()),
            None => addr.ip().to_string(),
        };
        self.set_base_url(Some(format!("http://{host}:{port}", port = addr.port())));
        let router = routes::router(self.clone(), &limits, true);
        let server = shopcast_net::server::serve(
            listener,
            router,
            limits.server(),
            Arc::new(routes::refusal_for),
        )?;
        Ok(CheckoutServer { addr, server })
    }

    /// The checkout's `/pay/*` routes alone, for another server (the shop page) to mount at
    /// its root; that server's base URL must be set with [`TestMode::set_base_url`].
    pub fn checkout_router(&self, limits: &CheckoutLimits) -> axum::Router {
        routes::router(self.clone(), limits, false)
    }
}
