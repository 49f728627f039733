//! Which payment providers the shop uses and how to reach them. Settings (API base, app id,
//! gateway) are stored in SQLite; keys go to [`crate::infra::secrets`] and only their names are kept.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use shopcast_payments::alipay::{AlipayConfig, AlipayProvider, Gateway};
use shopcast_payments::stripe::{StripeConfig, StripeProvider, WebhookSecret};
use shopcast_payments::wechat::sign::{ApiV3Key, MerchantKey, WechatPayKey};
use shopcast_payments::wechat::{WechatConfig, WechatProvider};
use shopcast_payments::{PaymentProvider, ProviderError, ProviderKind};
use sqlx::AnyPool;

use crate::error::{CoreError, Result};
use crate::infra::secrets::{SecretBackend, SecretStore};
use crate::payments::provider_error;
use crate::settings;

const SETTINGS_KEY: &str = "payments.settings";
const STRIPE_SECRET: &str = "stripe.secret_key";
const STRIPE_WEBHOOK_SECRET: &str = "stripe.webhook_secret";
const ALIPAY_PRIVATE_KEY: &str = "alipay.app_private_key";
const ALIPAY_PUBLIC_KEY: &str = "alipay.alipay_public_key";
const WECHAT_PRIVATE_KEY: &str = "wechat.merchant_private_key";
const WECHAT_APIV3_KEY: &str = "wechat.apiv3_key";
const WECHAT_PUBLIC_KEY: &str = "wechat.wechatpay_public_key";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct PaymentSettings {
    /// Built-in test mode (on for a new shop).
    pub test_mode: bool,
    /// Serve the test checkout page on the shop's Wi-Fi, not only this computer.
    pub test_mode_lan: bool,
    /// Port of the test checkout page; 0 picks a free one.
    pub test_mode_port: u16,
    /// How often providers are asked for news, in milliseconds.
    pub poll_ms: u32,
    /// How long a till QR stays valid, in minutes.
    pub qr_minutes: u32,
    pub stripe: Option<StripeSetup>,
    pub alipay: Option<AlipaySetup>,
    /// WeChat Pay; absent in settings saved before it existed.
    pub wechat: Option<WechatSetup>,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        PaymentSettings {
            test_mode: true,
            test_mode_lan: false,
            test_mode_port: 0,
            poll_ms: 1_000,
            qr_minutes: 15,
            stripe: None,
            alipay: None,
            wechat: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StripeSetup {
    pub api_base: String,
    /// Where the key is kept (never the key itself).
    pub secret_backend: SecretBackend,
    /// Last four characters, so the owner can tell keys apart.
    pub key_hint: String,
    /// Whether the webhook signing secret (`whsec_…`) is in the keychain; never the secret.
    #[serde(default)]
    pub webhook_secret_set: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct AlipaySetup {
    pub app_id: String,
    /// "production", "sandbox" or a gateway URL.
    pub gateway: String,
    pub secret_backend: SecretBackend,
}

/// WeChat Pay as saved: the merchant's ids; its keys are in the keychain, named only here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WechatSetup {
    /// 商户号.
    pub mchid: String,
    /// The app id (公众号/小程序/移动应用 AppID) the merchant number is bound to.
    pub appid: String,
    /// Serial number of the merchant API certificate (商户API证书序列号).
    pub merchant_serial: String,
    /// `https://api.mch.weixin.qq.com` unless a test gateway.
    pub api_base: String,
    /// WeChat Pay's public key id (`PUB_KEY_ID_…`); `None` for platform-certificate mode.
    pub public_key_id: Option<String>,
    /// Where the private key, the APIv3 key and WeChat Pay's public key are kept.
    pub secret_backend: SecretBackend,
}

/// What the owner enters to connect WeChat Pay (Settings → Payments, `shopcast providers
/// add wechat`). Never stored as such: the keys go to the keychain.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WechatConnect {
    pub mchid: String,
    pub appid: String,
    pub merchant_serial: String,
    /// The merchant API private key (apiclient_key.pem) as PEM text.
    pub merchant_private_key: String,
    /// The APIv3 key (32 characters).
    pub apiv3_key: String,
    /// WeChat Pay's public key (PEM), for public-key mode.
    pub wechatpay_public_key: Option<String>,
    /// Its id, `PUB_KEY_ID_…`.
    pub wechatpay_public_key_id: Option<String>,
    /// A test gateway's address; WeChat Pay's own when empty.
    pub api_base: Option<String>,
}

impl std::fmt::Debug for WechatConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatConnect")
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .field("merchant_serial", &self.merchant_serial)
            .field("wechatpay_public_key_id", &self.wechatpay_public_key_id)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

/// The saved payment settings, or the defaults when none were saved. Saved settings that do
/// not parse are an error, never the defaults: the next save would erase the provider setup.
pub async fn load(pool: &AnyPool) -> Result<PaymentSettings> {
    match settings::get_extra(pool, SETTINGS_KEY).await? {
        None => Ok(PaymentSettings::default()),
        Some(json) => serde_json::from_str(&json).map_err(|e| CoreError::SettingsUnreadable {
            setting: SETTINGS_KEY,
            message: format!(
                "The saved payment settings ({SETTINGS_KEY}) could not be read: {e}. Nothing was changed; \
                 to start over, replace them on purpose (`shopcast providers reset`), which keeps the unreadable text as {SETTINGS_KEY}.unreadable."
            ),
        }),
    }
}

/// Replaces unreadable payment settings with the defaults, on the owner's word. The old text
/// is kept beside them (`payments.settings.unreadable`) so it can still be mended by hand.
/// Settings that read fine are left alone (nothing to replace).
pub async fn replace_unreadable(pool: &AnyPool) -> Result<bool> {
    let Some(json) = settings::get_extra(pool, SETTINGS_KEY).await? else {
        return Ok(false);
    };
    if serde_json::from_str::<PaymentSettings>(&json).is_ok() {
        return Ok(false);
    }
    let kept = format!("{SETTINGS_KEY}.unreadable");
    settings::set_extra(pool, &kept, Some(&json)).await?;
    save(pool, &PaymentSettings::default()).await?;
    Ok(true)
}

pub async fn save(pool: &AnyPool, new: &PaymentSettings) -> Result<()> {
    if !(50..=60_000).contains(&new.poll_ms) {
        return Err(CoreError::invalid(
            "pollMs",
            "Check for payments every 50 ms to 60 s.",
        ));
    }
    if !(1..=1_440).contains(&new.qr_minutes) {
        return Err(CoreError::invalid(
            "qrMinutes",
            "A QR can stay valid 1 minute to 24 hours.",
        ));
    }
    let json = serde_json::to_string(new).expect("settings serialize");
    settings::set_extra(pool, SETTINGS_KEY, Some(&json)).await
}

fn stripe_config(api_base: &str, key: String) -> Result<StripeConfig> {
    let url = url::Url::parse(api_base.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .ok_or_else(|| {
            CoreError::invalid(
                "apiBase",
                "Enter the API address, e.g. https://api.stripe.com.",
            )
        })?;
    let mut config = StripeConfig::new(key);
    // Only Stripe itself filters event types server-side; test servers refuse the filter.
    config.filter_types_on_server = url.host_str() == Some("api.stripe.com");
    config.api_base = url;
    Ok(config)
}

fn gateway(text: &str) -> Result<Gateway> {
    Ok(match text.trim() {
        "" | "production" => Gateway::Production,
        "sandbox" => Gateway::Sandbox,
        other => Gateway::Custom(
            url::Url::parse(other)
                .ok()
                .filter(|u| matches!(u.scheme(), "https" | "http"))
                .ok_or_else(|| {
                    CoreError::invalid("gateway", "Choose production, sandbox or a gateway URL.")
                })?,
        ),
    })
}

fn key_hint(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

/// Checks a Stripe key against the API (one cheap read), stores it, and returns the provider.
pub async fn connect_stripe(
    pool: &AnyPool,
    secrets: &SecretStore,
    api_base: &str,
    secret_key: &str,
) -> Result<Arc<dyn PaymentProvider>> {
    let key = secret_key.trim();
    if key.is_empty() || key.chars().any(char::is_whitespace) {
        return Err(CoreError::invalid(
            "secretKey",
            "Paste the secret key (sk_… or rk_…).",
        ));
    }
    let provider =
        StripeProvider::new(stripe_config(api_base, key.to_string())?).map_err(provider_error)?;
    // A poll from "now" proves the key works without reading history.
    provider
        .poll(Some(&jiff::Timestamp::now().as_second().to_string()), &[])
        .await
        .map_err(provider_error)?;
    let backend = secrets.set(STRIPE_SECRET, key)?;
    let mut all = load(pool).await?;
    // A new key for the same account keeps the webhook endpoint's secret.
    let webhook_secret_set = all.stripe.as_ref().is_some_and(|s| s.webhook_secret_set)
        && secrets.get(STRIPE_WEBHOOK_SECRET)?.is_some();
    all.stripe = Some(StripeSetup {
        api_base: api_base.trim().to_string(),
        secret_backend: backend,
        key_hint: key_hint(key),
        webhook_secret_set,
    });
    save(pool, &all).await?;
    Ok(Arc::new(provider))
}

/// A Stripe webhook signing secret as typed or pasted, checked (`whsec_…`).
pub fn check_stripe_webhook_secret(text: &str) -> Result<WebhookSecret> {
    WebhookSecret::new(text).map_err(|error| {
        CoreError::invalid(
            "webhookSecret",
            format!("{}.", capitalized(&error.to_string())),
        )
    })
}

/// Stores the Stripe webhook signing secret in the keychain, or removes it (`None` or empty).
/// Stripe must be connected first: the secret belongs to that account's endpoint.
pub async fn set_stripe_webhook_secret(
    pool: &AnyPool,
    secrets: &SecretStore,
    secret: Option<&str>,
) -> Result<()> {
    let mut all = load(pool).await?;
    let Some(stripe) = all.stripe.as_mut() else {
        return Err(CoreError::invalid(
            "webhookSecret",
            "Connect Stripe first (its secret key), then set the webhook signing secret.",
        ));
    };
    match secret.map(str::trim).filter(|text| !text.is_empty()) {
        Some(text) => {
            let checked = check_stripe_webhook_secret(text)?;
            secrets.set(STRIPE_WEBHOOK_SECRET, checked.expose())?;
            stripe.webhook_secret_set = true;
        }
        None => {
            secrets.delete(STRIPE_WEBHOOK_SECRET)?;
            stripe.webhook_secret_set = false;
        }
    }
    save(pool, &all).await
}

/// The Stripe webhook signing secret, when one is stored and still reads as one.
pub fn stripe_webhook_secret(secrets: &SecretStore) -> Result<Option<WebhookSecret>> {
    Ok(secrets
        .get(STRIPE_WEBHOOK_SECRET)?
        .and_then(|text| WebhookSecret::new(&text).ok()))
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub async fn connect_alipay(
    pool: &AnyPool,
    secrets: &SecretStore,
    app_id: &str,
    gateway_text: &str,
    app_private_key: &str,
    alipay_public_key: &str,
) -> Result<Arc<dyn PaymentProvider>> {
    if app_id.trim().is_empty() || !app_id.trim().chars().all(|c| c.is_ascii_digit()) {
        return Err(CoreError::invalid(
            "appId",
            "Enter the app id (digits) from the Alipay open platform.",
        ));
    }
    let provider = AlipayProvider::new(AlipayConfig {
        gateway: gateway(gateway_text)?,
        app_id: app_id.trim().to_string(),
        app_private_key: app_private_key.to_string(),
        alipay_public_key: alipay_public_key.to_string(),
        notify_url: None,
    })
    .map_err(provider_error)?;
    let backend = secrets.set(ALIPAY_PRIVATE_KEY, app_private_key)?;
    secrets.set(ALIPAY_PUBLIC_KEY, alipay_public_key)?;
    let mut all = load(pool).await?;
    all.alipay = Some(AlipaySetup {
        app_id: app_id.trim().to_string(),
        gateway: gateway_text.trim().to_string(),
        secret_backend: backend,
    });
    save(pool, &all).await?;
    Ok(Arc::new(provider))
}

/// Checks WeChat Pay's keys with one signed query (nothing is stored when it fails), keeps
/// them in the keychain and the ids in the settings, and returns the provider. An error about
/// one entry names it by its [`WechatConnect`] field, so the form shows it there.
pub async fn connect_wechat(
    pool: &AnyPool,
    secrets: &SecretStore,
    setup: &WechatConnect,
    public_url: &str,
) -> Result<Arc<dyn PaymentProvider>> {
    let config = wechat_connect_config(setup, public_url)?;
    let provider = WechatProvider::new(config.clone()).map_err(provider_error)?;
    provider.check_credentials().await.map_err(provider_error)?;
    // The keys as they were, so a failure half-way leaves the previous setup, not a mix.
    let previous: Vec<(&str, Option<String>)> = WECHAT_SECRETS
        .into_iter()
        .map(|name| (name, secrets.get(name).ok().flatten()))
        .collect();
    if let Err(error) = store_wechat(pool, secrets, config).await {
        for (name, value) in previous {
            let restored = match value {
                Some(value) => secrets.set(name, &value).map(|_| ()),
                None => secrets.delete(name),
            };
            if let Err(restore) = restored {
                tracing::warn!(%restore, secret = name, "a WeChat Pay key could not be put back");
            }
        }
        return Err(error);
    }
    Ok(shared_wechat(provider))
}

/// The three WeChat Pay secrets in the keychain.
const WECHAT_SECRETS: [&str; 3] = [WECHAT_PRIVATE_KEY, WECHAT_APIV3_KEY, WECHAT_PUBLIC_KEY];

/// Writes WeChat Pay's keys to the keychain and its settings to the shop file.
async fn store_wechat(pool: &AnyPool, secrets: &SecretStore, config: WechatConfig) -> Result<()> {
    let backend = secrets.set(WECHAT_PRIVATE_KEY, &config.merchant_private_key)?;
    secrets.set(WECHAT_APIV3_KEY, &config.apiv3_key)?;
    match &config.wechatpay_public_key {
        Some(key) => secrets.set(WECHAT_PUBLIC_KEY, key).map(|_| ())?,
        None => secrets.delete(WECHAT_PUBLIC_KEY)?,
    }
    let mut all = load(pool).await?;
    all.wechat = Some(WechatSetup {
        mchid: config.mchid,
        appid: config.appid,
        merchant_serial: config.merchant_serial,
        api_base: config.api_base,
        public_key_id: config.wechatpay_public_key_id,
        secret_backend: backend,
    });
    save(pool, &all).await
}

/// What the owner entered, checked entry by entry, as the provider's settings.
fn wechat_connect_config(setup: &WechatConnect, public_url: &str) -> Result<WechatConfig> {
    let config_error = |field: &'static str, error: ProviderError| {
        let text = match error {
            ProviderError::Config { detail, .. } | ProviderError::BadSignature { detail, .. } => {
                detail
            }
            other => other.to_string(),
        };
        CoreError::invalid(field, sentence(&text))
    };
    let mchid = setup.mchid.trim();
    if mchid.is_empty() || !mchid.chars().all(|c| c.is_ascii_digit()) {
        return Err(CoreError::invalid(
            "mchid",
            "Enter the merchant number (商户号, digits) from the WeChat Pay merchant platform.",
        ));
    }
    let appid = setup.appid.trim();
    if appid.is_empty() || !appid.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(CoreError::invalid(
            "appid",
            "Enter the AppID (wx…) bound to the merchant number.",
        ));
    }
    let serial = setup.merchant_serial.trim();
    if serial.is_empty() || !serial.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(CoreError::invalid(
            "merchantSerial",
            "Enter the merchant API certificate's serial number (商户API证书序列号, hexadecimal).",
        ));
    }
    let private_key = setup.merchant_private_key.trim();
    MerchantKey::parse(private_key).map_err(|e| config_error("merchantPrivateKey", e))?;
    let apiv3_key = setup.apiv3_key.trim();
    ApiV3Key::new(apiv3_key).map_err(|e| config_error("apiv3Key", e))?;
    let public_key = setup
        .wechatpay_public_key
        .as_deref()
        .map(str::trim)
        .filter(|key| !key.is_empty());
    let public_key_id = setup
        .wechatpay_public_key_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty());
    match (public_key, public_key_id) {
        (Some(key), Some(_)) => {
            WechatPayKey::parse(key).map_err(|e| config_error("wechatpayPublicKey", e))?;
        }
        (Some(_), None) => {
            return Err(CoreError::invalid(
                "wechatpayPublicKeyId",
                "Enter the WeChat Pay public key's id (PUB_KEY_ID_…) shown beside it.",
            ));
        }
        (None, Some(_)) => {
            return Err(CoreError::invalid(
                "wechatpayPublicKey",
                "Paste the WeChat Pay public key (pub_key.pem) that goes with this id.",
            ));
        }
        (None, None) => {}
    }
    let api_base = match setup.api_base.as_deref().map(str::trim) {
        None | Some("") => shopcast_payments::wechat::PRODUCTION.to_string(),
        Some(text) => url::Url::parse(text)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some())
            .map(|_| text.trim_end_matches('/').to_string())
            .ok_or_else(|| {
                CoreError::invalid(
                    "apiBase",
                    "Enter the API address, e.g. https://api.mch.weixin.qq.com, or leave it empty.",
                )
            })?,
    };
    Ok(WechatConfig {
        api_base,
        mchid: mchid.to_string(),
        appid: appid.to_string(),
        merchant_serial: serial.to_string(),
        merchant_private_key: private_key.to_string(),
        apiv3_key: apiv3_key.to_string(),
        wechatpay_public_key: public_key.map(str::to_string),
        wechatpay_public_key_id: public_key_id.map(str::to_string),
        notify_url: wechat_notify_url(public_url),
    })
}

