//! The ledger's tables (payments, payment_events, provider_cursors, with the orders and
//! charges they settle): idempotent batch ingest, a batch and its cursor in one transaction.

use std::collections::{HashMap, HashSet};

use shopcast_payments::{PaymentStatus, ProviderEvent, ProviderKind};
use sqlx::{Any, AnyPool, Row, Transaction};

use crate::infra::sql::{Separated, Sql};

use crate::error::Result;
use crate::infra::now_ms;
use crate::money::Money;
use crate::payments::ledger::*;

/// Rows per multi-row statement: 11 bound values each stays far under SQLite's limit.
const CHUNK: usize = 400;

/// Stores `events` from `provider` and, in the same transaction, its new `cursor`.
pub async fn ingest(
    pool: &AnyPool,
    provider: ProviderKind,
    events: &[ProviderEvent],
    cursor: Option<&str>,
) -> Result<IngestReport> {
    let mut tx = pool.begin().await?;
    let mut report = IngestReport::default();
    for chunk in events.chunks(CHUNK) {
        ingest_chunk(&mut tx, provider, chunk, None, &mut report).await?;
    }
    if let Some(cursor) = cursor {
        sqlx::query(
            "INSERT INTO provider_cursors (provider, cursor, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (provider) DO UPDATE SET cursor = excluded.cursor,
                 updated_at = excluded.updated_at",
        )
        .bind(provider.as_str())
        .bind(cursor)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(report)
}

/// The order a till sale made in the caller's transaction, which the events pay. Nothing
/// about it has to be read back: no payment of it can exist yet (its ref is new, and the
/// payment's ref names it) and what it takes from stock was locked for it.
pub(in crate::payments) struct FreshOrder {
    pub(in crate::payments) order_ref: String,
    pub(in crate::payments) info: OrderInfo,
    /// The counted products it takes, (product id, quantity) by id; uncounted ones are
    /// left out (they have no stock to take).
    pub(in crate::payments) counted: Vec<(i64, i64)>,
    /// It was stored paid with its stock marked taken ([`pays_at_once`]): its payment only
    /// takes the goods off the shelf (an UPDATE and a round trip fewer).
    pub(in crate::payments) stored_paid: bool,
}

/// Stores `events` from `provider` inside the caller's transaction (a till sale paid on the
/// spot stores its order and its payment together), for the order `made` just made there:
/// four round trips fewer while its products stay locked.
pub(in crate::payments) async fn ingest_in(
    tx: &mut Transaction<'_, Any>,
    provider: ProviderKind,
    events: &[ProviderEvent],
    made: &FreshOrder,
) -> Result<IngestReport> {
    let mut report = IngestReport::default();
    for chunk in events.chunks(CHUNK) {
        ingest_chunk(tx, provider, chunk, Some(made), &mut report).await?;
    }
    Ok(report)
}

/// The cursor stored with the last ingest for `provider`.
pub async fn cursor(pool: &AnyPool, provider: ProviderKind) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT cursor FROM provider_cursors WHERE provider = $1")
            .bind(provider.as_str())
            .fetch_optional(pool)
            .await?,
    )
}

