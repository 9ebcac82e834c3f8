#!/usr/bin/env bash
# The gcp plugin's benchmark on a generated extract (default: 1,000,000 NDJSON records, 693 MB;
# every fifth record's credit becomes a CBF row of its own), all from one run:
#   - the floor (NDJSON only): read the file and run simdjson On Demand (iterate_many) over it,
#     visiting every field without mapping; and the part every pass pays (stage 1 and the record
#     boundaries, no field visited);
#   - the plugin alone (billdrop_gcp_plugin_read_only): the months scan and the months' reads into
#     a sink that discards the rows;
#   - `billdrop convert` (rows/s, peak RSS), its totals checked against the generator's exact sums.
# Three runs of each, medians reported, wall and CPU (user + system) seconds: on a shared machine
# CPU time is the fairer figure. Builds nothing:
#
#   bench/gcp/run_bench.sh <build-dir> [ndjson|csv] [rows] [gz]
#
# BASE=<plugin dir> (e.g. a build of main's lib/billdrop/plugins) also times that build's plugin,
# alternating with this one, for a before/after ratio from the same run.
set -euo pipefail
build=${1:?usage: run_bench.sh <build-dir> [ndjson|csv] [rows] [gz]}
format=${2:-ndjson}
rows=${3:-1000000}
compress=${4:-}
base=${BASE:-}
plugins="$build/lib/billdrop/plugins"
dir=/tmp/billdrop_gcp_bench_$$
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT
file="$dir/export.$format"
"$build/bin/billdrop_gcp_bench_gen" "$format" "$rows" "$file" > "$dir/expected.txt"
if [ "$compress" = gz ]; then gzip -1 "$file"; file="$file.gz"; fi
printf 'path = "%s"\n' "$file" > "$dir/gcp.toml"
echo "input: $(stat -c %s "$file") bytes, $rows records ($format${compress:+, gzip})"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bin/billdrop_gcp_ndjson_floor" implementation

# timed LABEL COMMAND...: one run under /usr/bin/time, "LABEL wall cpu rss_kb" appended to runs.txt.
timed() {
  local label=$1
  shift
  /usr/bin/time -f '%e %U %S %M' -o "$dir/time.txt" "$@" > "$dir/out.txt"
  read -r wall user sys rss < "$dir/time.txt"
  echo "$label $wall $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }') $rss" >> "$dir/runs.txt"
}
: > "$dir/runs.txt"
: > "$dir/plugin.txt"

for run in 1 2 3; do
  if [ "$format" = ndjson ]; then
    timed floor "$build/bin/billdrop_gcp_ndjson_floor" "$file"
    timed floor_records "$build/bin/billdrop_gcp_ndjson_floor" "$file" records
  fi
  "$build/bin/billdrop_gcp_plugin_read_only" "$plugins/billdrop_gcp.so" "{\"path\":\"$file\"}" \
    | sed "s/^/plugin /" >> "$dir/plugin.txt"
  for which in ${base:+base} this; do
    dir_of_plugins=$plugins
    [ "$which" = base ] && dir_of_plugins=$base
    rm -rf "$dir/out"
    sync
    timed "convert_$which" "$build/bin/billdrop" --no-progress --plugin-dir "$dir_of_plugins" \
      convert --plugin gcp --plugin-config "$dir/gcp.toml" --out "$dir/out" --format json
    cp "$dir/out.txt" "$dir/convert_$which.json"
  done
done
rm -rf "$dir/out"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$rows" "$dir" <<'PY'
import json, statistics, sys
from decimal import Decimal
rows, d = int(sys.argv[1]), sys.argv[2]
runs = {}
for line in open(f"{d}/runs.txt"):
    label, wall, cpu, rss = line.split()
    runs.setdefault(label, []).append((float(wall), float(cpu), int(rss)))
plugin = {}
for line in open(f"{d}/plugin.txt"):
    _, key, value = line.split()
    plugin.setdefault(key, []).append(float(value))
med = lambda values: statistics.median(values)

def show(label, name):
    if label not in runs:
        return None
    wall = med([r[0] for r in runs[label]])
    cpu = med([r[1] for r in runs[label]])
    rss = med([r[2] for r in runs[label]]) / 1024
    print(f"{name:34} wall {wall:6.2f} s  cpu {cpu:6.2f} s  {rows / wall:>9,.0f} rows/s wall  "
          f"{rows / cpu:>9,.0f} rows/s cpu  peak RSS {rss:5.0f} MB")
    return wall, cpu

print(f"\nmedians of 3 runs, {rows:,} source records")
floor = show("floor", "floor (read + On Demand, all fields)")
show("floor_records", "  of which stage 1 + records")
months_wall, months_cpu = med(plugin["months_seconds"]), med(plugin["months_cpu_seconds"])
read_wall, read_cpu = med(plugin["read_seconds"]), med(plugin["read_cpu_seconds"])
alone_wall, alone_cpu = med(plugin["seconds"]), med(plugin["cpu_seconds"])
print(f"{'plugin alone: months scan':34} wall {months_wall:6.2f} s  cpu {months_cpu:6.2f} s")
print(f"{'plugin alone: reads of the months':34} wall {read_wall:6.2f} s  cpu {read_cpu:6.2f} s")
print(f"{'plugin alone: total':34} wall {alone_wall:6.2f} s  cpu {alone_cpu:6.2f} s  "
      f"{rows / alone_wall:>9,.0f} rows/s wall  {rows / alone_cpu:>9,.0f} rows/s cpu")
base = show("convert_base", "billdrop convert, BASE plugin")
this = show("convert_this", "billdrop convert")
if floor:
    print(f"ratios to the floor (cpu): plugin alone {alone_cpu / floor[1]:.2f}x, "
          f"convert {this[1] / floor[1]:.2f}x; months scan {months_cpu / floor[1]:.2f}x")
print(f"months scan share of the plugin alone (cpu): {months_cpu / alone_cpu:.0%}")
if base:
    print(f"before/after (same run, alternating): wall {base[0] / this[0]:.2f}x, "
          f"cpu {base[1] / this[1]:.2f}x")
expected = {}
for line in open(f"{d}/expected.txt"):
    _, month, cost = line.split()
    expected[month] = Decimal(cost)
for which in ("base", "this"):
    try:
        summary = json.load(open(f"{d}/convert_{which}.json"))
    except FileNotFoundError:
        continue
    got = {m["month"]: Decimal(m["cost"]) for m in summary["connections"][0]["months"]}
    print(f"totals ({which}): {got == expected and 'equal to' or 'DIFFERENT from'} the "
          f"generator's exact sums " + ", ".join(f"{m} {c}" for m, c in sorted(expected.items())))
PY
