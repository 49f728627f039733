//! Where a report reads its rows: the shop file through a read-only SQLite connection of its
//! own, or the PostgreSQL server through a native connection of its own; streamed on both.

use std::cell::RefCell;
use std::path::PathBuf;

use futures_util::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{AnyPool, ConnectOptions as _, Row as _};

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
    Server(&'a PgRow),
}

/// Rows handed from the server's reader task to the report in one go: few wake-ups per
/// million rows, and a bounded channel of them keeps memory flat.
const SERVER_BATCH: usize = 1024;
const SERVER_BATCHES_AHEAD: usize = 8;

impl Row<'_> {
    pub(crate) fn int(&self, index: usize) -> Result<i64> {
        self.opt_int(index)?
            .ok_or_else(|| CoreError::Report(format!("column {index} is empty")))
    }

    pub(crate) fn opt_int(&self, index: usize) -> Result<Option<i64>> {
        match self {
            Row::File(row) => row.get(index).map_err(report_db),
            // Unchecked: the report's own queries fix each column's type; a wrong one still
            // fails to decode rather than misreading.
            Row::Server(row) => row.try_get_unchecked(index).map_err(server_db),
        }
    }

    /// A text cell without copying it (`None` for NULL or a cell that is not text).
    pub(crate) fn text(&self, index: usize) -> Result<Option<&str>> {
        match self {
            Row::File(row) => match row.get_ref(index).map_err(report_db)? {
                rusqlite::types::ValueRef::Text(bytes) => Ok(std::str::from_utf8(bytes).ok()),
                _ => Ok(None),
            },
            Row::Server(row) => row.try_get_unchecked(index).map_err(server_db),
        }
    }

    pub(crate) fn string(&self, index: usize) -> Result<Option<String>> {
        Ok(self.text(index)?.map(str::to_string))
    }
}

/// An open [`ReportSource`]: the file's read-only connection, kept for every query of one
/// report, or a native PostgreSQL connection (opened at the first query, kept for the rest).
/// The shop's Any pool converts every cell into an owned value; the native rows are decoded
/// in place, which is most of a million-row export's time.
pub(crate) enum Reader {
    File(rusqlite::Connection),
    Server {
        options: Box<PgConnectOptions>,
        runtime: tokio::runtime::Handle,
        connection: RefCell<Option<PgConnection>>,
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
                options: Box::new(server_options(pool)?),
                runtime: runtime.clone(),
                connection: RefCell::new(None),
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
            Reader::Server {
                options,
                runtime,
                connection,
            } => {
                let taken = connection.borrow_mut().take();
                let conn = match taken {
                    Some(conn) => conn,
                    None => runtime.block_on(options.connect()).map_err(server_db)?,
                };
                // The server's rows are read on the runtime while this thread formats them:
                // the two overlap instead of taking turns.
                let (sender, mut receiver) = tokio::sync::mpsc::channel::<
                    std::result::Result<Vec<PgRow>, sqlx::Error>,
                >(SERVER_BATCHES_AHEAD);
                let sql = sql.to_string();
                let params = params.to_vec();
                let reading = runtime.spawn(async move {
                    let mut conn = conn;
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for param in params {
                        query = match param {
                            Param::Int(n) => query.bind(n),
                            Param::Text(t) => query.bind(t),
                        };
                    }
                    let mut complete = true;
                    {
                        let mut rows = query.fetch(&mut conn);
                        let mut batch = Vec::with_capacity(SERVER_BATCH);
                        loop {
                            match rows.try_next().await {
                                Ok(Some(row)) => {
                                    batch.push(row);
                                    if batch.len() == SERVER_BATCH {
                                        let full = std::mem::replace(
                                            &mut batch,
                                            Vec::with_capacity(SERVER_BATCH),
                                        );
                                        if sender.send(Ok(full)).await.is_err() {
                                            // The report stopped (cancelled or failed).
                                            complete = false;
                                            break;
                                        }
                                    }
                                }
                                Ok(None) => {
                                    if !batch.is_empty() {
                                        complete = sender.send(Ok(batch)).await.is_ok();
                                    }
                                    break;
                                }
                                Err(error) => {
                                    let _ = sender.send(Err(error)).await;
                                    complete = false;
                                    break;
                                }
                            }
                        }
                    }
                    // A connection left mid-query is not reused.
                    complete.then_some(conn)
                });
                let mut outcome = Ok(());
                'batches: while let Some(batch) = receiver.blocking_recv() {
                    match batch {
                        Ok(rows) => {
                            for row in &rows {
                                if let Err(error) = visit(&Row::Server(row)) {
                                    outcome = Err(error);
                                    break 'batches;
                                }
                            }
                        }
                        Err(error) => {
                            outcome = Err(server_db(error));
                            break;
                        }
                    }
                }
                drop(receiver);
                if let Ok(Some(conn)) = runtime.block_on(reading)
                    && outcome.is_ok()
                {
                    *connection.borrow_mut() = Some(conn);
                }
                outcome
            }
        }
    }

    pub(crate) fn backend(&self) -> crate::infra::store::Backend {
        match self {
            Reader::File(_) => crate::infra::store::Backend::Sqlite,
            Reader::Server { .. } => crate::infra::store::Backend::Postgres,
        }
    }
}

/// The shop's server, as a native PostgreSQL address (the pool's own URL).
fn server_options(pool: &AnyPool) -> Result<PgConnectOptions> {
    let url = pool.connect_options().database_url.clone();
    PgConnectOptions::from_url(&url)
        .map(|options| options.disable_statement_logging())
        .map_err(server_db)
}

fn report_db(error: rusqlite::Error) -> CoreError {
    CoreError::Report(error.to_string())
}

fn server_db(error: sqlx::Error) -> CoreError {
    CoreError::Report(error.to_string())
}
