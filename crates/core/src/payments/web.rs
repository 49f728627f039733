//! Buying on the shop page: an order from a product link (attributed to its sign, post or
//! shared receipt), the provider's checkout, and the receipt behind a token kept only hashed.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shopcast_payments::testmode::TestMode;
use shopcast_payments::{ProviderKind, WebCheckout};

use super::ledger::SalesChannel;
use super::store::orders;
use super::till::{self, OrderStatus};
use crate::Shop;
use crate::error::{CoreError, Result};
use crate::money::Money;

/// Most units of one product a buyer can take in one go on the shop page.
pub const MAX_WEB_QUANTITY: u32 = 99;
/// Longest attribution value (sign batch, post id, order ref) a link carries into an order.
const MAX_SOURCE_CHARS: usize = 64;
/// Shortest life of a web checkout: Stripe refuses Checkout Sessions under 30 minutes.
const MIN_CHECKOUT_MINUTES: u32 = 30;

/// A buyer pressing Buy on a product page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuyRequest {
    pub sku: String,
    /// 1..=99.
    pub quantity: u32,
    /// The link's query (src, sign, post, order); only plain bounded values are kept.
    pub source: HashMap<String, String>,
    /// From the User-Agent, decided by the server.
    pub phone: bool,
    /// The shop page's public base, without a trailing slash.
    pub public_url: String,
}

/// The order made for a Buy and where the buyer goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebCheckoutStart {
    pub order_ref: String,
    /// Unguessable (128-bit, hex); only its SHA-256 is stored. The receipt's address.
    pub receipt_token: String,
    pub next: NextStep,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// Send the buyer's browser here (Stripe Checkout Session URL, Alipay gateway URL).
    Redirect(String),
    /// Test mode: the server sends the buyer to its own `/pay/<token>` (mounted checkout_router).
    TestCheckout(String),
}

/// One line of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptLine {
    pub name: String,
    pub sku: Option<String>,
    pub quantity: i64,
    /// The line's amount (unit price × quantity) in the shop's locale.
    pub amount_text: String,
}

/// What the buyer's receipt page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    pub order_ref: String,
    /// False: "waiting for the payment to be confirmed".
    pub paid: bool,
    /// The buyer's last try was declined (nothing charged): the page offers to try again
    /// instead of waiting.
    pub declined: bool,
    pub status: OrderStatus,
    pub lines: Vec<ReceiptLine>,
    pub total: Money,
    pub total_text: String,
    /// UTC ms.
    pub paid_at: Option<i64>,
    /// In the shop's time zone and locale.
    pub paid_at_text: Option<String>,
    /// Once paid.
    pub share: Option<ShareLinks>,
}

/// The buyer's "tell your friends" links, for the order's first product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareLinks {
    /// `{public_url}/p/{sku}?src=share&order={order_ref}`.
    pub url: String,
    /// "I just bought 青花瓷杯 at Shop — ¥88.00".
    pub text: String,
    /// Weibo's share page with the address and text.
    pub weibo: String,
    /// Bluesky's compose intent with the text and address.
    pub bluesky: String,
    /// Text and address for Mastodon (the server asks the buyer's instance).
    pub mastodon_text: String,
}

