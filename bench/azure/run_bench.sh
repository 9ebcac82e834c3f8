#!/usr/bin/env bash
# Throughput of `billdrop convert` with the azure plugin on generated 1,000,000-row exports:
#   ninja -C <build> billdrop billdrop_plugin_azure billdrop_azure_generate billdrop_csv_floor \
#     aws_plugin_read_only
#   bench/azure/run_bench.sh <build dir> [rows]
# Data goes to a temporary folder under /tmp and is removed afterwards. For each case (actual
# alone as CSV, as gzip, actual + amortized joined) it measures three times (medians;
# BILLDROP_BENCH_RUNS to change): the floor (one pass of the SDK's CSV reader over each input
# file, no mapping: billdrop_csv_floor), the plugin alone (months() and read() into a discarding
# sink: aws_plugin_read_only) and `billdrop convert`, and prints rows/s, peak RSS, the ratios to
# the floor and whether the month totals equal the generator's exact sums.
set -euo pipefail
build=${1:?usage: run_bench.sh <build dir> [rows]}
rows=${2:-1000000}
work=$(mktemp -d /tmp/billdrop_azure_bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/../csv_floor/measure.sh"

"$build/bin/billdrop_azure_generate" "$work/actual.csv" "$rows" actual
"$build/bin/billdrop_azure_generate" "$work/amortized.csv" "$rows" amortized
gzip -k -1 "$work/actual.csv"
ls -l "$work" | grep -E 'csv'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# The exact sum of the actual export's Cost column (Python's Decimal): every convert's total.
expected=$(python3 -c '
import csv, sys
from decimal import Decimal
with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:
    print(sum((Decimal(r["Cost"]) for r in csv.DictReader(f)), Decimal(0)))' "$work/actual.csv")

plugins="$build/lib/billdrop/plugins"
run() { # <label> <plugin toml> <plugin json> <input files...>
  local label=$1 toml=$2 json=$3
  shift 3
  echo "== $label"
  local floor_wall=0 floor_cpu=0
  for input in "$@"; do
    measure "floor $(basename "$input")" "$build/bin/billdrop_csv_floor" "$input"
    floor_wall=$(awk -v a="$floor_wall" -v b="$m_wall" 'BEGIN { print a + b }')
    floor_cpu=$(awk -v a="$floor_cpu" -v b="$m_cpu" 'BEGIN { print a + b }')
  done
  local plugin_cpu=0
  if [ -x "$build/bin/aws_plugin_read_only" ]; then
    measure "plugin alone" "$build/bin/aws_plugin_read_only" "$plugins/billdrop_azure.so" "$json"
    plugin_cpu=$m_cpu
  fi
  printf '%s\n' "$toml" > "$work/plugin.toml"
  measure "convert" "$build/bin/billdrop" --no-progress --log-level off --plugin-dir "$plugins" \
    convert --plugin azure --plugin-config "$work/plugin.toml" --out "$work/out" --format json
  local costs check
  costs=$(grep -o '"cost":"[-0-9.]*"' "$work/stdout" | cut -d'"' -f4 | python3 -c '
import sys
from decimal import Decimal
print(sum(map(Decimal, sys.stdin.read().split()), Decimal(0)))')
  [ "$costs" = "$expected" ] && check="total $costs = Python's sum" || check="TOTAL $costs != $expected"
  awk -v n="$rows" -v w="$m_wall" -v c="$m_cpu" -v r="$m_rss_mb" 'BEGIN {
    printf "convert: %.0f input rows/s (wall), %.0f rows per CPU-second, peak RSS %.1f MB\n", n / w, n / c, r }'
  echo "convert / floor: wall $(ratio "$m_wall" "$floor_wall"), cpu $(ratio "$m_cpu" "$floor_cpu");" \
    "host share of convert's CPU: $(awk -v c="$m_cpu" -v p="$plugin_cpu" 'BEGIN { printf "%.2f s", c - p }');" \
    "$check"
}

run "actual csv" "actual = \"$work/actual.csv\"" "{\"actual\": \"$work/actual.csv\"}" \
  "$work/actual.csv"
run "actual csv.gz" "actual = \"$work/actual.csv.gz\"" "{\"actual\": \"$work/actual.csv.gz\"}" \
  "$work/actual.csv.gz"
run "actual+amortized" "actual = \"$work/actual.csv\"
amortized = \"$work/amortized.csv\"" \
  "{\"actual\": \"$work/actual.csv\", \"amortized\": \"$work/amortized.csv\"}" \
  "$work/actual.csv" "$work/amortized.csv"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
