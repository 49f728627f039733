//! Moving a shop between databases (`shopcast db copy`): every table's rows, ids included, in
//! one transaction on an empty target, then the row counts and money sums of both sides.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::sql::Sql;
use super::store::{self, Backend, Database};
use crate::error::{CoreError, Result};

/// Rows per multi-row INSERT: far under both backends' limits on bound values.
const ROWS_PER_INSERT: usize = 200;

/// Rows in one table on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableCount {
    pub table: String,
    pub from: i64,
    pub to: i64,
}

/// A money column's sum in one currency on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoneySum {
    /// `payments.amount_minor`, `payments.refunded_minor`, `orders.total_minor`.
    pub column: String,
    pub currency: String,
    pub from: i64,
    pub to: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CopyReport {
    pub from: String,
    pub to: String,
    pub tables: Vec<TableCount>,
    pub money: Vec<MoneySum>,
}

impl CopyReport {
    /// Whether both sides hold the same counts and sums (they must).
    pub fn matches(&self) -> bool {
        self.tables.iter().all(|t| t.from == t.to) && self.money.iter().all(|m| m.from == m.to)
    }
}

/// Rows read from the source at a time.
const PAGE: usize = 5_000;

/// A column's type, as both schemas spell it (INTEGER/BIGINT, TEXT, BLOB/BYTEA).
#[derive(Debug, Clone, Copy)]
enum Kind {
    Int,
    Text,
    Bytes,
}

/// One cell, as both backends store it.
#[derive(Debug, Clone)]
enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// Copies the shop in `from` into the empty `to` (both are migrated first, so their tables
/// match). Nothing is written to `to` unless everything is.
pub async fn copy_shop(data_dir: &Path, from: &Database, to: &Database) -> Result<CopyReport> {
    if from == to {
        return Err(CoreError::invalid(
            "to",
            "The shop cannot be copied onto itself: give another database after --to.",
        ));
    }
    let (source, _) = store::open_database(data_dir, from).await?;
    let (target, _) = store::open_database(data_dir, to).await?;
    let result = copy_between(&source, from, &target, to).await;
    source.close().await;
    target.close().await;
    result
}

async fn copy_between(
    source: &AnyPool,
    from: &Database,
    target: &AnyPool,
    to: &Database,
) -> Result<CopyReport> {
    let tables = tables_in_order(source, from.backend()).await?;
    for table in &tables {
        let rows = count(target, table).await?;
        if rows > 0 {
            return Err(CoreError::Conflict {
                field: "to",
                message: format!(
                    "{} is not empty ({table} has {rows} rows): copy a shop only into a new, empty database.",
                    to.display()
                ),
            });
        }
    }
    let mut tx = target.begin().await?;
    for table in &tables {
        // The target's columns and types: the same tables on both (a test keeps them so).
        let columns = columns_of(target, to.backend(), table).await?;
        let list = columns
            .iter()
            .map(|(c, _)| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let keyed = columns
            .iter()
            .any(|(c, kind)| c == "id" && matches!(kind, Kind::Int));
        let mut after: Option<i64> = None;
        loop {
            // Tables with an id are read a page at a time (memory stays flat); the others are small.
            let rows: Vec<AnyRow> = if keyed {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {list} FROM \"{table}\" WHERE id > $1 ORDER BY id LIMIT {PAGE}"
                )))
                .bind(after.unwrap_or(i64::MIN))
                .fetch_all(source)
                .await?
            } else {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {list} FROM \"{table}\" ORDER BY {list}"
                )))
                .fetch_all(source)
                .await?
            };
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                insert_rows(&mut tx, table, &list, &columns, chunk).await?;
            }
            let Some(last) = rows.last().filter(|_| keyed && rows.len() == PAGE) else {
                break;
            };
            after = Some(last.try_get::<i64, _>("id")?);
        }
        // PostgreSQL ids come from a sequence that explicit ids do not move.
        if to.backend() == Backend::Postgres && keyed {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), coalesce(max(id), 0) + 1, false) FROM \"{table}\"
                 WHERE pg_get_serial_sequence('\"{table}\"', 'id') IS NOT NULL"
            )))
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;

    let mut counts = Vec::new();
    for table in &tables {
        counts.push(TableCount {
            table: table.clone(),
            from: count(source, table).await?,
            to: count(target, table).await?,
        });
    }
    let mut money = Vec::new();
    for (table, column) in [
        ("payments", "amount_minor"),
        ("payments", "refunded_minor"),
        ("orders", "total_minor"),
        ("order_lines", "gross_minor"),
        ("order_lines", "tax_minor"),
    ] {
        let before = sums(source, table, column).await?;
        let after = sums(target, table, column).await?;
        let currencies: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
        for currency in currencies {
            money.push(MoneySum {
                column: format!("{table}.{column}"),
                currency: currency.clone(),
                from: before.get(currency).copied().unwrap_or(0),
                to: after.get(currency).copied().unwrap_or(0),
            });
        }
    }
    Ok(CopyReport {
        from: from.display(),
        to: to.display(),
        tables: counts,
        money,
    })
}

