//! `wechat-gateway --keys-dir DIR [--port P]`: the local WeChat Pay gateway for the e2e and CLI
//! tests. Writes merchant_private_key.pem and wechatpay_public_key.pem into DIR, prints one
//! JSON line {url, mchid, appid, merchant_serial, public_key_id, apiv3_key}, serves until killed.

use std::io::Write as _;
use std::path::PathBuf;

use shopcast_testkit::WechatGateway;

fn usage() -> ! {
    eprintln!("usage: wechat-gateway --keys-dir DIR [--port P]");
    std::process::exit(2)
}

fn main() {
    let mut keys_dir: Option<PathBuf> = None;
    let mut port: u16 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--keys-dir" => keys_dir = Some(args.next().unwrap_or_else(|| usage()).into()),
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            _ => usage(),
        }
    }
    let keys_dir = keys_dir.unwrap_or_else(|| usage());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        let gateway = WechatGateway::start_on(port).await;
        std::fs::create_dir_all(&keys_dir).expect("create the keys dir");
        std::fs::write(
            keys_dir.join("merchant_private_key.pem"),
            &gateway.merchant_private_key_pem,
        )
        .expect("write merchant_private_key.pem");
        std::fs::write(
            keys_dir.join("wechatpay_public_key.pem"),
            &gateway.wechatpay_public_key_pem,
        )
        .expect("write wechatpay_public_key.pem");
        let mut stdout = std::io::stdout();
        writeln!(stdout, "{}", gateway.describe()).expect("print the gateway's config");
        stdout.flush().expect("flush stdout");
        std::future::pending::<()>().await;
    });
}
