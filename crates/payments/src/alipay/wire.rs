//! The Alipay open-platform wire format: method names, `biz_content` for each call, yuan
//! amounts and Beijing-time timestamps as Alipay writes them, and reading a gateway reply
//! without ever re-serialising the part that was signed.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::DateTime;

use crate::trade_number::numbered;
use serde::Deserialize;

use crate::provider::{
    CODE_TRADE_SUFFIX, ChargeRequest, ProviderError, ProviderKind, RefundRequest,
};

pub const PRECREATE: &str = "alipay.trade.precreate";
pub const QUERY: &str = "alipay.trade.query";
pub const CANCEL: &str = "alipay.trade.cancel";
pub const REFUND: &str = "alipay.trade.refund";
/// 手机网站支付: the buyer's phone browser goes to the gateway (and on to the Alipay app).
pub const WAP_PAY: &str = "alipay.trade.wap.pay";
/// 电脑网站支付: the buyer's computer browser goes to Alipay's cashier page.
pub const PAGE_PAY: &str = "alipay.trade.page.pay";
/// Closes a web trade the buyer opened and did not pay (no refund, unlike `trade.cancel`).
pub const CLOSE: &str = "alipay.trade.close";
/// 付款码支付: the cashier scanned the customer's payment code (条码支付, scene `bar_code`).
pub const PAY: &str = "alipay.trade.pay";

/// `product_code` of each web payment, as signed with Alipay.
pub const WAP_PRODUCT: &str = "QUICK_WAP_WAY";
pub const PAGE_PRODUCT: &str = "FAST_INSTANT_TRADE_PAY";
/// `product_code` of face-to-face payments (当面付), payment codes included.
pub const FACE_TO_FACE_PRODUCT: &str = "FACE_TO_FACE_PAYMENT";
/// `scene` of a payment code read by a barcode scanner.
pub const BAR_CODE_SCENE: &str = "bar_code";

/// The end of every web trade number. Till numbers end in `_` and lower-case base-36 digits,
/// so the mark cannot occur there: the number alone says how to poll and close the trade.
const WEB_MARK: &str = "_W";

/// `code` of every successful reply.
pub const SUCCESS: &str = "10000";
/// `code` of a `trade.pay` taken but waiting for the customer to confirm on the phone
/// (`WAIT_BUYER_PAY`).
pub const PAY_IN_PROCESS: &str = "10003";
/// `code` of a call whose outcome Alipay does not know (`ACQ.SYSTEM_ERROR`): ask again.
pub const UNKNOWN_OUTCOME: &str = "20000";
/// `code` of gateway-level refusals (bad app id, bad signature), which Alipay leaves unsigned.
pub const INVALID_ARGUMENTS: &str = "40002";
/// `code` of a business refusal (`sub_code` says why, e.g. ACQ.PAYMENT_AUTH_CODE_INVALID).
pub const BUSINESS_FAILED: &str = "40004";
/// `sub_code` of `trade.query`/`trade.cancel` for a QR nobody has scanned yet.
pub const TRADE_NOT_EXIST: &str = "ACQ.TRADE_NOT_EXIST";
/// `sub_code` of a close refused because the trade is no longer waiting (paid or closed).
pub const TRADE_STATUS_ERROR: &str = "ACQ.TRADE_STATUS_ERROR";

/// Alipay's face-to-face largest single amount: 100,000,000.00 yuan.
const MAX_AMOUNT_MINOR: i64 = 10_000_000_000;
/// `subject` limit, in characters.
const SUBJECT_MAX_CHARS: usize = 256;
/// `out_trade_no` limit, in characters (letters, digits and `_` only).
const TRADE_NO_MAX_CHARS: usize = 64;

/// `biz_content`: a flat JSON object of non-empty strings with its keys sorted and no spaces,
/// exactly as the official SDKs write it, so our signed bytes can be compared with theirs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BizContent(BTreeMap<&'static str, String>);

