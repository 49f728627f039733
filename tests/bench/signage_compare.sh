#!/usr/bin/env bash
# Shopcast's signage renderer against reportlab + segno on the same 1,000-label job:
# time, file size, and how many of the 1,000 QR codes real decoders read back from every page
# rendered at 200 dpi (zxing-cpp, and zbarimg, which misses some codes on a full sheet of 24
# that it reads fine alone).   bash tests/bench/signage_compare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shopcast-target}"
venv="${SHOPCAST_VENV:-$HOME/.cache/shopcast-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check reportlab==5.1.0 segno==1.6.6 zxing-cpp==3.1.1 pillow
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

SHOPCAST_BENCH_PDF="$work/shopcast.pdf" cargo bench -q -p shopcast-print --bench signage
"$venv/bin/python" tests/bench/signage_reportlab.py "$work/reportlab.pdf"

for name in shopcast reportlab; do
  pdf="$work/$name.pdf"
  mkdir -p "$work/$name-pages"
  pdftoppm -r 200 -png "$pdf" "$work/$name-pages/p"
  zbar=$(for page in "$work/$name-pages"/*.png; do zbarimg --raw -q "$page" 2>/dev/null || true; done | sort -u | wc -l)
  zxing=$("$venv/bin/python" -c '
import glob, sys, zxingcpp
from PIL import Image
codes = {b.text for f in glob.glob(sys.argv[1] + "/*.png") for b in zxingcpp.read_barcodes(Image.open(f))}
print(len(codes))' "$work/$name-pages")
  echo "$name: $(du -k "$pdf" | cut -f1) KiB; distinct QR codes decoded of 1000: zxing-cpp $zxing, zbarimg $zbar"
done
