#!/usr/bin/env bash
# The daemon's benchmark: `billdrop serve` with N `custom` connections (default 1,000), each a
# small CSV holding the current UTC month and the two before it (50 rows a month, exact decimal
# costs), 2,000-byte bodies so that each month takes several chunks, 8 syncs at once, a daily
# schedule (12 hours from now, so nothing runs twice), backfill_months and reprocess_months at
# their defaults. Per run:
#
#   - the first sync (the backfill of the 3 months of every connection): wall time from the
#     daemon's start until sync-status shows every entry `ok`, requests/s (the /metrics
#     billdrop_requests_total summed over connections / wall), peak RSS (VmHWM) and CPU seconds of
#     the daemon, and a check that 3 × N months were sent and that every month's rows and exact
#     cost total in the emulator's store and in `billdrop status` equal the generator's;
#   - idle RSS (VmRSS once the daemon has been idle for IDLE_S seconds);
#   - sync-status latency: SEQ sequential requests on one keep-alive connection, SEQ/5 on a new
#     connection each, then CLIENTS clients at once, PER_CLIENT requests each, each client on its
#     own keep-alive connection.
#
# Each destination is run RUNS times (default 3) and the medians reported: `local` (the emulator
# embedded in the daemon, its store in the state dir) and `anycost` (an external
# `billdrop emulator --listen 127.0.0.1:0 --store FILE` reached over loopback with an API key
# file). Builds nothing; every process it starts is stopped on exit; traffic only to 127.0.0.1.
#
#   bench/serve/run_bench.sh [build dir=build] [local|anycost|both=both] [connections=1000] [runs=3]
#
# Environment: ROWS (rows per month, 50), BODY_BYTES (2000), PARALLEL (8), IDLE_S (10), SEQ (200),
# CLIENTS (10), PER_CLIENT (20), TIMEOUT_S (bound on the wait for the sync, 900), POLL_S (0.2),
# GATE (`metrics`: poll /metrics until every connection has synced, then sync-status; `status`:
# poll sync-status itself, which slows the sync: see docs/benchmarks.md), QUIET_WAIT_S (600:
# before each run, wait at most this long for a 1-minute load average under 0.5), KEEP=1 keeps
# the work folder.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
which=${2:-both}
connections=${3:-1000}
runs=${4:-3}
rows=${ROWS:-50}
body_bytes=${BODY_BYTES:-2000}
parallel=${PARALLEL:-8}
idle_s=${IDLE_S:-10}
timeout_s=${TIMEOUT_S:-900}
poll_s=${POLL_S:-0.2}
seq=${SEQ:-200}
clients=${CLIENTS:-10}
per_client=${PER_CLIENT:-20}
gate=${GATE:-metrics}
here=$(cd "$(dirname "$0")" && pwd)
bin="$build/bin/billdrop"
plugins="$build/lib/billdrop/plugins"
work=/tmp/billdrop-serve-bench-$$
serve_pid=""
emulator_pid=""
probe_pid=""

