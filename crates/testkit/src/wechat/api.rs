//! The gateway's HTTP side: request signature check, the documented endpoints and their
//! trade/refund state, and WeChat Pay's reply signing (with the faults applied).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use shopcast_payments::wechat::sign::{self, MAX_CLOCK_SKEW, SIGNATURE_TYPE};

use super::{CodeBehaviour, Fault, RecordedRequest, Shared, Signer, State, TradeView};

pub(crate) struct Trade {
    pub out_trade_no: String,
    pub trade_type: &'static str,
    pub state: &'static str,
    pub appid: String,
    pub description: String,
    pub attach: Option<String>,
    pub total: i64,
    pub currency: String,
    pub auth_code: Option<String>,
    pub transaction_id: Option<String>,
    pub success_time: Option<Timestamp>,
    pub closed: bool,
    pub reversed: bool,
    pub refunded: i64,
    pub queries: u32,
    /// UserPaying: the query that confirms (0: never by itself).
    pub confirm_on_query: u32,
    pub code_url: Option<String>,
}

impl Trade {
    pub fn can_pay(&self) -> bool {
        matches!(self.state, "NOTPAY" | "USERPAYING")
    }

    pub fn mark_paid(&mut self) {
        self.state = "SUCCESS";
        self.success_time = Some(Timestamp::now());
        if self.transaction_id.is_none() {
            self.transaction_id = Some(transaction_id());
        }
    }

    pub fn view(&self) -> TradeView {
        TradeView {
            out_trade_no: self.out_trade_no.clone(),
            trade_type: self.trade_type.to_string(),
            state: self.state.to_string(),
            amount_total: self.total,
            currency: self.currency.clone(),
            description: self.description.clone(),
            auth_code: self.auth_code.clone(),
            transaction_id: self.transaction_id.clone(),
            closed: self.closed,
            reversed: self.reversed,
            refunded: self.refunded,
            queries: self.queries,
        }
    }

    fn state_desc(&self) -> &'static str {
        match self.state {
            "SUCCESS" => "支付成功",
            "REFUND" => "转入退款",
            "NOTPAY" => "订单未支付",
            "CLOSED" => "订单已关闭",
            "REVOKED" => "已撤销",
            "USERPAYING" => "需要用户输入支付密码",
            _ => "支付失败，请重新下单支付",
        }
    }

    /// The documented transaction object (query / codepay / notification resource).
    fn json(&self, shared: &Shared) -> Value {
        let mut out = json!({
            "appid": self.appid,
            "mchid": shared.mchid,
            "out_trade_no": self.out_trade_no,
            "trade_type": self.trade_type,
            "trade_state": self.state,
            "trade_state_desc": self.state_desc(),
            "amount": { "total": self.total, "currency": self.currency },
        });
        if let Some(attach) = &self.attach {
            out["attach"] = json!(attach);
        }
        if let (Some(id), Some(at)) = (&self.transaction_id, self.success_time) {
            out["transaction_id"] = json!(id);
            out["bank_type"] = json!("OTHERS");
            out["success_time"] = json!(beijing(at));
            out["payer"] = json!({ "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" });
            out["amount"] = json!({
                "total": self.total,
                "payer_total": self.total,
                "currency": self.currency,
                "payer_currency": self.currency,
            });
        }
        out
    }
}

pub(crate) struct RefundRecord {
    pub refund_id: String,
    pub out_refund_no: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub refund: i64,
    pub total: i64,
    pub currency: String,
    pub status: &'static str,
    pub create_time: Timestamp,
    pub success_time: Option<Timestamp>,
}

impl RefundRecord {
    fn json(&self) -> Value {
        let mut out = json!({
            "refund_id": self.refund_id,
            "out_refund_no": self.out_refund_no,
            "transaction_id": self.transaction_id,
            "out_trade_no": self.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": beijing(self.create_time),
            "status": self.status,
            "funds_account": "AVAILABLE",
            "amount": {
                "total": self.total,
                "refund": self.refund,
                "payer_total": self.total,
                "payer_refund": self.refund,
                "settlement_refund": self.refund,
                "settlement_total": self.total,
                "discount_refund": 0,
                "currency": self.currency,
            },
        });
        if let Some(at) = self.success_time {
            out["success_time"] = json!(beijing(at));
        }
        out
    }
}