impl Shop {
    /// Which provider takes web payments: Stripe if connected, else Alipay, else test mode if
    /// on; CoreError (provider_config) with a sentence when none is. Checks the quantity, that
    /// the product is on sale and in stock before any order is made.
    pub async fn buy_from_link(&self, request: &BuyRequest) -> Result<WebCheckoutStart> {
        // The buyer reads these sentences on the shop page, so they are in the shop's language.
        let settings = self.settings().await?;
        let zh = settings.locale.starts_with("zh");
        if request.quantity == 0 || request.quantity > MAX_WEB_QUANTITY {
            return Err(CoreError::invalid(
                "quantity",
                if zh {
                    format!("请选择 1 到 {MAX_WEB_QUANTITY} 之间的数量。")
                } else {
                    format!("Choose a quantity from 1 to {MAX_WEB_QUANTITY}.")
                },
            ));
        }
        let base = public_base(&request.public_url)?;
        let Some(product) = crate::catalog::store::public_by_sku(&self.pool, &request.sku).await?
        else {
            // The SKU came from a stranger's request: named only when it is plain text.
            let what = if plain_source_value(&request.sku) {
                format!("The product “{}”", request.sku)
            } else {
                "This product".to_string()
            };
            return Err(CoreError::not_found(what));
        };
        if let Some(left) = product.stock {
            let wanted = i64::from(request.quantity);
            if left < wanted {
                return Err(CoreError::SoldOut {
                    message: sold_out_sentence(&product.name, left, zh),
                });
            }
        }
        let kind = self.web_provider()?;
        let (channel, source_ref) = self.attribution(&request.source).await?;
        // Everything that can fail is settled before the order exists.
        let minutes = self
            .payment_settings()
            .await?
            .qr_minutes
            .max(MIN_CHECKOUT_MINUTES);
        let receipt_token = new_receipt_token();
        let web = WebCheckout {
            return_url: format!("{base}/r/{receipt_token}"),
            notify_url: base
                .starts_with("https://")
                .then(|| format!("{base}/hooks/alipay")),
            phone: request.phone,
        };
        let draft = till::OrderDraft {
            lines: vec![till::OrderLineDraft {
                product_id: product.id,
                quantity: request.quantity,
                ..Default::default()
            }],
            channel: Some(channel),
            source_ref,
            ..Default::default()
        };
        // The order and its checkout are made by a task of their own: a buyer who goes away
        // (the server's deadline drops this future) leaves an order with its charge, or a
        // cancelled one, never an open order nobody can pay.
        let shop = self.clone();
        let hash = token_hash(&receipt_token);
        let lifetime = Duration::from_secs(u64::from(minutes) * 60);
        let made = tokio::spawn(async move {
            let order = match till::create_held_order(&shop.pool, &draft, &settings, &hash).await? {
                Ok(order) => order,
                Err((_, left)) => {
                    return Err(CoreError::SoldOut {
                        message: sold_out_sentence(&product.name, left, zh),
                    });
                }
            };
            match shop
                .payments
                .start_web_charge(order.id, kind, &settings.name, lifetime, web)
                .await
            {
                Ok(charge) => Ok((order, charge)),
                Err(error) => {
                    // Nobody can pay an order whose checkout never opened: close it.
                    if let Err(cancel) = till::cancel_order(&shop.pool, order.id).await {
                        tracing::warn!(%cancel, "a shop-page order without a checkout stayed open");
                    }
                    Err(error)
                }
            }
        })
        .await;
        let (order, charge) = match made {
            Ok(made) => made?,
            Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
            Err(_) => return Err(CoreError::Cancelled),
        };
        let next = if kind == ProviderKind::Test {
            NextStep::TestCheckout(charge.charge_ref)
        } else {
            NextStep::Redirect(charge.qr_payload)
        };
        Ok(WebCheckoutStart {
            order_ref: order.order_ref,
            receipt_token,
            next,
        })
    }

