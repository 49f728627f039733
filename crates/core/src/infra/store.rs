//! The shop's database: a SQLite file in the data folder (the embedded default) or a PostgreSQL
//! server shared by tills and the shop page; opened, and migrated (a file after a backup).

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, ConnectOptions, Executor};

use crate::error::{CoreError, Result};

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

pub const DATABASE_FILE: &str = "shopcast.sqlite";
const BACKUP_DIR: &str = "backups";

/// Which engine a pool speaks to: shared SQL is the same, a few statements are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend behind `pool`.
pub fn backend(pool: &AnyPool) -> Backend {
    match pool.connect_options().database_url.scheme() {
        "postgres" | "postgresql" => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

impl Backend {
    /// The backend of one connection (inside a transaction).
    pub fn of_connection(conn: &sqlx::AnyConnection) -> Backend {
        match conn.backend_name() {
            "PostgreSQL" => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// A table of the JSON array bound at `$param`, one `value` per element (text on
    /// PostgreSQL: compare numbers through `CAST(value AS BIGINT)`).
    pub(crate) fn json_values(self, param: usize) -> String {
        match self {
            Backend::Sqlite => format!("json_each(${param})"),
            Backend::Postgres => format!("json_array_elements_text(CAST(${param} AS json))"),
        }
    }
}

/// A transaction that will write: on SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`), so reads inside it see what no other writer can change before it commits; on
/// PostgreSQL the rows it must keep still are locked with `FOR UPDATE` (see [`Backend::for_update`]).
pub async fn begin_write(pool: &AnyPool) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
    Ok(match backend(pool) {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    })
}

impl Backend {
    /// ` FOR UPDATE` on PostgreSQL (a row lock until commit); nothing on SQLite, whose write
    /// transactions already exclude each other.
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

/// Where the shop's records live.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    File(PathBuf),
    /// A PostgreSQL database, as a `postgres://` URL (it may carry a password).
    Server(String),
}

impl Database {
    /// The shop file in `data_dir` (what a shop on one computer uses).
    pub fn in_data_dir(data_dir: &Path) -> Database {
        Database::File(data_dir.join(DATABASE_FILE))
    }

    /// `sqlite:PATH` or `postgres://user@host:port/name` (also `postgresql://`).
    pub fn parse(url: &str) -> Result<Database> {
        let url = url.trim();
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(CoreError::invalid(
                    "database",
                    "Give the shop file's path after sqlite:, e.g. sqlite:/home/me/shop.sqlite.",
                ));
            }
            return Ok(Database::File(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let parsed = url::Url::parse(url).map_err(|e| {
                CoreError::invalid(
                    "database",
                    format!("This database address is not a URL: {e}."),
                )
            })?;
            if parsed.host_str().is_none_or(str::is_empty) && !url.contains("host=") {
                return Err(CoreError::invalid(
                    "database",
                    "Give the PostgreSQL server's host, e.g. postgres://shop@tills.local/shop.",
                ));
            }
            return Ok(Database::Server(url.to_string()));
        }
        Err(CoreError::invalid(
            "database",
            "A shop database is sqlite:PATH or postgres://USER@HOST/NAME.",
        ))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Database::File(_) => Backend::Sqlite,
            Database::Server(_) => Backend::Postgres,
        }
    }

    /// The address to show: a server's password is hidden.
    pub fn display(&self) -> String {
        match self {
            Database::File(path) => format!("sqlite:{}", path.display()),
            Database::Server(url) => match url::Url::parse(url) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("****"));
                    }
                    parsed.to_string()
                }
                Err(_) => "postgres://…".into(),
            },
        }
    }

    /// The address without its password, and the password it carried.
    pub fn split_password(&self) -> (Database, Option<String>) {
        if let Database::Server(url) = self
            && let Ok(mut parsed) = url::Url::parse(url)
            && let Some(password) = parsed.password().map(str::to_string)
        {
            let _ = parsed.set_password(None);
            let password = percent_decode(&password);
            return (Database::Server(parsed.to_string()), Some(password));
        }
        (self.clone(), None)
    }

    /// The server URL with `password` put in (it is kept in the keychain, not in the URL).
    pub fn with_password(&self, password: Option<&str>) -> Database {
        match (self, password) {
            (Database::Server(url), Some(password)) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_none() => {
                    let _ = parsed.set_password(Some(password));
                    Database::Server(parsed.to_string())
                }
                _ => self.clone(),
            },
            _ => self.clone(),
        }
    }
}

