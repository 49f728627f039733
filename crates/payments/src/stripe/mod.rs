//! Stripe: a Checkout Session per till charge (its URL is the QR), Payment Links for products,
//! and the event feed (`GET /v1/events`) polled for what was paid, failed, expired or refunded;
//! the same events signed and pushed to the shop page are read by [`webhook`].
//!
//! Everything is form-encoded with `Authorization: Bearer <secret key>`, as Stripe documents.
//! The tests run against localstripe (`tests/peers/`) and local capture servers.

mod checkout;
mod events;
pub mod units;
pub mod webhook;

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use reqwest::{Method, RequestBuilder, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use checkout::{
    PaymentLink, PaymentLinkProduct, SESSION_MAX_LIFETIME, SESSION_MIN_LIFETIME, TaggedLinkError,
    session_expiry, tagged_payment_link,
};
pub use events::EVENT_TYPES;
pub use webhook::{
    MAX_PAYLOAD_BYTES, SIGNATURE_TOLERANCE, WebhookError, WebhookEvent, WebhookSecret,
    read_webhook, signature_header, verify_signature,
};

use crate::http::{self, RawResponse};
use crate::provider::{
    Charge, ChargeRequest, OpenCharge, PaymentProvider, PollOutcome, ProviderError, ProviderKind,
    Refund, RefundRequest, UnreadableEvent,
};
use events::{EventPage, ListedEvent};

const KIND: ProviderKind = ProviderKind::Stripe;

/// Stripe's largest page of events.
pub const MAX_PAGE_LIMIT: u32 = 100;

/// A poll gives up (and says so) rather than page forever through a feed that never ends.
const MAX_PAGES: usize = 1_000;

/// How Shopcast talks to one Stripe account.
#[derive(Clone)]
pub struct StripeConfig {
    /// `https://api.stripe.com` (the default), or a test peer.
    pub api_base: Url,
    /// `sk_live_…`, `sk_test_…` or a restricted `rk_…` key. Never printed: `Debug` redacts it.
    pub secret_key: String,
    /// Sent as `Stripe-Version` when set; otherwise the account's default version applies.
    pub api_version: Option<String>,
    /// Where the customer's phone goes after paying (Checkout requires one).
    pub success_url: Url,
    /// Where the phone goes if the customer backs out; Stripe shows no back link without it.
    pub cancel_url: Option<Url>,
    /// How far before the newest event already seen each poll starts again: Stripe's list is
    /// not strictly in `created` order at the moment of listing, so re-read a margin and let
    /// the ledger drop what it has (by event id).
    pub poll_overlap: Duration,
    /// Events per page, 1 to [`MAX_PAGE_LIMIT`].
    pub page_limit: u32,
    /// Send the `types[]` filter so Stripe only lists payment events. Real Stripe supports it;
    /// localstripe answers 400 "Unexpected types", so tests against it turn this off. The same
    /// filter is applied to what comes back either way.
    pub filter_types_on_server: bool,
}

impl StripeConfig {
    /// The live Stripe API with Shopcast's defaults.
    pub fn new(secret_key: impl Into<String>) -> StripeConfig {
        StripeConfig {
            api_base: Url::parse("https://api.stripe.com").expect("static URL"),
            secret_key: secret_key.into(),
            api_version: None,
            success_url: Url::parse("https://shopcast.app/paid").expect("static URL"),
            cancel_url: None,
            poll_overlap: Duration::from_secs(60),
            page_limit: MAX_PAGE_LIMIT,
            filter_types_on_server: true,
        }
    }
}

impl fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeConfig")
            .field("api_base", &self.api_base.as_str())
            .field("secret_key", &redacted(&self.secret_key))
            .field("api_version", &self.api_version)
            .field("success_url", &self.success_url.as_str())
            .field("cancel_url", &self.cancel_url.as_ref().map(Url::as_str))
            .field("poll_overlap", &self.poll_overlap)
            .field("page_limit", &self.page_limit)
            .field("filter_types_on_server", &self.filter_types_on_server)
            .finish()
    }
}

/// The key's kind ("sk_live_", "rk_test_") and nothing of the secret part.
fn redacted(key: &str) -> String {
    let kind = ["sk_live_", "sk_test_", "rk_live_", "rk_test_"]
        .into_iter()
        .find(|prefix| key.starts_with(prefix))
        .unwrap_or("");
    format!("{kind}[redacted]")
}

