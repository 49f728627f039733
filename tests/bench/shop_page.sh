#!/usr/bin/env bash
# The shop page against a static ceiling, in one run on this machine: `shopcast serve`
# (release) rendering the product page and the index, and Debian's nginx serving the same
# HTML saved to disk, both hit by wrk (64 connections, 2 threads, --latency). Goal: the shop
# page at ≥ 0.5× nginx's throughput with p99 < 20 ms. Then N buyers press Buy at once
# (tests/bench/shop_page_buys.mjs, each from its own loopback address): every one gets its
# own checkout, and the shop file holds exactly N orders, none twice.
#
#   bash tests/bench/shop_page.sh [PRODUCTS] [BUYERS]      (defaults 1000 and 200)
#
# Environment: BENCH_SECONDS (wrk duration, default 10), BENCH_KEEP=1 keeps the temp folder,
# BENCH_BIN=path runs that binary instead of building release (to try the script).
# Not part of CI. Needs nginx-light, wrk, sqlite3, ImageMagick (scripts/setup.sh) and
# tests/shoppage's npm packages (parse5).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
products=${1:-1000}
buyers=${2:-200}
seconds=${BENCH_SECONDS:-10}
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}

for tool in nginx wrk sqlite3 convert curl node; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/setup.sh installs it)" >&2; exit 2; }
done
[ -d tests/shoppage/node_modules/parse5 ] || { echo "bench: (cd tests/shoppage && npm ci) first" >&2; exit 2; }

if [ -n "${BENCH_BIN:-}" ]; then
  app=$BENCH_BIN # e.g. the debug binary, to try the script itself; the figures need release
else
  [ -f ui/dist/index.html ] || (cd ui && npm run build --silent)
  cargo build --release -p shopcast --locked --quiet
  app=$TARGET_DIR/release/shopcast
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/shopcast-bench-shoppage.XXXXXX")
serve_pid=
nginx_pid=
cleanup() {
  for pid in $serve_pid $nginx_pid; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# ---------- A shop with N products, photos on the first page of the index ----------
shop=$work/shop
mkdir -p "$shop" "$work/photos"
sc() { SHOPCAST_SECRETS=file "$app" --data-dir "$shop" "$@"; }
sc settings set shop.name "青花瓷小店 Bench" >/dev/null
sc settings set shop.locale zh-CN >/dev/null
sc settings set shop.currency CNY >/dev/null
{
  echo "sku,name,description,price,currency,stock,tags"
  for i in $(seq 1 "$products"); do
    # The benchmarked product (SKU-1) keeps no stock count, so every Buy can succeed.
    if [ "$i" = 1 ]; then stock=""; else stock=50; fi
    printf 'SKU-%d,青花瓷杯 %d 号,"景德镇手绘青花, 第 %d 批",%d.%02d,CNY,%s,茶具;瓷\n' "$i" "$i" "$i" $((20 + i % 300)) $((i % 100)) "$stock"
  done
} >"$work/catalog.csv"
sc products import "$work/catalog.csv"
for i in $(seq 1 24); do
  convert -size 1200x900 "gradient:#$(printf '%06x' $((i * 524287 % 16777215)))-#f4f4f4" "$work/photos/$i.jpg"
  sc products photo --sku "SKU-$i" "$work/photos/$i.jpg" >/dev/null
done

# ---------- shopcast serve ----------
port=$(free_port)
base=http://127.0.0.1:$port
# --trust-proxy: as behind the README's reverse proxy, where every buyer's connection comes
# from 127.0.0.1. Without it, 64 connections from one address would measure the per-client
# connection cap (32, the oldest closed for a newcomer), not the pages.
SHOPCAST_SECRETS=file "$app" --data-dir "$shop" serve --trust-proxy --listen "127.0.0.1:$port" --public-url "$base" >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 300); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
curl -fs "$base/healthz" >/dev/null || { echo "bench: shopcast serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }

# ---------- The same HTML on disk, served by nginx (a temp prefix, nothing root-owned) ----------
www=$work/www
mkdir -p "$www/p" "$work/nginx/logs"
curl -fs "$base/p/SKU-1" -o "$www/p/SKU-1"
curl -fs "$base/" -o "$www/index.html"
chmod -R a+rX "$work"
nginx_port=$(free_port)
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  types { text/html html; }
  default_type text/html;
  server {
    listen 127.0.0.1:$nginx_port;
    root $www;
    index index.html;
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>>"$work/nginx/logs/error.log" &
nginx_pid=$!
static=http://127.0.0.1:$nginx_port
for _ in $(seq 100); do curl -fs "$static/" >/dev/null && break; sleep 0.1; done
cmp -s <(curl -fs "$static/p/SKU-1") "$www/p/SKU-1" || { echo "bench: nginx does not serve the saved page" >&2; cat "$work/nginx/logs/error.log" >&2; exit 1; }

echo "bench: $products products, binary $app ($(du -h "$app" | cut -f1)), product page $(wc -c <"$www/p/SKU-1") B, index $(wc -c <"$www/index.html") B; wrk ${seconds}s, 64 connections, 2 threads; $(nproc) cores shared by wrk and the server"

# wrk → "requests/s p50_ms p99_ms non2xx socket_errors"
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}'; }
run_wrk() {
  local url=$1 out
  out=$(wrk -t2 -c64 -d"${seconds}s" --latency "$url")
  echo "$out" >>"$work/wrk.log"
  local rps p50 p99 bad errs
  rps=$(echo "$out" | awk '/^Requests\/sec:/ {printf "%.0f", $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}' | to_ms)
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}' | to_ms)
  bad=$(echo "$out" | awk '/Non-2xx or 3xx responses:/ {print $NF}')
  errs=$(echo "$out" | awk '/Socket errors:/ {gsub(/,/,""); print $4+$6+$8+$10}')
  echo "$rps $p50 $p99 ${bad:-0} ${errs:-0}"
}

