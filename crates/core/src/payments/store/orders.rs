//! The orders, order_lines and charges tables: a till order with its lines, the charges that
//! try to get it paid, and cancelling an unpaid one.

use shopcast_payments::{Charge, OpenCharge, ProviderKind};
use sqlx::{AnyPool, Row};

use crate::error::{CoreError, Result};
use crate::infra::now_ms;
use crate::infra::sql::{Separated, Sql};
use crate::money::Money;
use crate::payments::ledger::SalesChannel;
use crate::payments::till::{Order, OrderLine, OrderStatus, PricedSale, tax_lines};

/// How long an order with no charge yet still holds its goods: long enough for the
/// provider to answer (its HTTP timeout), short enough that a lost one frees them.
const SETUP_HOLD_MS: i64 = 5 * 60 * 1000;

/// What an order is stored with besides its priced lines.
pub(crate) struct NewOrder<'a> {
    pub order_ref: &'a str,
    pub sale: &'a PricedSale,
    pub channel: SalesChannel,
    pub source_ref: Option<&'a str>,
    pub receipt_hash: Option<&'a str>,
    pub till: Option<&'a str>,
    /// Stored paid with its stock marked taken: a sale paid on the spot, whose payment goes
    /// in the same transaction (see `ledger::pays_at_once`); open otherwise.
    pub paid: bool,
}

/// Stores an order (a shop-page one with its receipt hash, a till's with its till), unless
/// its lines want more of a counted product than is left; `Err((product_id, left))` then, and
/// nothing is stored. Checked and written in one transaction that holds the products' rows
/// (SQLite's write lock, PostgreSQL's `FOR UPDATE`), so buyers and tills on any machine queue here.
/// Goods held by other orders not yet paid count as gone: an open charge that has not
/// expired, or an order still getting its charge.
pub(crate) async fn insert_held_order(
    pool: &AnyPool,
    order: &NewOrder<'_>,
) -> Result<std::result::Result<(i64, i64), (i64, i64)>> {
    let mut tx = crate::infra::store::begin_write(pool).await?;
    let inserted = insert_held_order_in(&mut tx, order).await?;
    if inserted.is_ok() {
        tx.commit().await?;
    }
    Ok(inserted.map(|held| (held.id, held.created_at)))
}

/// An order stored by [`insert_held_order_in`], with the counted products it holds.
pub(crate) struct HeldOrder {
    pub(crate) id: i64,
    pub(crate) created_at: i64,
    /// (product id, quantity) by id, for the products whose stock is counted.
    pub(crate) counted: Vec<(i64, i64)>,
}

/// [`insert_held_order`] inside the caller's write transaction (begun with
/// [`crate::infra::store::begin_write`]), which may go on to record its payment:
/// the order and what it holds. A few statements whatever the number of lines: on a server each
/// is a round trip while the products stay locked.
pub(crate) async fn insert_held_order_in(
    tx: &mut sqlx::AnyConnection,
    order: &NewOrder<'_>,
) -> Result<std::result::Result<HeldOrder, (i64, i64)>> {
    let now = now_ms();
    // A product on two lines counts once, with both quantities; ids in order, so two tills
    // locking the same products never deadlock.
    let mut wanted: Vec<(i64, i64)> = Vec::new();
    for line in &order.sale.lines {
        let Some(product_id) = line.product_id else {
            continue;
        };
        match wanted.iter_mut().find(|(id, _)| *id == product_id) {
            Some((_, quantity)) => *quantity += line.quantity,
            None => wanted.push((product_id, line.quantity)),
        }
    }
    wanted.sort_unstable();
    // Products read as uncounted are not locked: a round trip saved on most sales.
    let ids: Vec<i64> = wanted
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| order.sale.counted.contains(id))
        .collect();
    let stock = crate::catalog::store::lock_stock(&mut *tx, &ids).await?;
    let counted: Vec<i64> = stock.keys().copied().collect();
    if !counted.is_empty() {
        let held = held_by_unpaid(&mut *tx, &counted, now).await?;
        for (product_id, quantity) in &wanted {
            let Some(stock) = stock.get(product_id) else {
                continue;
            };
            let left = (stock - held.get(product_id).copied().unwrap_or(0)).max(0);
            if *quantity > left {
                return Ok(Err((*product_id, left)));
            }
        }
    }
    let id = insert_order_in(tx, order, now).await?;
    wanted.retain(|(id, _)| stock.contains_key(id));
    Ok(Ok(HeldOrder {
        id,
        created_at: now,
        counted: wanted,
    }))
}

