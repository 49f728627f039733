//! Where a report reads its rows: the shop file through a read-only SQLite connection of its
//! own, or the PostgreSQL server through the shop's pool; streamed row by row on both.

use std::path::PathBuf;

use futures_util::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use crate::error::{CoreError, Result};

/// The database a report reads. Reports run on a blocking thread: a server's rows are
/// awaited on `runtime` from there, one at a time, so memory stays flat however long the year.
#[derive(Debug, Clone)]
pub enum ReportSource {
    File(PathBuf),
    Server {
        pool: AnyPool,
        runtime: tokio::runtime::Handle,
    },
}

/// A value bound to a report query.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
}

/// One row of a report query, from either backend.
pub(crate) enum Row<'a> {
    File(&'a rusqlite::Row<'a>),
    Server(&'a AnyRow),
}

impl Row<'_> {
    pub(crate) fn int(&self, index: usize) -> Result<i64> {
        self.opt_int(index)?
            .ok_or_else(|| CoreError::Report(format!("column {index} is empty")))
    }

    pub(crate) fn opt_int(&self, index: usize) -> Result<Option<i64>> {
        match self {
            Row::File(row) => row.get(index).map_err(report_db),
            Row::Server(row) => row.try_get(index).map_err(server_db),
        }
    }

    /// A text cell without copying it (`None` for NULL or a cell that is not text).
    pub(crate) fn text(&self, index: usize) -> Result<Option<&str>> {
        match self {
            Row::File(row) => match row.get_ref(index).map_err(report_db)? {
                rusqlite::types::ValueRef::Text(bytes) => Ok(std::str::from_utf8(bytes).ok()),
                _ => Ok(None),
            },
            Row::Server(row) => row.try_get(index).map_err(server_db),
        }
    }

    pub(crate) fn string(&self, index: usize) -> Result<Option<String>> {
        Ok(self.text(index)?.map(str::to_string))
    }
}

/// An open [`ReportSource`]: the file's read-only connection, kept for every query of one
/// report, or the server's pool.
pub(crate) enum Reader {
    File(rusqlite::Connection),
    Server {
        pool: AnyPool,
        runtime: tokio::runtime::Handle,
    },
}

impl ReportSource {
    pub(crate) fn open(&self) -> Result<Reader> {
        Ok(match self {
            ReportSource::File(path) => Reader::File(
                rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(report_db)?,
            ),
            ReportSource::Server { pool, runtime } => Reader::Server {
                pool: pool.clone(),
                runtime: runtime.clone(),
            },
        })
    }
}

impl Reader {
    /// Runs `sql` (placeholders `$1`…, read by both backends) and hands each row to `visit`.
    pub(crate) fn each_row(
        &self,
        sql: &str,
        params: &[Param],
        mut visit: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        match self {
            Reader::File(conn) => {
                let mut statement = conn.prepare_cached(sql).map_err(report_db)?;
                let values = params.iter().map(|p| match p {
                    Param::Int(n) => rusqlite::types::Value::Integer(*n),
                    Param::Text(t) => rusqlite::types::Value::Text(t.clone()),
                });
                let mut rows = statement
                    .query(rusqlite::params_from_iter(values))
                    .map_err(report_db)?;
                while let Some(row) = rows.next().map_err(report_db)? {
                    visit(&Row::File(row))?;
                }
                Ok(())
            }
            Reader::Server { pool, runtime } => runtime.block_on(async {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for param in params {
                    query = match param {
                        Param::Int(n) => query.bind(*n),
                        Param::Text(t) => query.bind(t.clone()),
                    };
                }
                let mut rows = query.fetch(pool);
                while let Some(row) = rows.try_next().await.map_err(server_db)? {
                    visit(&Row::Server(&row))?;
                }
                Ok(())
            }),
        }
    }

    pub(crate) fn backend(&self) -> crate::infra::store::Backend {
        match self {
            Reader::File(_) => crate::infra::store::Backend::Sqlite,
            Reader::Server { .. } => crate::infra::store::Backend::Postgres,
        }
    }
}

fn report_db(error: rusqlite::Error) -> CoreError {
    CoreError::Report(error.to_string())
}

fn server_db(error: sqlx::Error) -> CoreError {
    CoreError::Report(error.to_string())
}
