//! `shopcast accounts …` and `shopcast post …`: connect microblog accounts and post products
//! without the window, through the same engine calls (and the same outbox) as the app.

use std::time::Duration;

use clap::{Args, Subcommand};
use shopcast_core::{ComposeRequest, ProductQuery, Shop};
use shopcast_social::Network;

use crate::cli::{Failure, read_secret};

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Connect an account (credentials are read from the environment or stdin, never flags).
    #[command(subcommand)]
    Add(AddAccount),
    /// The connected accounts (never their credentials).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Disconnect an account and delete its credential; its post history stays.
    Remove { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum AddAccount {
    /// Bluesky: the app password comes from $SHOPCAST_APP_PASSWORD or stdin.
    Bluesky {
        /// The PDS, e.g. https://bsky.social.
        #[arg(long, default_value = "https://bsky.social")]
        service: String,
        #[arg(long)]
        handle: String,
    },
    /// Mastodon with an access token you already have ($SHOPCAST_ACCESS_TOKEN or stdin);
    /// the app signs in with OAuth instead.
    Mastodon {
        #[arg(long)]
        instance: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PostsCommand {
    /// The post history, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Send every post that is due now (retries included) and print what was posted.
    Send,
}

pub async fn run_posts(shop: &Shop, command: PostsCommand) -> Result<(), Failure> {
    match command {
        PostsCommand::List { json } => {
            let posts = shop.post_history(None, None).await?;
            if json {
                println!("{}", serde_json::to_string(&posts).expect("serializable"));
            } else {
                for p in posts {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        p.id,
                        p.network,
                        p.status,
                        p.url.unwrap_or_default(),
                        p.error_message.unwrap_or_default()
                    );
                }
            }
        }
        PostsCommand::Send => {
            for post in shop.send_due_posts().await? {
                if post.status == "posted" {
                    println!(
                        "{}\t{}",
                        post.remote_id.unwrap_or_default(),
                        post.url.unwrap_or_default()
                    );
                } else {
                    eprintln!(
                        "shopcast: post {} {}: {}",
                        post.id,
                        post.status,
                        post.error_message.unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct PostArgs {
    #[arg(long)]
    sku: String,
    /// Account id (see `accounts list`); repeat for several.
    #[arg(long = "account", required = true)]
    accounts: Vec<i64>,
    /// The text, with {name} {price} {link} {tags} {description} (default template otherwise).
    #[arg(long)]
    text: Option<String>,
    /// Local time in the shop's time zone, e.g. "2026-11-25 18:00" (default: now).
    #[arg(long)]
    at: Option<String>,
}

pub async fn run_accounts(shop: &Shop, command: AccountsCommand) -> Result<(), Failure> {
    match command {
        AccountsCommand::Add(AddAccount::Bluesky { service, handle }) => {
            let password = read_secret("SHOPCAST_APP_PASSWORD", "app password")?;
            let account = shop
                .connect_account(
                    Network::Bluesky,
                    &service,
                    &handle,
                    &password,
                    serde_json::json!({}),
                )
                .await?;
            println!(
                "account {} connected: {} on {}",
                account.id, account.handle, account.service
            );
        }
        AccountsCommand::Add(AddAccount::Mastodon { instance }) => {
            let token = read_secret("SHOPCAST_ACCESS_TOKEN", "access token")?;
            let account = shop
                .connect_account(
                    Network::Mastodon,
                    &instance,
                    "",
                    &token,
                    serde_json::json!({}),
                )
                .await?;
            println!(
                "account {} connected: {} on {}",
                account.id, account.handle, account.service
            );
        }
        AccountsCommand::List { json } => {
            let accounts = shop.accounts().await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&accounts).expect("serializable")
                );
            } else {
                for a in accounts {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        a.id, a.network, a.handle, a.service, a.status
                    );
                }
            }
        }
        AccountsCommand::Remove { id } => {
            shop.disconnect_account(id).await?;
            println!("account {id} disconnected");
        }
    }
    Ok(())
}

pub async fn run_post(shop: &Shop, args: PostArgs) -> Result<(), Failure> {
    let page = shop
        .list_products(&ProductQuery {
            search: Some(args.sku.clone()),
            limit: 50,
            ..Default::default()
        })
        .await?;
    let product = page
        .items
        .iter()
        .find(|p| p.sku.as_deref() == Some(args.sku.as_str()))
        .ok_or_else(|| Failure::usage(format!("no product with SKU {}", args.sku)))?;
    let scheduled = args.at.is_some();
    let posts = shop
        .queue_posts(&ComposeRequest {
            product_id: product.id,
            account_ids: args.accounts,
            template: args.text.unwrap_or_default(),
            at: args.at,
        })
        .await?;
    if scheduled {
        for post in posts {
            println!(
                "post {} scheduled for {} (sent while Shopcast runs)",
                post.id, post.scheduled_at
            );
        }
        return Ok(());
    }
    // Send now through the outbox, honouring its retries (at most a few minutes).
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    let mut failed = false;
    for post in posts {
        loop {
            shop.send_due_posts().await?;
            let now = shop.post_history(None, Some(post.account_id)).await?;
            let current = now
                .into_iter()
                .find(|p| p.id == post.id)
                .expect("queued above");
            match current.status.as_str() {
                "posted" => {
                    println!(
                        "{}\t{}",
                        current.remote_id.unwrap_or_default(),
                        current.url.unwrap_or_default()
                    );
                    break;
                }
                "failed" => {
                    eprintln!(
                        "shopcast: post {} failed: {}",
                        current.id,
                        current.error_message.unwrap_or_default()
                    );
                    failed = true;
                    break;
                }
                _ if std::time::Instant::now() > deadline => {
                    return Err(Failure::usage(format!(
                        "post {} is still waiting to be sent (retrying: {}); Shopcast will send it",
                        current.id,
                        current.error_message.unwrap_or_default()
                    )));
                }
                _ => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }
    if failed {
        return Err(Failure {
            code: shopcast_core::ErrorCode::PostRejected,
            message: "not every post was sent".into(),
            field: None,
        });
    }
    Ok(())
}