/// How many of each counted product the orders not yet paid hold (product id → quantity).
async fn held_by_unpaid(
    conn: &mut sqlx::AnyConnection,
    products: &[i64],
    now: i64,
) -> Result<std::collections::HashMap<i64, i64>> {
    // Driven by the few orders still holding goods (a partial index), not by every line
    // ever sold of these products.
    let mut query = Sql::new(
        "SELECT l.product_id, CAST(coalesce(sum(l.quantity), 0) AS BIGINT)
         FROM orders o JOIN order_lines l ON l.order_id = o.id
         WHERE o.stock_taken = 0 AND o.status IN ('open', 'awaiting_payment')
           AND (EXISTS (SELECT 1 FROM charges c WHERE c.order_id = o.id
                        AND c.status = 'open' AND c.expires_at > ",
    );
    query.push_bind(now).push(
        ")
                OR (NOT EXISTS (SELECT 1 FROM charges c WHERE c.order_id = o.id)
                    AND o.created_at > ",
    );
    query
        .push_bind(now - SETUP_HOLD_MS)
        .push(")) AND l.product_id IN (");
    let mut list = query.separated(", ");
    for id in products {
        list.push_bind(*id);
    }
    list.push_unseparated(") GROUP BY l.product_id");
    let rows: Vec<(i64, i64)> = query.build_query_as().fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().collect())
}

async fn insert_order_in(
    conn: &mut sqlx::AnyConnection,
    order: &NewOrder<'_>,
    now: i64,
) -> Result<i64> {
    let mut insert = Sql::new(format!("INSERT INTO orders ({ORDER_COLUMNS}) "));
    insert.push_values([order], |mut row, order| {
        push_order_row(&mut row, order, now)
    });
    insert.push(" RETURNING id");
    let id: i64 = insert.build_query_scalar().fetch_one(&mut *conn).await?;
    // 15 values a line: a sale's lines (at most a few hundred) stay far under SQLite's
    // 32,766 bound values in one statement.
    let lines_in_order = order.sale.lines.len() as i64;
    for lines in order.sale.lines.chunks(LINES_PER_STATEMENT) {
        let mut insert = Sql::new(format!(
            "INSERT INTO order_lines (order_id, {LINE_COLUMNS}) "
        ));
        insert.push_values(lines, |mut row, line| {
            row.push_bind(id);
            push_line_row(&mut row, line, lines_in_order);
        });
        insert.build().execute(&mut *conn).await?;
    }
    Ok(id)
}

/// Order lines written by one statement at most.
pub(super) const LINES_PER_STATEMENT: usize = 1_000;

/// An order row's columns, as [`push_order_row`] binds them.
pub(super) const ORDER_COLUMNS: &str = "created_at, updated_at, ref, status, total_minor, currency, \
     channel, source_ref, receipt_hash, till, discount_minor, discount_reason, prices_include_tax, stock_taken";

pub(super) fn push_order_row(row: &mut Separated<'_>, order: &NewOrder<'_>, now: i64) {
    let sale = order.sale;
    row.push_bind(now)
        .push_bind(now)
        .push_bind(order.order_ref)
        .push_bind(if order.paid { "paid" } else { "open" })
        .push_bind(sale.total.amount_minor)
        .push_bind(&sale.total.currency)
        .push_bind(order.channel.as_str())
        .push_bind(order.source_ref)
        .push_bind(order.receipt_hash)
        .push_bind(order.till)
        .push_bind(sale.discount_minor)
        .push_bind(&sale.discount_reason)
        .push_bind(i64::from(sale.prices_include_tax))
        .push_bind(i64::from(order.paid));
}

/// An order line's columns after `order_id`, as [`push_line_row`] binds them.
pub(super) const LINE_COLUMNS: &str = "product_id, quantity, unit_price_minor, currency, name, sku, \
     gross_minor, net_minor, tax_minor, discount_minor, discount_reason, tax_rate_name, tax_rate_ppm, \
     lines_in_order";

pub(super) fn push_line_row(row: &mut Separated<'_>, line: &OrderLine, lines_in_order: i64) {
    row.push_bind(line.product_id)
        .push_bind(line.quantity)
        .push_bind(line.unit_price.amount_minor)
        .push_bind(&line.unit_price.currency)
        .push_bind(&line.name)
        .push_bind(&line.sku)
        .push_bind(line.gross_minor)
        .push_bind(line.net_minor)
        .push_bind(line.tax_minor)
        .push_bind(line.discount_minor)
        .push_bind(&line.discount_reason)
        .push_bind(&line.tax_rate_name)
        .push_bind(line.tax_rate_ppm)
        .push_bind(lines_in_order);
}

/// The order as [`insert_held_order`] stored it, without reading it back.
pub(crate) fn stored_order(
    order: &NewOrder<'_>,
    id: i64,
    created_at: i64,
    status: OrderStatus,
) -> Order {
    let sale = order.sale;
    Order {
        id,
        order_ref: order.order_ref.to_string(),
        status,
        total: sale.total.clone(),
        channel: order.channel,
        source_ref: order.source_ref.map(str::to_string),
        taxes: tax_lines(&sale.lines),
        lines: sale.lines.clone(),
        created_at,
        till: order.till.map(str::to_string),
        discount_minor: sale.discount_minor,
        discount_reason: sale.discount_reason.clone(),
        prices_include_tax: sale.prices_include_tax,
    }
}

/// Gives a till order its receipt page (the hash of its token), once: a shop-page order
/// keeps the one its buyer got. The hash the order has afterwards.
pub(crate) async fn set_receipt_hash(
    pool: &AnyPool,
    order_id: i64,
    hash: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "UPDATE orders SET receipt_hash = coalesce(receipt_hash, $1) WHERE id = $2 RETURNING receipt_hash",
    )
    .bind(hash)
    .bind(order_id)
    .fetch_optional(pool)
    .await?
    .flatten())
}

