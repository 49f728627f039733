#!/usr/bin/env bash
# Installs the test peers: Python ones (localstripe, mastodon-mock, pandas) and reference SDKs
# (alipay-sdk-python, stripe-python) into the
# shared venv ${SHOPCAST_VENV:-~/.cache/shopcast-venv}, and the reference Bluesky PDS (npm, in
# tests/peers/pds). Idempotent; called by scripts/setup.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${SHOPCAST_VENV:-$HOME/.cache/shopcast-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
[ "$here/pds/node_modules/.package-lock.json" -nt "$here/pds/package-lock.json" ] || npm ci --prefix "$here/pds" --no-audit --no-fund --loglevel=error >/dev/null
