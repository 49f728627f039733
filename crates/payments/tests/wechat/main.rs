//! Integration tests of `shopcast_payments::wechat` (WeChat Pay APIv3, direct merchant).
//!
//! `provider` drives the provider against `shopcast_testkit::WechatGateway` (a local gateway
//! that follows WeChat Pay's wire format, checks our signatures and signs its replies);
//! `scripted` plays back signed replies the gateway cannot stage (races, answers about another
//! trade); `bad_input` feeds the reply readers arbitrary bytes.

mod bad_input;
mod provider;
mod scripted;
mod sign;
mod vectors;
#[path = "../support/venv.rs"]
mod venv;