/// The Stripe [`PaymentProvider`].
#[derive(Debug, Clone)]
pub struct StripeProvider {
    config: StripeConfig,
    http: reqwest::Client,
}

impl StripeProvider {
    pub fn new(config: StripeConfig) -> Result<StripeProvider, ProviderError> {
        let key = config.secret_key.trim();
        if key.is_empty() {
            return Err(config_error("no secret key is set"));
        }
        if !key.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(config_error(
                "the secret key has spaces or other characters no Stripe key has; paste it again",
            ));
        }
        http::check_remote_url(KIND, "Stripe API address", &config.api_base)?;
        if config.api_base.cannot_be_a_base() {
            return Err(config_error("the API address must be an http(s) URL"));
        }
        if !(1..=MAX_PAGE_LIMIT).contains(&config.page_limit) {
            return Err(config_error("page_limit must be 1 to 100"));
        }
        let config = StripeConfig {
            secret_key: key.to_string(),
            ..config
        };
        Ok(StripeProvider {
            config,
            http: http::client(),
        })
    }

    pub fn config(&self) -> &StripeConfig {
        &self.config
    }

    /// Creates a reusable Payment Link selling one `product`: `POST /v1/prices` (a price with
    /// an inline product), then `POST /v1/payment_links`. Tag the URL per post or sign with
    /// [`tagged_payment_link`].
    pub async fn create_payment_link(
        &self,
        product: &PaymentLinkProduct,
    ) -> Result<PaymentLink, ProviderError> {
        #[derive(Deserialize)]
        struct Created {
            id: String,
        }
        #[derive(Deserialize)]
        struct Link {
            id: String,
            url: String,
        }
        let price = self
            .call(self.post(&["prices"]).form(&checkout::price_form(product)?))
            .await?;
        let price: Created = read_json(&price, "Price")?;
        let reply = self
            .call(
                self.post(&["payment_links"])
                    .form(&checkout::payment_link_form(&price.id, &product.sku)),
            )
            .await?;
        let link: Link = read_json(&reply, "Payment Link")?;
        Ok(PaymentLink {
            id: link.id,
            url: link.url,
            raw: reply.text(),
        })
    }

    /// `{api_base}/v1/{segments…}`; each segment is percent-encoded, so an id can never
    /// change the path.
    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.config.api_base.clone();
        url.path_segments_mut()
            .expect("checked in new(): api_base can be a base")
            .pop_if_empty()
            .push("v1")
            .extend(segments);
        url
    }

    fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        let mut request = self
            .http
            .request(method, self.endpoint(segments))
            .bearer_auth(&self.config.secret_key);
        if let Some(version) = &self.config.api_version {
            request = request.header("Stripe-Version", version);
        }
        request
    }

    fn post(&self, segments: &[&str]) -> RequestBuilder {
        self.request(Method::POST, segments)
    }

    fn get(&self, segments: &[&str]) -> RequestBuilder {
        self.request(Method::GET, segments)
    }

    /// Sends through the shared mapping (network, 429, 5xx), then reads Stripe's own errors.
    async fn call(&self, request: RequestBuilder) -> Result<RawResponse, ProviderError> {
        let reply = http::send(KIND, request).await?;
        match reply.status {
            200..=299 => Ok(reply),
            400..=499 => Err(rejected(&reply)),
            status => Err(ProviderError::BadResponse {
                provider: KIND,
                detail: format!("unexpected HTTP {status}"),
            }),
        }
    }

    /// Every listed event since `since` (all Stripe keeps, 30 days, when `None`), following
    /// `starting_after` while `has_more`, and the ones without a readable head. Works
    /// whichever way the server orders its list: `starting_after` continues from the last one
    /// given, and the caller sorts.
    async fn list_events(
        &self,
        since: Option<i64>,
    ) -> Result<(Vec<ListedEvent>, Vec<UnreadableEvent>), ProviderError> {
        let mut listed = Vec::new();
        let mut unreadable = Vec::new();
        let mut seen = HashSet::new();
        let mut starting_after: Option<String> = None;
        let mut limit = self.config.page_limit;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("limit", limit.to_string())];
            if let Some(since) = since {
                query.push(("created[gte]", since.to_string()));
            }
            if self.config.filter_types_on_server {
                query.extend(EVENT_TYPES.iter().map(|kind| ("types[]", kind.to_string())));
            }
            if let Some(after) = &starting_after {
                query.push(("starting_after", after.clone()));
            }
            let reply = match self.call(self.get(&["events"]).query(&query)).await {
                // Events heavy with metadata can make a full page pass the reply cap: ask for
                // fewer per page rather than stall the feed.
                Err(error) if http::is_over_cap(&error) && limit > 1 => {
                    limit = (limit / 2).max(1);
                    continue;
                }
                reply => reply?,
            };
            let page: EventPage = read_json(&reply, "event list")?;
            // The paging cursor: the last event on the page with an id Stripe can continue
            // from, readable or not (a page of only unreadable events must not end the list).
            let mut last_id = None;
            let mut new_on_page = 0;
            for raw in page.data {
                let event = match ListedEvent::read(raw) {
                    Ok(event) => event,
                    Err(odd) => {
                        if is_event_id(&odd.event_id) {
                            last_id = Some(odd.event_id.clone());
                        }
                        if seen.insert(odd.event_id.clone()) {
                            new_on_page += 1;
                            unreadable.push(odd);
                        }
                        continue;
                    }
                };
                last_id = Some(event.id.clone());
                if seen.insert(event.id.clone()) {
                    new_on_page += 1;
                    listed.push(event);
                }
            }
            if !page.has_more {
                return Ok((listed, unreadable));
            }
            let Some(last_id) = last_id else {
                return Err(ProviderError::BadResponse {
                    provider: KIND,
                    detail: "the event list says more events follow, but no event on the page \
                             has an id (evt_…) to ask for the next page with"
                        .into(),
                });
            };
            if new_on_page == 0 {
                return Err(ProviderError::BadResponse {
                    provider: KIND,
                    detail: format!("the event list repeats itself after {last_id}"),
                });
            }
            starting_after = Some(last_id);
        }
        Err(ProviderError::BadResponse {
            provider: KIND,
            detail: format!("the event list goes on for more than {MAX_PAGES} pages"),
        })
    }

    /// Total refunded on `charge_id` so far, as Stripe states it, in our units.
    async fn refunded_total(&self, charge_id: &str) -> Result<i64, ProviderError> {
        #[derive(Deserialize)]
        struct ChargeRefunds {
            amount_refunded: i64,
            currency: String,
        }
        let reply = self.call(self.get(&["charges", charge_id])).await?;
        let charge = read_json::<ChargeRefunds>(&reply, "Charge")?;
        units::from_stripe(charge.amount_refunded, &charge.currency)
    }
}

