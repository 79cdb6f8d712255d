#!/usr/bin/env bash
# Installs what nearstore needs to build and test on a fresh Debian 12 machine, and nothing
# when it is all there already (safe to run any number of times).
set -euo pipefail

DEB_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev
  libboost1.81-dev libssl-dev
  clang-format wordnet-base
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# CMake 3.25+ and Ninja: Debian 12 ships CMake 3.25; a newer one from PyPI is fine too.
if ! cmake --version >/dev/null 2>&1 || ! ninja --version >/dev/null 2>&1; then
  python3 -m pip install --quiet cmake ninja
fi
