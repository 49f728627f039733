//! The payments room: till orders and the charges that get them paid, the ledger of payments
//! and their events, the providers the shop connected, and one watcher task per provider.

pub mod callbacks;
mod charges;
pub mod code;
pub mod ledger;
pub mod providers;
pub mod sale;
pub(crate) mod store;
pub mod till;
mod watcher;
pub mod web;

pub use watcher::*;

use crate::Shop;
use crate::error::Result;

impl Shop {
    // Till and payments

    pub fn payments(&self) -> &Payments {
        &self.payments
    }

    /// The sale as the till has it, priced as [`Shop::create_order`] would; nothing stored.
    /// Settings as a sale reads them (see [`Shop::settings_for_sale`]): the till asks at each
    /// keystroke.
    pub async fn preview_order(&self, draft: &till::OrderDraft) -> Result<till::Order> {
        let settings = self.settings_for_sale().await?;
        till::preview_order(&self.pool, draft, &settings).await
    }

    pub async fn create_order(&self, draft: &till::OrderDraft) -> Result<till::Order> {
        let settings = self.settings_for_sale().await?;
        till::create_order(&self.pool, draft, &settings).await
    }

    pub async fn order(&self, id: i64) -> Result<till::Order> {
        till::get_order(&self.pool, id).await
    }

    /// Asks a provider for the QR the customer scans; it expires after `lifetime`.
    pub async fn start_charge(
        &self,
        order_id: i64,
        provider: shopcast_payments::ProviderKind,
        lifetime: std::time::Duration,
    ) -> Result<ChargeView> {
        let settings = self.settings().await?;
        self.payments
            .start_charge(order_id, provider, &settings.name, lifetime)
            .await
    }

    pub async fn cancel_order(&self, order_id: i64) -> Result<till::Order> {
        self.payments.cancel_order(order_id).await
    }

    pub async fn mark_paid_manually(&self, order_id: i64, method: &str) -> Result<ledger::Payment> {
        self.payments.mark_paid_manually(order_id, method).await
    }

    pub async fn refund_payment(
        &self,
        payment_id: i64,
        amount_minor: Option<i64>,
    ) -> Result<ledger::Payment> {
        self.payments.refund(payment_id, amount_minor).await
    }

    pub async fn list_payments(
        &self,
        filter: &ledger::PaymentFilter,
    ) -> Result<Vec<ledger::Payment>> {
        ledger::list(&self.pool, filter).await
    }

    pub async fn payment(&self, id: i64) -> Result<ledger::Payment> {
        ledger::get(&self.pool, id).await
    }

    pub async fn payment_events(&self, id: i64) -> Result<Vec<ledger::PaymentEventRecord>> {
        let payment = ledger::get(&self.pool, id).await?;
        ledger::events_of(&self.pool, &payment).await
    }

    pub async fn payment_settings(&self) -> Result<providers::PaymentSettings> {
        providers::load(&self.pool).await
    }

    /// Replaces saved payment settings that cannot be read with the defaults, on the owner's
    /// word (the old text is kept beside them); false when they read fine or were never saved.
    pub async fn replace_unreadable_payment_settings(&self) -> Result<bool> {
        providers::replace_unreadable(&self.pool).await
    }

    /// Saves the test-mode and polling options (provider keys are set with `connect_*`) and
    /// applies them to the running watchers.
    pub async fn save_payment_settings(
        &self,
        new: providers::PaymentSettings,
    ) -> Result<providers::PaymentSettings> {
        let mut all = providers::load(&self.pool).await?;
        let restart_test = all.test_mode != new.test_mode
            || all.test_mode_lan != new.test_mode_lan
            || all.test_mode_port != new.test_mode_port;
        all.test_mode = new.test_mode;
        all.test_mode_lan = new.test_mode_lan;
        all.test_mode_port = new.test_mode_port;
        all.poll_ms = new.poll_ms;
        all.qr_minutes = new.qr_minutes;
        providers::save(&self.pool, &all).await?;
        self.payments
            .set_poll_interval(std::time::Duration::from_millis(u64::from(all.poll_ms)));
        if restart_test {
            self.payments.stop_test_mode().await;
            if all.test_mode {
                self.start_test_mode(&all).await?;
            }
        }
        Ok(all)
    }

    async fn start_test_mode(&self, settings: &providers::PaymentSettings) -> Result<()> {
        let public_host = self.test_public_host(settings);
        self.payments
            .start_test_mode(providers::test_mode_bind(settings), public_host.as_deref())
            .await?;
        Ok(())
    }

    /// The host a phone on the shop's Wi-Fi reaches the test checkout by, when opted in.
    fn test_public_host(&self, settings: &providers::PaymentSettings) -> Option<String> {
        settings
            .test_mode_lan
            .then(providers::lan_ip)
            .flatten()
            .map(|ip| ip.to_string())
    }

