#!/bin/sh
# The focus plugin's benchmark: generates a 1,000,000-row FOCUS 1.2 file under /tmp (plain and
# gzip) and measures, on each, three times (medians; BILLDROP_BENCH_RUNS to change):
#   floor    one pass of the SDK's CSV reader over the file, no mapping (billdrop_csv_floor);
#   plugin   the plugin alone, months() and read() into a discarding sink (aws_plugin_read_only);
#   convert  `billdrop convert` to month snapshots under /tmp;
# and prints convert's rows/s (wall and per CPU-second), peak RSS, the ratios to the floor, and
# whether the month's total equals the generator's exact sum.
#
#   ninja -C <build> billdrop billdrop_plugin_focus billdrop_focus_bench_generate \
#     billdrop_csv_floor aws_plugin_read_only
#   bench/focus/run_bench.sh <build> [rows]
set -eu
build=${1:?usage: run_bench.sh <build dir> [rows]}
rows=${2:-1000000}
work=/tmp/billdrop_focus_bench_$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/../csv_floor/measure.sh"

expected=$("$build/bin/billdrop_focus_bench_generate" "$work/focus.csv" "$rows" |
  sed -n 's/.*BilledCost total \([-0-9.]*\).*/\1/p')
gzip -c "$work/focus.csv" > "$work/focus.csv.gz"
ls -l "$work/focus.csv" "$work/focus.csv.gz" | awk '{print $5, $9}'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

plugins="$build/lib/billdrop/plugins"
for file in focus.csv focus.csv.gz; do
  echo "== $file"
  measure "floor (read + split)" "$build/bin/billdrop_csv_floor" "$work/$file"
  floor_wall=$m_wall floor_cpu=$m_cpu
  if [ -x "$build/bin/aws_plugin_read_only" ]; then
    measure "plugin alone" "$build/bin/aws_plugin_read_only" "$plugins/billdrop_focus.so" \
      "{\"path\": \"$work/$file\"}"
    plugin_cpu=$m_cpu
  fi
  printf 'path = "%s"\n' "$work/$file" > "$work/focus.toml"
  measure "convert" "$build/bin/billdrop" --no-progress --log-level off --plugin-dir "$plugins" \
    convert --plugin focus --plugin-config "$work/focus.toml" --out "$work/out" --format json
  cost=$(sed -n 's/.*"month":"2024-09","rows":\([0-9]*\),"invalid_rows":\([0-9]*\),"cost":"\([-0-9.]*\)".*/\3/p' "$work/stdout")
  [ "$cost" = "$expected" ] && check="total $cost = generator's" || check="TOTAL $cost != $expected"
  awk -v n="$rows" -v w="$m_wall" -v c="$m_cpu" 'BEGIN {
    printf "convert: %.0f rows/s (wall), %.0f rows per CPU-second\n", n / w, n / c }'
  echo "convert / floor: wall $(ratio "$m_wall" "$floor_wall"), cpu $(ratio "$m_cpu" "$floor_cpu");" \
    "host share of convert's CPU: $(awk -v c="$m_cpu" -v p="${plugin_cpu:-0}" 'BEGIN { printf "%.2f s", c - p }'); $check"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
