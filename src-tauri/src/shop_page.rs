//! Running the shop page from this binary, for `shopcast serve` and Settings → Shop page:
//! where it listens, when it starts and stops, a failed listen in plain words.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use shopcast_core::settings::ShopPageSettings;
use shopcast_core::{CoreError, ErrorCode, Shop, ShopSettings};
use shopcast_shoppage::{ShopPage, ShopPageOptions};

use crate::error::ApiError;

/// Why the shop page did not start.
#[derive(Debug)]
pub enum StartError {
    Core(CoreError),
    /// The address could not be listened on; the sentence says why and what to do.
    Listen(String),
}

impl From<CoreError> for StartError {
    fn from(error: CoreError) -> Self {
        StartError::Core(error)
    }
}

impl StartError {
    pub fn code(&self) -> ErrorCode {
        match self {
            StartError::Core(error) => error.code(),
            StartError::Listen(_) => ErrorCode::Io,
        }
    }

    pub fn message(&self) -> String {
        match self {
            StartError::Core(error) => error.to_string(),
            StartError::Listen(sentence) => sentence.clone(),
        }
    }
}

impl From<StartError> for ApiError {
    fn from(error: StartError) -> Self {
        match error {
            StartError::Core(error) => error.into(),
            StartError::Listen(message) => ApiError {
                code: ErrorCode::Io,
                message,
                field: Some("port".into()),
            },
        }
    }
}

/// The address buy links and payment returns use: the saved public URL, else the listening
/// address itself (reachable from this computer, or the LAN when bound to a LAN address).
pub fn public_url_or(settings: &ShopSettings, listen: SocketAddr) -> String {
    if settings.public_url.is_empty() {
        format!("http://{listen}")
    } else {
        settings.public_url.clone()
    }
}

/// Starts serving as `options` say; with test mode on, its checkout is served there too
/// under their public URL (the providers themselves are the caller's: the window runs them).
pub async fn start(shop: &Shop, options: ShopPageOptions) -> Result<ShopPage, StartError> {
    let listen = options.listen;
    shopcast_shoppage::serve(shop.clone(), options)
        .await
        .map_err(|error| StartError::Listen(listen_failure(listen, &error)))
}

/// How the window serves the saved settings. X-Forwarded-For is trusted only when the owner
/// turned it on (a raw tunnel passes on the buyer's own header) and only on loopback, where
/// nothing but a proxy on this computer can connect.
pub fn window_options(settings: &ShopSettings, page: &ShopPageSettings) -> ShopPageOptions {
    let listen = window_listen(settings, page.port);
    ShopPageOptions {
        listen,
        public_url: public_url_or(settings, listen),
        limits: Default::default(),
        trust_proxy: page.trust_proxy && listen.ip().is_loopback(),
    }
}

/// A failed listen in the owner's words, with what to do about it.
pub fn listen_failure(listen: SocketAddr, error: &std::io::Error) -> String {
    let why = match error.kind() {
        std::io::ErrorKind::AddrInUse => {
            "another program is using this port: stop it or choose another port".to_string()
        }
        std::io::ErrorKind::AddrNotAvailable => {
            "this computer has no such address: use 127.0.0.1 or one of its own addresses"
                .to_string()
        }
        std::io::ErrorKind::PermissionDenied => {
            "permission denied (ports below 1024 need administrator rights): choose a port such as 8080"
                .to_string()
        }
        _ => error.to_string(),
    };
    format!("The shop page could not listen on {listen}: {why}.")
}

/// Where the window's shop page listens: this computer only (a tunnel or a proxy on it
/// carries buyers in), unless the public address is plain http on a LAN address, which is
/// then where phones on the shop's Wi-Fi reach it.
pub fn window_listen(settings: &ShopSettings, port: u16) -> SocketAddr {
    let lan = url::Url::parse(&settings.public_url)
        .ok()
        .filter(|url| url.scheme() == "http")
        .and_then(|url| match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        })
        .filter(|ip| !ip.is_loopback());
    SocketAddr::new(lan.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)), port)
}

