//! Headless subcommands: the same engine calls as the window, for scripts and accountants.
//! Results go to stdout; a one-line reason goes to stderr with a non-zero exit code.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shopcast_core::{CoreError, ProductQuery, Shop};

use crate::{commands, logging};

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

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage the product catalog.
    #[command(subcommand)]
    Products(ProductsCommand),
    /// Read or change shop settings (shop.name, shop.currency, shop.timezone, shop.locale, shop.buy_link_base).
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Print the exact payload of a QR code: a link or a static payment standard.
    Qr(crate::cli_qr::QrArgs),
    /// Print signage (label sheets, shelf cards, table tents) as a PDF.
    Signage(SignageArgs),
    /// Connect payment providers (Stripe, Alipay) and see which are set up.
    #[command(subcommand)]
    Providers(crate::cli_payments::ProvidersCommand),
    /// Watch payments come in, or list them.
    #[command(subcommand)]
    Payments(crate::cli_payments::PaymentsCommand),
    /// Connect microblog accounts (Bluesky, Mastodon) and list them.
    #[command(subcommand)]
    Accounts(crate::cli_posts::AccountsCommand),
    /// Post a product to one or more accounts, now or at a local time.
    Post(crate::cli_posts::PostArgs),
    /// List posts, or send the ones that are due.
    #[command(subcommand)]
    Posts(crate::cli_posts::PostsCommand),
    /// Export sales for a period as CSV or a PDF report.
    Export(crate::cli_export::ExportArgs),
    /// Developer tasks.
    #[command(subcommand, hide = true)]
    Dev(DevCommand),
}

