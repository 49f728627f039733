#!/usr/bin/env bash
# Independent check of the payment-QR payloads of crates/payments (see check_payloads.py):
# the Rust test `generated_payloads` writes seeded payloads to a temporary JSON file, then
# pytest re-checks them with crccheck, schwifty, python-stdnum, pycountry and urllib.
#
#   tests/payloads/run.sh            # venv in ${SHOPCAST_VENV:-~/.cache/shopcast-venv}
#
# Exits non-zero if anything fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${SHOPCAST_VENV:-$HOME/.cache/shopcast-venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shopcast-target}"
export PYTHONDONTWRITEBYTECODE=1

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"

out="$(mktemp "${TMPDIR:-/tmp}/shopcast-payloads.XXXXXX.json")"
trap 'rm -f "$out"' EXIT

(cd "$root" && SHOPCAST_PAYLOADS_OUT="$out" \
    cargo test --quiet -p shopcast-payments --test static_qr -- generated_payloads)
if [ ! -s "$out" ]; then
    echo "run.sh: the Rust test wrote no payloads to $out" >&2
    exit 1
fi

SHOPCAST_PAYLOADS_OUT="$out" "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    "$here/check_payloads.py"
