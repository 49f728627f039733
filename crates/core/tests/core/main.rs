//! Integration tests of the engine on real SQLite files in temporary folders.

//! One file per room of the engine (`crates/core/src/<room>/`), with the fixtures they share.

mod alipay_notify;
mod bad_input;
mod catalog;
mod db_copy;
mod infra;
mod live;
mod money;
mod payment_codes;
mod payments;
mod payments_edges;
mod posting;
mod printer;
mod reports;
mod schema_parity;
mod settings;
mod shop_page;
mod signage;
mod stripe_webhooks;
mod till_day;
mod till_sale;
mod wechat;
// The test checkout page's hidden fields, read as the payments crate's tests read them.
#[path = "../../../payments/tests/support/form.rs"]
mod form;

use shopcast_core::payments::till::{Order, OrderDraft, OrderLineDraft};
use shopcast_core::{ProductDraft, Shop, ShopSettings};
use shopcast_payments::{PaymentStatus, ProviderEvent, ProviderKind};

/// Opens the shop of the test folder `dir`: its SQLite file, or, when
/// `SHOPCAST_TEST_POSTGRES` names a server (`postgres://user@host:port`), a database of its
/// own there, named after the folder so that opening the folder again finds the same shop.
pub async fn open_shop(dir: &std::path::Path) -> Shop {
    Shop::open_with(dir, test_database(dir).await)
        .await
        .unwrap()
}

/// The database a test folder's shop lives in (see [`open_shop`]).
pub async fn test_database(dir: &std::path::Path) -> shopcast_core::Database {
    let Some(server) = std::env::var("SHOPCAST_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
    else {
        return shopcast_core::Database::in_data_dir(dir);
    };
    use sha2::Digest;
    let digest = sha2::Sha256::digest(dir.as_os_str().as_encoded_bytes());
    let name: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    let name = format!("shop_{name}");
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    let exists: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_one(&admin)
        .await
        .unwrap();
    if exists == 0 {
        // Two tests cannot race for one folder's name: each folder is a fresh tempdir.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
    }
    admin.close().await;
    shopcast_core::Database::Server(format!("{server}/{name}"))
}

/// The shop's own tables (not the database's bookkeeping), on either backend.
pub async fn shop_tables(shop: &Shop) -> Vec<String> {
    let sql = match shop.backend() {
        shopcast_core::Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        }
        shopcast_core::Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
    };
    let names: Vec<String> = sqlx::query_scalar(sql)
        .fetch_all(shop.pool())
        .await
        .unwrap();
    names
        .into_iter()
        .filter(|n| !n.starts_with("sqlite_") && n != "_sqlx_migrations")
        .collect()
}

/// Everything the shop's database holds, as bytes to search for secrets: the SQLite file
/// itself after a checkpoint (so deleted and unindexed bytes count too), or on PostgreSQL
/// every row of every table as text. Also where it came from, for messages.
pub async fn stored_bytes(shop: &Shop) -> (Vec<u8>, String) {
    match shop.backend() {
        shopcast_core::Backend::Sqlite => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(shop.pool())
                .await
                .unwrap();
            let database = shop.database_path();
            let bytes = std::fs::read(&database).expect("the shop file is read");
            (bytes, database.display().to_string())
        }
        shopcast_core::Backend::Postgres => {
            let mut bytes = Vec::new();
            for table in shop_tables(shop).await {
                let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT CAST(t AS TEXT) FROM \"{table}\" t"
                )))
                .fetch_all(shop.pool())
                .await
                .unwrap();
                for row in rows {
                    bytes.extend_from_slice(row.as_bytes());
                    bytes.push(b'\n');
                }
            }
            (bytes, shop.database().display())
        }
    }
}

/// Makes every `event` (INSERT, UPDATE) on `table` fail with `message`, as a full disk would.
pub async fn refuse_writes(shop: &Shop, table: &str, event: &str, message: &str) {
    let statements = match shop.backend() {
        shopcast_core::Backend::Sqlite => vec![format!(
            "CREATE TRIGGER refuse_{table}_{event} BEFORE {event} ON {table}
             BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )],
        shopcast_core::Backend::Postgres => vec![
            format!(
                "CREATE OR REPLACE FUNCTION refuse_{table}_{event}() RETURNS trigger AS $$
                 BEGIN RAISE EXCEPTION '{message}'; END $$ LANGUAGE plpgsql"
            ),
            format!(
                "CREATE TRIGGER refuse_{table}_{event} BEFORE {event} ON {table}
                 FOR EACH ROW EXECUTE FUNCTION refuse_{table}_{event}()"
            ),
        ],
    };
    for statement in statements {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(shop.pool())
            .await
            .unwrap();
    }
}

