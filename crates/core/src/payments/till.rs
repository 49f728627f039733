//! Till sales: an order of products (or a typed amount), and the charges that try to get it
//! paid at a provider. The ledger ([`crate::payments::ledger`]) marks the order paid when a payment for
//! it arrives.

use serde::{Deserialize, Serialize};
use sqlx::AnyPool;

use crate::error::{CoreError, Result};
use crate::money::{Money, parse_amount};
use crate::settings::ShopSettings;
use crate::till::tax::{Discount, LineToPrice, parse_discount, price_lines};

use super::store::orders::{NewOrder, stored_order};
pub use super::store::orders::{
    cancel_order, get_order, open_charge_of, open_charges, record_charge,
};
use crate::catalog::store::{SaleFacts, SaleProducts};
use crate::payments::ledger::{IngestReport, SalesChannel};
use shopcast_payments::{ProviderEvent, ProviderKind};

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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct OrderLineDraft {
    pub product_id: i64,
    pub quantity: u32,
    /// The line's discount as typed: "10%" or an amount ("5.00") off the line.
    #[serde(default)]
    pub discount: Option<String>,
    /// Why ("damaged box", "staff"); kept with the line.
    #[serde(default)]
    pub discount_reason: Option<String>,
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
    /// A discount on the whole sale as typed ("10%", "5.00"), split over its lines.
    pub discount: Option<String>,
    pub discount_reason: Option<String>,
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
    /// What the customer pays for the line (net + tax), after discounts.
    pub gross_minor: i64,
    pub net_minor: i64,
    pub tax_minor: i64,
    /// What discounts took off the line, in gross terms (its own and its share of the order's).
    pub discount_minor: i64,
    pub discount_reason: Option<String>,
    /// The tax rate as it was when sold; `None`: no tax.
    pub tax_rate_name: Option<String>,
    pub tax_rate_ppm: i64,
}

/// The tax of one rate in an order (or a report): sums over the lines sold at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TaxLine {
    pub name: String,
    pub rate_ppm: i64,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub gross_minor: i64,
}

/// Tax per rate over `lines` (lines without tax left out), by rate then name.
pub fn tax_lines(lines: &[OrderLine]) -> Vec<TaxLine> {
    let mut by_rate: Vec<TaxLine> = Vec::new();
    for line in lines {
        let Some(name) = &line.tax_rate_name else {
            continue;
        };
        match by_rate
            .iter_mut()
            .find(|t| &t.name == name && t.rate_ppm == line.tax_rate_ppm)
        {
            Some(t) => {
                t.net_minor += line.net_minor;
                t.tax_minor += line.tax_minor;
                t.gross_minor += line.gross_minor;
            }
            None => by_rate.push(TaxLine {
                name: name.clone(),
                rate_ppm: line.tax_rate_ppm,
                net_minor: line.net_minor,
                tax_minor: line.tax_minor,
                gross_minor: line.gross_minor,
            }),
        }
    }
    by_rate.sort_by(|a, b| b.rate_ppm.cmp(&a.rate_ppm).then(a.name.cmp(&b.name)));
    by_rate
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
    /// All discounts of the sale, in gross terms (the lines' sum).
    pub discount_minor: i64,
    /// The reason given for the order-wide discount.
    pub discount_reason: Option<String>,
    /// Whether its prices included tax when it was sold.
    pub prices_include_tax: bool,
    /// Tax per rate over its lines.
    pub taxes: Vec<TaxLine>,
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

/// What a sale copies from its products, by product id.
pub(crate) type ProductFacts = std::collections::HashMap<i64, SaleFacts>;

/// The products a script's sale names by SKU (on sale only), in one query.
pub(crate) async fn products_by_sku(pool: &AnyPool, skus: &[&str]) -> Result<ProductFacts> {
    crate::catalog::store::sale_facts_of(pool, SaleProducts::Skus(skus)).await
}

/// A random public order reference: "O-" and 8 Crockford base32 characters.
pub fn new_order_ref() -> String {
    format!("O-{}", crate::infra::crockford_id(8))
}

pub async fn create_order(
    pool: &AnyPool,
    draft: &OrderDraft,
    settings: &ShopSettings,
) -> Result<Order> {
    Ok(store_till_order(pool, draft, settings, None, None).await?.0)
}

/// A till order paid on the spot (cash, a card terminal): the order, its payment (the
/// event `payment` makes of it, ingested like any provider's) and the stock it takes, in one
/// transaction: a sale is either wholly recorded or not at all.
pub(crate) async fn create_paid_order(
    pool: &AnyPool,
    draft: &OrderDraft,
    settings: &ShopSettings,
    known: Option<&ProductFacts>,
    payment: &(dyn Fn(&Order) -> ProviderEvent + Sync),
    announce_as: &str,
) -> Result<(Order, IngestReport)> {
    let paid = PaidOnTheSpot {
        payment,
        announce_as,
    };
    let (order, report) = store_till_order(pool, draft, settings, known, Some(paid)).await?;
    Ok((order, report.unwrap_or_default()))
}

/// How a sale paid on the spot records its payment, and what the other tills are told of
/// it in the same transaction.
#[derive(Clone, Copy)]
struct PaidOnTheSpot<'a> {
    payment: &'a (dyn Fn(&Order) -> ProviderEvent + Sync),
    /// Who tells the other tills (see `Payments::announcer`).
    announce_as: &'a str,
}

