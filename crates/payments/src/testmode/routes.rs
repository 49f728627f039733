//! The test checkout's routes: buy-link product pages (GET shows, POST buys), checkout pages
//! and their Pay/Decline forms. Every POST needs an unused form token and a free rate-limit slot.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use shopcast_net::forms::FormKey;
use shopcast_net::rate::RateLimit;

use super::pages::{self, refusal};
use super::server::CheckoutLimits;
use super::{SettleError, TestMode};

/// Longest SKU a buy link may name.
const MAX_SKU_BYTES: usize = 100;
/// Query keys a buy link carries into its order, and how long their values may be.
const ATTRIBUTION: [&str; 3] = ["src", "sign", "post"];
const MAX_ATTRIBUTION_CHARS: usize = 64;

#[derive(Clone)]
struct App {
    mode: TestMode,
    forms: Arc<FormKey>,
    orders: Arc<RateLimit>,
    settles: Arc<RateLimit>,
}

/// The checkout's routes; `standalone` adds the buy links and the 404 page (the shop page
/// has its own, and mounts only `/pay/*`).
pub(super) fn router(mode: TestMode, limits: &CheckoutLimits, standalone: bool) -> axum::Router {
    let app = App {
        mode,
        forms: Arc::new(FormKey::new()),
        orders: Arc::new(RateLimit::new(
            limits.orders_burst,
            limits.orders_per_minute,
        )),
        settles: Arc::new(RateLimit::new(
            limits.settle_burst,
            limits.settle_per_minute,
        )),
    };
    let routes = axum::Router::new()
        .route(pages::STYLESHEET_PATH, get(stylesheet))
        .route("/pay/{token}", get(checkout_page))
        .route("/pay/{token}/pay", axum::routing::post(pay))
        .route("/pay/{token}/decline", axum::routing::post(decline))
        .route("/pay/{token}/status", get(status));
    let routes = if standalone {
        routes
            .route("/p/{sku}", get(product_page).post(buy))
            .fallback(|| async { refusal(StatusCode::NOT_FOUND, "There is no such page.") })
    } else {
        routes
    };
    routes
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .with_state(app)
}

/// The server's own refusals (body over the cap, past the deadline) as checkout pages.
pub(super) fn refusal_for(status: StatusCode) -> Response {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        StatusCode::REQUEST_TIMEOUT => refusal(
            StatusCode::REQUEST_TIMEOUT,
            "The request took too long to arrive. Try again.",
        ),
        other => refusal(other, "This request was refused."),
    }
}

/// The checkout's stylesheet: a file, not inline, so a strict Content-Security-Policy
/// (`style-src 'self'`) around the mounted checkout still styles it.
async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        pages::STYLESHEET,
    )
        .into_response()
}

/// Only plain, bounded values travel from the link into the order.
fn attribution(query: &HashMap<String, String>) -> HashMap<String, String> {
    ATTRIBUTION
        .iter()
        .filter_map(|key| {
            let value = query.get(*key)?;
            let plain = !value.is_empty()
                && value.chars().count() <= MAX_ATTRIBUTION_CHARS
                && value
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
            plain.then(|| (key.to_string(), value.clone()))
        })
        .collect()
}

fn bad_sku(sku: &str) -> bool {
    sku.is_empty() || sku.len() > MAX_SKU_BYTES || sku.chars().any(char::is_control)
}

fn not_found(sentence: &str) -> Response {
    refusal(StatusCode::NOT_FOUND, sentence)
}

fn forbidden() -> Response {
    refusal(
        StatusCode::FORBIDDEN,
        "This form has expired or did not come from this checkout. Go back, reload the page and try again.",
    )
}

/// The posted form; a missing or unreadable one is an empty form (refused for its missing
/// token), except a body over the cap (413).
type Posted = Result<Form<HashMap<String, String>>, FormRejection>;

fn posted(form: Posted) -> Option<HashMap<String, String>> {
    match form {
        Ok(Form(fields)) => Some(fields),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => None,
        Err(_) => Some(HashMap::new()),
    }
}

