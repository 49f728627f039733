#!/usr/bin/env bash
# End-to-end tests of the Shopcast window: Xvfb + tauri-driver (WebKitWebDriver) + node --test.
#
# Builds nothing. Build first, from the repository root:
#   (cd ui && npm ci && npm run build) && cargo build -p shopcast
#   cargo build -p shopcast-testkit --bin wechat-gateway   (the local WeChat Pay gateway)
#   (cd tests/e2e && npm ci)
# then: bash tests/e2e/run.sh
#
# Environment:
#   CARGO_TARGET_DIR   where the debug binary is (default: <repo>/target)
#   TAURI_DRIVER       tauri-driver binary (default: from PATH, else ~/.cargo/bin/tauri-driver)
#   WEBKIT_WEBDRIVER   native driver (default: /usr/bin/WebKitWebDriver)
#   E2E_SCREEN         Xvfb screen geometry (default: 1280x860x24)
#   E2E_KEEP=1         keep the temp folder (shop data, logs) even when the tests pass
#   E2E_TESTS          which test files to run (default: every ./*.test.js), e.g. payments.test.js
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET_DIR/debug/shopcast
WECHAT_GATEWAY=$TARGET_DIR/debug/wechat-gateway
SCREENSHOT_DIR=$REPO/target/e2e-screenshots
NATIVE_DRIVER=${WEBKIT_WEBDRIVER:-/usr/bin/WebKitWebDriver}
SCREEN=${E2E_SCREEN:-1280x860x24}

die() {
  echo "e2e: $*" >&2
  exit 2
}

# ---------- Preconditions (clear messages, nothing is built here) ----------
[[ -x $BIN ]] || die "app binary not found: $BIN
  build it first: (cd ui && npm run build) && cargo build -p shopcast   (CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-<unset>})"
[[ -x $WECHAT_GATEWAY ]] || die "local WeChat Pay gateway not found: $WECHAT_GATEWAY
  build it first: cargo build -p shopcast-testkit --bin wechat-gateway"
if [[ -n ${TAURI_DRIVER:-} ]]; then
  DRIVER=$TAURI_DRIVER
elif command -v tauri-driver >/dev/null 2>&1; then
  DRIVER=$(command -v tauri-driver)
else
  DRIVER=$HOME/.cargo/bin/tauri-driver
fi
[[ -x $DRIVER ]] || die "tauri-driver not found (looked at \$TAURI_DRIVER, PATH, $HOME/.cargo/bin)
  install it: cargo install tauri-driver --locked"
[[ -x $NATIVE_DRIVER ]] || die "WebKitWebDriver not found at $NATIVE_DRIVER (Debian/Ubuntu: apt-get install webkit2gtk-driver)"
command -v Xvfb >/dev/null 2>&1 || die "Xvfb not found (apt-get install xvfb)"
command -v node >/dev/null 2>&1 || die "node not found"
[[ -d $HERE/node_modules/webdriverio ]] || die "webdriverio is not installed: (cd tests/e2e && npm ci)"

