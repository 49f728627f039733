#!/usr/bin/env bash
# The public shop page in a real browser: Debian's Chromium (headless) through chromedriver,
# scripted with webdriverio and node --test, against `shopcast serve` on a free port.
#
# Builds nothing. Build first, from the repository root:
#   cargo build -p shopcast && (cd tests/shoppage && npm ci) && (cd tests/peers/pds && npm ci)
# then: bash tests/shoppage/run.sh [FILE.test.js…]   (needs openssl for alipay.test.js)
#
# Environment:
#   CARGO_TARGET_DIR   where the debug binary is (default: <repo>/target)
#   SHOPCAST_BIN       the shopcast binary to test (default: $CARGO_TARGET_DIR/debug/shopcast)
#   CHROMIUM           the browser (default: /usr/bin/chromium)
#   CHROMEDRIVER       its WebDriver (default: /usr/bin/chromedriver)
#   SHOPPAGE_KEEP=1    keep the temp folder (shops, server logs) even when the tests pass
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
BIN=${SHOPCAST_BIN:-$TARGET_DIR/debug/shopcast}
BROWSER=${CHROMIUM:-/usr/bin/chromium}
DRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
ARTIFACTS=$REPO/target/shoppage-screenshots

die() {
  echo "shoppage: $*" >&2
  exit 2
}

# ---------- Preconditions (clear messages, nothing is built here) ----------
[[ -x $BIN ]] || die "shopcast binary not found: $BIN
  build it first: cargo build -p shopcast   (CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-<unset>})"
[[ -x $BROWSER ]] || die "Chromium not found at $BROWSER (Debian: apt-get install chromium)"
[[ -x $DRIVER ]] || die "chromedriver not found at $DRIVER (Debian: apt-get install chromium-driver)"
command -v node >/dev/null 2>&1 || die "node not found"
command -v python3 >/dev/null 2>&1 || die "python3 not found (it reads the sales CSV)"
command -v convert >/dev/null 2>&1 || die "ImageMagick's convert not found (it draws the product photos)"
command -v openssl >/dev/null 2>&1 || die "openssl not found (it makes the Alipay keys and the gateway's certificate)"
[[ -d $HERE/node_modules/webdriverio && -d $HERE/node_modules/parse5 ]] ||
  die "webdriverio/parse5 are not installed: (cd tests/shoppage && npm ci)"
[[ -d $REPO/tests/peers/pds/node_modules/@atproto/pds ]] ||
  die "the reference Bluesky PDS is not installed: bash tests/peers/setup.sh"

mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/*.png

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shopcast-shoppage.XXXXXX")
DRIVER_PID=
STATUS=1
cleanup() {
  # Runs under `set -e` on exit: nothing here may fail, or it would replace the exit status.
  if [[ -n $DRIVER_PID ]] && kill -0 "$DRIVER_PID" 2>/dev/null; then
    kill "$DRIVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$DRIVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$DRIVER_PID" 2>/dev/null || true
  fi
  # A server or browser left behind by an aborted run: only processes naming our temp folder.
  for pid in $(grep -lsF -- "$WORK" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 || true); do
    [[ $pid != "$$" ]] && kill "$pid" 2>/dev/null && echo "shoppage: stopped leftover process $pid" >&2 || true
  done
  wait 2>/dev/null || true
  if [[ $STATUS -ne 0 || ${SHOPPAGE_KEEP:-0} == 1 ]]; then
    echo "shoppage: kept $WORK (shops, serve logs, chromedriver.log)" >&2
  else
    rm -rf "$WORK" 2>/dev/null || { sleep 1; rm -rf "$WORK" 2>/dev/null; } || echo "shoppage: could not remove $WORK" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# ---------- chromedriver on a free local port ----------
PORT=$(free_port)
"$DRIVER" --port="$PORT" --allowed-ips=127.0.0.1 --log-path="$WORK/chromedriver.log" >/dev/null 2>&1 &
DRIVER_PID=$!
driver_ready() {
  node -e "fetch('http://127.0.0.1:$PORT/status').then(r=>r.json()).then(j=>process.exit(j.value&&j.value.ready?0:1),()=>process.exit(1))" 2>/dev/null
}
deadline=$((SECONDS + 20))
until driver_ready; do
  kill -0 "$DRIVER_PID" 2>/dev/null || die "chromedriver exited: $(tail -20 "$WORK/chromedriver.log" 2>/dev/null)"
  ((SECONDS < deadline)) || die "timed out waiting for chromedriver on 127.0.0.1:$PORT"
  sleep 0.1
done

# ---------- Tests ----------
echo "shoppage: binary $BIN ($(date -r "$BIN" '+%F %T')), $("$BROWSER" --version 2>/dev/null | head -1), chromedriver :$PORT"
export SHOPPAGE_DRIVER_PORT=$PORT
export SHOPPAGE_BIN=$BIN
export SHOPPAGE_CHROMIUM=$BROWSER
export SHOPPAGE_WORK=$WORK
export SHOPPAGE_ARTIFACTS=$ARTIFACTS
export SHOPPAGE_PDS=$REPO/tests/peers/pds/start.js
cd "$HERE"
if [[ $# -gt 0 ]]; then FILES=("$@"); else FILES=(./*.test.js); fi
set +e
node --test --test-reporter=tap --test-concurrency=1 "${FILES[@]}"
STATUS=$?
set -e
echo "shoppage: screenshots in $ARTIFACTS: $(cd "$ARTIFACTS" && ls *.png 2>/dev/null | tr '\n' ' ')"
exit $STATUS
