//! `shopcast sell`: a whole till sale in one call, through the same steps as the till screen
//! (order, then a QR, cash, or the customer's payment code).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use shopcast_payments::{PaymentProvider, ProviderKind};

use super::code::{CodePayment, a_code_of, code_provider};
use super::ledger::Payment;
use super::providers;
use super::till::{self, Order, OrderDraft, OrderLineDraft};
use super::watcher::{ChargeView, provider_name};
use crate::Shop;
use crate::error::{CoreError, Result};

/// One product of the sale by its SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SaleItem {
    pub sku: String,
    pub quantity: u32,
}

/// How the customer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum SaleMethod {
    Cash,
    /// Test mode's QR (nothing real is charged).
    Test,
    Stripe,
    /// Alipay's QR (precreate) that the customer scans.
    Alipay,
    /// WeChat Pay's Native QR that the customer scans.
    Wechat,
    /// The customer's Alipay payment code, scanned by the cashier.
    AlipayCode,
    /// The customer's WeChat payment code, scanned by the cashier.
    WechatCode,
}

impl SaleMethod {
    pub const ALL: [SaleMethod; 7] = [
        SaleMethod::Cash,
        SaleMethod::Test,
        SaleMethod::Stripe,
        SaleMethod::Alipay,
        SaleMethod::Wechat,
        SaleMethod::AlipayCode,
        SaleMethod::WechatCode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SaleMethod::Cash => "cash",
            SaleMethod::Test => "test",
            SaleMethod::Stripe => "stripe",
            SaleMethod::Alipay => "alipay",
            SaleMethod::Wechat => "wechat",
            SaleMethod::AlipayCode => "alipay-code",
            SaleMethod::WechatCode => "wechat-code",
        }
    }

    /// The method by its text form; a sentence listing them (field `method`) otherwise.
    pub fn parse(text: &str) -> Result<SaleMethod> {
        let text = text.trim();
        SaleMethod::ALL
            .into_iter()
            .find(|method| method.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                CoreError::invalid(
                    "method",
                    format!(
                        "Choose how the customer pays: {}.",
                        SaleMethod::ALL.map(SaleMethod::as_str).join(", ")
                    ),
                )
            })
    }

    /// The provider charged, `None` for cash.
    pub fn provider(self) -> Option<ProviderKind> {
        match self {
            SaleMethod::Cash => None,
            SaleMethod::Test => Some(ProviderKind::Test),
            SaleMethod::Stripe => Some(ProviderKind::Stripe),
            SaleMethod::Alipay | SaleMethod::AlipayCode => Some(ProviderKind::Alipay),
            SaleMethod::Wechat | SaleMethod::WechatCode => Some(ProviderKind::Wechat),
        }
    }

    /// The cashier scans the customer's code (rather than showing a QR).
    pub fn takes_code(self) -> bool {
        matches!(self, SaleMethod::AlipayCode | SaleMethod::WechatCode)
    }
}

impl std::fmt::Display for SaleMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sale as the CLI takes it: products by SKU (or an amount typed), and how it is paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SaleRequest {
    pub items: Vec<SaleItem>,
    /// An amount as typed, when there are no items.
    pub amount: Option<String>,
    /// The typed amount's currency; the shop's when empty.
    pub currency: Option<String>,
    pub method: SaleMethod,
    /// Which till sells.
    pub till: Option<String>,
    /// The customer's payment code, for `alipay-code` and `wechat-code`.
    pub auth_code: Option<String>,
    /// A discount on the whole sale as typed: "10%" or an amount ("5.00").
    #[serde(default)]
    pub discount: Option<String>,
    #[serde(default)]
    pub discount_reason: Option<String>,
}

/// How the sale stands: paid (cash, a code paid on the spot), or waiting for the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Sale {
    pub order: Order,
    pub charge: Option<ChargeView>,
    pub payment: Option<Payment>,
    /// The QR text for QR methods.
    pub qr_payload: Option<String>,
    /// Still waiting for the customer (a QR shown, a code being confirmed).
    pub waiting: bool,
}

