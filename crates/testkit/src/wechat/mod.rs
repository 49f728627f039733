//! A local WeChat Pay APIv3 gateway for a directly connected merchant: Native, payment codes
//! (付款码), query, close, reverse (撤销), refunds, platform certificates — signed like WeChat Pay.
//!
//! Wire format as documented on pay.weixin.qq.com/docs/merchant/apis (native-payment,
//! code-payment-v3, refund, platform certificates): every request's `Authorization` is checked
//! with the merchant's public key (bad or missing → 401 `SIGN_ERROR`, as WeChat Pay answers),
//! every reply (errors too) carries `Wechatpay-Timestamp/Nonce/Signature/Serial/Signature-Type`
//! signed with "WeChat Pay's" own key. Faults ([`Fault`]) corrupt the next replies on purpose.
//!
//! Endpoints: POST /v3/pay/transactions/native → 200 {code_url}; POST …/codepay → 200 paid
//! transaction, 202 {code:USERPAYING} or 4xx; GET …/out-trade-no/{no}?mchid= and
//! …/id/{transaction_id}?mchid= → transaction (404 ORDER_NOT_EXIST); POST …/{no}/close → 204;
//! POST …/{no}/reverse → 200 {appid, mchid, out_trade_no}; POST /v3/refund/domestic/refunds →
//! PROCESSING, SUCCESS on the next GET …/refunds/{out_refund_no}; GET /v3/certificates.
//!
//! Control routes for the e2e suite and the CLI tests (not signed, not recorded):
//! `POST /_gateway/pay/{out_trade_no}`, `POST /_gateway/code/{auth_code}` with a JSON
//! [`CodeBehaviour`], `POST /_gateway/fail` with `{"fault": Fault, "times": n}`,
//! `GET /_gateway/trades/{out_trade_no}` → [`TradeView`] (404 when unknown).

mod api;
mod keys;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shopcast_payments::wechat::sign::{self, ApiV3Key, MerchantKey, WechatPayKey};

/// Key pairs and platform certificates made with `openssl`, for tests that need their own.
pub use keys::{KeyPair, generate_key_pair, platform_certificate};

/// The merchant the gateway serves (WeChat Pay's documentation examples use these numbers).
pub const MCHID: &str = "1900000109";
/// The AppID bound to [`MCHID`] at the gateway.
pub const APPID: &str = "wxd678efh567hg6787";

/// What the customer's phone does after the cashier scans their payment code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CodeBehaviour {
    /// Small amount, no password: codepay answers 200 with the paid transaction.
    PaidAtOnce,
    /// The phone asks for the password: codepay answers 202 USERPAYING; the trade turns
    /// SUCCESS on the `confirm_after_queries`-th query (0: only when [`WechatGateway::pay`]).
    UserPaying { confirm_after_queries: u32 },
    /// The customer never confirms: USERPAYING until reversed.
    NeverConfirms,
    /// WeChat Pay refuses the code (e.g. `NOTENOUGH`, `AUTH_CODE_INVALID`): 403 (400 for
    /// `PARAM_ERROR`/`INVALID_REQUEST`) with that code and message; the trade is PAYERROR.
    Declined { code: String, message: String },
}

/// A way the next replies go wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// That HTTP status with WeChat Pay's error JSON for it (500 SYSTEM_ERROR, 429
    /// FREQUENCY_LIMITED, 401 SIGN_ERROR, …), signed; the request is not carried out.
    Status { status: u16 },
    /// The request is carried out; the reply body is not JSON (signed correctly).
    Garbage,
    /// The request is carried out; the reply has no Wechatpay-* headers.
    Unsigned,
    /// The request is carried out; the body is changed after signing.
    TamperedBody,
    /// The request is carried out; signed, but under a serial nobody knows.
    WrongSerial,
    /// The request is carried out; signed correctly ten minutes ago.
    StaleTimestamp,
    /// The reply is held back this long (then sent normally).
    Slow { millis: u64 },
}

impl Fault {
    /// `Fault::Status { status }`, shorter.
    pub fn status(status: u16) -> Fault {
        Fault::Status { status }
    }

    /// `Fault::Slow` for `duration`, shorter.
    pub fn slow(duration: Duration) -> Fault {
        Fault::Slow {
            millis: duration.as_millis() as u64,
        }
    }
}

