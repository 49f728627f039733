//! Alipay face-to-face (当面付) and web payments: the till shows a QR from
//! `alipay.trade.precreate`; the shop page sends the buyer's browser to a signed
//! `alipay.trade.wap.pay` (phone) or `alipay.trade.page.pay` (computer) address. The watcher
//! asks `alipay.trade.query` about each open charge; expired ones are withdrawn with
//! `alipay.trade.cancel` (QR) or `alipay.trade.close` (web). Every request is RSA2-signed and
//! every reply's signature checked; [`notify`] checks Alipay's asynchronous notifications.
//!
//! [`sign`] holds the cryptography, [`wire`] the request and reply shapes; this module talks
//! HTTP through the shared [`crate::http`] plumbing.

mod code;
pub mod notify;
pub mod sign;
pub mod wire;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use jiff::Timestamp;
use reqwest::Url;

use crate::http;
use crate::poll::DueCharges;
pub use crate::poll::PollSchedule;
use crate::provider::{
    Charge, ChargeRequest, CodeCharge, OpenCharge, PaymentProvider, PaymentStatus, PollOutcome,
    ProviderError, ProviderEvent, ProviderKind, Refund, RefundRequest, WebCheckout,
};
use sign::{AlipayPublicKey, AppPrivateKey};
use wire::{BizContent, Reply};

const KIND: ProviderKind = ProviderKind::Alipay;

/// Which Alipay gateway to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gateway {
    Production,
    /// The open-platform sandbox (沙箱), with its own app id and keys.
    Sandbox,
    /// Any other URL: a local stub in tests.
    Custom(Url),
}

impl Gateway {
    pub const PRODUCTION: &str = "https://openapi.alipay.com/gateway.do";
    pub const SANDBOX: &str = "https://openapi-sandbox.dl.alipaydev.com/gateway.do";

    pub fn url(&self) -> Url {
        let fixed = match self {
            Gateway::Production => Self::PRODUCTION,
            Gateway::Sandbox => Self::SANDBOX,
            Gateway::Custom(url) => return url.clone(),
        };
        Url::parse(fixed).expect("the Alipay gateway URLs are valid")
    }
}

/// What the owner pastes into Alipay settings. Keys may be PEM or bare base64, PKCS#8 or
/// PKCS#1 (SubjectPublicKeyInfo or PKCS#1 for the public key).
#[derive(Clone)]
pub struct AlipayConfig {
    pub gateway: Gateway,
    pub app_id: String,
    /// The app private key (应用私钥) that signs our requests.
    pub app_private_key: String,
    /// Alipay's public key (支付宝公钥) that checks Alipay's replies.
    pub alipay_public_key: String,
    /// Where Alipay posts payment notifications, if the shop has a public address.
    pub notify_url: Option<String>,
}

impl fmt::Debug for AlipayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlipayConfig")
            .field("gateway", &self.gateway)
            .field("app_id", &self.app_id)
            .field("app_private_key", &"<redacted>")
            .field("alipay_public_key", &"<redacted>")
            .field("notify_url", &self.notify_url)
            .finish()
    }
}

/// The Alipay face-to-face provider.
pub struct AlipayProvider {
    gateway: Url,
    app_id: String,
    app_key: AppPrivateKey,
    alipay_key: AlipayPublicKey,
    notify_url: Option<String>,
    http: reqwest::Client,
    due: DueCharges,
}

impl fmt::Debug for AlipayProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlipayProvider")
            .field("gateway", &self.gateway.as_str())
            .field("app_id", &self.app_id)
            .field("app_key", &self.app_key)
            .field("alipay_key", &self.alipay_key)
            .field("notify_url", &self.notify_url)
            .finish_non_exhaustive()
    }
}

impl AlipayProvider {
    /// Reads the keys; a key that cannot be used is a [`ProviderError::Config`] saying what
    /// to paste instead.
    pub fn new(config: AlipayConfig) -> Result<Self, ProviderError> {
        let app_id = config.app_id.trim().to_string();
        if app_id.is_empty() {
            return Err(ProviderError::Config {
                provider: KIND,
                detail: "The Alipay app ID (APPID) is empty. Copy it from the Alipay open \
                         platform console."
                    .to_string(),
            });
        }
        let gateway = config.gateway.url();
        http::check_remote_url(KIND, "Alipay gateway", &gateway)?;
        Ok(Self {
            gateway,
            app_id,
            app_key: AppPrivateKey::parse(&config.app_private_key)?,
            alipay_key: AlipayPublicKey::parse(&config.alipay_public_key)?,
            notify_url: config.notify_url.filter(|url| !url.trim().is_empty()),
            http: http::client(),
            due: DueCharges::default(),
        })
    }

