//! Provider callbacks that reach the shop page (Stripe webhooks, Alipay notify): verified by
//! the provider's adapter, then fed to the same idempotent ingest as the watchers' polls.

mod alipay;
mod stripe;
mod wechat;

/// What one verified callback did to the ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackOutcome {
    /// Payments it recorded or moved on (0 for a retry or a replay).
    pub recorded: usize,
    /// Events it carried that concern no order of ours or no payment (acknowledged, kept out).
    pub ignored: usize,
}
