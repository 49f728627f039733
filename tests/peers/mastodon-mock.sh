#!/usr/bin/env bash
# Runs mastodon-mock (PyPI, a stateful fake of the Mastodon API) in the foreground on
# 127.0.0.1, in memory, with its media files and working directory in STATE_DIR (it reads a
# .mastodon_mock.toml from its working directory, and keeps uploads in $TMPDIR).
# The Rust tests (crates/social/tests/mastodon) start it through this script.
#
#   tests/peers/mastodon-mock.sh PORT [STATE_DIR]
#
# Then e.g.: curl http://127.0.0.1:PORT/api/v2/instance
set -euo pipefail
venv="${SHOPCAST_VENV:-$HOME/.cache/shopcast-venv}"
port="${1:?usage: $0 PORT [STATE_DIR]}"
state="${2:-$(mktemp -d -t mastodon-mock.XXXXXX)}"
if [ ! -x "$venv/bin/mastodon_mock" ]; then
    echo "mastodon-mock is not installed in $venv: run tests/peers/setup.sh" >&2
    exit 127
fi
mkdir -p "$state/tmp"
cd "$state"
TMPDIR="$state/tmp" exec "$venv/bin/mastodon_mock" serve --in-memory --host 127.0.0.1 --port "$port"