    pub fn with_poll_schedule(mut self, schedule: PollSchedule) -> Self {
        self.due = DueCharges::new(schedule);
        self
    }

    /// Every parameter of one request, `sign` included, as sent at `at`. Public so tests can
    /// compare the exact bytes with the official SDK's.
    pub fn request_params(
        &self,
        method: &str,
        content: &BizContent,
        at: Timestamp,
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        let notify_url = self.notify_url.as_deref();
        Ok(self
            .signed(method, content, at, notify_url, None)?
            .into_iter()
            .collect())
    }

    /// The address the buyer's browser goes to for a web payment (`wap.pay` on a phone,
    /// `page.pay` on a computer), signed at `at`: the gateway request in its GET form, laid
    /// out as the official SDK's `page_execute(request, "GET")` lays it out (common
    /// parameters in the SDK's order, then `biz_content`, each value form-encoded).
    pub fn web_pay_url(
        &self,
        request: &ChargeRequest,
        web: &WebCheckout,
        out_trade_no: &str,
        at: Timestamp,
    ) -> Result<String, ProviderError> {
        let method = if web.phone {
            wire::WAP_PAY
        } else {
            wire::PAGE_PAY
        };
        let content = wire::web_pay_content(request, out_trade_no, web.phone)?;
        let return_url = web_address(&web.return_url, "return")?;
        let notify_url = match web.notify_url.as_deref().filter(|u| !u.trim().is_empty()) {
            Some(url) => Some(web_address(url, "notify")?),
            None => None,
        };
        let params = self.signed(
            method,
            &content,
            at,
            notify_url.as_deref(),
            Some(&return_url),
        )?;
        let mut gateway = self.gateway.clone();
        gateway.set_query(None);
        gateway.set_fragment(None);
        let mut url = gateway.to_string();
        let mut separator = '?';
        for (key, value) in &params {
            url.push(separator);
            url.push_str(key);
            url.push('=');
            url.push_str(&wire::form_encode(value));
            separator = '&';
        }
        Ok(url)
    }

    /// The signed parameters of one request in the order the official SDK writes them:
    /// common parameters, `sign`, then `biz_content`.
    fn signed(
        &self,
        method: &str,
        content: &BizContent,
        at: Timestamp,
        notify_url: Option<&str>,
        return_url: Option<&str>,
    ) -> Result<Vec<(String, String)>, ProviderError> {
        let mut params: Vec<(String, String)> = [
            ("timestamp", wire::format_time(at)),
            ("app_id", self.app_id.clone()),
            ("method", method.to_string()),
            ("charset", "utf-8".to_string()),
            ("format", "JSON".to_string()),
            ("version", "1.0".to_string()),
            ("sign_type", "RSA2".to_string()),
        ]
        .into_iter()
        .chain(notify_url.map(|url| ("notify_url", url.to_string())))
        .chain(return_url.map(|url| ("return_url", url.to_string())))
        .map(|(key, value)| (key.to_string(), value))
        .collect();
        let biz_content = ("biz_content".to_string(), content.to_json());
        let sign = sign::sign_request(
            params
                .iter()
                .chain(std::iter::once(&biz_content))
                .map(|(k, v)| (k, v)),
            &self.app_key,
        )?;
        params.push(("sign".to_string(), sign));
        params.push(biz_content);
        Ok(params)
    }

    /// A web payment: nothing is sent; the signed gateway address is the charge, and the
    /// trade exists at Alipay only once the buyer opens it.
    fn web_charge(
        &self,
        request: &ChargeRequest,
        web: &WebCheckout,
    ) -> Result<Charge, ProviderError> {
        let out_trade_no = wire::web_trade_number(&request.order_ref);
        let url = self.web_pay_url(request, web, &out_trade_no, Timestamp::now())?;
        let method = if web.phone {
            wire::WAP_PAY
        } else {
            wire::PAGE_PAY
        };
        Ok(Charge {
            raw: serde_json::json!({ "method": method, "out_trade_no": out_trade_no }).to_string(),
            charge_ref: out_trade_no,
            qr_payload: url,
            expires_at: request.expires_at,
        })
    }

