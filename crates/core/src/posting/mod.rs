//! The posting room: the shop's microblog accounts and their sign-in, composing a post with
//! its per-network preview, and the outbox that publishes each post once.

pub mod accounts;
pub mod compose;
pub mod outbox;
pub mod sign_in;
mod store;

pub use compose::{
    ComposeRequest, DEFAULT_POST_TEMPLATE, PostPreview, fill_template, parse_local_time,
};

use crate::catalog::Product;
use crate::error::{CoreError, Result};
use crate::settings::ShopSettings;
use crate::{Shop, signage};

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
        let handle = handle.trim();
        let probe = accounts::Account {
            id: 0,
            network,
            service: service.trim().to_string(),
            handle: handle.to_string(),
            status: accounts::AccountStatus::Ok,
            secret_backend: crate::infra::secrets::SecretBackend::File,
            token_expires_at: settings.get("expiresAt").and_then(|e| e.as_i64()),
            settings: settings.clone(),
        };
        let factory = self.outbox.factory();
        let publisher = factory
            .open(&probe, credential)
            .await
            .map_err(publish_error)?;
        publisher.limits().await.map_err(publish_error)?;
        // Mastodon says who the token belongs to when the owner did not.
        let handle = if handle.is_empty() {
            publisher.who_am_i().await.map_err(publish_error)?
        } else {
            handle.to_string()
        };
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
                shopcast_social::weibo::uid_from_token_reply(&token.raw)
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

    /// The product's buy link for one post: the tracked link `…/p/SKU?src=post&post=<id>`
    /// when the shop page is served, else its payment link tagged with the post when a
    /// provider has reusable links, else the tracked link on the typed buy-link base.
    async fn post_link(
        &self,
        settings: &ShopSettings,
        product: &Product,
        post_id: i64,
    ) -> Result<String> {
        let (links, provider) = if settings.links_to_shop_page() {
            Default::default()
        } else {
            self.reusable_links(std::slice::from_ref(product)).await?
        };
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
        compose::fill_template(
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
            // No address yet previews without a link; a product the link cannot sell is refused.
            let link = match self.post_link(&settings, &product, 1_000_000).await {
                Ok(link) => link,
                Err(error) if error.field() == Some("sku") => return Err(error),
                Err(_) => String::new(),
            };
            let text = Self::fill(&settings, &product, &request.template, &link);
            let network = account.network;
            // The outbox's open publisher: previews do not sign in again each time.
            let limits = match self.outbox.publisher(&account).await {
                Ok(publisher) => publisher.limits().await.ok(),
                Err(_) => None,
            };
            let limits = limits.unwrap_or_else(|| network.fallback_limits());
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
                network: account.network,
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
            Some(at) => compose::parse_local_time(at, &settings.timezone)?.as_millisecond(),
            None => crate::infra::now_ms(),
        };
        let photos: Vec<String> = product.photos.iter().map(|p| p.hash.clone()).collect();
        // Every account is checked before anything is queued: all posts go, or none.
        let mut chosen = Vec::new();
        for account_id in &request.account_ids {
            let account = accounts::get(&self.pool, *account_id).await?;
            if account.status == accounts::AccountStatus::Disconnected {
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
                let id = store::insert(
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
                store::set_text(&self.pool, id, &text, &link).await?;
            }
            Ok(())
        }
        .await;
        store::release_drafts(&self.pool, &drafts, filled.is_ok()).await?;
        filled?;
        let mut posts = Vec::new();
        for id in drafts {
            posts.push(store::get(&self.pool, id).await?);
        }
        self.outbox.wake();
        Ok(posts)
    }

    pub async fn post_history(
        &self,
        product_id: Option<i64>,
        account_id: Option<i64>,
    ) -> Result<Vec<outbox::Post>> {
        store::history(&self.pool, product_id, account_id, 500).await
    }

    pub async fn post_now(&self, id: i64) -> Result<outbox::Post> {
        store::post_now(&self.pool, id).await?;
        self.outbox.wake();
        let post = store::get(&self.pool, id).await?;
        self.outbox.announce(&post);
        Ok(post)
    }

    pub async fn skip_post(&self, id: i64) -> Result<outbox::Post> {
        store::skip(&self.pool, id).await?;
        let post = store::get(&self.pool, id).await?;
        self.outbox.announce(&post);
        Ok(post)
    }

    /// Starts the outbox worker; posts that were due while the app was closed become
    /// "missed" and wait for the owner. Returns the missed posts.
    pub async fn start_outbox(&self) -> Result<Vec<outbox::Post>> {
        let missed = store::mark_missed(&self.pool, crate::infra::now_ms()).await?;
        self.outbox.start();
        let mut out = Vec::new();
        for id in missed {
            let post = store::get(&self.pool, id).await?;
            self.outbox.announce(&post);
            out.push(post);
        }
        Ok(out)
    }
}

pub(crate) fn publish_error(error: shopcast_social::PublishError) -> CoreError {
    CoreError::Provider {
        code: error.code(),
        message: error.to_string(),
        raw: error.raw().map(str::to_string),
    }
}

impl Shop {
    /// Sends every post that is due now (retries too) and returns them as they ended.
    pub async fn send_due_posts(&self) -> Result<Vec<outbox::Post>> {
        self.outbox.run_due(jiff::Timestamp::now()).await
    }
}

impl Shop {
    /// Every post that changes from now on (the window's post history updates live).
    pub fn post_updates(&self) -> tokio::sync::broadcast::Receiver<outbox::Post> {
        self.outbox.subscribe()
    }
}