#[async_trait]
impl PaymentProvider for StripeProvider {
    async fn reusable_link(
        &self,
        product: &PaymentLinkProduct,
    ) -> Result<Option<PaymentLink>, ProviderError> {
        self.create_payment_link(product).await.map(Some)
    }

    fn tag_link(&self, url: &str, tag: &str) -> Option<String> {
        tagged_payment_link(url, tag).ok()
    }

    fn kind(&self) -> ProviderKind {
        KIND
    }

    /// `POST /v1/checkout/sessions`. The expiry is moved into the 30 min – 24 h Stripe accepts
    /// (see [`session_expiry`]); the returned charge states the one Stripe confirmed.
    async fn create_charge(&self, request: &ChargeRequest) -> Result<Charge, ProviderError> {
        #[derive(Deserialize)]
        struct Session {
            id: String,
            url: Option<String>,
            expires_at: Option<i64>,
        }
        let expires_at = session_expiry(request.expires_at, Timestamp::now());
        // A buyer paying in their browser goes back to the shop page's receipt, whether they
        // paid or backed out (the receipt then says the payment is still awaited).
        let back = match &request.web {
            Some(web) => Some(web_return_url(&web.return_url)?),
            None => None,
        };
        let (success_url, cancel_url) = match &back {
            Some(back) => (back, Some(back)),
            None => (&self.config.success_url, self.config.cancel_url.as_ref()),
        };
        let form = checkout::session_form(request, expires_at, success_url, cancel_url)?;
        let reply = self
            .call(self.post(&["checkout", "sessions"]).form(&form))
            .await?;
        let session: Session = read_json(&reply, "Checkout Session")?;
        let Some(url) = session.url.filter(|url| !url.is_empty()) else {
            return Err(ProviderError::BadResponse {
                provider: KIND,
                detail: format!(
                    "Checkout Session {} came without a URL to pay at",
                    session.id
                ),
            });
        };
        let expires_at = session
            .expires_at
            .and_then(|seconds| Timestamp::from_second(seconds).ok())
            .unwrap_or(expires_at);
        Ok(Charge {
            charge_ref: session.id,
            qr_payload: url,
            expires_at,
            raw: reply.text(),
        })
    }

