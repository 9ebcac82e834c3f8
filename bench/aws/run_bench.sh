#!/usr/bin/env bash
# The aws plugin's benchmark: a 1,000,000-line legacy CUR (.csv.gz, in a report tree with
# manifests, under /tmp), converted by `billdrop convert`, against the floors (inflate + count
# lines, with ISA-L's inflater and with zlib's) and a plain Python adaptor. Builds nothing:
#
#   bench/aws/run_bench.sh <build dir> [rows=1000000] [memory-mb=64]
#
# SOURCE=generated (the default): the generator's synthetic 135-column CUR of `rows` lines.
# SOURCE=koku: the public koku sample (../shared/samples, 130 columns) repeated to 1,003,500
# lines (bench/aws/koku_cur.py; `rows` is ignored), converted as a report tree and also as the
# same file alone (`path` = the .csv.gz), whose ratio to the tree the run reports (KOKU_REPEATS
# changes the 75, for a quick check). SKIP_PYTHON=1 leaves out the Python adaptor.
set -euo pipefail
build=${1:?usage: run_bench.sh <build dir> [rows] [memory-mb]}
rows=${2:-1000000}
memory_mb=${3:-64}
here=$(cd "$(dirname "$0")" && pwd)
work=/tmp/billdrop-aws-bench-$$
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

source_kind=${SOURCE:-generated}
if [[ "$source_kind" == koku ]]; then
  python3 "$here/koku_cur.py" "$work/cur" "${KOKU_REPEATS:-75}" | tee "$work/generator.txt"
  rows=$(awk '/^rows /{print $2}' "$work/generator.txt")
  tree=$(awk '/^tree /{print $2}' "$work/generator.txt")
  single=$(awk '/^single /{print $2}' "$work/generator.txt")
else
  "$build/bin/aws_cur_generator" "$work/cur" "$rows" | tee "$work/generator.txt"
  tree="$work/cur"
  single=""
fi
sync
file=$(awk '/^file /{print $2}' "$work/generator.txt")
expected=$(awk '/^unblended_total /{print $2}' "$work/generator.txt")
echo "compressed bytes: $(stat -c %s "$file")"
printf 'path = "%s"\n' "$tree" > "$work/aws.toml"

echo "== floors: inflate + count lines (ISA-L's igzip, billdrop's default; zlib's, the fallback)"
"$build/bin/aws_inflate_floor" "$file" | tee "$work/floor.txt"
floor=$(awk '/^seconds /{print $2}' "$work/floor.txt")
zlib_floor=$(awk '/^zlib_seconds /{print $2}' "$work/floor.txt")

echo "== plugin alone (rows into a discarding sink)"
"$build/bin/aws_plugin_read_only" "$build/lib/billdrop/plugins/billdrop_aws.so" \
  "{\"path\":\"$tree\",\"format\":\"auto\"}" | tee "$work/plugin.txt"
plugin=$(awk '/^seconds /{print $2}' "$work/plugin.txt")

# Three runs each, the median reported: this VM's figures vary by about 10% from run to run. Each
# run starts with the page cache flushed of dirty data (the generator's file, the previous run's
# snapshot), so a write-back left over from before does not compete with the one measured. With
# SOURCE=koku the tree's and the single file's runs alternate (tree, file, tree, file, ...), so a
# drift in the machine's speed (it is shared) weighs on both alike and their ratio stays fair.
# convert_run NAME CONFIG: one run of `billdrop convert`; appends "wall rss_kb" to
# $work/times-NAME.txt and writes the exact sum of every month's cost to $work/cost-NAME.txt.
convert_run() {
  rm -rf "$work/out"
  sync
  /usr/bin/time -f '%e %M' -o "$work/time.txt" \
    "$build/bin/billdrop" --no-progress --plugin-dir "$build/lib/billdrop/plugins" convert \
    --plugin aws --plugin-config "$2" --out "$work/out" --format json \
    --memory-mb "$memory_mb" > "$work/convert.json"
  echo "$1: $(cat "$work/time.txt")"
  cat "$work/time.txt" >> "$work/times-$1.txt"
  python3 -c 'import json,sys; from decimal import Decimal
m=json.load(open(sys.argv[1]))["connections"][0]["months"]; print(sum(Decimal(x["cost"]) for x in m))' \
    "$work/convert.json" > "$work/cost-$1.txt"
  rm -rf "$work/out"
  sync
}
# median NAME: "wall rss_kb" of the median run.
median() { sort -n "$work/times-$1.txt" | sed -n 2p; }