    /// None for an unknown token (the server answers 404).
    pub async fn receipt(&self, receipt_token: &str, public_url: &str) -> Result<Option<Receipt>> {
        if !plausible_token(receipt_token) {
            return Ok(None);
        }
        let Some(order_id) =
            orders::order_id_by_receipt(&self.pool, &token_hash(receipt_token)).await?
        else {
            return Ok(None);
        };
        let order = till::get_order(&self.pool, order_id).await?;
        let settings = self.settings().await?;
        let locale = settings.locale.as_str();
        let paid = order.status == OrderStatus::Paid;
        let paid_at = if paid {
            orders::paid_at(&self.pool, order_id).await?
        } else {
            None
        };
        let declined = !paid && orders::last_try_declined(&self.pool, order_id).await?;
        let paid_at_text = match paid_at {
            Some(at) => Some(local_time(at, &settings.timezone, locale)?),
            None => None,
        };
        let lines = order
            .lines
            .iter()
            .map(|line| ReceiptLine {
                name: line.name.clone(),
                sku: line.sku.clone(),
                quantity: line.quantity,
                amount_text: Money {
                    amount_minor: line.gross_minor,
                    currency: line.unit_price.currency.clone(),
                }
                .format_local(locale),
            })
            .collect();
        // A friend can only buy what is still on the shop page.
        let shared_sku = match (paid, order.lines.first()) {
            (true, Some(first)) => match first.sku.as_deref().filter(|s| !s.is_empty()) {
                Some(sku) => crate::catalog::store::public_by_sku(&self.pool, sku)
                    .await?
                    .map(|_| sku),
                None => None,
            },
            _ => None,
        };
        let share = match (shared_sku, order.lines.first()) {
            (Some(sku), Some(first)) => Some(share_links(
                &public_base(public_url)?,
                sku,
                &order.order_ref,
                &first.name,
                &settings.name,
                &first.unit_price.format_local(locale),
                locale,
            )?),
            _ => None,
        };
        Ok(Some(Receipt {
            order_ref: order.order_ref,
            paid,
            declined,
            status: order.status,
            lines,
            total_text: order.total.format_local(locale),
            total: order.total,
            paid_at,
            paid_at_text,
            share,
        }))
    }

    /// Test mode without its own listener: the checkout's address becomes the shop page's
    /// public URL, its heartbeat and watcher run; the server mounts
    /// `test_mode.checkout_router(..)` at its root. A test checkout already listening (the
    /// window's) keeps its own address: the shop page's `/pay/` serves the same charges.
    pub async fn start_test_mode_for_shop_page(&self, public_url: &str) -> Result<TestMode> {
        let base = public_base(public_url)?;
        self.payments.start_test_mode_mounted(&base).await?;
        Ok(self.payments.test_mode().clone())
    }

    /// Stripe if connected, else Alipay, else test mode if it runs.
    fn web_provider(&self) -> Result<ProviderKind> {
        let connected = self.payments.connected();
        [ProviderKind::Stripe, ProviderKind::Alipay, ProviderKind::Test]
            .into_iter()
            .find(|kind| connected.contains(kind))
            .ok_or_else(|| CoreError::Provider {
                code: "provider_config",
                message: "The shop page cannot take payments: connect Stripe or Alipay, or turn on test mode.".into(),
                raw: None,
            })
    }

    /// Which channel a link's query names: `src=qr&sign=S…` a sign, `src=post&post=ID` a
    /// post, `src=share&order=O-…` a paid order's shared link; anything else a plain link.
    async fn attribution(
        &self,
        query: &HashMap<String, String>,
    ) -> Result<(SalesChannel, Option<String>)> {
        let value = |key: &str| {
            query
                .get(key)
                .map(String::as_str)
                .filter(|v| plain_source_value(v))
        };
        Ok(
            match (value("src"), value("sign"), value("post"), value("order")) {
                (Some("qr"), Some(sign), _, _) => (SalesChannel::Signage, Some(sign.to_string())),
                (Some("post"), _, Some(post), _) => (SalesChannel::Post, Some(post.to_string())),
                // Only a real paid order's link earns its buyer the credit.
                (Some("share"), _, _, Some(order))
                    if orders::order_ref_was_paid(&self.pool, order).await? =>
                {
                    (SalesChannel::Share, Some(order.to_string()))
                }
                _ => (SalesChannel::Link, None),
            },
        )
    }
}

/// Why a buyer cannot have the quantity they asked for: none left, or how many are.
pub(crate) fn sold_out_sentence(product: &str, left: i64, zh: bool) -> String {
    match (left <= 0, zh) {
        (true, false) => format!("{product} is sold out."),
        (true, true) => format!("{product}已售罄。"),
        (false, false) => format!(
            "Only {left} of {product} {} left: choose {left} or fewer.",
            if left == 1 { "is" } else { "are" }
        ),
        (false, true) => format!("{product}只剩 {left} 件，请选择 {left} 件或更少。"),
    }
}