impl BizContent {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key`; an empty value is left out, as the SDK models leave out unset fields.
    pub fn with(mut self, key: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.0.insert(key, value);
        }
        self
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn to_json(&self) -> String {
        // A BTreeMap keeps the order sorted whatever serde_json features other crates enable.
        serde_json::to_string(&self.0).expect("a map of strings always serialises")
    }
}

/// One value of a gateway address, encoded as the official SDK encodes it (Python's
/// `quote_plus`): letters, digits and `_.-~` kept, space as `+`, every other UTF-8 byte `%XX`.
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for &byte in value.as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// "yyyy-MM-dd HH:mm:ss" in Beijing time (`timestamp`, `time_expire`).
pub fn format_time(at: Timestamp) -> String {
    crate::china::BEIJING
        .to_datetime(at)
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Reads "yyyy-MM-dd HH:mm:ss" Beijing time (`send_pay_date`).
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let civil = DateTime::strptime("%Y-%m-%d %H:%M:%S", text.trim()).ok()?;
    crate::china::BEIJING.to_timestamp(civil).ok()
}

/// Fen to yuan text with two decimals ("12.50"); integers only, never floating point.
pub fn format_yuan(minor: i64) -> Option<String> {
    (minor >= 0).then(|| format!("{}.{:02}", minor / 100, minor % 100))
}

/// Yuan text ("12.5", "12.50", "12") to fen, exactly; `None` for anything else.
pub fn parse_yuan(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 15 || !digits(whole) || fraction.len() > 2 {
        return None;
    }
    if !digits(fraction) || (text.contains('.') && fraction.is_empty()) {
        return None;
    }
    let yuan: i64 = whole.parse().ok()?;
    let fen: i64 = format!("{fraction:0<2}").parse().ok()?;
    yuan.checked_mul(100)?.checked_add(fen)
}

/// A new `out_trade_no` for an order: the order reference (only letters, digits and `_`
/// survive, as Alipay allows) plus `_` and a short time-based suffix.
///
/// Not the bare order reference: Alipay keeps a trade number for good once used, so a second
/// QR for the same order (the first expired, or the till re-opened it) must get a new one.
/// The order itself travels with each open charge, so nothing is lost.
pub fn trade_number(order_ref: &str) -> String {
    numbered(order_ref, "", TRADE_NO_MAX_CHARS)
}

/// A new `out_trade_no` for an order paid in the buyer's browser: [`trade_number`] and
/// [`WEB_MARK`], so polling knows the trade only exists once the buyer opens the page.
pub fn web_trade_number(order_ref: &str) -> String {
    numbered(order_ref, WEB_MARK, TRADE_NO_MAX_CHARS)
}

/// A new `out_trade_no` for a payment code scanned at the till: [`trade_number`] ending in
/// [`CODE_TRADE_SUFFIX`], so withdrawing it cancels (never merely closes) the trade.
pub fn code_trade_number(order_ref: &str) -> String {
    numbered(order_ref, CODE_TRADE_SUFFIX, TRADE_NO_MAX_CHARS)
}

/// Whether `out_trade_no` was made by [`code_trade_number`].
pub use crate::trade_number::is_code_trade;

/// Whether `out_trade_no` was made by [`web_trade_number`].
pub fn is_web_trade(out_trade_no: &str) -> bool {
    out_trade_no.ends_with(WEB_MARK)
}

/// Alipay face-to-face here settles in yuan only; anything else is refused before sending.
pub fn check_currency(currency: &str) -> Result<(), ProviderError> {
    crate::china::check_currency(ProviderKind::Alipay, currency)
}

fn amount_text(minor: i64, what: &str) -> Result<String, ProviderError> {
    if (1..=MAX_AMOUNT_MINOR).contains(&minor)
        && let Some(text) = format_yuan(minor)
    {
        return Ok(text);
    }
    Err(ProviderError::Config {
        provider: ProviderKind::Alipay,
        detail: format!(
            "The {what} must be between ¥0.01 and ¥100,000,000.00 for Alipay; it is {minor} fen."
        ),
    })
}

/// Alipay refuses `/`, `=` and `&` in a subject; their full-width forms read the same to the
/// buyer. Cut to 256 characters.
pub fn subject(text: &str, fallback: &str) -> String {
    let text = if text.trim().is_empty() {
        fallback
    } else {
        text.trim()
    };
    text.chars()
        .map(|c| match c {
            '/' => '／',
            '=' => '＝',
            '&' => '＆',
            c if c.is_control() => ' ',
            c => c,
        })
        .take(SUBJECT_MAX_CHARS)
        .collect()
}

/// `alipay.trade.precreate`: a QR for the buyer to scan, closing itself at `expires_at`.
pub fn precreate_content(
    request: &ChargeRequest,
    out_trade_no: &str,
) -> Result<BizContent, ProviderError> {
    check_currency(&request.currency)?;
    Ok(BizContent::new()
        .with("out_trade_no", out_trade_no)
        .with("total_amount", amount_text(request.amount_minor, "amount")?)
        .with("subject", subject(&request.subject, &request.order_ref))
        .with("time_expire", format_time(request.expires_at)))
}

/// `alipay.trade.wap.pay` (`phone`) or `alipay.trade.page.pay`: what precreate carries, and
/// the product signed for that kind of page.
pub fn web_pay_content(
    request: &ChargeRequest,
    out_trade_no: &str,
    phone: bool,
) -> Result<BizContent, ProviderError> {
    let product = if phone { WAP_PRODUCT } else { PAGE_PRODUCT };
    Ok(precreate_content(request, out_trade_no)?.with("product_code", product))
}

/// `alipay.trade.pay` for the payment code `auth_code`, sent at `at`. trade.pay documents no
/// absolute expiry, only `timeout_express` (minutes from the trade's creation, at least
/// "1m"): the minutes left until `request.expires_at`, rounded up, so Alipay never closes the
/// trade before the till gives up on it (the till cancels it then).
pub fn code_pay_content(
    request: &ChargeRequest,
    out_trade_no: &str,
    auth_code: &str,
    at: Timestamp,
) -> Result<BizContent, ProviderError> {
    check_currency(&request.currency)?;
    let seconds_left = request.expires_at.as_second() - at.as_second();
    let minutes = (seconds_left.max(1) + 59) / 60;
    Ok(BizContent::new()
        .with("out_trade_no", out_trade_no)
        .with("scene", BAR_CODE_SCENE)
        .with("auth_code", auth_code)
        .with("product_code", FACE_TO_FACE_PRODUCT)
        .with("subject", subject(&request.subject, &request.order_ref))
        .with("total_amount", amount_text(request.amount_minor, "amount")?)
        .with(
            "timeout_express",
            format!("{}m", minutes.min(MAX_TIMEOUT_MINUTES)),
        ))
}

/// trade.pay's `timeout_express` ranges from 1m to 15d.
const MAX_TIMEOUT_MINUTES: i64 = 15 * 24 * 60;

/// `alipay.trade.query` / `alipay.trade.cancel` / `alipay.trade.close`: one trade by our
/// number.
pub fn trade_content(out_trade_no: &str) -> BizContent {
    BizContent::new().with("out_trade_no", out_trade_no)
}

/// `alipay.trade.refund`. `out_request_no` is our refund reference, so Alipay answers a
/// retried request with the refund it already made instead of refunding twice.
pub fn refund_content(request: &RefundRequest) -> Result<BizContent, ProviderError> {
    check_currency(&request.currency)?;
    let mut content = BizContent::new()
        .with(
            "refund_amount",
            amount_text(request.amount_minor, "refund")?,
        )
        .with("out_request_no", request.refund_ref.as_str())
        .with("refund_reason", request.reason.clone().unwrap_or_default());
    match request.charge_ref.as_deref() {
        Some(out_trade_no) => {
            content = content.with("out_trade_no", out_trade_no);
            if request.provider_ref != out_trade_no {
                content = content.with("trade_no", request.provider_ref.as_str());
            }
        }
        // Alipay's trade_no is all digits; ours always contain `_`.
        None if request.provider_ref.bytes().all(|b| b.is_ascii_digit()) => {
            content = content.with("trade_no", request.provider_ref.as_str());
        }
        None => content = content.with("out_trade_no", request.provider_ref.as_str()),
    }
    Ok(content)
}

/// The fields we read from any trade reply; everything else stays in the raw text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ReplyFields {
    pub code: Option<String>,
    pub msg: Option<String>,
    pub sub_code: Option<String>,
    pub sub_msg: Option<String>,
    pub out_trade_no: Option<String>,
    pub trade_no: Option<String>,
    pub qr_code: Option<String>,
    pub trade_status: Option<String>,
    pub total_amount: Option<String>,
    pub send_pay_date: Option<String>,
    /// When a `trade.pay` was paid (trade.query calls it `send_pay_date`).
    pub gmt_payment: Option<String>,
    pub refund_fee: Option<String>,
    pub action: Option<String>,
}

/// A gateway reply whose signature checked out, or an unsigned error reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub fields: ReplyFields,
    /// Whether Alipay's signature over `object` checked out. An unsigned reply (some gateway
    /// errors come so) is only ever shown to the owner: it never drives an automatic action.
    pub signed: bool,
    /// The `*_response` object exactly as received (the signed bytes).
    pub object: String,
    /// The whole body as received, for the payment detail view.
    pub body: String,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        self.fields.code.as_deref() == Some(SUCCESS)
    }

    /// `sub_code` when given (the useful one, e.g. "ACQ.TRADE_NOT_EXIST"), else `code`.
    pub fn error_code(&self) -> &str {
        self.fields
            .sub_code
            .as_deref()
            .or(self.fields.code.as_deref())
            .unwrap_or("")
    }

    /// The reply as the error the owner sees: Alipay's own code and words, raw reply kept.
    pub fn into_rejected(self) -> ProviderError {
        let message = self
            .fields
            .sub_msg
            .clone()
            .or_else(|| self.fields.msg.clone())
            .unwrap_or_else(|| "no reason given".to_string());
        ProviderError::Rejected {
            provider: ProviderKind::Alipay,
            code: self.error_code().to_string(),
            message,
            raw: self.body,
        }
    }
}

/// The member name of the reply object for `method`: "alipay.trade.query" →
/// "alipay_trade_query_response".
pub fn response_key(method: &str) -> String {
    format!("{}_response", method.replace('.', "_"))
}

/// The raw text of the top-level member `key` of the JSON object `body`, when it is an
/// object: exactly the bytes received, braces included. Strings (with escaped quotes and
/// braces inside) are stepped over, and only top-level member names are compared.
pub fn response_object<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    let bytes = body.as_bytes();
    let mut at = skip_whitespace(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at += 1;
    loop {
        at = skip_whitespace(bytes, at);
        match bytes.get(at)? {
            b',' => {
                at += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let name_end = skip_string(bytes, at)?;
        let name = &body[at + 1..name_end - 1];
        at = skip_whitespace(bytes, name_end);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        let value_start = skip_whitespace(bytes, at + 1);
        let value_end = skip_value(bytes, value_start)?;
        if name == key {
            return (bytes[value_start] == b'{').then(|| &body[value_start..value_end]);
        }
        at = value_end;
    }
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| b" \t\r\n".contains(b)) {
        at += 1;
    }
    at
}

/// `start` is at an opening quote; returns the index just past the closing quote.
fn skip_string(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start + 1;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'\\' => at += 2,
            b'"' => return Some(at + 1),
            _ => at += 1,
        }
    }
    None
}

/// Returns the index just past the JSON value starting at `start`.
fn skip_value(bytes: &[u8], start: usize) -> Option<usize> {
    match bytes.get(start)? {
        b'"' => skip_string(bytes, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut at = start;
            while let Some(&byte) = bytes.get(at) {
                match byte {
                    b'"' => {
                        at = skip_string(bytes, at)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(at + 1);
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
            None
        }
        _ => {
            let mut at = start;
            while bytes.get(at).is_some_and(|b| !b",}] \t\r\n".contains(b)) {
                at += 1;
            }
            (at > start).then_some(at)
        }
    }
}
