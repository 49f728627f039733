//! A local Alipay gateway for the provider tests. It follows the open platform's documented
//! wire format on its own (no code shared with the provider): form parameters in the query
//! string and body, the RSA2 request signature checked with the app public key, trades kept in
//! memory, and replies shaped `{"<method>_response":{…},"sign":"…"}` signed with "Alipay's"
//! private key, non-ASCII left as raw UTF-8. Faults can be queued to test the unhappy paths.
//!
//! Web payments too: a GET of the signed `wap.pay` / `page.pay` address is the buyer opening
//! the cashier page (the trade exists from then on, as at Alipay), `trade.close` withdraws
//! it, and [`Stub::notification`] writes the asynchronous notification Alipay would post.
//!
//! Payment codes too: `alipay.trade.pay` (scene `bar_code`) pays, waits for the customer
//! (10003, settled by later queries), never confirms, answers 20000 or refuses, as
//! [`Stub::set_code`] says for each code.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use jiff::Timestamp;
use rsa::sha2::Sha256;
use rsa::{PrivateKey, PublicKey};
use serde_json::{Map, Value, json};

use crate::keys::keys;

pub const APP_ID: &str = "2021000149600001";

/// Something to go wrong with the next request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500 with an HTML page.
    ServerError,
    /// HTTP 200 with a body that is not JSON.
    Garbage,
    /// A correctly signed reply with one byte of the amount (or code) changed afterwards.
    Tampered,
    /// A reply signed with a key that is not Alipay's.
    ForeignSignature,
    /// A success reply without a signature.
    UnsignedSuccess,
    /// Instead of the real answer, an unsigned `ACQ.TRADE_NOT_EXIST`, as anyone on the path
    /// could forge it.
    ForgedNotExist,
    /// A correctly signed answer about another trade (`out_trade_no` changed before signing).
    OtherTrade,
}

/// What the customer's payment code does when the cashier scans it (`alipay.trade.pay`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeBehaviour {
    /// Small amount, no confirmation needed: 10000 with the payment.
    PaysAtOnce,
    /// 10003 (WAIT_BUYER_PAY); the customer confirms on the phone in time for the
    /// `confirm_after_queries`-th trade.query.
    WaitsForBuyer { confirm_after_queries: u32 },
    /// 10003, and the customer never confirms.
    NeverConfirms,
    /// 40004 with Alipay's sub_code and sub_msg; no money moves.
    Refused {
        sub_code: &'static str,
        sub_msg: &'static str,
    },
    /// The payment goes through but the answer is 20000 ACQ.SYSTEM_ERROR (Alipay's own
    /// "outcome unknown"); a query tells the truth.
    SystemError,
}

#[derive(Debug, Clone)]
pub struct Trade {
    pub out_trade_no: String,
    pub trade_no: String,
    pub total_minor: i64,
    pub subject: String,
    pub time_expire: Option<String>,
    /// `None` until the buyer scans the QR: Alipay answers ACQ.TRADE_NOT_EXIST until then.
    pub status: Option<&'static str>,
    pub send_pay_date: Option<String>,
    /// out_request_no → amount refunded by that request.
    pub refunds: HashMap<String, i64>,
    pub refunded_minor: i64,
    /// For a web payment: its method, and the addresses it gave.
    pub web_method: Option<String>,
    pub return_url: Option<String>,
    pub notify_url: Option<String>,
    /// For a payment code: the code charged, and the trade.pay fields that travel with it.
    pub auth_code: Option<String>,
    pub product_code: Option<String>,
    pub timeout_express: Option<String>,
    /// Queries left until a waiting payment-code customer confirms (`None`: never).
    pub confirm_after_queries: Option<u32>,
}

pub struct Gateway {
    app_public: PublicKey,
    alipay_private: PrivateKey,
    pub trades: HashMap<String, Trade>,
    /// Every request that reached the gateway.
    pub requests: usize,
    /// Methods of the requests whose signature checked out, in order.
    pub calls: Vec<String>,
    /// Requests refused because their signature did not verify.
    pub bad_signatures: usize,
    pub faults: VecDeque<Fault>,
    /// What each payment code does when charged; codes not named pay at once.
    pub codes: HashMap<String, CodeBehaviour>,
    next_trade: u64,
}

