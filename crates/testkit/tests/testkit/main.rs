//! Tests of the local WeChat Pay gateway: the SDK no one here wrote (wechatpayv3) accepts its
//! signed replies and gets its requests through the gateway's signature check; unsigned or
//! forged requests get WeChat Pay's 401 SIGN_ERROR; the trade states move as documented.

#[path = "../../../payments/tests/support/venv.rs"]
mod venv;

use jiff::Timestamp;
use serde_json::{Value, json};
use shopcast_payments::wechat::sign::{self, MerchantKey, SignedHeaders, Verifiers, WechatPayKey};
use shopcast_testkit::{CodeBehaviour, Fault, WechatGateway};

fn status_of(outcome: &Value) -> u64 {
    assert!(
        outcome["error"].is_null(),
        "the SDK refused the gateway's reply: {outcome}"
    );
    outcome["status"].as_u64().unwrap()
}

fn body_of(outcome: &Value) -> Value {
    serde_json::from_str(outcome["body"].as_str().unwrap()).unwrap()
}

const CODE: &str = "134567890123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_client_accepts_every_reply_the_gateway_signs() {
    let gateway = WechatGateway::start().await;
    gateway.set_code(
        CODE,
        CodeBehaviour::UserPaying {
            confirm_after_queries: 2,
        },
    );
    let amount = json!({ "total": 8800, "currency": "CNY" });
    let calls = json!([
        { "call": "native", "args": { "description": "青花瓷杯 ×2", "out_trade_no": "O-42_N1", "amount": amount } },
        { "call": "query", "args": { "out_trade_no": "O-42_N1" } },
        { "call": "close", "args": { "out_trade_no": "O-42_N1" } },
        { "call": "query", "args": { "out_trade_no": "O-42_N1" } },
        { "call": "codepay", "args": { "description": "茶", "out_trade_no": "O-43_C", "amount": amount,
            "payer": { "auth_code": CODE }, "scene_info": { "store_info": { "out_id": "till-1" } } } },
        { "call": "query", "args": { "out_trade_no": "O-43_C" } },
        { "call": "query", "args": { "out_trade_no": "O-43_C" } },
        { "call": "refund", "args": { "out_refund_no": "R-7_1", "out_trade_no": "O-43_C",
            "amount": { "refund": 1250, "total": 8800, "currency": "CNY" } } },
        { "call": "query_refund", "args": { "out_refund_no": "R-7_1" } },
        { "call": "query", "args": { "out_trade_no": "NO-SUCH-TRADE" } },
    ]);
    let info = GatewayInfo::of(&gateway);
    let outcomes = tokio::task::spawn_blocking(move || info.run(calls))
        .await
        .unwrap();
    let statuses: Vec<u64> = outcomes.iter().take(9).map(status_of).collect();
    assert_eq!(statuses, [200, 200, 204, 200, 202, 200, 200, 200, 200]);
    assert!(
        body_of(&outcomes[0])["code_url"]
            .as_str()
            .unwrap()
            .starts_with("weixin://wxpay/bizpayurl?pr=")
    );
    assert_eq!(body_of(&outcomes[1])["trade_state"], "NOTPAY");
    assert_eq!(body_of(&outcomes[3])["trade_state"], "CLOSED");
    assert_eq!(body_of(&outcomes[4])["code"], "USERPAYING");
    assert_eq!(body_of(&outcomes[5])["trade_state"], "USERPAYING");
    let paid = body_of(&outcomes[6]);
    assert_eq!(paid["trade_state"], "SUCCESS");
    assert_eq!(paid["amount"]["payer_total"], 8800);
    assert_eq!(body_of(&outcomes[7])["status"], "PROCESSING");
    assert_eq!(body_of(&outcomes[8])["status"], "SUCCESS");
    // Non-2xx replies are not checked by the SDK; the status and WeChat Pay's code are.
    assert_eq!(outcomes[9]["status"], 404);
    assert_eq!(body_of(&outcomes[9])["code"], "ORDER_NOT_EXIST");
    // Every SDK request passed the gateway's signature check.
    let requests = gateway.requests();
    assert_eq!(requests.len(), 10);
    assert!(requests.iter().all(|r| r.signature_ok), "{requests:#?}");
    let trade = gateway.trade("O-43_C").unwrap();
    assert_eq!((trade.state.as_str(), trade.refunded), ("REFUND", 1250));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_client_refuses_the_gateways_forged_replies() {
    let gateway = WechatGateway::start().await;
    let query = json!({ "call": "query", "args": { "out_trade_no": "O-42_N1" } });
    let native = json!({ "call": "native", "args": { "description": "杯", "out_trade_no": "O-42_N1",
        "amount": { "total": 100, "currency": "CNY" } } });
    gateway.fail_next(Fault::TamperedBody, 1);
    gateway.fail_next(Fault::Unsigned, 1);
    // Last: on an unknown serial the SDK fetches /v3/certificates, which would take a fault.
    gateway.fail_next(Fault::WrongSerial, 1);
    let info = GatewayInfo::of(&gateway);
    let outcomes = tokio::task::spawn_blocking(move || {
        info.run(json!([native, query.clone(), query.clone(), query]))
    })
    .await
    .unwrap();
    for outcome in &outcomes[..3] {
        assert!(
            outcome["error"].as_str().unwrap_or("").contains("verify")
                || outcome["error"]
                    .as_str()
                    .unwrap_or("")
                    .contains("algorithm"),
            "the SDK accepted a forged reply: {outcome}"
        );
    }
    assert_eq!(status_of(&outcomes[3]), 200);
}

