//! Charging the payment code (付款码) the cashier scanned: `alipay.trade.pay`, scene
//! `bar_code`. Paid on the spot, waiting for the customer, or refused; anything uncertain waits.

use jiff::Timestamp;

use super::{AlipayProvider, KIND, paid_event, wire};
use crate::payment_code;
use crate::provider::{Charge, ChargeRequest, CodeCharge, OpenCharge, ProviderError};

/// `sub_code` of a trade.pay whose outcome Alipay itself does not know yet (sent with code
/// 20000, and by some gateways with 40004): the trade may exist, so it is asked about again.
const SYSTEM_ERROR: &str = "ACQ.SYSTEM_ERROR";

impl AlipayProvider {
    /// See [`crate::PaymentProvider::charge_code`]. Once the request may have reached Alipay,
    /// only a signed refusal ends the charge here: a lost or unreadable answer leaves it
    /// waiting, so the watcher's signed queries settle it and it is cancelled on expiry.
    pub(super) async fn pay_with_code(
        &self,
        request: &ChargeRequest,
        auth_code: &str,
    ) -> Result<CodeCharge, ProviderError> {
        let auth_code = payment_code::till_code(KIND, request, auth_code)?;
        let out_trade_no = wire::code_trade_number(&request.order_ref);
        let content = wire::code_pay_content(request, &out_trade_no, &auth_code, Timestamp::now())?;
        let charge = |raw: String| payment_code::code_charge(&out_trade_no, request, raw);
        let reply = match self.call(wire::PAY, &content).await {
            Ok(reply) => reply,
            Err(err) => return self.after_failed_pay(err, &out_trade_no, charge).await,
        };
        let code = reply.fields.code.as_deref().unwrap_or_default();
        if reply.is_success() {
            let open = OpenCharge {
                charge_ref: out_trade_no.clone(),
                order_ref: request.order_ref.clone(),
                amount_minor: request.amount_minor,
                currency: request.currency.clone(),
                expires_at: request.expires_at,
            };
            let raw = reply.body.clone();
            let mut reply = reply;
            // trade.pay says when it was paid in gmt_payment; trade.query in send_pay_date.
            if reply.fields.send_pay_date.is_none() {
                reply.fields.send_pay_date = reply.fields.gmt_payment.clone();
            }
            // The same event a later trade.query would give, so the ledger records it once.
            return match paid_event(&open, "TRADE_SUCCESS", reply) {
                Ok(event) => Ok(CodeCharge::Paid {
                    charge: charge(raw),
                    event,
                }),
                // Paid, but the amount is unreadable: the next query reads it again.
                Err(err) => {
                    tracing::warn!(%out_trade_no, error = %err, "Alipay trade.pay answer unreadable");
                    Ok(CodeCharge::Waiting {
                        charge: charge(raw),
                    })
                }
            };
        }
        let uncertain = code == wire::UNKNOWN_OUTCOME || reply.error_code().ends_with(SYSTEM_ERROR);
        let refused = !uncertain
            && ((code == wire::BUSINESS_FAILED && reply.signed)
                // Refused at the gateway (bad app id, bad request signature): no trade was
                // made, and Alipay never signs these.
                || code == wire::INVALID_ARGUMENTS);
        if refused {
            return Err(reply.into_rejected());
        }
        if code != wire::PAY_IN_PROCESS {
            tracing::warn!(
                %out_trade_no,
                code,
                sub_code = reply.error_code(),
                signed = reply.signed,
                "Alipay trade.pay outcome unknown; the trade is queried until it settles"
            );
        }
        Ok(CodeCharge::Waiting {
            charge: charge(reply.body),
        })
    }

    /// trade.pay got no usable answer. Never sent (no connection) → the error. A reply that
    /// failed its signature check → the trade is cancelled at once (refunded if it was paid)
    /// and the error returned, so no customer pays for a sale the till was told was forged;
    /// if the cancel gets no signed answer either, or anything else went wrong after sending,
    /// the charge waits and the watcher settles or cancels it.
    async fn after_failed_pay(
        &self,
        err: ProviderError,
        out_trade_no: &str,
        charge: impl Fn(String) -> Charge,
    ) -> Result<CodeCharge, ProviderError> {
        if crate::http::never_sent(&err) {
            return Err(err);
        }
        if let ProviderError::BadSignature { detail, .. } = &err {
            match self.withdraw(out_trade_no).await {
                Ok(cancelled) => {
                    let refunded = cancelled.fields.action.as_deref() == Some("refund");
                    return Err(ProviderError::BadSignature {
                        provider: KIND,
                        detail: format!(
                            "{detail} Shopcast cancelled the payment at Alipay{}; scan the \
                             customer's code again.",
                            if refunded {
                                " and the customer's money goes back"
                            } else {
                                ""
                            }
                        ),
                    });
                }
                Err(cancel_err) => tracing::warn!(
                    out_trade_no,
                    error = %cancel_err,
                    "could not cancel a trade.pay whose answer failed its signature"
                ),
            }
        }
        tracing::warn!(out_trade_no, error = %err, "Alipay trade.pay outcome unknown");
        let raw = serde_json::json!({
            "method": wire::PAY,
            "out_trade_no": out_trade_no,
            "outcome_unknown": err.to_string(),
        });
        Ok(CodeCharge::Waiting {
            charge: charge(raw.to_string()),
        })
    }
}
