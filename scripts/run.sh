#!/usr/bin/env bash
# Installs what is missing, builds the app and starts it. The shop file lives in the OS
# app-data folder (override with SHOPCAST_DATA_DIR or pass --data-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shopcast-target}"
(cd ui && npm run build --silent)
cargo build --release -p shopcast
exec "$CARGO_TARGET_DIR/release/shopcast" "$@"
