//! The shop's SQLite file: opening it with the right pragmas, and migrating it after an
//! online backup whenever a migration is pending.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::{CoreError, Result};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

pub const DATABASE_FILE: &str = "shopcast.sqlite";
const BACKUP_DIR: &str = "backups";

/// Opens (creating if needed) the shop database in `data_dir` and brings its schema up to
/// date. Returns the pool and the backup made before migrating, if one was needed.
pub async fn open(data_dir: &Path) -> Result<(SqlitePool, Option<PathBuf>)> {
    std::fs::create_dir_all(data_dir).map_err(|e| CoreError::io("create", data_dir, e))?;
    let path = data_dir.join(DATABASE_FILE);
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await?;
    let backup = backup_if_migration_pending(&pool, data_dir).await?;
    MIGRATOR.run(&pool).await?;
    Ok((pool, backup))
}

/// Versions of the migrations compiled into this binary, for diagnostics and tests.
pub fn known_migrations() -> impl Iterator<Item = i64> {
    MIGRATOR.iter().map(|m| m.version)
}

async fn backup_if_migration_pending(
    pool: &SqlitePool,
    data_dir: &Path,
) -> Result<Option<PathBuf>> {
    let has_history: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await?;
    if !has_history {
        return Ok(None); // a new, empty file: nothing to lose
    }
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?;
    let Some(pending) = MIGRATOR
        .iter()
        .map(|m| m.version)
        .find(|v| !applied.contains(v))
    else {
        return Ok(None);
    };
    let dir = data_dir.join(BACKUP_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| CoreError::io("create", &dir, e))?;
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ");
    let target = dir.join(format!("shopcast-{stamp}-before-{pending:04}.sqlite"));
    // VACUUM INTO writes a consistent copy while the file stays open (an online backup).
    sqlx::query("VACUUM INTO ?")
        .bind(target.to_string_lossy().into_owned())
        .execute(pool)
        .await?;
    tracing::info!(backup = %target.display(), pending, "backed up the shop file before migrating");
    Ok(Some(target))
}