/// `%41` → `A`: a URL's password as typed.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(byte) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

fn install_drivers() {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
}

/// `path` as a `sqlite://` URL (percent-encoded, so spaces, `?` and `#` survive).
fn sqlite_url(path: &Path) -> Result<String> {
    let text = path.to_str().ok_or_else(|| {
        CoreError::invalid(
            "database",
            format!("The shop file's path is not UTF-8: {}", path.display()),
        )
    })?;
    let mut url = String::from("sqlite://");
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'_' | b'-' | b'~' => {
                url.push(byte as char)
            }
            _ => url.push_str(&format!("%{byte:02X}")),
        }
    }
    url.push_str("?mode=rwc");
    Ok(url)
}

/// Opens (creating if needed) the shop database in `data_dir` and brings its schema up to
/// date. Returns the pool and the backup made before migrating, if one was needed.
pub async fn open(data_dir: &Path) -> Result<(AnyPool, Option<PathBuf>)> {
    open_database(data_dir, &Database::in_data_dir(data_dir)).await
}

/// Opens `database` (its media and secrets stay in `data_dir`) and migrates it.
pub async fn open_database(
    data_dir: &Path,
    database: &Database,
) -> Result<(AnyPool, Option<PathBuf>)> {
    install_drivers();
    std::fs::create_dir_all(data_dir).map_err(|e| CoreError::io("create", data_dir, e))?;
    match database {
        Database::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| CoreError::io("create", dir, e))?;
            }
            if path.exists() {
                // Looked at read-only first: someone else's file must not even get WAL mode.
                let url = sqlite_url(path)?.replace("?mode=rwc", "?mode=ro");
                let look = AnyPoolOptions::new()
                    .max_connections(1)
                    .connect_with(url.parse()?)
                    .await?;
                let checked = check_schema(&look, database, &SQLITE_MIGRATOR).await;
                look.close().await;
                checked?;
            }
            let options: AnyConnectOptions = sqlite_url(path)?.parse()?;
            let pool = AnyPoolOptions::new()
                .max_connections(4)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // foreign_keys is on and busy_timeout 5 s by sqlx's defaults.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
                            .await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await?;
            let backup = backup_if_migration_pending(&pool, path, data_dir).await?;
            SQLITE_MIGRATOR.run(&pool).await?;
            Ok((pool, backup))
        }
        Database::Server(url) => {
            let options: AnyConnectOptions = url
                .parse::<AnyConnectOptions>()
                .map_err(|e| CoreError::invalid("database", e.to_string()))?
                .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(2));
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                // A till must say "the server is away" within seconds, not hang a sale.
                .acquire_timeout(Duration::from_secs(5))
                // A ping is a round trip: only for a connection idle long enough that the
                // server may have gone away meanwhile, not before each statement of a sale.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for > PING_AFTER_IDLE {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect_with(options)
                .await
                .map_err(|e| unavailable(database, e))?;
            check_schema(&pool, database, &POSTGRES_MIGRATOR).await?;
            // Two tills starting at once: the migrator's advisory lock lets one migrate.
            POSTGRES_MIGRATOR.run(&pool).await?;
            Ok((pool, None))
        }
    }
}

/// How long a server connection may sit unused before it is pinged when taken again.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// `error` met while reaching `database`, said as the owner needs it.
pub(crate) fn unavailable(database: &Database, error: sqlx::Error) -> CoreError {
    let shown = database.display();
    match crate::error::DatabaseProblem::of(&error) {
        Some(problem @ crate::error::DatabaseProblem::Login) => CoreError::DatabaseUnavailable {
            problem,
            message: format!(
                "The database server at {shown} refused the login: check the user name, the password and the database name ({error})."
            ),
        },
        Some(problem) => CoreError::DatabaseUnavailable {
            problem,
            message: format!(
                "The shop database at {shown} cannot be reached: check that the server is on and the address is right ({error})."
            ),
        },
        None => CoreError::Database(error),
    }
}

