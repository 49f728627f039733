#!/usr/bin/env bash
# Installs what building, running and testing Shopcast needs on Debian/Ubuntu; skips what is
# already there, so running it again takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: Tauri's build deps, the real window under Xvfb and WebDriver for it,
# ImageMagick for screenshots, a CJK font so Chinese renders; Chromium and its WebDriver for
# the shop page's browser tests; nginx, wrk and ab for the shop page bench; PostgreSQL (the
# tests start their own throwaway server from its binaries; the package's own is not used).
APT_PACKAGES=(
  build-essential pkg-config curl file python3 python3-venv python3-pip
  libwebkit2gtk-4.1-dev libssl-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  xvfb xauth webkit2gtk-driver imagemagick fonts-noto-cjk fonts-noto-color-emoji
  poppler-utils qpdf zbar-tools libdbus-1-dev sqlite3
  chromium chromium-driver openssl nginx-light wrk apache2-utils
  postgresql
)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: Rust is missing. Install it with https://rustup.rs, then run this again." >&2
  exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)' 2>/dev/null; then
  echo "setup: Node.js 20.19 or newer is needed (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

# The WebDriver bridge for the end-to-end tests.
if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --version 2.1.0 --locked --quiet
fi

# npm packages, exactly as locked; reinstalled only when the lock file changed.
for dir in ui tests/e2e tests/shoppage; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.shopcast-lock"; then
    echo "setup: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.shopcast-lock)
  fi
done
echo "setup: Python test peers"; bash "$(dirname "${BASH_SOURCE[0]}")/../tests/peers/setup.sh"
