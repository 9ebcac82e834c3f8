#!/usr/bin/env bash
# Plugin isolation's cost (issue 15): the same aws convert in-process and through the plugin
# runner (`--isolation process`: billdrop started again as `billdrop __plugin-runner`, the rows
# coming back over a pipe), run alternately so that both see the same machine, RUNS times each
# (default 5). Reports each way's median wall time, CPU time (user + sys of billdrop and, through
# it, of its runner: less sensitive than wall time to a loaded machine) and peak RSS, and the
# ratios of the medians from this same run, with the load average before and after. Builds
# nothing:
#
#   bench/isolation/run_bench.sh <build dir> [rows=1000000] [memory-mb=64]
#
# SOURCE=koku (the default): the public koku sample (../shared/samples) repeated to 1,003,500
# lines by bench/aws/koku_cur.py (`rows` is ignored; KOKU_REPEATS changes the 75); CUR_DIR=DIR
# reuses a tree made before by `koku_cur.py DIR > DIR/generator.txt`.
# SOURCE=generated: bench/aws's generator, `rows` lines of a synthetic 135-column CUR.
set -euo pipefail
build=${1:?usage: run_bench.sh <build dir> [rows] [memory-mb]}
rows=${2:-1000000}
memory_mb=${3:-64}
runs=${RUNS:-5}
here=$(cd "$(dirname "$0")" && pwd)
work=/tmp/billdrop-isolation-bench-$$
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

if [[ -n "${CUR_DIR:-}" && -f "$CUR_DIR/generator.txt" ]]; then
  cp "$CUR_DIR/generator.txt" "$work/generator.txt" # koku_cur.py's output, made earlier
  tree=$(awk '/^tree /{print $2}' "$work/generator.txt")
elif [[ "${SOURCE:-koku}" == koku ]]; then
  python3 "$here/../aws/koku_cur.py" "$work/cur" "${KOKU_REPEATS:-75}" > "$work/generator.txt"
  tree=$(awk '/^tree /{print $2}' "$work/generator.txt")
else
  "$build/bin/aws_cur_generator" "$work/cur" "$rows" > "$work/generator.txt"
  tree="$work/cur"
fi
rows=$(awk '/^rows /{print $2}' "$work/generator.txt" || true)
expected=$(awk '/^unblended_total /{print $2}' "$work/generator.txt")
printf 'path = "%s"\n' "$tree" > "$work/aws.toml"
echo "load before: $(uptime)"

# One convert; appends "<isolation> <seconds> <peak RSS KiB> <cost> <cpu seconds>" to results.txt.
convert_once() {
  rm -rf "$work/out"
  sync
  /usr/bin/time -f '%e %M %U %S' -o "$work/time.txt" \
    "$build/bin/billdrop" --no-progress --plugin-dir "$build/lib/billdrop/plugins" convert \
    --plugin aws --plugin-config "$work/aws.toml" --isolation "$1" --out "$work/out" \
    --format json --memory-mb "$memory_mb" > "$work/convert.json"
  local cost
  cost=$(python3 -c 'import json,sys; from decimal import Decimal
m=json.load(open(sys.argv[1]))["connections"][0]["months"]; print(sum(Decimal(x["cost"]) for x in m))' \
    "$work/convert.json")
  read -r wall rss user sys < "$work/time.txt"
  echo "$1 $wall $rss $cost $(python3 -c "print(round($user + $sys, 2))")" |
    tee -a "$work/results.txt"
}

: > "$work/results.txt"
for ((run = 1; run <= runs; run++)); do
  # Alternate which goes first, so neither always follows the other's write-back.
  if ((run % 2)); then
    convert_once in-process
    convert_once process
  else
    convert_once process
    convert_once in-process
  fi
done
echo "load after: $(uptime)"

python3 - "$work/results.txt" "$rows" "$expected" <<'PY'
import statistics
import sys
from decimal import Decimal
results, rows, expected = sys.argv[1], sys.argv[2], sys.argv[3]
by = {"in-process": [], "process": []}
costs = set()
for line in open(results):
    isolation, wall, rss, cost, cpu = line.split()
    by[isolation].append((float(wall), int(rss), float(cpu)))
    costs.add(Decimal(cost))
med = {k: statistics.median(w for w, _, _ in v) for k, v in by.items()}
cpu = {k: statistics.median(c for _, _, c in v) for k, v in by.items()}
rss = {k: statistics.median(r for _, r, _ in v) for k, v in by.items()}
print(f"\nrows {rows}, {len(by['process'])} runs each, alternating")
for k in ("in-process", "process"):
    walls = " ".join(f"{w:.2f}" for w, _, _ in by[k])
    cpus = " ".join(f"{c:.2f}" for _, _, c in by[k])
    print(f"{k:10s} wall median {med[k]:6.2f} s (runs: {walls}); CPU median {cpu[k]:5.2f} s "
          f"(runs: {cpus}); peak RSS {rss[k] / 1024:.0f} MB")
print(f"process / in-process: wall {med['process'] / med['in-process']:.3f}, "
      f"CPU {cpu['process'] / cpu['in-process']:.3f}")
print("cost of every month: " + ", ".join(str(c) for c in sorted(costs)) +
      (f"; the source's unblended total {expected}: " +
       ("equal" if costs == {Decimal(expected)} else "DIFFERENT") if expected else ""))
PY
