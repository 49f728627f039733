//! WeChat Pay APIv3 for a directly connected merchant: Native QR at the till, payment codes
//! (付款码), refunds. Every request signed, every reply's signature checked ([`sign`]).

pub mod notify;
pub mod sign;
pub mod wire;

use std::fmt;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jiff::Timestamp;
use reqwest::Url;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};

use crate::http::{self, RawResponse};
use crate::payment_code;
use crate::poll::{DueCharges, PollSchedule};
use crate::provider::{
    Charge, ChargeRequest, CodeCharge, OpenCharge, PaymentProvider, PaymentStatus, PollOutcome,
    ProviderError, ProviderEvent, ProviderKind, Refund, RefundRequest,
};
use sign::{ApiV3Key, MerchantKey, PlatformCertificate, SignedHeaders, Verifiers, WechatPayKey};
use wire::{ErrorReply, Transaction};

const KIND: ProviderKind = ProviderKind::Wechat;

/// WeChat Pay's API address for real merchants.
pub const PRODUCTION: &str = "https://api.mch.weixin.qq.com";

/// The platform certificates are fetched again for an unknown serial at most this often, so
/// replies or notifications under a made-up serial cannot make us download them each time.
pub const CERTIFICATE_REFRESH_GAP: Duration = Duration::from_secs(60);

/// How long a refund WeChat Pay still reports PROCESSING is followed before the owner is told
/// to try again (with the same refund number).
pub const REFUND_WAIT: Duration = Duration::from_secs(20);

/// What the owner pastes into WeChat Pay settings (keys as PEM or bare base64).
#[derive(Clone)]
pub struct WechatConfig {
    /// [`PRODUCTION`] unless a test gateway.
    pub api_base: String,
    /// 商户号.
    pub mchid: String,
    /// The AppID bound to the merchant number.
    pub appid: String,
    /// 商户API证书序列号: names the merchant key that signs our requests.
    pub merchant_serial: String,
    /// 商户API私钥 (apiclient_key.pem).
    pub merchant_private_key: String,
    /// APIv3 密钥: 32 characters; decrypts notifications and platform certificates.
    pub apiv3_key: String,
    /// 微信支付公钥 (pub_key.pem) and its id (PUB_KEY_ID_…); without them, replies are checked
    /// with platform certificates fetched from /v3/certificates.
    pub wechatpay_public_key: Option<String>,
    /// The id of that public key (PUB_KEY_ID_…), as replies name it in Wechatpay-Serial.
    pub wechatpay_public_key_id: Option<String>,
    /// Where WeChat posts notifications (https://shop…/hooks/wechat); `None` →
    /// [`wire::PLACEHOLDER_NOTIFY_URL`] and polling records payments.
    pub notify_url: Option<String>,
}

impl fmt::Debug for WechatConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatConfig")
            .field("api_base", &self.api_base)
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .field("merchant_serial", &self.merchant_serial)
            .field("merchant_private_key", &"<redacted>")
            .field("apiv3_key", &"<redacted>")
            .field(
                "wechatpay_public_key",
                &self.wechatpay_public_key.as_ref().map(|_| "<redacted>"),
            )
            .field("wechatpay_public_key_id", &self.wechatpay_public_key_id)
            .field("notify_url", &self.notify_url)
            .finish()
    }
}

/// The WeChat Pay provider. The watcher queries each open trade ([`crate::poll`] says how
/// often); an expired one is withdrawn, `close` for a Native QR and `reverse` (撤销) for a
/// payment code, and one that turns out paid on the way is reported paid.
pub struct WechatProvider {
    api_base: Url,
    mchid: String,
    appid: String,
    merchant_serial: String,
    merchant_key: MerchantKey,
    apiv3_key: ApiV3Key,
    verifiers: RwLock<Verifiers>,
    /// When the platform certificates were last fetched (see [`CERTIFICATE_REFRESH_GAP`]).
    certificates_fetched: Mutex<Option<Instant>>,
    notify_url: String,
    http: reqwest::Client,
    due: DueCharges,
    refund_wait: Duration,
}

impl fmt::Debug for WechatProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatProvider")
            .field("api_base", &self.api_base.as_str())
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .field("merchant_serial", &self.merchant_serial)
            .finish_non_exhaustive()
    }
}