/// What the SDK job needs, detached from the gateway so it can move to a blocking thread.
struct GatewayInfo {
    job: WechatGatewayJob,
}

#[derive(Clone)]
struct WechatGatewayJob {
    url: String,
    mchid: String,
    appid: String,
    merchant_private_key_pem: String,
    merchant_serial: String,
    apiv3_key: String,
    wechatpay_public_key_pem: String,
    public_key_id: String,
}

impl GatewayInfo {
    fn of(gateway: &WechatGateway) -> GatewayInfo {
        GatewayInfo {
            job: WechatGatewayJob {
                url: gateway.url.clone(),
                mchid: gateway.mchid.clone(),
                appid: gateway.appid.clone(),
                merchant_private_key_pem: gateway.merchant_private_key_pem.clone(),
                merchant_serial: gateway.merchant_serial.clone(),
                apiv3_key: gateway.apiv3_key.clone(),
                wechatpay_public_key_pem: gateway.wechatpay_public_key_pem.clone(),
                public_key_id: gateway.public_key_id.clone(),
            },
        }
    }

    fn run(&self, calls: Value) -> Vec<Value> {
        let g = &self.job;
        let job = json!({
            "mchid": g.mchid,
            "appid": g.appid,
            "merchant_private_key": g.merchant_private_key_pem,
            "merchant_serial": g.merchant_serial,
            "apiv3_key": g.apiv3_key,
            "wechatpay_public_key": g.wechatpay_public_key_pem,
            "public_key_id": g.public_key_id,
            "gateway": { "url": g.url, "calls": calls },
        });
        let answer = venv::run_peer_script("wechat_vectors.py", &job);
        answer["gateway"]
            .as_array()
            .expect("one outcome per call")
            .clone()
    }
}

/// A request signed by our own `authorization`, its reply checked by our own `verify`.
async fn signed(
    gateway: &WechatGateway,
    method: &str,
    path: &str,
    body: &str,
    key: &MerchantKey,
) -> (u16, Value, Result<(), shopcast_payments::ProviderError>) {
    let now = Timestamp::now().as_second();
    let nonce = sign::new_nonce();
    let authorization = sign::authorization(
        &gateway.mchid,
        &gateway.merchant_serial,
        method,
        path,
        now,
        &nonce,
        body,
        key,
    );
    let client = shopcast_payments::http::client();
    let url = format!("{}{path}", gateway.url);
    let request = match method {
        "GET" => client.get(url),
        _ => client
            .post(url)
            .header("Content-Type", "application/json")
            .body(body.to_string()),
    };
    let reply = request
        .header("Authorization", authorization)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    let headers = reply.headers().clone();
    let bytes = reply.bytes().await.unwrap();
    let verifiers = Verifiers::new(Some((
        gateway.public_key_id.clone(),
        WechatPayKey::parse(&gateway.wechatpay_public_key_pem).unwrap(),
    )));
    let verdict = SignedHeaders::from_headers(&headers)
        .and_then(|h| sign::verify(&h, &bytes, &verifiers, Timestamp::now()));
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json, verdict)
}

