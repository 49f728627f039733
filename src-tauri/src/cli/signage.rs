//! `shopcast signage` prints label sheets, shelf cards and table tents; `shopcast qr KIND …`
//! prints the exact payload a QR code would carry, with each standard's own field names.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use shopcast_core::Shop;

use super::Failure;
use shopcast_core::signage::payload::QrPayloadRequest;

#[derive(Debug, Args)]
pub struct QrArgs {
    #[command(subcommand)]
    pub kind: QrKind,
    /// Also write the QR code as a PNG image.
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "svg")]
    pub png: Option<std::path::PathBuf>,
    /// Size of the PNG in pixels (quiet zone included).
    #[arg(long, global = true, default_value_t = 512, value_name = "PX")]
    pub size: u32,
    /// Also write the QR code as an SVG (vector) image.
    #[arg(long, global = true, value_name = "FILE")]
    pub svg: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum QrKind {
    /// Any link (a shop page, a Taobao, Shopify or Stripe Payment Link).
    Url {
        #[arg(long)]
        url: String,
    },
    /// EPC069-12 SEPA credit transfer ("GiroCode"), EUR.
    Epc {
        /// Beneficiary name.
        #[arg(long)]
        name: String,
        #[arg(long)]
        iban: String,
        #[arg(long)]
        bic: Option<String>,
        /// Amount in euro, e.g. 12.50 (none: the payer types it).
        #[arg(long)]
        amount: Option<String>,
        /// Structured creditor reference (RF…).
        #[arg(long, conflicts_with = "text")]
        reference: Option<String>,
        /// Unstructured remittance text.
        #[arg(long)]
        text: Option<String>,
        /// Purpose code (4 letters).
        #[arg(long)]
        purpose: Option<String>,
        /// Beneficiary-to-originator information.
        #[arg(long)]
        information: Option<String>,
        /// Character set 2 (ISO-8859-1) instead of 1 (UTF-8).
        #[arg(long)]
        latin1: bool,
    },
    /// EMVCo merchant-presented QR with one merchant account template.
    Emvco {
        /// Merchant name (59).
        #[arg(long)]
        name: String,
        /// Merchant city (60).
        #[arg(long)]
        city: String,
        /// Country code (58), ISO 3166-1 alpha-2.
        #[arg(long)]
        country: String,
        /// Transaction currency (53), ISO 4217 code.
        #[arg(long)]
        currency: String,
        /// Merchant category code (52).
        #[arg(long, default_value = "0000")]
        mcc: String,
        /// Transaction amount (54).
        #[arg(long)]
        amount: Option<String>,
        /// Merchant account information template id (26–51).
        #[arg(long, default_value_t = 26)]
        template: u8,
        /// Globally unique identifier of the scheme (template sub-field 00).
        #[arg(long)]
        gui: String,
        /// Template sub-field as ID=VALUE, e.g. --field 01=merchant-id (repeatable).
        #[arg(long = "field", value_parser = parse_field)]
        fields: Vec<(u8, String)>,
        /// Reference label (62-05).
        #[arg(long)]
        reference: Option<String>,
    },
    /// Pix (Brazil), BRL.
    Pix {
        /// Pix key: CPF, CNPJ, e-mail, +55 phone or random key.
        #[arg(long)]
        key: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        city: String,
        #[arg(long)]
        amount: Option<String>,
        #[arg(long)]
        txid: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// UPI (India) payment link, INR.
    Upi {
        /// Payee address (VPA), e.g. shop@bank.
        #[arg(long)]
        vpa: String,
        /// Payee name.
        #[arg(long)]
        name: String,
        #[arg(long)]
        amount: Option<String>,
        /// Transaction note (tn).
        #[arg(long)]
        note: Option<String>,
        /// Transaction reference (tr).
        #[arg(long = "ref")]
        reference: Option<String>,
    },
}

fn parse_field(text: &str) -> Result<(u8, String), String> {
    let (id, value) = text
        .split_once('=')
        .ok_or("expected ID=VALUE, e.g. 01=merchant-id")?;
    let id: u8 = id
        .trim()
        .parse()
        .map_err(|_| format!("“{id}” is not a two-digit sub-field id"))?;
    Ok((id, value.to_string()))
}

impl QrKind {
    pub fn into_request(self) -> QrPayloadRequest {
        match self {
            QrKind::Url { url } => QrPayloadRequest::Url { url },
            QrKind::Epc {
                name,
                iban,
                bic,
                amount,
                reference,
                text,
                purpose,
                information,
                latin1,
            } => QrPayloadRequest::Epc {
                name,
                iban,
                bic,
                amount,
                reference,
                text,
                purpose,
                information,
                latin1,
            },
            QrKind::Emvco {
                name,
                city,
                country,
                currency,
                mcc,
                amount,
                template,
                gui,
                fields,
                reference,
            } => QrPayloadRequest::Emvco {
                name,
                city,
                country,
                currency,
                merchant_category_code: mcc,
                amount,
                template_id: template,
                gui,
                fields,
                reference,
            },
            QrKind::Pix {
                key,
                name,
                city,
                amount,
                txid,
                description,
            } => QrPayloadRequest::Pix {
                key,
                name,
                city,
                amount,
                txid,
                description,
            },
            QrKind::Upi {
                vpa,
                name,
                amount,
                note,
                reference,
            } => QrPayloadRequest::Upi {
                vpa,
                name,
                amount,
                note,
                reference,
            },
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct SignageArgs {
    /// List the templates and exit.
    #[arg(long, exclusive = true)]
    pub(crate) list: bool,
    /// Template name (see --list), e.g. a4-3x8.
    #[arg(long, required_unless_present = "list")]
    pub(crate) template: Option<String>,
    /// Every product that is not archived.
    #[arg(long, conflicts_with = "sku", required_unless_present_any = ["list", "sku"])]
    pub(crate) all: bool,
    /// Only these products, by SKU (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub(crate) sku: Vec<String>,
    /// Copies of each sign.
    #[arg(long, default_value_t = 1)]
    pub(crate) copies: u32,
    /// Call to action printed under the price, e.g. "Scan to buy".
    #[arg(long)]
    pub(crate) cta: Option<String>,
    /// Where to write the PDF.
    #[arg(long, required_unless_present = "list")]
    pub(crate) out: Option<PathBuf>,
    /// With --template custom: paper size, a4 or letter.
    #[arg(long, default_value = "a4", value_parser = ["a4", "letter"])]
    pub(crate) paper: String,
    /// With --template custom: columns x rows, e.g. 5x13.
    #[arg(long, value_parser = parse_pair, value_name = "COLSxROWS")]
    pub(crate) grid: Option<(f32, f32)>,
    /// With --template custom: label width x height in mm, e.g. 38.1x21.2.
    #[arg(long, value_parser = parse_pair, value_name = "WxH")]
    pub(crate) label: Option<(f32, f32)>,
    /// With --template custom: left,top page margins in mm (default: centred).
    #[arg(long, value_parser = parse_pair, value_name = "LEFT,TOP")]
    pub(crate) margins: Option<(f32, f32)>,
    /// With --template custom: horizontal,vertical gaps between labels in mm.
    #[arg(long, value_parser = parse_pair, value_name = "X,Y")]
    pub(crate) gaps: Option<(f32, f32)>,
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

/// Writes the payload bytes exactly (ISO-8859-1 stays ISO-8859-1); a newline only for a
/// person reading a terminal.
pub(crate) fn print_payload(args: QrArgs) -> Result<(), Failure> {
    use shopcast_core::signage::payload as qr_payload;
    use std::io::{IsTerminal, Write};
    let payload = qr_payload::build(&args.kind.into_request())?;
    let write_image = |path: &Path, bytes: &[u8]| {
        std::fs::write(path, bytes)
            .map_err(|e| Failure::io(format!("cannot write {}: {e}", path.display())))
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
    write(&mut out).map_err(|e| Failure::io(format!("cannot write the payload: {e}")))
}

pub(crate) async fn run_signage(shop: &Shop, args: SignageArgs) -> Result<(), Failure> {
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
