//! Shopcast test peers that no registry ships: a local WeChat Pay APIv3 gateway
//! ([`wechat::WechatGateway`]) following the documented wire format, for tests and the e2e suite.

pub mod wechat;

pub use wechat::{
    CodeBehaviour, Fault, PlatformCertificateFiles, RecordedRequest, TradeView, WechatGateway,
};
