//! `shopcast sell`: a till sale without the window — products by SKU or a typed amount —
//! taken in cash, by a QR the customer scans, or by the customer's payment code.

use std::time::Duration;

use clap::Args;
use shopcast_core::payments::ledger::{Payment, PaymentFilter};
use shopcast_core::payments::sale::{Sale, SaleItem, SaleMethod, SaleRequest};
use shopcast_core::payments::till::{MAX_QUANTITY, Order, OrderStatus};
use shopcast_core::{ErrorCode, Money, Shop};
use shopcast_payments::PaymentStatus;

use crate::cli::Failure;
use crate::cli::payments::print_json_line;

/// Time the engine gets after a charge's expiry to withdraw it and say how it ended.
const WITHDRAW_GRACE: Duration = Duration::from_secs(15);

#[derive(Debug, Args)]
pub struct SellArgs {
    /// A product by its SKU and how many after a colon (1–10000, default 1): TEA-1:2.
    /// Repeat for more products.
    #[arg(long = "sku", value_name = "SKU[:QTY]")]
    pub skus: Vec<String>,
    /// A typed amount in the shop's currency ("12.50"), for a sale without products
    /// (not with --sku).
    #[arg(long)]
    pub amount: Option<String>,
    /// How the customer pays: cash; test, stripe, alipay or wechat (a QR the customer
    /// scans); alipay-code or wechat-code (the payment code on the customer's phone, with
    /// --auth-code).
    #[arg(long, value_name = "METHOD")]
    pub method: String,
    /// The payment code the scanner read from the customer's phone (alipay-code and
    /// wechat-code only).
    #[arg(long, value_name = "CODE")]
    pub auth_code: Option<String>,
    /// Which till rang the sale up ("Till 2"), kept with the order.
    #[arg(long, value_name = "NAME")]
    pub till: Option<String>,
    /// A discount on the whole sale: a percentage ("10%") or an amount ("5.00").
    #[arg(long, value_name = "10%|5.00")]
    pub discount: Option<String>,
    /// Why the discount was given ("staff", "damaged box"), printed on the receipt.
    #[arg(long, value_name = "TEXT", requires = "discount")]
    pub discount_reason: Option<String>,
    /// Write the paid sale's receipt as a PDF (the receipt paper of the settings).
    #[arg(long, value_name = "FILE")]
    pub receipt_pdf: Option<std::path::PathBuf>,
    /// Print the paid sale's receipt on an ESC/POS printer: tcp://HOST:9100 or a device
    /// such as /dev/usb/lp0 (else the settings' receipt printer, when receipts print
    /// automatically).
    #[arg(long, value_name = "tcp://HOST:9100|/dev/usb/lp0")]
    pub print: Option<String>,
    /// Print the sale as one JSON object per line: when it starts, and when it ends.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(shop: &Shop, args: SellArgs) -> Result<(), Failure> {
    let request = sale_request(&args)?;
    // A printer address that cannot be one is refused before anything is sold.
    if let Some(printer) = &args.print {
        shopcast_core::till::printer::PrinterTarget::parse(printer)?;
    }
    let out = Printer {
        json: args.json,
        locale: shop.settings().await?.locale,
    };
    // Listening for Ctrl-C/SIGTERM before anything is charged: a signal during `sell` lets
    // it finish (a half-made charge would be lost), then the order is cancelled.
    let mut stop = std::pin::pin!(crate::cli::stopped());
    let mut selling = std::pin::pin!(shop.sell(&request));
    let (sale, stopped_early) = tokio::select! {
        biased;
        _ = &mut stop => (selling.await?, true),
        sale = &mut selling => (sale?, false),
    };
    let order_id = sale.order.id;
    if let Err(error) = out.started(&sale) {
        withdraw(shop, &sale.order).await?;
        return Err(error);
    }
    if stopped_early {
        return stopped(shop, &sale.order).await;
    }
    let method = request.method;
    let is_code = method.takes_code();
    let waits = match method {
        SaleMethod::Test => true,
        _ if is_code => sale.waiting,
        _ => false,
    };
    if !waits {
        if sale.order.status == OrderStatus::Paid {
            receipts(shop, &args, sale.order.id).await?;
        } else if args.receipt_pdf.is_some() || args.print.is_some() {
            eprintln!(
                "No receipt yet: the sale is not paid. Reprint it from the payment once it is."
            );
        }
        if matches!(
            method,
            SaleMethod::Stripe | SaleMethod::Alipay | SaleMethod::Wechat
        ) && !args.json
        {
            eprintln!("`shopcast payments watch` records the payment when the customer pays.");
        }
        return Ok(());
    }
    if is_code {
        eprintln!("waiting for the customer to confirm…");
    }
    let waited = tokio::select! {
        order = shop.wait_for_payment(order_id, wait_limit(&sale)) => order,
        _ = &mut stop => return stopped(shop, &sale.order).await,
    };
    let order = match waited {
        Ok(order) => order,
        Err(error) => {
            // The wait broke off (the provider or the file failed): withdraw the charge
            // rather than leave it payable with nobody watching.
            withdraw(shop, &sale.order).await?;
            return Err(error.into());
        }
    };
    // Declined, or not settled when the wait ended: nobody will take this order further, so
    // it is cancelled and any charge still payable withdrawn.
    let order = if matches!(
        order.status,
        OrderStatus::Open | OrderStatus::AwaitingPayment
    ) {
        withdraw(shop, &order).await?
    } else {
        order
    };
    let payment = payment_of(shop, order_id).await?;
    let ended = Sale {
        order,
        charge: sale.charge,
        payment,
        qr_payload: sale.qr_payload,
        waiting: false,
    };
    out.ended(&ended)?;
    outcome(&ended, is_code)?;
    receipts(shop, &args, order_id).await
}

