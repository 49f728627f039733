//! What a QR code says: a link, or a static bank/payment payload spec-exact to its standard
//! (EPC GiroCode, EMVCo merchant-presented, Pix, UPI). Amounts come as typed and are parsed
//! into minor units of the standard's currency; the bytes are built by `shopcast-payments`.

use serde::{Deserialize, Serialize};
use shopcast_payments::static_qr::{emvco, epc, pix, upi};

use crate::error::{CoreError, Result};
use crate::money::parse_price;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum QrPayloadRequest {
    /// Any absolute link: a shop page, a Taobao/Shopify/Stripe Payment Link. Encoded in its
    /// ASCII (percent-encoded) form.
    Url { url: String },
    /// EPC069-12 SEPA credit transfer (always EUR).
    Epc {
        name: String,
        iban: String,
        bic: Option<String>,
        amount: Option<String>,
        /// Structured creditor reference (RF…); exclusive with `text`.
        reference: Option<String>,
        text: Option<String>,
        purpose: Option<String>,
        information: Option<String>,
        /// ISO-8859-1 instead of UTF-8 (character set 2).
        latin1: bool,
    },
    /// Brazil's Pix (BRL).
    Pix {
        key: String,
        name: String,
        city: String,
        amount: Option<String>,
        txid: Option<String>,
        description: Option<String>,
    },
    /// A generic EMVCo merchant-presented code with one merchant account template.
    Emvco {
        name: String,
        city: String,
        /// ISO 3166-1 alpha-2.
        country: String,
        /// ISO 4217 alphabetic code.
        currency: String,
        merchant_category_code: String,
        amount: Option<String>,
        /// Merchant account template id, 26–51.
        template_id: u8,
        /// Globally unique identifier of the scheme (reverse domain, AID or UUID).
        gui: String,
        /// The scheme's own sub-fields: (id, value).
        fields: Vec<(u8, String)>,
        reference: Option<String>,
    },
    /// India's UPI deep link (INR).
    Upi {
        vpa: String,
        name: String,
        amount: Option<String>,
        note: Option<String>,
        reference: Option<String>,
    },
}

fn minor(amount: &Option<String>, currency: &str) -> Result<Option<i64>> {
    amount
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| parse_price(a, currency).map(|m| m.amount_minor))
        .transpose()
}

fn some(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// The exact bytes to encode (ISO-8859-1 for an EPC code in character set 2, else UTF-8).
pub fn build(request: &QrPayloadRequest) -> Result<Vec<u8>> {
    Ok(match request {
        QrPayloadRequest::Url { url } => {
            let parsed = url::Url::parse(url.trim()).map_err(|_| {
                CoreError::invalid(
                    "url",
                    format!("“{url}” is not a complete link such as https://shop.example.com/p/1."),
                )
            })?;
            // The serialised form percent-encodes non-ASCII (茶 → %E8%8C%B6): every scanner
            // reads that alike, while raw UTF-8 bytes are often taken for Shift-JIS.
            parsed.as_str().as_bytes().to_vec()
        }
        QrPayloadRequest::Epc {
            name,
            iban,
            bic,
            amount,
            reference,
            text,
            purpose,
            information,
            latin1,
        } => {
            let remittance = match (some(reference), some(text)) {
                (Some(_), Some(_)) => {
                    return Err(CoreError::invalid(
                        "reference",
                        "Give either a structured reference or a text, not both (EPC069-12).",
                    ));
                }
                (Some(r), None) => epc::Remittance::Reference(r),
                (None, Some(t)) => epc::Remittance::Text(t),
                (None, None) => epc::Remittance::None,
            };
            epc::CreditTransfer {
                version: epc::Version::V002,
                character_set: if *latin1 {
                    epc::CharacterSet::Latin1
                } else {
                    epc::CharacterSet::Utf8
                },
                bic: some(bic),
                name: name.clone(),
                iban: iban.clone(),
                amount_minor: minor(amount, "EUR")?,
                purpose: some(purpose),
                remittance,
                information: some(information),
            }
            .to_payload()?
        }
        QrPayloadRequest::Pix {
            key,
            name,
            city,
            amount,
            txid,
            description,
        } => pix::PixCharge {
            key: key.clone(),
            name: name.clone(),
            city: city.clone(),
            amount_minor: minor(amount, "BRL")?,
            txid: some(txid),
            description: some(description),
        }
        .to_payload()?
        .into_bytes(),
        QrPayloadRequest::Emvco {
            name,
            city,
            country,
            currency,
            merchant_category_code,
            amount,
            template_id,
            gui,
            fields,
            reference,
        } => emvco::MerchantPresented {
            initiation: Some(if amount.is_some() {
                emvco::PointOfInitiation::Dynamic
            } else {
                emvco::PointOfInitiation::Static
            }),
            merchant_accounts: vec![emvco::MerchantAccount::Template {
                id: *template_id,
                gui: gui.clone(),
                fields: fields.clone(),
            }],
            merchant_category_code: merchant_category_code.clone(),
            currency: currency.clone(),
            amount_minor: minor(amount, currency)?,
            country_code: country.clone(),
            merchant_name: name.clone(),
            merchant_city: city.clone(),
            postal_code: None,
            additional_data: emvco::AdditionalData {
                reference_label: some(reference),
                ..Default::default()
            },
            language: None,
        }
        .to_payload()?
        .into_bytes(),
        QrPayloadRequest::Upi {
            vpa,
            name,
            amount,
            note,
            reference,
        } => upi::UpiPayment {
            vpa: vpa.clone(),
            name: name.clone(),
            amount_minor: minor(amount, "INR")?,
            note: some(note),
            reference: some(reference),
        }
        .to_payload()?
        .into_bytes(),
    })
}

/// The payload as a QR code image: PNG of about `size_px` pixels, quiet zone included.
pub fn png(payload: &[u8], size_px: u32) -> Result<Vec<u8>> {
    let matrix = shopcast_print::QrCode::encode(payload, shopcast_print::EcLevel::M)?;
    Ok(shopcast_print::to_png(&matrix, size_px))
}

/// The payload as a vector QR code (SVG), quiet zone included.
pub fn svg(payload: &[u8]) -> Result<String> {
    let matrix = shopcast_print::QrCode::encode(payload, shopcast_print::EcLevel::M)?;
    Ok(shopcast_print::to_svg(&matrix, 4))
}

/// A QR code ready to show: the payload as text and the code as SVG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct QrPreview {
    /// The payload as text (ISO-8859-1 payloads decoded as such).
    pub payload: String,
    pub bytes: u32,
    pub svg: String,
}

/// Image format of a saved QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum QrImage {
    /// `size` pixels square, quiet zone included.
    Png {
        size: u32,
    },
    Svg,
}

pub fn preview(payload: &[u8], latin1: bool) -> Result<QrPreview> {
    let text = if latin1 {
        payload.iter().map(|&b| b as char).collect()
    } else {
        String::from_utf8_lossy(payload).into_owned()
    };
    Ok(QrPreview {
        payload: text,
        bytes: payload.len() as u32,
        svg: svg(payload)?,
    })
}

pub fn image(payload: &[u8], format: QrImage) -> Result<Vec<u8>> {
    match format {
        QrImage::Png { size } => {
            if !(64..=4096).contains(&size) {
                return Err(CoreError::invalid(
                    "size",
                    "Choose a PNG size between 64 and 4,096 pixels.",
                ));
            }
            png(payload, size)
        }
        QrImage::Svg => Ok(svg(payload)?.into_bytes()),
    }
}