async fn ingest_chunk(
    tx: &mut Transaction<'_, Any>,
    provider: ProviderKind,
    events: &[ProviderEvent],
    made: Option<&FreshOrder>,
    report: &mut IngestReport,
) -> Result<()> {
    let received_at = now_ms();
    // 1. Append the events; the ones that come back are new.
    let mut insert = Sql::new(format!("INSERT INTO payment_events ({EVENT_COLUMNS}) "));
    insert.push_values(events, |mut row, event| {
        push_event_row(&mut row, provider, event, received_at)
    });
    insert.push(" ON CONFLICT (provider, event_id) DO NOTHING RETURNING event_id");
    let fresh: HashSet<String> = insert
        .build_query_scalar::<String>()
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .collect();
    if fresh.is_empty() {
        return Ok(());
    }
    report.new_events += fresh.len();
    let mut new_events: Vec<&ProviderEvent> = events
        .iter()
        .filter(|e| fresh.contains(&e.event_id))
        .collect();
    // A batch may repeat an event id; keep its first copy only.
    let mut seen = HashSet::new();
    new_events.retain(|e| seen.insert(e.event_id.as_str()));
    new_events.sort_by_key(|e| e.occurred_at);

    // 2. What we already know about these payments, their orders and charges (nothing to
    // read when they all pay the order just made).
    let made = made.filter(|made| {
        new_events.iter().all(|e| {
            e.order_ref.as_deref() == Some(made.order_ref.as_str()) && e.charge_ref.is_none()
        })
    });
    let (mut states, mut orders) = match made {
        Some(made) => (
            HashMap::new(),
            HashMap::from([(made.order_ref.clone(), made.info.clone())]),
        ),
        None => {
            let refs: Vec<&str> = dedup(new_events.iter().map(|e| e.provider_ref.as_str()));
            let order_refs: Vec<&str> =
                dedup(new_events.iter().filter_map(|e| e.order_ref.as_deref()));
            (
                load_payments(tx, provider, &refs).await?,
                load_orders_by_ref(tx, &order_refs).await?,
            )
        }
    };
    let charge_refs: Vec<&str> = dedup(new_events.iter().filter_map(|e| e.charge_ref.as_deref()));
    let charges = load_charges(tx, provider, &charge_refs).await?;
    let charge_order_ids: Vec<i64> = charges.values().map(|(_, order)| *order).collect();
    let mut orders_by_id = load_orders_by_id(tx, &charge_order_ids).await?;

    // 3. Fold the events into each payment's state.
    let mut touched: Vec<&str> = Vec::new();
    for event in &new_events {
        let charge = event.charge_ref.as_deref().and_then(|c| charges.get(c));
        let mut order = event
            .order_ref
            .as_deref()
            .and_then(|r| orders.remove(r))
            .or_else(|| charge.and_then(|(_, order_id)| orders_by_id.get(order_id).cloned()));
        let state = states
            .entry(event.provider_ref.clone())
            .or_insert_with(|| new_state(event, order.as_ref()));
        let key = format!("{}:{}", provider.as_str(), event.provider_ref);
        apply(
            state,
            event,
            order.as_ref(),
            charge.map(|(id, _)| *id),
            &key,
        );
        if let Some(order) = order.as_mut()
            && matches!(state.status, PaymentStatus::Paid | PaymentStatus::Refunded)
            && state.mismatch.is_none()
        {
            order.paid_by = Some(key.clone());
            if let Some(same) = orders_by_id.get_mut(&order.id) {
                same.paid_by = Some(key);
            }
        }
        if !touched.contains(&event.provider_ref.as_str()) {
            touched.push(&event.provider_ref);
        }
        // An order can be matched by several events of this batch.
        if let (Some(order), Some(order_ref)) = (order, event.order_ref.as_deref()) {
            orders.insert(order_ref.to_string(), order);
        }
    }

    // 4. Write them back in one statement, in the order their last event happened.
    let now = now_ms();
    let mut upsert = Sql::new(format!(
        "INSERT INTO payments (order_id, {PAYMENT_ROW_COLUMNS}) "
    ));
    upsert.push_values(&touched, |mut row, provider_ref| {
        let state = &states[*provider_ref];
        row.push_bind(state.order_id);
        push_payment_row(&mut row, provider, provider_ref, state, now);
    });
    upsert.push(
        " ON CONFLICT (provider, provider_ref) DO UPDATE SET order_id = excluded.order_id, \
         charge_id = excluded.charge_id, status = excluded.status, \
         amount_minor = excluded.amount_minor, currency = excluded.currency, \
         refunded_minor = excluded.refunded_minor, method = excluded.method, \
         channel = excluded.channel, source_ref = excluded.source_ref, \
         mismatch = excluded.mismatch, occurred_at = excluded.occurred_at, \
         updated_at = excluded.updated_at, \
         settled_at = coalesce(payments.settled_at, excluded.settled_at) RETURNING id, provider_ref",
    );
    let ids: HashMap<String, i64> = upsert
        .build()
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|row| (row.get::<String, _>(1), row.get::<i64, _>(0)))
        .collect();
    report
        .changed
        .extend(touched.iter().filter_map(|r| ids.get(*r).copied()));
    if let Some(made) = made {
        report
            .written
            .extend(touched.iter().filter_map(|provider_ref| {
                let state = &states[*provider_ref];
                let order_ref =
                    (state.order_id == Some(made.info.id)).then(|| made.order_ref.clone());
                Some(written_payment(
                    *ids.get(*provider_ref)?,
                    provider,
                    provider_ref,
                    state,
                    order_ref,
                    now,
                ))
            }));
    }

    // 5. Orders and charges follow their payments (few per batch: one per till sale).
    for provider_ref in &touched {
        let state = &states[*provider_ref];
        if let Some(charge_id) = state.charge_id {
            let charge_status = match state.status {
                PaymentStatus::Paid | PaymentStatus::Refunded => "paid",
                PaymentStatus::Failed => "failed",
                PaymentStatus::Expired => "expired",
                PaymentStatus::Pending => "open",
            };
            sqlx::query("UPDATE charges SET status = $1 WHERE id = $2 AND status <> $3")
                .bind(charge_status)
                .bind(charge_id)
                .bind(charge_status)
                .execute(&mut **tx)
                .await?;
        }
        let Some(order_id) = state.order_id else {
            continue;
        };
        let Some(order_status) = order_status_after(state) else {
            continue;
        };
        // Sold goods leave the shelf once per order, however its status moves later;
        // a test payment moves no goods (nothing real was sold).
        let takes_stock = order_status == "paid" && provider != ProviderKind::Test;
        // The order this transaction just made is still open with its stock on the shelf:
        // paid and marked taken in one statement, with what it takes already known.
        let made_here = made.filter(|made| made.info.id == order_id && takes_stock);
        if let Some(made) = made.filter(|made| made.info.id == order_id && made.stored_paid) {
            // Stored paid by the same rules (`pays_at_once`): nothing to update.
            if made_here.is_none() {
                return Err(crate::error::CoreError::Conflict {
                    field: "order",
                    message: format!(
                        "Order {} was stored paid but its payment makes it {order_status}.",
                        made.order_ref
                    ),
                });
            }
            crate::catalog::store::take_stock(tx, &made.counted).await?;
            report.orders.push((order_id, order_status.to_string()));
            continue;
        }
        let changed = match made_here {
            Some(_) => sqlx::query(
                "UPDATE orders SET status = $1, updated_at = $2, stock_taken = 1
                  WHERE id = $3 AND status <> $4 AND stock_taken = 0",
            )
            .bind(order_status)
            .bind(now)
            .bind(order_id)
            .bind(order_status),
            None => sqlx::query(
                "UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3 AND status <> $4
                   AND ($5 <> 'expired' OR (status NOT IN ('paid', 'review') AND NOT EXISTS (
                        SELECT 1 FROM charges WHERE order_id = orders.id AND status = 'open')))",
            )
            .bind(order_status)
            .bind(now)
            .bind(order_id)
            .bind(order_status)
            .bind(order_status),
        }
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if changed == 0 {
            continue;
        }
        if let Some(made) = made_here {
            crate::catalog::store::take_stock(tx, &made.counted).await?;
        } else if takes_stock
            && sqlx::query("UPDATE orders SET stock_taken = 1 WHERE id = $1 AND stock_taken = 0")
                .bind(order_id)
                .execute(&mut **tx)
                .await?
                .rows_affected()
                > 0
        {
            let sold: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT product_id, CAST(sum(quantity) AS BIGINT) FROM order_lines
                 WHERE order_id = $1 AND product_id IS NOT NULL GROUP BY product_id ORDER BY product_id",
            )
            .bind(order_id)
            .fetch_all(&mut **tx)
            .await?;
            crate::catalog::store::take_stock(tx, &sold).await?;
        }
        report.orders.push((order_id, order_status.to_string()));
    }
    Ok(())
}