    /// Starts watching every provider the shop has set up (test mode too, if on).
    pub async fn start_payments(&self) -> Result<()> {
        let settings = providers::load(&self.pool).await?;
        self.payments
            .set_poll_interval(std::time::Duration::from_millis(u64::from(
                settings.poll_ms,
            )));
        let public_url = self.settings().await?.public_url;
        // Saved providers first: a busy test-mode port must not keep them from running.
        for provider in providers::saved_providers(&settings, &self.secrets, &public_url) {
            self.payments.connect(provider);
        }
        if settings.test_mode
            && let Err(error) = self.start_test_mode(&settings).await
        {
            // Test mode's health says why (the settings screen shows it).
            tracing::warn!(%error, "test mode did not start");
        }
        Ok(())
    }

    pub async fn connect_stripe(&self, api_base: &str, secret_key: &str) -> Result<()> {
        let provider =
            providers::connect_stripe(&self.pool, &self.secrets, api_base, secret_key).await?;
        self.payments.connect(provider);
        Ok(())
    }

    pub async fn connect_alipay(
        &self,
        app_id: &str,
        gateway: &str,
        app_private_key: &str,
        alipay_public_key: &str,
    ) -> Result<()> {
        let provider = providers::connect_alipay(
            &self.pool,
            &self.secrets,
            app_id,
            gateway,
            app_private_key,
            alipay_public_key,
        )
        .await?;
        self.payments.connect(provider);
        Ok(())
    }

    /// Connects WeChat Pay: the keys are checked with one signed query before anything is
    /// stored, then go to the keychain, and the watcher starts.
    pub async fn connect_wechat(&self, setup: &providers::WechatConnect) -> Result<()> {
        let public_url = self.settings().await?.public_url;
        let provider =
            providers::connect_wechat(&self.pool, &self.secrets, setup, &public_url).await?;
        self.payments.connect(provider);
        Ok(())
    }

    /// Stops a provider and removes its keys.
    pub async fn disconnect_provider(&self, kind: shopcast_payments::ProviderKind) -> Result<()> {
        if kind == shopcast_payments::ProviderKind::Test {
            self.payments.stop_test_mode().await;
        } else {
            self.payments.disconnect(kind);
        }
        providers::forget(&self.pool, &self.secrets, kind).await
    }

    /// Today's takings per currency in the shop's time zone.
    pub async fn today_totals(&self, include_test: bool) -> Result<Vec<ledger::CurrencyTotal>> {
        let settings = self.settings().await?;
        let (from, to) = ledger::local_day_range(&settings.timezone, jiff::Timestamp::now())?;
        ledger::totals(&self.pool, from, to, include_test).await
    }

    /// The providers set up earlier (not test mode), rebuilt from settings and the keychain.
    pub async fn saved_payment_providers(
        &self,
    ) -> Result<Vec<std::sync::Arc<dyn shopcast_payments::PaymentProvider>>> {
        let settings = providers::load(&self.pool).await?;
        let public_url = self.settings().await?.public_url;
        Ok(providers::saved_providers(
            &settings,
            &self.secrets,
            &public_url,
        ))
    }
}

/// One payment with its order and every event the provider sent about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetail {
    pub payment: ledger::Payment,
    pub order: Option<till::Order>,
    pub events: Vec<ledger::PaymentEventRecord>,
}

/// The payment settings with what runs now: connected providers, their health and the test
/// checkout's address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProvidersView {
    pub settings: providers::PaymentSettings,
    /// Providers being watched now.
    pub connected: Vec<shopcast_payments::ProviderKind>,
    pub health: Vec<ProviderHealth>,
    /// Where the test checkout page is served, when test mode runs.
    pub test_checkout_url: Option<String>,
}

impl Shop {
    /// A till QR for the order at `provider`, valid for the shop's "QR minutes".
    pub async fn charge_order(
        &self,
        order_id: i64,
        provider: shopcast_payments::ProviderKind,
    ) -> Result<ChargeView> {
        let minutes = self.payment_settings().await?.qr_minutes;
        let lifetime = std::time::Duration::from_secs(u64::from(minutes) * 60);
        self.start_charge(order_id, provider, lifetime).await
    }

    /// Refunds `amount` as typed in the payment's currency, or everything left when empty.
    pub async fn refund_typed(
        &self,
        payment_id: i64,
        amount: Option<&str>,
    ) -> Result<ledger::Payment> {
        let payment = self.payment(payment_id).await?;
        let minor = match amount.map(str::trim).filter(|a| !a.is_empty()) {
            Some(typed) => Some(
                crate::money::parse_price(typed, &payment.amount.currency)
                    .map_err(|e| crate::CoreError::invalid("amount", e.to_string()))?
                    .amount_minor,
            ),
            None => None,
        };
        self.refund_payment(payment_id, minor).await
    }

    pub async fn payment_detail(&self, payment_id: i64) -> Result<PaymentDetail> {
        let payment = self.payment(payment_id).await?;
        let order = match payment.order_id {
            Some(id) => Some(self.order(id).await?),
            None => None,
        };
        let events = self.payment_events(payment_id).await?;
        Ok(PaymentDetail {
            payment,
            order,
            events,
        })
    }