/// RFC 3339 in Beijing time, as WeChat Pay writes times (the one helper the provider uses).
fn beijing(at: Timestamp) -> String {
    shopcast_payments::china::rfc3339(at)
}

fn transaction_id() -> String {
    let digits: String = sign::new_nonce()
        .bytes()
        .map(|b| char::from(b'0' + b % 10))
        .take(18)
        .collect();
    format!("4200{digits}01")
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// A reply before signing.
struct Reply {
    status: u16,
    body: Option<Value>,
}

impl Reply {
    fn ok(body: Value) -> Reply {
        Reply {
            status: 200,
            body: Some(body),
        }
    }

    fn no_content() -> Reply {
        Reply {
            status: 204,
            body: None,
        }
    }

    fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply {
            status,
            body: Some(json!({ "code": code, "message": message })),
        }
    }
}

/// WeChat Pay's error JSON for a bare status (Fault::Status).
fn status_error(status: u16) -> Reply {
    let (code, message) = match status {
        400 => ("PARAM_ERROR", "参数错误"),
        401 => ("SIGN_ERROR", "签名错误"),
        403 => ("NO_AUTH", "商户无权限"),
        404 => ("ORDER_NOT_EXIST", "订单不存在"),
        429 => ("FREQUENCY_LIMITED", "频率超限"),
        _ => ("SYSTEM_ERROR", "系统异常，请稍后重试"),
    };
    Reply::error(status, code, message)
}

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| uri.path().to_string());
    let body = String::from_utf8_lossy(&body).into_owned();
    if let Some(control) = path.strip_prefix("/_gateway/") {
        return control_route(&shared, &method, control, &body);
    }
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let signature_ok = authorization.as_deref().is_some_and(|auth| {
        check_authorization(
            &shared,
            auth,
            method.as_str(),
            &path,
            &body,
            Timestamp::now(),
        )
    });
    let (reply, fault) = {
        let mut state = shared.state.lock().unwrap();
        // Faults wait for a request that passes the signature check.
        let fault = if signature_ok {
            state.faults.pop_front()
        } else {
            None
        };
        let reply = if !signature_ok {
            Reply::error(401, "SIGN_ERROR", "签名错误")
        } else if let Some(Fault::Status { status }) = &fault {
            status_error(*status)
        } else {
            endpoint(&shared, &mut state, &method, &path, &body)
        };
        state.requests.push(RecordedRequest {
            method: method.to_string(),
            path: path.clone(),
            body: body.clone(),
            authorization,
            signature_ok,
            status: reply.status,
        });
        (reply, fault)
    };
    if let Some(Fault::Slow { millis }) = fault {
        tokio::time::sleep(Duration::from_millis(millis)).await;
    }
    let state = shared.state.lock().unwrap();
    respond(&shared, &state, reply, fault)
}

/// `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…"`
/// signed by the merchant's key over METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n, within 5 minutes.
fn check_authorization(
    shared: &Shared,
    authorization: &str,
    method: &str,
    path: &str,
    body: &str,
    now: Timestamp,
) -> bool {
    let Some(fields) = authorization
        .strip_prefix(SIGNATURE_TYPE)
        .and_then(|rest| rest.strip_prefix(' '))
    else {
        return false;
    };
    let mut mchid = None;
    let mut nonce = None;
    let mut signature = None;
    let mut timestamp = None;
    let mut serial = None;
    for field in fields.split(',') {
        let Some((key, value)) = field.trim().split_once('=') else {
            return false;
        };
        let Some(value) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
            return false;
        };
        let slot = match key {
            "mchid" => &mut mchid,
            "nonce_str" => &mut nonce,
            "signature" => &mut signature,
            "timestamp" => &mut timestamp,
            "serial_no" => &mut serial,
            _ => return false,
        };
        *slot = Some(value);
    }
    let (Some(mchid), Some(nonce), Some(signature), Some(timestamp), Some(serial)) =
        (mchid, nonce, signature, timestamp, serial)
    else {
        return false;
    };
    let Ok(timestamp) = timestamp.parse::<i64>() else {
        return false;
    };
    let Ok(signed_at) = Timestamp::from_second(timestamp) else {
        return false;
    };
    if now.duration_since(signed_at).abs() > MAX_CLOCK_SKEW {
        return false;
    }
    mchid == shared.mchid
        && serial == shared.merchant_serial
        && sign::verify_signature(
            &sign::request_message(method, path, timestamp, nonce, body),
            signature,
            &shared.merchant_public_key,
        )
}

