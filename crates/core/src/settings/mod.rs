//! Shop settings (name, currency, time zone, locale, buy-link base, the shop page's public
//! address), stored as validated key/value rows so a new key never needs a migration.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::Shop;
use crate::catalog::photos::Photo;
use crate::error::{CoreError, Result};
use crate::money::normalize_currency;

mod store;

pub(crate) use store::{get_extra, set_extra};
pub use store::{load, save, set_one};

/// The settings as this shop last read them for a sale, shared by its clones: a burst of
/// sales reads them once, not once a sale.
#[derive(Debug, Clone, Default)]
pub(crate) struct RecentSettings(Arc<Mutex<Option<(Instant, ShopSettings)>>>);

/// How long a sale may price with settings it read before.
const RECENT_FOR: Duration = Duration::from_secs(1);

impl RecentSettings {
    fn get(&self) -> Option<ShopSettings> {
        let recent = self.0.lock().expect("settings lock");
        recent
            .as_ref()
            .filter(|(read, _)| read.elapsed() < RECENT_FOR)
            .map(|(_, settings)| settings.clone())
    }

    fn put(&self, settings: &ShopSettings) {
        *self.0.lock().expect("settings lock") = Some((Instant::now(), settings.clone()));
    }

    fn forget(&self) {
        *self.0.lock().expect("settings lock") = None;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ShopSettings {
    /// Empty until the owner has set up the shop.
    pub name: String,
    pub currency: String,
    /// IANA time zone, e.g. "Asia/Shanghai".
    pub timezone: String,
    /// BCP 47 locale of the UI and documents, e.g. "en" or "zh-CN".
    pub locale: String,
    /// Base of product buy links, e.g. "https://shop.example.com/p/"; may be empty.
    pub buy_link_base: String,
    /// Where buyers reach the shop page, e.g. "https://shop.example.com" (no trailing slash);
    /// empty when it is not served. Its `/p/` is the buy-link base when none is typed.
    pub public_url: String,
    /// Whether catalog prices include tax (EU, China: true) or tax is added at the till (US).
    pub prices_include_tax: bool,
    /// The receipt's paper: "58mm", "80mm" or "a4".
    pub receipt_paper: String,
    /// Where receipts print: "tcp://HOST:9100", a device such as "/dev/usb/lp0", or "" (none).
    pub receipt_printer: String,
    /// Print a receipt after every paid sale.
    pub receipt_auto_print: bool,
    /// Open the cash drawer (ESC/POS kick) when a cash sale's receipt prints.
    pub receipt_drawer_kick: bool,
    /// How the thermal printer gets Chinese text: "gb18030" (its code page) or "raster".
    pub receipt_chinese: String,
    /// A line printed at the foot of every receipt ("谢谢惠顾 Thank you").
    pub receipt_footer: String,
}

impl Default for ShopSettings {
    fn default() -> Self {
        ShopSettings::defaults()
    }
}

/// The keys scripts use with `shopcast settings get|set`.
pub const KEYS: &[&str] = &[
    "shop.name",
    "shop.currency",
    "shop.timezone",
    "shop.locale",
    "shop.buy_link_base",
    "shop.public_url",
    "shop.prices_include_tax",
    "receipt.paper",
    "receipt.printer",
    "receipt.auto_print",
    "receipt.drawer_kick",
    "receipt.chinese",
    "receipt.footer",
];

/// Receipt papers a shop can choose.
pub const RECEIPT_PAPERS: &[&str] = &["58mm", "80mm", "a4"];

impl ShopSettings {
    fn defaults() -> Self {
        let timezone = jiff::tz::TimeZone::system()
            .iana_name()
            .unwrap_or("UTC")
            .to_string();
        ShopSettings {
            name: String::new(),
            currency: "USD".into(),
            timezone,
            locale: "en".into(),
            buy_link_base: String::new(),
            public_url: String::new(),
            prices_include_tax: true,
            receipt_paper: "80mm".into(),
            receipt_printer: String::new(),
            receipt_auto_print: false,
            receipt_drawer_kick: false,
            receipt_chinese: "gb18030".into(),
            receipt_footer: String::new(),
        }
    }

    /// The base buy links are built on: the one the owner typed, else the shop page's
    /// `{public_url}/p/`; empty when there is neither.
    pub fn effective_buy_link_base(&self) -> String {
        if !self.buy_link_base.is_empty() || self.public_url.is_empty() {
            self.buy_link_base.clone()
        } else {
            format!("{}/p/", self.public_url)
        }
    }

    /// Whether buy links land on the shop page's `/p/` (its own base, or a typed base that
    /// is the same address), where products are found by SKU only.
    pub fn buy_links_on_shop_page(&self) -> bool {
        if self.public_url.is_empty() {
            return false;
        }
        let shop_page = format!("{}/p", self.public_url.trim_end_matches('/'));
        self.effective_buy_link_base().trim_end_matches('/') == shop_page
    }

    /// Whether posts and signs link to the shop page rather than a provider's payment links:
    /// the shop page hands off to Stripe Checkout itself, attributes the sale and lets the
    /// buyer share, so it wins whenever it has a public address.
    pub fn links_to_shop_page(&self) -> bool {
        !self.public_url.is_empty()
    }

    pub fn get(&self, key: &str) -> Result<String> {
        Ok(match key {
            "shop.name" => self.name.clone(),
            "shop.currency" => self.currency.clone(),
            "shop.timezone" => self.timezone.clone(),
            "shop.locale" => self.locale.clone(),
            "shop.buy_link_base" => self.buy_link_base.clone(),
            "shop.public_url" => self.public_url.clone(),
            "shop.prices_include_tax" => self.prices_include_tax.to_string(),
            "receipt.paper" => self.receipt_paper.clone(),
            "receipt.printer" => self.receipt_printer.clone(),
            "receipt.auto_print" => self.receipt_auto_print.to_string(),
            "receipt.drawer_kick" => self.receipt_drawer_kick.to_string(),
            "receipt.chinese" => self.receipt_chinese.clone(),
            "receipt.footer" => self.receipt_footer.clone(),
            _ => return Err(unknown_key(key)),
        })
    }

    fn set(&mut self, key: &str, value: String) -> Result<()> {
        let flag = match key {
            "shop.prices_include_tax" => Some(&mut self.prices_include_tax),
            "receipt.auto_print" => Some(&mut self.receipt_auto_print),
            "receipt.drawer_kick" => Some(&mut self.receipt_drawer_kick),
            _ => None,
        };
        if let Some(flag) = flag {
            *flag = match value.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "on" => true,
                "false" | "no" | "0" | "off" => false,
                _ => {
                    return Err(CoreError::invalid(
                        "value",
                        format!("{key} is true or false, not “{}”.", value.trim()),
                    ));
                }
            };
            return Ok(());
        }
        let slot = match key {
            "receipt.paper" => &mut self.receipt_paper,
            "receipt.printer" => &mut self.receipt_printer,
            "receipt.chinese" => &mut self.receipt_chinese,
            "receipt.footer" => &mut self.receipt_footer,
            "shop.name" => &mut self.name,
            "shop.currency" => &mut self.currency,
            "shop.timezone" => &mut self.timezone,
            "shop.locale" => &mut self.locale,
            "shop.buy_link_base" => &mut self.buy_link_base,
            "shop.public_url" => &mut self.public_url,
            _ => return Err(unknown_key(key)),
        };
        *slot = value;
        Ok(())
    }

    /// Checks and normalises every field.
    pub fn validated(mut self) -> Result<Self> {
        self.name = self.name.trim().to_string();
        if self.name.chars().any(char::is_control) {
            return Err(CoreError::invalid(
                "name",
                "The shop name cannot contain line breaks or control characters.",
            ));
        }
        if self.name.chars().count() > 200 {
            return Err(CoreError::invalid(
                "name",
                "The shop name can be 200 characters at most.",
            ));
        }
        self.currency = normalize_currency(&self.currency)?;
        self.timezone = self.timezone.trim().to_string();
        if jiff::tz::TimeZone::get(&self.timezone).is_err() {
            return Err(CoreError::invalid(
                "timezone",
                format!(
                    "“{}” is not a known time zone. Use a name such as Asia/Shanghai or Europe/Berlin.",
                    self.timezone
                ),
            ));
        }
        self.locale = self.locale.trim().to_string();
        let locale_ok = !self.locale.is_empty()
            && self.locale.len() <= 35
            && self
                .locale
                .split('-')
                .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()));
        if !locale_ok {
            return Err(CoreError::invalid(
                "locale",
                format!("“{}” is not a locale such as en or zh-CN.", self.locale),
            ));
        }
        self.buy_link_base = self.buy_link_base.trim().to_string();
        if !self.buy_link_base.is_empty() {
            let parsed = url::Url::parse(&self.buy_link_base)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"));
            if parsed.is_none() {
                return Err(CoreError::invalid(
                    "buyLinkBase",
                    "The buy-link base must be a web address such as https://shop.example.com/p/.",
                ));
            }
        }
        self.public_url = public_url(&self.public_url)?;
        self.receipt_paper = self.receipt_paper.trim().to_ascii_lowercase();
        if !RECEIPT_PAPERS.contains(&self.receipt_paper.as_str()) {
            return Err(CoreError::invalid(
                "receiptPaper",
                format!(
                    "“{}” is not a receipt paper: use 58mm, 80mm or a4.",
                    self.receipt_paper
                ),
            ));
        }
        self.receipt_printer = self.receipt_printer.trim().to_string();
        if !self.receipt_printer.is_empty() {
            crate::till::printer::PrinterTarget::parse(&self.receipt_printer)
                .map_err(|e| CoreError::invalid("receiptPrinter", e.to_string()))?;
        }
        self.receipt_chinese = self.receipt_chinese.trim().to_ascii_lowercase();
        if !matches!(self.receipt_chinese.as_str(), "gb18030" | "raster") {
            return Err(CoreError::invalid(
                "receiptChinese",
                "Chinese text on receipts is gb18030 (the printer's code page) or raster.",
            ));
        }
        self.receipt_footer = self.receipt_footer.trim().to_string();
        if self.receipt_footer.chars().count() > 200
            || self.receipt_footer.chars().any(char::is_control)
        {
            return Err(CoreError::invalid(
                "receiptFooter",
                "The receipt footer is one line of at most 200 characters.",
            ));
        }
        Ok(self)
    }
}

