#!/usr/bin/env bash
# The SDK's tests under AddressSanitizer and UBSan: the Parquet reader's mutations (a corrupt file
# must end in an error, never in a read out of bounds), and every other reader and value type
# (CSV, JSON, growing files, decimals, RowSink) with them. Builds only the SDK's test binary (a
# few minutes on two cores) in its own build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -G Ninja -DBILLDROP_DEVELOPER_MODE=ON -DBILLDROP_PLUGINS=custom \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build build-asan --target billdrop_sdk_tests -j2
BILLDROP_PARQUET_MUTATIONS="${BILLDROP_PARQUET_MUTATIONS:-300}" \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  build-asan/bin/billdrop_sdk_tests --gtest_brief=1
