#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start DIR` (idempotent, under a lock: the first
# caller starts it and exits 0, later ones find it running and exit 3) and `stop DIR` (stops it
# and removes DIR).
# It listens on a unix socket in DIR only, never on TCP. As root, the server runs as `nobody`
# (PostgreSQL refuses to run as root). Debian's postgresql package provides the binaries.
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?the cluster folder}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "postgres-cluster: no /usr/lib/postgresql/*/bin/initdb: install the postgresql package (./install-deps.sh)" >&2
  exit 1
fi
as_server() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}
exec 9>"$dir.lock"
flock 9
case "$cmd" in
start)
  if [ -S "$dir/.s.PGSQL.5432" ] && as_server "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    exit 3
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown nobody "$dir"; fi
  as_server "$bin/initdb" -D "$dir/data" -A trust -U billdrop --no-sync -E UTF8 >"$dir/initdb.log" 2>&1
  as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-k $dir -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null 9>&- # the server must not inherit (and hold) the lock
  ;;
stop)
  if [ -d "$dir/data" ]; then
    as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "postgres-cluster: unknown command $cmd (start, stop)" >&2
  exit 1
  ;;
esac
