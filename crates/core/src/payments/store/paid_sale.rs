//! A till sale paid on the spot that counts no stock, written in one statement on PostgreSQL:
//! its order (paid), lines, payment event, payment and NOTIFY, one round trip where a
//! transaction takes seven.

use shopcast_payments::{ProviderEvent, ProviderKind};
use sqlx::AnyPool;

use super::ledger::{
    EVENT_COLUMNS, PAYMENT_ROW_COLUMNS, push_event_row, push_payment_row, written_payment,
};
use super::orders::{
    LINE_COLUMNS, LINES_PER_STATEMENT, NewOrder, ORDER_COLUMNS, push_line_row, push_order_row,
};
use crate::error::Result;
use crate::infra::now_ms;
use crate::infra::sql::Sql;
use crate::payments::ledger::{Payment, PaymentState};

/// Whether [`insert_paid_sale`] can write `order`: stored paid, nothing counted to lock and
/// take, its lines within one statement.
pub(in crate::payments) fn fits(order: &NewOrder<'_>) -> bool {
    order.paid && order.sale.counted.is_empty() && order.sale.lines.len() <= LINES_PER_STATEMENT
}

/// Writes `order` (see [`fits`]) with its payment: `event` from `provider` and the `payment` it
/// makes ([`crate::payments::ledger::pays_at_once`]), and tells the other tills as `announce_as`.
/// One statement is one transaction: all of it is stored (and announced) or none. A fresh order's event and payment cannot exist yet (their refs name
/// the order's new ref), so a clash fails the sale whole rather than being skipped. The
/// order's id and creation time, and its payment as stored.
pub(in crate::payments) async fn insert_paid_sale(
    pool: &AnyPool,
    order: &NewOrder<'_>,
    provider: ProviderKind,
    event: &ProviderEvent,
    payment: &PaymentState,
    announce_as: &str,
) -> Result<(i64, i64, Payment)> {
    let now = now_ms();
    let mut insert = Sql::new(format!("WITH o AS (INSERT INTO orders ({ORDER_COLUMNS}) "));
    insert.push_values([order], |mut row, order| {
        push_order_row(&mut row, order, now)
    });
    insert.push(" RETURNING id)");
    let lines = &order.sale.lines;
    if !lines.is_empty() {
        insert.push(format!(
            ", l AS (INSERT INTO order_lines (order_id, {LINE_COLUMNS}) SELECT o.id, v.* FROM o, ("
        ));
        let count = lines.len() as i64;
        insert.push_values(lines, |mut row, line| push_line_row(&mut row, line, count));
        insert.push(") AS v)");
    }
    insert.push(format!(
        ", e AS (INSERT INTO payment_events ({EVENT_COLUMNS}) "
    ));
    insert.push_values([event], |mut row, event| {
        push_event_row(&mut row, provider, event, now)
    });
    insert.push(format!(
        "), p AS (INSERT INTO payments (order_id, {PAYMENT_ROW_COLUMNS}) SELECT o.id, v.* FROM o, ("
    ));
    insert.push_values([payment], |mut row, payment| {
        push_payment_row(&mut row, provider, &event.provider_ref, payment, now)
    });
    // The other tills are told in the same statement, as `live::Changes` says it: sent only
    // if the sale is stored.
    insert.push(") AS v RETURNING order_id, id), n AS (SELECT pg_notify(");
    insert.push_bind(crate::infra::live::CHANNEL);
    insert.push(", json_build_object('from', ");
    insert.push_bind(announce_as);
    insert.push(
        ", 'payments', json_build_array(p.id), 'orders', json_build_array(p.order_id))::text) \
         FROM p) SELECT p.order_id, p.id FROM p, n",
    );
    let (order_id, payment_id): (i64, i64) = insert.build_query_as().fetch_one(pool).await?;
    let mut stored = payment.clone();
    stored.order_id = Some(order_id);
    let payment = written_payment(
        payment_id,
        provider,
        &event.provider_ref,
        &stored,
        Some(order.order_ref.to_string()),
        now,
    );
    Ok((order_id, now, payment))
}
