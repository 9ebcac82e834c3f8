#!/bin/sh
# The focus plugin's benchmark: generates a 1,000,000-row FOCUS 1.2 file under /tmp (plain and
# gzip) and measures `billdrop convert` on each: wall time, rows/s and peak RSS.
#
#   ninja -C <build> billdrop billdrop_plugin_focus billdrop_focus_bench_generate
#   bench/focus/run_bench.sh <build> [rows]
set -eu
build=${1:?usage: run_bench.sh <build dir> [rows]}
rows=${2:-1000000}
work=/tmp/billdrop_focus_bench_$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

"$build/bin/billdrop_focus_bench_generate" "$work/focus.csv" "$rows"
gzip -c "$work/focus.csv" > "$work/focus.csv.gz"
ls -l "$work/focus.csv" "$work/focus.csv.gz" | awk '{print $5, $9}'

for file in focus.csv focus.csv.gz; do
  printf 'path = "%s"\n' "$work/$file" > "$work/focus.toml"
  rm -rf "$work/out"
  /usr/bin/time -f '%e %M' -o "$work/time.txt" \
    "$build/bin/billdrop" --no-progress --plugin-dir "$build/lib/billdrop/plugins" \
    convert --plugin focus --plugin-config "$work/focus.toml" --out "$work/out" --format json \
    > "$work/summary.json" || true
  read -r seconds kilobytes < "$work/time.txt"
  cost=$(sed -n 's/.*"month":"2024-09","rows":\([0-9]*\),"invalid_rows":\([0-9]*\),"cost":"\([-0-9.]*\)".*/rows=\1 invalid=\2 cost=\3/p' "$work/summary.json")
  awk -v f="$file" -v s="$seconds" -v k="$kilobytes" -v n="$rows" -v c="$cost" 'BEGIN {
    printf "%-13s %8.2f s %10.0f rows/s  peak RSS %6.1f MB  %s\n", f, s, n / s, k / 1024, c }'
done
