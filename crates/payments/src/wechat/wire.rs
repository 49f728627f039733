//! WeChat Pay APIv3 request and reply shapes (Native, codepay, query, reverse, refunds), as
//! documented on pay.weixin.qq.com/docs/merchant/apis; amounts in fen, times in RFC 3339.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use crate::trade_number::numbered;

use crate::provider::{
    CODE_TRADE_SUFFIX, ChargeRequest, PaymentStatus, ProviderError, ProviderEvent, ProviderKind,
    RefundRequest,
};

const KIND: ProviderKind = ProviderKind::Wechat;

/// Native prepay: a QR (code_url) for the till.
pub const NATIVE: &str = "/v3/pay/transactions/native";
/// Charge a payment code (付款码) the cashier scanned.
pub const CODEPAY: &str = "/v3/pay/transactions/codepay";
/// Create a refund (POST) and, with `/{out_refund_no}`, query it (GET).
pub const REFUNDS: &str = "/v3/refund/domestic/refunds";
/// The platform certificates (平台证书), encrypted with the APIv3 key.
pub const CERTIFICATES: &str = "/v3/certificates";

/// out_trade_no / out_refund_no: at most 32 of `[0-9A-Za-z_-*]` (at least 6).
pub const NUMBER_MAX_CHARS: usize = 32;

/// Where WeChat Pay would post notifications when the shop has no public address: Native
/// requires a notify_url; this one (a reserved name) receives nothing, and polling records
/// the payment.
pub const PLACEHOLDER_NOTIFY_URL: &str = "https://shopcast.invalid/hooks/wechat";

/// The event id of a trade reaching `trade_state`, whoever saw it (query or notification):
/// one id for both lets the ledger record the payment once.
pub fn state_event_id(out_trade_no: &str, trade_state: &str) -> String {
    format!("query:{out_trade_no}:{trade_state}")
}

/// A new out_trade_no for a Native QR: the order reference (letters, digits, `_`), `_`, a
/// short time-based suffix. A new QR for the same order gets a new number, as WeChat Pay
/// keeps a number for good once used.
pub fn trade_number(order_ref: &str) -> String {
    numbered(order_ref, "", NUMBER_MAX_CHARS)
}

/// A new out_trade_no for a payment code, ending in [`CODE_TRADE_SUFFIX`] so withdrawing it
/// reverses (撤销) rather than closes it.
pub fn code_trade_number(order_ref: &str) -> String {
    numbered(order_ref, CODE_TRADE_SUFFIX, NUMBER_MAX_CHARS)
}

/// Whether a trade number is a payment code's (reversed on withdrawal, never closed).
pub use crate::trade_number::is_code_trade;

/// WeChat Pay here (a mainland direct merchant) settles in fen only; anything else is refused
/// before a request is sent.
pub fn check_currency(currency: &str) -> Result<(), ProviderError> {
    crate::china::check_currency(KIND, currency)
}

fn check_amount(minor: i64) -> Result<(), ProviderError> {
    if minor > 0 {
        return Ok(());
    }
    Err(ProviderError::Amount {
        provider: KIND,
        detail: format!("{minor} fen is not an amount WeChat Pay can charge"),
    })
}

/// `description`: 1–127 characters; the subject cut there, never empty.
fn description(subject: &str) -> String {
    let text: String = subject.trim().chars().take(127).collect();
    if text.is_empty() {
        "Shopcast".to_string()
    } else {
        text
    }
}

/// The order reference travels in `attach` (returned by queries and notifications).
fn attach(order_ref: &str) -> String {
    order_ref.chars().take(127).collect()
}

/// The body of a Native prepay (`/v3/pay/transactions/native`).
pub fn native_body(
    request: &ChargeRequest,
    appid: &str,
    mchid: &str,
    out_trade_no: &str,
    notify_url: &str,
) -> Result<String, ProviderError> {
    check_currency(&request.currency)?;
    check_amount(request.amount_minor)?;
    Ok(json!({
        "appid": appid,
        "mchid": mchid,
        "description": description(&request.subject),
        "out_trade_no": out_trade_no,
        "time_expire": crate::china::rfc3339(request.expires_at),
        "attach": attach(&request.order_ref),
        "notify_url": notify_url,
        "amount": { "total": request.amount_minor, "currency": "CNY" },
    })
    .to_string())
}