pub(super) fn too_large() -> Response {
    refusal(
        StatusCode::PAYLOAD_TOO_LARGE,
        "This request is too large for the test checkout.",
    )
}

fn slow_down(wait: std::time::Duration) -> Response {
    pages::slow_down(wait.as_secs_f64().ceil() as u64)
}

async fn product_page(
    State(app): State<App>,
    Path(sku): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if bad_sku(&sku) {
        return refusal(StatusCode::BAD_REQUEST, "This is not a product link.");
    }
    let Some(shop) = app.mode.link_sales() else {
        return not_found("Buy links are not on.");
    };
    let product = match shop.product_for_link(&sku).await {
        Ok(Some(product)) => product,
        Ok(None) => return not_found("No such product is for sale."),
        Err(message) => return refusal(StatusCode::SERVICE_UNAVAILABLE, &message),
    };
    let price = app
        .mode
        .format_amount(product.price_minor, &product.currency);
    let token = app.forms.issue("buy", &sku);
    let carried = attribution(&query);
    let mut fields: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
    for key in ATTRIBUTION {
        if let Some(value) = carried.get(key) {
            fields.push((key, value.as_str()));
        }
    }
    pages::product(&sku, &product.name, &price, &fields).into_response()
}

async fn buy(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(sku): Path<String>,
    form: Posted,
) -> Response {
    if bad_sku(&sku) {
        return refusal(StatusCode::BAD_REQUEST, "This is not a product link.");
    }
    let Some(form) = posted(form) else {
        return too_large();
    };
    if !app
        .forms
        .check(form.get("csrf").map(String::as_str), "buy", &sku)
    {
        return forbidden();
    }
    // Counted only for forms this server issued: each one makes an order.
    if let Err(wait) = app.orders.take(peer.ip()) {
        return slow_down(wait);
    }
    // Each form buys once: a resent or replayed form is refused.
    if !app
        .forms
        .redeem(form.get("csrf").map(String::as_str), "buy", &sku)
    {
        return forbidden();
    }
    let Some(shop) = app.mode.link_sales() else {
        return not_found("Buy links are not on.");
    };
    match shop.sale_for_link(&sku, &attribution(&form)).await {
        Ok(token) => Redirect::to(&format!("/pay/{token}")).into_response(),
        Err(message) => not_found(&message),
    }
}

async fn checkout_page(State(app): State<App>, Path(token): Path<String>) -> Response {
    let Some(charge) = app.mode.page(&token) else {
        return not_found("No such test payment.");
    };
    let csrf = app.forms.issue("settle", &token);
    pages::checkout(&token, &charge, &csrf).into_response()
}

async fn settle(app: &App, peer: SocketAddr, token: &str, form: Posted, pay: bool) -> Response {
    let Some(form) = posted(form) else {
        return too_large();
    };
    if !app
        .forms
        .check(form.get("csrf").map(String::as_str), "settle", token)
    {
        return forbidden();
    }
    if let Err(wait) = app.settles.take(peer.ip()) {
        return slow_down(wait);
    }
    if !app
        .forms
        .redeem(form.get("csrf").map(String::as_str), "settle", token)
    {
        return forbidden();
    }
    match app.mode.settle(token, pay) {
        // A buyer from the shop page goes back to it (the receipt) once paid.
        Ok("paid") if let Some(back) = app.mode.return_url(token) => {
            Redirect::to(&back).into_response()
        }
        Ok(state) => pages::settled(state, app.mode.return_url(token).as_deref()).into_response(),
        Err(SettleError::UnknownCharge) => not_found("No such test payment."),
        Err(error) => refusal(StatusCode::CONFLICT, &error.to_string()),
    }
}

async fn pay(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    form: Posted,
) -> Response {
    settle(&app, peer, &token, form, true).await
}

async fn decline(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    form: Posted,
) -> Response {
    settle(&app, peer, &token, form, false).await
}

async fn status(State(app): State<App>, Path(token): Path<String>) -> Response {
    match app.mode.page(&token) {
        Some(charge) => (
            [(header::CONTENT_TYPE, "application/json")],
            format!(r#"{{"state":"{}"}}"#, charge.state),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
