//! `shopcast db copy`: move a shop between a SQLite file and a PostgreSQL server (either way),
//! printing what both sides hold, which must match.

use std::path::Path;

use clap::Subcommand;
use shopcast_core::Database;
use shopcast_core::infra::copy::{CopyReport, copy_shop};

use super::Failure;

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy every record of a shop into a new, empty database, then print the rows and money
    /// sums per currency on both sides (they must match).
    Copy {
        /// The shop to copy: sqlite:PATH or postgres://USER@HOST/NAME.
        #[arg(long, value_name = "URL")]
        from: String,
        /// Where to: an empty database, sqlite:PATH or postgres://… (created if missing for a file).
        #[arg(long, value_name = "URL")]
        to: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(data_dir: &Path, command: DbCommand) -> Result<(), Failure> {
    let DbCommand::Copy { from, to, json } = command;
    let from = Database::parse(&from)?;
    let to = Database::parse(&to)?;
    let report = copy_shop(data_dir, &from, &to).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("a report serializes")
        );
    } else {
        print_report(&report);
    }
    if !report.matches() {
        return Err(Failure::new(
            shopcast_core::ErrorCode::Internal,
            "the copy does not hold what the shop holds (see the rows marked ≠); do not use it",
        ));
    }
    Ok(())
}

fn print_report(report: &CopyReport) {
    println!("copied {} → {}", report.from, report.to);
    println!("{:<28} {:>12} {:>12}", "table", "from", "to");
    for table in &report.tables {
        let mark = if table.from == table.to { "" } else { "  ≠" };
        println!(
            "{:<28} {:>12} {:>12}{mark}",
            table.table, table.from, table.to
        );
    }
    println!(
        "{:<28} {:<8} {:>16} {:>16}",
        "money (minor units)", "currency", "from", "to"
    );
    for sum in &report.money {
        let mark = if sum.from == sum.to { "" } else { "  ≠" };
        println!(
            "{:<28} {:<8} {:>16} {:>16}{mark}",
            sum.column, sum.currency, sum.from, sum.to
        );
    }
}
