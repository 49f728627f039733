//! `shopcast qr KIND …`: prints the exact payload a QR code would carry, with field names
//! taken from each standard's own terms.

use clap::{Args, Subcommand};
use shopcast_core::qr_payload::QrPayloadRequest;

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
