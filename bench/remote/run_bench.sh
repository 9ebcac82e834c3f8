#!/usr/bin/env bash
# The remote-path figure: the same month converted from a local file and from s3rver (an
# s3://bucket/prefix path, mirrored into the state directory), both measured in this run.
#
#   bench/remote/run_bench.sh <build dir> [runs=5] [copies=4] [month=2026-08] [objects=1]
#
# Input: the bundled acme-gpu example export, its data rows repeated `copies` times (one
# ~4 MB CSV per copy's worth of rows), uploaded to s3rver (tests/node_modules, `npm ci --prefix
# tests`) on 127.0.0.1: one object, or with objects=N the same rows split into N CSV objects
# under one prefix, read as a folder (the custom plugin's directory mode; the local read reads
# the same N files). Each run converts the month:
#   local  from the file on disk;
#   whole  from s3:// with an empty cache, every object downloaded before the plugin starts
#          (read_while_downloading = false: list + download, then convert);
#   cold   from s3:// with an empty cache, the plugin reading the objects as they download
#          (the default for a plugin that reads growing files, as the custom plugin does);
#   warm   from s3:// with the cache of a previous run (list, nothing downloaded, convert).
# Prints each run's seconds, the medians, and whole/local, cold/local and warm/local. Builds
# nothing.
set -euo pipefail
build=$(cd "${1:?usage: run_bench.sh <build dir> [runs] [copies] [month]}" && pwd)
runs=${2:-5}
copies=${3:-4}
month=${4:-2026-08}
objects=${5:-1}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
example="$root/plugins/custom/examples/acme-gpu"
work=/tmp/billdrop-remote-bench-$$
mkdir -p "$work/s3rver"
s3pid=""
cleanup() {
  if [ -n "$s3pid" ]; then kill "$s3pid" 2>/dev/null || true; wait "$s3pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The input: the header, then the data rows `copies` times.
{
  head -n 1 "$example/acme_usage.csv"
  for _ in $(seq "$copies"); do tail -n +2 "$example/acme_usage.csv"; done
} > "$work/usage.csv"
echo "input: $(stat -c %s "$work/usage.csv") bytes in $objects object(s)"
mkdir -p "$work/parts"
if [ "$objects" -gt 1 ]; then
  rows=$(($(wc -l < "$work/usage.csv") - 1))
  per=$(((rows + objects - 1) / objects))
  tail -n +2 "$work/usage.csv" | split -d -a 3 -l "$per" --additional-suffix=.csv - "$work/parts/usage-"
  for part in "$work"/parts/usage-*.csv; do
    { head -n 1 "$work/usage.csv"; cat "$part"; } > "$part.tmp" && mv "$part.tmp" "$part"
  done
fi

node --openssl-legacy-provider "$root/tests/node_modules/s3rver/bin/s3rver.js" -d "$work/s3rver" \
  -a 127.0.0.1 -p 0 --silent --configure-bucket exports > "$work/s3rver.out" 2>&1 &
s3pid=$!
port=""
for _ in $(seq 200); do
  port=$(sed -n 's/.*S3rver listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/s3rver.out")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "s3rver did not start: $(cat "$work/s3rver.out")"; exit 1; }
put() { # file key
  curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$1" "http://127.0.0.1:$port/exports/$2" > /dev/null
}
if [ "$objects" -gt 1 ]; then
  for part in "$work"/parts/usage-*.csv; do put "$part" "acme/parts/$(basename "$part")"; done
  local_path="$work/parts" remote_path="s3://exports/acme/parts"
else
  put "$work/usage.csv" acme/usage.csv
  local_path="$work/usage.csv" remote_path="s3://exports/acme/usage.csv"
fi

config() { # name path extra
  sed "s|^path = \"acme_usage.csv\"|path = \"$2\"|" "$example/billdrop.toml" > "$work/$1.toml"
  printf '%b' "$3" >> "$work/$1.toml"
}
config local "$local_path" ""
config remote "$remote_path" \
  "\n[connections.acme-gpu.remote]\ns3_endpoint = \"http://127.0.0.1:$port\"\n"
config whole "$remote_path" \
  "\n[connections.acme-gpu.remote]\ns3_endpoint = \"http://127.0.0.1:$port\"\nread_while_downloading = false\n"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1

convert() { # config state → seconds
  local start end
  start=$(date +%s.%N)
  "$build/bin/billdrop" --no-progress --plugin-dir "$build/lib/billdrop/plugins" --log-level warn \
    --state-dir "$2" convert --config "$work/$1.toml" --month "$month" --format json \
    > "$work/last.json"
  end=$(date +%s.%N)
  grep -q '"error"' "$work/last.json" && { cat "$work/last.json"; exit 1; }
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

: > "$work/local.txt"; : > "$work/whole.txt"; : > "$work/cold.txt"; : > "$work/warm.txt"
convert remote "$work/state-warm" > /dev/null # fills the warm runs' cache
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
for i in $(seq "$runs"); do
  l=$(convert local "$work/state-local-$i")
  h=$(convert whole "$work/state-whole-$i")
  c=$(convert remote "$work/state-cold-$i")
  w=$(convert remote "$work/state-warm")
  printf 'run %d: local %.3f s  s3 whole-first %.3f s  s3 cold %.3f s  s3 warm %.3f s  (load %s)\n' \
    "$i" "$l" "$h" "$c" "$w" "$(cut -d' ' -f1 /proc/loadavg)"
  echo "$l" >> "$work/local.txt"; echo "$h" >> "$work/whole.txt"
  echo "$c" >> "$work/cold.txt"; echo "$w" >> "$work/warm.txt"
done
l=$(median < "$work/local.txt"); h=$(median < "$work/whole.txt")
c=$(median < "$work/cold.txt"); w=$(median < "$work/warm.txt")
printf 'median of %d: local %.3f s  s3 whole-first %.3f s (%.2fx)  s3 cold %.3f s (%.2fx)  s3 warm %.3f s (%.2fx)\n' \
  "$runs" "$l" "$h" "$(ratio "$h" "$l")" "$c" "$(ratio "$c" "$l")" "$w" "$(ratio "$w" "$l")"