# Warm both (page cache, photo thumbnails, SQLite pages), then measure.
wrk -t2 -c16 -d2s "$base/p/SKU-1" >/dev/null
wrk -t2 -c16 -d2s "$base/" >/dev/null
read -r p_rps p_50 p_99 p_bad p_err < <(run_wrk "$base/p/SKU-1")
read -r n_rps n_50 n_99 n_bad n_err < <(run_wrk "$static/p/SKU-1")
read -r i_rps i_50 i_99 i_bad i_err < <(run_wrk "$base/")
read -r s_rps s_50 s_99 s_bad s_err < <(run_wrk "$static/")

# ---------- N buyers at once ----------
before=$(sqlite3 "$shop/shopcast.sqlite" "SELECT COUNT(*) FROM orders")
buys=$(node tests/bench/shop_page_buys.mjs "$base" SKU-1 "$buyers")
orders=$(sqlite3 "$shop/shopcast.sqlite" "SELECT COUNT(*) - $before, COUNT(DISTINCT ref) - $before, SUM(channel = 'link') FROM orders")
lines=$(sqlite3 "$shop/shopcast.sqlite" "SELECT COUNT(*), COALESCE(SUM(quantity), 0) FROM order_lines")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
verdict() { awk -v r="$1" -v p="$2" -v bad="$3" -v e="$4" 'BEGIN { print ((r >= 0.5 && p < 20 && bad == 0 && e == 0) ? "ok" : "MISSED") }'; }
p_ratio=$(ratio "$p_rps" "$n_rps")
i_ratio=$(ratio "$i_rps" "$s_rps")

echo
printf '%-28s %10s %9s %9s %7s %7s\n' "target" "req/s" "p50 ms" "p99 ms" "non-2xx" "errors"
printf '%-28s %10s %9s %9s %7s %7s\n' "shopcast /p/SKU-1" "$p_rps" "$p_50" "$p_99" "$p_bad" "$p_err"
printf '%-28s %10s %9s %9s %7s %7s\n' "nginx same HTML /p/SKU-1" "$n_rps" "$n_50" "$n_99" "$n_bad" "$n_err"
printf '%-28s %10s %9s %9s %7s %7s\n' "shopcast / (index)" "$i_rps" "$i_50" "$i_99" "$i_bad" "$i_err"
printf '%-28s %10s %9s %9s %7s %7s\n' "nginx same HTML /" "$s_rps" "$s_50" "$s_99" "$s_bad" "$s_err"
echo
echo "product page: $p_ratio× nginx, p99 $p_99 ms — $(verdict "$p_ratio" "$p_99" "$p_bad" "$p_err") (goal ≥ 0.5×, p99 < 20 ms)"
echo "index:        $i_ratio× nginx, p99 $i_99 ms — $(verdict "$i_ratio" "$i_99" "$i_bad" "$i_err") (goal ≥ 0.5×, p99 < 20 ms)"
echo "buys:         $buys"
IFS='|' read -r made distinct linked <<<"$orders"
IFS='|' read -r line_count quantity <<<"$lines"
echo "GETs:         $before orders after all the page loads above (must be 0)"
echo "orders:       $made new in the shop file, $distinct distinct refs, $linked on channel link; $line_count order lines, quantity $quantity"
status=ok
[ "$before" = 0 ] && [ "$made" = "$buyers" ] && [ "$distinct" = "$buyers" ] || status=MISSED
echo "$buyers concurrent Buys → $made orders, no duplicate: $status"