#[derive(Debug, Subcommand)]
pub enum ProductsCommand {
    /// Import a catalog CSV (sku,name,description,price,currency,stock,tags).
    Import {
        file: PathBuf,
        /// Import the valid rows even if some rows are invalid.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Export the whole catalog as CSV.
    Export { file: PathBuf },
    /// List products.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// Only products matching this search.
        #[arg(long)]
        search: Option<String>,
        /// Include archived products.
        #[arg(long)]
        archived: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Print one setting, or all of them without KEY.
    Get { key: Option<String> },
    /// Change one setting.
    Set { key: String, value: String },
}

#[derive(Debug, clap::Args)]
pub struct SignageArgs {
    /// List the templates and exit.
    #[arg(long, exclusive = true)]
    list: bool,
    /// Template name (see --list), e.g. a4-3x8.
    #[arg(long, required_unless_present = "list")]
    template: Option<String>,
    /// Every product that is not archived.
    #[arg(long, conflicts_with = "sku", required_unless_present_any = ["list", "sku"])]
    all: bool,
    /// Only these products, by SKU (comma-separated).
    #[arg(long, value_delimiter = ',')]
    sku: Vec<String>,
    /// Copies of each sign.
    #[arg(long, default_value_t = 1)]
    copies: u32,
    /// Call to action printed under the price, e.g. "Scan to buy".
    #[arg(long)]
    cta: Option<String>,
    /// Where to write the PDF.
    #[arg(long, required_unless_present = "list")]
    out: Option<PathBuf>,
    /// With --template custom: paper size, a4 or letter.
    #[arg(long, default_value = "a4", value_parser = ["a4", "letter"])]
    paper: String,
    /// With --template custom: columns x rows, e.g. 5x13.
    #[arg(long, value_parser = parse_pair, value_name = "COLSxROWS")]
    grid: Option<(f32, f32)>,
    /// With --template custom: label width x height in mm, e.g. 38.1x21.2.
    #[arg(long, value_parser = parse_pair, value_name = "WxH")]
    label: Option<(f32, f32)>,
    /// With --template custom: left,top page margins in mm (default: centred).
    #[arg(long, value_parser = parse_pair, value_name = "LEFT,TOP")]
    margins: Option<(f32, f32)>,
    /// With --template custom: horizontal,vertical gaps between labels in mm.
    #[arg(long, value_parser = parse_pair, value_name = "X,Y")]
    gaps: Option<(f32, f32)>,
}

/// "5x13", "38.1x21.2" or "7,10.5" → a pair of numbers.
fn parse_pair(text: &str) -> Result<(f32, f32), String> {
    let (a, b) = text
        .split_once(['x', 'X', ','])
        .ok_or_else(|| format!("“{text}” should be two numbers such as 5x13 or 7,10"))?;
    let number = |v: &str| {
        v.trim()
            .parse::<f32>()
            .map_err(|_| format!("“{v}” is not a number"))
    };
    Ok((number(a)?, number(b)?))
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Regenerate ui/src/lib/bindings.ts from the Rust commands.
    Bindings {
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Errors of a headless run: what went wrong, in one line.
pub(crate) struct Failure(pub(crate) String);

/// A secret for a headless command: from the environment variable `env`, else the first line
/// of stdin (never a flag, which would end up in the shell history).
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
        .map_err(|e| Failure(format!("cannot read the {what} from stdin: {e}")))?;
    let value = input.lines().next().unwrap_or("").trim().to_string();
    if value.is_empty() {
        return Err(Failure(format!("no {what}: set {env} or pipe it on stdin")));
    }
    Ok(value)
}

impl From<CoreError> for Failure {
    fn from(error: CoreError) -> Self {
        Failure(error.to_string())
    }
}

pub fn run(command: Command, data_dir: &Path) -> ExitCode {
    logging::to_stderr();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let outcome = runtime.block_on(async {
        if let Command::Dev(DevCommand::Bindings { out }) = &command {
            let path = out
                .clone()
                .unwrap_or_else(|| PathBuf::from(commands::BINDINGS_PATH));
            return commands::export_bindings(&path).map_err(Failure);
        }
        if let Command::Qr(qr) = command {
            return print_payload(qr);
        }
        if let Command::Signage(SignageArgs { list: true, .. }) = command {
            println!("{}", shopcast_core::signage::templates().join("\n"));
            return Ok(());
        }
        let shop = Shop::open(data_dir).await?;
        let result = match command {
            Command::Products(products) => run_products(&shop, products).await,
            Command::Settings(settings) => run_settings(&shop, settings).await,
            Command::Signage(args) => run_signage(&shop, args).await,
            Command::Providers(command) => crate::cli_payments::run_providers(&shop, command).await,
            Command::Payments(command) => crate::cli_payments::run_payments(&shop, command).await,
            Command::Export(args) => crate::cli_export::run(&shop, args).await,
            Command::Accounts(command) => crate::cli_posts::run_accounts(&shop, command).await,
            Command::Post(args) => crate::cli_posts::run_post(&shop, args).await,
            Command::Posts(command) => crate::cli_posts::run_posts(&shop, command).await,
            Command::Dev(_) | Command::Qr(_) => unreachable!("handled above"),
        };
        shop.close().await;
        result
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(reason)) => {
            eprintln!("shopcast: {}", reason.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

/// Writes the payload bytes exactly (ISO-8859-1 stays ISO-8859-1); a newline only for a
/// person reading a terminal.
fn print_payload(args: crate::cli_qr::QrArgs) -> Result<(), Failure> {
    use shopcast_core::qr_payload;
    use std::io::{IsTerminal, Write};
    let payload = qr_payload::build(&args.kind.into_request())?;
    let write_image = |path: &Path, bytes: &[u8]| {
        std::fs::write(path, bytes)
            .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))
    };
    if let Some(path) = &args.png {
        write_image(path, &qr_payload::png(&payload, args.size)?)?;
    }
    if let Some(path) = &args.svg {
        write_image(path, qr_payload::svg(&payload)?.as_bytes())?;
    }
    let mut out = std::io::stdout().lock();
    let write = |out: &mut std::io::StdoutLock| -> std::io::Result<()> {
        out.write_all(&payload)?;
        if out.is_terminal() {
            out.write_all(b"\n")?;
        }
        out.flush()
    };
    write(&mut out).map_err(|e| Failure(format!("cannot write the payload: {e}")))
}

async fn run_products(shop: &Shop, command: ProductsCommand) -> Result<(), Failure> {
    match command {
        ProductsCommand::Import { file, skip_invalid } => {
            let report = shop.import_catalog(&file, skip_invalid).await?;
            for error in &report.errors {
                let field = error
                    .field
                    .as_deref()
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default();
                eprintln!(
                    "{}:{}{field}: {}",
                    file.display(),
                    error.line,
                    error.message
                );
            }
            if !report.applied {
                return Err(Failure(format!(
                    "nothing imported: {} invalid row(s); fix them or pass --skip-invalid to import the valid rows",
                    report.errors.len()
                )));
            }
            println!(
                "imported {} new, {} updated, {} skipped",
                report.created, report.updated, report.skipped
            );
        }
        ProductsCommand::Export { file } => {
            let report = shop.export_catalog(&file).await?;
            println!("exported {} products to {}", report.rows, report.path);
        }
        ProductsCommand::List {
            json,
            search,
            archived,
        } => {
            let mut query = ProductQuery {
                search,
                include_archived: archived,
                offset: 0,
                limit: 500,
            };
            let mut all = Vec::new();
            loop {
                let page = shop.list_products(&query).await?;
                let done = page.items.len() < query.limit as usize;
                all.extend(page.items);
                if done {
                    break;
                }
                query.offset += query.limit;
            }
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&all).expect("products serialize")
                );
            } else {
                for p in all {
                    let stock = p.stock.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
                    let archived = if p.archived { "\tarchived" } else { "" };
                    println!(
                        "{}\t{}\t{}\t{} {}\t{stock}{archived}",
                        p.id,
                        p.sku.as_deref().unwrap_or("-"),
                        p.name.replace(['\n', '\t'], " "),
                        p.price.to_decimal_string(),
                        p.price.currency
                    );
                }
            }
        }
    }
    Ok(())
}

async fn run_signage(shop: &Shop, args: SignageArgs) -> Result<(), Failure> {
    use shopcast_core::signage::{CustomGrid, Paper, Selection, SignageRequest};
    let selection = if args.all {
        Selection::All
    } else {
        Selection::Skus(args.sku)
    };
    let custom_grid = match (args.grid, args.label) {
        (Some((columns, rows)), Some((label_width_mm, label_height_mm))) => Some(CustomGrid {
            paper: if args.paper.eq_ignore_ascii_case("letter") {
                Paper::Letter
            } else {
                Paper::A4
            },
            columns: columns as u32,
            rows: rows as u32,
            label_width_mm,
            label_height_mm,
            margin_left_mm: args.margins.map(|m| m.0),
            margin_top_mm: args.margins.map(|m| m.1),
            gap_x_mm: args.gaps.map_or(0.0, |g| g.0),
            gap_y_mm: args.gaps.map_or(0.0, |g| g.1),
        }),
        _ => None,
    };
    let request = SignageRequest {
        selection,
        template: args.template.unwrap_or_default(),
        custom_grid,
        copies: args.copies,
        call_to_action: args.cta,
    };
    let out = args.out.expect("clap requires --out");
    let report = shop.print_signage(&request, &out).await?;
    println!(
        "printed {} sign(s) × {} as batch {} to {} ({} KB)",
        report.signs,
        report.copies,
        report.batch_id,
        report.path,
        report.bytes.div_ceil(1024)
    );
    Ok(())
}

async fn run_settings(shop: &Shop, command: SettingsCommand) -> Result<(), Failure> {
    match command {
        SettingsCommand::Get { key: Some(key) } => {
            println!("{}", shop.settings().await?.get(&key)?)
        }
        SettingsCommand::Get { key: None } => {
            let settings = shop.settings().await?;
            for key in shopcast_core::settings::KEYS {
                println!("{key}={}", settings.get(key)?);
            }
        }
        SettingsCommand::Set { key, value } => {
            let settings = shop.set_setting(&key, &value).await?;
            println!("{key}={}", settings.get(&key)?);
        }
    }
    Ok(())
}
