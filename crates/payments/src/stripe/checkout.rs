//! The forms Shopcast posts to create things customers pay through: a Checkout Session per till
//! charge, and a Payment Link per product (printed on signs, linked from posts).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use reqwest::Url;

use crate::provider::{ChargeRequest, ProviderError};
use crate::stripe::units;

/// Stripe accepts a Checkout Session `expires_at` from 30 minutes to 24 hours after creation.
/// The margins keep a request valid when it reaches Stripe a little later than we built it, or
/// the shop's clock is a little off.
pub const SESSION_MIN_LIFETIME: Duration = Duration::from_secs(31 * 60);
pub const SESSION_MAX_LIFETIME: Duration = Duration::from_secs(23 * 3600 + 55 * 60);

/// The `expires_at` to ask Stripe for: `requested`, moved into what Stripe accepts. A till
/// charge usually wants a few minutes; Stripe keeps the session open for at least 30, and the
/// engine is free to cancel (expire) it earlier.
pub fn session_expiry(requested: Timestamp, now: Timestamp) -> Timestamp {
    let earliest = now + signed(SESSION_MIN_LIFETIME);
    let latest = now + signed(SESSION_MAX_LIFETIME);
    requested.clamp(earliest, latest)
}

fn signed(duration: Duration) -> SignedDuration {
    SignedDuration::try_from(duration).expect("lifetimes are small")
}

/// `POST /v1/checkout/sessions` form fields for `request`, in the order Stripe documents them,
/// amounts in Stripe's units (see [`units`]); an amount Stripe cannot charge is refused.
pub(crate) fn session_form(
    request: &ChargeRequest,
    expires_at: Timestamp,
    success_url: &Url,
    cancel_url: Option<&Url>,
) -> Result<Vec<(String, String)>, ProviderError> {
    let currency = request.currency.to_ascii_lowercase();
    // The total first: when it cannot be charged, that is the sentence the till shows.
    units::to_stripe(request.amount_minor, &request.currency, "total")?;
    let mut form = vec![("mode".to_string(), "payment".to_string())];
    for (index, line) in sold_lines(request).into_iter().enumerate() {
        let field = |name: &str| format!("line_items[{index}][{name}]");
        let unit_amount = units::to_stripe(line.unit_amount, &request.currency, "price")?;
        form.push((field("price_data][currency"), currency.clone()));
        form.push((field("price_data][unit_amount"), unit_amount.to_string()));
        form.push((field("price_data][product_data][name"), line.name));
        form.push((field("quantity"), line.quantity.to_string()));
    }
    let reference = request
        .source_tag
        .as_deref()
        .filter(|tag| !tag.is_empty())
        .unwrap_or(&request.order_ref);
    form.push(("client_reference_id".into(), reference.to_string()));
    form.push(("metadata[order_ref]".into(), request.order_ref.clone()));
    // So the PaymentIntent's own events name the order too.
    form.push((
        "payment_intent_data[metadata][order_ref]".into(),
        request.order_ref.clone(),
    ));
    form.push(("expires_at".into(), expires_at.as_second().to_string()));
    form.push(("success_url".into(), success_url.to_string()));
    if let Some(cancel_url) = cancel_url {
        form.push(("cancel_url".into(), cancel_url.to_string()));
    }
    Ok(form)
}

struct SoldLine {
    name: String,
    quantity: u32,
    unit_amount: i64,
}