    /// Sends one call and returns its reply once the signature checked out. The reply may
    /// still be a business error (`code` other than 10000): callers decide what that means.
    async fn call(&self, method: &str, content: &BizContent) -> Result<Reply, ProviderError> {
        let mut params = self.request_params(method, content, Timestamp::now())?;
        // Like the official SDKs: protocol parameters in the query string, so the gateway
        // knows the charset before it decodes the body; the business content in the body.
        let body = BTreeMap::from([(
            "biz_content",
            params.remove("biz_content").unwrap_or_default(),
        )]);
        let request = self
            .http
            .post(self.gateway.clone())
            .query(&params)
            .form(&body);
        let response = http::send(KIND, request).await?;
        if response.status != 200 {
            return Err(ProviderError::BadResponse {
                provider: KIND,
                detail: format!(
                    "HTTP {}: {}",
                    response.status,
                    http::truncate(&response.text(), 500)
                ),
            });
        }
        let reply = read_reply(method, &response.body, &self.alipay_key)?;
        // A signed answer about another trade must change nothing here.
        if let Some(asked) = content.get("out_trade_no") {
            match reply.fields.out_trade_no.as_deref() {
                Some(answered) if answered != asked => {
                    return Err(bad_response(format!(
                        "asked {method} about trade {asked} and got an answer about {answered}"
                    )));
                }
                None if reply.is_success() => {
                    return Err(bad_response(format!(
                        "the {method} answer about trade {asked} does not say which trade it is"
                    )));
                }
                _ => {}
            }
        }
        Ok(reply)
    }

    /// Asks about one open charge; `Some` when it settled or expired.
    async fn check(&self, charge: &OpenCharge) -> Result<Option<ProviderEvent>, ProviderError> {
        // Amounts below are read as yuan: a charge in another currency cannot be one of ours.
        wire::check_currency(&charge.currency)?;
        let reply = self
            .call(wire::QUERY, &wire::trade_content(&charge.charge_ref))
            .await?;
        let expired = Timestamp::now() > charge.expires_at;
        if !reply.is_success() {
            // Nobody has scanned the QR (or opened the web payment page) yet: Alipay has no
            // trade until then, so the charge waits until it expires. Only Alipay's signed
            // word may expire a charge: anyone on the path can forge an unsigned one.
            if reply.error_code() == wire::TRADE_NOT_EXIST {
                if !reply.signed {
                    return Err(unsigned(&reply, "expire this QR"));
                }
                return self.expire_if_due(charge, expired).await;
            }
            return Err(reply.into_rejected());
        }
        let status = reply.fields.trade_status.clone().unwrap_or_default();
        match status.as_str() {
            "TRADE_SUCCESS" | "TRADE_FINISHED" => paid_event(charge, &status, reply).map(Some),
            "TRADE_CLOSED" => Ok(Some(expired_event(
                charge,
                state_event_id(&charge.charge_ref, "TRADE_CLOSED"),
                reply,
            ))),
            "WAIT_BUYER_PAY" => self.expire_if_due(charge, expired).await,
            other => Err(bad_response(format!("unknown trade_status {other:?}"))),
        }
    }

    /// A charge past its expiry is withdrawn at Alipay (so a late scan cannot pay it) and
    /// reported as expired.
    async fn expire_if_due(
        &self,
        charge: &OpenCharge,
        expired: bool,
    ) -> Result<Option<ProviderEvent>, ProviderError> {
        if !expired {
            return Ok(None);
        }
        let reply = match self.withdraw(&charge.charge_ref).await {
            // Paid between the query and the close: the next query records the payment.
            Err(ProviderError::Paid { .. }) => return Ok(None),
            other => other?,
        };
        Ok(Some(expired_event(
            charge,
            format!("expired:{}", charge.charge_ref),
            reply,
        )))
    }