pub(crate) fn signer<'a>(shared: &'a Shared, state: &'a State) -> &'a Signer {
    state
        .platform
        .as_ref()
        .map(|(signer, _)| signer)
        .unwrap_or(&shared.public_key_signer)
}

/// The Wechatpay-* headers for `body` signed at `timestamp`.
pub(crate) fn signed_headers(signer: &Signer, timestamp: i64, body: &str) -> Vec<(String, String)> {
    let nonce = sign::new_nonce();
    vec![
        ("Wechatpay-Timestamp".into(), timestamp.to_string()),
        ("Wechatpay-Nonce".into(), nonce.clone()),
        (
            "Wechatpay-Signature".into(),
            sign::sign_reply(timestamp, &nonce, body, &signer.key),
        ),
        ("Wechatpay-Serial".into(), signer.serial.clone()),
        ("Wechatpay-Signature-Type".into(), SIGNATURE_TYPE.into()),
    ]
}

fn respond(shared: &Shared, state: &State, reply: Reply, fault: Option<Fault>) -> Response {
    let mut body = match &reply.body {
        Some(value) => value.to_string(),
        None => String::new(),
    };
    if fault == Some(Fault::Garbage) {
        body = "<html><body>502 Bad Gateway</body></html>".to_string();
    }
    let now = Timestamp::now().as_second();
    let signed_at = if fault == Some(Fault::StaleTimestamp) {
        now - 600
    } else {
        now
    };
    let mut headers = signed_headers(signer(shared, state), signed_at, &body);
    match fault {
        Some(Fault::Unsigned) => headers.clear(),
        Some(Fault::WrongSerial) => {
            for (name, value) in &mut headers {
                if name == "Wechatpay-Serial" {
                    *value = "PUB_KEY_ID_0000000000000000000000000000000000".to_string();
                }
            }
        }
        Some(Fault::TamperedBody) => {
            // One fen more, or a space where there is no number: the signature no longer fits.
            body = if body.contains("\"total\":") {
                body.replacen("\"total\":", "\"total\":1", 1)
            } else {
                format!("{body} ")
            };
        }
        _ => {}
    }
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Request-ID", format!("08{}", sign::new_nonce()));
    if reply.body.is_some() {
        builder = builder.header("Content-Type", "application/json; charset=utf-8");
    }
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder.body(Body::from(body)).expect("a valid reply")
}

fn control_route(shared: &Shared, method: &Method, route: &str, body: &str) -> Response {
    let mut state = shared.state.lock().unwrap();
    let plain = |status: StatusCode, text: String| {
        Response::builder()
            .status(status)
            .header("Content-Type", "application/json")
            .body(Body::from(text))
            .unwrap()
    };
    let bad = |why: String| plain(StatusCode::BAD_REQUEST, json!({ "error": why }).to_string());
    match (method.as_str(), route.split_once('/')) {
        ("POST", Some(("pay", no))) => match state.trades.get_mut(no) {
            Some(trade) if trade.can_pay() => {
                trade.mark_paid();
                plain(
                    StatusCode::OK,
                    serde_json::to_string(&trade.view()).unwrap(),
                )
            }
            Some(trade) => bad(format!("trade {no} is {}", trade.state)),
            None => plain(
                StatusCode::NOT_FOUND,
                json!({ "error": "no such trade" }).to_string(),
            ),
        },
        ("POST", Some(("code", code))) => match serde_json::from_str::<CodeBehaviour>(body) {
            Ok(behaviour) => {
                state.codes.insert(code.to_string(), behaviour);
                plain(StatusCode::NO_CONTENT, String::new())
            }
            Err(err) => bad(err.to_string()),
        },
        ("POST", None) if route == "fail" => {
            #[derive(Deserialize)]
            struct Failing {
                fault: Fault,
                #[serde(default = "one")]
                times: usize,
            }
            fn one() -> usize {
                1
            }
            match serde_json::from_str::<Failing>(body) {
                Ok(f) => {
                    state.faults.extend(std::iter::repeat_n(f.fault, f.times));
                    plain(StatusCode::NO_CONTENT, String::new())
                }
                Err(err) => bad(err.to_string()),
            }
        }
        ("GET", Some(("trades", no))) => match state.trades.get(no) {
            Some(trade) => plain(
                StatusCode::OK,
                serde_json::to_string(&trade.view()).unwrap(),
            ),
            None => plain(
                StatusCode::NOT_FOUND,
                json!({ "error": "no such trade" }).to_string(),
            ),
        },
        _ => plain(
            StatusCode::NOT_FOUND,
            json!({ "error": "no such control route" }).to_string(),
        ),
    }
}

