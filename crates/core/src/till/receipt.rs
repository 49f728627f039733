//! A sale's receipt: the order, its payment and the shop's receipt settings laid out in the
//! shop's words and locale, as a PDF (58/80 mm roll, A4) or printed on an ESC/POS printer.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use shopcast_print::receipt::escpos::{Chinese, EscPosOptions, receipt_bytes};
use shopcast_print::receipt::{Paper, Receipt, ReceiptLine};

use crate::Shop;
use crate::error::{CoreError, Result};
use crate::money::Money;
use crate::payments::ledger::{Payment, PaymentFilter};
use crate::payments::till::{Order, OrderStatus};
use crate::settings::ShopSettings;
use crate::till::printer::{PrinterTarget, send};
use crate::till::tax::rate_label;

/// How long a printer gets to take a receipt.
pub const PRINT_TIMEOUT: Duration = Duration::from_secs(5);

/// What printing a receipt did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PrintedReceipt {
    /// The printer, as `tcp://host:port` or the device path.
    pub printer: String,
    pub bytes: u32,
    /// Whether the cash drawer was told to open (cash sales, when the shop asks for it).
    pub drawer_kicked: bool,
}

/// The paper named in the settings ("58mm", "80mm", "a4").
pub fn paper_of(name: &str) -> Result<Paper> {
    match name.trim().to_ascii_lowercase().as_str() {
        "58mm" | "58" => Ok(Paper::Roll58),
        "80mm" | "80" => Ok(Paper::Roll80),
        "a4" => Ok(Paper::A4),
        other => Err(CoreError::invalid(
            "paper",
            format!("“{other}” is not a receipt paper: use 58mm, 80mm or a4."),
        )),
    }
}

/// The receipt's words in the shop's language (English unless the locale is Chinese).
struct Words {
    subtotal: &'static str,
    discount: &'static str,
    total: &'static str,
    net: &'static str,
    included: &'static str,
    paid_by: &'static str,
    not_paid: &'static str,
    refunded: &'static str,
    till: &'static str,
}

fn words(locale: &str) -> Words {
    if locale.starts_with("zh") {
        Words {
            subtotal: "小计",
            discount: "折扣",
            total: "合计",
            net: "不含税",
            included: "含",
            paid_by: "支付方式",
            not_paid: "未付款",
            refunded: "已退款",
            till: "收银台",
        }
    } else {
        Words {
            subtotal: "Subtotal",
            discount: "Discount",
            total: "Total",
            net: "Net",
            included: "incl.",
            paid_by: "Paid by",
            not_paid: "Not paid",
            refunded: "Refunded",
            till: "Till",
        }
    }
}

/// How a payment method reads on paper.
fn method_text(payment: &Payment) -> String {
    let method = payment.method.as_deref().unwrap_or("");
    match (payment.provider.as_str(), method) {
        (_, "cash") => "Cash".to_string(),
        ("alipay", _) => "Alipay 支付宝".to_string(),
        ("wechat", _) => "WeChat Pay 微信支付".to_string(),
        ("stripe", m) if !m.is_empty() => format!("Stripe · {m}"),
        ("stripe", _) => "Stripe".to_string(),
        ("test", _) => "Test payment".to_string(),
        (provider, "") => provider.to_string(),
        (provider, m) => format!("{provider} · {m}"),
    }
}