pub async fn get_order(pool: &AnyPool, id: i64) -> Result<Order> {
    let row = sqlx::query(
        "SELECT id, ref, status, total_minor, currency, channel, source_ref, created_at, till,
                discount_minor, discount_reason, prices_include_tax
         FROM orders WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| CoreError::not_found(format!("Order {id}")))?;
    let lines: Vec<OrderLine> = sqlx::query(
        "SELECT product_id, name, sku, quantity, unit_price_minor, currency, gross_minor, net_minor,
                tax_minor, discount_minor, discount_reason, tax_rate_name, tax_rate_ppm
         FROM order_lines WHERE order_id = $1 ORDER BY id",
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
        gross_minor: l.get(6),
        net_minor: l.get(7),
        tax_minor: l.get(8),
        discount_minor: l.get(9),
        discount_reason: l.get(10),
        tax_rate_name: l.get(11),
        tax_rate_ppm: l.get(12),
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
        taxes: tax_lines(&lines),
        lines,
        created_at: row.get("created_at"),
        till: row.get("till"),
        discount_minor: row.get("discount_minor"),
        discount_reason: row.get("discount_reason"),
        prices_include_tax: row
            .get::<crate::infra::sql::Flag, _>("prices_include_tax")
            .0,
    })
}

/// Stores a charge the provider created and puts the order in `awaiting_payment`, only
/// while the order can be paid; a test charge names the test-mode run whose checkout can take it.
pub async fn record_charge(
    pool: &AnyPool,
    order_id: i64,
    provider: ProviderKind,
    amount: &Money,
    charge: &Charge,
    test_run: Option<&str>,
) -> Result<i64> {
    let now = now_ms();
    let mut tx = pool.begin().await?;
    // Only while the order can still be paid (it may have been cancelled while the provider
    // was asked): the caller then withdraws the new charge at once.
    let payable = sqlx::query(
        "UPDATE orders SET status = 'awaiting_payment', updated_at = $1
         WHERE id = $2 AND status IN ('open', 'awaiting_payment', 'expired')",
    )
    .bind(now)
    .bind(order_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if payable == 0 {
        return Err(CoreError::Conflict {
            field: "order",
            message: "This order was closed while it was being charged, so the new charge is \
                      withdrawn; start a new sale."
                .to_string(),
        });
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO charges (order_id, provider, charge_ref, qr_payload, amount_minor, currency,
                              status, created_at, expires_at, raw, test_run)
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $10) RETURNING id",
    )
    .bind(order_id)
    .bind(provider.as_str())
    .bind(&charge.charge_ref)
    .bind(&charge.qr_payload)
    .bind(amount.amount_minor)
    .bind(&amount.currency)
    .bind(now)
    .bind(charge.expires_at.as_millisecond())
    .bind(super::bounded_raw(&charge.raw))
    .bind(test_run)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Charges at `provider` still waiting for the customer.
pub async fn open_charges(pool: &AnyPool, provider: ProviderKind) -> Result<Vec<OpenCharge>> {
    let rows = sqlx::query(
        "SELECT c.charge_ref, o.ref, c.amount_minor, c.currency, c.expires_at
         FROM charges c JOIN orders o ON o.id = c.order_id
         WHERE c.provider = $1 AND c.status = 'open'",
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
    pool: &AnyPool,
    order_id: i64,
) -> Result<Option<(ProviderKind, OpenCharge)>> {
    let row = sqlx::query(
        "SELECT c.provider, c.charge_ref, o.ref, c.amount_minor, c.currency, c.expires_at
         FROM charges c JOIN orders o ON o.id = c.order_id
         WHERE c.order_id = $1 AND c.status = 'open' ORDER BY c.id DESC LIMIT 1",
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

/// The order of `provider`'s charge `charge_ref`, whatever the charge's status now (a
/// provider's notification may come after the charge expired or was paid).
pub(crate) async fn order_of_charge(
    pool: &AnyPool,
    provider: ProviderKind,
    charge_ref: &str,
) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT order_id FROM charges WHERE provider = $1 AND charge_ref = $2")
            .bind(provider.as_str())
            .bind(charge_ref)
            .fetch_optional(pool)
            .await?,
    )
}

/// Cancels an unpaid order and its open charges (the customer walked away).
pub async fn cancel_order(pool: &AnyPool, order_id: i64) -> Result<Order> {
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
        "UPDATE orders SET status = 'cancelled', updated_at = $1 WHERE id = $2 AND status NOT IN ('paid', 'review')",
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
    sqlx::query("UPDATE charges SET status = 'cancelled' WHERE order_id = $1 AND status = 'open'")
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    get_order(pool, order_id).await
}

/// Marks one charge withdrawn (its QR replaced by a new one); an order left with no open
/// charge is `open` again until the new one is stored (if it is declined, the cashier can
/// charge the order again).
pub(crate) async fn withdraw_charge(
    pool: &AnyPool,
    provider: ProviderKind,
    charge_ref: &str,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let order_id: Option<i64> = sqlx::query_scalar(
        "UPDATE charges SET status = 'cancelled' WHERE charge_ref = $1 AND provider = $2
         RETURNING order_id",
    )
    .bind(charge_ref)
    .bind(provider.as_str())
    .fetch_optional(&mut *tx)
    .await?
    .flatten();
    if let Some(order_id) = order_id {
        sqlx::query(
            "UPDATE orders SET status = 'open', updated_at = $1
             WHERE id = $2 AND status = 'awaiting_payment'
               AND NOT EXISTS (SELECT 1 FROM charges WHERE order_id = $3 AND status = 'open')",
        )
        .bind(now_ms())
        .bind(order_id)
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Marks every open charge of an order withdrawn (it was paid another way).
pub(crate) async fn withdraw_open_charges(pool: &AnyPool, order_id: i64) -> Result<()> {
    sqlx::query("UPDATE charges SET status = 'cancelled' WHERE order_id = $1 AND status = 'open'")
        .bind(order_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The charge a payment settled, which some providers need to refund it.
pub(crate) async fn charge_ref_of_payment(
    pool: &AnyPool,
    payment_id: i64,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT c.charge_ref FROM payments p JOIN charges c ON c.id = p.charge_id WHERE p.id = $1",
    )
    .bind(payment_id)
    .fetch_optional(pool)
    .await?)
}

/// Expires `provider`'s open charges named in `charge_refs`, and their orders when nothing
/// else is still waiting to be paid; returns the orders that became expired.
pub(crate) async fn expire_charges(
    pool: &AnyPool,
    provider: ProviderKind,
    charge_refs: &[String],
) -> Result<Vec<i64>> {
    let mut tx = pool.begin().await?;
    let mut expired = Vec::new();
    for charge_ref in charge_refs {
        let order_id: Option<i64> = sqlx::query_scalar(
            "UPDATE charges SET status = 'expired'
             WHERE provider = $1 AND charge_ref = $2 AND status = 'open' RETURNING order_id",
        )
        .bind(provider.as_str())
        .bind(charge_ref)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(order_id) = order_id else { continue };
        let changed = sqlx::query(
            "UPDATE orders SET status = 'expired', updated_at = $1
             WHERE id = $2 AND status IN ('open', 'awaiting_payment') AND NOT EXISTS (
                 SELECT 1 FROM charges WHERE order_id = orders.id AND status = 'open')",
        )
        .bind(now_ms())
        .bind(order_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed > 0 {
            expired.push(order_id);
        }
    }
    tx.commit().await?;
    Ok(expired)
}

/// The order whose receipt token hashes to `hash`.
pub(crate) async fn order_id_by_receipt(pool: &AnyPool, hash: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM orders WHERE receipt_hash = $1")
            .bind(hash)
            .fetch_optional(pool)
            .await?,
    )
}

/// Whether an order with this public reference has been paid (a shared link names one).
pub(crate) async fn order_ref_was_paid(pool: &AnyPool, order_ref: &str) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, crate::infra::sql::Flag>(
        "SELECT EXISTS (SELECT 1 FROM orders WHERE ref = $1 AND status = 'paid')",
    )
    .bind(order_ref)
    .fetch_one(pool)
    .await?
    .0)
}

/// Whether the buyer's last try at paying this order was declined (and nothing paid it).
pub(crate) async fn last_try_declined(pool: &AnyPool, order_id: i64) -> Result<bool> {
    let last: Option<String> = sqlx::query_scalar(
        "SELECT status FROM payments WHERE order_id = $1 ORDER BY updated_at DESC, id DESC LIMIT 1",
    )
    .bind(order_id)
    .fetch_optional(pool)
    .await?;
    Ok(last.as_deref() == Some("failed"))
}

/// When the payment that paid this order happened (UTC ms), if one did.
pub(crate) async fn paid_at(pool: &AnyPool, order_id: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT min(occurred_at) FROM payments
         WHERE order_id = $1 AND status IN ('paid', 'refunded') AND mismatch IS NULL",
    )
    .bind(order_id)
    .fetch_one(pool)
    .await?)
}