#[tokio::test]
async fn a_request_signed_with_another_key_gets_401_sign_error_signed_by_wechat_pay() {
    let gateway = WechatGateway::start().await;
    let ours = MerchantKey::parse(&gateway.merchant_private_key_pem).unwrap();
    let path = format!(
        "/v3/pay/transactions/out-trade-no/O-1_N1?mchid={}",
        gateway.mchid
    );
    let (status, body, verdict) = signed(&gateway, "GET", &path, "", &ours).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("ORDER_NOT_EXIST"))
    );
    verdict.expect("the gateway signs error replies too");

    // A key that is not the merchant's.
    let other = tokio::task::spawn_blocking(|| {
        std::process::Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ])
            .output()
            .unwrap()
            .stdout
    })
    .await
    .unwrap();
    let other = MerchantKey::parse(std::str::from_utf8(&other).unwrap()).unwrap();
    let (status, body, verdict) = signed(&gateway, "GET", &path, "", &other).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("SIGN_ERROR")));
    verdict.unwrap();

    let unsigned = shopcast_payments::http::client()
        .get(format!("{}{path}", gateway.url))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    let requests = gateway.requests();
    assert_eq!(
        requests.iter().map(|r| r.signature_ok).collect::<Vec<_>>(),
        [true, false, false]
    );
}

#[tokio::test]
async fn payment_codes_move_through_userpaying_to_paid_or_revoked() {
    let gateway = WechatGateway::start().await;
    let key = MerchantKey::parse(&gateway.merchant_private_key_pem).unwrap();
    gateway.set_code("104567890123456789", CodeBehaviour::NeverConfirms);
    gateway.set_code(
        "114567890123456789",
        CodeBehaviour::Declined {
            code: "NOTENOUGH".into(),
            message: "用户余额不足".into(),
        },
    );
    let codepay = |no: &str, code: &str| {
        json!({ "appid": gateway.appid, "mchid": gateway.mchid, "description": "茶",
            "out_trade_no": no, "payer": { "auth_code": code },
            "amount": { "total": 500, "currency": "CNY" },
            "scene_info": { "store_info": { "out_id": "till-1" } } })
        .to_string()
    };
    let path = "/v3/pay/transactions/codepay";
    let (status, body, verdict) =
        signed(&gateway, "POST", path, &codepay("O-1_C", CODE), &key).await;
    verdict.unwrap();
    assert_eq!(
        (status, body["trade_state"].as_str()),
        (200, Some("SUCCESS"))
    );

    let (status, body, _) = signed(
        &gateway,
        "POST",
        path,
        &codepay("O-2_C", "104567890123456789"),
        &key,
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (202, Some("USERPAYING")));
    let reverse = json!({ "appid": gateway.appid, "mchid": gateway.mchid }).to_string();
    let (status, body, verdict) = signed(
        &gateway,
        "POST",
        "/v3/pay/transactions/out-trade-no/O-2_C/reverse",
        &reverse,
        &key,
    )
    .await;
    verdict.unwrap();
    assert_eq!(
        (status, body["out_trade_no"].as_str()),
        (200, Some("O-2_C"))
    );
    let trade = gateway.trade("O-2_C").unwrap();
    assert_eq!((trade.state.as_str(), trade.reversed), ("REVOKED", true));

    let (status, body, _) = signed(
        &gateway,
        "POST",
        path,
        &codepay("O-3_C", "114567890123456789"),
        &key,
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("NOTENOUGH")));
    assert_eq!(gateway.trade("O-3_C").unwrap().state, "PAYERROR");

    let (status, body, _) = signed(&gateway, "POST", path, &codepay("O-4_C", "2845"), &key).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_REQUEST"))
    );
}