/// The shop page's public address, normalised to `scheme://host[:port]`: https anywhere,
/// plain http only on this computer or the shop's own network (buyers' payments pass through
/// it), and no path, query or login, since every page and hook hangs off its root.
pub fn public_url(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(String::new());
    }
    let refuse = |why: &str| {
        Err(CoreError::invalid(
            "publicUrl",
            format!("“{text}” cannot be the shop page's public address: {why}"),
        ))
    };
    let Ok(url) = url::Url::parse(text) else {
        return refuse("it is not a web address such as https://shop.example.com.");
    };
    let Some(host) = url.host() else {
        return refuse("it has no host name, as in https://shop.example.com.");
    };
    match url.scheme() {
        "https" => {}
        "http" if on_this_network(&host) => {}
        "http" => {
            return refuse(
                "plain http:// is only for this computer or the shop's own network; use https:// (a reverse proxy or a tunnel gives you one, see the README).",
            );
        }
        _ => return refuse("it must start with https://."),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("it must not carry a user name or password.");
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return refuse(
            "give only the scheme and host, such as https://shop.example.com, without a path (/p/… is added for each product).",
        );
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// Loopback or a private LAN address (10/8, 172.16/12, 192.168/16, link-local, IPv6 ULA).
fn on_this_network(host: &url::Host<&str>) -> bool {
    use std::net::IpAddr;
    let ip = match host {
        url::Host::Domain(name) => return name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(*ip),
        url::Host::Ipv6(ip) => IpAddr::V6(*ip),
    };
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local(),
    }
}