/// The window's shop page: started with the app when switched on, restarted when the
/// owner changes its port or address, stopped when switched off.
#[derive(Default)]
pub struct ShopPageHost {
    running: Option<ShopPage>,
    /// Why the last start failed, until the next one.
    problem: Option<String>,
}

impl ShopPageHost {
    /// Starts the page if the saved settings say so (at app start; a failure is kept for
    /// the settings screen and logged, the rest of the app runs on).
    pub async fn start_saved(&mut self, shop: &Shop) {
        if let Err(error) = self.restart(shop).await {
            tracing::warn!(code = error.code().as_str(), error = %error.message(), "the shop page did not start");
        }
    }

    /// After the payment settings changed: a running page starts again, so its test
    /// checkout follows test mode being switched on or off.
    pub async fn refresh(&mut self, shop: &Shop) {
        if self.running.is_some() {
            self.start_saved(shop).await;
        }
    }

    pub async fn save(
        &mut self,
        shop: &Shop,
        page: ShopPageSettings,
        public_url: &str,
    ) -> Result<(), ApiError> {
        // Both checked before either is saved: a bad port keeps the old address, and back.
        shopcast_core::settings::public_url(public_url)?;
        shop.save_shop_page_settings(page).await?;
        shop.set_setting("shop.public_url", public_url).await?;
        Ok(self.restart(shop).await?)
    }

    async fn restart(&mut self, shop: &Shop) -> Result<(), StartError> {
        // The old page lets go of its port before a new one takes it.
        if let Some(old) = self.running.take() {
            old.stop().await;
        }
        self.problem = None;
        let page = shop.shop_page_settings().await?;
        if !page.enabled {
            return Ok(());
        }
        let settings = shop.settings().await?;
        match start(shop, window_options(&settings, &page)).await {
            Ok(running) => {
                self.running = Some(running);
                Ok(())
            }
            Err(error) => {
                self.problem = Some(error.message());
                Err(error)
            }
        }
    }

    pub async fn view(
        &self,
        shop: &Shop,
    ) -> Result<crate::commands::shop_page::ShopPageView, ApiError> {
        use crate::commands::shop_page::{ShopPageRunning, ShopPageView};
        Ok(ShopPageView {
            settings: shop.shop_page_settings().await?,
            public_url: shop.settings().await?.public_url,
            running: self.running.as_ref().map(|running| {
                let status = running.status();
                ShopPageRunning {
                    listening: status.listening,
                    public_url: status.public_url,
                    last_request_at: status.last_request_at,
                    requests: status.requests,
                }
            }),
            problem: self.problem.clone(),
        })
    }