/// Documented out_trade_no: string(32) of digits, letters and `_-*`.
fn valid_trade_number(no: &str) -> bool {
    (1..=32).contains(&no.len())
        && no
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'*'))
}

/// Documented out_refund_no: string[1,64] of digits, letters and `_-|*@`.
fn valid_refund_number(no: &str) -> bool {
    (1..=64).contains(&no.len())
        && no
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*' | b'@'))
}

#[derive(Deserialize)]
struct Amount {
    total: i64,
    #[serde(default)]
    currency: Option<String>,
}

#[derive(Deserialize)]
struct Payer {
    auth_code: String,
}

#[derive(Deserialize)]
struct PayRequest {
    appid: String,
    mchid: String,
    description: String,
    out_trade_no: String,
    #[serde(default)]
    attach: Option<String>,
    #[serde(default)]
    notify_url: Option<String>,
    #[serde(default)]
    time_expire: Option<String>,
    amount: Amount,
    #[serde(default)]
    payer: Option<Payer>,
}

#[derive(Deserialize)]
struct MchidOnly {
    mchid: String,
}

#[derive(Deserialize)]
struct ReverseRequest {
    appid: String,
    mchid: String,
}

#[derive(Deserialize)]
struct RefundAmount {
    refund: i64,
    total: i64,
    currency: String,
}

#[derive(Deserialize)]
struct RefundRequest {
    #[serde(default)]
    transaction_id: Option<String>,
    #[serde(default)]
    out_trade_no: Option<String>,
    out_refund_no: String,
    #[serde(default)]
    reason: Option<String>,
    amount: RefundAmount,
}

fn param_error(message: impl AsRef<str>) -> Reply {
    Reply::error(400, "PARAM_ERROR", message.as_ref())
}

fn parse<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, Reply> {
    serde_json::from_str(body).map_err(|err| param_error(format!("请求参数格式错误: {err}")))
}

fn endpoint(shared: &Shared, state: &mut State, method: &Method, path: &str, body: &str) -> Reply {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    let result = match (method.as_str(), route) {
        ("POST", "/v3/pay/transactions/native") => pay(shared, state, body, "NATIVE"),
        ("POST", "/v3/pay/transactions/codepay") => pay(shared, state, body, "MICROPAY"),
        ("POST", "/v3/refund/domestic/refunds") => refund(state, body),
        ("GET", "/v3/certificates") => Ok(certificates(shared, state)),
        ("GET", r) if r.starts_with("/v3/refund/domestic/refunds/") => {
            query_refund(state, &r["/v3/refund/domestic/refunds/".len()..])
        }
        ("GET", r) if r.starts_with("/v3/pay/transactions/id/") => {
            let id = &r["/v3/pay/transactions/id/".len()..];
            let no = state
                .trades
                .values()
                .find(|t| t.transaction_id.as_deref() == Some(id))
                .map(|t| t.out_trade_no.clone());
            match no {
                Some(no) => query_trade(shared, state, &no, query),
                None => Err(order_not_exist()),
            }
        }
        (m, r) if r.starts_with("/v3/pay/transactions/out-trade-no/") => {
            let rest = &r["/v3/pay/transactions/out-trade-no/".len()..];
            match (m, rest.split_once('/')) {
                ("GET", None) => query_trade(shared, state, rest, query),
                ("POST", Some((no, "close"))) => close(shared, state, no, body),
                ("POST", Some((no, "reverse"))) => reverse(shared, state, no, body),
                _ => Err(not_found_route()),
            }
        }
        _ => Err(not_found_route()),
    };
    result.unwrap_or_else(|reply| reply)
}