/// One request as it reached the gateway.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedRequest {
    /// GET or POST.
    pub method: String,
    /// The path with its query, as signed.
    pub path: String,
    /// The request body as received ("" for GET).
    pub body: String,
    /// The Authorization header, if any.
    pub authorization: Option<String>,
    /// Whether the Authorization signature checked out with the merchant's public key.
    pub signature_ok: bool,
    /// The HTTP status the gateway answered.
    pub status: u16,
}

/// A trade as the gateway holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TradeView {
    /// The merchant's trade number.
    pub out_trade_no: String,
    /// NATIVE or MICROPAY.
    pub trade_type: String,
    /// NOTPAY, USERPAYING, SUCCESS, CLOSED, REVOKED, PAYERROR or REFUND.
    pub state: String,
    /// The trade's amount in fen.
    pub amount_total: i64,
    /// "CNY".
    pub currency: String,
    /// The `description` the merchant sent.
    pub description: String,
    /// The payment code charged (payment-code trades only).
    pub auth_code: Option<String>,
    /// WeChat Pay's id, once paid.
    pub transaction_id: Option<String>,
    /// Closed with `close` (Native).
    pub closed: bool,
    /// Reversed with `reverse` (payment codes).
    pub reversed: bool,
    /// Fen refunded so far (a reversed paid trade counts as fully refunded).
    pub refunded: i64,
    /// Queries answered for this trade.
    pub queries: u32,
}

/// The platform certificate the gateway signs with after [`WechatGateway::use_platform_certificate`].
#[derive(Clone, Debug)]
pub struct PlatformCertificateFiles {
    /// The certificate's serial (upper-case hex, as in Wechatpay-Serial).
    pub serial: String,
    /// The certificate, PEM.
    pub certificate_pem: String,
}

pub(crate) struct Signer {
    pub serial: String,
    pub key: MerchantKey,
}

pub(crate) struct Shared {
    pub mchid: String,
    pub appid: String,
    pub merchant_serial: String,
    pub merchant_public_key: WechatPayKey,
    pub apiv3_key: ApiV3Key,
    pub public_key_signer: Signer,
    pub state: Mutex<State>,
}

#[derive(Default)]
pub(crate) struct State {
    pub trades: HashMap<String, api::Trade>,
    pub refunds: HashMap<String, api::RefundRecord>,
    pub codes: HashMap<String, CodeBehaviour>,
    pub faults: VecDeque<Fault>,
    pub requests: Vec<RecordedRequest>,
    pub platform: Option<(Signer, PlatformCertificateFiles)>,
    pub counter: u64,
}