single_wall=""
single_cost=""
: > "$work/times-tree.txt"
: > "$work/times-file.txt"
if [[ -n "$single" ]]; then
  printf 'path = "%s"\n' "$single" > "$work/single.toml"
  echo "== billdrop convert --memory-mb $memory_mb: the report tree and the same data as one file"
  echo "   (path = the .csv.gz), 3 runs each, alternating"
  for run in 1 2 3; do
    convert_run tree "$work/aws.toml"
    convert_run file "$work/single.toml"
  done
  read -r single_wall _ < <(median file)
  single_cost=$(cat "$work/cost-file.txt")
else
  echo "== billdrop convert --memory-mb $memory_mb (3 runs)"
  for run in 1 2 3; do
    convert_run tree "$work/aws.toml"
  done
fi
read -r wall rss_kb < <(median tree)
cost=$(cat "$work/cost-tree.txt")

# SKIP_PYTHON=1 leaves the Python adaptor out (a minute or more), for runs about the convert only.
py_wall=0
if [[ "${SKIP_PYTHON:-0}" != 1 ]]; then
  echo "== python adaptor (csv.DictReader + Decimal + json)"
  /usr/bin/time -f '%e %M' -o "$work/pytime.txt" \
    python3 "$here/python_adaptor.py" "$file" "$work/python.ndjson" | tee "$work/python.txt"
  read -r py_wall py_rss_kb < "$work/pytime.txt"
fi

python3 - "$rows" "$floor" "$plugin" "$wall" "$rss_kb" "$py_wall" "$cost" "$expected" \
  "${zlib_floor:-$floor}" "$single_wall" "$single_cost" <<'PY'
import sys
from decimal import Decimal
rows, floor, plugin, wall, rss, py, cost, expected, zlib_floor, single_wall, single_cost = \
    sys.argv[1:]
rows, floor, plugin, wall, py = int(rows), float(floor), float(plugin), float(wall), float(py)
zlib_floor = float(zlib_floor)
print(f"\nrows {rows}")
print(f"floor (inflate + count lines)  {floor:8.2f} s  (zlib's inflate: {zlib_floor:.2f} s, "
      f"{zlib_floor / floor:.2f}x)")
print(f"plugin alone                   {plugin:8.2f} s  ({plugin / floor:.2f}x floor)")
print(f"billdrop convert (median of 3) {wall:8.2f} s  {rows / wall:,.0f} rows/s  "
      f"peak RSS {int(rss) / 1024:.0f} MB  ({wall / floor:.2f}x floor, "
      f"{wall / zlib_floor:.2f}x zlib's)")
if py:
    print(f"python adaptor                 {py:8.2f} s  ({py / wall:.1f}x slower than convert)")
if single_wall:
    print(f"the same data as one file          {float(single_wall):8.2f} s  "
          f"({float(single_wall) / wall:.2f}x the tree)")
print(f"cost of every month {cost}, the source's unblended total (summed by the generator) "
      f"{expected}: " + ("equal" if Decimal(cost) == Decimal(expected) else "DIFFERENT"))
if single_cost:
    print(f"one file: {single_cost}: "
          + ("equal" if Decimal(single_cost) == Decimal(expected) else "DIFFERENT"))
PY