fn not_found_route() -> Reply {
    Reply::error(404, "NOT_FOUND", "请求的资源不存在")
}

fn order_not_exist() -> Reply {
    Reply::error(404, "ORDER_NOT_EXIST", "订单不存在")
}

fn pay(
    shared: &Shared,
    state: &mut State,
    body: &str,
    trade_type: &'static str,
) -> Result<Reply, Reply> {
    let request: PayRequest = parse(body)?;
    if request.mchid != shared.mchid {
        return Err(Reply::error(400, "MCH_NOT_EXISTS", "商户号不存在"));
    }
    if request.appid != shared.appid {
        return Err(Reply::error(
            400,
            "APPID_MCHID_NOT_MATCH",
            "AppID和mch_id不匹配",
        ));
    }
    if !valid_trade_number(&request.out_trade_no) {
        return Err(param_error("out_trade_no 格式错误"));
    }
    if request.description.is_empty() || request.description.chars().count() > 127 {
        return Err(param_error("description 长度应为1-127"));
    }
    if request.amount.total <= 0 {
        return Err(param_error("amount.total 应大于0"));
    }
    let currency = request
        .amount
        .currency
        .clone()
        .unwrap_or_else(|| "CNY".into());
    if currency != "CNY" {
        return Err(param_error("amount.currency 只支持CNY"));
    }
    if let Some(expire) = &request.time_expire
        && expire.parse::<Timestamp>().is_err()
    {
        return Err(param_error("time_expire 格式错误，应为 rfc3339"));
    }
    let auth_code = if trade_type == "NATIVE" {
        match &request.notify_url {
            Some(url) if url.starts_with("https://") && !url.contains('?') => {}
            _ => return Err(param_error("notify_url 必须是不带参数的 https 地址")),
        }
        None
    } else {
        let code = request
            .payer
            .as_ref()
            .map(|p| p.auth_code.clone())
            .ok_or_else(|| param_error("缺少参数 payer.auth_code"))?;
        let digits = code.len() == 18 && code.bytes().all(|b| b.is_ascii_digit());
        if !digits || !("10".."16").contains(&&code[..2]) {
            return Err(Reply::error(
                400,
                "INVALID_REQUEST",
                "付款码无效，请重新扫码",
            ));
        }
        Some(code)
    };
    if let Some(existing) = state.trades.get(&request.out_trade_no) {
        // WeChat Pay answers a repeated Native prepay with the same code_url while unpaid.
        return match (existing.state, &existing.code_url) {
            ("NOTPAY", Some(url)) if existing.total == request.amount.total => {
                Ok(Reply::ok(json!({ "code_url": url })))
            }
            ("SUCCESS" | "REFUND", _) => Err(Reply::error(403, "ORDERPAID", "该订单已支付")),
            ("CLOSED" | "REVOKED", _) => Err(Reply::error(400, "ORDER_CLOSED", "订单已关闭")),
            _ => Err(Reply::error(403, "OUT_TRADE_NO_USED", "商户订单号重复")),
        };
    }
    state.counter += 1;
    let mut trade = Trade {
        out_trade_no: request.out_trade_no.clone(),
        trade_type,
        state: "NOTPAY",
        appid: request.appid,
        description: request.description,
        attach: request.attach,
        total: request.amount.total,
        currency,
        auth_code: auth_code.clone(),
        transaction_id: None,
        success_time: None,
        closed: false,
        reversed: false,
        refunded: 0,
        queries: 0,
        confirm_on_query: 0,
        code_url: None,
    };
    let reply = match auth_code {
        None => {
            let url = format!("weixin://wxpay/bizpayurl?pr={}", &sign::new_nonce()[..7]);
            trade.code_url = Some(url.clone());
            Reply::ok(json!({ "code_url": url }))
        }
        Some(code) => {
            let behaviour = state
                .codes
                .get(&code)
                .cloned()
                .unwrap_or(CodeBehaviour::PaidAtOnce);
            match behaviour {
                CodeBehaviour::PaidAtOnce => {
                    trade.mark_paid();
                    Reply::ok(trade.json(shared))
                }
                CodeBehaviour::UserPaying {
                    confirm_after_queries,
                } => {
                    trade.state = "USERPAYING";
                    trade.confirm_on_query = confirm_after_queries;
                    Reply::error(202, "USERPAYING", "需要用户输入支付密码")
                }
                CodeBehaviour::NeverConfirms => {
                    trade.state = "USERPAYING";
                    Reply::error(202, "USERPAYING", "需要用户输入支付密码")
                }
                CodeBehaviour::Declined { code, message } => {
                    trade.state = "PAYERROR";
                    let status = if matches!(code.as_str(), "PARAM_ERROR" | "INVALID_REQUEST") {
                        400
                    } else {
                        403
                    };
                    Reply::error(status, &code, &message)
                }
            }
        }
    };
    state.trades.insert(trade.out_trade_no.clone(), trade);
    Ok(reply)
}