/// A running gateway on 127.0.0.1; stops when dropped.
pub struct WechatGateway {
    /// `http://127.0.0.1:PORT`, the `api_base` to give the provider.
    pub url: String,
    pub mchid: String,
    pub appid: String,
    /// The merchant certificate serial (商户API证书序列号) the gateway expects in `serial_no`.
    pub merchant_serial: String,
    /// The merchant API private key (PKCS#8 PEM, as apiclient_key.pem).
    pub merchant_private_key_pem: String,
    /// WeChat Pay's public key (SPKI PEM, as pub_key.pem).
    pub wechatpay_public_key_pem: String,
    /// PUB_KEY_ID_…, the `Wechatpay-Serial` of replies in public-key mode.
    pub public_key_id: String,
    /// The 32-character APIv3 key notifications and certificates are encrypted with.
    pub apiv3_key: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for WechatGateway {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn hex_upper(len: usize) -> String {
    // new_nonce is OS randomness over A–Z0–9; fold it onto hex digits.
    let mut out = String::new();
    while out.len() < len {
        out.extend(
            sign::new_nonce()
                .bytes()
                .map(|b| char::from(b"0123456789ABCDEF"[usize::from(b % 16)])),
        );
    }
    out.truncate(len);
    // A serial never starts with 0 (WeChat Pay writes it without leading zeros).
    if out.starts_with('0') {
        out.replace_range(0..1, "5");
    }
    out
}

impl WechatGateway {
    /// Starts a gateway on a free port with fresh keys (`openssl genpkey`, RSA 2048).
    pub async fn start() -> WechatGateway {
        Self::start_on(0).await
    }

    /// Starts a gateway on `port` (0: any free port).
    pub async fn start_on(port: u16) -> WechatGateway {
        let (merchant, wechatpay) =
            tokio::task::spawn_blocking(|| (keys::generate_key_pair(), keys::generate_key_pair()))
                .await
                .expect("key generation");
        let merchant_serial = hex_upper(40);
        let public_key_id = format!("PUB_KEY_ID_0119000001092026{}", &hex_upper(16));
        let apiv3_key = sign::new_nonce();
        let shared = Arc::new(Shared {
            mchid: MCHID.to_string(),
            appid: APPID.to_string(),
            merchant_serial: merchant_serial.clone(),
            merchant_public_key: WechatPayKey::parse(&merchant.public_pem).expect("own key"),
            apiv3_key: ApiV3Key::new(&apiv3_key).expect("own APIv3 key"),
            public_key_signer: Signer {
                serial: public_key_id.clone(),
                key: MerchantKey::parse(&wechatpay.private_pem).expect("own key"),
            },
            state: Mutex::new(State::default()),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the WeChat Pay gateway on 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = api::router(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve the gateway");
        });
        WechatGateway {
            url,
            mchid: MCHID.to_string(),
            appid: APPID.to_string(),
            merchant_serial,
            merchant_private_key_pem: merchant.private_pem,
            wechatpay_public_key_pem: wechatpay.public_pem,
            public_key_id,
            apiv3_key,
            shared,
            server,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap()
    }

    /// The customer pays a Native QR, or confirms a USERPAYING payment code, now.
    /// Panics when the trade is unknown or already final (a test's mistake).
    pub fn pay(&self, out_trade_no: &str) {
        let mut state = self.state();
        let trade = state
            .trades
            .get_mut(out_trade_no)
            .unwrap_or_else(|| panic!("the gateway has no trade {out_trade_no}"));
        assert!(
            trade.can_pay(),
            "trade {out_trade_no} is {} and cannot be paid",
            trade.state
        );
        trade.mark_paid();
    }

    /// How the customer's phone answers when the cashier scans `auth_code` (default for
    /// unknown codes: [`CodeBehaviour::PaidAtOnce`]).
    pub fn set_code(&self, auth_code: &str, behaviour: CodeBehaviour) {
        self.state().codes.insert(auth_code.to_string(), behaviour);
    }

    /// The next `times` API replies go wrong this way (queued after earlier faults).
    pub fn fail_next(&self, fault: Fault, times: usize) {
        let mut state = self.state();
        state.faults.extend(std::iter::repeat_n(fault, times));
    }

    /// The trade as the gateway holds it now, if it exists.
    pub fn trade(&self, out_trade_no: &str) -> Option<TradeView> {
        self.state().trades.get(out_trade_no).map(api::Trade::view)
    }

    /// Every API request so far, in order (control routes excluded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }

    /// A TRANSACTION.SUCCESS notification for a paid trade, as WeChat Pay would POST it to
    /// the notify_url: the signed headers and the body (resource encrypted with the APIv3 key).
    pub fn notification(&self, out_trade_no: &str) -> (Vec<(String, String)>, String) {
        let state = self.state();
        let trade = state
            .trades
            .get(out_trade_no)
            .unwrap_or_else(|| panic!("the gateway has no trade {out_trade_no}"));
        assert!(
            trade.transaction_id.is_some(),
            "trade {out_trade_no} is {} and was never paid",
            trade.state
        );
        let body = api::notification_body(&self.shared, &state, trade);
        let signer = api::signer(&self.shared, &state);
        let headers = api::signed_headers(signer, jiff::Timestamp::now().as_second(), &body);
        (headers, body)
    }

    /// Switches to platform-certificate mode: a new platform key and certificate (its own
    /// serial) are made, /v3/certificates hands them out encrypted, and replies are signed
    /// with it under its serial instead of the public key id.
    pub fn use_platform_certificate(&self) -> PlatformCertificateFiles {
        let serial = hex_upper(40);
        let key = keys::generate_key_pair();
        let certificate_pem = keys::platform_certificate(&key, &serial);
        let files = PlatformCertificateFiles {
            serial: serial.clone(),
            certificate_pem,
        };
        let signer = Signer {
            serial,
            key: MerchantKey::parse(&key.private_pem).expect("own key"),
        };
        self.state().platform = Some((signer, files.clone()));
        files
    }

    /// The config line the `wechat-gateway` bin prints.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "url": self.url,
            "mchid": self.mchid,
            "appid": self.appid,
            "merchant_serial": self.merchant_serial,
            "public_key_id": self.public_key_id,
            "apiv3_key": self.apiv3_key,
        })
    }
}
