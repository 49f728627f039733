//! Shopcast social: one [`Publisher`] trait and one module per network — [`bluesky`],
//! [`mastodon`], [`weibo`] — plus each network's rules for text length, links and images.
//! Pure HTTP; no database, no Tauri. The engine's outbox decides what is stored.

pub mod bluesky;
pub mod http;
pub mod images;
pub mod mastodon;
pub mod oauth;
pub mod publisher;
pub mod text;
pub mod weibo;

pub use publisher::{
    Credentials, Network, NetworkLimits, PostImage, PostRequest, Posted, PublishError, Publisher,
};