/// The paid sale's receipt: as a PDF (--receipt-pdf), on a printer (--print), or on the
/// shop's printer when receipts print after every sale. A printer that fails is reported;
/// the sale stands.
async fn receipts(shop: &Shop, args: &SellArgs, order_id: i64) -> Result<(), Failure> {
    if let Some(path) = &args.receipt_pdf {
        let pdf = shop.receipt_pdf(order_id, None).await?;
        shopcast_core::infra::write_file_atomically(path, &pdf)?;
        eprintln!("receipt written to {}", path.display());
    }
    let printed = match &args.print {
        Some(target) => shop
            .print_sale_receipt(order_id, Some(target))
            .await
            .map(Some),
        None => shop.auto_print_receipt(order_id).await,
    };
    match printed {
        Ok(Some(printed)) => {
            eprintln!(
                "receipt printed on {}{}",
                printed.printer,
                if printed.drawer_kicked {
                    " (drawer opened)"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(error) => Err(Failure::from(error)),
    }
}

/// Stopped (Ctrl-C, kill): an unpaid order is cancelled and its charge withdrawn, so the
/// customer cannot pay it late.
async fn stopped(shop: &Shop, order: &Order) -> Result<(), Failure> {
    let order = shop.order(order.id).await?;
    match order.status {
        // Paid already (cash, a code paid on the spot): the sale is done.
        OrderStatus::Paid => return Ok(()),
        OrderStatus::Open | OrderStatus::AwaitingPayment => {}
        _ => {
            return Err(Failure::new(
                ErrorCode::Cancelled,
                format!("Stopped: {} is {}.", order.order_ref, order.status),
            ));
        }
    }
    withdraw(shop, &order).await?;
    Err(Failure::new(
        ErrorCode::Cancelled,
        "Stopped waiting: the order is cancelled and its charge withdrawn, so nothing will be charged.",
    ))
}

/// Cancels the order and withdraws its charge; when that fails, says plainly on stderr that
/// the customer may still be able to pay it.
async fn withdraw(shop: &Shop, order: &Order) -> Result<Order, Failure> {
    // Settled meanwhile (paid, already cancelled): nothing is left to withdraw.
    if let Ok(now) = shop.order(order.id).await
        && !matches!(now.status, OrderStatus::Open | OrderStatus::AwaitingPayment)
    {
        return Ok(now);
    }
    shop.cancel_order(order.id).await.map_err(|error| {
        eprintln!(
            "The charge for {} may still be live: Shopcast could not withdraw it ({error}). \
             Cancel the sale in the till (or check it at the provider) before the customer pays it.",
            order.order_ref
        );
        Failure::from(error)
    })
}

/// The engine's request from the flags; a mistake in them is refused before anything is
/// created.
fn sale_request(args: &SellArgs) -> Result<SaleRequest, Failure> {
    let method = SaleMethod::parse(&args.method)?;
    let items = args
        .skus
        .iter()
        .map(|text| sale_item(text))
        .collect::<Result<Vec<_>, _>>()?;
    let amount = args
        .amount
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string);
    match (items.is_empty(), &amount) {
        (false, Some(_)) => {
            return Err(invalid(
                "amount",
                "--amount is for a sale without products: give --sku or --amount, not both.",
            ));
        }
        (true, None) => {
            return Err(invalid(
                "sku",
                "Nothing to sell: give --sku SKU[:QTY] (repeat it for more products) or --amount.",
            ));
        }
        _ => {}
    }
    // The engine checks that --auth-code comes with the code methods only, and whose it is.
    Ok(SaleRequest {
        items,
        amount,
        currency: None,
        method,
        till: args.till.clone(),
        auth_code: args.auth_code.clone(),
        discount: args.discount.clone(),
        discount_reason: args.discount_reason.clone(),
    })
}

/// `SKU` or `SKU:QTY`. The last colon splits, so a SKU may hold colons itself.
fn sale_item(text: &str) -> Result<SaleItem, Failure> {
    let text = text.trim();
    let (sku, quantity) = match text.rsplit_once(':') {
        None => (text, 1),
        Some((sku, quantity)) => {
            let quantity = quantity.trim();
            if quantity.is_empty() {
                return Err(invalid(
                    "sku",
                    format!(
                        "--sku {text} has no quantity after the colon: write {sku}:2, or {sku} for one."
                    ),
                ));
            }
            let parsed = quantity
                .parse::<u32>()
                .ok()
                .filter(|q| (1..=MAX_QUANTITY).contains(q))
                .ok_or_else(|| {
                    invalid(
                        "sku",
                        format!(
                            "--sku {text}: the quantity must be a whole number from 1 to {MAX_QUANTITY}."
                        ),
                    )
                })?;
            (sku.trim(), parsed)
        }
    };
    if sku.is_empty() {
        return Err(invalid(
            "sku",
            format!("--sku {text} has no SKU: write SKU or SKU:QTY, for example TEA-1:2."),
        ));
    }
    Ok(SaleItem {
        sku: sku.to_string(),
        quantity,
    })
}

fn invalid(field: &str, message: impl Into<String>) -> Failure {
    Failure {
        field: Some(field.to_string()),
        ..Failure::usage(message)
    }
}

/// As long as the charge can still be paid, and a little more for the engine to withdraw
/// it and say so.
fn wait_limit(sale: &Sale) -> Duration {
    let now = jiff::Timestamp::now().as_millisecond();
    let left = sale
        .charge
        .as_ref()
        .map(|charge| charge.expires_at.saturating_sub(now).max(0))
        .unwrap_or(0);
    Duration::from_millis(u64::try_from(left).unwrap_or(0)) + WITHDRAW_GRACE
}

/// The order's latest payment, if any arrived.
async fn payment_of(shop: &Shop, order_id: i64) -> Result<Option<Payment>, Failure> {
    let payments = shop
        .list_payments(&PaymentFilter {
            order_id: Some(order_id),
            limit: Some(1),
            ..Default::default()
        })
        .await?;
    Ok(payments.into_iter().next())
}

/// Exit 0 only for a paid sale; otherwise the reason, in the shop's words.
fn outcome(sale: &Sale, is_code: bool) -> Result<(), Failure> {
    let declined = sale
        .payment
        .as_ref()
        .is_some_and(|p| p.status == PaymentStatus::Failed);
    match sale.order.status {
        OrderStatus::Paid => Ok(()),
        OrderStatus::Review => Err(Failure::new(
            ErrorCode::Conflict,
            format!(
                "A payment arrived for {} that does not match it; it is held for your review under Payments.",
                sale.order.order_ref
            ),
        )),
        _ if declined => Err(Failure::new(
            ErrorCode::ProviderRejected,
            "The payment was declined, so nothing was charged: sell again, another way if need be.",
        )),
        _ if is_code => Err(Failure::new(
            ErrorCode::Cancelled,
            "The customer did not confirm in time: Shopcast withdrew the charge (Alipay cancel, WeChat Pay reverse), so nothing was charged.",
        )),
        _ => Err(Failure::new(
            ErrorCode::Cancelled,
            "The QR was not paid before it expired: Shopcast withdrew it, so it can no longer be paid.",
        )),
    }
}

/// Writes the sale as the cashier reads it, or as JSON lines for scripts.
struct Printer {
    json: bool,
    locale: String,
}

impl Printer {
    /// The order, then how it is being paid: the payment, or the QR payload on its own line.
    fn started(&self, sale: &Sale) -> Result<(), Failure> {
        if self.json {
            return print_json_line(sale);
        }
        let order = &sale.order;
        match &order.till {
            Some(till) => println!("order {} at {till}", order.order_ref),
            None => println!("order {}", order.order_ref),
        }
        for line in &order.lines {
            // In the shop's price terms, as the receipt shows it: tax added comes after.
            let total = Money {
                amount_minor: if order.prices_include_tax {
                    line.gross_minor + line.discount_minor
                } else {
                    line.unit_price.amount_minor * line.quantity
                },
                currency: line.unit_price.currency.clone(),
            };
            let sku = line
                .sku
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            println!(
                "  {} × {}{sku}  {}",
                line.quantity,
                line.name,
                self.money(&total)
            );
        }
        let in_currency = |amount_minor| Money {
            amount_minor,
            currency: order.total.currency.clone(),
        };
        if order.discount_minor > 0 {
            println!(
                "discount -{}{}",
                self.money(&in_currency(order.discount_minor)),
                order
                    .discount_reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            );
        }
        for tax in &order.taxes {
            println!(
                "{} {} {}",
                if order.prices_include_tax {
                    "incl."
                } else {
                    "plus"
                },
                tax.name,
                self.money(&in_currency(tax.tax_minor))
            );
        }
        println!("total {}", self.money(&order.total));
        if let Some(payment) = &sale.payment {
            println!("{}", self.payment_line(order, payment));
        } else if let Some(payload) = &sale.qr_payload {
            let provider = sale.charge.as_ref().map_or("", |c| c.provider.as_str());
            println!("the customer scans this {provider} QR to pay:");
            println!("{payload}");
        }
        Ok(())
    }

    /// How the sale ended, one line.
    fn ended(&self, sale: &Sale) -> Result<(), Failure> {
        if self.json {
            return print_json_line(sale);
        }
        match &sale.payment {
            Some(payment) => println!("{}", self.payment_line(&sale.order, payment)),
            None => println!("{} {}", sale.order.order_ref, sale.order.status),
        }
        Ok(())
    }

    fn payment_line(&self, order: &Order, payment: &Payment) -> String {
        format!(
            "{}: {} {} by {}{}{}",
            order.order_ref,
            payment.status.as_str(),
            self.money(&payment.amount),
            payment
                .method
                .as_deref()
                .unwrap_or(payment.provider.as_str()),
            if payment.test { " (TEST)" } else { "" },
            payment
                .mismatch
                .as_deref()
                .map(|why| format!(", held for review: {why}"))
                .unwrap_or_default()
        )
    }

    fn money(&self, money: &Money) -> String {
        money.format_local(&self.locale)
    }
}
