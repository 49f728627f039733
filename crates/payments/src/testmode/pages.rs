//! The test checkout's HTML: plain forms, no script, every dynamic value escaped, and the
//! short plain pages for refusals (403, 404, 413, 429).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
pub use shopcast_net::html::escape_html;

use super::ChargePage;

/// Where the checkout's stylesheet is served.
pub(crate) const STYLESHEET_PATH: &str = "/pay/assets/checkout.css";
pub(crate) const STYLESHEET: &str = r#"body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;text-align:center}
.banner{background:#b45309;color:#fff;font-weight:700;padding:.5rem;border-radius:.5rem}
.amount{font-size:2.5rem;font-weight:700}button{font-size:1.25rem;width:100%;padding:1rem;margin:.5rem 0;border-radius:.75rem;border:0}
.pay{background:#15803d;color:#fff}.decline{background:#e5e7eb}
"#;

/// A whole page with the TEST MODE banner.
pub(crate) fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title} — TEST</title>
<link rel="stylesheet" href="{STYLESHEET_PATH}"></head>
<body><div class="banner">TEST MODE — no real money moves</div>{body}</body></html>"#,
        title = escape_html(title),
    ))
}

/// A refusal: `status` with one sentence, never cached.
pub(crate) fn refusal(status: StatusCode, sentence: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Refused");
    let mut response = (
        status,
        page(
            title,
            &format!("<p id=\"reason\">{}</p>", escape_html(sentence)),
        ),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 429 with how many seconds to wait.
pub(crate) fn slow_down(retry_after_secs: u64) -> Response {
    let mut response = refusal(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many tries from this device. Wait a moment and try again.",
    );
    if let Ok(value) = HeaderValue::from_str(&retry_after_secs.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The product behind a buy link, with a Buy button that posts the form back.
pub(crate) fn product(sku: &str, name: &str, price: &str, fields: &[(&str, &str)]) -> Html<String> {
    page(
        name,
        &format!(
            r#"<p class="subject" id="name">{name}</p><p class="amount" id="price">{price}</p>
<form method="post" action="/p/{sku}">{fields}<button id="buy" class="pay">Buy (test)</button></form>"#,
            name = escape_html(name),
            price = escape_html(price),
            sku = shopcast_net::html::path_segment(sku),
            fields = shopcast_net::html::hidden_inputs(fields),
        ),
    )
}

/// A charge's checkout page: Pay and Decline while open, its state after (with the way
/// back to the shop page's receipt when it came from there).
pub(crate) fn checkout(token: &str, charge: &ChargePage, csrf: &str) -> Html<String> {
    let (subject, amount) = (escape_html(&charge.subject), escape_html(&charge.amount));
    let body = if charge.state == "open" {
        let fields = shopcast_net::html::hidden_inputs(&[("csrf", csrf)]);
        format!(
            r#"<p class="subject">{subject}</p><p class="amount" id="amount">{amount}</p>
<form method="post" action="/pay/{token}/pay">{fields}<button id="pay" class="pay">Pay (test)</button></form>
<form method="post" action="/pay/{token}/decline">{fields}<button id="decline" class="decline">Decline (test)</button></form>"#,
            token = escape_html(token),
        )
    } else {
        let shown = match charge.state {
            "paid" => "Paid ✓",
            "declined" => "Declined",
            _ => "Expired",
        };
        format!(
            r#"<p class="subject">{subject}</p><p class="amount">{amount}</p><p id="state">{shown}</p>{}"#,
            back_link(charge.return_url.as_deref()),
        )
    };
    page("Test checkout", &body)
}

/// What the customer sees after pressing Pay or Decline.
pub(crate) fn settled(state: &str, return_url: Option<&str>) -> Html<String> {
    let back = back_link(return_url);
    if state == "paid" {
        page("Paid", &format!(r#"<p id="state">Paid ✓ (test)</p>{back}"#))
    } else {
        page(
            "Declined",
            &format!(r#"<p id="state">Declined (test)</p>{back}"#),
        )
    }
}

/// The link back to the shop page, for a charge that came from it.
fn back_link(return_url: Option<&str>) -> String {
    return_url
        .map(|url| {
            format!(
                r#"<p><a id="return" href="{}">Back to the shop</a></p>"#,
                escape_html(url)
            )
        })
        .unwrap_or_default()
}
