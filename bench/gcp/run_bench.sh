#!/bin/sh
# Times `billdrop convert` with the gcp plugin on a generated 1,000,000-row extract.
#   bench/gcp/run_bench.sh <build-dir> [ndjson|csv] [rows] [gz]
# Data goes to /tmp/billdrop_gcp_bench_$$ and is removed afterwards.
set -eu
build=${1:?usage: run_bench.sh <build-dir> [ndjson|csv] [rows] [gz]}
format=${2:-ndjson}
rows=${3:-1000000}
compress=${4:-}
dir=/tmp/billdrop_gcp_bench_$$
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT
file="$dir/export.$format"
"$build/bin/billdrop_gcp_bench_gen" "$format" "$rows" "$file"
if [ "$compress" = gz ]; then gzip -1 "$file"; file="$file.gz"; fi
printf 'path = "%s"\n' "$file" > "$dir/gcp.toml"
ls -l "$file"
/usr/bin/time -f '%e s %M KB' -o "$dir/time.txt" \
  "$build/bin/billdrop" --no-progress --plugin-dir "$build/lib/billdrop/plugins" convert \
  --plugin gcp --plugin-config "$dir/gcp.toml" --out "$dir/out" --format json > "$dir/summary.json"
read -r seconds _ kb _ < "$dir/time.txt"
echo "summary: $(cat "$dir/summary.json" | head -c 600)"
awk -v r="$rows" -v s="$seconds" -v k="$kb" \
  'BEGIN { printf "%d source rows in %.2f s: %.0f rows/s, peak RSS %.1f MB\n", r, s, r / s, k / 1024 }'