/// Where WeChat Pay posts its notifications: the shop page's `/hooks/wechat`, only when the
/// page is public over https (WeChat Pay calls nothing else); else polling records payments.
fn wechat_notify_url(public_url: &str) -> Option<String> {
    let base = public_url.trim().trim_end_matches('/');
    base.starts_with("https://")
        .then(|| format!("{base}/hooks/wechat"))
}

/// The saved WeChat Pay provider, rebuilt from the settings and the keychain; `None` when it
/// is not set up (or its keys are gone or no longer read).
pub(crate) fn saved_wechat(
    settings: &PaymentSettings,
    secrets: &SecretStore,
    public_url: &str,
) -> Option<WechatProvider> {
    let wechat = settings.wechat.as_ref()?;
    let keys = (
        secrets.get(WECHAT_PRIVATE_KEY),
        secrets.get(WECHAT_APIV3_KEY),
        secrets.get(WECHAT_PUBLIC_KEY),
    );
    let (Ok(Some(private)), Ok(Some(apiv3)), Ok(public)) = keys else {
        tracing::warn!("the WeChat Pay keys are missing from the keychain");
        return None;
    };
    let provider = WechatProvider::new(WechatConfig {
        api_base: wechat.api_base.clone(),
        mchid: wechat.mchid.clone(),
        appid: wechat.appid.clone(),
        merchant_serial: wechat.merchant_serial.clone(),
        merchant_private_key: private,
        apiv3_key: apiv3,
        wechatpay_public_key: public,
        wechatpay_public_key_id: wechat.public_key_id.clone(),
        notify_url: wechat_notify_url(public_url),
    });
    match provider {
        Ok(provider) => Some(provider),
        Err(error) => {
            tracing::warn!(%error, "saved WeChat Pay settings are not usable");
            None
        }
    }
}

