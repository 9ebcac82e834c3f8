#!/usr/bin/env bash
# Fails when a C/C++ file of the project is not formatted as .clang-format says.
set -euo pipefail
cd "$1"
files=$(git ls-files -- '*.cpp' '*.hpp' '*.h' 2>/dev/null || find sdk host plugins templates tests bench -name '*.[ch]pp' -o -name '*.h')
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
echo "clang-format: $(echo "$files" | wc -l) files formatted"