    pub async fn providers_view(&self) -> Result<ProvidersView> {
        Ok(ProvidersView {
            settings: self.payment_settings().await?,
            connected: self.payments.connected(),
            health: self.payments.health(),
            test_checkout_url: self.payments.test_mode().base_url(),
        })
    }
}

impl Shop {
    /// Polls each saved provider once from its stored cursor (headless `payments watch
    /// --once`) and returns the payments that were recorded or changed.
    pub async fn poll_saved_providers_once(&self) -> Result<Vec<ledger::Payment>> {
        let providers = self.saved_payment_providers().await?;
        if providers.is_empty() {
            return Err(crate::CoreError::invalid(
                "provider",
                "No payment provider is set up: connect Stripe, Alipay or WeChat Pay first (Settings → Payments, or `shopcast providers add`).",
            ));
        }
        let mut changed = Vec::new();
        for provider in providers {
            let cursor = ledger::cursor(&self.pool, provider.kind()).await?;
            let (report, _) = self
                .payments
                .poll_once(provider.as_ref(), cursor.as_deref())
                .await
                .map_err(|e| match e {
                    PollError::Provider(error) => watcher::provider_error(error),
                    PollError::Store(error) => error,
                })?;
            for id in report.changed {
                changed.push(self.payment(id).await?);
            }
        }
        Ok(changed)
    }

    /// Starts watching the saved providers every `interval`, and test mode's checkout when
    /// test mode is on (on `test_listen`, else where the settings say), and returns the
    /// stream of what changes with the checkout's address (headless `payments watch`).
    pub async fn watch_saved_providers(
        &self,
        interval: std::time::Duration,
        test_listen: Option<std::net::SocketAddr>,
    ) -> Result<(
        tokio::sync::broadcast::Receiver<PaymentUpdate>,
        Option<String>,
    )> {
        let settings = providers::load(&self.pool).await?;
        let public_url = self.settings().await?.public_url;
        let providers = providers::saved_providers(&settings, &self.secrets, &public_url);
        if test_listen.is_some() && !settings.test_mode {
            return Err(crate::CoreError::invalid(
                "testListen",
                "Test mode is off, so there is no test checkout to listen: turn test mode on (Settings → Payments) or leave out --test-listen.",
            ));
        }
        if let Some(listen) = test_listen.filter(|addr| addr.ip().is_unspecified()) {
            // The QR codes carry the checkout's address; a phone cannot reach 0.0.0.0.
            return Err(crate::CoreError::invalid(
                "testListen",
                format!(
                    "--test-listen {listen} would put {ip} in the QR codes, which no phone can reach: give this computer's LAN address instead (for example 192.168.1.20:{port}).",
                    ip = listen.ip(),
                    port = listen.port(),
                ),
            ));
        }
        if providers.is_empty() && !settings.test_mode {
            return Err(crate::CoreError::invalid(
                "provider",
                "No payment provider is set up: connect Stripe, Alipay or WeChat Pay first (Settings → Payments, or `shopcast providers add`), or turn test mode on.",
            ));
        }
        self.payments.set_poll_interval(interval);
        let updates = self.payments.subscribe();
        for provider in providers {
            self.payments.connect(provider);
        }
        let test_checkout = if settings.test_mode {
            let bind = test_listen.unwrap_or_else(|| providers::test_mode_bind(&settings));
            let public_host = test_listen
                .is_none()
                .then(|| self.test_public_host(&settings))
                .flatten();
            match self
                .payments
                .start_test_mode(bind, public_host.as_deref())
                .await
            {
                Ok(_) => self.payments.test_mode().base_url(),
                // The address asked for, or nothing else to watch: say so and stop.
                Err(error) if test_listen.is_some() || self.payments.connected().is_empty() => {
                    return Err(error);
                }
                // Otherwise the other providers keep running; test mode's health says why.
                Err(error) => {
                    tracing::warn!(%error, "test mode did not start");
                    None
                }
            }
        } else {
            None
        };
        Ok((updates, test_checkout))
    }
}

impl Shop {
    /// The provider whose reusable links sell products on signs and posts: the connected
    /// one, else the saved one (a headless command never connects providers), so the window
    /// and the CLI print the same links.
    async fn link_provider(
        &self,
    ) -> Result<Option<std::sync::Arc<dyn shopcast_payments::PaymentProvider>>> {
        if let Some(provider) = self.payments.link_provider() {
            return Ok(Some(provider));
        }
        let settings = providers::load(&self.pool).await?;
        Ok(providers::saved_stripe(&settings, &self.secrets))
    }

    /// Each product's reusable payment link (untagged) and the provider that tags them.
    pub(crate) async fn reusable_links(
        &self,
        products: &[crate::Product],
    ) -> Result<(
        std::collections::HashMap<i64, String>,
        Option<std::sync::Arc<dyn shopcast_payments::PaymentProvider>>,
    )> {
        let provider = self.link_provider().await?;
        self.payments.reusable_links(provider, products).await
    }
}

impl Shop {
    /// Every payment, order and provider-health change from now on (the window's live feed).
    pub fn payment_updates(&self) -> tokio::sync::broadcast::Receiver<PaymentUpdate> {
        self.payments.subscribe()
    }
}