fn query_trade(shared: &Shared, state: &mut State, no: &str, query: &str) -> Result<Reply, Reply> {
    let mchid = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("mchid="))
        .ok_or_else(|| param_error("缺少参数 mchid"))?;
    if mchid != shared.mchid {
        return Err(Reply::error(400, "MCH_NOT_EXISTS", "商户号不存在"));
    }
    let trade = state.trades.get_mut(no).ok_or_else(order_not_exist)?;
    trade.queries += 1;
    if trade.state == "USERPAYING"
        && trade.confirm_on_query > 0
        && trade.queries >= trade.confirm_on_query
    {
        trade.mark_paid();
    }
    Ok(Reply::ok(trade.json(shared)))
}

fn close(shared: &Shared, state: &mut State, no: &str, body: &str) -> Result<Reply, Reply> {
    let request: MchidOnly = parse(body)?;
    if request.mchid != shared.mchid {
        return Err(Reply::error(400, "MCH_NOT_EXISTS", "商户号不存在"));
    }
    let trade = state.trades.get_mut(no).ok_or_else(order_not_exist)?;
    match trade.state {
        "SUCCESS" | "REFUND" => Err(Reply::error(400, "ORDERPAID", "订单已支付，不能关闭")),
        _ => {
            trade.state = "CLOSED";
            trade.closed = true;
            Ok(Reply::no_content())
        }
    }
}

fn reverse(shared: &Shared, state: &mut State, no: &str, body: &str) -> Result<Reply, Reply> {
    let request: ReverseRequest = parse(body)?;
    if request.mchid != shared.mchid {
        return Err(Reply::error(400, "MCH_NOT_EXISTS", "商户号不存在"));
    }
    if request.appid != shared.appid {
        return Err(Reply::error(
            400,
            "APPID_MCHID_NOT_MATCH",
            "AppID和mch_id不匹配",
        ));
    }
    let trade = state.trades.get_mut(no).ok_or_else(order_not_exist)?;
    if trade.trade_type != "MICROPAY" {
        return Err(Reply::error(
            400,
            "INVALID_REQUEST",
            "订单支付场景错误，撤销请求被拒绝",
        ));
    }
    // Unpaid: closed; paid: the money goes back to the customer. Either way REVOKED.
    if trade.state == "SUCCESS" {
        trade.refunded = trade.total;
    }
    trade.state = "REVOKED";
    trade.reversed = true;
    Ok(Reply::ok(json!({
        "appid": trade.appid,
        "mchid": shared.mchid,
        "out_trade_no": trade.out_trade_no,
    })))
}