/// Whether a link's attribution value (sign, post, order) is plain enough to keep: letters,
/// digits, `-`, `_`, `.`; 1 to 64 characters. Servers may use it to carry values along.
pub fn plain_source_value(value: &str) -> bool {
    !value.is_empty()
        && value.chars().count() <= MAX_SOURCE_CHARS
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The shop page's public address without a trailing slash; http(s) only.
fn public_base(public_url: &str) -> Result<String> {
    let trimmed = public_url.trim().trim_end_matches('/');
    let valid = url::Url::parse(trimmed).ok().is_some_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none()
    });
    if !valid {
        return Err(CoreError::invalid(
            "publicUrl",
            format!(
                "“{public_url}” is not a web address the shop page can be reached at (for example https://shop.example.com)."
            ),
        ));
    }
    Ok(trimmed.to_string())
}

/// What a receipt token becomes wherever a provider's text is stored.
const REDACTED_RECEIPT: &str = "(receipt)";

/// `text` with every receipt token in a receipt address replaced: `…/r/<token>`, also
/// JSON-escaped (`\/r\/`) or percent-encoded once or twice (`r%2F`, `r%252F`), as providers
/// echo `success_url`, `cancel_url` and `return_url`. The shop keeps only the token's hash.
pub(crate) fn without_receipt_tokens(text: &str) -> std::borrow::Cow<'_, str> {
    const BEFORE: [&str; 6] = ["r/", "r\\/", "r%2F", "r%2f", "r%252F", "r%252f"];
    let bytes = text.as_bytes();
    let is_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut at = 0;
    while at + TOKEN_CHARS <= bytes.len() {
        let token = at..at + TOKEN_CHARS;
        let is_token = BEFORE
            .iter()
            .any(|sep| bytes[..at].ends_with(sep.as_bytes()))
            && bytes[token.clone()].iter().all(|b| is_hex(*b))
            && bytes.get(token.end).is_none_or(|b| !is_hex(*b));
        if is_token {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[copied..at]);
            out.push_str(REDACTED_RECEIPT);
            copied = token.end;
            at = token.end;
        } else {
            at += 1;
        }
    }
    match out {
        None => std::borrow::Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            std::borrow::Cow::Owned(out)
        }
    }
}

/// Hex characters in a receipt token (128 bits).
const TOKEN_CHARS: usize = 32;

/// 128 random bits from the OS, as 32 hex characters.
fn new_receipt_token() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    crate::catalog::photos::hex(&bytes)
}

/// The secret a till receipt's token is derived from (so a reprint carries the same link).
const RECEIPT_KEY: &str = "shop.receipt_key";

impl Shop {
    /// The receipt page token of a till order: HMAC-SHA256 of its reference under the
    /// shop's receipt key (made on first use, kept with the other secrets, never in the shop
    /// file), so every print of the receipt carries the same link. Only its hash is stored
    /// on the order, as for the shop page's own receipts.
    /// `None` when the order already has another receipt page (a shop-page order's).
    pub(crate) async fn till_receipt_token(
        &self,
        order_id: i64,
        order_ref: &str,
    ) -> Result<Option<String>> {
        use hmac::{Hmac, Mac};
        let key = match self.secrets.get(RECEIPT_KEY)? {
            Some(key) => key,
            None => {
                self.secrets.set(RECEIPT_KEY, &new_receipt_token())?;
                // Read back: a second process that made one at the same moment wins for both.
                self.secrets
                    .get(RECEIPT_KEY)?
                    .ok_or_else(|| CoreError::Report("the receipt key could not be kept".into()))?
            }
        };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
            .map_err(|e| CoreError::Report(e.to_string()))?;
        mac.update(b"till-receipt:");
        mac.update(order_ref.as_bytes());
        let token: String = crate::catalog::photos::hex(&mac.finalize().into_bytes())
            .chars()
            .take(TOKEN_CHARS)
            .collect();
        let hash = token_hash(&token);
        let stored = orders::set_receipt_hash(&self.pool, order_id, &hash).await?;
        Ok((stored.as_deref() == Some(hash.as_str())).then_some(token))
    }
}

