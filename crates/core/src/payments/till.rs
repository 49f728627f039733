//! Till sales: an order of products (or a typed amount), and the charges that try to get it
//! paid at a provider. The ledger ([`crate::payments::ledger`]) marks the order paid when a payment for
//! it arrives.

use serde::{Deserialize, Serialize};
use shopcast_payments::{Charge, OpenCharge, ProviderKind};
use sqlx::{Row, SqlitePool};

use crate::error::{CoreError, Result};
use crate::infra::now_ms;
use crate::money::{MAX_MINOR, Money, parse_price};
use crate::payments::ledger::SalesChannel;

/// Most units of one product on one order line.
pub const MAX_QUANTITY: u32 = 10_000;

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
    let channel = draft.channel.unwrap_or(SalesChannel::Till);
    let now = now_ms();
    let order_ref = new_order_ref();
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO orders (created_at, updated_at, ref, status, total_minor, currency, channel, source_ref)
         VALUES (?, ?, ?, 'open', ?, ?, ?, ?) RETURNING id",
    )
    .bind(now)
    .bind(now)
    .bind(&order_ref)
    .bind(total.amount_minor)
    .bind(&total.currency)
    .bind(channel.as_str())
    .bind(&draft.source_ref)
    .fetch_one(&mut *tx)
    .await?;
    for line in &lines {
        sqlx::query(
            "INSERT INTO order_lines (order_id, product_id, quantity, unit_price_minor, currency, name, sku)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(line.product_id)
        .bind(line.quantity)
        .bind(line.unit_price.amount_minor)
        .bind(&line.unit_price.currency)
        .bind(&line.name)
        .bind(&line.sku)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    get_order(pool, id).await
}

pub async fn get_order(pool: &SqlitePool, id: i64) -> Result<Order> {
    let row = sqlx::query(
        "SELECT id, ref, status, total_minor, currency, channel, source_ref, created_at
         FROM orders WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| CoreError::not_found(format!("Order {id}")))?;
    let lines = sqlx::query(
        "SELECT product_id, name, sku, quantity, unit_price_minor, currency FROM order_lines
         WHERE order_id = ? ORDER BY id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|l| OrderLine {
        product_id: l.get(0),
        name: l.get(1),
        sku: l.get(2),
        quantity: l.get(3),
        unit_price: Money {
            amount_minor: l.get(4),
            currency: l.get(5),
        },
    })
    .collect();
    Ok(Order {
        id: row.get("id"),
        order_ref: row.get::<Option<String>, _>("ref").unwrap_or_default(),
        status: OrderStatus::parse(row.get("status")).unwrap_or(OrderStatus::Review),
        total: Money {
            amount_minor: row.get("total_minor"),
            currency: row.get("currency"),
        },
        channel: SalesChannel::parse(row.get::<&str, _>("channel")).unwrap_or(SalesChannel::Till),
        source_ref: row.get("source_ref"),
        lines,
        created_at: row.get("created_at"),
    })
}

/// Stores a charge the provider created and puts the order in `awaiting_payment`.
pub async fn record_charge(
    pool: &SqlitePool,
    order_id: i64,
    provider: ProviderKind,
    amount: &Money,
    charge: &Charge,
) -> Result<i64> {
    let now = now_ms();
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO charges (order_id, provider, charge_ref, qr_payload, amount_minor, currency,
                              status, created_at, expires_at, raw)
         VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?) RETURNING id",
    )
    .bind(order_id)
    .bind(provider.as_str())
    .bind(&charge.charge_ref)
    .bind(&charge.qr_payload)
    .bind(amount.amount_minor)
    .bind(&amount.currency)
    .bind(now)
    .bind(charge.expires_at.as_millisecond())
    .bind(&charge.raw)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE orders SET status = 'awaiting_payment', updated_at = ?
         WHERE id = ? AND status IN ('open', 'awaiting_payment', 'expired')",
    )
    .bind(now)
    .bind(order_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Charges at `provider` still waiting for the customer.
pub async fn open_charges(pool: &SqlitePool, provider: ProviderKind) -> Result<Vec<OpenCharge>> {
    let rows = sqlx::query(
        "SELECT c.charge_ref, o.ref, c.amount_minor, c.currency, c.expires_at
         FROM charges c JOIN orders o ON o.id = c.order_id
         WHERE c.provider = ? AND c.status = 'open'",
    )
    .bind(provider.as_str())
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|row| OpenCharge {
            charge_ref: row.get(0),
            order_ref: row.get::<Option<String>, _>(1).unwrap_or_default(),
            amount_minor: row.get(2),
            currency: row.get(3),
            expires_at: jiff::Timestamp::from_millisecond(row.get(4))
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        })
        .collect())
}

/// The open charge of an order at a provider, for cancelling it.
pub async fn open_charge_of(
    pool: &SqlitePool,
    order_id: i64,
) -> Result<Option<(ProviderKind, OpenCharge)>> {
    let row = sqlx::query(
        "SELECT c.provider, c.charge_ref, o.ref, c.amount_minor, c.currency, c.expires_at
         FROM charges c JOIN orders o ON o.id = c.order_id
         WHERE c.order_id = ? AND c.status = 'open' ORDER BY c.id DESC LIMIT 1",
    )
    .bind(order_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|row| {
        let provider = ProviderKind::parse(row.get::<&str, _>(0))?;
        Some((
            provider,
            OpenCharge {
                charge_ref: row.get(1),
                order_ref: row.get::<Option<String>, _>(2).unwrap_or_default(),
                amount_minor: row.get(3),
                currency: row.get(4),
                expires_at: jiff::Timestamp::from_millisecond(row.get(5))
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
            },
        ))
    }))
}

/// Cancels an unpaid order and its open charges (the customer walked away).
pub async fn cancel_order(pool: &SqlitePool, order_id: i64) -> Result<Order> {
    let order = get_order(pool, order_id).await?;
    if matches!(order.status.as_str(), "paid" | "review") {
        return Err(CoreError::Conflict {
            field: "order",
            message: "This order is paid; refund it instead of cancelling.".into(),
        });
    }
    let now = now_ms();
    let mut tx = pool.begin().await?;
    // Only an unpaid order: a payment recorded since the check above wins.
    let cancelled = sqlx::query(
        "UPDATE orders SET status = 'cancelled', updated_at = ? WHERE id = ? AND status NOT IN ('paid', 'review')",
    )
    .bind(now)
    .bind(order_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if cancelled == 0 {
        return Err(CoreError::Conflict {
            field: "order",
            message: "This order was just paid; refund it instead of cancelling.".into(),
        });
    }
    sqlx::query("UPDATE charges SET status = 'cancelled' WHERE order_id = ? AND status = 'open'")
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    get_order(pool, order_id).await
}