/// The body of a payment-code charge (`/v3/pay/transactions/codepay`). `scene_info` is
/// required; the till's tag (or "till") names the counter in `store_info.out_id`.
pub fn codepay_body(
    request: &ChargeRequest,
    appid: &str,
    mchid: &str,
    out_trade_no: &str,
    auth_code: &str,
) -> Result<String, ProviderError> {
    check_currency(&request.currency)?;
    check_amount(request.amount_minor)?;
    let counter: String = request
        .source_tag
        .as_deref()
        .unwrap_or("till")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .take(32)
        .collect();
    Ok(json!({
        "appid": appid,
        "mchid": mchid,
        "description": description(&request.subject),
        "out_trade_no": out_trade_no,
        "attach": attach(&request.order_ref),
        "payer": { "auth_code": auth_code },
        "amount": { "total": request.amount_minor, "currency": "CNY" },
        "scene_info": { "store_info": { "out_id": if counter.is_empty() { "till".to_string() } else { counter } } },
    })
    .to_string())
}

/// The body of a refund: `total` is the whole payment's amount, as WeChat Pay checks it.
pub fn refund_body(
    request: &RefundRequest,
    out_trade_no: Option<&str>,
    total_minor: i64,
) -> Result<String, ProviderError> {
    check_currency(&request.currency)?;
    check_amount(request.amount_minor)?;
    let mut body = json!({
        "out_refund_no": request.refund_ref,
        "amount": {
            "refund": request.amount_minor,
            "total": total_minor,
            "currency": "CNY",
        },
    });
    match out_trade_no {
        Some(number) => body["out_trade_no"] = json!(number),
        None => body["transaction_id"] = json!(request.provider_ref),
    }
    if let Some(reason) = request.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        body["reason"] = json!(reason.chars().take(80).collect::<String>());
    }
    Ok(body.to_string())
}

/// `{"code": …, "message": …}`, WeChat Pay's error shape (202 USERPAYING too).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorReply {
    /// WeChat Pay's error code ("ORDER_NOT_EXIST", "USERPAYING", …); empty when absent.
    #[serde(default)]
    pub code: String,
    /// WeChat Pay's words for it (Chinese), shown to the owner.
    #[serde(default)]
    pub message: String,
}

/// A transaction's `amount`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TransactionAmount {
    /// The order's amount in fen.
    pub total: Option<i64>,
    /// What the customer paid in fen (less than `total` after coupons).
    pub payer_total: Option<i64>,
    /// "CNY".
    pub currency: Option<String>,
}

/// A transaction's `payer`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Payer {
    /// The customer's id under our AppID.
    pub openid: Option<String>,
}

/// The documented transaction object (query, codepay, notification resource).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Transaction {
    /// The AppID the trade was made under (must be ours).
    pub appid: Option<String>,
    /// The merchant number (must be ours).
    pub mchid: Option<String>,
    /// Our trade number.
    pub out_trade_no: Option<String>,
    /// WeChat Pay's id for the payment, once paid.
    pub transaction_id: Option<String>,
    /// "NATIVE", "MICROPAY" (payment code), …
    pub trade_type: Option<String>,
    /// SUCCESS, REFUND, NOTPAY, CLOSED, REVOKED, USERPAYING, PAYERROR.
    pub trade_state: Option<String>,
    /// WeChat Pay's words for the state.
    pub trade_state_desc: Option<String>,
    /// When it was paid (RFC 3339).
    pub success_time: Option<String>,
    /// Our order reference, echoed back.
    pub attach: Option<String>,
    /// The amounts in fen.
    pub amount: Option<TransactionAmount>,
    /// Who paid.
    pub payer: Option<Payer>,
}

/// `{"code_url": …}` from a Native prepay.
#[derive(Debug, Clone, Deserialize)]
pub struct NativeReply {
    /// The weixin:// text to put in the QR.
    pub code_url: String,
}

/// The identity fields of a reverse reply.
#[derive(Debug, Clone, Deserialize)]
pub struct ReverseReply {
    /// The AppID of the reversed trade.
    pub appid: Option<String>,
    /// The merchant number of the reversed trade.
    pub mchid: Option<String>,
    /// The trade number that was reversed.
    pub out_trade_no: Option<String>,
}

/// A refund's `amount`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RefundAmount {
    /// Refunded by this refund, in fen.
    pub refund: Option<i64>,
    /// The whole payment, in fen.
    pub total: Option<i64>,
    /// "CNY".
    pub currency: Option<String>,
}

/// A refund (create and query replies).
#[derive(Debug, Clone, Deserialize)]
pub struct RefundReply {
    /// WeChat Pay's id for the refund.
    pub refund_id: Option<String>,
    /// Our refund number (a retry uses the same one).
    pub out_refund_no: String,
    /// The trade refunded.
    pub out_trade_no: Option<String>,
    /// PROCESSING, SUCCESS, CLOSED or ABNORMAL.
    pub status: String,
    /// The amounts in fen.
    pub amount: Option<RefundAmount>,
}