    /// Reads `GET /v1/events` from the cursor (the newest `created` seen, in Unix seconds)
    /// minus [`StripeConfig::poll_overlap`], oldest first. Events seen before come back again;
    /// the ledger keys on `event_id`.
    async fn poll(
        &self,
        cursor: Option<&str>,
        _open: &[OpenCharge],
    ) -> Result<PollOutcome, ProviderError> {
        let cursor = match cursor {
            None => None,
            Some(text) => Some(text.trim().parse::<i64>().map_err(|_| {
                config_error(format!(
                    "the saved Stripe poll position {text:?} is not a time in seconds"
                ))
            })?),
        };
        let overlap = i64::try_from(self.config.poll_overlap.as_secs()).unwrap_or(i64::MAX);
        let since = cursor.map(|newest| newest.saturating_sub(overlap));
        let (mut listed, mut unreadable) = self.list_events(since).await?;
        listed.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));

        let newest = listed.iter().map(|event| event.created).max();
        let cursor = newest
            .filter(|&newest| cursor.is_none_or(|old| newest > old))
            .map(|newest| newest.to_string());
        // Each event on its own: one we cannot read is kept aside and the others still count.
        let mut events = Vec::new();
        for event in &listed {
            match event.to_provider_event() {
                Ok(Some(event)) => events.push(event),
                Ok(None) => {}
                Err(odd) => unreadable.push(odd),
            }
        }
        Ok(PollOutcome {
            events,
            cursor,
            unreadable,
        })
    }

    /// Expires a Checkout Session (`cs_…`) or cancels a PaymentIntent (`pi_…`).
    async fn cancel(&self, charge: &OpenCharge) -> Result<(), ProviderError> {
        let id = charge.charge_ref.as_str();
        let request = if id.starts_with("cs_") {
            self.post(&["checkout", "sessions", id, "expire"])
        } else if id.starts_with("pi_") {
            self.post(&["payment_intents", id, "cancel"])
        } else {
            return Err(ProviderError::Unsupported {
                provider: KIND,
                what: "cancelling a charge that is neither a Checkout Session nor a PaymentIntent",
            });
        };
        self.call(request).await?;
        Ok(())
    }

    /// `POST /v1/refunds` with `Idempotency-Key: <refund_ref>`, so a retried refund cannot pay
    /// out twice. Our reason goes in metadata: Stripe's own `reason` takes only a few fixed
    /// words. The total refunded so far is read back from the charge when it can be.
    async fn refund(&self, request: &RefundRequest) -> Result<Refund, ProviderError> {
        #[derive(Deserialize)]
        struct StripeRefund {
            id: String,
            amount: i64,
            currency: Option<String>,
            charge: Option<serde_json::Value>,
            status: Option<String>,
            failure_reason: Option<String>,
        }
        let target = if request.provider_ref.starts_with("ch_") {
            "charge"
        } else {
            "payment_intent"
        };
        let amount = units::to_stripe(request.amount_minor, &request.currency, "refund")?;
        let mut form = vec![
            (target.to_string(), request.provider_ref.clone()),
            ("amount".into(), amount.to_string()),
            ("metadata[refund_ref]".into(), request.refund_ref.clone()),
        ];
        if let Some(reason) = request
            .reason
            .as_deref()
            .filter(|reason| !reason.is_empty())
        {
            form.push(("metadata[reason]".into(), reason.to_string()));
        }
        let reply = self
            .call(
                self.post(&["refunds"])
                    .header("Idempotency-Key", &request.refund_ref)
                    .form(&form),
            )
            .await?;
        let refund: StripeRefund = read_json(&reply, "Refund")?;
        if let Some(status @ ("failed" | "canceled")) = refund.status.as_deref() {
            let reason = refund
                .failure_reason
                .as_deref()
                .unwrap_or("no reason given");
            return Err(ProviderError::Rejected {
                provider: KIND,
                code: format!("refund_{status}"),
                message: format!("Stripe could not refund this payment ({reason})."),
                raw: reply.text(),
            });
        }
        let charge_id = match refund.charge {
            Some(serde_json::Value::String(id)) => Some(id),
            Some(serde_json::Value::Object(charge)) => charge
                .get("id")
                .and_then(|id| id.as_str())
                .map(str::to_string),
            _ => None,
        };
        // The refund itself went through; the total is a convenience (the event feed reports
        // it too), so failing to read it must not turn a done refund into an error.
        let refunded_total_minor = match charge_id {
            Some(charge_id) => self.refunded_total(&charge_id).await.ok(),
            None => None,
        };
        let currency = refund.currency.as_deref().unwrap_or(&request.currency);
        Ok(Refund {
            refund_id: refund.id,
            // Done at Stripe: an amount we cannot read back must not turn it into an error.
            amount_minor: units::from_stripe(refund.amount, currency)
                .unwrap_or(request.amount_minor),
            refunded_total_minor,
            raw: reply.text(),
        })
    }
}

