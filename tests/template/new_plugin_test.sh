#!/usr/bin/env bash
# What a vendor does on day one, in order: build and install the SDK alone
# (-DBILLDROP_BUILD_HOST=OFF), `billdrop new-plugin`, configure the new project with no build
# type (it must pick Release), build it against the installed SDK, run its own test, then convert
# its sample data with `billdrop --plugin-dir ... convert --plugin NAME --plugin-config
# DIR/example.toml`, and pass `billdrop test-plugin` with a JUnit report. The name has a dash:
# the case where the file name and the C++ identifiers differ.
set -euo pipefail
source_dir=$1
billdrop=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/billdrop-new-plugin.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The SDK alone: configure, build, install. Seconds, not the host's minutes.
start=$(date +%s)
cmake -S "$source_dir" -B "$work/sdk-build" -G Ninja -DBILLDROP_BUILD_HOST=OFF >/dev/null
cmake --build "$work/sdk-build" -j2 >/dev/null
cmake --install "$work/sdk-build" --prefix "$work/sdk" >/dev/null
echo "SDK-only build and install: $(( $(date +%s) - start )) s"
test -f "$work/sdk/include/billdrop/sdk.hpp"
test -f "$work/sdk/lib/cmake/billdrop/billdropConfig.cmake" || \
  test -f "$work/sdk/lib64/cmake/billdrop/billdropConfig.cmake" || \
  ls "$work"/sdk/lib/*/cmake/billdrop/billdropConfig.cmake >/dev/null
# No host in an SDK-only install.
test ! -e "$work/sdk/bin/billdrop"

plugin="$work/acme-fees"
"$billdrop" new-plugin acme-fees --dir "$plugin" | tee "$work/new.txt"
test -f "$plugin/src/acme_fees_plugin.cpp"
test -f "$plugin/tests/acme_fees_plugin_test.cpp"
test -f "$plugin/example.toml"
test -f "$plugin/data/fees.csv"
grep -q 'BILLDROP_PLUGIN(acme_fees::AcmeFeesPlugin, "acme-fees"' "$plugin/src/acme_fees_plugin.cpp"
grep -q 'billdrop_add_plugin(acme-fees ' "$plugin/CMakeLists.txt"
# Nothing still names the template's plugin; only the sample config and account keep the word.
if grep -rn -i example "$plugin" | grep -v -e 'example\.toml' -e 'example-account'; then
  echo "new-plugin left the template's name in the files above" >&2
  exit 1
fi
# It never writes over a project.
if "$billdrop" new-plugin acme-fees --dir "$plugin" 2>"$work/again.txt"; then
  echo "new-plugin wrote into a folder that was not empty" >&2
  exit 1
fi
grep -q "already exists and is not empty" "$work/again.txt"
code=0
"$billdrop" new-plugin Acme --dir "$work/bad" 2>"$work/bad.txt" || code=$?
test "$code" -eq 2
grep -q "'Acme' is not a plugin name" "$work/bad.txt"

# No CMAKE_BUILD_TYPE given: the template builds optimised.
cmake -S "$plugin" -B "$plugin/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/sdk" >/dev/null
grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$plugin/build/CMakeCache.txt"
cmake --build "$plugin/build" -j2
# --no-tests=error: a project without its test must not pass.
ctest --test-dir "$plugin/build" --output-on-failure --no-tests=error

"$billdrop" --plugin-dir "$plugin/build" plugins describe acme-fees | tee "$work/describe.txt"
grep -q "path  (path, required)" "$work/describe.txt"
cd "$work"
"$billdrop" --plugin-dir "$plugin/build" convert --plugin acme-fees \
  --plugin-config "$plugin/example.toml" --out "$work/out" --format json | tee "$work/convert.json"
# data/fees.csv by hand: August 100.00 + 12.5 = 112.50 over 2 rows; September -0.25 over 1 row.
grep -q '"month":"2026-08","rows":2,"invalid_rows":0,"cost":"112.50"' "$work/convert.json"
grep -q '"month":"2026-09","rows":1,"invalid_rows":0,"cost":"-0.25"' "$work/convert.json"
test "$(wc -l < "$work/out/2026-08.ndjson")" -eq 2
grep -q '"resource/account":"example-account"' "$work/out/2026-08.ndjson"

# The conformance kit, as the plugin's CI runs it, with its JUnit report.
"$billdrop" test-plugin "$plugin/build/billdrop_acme-fees.so" --plugin-config "$plugin/example.toml" \
  --junit "$work/kit.xml" | tee "$work/kit.txt"
grep -q '10 passed, 0 failed, 0 skipped' "$work/kit.txt"
grep -q '<testsuite name="billdrop test-plugin acme-fees" tests="10" failures="0"' "$work/kit.xml"
echo "new-plugin: scaffolded, built in Release against the SDK-only install, tested, converted"
