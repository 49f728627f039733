//! Integration tests of `shopcast_social::mastodon` and the OAuth helpers it uses.
//!
//! `peer` runs against mastodon-mock (PyPI, run `tests/peers/setup.sh` first), started per test
//! by `mock`. `contract` covers what mastodon-mock never does — a photo still processing (202,
//! `url: null`), 422 on a photo, 429, a revoked token — with a local server speaking Mastodon's
//! documented replies.

mod bad_input;
mod contract;
#[path = "../support/garbage.rs"]
mod garbage;
mod mock;
mod peer;
mod photos;
#[path = "../../../payments/tests/support/tally.rs"]
mod tally;