    pub async fn check_reachable(
        &self,
    ) -> Result<crate::commands::shop_page::ShopPageReachability, ApiError> {
        let Some(running) = &self.running else {
            return Err(ApiError::invalid(
                "enabled",
                "The shop page is off: turn it on first, then check it.",
            ));
        };
        use shopcast_shoppage::Reachability;
        let public_url = running.status().public_url;
        let (reachable, message) = match running.check_reachable().await {
            Reachability::Reachable => (true, format!("{public_url} reaches this shop page.")),
            Reachability::SomeoneElse { detail } => (
                false,
                format!(
                    "{public_url} answers, but not as this shop page (another site, or an old tunnel): {detail}"
                ),
            ),
            Reachability::Unreachable { detail } => (
                false,
                format!(
                    "{public_url} cannot be reached from here: {detail}. Check the reverse proxy or tunnel (see the README)."
                ),
            ),
        };
        Ok(crate::commands::shop_page::ShopPageReachability { reachable, message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_public_url(url: &str) -> ShopSettings {
        ShopSettings {
            name: "Shop".into(),
            currency: "CNY".into(),
            timezone: "UTC".into(),
            locale: "en".into(),
            buy_link_base: String::new(),
            public_url: url.into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_window_listens_on_this_computer_unless_the_address_is_on_the_lan() {
        let at = |url: &str| window_listen(&with_public_url(url), 8181).to_string();
        assert_eq!(at(""), "127.0.0.1:8181");
        assert_eq!(at("https://shop.example.com"), "127.0.0.1:8181");
        assert_eq!(at("http://127.0.0.1:8181"), "127.0.0.1:8181");
        assert_eq!(at("http://192.168.1.20:8080"), "192.168.1.20:8181");
        // https on a LAN address is a proxy's job: the page itself stays on loopback.
        assert_eq!(at("https://192.168.1.20"), "127.0.0.1:8181");
    }

    #[test]
    fn x_forwarded_for_is_trusted_only_when_saved_and_on_loopback() {
        let page = ShopPageSettings::default();
        assert!(!page.trust_proxy, "off by default");
        let https = with_public_url("https://shop.example.com");
        assert!(!window_options(&https, &page).trust_proxy);
        let behind_proxy = ShopPageSettings {
            trust_proxy: true,
            ..page
        };
        let options = window_options(&https, &behind_proxy);
        assert!(options.trust_proxy, "the saved switch is passed on");
        assert_eq!(options.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(options.public_url, "https://shop.example.com");
        // On the LAN any phone connects directly: its header is never trusted.
        let lan = with_public_url("http://192.168.1.20:8080");
        assert!(!window_options(&lan, &behind_proxy).trust_proxy);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_host_starts_restarts_and_stops_as_saved_and_says_why_it_could_not() {
        let dir = tempfile::tempdir().unwrap();
        let shop = Shop::open(dir.path()).await.unwrap();
        let mut host = ShopPageHost::default();
        let page = |enabled, port| ShopPageSettings {
            enabled,
            port,
            trust_proxy: false,
        };
        let http = shopcast_payments::http::client();
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };

        let port = free();
        host.save(&shop, page(true, port), "").await.unwrap();
        let view = host.view(&shop).await.unwrap();
        let running = view.running.expect("running");
        assert_eq!(running.listening, format!("127.0.0.1:{port}"));
        assert_eq!(running.public_url, format!("http://127.0.0.1:{port}"));
        let health = http
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        assert!(
            host.view(&shop).await.unwrap().running.unwrap().requests >= 1,
            "the request was counted"
        );
        assert!(host.check_reachable().await.unwrap().reachable);

        // The same port again (a new address, test mode switched): it comes back at once.
        for _ in 0..3 {
            host.refresh(&shop).await;
            assert!(host.view(&shop).await.unwrap().problem.is_none());
        }
        let again = format!("http://localhost:{port}");
        host.save(&shop, page(true, port), &again).await.unwrap();
        let running = host.view(&shop).await.unwrap().running.unwrap();
        assert_eq!(running.public_url, again);
        // The proxy switch is kept and shown.
        let behind_proxy = ShopPageSettings {
            trust_proxy: true,
            ..page(true, port)
        };
        host.save(&shop, behind_proxy, &again).await.unwrap();
        assert_eq!(host.view(&shop).await.unwrap().settings, behind_proxy);
        assert_eq!(shop.shop_page_settings().await.unwrap(), behind_proxy);

        // A new port: the old one is let go, the new one answers; the address is saved.
        let moved = free();
        let public = format!("http://127.0.0.1:{moved}");
        host.save(&shop, page(true, moved), &public).await.unwrap();
        assert_eq!(shop.settings().await.unwrap().public_url, public);
        assert!(
            http.get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await
                .is_err()
        );
        assert!(http.get(format!("{public}/healthz")).send().await.is_ok());

        // A busy port: saved as asked, not running, and the reason is kept for the screen.
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let busy = taken.local_addr().unwrap().port();
        let err = host
            .save(&shop, page(true, busy), &public)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Io);
        assert!(err.message.contains("another program"), "{}", err.message);
        let view = host.view(&shop).await.unwrap();
        assert!(view.running.is_none());
        assert_eq!(view.problem.as_deref(), Some(err.message.as_str()));
        assert!(host.check_reachable().await.is_err(), "nothing to check");

        // A bad address saves nothing, not even the port.
        let err = host
            .save(&shop, page(true, moved), "http://shop.example.com")
            .await
            .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("publicUrl"));
        assert_eq!(shop.shop_page_settings().await.unwrap().port, busy);

        host.save(&shop, page(false, moved), &public).await.unwrap();
        let view = host.view(&shop).await.unwrap();
        assert!(view.running.is_none() && view.problem.is_none());
        assert!(!view.settings.enabled);
        shop.close().await;
    }
}