/// A payment event row's columns, as [`push_event_row`] binds them.
pub(super) const EVENT_COLUMNS: &str = "provider, event_id, provider_ref, status, amount_minor, \
     currency, refunded_total_minor, occurred_at, received_at, raw";

pub(super) fn push_event_row(
    row: &mut Separated<'_>,
    provider: ProviderKind,
    event: &ProviderEvent,
    received_at: i64,
) {
    row.push_bind(provider.as_str())
        .push_bind(&event.event_id)
        .push_bind(&event.provider_ref)
        .push_bind(event.status.as_str())
        .push_bind(event.amount_minor)
        .push_bind(&event.currency)
        .push_bind(event.refunded_total_minor)
        .push_bind(event.occurred_at.as_millisecond())
        .push_bind(received_at)
        .push_bind(super::bounded_raw(&event.raw));
}

/// A payment row's columns after `order_id`, as [`push_payment_row`] binds them (the ones
/// read back are [`PAYMENT_COLUMNS`]).
pub(super) const PAYMENT_ROW_COLUMNS: &str = "provider, provider_ref, charge_id, status, amount_minor, \
     currency, refunded_minor, method, channel, source_ref, test, mismatch, occurred_at, \
     updated_at, settled_at";

pub(super) fn push_payment_row(
    row: &mut Separated<'_>,
    provider: ProviderKind,
    provider_ref: &str,
    state: &PaymentState,
    now: i64,
) {
    row.push_bind(provider.as_str())
        .push_bind(provider_ref.to_string())
        .push_bind(state.charge_id)
        .push_bind(state.status.as_str())
        .push_bind(state.amount_minor)
        .push_bind(&state.currency)
        .push_bind(state.refunded_minor)
        .push_bind(&state.method)
        .push_bind(state.channel.as_str())
        .push_bind(&state.source_ref)
        .push_bind(i64::from(provider == ProviderKind::Test))
        .push_bind(&state.mismatch)
        .push_bind(state.occurred_at)
        .push_bind(now)
        .push_bind(
            matches!(state.status, PaymentStatus::Paid | PaymentStatus::Refunded).then_some(now),
        );
}

