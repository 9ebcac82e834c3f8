#!/usr/bin/env bash
# The aws plugin's benchmark: a generated 1,000,000-line, 135-column legacy CUR (.csv.gz, in a
# report tree with manifests, under /tmp), converted by `billdrop convert`, against the floor
# (inflate + count lines with the same inflater) and a plain Python adaptor. Builds nothing:
#
#   bench/aws/run_bench.sh <build dir> [rows=1000000] [memory-mb=64]
set -euo pipefail
build=${1:?usage: run_bench.sh <build dir> [rows] [memory-mb]}
rows=${2:-1000000}
memory_mb=${3:-64}
here=$(cd "$(dirname "$0")" && pwd)
work=/tmp/billdrop-aws-bench-$$
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

"$build/bin/aws_cur_generator" "$work/cur" "$rows" | tee "$work/generator.txt"
sync
file=$(awk '/^file /{print $2}' "$work/generator.txt")
expected=$(awk '/^unblended_total /{print $2}' "$work/generator.txt")
echo "compressed bytes: $(stat -c %s "$file")"
printf 'path = "%s"\n' "$work/cur" > "$work/aws.toml"

echo "== floors: inflate + count lines (ISA-L's igzip, billdrop's default; zlib's, the fallback)"
"$build/bin/aws_inflate_floor" "$file" | tee "$work/floor.txt"
floor=$(awk '/^seconds /{print $2}' "$work/floor.txt")
zlib_floor=$(awk '/^zlib_seconds /{print $2}' "$work/floor.txt")

echo "== plugin alone (rows into a discarding sink)"
"$build/bin/aws_plugin_read_only" "$build/lib/billdrop/plugins/billdrop_aws.so" \
  "{\"path\":\"$work/cur\",\"format\":\"auto\"}" | tee "$work/plugin.txt"
plugin=$(awk '/^seconds /{print $2}' "$work/plugin.txt")

# Three runs, the median reported: this VM's figures vary by about 10% from run to run. Each run
# starts with the page cache flushed of dirty data (the generator's file, the previous run's
# snapshot), so a write-back left over from before does not compete with the one measured.
echo "== billdrop convert --memory-mb $memory_mb (3 runs)"
: > "$work/times.txt"
for run in 1 2 3; do
  rm -rf "$work/out"
  sync
  /usr/bin/time -f '%e %M' -o "$work/time.txt" \
    "$build/bin/billdrop" --no-progress --plugin-dir "$build/lib/billdrop/plugins" convert \
    --plugin aws --plugin-config "$work/aws.toml" --out "$work/out" --format json \
    --memory-mb "$memory_mb" > "$work/convert.json"
  cat "$work/time.txt" | tee -a "$work/times.txt"
done
read -r wall rss_kb < <(sort -n "$work/times.txt" | sed -n 2p)
cost=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["connections"][0]["months"]; print(m[0]["cost"])' \
  "$work/convert.json")
rm -rf "$work/out"
sync

echo "== python adaptor (csv.DictReader + Decimal + json)"
/usr/bin/time -f '%e %M' -o "$work/pytime.txt" \
  python3 "$here/python_adaptor.py" "$file" "$work/python.ndjson" | tee "$work/python.txt"
read -r py_wall py_rss_kb < "$work/pytime.txt"

python3 - "$rows" "$floor" "$plugin" "$wall" "$rss_kb" "$py_wall" "$cost" "$expected" \
  "${zlib_floor:-$floor}" <<'PY'
import sys
from decimal import Decimal
rows, floor, plugin, wall, rss, py, cost, expected, zlib_floor = sys.argv[1:]
rows, floor, plugin, wall, py = int(rows), float(floor), float(plugin), float(wall), float(py)
zlib_floor = float(zlib_floor)
print(f"\nrows {rows}")
print(f"floor (inflate + count lines)  {floor:8.2f} s  (zlib's inflate: {zlib_floor:.2f} s, "
      f"{zlib_floor / floor:.2f}x)")
print(f"plugin alone                   {plugin:8.2f} s  ({plugin / floor:.2f}x floor)")
print(f"billdrop convert (median of 3) {wall:8.2f} s  {rows / wall:,.0f} rows/s  "
      f"peak RSS {int(rss) / 1024:.0f} MB  ({wall / floor:.2f}x floor, "
      f"{wall / zlib_floor:.2f}x zlib's)")
print(f"python adaptor                 {py:8.2f} s  ({py / wall:.1f}x slower than convert)")
print(f"month cost {cost}, generator's unblended total {expected}: "
      + ("equal" if Decimal(cost) == Decimal(expected) else "DIFFERENT"))
PY