/// Connects to `database`, checks it is empty or a shop this Shopcast can open, and counts its
/// products; writes nothing (Settings → Shop database: "Test connection").
pub async fn probe(
    data_dir: &Path,
    database: &Database,
) -> Result<crate::infra::location::DatabaseCheck> {
    install_drivers();
    let pool = match database {
        Database::File(_) => open_database(data_dir, database).await?.0,
        Database::Server(url) => {
            let options: AnyConnectOptions = url
                .parse()
                .map_err(|e: sqlx::Error| CoreError::invalid("database", e.to_string()))?;
            AnyPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await
                .map_err(|e| unavailable(database, e))?
        }
    };
    let migrator = match database.backend() {
        Backend::Sqlite => &SQLITE_MIGRATOR,
        Backend::Postgres => &POSTGRES_MIGRATOR,
    };
    let outcome = async {
        let empty = check_schema(&pool, database, migrator).await?;
        let products = if empty {
            None
        } else {
            Some(
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM products")
                    .fetch_one(&pool)
                    .await?,
            )
        };
        Ok(crate::infra::location::DatabaseCheck {
            address: database.display(),
            empty,
            products,
        })
    }
    .await;
    pool.close().await;
    outcome
}

/// Refuses a database that holds someone else's tables, or a shop upgraded by a newer
/// Shopcast (one of its migrations is unknown here), before anything is written to it.
/// Whether it is empty.
async fn check_schema(pool: &AnyPool, database: &Database, migrator: &Migrator) -> Result<bool> {
    let tables_sql = match database.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
             WHERE table_schema = current_schema()"
        }
    };
    let tables: Vec<String> = sqlx::query_scalar(tables_sql)
        .fetch_all(pool)
        .await
        .map_err(|e| unavailable(database, e))?;
    let shown = database.display();
    if tables.is_empty() {
        return Ok(true); // a new, empty database: it becomes the shop's
    }
    if !tables.iter().any(|t| t == "_sqlx_migrations") {
        return Err(CoreError::DatabaseUnavailable {
            problem: crate::error::DatabaseProblem::NotShopcast,
            message: format!(
                "{shown} is not a Shopcast shop: it already holds other tables ({}). Choose an empty database or a shop's.",
                tables
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
        .fetch_all(pool)
        .await?;
    if let Some(unknown) = applied
        .iter()
        .find(|v| !migrator.iter().any(|m| m.version == **v))
    {
        return Err(CoreError::DatabaseUnavailable {
            problem: crate::error::DatabaseProblem::Newer,
            message: format!(
                "The shop at {shown} was upgraded by a newer Shopcast (schema step {unknown}). Update this app to use it."
            ),
        });
    }
    Ok(false)
}

/// Versions of the SQLite migrations compiled into this binary, for diagnostics and tests.
pub fn known_migrations() -> impl Iterator<Item = i64> {
    SQLITE_MIGRATOR.iter().map(|m| m.version)
}

/// Versions of the PostgreSQL migrations compiled into this binary.
pub fn known_postgres_migrations() -> impl Iterator<Item = i64> {
    POSTGRES_MIGRATOR.iter().map(|m| m.version)
}

async fn backup_if_migration_pending(
    pool: &AnyPool,
    file: &Path,
    data_dir: &Path,
) -> Result<Option<PathBuf>> {
    let has_history: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(pool)
    .await?;
    if has_history == 0 {
        return Ok(None); // a new, empty file: nothing to lose
    }
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
            .fetch_all(pool)
            .await?;
    let Some(pending) = SQLITE_MIGRATOR
        .iter()
        .map(|m| m.version)
        .find(|v| !applied.contains(v))
    else {
        return Ok(None);
    };
    let dir = match file.parent() {
        Some(parent) if parent != data_dir && !parent.as_os_str().is_empty() => {
            parent.join(BACKUP_DIR)
        }
        _ => data_dir.join(BACKUP_DIR),
    };
    std::fs::create_dir_all(&dir).map_err(|e| CoreError::io("create", &dir, e))?;
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ");
    let target = dir.join(format!("shopcast-{stamp}-before-{pending:04}.sqlite"));
    // VACUUM INTO writes a consistent copy while the file stays open (an online backup).
    sqlx::query("VACUUM INTO $1")
        .bind(target.to_string_lossy().into_owned())
        .execute(pool)
        .await?;
    tracing::info!(backup = %target.display(), pending, "backed up the shop file before migrating");
    Ok(Some(target))
}