/// The payment `state` stored as `id`, as the ledger would read it back.
pub(super) fn written_payment(
    id: i64,
    provider: ProviderKind,
    provider_ref: &str,
    state: &PaymentState,
    order_ref: Option<String>,
    now: i64,
) -> Payment {
    Payment {
        id,
        provider,
        provider_ref: provider_ref.to_string(),
        order_id: state.order_id,
        order_ref,
        status: state.status,
        amount: Money {
            amount_minor: state.amount_minor,
            currency: state.currency.clone(),
        },
        refunded_minor: state.refunded_minor,
        method: state.method.clone(),
        channel: state.channel,
        source_ref: state.source_ref.clone(),
        test: provider == ProviderKind::Test,
        mismatch: state.mismatch.clone(),
        occurred_at: state.occurred_at,
        updated_at: now,
    }
}

fn in_list(builder: &mut Sql, items: &[&str]) {
    let mut separated = builder.separated(", ");
    for item in items {
        separated.push_bind(item.to_string());
    }
    separated.push_unseparated(")");
}

async fn load_payments(
    tx: &mut Transaction<'_, Any>,
    provider: ProviderKind,
    refs: &[&str],
) -> Result<HashMap<String, PaymentState>> {
    let mut query = Sql::new(
        "SELECT id, provider_ref, order_id, charge_id, status, amount_minor, currency, \
         refunded_minor, method, channel, source_ref, mismatch, occurred_at FROM payments \
         WHERE provider = ",
    );
    query
        .push_bind(provider.as_str())
        .push(" AND provider_ref IN (");
    in_list(&mut query, refs);
    let rows = query.build().fetch_all(&mut **tx).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let state = PaymentState {
                order_id: row.get(2),
                charge_id: row.get(3),
                status: PaymentStatus::parse(row.get::<&str, _>(4))
                    .unwrap_or(PaymentStatus::Pending),
                amount_minor: row.get(5),
                currency: row.get(6),
                refunded_minor: row.get(7),
                method: row.get(8),
                channel: SalesChannel::parse(row.get::<&str, _>(9)).unwrap_or(SalesChannel::Link),
                source_ref: row.get(10),
                mismatch: row.get(11),
                occurred_at: row.get(12),
            };
            (row.get::<String, _>(1), state)
        })
        .collect())
}