#[tokio::test]
async fn a_paid_trades_notification_is_signed_and_opens_with_the_apiv3_key() {
    let gateway = WechatGateway::start().await;
    let key = MerchantKey::parse(&gateway.merchant_private_key_pem).unwrap();
    let body = json!({ "appid": gateway.appid, "mchid": gateway.mchid, "description": "杯",
        "out_trade_no": "O-9_N1", "notify_url": "https://shop.example/hooks/wechat",
        "amount": { "total": 8800, "currency": "CNY" } })
    .to_string();
    let (status, _, verdict) =
        signed(&gateway, "POST", "/v3/pay/transactions/native", &body, &key).await;
    verdict.unwrap();
    assert_eq!(status, 200);
    gateway.pay("O-9_N1");
    let (headers, body) = gateway.notification("O-9_N1");
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in &headers {
        map.insert(
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    let verifiers = Verifiers::new(Some((
        gateway.public_key_id.clone(),
        WechatPayKey::parse(&gateway.wechatpay_public_key_pem).unwrap(),
    )));
    let notification = shopcast_payments::wechat::notify::read_notification(
        &SignedHeaders::from_headers(&map).unwrap(),
        body.as_bytes(),
        &verifiers,
        &sign::ApiV3Key::new(&gateway.apiv3_key).unwrap(),
        Timestamp::now(),
    )
    .unwrap();
    assert_eq!(notification.event_type, "TRANSACTION.SUCCESS");
    let resource: Value = serde_json::from_str(&notification.resource).unwrap();
    assert_eq!(resource["trade_state"], "SUCCESS");
    assert_eq!(resource["out_trade_no"], "O-9_N1");
    assert_eq!(resource["amount"]["total"], 8800);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_platform_certificate_mode_replies_carry_the_certificate_serial() {
    let gateway = WechatGateway::start().await;
    let key = MerchantKey::parse(&gateway.merchant_private_key_pem).unwrap();
    let files = tokio::task::block_in_place(|| gateway.use_platform_certificate());
    let (status, body, verdict) = signed(&gateway, "GET", "/v3/certificates", "", &key).await;
    assert_eq!(status, 200);
    // Signed under the new serial, which a public-key-only verifier does not know.
    assert!(verdict.unwrap_err().to_string().contains(&files.serial));
    let item = &body["data"][0];
    assert_eq!(item["serial_no"], files.serial.as_str());
    let pem = sign::decrypt(
        &sign::ApiV3Key::new(&gateway.apiv3_key).unwrap(),
        item["encrypt_certificate"]["nonce"].as_str().unwrap(),
        "certificate",
        item["encrypt_certificate"]["ciphertext"].as_str().unwrap(),
    )
    .unwrap();
    let certificate = sign::PlatformCertificate::parse_pem(&pem).unwrap();
    assert_eq!(certificate.serial, files.serial);
}

#[tokio::test]
async fn faults_spoil_the_next_replies_in_the_way_they_say() {
    let gateway = WechatGateway::start().await;
    let key = MerchantKey::parse(&gateway.merchant_private_key_pem).unwrap();
    let path = format!(
        "/v3/pay/transactions/out-trade-no/O-1_N1?mchid={}",
        gateway.mchid
    );
    gateway.fail_next(Fault::status(500), 1);
    gateway.fail_next(Fault::StaleTimestamp, 1);
    gateway.fail_next(Fault::Garbage, 1);
    gateway.fail_next(Fault::slow(std::time::Duration::from_millis(300)), 1);
    let (status, body, verdict) = signed(&gateway, "GET", &path, "", &key).await;
    assert_eq!((status, body["code"].as_str()), (500, Some("SYSTEM_ERROR")));
    verdict.unwrap();
    let (status, _, verdict) = signed(&gateway, "GET", &path, "", &key).await;
    assert_eq!(status, 404);
    assert!(verdict.unwrap_err().to_string().contains("behind"));
    let (status, body, verdict) = signed(&gateway, "GET", &path, "", &key).await;
    assert_eq!((status, body), (404, Value::Null));
    verdict.expect("garbage is still signed");
    let started = std::time::Instant::now();
    let (status, body, verdict) = signed(&gateway, "GET", &path, "", &key).await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("ORDER_NOT_EXIST"))
    );
    verdict.unwrap();
    // Nothing left: the next reply is plain again.
    let (_, _, verdict) = signed(&gateway, "GET", &path, "", &key).await;
    verdict.unwrap();
}