/// The order's lines when they add up to its total; otherwise (no lines, a discount, rounding)
/// one line named after the subject for the total, because what the customer pays must be the
/// total the till shows. Stripe computes the session's total from the lines.
fn sold_lines(request: &ChargeRequest) -> Vec<SoldLine> {
    let lines_total = request.lines.iter().try_fold(0_i64, |sum, line| {
        let usable = line.quantity > 0 && line.unit_amount_minor >= 0;
        let amount = line
            .unit_amount_minor
            .checked_mul(i64::from(line.quantity))?;
        usable.then(|| sum.checked_add(amount)).flatten()
    });
    if !request.lines.is_empty() && lines_total == Some(request.amount_minor) {
        return request
            .lines
            .iter()
            .map(|line| SoldLine {
                name: non_empty(&line.name, &request.subject, &request.order_ref),
                quantity: line.quantity,
                unit_amount: line.unit_amount_minor,
            })
            .collect();
    }
    vec![SoldLine {
        name: non_empty(&request.subject, &request.order_ref, &request.order_ref),
        quantity: 1,
        unit_amount: request.amount_minor,
    }]
}

/// Stripe rejects an empty product name.
fn non_empty(first: &str, second: &str, third: &str) -> String {
    [first, second, third]
        .into_iter()
        .map(str::trim)
        .find(|text| !text.is_empty())
        .unwrap_or("Shopcast")
        .to_string()
}

/// A product to sell through a reusable Stripe Payment Link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLinkProduct {
    /// What the buyer sees, any script.
    pub name: String,
    pub unit_amount_minor: i64,
    /// ISO 4217, any case.
    pub currency: String,
    /// Our product reference, kept in the link's metadata (Stripe copies it to the Checkout
    /// Sessions the link creates).
    pub sku: String,
}

/// A Payment Link Stripe created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLink {
    /// `plink_…`
    pub id: String,
    /// `https://buy.stripe.com/…`: the URL to print or post (see [`tagged_payment_link`]).
    pub url: String,
    /// Stripe's reply exactly as received.
    pub raw: String,
}

/// `POST /v1/prices` form for a one-off price with an inline product, in Stripe's units.
pub(crate) fn price_form(
    product: &PaymentLinkProduct,
) -> Result<Vec<(String, String)>, ProviderError> {
    let unit_amount = units::to_stripe(product.unit_amount_minor, &product.currency, "price")?;
    Ok(vec![
        ("currency".into(), product.currency.to_ascii_lowercase()),
        ("unit_amount".into(), unit_amount.to_string()),
        ("product_data[name]".into(), product.name.clone()),
    ])
}

/// `POST /v1/payment_links` form selling one of `price_id`.
pub(crate) fn payment_link_form(price_id: &str, sku: &str) -> Vec<(String, String)> {
    vec![
        ("line_items[0][price]".into(), price_id.to_string()),
        ("line_items[0][quantity]".into(), "1".into()),
        ("metadata[sku]".into(), sku.to_string()),
    ]
}

/// Why [`tagged_payment_link`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaggedLinkError {
    #[error(
        "the tag {0:?} cannot go in a Stripe Payment Link: use 1 to 200 letters, digits, '-' or '_'"
    )]
    Tag(String),
    #[error("{0:?} is not a link")]
    Url(String),
}

/// `url` with `client_reference_id=<tag>`, the URL parameter Stripe documents for Payment
/// Links: the Checkout Session the customer opens carries the tag, so the payment can be traced
/// to the post or sign it came from. Stripe only accepts letters, digits, `-` and `_`, 1 to 200
/// of them (so "post:12" must be written "post-12"). An existing tag is replaced.
pub fn tagged_payment_link(url: &str, tag: &str) -> Result<String, TaggedLinkError> {
    let tag_ok = (1..=200).contains(&tag.len())
        && tag
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if !tag_ok {
        return Err(TaggedLinkError::Tag(tag.to_string()));
    }
    let mut link = Url::parse(url).map_err(|_| TaggedLinkError::Url(url.to_string()))?;
    if !matches!(link.scheme(), "https" | "http") {
        return Err(TaggedLinkError::Url(url.to_string()));
    }
    let kept: Vec<(String, String)> = link
        .query_pairs()
        .filter(|(name, _)| name != "client_reference_id")
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    link.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("client_reference_id", tag);
    Ok(link.into())
}