fn config_error(detail: impl Into<String>) -> ProviderError {
    ProviderError::Config {
        provider: KIND,
        detail: detail.into(),
    }
}

fn bad_response(detail: impl Into<String>) -> ProviderError {
    ProviderError::BadResponse {
        provider: KIND,
        detail: detail.into(),
    }
}

/// A required text field of the settings, trimmed; empty → a sentence naming it.
fn required(value: &str, name: &str) -> Result<String, ProviderError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(config_error(format!(
            "The {name} is empty. Copy it from the WeChat Pay merchant platform \
             (pay.weixin.qq.com)."
        )));
    }
    Ok(value.to_string())
}

/// A signed reply that may still be an error (`{"code", "message"}`): callers decide.
struct Reply {
    status: u16,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn error(&self) -> ErrorReply {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    fn is_error(&self, code: &str) -> bool {
        !(200..300).contains(&self.status) && self.error().code == code
    }
}

/// Whether the caller of [`WechatProvider::withdraw`] has just queried the trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Queried {
    /// Not asked yet (the till cancels): a payment code is queried before it is reversed.
    No,
    /// The query a moment ago found it unpaid or missing: asking again changes nothing.
    Unpaid,
}

/// How withdrawing an expired trade ended.
enum Withdrawn {
    /// Closed / reversed (or never existed there): the raw reply and the state it is now in.
    Done { state: &'static str, raw: String },
    /// The customer paid in the meantime: the paid trade as queried.
    Paid(Box<ProviderEvent>),
}

impl WechatProvider {
    /// Reads the keys; anything that cannot be used is a [`ProviderError::Config`] sentence.
    pub fn new(config: WechatConfig) -> Result<WechatProvider, ProviderError> {
        let mchid = required(&config.mchid, "merchant number (商户号, mchid)")?;
        let appid = required(&config.appid, "AppID bound to the merchant number (appid)")?;
        let merchant_serial = required(
            &config.merchant_serial,
            "merchant certificate serial number (商户API证书序列号)",
        )?
        .to_ascii_uppercase();
        let api_base = Url::parse(config.api_base.trim()).map_err(|_| {
            config_error(format!(
                "The WeChat Pay API address {:?} is not a full URL (it is normally {PRODUCTION}).",
                config.api_base
            ))
        })?;
        http::check_remote_url(KIND, "WeChat Pay API address", &api_base)?;
        let public_key = match (
            config
                .wechatpay_public_key
                .as_deref()
                .filter(|k| !k.trim().is_empty()),
            config
                .wechatpay_public_key_id
                .as_deref()
                .map(str::trim)
                .filter(|k| !k.is_empty()),
        ) {
            (Some(key), Some(id)) => Some((id.to_string(), WechatPayKey::parse(key)?)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(config_error(
                    "The WeChat Pay public key (微信支付公钥) was pasted without its ID \
                     (PUB_KEY_ID_…). Copy the ID shown next to the key on the merchant platform.",
                ));
            }
            (None, Some(_)) => {
                return Err(config_error(
                    "The WeChat Pay public key ID was given without the public key \
                     (微信支付公钥, pub_key.pem). Paste the key too.",
                ));
            }
        };
        let notify_url = match config.notify_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => {
                if !url.starts_with("https://") || url.contains('?') {
                    return Err(config_error(format!(
                        "The WeChat Pay notification address {url:?} must be an https:// \
                         address without a query (WeChat Pay calls nothing else)."
                    )));
                }
                url.to_string()
            }
            _ => wire::PLACEHOLDER_NOTIFY_URL.to_string(),
        };
        Ok(WechatProvider {
            api_base,
            mchid,
            appid,
            merchant_serial,
            merchant_key: MerchantKey::parse(&config.merchant_private_key)?,
            apiv3_key: ApiV3Key::new(&config.apiv3_key)?,
            verifiers: RwLock::new(Verifiers::new(public_key)),
            certificates_fetched: Mutex::new(None),
            notify_url,
            http: http::client(),
            due: DueCharges::default(),
            refund_wait: REFUND_WAIT,
        })
    }

