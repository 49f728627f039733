//! Shopcast's engine: the shop file, its catalog and settings, and the services that the
//! desktop shell and the headless commands both call. Knows nothing of Tauri.

pub mod accounts;
pub mod catalog;
pub mod catalog_csv;
pub mod error;
pub mod ledger;
pub mod money;
pub mod outbox;
pub mod payments;
pub mod photos;
pub mod providers;
pub mod qr_payload;
pub mod report_pdf;
pub mod reports;
pub mod secrets;
pub mod settings;
pub mod sign_in;
pub mod signage;
pub mod store;
pub mod till;

use std::path::{Path, PathBuf};

use sqlx::SqlitePool;

pub use catalog::{Product, ProductDraft, ProductPage, ProductQuery, ProductSummary};
pub use catalog_csv::{ExportReport, ImportReport, RowError};
pub use error::{CoreError, Result};
pub use money::Money;
pub use photos::{MediaStore, Photo, Variant};
pub use settings::ShopSettings;

const LOGO_KEY: &str = "shop.logo";

/// An open shop: its data folder, database and media store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Shop {
    data_dir: PathBuf,
    pool: SqlitePool,
    media: MediaStore,
    payments: payments::Payments,
    secrets: secrets::SecretStore,
    outbox: outbox::Outbox,
    sign_ins: sign_in::SignIns,
}