/// Reads a successful reply; anything else is a reply we cannot use.
fn read_json<T: DeserializeOwned>(reply: &RawResponse, what: &str) -> Result<T, ProviderError> {
    serde_json::from_slice(&reply.body).map_err(|err| ProviderError::BadResponse {
        provider: KIND,
        detail: format!(
            "the {what} reply is not what Stripe documents ({err}): {}",
            http::truncate(&reply.text(), 200)
        ),
    })
}

/// A 4xx reply, `{"error": {"type", "code", "message", …}}` as Stripe documents it, as
/// `Rejected` with Stripe's code and a sentence for the shop owner.
fn rejected(reply: &RawResponse) -> ProviderError {
    #[derive(Deserialize)]
    struct ErrorReply {
        error: StripeError,
    }
    #[derive(Deserialize)]
    struct StripeError {
        code: Option<String>,
        decline_code: Option<String>,
        message: Option<String>,
        #[serde(rename = "type")]
        kind: Option<String>,
    }
    let error = serde_json::from_slice::<ErrorReply>(&reply.body)
        .ok()
        .map(|reply| reply.error);
    let said = error
        .as_ref()
        .and_then(|error| error.message.clone())
        .unwrap_or_else(|| http::truncate(&reply.text(), 300));
    let stripe_code = error.as_ref().and_then(|error| {
        error
            .code
            .clone()
            .or_else(|| error.decline_code.clone())
            .filter(|code| !code.is_empty())
    });
    let (code, message) = match reply.status {
        401 => (
            stripe_code.unwrap_or_else(|| "authentication_required".into()),
            format!(
                "Stripe rejected the secret key. Copy it again from the Stripe Dashboard \
                 (Developers → API keys) into Settings → Payments. Stripe said: {said}"
            ),
        ),
        403 => (
            stripe_code.unwrap_or_else(|| "permission_denied".into()),
            format!(
                "This Stripe key may not do that; a restricted key needs more permissions. \
                 Stripe said: {said}"
            ),
        ),
        status => (
            stripe_code
                .or_else(|| error.as_ref().and_then(|error| error.kind.clone()))
                .unwrap_or_else(|| format!("http_{status}")),
            said,
        ),
    };
    ProviderError::Rejected {
        provider: KIND,
        code,
        message,
        raw: reply.text(),
    }
}

/// The shop page's receipt address for a web checkout: Stripe requires an absolute URL.
fn web_return_url(text: &str) -> Result<Url, ProviderError> {
    Url::parse(text)
        .ok()
        .filter(|url| matches!(url.scheme(), "https" | "http") && url.host().is_some())
        .ok_or_else(|| {
            config_error(format!(
                "the address to return the buyer to ({}) is not an absolute http(s) URL",
                http::truncate(text, 100)
            ))
        })
}

fn config_error(detail: impl Into<String>) -> ProviderError {
    ProviderError::Config {
        provider: KIND,
        detail: detail.into(),
    }
}

/// Whether `id` is a Stripe event id (`evt_` and letters, digits or `_`) that can be sent back
/// as `starting_after`, not a name Shopcast made for an event without one.
fn is_event_id(id: &str) -> bool {
    id.strip_prefix("evt_").is_some_and(|rest| {
        !rest.is_empty()
            && rest.len() <= 255
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}
