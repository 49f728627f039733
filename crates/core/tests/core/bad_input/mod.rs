//! The bad-input corpus: hostile inputs through the real Shop API, each expected to be refused
//! with a clear error (an ErrorCode and a sentence) and to leave the shop file and media as they were.
//!
//! One file per area, each a table of (name, input, expected outcome); every test counts the
//! inputs it tried and fails listing each one that did not give a clear answer.

mod csv;
mod photos;
mod properties;
mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use shopcast_core::{CoreError, ErrorCode, Shop};

/// What a refusal must leave unchanged: every table's row count and content hash, and every
/// file under the shop's folder (media, exports) with its size and hash.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    tables: BTreeMap<String, (i64, String)>,
    files: BTreeMap<PathBuf, String>,
}

pub async fn snapshot(shop: &Shop) -> Snapshot {
    let mut tables = BTreeMap::new();
    let quote = match shop.backend() {
        shopcast_core::Backend::Sqlite => "quote",
        shopcast_core::Backend::Postgres => "quote_nullable",
    };
    for name in crate::shop_tables(shop).await {
        let columns = crate::table_columns(shop, &name).await;
        let row = columns
            .iter()
            .map(|c| format!("{quote}(\"{c}\")"))
            .collect::<Vec<_>>()
            .join("||','||");
        let rows: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {row} FROM \"{name}\"")))
                .fetch_all(shop.pool())
                .await
                .unwrap_or_default();
        let mut hash = Sha256::new();
        for row in &rows {
            hash.update(row.as_bytes());
            hash.update(b"\n");
        }
        tables.insert(name, (rows.len() as i64, hex(&hash.finalize())));
    }
    Snapshot {
        tables,
        files: files_under(shop.data_dir()),
    }
}

/// Every file under `dir` but the shop file itself (its WAL grows with reads too).
fn files_under(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                pending.push(path);
            } else if !name.contains(".sqlite") {
                let bytes = std::fs::read(&path).unwrap_or_default();
                files.insert(path, hex(&Sha256::digest(&bytes)));
            }
        }
    }
    files
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[path = "../../../../payments/tests/support/tally.rs"]
mod shared;

/// One area's tally (see `shared::Tally`), with what the engine adds: its error codes, and
/// whether the shop was left as it was.
pub struct Tally(shared::Tally);

impl Tally {
    pub fn new(area: &'static str) -> Tally {
        Tally(shared::Tally::new(area))
    }

    /// `result` must be an error with code `expected` and a sentence of its own.
    pub fn refused<T: std::fmt::Debug>(
        &mut self,
        name: &str,
        result: Result<T, CoreError>,
        expected: ErrorCode,
    ) {
        let got = shared::got(&result, |e| e.code().as_str());
        self.0.refused(name, got, expected.as_str());
    }

    /// An input whose documented outcome is not an error (stored inert, read exactly…).
    pub fn check(&mut self, name: &str, ok: bool, detail: impl FnOnce() -> String) {
        self.0.check(name, ok, detail);
    }

    /// A further condition on an input already counted.
    pub fn also(&mut self, name: &str, ok: bool, detail: impl FnOnce() -> String) {
        self.0.also(name, ok, detail);
    }

    /// The shop must be exactly as `before` after the input `name`; when it is not, that is
    /// reported and `before` becomes the new state, so the next inputs are judged on their own.
    pub async fn unchanged(&mut self, name: &str, shop: &Shop, before: &mut Snapshot) {
        let after = snapshot(shop).await;
        if &after != before {
            let tables: Vec<&String> = after
                .tables
                .iter()
                .filter(|(t, v)| before.tables.get(*t) != Some(v))
                .map(|(t, _)| t)
                .collect();
            let files: Vec<&PathBuf> = after
                .files
                .keys()
                .chain(before.files.keys())
                .filter(|f| after.files.get(*f) != before.files.get(*f))
                .collect();
            self.0.also(name, false, || {
                format!("the shop changed (tables {tables:?}, files {files:?})")
            });
            *before = after;
        }
    }

    /// Prints the count and fails listing every input without a clear answer.
    pub fn finish(self) -> usize {
        self.0.finish()
    }
}