async fn store_till_order(
    pool: &AnyPool,
    draft: &OrderDraft,
    settings: &ShopSettings,
    known: Option<&ProductFacts>,
    paid: Option<PaidOnTheSpot<'_>>,
) -> Result<(Order, Option<IngestReport>)> {
    let till = till_name(draft.till.as_deref())?;
    let sale = priced_sale(pool, draft, settings, known).await?;
    let order_ref = new_order_ref();
    let mut new = NewOrder {
        order_ref: &order_ref,
        sale: &sale,
        channel: draft.channel.unwrap_or(SalesChannel::Till),
        source_ref: draft.source_ref.as_deref(),
        receipt_hash: None,
        till: till.as_deref(),
        paid: false,
    };
    // A payment made on the spot is known before the order is stored: when it settles the
    // order, the order is stored paid rather than updated to paid afterwards.
    let settled = paid.map(|paid| {
        let unstored = stored_order(&new, 0, 0, OrderStatus::Open);
        let event = (paid.payment)(&unstored);
        let info = super::ledger::OrderInfo {
            id: 0,
            total_minor: unstored.total.amount_minor,
            currency: unstored.total.currency.clone(),
            channel: unstored.channel,
            source_ref: unstored.source_ref.clone(),
            status: unstored.status.as_str().to_string(),
            paid_by: None,
        };
        (paid, event, info)
    });
    let payment = settled.as_ref().and_then(|(_, event, info)| {
        super::ledger::pays_at_once(ProviderKind::Manual, event, info)
    });
    new.paid = payment.is_some();
    if let (Some((paid, event, _)), Some(payment)) = (&settled, &payment)
        && crate::infra::store::backend(pool) == crate::infra::store::Backend::Postgres
        && super::store::paid_sale::fits(&new)
    {
        // On a server each statement is a round trip: the whole sale in one.
        let (id, created_at, payment) = super::store::paid_sale::insert_paid_sale(
            pool,
            &new,
            ProviderKind::Manual,
            event,
            payment,
            paid.announce_as,
        )
        .await?;
        let report = IngestReport {
            new_events: 1,
            changed: vec![payment.id],
            orders: vec![(id, OrderStatus::Paid.as_str().to_string())],
            written: vec![payment],
            ..Default::default()
        };
        let order = stored_order(&new, id, created_at, OrderStatus::Paid);
        return Ok((order, Some(report)));
    }
    // Counted stock is checked against what is left, other tills' open sales included, in
    // the same transaction as the insert: two tills cannot both sell the last one.
    let mut tx = crate::infra::store::begin_write(pool).await?;
    let held = match super::store::orders::insert_held_order_in(&mut tx, &new).await? {
        Ok(held) => held,
        Err((product_id, left)) => {
            let name = sale
                .lines
                .iter()
                .find(|l| l.product_id == Some(product_id))
                .map_or_else(|| format!("Product {product_id}"), |l| l.name.clone());
            return Err(CoreError::SoldOut {
                message: crate::payments::web::sold_out_sentence(
                    &name,
                    left,
                    settings.locale.starts_with("zh"),
                ),
            });
        }
    };
    let id = held.id;
    let mut order = stored_order(&new, id, held.created_at, OrderStatus::Open);
    let report = match settled {
        Some((paid, event, mut info)) => {
            info.id = id;
            let fresh = super::store::ledger::FreshOrder {
                order_ref: order.order_ref.clone(),
                info,
                counted: held.counted,
                stored_paid: new.paid,
            };
            let report =
                super::store::ledger::ingest_in(&mut tx, ProviderKind::Manual, &[event], &fresh)
                    .await?;
            if let Some((_, status)) = report.orders.iter().find(|(o, _)| *o == id) {
                order.status = OrderStatus::parse(status).unwrap_or(order.status);
            }
            let changes = super::watcher::changes_of(paid.announce_as, &report);
            crate::infra::live::announce_in(&mut tx, changes).await?;
            Some(report)
        }
        None => None,
    };
    tx.commit().await?;
    Ok((order, report))
}