/// `text` as a sentence: capitalised, with a full stop.
fn sentence(text: &str) -> String {
    let text = capitalized(text.trim());
    if text.ends_with(['.', '。', '!', '?']) {
        text
    } else {
        format!("{text}.")
    }
}

/// The saved Alipay app id and Alipay public key (支付宝公钥), which check Alipay's
/// notifications; `None` when Alipay is not set up or its key is gone from the keychain.
pub(crate) fn saved_alipay_notify_key(
    settings: &PaymentSettings,
    secrets: &SecretStore,
) -> Result<Option<(String, String)>> {
    let Some(alipay) = &settings.alipay else {
        return Ok(None);
    };
    Ok(secrets
        .get(ALIPAY_PUBLIC_KEY)?
        .map(|key| (alipay.app_id.clone(), key)))
}

pub async fn forget(pool: &AnyPool, secrets: &SecretStore, kind: ProviderKind) -> Result<()> {
    let mut all = load(pool).await?;
    match kind {
        ProviderKind::Stripe => {
            secrets.delete(STRIPE_SECRET)?;
            secrets.delete(STRIPE_WEBHOOK_SECRET)?;
            all.stripe = None;
        }
        ProviderKind::Alipay => {
            secrets.delete(ALIPAY_PRIVATE_KEY)?;
            secrets.delete(ALIPAY_PUBLIC_KEY)?;
            all.alipay = None;
        }
        ProviderKind::Wechat => {
            secrets.delete(WECHAT_PRIVATE_KEY)?;
            secrets.delete(WECHAT_APIV3_KEY)?;
            secrets.delete(WECHAT_PUBLIC_KEY)?;
            all.wechat = None;
        }
        ProviderKind::Test => all.test_mode = false,
        ProviderKind::Manual => {}
    }
    save(pool, &all).await
}

