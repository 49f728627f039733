//! Integration tests of `shopcast_payments::stripe`.
//!
//! Contract tests run Stripe's documented requests and replies through a local capture server
//! (`capture`); `peer` runs real payments through localstripe (`localstripe`, started from
//! `tests/peers/localstripe_server.py`; run `tests/peers/setup.sh` first).

mod capture;
mod checkout;
mod errors;
mod events;
mod localstripe;
mod peer;
mod refunds;