fn token_hash(token: &str) -> String {
    crate::catalog::photos::hex(&Sha256::digest(token.as_bytes()))
}

/// A token as [`new_receipt_token`] makes them; anything else is not looked up.
fn plausible_token(token: &str) -> bool {
    token.len() == TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// "2 Dec 2026, 14:05" / "2026年12月2日 14:05" in the shop's time zone.
fn local_time(at_ms: i64, timezone: &str, locale: &str) -> Result<String> {
    let format = if locale.starts_with("zh") {
        "%Y年%-m月%-d日 %H:%M"
    } else {
        "%-d %b %Y, %H:%M"
    };
    crate::infra::shop_time(at_ms, timezone, format)
}

fn share_links(
    base: &str,
    sku: &str,
    order_ref: &str,
    product: &str,
    shop: &str,
    price: &str,
    locale: &str,
) -> Result<ShareLinks> {
    let mut url =
        url::Url::parse(base).map_err(|e| CoreError::invalid("publicUrl", e.to_string()))?;
    url.path_segments_mut()
        .map_err(|_| CoreError::invalid("publicUrl", "The public address cannot have paths."))?
        .pop_if_empty()
        .extend(["p", sku]);
    url.query_pairs_mut()
        .append_pair("src", "share")
        .append_pair("order", order_ref);
    let url = url.to_string();
    let text = match (locale.starts_with("zh"), shop.is_empty()) {
        (true, false) => format!("我刚在{shop}买了{product} — {price}"),
        (true, true) => format!("我刚买了{product} — {price}"),
        (false, false) => format!("I just bought {product} at {shop} — {price}"),
        (false, true) => format!("I just bought {product} — {price}"),
    };
    let with_url = format!("{text} {url}");
    let intent = |address: &str, pairs: &[(&str, &str)]| {
        url::Url::parse_with_params(address, pairs)
            .expect("constant address")
            .to_string()
    };
    Ok(ShareLinks {
        weibo: intent(
            "https://service.weibo.com/share/share.php",
            &[("url", &url), ("title", &text)],
        ),
        bluesky: intent("https://bsky.app/intent/compose", &[("text", &with_url)]),
        mastodon_text: with_url,
        text,
        url,
    })
}

#[cfg(test)]
mod tests {
    use super::without_receipt_tokens;

    #[test]
    fn receipt_tokens_are_taken_out_of_every_echo_of_the_address_and_nothing_else() {
        let token = "0123456789abcdef0123456789abcdef";
        for (echo, kept) in [
            (
                format!("https://s.example/r/{token}"),
                "https://s.example/r/(receipt)",
            ),
            (
                format!(r#""https:\/\/s.example\/r\/{token}""#),
                r#""https:\/\/s.example\/r\/(receipt)""#,
            ),
            (
                format!("return_url=https%3A%2F%2Fs.example%2Fr%2F{token}&x=1"),
                "return_url=https%3A%2F%2Fs.example%2Fr%2F(receipt)&x=1",
            ),
            (
                format!("back=https%253A%252F%252Fs.example%252Fr%252F{token}"),
                "back=https%253A%252F%252Fs.example%252Fr%252F(receipt)",
            ),
            (
                format!("青花瓷 /r/{token}?cancelled=1 /r/{token}"),
                "青花瓷 /r/(receipt)?cancelled=1 /r/(receipt)",
            ),
        ] {
            assert_eq!(without_receipt_tokens(&echo), kept);
        }
        // Not a token: too short, too long, upper case, or not in a receipt address.
        for other in [
            format!("/r/{}", &token[1..]),
            format!("/r/{token}0"),
            format!("/r/{}", token.to_uppercase()),
            format!("/p/{token}"),
        ] {
            assert_eq!(without_receipt_tokens(&other), other);
        }
    }
}
