//! `shopcast providers …` and `shopcast payments …`: connect payment providers and watch or
//! list payments without the window, through the same engine calls the window makes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Subcommand, ValueEnum};
use shopcast_core::Shop;
use shopcast_core::payments::PaymentUpdate;
use shopcast_core::payments::ledger::PaymentFilter;
use shopcast_core::payments::providers::WechatConnect;

use crate::cli::{Failure, read_secret};

#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// Connect a payment provider; keys are read from stdin or the environment, never flags.
    #[command(subcommand)]
    Add(AddProvider),
    /// Show the providers set up (never their keys).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Disconnect a provider and delete its keys.
    Remove { provider: ProviderName },
    /// Replace payment settings that cannot be read with the defaults (the unreadable text
    /// is kept as `payments.settings.unreadable`); settings that read fine are left alone.
    Reset,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProviderName {
    Stripe,
    Alipay,
    Wechat,
    Test,
}

#[derive(Debug, Subcommand)]
pub enum AddProvider {
    /// Stripe: the secret key comes from $SHOPCAST_STRIPE_KEY or the first line of stdin; the
    /// webhook endpoint's signing secret (whsec_…), if any, from $SHOPCAST_STRIPE_WEBHOOK_SECRET.
    Stripe {
        #[arg(long, default_value = "https://api.stripe.com")]
        api_base: String,
    },
    /// Alipay face-to-face: keys as PEM or bare base64 files.
    Alipay {
        #[arg(long)]
        app_id: String,
        /// production, sandbox, or a gateway URL.
        #[arg(long, default_value = "production")]
        gateway: String,
        #[arg(long, value_name = "FILE")]
        app_private_key: PathBuf,
        #[arg(long, value_name = "FILE")]
        alipay_public_key: PathBuf,
    },
    /// WeChat Pay (APIv3, a directly connected merchant): keys as PEM files; the APIv3 key
    /// comes from $SHOPCAST_WECHAT_APIV3_KEY or the first line of stdin.
    Wechat {
        /// The merchant id (商户号), e.g. 1900000109.
        #[arg(long)]
        mchid: String,
        /// The AppID bound to the merchant (公众号, 小程序 or App), e.g. wx8888888888888888.
        #[arg(long)]
        appid: String,
        /// The merchant API certificate's serial number (商户API证书序列号).
        #[arg(long)]
        serial: String,
        /// The merchant API private key, apiclient_key.pem.
        #[arg(long, value_name = "FILE")]
        private_key: PathBuf,
        /// WeChat Pay's public key (pub_key.pem) from the merchant platform.
        #[arg(long, value_name = "FILE")]
        wechatpay_public_key: PathBuf,
        /// That public key's id, PUB_KEY_ID_….
        #[arg(long, value_name = "ID")]
        wechatpay_public_key_id: String,
        /// WeChat Pay's API address (default: https://api.mch.weixin.qq.com).
        #[arg(long, value_name = "URL")]
        api_base: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PaymentsCommand {
    /// Watch the connected providers and print each payment recorded as a JSON line.
    Watch {
        /// Poll each provider once, print what was recorded, and exit.
        #[arg(long)]
        once: bool,
        /// Milliseconds between polls (default: the shop's setting).
        #[arg(long)]
        poll_ms: Option<u64>,
        /// Where the test checkout listens when test mode is on, e.g. 127.0.0.1:8765
        /// (default: the shop's test-mode setting).
        #[arg(long, value_name = "ADDR:PORT")]
        test_listen: Option<std::net::SocketAddr>,
    },
    /// List recorded payments, newest first.
    List {
        #[arg(long)]
        json: bool,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        status: Option<String>,
        /// Only sales rung up at this till (its name).
        #[arg(long, value_name = "NAME")]
        till: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: u32,
    },
}

pub async fn run_providers(shop: &Shop, command: ProvidersCommand) -> Result<(), Failure> {
    match command {
        ProvidersCommand::Add(AddProvider::Stripe { api_base }) => {
            // Checked before anything is stored: a mistyped one must not leave half a setup.
            let webhook_secret = std::env::var("SHOPCAST_STRIPE_WEBHOOK_SECRET")
                .ok()
                .filter(|secret| !secret.trim().is_empty());
            if let Some(secret) = &webhook_secret {
                shopcast_core::payments::providers::check_stripe_webhook_secret(secret)?;
            }
            let key = read_secret("SHOPCAST_STRIPE_KEY", "Stripe secret key")?;
            shop.connect_stripe(&api_base, &key).await?;
            println!("stripe connected");
            if let Some(secret) = webhook_secret {
                shop.set_stripe_webhook_secret(Some(&secret)).await?;
                println!("stripe webhook signing secret set");
            }
        }
        ProvidersCommand::Add(AddProvider::Alipay {
            app_id,
            gateway,
            app_private_key,
            alipay_public_key,
        }) => {
            shop.connect_alipay(
                &app_id,
                &gateway,
                &read_key_file(&app_private_key)?,
                &read_key_file(&alipay_public_key)?,
            )
            .await?;
            println!("alipay connected");
        }
        ProvidersCommand::Add(AddProvider::Wechat {
            mchid,
            appid,
            serial,
            private_key,
            wechatpay_public_key,
            wechatpay_public_key_id,
            api_base,
        }) => {
            // Files first: a wrong path must not cost the owner a typed-in key.
            let merchant_private_key = read_key_file(&private_key)?;
            let wechatpay_public_key = read_key_file(&wechatpay_public_key)?;
            let apiv3_key = read_secret("SHOPCAST_WECHAT_APIV3_KEY", "WeChat Pay APIv3 key")?;
            shop.connect_wechat(&WechatConnect {
                mchid,
                appid,
                merchant_serial: serial,
                merchant_private_key,
                apiv3_key,
                wechatpay_public_key: Some(wechatpay_public_key),
                wechatpay_public_key_id: Some(wechatpay_public_key_id),
                api_base,
            })
            .await?;
            println!("wechat connected");
        }
        ProvidersCommand::List { json } => {
            let settings = shop.payment_settings().await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&settings).expect("serializable")
                );
            } else {
                println!(
                    "test mode: {}",
                    if settings.test_mode { "on" } else { "off" }
                );
                if let Some(stripe) = &settings.stripe {
                    println!(
                        "stripe: {} key {} ({:?}), webhook signing secret {}",
                        stripe.api_base,
                        stripe.key_hint,
                        stripe.secret_backend,
                        if stripe.webhook_secret_set {
                            "set"
                        } else {
                            "not set"
                        }
                    );
                }
                if let Some(alipay) = &settings.alipay {
                    println!(
                        "alipay: app {} gateway {} ({:?})",
                        alipay.app_id, alipay.gateway, alipay.secret_backend
                    );
                }
                if let Some(wechat) = &settings.wechat {
                    println!(
                        "wechat: mchid {} appid {} serial {} public key {} api {} ({:?})",
                        wechat.mchid,
                        wechat.appid,
                        wechat.merchant_serial,
                        wechat.public_key_id.as_deref().unwrap_or("none"),
                        wechat.api_base,
                        wechat.secret_backend
                    );
                }
                // Events a provider listed that could not be read were skipped: say so.
                for kind in [
                    shopcast_payments::ProviderKind::Stripe,
                    shopcast_payments::ProviderKind::Alipay,
                    shopcast_payments::ProviderKind::Wechat,
                ] {
                    if let Some(skipped) = shop.payments().skipped_events(kind).await? {
                        println!("{kind}: {skipped}");
                    }
                }
            }
        }
        ProvidersCommand::Remove { provider } => {
            let kind = match provider {
                ProviderName::Stripe => shopcast_payments::ProviderKind::Stripe,
                ProviderName::Alipay => shopcast_payments::ProviderKind::Alipay,
                ProviderName::Wechat => shopcast_payments::ProviderKind::Wechat,
                ProviderName::Test => shopcast_payments::ProviderKind::Test,
            };
            shop.disconnect_provider(kind).await?;
            println!("{} disconnected", kind.as_str());
        }
        ProvidersCommand::Reset => {
            if shop.replace_unreadable_payment_settings().await? {
                println!(
                    "payment settings replaced with the defaults; the unreadable text is kept as payments.settings.unreadable"
                );
            } else {
                println!("payment settings read fine: nothing replaced");
            }
        }
    }
    Ok(())
}

