#!/usr/bin/env bash
# Throughput of `billdrop convert` with the azure plugin on generated 1,000,000-row exports:
#   bench/azure/run_bench.sh <build dir> [rows]
# Data goes to a temporary folder under /tmp and is removed afterwards. Prints rows/s and peak
# RSS (GNU time) for: actual alone (CSV), actual alone (gzip), actual + amortized joined.
set -euo pipefail
build=${1:?usage: run_bench.sh <build dir> [rows]}
rows=${2:-1000000}
work=$(mktemp -d /tmp/billdrop_azure_bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$build/bin/billdrop_azure_generate" "$work/actual.csv" "$rows" actual
"$build/bin/billdrop_azure_generate" "$work/amortized.csv" "$rows" amortized
gzip -k -1 "$work/actual.csv"
ls -l "$work"

run() { # <label> <plugin toml>
  printf '%s\n' "$2" > "$work/plugin.toml"
  rm -rf "$work/out"
  /usr/bin/time -f '%e %M' -o "$work/time" \
    "$build/bin/billdrop" --no-progress --log-level off --plugin-dir "$build/lib/billdrop/plugins" \
    convert --plugin azure --plugin-config "$work/plugin.toml" --out "$work/out" --format json \
    > "$work/summary.json"
  read -r seconds rss_kb < "$work/time"
  local out_rows
  out_rows=$(grep -o '"rows":[0-9]*' "$work/summary.json" | head -n 1 | cut -d: -f2)
  echo "$1: $out_rows rows out, ${seconds} s, $(awk -v r="$rows" -v s="$seconds" \
    'BEGIN { printf "%.0f", r / s }') input rows/s, peak RSS $((rss_kb / 1024)) MB"
}

run "actual csv" "actual = \"$work/actual.csv\""
run "actual csv.gz" "actual = \"$work/actual.csv.gz\""
run "actual+amortized" "actual = \"$work/actual.csv\"
amortized = \"$work/amortized.csv\""