impl Shop {
    /// Opens the shop in `data_dir`, creating and migrating its file as needed.
    pub async fn open(data_dir: impl AsRef<Path>) -> Result<Shop> {
        let data_dir = data_dir.as_ref().to_path_buf();
        let (pool, _backup) = store::open(&data_dir).await?;
        let media = MediaStore::new(&data_dir);
        let payments = payments::Payments::new(pool.clone());
        let secrets = secrets::SecretStore::new(&data_dir);
        let outbox = outbox::Outbox::new(
            pool.clone(),
            secrets.clone(),
            media.clone(),
            std::sync::Arc::new(outbox::SocialFactory),
        );
        Ok(Shop {
            data_dir,
            pool,
            media,
            payments,
            secrets,
            outbox,
            sign_ins: Default::default(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(store::DATABASE_FILE)
    }

    pub fn media(&self) -> &MediaStore {
        &self.media
    }

    /// The raw pool, for tests and for engine modules added by later features.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    // Settings

    pub async fn settings(&self) -> Result<ShopSettings> {
        settings::load(&self.pool).await
    }

    pub async fn save_settings(&self, new: ShopSettings) -> Result<ShopSettings> {
        settings::save(&self.pool, new).await
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<ShopSettings> {
        settings::set_one(&self.pool, key, value).await
    }

    // Shop logo (printed on signage): a photo in the media store, referenced by hash.

    pub async fn logo(&self) -> Result<Option<Photo>> {
        let Some(json) = settings::get_extra(&self.pool, LOGO_KEY).await? else {
            return Ok(None);
        };
        Ok(serde_json::from_str(&json).ok())
    }

    pub async fn set_logo(&self, bytes: Vec<u8>) -> Result<Photo> {
        let media = self.media.clone();
        let photo = tokio::task::spawn_blocking(move || media.ingest(&bytes))
            .await
            .expect("logo task panicked")?;
        let json = serde_json::to_string(&photo).expect("a photo serializes");
        settings::set_extra(&self.pool, LOGO_KEY, Some(&json)).await?;
        Ok(photo)
    }

    pub async fn clear_logo(&self) -> Result<()> {
        settings::set_extra(&self.pool, LOGO_KEY, None).await
    }

    // Catalog

    pub async fn list_products(&self, query: &ProductQuery) -> Result<ProductPage> {
        catalog::list(&self.pool, query).await
    }

    pub async fn product(&self, id: i64) -> Result<Product> {
        catalog::get(&self.pool, id).await
    }

    pub async fn create_product(&self, draft: &ProductDraft) -> Result<Product> {
        let currency = self.settings().await?.currency;
        catalog::create(&self.pool, draft, &currency).await
    }

    pub async fn update_product(&self, id: i64, draft: &ProductDraft) -> Result<Product> {
        let currency = self.settings().await?.currency;
        catalog::update(&self.pool, id, draft, &currency).await
    }

    pub async fn set_archived(&self, id: i64, archived: bool) -> Result<Product> {
        catalog::set_archived(&self.pool, id, archived).await
    }

    pub async fn delete_product(&self, id: i64) -> Result<()> {
        catalog::delete(&self.pool, id).await
    }

    /// Validates and stores photo bytes (off the async runtime: decoding is CPU work), then
    /// attaches the photo to the product.
    pub async fn add_photo(&self, product_id: i64, bytes: Vec<u8>) -> Result<Product> {
        let media = self.media.clone();
        let photo = tokio::task::spawn_blocking(move || media.ingest(&bytes))
            .await
            .expect("photo task panicked")?;
        catalog::attach_photo(&self.pool, product_id, &photo).await
    }

    pub async fn add_photo_file(&self, product_id: i64, path: &Path) -> Result<Product> {
        let media = self.media.clone();
        let path = path.to_path_buf();
        let photo = tokio::task::spawn_blocking(move || media.ingest_file(&path))
            .await
            .expect("photo task panicked")?;
        catalog::attach_photo(&self.pool, product_id, &photo).await
    }

    pub async fn remove_photo(&self, product_id: i64, hash: &str) -> Result<Product> {
        catalog::detach_photo(&self.pool, product_id, hash).await
    }

    pub async fn import_catalog(&self, path: &Path, skip_invalid: bool) -> Result<ImportReport> {
        let currency = self.settings().await?.currency;
        catalog_csv::import(&self.pool, path, &currency, skip_invalid).await
    }

    pub async fn export_catalog(&self, path: &Path) -> Result<ExportReport> {
        catalog_csv::export(&self.pool, path).await
    }

    // Signage

    /// Prepares a batch of signs (new batch id, tracked buy links, local prices); nothing
    /// is stored until `record_signage` after the file was written.
    pub async fn plan_signage(
        &self,
        selection: &signage::Selection,
        template: &str,
        copies: u32,
    ) -> Result<signage::SignageBatch> {
        let settings = self.settings().await?;
        let products = signage::products_for(&self.pool, selection).await?;
        let (paid_links, provider) = self.payments.reusable_links(&products).await?;
        let tag = |url: &str, tag: &str| provider.as_ref().and_then(|p| p.tag_link(url, tag));
        signage::plan(&settings, &products, template, copies, &paid_links, &tag)
    }

    pub async fn record_signage(&self, batch: &signage::SignageBatch) -> Result<()> {
        signage::record(&self.pool, batch, "buy_link").await
    }

    /// Everything a signage request needs before rendering: template, planned batch, call to
    /// action and the shop logo (if one is set).
    async fn prepare_signage(
        &self,
        request: &signage::SignageRequest,
    ) -> Result<signage::PreparedSignage> {
        let template = signage::template_for(request)?;
        let batch = self
            .plan_signage(&request.selection, &request.template, request.copies)
            .await?;
        let call_to_action = request
            .call_to_action
            .clone()
            .filter(|c| !c.trim().is_empty());
        let logo = match self.logo().await? {
            Some(photo) => self
                .media
                .read(&photo.hash, Variant::Full)
                .map(|(bytes, _)| bytes),
            None => None,
        };
        Ok(signage::PreparedSignage {
            template,
            batch,
            call_to_action,
            logo,
        })
    }

    /// Plans, renders and writes a signage PDF to `out`, and records the batch.
    pub async fn print_signage(
        &self,
        request: &signage::SignageRequest,
        out: &Path,
    ) -> Result<signage::SignageReport> {
        let prepared = self.prepare_signage(request).await?;
        let batch = prepared.batch.clone();
        // Rendering is CPU work: keep it off the async runtime.
        let pdf = tokio::task::spawn_blocking(move || prepared.render())
            .await
            .expect("signage render task panicked")?;
        let report = signage::print_to(&self.pool, &batch, &pdf, out).await?;
        signage::remember_request(&self.pool, request).await?;
        Ok(report)
    }

    /// A page of what `print_signage` would produce, as SVG (nothing is recorded).
    pub async fn preview_signage(
        &self,
        request: &signage::SignageRequest,
        page: u32,
    ) -> Result<signage::SignagePreview> {
        let prepared = self.prepare_signage(request).await?;
        tokio::task::spawn_blocking(move || prepared.preview(page))
            .await
            .expect("signage preview task panicked")
    }

    /// The QR code of one product: its tracked buy link by default (`sign` is a new batch id,
    /// recorded when the code is saved), or any other payload the owner picked.
    async fn product_qr_payload(
        &self,
        product_id: i64,
        payload: Option<&qr_payload::QrPayloadRequest>,
        template: &str,
    ) -> Result<(Vec<u8>, bool, Option<signage::SignageBatch>)> {
        match payload {
            Some(request) => {
                self.product(product_id).await?;
                let latin1 = matches!(
                    request,
                    qr_payload::QrPayloadRequest::Epc { latin1: true, .. }
                );
                Ok((qr_payload::build(request)?, latin1, None))
            }
            None => {
                let batch = self
                    .plan_signage(&signage::Selection::Ids(vec![product_id]), template, 1)
                    .await?;
                let link = batch.signs[0].qr_payload.clone().into_bytes();
                Ok((link, false, Some(batch)))
            }
        }
    }

    pub async fn product_qr_preview(
        &self,
        product_id: i64,
        payload: Option<&qr_payload::QrPayloadRequest>,
    ) -> Result<qr_payload::QrPreview> {
        let (bytes, latin1, _) = self.product_qr_payload(product_id, payload, "qr").await?;
        qr_payload::preview(&bytes, latin1)
    }

    /// Writes the product's QR code as PNG or SVG; a buy-link code is recorded as a batch.
    pub async fn save_product_qr(
        &self,
        product_id: i64,
        payload: Option<&qr_payload::QrPayloadRequest>,
        format: qr_payload::QrImage,
        out: &Path,
    ) -> Result<qr_payload::QrPreview> {
        let template = match format {
            qr_payload::QrImage::Png { .. } => "qr-png",
            qr_payload::QrImage::Svg => "qr-svg",
        };
        let (bytes, latin1, batch) = self
            .product_qr_payload(product_id, payload, template)
            .await?;
        let image = qr_payload::image(&bytes, format)?;
        signage::write_file_atomically(out, &image)?;
        if let Some(batch) = batch
            && let Err(error) = self.record_signage(&batch).await
        {
            let _ = std::fs::remove_file(out);
            return Err(error);
        }
        qr_payload::preview(&bytes, latin1)
    }

    /// What the owner printed last time, if anything.
    pub async fn last_signage_request(&self) -> Result<Option<signage::SignageRequest>> {
        signage::last_request(&self.pool).await
    }

    pub async fn signage_batch(&self, batch_id: &str) -> Result<Vec<(Option<i64>, String)>> {
        signage::batch_products(&self.pool, batch_id).await
    }

    // Till and payments

    pub fn payments(&self) -> &payments::Payments {
        &self.payments
    }

    pub async fn create_order(&self, draft: &till::OrderDraft) -> Result<till::Order> {
        let settings = self.settings().await?;
        till::create_order(&self.pool, draft, &settings.currency).await
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
    ) -> Result<payments::ChargeView> {
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
            self.payments.stop_test_mode();
            if all.test_mode {
                self.start_test_mode(&all).await?;
            }
        }
        Ok(all)
    }

    async fn start_test_mode(&self, settings: &providers::PaymentSettings) -> Result<()> {
        let public_host = settings
            .test_mode_lan
            .then(providers::lan_ip)
            .flatten()
            .map(|ip| ip.to_string());
        self.payments
            .start_test_mode(providers::test_mode_bind(settings), public_host.as_deref())
            .await?;
        Ok(())
    }

    /// Starts watching every provider the shop has set up (test mode too, if on).
    pub async fn start_payments(&self) -> Result<()> {
        let settings = providers::load(&self.pool).await?;
        self.payments
            .set_poll_interval(std::time::Duration::from_millis(u64::from(
                settings.poll_ms,
            )));
        if settings.test_mode {
            self.start_test_mode(&settings).await?;
        }
        for provider in providers::saved_providers(&settings, &self.secrets) {
            self.payments.connect(provider);
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

    /// Stops a provider and removes its keys.
    pub async fn disconnect_provider(&self, kind: shopcast_payments::ProviderKind) -> Result<()> {
        if kind == shopcast_payments::ProviderKind::Test {
            self.payments.stop_test_mode();
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
        Ok(providers::saved_providers(&settings, &self.secrets))
    }

    // Reports

    /// Totals, days, products, methods, channels and posts for a period (top `top` per table).
    pub async fn report_summary(
        &self,
        filter: &reports::ReportFilter,
        top: usize,
    ) -> Result<reports::ReportSummary> {
        let timezone = self.settings().await?.timezone;
        let db = self.database_path();
        let filter = filter.clone();
        blocking(move || reports::summary(&db, &filter, &timezone, top)).await
    }

    /// Streams the period's sales as CSV to `out`; `progress` gets the rows written so far,
    /// and setting `cancel` stops the export and leaves no file.
    pub async fn export_sales_csv(
        &self,
        filter: &reports::ReportFilter,
        options: reports::CsvOptions,
        out: &Path,
        cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
        progress: impl FnMut(u64) + Send + 'static,
    ) -> Result<reports::ExportOutcome> {
        let timezone = self.settings().await?.timezone;
        let db = self.database_path();
        let filter = filter.clone();
        let out = out.to_path_buf();
        blocking(move || {
            reports::export_csv(
                &db,
                &filter,
                &timezone,
                options,
                &out,
                Some(&cancel),
                progress,
            )
        })
        .await
    }
}

impl Shop {
    /// Writes the period's PDF sales report to `out` (atomically: no partial file).
    pub async fn export_sales_pdf(
        &self,
        filter: &reports::ReportFilter,
        out: &Path,
    ) -> Result<reports::ExportOutcome> {
        let settings = self.settings().await?;
        let db = self.database_path();
        let filter = filter.clone();
        let out = out.to_path_buf();
        blocking(move || {
            let summary = reports::summary(&db, &filter, &settings.timezone, 50)?;
            let now = jiff::Timestamp::now().to_zoned_datetime(
                jiff::tz::TimeZone::get(&settings.timezone).unwrap_or(jiff::tz::TimeZone::UTC),
            );
            let generated = now.strftime("%Y-%m-%d %H:%M").to_string();
            let doc = report_pdf::report_doc(
                &summary,
                &settings.name,
                &settings.locale,
                &generated,
                &|_| None,
            );
            let pdf = shopcast_print::report::render_report(&doc)?;
            signage::write_file_atomically(&out, &pdf)?;
            Ok(reports::ExportOutcome {
                rows: summary.by_day.iter().map(|d| d.payments as u64).sum(),
                bytes: pdf.len() as u64,
            })
        })
        .await
    }
}

/// The dashboard: today so far and the last 30 days, in the shop's time zone.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub today: reports::ReportSummary,
    pub last_30_days: reports::ReportSummary,
}

impl Shop {
    /// The period filters for "today" and "the last 30 days" in the shop's time zone.
    pub async fn dashboard(&self, include_test: bool) -> Result<Dashboard> {
        let settings = self.settings().await?;
        let tz = jiff::tz::TimeZone::get(&settings.timezone)
            .map_err(|_| CoreError::invalid("timezone", "Unknown time zone."))?;
        let today = jiff::Timestamp::now().to_zoned_datetime(tz).date();
        let month_ago = today
            .checked_sub(jiff::Span::new().days(29))
            .map_err(|e| CoreError::Report(e.to_string()))?;
        let filter = |from: jiff::civil::Date| reports::ReportFilter {
            from: from.to_string(),
            to: today.to_string(),
            include_test,
            ..Default::default()
        };
        Ok(Dashboard {
            today: self.report_summary(&filter(today), 5).await?,
            last_30_days: self.report_summary(&filter(month_ago), 10).await?,
        })
    }
}

/// What the composer sends: one product, a template, the accounts, now or at a local time.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct ComposeRequest {
    pub product_id: i64,
    pub account_ids: Vec<i64>,
    /// With {name} {price} {link} {tags} {description}.
    pub template: String,
    /// Local time in the shop's time zone ("2026-11-25 18:00"); now when empty.
    pub at: Option<String>,
}

/// One account's view of a composed post, counted the network's way.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PostPreview {
    pub account_id: i64,
    pub network: String,
    pub text: String,
    pub length: u32,
    pub max_length: u32,
    pub images: u32,
    pub max_images: u32,
    /// Why it cannot be sent as is, in plain words.
    pub problem: Option<String>,
}

pub const DEFAULT_POST_TEMPLATE: &str = "{name} — {price}\n{description}\n{link}\n{tags}";

impl Shop {
    pub fn outbox(&self) -> &outbox::Outbox {
        &self.outbox
    }

    /// Checks the credential with the network, then keeps the account (credential in the
    /// keychain).
    pub async fn connect_account(
        &self,
        network: shopcast_social::Network,
        service: &str,
        handle: &str,
        credential: &str,
        settings: serde_json::Value,
    ) -> Result<accounts::Account> {
        // Mastodon says who the token belongs to.
        let handle = if network == shopcast_social::Network::Mastodon && handle.trim().is_empty() {
            shopcast_social::mastodon::MastodonPublisher::new(service.trim(), credential)
                .verify_credentials()
                .await
                .map_err(publish_error)?
                .acct
        } else {
            handle.trim().to_string()
        };
        let handle = handle.as_str();
        let probe = accounts::Account {
            id: 0,
            network: network.as_str().to_string(),
            service: service.trim().to_string(),
            handle: handle.to_string(),
            status: "ok".into(),
            secret_backend: secrets::SecretBackend::File,
            token_expires_at: settings.get("expiresAt").and_then(|e| e.as_i64()),
            settings: settings.clone(),
        };
        let factory = self.outbox.factory();
        let publisher = factory
            .open(&probe, credential)
            .await
            .map_err(publish_error)?;
        publisher.limits().await.map_err(publish_error)?;
        let account = accounts::save(
            &self.pool,
            &self.secrets,
            network,
            service.trim(),
            handle.trim(),
            credential,
            settings,
        )
        .await?;
        self.outbox.forget(account.id);
        Ok(account)
    }

    /// Starts a Mastodon sign-in on `instance`: open `authorize_url` in the browser, then
    /// call [`Shop::finish_sign_in`].
    pub async fn start_mastodon_sign_in(&self, instance: &str) -> Result<sign_in::SignInStart> {
        self.sign_ins.start_mastodon(instance).await
    }

    /// Starts a Weibo sign-in with the owner's app (key, secret, registered callback page and
    /// the secure domain that every post's link must be on).
    pub fn start_weibo_sign_in(
        &self,
        api_base: &str,
        app_key: &str,
        app_secret: &str,
        redirect_uri: &str,
        secure_domain: &str,
    ) -> Result<sign_in::SignInStart> {
        self.sign_ins
            .start_weibo(api_base, app_key, app_secret, redirect_uri, secure_domain)
    }

    /// Finishes a sign-in with the code caught on 127.0.0.1, or the address/code the owner
    /// pasted, and keeps the account (token in the keychain).
    pub async fn finish_sign_in(
        &self,
        flow_id: &str,
        pasted: Option<&str>,
    ) -> Result<accounts::Account> {
        let (pending, token) = self.sign_ins.finish(flow_id, pasted).await?;
        let mut settings = pending.settings.clone();
        if let Some(expires_at) = token.expires_at {
            settings["expiresAt"] = serde_json::json!(expires_at);
        }
        let handle = match pending.network {
            shopcast_social::Network::Weibo => {
                serde_json::from_str::<serde_json::Value>(&token.raw)
                    .ok()
                    .and_then(|raw| {
                        raw.get("uid")
                            .map(|u| u.to_string().trim_matches('"').to_string())
                    })
                    .unwrap_or_else(|| "weibo".into())
            }
            _ => String::new(),
        };
        self.connect_account(
            pending.network,
            &pending.service,
            &handle,
            &token.access_token,
            settings,
        )
        .await
    }

    pub async fn accounts(&self) -> Result<Vec<accounts::Account>> {
        accounts::list(&self.pool).await
    }

    pub async fn disconnect_account(&self, id: i64) -> Result<()> {
        self.outbox.forget(id);
        accounts::remove(&self.pool, &self.secrets, id).await
    }

    /// The product's buy link for one post: its payment link tagged with the post when a
    /// provider has reusable links, else the tracked link `…/p/SKU?src=post&post=<id>`.
    async fn post_link(
        &self,
        settings: &ShopSettings,
        product: &Product,
        post_id: i64,
    ) -> Result<String> {
        let (links, provider) = self
            .payments
            .reusable_links(std::slice::from_ref(product))
            .await?;
        if let (Some(url), Some(provider)) = (links.get(&product.id), provider)
            && let Some(tagged) = provider.tag_link(url, &format!("post-{post_id}"))
        {
            return Ok(tagged);
        }
        signage::tracked_buy_link(
            settings,
            product,
            &[("src", "post"), ("post", &post_id.to_string())],
        )
    }

    fn fill(settings: &ShopSettings, product: &Product, template: &str, link: &str) -> String {
        let template = if template.trim().is_empty() {
            DEFAULT_POST_TEMPLATE
        } else {
            template
        };
        outbox::fill_template(
            template,
            &product.name,
            &product.price.format_local(&settings.locale),
            link,
            &product.tags,
            &product.description,
        )
    }

    /// Per-account previews of a post, each counted and checked the network's way.
    pub async fn preview_post(&self, request: &ComposeRequest) -> Result<Vec<PostPreview>> {
        let settings = self.settings().await?;
        let product = self.product(request.product_id).await?;
        let mut out = Vec::new();
        for account_id in &request.account_ids {
            let account = accounts::get(&self.pool, *account_id).await?;
            // The real link gets the post's id; the preview uses a same-length stand-in.
            let link = self
                .post_link(&settings, &product, 1_000_000)
                .await
                .unwrap_or_default();
            let text = Self::fill(&settings, &product, &request.template, &link);
            let network = shopcast_social::Network::parse(&account.network)
                .ok_or_else(|| CoreError::invalid("network", "Unknown network."))?;
            // The outbox's open publisher: previews do not sign in again each time.
            let limits = match self.outbox.publisher(&account).await {
                Ok(publisher) => publisher.limits().await.ok(),
                Err(_) => None,
            };
            let limits = limits.unwrap_or_else(|| default_limits(network));
            let images = product.photos.len().min(limits.max_images);
            let post = shopcast_social::PostRequest {
                text: text.clone(),
                link: Some(link),
                images: Vec::new(),
                idempotency_key: String::new(),
                languages: Vec::new(),
            };
            let problem = shopcast_social::text::validate(network, &post, &limits)
                .err()
                .map(|e| e.to_string());
            out.push(PostPreview {
                account_id: account.id,
                network: account.network.clone(),
                length: shopcast_social::text::count(network, &text, &limits) as u32,
                max_length: limits.max_chars as u32,
                images: images as u32,
                max_images: limits.max_images as u32,
                text,
                problem,
            });
        }
        Ok(out)
    }

    /// Queues the post for each account (now or at the local time given) and wakes the
    /// outbox. Each post gets its own tracked buy link.
    pub async fn queue_posts(&self, request: &ComposeRequest) -> Result<Vec<outbox::Post>> {
        if request.account_ids.is_empty() {
            return Err(CoreError::invalid(
                "accounts",
                "Choose at least one account.",
            ));
        }
        let settings = self.settings().await?;
        let product = self.product(request.product_id).await?;
        let scheduled_at = match request
            .at
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            Some(at) => outbox::parse_local_time(at, &settings.timezone)?.as_millisecond(),
            None => catalog::now_ms(),
        };
        let photos: Vec<String> = product.photos.iter().map(|p| p.hash.clone()).collect();
        // Every account is checked before anything is queued: all posts go, or none.
        let mut chosen = Vec::new();
        for account_id in &request.account_ids {
            let account = accounts::get(&self.pool, *account_id).await?;
            if account.status == "disconnected" {
                return Err(CoreError::invalid(
                    "accounts",
                    format!("{} is disconnected.", account.handle),
                ));
            }
            chosen.push(account);
        }
        let mut drafts = Vec::new();
        let filled: Result<()> = async {
            for account in &chosen {
                let id = outbox::insert(
                    &self.pool,
                    account.id,
                    Some(product.id),
                    &photos,
                    scheduled_at,
                )
                .await?;
                drafts.push(id);
                let link = self.post_link(&settings, &product, id).await?;
                let text = Self::fill(&settings, &product, &request.template, &link);
                outbox::set_text(&self.pool, id, &text, &link).await?;
            }
            Ok(())
        }
        .await;
        outbox::release_drafts(&self.pool, &drafts, filled.is_ok()).await?;
        filled?;
        let mut posts = Vec::new();
        for id in drafts {
            posts.push(outbox::get(&self.pool, id).await?);
        }
        self.outbox.wake();
        Ok(posts)
    }

    pub async fn post_history(
        &self,
        product_id: Option<i64>,
        account_id: Option<i64>,
    ) -> Result<Vec<outbox::Post>> {
        outbox::history(&self.pool, product_id, account_id, 500).await
    }

    pub async fn post_now(&self, id: i64) -> Result<outbox::Post> {
        outbox::post_now(&self.pool, id).await?;
        self.outbox.wake();
        let post = outbox::get(&self.pool, id).await?;
        self.outbox.announce(&post);
        Ok(post)
    }

    pub async fn skip_post(&self, id: i64) -> Result<outbox::Post> {
        outbox::skip(&self.pool, id).await?;
        let post = outbox::get(&self.pool, id).await?;
        self.outbox.announce(&post);
        Ok(post)
    }

    /// Starts the outbox worker; posts that were due while the app was closed become
    /// "missed" and wait for the owner. Returns the missed posts.
    pub async fn start_outbox(&self) -> Result<Vec<outbox::Post>> {
        let missed = outbox::mark_missed(&self.pool, catalog::now_ms()).await?;
        self.outbox.start();
        let mut out = Vec::new();
        for id in missed {
            let post = outbox::get(&self.pool, id).await?;
            self.outbox.announce(&post);
            out.push(post);
        }
        Ok(out)
    }
}

fn default_limits(network: shopcast_social::Network) -> shopcast_social::NetworkLimits {
    use shopcast_social::{Network, NetworkLimits};
    match network {
        Network::Bluesky => NetworkLimits {
            max_chars: 300,
            url_chars: None,
            max_images: 4,
            max_image_bytes: 1_000_000,
            max_image_side: 2_000,
        },
        Network::Mastodon => NetworkLimits {
            max_chars: 500,
            url_chars: Some(23),
            max_images: 4,
            max_image_bytes: 16 * 1024 * 1024,
            max_image_side: 4_096,
        },
        Network::Weibo => NetworkLimits {
            max_chars: 2_000,
            url_chars: None,
            max_images: 1,
            max_image_bytes: 5 * 1024 * 1024 - 1,
            max_image_side: 2_048,
        },
    }
}

pub(crate) fn publish_error(error: shopcast_social::PublishError) -> CoreError {
    CoreError::Provider {
        code: error.code(),
        message: error.to_string(),
        raw: error.raw().map(str::to_string),
    }
}

/// Runs blocking engine work (reports read SQLite synchronously) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CoreError::Report(format!("the report task stopped: {e}")))?
}