/// charge_ref → (charge id, order id)
async fn load_charges(
    tx: &mut Transaction<'_, Any>,
    provider: ProviderKind,
    refs: &[&str],
) -> Result<HashMap<String, (i64, i64)>> {
    if refs.is_empty() {
        return Ok(HashMap::new());
    }
    let mut query = Sql::new("SELECT charge_ref, id, order_id FROM charges WHERE provider = ");
    query
        .push_bind(provider.as_str())
        .push(" AND charge_ref IN (");
    in_list(&mut query, refs);
    let rows = query.build().fetch_all(&mut **tx).await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.get(0), (row.get(1), row.get(2))))
        .collect())
}

/// "provider:ref" of a matching payment that already paid the order `o` (a second one is
/// for review), read with the order itself.
/// (An aggregate, not ORDER BY id LIMIT 1, which a planner may answer by walking every
/// payment in id order.)
const PAID_BY: &str = "(SELECT min(provider || ':' || provider_ref) FROM payments \
    WHERE order_id = o.id AND status IN ('paid', 'refunded') AND mismatch IS NULL) AS paid_by";

fn order_info(row: &sqlx::any::AnyRow) -> OrderInfo {
    OrderInfo {
        id: row.get("id"),
        total_minor: row.get("total_minor"),
        currency: row.get("currency"),
        channel: SalesChannel::parse(row.get::<&str, _>("channel")).unwrap_or(SalesChannel::Till),
        source_ref: row.get("source_ref"),
        status: row.get("status"),
        paid_by: row.get("paid_by"),
    }
}

async fn load_orders_by_ref(
    tx: &mut Transaction<'_, Any>,
    refs: &[&str],
) -> Result<HashMap<String, OrderInfo>> {
    if refs.is_empty() {
        return Ok(HashMap::new());
    }
    let mut query = Sql::new(format!(
        "SELECT id, ref, total_minor, currency, channel, source_ref, status, {PAID_BY} FROM orders o WHERE ref IN ("
    ));
    in_list(&mut query, refs);
    let rows = query.build().fetch_all(&mut **tx).await?;
    Ok(rows
        .iter()
        .map(|row| (row.get::<String, _>("ref"), order_info(row)))
        .collect())
}

async fn load_orders_by_id(
    tx: &mut Transaction<'_, Any>,
    ids: &[i64],
) -> Result<HashMap<i64, OrderInfo>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut query = Sql::new(format!(
        "SELECT id, ref, total_minor, currency, channel, source_ref, status, {PAID_BY} FROM orders o WHERE id IN ("
    ));
    let mut separated = query.separated(", ");
    for id in ids {
        separated.push_bind(*id);
    }
    separated.push_unseparated(")");
    let rows = query.build().fetch_all(&mut **tx).await?;
    Ok(rows
        .iter()
        .map(|row| (row.get::<i64, _>("id"), order_info(row)))
        .collect())
}

const PAYMENT_COLUMNS: &str = "p.id, p.provider, p.provider_ref, p.order_id, o.ref AS order_ref, \
    p.status, p.amount_minor, p.currency, p.refunded_minor, p.method, p.channel, p.source_ref, \
    p.test, p.mismatch, p.occurred_at, p.updated_at";

fn payment_from_row(row: &sqlx::any::AnyRow) -> Payment {
    Payment {
        id: row.get("id"),
        // The ledger only stores names this build writes.
        provider: ProviderKind::parse(row.get("provider")).unwrap_or(ProviderKind::Manual),
        provider_ref: row.get("provider_ref"),
        order_id: row.get("order_id"),
        order_ref: row.get("order_ref"),
        status: PaymentStatus::parse(row.get("status")).unwrap_or(PaymentStatus::Pending),
        amount: Money {
            amount_minor: row.get("amount_minor"),
            currency: row.get("currency"),
        },
        refunded_minor: row.get("refunded_minor"),
        method: row.get("method"),
        channel: SalesChannel::parse(row.get::<&str, _>("channel")).unwrap_or(SalesChannel::Link),
        source_ref: row.get("source_ref"),
        test: row.get::<crate::infra::sql::Flag, _>("test").0,
        mismatch: row.get("mismatch"),
        occurred_at: row.get("occurred_at"),
        updated_at: row.get("updated_at"),
    }
}

