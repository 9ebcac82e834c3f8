#!/usr/bin/env bash
# The Parquet reader's figure: a generated 1,000,000-row CUR 2.0 export (SNAPPY, dictionary pages,
# 4 row groups, under /tmp) read the way a plugin maps it; rows/s and peak RSS, three runs, and the
# unblended total checked against the generator's. Builds nothing:
#
#   bench/parquet/run_bench.sh <build dir> [rows=1000000]
#
# The machine is shared: rows per CPU-second is the figure to quote, with the load average. With
# BILLDROP_BENCH_CACHEGRIND=1 a fourth read runs under valgrind's cachegrind and prints the
# instructions per row, which the load does not change (about 50 times slower).
set -euo pipefail
build=${1:?usage: run_bench.sh <build dir> [rows]}
rows=${2:-1000000}
work=/tmp/billdrop-parquet-bench-$$
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
"$build/bin/parquet_cur2_bench" generate "$work/cur2.parquet" "$rows" | tee "$work/gen.txt"
expected=$(awk '/^unblended_total /{print $2}' "$work/gen.txt")
for run in 1 2 3; do
  "$build/bin/parquet_cur2_bench" read "$work/cur2.parquet" | tee "$work/read$run.txt"
  got=$(awk '/^unblended_total /{print $2}' "$work/read$run.txt")
  [ "$got" = "$expected" ] || { echo "total $got differs from the generator's $expected"; exit 1; }
done
echo "median rows/s: $(awk '/^rows_per_second /{print $2}' "$work"/read?.txt | sort -n | sed -n 2p)"
echo "median rows/CPU-second: $(awk '/^rows_per_cpu_second /{print $2}' "$work"/read?.txt | sort -n | sed -n 2p)"
echo "peak RSS MB: $(awk '/^peak_rss_mb /{print $2}' "$work"/read?.txt | sort -n | tail -1)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${BILLDROP_BENCH_CACHEGRIND:-0}" = 1 ]; then
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$work/cachegrind.out" \
    "$build/bin/parquet_cur2_bench" read "$work/cur2.parquet" >"$work/cachegrind.txt" 2>&1
  instructions=$(awk '/I +refs:/{gsub(",", "", $NF); print $NF}' "$work/cachegrind.txt")
  echo "instructions per row (cachegrind): $((instructions / rows))"
fi
