//! The PostgreSQL migration describes the same tables as the SQLite ones: columns in order,
//! NOT NULL, unique keys and foreign keys. Runs when SHOPCAST_TEST_POSTGRES names a server.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, PgPool, SqlitePool};

/// One table as both engines can tell it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// Column names in order, with whether they are NOT NULL.
    columns: Vec<(String, bool)>,
    /// Column lists of the primary key, UNIQUE constraints and unique indexes, each with
    /// whether it is partial (a unique index with WHERE).
    unique_keys: BTreeSet<(Vec<String>, bool)>,
    /// Column, the table it refers to, and ON DELETE.
    foreign_keys: BTreeSet<(String, String, String)>,
}

type Schema = BTreeMap<String, Table>;

/// Tables that are the migrator's or SQLite's own, or SQLite's search index (a trigram
/// index on products on PostgreSQL).
fn compared(table: &str) -> bool {
    table != "_sqlx_migrations"
        && !table.starts_with("sqlite_")
        && !table.starts_with("products_fts")
}

async fn sqlite_schema(pool: &SqlitePool) -> Schema {
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(pool)
            .await
            .unwrap();
    let mut schema = Schema::new();
    for (name,) in names.into_iter().filter(|(name,)| compared(name)) {
        let mut table = Table::default();
        let columns: Vec<(String, i64, i64)> =
            sqlx::query_as(r#"SELECT name, "notnull", pk FROM pragma_table_info(?1) ORDER BY cid"#)
                .bind(&name)
                .fetch_all(pool)
                .await
                .unwrap();
        // A primary key column is never NULL on PostgreSQL. On SQLite an INTEGER PRIMARY KEY
        // is the rowid (never NULL) but a TEXT one without NOT NULL takes NULL, an old quirk
        // (provider_cursors.provider, test_checkout_runs.run_id): counted as NOT NULL here.
        table.columns = columns
            .iter()
            .map(|(column, not_null, pk)| (column.clone(), *not_null != 0 || *pk > 0))
            .collect();
        let mut primary_key: Vec<(i64, String)> = columns
            .iter()
            .filter(|(_, _, pk)| *pk > 0)
            .map(|(column, _, pk)| (*pk, column.clone()))
            .collect();
        primary_key.sort();
        if !primary_key.is_empty() {
            let key = primary_key.into_iter().map(|(_, column)| column).collect();
            table.unique_keys.insert((key, false));
        }
        let indexes: Vec<(String, i64, i64)> =
            sqlx::query_as(r#"SELECT name, "unique", partial FROM pragma_index_list(?1)"#)
                .bind(&name)
                .fetch_all(pool)
                .await
                .unwrap();
        for (index, unique, partial) in indexes {
            if unique == 0 {
                continue;
            }
            let key: Vec<(Option<String>,)> =
                sqlx::query_as("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(pool)
                    .await
                    .unwrap();
            let key = key
                .into_iter()
                .map(|(column,)| column.unwrap_or_else(|| "(expression)".into()))
                .collect();
            table.unique_keys.insert((key, partial != 0));
        }
        let foreign_keys: Vec<(String, String, String)> =
            sqlx::query_as(r#"SELECT "from", "table", on_delete FROM pragma_foreign_key_list(?1)"#)
                .bind(&name)
                .fetch_all(pool)
                .await
                .unwrap();
        table.foreign_keys = foreign_keys.into_iter().collect();
        schema.insert(name, table);
    }
    schema
}

async fn postgres_schema(pool: &PgPool) -> Schema {
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for (name,) in names.into_iter().filter(|(name,)| compared(name)) {
        let columns: Vec<(String, bool)> = sqlx::query_as(
            "SELECT column_name::text, is_nullable::text = 'NO' FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'
             ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .unwrap();
        let keys: Vec<(Vec<String>, bool)> = sqlx::query_as(
            "SELECT array_agg(coalesce(a.attname::text, '(expression)') ORDER BY k.ord),
                    bool_or(x.indpred IS NOT NULL)
             FROM pg_index x
             CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k (attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
             WHERE x.indisunique AND x.indrelid = $1::text::regclass
             GROUP BY x.indexrelid",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .unwrap();
        let foreign_keys: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT a.attname::text, f.relname::text,
                    CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
                         WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
                         WHEN 'd' THEN 'SET DEFAULT' END
             FROM pg_constraint c
             JOIN pg_class f ON f.oid = c.confrelid
             CROSS JOIN LATERAL unnest(c.conkey) AS k (attnum)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
             WHERE c.contype = 'f' AND c.conrelid = $1::text::regclass",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .unwrap();
        let table = Table {
            columns,
            unique_keys: keys.into_iter().collect(),
            foreign_keys: foreign_keys.into_iter().collect(),
        };
        schema.insert(name, table);
    }
    schema
}

/// What differs, one line per table and aspect; empty when the schemas are the same.
fn differences(sqlite: &Schema, postgres: &Schema) -> String {
    let mut out = String::new();
    let names: BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    for name in names {
        match (sqlite.get(name), postgres.get(name)) {
            (Some(_), None) => writeln!(out, "{name}: only on SQLite").unwrap(),
            (None, Some(_)) => writeln!(out, "{name}: only on PostgreSQL").unwrap(),
            (Some(s), Some(p)) => {
                if s.columns != p.columns {
                    writeln!(out, "{name} columns (name, NOT NULL):").unwrap();
                    writeln!(out, "  sqlite:   {:?}", s.columns).unwrap();
                    writeln!(out, "  postgres: {:?}", p.columns).unwrap();
                }
                if s.unique_keys != p.unique_keys {
                    writeln!(out, "{name} unique keys (columns, partial):").unwrap();
                    let only_s: Vec<_> = s.unique_keys.difference(&p.unique_keys).collect();
                    let only_p: Vec<_> = p.unique_keys.difference(&s.unique_keys).collect();
                    writeln!(out, "  only sqlite:   {only_s:?}").unwrap();
                    writeln!(out, "  only postgres: {only_p:?}").unwrap();
                }
                if s.foreign_keys != p.foreign_keys {
                    writeln!(out, "{name} foreign keys (column, table, on delete):").unwrap();
                    let only_s: Vec<_> = s.foreign_keys.difference(&p.foreign_keys).collect();
                    let only_p: Vec<_> = p.foreign_keys.difference(&s.foreign_keys).collect();
                    writeln!(out, "  only sqlite:   {only_s:?}").unwrap();
                    writeln!(out, "  only postgres: {only_p:?}").unwrap();
                }
            }
            (None, None) => {}
        }
    }
    out
}

/// Migrates a fresh SQLite file and the fresh PostgreSQL database at `database_url`, and
/// reads both schemas back.
async fn migrate_both(database_url: &str) -> Result<(Schema, Schema), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let sqlite = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(dir.path().join("shop.db"))
                .create_if_missing(true),
        )
        .await?;
    sqlx::migrate!("./migrations/sqlite").run(&sqlite).await?;
    let postgres = PgPoolOptions::new()
        .max_connections(1)
        .connect(database_url)
        .await?;
    sqlx::migrate!("./migrations/postgres")
        .run(&postgres)
        .await?;
    let sqlite_tables = sqlite_schema(&sqlite).await;
    let postgres_tables = postgres_schema(&postgres).await;
    sqlite.close().await;
    postgres.close().await;
    Ok((sqlite_tables, postgres_tables))
}

#[tokio::test]
async fn sqlite_and_postgres_describe_the_same_tables() {
    let Ok(server) = std::env::var("SHOPCAST_TEST_POSTGRES") else {
        eprintln!(
            "skipped: set SHOPCAST_TEST_POSTGRES to a server URL \
             (e.g. from tests/peers/postgres.sh start DIR) to compare the schemas"
        );
        return;
    };
    let server = server.trim_end_matches('/');
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let database = format!("shop_parity_{}_{nanos}", std::process::id());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&admin)
        .await
        .unwrap();
    let migrated = migrate_both(&format!("{server}/{database}")).await;
    // Dropped whatever the outcome, before asserting.
    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE {database} WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    admin.close().await;
    let (sqlite, postgres) = migrated.unwrap();
    // Not vacuous: the comparison saw the shop's tables on both.
    for table in ["products", "orders", "payments", "till_days"] {
        assert!(sqlite.contains_key(table), "{table} not on SQLite");
        assert!(postgres.contains_key(table), "{table} not on PostgreSQL");
    }
    let diff = differences(&sqlite, &postgres);
    assert!(
        diff.is_empty(),
        "the PostgreSQL migration differs from the SQLite ones:\n{diff}"
    );
}