/// Rebuilds the providers saved earlier (at start). A provider whose key is gone is skipped
/// with a warning; the settings screen shows it as needing its key again.
/// The saved Stripe provider alone (its reusable links sell products on signs and posts),
/// without reading any other provider's keys.
pub fn saved_stripe(
    settings: &PaymentSettings,
    secrets: &SecretStore,
) -> Option<Arc<dyn PaymentProvider>> {
    let stripe = settings.stripe.as_ref()?;
    match secrets.get(STRIPE_SECRET) {
        Ok(Some(key)) => match stripe_config(&stripe.api_base, key).map(StripeProvider::new) {
            Ok(Ok(provider)) => Some(Arc::new(provider)),
            _ => {
                tracing::warn!("saved Stripe settings are not usable");
                None
            }
        },
        _ => {
            tracing::warn!("the Stripe key is missing from the keychain");
            None
        }
    }
}

pub fn saved_providers(
    settings: &PaymentSettings,
    secrets: &SecretStore,
    public_url: &str,
) -> Vec<Arc<dyn PaymentProvider>> {
    let mut out: Vec<Arc<dyn PaymentProvider>> = Vec::new();
    if let Some(stripe) = saved_stripe(settings, secrets) {
        out.push(stripe);
    }
    if let Some(alipay) = &settings.alipay {
        let keys = (
            secrets.get(ALIPAY_PRIVATE_KEY),
            secrets.get(ALIPAY_PUBLIC_KEY),
        );
        if let (Ok(Some(private)), Ok(Some(public))) = keys
            && let Ok(gateway) = gateway(&alipay.gateway)
            && let Ok(provider) = AlipayProvider::new(AlipayConfig {
                gateway,
                app_id: alipay.app_id.clone(),
                app_private_key: private,
                alipay_public_key: public,
                notify_url: None,
            })
        {
            out.push(Arc::new(provider));
        } else {
            tracing::warn!("saved Alipay settings are not usable");
        }
    }
    if let Some(wechat) = saved_wechat(settings, secrets, public_url) {
        out.push(shared_wechat(wechat));
    }
    out
}