mkdir -p "$SCREENSHOT_DIR"
rm -f "$SCREENSHOT_DIR"/*.png

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shopcast-e2e.XXXXXX")
DATA_DIR=$WORK/shop
mkdir -p "$DATA_DIR" "$WORK/xdg/data" "$WORK/xdg/cache" "$WORK/xdg/config" "$WORK/xdg/runtime"
chmod 700 "$WORK/xdg/runtime"

XVFB_PID=
DRIVER_PID=
STATUS=1
cleanup() {
  # Runs under `set -e` on exit: nothing here may fail, or it would replace the exit status.
  # Driver first (it ends WebKitWebDriver), then the X server.
  local pid
  for pid in $DRIVER_PID $XVFB_PID; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  # An app left behind by an aborted run: only processes started with our unique data dir.
  for pid in $(grep -lsF -- "$DATA_DIR" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 || true); do
    [[ $pid != "$$" ]] && kill "$pid" 2>/dev/null && echo "e2e: stopped leftover app process $pid" >&2 || true
  done
  wait 2>/dev/null || true
  if [[ $STATUS -ne 0 || ${E2E_KEEP:-0} == 1 ]]; then
    echo "e2e: kept $WORK (shop data, app logs in shop/logs, tauri-driver.log, xvfb.log)" >&2
  else
    # WebKit helper processes may still be flushing caches for a moment.
    rm -rf "$WORK" 2>/dev/null || { sleep 1; rm -rf "$WORK" 2>/dev/null; } || echo "e2e: could not remove $WORK" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out after ${secs}s waiting for $what"
    sleep 0.1
  done
}

# ---------- Xvfb on a display it picks itself (race-free) ----------
: >"$WORK/display"
Xvfb -displayfd 3 -screen 0 "$SCREEN" -nolisten tcp -noreset 3>"$WORK/display" >"$WORK/xvfb.log" 2>&1 &
XVFB_PID=$!
display_ready() {
  kill -0 "$XVFB_PID" 2>/dev/null || die "Xvfb exited: $(tail -5 "$WORK/xvfb.log")"
  [[ -s $WORK/display ]]
}
wait_for 15 "Xvfb" display_ready
export DISPLAY=:$(tr -dc '0-9' <"$WORK/display")

# ---------- tauri-driver + WebKitWebDriver on free local ports ----------
PORT=$(free_port)
NATIVE_PORT=$(free_port)
while [[ $NATIVE_PORT == "$PORT" ]]; do NATIVE_PORT=$(free_port); done

(
  # The app (started by WebKitWebDriver) inherits this environment: keep it away from
  # the real user's folders and from any Wayland session of the caller.
  unset WAYLAND_DISPLAY
  export GDK_BACKEND=x11
  export XDG_DATA_HOME=$WORK/xdg/data XDG_CACHE_HOME=$WORK/xdg/cache XDG_CONFIG_HOME=$WORK/xdg/config
  export XDG_RUNTIME_DIR=$WORK/xdg/runtime
  # Decoy: the tests pass --data-dir and check the app used it, not this.
  export SHOPCAST_DATA_DIR=$WORK/env-data-dir-must-stay-unused
  export LANG=${E2E_LANG:-C.UTF-8}
  # Lets the tests answer the file dialogs (WebDriver cannot reach a GTK dialog): the app
  # grants the paths they queue only when started with this (src/commands/dialogs.rs).
  export SHOPCAST_E2E_DIALOGS=1
  exec "$DRIVER" --port "$PORT" --native-port "$NATIVE_PORT" --native-host 127.0.0.1 --native-driver "$NATIVE_DRIVER"
) >"$WORK/tauri-driver.log" 2>&1 &
DRIVER_PID=$!
driver_ready() {
  kill -0 "$DRIVER_PID" 2>/dev/null || die "tauri-driver exited: $(tail -20 "$WORK/tauri-driver.log")"
  node -e "fetch('http://127.0.0.1:$PORT/status').then(r=>r.json()).then(j=>process.exit(j.value&&j.value.ready?0:1),()=>process.exit(1))" 2>/dev/null
}
wait_for 20 "tauri-driver on 127.0.0.1:$PORT" driver_ready

# ---------- Tests ----------
echo "e2e: binary $BIN ($(date -r "$BIN" '+%F %T')), display $DISPLAY, tauri-driver :$PORT, data $DATA_DIR"
export E2E_DRIVER_PORT=$PORT
export E2E_APP_BINARY=$BIN
export E2E_DATA_DIR=$DATA_DIR
export E2E_DECOY_DATA_DIR=$WORK/env-data-dir-must-stay-unused
export E2E_SCREENSHOT_DIR=$SCREENSHOT_DIR
export E2E_WECHAT_GATEWAY=$WECHAT_GATEWAY
cd "$HERE"
set +e
# shellcheck disable=SC2086 # a list of files
node --test --test-reporter=tap --test-concurrency=1 ${E2E_TESTS:-./*.test.js}
STATUS=$?
set -e
echo "e2e: screenshots in $SCREENSHOT_DIR: $(cd "$SCREENSHOT_DIR" && ls *.png 2>/dev/null | tr '\n' ' ')"
exit $STATUS
