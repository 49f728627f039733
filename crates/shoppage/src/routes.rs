//! The shop page's routes: GET shows (and never creates anything), POST buys with a form token
//! and a free rate-limit slot; media and the stylesheet are cached by their content's name.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use shopcast_core::payments::web::plain_source_value;
use shopcast_core::{BuyRequest, CoreError, NextStep, Shop, ShopFront, Variant};
use shopcast_net::forms::FormKey;
use shopcast_net::rate::{RateLimit, SharedLimit};

use crate::client::{client_ip, is_phone};
use crate::fresh::Fresh;
use crate::headers::{self, Policy};
use crate::words::{Words, words};
use crate::{Activity, ShopPageLimits, hooks, pages};

/// Longest SKU a link may name.
const MAX_SKU_BYTES: usize = 100;
/// Query keys a buy link carries into its order (values as plain as core keeps them).
const ATTRIBUTION: [&str; 4] = ["src", "sign", "post", "order"];
/// Longest search and longest text handed to Mastodon.
const MAX_SEARCH_CHARS: usize = 100;
const MAX_SHARE_CHARS: usize = 1000;

pub(crate) struct Settings {
    pub public_url: String,
    pub trust_proxy: bool,
    pub limits: ShopPageLimits,
}

#[derive(Clone)]
struct App {
    shop: Shop,
    public_url: Arc<str>,
    trust_proxy: bool,
    forms: Arc<FormKey>,
    orders: Arc<RateLimit>,
    shop_orders: Arc<SharedLimit>,
    activity: Arc<Activity>,
    /// The shop's name and language, product and index pages as rendered, each read at most
    /// once a second: a busy product page must not queue on the shop file (Buy checks stock
    /// again in the engine).
    front: Arc<Fresh<(), ShopFront>>,
    products: Arc<Fresh<ProductKey, Option<Arc<Slotted>>>>,
    indexes: Arc<Fresh<(String, u32), Arc<str>>>,
    /// The sitemap as last written; one request at a time rewrites it when stale.
    sitemap: Arc<tokio::sync::Mutex<Option<(Instant, axum::body::Bytes)>>>,
}