fn unknown_key(key: &str) -> CoreError {
    CoreError::invalid(
        "key",
        format!(
            "Unknown setting “{key}”. Known settings: {}.",
            KEYS.join(", ")
        ),
    )
}

/// All IANA time zone names this build knows, sorted.
pub fn timezones() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_string())
        .collect();
    names.sort();
    names
}
impl Shop {
    // Settings

    pub async fn settings(&self) -> Result<ShopSettings> {
        store::load(&self.pool).await
    }

    /// The settings a sale prices with, read at most once a second while a till sells: a
    /// change saved through this shop applies at once, one saved on another computer within
    /// a second.
    pub(crate) async fn settings_for_sale(&self) -> Result<ShopSettings> {
        if let Some(settings) = self.recent_settings.get() {
            return Ok(settings);
        }
        let settings = self.settings().await?;
        self.recent_settings.put(&settings);
        Ok(settings)
    }

    pub async fn save_settings(&self, new: ShopSettings) -> Result<ShopSettings> {
        let saved = store::save(&self.pool, new).await;
        self.recent_settings.forget();
        saved
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<ShopSettings> {
        let saved = store::set_one(&self.pool, key, value).await;
        self.recent_settings.forget();
        saved
    }

    // Shop logo (printed on signage): a photo in the media store, referenced by hash.

    pub async fn logo(&self) -> Result<Option<Photo>> {
        let Some(json) = store::get_extra(&self.pool, LOGO_KEY).await? else {
            return Ok(None);
        };
        Ok(serde_json::from_str(&json).ok())
    }

    pub async fn set_logo(&self, bytes: Vec<u8>) -> Result<Photo> {
        let media = self.media.clone();
        let photo = tokio::task::spawn_blocking(move || media.ingest(&bytes))
            .await
            .expect("logo task panicked")?;
        let json = serde_json::to_string(&photo).expect("a photo serializes");
        store::set_extra(&self.pool, LOGO_KEY, Some(&json)).await?;
        Ok(photo)
    }

    pub async fn clear_logo(&self) -> Result<()> {
        store::set_extra(&self.pool, LOGO_KEY, None).await
    }
}
const LOGO_KEY: &str = "shop.logo";

/// Whether the window serves the shop page, and on which port, so it starts with the app.
/// The public address is [`ShopSettings::public_url`], shared with `shopcast serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ShopPageSettings {
    pub enabled: bool,
    pub port: u16,
    /// Count each buyer by the X-Forwarded-For a reverse proxy on this computer sets. Off:
    /// a raw tunnel passes on whatever header the buyer sent, dodging the per-buyer limits.
    #[serde(default)]
    pub trust_proxy: bool,
}

impl Default for ShopPageSettings {
    fn default() -> Self {
        ShopPageSettings {
            enabled: false,
            port: 8080,
            trust_proxy: false,
        }
    }
}

const SHOP_PAGE_KEY: &str = "shop_page.settings";

impl Shop {
    /// The window's shop-page switch and port (defaults when never saved or unreadable:
    /// off, so a damaged row never opens a port by itself).
    pub async fn shop_page_settings(&self) -> Result<ShopPageSettings> {
        let saved = store::get_extra(&self.pool, SHOP_PAGE_KEY).await?;
        Ok(saved
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default())
    }

    pub async fn save_shop_page_settings(
        &self,
        settings: ShopPageSettings,
    ) -> Result<ShopPageSettings> {
        if settings.port < 1024 {
            return Err(CoreError::invalid(
                "port",
                format!(
                    "Port {} needs administrator rights: choose one from 1024 to 65535, such as 8080.",
                    settings.port
                ),
            ));
        }
        let json = serde_json::to_string(&settings).expect("shop-page settings serialize");
        store::set_extra(&self.pool, SHOP_PAGE_KEY, Some(&json)).await?;
        Ok(settings)
    }
}
