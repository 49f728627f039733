//! Till sales: an order of products (or a typed amount), and the charges that try to get it
//! paid at a provider. The ledger ([`crate::payments::ledger`]) marks the order paid when a payment for
//! it arrives.

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use crate::error::{CoreError, Result};
use crate::money::{MAX_MINOR, Money, parse_price};

pub use super::store::orders::{
    cancel_order, get_order, open_charge_of, open_charges, record_charge,
};
use crate::payments::ledger::SalesChannel;

/// Most units of one product on one order line.
pub const MAX_QUANTITY: u32 = 10_000;

/// Longest till name, in characters.
pub const MAX_TILL_CHARS: usize = 64;

/// The till's name as typed: trimmed, `None` when empty; too long or with control
/// characters is a validation error on field `till`.
pub fn till_name(typed: Option<&str>) -> Result<Option<String>> {
    let Some(name) = typed.map(str::trim).filter(|name| !name.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_TILL_CHARS {
        return Err(CoreError::invalid(
            "till",
            format!("A till name is at most {MAX_TILL_CHARS} characters."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "till",
            "A till name is one line of plain text.",
        ));
    }
    Ok(Some(name.to_string()))
}

crate::infra::text_enum! {
    /// Where an order stands: open, waiting for the customer to pay, paid, held for the
    /// owner's review (a payment that does not match it), cancelled, or expired unpaid.
    pub enum OrderStatus {
        Open = "open",
        AwaitingPayment = "awaiting_payment",
        Paid = "paid",
        Review = "review",
        Cancelled = "cancelled",
        Expired = "expired",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct OrderLineDraft {
    pub product_id: i64,
    pub quantity: u32,
}

/// What the till sends: products with quantities, or an amount typed by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct OrderDraft {
    pub lines: Vec<OrderLineDraft>,
    /// An amount as typed ("12,50", "¥88"), used when there are no lines.
    pub amount: Option<String>,
    /// Currency of the typed amount; the shop's when empty.
    pub currency: Option<String>,
    /// Where the sale comes from; the till unless a sign or post link created it.
    pub channel: Option<SalesChannel>,
    pub source_ref: Option<String>,
    /// Which till took the sale ("Front", "收银台 2"), as the cashier named it; at most
    /// [`MAX_TILL_CHARS`] characters, trimmed.
    pub till: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub product_id: Option<i64>,
    pub name: String,
    pub sku: Option<String>,
    pub quantity: i64,
    pub unit_price: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: i64,
    /// Public reference sent to providers ("O-7K3F9Q2M").
    pub order_ref: String,
    pub status: OrderStatus,
    pub total: Money,
    pub channel: SalesChannel,
    pub source_ref: Option<String>,
    pub lines: Vec<OrderLine>,
    pub created_at: i64,
    /// Which till took the sale; `None` for the shop page's orders.
    pub till: Option<String>,
}

impl Order {
    /// One line of text for the provider's payment page ("青花瓷杯 ×2, Tea ×1").
    pub fn subject(&self, shop_name: &str) -> String {
        let items: Vec<String> = self
            .lines
            .iter()
            .map(|l| {
                if l.quantity == 1 {
                    l.name.clone()
                } else {
                    format!("{} ×{}", l.name, l.quantity)
                }
            })
            .collect();
        let text = if items.is_empty() {
            if shop_name.is_empty() {
                format!("Order {}", self.order_ref)
            } else {
                format!("{shop_name} {}", self.order_ref)
            }
        } else {
            items.join(", ")
        };
        text.chars().take(120).collect()
    }
}

/// A random public order reference: "O-" and 8 Crockford base32 characters.
pub fn new_order_ref() -> String {
    format!("O-{}", crate::infra::crockford_id(8))
}

pub async fn create_order(
    pool: &SqlitePool,
    draft: &OrderDraft,
    shop_currency: &str,
) -> Result<Order> {
    let till = till_name(draft.till.as_deref())?;
    let (lines, total) = priced_lines(pool, draft, shop_currency).await?;
    let channel = draft.channel.unwrap_or(SalesChannel::Till);
    let id = super::store::orders::insert_order(
        pool,
        &new_order_ref(),
        &lines,
        &total,
        channel,
        draft.source_ref.as_deref(),
        till.as_deref(),
    )
    .await?;
    get_order(pool, id).await
}

/// Like [`create_order`], for a buyer on the shop page: the stock check and the insert are
/// one write, so two buyers cannot both take the last item. Counted stock left is what the
/// catalog holds minus what open checkouts hold; `Ok(Err((product_id, left)))` when a line
/// wants more than that (no order is made).
pub async fn create_held_order(
    pool: &SqlitePool,
    draft: &OrderDraft,
    shop_currency: &str,
    receipt_hash: &str,
) -> Result<std::result::Result<Order, (i64, i64)>> {
    let (lines, total) = priced_lines(pool, draft, shop_currency).await?;
    let channel = draft.channel.unwrap_or(SalesChannel::Link);
    match super::store::orders::insert_held_order(
        pool,
        &new_order_ref(),
        &lines,
        &total,
        channel,
        draft.source_ref.as_deref(),
        receipt_hash,
    )
    .await?
    {
        Ok(id) => Ok(Ok(get_order(pool, id).await?)),
        Err(short) => Ok(Err(short)),
    }
}

/// The draft's lines at today's prices and their total, checked.
async fn priced_lines(
    pool: &SqlitePool,
    draft: &OrderDraft,
    shop_currency: &str,
) -> Result<(Vec<OrderLine>, Money)> {
    let mut lines = Vec::new();
    for line in &draft.lines {
        if line.quantity == 0 || line.quantity > MAX_QUANTITY {
            return Err(CoreError::invalid(
                "quantity",
                format!("A quantity must be between 1 and {MAX_QUANTITY}."),
            ));
        }
        let (name, sku, unit_price) = crate::catalog::store::sale_facts(pool, line.product_id)
            .await?
            .ok_or_else(|| CoreError::not_found(format!("Product {}", line.product_id)))?;
        lines.push(OrderLine {
            product_id: Some(line.product_id),
            name,
            sku,
            quantity: i64::from(line.quantity),
            unit_price,
        });
    }
    let total = if lines.is_empty() {
        let typed = draft.amount.as_deref().unwrap_or("").trim();
        if typed.is_empty() {
            return Err(CoreError::invalid(
                "amount",
                "Add a product or type an amount.",
            ));
        }
        let currency = draft
            .currency
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or(shop_currency);
        let money = parse_price(typed, currency).map_err(|e| match e {
            CoreError::Validation { message, .. } => CoreError::invalid("amount", message),
            other => other,
        })?;
        if money.amount_minor == 0 {
            return Err(CoreError::invalid(
                "amount",
                "The amount must be more than zero.",
            ));
        }
        money
    } else {
        let currency = lines[0].unit_price.currency.clone();
        if let Some(other) = lines.iter().find(|l| l.unit_price.currency != currency) {
            return Err(CoreError::invalid(
                "lines",
                format!(
                    "One sale cannot mix currencies: {} is priced in {}, the rest in {currency}.",
                    other.name, other.unit_price.currency
                ),
            ));
        }
        let mut total: i64 = 0;
        for line in &lines {
            total = line
                .unit_price
                .amount_minor
                .checked_mul(line.quantity)
                .and_then(|sub| total.checked_add(sub))
                .filter(|t| *t <= MAX_MINOR)
                .ok_or_else(|| CoreError::invalid("lines", "The total is too large."))?;
        }
        if total == 0 {
            return Err(CoreError::invalid(
                "lines",
                "The total must be more than zero.",
            ));
        }
        Money {
            amount_minor: total,
            currency,
        }
    };
    Ok((lines, total))
}