/// A product page as kept: its SKU and the attribution its link carried.
type ProductKey = (String, Vec<(&'static str, String)>);

/// How long what a page shows is reused before it is read again, and how many pages are kept.
const FRESH_FOR: Duration = Duration::from_secs(1);
const FRESH_PAGES: usize = 4096;
/// How long the sitemap is reused (crawlers ask often; it is the one page listing everything).
const SITEMAP_FRESH_FOR: Duration = Duration::from_secs(300);
/// A sitemap holds at most 50,000 addresses (sitemaps.org): the root and this many products.
const SITEMAP_PRODUCTS: usize = 49_999;

pub(crate) fn router(
    shop: Shop,
    settings: Settings,
    activity: Arc<Activity>,
    checkout: Option<axum::Router>,
) -> axum::Router {
    let https = settings.public_url.starts_with("https://");
    let app = App {
        shop: shop.clone(),
        public_url: settings.public_url.into(),
        trust_proxy: settings.trust_proxy,
        forms: Arc::new(FormKey::new()),
        orders: Arc::new(RateLimit::new(
            settings.limits.orders_burst,
            settings.limits.orders_per_minute,
        )),
        shop_orders: Arc::new(SharedLimit::new(
            settings.limits.shop_orders_burst,
            settings.limits.shop_orders_per_minute,
        )),
        activity: activity.clone(),
        front: Arc::new(Fresh::new(FRESH_FOR, 1)),
        products: Arc::new(Fresh::new(FRESH_FOR, FRESH_PAGES)),
        indexes: Arc::new(Fresh::new(FRESH_FOR, FRESH_PAGES)),
        sitemap: Arc::default(),
    };
    let pages = axum::Router::new()
        .route("/", get(index))
        .route("/p/{sku}", get(product))
        .route("/p/{sku}/buy", post(buy))
        .route("/r/{token}", get(receipt))
        .route("/share/mastodon", get(mastodon))
        .route("/media/{hash}/{variant}", get(media))
        .route("/assets/{file}", get(stylesheet))
        .route("/sitemap.xml", get(sitemap))
        .route("/robots.txt", get(robots))
        .route("/healthz", get(healthz))
        // Browsers ask for it on every site: nothing, rather than a 404 page each time.
        .route(
            "/favicon.ico",
            get(|| async {
                (
                    StatusCode::NO_CONTENT,
                    [(header::CACHE_CONTROL, "public, max-age=86400")],
                )
            }),
        )
        .fallback(no_such_page)
        .layer(DefaultBodyLimit::max(settings.limits.max_form_bytes))
        .with_state(app);
    let hooks = axum::Router::new()
        .route("/hooks/stripe", post(hooks::stripe))
        .route("/hooks/alipay", post(hooks::alipay))
        .layer(DefaultBodyLimit::max(settings.limits.max_hook_bytes))
        .with_state(shop.clone());
    // WeChat Pay's notifications are a few kilobytes: its own, smaller cap.
    let wechat_hook = axum::Router::new()
        .route("/hooks/wechat", post(hooks::wechat))
        .layer(DefaultBodyLimit::max(
            shopcast_payments::wechat::notify::MAX_NOTIFICATION_BYTES
                .min(settings.limits.max_hook_bytes),
        ))
        .with_state(shop);
    let mut router = pages.merge(hooks).merge(wechat_hook);
    if let Some(checkout) = checkout {
        router = router.merge(checkout);
    }
    router.layer(axum::middleware::from_fn_with_state(
        Policy::new(https, activity),
        headers::secure,
    ))
}

/// The shared server's own refusals (body over the cap, past the deadline), as pages with the
/// same headers as every other answer.
pub(crate) fn server_refusal(https: bool) -> impl Fn(StatusCode) -> Response + Send + Sync {
    move |status| {
        let w = words("en");
        let sentence = match status {
            StatusCode::PAYLOAD_TOO_LARGE => w.too_large,
            StatusCode::REQUEST_TIMEOUT => w.too_slow,
            _ => w.refused,
        };
        let mut response = page_answer(
            status,
            pages::notice(w, &blank_front(), status.as_str(), sentence),
        );
        headers::apply(https, response.headers_mut());
        response
    }
}

/// What a page shows of a shop it cannot read (or before reading it): English, no name.
fn blank_front() -> ShopFront {
    ShopFront {
        name: String::new(),
        locale: "en".into(),
        currency: String::new(),
        logo: None,
        prices_include_tax: true,
    }
}

/// An HTML answer that no cache keeps (pages carry single-use form tokens).
fn page_answer(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl App {
    /// The shop's name and language; a shop whose settings cannot be read still answers.
    async fn front(&self) -> ShopFront {
        match self.front.get_or_load(&(), self.shop.shop_front()).await {
            Ok(front) => front,
            Err(error) => {
                tracing::warn!(%error, "the shop page could not read the shop's name");
                blank_front()
            }
        }
    }

    async fn notice(&self, status: StatusCode, sentence: fn(&Words) -> &'static str) -> Response {
        let front = self.front().await;
        let w = words(&front.locale);
        let title = if status == StatusCode::NOT_FOUND {
            w.not_found_title
        } else {
            status.canonical_reason().unwrap_or("")
        };
        page_answer(status, pages::notice(w, &front, title, sentence(w)))
    }

    async fn notice_text(&self, status: StatusCode, sentence: &str) -> Response {
        let front = self.front().await;
        let w = words(&front.locale);
        let title = status.canonical_reason().unwrap_or("");
        page_answer(status, pages::notice(w, &front, title, sentence))
    }

    async fn failed(&self, error: CoreError) -> Response {
        tracing::warn!(%error, "a shop page could not be shown");
        self.notice(StatusCode::SERVICE_UNAVAILABLE, |w| w.cannot_start)
            .await
    }
}

fn bad_sku(sku: &str) -> bool {
    sku.is_empty() || sku.len() > MAX_SKU_BYTES || sku.chars().any(char::is_control)
}

/// Only plain, bounded values travel from the link into the order.
fn attribution(query: &HashMap<String, String>) -> Vec<(&'static str, String)> {
    ATTRIBUTION
        .iter()
        .filter_map(|key| {
            let value = query.get(*key).filter(|v| plain_source_value(v))?;
            Some((*key, value.clone()))
        })
        .collect()
}

async fn no_such_page(State(app): State<App>) -> Response {
    app.notice(StatusCode::NOT_FOUND, |w| w.no_such_page).await
}

async fn index(State(app): State<App>, Query(query): Query<HashMap<String, String>>) -> Response {
    let search: String = query
        .get("q")
        .map(|q| q.trim().chars().take(MAX_SEARCH_CHARS).collect())
        .unwrap_or_default();
    let page = query
        .get("page")
        .and_then(|p| p.parse::<u32>().ok())
        .unwrap_or(1)
        .clamp(1, 10_000);
    let key = (search.clone(), page);
    let render = async {
        let found = app.shop.shop_page_index(&search, page).await?;
        let front = app.front().await;
        let html = pages::index(
            words(&front.locale),
            &front,
            &found,
            &search,
            page,
            &app.public_url,
        );
        Ok::<_, CoreError>(Arc::<str>::from(html))
    };
    match app.indexes.get_or_load(&key, render).await {
        Ok(html) => page_answer(StatusCode::OK, html.to_string()),
        Err(error) => app.failed(error).await,
    }
}

async fn product(
    State(app): State<App>,
    Path(sku): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if bad_sku(&sku) {
        return app
            .notice(StatusCode::NOT_FOUND, |w| w.no_such_product)
            .await;
    }
    let carried = attribution(&query);
    let key = (sku.clone(), carried);
    let render = async {
        let Some(product) = app.shop.shop_page_product(&sku).await? else {
            return Ok(None);
        };
        let front = app.front().await;
        let mut hidden: Vec<(&str, &str)> = vec![("csrf", TOKEN_SLOT)];
        hidden.extend(key.1.iter().map(|(key, value)| (*key, value.as_str())));
        let html = pages::product(
            words(&front.locale),
            &front,
            &product,
            &app.public_url,
            &hidden,
        );
        Ok::<_, CoreError>(Some(Arc::new(Slotted::new(html))))
    };
    match app.products.get_or_load(&key, render).await {
        Ok(Some(page)) => page_answer(StatusCode::OK, page.fill(&app.forms.issue("buy", &sku))),
        Ok(None) => {
            app.notice(StatusCode::NOT_FOUND, |w| w.no_such_product)
                .await
        }
        Err(error) => app.failed(error).await,
    }
}

/// Where a kept product page takes each visitor's own form token (letters only, so escaping
/// leaves it as it is).
const TOKEN_SLOT: &str = "SHOPCASTFORMTOKENSLOT";

/// A rendered page with one slot for the visitor's form token.
struct Slotted {
    before: String,
    after: Option<String>,
}

impl Slotted {
    fn new(html: String) -> Slotted {
        match html.split_once(TOKEN_SLOT) {
            // The owner's own text could hold the slot's letters: then only one slot is sure.
            Some((before, after)) if !after.contains(TOKEN_SLOT) => Slotted {
                before: before.to_string(),
                after: Some(after.to_string()),
            },
            _ => Slotted {
                before: html,
                after: None,
            },
        }
    }

    fn fill(&self, token: &str) -> String {
        match &self.after {
            Some(after) => [self.before.as_str(), token, after].concat(),
            // No single slot: a page without a working Buy rather than someone else's token.
            None => self.before.clone(),
        }
    }
}

/// The posted form; a missing or unreadable one is an empty form (refused for its missing
/// token), except a body over the cap (413).
type Posted = Result<Form<HashMap<String, String>>, FormRejection>;

async fn buy(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(sku): Path<String>,
    form: Posted,
) -> Response {
    let form = match form {
        Ok(Form(fields)) => fields,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return app
                .notice(StatusCode::PAYLOAD_TOO_LARGE, |w| w.too_large)
                .await;
        }
        Err(_) => HashMap::new(),
    };
    let token = form.get("csrf").map(String::as_str);
    if bad_sku(&sku) || !app.forms.check(token, "buy", &sku) {
        return app.notice(StatusCode::FORBIDDEN, |w| w.form_expired).await;
    }
    let quantity = match form.get("quantity").map(|q| q.trim().parse::<u32>()) {
        None => 1,
        Some(Ok(quantity)) if (1..=99).contains(&quantity) => quantity,
        Some(_) => {
            return app
                .notice(StatusCode::BAD_REQUEST, |w| w.bad_quantity)
                .await;
        }
    };
    // Counted only for forms this server issued: each one makes an order. The client's own
    // limit first, so one client's flood does not use up everyone's.
    let client = client_ip(peer, &headers, app.trust_proxy);
    let slowed = match app.orders.take(client) {
        Err(wait) => Some((wait, (|w| w.too_many) as fn(&Words) -> &'static str)),
        Ok(()) => app.shop_orders.take().err().map(|wait| {
            tracing::warn!("the shop page's limit on orders for everyone is reached");
            (wait, (|w| w.shop_busy) as fn(&Words) -> &'static str)
        }),
    };
    if let Some((wait, sentence)) = slowed {
        let mut response = app.notice(StatusCode::TOO_MANY_REQUESTS, sentence).await;
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    // Each form buys once: a resent or replayed form is refused.
    if !app.forms.redeem(token, "buy", &sku) {
        return app.notice(StatusCode::FORBIDDEN, |w| w.form_expired).await;
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let request = BuyRequest {
        sku: sku.clone(),
        quantity,
        source: attribution(&form)
            .into_iter()
            .map(|(key, value)| (key.to_string(), value))
            .collect(),
        phone: is_phone(user_agent),
        public_url: app.public_url.to_string(),
    };
    match app.shop.buy_from_link(&request).await {
        Ok(start) => match start.next {
            NextStep::Redirect(url) => Redirect::to(&url).into_response(),
            NextStep::TestCheckout(token) => Redirect::to(&format!(
                "/pay/{}",
                shopcast_net::html::path_segment(&token)
            ))
            .into_response(),
        },
        Err(CoreError::NotFound { .. }) => {
            app.notice(StatusCode::NOT_FOUND, |w| w.no_such_product)
                .await
        }
        Err(CoreError::SoldOut { message }) => {
            app.notice_text(StatusCode::CONFLICT, &message).await
        }
        Err(CoreError::Validation { message, .. }) => {
            app.notice_text(StatusCode::BAD_REQUEST, &message).await
        }
        Err(error) => app.failed(error).await,
    }
}

async fn receipt(State(app): State<App>, Path(token): Path<String>) -> Response {
    let mut response = match app.shop.receipt(&token, &app.public_url).await {
        Ok(Some(receipt)) => {
            let front = app.front().await;
            page_answer(
                StatusCode::OK,
                pages::receipt(words(&front.locale), &front, &receipt),
            )
        }
        Ok(None) => {
            app.notice(StatusCode::NOT_FOUND, |w| w.no_such_receipt)
                .await
        }
        Err(error) => app.failed(error).await,
    };
    // The address is the buyer's key to this receipt: never sent on to another site.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// A host name a buyer might be on: letters, digits and hyphens in dot-separated labels, at
/// least two of them, the last not all digits (no IP addresses, ports, paths or userinfo).
fn plausible_host(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    host.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

/// What a buyer types as their server: "mastodon.social", "https://mastodon.social/",
/// "@me@mastodon.social" all mean mastodon.social.
fn instance_host(typed: &str) -> String {
    let typed = typed.trim();
    let typed = typed
        .strip_prefix("https://")
        .or_else(|| typed.strip_prefix("http://"))
        .unwrap_or(typed);
    let typed = typed.trim_end_matches('/');
    let typed = typed.rsplit('@').next().unwrap_or(typed);
    typed.to_ascii_lowercase()
}

async fn mastodon(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let text: String = query
        .get("text")
        .map(|t| t.chars().take(MAX_SHARE_CHARS).collect())
        .unwrap_or_default();
    // Only this server's own form sends the buyer on: a crafted link naming a server (an open
    // redirect to anywhere) gets the form instead. Checked, not redeemed: a GET any stranger
    // may repeat must not fill the used-token set the Buy forms share.
    let token = query.get("csrf").map(String::as_str);
    let typed = query
        .get("instance")
        .filter(|_| app.forms.check(token, "mastodon", &text))
        .map(|i| instance_host(i));
    if let Some(host) = typed.as_deref().filter(|host| plausible_host(host)) {
        let target = format!("https://{host}/share?text={}", pages::query_value(&text));
        return Redirect::to(&target).into_response();
    }
    let front = app.front().await;
    let w = words(&front.locale);
    let status = if typed.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let token = app.forms.issue("mastodon", &text);
    let mut response = page_answer(
        status,
        pages::mastodon_form(w, &front, &text, &token, typed.is_some()),
    );
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        headers::MASTODON_CSP.clone(),
    );
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn media(
    State(app): State<App>,
    Path((hash, variant)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let plausible = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    // Only re-encoded sizes: the uploaded file may carry EXIF (GPS, camera serial).
    let Some(variant) = Variant::parse(&variant)
        .filter(|v| plausible && matches!(v, Variant::Thumb | Variant::Medium))
    else {
        return app.notice(StatusCode::NOT_FOUND, |w| w.no_such_page).await;
    };
    // A photo's name is its content's hash: it never changes, so neither does its tag.
    let etag = format!("\"{hash}-{}\"", variant.as_str());
    let cache = [
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            "public, max-age=31536000, immutable".to_string(),
        ),
    ];
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    // Only photos of products on the page (or the logo): an archived product's photos stay
    // private, and `*` (or a guessed tag) must not vouch for any hash.
    let shown = app.shop.shop_page_shows_photo(&hash).await.unwrap_or(false);
    let stored = shown
        && match app.shop.media().path_of(&hash, Variant::Full) {
            Some(path) => tokio::fs::try_exists(path).await.unwrap_or(false),
            None => false,
        };
    if !stored {
        return app.notice(StatusCode::NOT_FOUND, |w| w.no_such_page).await;
    }
    if matches {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let shop = app.shop.clone();
    let read = tokio::task::spawn_blocking(move || shop.media().read(&hash, variant)).await;
    match read {
        Ok(Some((bytes, mime))) => {
            (cache, [(header::CONTENT_TYPE, mime.to_string())], bytes).into_response()
        }
        _ => app.notice(StatusCode::NOT_FOUND, |w| w.no_such_page).await,
    }
}

async fn stylesheet(State(app): State<App>, Path(file): Path<String>) -> Response {
    if format!("/assets/{file}") != *pages::STYLESHEET_PATH {
        return app.notice(StatusCode::NOT_FOUND, |w| w.no_such_page).await;
    }
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        pages::STYLESHEET,
    )
        .into_response()
}

async fn sitemap(State(app): State<App>) -> Response {
    let mut cached = app.sitemap.lock().await;
    let xml = match &*cached {
        Some((at, xml)) if at.elapsed() < SITEMAP_FRESH_FOR => xml.clone(),
        _ => {
            let rows = match app.shop.shop_page_sitemap().await {
                Ok(rows) => rows,
                Err(error) => return app.failed(error).await,
            };
            let xml = axum::body::Bytes::from(sitemap_xml(&app.public_url, &rows));
            *cached = Some((Instant::now(), xml.clone()));
            xml
        }
    };
    drop(cached);
    (
        [
            (header::CONTENT_TYPE, "application/xml; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        xml,
    )
        .into_response()
}

/// The sitemap of the root and the first [`SITEMAP_PRODUCTS`] of `rows` (sku, updated_at).
fn sitemap_xml(public_url: &str, rows: &[(String, i64)]) -> String {
    let rows = &rows[..rows.len().min(SITEMAP_PRODUCTS)];
    let base = shopcast_net::html::escape_html(public_url);
    let mut xml = String::with_capacity(64 + rows.len() * 120);
    xml.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    xml.push_str("\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    xml.push_str(&format!("<url><loc>{base}/</loc></url>\n"));
    for (sku, updated_at) in rows {
        let lastmod = jiff::Timestamp::from_millisecond(*updated_at)
            .map(|at| at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default();
        xml.push_str(&format!(
            "<url><loc>{base}/p/{}</loc><lastmod>{lastmod}</lastmod></url>\n",
            shopcast_net::html::path_segment(sku)
        ));
    }
    xml.push_str("</urlset>\n");
    xml
}

async fn robots(State(app): State<App>) -> Response {
    let text = format!(
        "User-agent: *\nAllow: /\nDisallow: /r/\nDisallow: /pay/\nDisallow: /hooks/\nDisallow: /share/\nSitemap: {}/sitemap.xml\n",
        app.public_url
    );
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        text,
    )
        .into_response()
}

/// `ok`, or the reachability check's nonce back (noted, so the check knows it reached us).
async fn healthz(State(app): State<App>, Query(query): Query<HashMap<String, String>>) -> Response {
    let nonce = query
        .get("nonce")
        .filter(|n| n.len() <= 64 && !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric()));
    let body = match nonce {
        Some(nonce) => {
            app.activity.heard_nonce(nonce);
            nonce.clone()
        }
        None => "ok".to_string(),
    };
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sitemap_holds_at_most_fifty_thousand_addresses() {
        let rows: Vec<(String, i64)> = (0..60_000)
            .map(|n| (format!("SKU-{n}"), 1_767_225_600_000))
            .collect();
        let xml = sitemap_xml("https://shop.example.com", &rows);
        assert_eq!(xml.matches("<url>").count(), 50_000);
        assert!(xml.contains("<url><loc>https://shop.example.com/</loc></url>"));
        assert!(xml.contains("/p/SKU-49998<") && !xml.contains("/p/SKU-49999<"));
        let few = sitemap_xml("https://shop.example.com", &rows[..2]);
        assert_eq!(few.matches("<url>").count(), 3);
    }

    #[test]
    fn only_host_names_are_mastodon_servers() {
        for good in [
            "mastodon.social",
            "https://Mastodon.Social/",
            "@me@fosstodon.org",
            "xn--fiq228c.example",
        ] {
            assert!(plausible_host(&instance_host(good)), "{good}");
        }
        for bad in [
            "",
            "localhost",
            "127.0.0.1",
            "evil.com/path",
            "evil.com:8080",
            "evil.com?x=1",
            "-a.com",
            "a..com",
            "javascript:alert(1)",
            "a.com#x",
            "a b.com",
        ] {
            assert!(!plausible_host(&instance_host(bad)), "{bad}");
        }
    }
}
