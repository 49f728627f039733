//! Integration tests of `shopcast_payments::stripe`.
//!
//! Contract tests run Stripe's documented requests and replies through a local capture server
//! (`capture`); `peer` runs real payments through localstripe (`localstripe`, started from
//! `tests/peers/localstripe_server.py`; run `tests/peers/setup.sh` first); `webhook` checks
//! signatures against stripe-python's own.

mod bad_input;
mod capture;
mod checkout;
mod errors;
mod events;
mod localstripe;
mod peer;
mod refunds;
#[path = "../support/tally.rs"]
mod tally;
#[path = "../support/venv.rs"]
mod venv;
mod webhook;

use shopcast_payments::PollOutcome;

/// The event ids of a poll, in order.
fn ids(outcome: &PollOutcome) -> Vec<&str> {
    outcome
        .events
        .iter()
        .map(|event| event.event_id.as_str())
        .collect()
}