/// The order `draft` would make, priced exactly as [`create_order`] prices it (taxes,
/// discounts, totals), without storing anything: what the till shows while the cashier types.
pub async fn preview_order(
    pool: &AnyPool,
    draft: &OrderDraft,
    settings: &ShopSettings,
) -> Result<Order> {
    let till = till_name(draft.till.as_deref())?;
    let sale = priced_sale(pool, draft, settings, None).await?;
    Ok(Order {
        id: 0,
        order_ref: String::new(),
        status: OrderStatus::Open,
        total: sale.total,
        channel: draft.channel.unwrap_or(SalesChannel::Till),
        source_ref: draft.source_ref.clone(),
        taxes: tax_lines(&sale.lines),
        lines: sale.lines,
        created_at: crate::infra::now_ms(),
        till,
        discount_minor: sale.discount_minor,
        discount_reason: sale.discount_reason,
        prices_include_tax: sale.prices_include_tax,
    })
}

/// Like [`create_order`], for a buyer on the shop page: the stock check and the insert are
/// one write, so two buyers cannot both take the last item. Counted stock left is what the
/// catalog holds minus what open checkouts hold; `Ok(Err((product_id, left)))` when a line
/// wants more than that (no order is made).
pub async fn create_held_order(
    pool: &AnyPool,
    draft: &OrderDraft,
    settings: &ShopSettings,
    receipt_hash: &str,
) -> Result<std::result::Result<Order, (i64, i64)>> {
    let sale = priced_sale(pool, draft, settings, None).await?;
    let channel = draft.channel.unwrap_or(SalesChannel::Link);
    let order_ref = new_order_ref();
    let new = NewOrder {
        order_ref: &order_ref,
        sale: &sale,
        channel,
        source_ref: draft.source_ref.as_deref(),
        receipt_hash: Some(receipt_hash),
        till: None,
        paid: false,
    };
    match super::store::orders::insert_held_order(pool, &new).await? {
        Ok((id, created_at)) => Ok(Ok(stored_order(&new, id, created_at, OrderStatus::Open))),
        Err(short) => Ok(Err(short)),
    }
}

/// A checked, priced sale ready to store.
pub(crate) struct PricedSale {
    pub lines: Vec<OrderLine>,
    pub total: Money,
    pub discount_minor: i64,
    pub discount_reason: Option<String>,
    pub prices_include_tax: bool,
    /// The products whose stock was counted when the sale was priced: the only ones whose
    /// rows the sale locks. One counted meanwhile is sold as before its count was set.
    pub counted: Vec<i64>,
}

/// Longest discount reason, in characters.
pub const MAX_REASON_CHARS: usize = 200;

fn reason(typed: Option<&str>) -> Result<Option<String>> {
    let Some(text) = typed.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_REASON_CHARS || text.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "discountReason",
            format!("A discount's reason is one line of at most {MAX_REASON_CHARS} characters."),
        ));
    }
    Ok(Some(text.to_string()))
}

fn typed_discount(typed: Option<&str>, currency: &str) -> Result<Option<Discount>> {
    match typed.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => Ok(Some(parse_discount(text, currency)?)),
        None => Ok(None),
    }
}

