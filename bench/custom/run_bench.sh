#!/bin/sh
# The custom plugin's benchmark on a real-shaped vendor export: the bundled acme-gpu example
# (plugins/custom/examples/acme-gpu: 23 columns, quoted descriptions, four tag columns, three
# months) with its data rows repeated, in order, to `rows` lines (default 1,000,000; about
# 300 MB), converted with the example's own configuration. In one run, medians of 3
# (BILLDROP_BENCH_RUNS to change), wall and CPU (user + sys):
#   floor    one pass of the SDK's CSV reader over the file, no mapping (billdrop_csv_floor);
#   plugin   the plugin alone into a discarding sink, read as convert reads it: in one pass
#            (read_all) for a single file (aws_plugin_read_only ... all);
#   convert  `billdrop convert` to month snapshots under /tmp;
# and checks each month's total against a Python Decimal sum of the Cost column by the month of
# Usage Hour (independent of billdrop).
#
#   ninja -C <build> billdrop billdrop_plugin_custom billdrop_csv_floor aws_plugin_read_only
#   bench/custom/run_bench.sh <build> [rows]
set -eu
build=$(cd "${1:?usage: run_bench.sh <build dir> [rows]}" && pwd)
rows=${2:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
example="$here/../../plugins/custom/examples/acme-gpu"
work=/tmp/billdrop_custom_bench_$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
. "$here/../csv_floor/measure.sh"

# The input, the configuration (the example's, on the big file) and the expected totals.
python3 - "$example" "$work" "$rows" > "$work/expected.txt" <<'PY'
import csv, io, json, sys, tomllib
from datetime import datetime
from decimal import Decimal
example, work, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(f"{example}/acme_usage.csv", newline="") as f:
    header, *data = f.read().splitlines(keepends=True)
with open(f"{work}/usage.csv", "w", newline="") as out:
    out.write(header)
    for i in range(rows):
        out.write(data[i % len(data)])
totals = {}
with open(f"{work}/usage.csv", newline="") as f:
    for row in csv.DictReader(f):
        month = datetime.strptime(row["Usage Hour"], "%m/%d/%Y %H:%M").strftime("%Y-%m")
        totals[month] = totals.get(month, Decimal(0)) + Decimal(row["Cost"])
for month in sorted(totals):
    print(month, totals[month])
with open(f"{example}/billdrop.toml", "rb") as f:
    config = tomllib.load(f)["connections"]["acme-gpu"]["config"]
config["path"] = f"{work}/usage.csv"
with open(f"{work}/plugin.json", "w") as f:
    json.dump(config, f)
PY
sed "s|^path = \"acme_usage.csv\"|path = \"$work/usage.csv\"|" "$example/billdrop.toml" \
  > "$work/billdrop.toml"
echo "input: $(stat -c %s "$work/usage.csv") bytes, $rows rows, $(head -n 1 "$work/usage.csv" |
  tr ',' '\n' | wc -l) columns"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

plugins="$build/lib/billdrop/plugins"
measure "floor (read + split)" "$build/bin/billdrop_csv_floor" "$work/usage.csv"
floor_wall=$m_wall floor_cpu=$m_cpu
measure "plugin alone" "$build/bin/aws_plugin_read_only" "$plugins/billdrop_custom.so" \
  "$(cat "$work/plugin.json")" all
plugin_cpu=$m_cpu
measure "convert" "$build/bin/billdrop" --no-progress --log-level off --plugin-dir "$plugins" \
  convert --config "$work/billdrop.toml" --out "$work/out" --format json
awk -v n="$rows" -v w="$m_wall" -v c="$m_cpu" 'BEGIN {
  printf "convert: %.0f rows/s (wall), %.0f rows per CPU-second\n", n / w, n / c }'
echo "convert / floor: wall $(ratio "$m_wall" "$floor_wall"), cpu $(ratio "$m_cpu" "$floor_cpu");" \
  "host share of convert's CPU: $(awk -v c="$m_cpu" -v p="$plugin_cpu" 'BEGIN { printf "%.2f s", c - p }')"
grep -o '"month":"[0-9-]*","rows":[0-9]*,"invalid_rows":[0-9]*,"cost":"[-0-9.]*"' "$work/stdout" |
  sed 's/"month":"\([0-9-]*\)".*"cost":"\([-0-9.]*\)"/\1 \2/' | sort > "$work/converted.txt"
python3 - "$work/expected.txt" "$work/converted.txt" <<'PY'
import sys
from decimal import Decimal
read = lambda path: {m: Decimal(c) for m, c in (line.split() for line in open(path))}
expected, converted = read(sys.argv[1]), read(sys.argv[2])
for month in sorted(expected):
    got = converted.get(month)
    print(f"{month}: total {got} {'=' if got == expected[month] else '!='} Python's {expected[month]}")
sys.exit(0 if expected == converted else 1)
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