    /// Withdraws a trade: a till QR or a scanned payment code (`_C`) with `trade.cancel`, a
    /// web payment with `trade.close` (cancel is face-to-face's; close never refunds, so a web
    /// payment that went through at the last moment stays paid and the next query records
    /// it). A trade Alipay never heard of (QR not scanned, page not opened) needs no
    /// withdrawing. Note: cancel refunds a trade paid in the meantime (a payment code the
    /// customer confirmed just as the till gave up); the reply's `action` ("close" or
    /// "refund") says which happened and is kept in the raw reply.
    async fn withdraw(&self, out_trade_no: &str) -> Result<Reply, ProviderError> {
        let (method, what) = if wire::is_code_trade(out_trade_no) {
            (wire::CANCEL, "payment code")
        } else if wire::is_web_trade(out_trade_no) {
            (wire::CLOSE, "payment page")
        } else {
            (wire::CANCEL, "QR")
        };
        let reply = self
            .call(method, &wire::trade_content(out_trade_no))
            .await?;
        if reply.is_success() {
            Ok(reply)
        } else if !reply.signed {
            // The engine takes a refusal to mean "already closed there"; unsigned, it may not.
            Err(unsigned(&reply, &format!("treat this {what} as withdrawn")))
        } else if reply.error_code() == wire::TRADE_NOT_EXIST {
            Ok(reply)
        } else if method == wire::CLOSE && reply.error_code() == wire::TRADE_STATUS_ERROR {
            // Close refuses a trade that is no longer waiting: paid (the charge must stay
            // watched so the payment is recorded) or already closed.
            let state = self
                .call(wire::QUERY, &wire::trade_content(out_trade_no))
                .await?;
            match state.fields.trade_status.as_deref() {
                Some("TRADE_SUCCESS" | "TRADE_FINISHED") if state.is_success() => {
                    Err(ProviderError::Paid { provider: KIND })
                }
                Some("TRADE_CLOSED") if state.is_success() => Ok(state),
                _ => Err(reply.into_rejected()),
            }
        } else {
            Err(reply.into_rejected())
        }
    }
}

/// Reads a gateway reply: finds the `<method>_response` object (or `error_response`) as the
/// exact bytes received, checks Alipay's signature over them, and parses only those bytes.
/// An unsigned reply is accepted only as an error; an unsigned success is
/// [`ProviderError::BadSignature`].
pub fn read_reply(
    method: &str,
    body: &[u8],
    alipay_key: &AlipayPublicKey,
) -> Result<Reply, ProviderError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| bad_response("the reply is not UTF-8 text".to_string()))?;
    let top: serde_json::Value = serde_json::from_str(text).map_err(|err| {
        bad_response(format!(
            "the reply is not JSON ({err}): {}",
            http::truncate(text, 300)
        ))
    })?;
    let key = wire::response_key(method);
    let object = wire::response_object(text, &key)
        .or_else(|| wire::response_object(text, "error_response"))
        .ok_or_else(|| {
            bad_response(format!(
                "the reply has no {key} object: {}",
                http::truncate(text, 300)
            ))
        })?;
    let fields: wire::ReplyFields = serde_json::from_str(object)
        .map_err(|err| bad_response(format!("the {key} object is malformed ({err})")))?;
    let mut reply = Reply {
        fields,
        signed: false,
        object: object.to_string(),
        body: text.to_string(),
    };
    match top.get("sign").and_then(serde_json::Value::as_str) {
        Some(signature) => {
            reply.signed = true;
            if !sign::verify(object.as_bytes(), signature, alipay_key) {
                return Err(ProviderError::BadSignature {
                    provider: KIND,
                    detail: "the reply's signature does not match the Alipay public key in \
                             settings. If this keeps happening, check that the Alipay public \
                             key (支付宝公钥) was pasted, not the app public key."
                        .to_string(),
                });
            }
        }
        // Alipay leaves some gateway-level errors (bad app id, bad request signature) unsigned.
        None if !reply.is_success() => {}
        None => {
            return Err(ProviderError::BadSignature {
                provider: KIND,
                detail: "the reply reports success but carries no signature".to_string(),
            });
        }
    }
    Ok(reply)
}

/// A return or notify address for a web payment: https, or loopback http (tests, a shop
/// page on this computer), as Alipay itself only calls public https addresses back.
fn web_address(url: &str, what: &str) -> Result<String, ProviderError> {
    let parsed = Url::parse(url.trim()).map_err(|_| ProviderError::Config {
        provider: KIND,
        detail: format!("The {what} address {url:?} for Alipay is not a full URL."),
    })?;
    http::check_remote_url(KIND, &format!("Alipay {what} address"), &parsed)?;
    Ok(url.trim().to_string())
}

fn bad_response(detail: String) -> ProviderError {
    ProviderError::BadResponse {
        provider: KIND,
        detail,
    }
}

/// An unsigned error reply where acting on it would need Alipay's signed word.
fn unsigned(reply: &Reply, action: &str) -> ProviderError {
    ProviderError::BadSignature {
        provider: KIND,
        detail: format!(
            "Alipay's answer ({} {}) carries no signature, so Shopcast will not {action} on \
             its word; it asks again.",
            reply.error_code(),
            reply.fields.sub_msg.as_deref().unwrap_or_default()
        ),
    }
}

/// The event id of trade `out_trade_no` reaching `trade_status`, whoever saw it: the poll's
/// `trade.query` or Alipay's notification. One id for both is what lets the ledger record
/// the payment once.
pub fn state_event_id(out_trade_no: &str, trade_status: &str) -> String {
    format!("query:{out_trade_no}:{trade_status}")
}