    /// How often each open charge is queried ([`PollSchedule::default`] unless a test says).
    pub fn with_poll_schedule(mut self, schedule: PollSchedule) -> WechatProvider {
        self.due = DueCharges::new(schedule);
        self
    }

    /// How long a PROCESSING refund is followed ([`REFUND_WAIT`] unless a test says less).
    pub fn with_refund_wait(mut self, wait: Duration) -> WechatProvider {
        self.refund_wait = wait;
        self
    }

    /// Keys that check WeChat's signatures (public key + any platform certificates fetched),
    /// for notifications.
    pub fn verifiers(&self) -> Verifiers {
        self.verifiers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Keys that check a reply or notification signed under `serial`: an unknown serial
    /// fetches the platform certificates (at most once per [`CERTIFICATE_REFRESH_GAP`]), as a
    /// certificate may have been renewed since. A serial still unknown after that fails
    /// [`sign::verify`] with its sentence.
    pub async fn verifiers_for(&self, serial: &str) -> Result<Verifiers, ProviderError> {
        if !self.verifiers().knows(serial) && self.may_fetch_certificates() {
            self.refresh_certificates().await?;
        }
        Ok(self.verifiers())
    }

    fn may_fetch_certificates(&self) -> bool {
        let mut fetched = self
            .certificates_fetched
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if fetched.is_some_and(|at| at.elapsed() < CERTIFICATE_REFRESH_GAP) {
            return false;
        }
        *fetched = Some(Instant::now());
        true
    }

    /// The APIv3 key that opens notifications.
    pub fn apiv3_key(&self) -> &ApiV3Key {
        &self.apiv3_key
    }

    /// The merchant number (商户号) a notification must name.
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// The AppID a notification must name.
    pub fn appid(&self) -> &str {
        &self.appid
    }

    /// One signed query for a trade that cannot exist: a signed ORDER_NOT_EXIST proves the
    /// keys, serial and mchid; SIGN_ERROR/401 → a Config sentence.
    pub async fn check_credentials(&self) -> Result<(), ProviderError> {
        let probe = format!("SHOPCASTCHECK{}", &sign::new_nonce()[..12]);
        let reply = self.call("GET", &self.query_path(&probe), None).await?;
        if reply.status == 200 || reply.is_error("ORDER_NOT_EXIST") {
            return Ok(());
        }
        Err(self.refused(&reply))
    }

    fn query_path(&self, out_trade_no: &str) -> String {
        format!(
            "/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={}",
            self.mchid
        )
    }

    /// Signs and sends one request; the reply unverified (only [`Self::call`] and the
    /// certificate download use this).
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> Result<RawResponse, ProviderError> {
        let base = self.api_base.as_str().trim_end_matches('/');
        let url = Url::parse(&format!("{base}{path}"))
            .map_err(|_| bad_response(format!("could not form the address of {path}")))?;
        // The signed URL is the path with its query, exactly as sent.
        let signed_url = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        let body = body.unwrap_or_default();
        let authorization = sign::authorization(
            &self.mchid,
            &self.merchant_serial,
            method,
            &signed_url,
            Timestamp::now().as_second(),
            &sign::new_nonce(),
            &body,
            &self.merchant_key,
        );
        let verb = if method == "POST" {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        };
        let mut request = self
            .http
            .request(verb, url)
            .header(AUTHORIZATION, authorization)
            .header(ACCEPT, "application/json");
        if method == "POST" {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        http::send(KIND, request).await
    }

    /// Sends one request and returns the reply once its signature checked out over the raw
    /// body. A reply under a serial nobody knows makes us fetch the platform certificates
    /// once and check again.
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> Result<Reply, ProviderError> {
        let response = self.send(method, path, body).await?;
        let headers = match SignedHeaders::from_headers(&response.headers) {
            Ok(headers) => headers,
            // A refused request signature may come back unsigned: the owner gets the sentence
            // about the key, and nothing in the unsigned body is believed.
            Err(_) if response.status == 401 => {
                return Err(key_refused(&format!("HTTP {}", response.status)));
            }
            Err(err) => return Err(err),
        };
        let verifiers = self.verifiers_for(&headers.serial).await?;
        sign::verify(&headers, &response.body, &verifiers, Timestamp::now())?;
        Ok(Reply {
            status: response.status,
            body: response.body,
        })
    }

    /// Downloads the platform certificates (平台证书), decrypts each with the APIv3 key,
    /// and keeps them once the download's own signature checks out with them.
    async fn refresh_certificates(&self) -> Result<(), ProviderError> {
        let response = self.send("GET", wire::CERTIFICATES, None).await?;
        if response.status != 200 {
            return Err(ProviderError::BadSignature {
                provider: KIND,
                detail: format!(
                    "a reply is signed under a serial Shopcast does not know, and the platform \
                     certificates could not be fetched (HTTP {})",
                    response.status
                ),
            });
        }
        let list: wire::CertificateList = wire::parse(&response.body, "certificates")?;
        let mut candidate = self.verifiers();
        for entry in list.data {
            let sealed = &entry.encrypt_certificate;
            if sealed.algorithm != "AEAD_AES_256_GCM" {
                continue;
            }
            let pem = sign::decrypt(
                &self.apiv3_key,
                &sealed.nonce,
                &sealed.associated_data,
                &sealed.ciphertext,
            )?;
            let certificate = PlatformCertificate::parse_pem(&pem)?;
            if !certificate.serial.eq_ignore_ascii_case(&entry.serial_no) {
                return Err(bad_response(format!(
                    "platform certificate {} is listed as {}",
                    certificate.serial, entry.serial_no
                )));
            }
            candidate.add_certificate(certificate);
        }
        let headers = SignedHeaders::from_headers(&response.headers)?;
        sign::verify(&headers, &response.body, &candidate, Timestamp::now())?;
        *self.verifiers.write().unwrap_or_else(|p| p.into_inner()) = candidate;
        Ok(())
    }

    /// A signed error reply as a [`ProviderError`]: 401 → Config sentence, else Rejected
    /// with WeChat Pay's own words.
    fn refused(&self, reply: &Reply) -> ProviderError {
        let error = reply.error();
        if reply.status == 401 {
            return key_refused(&format!("{} {}", error.code, error.message));
        }
        if error.code.is_empty() {
            return bad_response(format!(
                "HTTP {}: {}",
                reply.status,
                http::truncate(&reply.text(), 300)
            ));
        }
        ProviderError::Rejected {
            provider: KIND,
            code: error.code,
            message: error.message,
            raw: reply.text(),
        }
    }

    /// A signed refusal to close or reverse `number`: the trade may still be payable, so it is
    /// not withdrawn. Retryable (it stays open and is asked about again), except a refused
    /// request signature, which is the owner's sentence.
    fn not_withdrawn(&self, number: &str, action: &str, reply: &Reply) -> ProviderError {
        if reply.status == 401 {
            return self.refused(reply);
        }
        let error = reply.error();
        bad_response(format!(
            "WeChat Pay did not {action} trade {number} (HTTP {}: {} {}), so it stays open and \
             is asked about again",
            reply.status,
            error.code,
            http::truncate(&error.message, 200)
        ))
    }

    /// A signed answer about another trade or merchant must change nothing here.
    fn check_identity(
        &self,
        asked: &str,
        out_trade_no: Option<&str>,
        mchid: Option<&str>,
        appid: Option<&str>,
    ) -> Result<(), ProviderError> {
        if out_trade_no != Some(asked) {
            return Err(bad_response(format!(
                "asked about trade {asked} and got an answer about {}",
                out_trade_no.unwrap_or("no trade")
            )));
        }
        if let Some(mchid) = mchid
            && mchid != self.mchid
        {
            return Err(bad_response(format!(
                "the answer about trade {asked} is for merchant {mchid}, not {}",
                self.mchid
            )));
        }
        if let Some(appid) = appid
            && appid != self.appid
        {
            return Err(bad_response(format!(
                "the answer about trade {asked} is for AppID {appid}, not {}",
                self.appid
            )));
        }
        Ok(())
    }

    /// One signed query; `None` when WeChat Pay has no such trade (ORDER_NOT_EXIST).
    async fn query_path_reply(
        &self,
        path: &str,
    ) -> Result<Option<(Transaction, String)>, ProviderError> {
        let reply = self.call("GET", path, None).await?;
        if reply.is_error("ORDER_NOT_EXIST") {
            return Ok(None);
        }
        if reply.status != 200 {
            return Err(self.refused(&reply));
        }
        let transaction: Transaction = wire::parse(&reply.body, "query")?;
        Ok(Some((transaction, reply.text())))
    }

    async fn query(
        &self,
        out_trade_no: &str,
    ) -> Result<Option<(Transaction, String)>, ProviderError> {
        let found = self
            .query_path_reply(&self.query_path(out_trade_no))
            .await?;
        if let Some((transaction, _)) = &found {
            self.check_identity(
                out_trade_no,
                transaction.out_trade_no.as_deref(),
                transaction.mchid.as_deref(),
                transaction.appid.as_deref(),
            )?;
        }
        Ok(found)
    }

    /// The event for a queried trade, if it settled; amounts of unpaid ends are the charge's.
    fn event_of(
        &self,
        charge: &OpenCharge,
        transaction: &Transaction,
        raw: String,
    ) -> Result<Option<ProviderEvent>, ProviderError> {
        let event = wire::transaction_event(transaction, Some(charge.order_ref.clone()), raw)?;
        Ok(event.map(|mut event| {
            if event.status != PaymentStatus::Paid {
                event.amount_minor = charge.amount_minor;
            }
            event
        }))
    }

    /// Asks about one open charge; `Some` when it settled or expired.
    async fn check(&self, charge: &OpenCharge) -> Result<Option<ProviderEvent>, ProviderError> {
        wire::check_currency(&charge.currency)?;
        let expired = Timestamp::now() > charge.expires_at;
        let Some((transaction, raw)) = self.query(&charge.charge_ref).await? else {
            if !expired {
                return Ok(None);
            }
            // A QR nobody opened has nothing to withdraw. A payment code whose codepay answer
            // was lost may still reach WeChat Pay late: it is reversed (a signed
            // ORDER_NOT_EXIST from reverse is fine) so it cannot be paid after the till gave up.
            if !wire::is_code_trade(&charge.charge_ref) {
                return Ok(Some(unpaid_event(
                    charge,
                    wire::state_event_id(&charge.charge_ref, "CLOSED"),
                    PaymentStatus::Expired,
                    String::new(),
                )));
            }
            return self.expire(charge).await.map(Some);
        };
        if let Some(event) = self.event_of(charge, &transaction, raw)? {
            return Ok(Some(event));
        }
        if !expired {
            return Ok(None);
        }
        self.expire(charge).await.map(Some)
    }

    /// Withdraws an expired charge the query just found unpaid (or missing) and reports it
    /// expired, or paid if the customer paid in between.
    async fn expire(&self, charge: &OpenCharge) -> Result<ProviderEvent, ProviderError> {
        match self.withdraw(charge, Queried::Unpaid).await? {
            Withdrawn::Done { state, raw } => Ok(unpaid_event(
                charge,
                wire::state_event_id(&charge.charge_ref, state),
                PaymentStatus::Expired,
                raw,
            )),
            Withdrawn::Paid(event) => Ok(*event),
        }
    }

    /// Withdraws an unpaid trade so a late scan or confirmation cannot pay it: `close` for a
    /// Native QR, `reverse` for a payment code. A payment code is asked about first unless
    /// the caller just did ([`Queried::Unpaid`]): reverse would refund a trade paid in the
    /// meantime, and a paid sale is reported paid, never lost. Only a signed "closed /
    /// reversed / no such trade" counts as withdrawn; any other refusal is an error.
    async fn withdraw(
        &self,
        charge: &OpenCharge,
        queried: Queried,
    ) -> Result<Withdrawn, ProviderError> {
        let number = &charge.charge_ref;
        if wire::is_code_trade(number) {
            if queried == Queried::No
                && let Some((transaction, raw)) = self.ask_before_withdrawing(number).await?
                && let Some(event) = self.event_of(charge, &transaction, raw)?
                && event.status == PaymentStatus::Paid
            {
                return Ok(Withdrawn::Paid(Box::new(event)));
            }
            let body = serde_json::json!({ "appid": self.appid, "mchid": self.mchid }).to_string();
            let path = format!("/v3/pay/transactions/out-trade-no/{number}/reverse");
            let reply = self.call("POST", &path, Some(body)).await?;
            if reply.status == 200 {
                let answer: wire::ReverseReply = wire::parse(&reply.body, "reverse")?;
                self.check_identity(
                    number,
                    answer.out_trade_no.as_deref(),
                    answer.mchid.as_deref(),
                    answer.appid.as_deref(),
                )?;
            } else if !(reply.status == 204 || reply.is_error("ORDER_NOT_EXIST")) {
                return Err(self.not_withdrawn(number, "reverse", &reply));
            }
            return Ok(Withdrawn::Done {
                state: "REVOKED",
                raw: reply.text(),
            });
        }
        let body = serde_json::json!({ "mchid": self.mchid }).to_string();
        let path = format!("/v3/pay/transactions/out-trade-no/{number}/close");
        let reply = self.call("POST", &path, Some(body)).await?;
        if (200..300).contains(&reply.status) || reply.is_error("ORDER_NOT_EXIST") {
            return Ok(Withdrawn::Done {
                state: "CLOSED",
                raw: reply.text(),
            });
        }
        if reply.is_error("ORDERPAID") || reply.is_error("ORDER_PAID") {
            // Paid at the last moment: the query tells the payment.
            if let Some((transaction, raw)) = self.ask_before_withdrawing(number).await?
                && let Some(event) = self.event_of(charge, &transaction, raw)?
                && event.status == PaymentStatus::Paid
            {
                return Ok(Withdrawn::Paid(Box::new(event)));
            }
            return Err(bad_response(format!(
                "WeChat Pay says trade {number} is paid but its query does not show the payment"
            )));
        }
        Err(self.not_withdrawn(number, "close", &reply))
    }

    /// The query inside a withdrawal: a refusal of it must not read as "withdrawn" (the
    /// engine takes [`ProviderError::Rejected`] so), so it is a retryable error here.
    async fn ask_before_withdrawing(
        &self,
        number: &str,
    ) -> Result<Option<(Transaction, String)>, ProviderError> {
        self.query(number).await.map_err(|err| match err {
            ProviderError::Rejected { code, message, .. } => bad_response(format!(
                "WeChat Pay would not say whether trade {number} is paid ({code} {}), so it is \
                 not withdrawn yet and is asked about again",
                http::truncate(&message, 200)
            )),
            other => other,
        })
    }

    /// The payment's whole amount, which a refund must state: asked from WeChat Pay so it is
    /// the amount that was actually paid.
    async fn payment_total(&self, request: &RefundRequest) -> Result<i64, ProviderError> {
        let found = match request.charge_ref.as_deref() {
            Some(number) => self.query(number).await?,
            None => {
                let path = format!(
                    "/v3/pay/transactions/id/{}?mchid={}",
                    request.provider_ref, self.mchid
                );
                self.query_path_reply(&path).await?
            }
        };
        let Some((transaction, _)) = found else {
            return Err(ProviderError::Rejected {
                provider: KIND,
                code: "ORDER_NOT_EXIST".to_string(),
                message: format!(
                    "WeChat Pay has no trade {} to refund",
                    request
                        .charge_ref
                        .as_deref()
                        .unwrap_or(&request.provider_ref)
                ),
                raw: String::new(),
            });
        };
        if let Some(id) = transaction.transaction_id.as_deref()
            && id != request.provider_ref
            && request.provider_ref != request.charge_ref.clone().unwrap_or_default()
        {
            return Err(bad_response(format!(
                "the trade to refund is WeChat Pay transaction {id}, not {}",
                request.provider_ref
            )));
        }
        transaction
            .amount
            .and_then(|amount| amount.total)
            .filter(|total| *total > 0)
            .ok_or_else(|| bad_response("the paid trade states no amount.total".to_string()))
    }

    fn read_refund(
        &self,
        reply: &Reply,
        refund_ref: &str,
    ) -> Result<wire::RefundReply, ProviderError> {
        if reply.status != 200 {
            return Err(self.refused(reply));
        }
        let refund: wire::RefundReply = wire::parse(&reply.body, "refund")?;
        if refund.out_refund_no != refund_ref {
            return Err(bad_response(format!(
                "asked about refund {refund_ref} and got an answer about {}",
                refund.out_refund_no
            )));
        }
        Ok(refund)
    }
}

/// The owner's sentence when WeChat Pay refuses our request signature (HTTP 401).
fn key_refused(what: &str) -> ProviderError {
    config_error(format!(
        "WeChat Pay refused the request's signature ({what}): the merchant key or its serial \
         number is wrong. Check the merchant API private key (apiclient_key.pem) and the \
         merchant certificate serial number (商户API证书序列号) in WeChat Pay settings."
    ))
}

/// A charge that ended unpaid (closed, reversed, or never created there), now.
fn unpaid_event(
    charge: &OpenCharge,
    event_id: String,
    status: PaymentStatus,
    raw: String,
) -> ProviderEvent {
    ProviderEvent {
        event_id,
        provider_ref: charge.charge_ref.clone(),
        order_ref: Some(charge.order_ref.clone()),
        charge_ref: Some(charge.charge_ref.clone()),
        status,
        amount_minor: charge.amount_minor,
        currency: "CNY".to_string(),
        refunded_total_minor: None,
        method: Some("wechat".to_string()),
        source_tag: None,
        occurred_at: Timestamp::now(),
        raw,
    }
}

/// Error codes after which a payment code may still go through (the phone asks for a
/// password, or WeChat Pay could not say): the charge waits and is queried.
const UNCERTAIN_CODES: &[&str] = &[
    "USERPAYING",
    "SYSTEMERROR",
    "SYSTEM_ERROR",
    "BANKERROR",
    "BANK_ERROR",
];

#[async_trait]
impl PaymentProvider for WechatProvider {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    async fn create_charge(&self, request: &ChargeRequest) -> Result<Charge, ProviderError> {
        if request.web.is_some() {
            return Err(ProviderError::Unsupported {
                provider: KIND,
                what: "payments in the buyer's browser (use the QR at the till)",
            });
        }
        let out_trade_no = wire::trade_number(&request.order_ref);
        let body = wire::native_body(
            request,
            &self.appid,
            &self.mchid,
            &out_trade_no,
            &self.notify_url,
        )?;
        let reply = self.call("POST", wire::NATIVE, Some(body)).await?;
        if reply.status != 200 {
            return Err(self.refused(&reply));
        }
        let native: wire::NativeReply = wire::parse(&reply.body, "Native")?;
        if !native.code_url.starts_with("weixin://") {
            return Err(bad_response(format!(
                "the Native reply's code_url {:?} is not a weixin:// address",
                http::truncate(&native.code_url, 80)
            )));
        }
        Ok(Charge {
            charge_ref: out_trade_no,
            qr_payload: native.code_url,
            expires_at: request.expires_at,
            raw: reply.text(),
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

    /// Charges a payment code. Once the request may have reached WeChat Pay, only a signed
    /// refusal ends the charge here: a lost, unreadable or unverifiable answer (or one about
    /// another trade) leaves it waiting, so the watcher's signed queries settle it and it is
    /// reversed on expiry. Never sent → the error (the cashier scans again).
    async fn charge_code(
        &self,
        request: &ChargeRequest,
        auth_code: &str,
    ) -> Result<CodeCharge, ProviderError> {
        let auth_code = payment_code::till_code(KIND, request, auth_code)?;
        let out_trade_no = wire::code_trade_number(&request.order_ref);
        let body =
            wire::codepay_body(request, &self.appid, &self.mchid, &out_trade_no, &auth_code)?;
        let charge = |raw: String| payment_code::code_charge(&out_trade_no, request, raw);
        let waiting = |err: &ProviderError, raw: String| {
            tracing::warn!(
                %out_trade_no,
                error = %err,
                "WeChat Pay codepay outcome unknown; the trade is queried until it settles"
            );
            Ok(CodeCharge::Waiting {
                charge: charge(raw),
            })
        };
        let reply = match self.call("POST", wire::CODEPAY, Some(body)).await {
            Ok(reply) => reply,
            // Never left this computer: no trade exists, the cashier may simply scan again.
            Err(err) if http::never_sent(&err) => return Err(err),
            Err(err) => {
                let raw = serde_json::json!({
                    "path": wire::CODEPAY,
                    "out_trade_no": out_trade_no,
                    "outcome_unknown": err.to_string(),
                });
                return waiting(&err, raw.to_string());
            }
        };
        if reply.status == 200 {
            let raw = reply.text();
            let transaction =
                match wire::parse::<Transaction>(&reply.body, "codepay").and_then(|transaction| {
                    self.check_identity(
                        &out_trade_no,
                        transaction.out_trade_no.as_deref(),
                        transaction.mchid.as_deref(),
                        transaction.appid.as_deref(),
                    )?;
                    Ok(transaction)
                }) {
                    Ok(transaction) => transaction,
                    Err(err) => return waiting(&err, raw),
                };
            return match wire::transaction_event(
                &transaction,
                Some(request.order_ref.clone()),
                raw.clone(),
            ) {
                Ok(Some(event)) if event.status == PaymentStatus::Paid => Ok(CodeCharge::Paid {
                    charge: charge(raw),
                    event,
                }),
                Ok(Some(_)) => Err(ProviderError::Rejected {
                    provider: KIND,
                    code: transaction.trade_state.unwrap_or_default(),
                    message: transaction.trade_state_desc.unwrap_or_default(),
                    raw,
                }),
                Ok(None) => Ok(CodeCharge::Waiting {
                    charge: charge(raw),
                }),
                Err(err) => waiting(&err, raw),
            };
        }
        let error = reply.error();
        if reply.status == 202 || UNCERTAIN_CODES.contains(&error.code.as_str()) {
            return Ok(CodeCharge::Waiting {
                charge: charge(reply.text()),
            });
        }
        Err(self.refused(&reply))
    }

    async fn cancel(&self, charge: &OpenCharge) -> Result<(), ProviderError> {
        let result = self.withdraw(charge, Queried::No).await;
        match result? {
            Withdrawn::Done { .. } => {
                self.due.forget(&charge.charge_ref);
                Ok(())
            }
            // Still open: the next poll queries it at once and records the payment.
            Withdrawn::Paid(_) => Err(ProviderError::Paid { provider: KIND }),
        }
    }

    /// Refunds part or all of a payment (`out_refund_no` = our refund reference, so a retry
    /// never refunds twice) and follows it until WeChat Pay says SUCCESS.
    async fn refund(&self, request: &RefundRequest) -> Result<Refund, ProviderError> {
        wire::check_currency(&request.currency)?;
        let total = self.payment_total(request).await?;
        let body = wire::refund_body(request, request.charge_ref.as_deref(), total)?;
        let reply = self.call("POST", wire::REFUNDS, Some(body)).await?;
        let mut refund = self.read_refund(&reply, &request.refund_ref)?;
        let mut raw = reply.text();
        let started = std::time::Instant::now();
        let mut gap = Duration::from_millis(200);
        loop {
            match refund.status.as_str() {
                "SUCCESS" => break,
                "PROCESSING" => {}
                "CLOSED" | "ABNORMAL" => {
                    return Err(ProviderError::Rejected {
                        provider: KIND,
                        code: refund.status.clone(),
                        message: format!(
                            "WeChat Pay reports refund {} as {} (nothing more is paid back; see \
                             the merchant platform)",
                            request.refund_ref, refund.status
                        ),
                        raw,
                    });
                }
                other => return Err(bad_response(format!("unknown refund status {other:?}"))),
            }
            if started.elapsed() + gap > self.refund_wait {
                return Err(ProviderError::Unreachable {
                    provider: KIND,
                    detail: format!(
                        "WeChat Pay is still processing refund {} after {} seconds; trying \
                         again uses the same refund number, so it is never refunded twice",
                        request.refund_ref,
                        self.refund_wait.as_secs()
                    ),
                });
            }
            tokio::time::sleep(gap).await;
            gap = (gap * 2).min(Duration::from_secs(4));
            let path = format!("{}/{}", wire::REFUNDS, request.refund_ref);
            let reply = self.call("GET", &path, None).await?;
            refund = self.read_refund(&reply, &request.refund_ref)?;
            raw = reply.text();
        }
        Ok(Refund {
            refund_id: refund
                .refund_id
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| request.refund_ref.clone()),
            amount_minor: refund
                .amount
                .and_then(|amount| amount.refund)
                .unwrap_or(request.amount_minor),
            refunded_total_minor: None,
            raw,
        })
    }
}
