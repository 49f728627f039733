//! `shopcast export`: the sales report as CSV or PDF, for owners and accountants to schedule.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::{Args, ValueEnum};
use shopcast_core::Shop;
use shopcast_core::reports::{CsvOptions, ReportFilter, ReportFormat};

use crate::cli::Failure;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Pdf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// First local day, e.g. 2026-11-01.
    #[arg(long)]
    from: String,
    /// Last local day (included), e.g. 2026-11-30.
    #[arg(long)]
    to: String,
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// CSV with a byte-order mark so Excel reads Chinese correctly.
    #[arg(long)]
    excel: bool,
    /// Include test-mode payments (marked test=yes).
    #[arg(long)]
    include_test: bool,
    #[arg(long)]
    provider: Option<String>,
    /// till, signage, post, link or share.
    #[arg(long)]
    channel: Option<String>,
    /// paid or refunded (default: both).
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    sku: Option<String>,
    /// Only sales rung up at this till (its name).
    #[arg(long, value_name = "NAME")]
    till: Option<String>,
}

pub async fn run(shop: &Shop, args: ExportArgs) -> Result<(), Failure> {
    let filter = ReportFilter {
        from: args.from,
        to: args.to,
        provider: args.provider,
        sku: args.sku,
        channel: args.channel,
        status: args.status,
        include_test: args.include_test,
        till: args.till,
    };
    let format = match args.format {
        Format::Csv => ReportFormat::Csv,
        Format::Pdf => ReportFormat::Pdf,
    };
    let options = CsvOptions { excel: args.excel };
    let cancel = Arc::new(AtomicBool::new(false));
    let outcome = shop
        .export_report(&filter, format, options, &args.out, cancel, |_| {})
        .await?;
    println!(
        "{} sales written to {} ({} bytes)",
        outcome.rows,
        args.out.display(),
        outcome.bytes
    );
    Ok(())
}