fn refund(state: &mut State, body: &str) -> Result<Reply, Reply> {
    let request: RefundRequest = parse(body)?;
    if !valid_refund_number(&request.out_refund_no) {
        return Err(param_error("out_refund_no 格式错误"));
    }
    if let Some(existing) = state.refunds.get(&request.out_refund_no) {
        return Ok(Reply::ok(existing.json()));
    }
    let trade = match (&request.out_trade_no, &request.transaction_id) {
        (Some(no), _) => state.trades.get_mut(no),
        (None, Some(id)) => state
            .trades
            .values_mut()
            .find(|t| t.transaction_id.as_deref() == Some(id)),
        (None, None) => return Err(param_error("transaction_id 和 out_trade_no 必须二选一")),
    }
    .ok_or_else(|| Reply::error(404, "RESOURCE_NOT_EXISTS", "订单不存在"))?;
    if !matches!(trade.state, "SUCCESS" | "REFUND") {
        return Err(Reply::error(400, "INVALID_REQUEST", "订单未支付，不能退款"));
    }
    if request.amount.currency != trade.currency || request.amount.total != trade.total {
        return Err(param_error("订单金额或币种与原订单不一致"));
    }
    if request.amount.refund <= 0 || trade.refunded + request.amount.refund > trade.total {
        return Err(Reply::error(
            403,
            "NOT_ENOUGH",
            "申请退款金额超过订单可退金额",
        ));
    }
    let _ = request.reason;
    trade.refunded += request.amount.refund;
    trade.state = "REFUND";
    state.counter += 1;
    let record = RefundRecord {
        refund_id: format!("50000{}", &transaction_id()[4..]),
        out_refund_no: request.out_refund_no.clone(),
        out_trade_no: trade.out_trade_no.clone(),
        transaction_id: trade.transaction_id.clone().unwrap_or_default(),
        refund: request.amount.refund,
        total: trade.total,
        currency: trade.currency.clone(),
        status: "PROCESSING",
        create_time: Timestamp::now(),
        success_time: None,
    };
    let reply = Reply::ok(record.json());
    state.refunds.insert(request.out_refund_no, record);
    Ok(reply)
}

fn query_refund(state: &mut State, no: &str) -> Result<Reply, Reply> {
    let no = no.split('?').next().unwrap_or(no);
    let record = state
        .refunds
        .get_mut(no)
        .ok_or_else(|| Reply::error(404, "RESOURCE_NOT_EXISTS", "退款单不存在"))?;
    if record.status == "PROCESSING" {
        record.status = "SUCCESS";
        record.success_time = Some(Timestamp::now());
    }
    Ok(Reply::ok(record.json()))
}

/// GET /v3/certificates: the platform certificates, each encrypted with the APIv3 key
/// (associated_data "certificate"); none while the gateway is in public-key mode.
fn certificates(shared: &Shared, state: &State) -> Reply {
    let data: Vec<Value> = state
        .platform
        .iter()
        .map(|(_, files)| {
            let nonce = &sign::new_nonce()[..12];
            let now = Timestamp::now();
            json!({
                "serial_no": files.serial,
                "effective_time": beijing(now - jiff::SignedDuration::from_hours(1)),
                "expire_time": beijing(now + jiff::SignedDuration::from_hours(24 * 365 * 5)),
                "encrypt_certificate": {
                    "algorithm": "AEAD_AES_256_GCM",
                    "nonce": nonce,
                    "associated_data": "certificate",
                    "ciphertext": sign::encrypt(&shared.apiv3_key, nonce, "certificate", &files.certificate_pem),
                },
            })
        })
        .collect();
    Reply::ok(json!({ "data": data }))
}

/// The body of a TRANSACTION.SUCCESS notification for `trade`.
pub(crate) fn notification_body(shared: &Shared, _state: &State, trade: &Trade) -> String {
    let nonce = &sign::new_nonce()[..12];
    let resource = trade.json(shared).to_string();
    json!({
        "id": format!("EV-{}", sign::new_nonce()),
        "create_time": beijing(Timestamp::now()),
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": sign::encrypt(&shared.apiv3_key, nonce, "transaction", &resource),
            "associated_data": "transaction",
            "nonce": nonce,
        },
    })
    .to_string()
}
