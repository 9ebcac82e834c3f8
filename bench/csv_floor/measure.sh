# Shell functions shared by bench/focus/run_bench.sh and bench/azure/run_bench.sh (sourced, not
# run): time a command three times under GNU time and keep the medians.
#
#   measure <label> <command...>   runs the command 3 times (BILLDROP_BENCH_RUNS to change),
#                                  its stdout to $work/stdout; sets m_wall, m_cpu (user + sys)
#                                  and m_rss_mb (the largest peak) and prints one line. Dirty
#                                  pages are flushed (sync) before each run, so that a convert
#                                  does not wait for the previous one's snapshots to reach disk
#   ratio <a> <b>                  a / b with two decimals

measure() {
  label=$1
  shift
  runs=${BILLDROP_BENCH_RUNS:-3}
  : > "$work/times"
  i=0
  while [ "$i" -lt "$runs" ]; do
    rm -rf "$work/out"
    sync
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" > "$work/stdout" 2> "$work/stderr" || {
      echo "$label: failed" >&2
      cat "$work/stderr" >&2
      return 1
    }
    cat "$work/time" >> "$work/times"
    i=$((i + 1))
  done
  m_wall=$(awk '{ print $1 }' "$work/times" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  m_cpu=$(awk '{ print $2 + $3 }' "$work/times" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  m_rss_mb=$(awk 'BEGIN { m = 0 } { if ($4 > m) m = $4 } END { printf "%.1f", m / 1024 }' "$work/times")
  all_wall=$(awk '{ printf "%s%s", sep, $1; sep = " " }' "$work/times")
  printf '%-28s wall %5.2f s (runs: %s)  cpu %5.2f s  peak RSS %6.1f MB\n' "$label" "$m_wall" \
    "$all_wall" "$m_cpu" "$m_rss_mb"
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
