//! Headless subcommands: the same engine calls as the window, for scripts and accountants.
//! Results go to stdout; a one-line reason goes to stderr with a non-zero exit code.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shopcast_core::{CoreError, ErrorCode, Shop};

use crate::{commands, logging};

mod catalog;
mod db;
mod payments;
mod posting;
mod reports;
mod sell;
mod serve;
mod settings;
mod signage;
mod till;

use catalog::ProductsCommand;
use settings::SettingsCommand;
use signage::SignageArgs;

#[derive(Debug, Parser)]
#[command(
    name = "shopcast",
    version,
    about = "Shopcast: sell from your catalog through posts and QR codes."
)]
pub struct Args {
    /// Folder that holds the shop file (default: $SHOPCAST_DATA_DIR, else the OS app-data dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The shop's database: sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/NAME
    /// (default: $SHOPCAST_DATABASE_URL, else the one chosen in Settings → Shop database, else
    /// the shop file in the data folder). Photos and secrets stay in the data folder.
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage the product catalog.
    #[command(subcommand)]
    Products(ProductsCommand),
    /// Read or change shop settings (shop.*, receipt.*: `shopcast settings get` lists them).
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Print the exact payload of a QR code: a link or a static payment standard.
    Qr(signage::QrArgs),
    /// Print signage (label sheets, shelf cards, table tents) as a PDF.
    Signage(SignageArgs),
    /// Connect payment providers (Stripe, Alipay, WeChat Pay) and see which are set up.
    #[command(subcommand)]
    Providers(payments::ProvidersCommand),
    /// Watch payments come in, or list them.
    #[command(subcommand)]
    Payments(payments::PaymentsCommand),
    /// Ring up a till sale (products by SKU, or an amount) and take it in cash, by QR or by
    /// the customer's payment code.
    Sell(sell::SellArgs),
    /// The shop's tax rates: add one, list them, choose the default.
    #[command(subcommand)]
    Taxes(till::TaxesCommand),
    /// The till's day: open it with a float, X report mid-day, close it with the counted cash (Z report).
    #[command(subcommand)]
    Till(till::TillCommand),
    /// Connect microblog accounts (Bluesky, Mastodon) and list them.
    #[command(subcommand)]
    Accounts(posting::AccountsCommand),
    /// Post a product to one or more accounts, now or at a local time.
    Post(posting::PostArgs),
    /// List posts, or send the ones that are due.
    #[command(subcommand)]
    Posts(posting::PostsCommand),
    /// Export sales for a period as CSV or a PDF report.
    Export(reports::ExportArgs),
    /// Serve the shop page (product pages, Buy, receipts, payment callbacks) until Ctrl-C.
    Serve(serve::ServeArgs),
    /// Move a shop between databases (a SQLite file and a PostgreSQL server).
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Developer tasks.
    #[command(subcommand, hide = true)]
    Dev(DevCommand),
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Regenerate ui/src/lib/bindings.ts from the Rust commands.
    Bindings {
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Why a headless run failed: a code from the engine's vocabulary and one sentence. Printed
/// as `error[code]: sentence` on stderr, or as one JSON object there when `--json` was given.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Failure {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
    pub(crate) field: Option<String>,
}

impl Failure {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// A problem with how the command was called (flags, stdin, files named).
    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure::new(ErrorCode::Validation, message)
    }

    /// A file or stream that could not be read or written.
    pub(crate) fn io(message: impl Into<String>) -> Failure {
        Failure::new(ErrorCode::Io, message)
    }

    fn print(&self, json: bool) {
        if json {
            eprintln!("{}", serde_json::json!({ "error": self }));
        } else {
            eprintln!("error[{}]: {}", self.code, self.message.replace('\n', " "));
        }
    }
}

pub(crate) fn read_secret(env: &str, what: &str) -> Result<String, Failure> {
    use std::io::Read;
    if let Ok(value) = std::env::var(env)
        && !value.trim().is_empty()
    {
        return Ok(value.trim().to_string());
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| Failure::io(format!("cannot read the {what} from stdin: {e}")))?;
    let value = input.lines().next().unwrap_or("").trim().to_string();
    if value.is_empty() {
        return Err(Failure::usage(format!(
            "no {what}: set {env} or pipe it on stdin"
        )));
    }
    Ok(value)
}