fn paid_event(
    charge: &OpenCharge,
    status: &str,
    reply: Reply,
) -> Result<ProviderEvent, ProviderError> {
    let amount_text = reply.fields.total_amount.as_deref().unwrap_or_default();
    let amount_minor = wire::parse_yuan(amount_text).ok_or_else(|| {
        bad_response(format!(
            "a paid trade with an unreadable total_amount {amount_text:?}"
        ))
    })?;
    let occurred_at = reply
        .fields
        .send_pay_date
        .as_deref()
        .and_then(wire::parse_time)
        .unwrap_or_else(Timestamp::now);
    Ok(event(
        charge,
        state_event_id(&charge.charge_ref, status),
        PaymentStatus::Paid,
        amount_minor,
        reply.fields.trade_no.clone(),
        occurred_at,
        reply.body,
    ))
}

/// The charge ended unpaid (closed at Alipay, or cancelled there once it expired), now.
fn expired_event(charge: &OpenCharge, event_id: String, reply: Reply) -> ProviderEvent {
    event(
        charge,
        event_id,
        PaymentStatus::Expired,
        charge.amount_minor,
        reply.fields.trade_no.clone(),
        Timestamp::now(),
        reply.body,
    )
}

fn event(
    charge: &OpenCharge,
    event_id: String,
    status: PaymentStatus,
    amount_minor: i64,
    trade_no: Option<String>,
    occurred_at: Timestamp,
    raw: String,
) -> ProviderEvent {
    ProviderEvent {
        event_id,
        // Alipay's trade_no once the QR was scanned; our number before that.
        provider_ref: trade_no
            .filter(|number| !number.is_empty())
            .unwrap_or_else(|| charge.charge_ref.clone()),
        order_ref: Some(charge.order_ref.clone()),
        charge_ref: Some(charge.charge_ref.clone()),
        status,
        amount_minor,
        currency: "CNY".to_string(),
        refunded_total_minor: None,
        method: Some("alipay".to_string()),
        source_tag: None,
        occurred_at,
        raw,
    }
}

#[async_trait]
impl PaymentProvider for AlipayProvider {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    async fn create_charge(&self, request: &ChargeRequest) -> Result<Charge, ProviderError> {
        if let Some(web) = &request.web {
            return self.web_charge(request, web);
        }
        let out_trade_no = wire::trade_number(&request.order_ref);
        let content = wire::precreate_content(request, &out_trade_no)?;
        let reply = self.call(wire::PRECREATE, &content).await?;
        if !reply.is_success() {
            return Err(reply.into_rejected());
        }
        let qr_code = reply
            .fields
            .qr_code
            .clone()
            .filter(|code| !code.is_empty())
            .ok_or_else(|| bad_response("the precreate reply has no qr_code".to_string()))?;
        Ok(Charge {
            charge_ref: out_trade_no,
            qr_payload: qr_code,
            expires_at: request.expires_at,
            raw: reply.body,
        })
    }

    /// Queries each due open charge (see [`PollSchedule`], [`DueCharges::poll_each`]).
    async fn poll(
        &self,
        _cursor: Option<&str>,
        open: &[OpenCharge],
    ) -> Result<PollOutcome, ProviderError> {
        self.due.poll_each(open, |charge| self.check(charge)).await
    }

    async fn charge_code(
        &self,
        request: &ChargeRequest,
        auth_code: &str,
    ) -> Result<CodeCharge, ProviderError> {
        self.pay_with_code(request, auth_code).await
    }

    async fn cancel(&self, charge: &OpenCharge) -> Result<(), ProviderError> {
        self.withdraw(&charge.charge_ref).await?;
        self.due.forget(&charge.charge_ref);
        Ok(())
    }

    async fn refund(&self, request: &RefundRequest) -> Result<Refund, ProviderError> {
        let content = wire::refund_content(request)?;
        let reply = self.call(wire::REFUND, &content).await?;
        if !reply.is_success() {
            return Err(reply.into_rejected());
        }
        let refunded_total_minor = match reply.fields.refund_fee.as_deref() {
            Some(text) => Some(wire::parse_yuan(text).ok_or_else(|| {
                bad_response(format!(
                    "unreadable refund_fee {text:?} in the refund reply"
                ))
            })?),
            None => None,
        };
        Ok(Refund {
            refund_id: request.refund_ref.clone(),
            amount_minor: request.amount_minor,
            refunded_total_minor,
            raw: reply.body,
        })
    }
}