/// A running stub; dropping it stops the server.
pub struct Stub {
    pub url: reqwest::Url,
    state: Arc<Mutex<Gateway>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Stub {
    pub async fn start() -> Stub {
        let state = Arc::new(Mutex::new(Gateway {
            app_public: keys().app.public(),
            alipay_private: keys().alipay.private.clone(),
            trades: HashMap::new(),
            requests: 0,
            calls: Vec::new(),
            bad_signatures: 0,
            faults: VecDeque::new(),
            codes: HashMap::new(),
            next_trade: 1,
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/gateway.do", get(cashier_page).post(gateway))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Stub {
            url: reqwest::Url::parse(&format!("http://{addr}/gateway.do")).unwrap(),
            state,
            task,
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut Gateway) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    pub fn calls(&self) -> Vec<String> {
        self.with(|g| g.calls.clone())
    }

    pub fn requests(&self) -> usize {
        self.with(|g| g.requests)
    }

    pub fn fault(&self, fault: Fault) {
        self.with(|g| g.faults.push_back(fault));
    }

    pub fn trade(&self, out_trade_no: &str) -> Trade {
        self.with(|g| g.trades[out_trade_no].clone())
    }

    /// What `auth_code` does when the cashier charges it.
    pub fn set_code(&self, auth_code: &str, behaviour: CodeBehaviour) {
        self.with(|g| g.codes.insert(auth_code.to_string(), behaviour));
    }

    /// The buyer scanned the QR and has not paid yet.
    pub fn scan(&self, out_trade_no: &str) {
        self.with(|g| {
            g.trades.get_mut(out_trade_no).unwrap().status = Some("WAIT_BUYER_PAY");
        });
    }

    /// The parameters of the asynchronous notification Alipay posts about `out_trade_no` in
    /// its present state, before signing (see [`notify_body`]), as the open platform
    /// documents them.
    pub fn notification(&self, out_trade_no: &str) -> Vec<(String, String)> {
        let trade = self.trade(out_trade_no);
        let status = trade.status.unwrap_or("WAIT_BUYER_PAY");
        let mut params = vec![
            ("notify_time", "2026-05-01 20:01:05".to_string()),
            ("notify_type", "trade_status_sync".to_string()),
            (
                "notify_id",
                format!("ac05099524730693a8b330c5ecf72da{}", trade.trade_no),
            ),
            ("charset", "utf-8".to_string()),
            ("version", "1.0".to_string()),
            ("sign_type", "RSA2".to_string()),
            ("auth_app_id", APP_ID.to_string()),
            ("app_id", APP_ID.to_string()),
            ("trade_no", trade.trade_no.clone()),
            ("out_trade_no", trade.out_trade_no.clone()),
            ("buyer_id", "2088102122524333".to_string()),
            ("buyer_logon_id", "159****5620".to_string()),
            ("seller_id", "2088101106499364".to_string()),
            ("trade_status", status.to_string()),
            ("total_amount", yuan(trade.total_minor)),
            ("receipt_amount", yuan(trade.total_minor)),
            ("buyer_pay_amount", yuan(trade.total_minor)),
            ("subject", trade.subject.clone()),
            ("gmt_create", "2026-05-01 20:00:30".to_string()),
            (
                "fund_bill_list",
                format!(
                    r#"[{{"amount":"{}","fundChannel":"ALIPAYACCOUNT"}}]"#,
                    yuan(trade.total_minor)
                ),
            ),
        ];
        if let Some(paid_at) = &trade.send_pay_date {
            params.push(("gmt_payment", paid_at.clone()));
        }
        if trade.refunded_minor > 0 {
            params.push(("refund_fee", yuan(trade.refunded_minor)));
            params.push(("gmt_refund", "2026-05-01 20:30:00.123".to_string()));
            params.push(("out_biz_no", "R-1".to_string()));
        }
        params
            .into_iter()
            .map(|(key, value)| (key.to_string(), value))
            .collect()
    }

    /// The buyer paid, at `paid_at` (Beijing time text).
    pub fn pay(&self, out_trade_no: &str, paid_at: &str) {
        self.with(|g| {
            let trade = g.trades.get_mut(out_trade_no).unwrap();
            trade.status = Some("TRADE_SUCCESS");
            trade.send_pay_date = Some(paid_at.to_string());
        });
    }
}

/// The buyer's browser at the gateway address of a web payment.
async fn cashier_page(
    State(state): State<Arc<Mutex<Gateway>>>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let mut params = HashMap::new();
    for (key, value) in query {
        if params.insert(key.clone(), value).is_some() {
            return (
                StatusCode::BAD_REQUEST,
                format!("duplicate parameter {key}"),
            )
                .into_response();
        }
    }
    state.lock().unwrap().open_page(&params)
}

async fn gateway(
    State(state): State<Arc<Mutex<Gateway>>>,
    Query(query): Query<Vec<(String, String)>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let mut params = HashMap::new();
    for (key, value) in query.into_iter().chain(form) {
        if params.insert(key.clone(), value).is_some() {
            return (
                StatusCode::BAD_REQUEST,
                format!("duplicate parameter {key}"),
            )
                .into_response();
        }
    }
    state.lock().unwrap().handle(&params)
}

type BusinessError = (&'static str, String);

impl Gateway {
    fn handle(&mut self, params: &HashMap<String, String>) -> Response {
        self.requests += 1;
        let method = params.get("method").cloned().unwrap_or_default();
        let key = format!("{}_response", method.replace('.', "_"));
        let fault = self.faults.pop_front();
        match fault {
            Some(Fault::ServerError) => {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<html><body>500 Internal Server Error</body></html>",
                )
                    .into_response();
            }
            Some(Fault::Garbage) => return reply("<html><body>系统繁忙，请稍后再试</body></html>"),
            _ => {}
        }
        if params.get("app_id").map(String::as_str) != Some(APP_ID) {
            return unsigned_error("error_response", "isv.invalid-app-id", "无效的AppID参数");
        }
        if let Err((sub_code, sub_msg)) = check_protocol(params) {
            return unsigned_error(&key, sub_code, &sub_msg);
        }
        if !self.signature_ok(params) {
            self.bad_signatures += 1;
            return unsigned_error(
                &key,
                "isv.invalid-signature",
                "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配",
            );
        }
        let Some(Value::Object(biz)) = params
            .get("biz_content")
            .and_then(|text| serde_json::from_str(text).ok())
        else {
            return unsigned_error(&key, "isv.missing-biz-content", "缺少业务参数");
        };
        if fault == Some(Fault::ForgedNotExist) {
            // The request never reached the gateway: nothing happens to the trade.
            let forged = json!({"code": "40004", "msg": "Business Failed",
                "sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"});
            return reply(format!(r#"{{"{key}":{forged}}}"#));
        }
        self.calls.push(method.clone());
        let text = |name: &str| {
            biz.get(name)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let result = match method.as_str() {
            "alipay.trade.precreate" => self.precreate(&text),
            "alipay.trade.query" => self.query(&text),
            "alipay.trade.cancel" => self.cancel(&text),
            "alipay.trade.close" => self.close(&text),
            "alipay.trade.refund" => self.refund(&text),
            "alipay.trade.pay" => self.trade_pay(&text),
            _ => return unsigned_error("error_response", "isv.invalid-method", "不存在的方法名"),
        };
        let result = match fault {
            Some(Fault::OtherTrade) => result.map(|mut fields| {
                fields.insert("out_trade_no".into(), "SOMEONE_ELSES_TRADE".into());
                fields
            }),
            _ => result,
        };
        let object = match result {
            Ok(mut fields) => {
                let mut object = Map::new();
                object.insert("code".into(), "10000".into());
                object.insert("msg".into(), "Success".into());
                object.append(&mut fields);
                object
            }
            Err((sub_code, sub_msg)) => json!({
                "code": "40004",
                "msg": "Business Failed",
                "sub_code": sub_code,
                "sub_msg": sub_msg,
            })
            .as_object()
            .unwrap()
            .clone(),
        };
        // serde_json leaves non-ASCII as raw UTF-8, as Alipay does.
        let content = serde_json::to_string(&object).unwrap();
        let body = match fault {
            Some(Fault::Tampered) => {
                let signature = sign(&self.alipay_private, &content);
                signed_body(&key, &tamper(&content), &signature)
            }
            Some(Fault::ForeignSignature) => {
                signed_body(&key, &content, &sign(&keys().app.private, &content))
            }
            Some(Fault::UnsignedSuccess) => format!(r#"{{"{key}":{content}}}"#),
            _ => signed_body(&key, &content, &sign(&self.alipay_private, &content)),
        };
        reply(body)
    }

    fn signature_ok(&self, params: &HashMap<String, String>) -> bool {
        let Some(signature) = params.get("sign").and_then(|s| BASE64.decode(s).ok()) else {
            return false;
        };
        self.app_public
            .pkcs1v15_verify::<Sha256>(sign_content(params).as_bytes(), &signature)
            .is_ok()
    }

    fn precreate(
        &mut self,
        text: &dyn Fn(&str) -> String,
    ) -> Result<Map<String, Value>, BusinessError> {
        let out_trade_no = self.new_trade(text)?;
        let qr_code = format!(
            "https://qr.alipay.com/bax0{}",
            self.trades[&out_trade_no].trade_no
        );
        Ok(fields([
            ("out_trade_no", out_trade_no),
            ("qr_code", qr_code),
        ]))
    }

    /// Checks the trade fields precreate and the web payments share and keeps the trade
    /// (again for the same number and amount); its out_trade_no.
    fn new_trade(&mut self, text: &dyn Fn(&str) -> String) -> Result<String, BusinessError> {
        let out_trade_no = text("out_trade_no");
        if out_trade_no.is_empty()
            || out_trade_no.chars().count() > 64
            || !out_trade_no
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid(
                "out_trade_no 只能包含字母、数字、下划线，64 个字符以内",
            ));
        }
        let total_minor = fen(&text("total_amount"))
            .filter(|amount| (1..=10_000_000_000).contains(amount))
            .ok_or_else(|| invalid("total_amount 取值范围 [0.01,100000000]"))?;
        let subject = text("subject");
        if subject.is_empty() || subject.chars().count() > 256 || subject.contains(['/', '=', '&'])
        {
            return Err(invalid(
                "subject 不可为空、不超过 256 个字符、不可使用特殊字符 / = &",
            ));
        }
        let time_expire = Some(text("time_expire")).filter(|t| !t.is_empty());
        if let Some(t) = &time_expire
            && beijing_time(t).is_none()
        {
            return Err(invalid("time_expire 格式应为 yyyy-MM-dd HH:mm:ss"));
        }
        if let Some(existing) = self.trades.get(&out_trade_no) {
            if existing.total_minor != total_minor || existing.status == Some("TRADE_CLOSED") {
                return Err(("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改".to_string()));
            }
        } else {
            let trade_no = format!("2026050122001{:015}", self.next_trade);
            self.next_trade += 1;
            self.trades.insert(
                out_trade_no.clone(),
                Trade {
                    out_trade_no: out_trade_no.clone(),
                    trade_no,
                    total_minor,
                    subject,
                    time_expire,
                    status: None,
                    send_pay_date: None,
                    refunds: HashMap::new(),
                    refunded_minor: 0,
                    web_method: None,
                    return_url: None,
                    notify_url: None,
                    auth_code: None,
                    product_code: None,
                    timeout_express: None,
                    confirm_after_queries: None,
                },
            );
        }
        Ok(out_trade_no)
    }

    /// A buyer opening a web payment's address: the signed request checked as the POST
    /// gateway checks one, the product code the method needs, an unexpired `time_expire`.
    fn open_page(&mut self, params: &HashMap<String, String>) -> Response {
        self.requests += 1;
        let page = |status: StatusCode, text: String| {
            (
                status,
                [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
                format!("<html><body>{text}</body></html>"),
            )
                .into_response()
        };
        let refuse = |(code, message): BusinessError| {
            page(StatusCode::BAD_REQUEST, format!("{code}: {message}"))
        };
        if params.get("app_id").map(String::as_str) != Some(APP_ID) {
            return refuse(("isv.invalid-app-id", "无效的AppID参数".into()));
        }
        if let Err(error) = check_protocol(params) {
            return refuse(error);
        }
        if !self.signature_ok(params) {
            self.bad_signatures += 1;
            return refuse(("isv.invalid-signature", "验签出错".into()));
        }
        let method = params.get("method").cloned().unwrap_or_default();
        let product = match method.as_str() {
            "alipay.trade.wap.pay" => "QUICK_WAP_WAY",
            "alipay.trade.page.pay" => "FAST_INSTANT_TRADE_PAY",
            _ => return refuse(("isv.invalid-method", "不存在的方法名".into())),
        };
        let Some(Value::Object(biz)) = params
            .get("biz_content")
            .and_then(|text| serde_json::from_str(text).ok())
        else {
            return refuse(("isv.missing-biz-content", "缺少业务参数".into()));
        };
        let text = |name: &str| {
            biz.get(name)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        if text("product_code") != product {
            return refuse(invalid("product_code 与接口不符"));
        }
        let return_url = params.get("return_url").cloned().unwrap_or_default();
        if !return_url.starts_with("https://") && !return_url.starts_with("http://127.0.0.1") {
            return refuse(invalid("return_url 格式错误"));
        }
        if beijing_time(&text("time_expire")).is_some_and(|at| at < Timestamp::now()) {
            return refuse(("ACQ.TRADE_HAS_CLOSE", "交易已经超时关闭".into()));
        }
        self.calls.push(method.clone());
        let out_trade_no = match self.new_trade(&text) {
            Ok(out_trade_no) => out_trade_no,
            Err(error) => return refuse(error),
        };
        let trade = self.trades.get_mut(&out_trade_no).unwrap();
        trade.web_method = Some(method);
        trade.return_url = Some(return_url);
        trade.notify_url = params.get("notify_url").cloned();
        page(
            StatusCode::OK,
            format!(
                "支付宝收银台 {} ¥{}",
                trade.subject,
                yuan(trade.total_minor)
            ),
        )
    }

    /// `alipay.trade.close`: only an unpaid trade closes; one nobody opened does not exist.
    fn close(
        &mut self,
        text: &dyn Fn(&str) -> String,
    ) -> Result<Map<String, Value>, BusinessError> {
        let trade = self.find(text)?;
        match trade.status {
            None => return Err(not_exist()),
            Some("WAIT_BUYER_PAY") => trade.status = Some("TRADE_CLOSED"),
            Some(_) => return Err(("ACQ.TRADE_STATUS_ERROR", "交易状态不合法".to_string())),
        }
        Ok(fields([
            ("out_trade_no", trade.out_trade_no.clone()),
            ("trade_no", trade.trade_no.clone()),
        ]))
    }

    fn find(&mut self, text: &dyn Fn(&str) -> String) -> Result<&mut Trade, BusinessError> {
        let trade_no = text("trade_no");
        let out_trade_no = text("out_trade_no");
        // Alipay: when both are given, trade_no wins.
        self.trades
            .values_mut()
            .find(|t| {
                if trade_no.is_empty() {
                    t.out_trade_no == out_trade_no
                } else {
                    t.trade_no == trade_no
                }
            })
            .ok_or_else(not_exist)
    }

    /// `alipay.trade.pay`: the documented checks of a payment-code charge, then what the
    /// customer's code does. Sent again with the same out_trade_no, it answers for the trade
    /// as it now stands (Alipay's idempotency).
    fn trade_pay(
        &mut self,
        text: &dyn Fn(&str) -> String,
    ) -> Result<Map<String, Value>, BusinessError> {
        if text("scene") != "bar_code" {
            return Err(invalid("scene 取值 bar_code 或 wave_code"));
        }
        let product_code = text("product_code");
        if !product_code.is_empty() && product_code != "FACE_TO_FACE_PAYMENT" {
            return Err(("ACQ.ACCESS_FORBIDDEN", "无权限使用接口".to_string()));
        }
        let timeout = text("timeout_express");
        if !timeout.is_empty() && !valid_timeout_express(&timeout) {
            return Err(invalid("timeout_express 取值范围 1m～15d"));
        }
        let auth_code = text("auth_code");
        let alipay_code = (16..=24).contains(&auth_code.len())
            && auth_code.bytes().all(|b| b.is_ascii_digit())
            && (25..=30).contains(&auth_code[..2].parse::<u8>().unwrap_or(0));
        if !alipay_code {
            return Err((
                "ACQ.PAYMENT_AUTH_CODE_INVALID",
                "支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款".to_string(),
            ));
        }
        let behaviour = self
            .codes
            .get(&auth_code)
            .cloned()
            .unwrap_or(CodeBehaviour::PaysAtOnce);
        if let CodeBehaviour::Refused { sub_code, sub_msg } = behaviour {
            return Err((sub_code, sub_msg.to_string()));
        }
        let known = self.trades.contains_key(&text("out_trade_no"));
        let out_trade_no = self.new_trade(text)?;
        let trade = self.trades.get_mut(&out_trade_no).unwrap();
        if !known {
            trade.auth_code = Some(auth_code);
            trade.product_code = Some(product_code).filter(|p| !p.is_empty());
            trade.timeout_express = Some(timeout).filter(|t| !t.is_empty());
            match behaviour {
                CodeBehaviour::PaysAtOnce | CodeBehaviour::SystemError => {
                    trade.status = Some("TRADE_SUCCESS");
                    trade.send_pay_date = Some(beijing_now());
                }
                CodeBehaviour::WaitsForBuyer {
                    confirm_after_queries,
                } => {
                    trade.status = Some("WAIT_BUYER_PAY");
                    trade.confirm_after_queries = Some(confirm_after_queries);
                }
                CodeBehaviour::NeverConfirms => trade.status = Some("WAIT_BUYER_PAY"),
                CodeBehaviour::Refused { .. } => unreachable!("refused above"),
            }
        }
        if !known && behaviour == CodeBehaviour::SystemError {
            return Ok(fields([
                ("code", "20000".to_string()),
                ("msg", "Service Currently Unavailable".to_string()),
                ("sub_code", "ACQ.SYSTEM_ERROR".to_string()),
                ("sub_msg", "系统异常".to_string()),
            ]));
        }
        let paid = trade.status == Some("TRADE_SUCCESS");
        let amount = yuan(trade.total_minor);
        let mut out = fields([
            ("trade_no", trade.trade_no.clone()),
            ("out_trade_no", trade.out_trade_no.clone()),
            ("buyer_logon_id", "159****5620".to_string()),
            ("buyer_user_id", "2088102122524333".to_string()),
            ("total_amount", amount.clone()),
            (
                "receipt_amount",
                if paid { amount.clone() } else { "0.00".into() },
            ),
            (
                "buyer_pay_amount",
                if paid { amount.clone() } else { "0.00".into() },
            ),
            ("point_amount", "0.00".to_string()),
        ]);
        match trade.status {
            Some("TRADE_SUCCESS") => {
                out.insert(
                    "gmt_payment".into(),
                    trade.send_pay_date.clone().unwrap().into(),
                );
                out.insert(
                    "fund_bill_list".into(),
                    json!([{ "fund_channel": "ALIPAYACCOUNT", "amount": amount }]),
                );
            }
            Some("WAIT_BUYER_PAY") => {
                out.insert("code".into(), "10003".into());
                out.insert("msg".into(), " order success pay inprocess".into());
            }
            _ => return Err(("ACQ.TRADE_HAS_CLOSE", "交易已经关闭".to_string())),
        }
        Ok(out)
    }

    fn query(
        &mut self,
        text: &dyn Fn(&str) -> String,
    ) -> Result<Map<String, Value>, BusinessError> {
        let trade = self.find(text)?;
        // A payment-code customer confirming on the phone while the till asks.
        if trade.status == Some("WAIT_BUYER_PAY")
            && let Some(left) = trade.confirm_after_queries.as_mut()
        {
            *left = left.saturating_sub(1);
            if *left == 0 {
                trade.confirm_after_queries = None;
                trade.status = Some("TRADE_SUCCESS");
                trade.send_pay_date = Some(beijing_now());
            }
        }
        let Some(status) = trade.status else {
            return Err(not_exist());
        };
        let mut out = fields([
            ("out_trade_no", trade.out_trade_no.clone()),
            ("trade_no", trade.trade_no.clone()),
            ("trade_status", status.to_string()),
            ("total_amount", yuan(trade.total_minor)),
            ("buyer_logon_id", "159****5620".to_string()),
        ]);
        if let Some(paid_at) = &trade.send_pay_date {
            out.insert("send_pay_date".into(), paid_at.clone().into());
            out.insert("buyer_pay_amount".into(), yuan(trade.total_minor).into());
        }
        Ok(out)
    }

    fn cancel(
        &mut self,
        text: &dyn Fn(&str) -> String,
    ) -> Result<Map<String, Value>, BusinessError> {
        let trade = self.find(text)?;
        let action = match trade.status {
            Some("TRADE_SUCCESS") => {
                trade.refunded_minor = trade.total_minor;
                "refund"
            }
            _ => "close",
        };
        trade.status = Some("TRADE_CLOSED");
        Ok(fields([
            ("out_trade_no", trade.out_trade_no.clone()),
            ("trade_no", trade.trade_no.clone()),
            ("retry_flag", "N".to_string()),
            ("action", action.to_string()),
        ]))
    }

    fn refund(
        &mut self,
        text: &dyn Fn(&str) -> String,
    ) -> Result<Map<String, Value>, BusinessError> {
        let amount = fen(&text("refund_amount"))
            .filter(|amount| *amount > 0)
            .ok_or_else(|| invalid("refund_amount 格式错误"))?;
        let request_no = text("out_request_no");
        if request_no.is_empty() {
            return Err(invalid("部分退款必须传 out_request_no"));
        }
        let trade = self.find(text)?;
        let fund_change = match trade.refunds.get(&request_no) {
            // A retried request: the refund it already made, no money moves.
            Some(&earlier) if earlier == amount => "N",
            Some(_) => return Err(("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改".to_string())),
            None => {
                if trade.status != Some("TRADE_SUCCESS") {
                    return Err(("ACQ.TRADE_STATUS_ERROR", "交易状态不合法".to_string()));
                }
                if trade.refunded_minor + amount > trade.total_minor {
                    return Err(("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限".to_string()));
                }
                trade.refunds.insert(request_no, amount);
                trade.refunded_minor += amount;
                if trade.refunded_minor == trade.total_minor {
                    trade.status = Some("TRADE_CLOSED");
                }
                "Y"
            }
        };
        Ok(fields([
            ("trade_no", trade.trade_no.clone()),
            ("out_trade_no", trade.out_trade_no.clone()),
            ("buyer_logon_id", "159****5620".to_string()),
            ("fund_change", fund_change.to_string()),
            ("refund_fee", yuan(trade.refunded_minor)),
            ("gmt_refund_pay", "2026-05-01 20:30:00".to_string()),
        ]))
    }
}

fn fields<const N: usize>(pairs: [(&str, String); N]) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_string(), Value::String(value)))
        .collect()
}

/// "90m", "3h", "15d" or "1c" within 1m–15d, as trade.pay's `timeout_express` is documented.
fn valid_timeout_express(text: &str) -> bool {
    if text == "1c" {
        return true;
    }
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let minutes_per = match unit {
        "m" => 1,
        "h" => 60,
        "d" => 24 * 60,
        _ => return false,
    };
    !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(minutes_per))
            .is_some_and(|minutes| (1..=15 * 24 * 60).contains(&minutes))
}

/// Now, "yyyy-MM-dd HH:mm:ss" in Beijing time, as Alipay writes gmt_payment.
pub fn beijing_now() -> String {
    jiff::tz::offset(8)
        .to_datetime(Timestamp::now())
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn invalid(message: &str) -> BusinessError {
    ("ACQ.INVALID_PARAMETER", format!("参数无效: {message}"))
}

fn not_exist() -> BusinessError {
    ("ACQ.TRADE_NOT_EXIST", "交易不存在".to_string())
}

/// The common parameters Alipay insists on, and a timestamp within ten minutes of now in
/// Beijing time.
fn check_protocol(params: &HashMap<String, String>) -> Result<(), BusinessError> {
    let get = |name: &str| params.get(name).map(String::as_str).unwrap_or("");
    let expect = [
        ("format", "JSON", "isv.invalid-format"),
        ("charset", "utf-8", "isv.invalid-charset"),
        ("sign_type", "RSA2", "isv.invalid-signature-type"),
        ("version", "1.0", "isv.invalid-version"),
    ];
    for (name, value, sub_code) in expect {
        if !get(name).eq_ignore_ascii_case(value) {
            return Err((sub_code, format!("{name} 参数无效")));
        }
    }
    let on_time = beijing_time(get("timestamp"))
        .is_some_and(|sent| (Timestamp::now().as_second() - sent.as_second()).abs() <= 600);
    if !on_time {
        return Err(("isv.invalid-timestamp", "非法的时间戳参数".to_string()));
    }
    Ok(())
}

/// The stub's own reading of the documented sign string: all parameters but `sign`, non-empty,
/// sorted by name, `name=value` joined with `&`, values as sent.
pub fn sign_content(params: &HashMap<String, String>) -> String {
    let mut pairs: Vec<(&String, &String)> = params
        .iter()
        .filter(|(name, value)| name.as_str() != "sign" && !value.is_empty())
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A notification body as Alipay posts it: signed with `key` over the stub's own reading of
/// the documented notification sign content (every parameter but `sign` and `sign_type`,
/// non-empty, sorted, decoded values), then form-encoded.
pub fn notify_body(params: &[(String, String)], key: &PrivateKey) -> String {
    let mut signed: Vec<&(String, String)> = params
        .iter()
        .filter(|(name, value)| name != "sign" && name != "sign_type" && !value.is_empty())
        .collect();
    signed.sort();
    let content = signed
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let signature = sign(key, &content);
    form_body(
        params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain([("sign", signature.as_str())]),
    )
}

/// `key=value&…`, form-encoded.
pub fn form_body<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

pub fn sign(key: &PrivateKey, content: &str) -> String {
    BASE64.encode(key.pkcs1v15_sign::<Sha256>(content.as_bytes()).unwrap())
}

pub fn signed_body(key: &str, content: &str, signature: &str) -> String {
    format!(r#"{{"{key}":{content},"sign":"{signature}"}}"#)
}

/// Changes one digit inside the reply object: the amount's first digit when there is one.
pub fn tamper(content: &str) -> String {
    let start = ["\"total_amount\":\"", "\"refund_fee\":\""]
        .iter()
        .find_map(|marker| content.find(marker).map(|at| at + marker.len()))
        .unwrap_or(0);
    let at = start
        + content[start..]
            .find(|c: char| c.is_ascii_digit())
            .expect("a digit to change");
    let digit = content.as_bytes()[at] - b'0';
    let mut out = content.to_string();
    out.replace_range(at..at + 1, &((digit + 1) % 10).to_string());
    out
}

fn unsigned_error(key: &str, sub_code: &str, sub_msg: &str) -> Response {
    let object = json!({
        "code": "40002",
        "msg": "Invalid Arguments",
        "sub_code": sub_code,
        "sub_msg": sub_msg,
    });
    reply(format!(r#"{{"{key}":{object}}}"#))
}

fn reply(body: impl Into<String>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn fen(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let ok = !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && fraction.len() <= 2
        && fraction.chars().all(|c| c.is_ascii_digit())
        && !(text.ends_with('.'));
    if !ok {
        return None;
    }
    Some(whole.parse::<i64>().ok()? * 100 + format!("{fraction:0<2}").parse::<i64>().ok()?)
}

fn yuan(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// "yyyy-MM-dd HH:mm:ss" read as UTC+8.
pub fn beijing_time(text: &str) -> Option<Timestamp> {
    let civil = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", text).ok()?;
    jiff::tz::offset(8).to_timestamp(civil).ok()
}