impl Shop {
    /// `shopcast sell`: the same calls as the till screen (create_order, start_charge /
    /// mark_paid_manually / charge_payment_code). A sale that could not be charged is
    /// cancelled, so no open order is left behind, unless its charge may still be live.
    pub async fn sell(&self, request: &SaleRequest) -> Result<Sale> {
        let auth_code = request
            .auth_code
            .as_deref()
            .map(str::trim)
            .filter(|code| !code.is_empty());
        let code = match (request.method.takes_code(), auth_code) {
            (true, Some(code)) => Some(code_of_method(request.method, code)?),
            (true, None) => {
                return Err(CoreError::invalid(
                    "authCode",
                    "Scan or type the customer's payment code (--auth-code).",
                ));
            }
            (false, Some(_)) => {
                return Err(CoreError::invalid(
                    "authCode",
                    "A payment code is only taken with --method alipay-code or wechat-code.",
                ));
            }
            (false, None) => None,
        };
        let (draft, products) = self.sale_draft(request).await?;
        if request.method == SaleMethod::Cash {
            // Order, payment and stock in one transaction: nothing to cancel if it fails.
            let settings = self.settings_for_sale().await?;
            let (order, payment) = self
                .payments
                .sell_paid_manually(&draft, &settings, Some(&products), "cash")
                .await?;
            return Ok(Sale {
                order,
                charge: None,
                payment: Some(payment),
                qr_payload: None,
                waiting: false,
            });
        }
        // Ready to charge before any order exists: a provider that is not set up makes none.
        if let Some(kind) = request.method.provider() {
            self.provider_for_sale(kind).await?;
        }
        let order = self.create_order(&draft).await?;
        match self.pay_sale(&order, request.method, code.as_deref()).await {
            Ok(sale) => Ok(sale),
            // A charge that may still be payable keeps its order: cancelling it would hide
            // a payment (the error says where the charge stands).
            Err(
                error @ CoreError::Conflict {
                    field: super::charges::CHARGE_LIVE,
                    ..
                },
            ) => Err(error),
            Err(error) => {
                if let Err(cancel) = self.cancel_order(order.id).await {
                    tracing::warn!(%cancel, order = %order.order_ref, "a sale that failed could not be cancelled and stays open");
                }
                Err(error)
            }
        }
    }

    /// The draft of `request`'s order, and the products it names as read for it.
    async fn sale_draft(&self, request: &SaleRequest) -> Result<(OrderDraft, till::ProductFacts)> {
        let mut lines = Vec::with_capacity(request.items.len());
        let skus: Vec<&str> = request.items.iter().map(|i| i.sku.trim()).collect();
        let products = till::products_by_sku(&self.pool, &skus).await?;
        for item in &request.items {
            let sku = item.sku.trim();
            let product_id = products
                .iter()
                .find(|(_, p)| p.sku.as_deref() == Some(sku))
                .map(|(id, _)| *id)
                .ok_or_else(|| CoreError::not_found(format!("A product with SKU {sku}")))?;
            lines.push(OrderLineDraft {
                product_id,
                quantity: item.quantity,
                ..Default::default()
            });
        }
        let draft = OrderDraft {
            lines,
            amount: request.amount.clone(),
            currency: request.currency.clone(),
            till: till::till_name(request.till.as_deref())?,
            discount: request.discount.clone(),
            discount_reason: request.discount_reason.clone(),
            ..Default::default()
        };
        Ok((draft, products))
    }

    async fn pay_sale(
        &self,
        order: &Order,
        method: SaleMethod,
        code: Option<&str>,
    ) -> Result<Sale> {
        match (method.provider(), code) {
            (None, _) => Err(CoreError::invalid(
                "method",
                "Choose how the customer pays.",
            )),
            (Some(_), Some(code)) => {
                let CodePayment {
                    charge,
                    payment,
                    waiting,
                    ..
                } = self.charge_payment_code(order.id, code).await?;
                Ok(Sale {
                    order: self.order(order.id).await?,
                    charge: Some(charge),
                    payment,
                    qr_payload: None,
                    waiting,
                })
            }
            (Some(kind), None) => {
                let charge = self.charge_order(order.id, kind).await?;
                Ok(Sale {
                    order: charge.order.clone(),
                    qr_payload: Some(charge.qr_payload.clone()),
                    charge: Some(charge),
                    payment: None,
                    waiting: true,
                })
            }
        }
    }

    /// The connected provider of `kind`, connecting the saved one (or starting test mode)
    /// when this process is not watching it yet, as `payments watch` does.
    pub(crate) async fn provider_for_sale(
        &self,
        kind: ProviderKind,
    ) -> Result<Arc<dyn PaymentProvider>> {
        if let Ok(provider) = self.payments.provider(kind) {
            return Ok(provider);
        }
        let settings = providers::load(&self.pool).await?;
        if kind == ProviderKind::Test {
            if !settings.test_mode {
                return Err(CoreError::invalid(
                    "method",
                    "Test mode is off: turn it on (Settings → Payments) to sell with a test QR.",
                ));
            }
            self.start_test_mode(&settings).await?;
        } else {
            let public_url = self.settings().await?.public_url;
            let saved = providers::saved_providers(&settings, &self.secrets, &public_url)
                .into_iter()
                .find(|provider| provider.kind() == kind)
                .ok_or_else(|| {
                    CoreError::invalid(
                        "method",
                        format!(
                            "{} is not set up here: connect it in Settings → Payments or with \
                             `shopcast providers add {kind}`.",
                            provider_name(kind)
                        ),
                    )
                })?;
            self.payments.connect(saved);
        }
        self.payments.provider(kind)
    }
}

/// The digits of `typed` when it is a payment code of the method's provider.
fn code_of_method(method: SaleMethod, typed: &str) -> Result<String> {
    let (kind, digits) = code_provider(typed)?;
    if Some(kind) != method.provider() {
        return Err(CoreError::invalid(
            "authCode",
            format!(
                "This is {}, not {}'s: choose --method {}.",
                a_code_of(kind),
                method.provider().map(provider_name).unwrap_or_default(),
                match kind {
                    ProviderKind::Alipay => "alipay-code",
                    _ => "wechat-code",
                }
            ),
        ));
    }
    Ok(digits)
}
