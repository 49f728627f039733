//! `shopcast taxes` and `shopcast till`: the shop's tax rates, and the till's day (open with
//! a float, X report, close with the counted cash and the Z report as PDF).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use shopcast_core::Shop;
use shopcast_core::reports::money;
use shopcast_core::till::day::TillReport;

use super::Failure;

#[derive(Debug, Subcommand)]
pub enum TaxesCommand {
    /// Add a tax rate: NAME ("VAT 19 %", "增值税 13 %") and PERCENT (19, 8.875).
    Add {
        name: String,
        percent: String,
        /// Make it the rate of products without their own.
        #[arg(long)]
        default: bool,
    },
    /// List the tax rates.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Make the rate called NAME the shop's default.
    Default { name: String },
}

pub(crate) async fn run_taxes(shop: &Shop, command: TaxesCommand) -> Result<(), Failure> {
    match command {
        TaxesCommand::Add {
            name,
            percent,
            default,
        } => {
            let rate = shop.add_tax_rate(&name, &percent, default).await?;
            println!(
                "added {} ({} %){}",
                rate.name,
                rate.percent,
                if rate.is_default { ", the default" } else { "" }
            );
        }
        TaxesCommand::List { json } => {
            let rates = shop.tax_rates().await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&rates).expect("rates serialize")
                );
            } else {
                for rate in rates {
                    println!(
                        "{}\t{}\t{}",
                        rate.name,
                        rate.percent,
                        if rate.is_default { "default" } else { "" }
                    );
                }
            }
        }
        TaxesCommand::Default { name } => {
            let rate = shop.set_default_tax_rate(&name).await?;
            println!("{} ({} %) is the default", rate.name, rate.percent);
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum TillCommand {
    /// Open the till's day with the cash in the drawer (--float 200).
    Open {
        #[arg(long, value_name = "AMOUNT")]
        float: String,
        /// Which till ("Till 2"); the till without a name when left out.
        #[arg(long, value_name = "NAME")]
        till: Option<String>,
    },
    /// Close the day with the cash counted; prints the Z report and writes it as PDF (--out).
    Close {
        #[arg(long, value_name = "AMOUNT")]
        counted: String,
        #[arg(long, value_name = "NAME")]
        till: Option<String>,
        #[command(flatten)]
        output: ReportOutput,
    },
    /// The open day so far (--x; writes nothing), or a closed day's Z report again (--z ID).
    Report {
        #[arg(long, conflicts_with = "z")]
        x: bool,
        #[arg(long, value_name = "ID")]
        z: Option<i64>,
        #[arg(long, value_name = "NAME")]
        till: Option<String>,
        #[command(flatten)]
        output: ReportOutput,
    },
    /// The till's days, newest first.
    Days {
        #[arg(long, value_name = "NAME")]
        till: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// How a report is shown: as text or JSON on stdout, and as a PDF.
#[derive(Debug, Args)]
pub struct ReportOutput {
    /// Where to write the report as PDF.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Paper of the PDF: 58mm, 80mm or a4 (the receipt paper when left out).
    #[arg(long)]
    paper: Option<String>,
    /// One JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub(crate) async fn run_till(shop: &Shop, command: TillCommand) -> Result<(), Failure> {
    let locale = shop.settings().await?.locale;
    match command {
        TillCommand::Open { float, till } => {
            let day = shop.open_till(till.as_deref(), &float).await?;
            println!(
                "opened day {} at {} with a float of {}",
                day.id,
                day.opened_at,
                money(day.float_minor, &day.currency, &locale)
            );
        }
        TillCommand::Close {
            counted,
            till,
            output,
        } => {
            let report = shop.close_till(till.as_deref(), &counted).await?;
            show(shop, &report, &locale, &output).await?;
        }
        TillCommand::Report { x, z, till, output } => {
            let report = match (x, z) {
                (_, Some(id)) => shop.z_report(id).await?,
                (true, None) => shop.till_report(till.as_deref()).await?,
                (false, None) => {
                    return Err(Failure::usage(
                        "say which report: --x for the open day so far, or --z ID for a closed day",
                    ));
                }
            };
            show(shop, &report, &locale, &output).await?;
        }
        TillCommand::Days { till, json } => {
            let days = shop.till_days(till.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string(&days).expect("days serialize"));
            } else {
                for day in days {
                    println!(
                        "{}\t{}\t{}\t{}",
                        day.id,
                        day.opened_at,
                        day.closed_at.as_deref().unwrap_or("open"),
                        money(day.float_minor, &day.currency, &locale)
                    );
                }
            }
        }
    }
    Ok(())
}

/// The report as lines of `label<TAB>amount` (or one JSON object), and as a PDF to `out`.
async fn show(
    shop: &Shop,
    report: &TillReport,
    locale: &str,
    output: &ReportOutput,
) -> Result<(), Failure> {
    if output.json {
        println!(
            "{}",
            serde_json::to_string(report).expect("reports serialize")
        );
    } else {
        for (heading, rows) in shopcast_core::till::day::report_sections(report, locale) {
            println!("# {heading}");
            for (label, amount) in rows {
                println!("{label}\t{amount}");
            }
        }
    }
    if let Some(out) = &output.out {
        let pdf = shop
            .till_report_pdf(report, output.paper.as_deref())
            .await?;
        shopcast_core::infra::write_file_atomically(out, &pdf)?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}
