//! Shared infrastructure: the shop file, its migrations and backups.

use shopcast_core::Shop;
use shopcast_core::infra::store;

#[tokio::test]
async fn migrates_an_empty_file_and_reopens_without_backup() {
    let dir = tempfile::tempdir().unwrap();
    let (pool, backup) = store::open(dir.path()).await.unwrap();
    assert!(backup.is_none(), "a brand-new file needs no backup");
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(applied, store::known_migrations().collect::<Vec<_>>());
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(journal, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(fk, 1);
    pool.close().await;

    let (_pool, backup) = store::open(dir.path()).await.unwrap();
    assert!(backup.is_none(), "nothing pending, so no backup");
}

#[tokio::test]
async fn a_pending_migration_backs_the_file_up_first() {
    let dir = tempfile::tempdir().unwrap();
    let shop = Shop::open(dir.path()).await.unwrap();
    shop.create_product(&crate::draft("Kept in the backup", "1"))
        .await
        .unwrap();
    // Pretend the newest migration has not run yet.
    let newest = store::known_migrations().max().unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(newest)
        .execute(shop.pool())
        .await
        .unwrap();
    // Undo what the newest migration created, so it can run again.
    let undo: &[&str] = match newest {
        1 => &[
            "DROP TABLE products_fts",
            "DROP TABLE order_lines",
            "DROP TABLE orders",
            "DROP TABLE product_photos",
            "DROP TABLE products",
            "DROP TABLE settings",
        ],
        2 => &["DROP TABLE signage_items", "DROP TABLE signage_batches"],
        3 => &[
            "DROP TABLE provider_cursors",
            "DROP TABLE payment_events",
            "DROP TABLE payments",
            "DROP TABLE charges",
            "DROP INDEX orders_by_ref",
            "ALTER TABLE orders DROP COLUMN ref",
            "ALTER TABLE orders DROP COLUMN status",
            "ALTER TABLE orders DROP COLUMN total_minor",
            "ALTER TABLE orders DROP COLUMN currency",
            "ALTER TABLE orders DROP COLUMN channel",
            "ALTER TABLE orders DROP COLUMN source_ref",
            "ALTER TABLE orders DROP COLUMN updated_at",
            "ALTER TABLE order_lines DROP COLUMN name",
            "ALTER TABLE order_lines DROP COLUMN sku",
        ],
        4 => &[
            "DROP INDEX order_lines_by_order",
            "DROP INDEX payments_for_reports",
        ],
        5 => &[
            "DROP INDEX order_lines_for_reports",
            "CREATE INDEX order_lines_by_order ON order_lines (order_id)",
        ],
        6 => &["DROP TABLE payment_links"],
        7 => &["DROP TABLE posts", "DROP TABLE accounts"],
        8 => &["ALTER TABLE orders DROP COLUMN stock_taken"],
        9 => &["DROP TABLE unreadable_payment_events"],
        11 => &[
            "DROP INDEX posts_leases",
            "ALTER TABLE posts DROP COLUMN lease_expires_at",
            "ALTER TABLE posts DROP COLUMN claimed_by",
        ],
        // The search index's default in-memory buffer (FTS5: 1 MiB).
        12 => &["INSERT INTO products_fts (products_fts, rank) VALUES ('hashsize', 1048576)"],
        13 => &[
            "ALTER TABLE charges DROP COLUMN test_run",
            "DROP TABLE test_checkout_runs",
        ],
        14 => &[
            "DROP INDEX orders_by_receipt",
            "ALTER TABLE orders DROP COLUMN receipt_hash",
        ],
        15 => &["ALTER TABLE orders DROP COLUMN till"],
        16 => &[
            "DROP TABLE till_days",
            "ALTER TABLE orders DROP COLUMN prices_include_tax",
            "ALTER TABLE orders DROP COLUMN discount_reason",
            "ALTER TABLE orders DROP COLUMN discount_minor",
            // One statement, so one connection sees the index dropped and made again.
            "DROP INDEX order_lines_for_reports; CREATE INDEX order_lines_for_reports ON order_lines (order_id, product_id, quantity, unit_price_minor)",
            "ALTER TABLE order_lines DROP COLUMN tax_rate_ppm",
            "ALTER TABLE order_lines DROP COLUMN tax_rate_name",
            "ALTER TABLE order_lines DROP COLUMN discount_reason",
            "ALTER TABLE order_lines DROP COLUMN discount_minor",
            "ALTER TABLE order_lines DROP COLUMN tax_minor",
            "ALTER TABLE order_lines DROP COLUMN net_minor",
            "ALTER TABLE order_lines DROP COLUMN gross_minor",
            "ALTER TABLE products DROP COLUMN low_stock",
            "DROP INDEX products_by_gtin",
            "ALTER TABLE products DROP COLUMN gtin",
            "ALTER TABLE products DROP COLUMN barcode",
            "ALTER TABLE products DROP COLUMN tax_rate_id",
            "DROP TABLE tax_rates",
        ],
        17 => &["ALTER TABLE payments DROP COLUMN settled_at"],
        18 => &["DROP TABLE watcher_leases"],
        19 => &["DROP INDEX orders_holding_goods"],
        20 => &["ALTER TABLE order_lines DROP COLUMN lines_in_order"],
        other => panic!("add the undo of migration {other} to this test"),
    };
    for statement in undo {
        sqlx::query(sqlx::AssertSqlSafe(*statement))
            .execute(shop.pool())
            .await
            .unwrap();
    }
    shop.close().await;

    let (pool, backup) = store::open(dir.path()).await.unwrap();
    let backup = backup.expect("a pending migration must back up first");
    assert!(backup.starts_with(dir.path().join("backups")));
    let copy = sqlx::AnyPool::connect(&format!("sqlite:{}", backup.display()))
        .await
        .unwrap();
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
        .fetch_all(&copy)
        .await
        .unwrap();
    assert!(
        !versions.contains(&newest),
        "the backup is the file as it was before migrating"
    );
    let applied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE version = $1")
            .bind(newest)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(applied, 1);
}

/// A file holding other tables, a shop upgraded by a newer Shopcast, a server that is not
/// there and a refused login: each is refused with its own code, and nothing is written.
#[tokio::test]
async fn unusable_databases_are_refused_with_a_reason_and_left_alone() {
    use shopcast_core::{Database, ErrorCode};
    let dir = tempfile::tempdir().unwrap();

    // Someone else's SQLite file.
    let foreign = dir.path().join("accounts.sqlite");
    {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", foreign.display()))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE ledger (id INTEGER PRIMARY KEY, amount INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let before = std::fs::read(&foreign).unwrap();
    let error = Shop::open_with(dir.path(), Database::File(foreign.clone()))
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::DatabaseNotShopcast, "{error}");
    assert!(error.to_string().contains("ledger"), "{error}");
    assert!(
        std::fs::read(&foreign).unwrap() == before,
        "nothing written"
    );

    // A shop a newer Shopcast upgraded.
    let shop = crate::open_shop(dir.path()).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9999, 'from the future', TRUE, $1, 0)",
    )
    .bind(vec![0u8])
    .execute(shop.pool())
    .await
    .unwrap_or_else(|_| panic!("the future migration is recorded"));
    let database = shop.database().clone();
    shop.close().await;
    let error = Shop::open_with(dir.path(), database).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::DatabaseNewer, "{error}");
    assert!(error.to_string().contains("9999"), "{error}");

    // A server nobody listens on: said at once, not after a minute.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = std::time::Instant::now();
    let error = Shop::open_with(
        dir.path(),
        Database::parse(&format!("postgres://shop:secret@127.0.0.1:{port}/shop")).unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(error.code(), ErrorCode::DatabaseUnreachable, "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
    assert!(
        !error.to_string().contains("secret"),
        "the password is not shown: {error}"
    );

    // A login the server refuses (a database that does not exist), when there is a server.
    if let Ok(server) = std::env::var("SHOPCAST_TEST_POSTGRES") {
        let error = Shop::open_with(
            dir.path(),
            Database::parse(&format!("{server}/no_such_shop_database")).unwrap(),
        )
        .await
        .unwrap_err();
        assert_eq!(error.code(), ErrorCode::DatabaseLogin, "{error}");
    }
}