/// The WeChat Pay providers built here, so that a notification uses the connected instance
/// behind the watcher's `dyn PaymentProvider` (its certificates, fetched at most once a minute).
static BUILT_WECHAT: std::sync::Mutex<Vec<std::sync::Weak<WechatProvider>>> =
    std::sync::Mutex::new(Vec::new());

fn shared_wechat(provider: WechatProvider) -> Arc<WechatProvider> {
    let provider = Arc::new(provider);
    let mut built = BUILT_WECHAT.lock().unwrap_or_else(|p| p.into_inner());
    built.retain(|weak| weak.strong_count() > 0);
    built.push(Arc::downgrade(&provider));
    provider
}

/// The WeChat Pay provider `connected` is, when it was built here (found by identity).
pub(crate) fn wechat_instance(connected: &Arc<dyn PaymentProvider>) -> Option<Arc<WechatProvider>> {
    let address = Arc::as_ptr(connected).cast::<()>();
    BUILT_WECHAT
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|weak| weak.as_ptr().cast::<()>() == address)
        .and_then(std::sync::Weak::upgrade)
}

/// Where the test checkout page listens: this computer only, unless the owner opted in; then
/// the LAN interface's own address (not every interface: no VPN or other network sees it).
pub fn test_mode_bind(settings: &PaymentSettings) -> SocketAddr {
    let ip = settings
        .test_mode_lan
        .then(lan_ip)
        .flatten()
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    SocketAddr::new(ip, settings.test_mode_port)
}

/// This computer's address on the local network (for QR URLs a phone can open), found by
/// asking the OS which interface would route to a private address; no packet is sent.
pub fn lan_ip() -> Option<IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.168.0.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}