/// One entry of `/v3/certificates`.
#[derive(Debug, Clone, Deserialize)]
pub struct CertificateEntry {
    /// The certificate's serial (as in Wechatpay-Serial).
    pub serial_no: String,
    /// The certificate's PEM, encrypted with the APIv3 key.
    pub encrypt_certificate: EncryptedResource,
}

/// Text sealed with the APIv3 key (certificates, notification resources).
#[derive(Debug, Clone, Deserialize)]
pub struct EncryptedResource {
    /// "AEAD_AES_256_GCM".
    pub algorithm: String,
    /// The GCM nonce, as text.
    pub nonce: String,
    /// The GCM associated data (may be empty).
    #[serde(default)]
    pub associated_data: String,
    /// base64 of ciphertext and tag.
    pub ciphertext: String,
}

/// The `/v3/certificates` reply.
#[derive(Debug, Clone, Deserialize)]
pub struct CertificateList {
    /// Every certificate currently valid for the merchant.
    pub data: Vec<CertificateEntry>,
}

/// Parses a reply body (already verified) as `T`; anything else is a sentence.
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|err| ProviderError::BadResponse {
        provider: KIND,
        detail: format!(
            "the {what} reply is not what WeChat Pay documents ({err}): {}",
            crate::http::truncate(&String::from_utf8_lossy(body), 300)
        ),
    })
}

fn bad_response(detail: String) -> ProviderError {
    ProviderError::BadResponse {
        provider: KIND,
        detail,
    }
}

/// SUCCESS → Paid, CLOSED/REVOKED → Expired, PAYERROR → Failed; NOTPAY/USERPAYING → None.
/// REFUND (paid, then refunded in part or whole) is the payment, under SUCCESS's event id, so
/// a payment first seen after its refund is still recorded once. `raw` kept as received.
pub fn transaction_event(
    transaction: &Transaction,
    order_ref: Option<String>,
    raw: String,
) -> Result<Option<ProviderEvent>, ProviderError> {
    let out_trade_no = transaction
        .out_trade_no
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad_response("the transaction has no out_trade_no".to_string()))?;
    let mut state = transaction.trade_state.as_deref().unwrap_or_default();
    let status = match state {
        "SUCCESS" => PaymentStatus::Paid,
        "REFUND" => {
            state = "SUCCESS";
            PaymentStatus::Paid
        }
        "CLOSED" | "REVOKED" => PaymentStatus::Expired,
        "PAYERROR" => PaymentStatus::Failed,
        "NOTPAY" | "USERPAYING" => return Ok(None),
        other => return Err(bad_response(format!("unknown trade_state {other:?}"))),
    };
    let amount = transaction.amount.clone().unwrap_or_default();
    let currency = amount.currency.clone().unwrap_or_else(|| "CNY".to_string());
    if currency != "CNY" {
        return Err(bad_response(format!(
            "trade {out_trade_no} is in {currency}, not CNY"
        )));
    }
    let amount_minor = match (status, amount.total) {
        (_, Some(total)) if total >= 0 => total,
        (PaymentStatus::Paid, _) => {
            return Err(bad_response(format!(
                "paid trade {out_trade_no} states no amount.total"
            )));
        }
        _ => 0,
    };
    let transaction_id = transaction
        .transaction_id
        .clone()
        .filter(|id| !id.is_empty());
    if status == PaymentStatus::Paid && transaction_id.is_none() {
        return Err(bad_response(format!(
            "paid trade {out_trade_no} has no transaction_id"
        )));
    }
    let occurred_at = transaction
        .success_time
        .as_deref()
        .and_then(|t| t.parse::<Timestamp>().ok())
        .unwrap_or_else(Timestamp::now);
    let order_ref = order_ref.or_else(|| transaction.attach.clone().filter(|a| !a.is_empty()));
    Ok(Some(ProviderEvent {
        event_id: state_event_id(&out_trade_no, state),
        // WeChat's transaction_id once paid; our number before that.
        provider_ref: transaction_id.unwrap_or_else(|| out_trade_no.clone()),
        order_ref,
        charge_ref: Some(out_trade_no),
        status,
        amount_minor,
        currency,
        refunded_total_minor: None,
        method: Some("wechat".to_string()),
        source_tag: None,
        occurred_at,
        raw,
    }))
}
