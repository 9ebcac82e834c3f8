#!/usr/bin/env bash
# Installs every Debian package billdrop's build, tests and benchmarks need. Safe to re-run:
# nothing happens when every package is installed; otherwise the package index is refreshed first
# when it is missing (a fresh machine's /var/lib/apt/lists is empty) or older than a day, and once
# more if the install still fails with it (a package moved since the last refresh).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libboost-filesystem-dev libboost-system-dev
  libsimdjson-dev libcpp-httplib-dev libssl-dev zlib1g-dev
  libsqlite3-dev libcli11-dev libtomlplusplus-dev
  libpq-dev postgresql
  libgtest-dev libgmock-dev libbenchmark-dev
  libzip-dev libxxhash-dev libdeflate-dev libisal-dev
  libsnappy-dev libzstd-dev liblz4-dev libbrotli-dev
  clang-format python3 time
  chromium chromium-driver
  wrk
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

# The remote-path tests start npm's s3rver and azurite on loopback (tests/package.json, pinned by
# tests/package-lock.json): Node and npm from Debian when the machine has none, then `npm ci`.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
install_test_servers() {
  local tests
  tests="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tests"
  if [ -f "$tests/node_modules/.package-lock.json" ] &&
    [ "$tests/node_modules/.package-lock.json" -nt "$tests/package-lock.json" ]; then
    echo "install-deps: the npm test servers are installed"
  else
    echo "install-deps: npm ci --prefix tests (s3rver, azurite)"
    npm ci --prefix "$tests" --no-audit --no-fund
  fi
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  install_test_servers
  exit 0
fi

# True when no package list is there or the newest one is more than a day (1440 minutes) old.
index_is_stale() {
  local lists=/var/lib/apt/lists
  [ -z "$(find "$lists" -maxdepth 1 -name '*_Packages*' -print -quit 2>/dev/null)" ] ||
    [ -z "$(find "$lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit 2>/dev/null)" ]
}

refresh_index() {
  "${sudo_cmd[@]}" apt-get update -q
}

install_missing() {
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

echo "install-deps: installing ${missing[*]}"
if index_is_stale; then
  echo "install-deps: the package index is missing or older than a day: refreshing it"
  refresh_index
fi
install_missing || { echo "install-deps: install failed: refreshing the index and retrying"; refresh_index && install_missing; }
install_test_servers
