//! Security headers on every answer (pages, media, 404s, refusals, the mounted checkout), and
//! the request count the owner's status shows.

use std::sync::{Arc, LazyLock};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::Activity;

/// Where a Buy form may lead: this server, then the providers' checkout pages (browsers check
/// the redirect after the POST against `form-action` too).
const FORM_ACTION: &str = "form-action 'self' https://checkout.stripe.com https://*.stripe.com https://*.alipay.com https://*.alipaydev.com";

/// The policy of every page: nothing but our own images and stylesheet, no script, no frames.
fn content_security_policy(form_action: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "default-src 'none'; img-src 'self'; style-src 'self'; {form_action}; frame-ancestors 'none'; base-uri 'none'"
    ))
    .expect("ASCII")
}

/// Every answer's policy, written once.
static PAGE_CSP: LazyLock<HeaderValue> = LazyLock::new(|| content_security_policy(FORM_ACTION));

/// The Mastodon share form's: it leads to the buyer's own server, which can be any https host.
pub(crate) static MASTODON_CSP: LazyLock<HeaderValue> =
    LazyLock::new(|| content_security_policy("form-action 'self' https:"));

#[derive(Clone)]
pub(crate) struct Policy {
    pub https: bool,
    pub activity: Arc<Activity>,
}

impl Policy {
    pub(crate) fn new(https: bool, activity: Arc<Activity>) -> Policy {
        Policy { https, activity }
    }
}

/// Adds the headers a route did not set itself (a receipt sets a stricter Referrer-Policy,
/// the Mastodon form a wider form-action).
pub(crate) async fn secure(State(policy): State<Policy>, request: Request, next: Next) -> Response {
    policy.activity.saw_request();
    let mut response = next.run(request).await;
    apply(policy.https, response.headers_mut());
    response
}

/// The security headers, where not set already (the shared server's own refusals get them
/// here too).
pub(crate) fn apply(https: bool, headers: &mut HeaderMap) {
    let mut set = |name: HeaderName, value: HeaderValue| {
        headers.entry(name).or_insert(value);
    };
    set(header::CONTENT_SECURITY_POLICY, PAGE_CSP.clone());
    set(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    set(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    set(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    set(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    );
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if https {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
}