pub async fn list(pool: &AnyPool, filter: &PaymentFilter) -> Result<Vec<Payment>> {
    let mut query = Sql::new(format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments p LEFT JOIN orders o ON o.id = p.order_id WHERE 1 = 1"
    ));
    if let Some(from) = filter.from {
        query.push(" AND p.occurred_at >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        query.push(" AND p.occurred_at < ").push_bind(to);
    }
    if let Some(provider) = &filter.provider {
        query.push(" AND p.provider = ").push_bind(provider.clone());
    }
    if let Some(status) = &filter.status {
        if status == "review" {
            query.push(" AND p.mismatch IS NOT NULL");
        } else {
            query.push(" AND p.status = ").push_bind(status.clone());
        }
    }
    if let Some(channel) = &filter.channel {
        query.push(" AND p.channel = ").push_bind(channel.clone());
    }
    if let Some(order_id) = filter.order_id {
        query.push(" AND p.order_id = ").push_bind(order_id);
    }
    if let Some(till) = filter.till.as_deref().filter(|t| !t.trim().is_empty()) {
        query
            .push(" AND o.till = ")
            .push_bind(till.trim().to_string());
    }
    if let Some(product_id) = filter.product_id {
        query
            .push(" AND p.order_id IN (SELECT order_id FROM order_lines WHERE product_id = ")
            .push_bind(product_id)
            .push(")");
    }
    query
        .push(" ORDER BY p.occurred_at DESC, p.id DESC LIMIT ")
        .push_bind(i64::from(filter.limit.unwrap_or(200).min(10_000)));
    let rows = query.build().fetch_all(pool).await?;
    Ok(rows.iter().map(payment_from_row).collect())
}

pub async fn get(pool: &AnyPool, id: i64) -> Result<Payment> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments p LEFT JOIN orders o ON o.id = p.order_id WHERE p.id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| crate::CoreError::not_found(format!("Payment {id}")))?;
    Ok(payment_from_row(&row))
}

/// The payment `provider` knows as `provider_ref`, if it was recorded.
pub async fn by_provider_ref(
    pool: &AnyPool,
    provider: ProviderKind,
    provider_ref: &str,
) -> Result<Option<Payment>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments p LEFT JOIN orders o ON o.id = p.order_id
         WHERE p.provider = $1 AND p.provider_ref = $2"
    )))
    .bind(provider.as_str())
    .bind(provider_ref)
    .fetch_optional(pool)
    .await?;
    Ok(row.as_ref().map(payment_from_row))
}

pub async fn get_many(pool: &AnyPool, ids: &[i64]) -> Result<Vec<Payment>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(get(pool, *id).await?);
    }
    Ok(out)
}

pub async fn events_of(pool: &AnyPool, payment: &Payment) -> Result<Vec<PaymentEventRecord>> {
    let rows = sqlx::query(
        "SELECT event_id, status, occurred_at, received_at, raw FROM payment_events
         WHERE provider = $1 AND provider_ref = $2 ORDER BY occurred_at, id",
    )
    .bind(payment.provider.as_str())
    .bind(&payment.provider_ref)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|row| PaymentEventRecord {
            event_id: row.get(0),
            status: row.get(1),
            occurred_at: row.get(2),
            received_at: row.get(3),
            raw: row.get(4),
        })
        .collect())
}

/// Paid (and refunded) payments between `from` and `to` (UTC ms), test payments only when
/// asked.
pub async fn totals(
    pool: &AnyPool,
    from: i64,
    to: i64,
    include_test: bool,
) -> Result<Vec<CurrencyTotal>> {
    let rows = sqlx::query(
        "SELECT currency, CAST(sum(amount_minor) AS BIGINT), CAST(sum(refunded_minor) AS BIGINT), count(*) FROM payments
         WHERE occurred_at >= $1 AND occurred_at < $2 AND status IN ('paid', 'refunded')
           AND mismatch IS NULL AND (test = 0 OR $3 = 1)
         GROUP BY currency ORDER BY currency",
    )
    .bind(from)
    .bind(to)
    .bind(i64::from(include_test))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let gross: i64 = row.get(1);
            let refunded: i64 = row.get(2);
            CurrencyTotal {
                currency: row.get(0),
                gross_minor: gross,
                refunded_minor: refunded,
                net_minor: gross - refunded,
                payments: row.get(3),
            }
        })
        .collect())
}