/// A key file named on the command line (PEM or bare base64), read whole.
fn read_key_file(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::io(format!("cannot read {}: {e}", path.display())))
}

/// One value as a JSON line on stdout, flushed at once (scripts read it as it comes).
pub(crate) fn print_json_line(value: &impl serde::Serialize) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)
        .map_err(|e| Failure::io(format!("cannot write: {e}")))?;
    out.write_all(b"\n")
        .and_then(|_| out.flush())
        .map_err(|e| Failure::io(format!("cannot write: {e}")))
}

pub async fn run_payments(shop: &Shop, command: PaymentsCommand) -> Result<(), Failure> {
    match command {
        PaymentsCommand::List {
            json,
            provider,
            status,
            till,
            limit,
        } => {
            let payments = shop
                .list_payments(&PaymentFilter {
                    provider,
                    status,
                    till,
                    limit: Some(limit),
                    ..Default::default()
                })
                .await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&payments).expect("serializable")
                );
            } else {
                for p in payments {
                    println!(
                        "{}\t{}\t{}\t{} {}\t{}\t{}",
                        p.id,
                        p.provider,
                        p.provider_ref,
                        p.amount.to_decimal_string(),
                        p.amount.currency,
                        p.status,
                        p.order_ref.unwrap_or_default()
                    );
                }
            }
        }
        PaymentsCommand::Watch {
            once,
            poll_ms,
            test_listen,
        } => {
            if once {
                for payment in shop.poll_saved_providers_once().await? {
                    print_json_line(&payment)?;
                }
                return Ok(());
            }
            let interval = match poll_ms {
                Some(ms) => Duration::from_millis(ms),
                None => Duration::from_millis(u64::from(shop.payment_settings().await?.poll_ms)),
            };
            let (mut updates, test_checkout) =
                shop.watch_saved_providers(interval, test_listen).await?;
            if let Some(url) = test_checkout {
                eprintln!("test checkout listening on {url}");
            }
            loop {
                match updates.recv().await {
                    Ok(PaymentUpdate::Payment { payment }) => print_json_line(&payment)?,
                    Ok(PaymentUpdate::Health { health }) if !health.ok => {
                        // No next attempt: it waits for the owner (a busy test-mode port).
                        let state = if health.next_attempt_at.is_some() {
                            "unreachable, retrying"
                        } else {
                            "not running"
                        };
                        eprintln!(
                            "shopcast: {} {state}: {}",
                            health.provider,
                            health.message.unwrap_or_default()
                        );
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        eprintln!(
                            "shopcast: {n} updates were not printed (output too slow); see `payments list`"
                        );
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
                }
            }
        }
    }
    Ok(())
}
