#!/usr/bin/env bash
# Installs billdrop from this build tree into a scratch prefix, builds templates/plugin against it
# with find_package(billdrop), runs the template's own unit test, then loads the built plugin
# with the real host and converts a small fee schedule through it.
set -euo pipefail
source_dir=$1
build_dir=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/billdrop-template.XXXXXX")
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/templates/plugin" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" -j2
# --no-tests=error: a template build without its unit test must not pass.
ctest --test-dir "$work/build" --output-on-failure --no-tests=error

billdrop="$work/prefix/bin/billdrop"
"$billdrop" --plugin-dir "$work/build" plugins describe example | tee "$work/describe.txt"
grep -q "path  (path, required)" "$work/describe.txt"

# The template's own sample config and data, as its README runs them.
cd "$work"
"$billdrop" --plugin-dir "$work/build" convert --plugin example --plugin-config "$source_dir/templates/plugin/example.toml" \
  --out "$work/out" --format json | tee "$work/convert.json"
# data/fees.csv by hand: August 100.00 + 12.5 = 112.50 over 2 rows; September -0.25 over 1 row.
grep -q '"month":"2026-08","rows":2,"invalid_rows":0,"cost":"112.50"' "$work/convert.json"
grep -q '"month":"2026-09","rows":1,"invalid_rows":0,"cost":"-0.25"' "$work/convert.json"
test "$(wc -l < "$work/out/2026-08.ndjson")" -eq 2
echo "template plugin: built against the installed SDK, tested, loaded and converted"