/// Waits for Ctrl-C, or SIGTERM from a service manager or `kill`. SIGTERM is taken over
/// when this is called, not when it is first awaited: a server that says it is listening and
/// is stopped a moment later still stops cleanly.
pub(crate) fn stopped() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

impl From<CoreError> for Failure {
    fn from(error: CoreError) -> Self {
        Failure {
            code: error.code(),
            message: error.to_string(),
            field: error.field().map(str::to_string),
        }
    }
}

/// Whether the command was asked for JSON (`--json`): its errors are JSON too.
fn prints_json(command: &Command) -> bool {
    use payments::{PaymentsCommand, ProvidersCommand};
    use posting::{AccountsCommand, PostsCommand};
    matches!(
        command,
        Command::Products(ProductsCommand::List { json: true, .. })
            | Command::Providers(ProvidersCommand::List { json: true, .. })
            | Command::Payments(PaymentsCommand::List { json: true, .. })
            | Command::Accounts(AccountsCommand::List { json: true, .. })
            | Command::Posts(PostsCommand::List { json: true, .. })
            | Command::Sell(sell::SellArgs { json: true, .. })
            | Command::Db(db::DbCommand::Copy { json: true, .. })
            | Command::Taxes(till::TaxesCommand::List { json: true })
            | Command::Till(till::TillCommand::Close {
                output: till::ReportOutput { json: true, .. },
                ..
            })
            | Command::Till(till::TillCommand::Report {
                output: till::ReportOutput { json: true, .. },
                ..
            })
            | Command::Till(till::TillCommand::Days { json: true, .. })
    )
}

pub fn run(command: Command, data_dir: &Path, database: Option<String>) -> ExitCode {
    let json = prints_json(&command);
    logging::to_stderr();
    // The shop page answers many buyers at once: it gets every core, the rest one thread.
    let runtime = if matches!(command, Command::Serve(_)) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    }
    .enable_all()
    .build()
    .expect("tokio runtime");
    let outcome = runtime.block_on(async {
        if let Command::Dev(DevCommand::Bindings { out }) = &command {
            let path = out
                .clone()
                .unwrap_or_else(|| PathBuf::from(commands::BINDINGS_PATH));
            return commands::export_bindings(&path).map_err(Failure::io);
        }
        if let Command::Qr(qr) = command {
            return signage::print_payload(qr);
        }
        if let Command::Signage(SignageArgs { list: true, .. }) = command {
            println!("{}", shopcast_core::signage::templates().join("\n"));
            return Ok(());
        }
        if let Command::Db(command) = command {
            return db::run(data_dir, command).await;
        }
        let database = crate::paths::database(database, data_dir)?;
        let shop = Shop::open_with(data_dir, database).await?;
        let result = match command {
            Command::Products(products) => catalog::run_products(&shop, products).await,
            Command::Settings(settings) => settings::run_settings(&shop, settings).await,
            Command::Signage(args) => signage::run_signage(&shop, args).await,
            Command::Providers(command) => payments::run_providers(&shop, command).await,
            Command::Payments(command) => payments::run_payments(&shop, command).await,
            Command::Sell(args) => sell::run(&shop, args).await,
            Command::Taxes(command) => till::run_taxes(&shop, command).await,
            Command::Till(command) => till::run_till(&shop, command).await,
            Command::Export(args) => reports::run(&shop, args).await,
            Command::Accounts(command) => posting::run_accounts(&shop, command).await,
            Command::Post(args) => posting::run_post(&shop, args).await,
            Command::Posts(command) => posting::run_posts(&shop, command).await,
            Command::Serve(args) => serve::run(&shop, args).await,
            Command::Dev(_) | Command::Qr(_) | Command::Db(_) => unreachable!("handled above"),
        };
        shop.close().await;
        result
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            failure.print(json);
            ExitCode::FAILURE
        }
    }
}
