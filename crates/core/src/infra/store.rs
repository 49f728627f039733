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
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            POSTGRES_MIGRATOR.run(&pool).await?;
            Ok((pool, None))
        }
    }
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