async fn insert_rows(
    tx: &mut sqlx::AnyConnection,
    table: &str,
    list: &str,
    columns: &[(String, Kind)],
    rows: &[AnyRow],
) -> Result<()> {
    let mut insert = Sql::new(format!("INSERT INTO \"{table}\" ({list}) "));
    let mut failure = None;
    insert.push_values(rows, |mut values, row| {
        for (i, (column, kind)) in columns.iter().enumerate() {
            match cell(row, i) {
                Ok(Cell::Int(n)) => values.push_bind(n),
                Ok(Cell::Text(t)) => values.push_bind(t),
                Ok(Cell::Bytes(b)) => values.push_bind(b),
                // A NULL goes in as the column's own type (PostgreSQL checks it).
                Ok(Cell::Null) => match kind {
                    Kind::Int => values.push_bind(None::<i64>),
                    Kind::Text => values.push_bind(None::<String>),
                    Kind::Bytes => values.push_bind(None::<Vec<u8>>),
                },
                Err(e) => {
                    failure.get_or_insert(format!("{table}.{column}: {e}"));
                    values.push_bind(None::<i64>)
                }
            };
        }
    });
    if let Some(failure) = failure {
        return Err(CoreError::Report(format!(
            "A value cannot be copied ({failure}); nothing was written."
        )));
    }
    insert.build().execute(&mut *tx).await?;
    Ok(())
}

fn cell(row: &AnyRow, index: usize) -> std::result::Result<Cell, sqlx::Error> {
    if let Ok(value) = row.try_get::<Option<i64>, _>(index) {
        return Ok(value.map_or(Cell::Null, Cell::Int));
    }
    if let Ok(value) = row.try_get::<Option<String>, _>(index) {
        return Ok(value.map_or(Cell::Null, Cell::Text));
    }
    row.try_get::<Option<Vec<u8>>, _>(index)
        .map(|value| value.map_or(Cell::Null, Cell::Bytes))
}

async fn count(pool: &AnyPool, table: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM \"{table}\""
    )))
    .fetch_one(pool)
    .await?)
}

async fn sums(pool: &AnyPool, table: &str, column: &str) -> Result<BTreeMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT currency, CAST(coalesce(sum({column}), 0) AS BIGINT) FROM \"{table}\" GROUP BY currency"
    )))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The shop's tables, each after the tables its foreign keys point to (FTS5's own tables,
/// which SQLite fills from `products`, and the migrations' bookkeeping left out).
async fn tables_in_order(pool: &AnyPool, backend: Backend) -> Result<Vec<String>> {
    let names: Vec<String> = match backend {
        Backend::Sqlite => {
            sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
                 ORDER BY name",
            )
            .fetch_all(pool)
            .await?
        }
        Backend::Postgres => {
            sqlx::query_scalar(
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
            )
            .fetch_all(pool)
            .await?
        }
    };
    let names: Vec<String> = names
        .into_iter()
        .filter(|n| n != "_sqlx_migrations" && !n.starts_with("products_fts"))
        .collect();
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in &names {
        let referenced: Vec<String> = match backend {
            Backend::Sqlite => {
                sqlx::query_scalar("SELECT \"table\" FROM pragma_foreign_key_list($1)")
                    .bind(name)
                    .fetch_all(pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::query_scalar(
                    "SELECT DISTINCT CAST(ccu.table_name AS TEXT)
                     FROM information_schema.table_constraints tc
                     JOIN information_schema.constraint_column_usage ccu
                       ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
                     WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()
                       AND tc.table_name = $1",
                )
                .bind(name)
                .fetch_all(pool)
                .await?
            }
        };
        parents.insert(
            name.clone(),
            referenced.into_iter().filter(|p| p != name).collect(),
        );
    }
    let mut ordered: Vec<String> = Vec::new();
    while ordered.len() < names.len() {
        let ready: Vec<String> = names
            .iter()
            .filter(|n| !ordered.contains(n))
            .filter(|n| parents[*n].iter().all(|p| ordered.contains(p)))
            .cloned()
            .collect();
        if ready.is_empty() {
            return Err(CoreError::Report(
                "The shop's tables refer to each other in a circle; they cannot be copied in order."
                    .into(),
            ));
        }
        ordered.extend(ready);
    }
    Ok(ordered)
}

async fn columns_of(pool: &AnyPool, backend: Backend, table: &str) -> Result<Vec<(String, Kind)>> {
    let sql = match backend {
        Backend::Sqlite => "SELECT name, upper(type) FROM pragma_table_info($1) ORDER BY cid",
        Backend::Postgres => {
            "SELECT CAST(column_name AS TEXT), upper(CAST(data_type AS TEXT)) FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'
             ORDER BY ordinal_position"
        }
    };
    let rows: Vec<(String, String)> = sqlx::query_as(sql).bind(table).fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(name, kind)| {
            let kind = if kind.contains("INT") {
                Kind::Int
            } else if kind.contains("BLOB") || kind.contains("BYTEA") {
                Kind::Bytes
            } else {
                Kind::Text
            };
            (name, kind)
        })
        .collect())
}