/// The draft's lines at today's prices and tax rates, with their discounts, checked and
/// priced per line ([`crate::till::tax`]).
async fn priced_sale(
    pool: &AnyPool,
    draft: &OrderDraft,
    settings: &ShopSettings,
    known: Option<&ProductFacts>,
) -> Result<PricedSale> {
    let inclusive = settings.prices_include_tax;
    let mut lines = Vec::new();
    let mut to_price = Vec::new();
    let mut counted = Vec::new();
    if draft
        .lines
        .iter()
        .any(|l| l.quantity == 0 || l.quantity > MAX_QUANTITY)
    {
        return Err(CoreError::invalid(
            "quantity",
            format!("A quantity must be between 1 and {MAX_QUANTITY}."),
        ));
    }
    // One query whatever the number of lines (each is a round trip to a server), none when
    // the caller read them already.
    let read;
    let facts = match known {
        Some(known) => known,
        None => {
            let ids: Vec<i64> = draft.lines.iter().map(|l| l.product_id).collect();
            read = crate::catalog::store::sale_facts_of(pool, SaleProducts::Ids(&ids)).await?;
            &read
        }
    };
    for line in &draft.lines {
        let product = facts
            .get(&line.product_id)
            .ok_or_else(|| CoreError::not_found(format!("Product {}", line.product_id)))?;
        let (name, sku, unit_price) = (
            product.name.clone(),
            product.sku.clone(),
            product.price.clone(),
        );
        let rate = product.rate.clone();
        if product.counted && !counted.contains(&line.product_id) {
            counted.push(line.product_id);
        }
        let discount = typed_discount(line.discount.as_deref(), &unit_price.currency)?;
        let discount_reason = reason(line.discount_reason.as_deref())?;
        to_price.push(LineToPrice {
            unit_minor: unit_price.amount_minor,
            quantity: i64::from(line.quantity),
            rate_ppm: rate.as_ref().map_or(0, |r| r.1),
            discount,
        });
        lines.push(OrderLine {
            product_id: Some(line.product_id),
            name,
            sku,
            quantity: i64::from(line.quantity),
            unit_price,
            gross_minor: 0,
            net_minor: 0,
            tax_minor: 0,
            discount_minor: 0,
            discount_reason,
            tax_rate_ppm: rate.as_ref().map_or(0, |r| r.1),
            tax_rate_name: rate.map(|r| r.0),
        });
    }
    let order_reason = reason(draft.discount_reason.as_deref())?;
    if lines.is_empty() {
        let typed = draft.amount.as_deref().unwrap_or("").trim();
        if typed.is_empty() {
            return Err(CoreError::invalid(
                "amount",
                "Add a product or type an amount.",
            ));
        }
        if draft
            .discount
            .as_deref()
            .is_some_and(|d| !d.trim().is_empty())
        {
            return Err(CoreError::invalid(
                "discount",
                "A discount is given on products; type the amount after the discount instead.",
            ));
        }
        let currency = draft
            .currency
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or(&settings.currency);
        let money = parse_amount(typed, currency, "amount")?;
        if money.amount_minor == 0 {
            return Err(CoreError::invalid(
                "amount",
                "The amount must be more than zero.",
            ));
        }
        return Ok(PricedSale {
            lines,
            total: money,
            discount_minor: 0,
            discount_reason: None,
            prices_include_tax: inclusive,
            counted,
        });
    }
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
    let order_discount = typed_discount(draft.discount.as_deref(), &currency)?;
    let priced = price_lines(&to_price, order_discount, inclusive)?;
    for (line, p) in lines.iter_mut().zip(&priced) {
        line.gross_minor = p.gross_minor;
        line.net_minor = p.net_minor;
        line.tax_minor = p.tax_minor;
        line.discount_minor = p.discount_minor;
    }
    let total: i64 = priced.iter().map(|p| p.gross_minor).sum();
    if total == 0 {
        return Err(CoreError::invalid(
            "lines",
            "The total must be more than zero.",
        ));
    }
    Ok(PricedSale {
        total: Money {
            amount_minor: total,
            currency,
        },
        discount_minor: priced.iter().map(|p| p.discount_minor).sum(),
        discount_reason: order_reason.filter(|_| order_discount.is_some()),
        prices_include_tax: inclusive,
        lines,
        counted,
    })
}
