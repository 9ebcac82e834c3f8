#!/usr/bin/env bash
# The Billing API benchmark on the PostgreSQL store: a throwaway cluster (the tests' script, a unix
# socket under /tmp), then run_bench.py with [store] kind = "postgres"; figures in
# bench/billing/results-postgres.md. Usage: bench/billing/run_postgres.sh BUILD_DIR [run_bench.py options]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?the build directory}
shift
dir=$(mktemp -u /tmp/billdrop-bench-pg-XXXXXX)
"$here/../../tests/support/postgres-cluster.sh" start "$dir"
trap '"$here/../../tests/support/postgres-cluster.sh" stop "$dir"' EXIT
echo "host=$dir port=5432 user=billdrop dbname=postgres" >"$dir.url"
python3 "$here/run_bench.py" "$build" --postgres-url-file "$dir.url" --results results-postgres.md "$@"
rm -f "$dir.url" "$dir.lock"
