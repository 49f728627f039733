#!/usr/bin/env bash
# Runs every check and test: formatting, lints, UI type check and unit tests, the engine's
# integration tests on real SQLite files, the headless CLI, the real app window driven
# by WebDriver under Xvfb, and the public shop page in headless Chromium. Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shopcast-target}"
export CARGO_TERM_COLOR=never

step() { printf '\n== %s\n' "$*"; }

step "rustfmt"
cargo fmt --all -- --check

step "UI: type check, unit tests, build"
(cd ui && npm run check && npm test && npm run build)

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust tests (engine on real SQLite files, CLI, generated bindings are current)"
cargo test --workspace --locked

step "the engine again on a real PostgreSQL (a throwaway server in a temporary folder)"
pg_dir="$(mktemp -d)"
trap 'bash tests/peers/postgres.sh stop "$pg_dir" >/dev/null 2>&1 || true' EXIT
SHOPCAST_TEST_POSTGRES="$(bash tests/peers/postgres.sh start "$pg_dir")"
export SHOPCAST_TEST_POSTGRES
cargo test -p shopcast-core --locked
cargo test -p shopcast --locked --test cli_database --test cli_watchers
# Two `posts send` processes against the real PDS and mastodon-mock, on the server.
SHOPCAST_TEST_CLI_POSTGRES=1 cargo test -p shopcast --locked --test cli_posting two_senders
unset SHOPCAST_TEST_POSTGRES
bash tests/peers/postgres.sh stop "$pg_dir"

step "payment QR payloads re-checked by independent Python implementations"
bash tests/payloads/run.sh

step "end-to-end: the real app window under Xvfb"
cargo build -p shopcast --locked
cargo build -p shopcast-testkit --bin wechat-gateway --locked
bash tests/e2e/run.sh

step "shop page: headless Chromium against shopcast serve (pages, the follower's journey from a Bluesky post)"
# The debug binary just built for the window tests.
bash tests/shoppage/run.sh
