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
# BEFORE=DIR adds a third way, alternating with the other two: `--isolation process` with the
# billdrop and plugins of another build (e.g. one from before a change to the runner), reported
# as "process-before".
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

# One convert: `convert_once <way>`, the way being in-process, process or process-before;
# appends "<way> <seconds> <peak RSS KiB> <cost> <cpu seconds> <user> <sys>" to results.txt.
convert_once() {
  local isolation=$1 with=$build
  if [[ "$1" == process-before ]]; then
    isolation=process
    with=$BEFORE
  fi
  rm -rf "$work/out"
  sync
  /usr/bin/time -f '%e %M %U %S' -o "$work/time.txt" \
    "$with/bin/billdrop" --no-progress --plugin-dir "$with/lib/billdrop/plugins" convert \
    --plugin aws --plugin-config "$work/aws.toml" --isolation "$isolation" --out "$work/out" \
    --format json --memory-mb "$memory_mb" > "$work/convert.json"
  local cost
  cost=$(python3 -c 'import json,sys; from decimal import Decimal
m=json.load(open(sys.argv[1]))["connections"][0]["months"]; print(sum(Decimal(x["cost"]) for x in m))' \
    "$work/convert.json")
  read -r wall rss user sys < "$work/time.txt"
  echo "$1 $wall $rss $cost $(python3 -c "print(round($user + $sys, 2))") $user $sys" |
    tee -a "$work/results.txt"
}

: > "$work/results.txt"
ways=(in-process process)
[[ -n "${BEFORE:-}" ]] && ways+=(process-before)
for ((run = 1; run <= runs; run++)); do
  # Rotate which goes first, so that none always follows the same one's write-back.
  for ((i = 0; i < ${#ways[@]}; i++)); do
    convert_once "${ways[(run + i) % ${#ways[@]}]}"
  done
done
echo "load after: $(uptime)"

python3 - "$work/results.txt" "$rows" "$expected" <<'PY'
import statistics
import sys
from decimal import Decimal
results, rows, expected = sys.argv[1], sys.argv[2], sys.argv[3]
by = {}
costs = set()
for line in open(results):
    way, wall, rss, cost, cpu, user, system = line.split()
    by.setdefault(way, []).append((float(wall), int(rss), float(cpu), float(user), float(system)))
    costs.add(Decimal(cost))
# Each round runs every way once, back to back: the ratio within a round compares runs that saw
# nearly the same load, which drifts over a whole run on a shared machine.
def round_ratios(k, column):
    return [a[column] / b[column] for a, b in zip(by[k], by["in-process"])]
med = {k: statistics.median(r[0] for r in v) for k, v in by.items()}
rss = {k: statistics.median(r[1] for r in v) for k, v in by.items()}
cpu = {k: statistics.median(r[2] for r in v) for k, v in by.items()}
user = {k: statistics.median(r[3] for r in v) for k, v in by.items()}
system = {k: statistics.median(r[4] for r in v) for k, v in by.items()}
print(f"\nrows {rows}, {len(by['process'])} runs each, alternating")
for k in by:
    walls = " ".join(f"{r[0]:.2f}" for r in by[k])
    cpus = " ".join(f"{r[2]:.2f}" for r in by[k])
    print(f"{k:14s} wall median {med[k]:6.2f} s (runs: {walls}); CPU median {cpu[k]:5.2f} s "
          f"(runs: {cpus}; user {user[k]:.2f}, sys {system[k]:.2f}); "
          f"peak RSS {rss[k] / 1024:.0f} MB")
for k in by:
    if k != "in-process":
        print(f"{k} / in-process: wall {med[k] / med['in-process']:.3f}, "
              f"CPU {cpu[k] / cpu['in-process']:.3f} (ratios of the medians); within each round, "
              f"median wall {statistics.median(round_ratios(k, 0)):.3f}, "
              f"CPU {statistics.median(round_ratios(k, 2)):.3f} (CPU per round: "
              + " ".join(f"{r:.2f}" for r in round_ratios(k, 2)) + ")")
print("cost of every month: " + ", ".join(str(c) for c in sorted(costs)) +
      (f"; the source's unblended total {expected}: " +
       ("equal" if costs == {Decimal(expected)} else "DIFFERENT") if expected else ""))
PY