/// Lays an order out as a receipt, every amount formatted in the shop's locale.
pub(crate) fn layout(
    order: &Order,
    payment: Option<&Payment>,
    settings: &ShopSettings,
    qr: Option<String>,
    logo: Option<shopcast_print::Logo>,
) -> Result<Receipt> {
    let locale = settings.locale.as_str();
    let w = words(locale);
    let money = |minor: i64| {
        Money {
            amount_minor: minor,
            currency: order.total.currency.clone(),
        }
        .format_local(locale)
    };
    // Amounts in the shop's price terms: with tax when prices include it, before tax when
    // tax is added (then Subtotal − Discount = Net, + tax = Total).
    let priced = |line: &crate::payments::till::OrderLine| {
        if order.prices_include_tax {
            (line.gross_minor + line.discount_minor, line.discount_minor)
        } else {
            let before = line.unit_price.amount_minor * line.quantity;
            (before, before - line.net_minor)
        }
    };
    let lines = order
        .lines
        .iter()
        .map(|line| {
            let (before, off) = priced(line);
            ReceiptLine {
                name: line.name.clone(),
                quantity: line.quantity,
                unit_text: line.unit_price.format_local(locale),
                amount_text: money(before),
                discount_text: (off > 0).then(|| {
                    let reason = line
                        .discount_reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default();
                    format!("{}{reason} -{}", w.discount, money(off))
                }),
            }
        })
        .collect();
    let (subtotal, discounts) = order
        .lines
        .iter()
        .map(priced)
        .fold((0, 0), |(s, d), (before, off)| (s + before, d + off));
    let mut totals = Vec::new();
    if discounts > 0 {
        totals.push((w.subtotal.to_string(), money(subtotal)));
        let reason = order
            .discount_reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        totals.push((
            format!("{}{reason}", w.discount),
            format!("-{}", money(discounts)),
        ));
    }
    let net: i64 = order.lines.iter().map(|l| l.net_minor).sum();
    if !order.prices_include_tax && !order.taxes.is_empty() {
        totals.push((w.net.to_string(), money(net)));
        for tax in &order.taxes {
            totals.push((rate_label(&tax.name, tax.rate_ppm), money(tax.tax_minor)));
        }
    }
    totals.push((w.total.to_string(), money(order.total.amount_minor)));
    // Tax added at the till is already a line of the totals; tax in the prices is shown under them.
    let tax_lines = if order.prices_include_tax {
        order
            .taxes
            .iter()
            .map(|tax| {
                (
                    format!("{} {}", w.included, rate_label(&tax.name, tax.rate_ppm)),
                    money(tax.tax_minor),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let payment_text = match payment {
        Some(p) if p.refunded_minor > 0 => format!(
            "{} {} · {} {}",
            w.paid_by,
            method_text(p),
            w.refunded,
            money(p.refunded_minor)
        ),
        Some(p) => format!("{} {}", w.paid_by, method_text(p)),
        None if order.status == OrderStatus::Paid => w.paid_by.to_string(),
        None => w.not_paid.to_string(),
    };
    let at = payment.map_or(order.created_at, |p| p.occurred_at);
    Ok(Receipt {
        shop_name: settings.name.clone(),
        logo,
        header_lines: Vec::new(),
        order_ref: order.order_ref.clone(),
        time_text: crate::infra::shop_time(at, &settings.timezone, "%Y-%m-%d %H:%M")?,
        till: order.till.as_ref().map(|t| format!("{} {t}", w.till)),
        lines,
        totals,
        tax_lines,
        payment_text,
        qr,
        footer: settings.receipt_footer.clone(),
    })
}

impl Shop {
    /// The order's payment, if one came in.
    async fn payment_of_order(&self, order_id: i64) -> Result<Option<Payment>> {
        Ok(self
            .list_payments(&PaymentFilter {
                order_id: Some(order_id),
                limit: Some(1),
                ..Default::default()
            })
            .await?
            .into_iter()
            .next())
    }

    /// The link the receipt's QR carries: with the shop page's public address, the sale's
    /// own receipt page there (where the buyer can share what they bought); otherwise the
    /// first product's buy link, tagged `src=receipt`; none for a typed amount without a
    /// shop page, or a shop without buy links.
    async fn receipt_link(&self, order: &Order, settings: &ShopSettings) -> Result<Option<String>> {
        if !settings.public_url.is_empty() {
            // A shop-page order keeps the page its buyer got (its token is theirs alone), and a
            // receipt key that cannot be read prints the buy link instead of a dead page.
            match self.till_receipt_token(order.id, &order.order_ref).await {
                Ok(Some(token)) => return Ok(Some(format!("{}/r/{token}", settings.public_url))),
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "the receipt page key could not be read"),
            }
        }
        let Some(product_id) = order.lines.iter().find_map(|l| l.product_id) else {
            return Ok(None);
        };
        let Ok(product) = self.product(product_id).await else {
            return Ok(None);
        };
        Ok(crate::signage::tracked_buy_link(
            settings,
            &product,
            &[("src", "receipt"), ("order", &order.order_ref)],
        )
        .ok())
    }

    /// What the order's receipt QR carries (see `receipt_link`).
    pub async fn receipt_qr(&self, order_id: i64) -> Result<Option<String>> {
        let order = self.order(order_id).await?;
        let settings = self.settings().await?;
        self.receipt_link(&order, &settings).await
    }

    async fn receipt_of(&self, order_id: i64) -> Result<(Receipt, Option<Payment>, ShopSettings)> {
        let order = self.order(order_id).await?;
        let settings = self.settings().await?;
        let payment = self.payment_of_order(order_id).await?;
        let qr = self.receipt_link(&order, &settings).await?;
        let logo = match self.logo().await? {
            Some(photo) => self
                .media
                .read(&photo.hash, crate::Variant::Full)
                .and_then(|(bytes, _)| shopcast_print::Logo::from_image_bytes(&bytes).ok()),
            None => None,
        };
        let receipt = layout(&order, payment.as_ref(), &settings, qr, logo)?;
        Ok((receipt, payment, settings))
    }

    /// The order's receipt as a PDF on `paper` ("58mm", "80mm", "a4"; the shop's when `None`).
    pub async fn receipt_pdf(&self, order_id: i64, paper: Option<&str>) -> Result<Vec<u8>> {
        let (receipt, _, settings) = self.receipt_of(order_id).await?;
        let paper = paper_of(paper.unwrap_or(&settings.receipt_paper))?;
        crate::infra::blocking(move || {
            shopcast_print::receipt::pdf::receipt_pdf(&receipt, paper).map_err(CoreError::from)
        })
        .await
    }

    /// Reprints the order's receipt on an ESC/POS printer: `printer` ("tcp://HOST:9100",
    /// "/dev/usb/lp0") or the shop's receipt printer. A reprint never opens the drawer.
    pub async fn print_receipt(
        &self,
        order_id: i64,
        printer: Option<&str>,
    ) -> Result<PrintedReceipt> {
        self.print_receipt_with(order_id, printer, false).await
    }

    /// Prints the receipt of a sale just paid: as [`Shop::print_receipt`], and a cash sale
    /// opens the drawer when the shop asks for it (`receipt.drawer_kick`).
    pub async fn print_sale_receipt(
        &self,
        order_id: i64,
        printer: Option<&str>,
    ) -> Result<PrintedReceipt> {
        self.print_receipt_with(order_id, printer, true).await
    }

    async fn print_receipt_with(
        &self,
        order_id: i64,
        printer: Option<&str>,
        just_sold: bool,
    ) -> Result<PrintedReceipt> {
        let (receipt, payment, settings) = self.receipt_of(order_id).await?;
        let target = match printer.map(str::trim).filter(|p| !p.is_empty()) {
            Some(text) => text.to_string(),
            None if !settings.receipt_printer.is_empty() => settings.receipt_printer.clone(),
            None => {
                return Err(CoreError::invalid(
                    "print",
                    "No receipt printer is set: choose one in Settings → Receipts, or `shopcast settings set receipt.printer tcp://HOST:9100`.",
                ));
            }
        };
        let target = PrinterTarget::parse(&target)?;
        let cash = payment
            .as_ref()
            .is_some_and(|p| p.method.as_deref() == Some("cash"));
        let drawer_kick = just_sold && cash && settings.receipt_drawer_kick;
        let options = EscPosOptions {
            columns: if paper_of(&settings.receipt_paper)? == Paper::Roll58 {
                32
            } else {
                48
            },
            chinese: if settings.receipt_chinese == "raster" {
                Chinese::Raster
            } else {
                Chinese::Gb18030
            },
            cut: true,
            drawer_kick,
        };
        let bytes = receipt_bytes(&receipt, &options);
        send(&target, &bytes, PRINT_TIMEOUT).await?;
        Ok(PrintedReceipt {
            printer: target.to_string(),
            bytes: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            drawer_kicked: drawer_kick,
        })
    }

    /// Prints the receipt of a sale just paid when the shop prints one after every sale and
    /// has a printer; `None` when it does not. A failed print is the caller's to show (the
    /// sale stands).
    pub async fn auto_print_receipt(&self, order_id: i64) -> Result<Option<PrintedReceipt>> {
        let settings = self.settings().await?;
        if !settings.receipt_auto_print || settings.receipt_printer.is_empty() {
            return Ok(None);
        }
        self.print_sale_receipt(order_id, None).await.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::ledger::SalesChannel;
    use crate::payments::till::{OrderLine, tax_lines};

    fn order(prices_include_tax: bool, lines: Vec<OrderLine>) -> Order {
        let total = lines.iter().map(|l| l.gross_minor).sum();
        Order {
            id: 1,
            order_ref: "O-TEST".into(),
            status: OrderStatus::Paid,
            total: Money {
                amount_minor: total,
                currency: "USD".into(),
            },
            channel: SalesChannel::Till,
            source_ref: None,
            taxes: tax_lines(&lines),
            discount_minor: lines.iter().map(|l| l.discount_minor).sum(),
            lines,
            created_at: 0,
            till: None,
            discount_reason: None,
            prices_include_tax,
        }
    }

    fn hat(net: i64, tax: i64, discount: i64) -> OrderLine {
        OrderLine {
            product_id: Some(1),
            name: "Hat".into(),
            sku: None,
            quantity: 2,
            unit_price: Money {
                amount_minor: 1000,
                currency: "USD".into(),
            },
            gross_minor: net + tax,
            net_minor: net,
            tax_minor: tax,
            discount_minor: discount,
            discount_reason: None,
            tax_rate_name: Some("NYC".into()),
            tax_rate_ppm: 88_750,
        }
    }

    /// Tax added at the till: the receipt adds up in net terms, Subtotal − Discount = Net,
    /// + tax = Total (2 × $10.00, 10 % off: $18.00 + $1.60 = $19.60).
    #[test]
    fn a_receipt_with_tax_added_adds_up_before_tax() {
        let settings = ShopSettings::default();
        let line = hat(1800, 160, 2000 + 178 - 1960);
        let receipt = layout(&order(false, vec![line]), None, &settings, None, None).unwrap();
        assert_eq!(receipt.lines[0].amount_text, "$20.00");
        assert_eq!(
            receipt.lines[0].discount_text.as_deref(),
            Some("Discount -$2.00")
        );
        let totals: Vec<(&str, &str)> = receipt
            .totals
            .iter()
            .map(|(l, a)| (l.as_str(), a.as_str()))
            .collect();
        assert_eq!(
            totals,
            [
                ("Subtotal", "$20.00"),
                ("Discount", "-$2.00"),
                ("Net", "$18.00"),
                ("NYC 8.875%", "$1.60"),
                ("Total", "$19.60"),
            ]
        );
    }

    /// Prices with tax in them: amounts as paid, the tax "incl." underneath.
    #[test]
    fn a_receipt_with_tax_included_shows_what_was_paid() {
        let settings = ShopSettings {
            locale: "zh-CN".into(),
            ..Default::default()
        };
        let line = hat(1770, 230, 0);
        let receipt = layout(&order(true, vec![line]), None, &settings, None, None).unwrap();
        assert_eq!(receipt.lines[0].amount_text, "$20.00");
        assert_eq!(receipt.totals, [("合计".to_string(), "$20.00".to_string())]);
        assert_eq!(receipt.tax_lines[0].0, "含 NYC 8.875%");
    }
}