stop_pid() { # pid: SIGTERM, then SIGKILL after 30 s
  local pid=$1 i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  echo "pid $pid did not stop within 30 s of SIGTERM: killed" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  if [[ -n "$probe_pid" ]]; then kill "$probe_pid" 2>/dev/null || true; fi
  stop_pid "$serve_pid"
  stop_pid "$emulator_pid"
  if [[ "${KEEP:-0}" == 1 ]]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work"

wait_for_line() { # file regex: the first match within 30 s
  local i
  for ((i = 0; i < 300; i++)); do
    if grep -qE "$2" "$1" 2>/dev/null; then grep -oE "$2" "$1" | head -1; return 0; fi
    sleep 0.1
  done
  echo "no line matching '$2' in $1 within 30 s" >&2
  cat "$1" >&2
  return 1
}

probe() { # probe.py in the background, so that a signal to this script is handled at once
  local rc=0
  python3 "$here/probe.py" "$@" &
  probe_pid=$!
  wait "$probe_pid" || rc=$?
  probe_pid=""
  return "$rc"
}

value() { awk -v k="$1" '$1 == k {print $2}' "$2"; }

binary_stamp=$(stat -c '%Y %s' "$bin")
echo "binary: $bin ($(stat -c '%y' "$bin" | cut -d. -f1), $(stat -c %s "$bin") bytes)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo)," \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "connections $connections, $rows rows a month, 3 months, bodies <= $body_bytes bytes," \
  "max_parallel_connections $parallel"

results="$work/results.txt"
: > "$results"

quiet_wait() { # waits (at most QUIET_WAIT_S, default 600 s) for a 1-minute load average < 0.5
  local i
  for ((i = 0; i < ${QUIET_WAIT_S:-600}; i += 10)); do
    awk '{exit !($1 < 0.5)}' /proc/loadavg && return 0
    ((i == 0)) && echo "waiting for a quiet machine (load $(cut -d' ' -f1-3 /proc/loadavg))"
    sleep 10
  done
  echo "the machine is not quiet (load $(cut -d' ' -f1-3 /proc/loadavg)): measuring anyway"
}

one_run() { # destination run
  local destination=$1 run=$2 dir="$work/$1" base_url="" started port url load
  quiet_wait
  load=$(cut -d' ' -f1 /proc/loadavg)
  rm -rf "$dir"
  mkdir -p "$dir"
  if [[ "$destination" == anycost ]]; then
    "$bin" --log-level warn emulator --listen 127.0.0.1:0 --store "$dir/emulator.db" \
      --api-key bench-serve-key > "$dir/emulator.out" 2> "$dir/emulator.err" &
    emulator_pid=$!
    base_url="http://$(wait_for_line "$dir/emulator.out" '127\.0\.0\.1:[0-9]+')"
  fi
  python3 "$here/gen_config.py" "$dir" "$connections" "$rows" "$body_bytes" "$parallel" \
    "$destination" $base_url > "$dir/gen.txt"
  sync

  started=$(python3 -c 'import time; print(repr(time.time()))')
  "$bin" --plugin-dir "$plugins" serve --config "$dir/billdrop.toml" \
    > "$dir/serve.out" 2> "$dir/serve.err" &
  serve_pid=$!
  port=$(wait_for_line "$dir/serve.out" '127\.0\.0\.1:[0-9]+')
  url="http://$port"
  if ! probe wait "$url" "$serve_pid" "$started" "$timeout_s" "$poll_s" \
    "$connections" "$gate" > "$dir/wait.txt"; then
    tail -5 "$dir/serve.err" >&2
    return 1
  fi
  probe metrics "$url" > "$dir/metrics.txt"
  sleep "$idle_s"
  probe rss "$serve_pid" > "$dir/idle.txt"
  probe latency "$url" "$seq" "$clients" "$per_client" > "$dir/latency.txt"
  probe rss "$serve_pid" > "$dir/after.txt"
  if [[ -n "$emulator_pid" ]]; then
    probe rss "$emulator_pid" > "$dir/emulator_rss.txt"
  fi
  stop_pid "$serve_pid"
  serve_pid=""
  stop_pid "$emulator_pid"
  emulator_pid=""

  local store="$dir/state/emulator.db"
  [[ "$destination" == anycost ]] && store="$dir/emulator.db"
  sqlite3 "$store" \
    "SELECT d.connection, d.month, r.cost FROM rows r JOIN drops d USING (month_id)" \
    > "$dir/store_rows.txt"
  local posts
  posts=$(sqlite3 "$store" "SELECT count(*) FROM drop_log")
  "$bin" --plugin-dir "$plugins" status --config "$dir/billdrop.toml" --format json \
    > "$dir/status.json"
  probe check "$dir/expected.json" "$dir/store_rows.txt" "$dir/status.json" \
    > "$dir/check.txt"

  local wall requests months_sent chunks
  wall=$(value wall "$dir/wait.txt")
  requests=$(value billdrop_requests_total "$dir/metrics.txt")
  months_sent=$(value billdrop_months_sent_total "$dir/metrics.txt")
  chunks=$(value billdrop_chunks_sent_total "$dir/metrics.txt")
  if [[ "$months_sent" != "$((connections * 3))" ]]; then
    echo "months sent: $months_sent, expected $((connections * 3))" >&2
    return 1
  fi
  {
    echo "$destination $run load_before $load"
    echo "$destination $run wall_s $wall"
    echo "$destination $run requests $requests"
    echo "$destination $run requests_per_s $(python3 -c "print(f'{$requests / $wall:.1f}')")"
    echo "$destination $run chunks $chunks"
    echo "$destination $run emulator_posts $posts"
    echo "$destination $run retries $(value billdrop_retries_total "$dir/metrics.txt")"
    echo "$destination $run months_sent $months_sent"
    echo "$destination $run rows_sent $(value billdrop_rows_sent_total "$dir/metrics.txt")"
    echo "$destination $run serve_cpu_s_sync $(value cpu_s "$dir/wait.txt")"
    echo "$destination $run peak_rss_mb $(($(value hwm_kb "$dir/wait.txt") / 1024))"
    echo "$destination $run rss_at_sync_end_mb $(($(value rss_kb "$dir/wait.txt") / 1024))"
    echo "$destination $run idle_rss_mb $(($(value rss_kb "$dir/idle.txt") / 1024))"
    echo "$destination $run peak_rss_after_latency_mb $(($(value hwm_kb "$dir/after.txt") / 1024))"
    echo "$destination $run slowest_poll_ms $(python3 -c "print(round($(value slowest_poll "$dir/wait.txt") * 1000))")"
    echo "$destination $run status_body_kb $(($(value body_bytes "$dir/latency.txt") / 1024))"
    for k in seq_p50_ms seq_p99_ms seq_max_ms seq_rps seq_retried fresh_p50_ms fresh_p99_ms conc_p50_ms conc_p99_ms conc_max_ms conc_rps conc_retried; do
      echo "$destination $run $k $(value "$k" "$dir/latency.txt")"
    done
    echo "$destination $run check_problems $(value check_problems "$dir/check.txt")"
    if [[ -f "$dir/emulator_rss.txt" ]]; then
      echo "$destination $run emulator_cpu_s $(value cpu_s "$dir/emulator_rss.txt")"
      echo "$destination $run emulator_peak_rss_mb $(($(value hwm_kb "$dir/emulator_rss.txt") / 1024))"
    fi
  } | tee -a "$results"
  echo "$destination $run: $(value check_months "$dir/check.txt") months, $(value check_rows \
    "$dir/check.txt") rows, total cost $(value check_total_cost "$dir/check.txt"): store and" \
    "billdrop status equal the generator's exact sums"
}

case "$which" in
  both) destinations="local anycost" ;;
  local | anycost) destinations=$which ;;
  *) echo "destination must be local, anycost or both" >&2; exit 2 ;;
esac
for destination in $destinations; do
  for ((run = 1; run <= runs; run++)); do
    echo "== $destination, run $run of $runs"
    one_run "$destination" "$run"
    if [[ "$(stat -c '%Y %s' "$bin" 2>/dev/null)" != "$binary_stamp" ]]; then
      echo "$bin changed during the benchmark (rebuilt): run it again" >&2
      exit 1
    fi
  done
done

echo
echo "== medians of $runs runs (all runs in brackets)"
python3 - "$results" <<'PY'
import statistics, sys
from collections import defaultdict
runs = defaultdict(list)
order = []
for line in open(sys.argv[1]):
    destination, run, key, value = line.split()
    if (destination, key) not in runs:
        order.append((destination, key))
    runs[(destination, key)].append(float(value))
for destination, key in order:
    v = runs[(destination, key)]
    fmt = (lambda x: f"{x:g}") if all(x == int(x) for x in v) else (lambda x: f"{x:.2f}")
    print(f"{destination:8} {key:26} {fmt(statistics.median(v)):>10}  "
          f"[{', '.join(fmt(x) for x in v)}]")
PY