/// A table's columns in order, on either backend.
pub async fn table_columns(shop: &Shop, table: &str) -> Vec<String> {
    let sql = match shop.backend() {
        shopcast_core::Backend::Sqlite => "SELECT name FROM pragma_table_info($1) ORDER BY cid",
        shopcast_core::Backend::Postgres => {
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
        }
    };
    sqlx::query_scalar(sql)
        .bind(table)
        .fetch_all(shop.pool())
        .await
        .unwrap()
}

/// A shop in a fresh temporary folder, set up with `currency`.
pub async fn shop_with(currency: &str) -> (Shop, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let shop = open_shop(dir.path()).await;
    shop.save_settings(ShopSettings {
        name: "小店 Test Shop".into(),
        currency: currency.into(),
        timezone: "Asia/Shanghai".into(),
        locale: "zh-CN".into(),
        buy_link_base: "https://shop.example.com/p/".into(),
        public_url: String::new(),
        ..Default::default()
    })
    .await
    .unwrap();
    (shop, dir)
}

pub fn draft(name: &str, price: &str) -> ProductDraft {
    ProductDraft {
        name: name.into(),
        price: price.into(),
        ..Default::default()
    }
}

/// A product priced `price` in the shop's currency, with `stock` if counted; its id.
pub async fn product(shop: &Shop, name: &str, price: &str, stock: Option<i64>) -> i64 {
    let mut d = draft(name, price);
    d.stock = stock;
    shop.create_product(&d).await.unwrap().id
}

pub fn line(product_id: i64, quantity: u32) -> OrderLineDraft {
    OrderLineDraft {
        product_id,
        quantity,
        ..Default::default()
    }
}

/// A till order of `lines` (product id, quantity), not yet paid.
pub async fn order_of(shop: &Shop, lines: &[(i64, u32)]) -> Order {
    shop.create_order(&OrderDraft {
        lines: lines
            .iter()
            .map(|(id, quantity)| line(*id, *quantity))
            .collect(),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// A provider's event about payment `reference` in CNY, tied to no order yet.
pub fn event(id: &str, reference: &str, status: PaymentStatus, amount: i64) -> ProviderEvent {
    ProviderEvent {
        event_id: id.into(),
        provider_ref: reference.into(),
        order_ref: None,
        charge_ref: None,
        status,
        amount_minor: amount,
        currency: "CNY".into(),
        refunded_total_minor: None,
        method: Some("card".into()),
        source_tag: None,
        occurred_at: jiff::Timestamp::now(),
        raw: format!(r#"{{"id":"{id}"}}"#),
    }
}

/// Feeds `events` to the ledger as `provider`'s watcher would (no cursor).
pub async fn ingest(shop: &Shop, provider: ProviderKind, events: &[ProviderEvent]) {
    shop.payments()
        .ingest(provider, events, None)
        .await
        .unwrap();
}

/// An order of `lines` paid in full at `when` through `provider` (`tweak` changes the
/// provider's event first: a refund, another currency, a tag…); the payment's reference.
pub async fn paid_order(
    shop: &Shop,
    lines: &[(i64, u32)],
    when: jiff::Timestamp,
    provider: ProviderKind,
    tweak: impl FnOnce(&mut ProviderEvent),
) -> String {
    let order = order_of(shop, lines).await;
    let reference = format!("pi_{}", order.order_ref);
    let mut event = event(
        &format!("evt_{}", order.order_ref),
        &reference,
        PaymentStatus::Paid,
        order.total.amount_minor,
    );
    event.order_ref = Some(order.order_ref.clone());
    event.currency = order.total.currency.clone();
    event.occurred_at = when;
    event.raw = "{}".into();
    tweak(&mut event);
    ingest(shop, provider, &[event]).await;
    reference
}

/// Rows in one of the shop file's tables.
pub async fn count(shop: &Shop, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(shop.pool())
        .await
        .unwrap()
}
