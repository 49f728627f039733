#!/usr/bin/env bash
# Startup benchmark of the release app: cold start (new process) to first paint, and the
# memory of the app once idle, on a shop with 100,000 products.
#   bash tests/bench/startup.sh [RUNS]
# Uses the shop left by `SHOPCAST_BENCH_DIR=… cargo bench -p shopcast-core --bench catalog`
# (generated here if missing). Needs Xvfb (scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shopcast-target}"
shop="${SHOPCAST_BENCH_DIR:-$HOME/.cache/shopcast-bench-100k}"

(cd ui && npm run build --silent)
cargo build --release -p shopcast --quiet
if [ ! -f "$shop/shopcast.sqlite" ]; then
  SHOPCAST_BENCH_DIR="$shop" cargo bench -p shopcast-core --bench catalog
fi
app="$CARGO_TARGET_DIR/release/shopcast"
products=$("$app" --data-dir "$shop" products list --json | grep -c '"id"' || true)
echo "shop: $shop ($products products), binary $(du -h "$app" | cut -f1)"

xvfb-run -a -s "-screen 0 1280x860x24" bash -c '
  app=$1; shop=$2; runs=$3
  for i in $(seq "$runs"); do
    out=$(mktemp)
    SHOPCAST_REPORT_STARTUP=1 "$app" --data-dir "$shop" >"$out" 2>/dev/null &
    pid=$!
    for _ in $(seq 300); do grep -q first_paint_ms "$out" && break; sleep 0.05; done
    paint=$(grep -o "first_paint_ms=[0-9]*" "$out" | cut -d= -f2)
    sleep 5
    own=$(( $(awk "/VmRSS/ {print \$2}" /proc/$pid/status) / 1024 ))
    # The app and every process it started (WebKit web and network processes).
    tree=$pid; frontier=$pid
    while [ -n "$frontier" ]; do
      next=""
      for p in $frontier; do next="$next $(pgrep -P "$p" || true)"; done
      frontier=$(echo $next); tree="$tree $frontier"
    done
    all=0
    for p in $tree; do
      # PSS: shared library pages are split between the processes, not counted twice.
      all=$(( all + $(awk "/^Pss:/ {print \$2}" /proc/$p/smaps_rollup 2>/dev/null || echo 0) / 1024 ))
    done
    echo "run $i: first paint ${paint:-?} ms; idle after 5 s: app RSS ${own} MB, app + WebKit processes ${all} MB PSS ($(echo $tree | wc -w) processes)"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -f "$out"
  done
' _ "$app" "$shop" "$runs"
